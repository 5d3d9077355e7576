"""The files of one export, wherever they are: a local directory or an S3 prefix.

A DynamoDB Export to S3 (EXP-9) is a handful of files under one root:
``manifest-summary.json``, ``manifest-files.json`` and ``data/<name>``. Its
reader (:mod:`chainaudit.sources.ddb_export`) needs only four things of
them, by relative path: how messages name a file, its first bytes (the
small summary), its stored bytes as a stream (the MD5 pass), and its lines,
decompressed (the manifest and the data). :class:`FileTree` is that
interface; :class:`LocalTree` serves a directory and
:class:`chainaudit.sources.s3.S3Tree` an ``s3://bucket/prefix/``, so one
reader gives the same records and findings for both.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import IO, Protocol

from chainaudit.errors import InputError
from chainaudit.sources.jsonlines import iter_lines


class FileTree(Protocol):
    """Read access to the files under one root, by ``/``-separated relative path."""

    #: How messages name the root: a directory path, or ``s3://bucket/prefix``.
    root: str

    def name(self, relative: str) -> str:
        """How messages, findings and record origins name the file ``relative``."""
        ...

    def missing(self, relative: str) -> bool:
        """Whether ``relative`` is known to be absent (DDB_EXPORT_FILE_MISSING).
        A tree that cannot tell raises when the file is read instead."""
        ...

    def read_head(self, relative: str, limit: int) -> bytes:
        """The first ``limit`` bytes of the file (all of it when shorter)."""
        ...

    def open(self, relative: str) -> IO[bytes]:
        """The file's bytes as stored (compressed or not), as a stream."""
        ...

    def lines(self, relative: str, max_line_bytes: int) -> Iterator[tuple[int, bytes]]:
        """The file's lines, gzip decompressed (:func:`~chainaudit.sources.jsonlines.iter_lines`)."""
        ...


class LocalTree:
    """A local directory as a :class:`FileTree`; errors name the local path."""

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)
        self.root = str(self.directory)

    def path(self, relative: str) -> Path:
        return self.directory / relative

    def name(self, relative: str) -> str:
        return str(self.path(relative))

    def missing(self, relative: str) -> bool:
        return not self.path(relative).is_file()

    def read_head(self, relative: str, limit: int) -> bytes:
        path = self.path(relative)
        try:
            with open(path, "rb") as f:
                return f.read(limit)
        except OSError as exc:
            raise InputError(str(path), f"cannot read: {exc.strerror or exc}") from None

    def open(self, relative: str) -> IO[bytes]:
        path = self.path(relative)
        try:
            return open(path, "rb")
        except OSError as exc:
            raise InputError(str(path), f"cannot read: {exc.strerror or exc}") from None

    def lines(self, relative: str, max_line_bytes: int) -> Iterator[tuple[int, bytes]]:
        return iter_lines(self.path(relative), max_line_bytes)
