"""Forward integrity, end to end through the installed ``chainaudit`` command (issue 9).

Each test plays an attacker who can write the demo's export (and recompute
its unsigned trailer) but holds no key: rollback, an edited cleartext
attribute, a forged erasure, a record planted in a shredded dialogue, a
deleted record, and a commitment forged, dropped, duplicated or reordered.
Each asserts the exact exit code, finding codes and addresses that
docs/commitments.md (COMMIT-6, COMMIT-8) requires. No servers: NDJSON only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from e2e_cli import Cli, Run, expect

from chainaudit.chain.events import chain_event_from_entity, lifecycle_record, seal, timestamp_ms
from chainaudit.chain.tips import ChainTip
from chainaudit.chain.uuid7 import make as make_uuid7
from chainaudit.commitments.events import commit_fields
from chainaudit.envelope.seal import aad_hash
from chainaudit.findings import Finding
from chainaudit.keys.hierarchy import destroy
from chainaudit.keys.shred import destruction_event
from chainaudit.records.address import Address, EntityType
from chainaudit.records.model import AuditEvent, EntityRecord, Envelope, Record, WrappedDek
from chainaudit.sample import build_sample
from chainaudit.sources.ndjson import NdjsonSource, write_export

D1 = "dlg-2026-001"
C1 = f"dialogue:{D1}/events"
CLAIM_UPDATED = f"dialogue:{D1}/entity:claim/01#01"  # has two committed versions
CLAIM = f"dialogue:{D1}/entity:claim/01#02"
ROTATED_CLAIM = "dialogue:dlg-2026-002/entity:claim/01#01"  # v1 under the retired key
DEK1 = f"dek#{D1}#1"
SHREDDED_KEY = "dek#dlg-2026-003#1"
LATE = "2026-12-01T00:00:00.000Z"  # after every event of the demo


# --- the attacker's tools: read the export, change it, write it back ------------------


def records(demo: Path) -> list[Record]:
    out = []
    for item in NdjsonSource(demo / "export.ndjson").read():
        assert not isinstance(item, Finding), item
        out.append(item)
    return out


def rewrite(demo: Path, tmp: Path, mutate: Callable[[list[Record]], None]) -> Path:
    """The export with ``mutate`` applied and its trailer recomputed (EXP-6 is unsigned)."""
    recs = records(demo)
    mutate(recs)
    path = tmp / "tampered.ndjson"
    write_export(path, recs, source="attacker", created_at="2026-03-02T12:00:00.000Z")
    return path


def verify(cli: Cli, demo: Path, path: Path, *, checkpoint: bool = True) -> Run:
    args: list[str | Path] = ["verify", path, "--umk", demo / "umk.hex"]
    args += ["--trusted-keys", demo / "trusted-keys.json", "--format", "json"]
    if checkpoint:
        args += ["--checkpoint", demo / "checkpoint.json"]
    return cli(*args)


def problems(run: Run) -> list[tuple[str, str]]:
    """(code, where) of every error and unverified finding, in report order."""
    return [
        (f["code"], f["where"])
        for f in run.report()["findings"]
        if f["severity"] in ("error", "unverified")
    ]


def index_of(recs: list[Record], key: str) -> int:
    from chainaudit.records.digest import record_key

    return next(i for i, r in enumerate(recs) if record_key(r) == key)


def lifecycle(recs: list[Record], dialogue: str) -> list[tuple[int, dict[str, Any]]]:
    """(position in ``recs``, event fields) of a dialogue's lifecycle events, in seq order."""
    out = []
    for i, r in enumerate(recs):
        if (
            isinstance(r, EntityRecord)
            and r.address.dialogue == dialogue
            and r.address.entity_type is EntityType.EVENT
        ):
            ev = chain_event_from_entity(r)
            assert isinstance(ev, AuditEvent)
            out.append((i, dict(ev.fields)))
    return sorted(out, key=lambda p: p[1]["seq"])


def commitments_of(recs: list[Record], key: str) -> list[tuple[int, dict[str, Any]]]:
    return [(i, f) for i, f in lifecycle(recs, D1) if f.get("record_key") == key]


def reseal_from(recs: list[Record], dialogue: str, seq: int) -> None:
    """Rehash the chain from ``seq`` on, every link intact: keyless, always possible."""
    events = lifecycle(recs, dialogue)
    prev = None
    for i, f in events:
        if f["seq"] >= seq:
            f["previous_hash"] = prev
            sealed = seal(f)
            recs[i] = lifecycle_record(dialogue, sealed)
            f = sealed
        prev = f["event_hash"]


def superseded(address: str) -> EntityRecord:
    sample = build_sample()
    return next(r for r in sample.superseded if str(r.address) == address)


def last_seq(demo: Path) -> int:
    return max(int(f["seq"]) for _, f in lifecycle(records(demo), D1))


# --- the untouched demo ---------------------------------------------------------------


def test_the_demo_verifies_with_full_assurance(cli: Cli, demo: Path) -> None:
    run = expect(verify(cli, demo, demo / "export.ndjson"), 0)
    report = run.report()
    assert problems(run) == []
    checked = report["checked"]
    assert checked["records_committed"] == 163 and checked["erasures_signed"] == 1
    assert checked["records_committed_unanchored"] == checked["records_uncommitted"] == 0
    assert checked["erasures_unproven"] == 0


# --- rollback and edits ---------------------------------------------------------------


def test_rollback_to_an_older_version_under_the_current_key(
    cli: Cli, demo: Path, tmp_path: Path
) -> None:
    def attack(recs: list[Record]) -> None:
        recs[index_of(recs, CLAIM_UPDATED)] = superseded(CLAIM_UPDATED)

    run = expect(verify(cli, demo, rewrite(demo, tmp_path, attack)), 1)
    assert problems(run) == [("COMMIT_ROLLBACK", CLAIM_UPDATED)]
    (f,) = run.findings("COMMIT_ROLLBACK")
    assert f["extra"]["matches_seq"] < f["extra"]["seq"]  # an older commitment names it


def test_rollback_under_a_retired_key_version(cli: Cli, demo: Path, tmp_path: Path) -> None:
    old = superseded(ROTATED_CLAIM)
    assert old.envelope is not None and old.envelope.key_id == "dek#dlg-2026-002#1"

    def attack(recs: list[Record]) -> None:
        recs[index_of(recs, ROTATED_CLAIM)] = old

    run = expect(verify(cli, demo, rewrite(demo, tmp_path, attack)), 1)
    assert problems(run) == [("COMMIT_ROLLBACK", ROTATED_CLAIM)]


def test_edited_cleartext_attribute_with_a_recomputed_trailer(
    cli: Cli, demo: Path, tmp_path: Path
) -> None:
    def attack(recs: list[Record]) -> None:
        i = index_of(recs, CLAIM)
        r = recs[i]
        assert isinstance(r, EntityRecord)
        recs[i] = replace(r, attributes={**r.attributes, "score": {"N": "99"}})

    run = expect(verify(cli, demo, rewrite(demo, tmp_path, attack)), 1)
    assert problems(run) == [("COMMIT_MISMATCH", CLAIM)]  # no EXPORT_* finding: trailer redone


def test_deleted_committed_record(cli: Cli, demo: Path, tmp_path: Path) -> None:
    def attack(recs: list[Record]) -> None:
        del recs[index_of(recs, CLAIM)]

    path = rewrite(demo, tmp_path, attack)
    for checkpoint in (True, False):
        run = expect(verify(cli, demo, path, checkpoint=checkpoint), 1)
        assert problems(run) == [("COMMIT_RECORD_MISSING", CLAIM)]


# --- forged erasure -------------------------------------------------------------------


def _forge_erasure(recommit: bool) -> Callable[[list[Record]], None]:
    """Mark dlg-2026-001's live key destroyed and log destroy_dek: all a writer can do."""

    def attack(recs: list[Record]) -> None:
        i = index_of(recs, DEK1)
        dek = recs[i]
        assert isinstance(dek, WrappedDek)
        gone = destroy(dek, LATE)
        recs[i] = gone
        log = [r for r in recs if isinstance(r, AuditEvent) and r.chain_id == "crypto-audit"]
        top = max(log, key=lambda e: e.fields["seq"]).fields
        tip = ChainTip(top["seq"] + 1, top["event_hash"], top["hash_alg"])
        recs.append(destruction_event(DEK1, "crypto-audit", tip, LATE, "svc:dialogues"))
        if recommit:
            _, head = lifecycle(recs, D1)[-1]
            fields = commit_fields(gone, timestamp=LATE, principal="svc:dialogues")
            fields.update(
                event_id=make_uuid7(timestamp_ms(LATE) or 0, 0, 1),
                seq=head["seq"] + 1,
                hash_alg="sha256",
                previous_hash=head["event_hash"],
            )
            recs.append(lifecycle_record(D1, seal(fields)))

    return attack


@pytest.mark.parametrize("checkpoint", [True, False], ids=["checkpoint", "no-checkpoint"])
def test_forged_erasure_is_never_lawful(
    cli: Cli, demo: Path, tmp_path: Path, checkpoint: bool
) -> None:
    run = expect(
        verify(cli, demo, rewrite(demo, tmp_path, _forge_erasure(False)), checkpoint=checkpoint),
        1,
    )
    # The key record no longer matches its commitment, and no receipt signs it.
    assert problems(run) == [("ERASURE_UNSIGNED", DEK1), ("COMMIT_MISMATCH", DEK1)]
    shredded = run.where("KEY_SHREDDED")
    assert len(shredded) == 30 + 30  # dlg-2026-001 now, dlg-2026-003 (signed) as before


@pytest.mark.parametrize("checkpoint", [True, False], ids=["checkpoint", "no-checkpoint"])
def test_forged_erasure_with_a_forged_commitment_is_still_unproven(
    cli: Cli, demo: Path, tmp_path: Path, checkpoint: bool
) -> None:
    """The writer also commits the destroyed key record at the chain's tail: the
    commitment then matches, but no pinned authority signed the erasure (exit 3)."""
    path = rewrite(demo, tmp_path, _forge_erasure(True))
    run = expect(verify(cli, demo, path, checkpoint=checkpoint), 3)
    assert problems(run) == [("ERASURE_UNSIGNED", DEK1)]
    assert run.report()["checked"]["records_committed_unanchored"] == (1 if checkpoint else 100)


def test_record_planted_in_a_shredded_dialogue(cli: Cli, demo: Path, tmp_path: Path) -> None:
    """Random bytes under the destroyed key at a new address, aad_hash right: keyless
    checks pass and the key cannot open it, yet it came after the erasure."""
    planted = Address.of("dlg-2026-003", EntityType.CLAIM, "03", "01")

    def attack(recs: list[Record]) -> None:
        junk = hashlib.sha256(b"planted").digest()
        env = Envelope(junk + junk[:7], junk[:12], SHREDDED_KEY, aad_hash(planted))
        recs.append(EntityRecord(planted, {"entity_type": {"S": "claim"}}, env))

    run = expect(verify(cli, demo, rewrite(demo, tmp_path, attack)), 1)
    assert problems(run) == [("ERASURE_RECORD_AFTER", str(planted))]


# --- the commitments themselves -------------------------------------------------------


def _forge_commitment(rehash: bool) -> Callable[[list[Record]], None]:
    def attack(recs: list[Record]) -> None:
        ((i, f),) = commitments_of(recs, CLAIM)
        f["record_digest"] = "0" * 64
        if rehash:
            recs[i] = lifecycle_record(D1, seal(f))
            reseal_from(recs, D1, f["seq"] + 1)
        else:
            recs[i] = lifecycle_record(D1, f)

    return attack


def _claim_commit_seq(demo: Path) -> int:
    ((_, f),) = commitments_of(records(demo), CLAIM)
    return int(f["seq"])


def test_commitment_forged(cli: Cli, demo: Path, tmp_path: Path) -> None:
    seq = _claim_commit_seq(demo)
    run = expect(verify(cli, demo, rewrite(demo, tmp_path, _forge_commitment(False))), 1)
    assert problems(run) == [
        ("EVENT_HASH_MISMATCH", f"chain:{C1}@{seq}"),
        ("COMMIT_MISMATCH", CLAIM),
    ]


def test_commitment_forged_and_the_chain_rehashed(cli: Cli, demo: Path, tmp_path: Path) -> None:
    path = rewrite(demo, tmp_path, _forge_commitment(True))
    run = expect(verify(cli, demo, path), 1)
    assert problems(run) == [
        ("CHAIN_TIP_MISMATCH", f"chain:{C1}@{last_seq(demo)}"),
        ("COMMIT_MISMATCH", CLAIM),
    ]
    # Without a checkpoint the rehashed chain is consistent: the record still fails.
    run = expect(verify(cli, demo, path, checkpoint=False), 1)
    assert problems(run) == [("COMMIT_MISMATCH", CLAIM)]


def test_commitment_dropped(cli: Cli, demo: Path, tmp_path: Path) -> None:
    seq = _claim_commit_seq(demo)

    def attack(recs: list[Record]) -> None:
        ((i, _),) = commitments_of(recs, CLAIM)
        del recs[i]

    run = expect(verify(cli, demo, rewrite(demo, tmp_path, attack)), 1)
    assert problems(run) == [("CHAIN_GAP", f"chain:{C1}@{seq}"), ("COMMIT_MISSING", CLAIM)]


def test_commitment_duplicated(cli: Cli, demo: Path, tmp_path: Path) -> None:
    """A second copy of a commitment at another address (1 ms later), resealed: two
    events claim one predecessor. Both say the same, so no record is affected."""
    seq = _claim_commit_seq(demo)

    def attack(recs: list[Record]) -> None:
        ((_, f),) = commitments_of(recs, CLAIM)
        stamp = f["timestamp"]
        f["timestamp"] = stamp[:-4] + f"{(int(stamp[-4:-1]) + 1) % 1000:03d}Z"
        recs.append(lifecycle_record(D1, seal(f)))

    run = expect(verify(cli, demo, rewrite(demo, tmp_path, attack)), 1)
    assert problems(run) == [("CHAIN_FORK", f"chain:{C1}@{seq}")]


def test_commitment_reordered(cli: Cli, demo: Path, tmp_path: Path) -> None:
    """The two commitments of the updated claim exchange digests and the chain is
    rehashed: the stored (latest) version now looks like a rollback."""

    def attack(recs: list[Record]) -> None:
        (i, a), (j, b) = commitments_of(recs, CLAIM_UPDATED)
        a["record_digest"], b["record_digest"] = b["record_digest"], a["record_digest"]
        recs[i], recs[j] = lifecycle_record(D1, seal(a)), lifecycle_record(D1, seal(b))
        reseal_from(recs, D1, a["seq"])

    path = rewrite(demo, tmp_path, attack)
    run = expect(verify(cli, demo, path), 1)
    assert problems(run) == [
        ("CHAIN_TIP_MISMATCH", f"chain:{C1}@{last_seq(demo)}"),
        ("COMMIT_ROLLBACK", CLAIM_UPDATED),
    ]
    run = expect(verify(cli, demo, path, checkpoint=False), 1)
    assert problems(run) == [("COMMIT_ROLLBACK", CLAIM_UPDATED)]


def test_a_checkpoint_bundle_anchors_every_chain(demo: Path) -> None:
    bundle = json.loads((demo / "checkpoint.json").read_text())
    assert isinstance(bundle, list) and len(bundle) == 6
    assert {c["chain_id"] for c in bundle} >= {C1, "crypto-audit"}


# --- live stores: the commitments survive a migration; attacks behind the CLI's back ---


@pytest.fixture
def pg_demo(cli: Cli, demo: Path, pg_server_dsn: str) -> Iterator[str]:
    """The demo imported into a fresh PostgreSQL schema, every chain bridged by a boundary."""
    from e2e_stores import pg_schema

    with pg_schema(pg_server_dsn) as url:
        run = cli(
            "import", demo / "export.ndjson", url, "--create", "--boundary-key", demo / "signer.key"
        )
        expect(run, 0)
        yield url


def _verify_store(cli: Cli, demo: Path, url: str, *trusted: Path) -> Run:
    keys: list[str | Path] = []
    for path in (demo / "trusted-keys.json", *trusted):
        keys += ["--trusted-keys", path]
    return cli("verify", url, "--umk", demo / "umk.hex", *keys, "--format", "json")


@pytest.mark.postgres
def test_commitments_made_at_the_source_hold_in_postgresql(
    cli: Cli, demo: Path, pg_demo: str
) -> None:
    """COMMIT-3 is store independent: every record still matches its commitment after
    the move, and the boundaries anchor them (COMMIT-5) without any checkpoint."""
    run = expect(_verify_store(cli, demo, pg_demo), 0)
    checked = run.report()["checked"]
    assert checked["records_committed"] == 163 and checked["erasures_signed"] == 1


@pytest.mark.postgres
def test_an_attribute_edited_with_sql_is_found(cli: Cli, demo: Path, pg_demo: str) -> None:
    import psycopg

    with psycopg.connect(pg_demo) as conn:
        cur = conn.execute(
            "UPDATE entities SET attributes = jsonb_set(attributes, '{score}', "
            """'{"N": "99"}') WHERE dialogue_id = %s AND entity_type = 'claim' AND subkey = '01#02'""",
            (D1,),
        )
        assert cur.rowcount == 1
    run = expect(_verify_store(cli, demo, pg_demo), 1)
    assert problems(run) == [("COMMIT_MISMATCH", CLAIM)]


@pytest.mark.postgres
def test_a_key_destroyed_with_sql_is_a_forged_erasure(cli: Cli, demo: Path, pg_demo: str) -> None:
    import psycopg

    with psycopg.connect(pg_demo) as conn:
        cur = conn.execute(
            "UPDATE wrapped_deks SET state = 'destroyed', wrapped_key = NULL, wrap_nonce = NULL,"
            " destroyed_at = %s WHERE dialogue_id = %s AND version = 1",
            (LATE, D1),
        )
        assert cur.rowcount == 1
    run = expect(_verify_store(cli, demo, pg_demo), 1)
    # and the audit log never saw it (CHAIN-9): that one was caught before commitments too
    assert sorted(problems(run)) == [
        ("COMMIT_MISMATCH", DEK1),
        ("ERASURE_UNSIGNED", DEK1),
        ("KEY_DESTRUCTION_UNLOGGED", DEK1),
    ]


@pytest.mark.postgres
def test_keys_destroy_with_an_erasure_key_is_lawful(
    cli: Cli, demo: Path, pg_demo: str, tmp_path: Path
) -> None:
    key, pinned = tmp_path / "erasure.key", tmp_path / "erasure-trusted.json"
    expect(cli("keys", "signer", key, "--trusted-out", pinned), 0)
    run = expect(cli("keys", "destroy", DEK1, pg_demo, "--erasure-key", key), 0)
    assert "erasure receipt signed" in run.stderr
    run = expect(_verify_store(cli, demo, pg_demo, pinned), 0)
    checked = run.report()["checked"]
    assert checked["erasures_signed"] == 2 and checked["erasures_unproven"] == 0
    assert len(run.where("KEY_SHREDDED")) == 60
    # The erasure authority not pinned: the destruction is not proven (exit 3).
    run = expect(_verify_store(cli, demo, pg_demo), 3)
    assert [c for c, _ in problems(run)] == ["ERASURE_SIGNER_UNTRUSTED"], problems(run)


def test_an_erasure_authority_not_pinned_leaves_the_erasure_unproven(
    cli: Cli, demo: Path, tmp_path: Path
) -> None:
    """Only the migration signer pinned: the shredded dialogue's receipt does not count
    (COMMIT-8), exactly once, and the run cannot say "not tampering" (exit 3)."""
    doc = json.loads((demo / "trusted-keys.json").read_text())
    doc["keys"] = doc["keys"][:1]
    only_signer = tmp_path / "signer-only.json"
    only_signer.write_text(json.dumps(doc))
    run = cli(
        "verify", demo / "export.ndjson", "--umk", demo / "umk.hex", "--trusted-keys",
        only_signer, "--checkpoint", demo / "checkpoint.json", "--format", "json",
    )  # fmt: skip
    expect(run, 3)
    receipt = [(c, w) for c, w in problems(run)]
    assert len(receipt) == 1 and receipt[0][0] == "ERASURE_SIGNER_UNTRUSTED"
    assert receipt[0][1].startswith("chain:dialogue:dlg-2026-003/events@")
    assert run.report()["checked"]["erasures_unproven"] == 1


@pytest.mark.postgres
def test_gates_carry_commitments_across_a_migration(
    cli: Cli, demo: Path, pg_server_dsn: str, tmp_path: Path
) -> None:
    """gate pre checks the source's commitments; after import --boundary-key, gate post
    finds every record matching a commitment made at the source, anchored by the signed
    manifest and the boundaries (COMMIT-5, COMMIT-9); a record rolled back in the target
    after the gate is still named."""
    import psycopg
    from e2e_stores import pg_schema

    manifest = tmp_path / "manifest.json"
    keys: list[str | Path] = [
        "--umk",
        demo / "umk.hex",
        "--trusted-keys",
        demo / "trusted-keys.json",
    ]
    pre = cli("gate", "pre", demo / "export.ndjson", *keys, "--signing-key", demo / "signer.key",
              "-m", manifest, "--format", "json")  # fmt: skip
    expect(pre, 0)
    checked = pre.report()["checked"]  # no checkpoint here: receipts and boundaries anchor some
    assert checked["records_committed"] + checked["records_committed_unanchored"] == 163
    with pg_schema(pg_server_dsn) as url:
        expect(cli("import", demo / "export.ndjson", url, "--create", "--boundary-key",
                   demo / "signer.key", "--manifest", manifest), 0)  # fmt: skip
        post = expect(cli("gate", "post", url, "-m", manifest, *keys, "--format", "json"), 0)
        checked = post.report()["checked"]
        assert checked["records_committed"] == 163 and checked["records_committed_unanchored"] == 0
        old = superseded(CLAIM_UPDATED)
        assert old.envelope is not None
        with psycopg.connect(url) as conn:
            cur = conn.execute(
                "UPDATE entities SET content_encrypted = %s, content_nonce = %s, attributes = %s"
                " WHERE dialogue_id = %s AND entity_type = 'claim' AND subkey = '01#01'",
                (old.envelope.ciphertext, old.envelope.nonce,
                 json.dumps(dict(old.attributes)), D1),
            )  # fmt: skip
            assert cur.rowcount == 1
        post = expect(cli("gate", "post", url, "-m", manifest, *keys, "--format", "json"), 1)
        assert ("COMMIT_ROLLBACK", CLAIM_UPDATED) in problems(post)
