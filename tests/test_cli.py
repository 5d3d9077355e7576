"""The command line's contract with users and scripts, on NDJSON only (no servers).

What is pinned here (docs/cli.md): exit codes (CLI-3: 0 sound, 1 findings,
2 unreadable input, 3 could not verify, and zero records is never 0); the
output streams (CLI-4: stdout holds the report and nothing else, errors are
one line on stderr without a traceback); the three report formats (REP);
``--help`` of every command carries an example that parses; the keys
commands; the golden vectors; and that no run ever prints key material or
decrypted payload text (every run below is scanned, see ``e2e_cli.Cli``).

The exit-code and stream tests run the installed ``chainaudit`` in a
subprocess, exactly as a CI job would; help texts are read in-process with
click's runner (the same click code, much faster).
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shlex
import stat
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from e2e_cli import Cli, Run, Secrets, demo_secrets, expect, one_error_line, without

from chainaudit.chain.checkpoint import make_checkpoint
from chainaudit.cli import main
from chainaudit.keys.signer import load_signing_key
from chainaudit.sources.ndjson import write_export

REPO = Path(__file__).resolve().parent.parent
#: The demo's boundary-crossing lifecycle chain: its boundary is event 31.
BOUNDARY_AT = "chain:dialogue:dlg-2026-005/events@63"
DEMO_KEY_IDS = (
    "dek#dlg%2F2026%23004 Zürich#1",
    "dek#dlg-2026-001#1",
    "dek#dlg-2026-002#1",
    "dek#dlg-2026-002#2",
    "dek#dlg-2026-003#1",
    "dek#dlg-2026-005#1",
)


# --- fixtures -----------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``chainaudit demo DIR``, run once through the installed command."""
    out = tmp_path_factory.mktemp("cli") / "demo"
    # The secrets are not known before the demo exists: this one run is
    # scanned by the `cli` fixture below, which keeps it.
    run = Cli(Secrets())("demo", out)
    expect(run, 0)
    assert run.stdout == "", "demo writes files; its messages go to stderr"
    assert "wrote 659 records" in run.stderr
    _DEMO_RUNS.append(run)
    return out


_DEMO_RUNS: list[Run] = []


@pytest.fixture(scope="module")
def secrets(demo: Path) -> Secrets:
    return demo_secrets(demo)


@pytest.fixture(scope="module")
def cli(secrets: Secrets) -> Iterator[Cli]:
    """The runner every test uses; it keeps each run so the last test can audit them all."""
    runner = Cli(secrets)
    for run in _DEMO_RUNS:
        runner.check_clean(run)
        runner.runs.append(run)
    yield runner


@pytest.fixture(scope="module")
def empty_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A well-formed export (header and trailer) holding no records at all."""
    path = tmp_path_factory.mktemp("empty") / "empty.ndjson"
    write_export(path, [], source="an empty table", created_at="2026-03-02T12:00:00.000Z")
    return path


def trust(demo: Path) -> tuple[str, str]:
    return ("--trusted-keys", str(demo / "trusted-keys.json"))


# --- verify: the happy paths and the three formats ---------------------------


def test_demo_writes_secrets_with_mode_0600(demo: Path) -> None:
    for name in ("umk.hex", "signer.key"):
        assert stat.S_IMODE((demo / name).stat().st_mode) == 0o600, name
    for name in ("export.ndjson", "trusted-keys.json", "checkpoint.json"):
        assert (demo / name).is_file(), name


def test_demo_rerun_is_harmless_and_never_clobbers(cli: Cli, demo: Path, tmp_path: Path) -> None:
    """Re-running into the same directory is a no-op; a foreign file there is never replaced."""
    before = {p.name: p.read_bytes() for p in demo.iterdir()}
    expect(cli("demo", demo), 0)
    assert {p.name: p.read_bytes() for p in demo.iterdir()} == before
    other = tmp_path / "other"
    other.mkdir()
    (other / "umk.hex").write_text("not the demo's key\n")
    line = one_error_line(expect(cli("demo", other), 2))
    assert str(other / "umk.hex") in line
    assert (other / "umk.hex").read_text() == "not the demo's key\n"


def test_verify_keyless_with_pinned_signer_is_sound(cli: Cli, demo: Path) -> None:
    run = expect(cli("verify", demo / "export.ndjson", *trust(demo)), 0)
    assert run.stdout.startswith("chainaudit verify ndjson:"), run.describe()
    assert "OK (exit 0)" in run.stdout.splitlines()[0]
    # Not a terminal: no progress on stderr, and nothing else to say.
    assert run.stderr == ""


def test_verify_without_pinned_signer_reports_the_boundary_as_untrusted(
    cli: Cli, demo: Path
) -> None:
    """The demo's boundary is signed; a signature counts only under a pinned key (CHAIN-10).
    With no key pinned at all that is a missing option, not a forgery: one unverified
    finding (exit 3) that says to pass --trusted-keys. A pinned but different key keeps
    the boundary untrusted (exit 1)."""
    run = expect(cli("verify", demo / "export.ndjson", "--format", "json"), 3)
    # CHAIN_UNANCHORED: no checkpoint was given (REP-7), a notice per chain.
    assert run.codes() - {"CHAIN_UNANCHORED"} == {"SIGNATURES_UNCHECKED"}
    assert run.where("SIGNATURES_UNCHECKED") == [BOUNDARY_AT]
    assert "--trusted-keys" in run.findings("SIGNATURES_UNCHECKED")[0]["message"]


def test_verify_with_keys_and_checkpoint_json_report(cli: Cli, demo: Path) -> None:
    run = cli(
        "verify",
        demo / "export.ndjson",
        "--umk",
        demo / "umk.hex",
        *trust(demo),
        "--checkpoint",
        demo / "checkpoint.json",
        "--format",
        "json",
    )
    expect(run, 0)
    report = run.report()  # the whole of stdout is one JSON document
    assert report["version"] == 2
    assert report["verdict"] == "ok" and report["exit_code"] == 0
    assert report["mode"] == "keyed"
    assert report["command"] == "verify"
    assert report["checked"]["records"] == 659
    # Keyed: every envelope whose key was not shredded was opened.
    assert report["checked"]["decrypted"] == 122
    assert report["counts"]["error"] == 0 and report["counts"]["unverified"] == 0
    # The shredded dialogue is a notice, not a failure (KEY-6).
    by_code = {k: v for k, v in report["by_code"].items() if k != "CHAIN_UNANCHORED"}
    assert by_code == {"KEY_SHREDDED": 30}
    assert run.stderr == ""


def _audit_checkpoint(demo: Path) -> dict[str, Any]:
    """The crypto audit log's member of the demo's checkpoint bundle (CHAIN-11)."""
    bundle = json.loads((demo / "checkpoint.json").read_text())
    doc: dict[str, Any] = next(c for c in bundle if c["chain_id"] == "crypto-audit")
    return doc


def test_verify_checkpoint_with_a_bad_signature_fails(cli: Cli, demo: Path, tmp_path: Path) -> None:
    doc = _audit_checkpoint(demo)
    doc["signature"] = ("0" if doc["signature"][0] != "0" else "1") + doc["signature"][1:]
    forged = tmp_path / "forged-checkpoint.json"
    forged.write_text(json.dumps(doc))
    run = cli(
        "verify", demo / "export.ndjson", *trust(demo), "--checkpoint", forged, "--format", "json"
    )
    assert run.returncode in (1, 3), run.describe()
    assert run.report()["verdict"] != "ok"


def test_verify_checkpoint_of_a_longer_log_reports_truncation(
    cli: Cli, demo: Path, tmp_path: Path
) -> None:
    """A genuine checkpoint signed when the log had one more event: the export lost its tail."""
    doc = _audit_checkpoint(demo)
    signer = load_signing_key(demo / "signer.key")
    longer = make_checkpoint(
        signer, doc["chain_id"], doc["count"] + 1, "ab" * 32, doc["hash_alg"], doc["time"]
    )
    path = tmp_path / "longer-checkpoint.json"
    path.write_text(json.dumps(longer))
    run = cli(
        "verify", demo / "export.ndjson", *trust(demo), "--checkpoint", path, "--format", "json"
    )
    expect(run, 1)
    assert run.where("CHAIN_TRUNCATED") == [f"chain:{doc['chain_id']}@{doc['count']}"]


def test_verify_junit_report_parses(cli: Cli, demo: Path) -> None:
    run = expect(
        cli(
            "verify",
            demo / "export.ndjson",
            "--umk",
            demo / "umk.hex",
            *trust(demo),
            "--format",
            "junit",
        ),
        0,
    )
    root = ET.fromstring(run.stdout)
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert len(suites) == 1
    props = {p.get("name"): p.get("value") for p in suites[0].iter("property")}
    assert props["verdict"] == "ok" and props["exit_code"] == "0"
    cases = suites[0].findall("testcase")
    assert cases and all(c.find("failure") is None and c.find("error") is None for c in cases)
    assert root.get("failures") == "0"


def test_verify_junit_failure_names_the_code(cli: Cli, demo: Path, tmp_path: Path) -> None:
    # Pin someone else's key: the demo's boundary signer is then untrusted (an error).
    other = tmp_path / "other.json"
    expect(cli("keys", "signer", tmp_path / "other.key", "--trusted-out", other), 0)
    run = expect(
        cli("verify", demo / "export.ndjson", "--trusted-keys", other, "--format", "junit"), 1
    )
    root = ET.fromstring(run.stdout)
    failed = [c.get("name") for c in root.iter("testcase") if c.find("failure") is not None]
    assert failed == ["BOUNDARY_SIGNER_UNTRUSTED"]


def test_report_to_file_leaves_stdout_empty(cli: Cli, demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    run = expect(
        cli("verify", demo / "export.ndjson", *trust(demo), "--format", "json", "-o", out), 0
    )
    assert run.stdout == ""
    assert json.loads(out.read_text())["verdict"] == "ok"


def test_report_to_an_unwritable_path_names_that_path(cli: Cli, demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "no" / "such" / "report.json"
    line = one_error_line(expect(cli("verify", demo / "export.ndjson", *trust(demo), "-o", out), 2))
    assert str(out) in line, line


def test_text_report_names_the_address_and_what_to_do(cli: Cli, demo: Path, tmp_path: Path) -> None:
    """Damage in an export, read by a person: the verdict, the code, the address, advice.
    The wrapped DEK was committed, so its removal is an error at its key (COMMIT-6);
    the records under it are unverified."""
    gone = without(demo / "export.ndjson", tmp_path / "no-dek.ndjson", ["dek#dlg-2026-001#1"])
    run = expect(cli("verify", gone, "--umk", demo / "umk.hex", *trust(demo)), 1)
    assert run.stdout.splitlines()[0].endswith("FINDINGS (exit 1), keyed")
    assert "COMMIT_RECORD_MISSING at dek#dlg-2026-001#1" in run.stdout
    assert "KEY_MISSING" in run.stdout
    assert "KEY_MISSING at dialogue:dlg-2026-001/entity:" in run.stdout
    assert "what to do:" in run.stdout


def test_diff_of_two_exports(cli: Cli, demo: Path, tmp_path: Path) -> None:
    gone = without(demo / "export.ndjson", tmp_path / "no-dek.ndjson", ["dek#dlg-2026-001#1"])
    same, differ = cli.many(
        ("diff", demo / "export.ndjson", demo / "export.ndjson", "--format", "json"),
        ("diff", demo / "export.ndjson", gone, "--format", "json"),
    )
    assert expect(same, 0).report()["findings"] == []
    expect(differ, 1)
    assert differ.where("DIFF_ONLY_IN_A") == ["dek#dlg-2026-001#1"]
    assert {f["code"] for f in differ.report()["findings"]} == {"DIFF_ONLY_IN_A"}


def test_gates_on_exports(cli: Cli, demo: Path, tmp_path: Path) -> None:
    """The gates need no server: an export is a source and a target like any store."""
    manifest = tmp_path / "manifest.json"
    pre = cli("gate", "pre", demo / "export.ndjson", "--signing-key", demo / "signer.key",
              "--umk", demo / "umk.hex", *trust(demo), "-m", manifest, "--format", "json")  # fmt: skip
    assert expect(pre, 0).report()["verdict"] == "ok"
    assert "signed manifest written" in pre.stderr
    gone = without(demo / "export.ndjson", tmp_path / "no-dek.ndjson", ["dek#dlg-2026-001#1"])
    copy = ("--allow-unbridged", "--format", "json")
    same, lost, unbridged = cli.many(
        ("gate", "post", demo / "export.ndjson", "-m", manifest, *trust(demo), *copy),
        ("gate", "post", gone, "-m", manifest, *trust(demo), *copy),
        ("gate", "post", demo / "export.ndjson", "-m", manifest, *trust(demo), "--format", "json"),
    )
    expect(same, 0)
    expect(lost, 1)
    assert lost.where("MANIFEST_RECORD_MISSING") == ["dek#dlg-2026-001#1"]
    # A copy is not a migration: without --allow-unbridged every chain must be bridged.
    expect(unbridged, 1)
    assert len(unbridged.where("MANIFEST_CHAIN_UNBRIDGED")) == 6


@pytest.mark.parametrize("fmt", ["text", "json", "junit"])
def test_control_characters_from_data_never_reach_the_terminal(
    cli: Cli, demo: Path, tmp_path: Path, fmt: str
) -> None:
    """A sort key carrying terminal escapes (clear screen, set title) and a value forging a
    report line: every format shows them escaped, and JUnit stays well-formed XML (REP-2)."""
    lines = (demo / "export.ndjson").read_bytes().splitlines(keepends=True)
    i = next(n for n, line in enumerate(lines) if b'"sk":{"S":"ref#' in line)
    obj = json.loads(lines[i])
    obj["item"]["sk"]["S"] += "\x1b[2J\x1b]0;pwned\x07"
    obj["item"]["status"] = {"S": "ok\x1b[31m\nchainaudit verify: OK (exit 0)"}
    lines[i] = (json.dumps(obj, separators=(",", ":")) + "\n").encode()
    hostile = tmp_path / "hostile.ndjson"
    hostile.write_bytes(b"".join(lines))
    run = expect(cli("verify", hostile, *trust(demo), "--format", fmt), 1)
    for text in (run.stdout, run.stderr):
        assert "\x1b" not in text and "\x07" not in text
    if fmt == "junit":
        ET.fromstring(run.stdout)
    elif fmt == "json":
        assert any("ref#P0101" in w for w in run.where("ADDRESS_INVALID"))
    else:
        assert "OK (exit 0)" not in "\n".join(run.stdout.splitlines()[1:])


def test_export_of_one_dialogue_verifies(cli: Cli, demo: Path, tmp_path: Path) -> None:
    """The batch-migration unit: one dialogue, exported verbatim with its wrapped DEK but
    without the audit log, verifies; key history is reported as not checked (a notice)."""
    one = tmp_path / "one.ndjson"
    run = expect(cli("export", demo / "export.ndjson", "--dialogue", "dlg-2026-001", "-o", one,
                     "--created-at", "2026-03-02T12:00:00.000Z"), 0)  # fmt: skip
    assert run.stdout == "" and "exported 97 records" in run.stderr
    keyed = expect(
        cli("verify", one, "--umk", demo / "umk.hex", *trust(demo), "--format", "json"), 0
    )
    report = keyed.report()
    assert report["checked"]["decrypted"] == 30
    assert report["counts"]["error"] == 0 and report["counts"]["unverified"] == 0
    codes_ = [f["code"] for f in report["findings"] if f["code"] != "CHAIN_UNANCHORED"]
    assert codes_ == ["KEY_HISTORY_UNCHECKED"]


def test_readme_main_command_works(cli: Cli, tmp_path: Path) -> None:
    """The README's first command, as a new user pastes it (demo dir moved to a temp dir)."""
    line = next(
        ln for ln in (REPO / "README.md").read_text().splitlines() if "chainaudit demo " in ln
    )
    commands = [shlex.split(part) for part in line.split(" && ") if part.startswith("chainaudit")]
    assert [c[1] for c in commands] == ["demo", "verify"], line
    demo_dir = shlex.split(line.split("chainaudit demo ", 1)[1])[0]
    for argv in commands:
        args = [a.replace(demo_dir, str(tmp_path / "demo")) for a in argv[1:]]
        expect(cli(*args), 0)


# --- zero records is never 0 ---------------------------------------------------


@pytest.mark.parametrize("fmt", ["text", "json", "junit"])
def test_zero_records_is_unverified_in_every_format(
    cli: Cli, demo: Path, empty_export: Path, fmt: str
) -> None:
    run = expect(cli("verify", empty_export, "--format", fmt), 3)
    if fmt == "json":
        report = run.report()
        assert report["verdict"] == "unverified"
        assert report["checked"]["records"] == 0
        assert [f["code"] for f in report["findings"]] == ["NOTHING_CHECKED"]
    elif fmt == "junit":
        root = ET.fromstring(run.stdout)
        props = {p.get("name"): p.get("value") for p in root.iter("property")}
        assert props["verdict"] == "unverified"
    else:
        assert "UNVERIFIED (exit 3)" in run.stdout.splitlines()[0]


def test_zero_records_with_keys_is_unverified(cli: Cli, demo: Path, empty_export: Path) -> None:
    expect(cli("verify", empty_export, "--umk", demo / "umk.hex", *trust(demo)), 3)


def test_keys_needed_on_zero_records_is_unverified(cli: Cli, empty_export: Path) -> None:
    expect(cli("keys", "needed", empty_export), 3)


# --- unreadable input: exit 2, one line naming file (and line) -----------------


def test_nonexistent_path_is_one_line_naming_it(cli: Cli, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-export.ndjson"
    line = one_error_line(expect(cli("verify", missing), 2))
    assert str(missing) in line


@pytest.mark.parametrize(
    "args",
    [
        ("keys", "needed", "{missing}"),
        ("export", "{missing}", "-o", "{out}"),
        ("diff", "{missing}", "{export}"),
        ("gate", "pre", "{missing}", "--signing-key", "{signer}", "-m", "{out}"),
    ],
    ids=["keys-needed", "export", "diff", "gate-pre"],
)
def test_nonexistent_path_in_other_commands(
    cli: Cli, demo: Path, tmp_path: Path, args: tuple[str, ...]
) -> None:
    missing = tmp_path / "absent.ndjson"
    values = {
        "missing": str(missing),
        "out": str(tmp_path / "out.json"),
        "export": str(demo / "export.ndjson"),
        "signer": str(demo / "signer.key"),
    }
    line = one_error_line(expect(cli(*(a.format(**values) for a in args)), 2))
    assert str(missing) in line
    assert not (tmp_path / "out.json").exists()


def test_malformed_line_names_file_and_line(cli: Cli, demo: Path, tmp_path: Path) -> None:
    lines = (demo / "export.ndjson").read_bytes().splitlines(keepends=True)
    bad = tmp_path / "malformed.ndjson"
    bad.write_bytes(b"".join([*lines[:5], b'{"kind": "entity", "item": {\n', *lines[5:]]))
    line = one_error_line(expect(cli("verify", bad), 2))
    assert f"{bad}:6" in line, line


def test_truncated_gzip_names_the_file(cli: Cli, demo: Path, tmp_path: Path) -> None:
    whole = gzip.compress((demo / "export.ndjson").read_bytes(), mtime=0)
    cut = tmp_path / "cut.ndjson.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    line = one_error_line(expect(cli("verify", cut), 2))
    assert re.search(re.escape(str(cut)) + r":\d+", line), line


def test_checkpoint_that_is_not_json_names_the_file(cli: Cli, demo: Path, tmp_path: Path) -> None:
    bad = tmp_path / "checkpoint.json"
    bad.write_text("{\n")
    line = one_error_line(expect(cli("verify", demo / "export.ndjson", "--checkpoint", bad), 2))
    assert str(bad) in line


def test_umk_file_readable_by_others_is_refused(cli: Cli, demo: Path, tmp_path: Path) -> None:
    exposed = tmp_path / "umk.hex"
    exposed.write_bytes((demo / "umk.hex").read_bytes())
    exposed.chmod(0o644)
    run = cli("verify", demo / "export.ndjson", "--umk", exposed, *trust(demo))
    assert run.returncode not in (0, 1), run.describe()
    assert "chmod 600" in one_error_line(run)


def test_malformed_umk_file_is_refused_without_echoing_it(
    cli: Cli, demo: Path, tmp_path: Path
) -> None:
    umk_hex = (demo / "umk.hex").read_text().strip()
    short = tmp_path / "short.hex"
    short.write_text(umk_hex[:-1] + "\n")
    short.chmod(0o600)
    run = cli("verify", demo / "export.ndjson", "--umk", short)
    assert run.returncode not in (0, 1), run.describe()
    one_error_line(run)
    # 63 of the 64 digits are the real key: none of it may be echoed.
    assert umk_hex[:16] not in run.stderr + run.stdout


def test_wrong_umk_is_a_finding_not_a_leak(cli: Cli, demo: Path, tmp_path: Path) -> None:
    other = tmp_path / "other-umk.hex"
    expect(cli("keys", "init", other), 0)
    run = expect(
        cli("verify", demo / "export.ndjson", "--umk", other, *trust(demo), "--format", "json"), 3
    )
    # One finding naming the UMK's fingerprint, not 122 records that look tampered.
    by_code = {k: v for k, v in run.report()["by_code"].items() if k != "CHAIN_UNANCHORED"}
    assert by_code == {"UMK_MISMATCH": 1}
    assert run.findings("UMK_MISMATCH")[0]["extra"]["keys"] == 5
    assert other.read_text().strip() not in run.stdout + run.stderr


# --- --help: every command, with a working example -----------------------------


def _commands(
    group: click.Group, prefix: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    yield prefix, group
    for name in sorted(group.commands):
        cmd = group.commands[name]
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, (*prefix, name))
        else:
            yield (*prefix, name), cmd


ALL_COMMANDS = list(_commands(main))


def _help_cases() -> Iterator[object]:
    for path, _cmd in ALL_COMMANDS:
        yield pytest.param(path, id=" ".join(path) or "chainaudit")


def test_every_command_is_covered() -> None:
    names = {" ".join(p) for p, _ in ALL_COMMANDS}
    for expected in ("verify", "export", "import", "gate pre", "gate post", "diff", "prove",
                     "verify-proof", "keys init", "keys signer", "keys needed",
                     "vectors verify", "vectors generate", "demo"):  # fmt: skip
        assert expected in names


@pytest.mark.parametrize("path", list(_help_cases()))
def test_help_exits_0_and_shows_an_example(path: tuple[str, ...], secrets: Secrets) -> None:
    result = CliRunner().invoke(main, [*path, "--help"], prog_name="chainaudit")
    assert result.exit_code == 0, result.output
    assert not secrets.leaks(result.output)
    assert "Example" in result.output, result.output


def _examples(help_text: str) -> list[list[str]]:
    """Every ``chainaudit ...`` line under the help's Example heading, continuations joined."""
    out: list[list[str]] = []
    _, _, tail = help_text.partition("Example")
    pending = ""
    for raw in tail.splitlines():
        line = raw.strip()
        if pending:
            line = pending + " " + line
            pending = ""
        if line.endswith("\\"):
            pending = line[:-1].strip()
            continue
        # A line may chain commands (`my-impl ... && chainaudit vectors compare ...`).
        for part in line.split(" && "):
            if part.strip().startswith("chainaudit "):
                out.append(shlex.split(part)[1:])
    return out


def _parse_only(args: list[str]) -> None:
    """Resolve ``args`` to a command and parse its options, without running it."""
    cmd: click.Command = main
    ctx = main.make_context("chainaudit", list(args), resilient_parsing=True)
    rest = list(args)
    while isinstance(cmd, click.Group) and rest:
        name, sub, rest = cmd.resolve_command(ctx, rest)
        assert sub is not None, f"unknown command {name!r}"
        cmd = sub
        ctx = cmd.make_context(name or "", list(rest), parent=ctx, resilient_parsing=True)
    try:
        cmd.make_context(cmd.name or "", list(rest), parent=ctx.parent)
    except click.BadParameter as exc:
        # The example's files need not exist where the test runs.
        assert "does not exist" in str(exc), str(exc)


@pytest.mark.parametrize(
    "path",
    [pytest.param(p, id=" ".join(p)) for p, c in ALL_COMMANDS if not isinstance(c, click.Group)],
)
def test_help_examples_parse(path: tuple[str, ...]) -> None:
    """Each example names a real command and only options that exist, with valid values."""
    result = CliRunner().invoke(main, [*path, "--help"], prog_name="chainaudit", terminal_width=200)
    examples = _examples(result.output)
    assert examples, result.output
    for args in examples:
        _parse_only(args)


# --- keys -------------------------------------------------------------------------


def test_keys_init_creates_0600_and_never_overwrites(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "umk.hex"
    run = expect(cli("keys", "init", path), 0)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    material = path.read_text().strip()
    assert re.fullmatch(r"[0-9a-f]{64}", material)
    assert run.stdout == ""
    assert material not in run.stderr and material.upper() not in run.stderr
    again = cli("keys", "init", path)
    assert again.returncode != 0, again.describe()
    assert "overwrite" in one_error_line(again)
    assert path.read_text().strip() == material


def test_keys_init_is_0600_under_a_permissive_umask(cli: Cli, tmp_path: Path) -> None:
    """0600 whatever the umask: a permissive umask must not widen the new file."""
    path = tmp_path / "umk.hex"
    env_cli = Cli(cli.secrets)
    old = os.umask(0)
    try:
        expect(env_cli("keys", "init", path), 0)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_keys_signer_writes_key_and_trusted_file(cli: Cli, tmp_path: Path) -> None:
    key = tmp_path / "migration.key"
    trusted = tmp_path / "trusted-keys.json"
    expect(cli("keys", "signer", key, "--trusted-out", trusted), 0)
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    json.loads(trusted.read_text())
    seed = key.read_text().strip()
    assert seed not in cli.runs[-1].stdout + cli.runs[-1].stderr


def _status_lines(run: Run) -> dict[str, str]:
    out = {}
    for line in run.stdout.splitlines()[1:]:
        key_id = next((k for k in DEMO_KEY_IDS if line.startswith(k + " ")), None)
        assert key_id is not None, line
        out[key_id] = line[len(key_id) :].split(None, 1)[1]
    return out


def test_keys_needed_with_umk_lists_every_key(cli: Cli, demo: Path) -> None:
    run = expect(cli("keys", "needed", demo / "export.ndjson", "--umk", demo / "umk.hex"), 0)
    status = _status_lines(run)
    assert sorted(status) == sorted(DEMO_KEY_IDS)
    assert status["dek#dlg-2026-003#1"].startswith("destroyed")
    assert all(s.startswith("opens") for k, s in status.items() if k != "dek#dlg-2026-003#1")


def test_keys_needed_keyless_says_present(cli: Cli, demo: Path) -> None:
    run = expect(cli("keys", "needed", demo / "export.ndjson"), 0)
    status = _status_lines(run)
    assert sorted(status) == sorted(DEMO_KEY_IDS)
    assert status["dek#dlg-2026-001#1"].startswith("present")


@pytest.mark.parametrize("with_umk", [True, False], ids=["umk", "keyless"])
def test_keys_needed_exit_3_when_a_wrapped_dek_is_gone(
    cli: Cli, demo: Path, tmp_path: Path, with_umk: bool
) -> None:
    gone = without(demo / "export.ndjson", tmp_path / "no-dek.ndjson", ["dek#dlg-2026-001#1"])
    umk = ("--umk", str(demo / "umk.hex")) if with_umk else ()
    run = expect(cli("keys", "needed", gone, *umk), 3)
    status = _status_lines(run)
    assert status["dek#dlg-2026-001#1"].startswith("missing")
    assert all(not s.startswith("missing") for k, s in status.items() if k != "dek#dlg-2026-001#1")


def test_verify_with_umk_reports_the_missing_key(cli: Cli, demo: Path, tmp_path: Path) -> None:
    gone = without(demo / "export.ndjson", tmp_path / "no-dek.ndjson", ["dek#dlg-2026-001#1"])
    run = expect(
        cli("verify", gone, "--umk", demo / "umk.hex", *trust(demo), "--format", "json"), 1
    )
    assert run.where("COMMIT_RECORD_MISSING") == ["dek#dlg-2026-001#1"]
    where = run.where("KEY_MISSING")
    assert where and all(w.startswith("dialogue:dlg-2026-001/") for w in where)


# --- golden vectors -------------------------------------------------------------


def test_vectors_verify_committed_tree(cli: Cli) -> None:
    run = cli("vectors", "verify", "vectors/", cwd=REPO, timeout=300)
    last = run.stdout.strip().splitlines()[-1]
    m = re.fullmatch(r"(\d+) passed, 0 failed", last)
    assert m and int(m.group(1)) > 100, run.describe()
    expect(run, 0)


# --- the last word: nothing secret in anything printed --------------------------


def test_secret_scanner_catches_a_planted_secret(secrets: Secrets, demo: Path) -> None:
    umk_hex = (demo / "umk.hex").read_text().strip()
    assert secrets.leaks(f"oops {umk_hex}") == ["UMK (hex)"]
    assert secrets.leaks(f"OOPS {umk_hex.upper()}") == ["UMK (HEX)"]
    assert secrets.leaks("nothing to see here") == []


def test_zz_no_key_material_in_any_output(cli: Cli) -> None:
    """Every run of this module was scanned as it ran; check the whole set once more.

    Named to run last in file order, so it sees the runs of every test above.
    """
    assert cli.runs, "the demo run at least"
    for run in cli.runs:
        cli.check_clean(run)
