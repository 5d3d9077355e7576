"""Every example of docs/api.md runs (issue 11): each ```python block is a test.

The blocks run in document order in one namespace, as a reader types them
into one session; a block selected alone (``-k``) first runs the blocks
before it. A block that fails names its heading and first line. Also: every
name in ``chainaudit.__all__`` (and ``chainaudit.testing.__all__``) is
documented in docs/api.md.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import re
from pathlib import Path
from typing import Any

import pytest

import chainaudit

DOC = Path(__file__).resolve().parent.parent / "docs" / "api.md"
_FENCE = re.compile(r"^```python\n(.*?)^```$", re.S | re.M)


def blocks() -> list[tuple[str, str]]:
    """(id, code) of every python block: id = section tag and ordinal."""
    text = DOC.read_text(encoding="utf-8")
    out = []
    for n, m in enumerate(_FENCE.finditer(text), 1):
        heads = re.findall(r"^## (API-\d+)", text[: m.start()], re.M)
        out.append((f"{heads[-1] if heads else 'intro'}-{n}", m.group(1)))
    return out


BLOCKS = blocks()


class Session:
    def __init__(self) -> None:
        self.namespace: dict[str, Any] = {"__name__": "docs_api"}
        self.done = 0

    def run_through(self, index: int) -> None:
        while self.done <= index:
            ident, code = BLOCKS[self.done]
            self.done += 1
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(code, f"docs/api.md:{ident}", "exec"), self.namespace)


@pytest.fixture(scope="module")
def session() -> Session:
    return Session()


def test_the_document_has_examples() -> None:
    assert len(BLOCKS) >= 15


@pytest.mark.parametrize("index", range(len(BLOCKS)), ids=[b[0] for b in BLOCKS])
def test_example_runs(session: Session, index: int) -> None:
    session.run_through(index)


def test_every_public_name_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    names = list(chainaudit.__all__)
    with contextlib.suppress(ImportError):
        names += importlib.import_module("chainaudit.testing").__all__
    missing = [n for n in names if n != "__version__" and f"`{n}" not in text]
    assert missing == [], f"not documented in docs/api.md: {missing}"
