"""Scratch SQLite files: the on-disk spools of a run (chain events, commitments).

One way to open them, so each is made the same way (a private file from
``mkstemp``, no journal, no fsync: the data is thrown away with the run) and
a full or unusable temporary directory is always one line naming it, exit 3
(:func:`chainaudit.errors.local_faults`), never a SQLite traceback.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import orjson

from chainaudit.errors import local_faults


def open_scratch_db(
    prefix: str,
    directory: str | None,
    what: str,
    tables: Iterable[str],
    *,
    any_thread: bool = False,
) -> tuple[Path, sqlite3.Connection]:
    """A new scratch database under ``directory`` (default ``$TMPDIR``) holding
    ``tables`` (``CREATE TABLE`` statements); ``what`` names it in errors.
    ``any_thread``: the connection may be used (one thread at a time) from
    another thread than this one, e.g. a Dask worker pickling a result."""
    with local_faults(directory or tempfile.gettempdir(), what):
        fd, name = tempfile.mkstemp(prefix=prefix, suffix=".sqlite", dir=directory)
        os.close(fd)
        try:
            db = sqlite3.connect(name, check_same_thread=not any_thread)
            db.execute("PRAGMA journal_mode=OFF")
            db.execute("PRAGMA synchronous=OFF")
            for statement in tables:
                db.execute(statement)
        except BaseException:  # a full disk, say: no half-made file left behind
            os.unlink(name)
            raise
    return Path(name), db


def pack_fields(fields: Mapping[str, Any]) -> bytes | str:
    """An event's fields as a spool column: ``orjson`` bytes (names sorted),
    or, for what ``orjson`` refuses (a lone surrogate, an integer beyond 64
    bits), the standard library's text; :func:`unpack_fields` reads either
    back to an equal dict, its names in the same (sorted) order."""
    try:
        return orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # orjson.JSONEncodeError, or a mapping it does not take
        return json.dumps(dict(fields), ensure_ascii=False, sort_keys=True)


def unpack_fields(data: bytes | str) -> dict[str, Any]:
    """The fields :func:`pack_fields` stored."""
    value: dict[str, Any] = orjson.loads(data) if type(data) is bytes else json.loads(data)
    return value
