"""Exceptions: for misuse and I/O only, never for bad data (that is a Finding).

One root, :class:`ChainauditError`, with an ``exit_code`` and a one-line
``diagnostics()`` so the CLI has a single ``except`` that prints a helpful
message and exits with the documented code (docs/cli.md).
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
from collections.abc import Iterator

#: Documented exit codes (docs/cli.md).
EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_UNVERIFIED = 3


class ChainauditError(Exception):
    """Root of every error chainaudit raises on purpose."""

    exit_code = EXIT_USAGE

    def diagnostics(self) -> str:
        """One line for the user: what went wrong and where."""
        return str(self)


class InputError(ChainauditError):
    """Input that cannot be read as the format it claims (exit 2).

    ``where`` names the file and line, or the table and key.
    """

    exit_code = EXIT_USAGE

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message

    def __reduce__(self) -> tuple[type[InputError], tuple[str, str]]:
        # Rebuilt from both fields when it crosses a process (--workers).
        return (type(self), (self.where, self.message))


class KeySourceError(ChainauditError):
    """A key file that cannot be used: missing, unsafe permissions, wrong format
    (exit 2, like any unreadable input the user named)."""

    exit_code = EXIT_USAGE


class KeyServiceError(KeySourceError):
    """A key service (KMS) that did not answer as needed: the run could not
    verify, through no fault of the input (exit 3)."""

    exit_code = EXIT_UNVERIFIED


class StoreError(ChainauditError):
    """A store that cannot be reached or read completely (exit 3): unreachable,
    throttled beyond retries, or any partial coverage."""

    exit_code = EXIT_UNVERIFIED


class ConflictError(ChainauditError):
    """An import met a record that differs from the incoming one (exit 1)."""

    exit_code = EXIT_FINDINGS


class LocalFaultError(ChainauditError):
    """This machine could not do its part (exit 3): a temporary directory or
    an output's file system is full, or a temporary directory is unusable.
    Not the input's fault (so not exit 2), and nothing was found wrong (so
    never exit 1): the run could not verify everything."""

    exit_code = EXIT_UNVERIFIED


@contextlib.contextmanager
def local_faults(where: str | os.PathLike[str], what: str) -> Iterator[None]:
    """Turn an OSError or SQLite error in the block into a :class:`LocalFaultError`
    naming ``where`` (the directory written to) and ``what`` was being written."""
    try:
        yield
    except (OSError, sqlite3.Error) as exc:
        reason = (
            (exc.strerror if isinstance(exc, OSError) else None) or str(exc) or type(exc).__name__
        )
        raise LocalFaultError(
            f"{os.fspath(where)}: cannot write {what}: {reason} "
            "(free space there, or set TMPDIR to a directory with room)"
        ) from None


#: errno values of a fault of this machine, not of a path the user named: an
#: OSError carrying one is reported by the CLI with exit 3, any other with exit 2.
RESOURCE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO})


@contextlib.contextmanager
def naming_files(**files: str) -> Iterator[None]:
    """The core names a document it was handed by its role (``manifest``,
    ``proof``, ``leaves``, or ``leaves:LINE``); name the file the user gave for
    that role instead, so the one-line error says which file (CLI-4)."""
    try:
        yield
    except InputError as exc:
        role, colon, rest = exc.where.partition(":")
        path = files.get(role)
        if path is None:
            raise
        message = exc.message if role in exc.message else f"{role} {exc.message}"
        raise InputError(path + colon + rest, message) from None
