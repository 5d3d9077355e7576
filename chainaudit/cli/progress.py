"""Progress on stderr: the phase, items against the known total, rate and ETA.

On a terminal (and not with ``-q``) the bar is click's progress bar, redrawn
in place. ``--progress`` forces progress where stderr is not a terminal (a
CI log): then a plain line is printed at most every ``interval`` seconds, so
a log shows the run advancing without a flood of carriage returns.
``--no-progress`` (or ``-q``) silences it. The total comes from
:func:`chainaudit.sources.estimate.estimate_total` (an export's trailer, a
DynamoDB export manifest or ``DescribeTable``, PostgreSQL's estimate);
without one, the count and rate are shown with no percentage or ETA.
Progress never prints a record, a key or a payload: counts only.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

import click


def _eta(seconds: float) -> str:
    seconds = max(0, int(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Progress:
    """A callable ``progress(items_read)`` for :func:`chainaudit.audit.audit`.

    ``enabled`` None means automatic: on when stderr is a terminal. A count
    lower than the last one starts a new pass (a keyed re-read), shown as
    a new phase.
    """

    def __init__(
        self,
        enabled: bool | None,
        total: int | None = None,
        *,
        stream: TextIO | None = None,
        interval: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream or sys.stderr
        self.terminal = self.stream.isatty()
        self.enabled = self.terminal if enabled is None else enabled
        self.total = total
        self.interval = interval
        self.clock = clock
        self.phase = "reading"
        self.passes = 1
        self.last = 0
        self.start = clock()
        self.printed = self.start
        self._bar: Any = None

    # -- the audit callback ----------------------------------------------------------

    def __call__(self, n: int) -> None:
        if not self.enabled:
            return
        if n < self.last:  # a second read of the source
            self._close_bar()
            self.passes += 1
            self.phase = f"reading (pass {self.passes})"
            self.start = self.clock()
            self.last = 0
        if self.terminal:
            self._bar_update(n)
        else:
            now = self.clock()
            if now - self.printed >= self.interval:
                self.printed = now
                click.echo(f"chainaudit: {self.line(n, now)}", file=self.stream)
        self.last = n

    def start_phase(self, phase: str) -> None:
        """A phase after the read (opening spilled envelopes, verifying spooled
        chains): the bar closes and the phase is named, without a total."""
        if not self.enabled:
            return
        self._close_bar()
        self.phase = phase
        if self.terminal:
            click.echo(f"{phase} ...", file=self.stream)
        else:
            click.echo(f"chainaudit: {phase}", file=self.stream)

    def line(self, n: int, now: float) -> str:
        """One progress line: phase, count against the total, rate, ETA."""
        elapsed = max(now - self.start, 1e-9)
        rate = n / elapsed
        text = f"{self.phase}: {n:,}"
        if self.total:
            text += f" of ~{self.total:,} items ({min(100, 100 * n // self.total)}%)"
        else:
            text += " items"
        text += f", {rate:,.0f}/s"
        if self.total and rate > 0 and n < self.total:
            text += f", about {_eta((self.total - n) / rate)} left"
        return text

    def done(self, items: int | None = None) -> None:
        """End of the run: the bar closes; a log gets one final line with the
        number of items checked (``items``, else the last count reported)."""
        if not self.enabled:
            return
        self._close_bar()
        if not self.terminal:
            n = self.last if items is None else items
            click.echo(
                f"chainaudit: checked {n:,} items in {_eta(self.clock() - self.start)}",
                file=self.stream,
            )

    # -- the terminal bar -------------------------------------------------------------

    def _bar_update(self, n: int) -> None:
        if self._bar is None:
            self._bar = click.progressbar(
                length=self.total or 0,
                label=self.phase,
                file=self.stream,
                show_eta=bool(self.total),
                show_percent=bool(self.total),
                show_pos=True,
                item_show_func=lambda _: None,
            )
            self._bar.__enter__()
        step = n - self.last
        if self.total and n > self.total:  # an estimate that was low
            self._bar.length = n
        self._bar.update(step)

    def _close_bar(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None
