"""``python -m chainaudit.conformance.vectorgen OUT_DIR``: regenerate every golden vector.

Run it with ``vectors`` as OUT_DIR to refresh the committed vectors, or with
a temporary directory to compare (``tests/test_vectors.py`` does that).
"""

from __future__ import annotations

import sys
from pathlib import Path

from chainaudit.conformance.vectorgen import available_generators


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m chainaudit.conformance.vectorgen OUT_DIR", file=sys.stderr)
        return 2
    out_dir = Path(argv[0])
    for name, generate in available_generators():
        files = generate(out_dir)
        print(f"{name}: {len(files)} file(s) under {out_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
