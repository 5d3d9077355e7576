"""The conventions users already know (issue: the auditor's experience).

Through the installed command: ``-V``; ``-`` reads an export on stdin;
several sources are one dataset whose order does not matter (nonce reuse
across files); every option defaults from ``CHAINAUDIT_<COMMAND>_<OPTION>``;
PostgreSQL errors name the host and port libpq actually tried; a report
header names the tool, the inputs' digests, the UMK's fingerprint (never the
key), the pinned keys and checkpoints; repeated findings are grouped and
``--max-findings`` bounds the list.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

from e2e_cli import Cli, expect, key_args, without

from chainaudit import __version__
from chainaudit.findings import Finding
from chainaudit.records.digest import record_key
from chainaudit.records.model import EntityRecord
from chainaudit.sources.ndjson import NdjsonSource, write_export


def _stable(report: dict[str, object]) -> tuple[object, ...]:
    """What must not depend on how the input reached the tool."""
    findings = [
        {k: v for k, v in f.items() if k != "source"}  # type: ignore[union-attr]
        for f in report["findings"]  # type: ignore[union-attr]
    ]
    return report["exit_code"], report["checked"], report["by_code"], findings


def test_version_short_flag(cli: Cli) -> None:
    run = expect(cli("-V"), 0)
    assert __version__ in run.stdout


def test_stdin_is_an_export(cli: Cli, demo: Path) -> None:
    export = demo / "export.ndjson"
    from_file = cli("verify", export, *key_args(demo), "--format", "json")
    proc = subprocess.run(
        ["chainaudit", "verify", "-", *key_args(demo), "--format", "json"],
        input=export.read_bytes(),
        capture_output=True,
        env=cli.env,
        check=False,
        timeout=120,
    )

    piped = json.loads(proc.stdout)
    assert proc.returncode == from_file.returncode, proc.stderr
    assert piped["subject"] == "ndjson:-"
    assert _stable(piped)[2:] == _stable(from_file.report())[2:]
    # The digest in the header is the digest of what came through the pipe.
    digest = hashlib.sha256(export.read_bytes()).hexdigest()
    assert piped["provenance"]["inputs"] == [{"name": "ndjson:-", "sha256": digest}]


def test_findings_on_stdin_name_its_lines_not_the_private_copy(cli: Cli, demo: Path) -> None:
    """Standard input is read from a temporary copy that is gone when the
    report is read: a finding about one of its lines says ``-:LINE``."""
    lines = (demo / "export.ndjson").read_bytes().splitlines(keepends=True)
    damaged = b"".join([*lines[:3], lines[2], *lines[3:]])  # record line 3 twice
    proc = subprocess.run(
        ["chainaudit", "verify", "-", "--format", "json"],
        input=damaged, capture_output=True, env=cli.env, check=False, timeout=120,
    )  # fmt: skip
    report = json.loads(proc.stdout)
    assert proc.returncode == 1, proc.stderr
    duplicate = [f for f in report["findings"] if f["code"] == "EXPORT_DUPLICATE_KEY"]
    assert [(f["where"], f["source"]) for f in duplicate] == [("-:4", "-:4")]
    assert b"chainaudit-stdin" not in proc.stdout


def _split(demo: Path, tmp: Path) -> tuple[Path, Path, Path]:
    """Two exports holding disjoint dialogues, and a copy of the second with one
    record of the first written again at another address (same key, same nonce)."""
    items = [i for i in NdjsonSource(demo / "export.ndjson").read() if not isinstance(i, Finding)]
    ones = [i for i in items if "dlg-2026-001" in record_key(i)]
    others = [i for i in items if "dlg-2026-001" not in record_key(i)]
    a = write_path(tmp / "a.ndjson", ones)
    b = write_path(tmp / "b.ndjson", others)
    sealed = next(
        i for i in ones if isinstance(i, EntityRecord) and i.envelope is not None
    )
    from dataclasses import replace

    from chainaudit.records.address import Address

    parts = sealed.address.parts
    moved = Address(sealed.address.dialogue, sealed.address.entity_type, (*parts[:-1], "99"))
    c = write_path(tmp / "c.ndjson", [*others, replace(sealed, address=moved)])
    return a, b, c


def write_path(path: Path, records: list[object]) -> Path:
    write_export(path, records, source="test", created_at="2026-03-02T12:00:00.000Z")  # type: ignore[arg-type]
    return path


def test_several_sources_are_one_dataset_in_any_order(
    cli: Cli, demo: Path, tmp_path: Path
) -> None:
    a, b, c = _split(demo, tmp_path)
    ab = cli("verify", a, b, *key_args(demo), "--format", "json")
    ba = cli("verify", b, a, *key_args(demo), "--format", "json")
    assert _stable(ab.report()) == _stable(ba.report())
    assert ab.report()["subject"] == ba.report()["subject"]
    whole = cli("verify", demo / "export.ndjson", *key_args(demo), "--format", "json")
    assert ab.report()["checked"] == whole.report()["checked"]
    # A nonce reused across two files is seen only when they are checked together.
    alone = cli("verify", c, *key_args(demo), "--format", "json")
    together = cli("verify", a, c, *key_args(demo), "--format", "json")
    assert "NONCE_REUSE" not in alone.codes()
    assert "NONCE_REUSE" in together.codes()
    swapped = cli("verify", c, a, *key_args(demo), "--format", "json")
    assert _stable(swapped.report()) == _stable(together.report())


def test_environment_defaults_for_options(cli: Cli, demo: Path) -> None:
    env = {
        **cli.env,
        "CHAINAUDIT_VERIFY_UMK": str(demo / "umk.hex"),
        "CHAINAUDIT_VERIFY_TRUSTED_KEYS": str(demo / "trusted-keys.json"),
        "CHAINAUDIT_VERIFY_FORMAT": "json",
    }
    proc = subprocess.run(
        ["chainaudit", "verify", str(demo / "export.ndjson")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )

    doc = json.loads(proc.stdout)
    assert doc["mode"] == "keyed", proc.stderr
    help_text = expect(cli("verify", "--help"), 0).stdout
    assert "CHAINAUDIT_VERIFY_UMK" in help_text


def test_postgres_errors_name_the_effective_host_and_port(cli: Cli) -> None:
    env = {**os.environ, "PGHOST": "127.0.0.1", "PGPORT": "1", "PGDATABASE": "audit"}
    proc = subprocess.run(
        ["chainaudit", "verify", "postgresql://", "--connect-timeout", "2"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 3, proc.stderr
    assert "postgresql://127.0.0.1:1/audit" in proc.stderr
    assert len(proc.stderr.splitlines()) == 1


def test_report_header_and_grouped_findings(cli: Cli, demo: Path, tmp_path: Path) -> None:
    gone = without(demo / "export.ndjson", tmp_path / "no-dek.ndjson", ["dek#dlg-2026-001#1"])
    args = ("verify", gone, *key_args(demo), "--checkpoint", demo / "checkpoint.json")
    text = cli(*args).stdout
    digest = hashlib.sha256(gone.read_bytes()).hexdigest()
    assert f"sha256:{digest}" in text
    assert "umk          fingerprint " in text
    assert "checkpoints  " in text and "checkpoint.json" in text
    assert (demo / "umk.hex").read_text().strip() not in text
    # Every record under the missing key says the same: one group, counted.
    assert "KEY_MISSING at dialogue:dlg-2026-001/" in text
    assert "more like it)" in text
    one = cli(*args, "--max-findings", "1").stdout
    assert "First 1 of " in one
    js = cli(*args, "--format", "json", "--max-findings", "2").report()
    assert len(js["findings"]) == 2 and js["findings_truncated"] is True
    assert js["findings_total"] > 2
    assert js["provenance"]["umk_fingerprint"] and js["provenance"]["pinned"]


def test_export_reports_as_verify_does(cli: Cli, demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "copy.ndjson"
    args = ("export", demo / "export.ndjson", "-o", out, "--created-at", "2026-03-02T12:00:00Z")
    text = expect(cli(*args), 0)
    assert text.stdout == "" and "exported " in text.stderr and "{" not in text.stderr
    assert expect(cli(*args, "-q"), 0).stderr == ""
    doc = json.loads(expect(cli(*args, "--format", "json"), 0).stdout)
    assert doc["type"] == "chainaudit/export-summary" and doc["records"] == sum(
        doc["counts"].values()
    )
    whole = cli("verify", demo / "export.ndjson", "--format", "json").report()
    assert doc["records"] == whole["checked"]["records"]
    clash = expect(cli("export", demo / "export.ndjson", "-o", "-", "--format", "json"), 2)
    assert "stdout" in clash.stderr and len(clash.stderr.splitlines()) == 1


def test_import_reports_as_verify_does(cli: Cli, demo: Path, pg_server_dsn: str) -> None:
    from e2e_stores import pg_schema

    with pg_schema(pg_server_dsn) as url:
        _import_twice(cli, demo, url)


def _import_twice(cli: Cli, demo: Path, url: str) -> None:
    args = ("import", demo / "export.ndjson", url, "--create")
    first = json.loads(expect(cli(*args, "--format", "json"), 0).stdout)
    assert first["type"] == "chainaudit/import-summary" and first["written"] > 0
    assert first["exit_code"] == 0 and first["findings"] == [] and not first["refused"]
    again = expect(cli(*args, "-q"), 0)
    assert again.stderr == "" and again.stdout == ""
    second = json.loads(expect(cli(*args, "--format", "json"), 0).stdout)
    assert second["written"] == 0 and second["unchanged"] == first["written"]
