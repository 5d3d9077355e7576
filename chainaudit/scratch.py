"""Scratch SQLite files: the on-disk spools of a run (chain events, commitments).

One way to open them, so each is made the same way (a private file from
``mkstemp``, no journal, no fsync: the data is thrown away with the run) and
a full or unusable temporary directory is always one line naming it, exit 3
(:func:`chainaudit.errors.local_faults`), never a SQLite traceback.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Iterable
from pathlib import Path

from chainaudit.errors import local_faults


def open_scratch_db(
    prefix: str, directory: str | None, what: str, tables: Iterable[str]
) -> tuple[Path, sqlite3.Connection]:
    """A new scratch database under ``directory`` (default ``$TMPDIR``) holding
    ``tables`` (``CREATE TABLE`` statements); ``what`` names it in errors."""
    with local_faults(directory or tempfile.gettempdir(), what):
        fd, name = tempfile.mkstemp(prefix=prefix, suffix=".sqlite", dir=directory)
        os.close(fd)
        db = sqlite3.connect(name)
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
        for statement in tables:
            db.execute(statement)
    return Path(name), db
