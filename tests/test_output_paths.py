"""Output paths behave as Unix tools do (docs/cli.md, CLI-8; issue 14).

Every command that writes a file is run through the installed ``chainaudit``
(as a CI job runs it) against every kind of destination:

* a regular file (new, or replaced: atomically, keeping its mode);
* a symbolic link (the link stays a link, its target gets the content);
* a FIFO with a reader attached (the FIFO stays a FIFO, the reader gets all);
* a character device made here with mknod, /dev/null's numbers (it stays a
  character device: the bug was replacing /dev/null with a regular file);
* ``-`` (stdout), and ``/dev/stdout``;

and against bad ones (a directory, a missing directory, a device that
refuses writes): exit 2, exactly one line on stderr, no traceback. Key files
are stricter: only a new regular file. A temporary file left by a killed
write is recognisable and removed by the next write to the same place.

These tests create devices with ``os.mknod``, so they run as root, as CI
does; run as another user they fail (a skipped test would be an untested
guarantee).
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from e2e_cli import Cli, Run, Secrets, demo_secrets, expect

from chainaudit.outfile import PARTIAL_MARK
from chainaudit.sources.ndjson import write_export

CREATED_AT = "2026-03-02T12:00:00.000Z"
RECORD = "dialogue:dlg-2026-001/entity:meta"
#: /dev/null's device numbers: writes vanish, so it is safe to write to.
NULL_DEVICE = os.makedev(1, 3)
#: A character device no driver answers: opening it fails (ENXIO), even for root.
DEAD_DEVICE = os.makedev(0, 0)


@pytest.fixture(scope="module", autouse=True)
def _as_root() -> None:
    if os.geteuid() != 0:
        pytest.fail(
            "tests/test_output_paths.py must run as root, as CI does: it creates character "
            "devices with os.mknod to prove they are written through, never replaced",
            pytrace=False,
        )


# --- inputs -----------------------------------------------------------------------


@dataclass(frozen=True)
class Inputs:
    """What the writing commands read: the demo, a signed manifest, a proof."""

    cli: Cli
    demo: Path
    manifest: Path
    proof: Path
    #: Exactly what ``chainaudit export DEMO/export.ndjson --created-at T`` writes.
    export: bytes
    #: Options that make ``gate pre`` sign the keyless demo (the assurance
    #: policy is not what this file tests).
    gate_policy: tuple[str, ...]

    @property
    def source(self) -> Path:
        return self.demo / "export.ndjson"

    def trust(self) -> tuple[str, str]:
        return ("--trusted-keys", str(self.demo / "trusted-keys.json"))


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Inputs:
    base = tmp_path_factory.mktemp("inputs")
    demo = base / "demo"
    expect(Cli(Secrets())("demo", demo), 0)
    cli = Cli(demo_secrets(demo))
    help_text = cli("gate", "pre", "--help").stdout
    policy = ("--require", "none") if "--require" in help_text else ()
    manifest = base / "manifest.json"
    trust = ("--trusted-keys", str(demo / "trusted-keys.json"))
    expect(
        cli("gate", "pre", demo / "export.ndjson", "--signing-key", demo / "signer.key",
            *trust, *policy, "-m", manifest),
        0,
    )  # fmt: skip
    proof = base / "proof.json"
    expect(cli("prove", RECORD, "-m", manifest, "-o", proof), 0)
    reference = base / "reference.ndjson"
    expect(cli("export", demo / "export.ndjson", "--created-at", CREATED_AT, "-o", reference), 0)
    return Inputs(cli, demo, manifest, proof, reference.read_bytes(), policy)


# --- the writing commands -------------------------------------------------------------


def _json(data: bytes) -> dict[str, object]:
    doc = json.loads(data)
    assert isinstance(doc, dict), data[:200]
    return doc


def report_ok(i: Inputs, data: bytes) -> int:
    """A whole report; its verdict is not this file's business, but the run's
    exit code must be the one the report states."""
    doc = _json(data)
    assert doc["type"] == "chainaudit/report", data[:300]
    code = doc["exit_code"]
    assert isinstance(code, int) and code != 2, data[:300]
    return code


def manifest_ok(i: Inputs, data: bytes) -> int:
    doc = _json(data)
    assert doc["signature"] and doc["totals"], data[:300]
    return 0


def leaves_ok(i: Inputs, data: bytes) -> int:
    lines = data.splitlines()
    records = len(i.source.read_bytes().splitlines()) - 2  # header and trailer
    assert len(lines) == records, (len(lines), records)
    assert all(isinstance(json.loads(line), list) for line in lines)
    return 0


def export_ok(i: Inputs, data: bytes) -> int:
    assert data == i.export, "an export differs from the one written to a regular file"
    return 0


def proof_ok(i: Inputs, data: bytes) -> int:
    assert _json(data)["record_key"] == RECORD
    return 0


def trusted_ok(i: Inputs, data: bytes) -> int:
    assert _json(data)["type"] == "chainaudit/trusted-keys"
    return 0


def checkpoint_ok(i: Inputs, data: bytes) -> int:
    doc = json.loads(data)  # one checkpoint, or a bundle of them
    for checkpoint in doc if isinstance(doc, list) else [doc]:
        assert checkpoint["type"] == "chainaudit/checkpoint", data[:300]
    return 0


def findings_ok(i: Inputs, data: bytes) -> int:
    assert "codes" in _json(data)
    return 0


Args = Callable[[Inputs, str, Path], list[str | Path]]


@dataclass(frozen=True)
class Writer:
    """One way a command writes a file: ``args(inputs, destination, scratch)``."""

    name: str
    args: Args
    #: Checks what was written; returns the exit code the run must have had.
    check: Callable[[Inputs, bytes], int]
    #: The command takes a DIRECTORY; the destination is this file in it.
    in_dir: str | None = None
    #: Whether an existing regular file is replaced (demo refuses foreign files).
    overwrites: bool = True

    def __str__(self) -> str:
        return self.name


def _gate_pre(i: Inputs, *rest: str | Path) -> list[str | Path]:
    return ["gate", "pre", i.source, "--signing-key", i.demo / "signer.key", *i.trust(),
            *i.gate_policy, *rest]  # fmt: skip


WRITERS = [
    Writer(
        "verify -o",
        lambda i, out, s: ["verify", i.source, *i.trust(), "--format", "json", "-o", out],
        report_ok,
    ),
    Writer(
        "gate pre -o",
        lambda i, out, s: _gate_pre(i, "-m", s / "m.json", "--format", "json", "-o", out),
        report_ok,
    ),
    Writer(
        "gate pre -m",
        lambda i, out, s: _gate_pre(i, "-m", out, "--leaves", s / "l", "-o", s / "r.txt"),
        manifest_ok,
    ),
    Writer(
        "gate pre --leaves",
        lambda i, out, s: _gate_pre(i, "-m", s / "m.json", "--leaves", out, "-o", s / "r.txt"),
        leaves_ok,
    ),
    Writer(
        "gate post -o",
        lambda i, out, s: [
            *("gate", "post", i.source, "-m", i.manifest, *i.trust(), "--allow-unbridged"),
            *("--format", "json", "-o", out),
        ],
        report_ok,
    ),
    Writer(
        "diff -o",
        lambda i, out, s: ["diff", i.source, i.source, "--format", "json", "-o", out],
        report_ok,
    ),
    Writer(
        "export -o",
        lambda i, out, s: ["export", i.source, "--created-at", CREATED_AT, "-o", out],
        export_ok,
    ),
    Writer("prove -o", lambda i, out, s: ["prove", RECORD, "-m", i.manifest, "-o", out], proof_ok),
    Writer(
        "verify-proof -o",
        lambda i, out, s: [
            *("verify-proof", i.proof, "-m", i.manifest, *i.trust()),
            *("--format", "json", "-o", out),
        ],
        report_ok,
    ),
    Writer(
        "keys signer --trusted-out",
        lambda i, out, s: ["keys", "signer", s / "signer.key", "--trusted-out", out],
        trusted_ok,
    ),
    Writer(
        "demo DIR",
        lambda i, out, s: ["demo", Path(out).parent],
        checkpoint_ok,
        in_dir="checkpoint.json",
        overwrites=False,
    ),
    Writer(
        "vectors generate DIR",
        lambda i, out, s: ["vectors", "generate", Path(out).parent],
        findings_ok,
        in_dir="findings.json",
    ),
]
TO_STDOUT = [w for w in WRITERS if w.in_dir is None]


@dataclass
class Place:
    """Where one test writes: the destination's directory, and a scratch directory
    for the command's other files (so the destination's directory shows only it)."""

    dir: Path
    scratch: Path
    writer: Writer

    @property
    def out(self) -> Path:
        return self.dir / (self.writer.in_dir or "out.bin")

    def run(self, i: Inputs, out: str | Path | None = None) -> Run:
        target = str(self.out if out is None else out)
        return i.cli(*self.writer.args(i, target, self.scratch))

    def partials(self) -> list[str]:
        return sorted(
            p.name for d in (self.dir, self.scratch) for p in d.iterdir() if PARTIAL_MARK in p.name
        )


@pytest.fixture(params=WRITERS, ids=str)
def place(request: pytest.FixtureRequest, tmp_path: Path) -> Place:
    (tmp_path / "dest").mkdir()
    (tmp_path / "scratch").mkdir()
    return Place(tmp_path / "dest", tmp_path / "scratch", request.param)


def only_error_line(run: Run, names: str | Path) -> str:
    """CLI-4: exit 2, exactly one stderr line naming the path, no traceback."""
    expect(run, 2)
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.describe()
    assert "Traceback" not in run.stderr, run.describe()
    assert lines[0].startswith("chainaudit: error: "), run.describe()
    assert str(names) in lines[0], run.describe()
    return lines[0]


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


@contextlib.contextmanager
def fifo_reader(path: Path) -> Iterator[list[bytes]]:
    """A reader attached to the FIFO at ``path``; after the block, what it read."""
    got: list[bytes] = []

    def read() -> None:
        with open(path, "rb") as f:
            got.append(f.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        yield got
    finally:
        if reader.is_alive() and not got:
            # The command never opened the FIFO: let the reader's open return.
            with contextlib.suppress(OSError):
                os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
        reader.join(30)


# --- each kind of destination, for every writing command ---------------------------------


def test_regular_file_is_written_and_stale_partials_removed(inputs: Inputs, place: Place) -> None:
    """A new regular file gets the content; a temporary file a killed write left
    there (dead pid) is removed, a live writer's is kept."""
    place.out.parent.mkdir(exist_ok=True)
    name = place.out.name
    stale = place.out.parent / f".{name}{PARTIAL_MARK}{dead_pid()}-0123abcd"
    live = place.out.parent / f".{name}{PARTIAL_MARK}{os.getpid()}-4567cdef"
    stale.write_bytes(b"half an old write")
    live.write_bytes(b"someone is still writing this")
    run = place.run(inputs)
    expect(run, place.writer.check(inputs, place.out.read_bytes()))
    assert stat.S_ISREG(place.out.lstat().st_mode)
    assert not stale.exists(), "the next write removes a partial file its killed writer left"
    assert live.exists(), "a partial file whose writer still runs is never removed"
    live.unlink()
    assert place.partials() == []


def test_existing_regular_file_is_replaced_keeping_its_mode(inputs: Inputs, place: Place) -> None:
    place.out.parent.mkdir(exist_ok=True)
    place.out.write_bytes(b"old\n")
    place.out.chmod(0o640)
    run = place.run(inputs)
    if not place.writer.overwrites:
        only_error_line(run, place.out)  # demo never replaces a file that is not its own
        assert place.out.read_bytes() == b"old\n"
        return
    expect(run, place.writer.check(inputs, place.out.read_bytes()))
    assert stat.S_IMODE(place.out.stat().st_mode) == 0o640
    assert place.partials() == []


def test_symlink_stays_a_link_and_its_target_is_written(
    inputs: Inputs, place: Place, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = elsewhere / "target.bin"
    if place.writer.overwrites:
        target.write_bytes(b"old\n")
    place.out.parent.mkdir(exist_ok=True)
    link_text = os.path.relpath(target, place.out.parent)
    place.out.symlink_to(link_text)
    run = place.run(inputs)
    assert place.out.is_symlink(), "the link itself was replaced"
    assert os.readlink(place.out) == link_text
    expect(run, place.writer.check(inputs, target.read_bytes()))
    assert [p.name for p in elsewhere.iterdir()] == ["target.bin"], "no partial file left"
    assert place.partials() == []


def test_fifo_stays_a_fifo_and_its_reader_gets_everything(inputs: Inputs, place: Place) -> None:
    place.out.parent.mkdir(exist_ok=True)
    os.mkfifo(place.out)
    with fifo_reader(place.out) as got:
        run = place.run(inputs)
    assert stat.S_ISFIFO(place.out.lstat().st_mode), "the FIFO was replaced"
    assert got, f"the reader got nothing\n{run.describe()}"
    expect(run, place.writer.check(inputs, got[0]))
    assert place.partials() == []


def test_character_device_stays_a_device(inputs: Inputs, place: Place) -> None:
    place.out.parent.mkdir(exist_ok=True)
    os.mknod(place.out, stat.S_IFCHR | 0o666, NULL_DEVICE)
    run = place.run(inputs)
    assert run.returncode != 2 and "error" not in run.stderr, run.describe()  # a verdict
    st = place.out.lstat()
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == NULL_DEVICE, "the device was replaced"
    assert place.partials() == []
    if place.writer.in_dir is None:
        assert [p.name for p in place.dir.iterdir()] == [place.out.name]


@pytest.mark.parametrize("writer", TO_STDOUT, ids=str)
def test_dash_is_stdout(inputs: Inputs, writer: Writer, tmp_path: Path) -> None:
    run = inputs.cli(*writer.args(inputs, "-", tmp_path))
    expect(run, writer.check(inputs, run.stdout.encode("utf-8")))
    assert not (tmp_path / "-").exists()


# --- destinations that cannot be written ---------------------------------------------------


def test_directory_is_one_error_line(inputs: Inputs, place: Place) -> None:
    place.out.mkdir(parents=True)
    only_error_line(place.run(inputs), place.out)
    assert place.out.is_dir() and list(place.out.iterdir()) == []


def test_missing_directory_is_one_error_line(inputs: Inputs, place: Place) -> None:
    if place.writer.in_dir is None:
        out = place.dir / "no" / "such" / "out.bin"
        only_error_line(place.run(inputs, out), out)
        assert not (place.dir / "no").exists()
    else:
        # DIRECTORY itself is a regular file: the command cannot create it.
        blocker = place.dir / "not-a-dir"
        blocker.write_bytes(b"")
        only_error_line(place.run(inputs, blocker / place.writer.in_dir), blocker)
        assert blocker.read_bytes() == b""


def test_device_that_refuses_writes_is_one_error_line(inputs: Inputs, place: Place) -> None:
    place.out.parent.mkdir(exist_ok=True)
    os.mknod(place.out, stat.S_IFCHR | 0o666, DEAD_DEVICE)
    only_error_line(place.run(inputs), place.out)
    st = place.out.lstat()
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == DEAD_DEVICE
    assert place.partials() == []


def test_fifo_whose_reader_leaves_early_is_one_error_line(inputs: Inputs, tmp_path: Path) -> None:
    """The reader reads a little and goes: the write fails (broken pipe) in one
    line, exit 2, and the command does not wait forever reopening the FIFO to
    leave an error report there (a report bigger than the pipe's buffer)."""
    empty = tmp_path / "empty.ndjson"
    write_export(empty, [], source="empty", created_at=CREATED_AT)
    fifo = tmp_path / "report.json"
    os.mkfifo(fifo)

    def read_a_little() -> None:
        with open(fifo, "rb", buffering=0) as f:
            f.read(10)

    reader = threading.Thread(target=read_a_little, daemon=True)
    reader.start()
    run = inputs.cli("diff", inputs.source, empty, "--format", "json", "-o", fifo, timeout=60)
    reader.join(10)
    assert "Broken pipe" in only_error_line(run, fifo)
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


# --- the issue's own cases ------------------------------------------------------------------


def test_dev_stdout_prints_the_report(inputs: Inputs) -> None:
    run = inputs.cli(
        "verify", inputs.source, *inputs.trust(), "--format", "json", "-o", "/dev/stdout"
    )
    expect(run, report_ok(inputs, run.stdout.encode("utf-8")))


def test_dev_stdout_into_a_file_appends_at_its_offset(inputs: Inputs, tmp_path: Path) -> None:
    """`{ echo before; chainaudit ... -o /dev/stdout; } > log`: the report follows
    what was there, as `cat` would write it; the log is not truncated or replaced."""
    log = tmp_path / "log"
    with open(log, "wb") as f:
        f.write(b"before\n")
        f.flush()
        proc = subprocess.run(
            ["chainaudit", "verify", str(inputs.source), *inputs.trust(), "--format", "json",
             "-o", "/dev/stdout"],
            stdout=f, stderr=subprocess.PIPE, check=False,
        )  # fmt: skip
    data = log.read_bytes()
    assert data.startswith(b"before\n{"), (data[:100], proc.stderr)
    assert proc.returncode == report_ok(inputs, data[len(b"before\n") :]), proc.stderr


@pytest.mark.parametrize("command", ["verify", "export"])
def test_real_dev_null_stays_a_character_device(inputs: Inputs, command: str) -> None:
    before = os.lstat("/dev/null")
    assert stat.S_ISCHR(before.st_mode)
    if command == "verify":
        run = inputs.cli("verify", inputs.source, *inputs.trust(), "--format", "json",
                         "-o", "/dev/null")  # fmt: skip
    else:
        run = inputs.cli("export", inputs.source, "-o", "/dev/null")
    assert run.returncode != 2 and "error" not in run.stderr, run.describe()  # a verdict
    assert run.stdout == ""
    after = os.lstat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev
    assert (after.st_ino, after.st_mode) == (before.st_ino, before.st_mode)
    assert not [n for n in os.listdir("/dev") if PARTIAL_MARK in n]


def test_killed_export_leaves_a_recognisable_partial_the_next_write_removes(
    inputs: Inputs, tmp_path: Path
) -> None:
    """SIGKILL mid-export (the source is a FIFO nobody writes to, so the export
    waits with its temporary file open): the leftover is named after the
    destination and the writer's pid, and the next export to it removes it."""
    source = tmp_path / "slow.ndjson"
    os.mkfifo(source)
    out = tmp_path / "batch.ndjson"
    proc = subprocess.Popen(
        ["chainaudit", "export", str(source), "--created-at", CREATED_AT, "-o", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    prefix = f".batch.ndjson{PARTIAL_MARK}{proc.pid}-"
    try:
        deadline = time.monotonic() + 60
        while not [p for p in tmp_path.iterdir() if p.name.startswith(prefix)]:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "the export never opened its temporary file"
            time.sleep(0.05)
    finally:
        proc.kill()
        proc.wait()
        if proc.stderr:
            proc.stderr.close()
    left = [p.name for p in tmp_path.iterdir() if PARTIAL_MARK in p.name]
    assert len(left) == 1 and left[0].startswith(prefix), left
    assert not out.exists(), "a killed export never leaves a file with the final name"
    expect(inputs.cli("export", inputs.source, "--created-at", CREATED_AT, "-o", out), 0)
    assert out.read_bytes() == inputs.export
    assert sorted(p.name for p in tmp_path.iterdir()) == ["batch.ndjson", "slow.ndjson"]


def test_gate_pre_refuses_two_outputs_on_stdout_before_reading(
    inputs: Inputs, tmp_path: Path
) -> None:
    run = inputs.cli(*_gate_pre(inputs, "-m", "-", "--leaves", tmp_path / "l"))
    only_error_line(run, "-")
    assert "stdout" in run.stderr and not (tmp_path / "l").exists()
    run = inputs.cli(*_gate_pre(inputs, "-m", "-"))
    assert "--leaves" in only_error_line(run, "-")


# --- key files: only a new regular file ------------------------------------------------------


KEY_COMMANDS = {
    "keys init": lambda key, s: ["keys", "init", key],
    "keys signer": lambda key, s: ["keys", "signer", key, "--trusted-out", s / "trusted.json"],
}


@pytest.mark.parametrize("command", sorted(KEY_COMMANDS))
@pytest.mark.parametrize("kind", ["symlink", "dangling symlink", "fifo", "device", "directory"])
def test_key_file_is_never_written_through_a_link_device_or_fifo(
    inputs: Inputs, tmp_path: Path, command: str, kind: str
) -> None:
    """Key material goes only to a new regular file: through a link it lands where
    whoever made the link chose; to a FIFO or device, whoever holds the other end
    reads it. Refused in one line, the destination untouched, nothing written."""
    key = tmp_path / "key.hex"
    target = tmp_path / "target.hex"
    if kind == "symlink":
        target.write_bytes(b"")
        key.symlink_to(target)
    elif kind == "dangling symlink":
        key.symlink_to(target)
    elif kind == "fifo":
        os.mkfifo(key)
    elif kind == "device":
        os.mknod(key, stat.S_IFCHR | 0o666, NULL_DEVICE)
    else:
        key.mkdir()
    before = key.lstat()
    only_error_line(inputs.cli(*KEY_COMMANDS[command](key, tmp_path)), key)
    after = key.lstat()
    assert (after.st_mode, after.st_rdev, after.st_ino) == (
        before.st_mode,
        before.st_rdev,
        before.st_ino,
    )
    assert not target.exists() or target.read_bytes() == b""
    assert not (tmp_path / "trusted.json").exists(), "no pin for a key that was not created"
    assert not [p for p in tmp_path.iterdir() if PARTIAL_MARK in p.name]


@pytest.mark.parametrize("command", sorted(KEY_COMMANDS))
def test_key_file_is_never_written_to_stdout(inputs: Inputs, tmp_path: Path, command: str) -> None:
    only_error_line(inputs.cli(*KEY_COMMANDS[command]("-", tmp_path), cwd=tmp_path), "-")
    assert list(tmp_path.iterdir()) == []


def test_demo_refuses_a_linked_key_file_before_writing_anything(
    inputs: Inputs, tmp_path: Path
) -> None:
    out = tmp_path / "demo"
    out.mkdir()
    (out / "umk.hex").symlink_to(tmp_path / "elsewhere.hex")
    only_error_line(inputs.cli("demo", out), out / "umk.hex")
    assert [p.name for p in out.iterdir()] == ["umk.hex"]
    assert not (tmp_path / "elsewhere.hex").exists()
