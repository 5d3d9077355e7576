"""Exceptions: for misuse and I/O only, never for bad data (that is a Finding).

One root, :class:`ChainauditError`, with an ``exit_code`` and a one-line
``diagnostics()`` so the CLI has a single ``except`` that prints a helpful
message and exits with the documented code (docs/cli.md).
"""

from __future__ import annotations

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
