"""Golden vectors for record digests, the Merkle tree, manifests, gates, diffs,
inclusion proofs (``vectors/manifest/``) and reports (``vectors/report/``).

``generate(out_dir)`` writes only below ``out_dir/"manifest"`` and
``out_dir/"report"``; the fixed inputs are in :mod:`.manifest_build`, the
cases in :mod:`.manifest_cases` and :mod:`.report_cases`, their checks in
:mod:`.manifest_check`. Formats: ``docs/manifest.md`` (MAN-7) and
``docs/report.md`` (REP-5).
"""

from __future__ import annotations

from pathlib import Path

from chainaudit.conformance.vectorgen.manifest_cases import generate as manifest_vectors
from chainaudit.conformance.vectorgen.manifest_check import CHECKERS
from chainaudit.conformance.vectorgen.report_cases import generate as report_vectors

VECTOR_CHECKERS = CHECKERS


def generate(out_dir: Path) -> list[Path]:
    """Write every manifest and report vector; returns the files written."""
    return manifest_vectors(out_dir / "manifest") + report_vectors(out_dir / "report")
