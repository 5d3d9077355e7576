"""The public API (issue 11, docs/api.md): what ``import chainaudit`` offers and costs,
the writer helpers, DekMap and the in-memory source."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import chainaudit as ca
from chainaudit.chain import events as chain
from chainaudit.commitments import events as commitment
from chainaudit.envelope import seal as envelope
from chainaudit.keys import hierarchy as keys
from chainaudit.sample import build_sample
from chainaudit.sources.ndjson import write_export

T0 = "2026-03-02T09:00:00.000Z"


def test_import_chainaudit_loads_nothing_else() -> None:
    """The package is light: no store client, no hypothesis, not even the core."""
    code = (
        "import sys, chainaudit; "
        "print(sorted(m for m in sys.modules if m.startswith(('chainaudit', 'boto', "
        "'botocore', 'psycopg', 'hypothesis', 'click'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    assert json.loads(out.replace("'", '"')) == ["chainaudit"]


def test_verify_loads_no_store_client() -> None:
    code = (
        "import sys, chainaudit; chainaudit.verify([]); "
        "print(sorted(m.split('.')[0] for m in sys.modules if m.startswith(('boto', "
        "'botocore', 'psycopg', 'hypothesis', 'click'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    assert out.strip() == "[]"


def test_every_public_name_resolves_to_its_module_object() -> None:
    assert ca.__all__ == sorted(ca.__all__)
    for name in ca.__all__:
        assert getattr(ca, name) is not None, name
    # Re-exports are the very objects the verifier uses: no second implementation.
    assert ca.seal_event is chain.seal
    assert ca.commit_fields is commitment.commit_fields
    assert ca.encode_payload is envelope.encode_payload
    assert ca.destroy_dek is keys.destroy
    assert set(dir(ca)) >= set(ca.__all__)
    with pytest.raises(AttributeError):
        _ = ca.no_such_name  # type: ignore[attr-defined]


def test_verify_takes_records_a_source_or_a_path(tmp_path: Path) -> None:
    sample = build_sample()
    path = tmp_path / "export.ndjson"
    write_export(path, sample.records, source="test", created_at=T0)
    by_records = ca.verify(sample.records, umk=sample.umk)
    by_source = ca.verify(ca.RecordsSource(sample.records, name="mine"), umk=sample.umk)
    by_path = ca.verify(path, umk=sample.umk)
    assert by_records.codes() == by_source.codes()
    assert sorted(by_records.codes()) == sorted(by_path.codes())
    assert ca.exit_code_for(by_path) == ca.exit_code_for(by_records) == 3  # nothing pinned


def test_verify_with_every_piece_of_evidence_is_exit_0() -> None:
    sample = build_sample()
    assert sample.signer is not None and sample.erasure_signer is not None
    pinned = [ca.public_bytes(sample.signer), ca.public_bytes(sample.erasure_signer)]
    checkpoints = ca.checkpoint_all(sample.records, sample.signer, T0)
    evidence = ca.Evidence()
    result = ca.verify(
        sample.records,
        umk=sample.umk,
        trusted_keys=pinned,
        checkpoints=checkpoints,
        require=["all"],
        evidence=evidence,
    )
    assert ca.exit_code_for(result) == 0, [str(f) for f in result.errors + result.unverified]
    assert evidence.assurance is not None
    assert {a.level.value for a in evidence.assurance.values()} == {"proven"}


def test_require_names_what_is_not_proven() -> None:
    result = ca.verify(build_sample().records, require=["anchored"])
    assert ("ASSURANCE_NOT_MET", "assurance:anchored") in [
        (f.code.name, f.where) for f in result.findings
    ]


def test_records_source_reads_an_iterator_once() -> None:
    src = ca.RecordsSource(iter(build_sample().records))
    assert list(src.read())
    with pytest.raises(RuntimeError, match="read once"):
        src.read()


# --- ChainWriter ----------------------------------------------------------------


def _audit_fields(ts: str = T0, **extra: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "timestamp": ts,
        "trace_id": "t",
        "span_id": "s",
        "operation": "encrypt",
        "key_id": "dek#d-1#1",
        "principal": "svc",
        "outcome": "success",
    }
    fields.update(extra)
    return fields


def test_chain_writer_events_verify_and_resume_continues() -> None:
    w = ca.ChainWriter("crypto-audit", hash_alg="blake3")
    events = [w.append_event(_audit_fields(f"2026-03-02T09:00:0{i}.000Z")) for i in range(3)]
    assert [e.fields["seq"] for e in events] == [0, 1, 2]
    assert events[0].fields["previous_hash"] == ca.genesis_hash("crypto-audit", "blake3")
    again = ca.ChainWriter.resume("crypto-audit", events)
    assert (again.count, again.tip, again.hash_alg) == (3, w.tip, "blake3")
    events.append(again.append_event(_audit_fields("2026-03-02T09:00:05.000Z")))
    policy = ca.ChainPolicy(
        trust=ca.TrustStore(), expectations=(), skew_ms=300_000
    )
    assert ca.verify_events(events, policy).ok


def test_chain_writer_refuses_what_the_verifier_would_report() -> None:
    w = ca.ChainWriter("crypto-audit")
    with pytest.raises(ValueError, match="timestamp"):
        w.append({"operation": "encrypt"})
    with pytest.raises(ValueError, match="unknown operation"):
        w.append(_audit_fields(operation="steal"))
    with pytest.raises(ValueError, match="seq"):
        w.append(_audit_fields(seq=5))
    with pytest.raises(ValueError, match="UUIDv7"):
        w.append(_audit_fields(event_id="not-a-uuid"))
    first = w.append(_audit_fields())
    with pytest.raises(ValueError, match="does not follow"):
        w.append(_audit_fields(event_id=first["event_id"]))
    with pytest.raises(ValueError, match="5 minutes"):
        later = ca.new_event_id(T0, first["event_id"])  # greater, but of 09:00
        w.append(_audit_fields("2026-03-02T10:00:00.000Z", event_id=later))
    assert w.count == 1  # nothing refused was appended
    with pytest.raises(ValueError, match="lifecycle"):
        w.commit(build_sample().records[0], timestamp=T0, principal="p")


def test_new_event_ids_strictly_increase_within_one_millisecond() -> None:
    ids = [ca.new_event_id(T0)]
    for _ in range(50):
        ids.append(ca.new_event_id(T0, ids[-1]))
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert all(i[:13] == ids[0][:13] for i in ids)  # the same millisecond


def test_a_dialogue_written_with_the_public_api_has_every_assurance() -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    umk = ca.Umk(bytes(range(32)))
    signer, authority = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    d = ca.escape_component("d/1 #é")
    dek_record, dek = ca.new_dek(ca.derive_kek(umk, "user:ada"), "user:ada", d, 1, T0)
    lifecycle, log = ca.ChainWriter.for_dialogue(d), ca.ChainWriter("crypto-audit")
    claim = ca.Address.of("d/1 #é", "claim", "01", "01")
    sealed = ca.seal_envelope(claim, {"text": "hi"}, dek, dek_record.key_id)
    record = ca.EntityRecord(claim, {"status": {"S": "open"}}, sealed)
    t1, t2 = "2026-03-02T09:00:01.000Z", "2026-03-02T09:00:02.000Z"
    records: list[ca.Record] = [
        lifecycle.commit(dek_record, timestamp=T0, principal="svc"),
        log.append_event(_audit_fields(operation="wrap_dek", key_id=dek_record.key_id)),
        record,
        lifecycle.commit(record, timestamp=t1, principal="svc"),
        lifecycle.erasure_receipt(
            authority, key_id=dek_record.key_id, destroyed_at=t2, timestamp=t2, principal="e"
        ),
    ]
    gone = ca.destroy_dek(dek_record, t2)
    records += [gone, lifecycle.commit(gone, timestamp=t2, principal="svc")]
    records.append(log.append_event(_audit_fields(t2, operation="destroy_dek", key_id=gone.key_id)))
    evidence = ca.Evidence()
    result = ca.verify(
        records,
        umk=umk,
        trusted_keys=[ca.public_bytes(signer), ca.public_bytes(authority)],
        checkpoints=[lifecycle.checkpoint(signer, t2), log.checkpoint(signer, t2)],
        evidence=evidence,
    )
    assert ca.exit_code_for(result) == 0, [str(f) for f in result]
    assert result.codes() == ["KEY_SHREDDED"]
    assert evidence.assurance is not None
    assert {a.level.value for a in evidence.assurance.values()} == {"proven"}


def test_a_boundary_switches_the_algorithm_and_the_chain_still_verifies() -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    signer = Ed25519PrivateKey.generate()
    w = ca.ChainWriter("crypto-audit")
    events = [w.append_event(_audit_fields())]
    boundary = w.boundary(
        signer,
        timestamp="2026-03-02T09:01:00.000Z",
        source_backend="dynamodb",
        target_backend="postgresql",
        hash_alg="blake3",
    )
    assert isinstance(boundary, ca.AuditEvent) and w.hash_alg == "blake3"
    events += [boundary, w.append_event(_audit_fields("2026-03-02T09:02:00.000Z"))]
    trust = ca.TrustStore.of([ca.public_bytes(signer)])
    result = ca.verify_events(events, ca.ChainPolicy(trust=trust))
    assert result.ok, [str(f) for f in result]


# --- DekMap ---------------------------------------------------------------------------


def test_dek_map_resolves_like_a_key_ring() -> None:
    a = ca.Address.of("d-1", "claim", "01", "02")
    dek = bytes(range(32))
    keys_ = ca.DekMap({"dek#d-1#1": dek})
    assert repr(keys_) == "DekMap(1 key ids)" and dek.hex() not in repr(keys_)
    good = ca.EntityRecord(a, {}, ca.seal_envelope(a, {"t": 1}, dek, "dek#d-1#1"))
    assert ca.check_record(good, keys_) == []
    wrong = ca.EntityRecord(a, {}, ca.seal_envelope(a, {"t": 1}, bytes(32), "dek#d-1#1"))
    assert [f.code.name for f in ca.check_record(wrong, keys_)] == ["AUTHENTICATION_FAILED"]
    other = ca.EntityRecord(a, {}, ca.seal_envelope(a, {"t": 1}, dek, "dek#d-1#2"))
    assert [f.code.name for f in ca.check_record(other, keys_)] == ["KEY_MISSING"]
    assert keys_.versions("d-1") == ["dek#d-1#1"]


def test_dek_map_reports_a_destroyed_key_as_shredded() -> None:
    umk = ca.Umk(bytes(32))
    record, dek = ca.new_dek(ca.derive_kek(umk, "u"), "u", "d-1", 1, T0)
    keys_ = ca.DekMap({record.key_id: dek})
    keys_.add(ca.destroy_dek(record, T0))
    assert keys_.resolve(record.key_id).status is ca.DekStatus.SHREDDED
    keys_.forget("d-1")
    assert keys_.resolve(record.key_id).status is ca.DekStatus.FOUND


def test_dek_map_refuses_bad_input_without_showing_the_key() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        ca.DekMap({"dek#d-1#1": b"short"})
    with pytest.raises(ValueError, match="dek#"):
        ca.DekMap({"d-1": bytes(32)})


def test_verify_envelopes_with_a_dek_map_finds_nonce_reuse() -> None:
    a, b = ca.Address.of("d-1", "claim", "01", "01"), ca.Address.of("d-1", "claim", "01", "02")
    dek, nonce = bytes(range(32)), bytes(12)
    records = [
        ca.EntityRecord(x, {}, ca.seal_envelope(x, {"t": 1}, dek, "dek#d-1#1", nonce))
        for x in (a, b)
    ]
    result = ca.verify_envelopes(records, ca.DekMap({"dek#d-1#1": dek}))
    assert [(f.code.name, f.where) for f in result] == [("NONCE_REUSE", str(b))]
    assert result.checked["decrypted"] == 2


def test_the_canonical_encoder_is_what_seal_uses() -> None:
    payload = {"b": 1.0, "a": "é", "c": [1e21, None]}
    assert ca.encode_payload(payload) == b'{"a":"\xc3\xa9","b":1,"c":[1e+21,null]}'
    value, canonical = ca.decode_payload(ca.encode_payload(payload))
    assert canonical and value == {"a": "é", "b": 1, "c": [1e21, None]}
    handmade = json.dumps(payload, sort_keys=True).encode()
    assert not ca.decode_payload(handmade)[1]  # json.dumps(sort_keys=True) is not RFC 8785


def test_verify_with_a_dek_map_is_a_keyed_run() -> None:
    sample = build_sample()
    data_keys = {}
    ring = ca.KeyRing(sample.umk, [r for r in sample.records if isinstance(r, ca.WrappedDek)])
    for r in sample.records:
        if isinstance(r, ca.WrappedDek):
            lookup = ring.resolve(r.key_id)
            if lookup.dek is not None:
                data_keys[r.key_id] = lookup.dek
    by_umk = ca.verify(sample.records, umk=sample.umk)
    by_deks = ca.verify(sample.records, deks=data_keys)
    assert by_deks.codes() == by_umk.codes()
    assert by_deks.checked["decrypted"] == by_umk.checked["decrypted"] > 100
    assert "KEY_SHREDDED" in by_deks.codes()  # the destroyed key, known from its record
    victim = next(k for k in data_keys if k.startswith("dek#dlg-2026-001#"))
    wrong = {**data_keys, victim: bytes(32)}
    failed = ca.verify(sample.records, deks=ca.DekMap(wrong))
    assert ("AUTHENTICATION_FAILED", "dialogue:dlg-2026-001/entity:meta") in [
        (f.code.name, f.where) for f in failed
    ]
