"""Progress on stderr (issue: the auditor's experience): phase, count against the
known total, rate and ETA; silent when asked; a total from the source itself."""

from __future__ import annotations

import io
import os
import pty
import subprocess
from pathlib import Path

from chainaudit.cli.progress import Progress
from chainaudit.sources.estimate import estimate_total
from chainaudit.sources.multi import MultiSource
from chainaudit.sources.ndjson import NdjsonSource


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_a_log_gets_a_line_per_interval_with_rate_and_eta() -> None:
    out, clock = io.StringIO(), Clock()
    p = Progress(True, 100_000, stream=out, interval=10, clock=clock)
    clock.t = 5
    p(10_000)  # within the interval: nothing yet
    assert out.getvalue() == ""
    clock.t = 10
    p(20_000)
    line = out.getvalue().strip()
    assert line == "chainaudit: reading: 20,000 of ~100,000 items (20%), 2,000/s, about 0:40 left"
    clock.t = 20
    p(5_000)  # fewer than before: a second pass over the source
    clock.t = 31
    p(30_000)
    assert "reading (pass 2): 30,000" in out.getvalue().splitlines()[-1]
    p.done(100_000)
    assert out.getvalue().splitlines()[-1].startswith("chainaudit: checked 100,000 items in ")


def test_unknown_total_shows_count_and_rate_only() -> None:
    clock = Clock()
    p = Progress(True, None, stream=io.StringIO(), clock=clock)
    clock.t = 4
    assert p.line(8_000, clock.t) == "reading: 8,000 items, 2,000/s"


def test_disabled_progress_prints_nothing() -> None:
    out = io.StringIO()
    p = Progress(False, 10, stream=out, interval=0)
    p(10_000)
    p.done(5)
    assert out.getvalue() == ""
    assert Progress(None, stream=io.StringIO()).enabled is False  # not a terminal


def test_an_export_knows_its_total_from_its_trailer(demo: Path, tmp_path: Path) -> None:
    export = demo / "export.ndjson"
    n = sum(1 for i in NdjsonSource(export).read())
    assert estimate_total(NdjsonSource(export)) == n
    assert estimate_total(MultiSource([NdjsonSource(export), NdjsonSource(export)])) == 2 * n
    gz = tmp_path / "x.ndjson.gz"
    gz.write_bytes(b"")
    assert estimate_total(NdjsonSource(gz)) is None  # a gzip cannot be read backwards


def test_progress_through_the_command(demo: Path) -> None:
    base = ["chainaudit", "verify", str(demo / "export.ndjson"), "--format", "json"]
    forced = subprocess.run([*base, "--progress"], capture_output=True, text=True, check=False)
    assert forced.stderr.startswith("chainaudit: checked "), forced.stderr
    quiet = subprocess.run([*base, "--progress", "-q"], capture_output=True, text=True, check=False)
    assert quiet.stderr == ""
    plain = subprocess.run(base, capture_output=True, text=True, check=False)
    assert plain.stderr == ""  # not a terminal, not asked


def test_a_terminal_gets_a_bar(tmp_path: Path) -> None:
    """stderr on a pseudo-terminal: click's bar with the phase and the percentage
    of the total the export's trailer announced."""
    root = Path(__file__).resolve().parents[1]
    bench = root / "bench" / "bench_verify.py"
    subprocess.run(
        ["python3", str(bench), "--make", "--records", "21000", "--cache-dir", str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    export = next(tmp_path.glob("verify-*.ndjson"))
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        ["chainaudit", "verify", str(export), "--format", "json", "-o", str(tmp_path / "r")],
        stdout=subprocess.DEVNULL,
        stderr=follower,
    )
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # EIO once the child has closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    proc.wait(timeout=300)
    assert b"reading" in seen and b"%" in seen, seen[-500:]
    assert b"Traceback" not in seen


def test_phases_after_the_read_are_named() -> None:
    out = io.StringIO()
    p = Progress(True, None, stream=out, interval=0)
    p.start_phase("verifying chains")
    assert out.getvalue() == "chainaudit: verifying chains\n"


def test_audit_announces_its_phases_on_a_spooled_read(demo: Path, tmp_path: Path) -> None:
    """A source read without grouping (here a DynamoDB export in scan order is not
    needed: any non-grouped source) says when it verifies its spooled chains."""
    from chainaudit.audit import AuditOptions, audit
    from chainaudit.sources.memory import RecordsSource

    items = [i for i in NdjsonSource(demo / "export.ndjson").read()]
    phases: list[str] = []

    class Spy:
        def __call__(self, n: int) -> None:
            pass

        def start_phase(self, phase: str) -> None:
            phases.append(phase)

    audit(RecordsSource(list(reversed(items))), AuditOptions(), Spy())
    assert "verifying chains" in phases
