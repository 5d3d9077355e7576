"""The migration story end to end, on the real servers, through the installed command.

A user seeds DynamoDB from the demo export, gates it (``gate pre``: verify,
then sign a manifest), exports it, imports the batch into PostgreSQL with a
signed boundary for every chain, and gates the target (``gate post``). That
story runs once per module (``story``); each tampering test then gets its own
schema or table holding a copy of the migrated data, changes it the way an
attacker, a bug or a careless operator would (SQL or DynamoDB calls, past
the append-only triggers where needed), and asserts that *the command a user
would run* fails with the documented exit code (docs/cli.md, CLI-3) and a
finding whose ``code`` and ``where`` name the exact record or chain position
(read from ``--format json``, REP-3).

Needs the servers: ``bash scripts/services.sh python3 -m pytest tests/test_e2e.py``.
Every run's output is scanned for key material (``e2e_cli.Cli``).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from e2e_cli import Cli, Run, Secrets, demo_secrets, expect, one_error_line
from e2e_stores import (
    AWS_ENV,
    REGION,
    audit_events,
    copy_pg,
    ddb_count,
    ddb_delete,
    ddb_move_envelope,
    ddb_table,
    delete_audit_events,
    delete_entity,
    fill_ddb,
    fill_pg,
    flip_ciphertext_bit,
    flip_wrapped_key_bit,
    insert_ref,
    lifecycle_boundary,
    move_envelope,
    pg_count,
    pg_fingerprint,
    pg_schema,
    records_of,
    reseal,
    rewrite_audit_event,
    rewrite_lifecycle_event,
    set_cleartext,
)

from chainaudit.keys.signer import create_signing_key
from chainaudit.keys.signing import key_id
from chainaudit.records.address import Address
from chainaudit.records.model import EntityRecord
from chainaudit.sources.ndjson import NdjsonSource

pytestmark = [pytest.mark.postgres, pytest.mark.dynamodb]

AUDIT_CHAIN = "crypto-audit"
#: Records of the demo export: 315 entities, 6 wrapped DEKs, 166 audit events.
DEMO_RECORDS = 659
#: Chains the import bridges: the audit log and five lifecycle chains.
CHAINS = 6
A = Address.parse("dialogue:dlg-2026-001/entity:perspective/01#01")
B = Address.parse("dialogue:dlg-2026-001/entity:perspective/01#02")


@dataclass
class Story:
    """What the migration story left behind, for the tampering tests to start from."""

    dir: Path
    table: str
    target: str  # postgresql:// URL of the migrated schema
    endpoint: str
    runs: dict[str, Run] = field(default_factory=dict)
    fingerprints: dict[str, str] = field(default_factory=dict)

    @property
    def demo(self) -> Path:
        return self.dir / "demo"

    @property
    def manifest(self) -> Path:
        return self.dir / "manifest.json"

    @property
    def batch(self) -> Path:
        return self.dir / "batch.ndjson"

    def ddb(self) -> tuple[str, ...]:
        return ("--endpoint-url", self.endpoint, "--region", REGION)

    def trust(self) -> tuple[str, ...]:
        return ("--trusted-keys", str(self.demo / "trusted-keys.json"))

    def umk(self) -> tuple[str, ...]:
        return ("--umk", str(self.demo / "umk.hex"))


# --- the story, once per module ----------------------------------------------


@pytest.fixture(scope="module")
def story(
    tmp_path_factory: pytest.TempPathFactory, pg_server_dsn: str, dynamodb_endpoint: str
) -> Iterator[tuple[Story, Cli]]:
    """Run the whole migration as a user does; each step must succeed for any test to start."""
    root = tmp_path_factory.mktemp("story")
    # The secrets are unknown until the demo exists: its run is scanned right after.
    demo_run = expect(Cli(Secrets(), env=AWS_ENV)("demo", root / "demo"), 0)
    cli = Cli(demo_secrets(root / "demo"), env=AWS_ENV)
    cli.check_clean(demo_run)
    with ddb_table(dynamodb_endpoint) as table, pg_schema(pg_server_dsn) as target:
        s = Story(root, table, target, dynamodb_endpoint)
        src = f"dynamodb://{table}"
        signer = str(s.demo / "signer.key")
        s.runs["seed"] = expect(
            cli("import", s.demo / "export.ndjson", src, "--create", *s.ddb()), 0
        )
        # Independent reads of the source, run side by side. The gate verifies the
        # source fully (with keys, so every envelope is opened) before it signs.
        reads = {
            "gate pre": ("gate", "pre", src, *s.ddb(), "--signing-key", signer, *s.trust(),
                         *s.umk(), "-m", str(s.manifest), "--format", "json"),
            "export": ("export", src, *s.ddb(), "-o", str(s.batch)),
        }  # fmt: skip
        for name, run in zip(reads, cli.many(*reads.values()), strict=True):
            s.runs[name] = expect(run, 0)
        import_args = ("import", str(s.batch), target, "--create", "--boundary-key", signer,
                       "--manifest", str(s.manifest))  # fmt: skip
        s.runs["import"] = expect(cli(*import_args), 0)
        s.fingerprints["after import"] = pg_fingerprint(target)
        s.runs["gate post"] = expect(cli(*gate_args(s, target), *s.umk()), 0)
        s.runs["re-import"] = expect(cli(*import_args), 0)
        s.fingerprints["after re-import"] = pg_fingerprint(target)
        yield s, cli


@pytest.fixture()
def target(story: tuple[Story, Cli], pg_server_dsn: str) -> Iterator[str]:
    """A fresh schema holding a copy of the migrated target (boundaries included)."""
    s, _ = story
    with pg_schema(pg_server_dsn) as url:
        copy_pg(s.target, url)
        yield url


def gate_args(s: Story, url: str) -> tuple[str, ...]:
    return ("gate", "post", url, "-m", str(s.manifest), *s.trust(), "--format", "json")


def gate_post(s: Story, cli: Cli, url: str) -> Run:
    return cli(*gate_args(s, url))


def errors(run: Run) -> set[str]:
    return {f["code"] for f in run.report()["findings"] if f["severity"] == "error"}


# --- 1. the story passes ----------------------------------------------------------


def test_story_source_verifies_and_gate_pre_signs(story: tuple[Story, Cli]) -> None:
    s, _ = story
    report = s.runs["gate pre"].report()
    assert report["verdict"] == "ok" and report["checked"]["records"] == DEMO_RECORDS
    assert report["checked"]["decrypted"] == 122
    manifest = json.loads(s.manifest.read_text())
    pinned = json.loads((s.demo / "trusted-keys.json").read_text())["keys"]
    # the first pinned key is the migration signer; the second the erasure authority
    assert manifest["signer_key_id"] == key_id(bytes.fromhex(pinned[0])) and len(pinned) == 2
    assert len(manifest["signature"]) == 128
    assert Path(str(s.manifest) + ".leaves").is_file()


def test_story_export_and_import_move_every_record(story: tuple[Story, Cli]) -> None:
    s, _ = story
    assert f"exported {DEMO_RECORDS} records" in s.runs["export"].stderr
    assert s.runs["export"].stdout == ""
    imported = s.runs["import"].stderr
    assert f"{DEMO_RECORDS} written, 0 unchanged, 0 conflicts, {CHAINS} chains bridged" in imported
    # Every record plus one boundary per chain (the audit log's in audit_events).
    assert (
        pg_count(s.target, "entities")
        + pg_count(s.target, "wrapped_deks")
        + pg_count(s.target, "audit_events")
        == DEMO_RECORDS + CHAINS
    )


def test_story_gate_post_passes(story: tuple[Story, Cli]) -> None:
    s, _ = story
    report = s.runs["gate post"].report()
    assert report["verdict"] == "ok" and report["exit_code"] == 0
    assert report["by_code"] == {"KEY_SHREDDED": 30, "MANIFEST_CHAIN_BRIDGED": CHAINS}
    assert report["checked"]["records"] == DEMO_RECORDS + CHAINS


def test_story_reimport_changes_nothing(story: tuple[Story, Cli]) -> None:
    s, _ = story
    assert "0 written, 659 unchanged, 0 conflicts" in s.runs["re-import"].stderr
    assert s.fingerprints["after re-import"] == s.fingerprints["after import"]


def test_reimport_with_a_new_boundary_time_does_not_fork_chains(
    story: tuple[Story, Cli], target: str
) -> None:
    s, cli = story
    """A re-run gate pre (new manifest time) or another --boundary-time must not append a
    second boundary to chains that are already bridged: in an append-only store a fork
    could never be repaired."""
    before = pg_fingerprint(target)
    again = cli("import", s.batch, target, "--boundary-key", s.demo / "signer.key",
                "--boundary-time", "2030-01-01T00:00:00.000Z")  # fmt: skip
    expect(again, 0)
    assert "0 chains bridged, 6 already continued" in again.stderr
    assert pg_fingerprint(target) == before
    run = expect(cli("verify", target, *s.trust(), "--format", "json"), 0)
    assert "CHAIN_FORK" not in run.codes()


# --- 2. each tampering class: the right command, code, exit and address --------


def test_changed_byte_in_a_ciphertext(story: tuple[Story, Cli], target: str) -> None:
    s, cli = story
    flip_ciphertext_bit(target, A)
    keyed, gated = cli.many(
        ("verify", target, *s.umk(), *s.trust(), "--format", "json"), gate_args(s, target)
    )
    expect(keyed, 1)
    assert keyed.where("AUTHENTICATION_FAILED") == [str(A)]
    # The record no longer matches its commitment either (COMMIT-6), keyless too.
    assert keyed.where("COMMIT_MISMATCH") == [str(A)]
    assert errors(keyed) == {"AUTHENTICATION_FAILED", "COMMIT_MISMATCH"}
    expect(gated, 1)
    assert gated.where("MANIFEST_RECORD_CHANGED") == [str(A)]
    assert errors(gated) == {"MANIFEST_RECORD_CHANGED", "MANIFEST_ROOT_MISMATCH", "COMMIT_MISMATCH"}


def test_changed_byte_in_a_wrapped_dek(story: tuple[Story, Cli], target: str) -> None:
    """One bit of dlg-2026-001's wrapped DEK: none of its 30 envelopes can be opened, and
    the gate names the DEK record itself."""
    s, cli = story
    flip_wrapped_key_bit(target, "dlg-2026-001", 1)
    keyed, gated = cli.many(
        ("verify", target, *s.umk(), *s.trust(), "--format", "json"), gate_args(s, target)
    )
    expect(keyed, 1)
    where = keyed.where("KEY_UNWRAP_FAILED")
    # Once at the DEK record itself, then at each of its 30 envelopes.
    assert where[0] == "dek#dlg-2026-001#1"
    assert len(where) == 31 and all(w.startswith("dialogue:dlg-2026-001/entity:") for w in where[1:])
    assert keyed.where("COMMIT_MISMATCH") == ["dek#dlg-2026-001#1"]  # COMMIT-6
    assert errors(keyed) == {"KEY_UNWRAP_FAILED", "COMMIT_MISMATCH"}
    expect(gated, 1)
    assert gated.where("MANIFEST_RECORD_CHANGED") == ["dek#dlg-2026-001#1"]


def test_changed_cleartext_attribute(story: tuple[Story, Cli], target: str) -> None:
    """Cleartext attributes (status, scores) are outside the envelope by design; the
    record's commitment (COMMIT-6) and the gate's manifest notice an edit to them."""
    s, cli = story
    meta = Address.parse("dialogue:dlg-2026-002/entity:meta")
    set_cleartext(target, meta, "status", "closed")
    keyed, gated = cli.many(
        ("verify", target, *s.umk(), *s.trust(), "--format", "json"), gate_args(s, target)
    )
    expect(keyed, 1)
    assert keyed.where("COMMIT_MISMATCH") == [str(meta)] and errors(keyed) == {"COMMIT_MISMATCH"}
    expect(gated, 1)
    assert gated.where("MANIFEST_RECORD_CHANGED") == [str(meta)]


def test_deleted_record(story: tuple[Story, Cli], target: str) -> None:
    s, cli = story
    delete_entity(target, A)
    gated = expect(gate_post(s, cli, target), 1)
    assert gated.where("MANIFEST_RECORD_MISSING") == [str(A)]
    assert sorted(gated.where("MANIFEST_COUNT_MISMATCH")) == ["dialogue:dlg-2026-001", "totals"]


def test_deleted_tail_of_the_audit_log(story: tuple[Story, Cli], target: str) -> None:
    """The last source event and the boundary after it deleted (as a superuser can): the
    chain itself still links, so only a checkpoint or the manifest can tell (CHAIN-7)."""
    s, cli = story
    events = audit_events(target, AUDIT_CHAIN)
    last = events[-2]
    assert last["seq"] == 167 and events[-1]["event_kind"] == "migration_boundary"
    delete_audit_events(target, AUDIT_CHAIN, [e["event_id"] for e in events[-2:]])
    checkpoint = str(s.demo / "checkpoint.json")
    plain, checked, gated = cli.many(
        ("verify", target, *s.trust(), "--format", "json"),
        ("verify", target, *s.trust(), "--checkpoint", checkpoint, "--format", "json"),
        gate_args(s, target),
    )
    expect(plain, 0)
    expect(checked, 1)
    assert checked.where("CHAIN_TRUNCATED") == [f"chain:{AUDIT_CHAIN}@167"]
    expect(gated, 1)
    assert gated.where("MANIFEST_RECORD_MISSING") == [f"audit:{AUDIT_CHAIN}/{last['event_id']}"]


def test_moved_ciphertext(story: tuple[Story, Cli], target: str) -> None:
    """A's envelope copied onto B: keyless the stored aad_hash is wrong for B; with keys
    the tag verifies under A's address, so the verifier can say where it came from."""
    s, cli = story
    move_envelope(target, A, B)
    keyless, keyed = cli.many(
        ("verify", target, *s.trust(), "--format", "json"),
        ("verify", target, *s.umk(), *s.trust(), "--format", "json"),
    )
    expect(keyless, 1)
    assert keyless.where("AAD_HASH_MISMATCH") == [str(B)]
    # The copy also repeats A's nonce under the same key.
    assert keyless.where("NONCE_REUSE") == [str(B)]
    expect(keyed, 1)
    assert keyed.where("ADDRESS_MOVED") == [str(B)]
    assert "AUTHENTICATION_FAILED" not in keyed.codes()


def test_reordered_events_in_a_store(story: tuple[Story, Cli], target: str) -> None:
    """A store returns a chain in key order (``event_id``), so reordering two stored events
    means swapping their ids: the verifier sees neighbours in swapped order (CHAIN-7 step 2)
    and, since the id is hashed, both edited events."""
    s, cli = story
    events = audit_events(target, AUDIT_CHAIN)
    first, second = events[40], events[41]
    assert (first["seq"], second["seq"]) == (40, 41)
    parked = "00000000-0000-7000-8000-000000000000"
    rewrite_audit_event(target, AUDIT_CHAIN, first["event_id"], {**first, "event_id": parked})
    rewrite_audit_event(
        target, AUDIT_CHAIN, second["event_id"], {**second, "event_id": first["event_id"]}
    )
    rewrite_audit_event(target, AUDIT_CHAIN, parked, {**first, "event_id": second["event_id"]})
    run, parallel = cli.many(
        ("verify", target, *s.trust(), "--format", "json"),
        ("verify", target, *s.trust(), "--workers", "2", "--format", "json"),
    )
    expect(run, 1)
    assert run.where("CHAIN_OUT_OF_ORDER") == [f"chain:{AUDIT_CHAIN}@40"]
    # Chains split across worker processes report exactly what one process does (CHAIN-8).
    assert parallel.report()["findings"] == run.report()["findings"]
    assert sorted(run.where("EVENT_HASH_MISMATCH")) == [
        f"chain:{AUDIT_CHAIN}@40",
        f"chain:{AUDIT_CHAIN}@41",
    ]


def test_reordered_lines_in_an_export(story: tuple[Story, Cli], tmp_path: Path) -> None:
    """In an export the stored order is the line order: two swapped audit lines."""
    s, cli = story
    lines = s.batch.read_bytes().splitlines(keepends=True)
    audit = [
        i
        for i, line in enumerate(lines)
        if line.startswith(b'{"item":') and b'"kind":"audit"' in line
    ]
    i = audit[40]
    lines[i], lines[i + 1] = lines[i + 1], lines[i]
    swapped = tmp_path / "swapped.ndjson"
    swapped.write_bytes(b"".join(lines))
    run = expect(cli("verify", swapped, *s.trust(), "--format", "json"), 1)
    # Line numbers are 1-based: the second of the swapped pair sorts before the first.
    assert run.where("EXPORT_OUT_OF_ORDER") == [f"{swapped}:{i + 2}"]
    assert "EXPORT_DIGEST_MISMATCH" in run.codes()


@pytest.mark.parametrize(
    ("chain", "field_name", "more"),
    [
        (AUDIT_CHAIN, "source_backend", set()),
        (AUDIT_CHAIN, "source_count", {"BOUNDARY_SOURCE_MISMATCH"}),
        ("dialogue:dlg-2026-001/events", "source_backend", set()),
    ],
    ids=["audit-source_backend", "audit-source_count", "lifecycle-source_backend"],
)
def test_forged_boundary(
    story: tuple[Story, Cli], target: str, chain: str, field_name: str, more: set[str]
) -> None:
    """One signed field of a boundary in the target changed, its event_hash re-sealed
    (hashes are keyless), so the signature is what catches it. ``source_count`` also
    contradicts the boundary's own seq (CHAIN-12 step 3); ``source_backend`` does not.
    The audit log's boundary is an audit_events row; a dialogue's is an event entity."""
    s, cli = story
    if chain == AUDIT_CHAIN:
        boundary = audit_events(target, AUDIT_CHAIN)[-1]
    else:
        address, boundary = lifecycle_boundary(target, "dlg-2026-001")
    assert boundary["event_kind"] == "migration_boundary"
    forged = dict(boundary)
    if field_name == "source_count":
        forged["source_count"] = boundary["source_count"] - 1
    else:
        forged["source_backend"] = "postgresql"
    if chain == AUDIT_CHAIN:
        rewrite_audit_event(target, AUDIT_CHAIN, boundary["event_id"], reseal(forged))
    else:
        rewrite_lifecycle_event(target, address, reseal(forged))
    run = expect(cli("verify", target, *s.trust(), "--format", "json"), 1)
    at = f"chain:{chain}@{boundary['seq']}"
    assert run.where("BOUNDARY_SIGNATURE_INVALID") == [at]
    assert "EVENT_HASH_MISMATCH" not in run.codes()
    assert errors(run) == {"BOUNDARY_SIGNATURE_INVALID", *more}


@pytest.mark.parametrize("mid_line", [False, True], ids=["at-a-line-end", "inside-a-line"])
def test_truncated_export(story: tuple[Story, Cli], tmp_path: Path, mid_line: bool) -> None:
    s, cli = story
    lines = s.batch.read_bytes().splitlines(keepends=True)
    kept = 100  # header + 99 records
    cut = tmp_path / "cut.ndjson"
    cut.write_bytes(b"".join(lines[:kept]) + (lines[kept][:40] if mid_line else b""))
    run = expect(cli("verify", cut, *s.trust(), "--format", "json"), 1)
    assert run.where("EXPORT_TRUNCATED") == [f"{cut}:{kept + 1}"]


def test_truncated_export_is_not_imported(
    story: tuple[Story, Cli], tmp_path: Path, pg_server_dsn: str
) -> None:
    """An import must not write records from an export whose end it has not seen (EXP-7)."""
    s, cli = story
    lines = s.batch.read_bytes().splitlines(keepends=True)
    cut = tmp_path / "cut.ndjson"
    cut.write_bytes(b"".join(lines[:100]))
    with pg_schema(pg_server_dsn) as url:
        run = cli("import", cut, url, "--create")
        assert run.returncode not in (0, 2), run.describe()
        assert "ends without a trailer" in run.stderr
        assert pg_count(url, "entities") + pg_count(url, "audit_events") == 0


def _damaged(batch: Path, out: Path, damage: str) -> Path:
    """``batch`` cut after 299 records (no trailer), or with one bit of line 5 flipped."""
    lines = batch.read_bytes().splitlines(keepends=True)
    if damage == "truncated":
        out.write_bytes(b"".join(lines[:300]))
    else:
        line = lines[5]
        i = line.index(b'"S":"') + 5
        lines[5] = line[:i] + bytes([line[i] ^ 1]) + line[i + 1 :]
        out.write_bytes(b"".join(lines))
    return out


@pytest.mark.parametrize("damage", ["truncated", "edited"])
def test_import_of_a_damaged_export_writes_nothing_to_dynamodb(
    story: tuple[Story, Cli], tmp_path: Path, dynamodb_endpoint: str, damage: str
) -> None:
    s, cli = story
    bad = _damaged(s.batch, tmp_path / f"{damage}.ndjson", damage)
    with ddb_table(dynamodb_endpoint) as table:
        run = cli("import", bad, f"dynamodb://{table}", "--create", *s.ddb())
        assert run.returncode not in (0, 2), run.describe()
        assert ddb_count(dynamodb_endpoint, table) == 0


def test_missing_key(story: tuple[Story, Cli], dynamodb_endpoint: str) -> None:
    """The wrapped DEK of one dialogue deleted from DynamoDB: its records cannot be
    checked with keys ('could not verify', naming every such record), and the key
    record was committed, so its deletion is an error (COMMIT-6): exit 1."""
    s, cli = story
    records = list(records_of(NdjsonSource(s.demo / "export.ndjson").read()))
    needs_key = sorted(
        str(r.address)
        for r in records
        if isinstance(r, EntityRecord)
        and r.envelope is not None
        and r.envelope.key_id == "dek#dlg-2026-001#1"
    )
    assert len(needs_key) == 30
    with ddb_table(dynamodb_endpoint) as table:
        fill_ddb(dynamodb_endpoint, table, records)
        ddb_delete(dynamodb_endpoint, table, "dialogue#dlg-2026-001", "dek#1")
        src = f"dynamodb://{table}"
        run, needed = cli.many(
            ("verify", src, *s.ddb(), *s.umk(), *s.trust(), "--format", "json"),
            ("keys", "needed", src, *s.ddb(), *s.umk()),
        )
        expect(run, 1)
        assert sorted(run.where("KEY_MISSING")) == needs_key
        assert run.where("COMMIT_RECORD_MISSING") == ["dek#dlg-2026-001#1"]
        assert run.report()["verdict"] == "findings"
        expect(needed, 3)
        assert "dek#dlg-2026-001#1" in needed.stdout and "missing" in needed.stdout


# --- 2b. the gates themselves ---------------------------------------------------


def test_gate_pre_refuses_to_sign_a_tampered_source(
    story: tuple[Story, Cli], tmp_path: Path, dynamodb_endpoint: str
) -> None:
    """A gate never signs what it cannot vouch for: no manifest, no leaves file."""
    s, cli = story
    records = list(records_of(NdjsonSource(s.demo / "export.ndjson").read()))
    with ddb_table(dynamodb_endpoint) as table:
        fill_ddb(dynamodb_endpoint, table, records)
        ddb_move_envelope(dynamodb_endpoint, table, A, B)
        manifest = tmp_path / "manifest.json"
        run = cli(
            "gate",
            "pre",
            f"dynamodb://{table}",
            *s.ddb(),
            "--signing-key",
            s.demo / "signer.key",
            *s.trust(),
            "-m",
            manifest,
            "--format",
            "json",
        )
        expect(run, 1)
        assert run.where("AAD_HASH_MISMATCH") == [str(B)]
        assert not manifest.exists()
        assert not Path(str(manifest) + ".leaves").exists()


def test_gate_post_extra_record(story: tuple[Story, Cli], target: str) -> None:
    s, cli = story
    extra = Address.parse("dialogue:dlg-2026-001/entity:ref/P0101#supports#T0102")
    insert_ref(target, extra)
    gated = expect(gate_post(s, cli, target), 1)
    assert gated.where("MANIFEST_RECORD_EXTRA") == [str(extra)]


def test_gate_post_counts_only_a_pinned_manifest_signer(
    story: tuple[Story, Cli], tmp_path: Path
) -> None:
    s, cli = story
    create_signing_key(tmp_path / "other.key", tmp_path / "other.json")
    run = cli(
        "gate",
        "post",
        s.target,
        "-m",
        s.manifest,
        "--trusted-keys",
        tmp_path / "other.json",
        "--format",
        "json",
    )
    assert run.returncode in (1, 3), run.describe()
    assert run.where("MANIFEST_SIGNER_UNTRUSTED") == ["manifest"]


def test_gate_post_rejects_an_edited_manifest(
    story: tuple[Story, Cli], target: str, tmp_path: Path
) -> None:
    """Whoever deleted a record also lowers the manifest's totals to match: the signature
    no longer holds, and the deletion is still named (the leaves file is unchanged)."""
    s, cli = story
    delete_entity(target, A)
    doc = json.loads(s.manifest.read_text())
    doc["totals"]["entities"] -= 1
    edited = tmp_path / "manifest.json"
    edited.write_text(json.dumps(doc))
    shutil.copy(str(s.manifest) + ".leaves", str(edited) + ".leaves")
    run = expect(cli("gate", "post", target, "-m", edited, *s.trust(), "--format", "json"), 1)
    assert run.where("MANIFEST_SIGNATURE_INVALID") == ["manifest"]
    assert run.where("MANIFEST_RECORD_MISSING") == [str(A)]


def test_gate_post_refuses_to_run_without_pinned_keys(story: tuple[Story, Cli]) -> None:
    s, cli = story
    run = expect(cli("gate", "post", s.target, "-m", s.manifest), 2)
    assert "--trusted-keys" in run.stderr and run.stdout == ""


def test_gate_post_requires_every_chain_bridged(
    story: tuple[Story, Cli], pg_server_dsn: str
) -> None:
    s, cli = story
    with pg_schema(pg_server_dsn) as url:
        expect(cli("import", s.batch, url, "--create"), 0)
        gated = gate_post(s, cli, url)
        assert gated.returncode == 1, gated.describe()
        unbridged = [f for f in gated.report()["findings"] if f["where"].startswith("chain:")]
        assert len({f["where"].split("@")[0] for f in unbridged}) == CHAINS


def test_missing_table_or_schema_is_could_not_verify(
    story: tuple[Story, Cli], pg_server_dsn: str
) -> None:
    """Exit 3 with one line naming the store: nothing was verified, and nothing failed."""
    s, cli = story
    with pg_schema(pg_server_dsn) as empty:
        runs = cli.many(("verify", "dynamodb://no_such_table", *s.ddb()), ("verify", empty))
    for run in runs:
        line = one_error_line(expect(run, 3))
        assert "dynamodb://no_such_table" in line or "postgresql://" in line, line


def test_unreachable_postgres_is_one_line(story: tuple[Story, Cli]) -> None:
    # (An unreachable DynamoDB endpoint is not tested here: botocore's standard retries
    # take about 25 s to give up on a refused connection.)
    _, cli = story
    run = expect(cli("verify", "postgresql://postgres@127.0.0.1:1/postgres"), 3)
    assert "postgresql://127.0.0.1:1/" in one_error_line(run)


def test_a_password_in_the_dsn_is_never_printed(story: tuple[Story, Cli]) -> None:
    """docs/cli.md CLI-1: the password, if any, is never printed, in reports or errors."""
    s, cli = story
    secret = "pw-e2e-not-for-print"
    with_pw = s.target.replace("postgresql://postgres@", f"postgresql://postgres:{secret}@")
    assert secret in with_pw
    unreachable = f"postgresql://postgres:{secret}@127.0.0.1:1/postgres"
    runs = cli.many(
        ("verify", with_pw, *s.trust(), "--format", "json"),
        ("verify", with_pw, *s.trust()),
        ("verify", unreachable),
    )
    expect(runs[0], 0)
    expect(runs[2], 3)
    for run in runs:
        assert secret not in run.stdout + run.stderr, run.describe()


# --- 3. diff during dual writes -----------------------------------------------------


def test_diff_during_dual_writes(
    story: tuple[Story, Cli], pg_server_dsn: str, dynamodb_endpoint: str
) -> None:
    """Both stores written with the same records, compared as they are, after one extra
    write reached only PostgreSQL, and after one record changed there: each difference
    is named by address. (Three PostgreSQL copies against one table, diffed side by side.)"""
    s, cli = story
    records = list(records_of(NdjsonSource(s.demo / "export.ndjson").read()))
    extra_at = Address.parse("dialogue:dlg-2026-001/entity:ref/P0101#supports#T0102")
    with (
        ddb_table(dynamodb_endpoint) as table,
        pg_schema(pg_server_dsn) as same_url,
        pg_schema(pg_server_dsn) as extra_url,
        pg_schema(pg_server_dsn) as changed_url,
    ):
        fill_ddb(dynamodb_endpoint, table, records)
        for url in (same_url, extra_url, changed_url):
            fill_pg(url, records)
        insert_ref(extra_url, extra_at)
        flip_ciphertext_bit(changed_url, B)
        a = f"dynamodb://{table}"
        same, extra, changed = cli.many(
            *(("diff", a, url, *s.ddb(), "--format", "json")
              for url in (same_url, extra_url, changed_url))
        )  # fmt: skip

    expect(same, 0)
    checked = same.report()["checked"]
    assert checked["records_a"] == checked["records_b"] == DEMO_RECORDS
    assert same.report()["findings"] == []

    expect(extra, 1)
    assert extra.where("DIFF_ONLY_IN_B") == [str(extra_at)]
    assert errors(extra) == {"DIFF_ONLY_IN_B"}

    expect(changed, 1)
    assert changed.where("DIFF_CHANGED") == [str(B)]
    assert errors(changed) == {"DIFF_CHANGED"}


# --- 4. inclusion proofs -----------------------------------------------------------


def test_prove_and_verify_proof(story: tuple[Story, Cli], tmp_path: Path) -> None:
    """Proofs for an entity and a wrapped DEK check against the signed manifest alone;
    one changed hex digit in the audit path fails."""
    s, cli = story
    keys = {"entity": "dialogue:dlg-2026-001/entity:meta", "dek": "dek#dlg-2026-002#2"}
    proofs = {name: tmp_path / f"{name}.proof.json" for name in keys}
    for run in cli.many(*(("prove", keys[n], "-m", s.manifest, "-o", proofs[n]) for n in keys)):
        expect(run, 0)
    doc = json.loads(proofs["entity"].read_text())
    assert doc["record_key"] == keys["entity"] and doc["path"]
    element = doc["path"][0]
    doc["path"][0] = ("0" if element[0] != "0" else "1") + element[1:]
    tampered = tmp_path / "tampered.proof.json"
    tampered.write_text(json.dumps(doc))
    checks: list[tuple[str | Path, ...]] = [
        ("verify-proof", p, "-m", s.manifest, *s.trust(), "--format", "json")
        for p in (*proofs.values(), tampered)
    ]
    *good, bad = cli.many(*checks)
    for run in good:
        assert expect(run, 0).report()["verdict"] == "ok"
    expect(bad, 1)
    assert errors(bad) == {"PROOF_INVALID"}


def test_prove_an_address_not_in_the_manifest(story: tuple[Story, Cli]) -> None:
    s, cli = story
    run = expect(cli("prove", "dialogue:dlg-2026-001/entity:verdict/nope", "-m", s.manifest), 1)
    assert run.stdout == "" and "not in the manifest" in run.stderr


def test_zz_no_key_material_in_any_output(story: tuple[Story, Cli]) -> None:
    """Every run above was scanned as it ran; this names the coverage."""
    _, cli = story
    assert len(cli.runs) >= 7
    for run in cli.runs:
        cli.check_clean(run)
