"""A stalled store ends in exit 3 within the configured bound (STORE-12).

Each test stops a real server with SIGSTOP and runs the installed
``chainaudit`` command against it, with short timeouts, and checks what a
CI job would see: exit 3, within the bound plus a margin for starting the
interpreter on a busy machine, and exactly one line on stderr naming the
store and the bound that expired, never a traceback.

Stopping the shared servers of ``scripts/services.sh`` would break every
other test, so these tests start their own: a private PostgreSQL 15 cluster
(``initdb`` + ``pg_ctl``, as the ``postgres`` user when run as root, like
services.sh) and a private dynalite. They are stopped and removed in
``finally`` whatever happened, after SIGCONT.

A stalled server is one that is alive but does not answer: its kernel still
accepts connections and acknowledges (and keepalive-answers) packets, so only
a client-side deadline ends the wait.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from e2e_stores import AWS_ENV, REGION

from chainaudit.sources.postgres import PostgresStore

ROOT = Path(__file__).resolve().parent.parent
PG_BIN = Path("/usr/lib/postgresql/15/bin")
DYNALITE = ROOT / "scripts" / "dynalite.js"
#: Starting Python and chainaudit's imports, on a shared 2-core machine under
#: load: the part of the wall time that is not waiting on the store.
MARGIN = 8.0
CONNECT = 2  # seconds; libpq's minimum
READ = 3  # seconds


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_for_port(port: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port} after {seconds} s")


@dataclass(frozen=True)
class Run:
    args: tuple[str, ...]
    returncode: int
    stderr: str
    wall: float
    stdout: str = ""


def _chainaudit(*args: str, env: dict[str, str] | None = None, limit: float = 120) -> Run:
    """Run the installed command; ``limit`` only keeps a regression from hanging the suite."""
    exe = shutil.which("chainaudit")
    assert exe, "the chainaudit command is not installed (pip install -e .)"
    started = time.monotonic()
    proc = subprocess.run(
        [exe, *args],
        capture_output=True,
        text=True,
        timeout=limit,
        env={**os.environ, **(env or {})},
        check=False,
    )
    return Run(args, proc.returncode, proc.stderr, time.monotonic() - started, proc.stdout)


def _popen(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    exe = shutil.which("chainaudit")
    assert exe, "the chainaudit command is not installed (pip install -e .)"
    return subprocess.Popen(
        [exe, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def _assert_stalled(run: Run, bound: float, *needles: str) -> None:
    """Exit 3 within ``bound`` + MARGIN, one stderr line naming what expired."""
    what = f"$ chainaudit {' '.join(run.args)}\nexit {run.returncode} after {run.wall:.1f} s\n{run.stderr}"
    assert run.returncode == 3, what
    assert run.wall < bound + MARGIN, what
    assert "Traceback" not in run.stderr, what
    lines = run.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("chainaudit: error: "), what
    for needle in needles:
        assert needle in lines[0], what
    print(f"\n{' '.join(run.args[:2])}: exit 3 after {run.wall:.2f} s (bound {bound} s)")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("timeouts") / "demo"
    run = _chainaudit("demo", str(out))
    assert run.returncode == 0, run.stderr
    return out / "export.ndjson"


# --- PostgreSQL ---------------------------------------------------------------


def _as_postgres(*cmd: str) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return list(cmd)


@dataclass(frozen=True)
class PrivatePg:
    dsn: str
    host_port: str
    data: Path

    def postmaster_pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split()[0])


@pytest.fixture(scope="module")
def private_pg(demo: Path) -> Iterator[PrivatePg]:
    """A PostgreSQL 15 cluster of this module only, seeded with the demo export."""
    assert (PG_BIN / "initdb").exists(), f"PostgreSQL 15 is not installed in {PG_BIN}"
    # Not under pytest's tmp_path: the postgres user must be able to enter it.
    work = Path(tempfile.mkdtemp(prefix="chainaudit-timeouts-pg."))
    if os.geteuid() == 0:
        shutil.chown(work, "postgres", "postgres")
    data = work / "data"
    port = _free_port()
    started = False
    try:
        subprocess.run(
            _as_postgres(str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "-A",
                         "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"),
            check=True, capture_output=True,
        )  # fmt: skip
        subprocess.run(
            _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(work / "log"),
                         "-w", "-t", "60", "start", "-o",
                         f"-c listen_addresses=127.0.0.1 -p {port} -k {work} -c fsync=off"),
            check=True, capture_output=True,
        )  # fmt: skip
        started = True
        pg = PrivatePg(
            f"postgresql://postgres@127.0.0.1:{port}/postgres", f"127.0.0.1:{port}", data
        )
        seed = _chainaudit("import", str(demo), pg.dsn, "--create")
        assert seed.returncode == 0, seed.stderr
        yield pg
    finally:
        if started:
            # Whatever a test stopped, let it run again so it can be stopped.
            with contextlib.suppress(OSError, ValueError):
                os.kill(int((data / "postmaster.pid").read_text().split()[0]), signal.SIGCONT)
            subprocess.run(
                _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w",
                             "stop"),
                capture_output=True, check=False,
            )  # fmt: skip
        shutil.rmtree(work, ignore_errors=True)


@pytest.mark.postgres
def test_stopped_postmaster_ends_within_the_connect_timeout(private_pg: PrivatePg) -> None:
    """SIGSTOP the postmaster before connecting: TCP connects (the kernel
    accepts), the startup packet is never answered."""
    pid = private_pg.postmaster_pid()
    os.kill(pid, signal.SIGSTOP)
    try:
        run = _chainaudit(
            "verify", private_pg.dsn, "--connect-timeout", str(CONNECT), "--read-timeout",
            str(READ),
        )  # fmt: skip
    finally:
        os.kill(pid, signal.SIGCONT)
    _assert_stalled(run, CONNECT, private_pg.host_port, "connect timeout", "--connect-timeout")


def _stop_the_backend_at(dsn: str, table: str, statement: str, *args: str) -> Run:
    """Run ``chainaudit ARGS`` and SIGSTOP its backend once it waits on ``table``.

    Another session holds a lock on ``table``; the command's backend is found
    in pg_stat_activity waiting for it in a statement like ``statement``,
    stopped, and the lock released. The command is then waiting on a backend
    that will never answer, and the server's own statement_timeout cannot
    fire in a stopped process: only the client-side bound ends the wait.
    """
    backend = None
    with psycopg.connect(dsn) as holder:
        holder.execute(f'LOCK TABLE "{table}" IN ACCESS EXCLUSIVE MODE')
        started = time.monotonic()
        proc = _popen(*args)
        try:
            with psycopg.connect(dsn, autocommit=True) as watch:
                while backend is None and proc.poll() is None:
                    row = watch.execute(
                        "SELECT pid, extract(epoch FROM clock_timestamp() - query_start) "
                        "FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE %s",
                        (statement,),
                    ).fetchone()
                    if row is None:
                        time.sleep(0.02)
                        continue
                    backend = int(row[0])
                    os.kill(backend, signal.SIGSTOP)
                    # statement_timeout (= READ) must not have cancelled it first.
                    assert float(row[1]) < READ / 2, f"found waiting only after {row[1]} s"
            assert backend is not None, proc.communicate()
            holder.rollback()  # the stopped backend gets the lock but cannot use it
            _, stderr = proc.communicate(timeout=120)
            return Run(args, proc.returncode, stderr, time.monotonic() - started)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            if backend is not None:
                os.kill(backend, signal.SIGCONT)


@pytest.mark.postgres
def test_stopped_backend_mid_scan_ends_within_the_read_timeout(private_pg: PrivatePg) -> None:
    """SIGSTOP the backend serving ``verify`` in the middle of its scan: it has
    read the entities and the wrapped DEKs and is opening the cursor on
    audit_events, the last table it reads."""
    run = _stop_the_backend_at(
        private_pg.dsn, "audit_events", "DECLARE%audit_events%",
        "verify", private_pg.dsn, "--connect-timeout", str(CONNECT), "--read-timeout", str(READ),
    )  # fmt: skip
    _assert_stalled(run, READ, private_pg.host_port, "read timeout", "--read-timeout")


@pytest.mark.postgres
def test_stopped_backend_mid_import_ends_within_the_read_timeout(
    private_pg: PrivatePg, demo: Path
) -> None:
    """The same for ``import``: its backend is stopped inside a batch's inserts
    (psycopg's pipeline)."""
    with psycopg.connect(private_pg.dsn, autocommit=True) as admin:
        admin.execute("CREATE DATABASE import_target")
    dsn = private_pg.dsn.rsplit("/", 1)[0] + "/import_target"
    PostgresStore(dsn).create_schema()
    run = _stop_the_backend_at(
        dsn, "entities", 'INSERT INTO "entities"%',
        "import", str(demo), dsn, "--connect-timeout", str(CONNECT), "--read-timeout", str(READ),
    )  # fmt: skip
    _assert_stalled(run, READ, private_pg.host_port, "read timeout", "--read-timeout")


@pytest.mark.postgres
def test_a_statement_over_the_read_timeout_is_cancelled_by_the_server(
    private_pg: PrivatePg,
) -> None:
    """A server that is alive but slow (here: a lock held elsewhere) cancels
    the statement itself at statement_timeout; still exit 3 within the bound."""
    with psycopg.connect(private_pg.dsn) as holder:
        holder.execute("LOCK TABLE wrapped_deks IN ACCESS EXCLUSIVE MODE")
        run = _chainaudit("verify", private_pg.dsn, "--read-timeout", "1")
    _assert_stalled(run, 1, private_pg.host_port, "--read-timeout")


# --- DynamoDB (dynalite) ---------------------------------------------------------


class StallingProxy:
    """A TCP relay in front of dynalite that SIGSTOPs it mid-scan, deterministically.

    Requests are forwarded one at a time until the first answer to a request
    naming ``operation`` (e.g. ``Scan``) starts to arrive: then the server is
    stopped, that answer is delivered, and every other request goes on to
    the stopped server. So one Scan page reaches chainaudit and the others
    never come: a stall in the middle of the scan, whatever the timing. The
    relay only orders requests; the stall is the real server's.
    """

    def __init__(self, target_port: int, server_pid: int, operation: str) -> None:
        self.target_port = target_port
        self.server_pid = server_pid
        self.marker = f"DynamoDB_20120810.{operation}".encode()
        self.turn = threading.Lock()
        self.stopped = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = [self.listener]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
                server = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                return
            self.sockets += [client, server]
            state = {"awaiting": False, "holds_turn": False, "target": False}
            threading.Thread(target=self._up, args=(client, server, state), daemon=True).start()
            threading.Thread(target=self._down, args=(server, client, state), daemon=True).start()

    def _up(self, client: socket.socket, server: socket.socket, state: dict[str, bool]) -> None:
        with contextlib.suppress(OSError):
            while data := client.recv(65536):
                if not state["awaiting"] and not self.stopped.is_set():
                    self.turn.acquire()
                    state["holds_turn"] = True
                state["awaiting"] = True
                state["target"] = state["target"] or self.marker in data
                server.sendall(data)

    def _down(self, server: socket.socket, client: socket.socket, state: dict[str, bool]) -> None:
        with contextlib.suppress(OSError):
            while data := server.recv(65536):
                if state["awaiting"]:
                    state["awaiting"] = False
                    if state["target"] and not self.stopped.is_set():
                        os.kill(self.server_pid, signal.SIGSTOP)
                        self.stopped.set()
                    state["target"] = False
                    if state["holds_turn"]:
                        state["holds_turn"] = False
                        self.turn.release()
                client.sendall(data)

    def close(self) -> None:
        for s in self.sockets:
            with contextlib.suppress(OSError):
                s.close()


@contextlib.contextmanager
def private_dynalite() -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """A dynalite of this test only (in memory); SIGCONT and killed afterwards."""
    assert (ROOT / "node_modules" / "dynalite").exists(), "dynalite is missing: run `npm ci`"
    node = shutil.which("node")
    assert node, "node is not installed"
    port = _free_port()
    proc = subprocess.Popen(
        [node, str(DYNALITE), "--host", "127.0.0.1", "--port", str(port),
         "--createTableMs", "50", "--deleteTableMs", "50"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait_for_port(port, 30)
        yield port, proc
    finally:
        with contextlib.suppress(OSError):
            os.kill(proc.pid, signal.SIGCONT)
        proc.kill()
        proc.wait()


def _seed_dynamodb(demo: Path, port: int, table: str) -> None:
    run = _chainaudit(
        "import", str(demo), f"dynamodb://{table}", "--create", "--endpoint-url",
        f"http://127.0.0.1:{port}", "--region", REGION, env=AWS_ENV,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr


@pytest.mark.dynamodb
def test_stopped_dynalite_mid_scan_ends_within_the_read_timeout(demo: Path) -> None:
    table = "stall_scan"
    with private_dynalite() as (port, server):
        _seed_dynamodb(demo, port, table)
        proxy = StallingProxy(port, server.pid, "Scan")
        try:
            run = _chainaudit(
                "verify", f"dynamodb://{table}", "--endpoint-url",
                f"http://127.0.0.1:{proxy.port}", "--region", REGION, "--segments", "4",
                "--connect-timeout", str(CONNECT), "--read-timeout", str(READ), env=AWS_ENV,
            )  # fmt: skip
        finally:
            proxy.close()
        assert proxy.stopped.is_set(), "dynalite was never stopped: no Scan answer arrived"
    _assert_stalled(run, CONNECT + READ, f"dynamodb://{table}", "read timeout", "--read-timeout")


@pytest.mark.dynamodb
def test_stopped_dynalite_mid_import_ends_within_the_read_timeout(demo: Path) -> None:
    """The import's writer threads: queued writes are dropped, not each waited on."""
    table = "stall_import"
    with private_dynalite() as (port, server):
        proxy = StallingProxy(port, server.pid, "PutItem")
        try:
            run = _chainaudit(
                "import", str(demo), f"dynamodb://{table}", "--create", "--endpoint-url",
                f"http://127.0.0.1:{proxy.port}", "--region", REGION,
                "--connect-timeout", str(CONNECT), "--read-timeout", str(READ), env=AWS_ENV,
            )  # fmt: skip
        finally:
            proxy.close()
        assert proxy.stopped.is_set(), "dynalite was never stopped: no PutItem answer arrived"
    _assert_stalled(run, CONNECT + READ, f"dynamodb://{table}", "read timeout", "--read-timeout")


def test_timeouts_are_in_every_store_command_help() -> None:
    for command in (("verify",), ("export",), ("import",), ("gate", "pre"), ("gate", "post"),
                    ("diff",)):  # fmt: skip
        run = _chainaudit(*command, "--help")
        assert run.returncode == 0, run.stderr
        for option in ("--connect-timeout", "--read-timeout"):
            assert option in run.stdout, (command, run.stdout)


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "soon"])
def test_a_timeout_must_be_a_positive_number(value: str) -> None:
    run = _chainaudit("verify", "postgresql://nobody@127.0.0.1:9/x", "--read-timeout", value)
    assert run.returncode == 2, run.stderr
    assert "--read-timeout" in run.stderr and "Traceback" not in run.stderr
