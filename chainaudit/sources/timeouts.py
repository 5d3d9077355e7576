"""How long chainaudit waits for a live store before it gives up (STORE-12).

Two bounds, the same for PostgreSQL and DynamoDB:

- ``connect``: establishing a connection (PostgreSQL: TCP, TLS, startup and
  authentication, per address tried; DynamoDB: the TCP/TLS connect of a new
  pooled connection).
- ``read``: any one answer. PostgreSQL: every operation that waits for the
  server (a statement, a fetch of ``fetch_size`` rows, one import batch's
  inserts, a commit) is bounded on the client, and the same value is the
  session's ``statement_timeout`` on the server. DynamoDB: botocore's socket
  read timeout of every request; a timed-out request is not retried.

A stalled server therefore ends the run with :class:`~chainaudit.errors.StoreError`
(exit 3) within ``connect + read`` seconds of stalling (docs/stores.md,
STORE-12), naming the store and the bound that expired.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: Default for ``--connect-timeout`` (seconds).
DEFAULT_CONNECT_TIMEOUT = 10.0
#: Default for ``--read-timeout`` (seconds).
DEFAULT_READ_TIMEOUT = 60.0
#: libpq (and psycopg) take ``connect_timeout`` in whole seconds, at least 2.
PG_MIN_CONNECT_TIMEOUT = 2


@dataclass(frozen=True)
class StoreTimeouts:
    """The two bounds of STORE-12, in seconds (each > 0)."""

    connect: float = DEFAULT_CONNECT_TIMEOUT
    read: float = DEFAULT_READ_TIMEOUT

    def __post_init__(self) -> None:
        for name in ("connect", "read"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name} timeout must be a positive number of seconds")

    @property
    def pg_connect_seconds(self) -> int:
        """``connect`` as libpq's ``connect_timeout``: rounded up to whole seconds, at least 2."""
        return max(PG_MIN_CONNECT_TIMEOUT, math.ceil(self.connect))

    def connect_expired(self, seconds: float | None = None) -> str:
        """The message for an expired connect bound."""
        return f"no answer within the connect timeout ({_secs(seconds or self.connect)}; --connect-timeout)"

    def read_expired(self) -> str:
        """The message for an expired read bound."""
        return f"no answer within the read timeout ({_secs(self.read)}; --read-timeout)"


def _secs(value: float) -> str:
    return f"{value:g} s"
