"""Several inputs as one dataset, and standard input as an export.

``verify A B C`` checks its sources as one dataset: nonce reuse (ENV-5) is
judged across all of them and a chain may continue from a full export into
incremental ones (chains are verified in ``seq`` order whatever the read
order). :class:`MultiSource` reads its sources in a canonical order (by
their description), so the order the user named them in cannot change the
result.

``-`` is an NDJSON export (plain or gzip) on standard input. It is copied
once to a private temporary file (``stdin.ndjson`` or ``stdin.ndjson.gz``
under ``$TMPDIR``, removed when the process ends) because a keyed run and
the manifest builder read a source more than once; record origins name that
file.
"""

from __future__ import annotations

import atexit
import hashlib
import shutil
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from chainaudit.errors import LocalFaultError
from chainaudit.sources import Source, SourceItem
from chainaudit.sources.ndjson import NdjsonSource

_GZIP_MAGIC = b"\x1f\x8b"


class StdinSource(NdjsonSource):
    """An NDJSON export read from standard input (via a private temporary copy).

    ``sha256`` is the digest of the bytes read from standard input, for the
    report's provenance (REP-2.2).
    """

    sha256: str | None = None

    def describe(self) -> str:
        return "ndjson:-"


def spool_stdin(stream: BinaryIO | None = None) -> StdinSource:
    """Copy standard input to a private temporary file and read it as an export."""
    data = stream if stream is not None else sys.stdin.buffer
    try:
        directory = Path(tempfile.mkdtemp(prefix="chainaudit-stdin-"))
        atexit.register(shutil.rmtree, directory, True)
        head = data.read(2)
        name = "stdin.ndjson.gz" if head == _GZIP_MAGIC else "stdin.ndjson"
        path = directory / name
        digest = hashlib.sha256(head)
        with path.open("wb") as out:
            out.write(head)
            while chunk := data.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
    except OSError as exc:
        raise LocalFaultError(
            f"{tempfile.gettempdir()}: cannot keep a copy of standard input: "
            f"{exc.strerror or exc}"
        ) from None
    source = StdinSource(path)
    source.label = "-"  # findings name standard input's lines, not the copy's
    source.sha256 = digest.hexdigest()
    return source


class MultiSource:
    """Sources read one after another, in the order of their descriptions."""

    def __init__(self, sources: Sequence[Source]) -> None:
        self.sources = sorted(sources, key=lambda s: s.describe())
        kinds = {str(getattr(s, "kind", "store")) for s in self.sources}
        #: REP-4: the export checks apply when any source is that kind of export.
        self.kind = kinds.pop() if len(kinds) == 1 else "mixed"
        self.kinds = frozenset(str(getattr(s, "kind", "store")) for s in self.sources)
        bases = sorted({str(getattr(s, "integrity_basis", "")) for s in self.sources} - {""})
        #: REP-7: what the sources offer against removal, together.
        self.integrity_basis = "; ".join(bases) or "nothing signed"

    def describe(self) -> str:
        return " + ".join(s.describe() for s in self.sources)

    def read(self) -> Iterator[SourceItem]:
        for source in self.sources:
            yield from source.read()
