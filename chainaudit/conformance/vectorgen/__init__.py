"""Deterministic generators of the golden vectors under ``vectors/``.

Each generator module exposes ``generate(out_dir: Path) -> list[Path]`` and
writes only below its own sub-directory (``envelope/``, ``keys/``,
``chain/``, ``manifest/`` and ``report/``, ``export/``, ``commitment/``) or
its own file (``findings.json``). ``python -m chainaudit.conformance.vectorgen
OUT_DIR`` runs all of them.
No generator reads the clock or ``os.urandom``: every key and nonce is
derived from a fixed label, so regenerating reproduces the committed files
byte for byte (``tests/test_vectors.py``). Format: ``docs/vectors.md``.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from chainaudit.outfile import write_output

#: Generator modules, in the order they run. Missing ones are skipped, so
#: each engineer's generator joins as soon as its module exists.
GENERATORS = (
    "chainaudit.conformance.vectorgen.envelope",
    "chainaudit.conformance.vectorgen.keys",
    "chainaudit.conformance.vectorgen.chain",
    "chainaudit.conformance.vectorgen.manifest",
    "chainaudit.conformance.vectorgen.export",
    "chainaudit.conformance.vectorgen.commitment",
    "chainaudit.conformance.vectorgen.findings_doc",
)


def derive(domain: bytes, label: str, length: int) -> bytes:
    """Fixed test material: the first ``length`` bytes of SHA-256(domain || label)."""
    if not 1 <= length <= 32:
        raise ValueError("derive() yields 1..32 bytes")
    return hashlib.sha256(domain + label.encode("utf-8")).digest()[:length]


def dump_json(obj: Any) -> str:
    """The exact text of a vector file: 2-space indent, UTF-8 kept, trailing newline."""
    return json.dumps(obj, indent=2, ensure_ascii=False) + "\n"


def write_json(path: Path, obj: Any) -> Path:
    """Write one vector file (binary mode, so line endings never vary)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_output(path, dump_json(obj).encode("utf-8"), "a vector file")
    return path


def available_generators() -> list[tuple[str, Callable[[Path], list[Path]]]]:
    """The generator modules that exist, with their ``generate`` functions."""
    found = []
    for name in GENERATORS:
        if importlib.util.find_spec(name) is None:
            continue
        module = importlib.import_module(name)
        found.append((name, module.generate))
    return found


def generate_all(out_dir: Path) -> list[Path]:
    """Run every available generator into ``out_dir``; returns the files written."""
    written: list[Path] = []
    for _, generate in available_generators():
        written.extend(generate(out_dir))
    return written
