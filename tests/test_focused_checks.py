"""One focused test per check that only a vector file, or no test at all, used to guard.

Issue 15: small plausible bugs were planted in security-critical checks; for
these, no test (or a single one, or only a committed vector file) failed.
Each test here is named after its check and was seen to fail with the check
broken by hand (the bug planted, the test run, the bug removed):

- ``verify-proof`` of a record whose key is in the proof but whose content
  changed (planted: compare only the key) — chainaudit/migration/proof.py;
- the genesis value of a BLAKE3 chain (planted: check genesis only for
  sha256; or compute it with the default algorithm) — chain/verify.py;
- the ``aad_hash`` comparison (planted: compare a prefix; skip it) —
  envelope/verify.py;
- the nonce ledger keeps every envelope after an earlier finding (planted:
  feed the ledger only for records without findings; forget the first
  occurrence after a reuse) — envelope/verify.py, envelope/nonces.py;
- the nonce length rule (planted: ``<`` for ``!=``) — envelope/verify.py;
- MANIFEST_COUNT_MISMATCH is an error (planted: severity notice) — findings/codes.py;
- an unescaped ``#`` in an id (planted: only ``/`` refused) — records/address.py;
- a repeated ``event_id`` (planted: ``<`` for ``<=``; duplicates of a
  record key not reported) — chain/verify.py, migration/manifest.py, migration/gate.py;
- the ``hash_alg`` of an expected tip (planted: compare the tip hash only;
  the empty chain's genesis with the default algorithm) — chain/verify.py;
- a ``key_id`` whose dialogue is a prefix of the record's (planted:
  ``startswith`` for ``!=``) — envelope/verify.py.

Below them, tests that kill mutants scripts/mutation.sh found surviving
(docs/mutation.md), named after the behaviour they pin.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from chainaudit.chain.checkpoint import ChainExpectation, make_checkpoint, verify_checkpoint
from chainaudit.chain.events import MAX_INT, genesis_hash
from chainaudit.chain.verify import ChainPolicy, verify_events
from chainaudit.conformance.vectorgen.chain_build import Ev, build_chain, rechain
from chainaudit.conformance.vectorgen.manifest_build import (
    SIGNER_LABEL,
    audit_events,
    sample_manifest,
    sample_records,
    vector_key,
)
from chainaudit.envelope.nonces import NonceLedger, NonceLimits, fingerprint
from chainaudit.envelope.seal import NONCE_BYTES, aad_hash, seal
from chainaudit.envelope.verify import check_record, verify_envelopes
from chainaudit.errors import InputError, LocalFaultError
from chainaudit.findings import Finding, Result, Severity, codes
from chainaudit.keys.signing import (
    TRUSTED_KEYS_TYPE,
    TrustStore,
    private_key_from_label,
    public_bytes,
)
from chainaudit.migration.gate import gate_post
from chainaudit.migration.manifest import ManifestBuilder, leaves_line, public_key_bytes
from chainaudit.migration.proof import make_proof, verify_proof
from chainaudit.primitives.merkle import (
    InclusionCheck,
    ProofError,
    inclusion_proof,
    leaf_hash,
    proof_ranges,
    root_from_inclusion_proof,
    root_of,
    verify_inclusion,
)
from chainaudit.records import address as address_module
from chainaudit.records.address import Address, AddressError, unescape_component
from chainaudit.records.digest import (
    audit_record_key,
    canonical_number,
    canonical_record_json,
    jcs,
    record_digest,
    record_key,
)
from chainaudit.records.model import AuditEvent, EntityRecord, Record
from chainaudit.report.render import exit_code_for
from chainaudit.testing import dek, nonce, resolver_for, sealed_record
from chainaudit.testing import key_id_for as kid

PINNED = [public_key_bytes(vector_key(SIGNER_LABEL))]
MANIFEST, LEAVES = sample_manifest()
SPILL = NonceLimits(max_in_memory=1, partitions=2)


def codes_of(findings: Result | list[Finding]) -> list[str]:
    return [f.code.name for f in findings]


def run_chain(events: list[Ev], *expect: ChainExpectation) -> Result:
    policy = ChainPolicy(expectations=tuple(expect))
    return verify_events(((AuditEvent(e.chain_id, e.fields), e.store) for e in events), policy)


# --- migration/proof.py: verify-proof with the record ----------------------------------


def _edited_entity() -> tuple[EntityRecord, EntityRecord]:
    rec = next(r for r in sample_records() if isinstance(r, EntityRecord) and r.attributes)
    name = sorted(rec.attributes)[0]
    edited = dataclasses.replace(rec, attributes={**rec.attributes, name: {"S": "edited"}})
    return rec, edited


def test_verify_proof_of_a_record_whose_content_changed_is_proof_invalid() -> None:
    rec, edited = _edited_entity()
    assert record_key(edited) == record_key(rec)  # the key is in the proof...
    assert record_digest(edited) != record_digest(rec)  # ...the content is not
    doc = make_proof(MANIFEST, lambda: LEAVES.splitlines(keepends=True), record_key(rec))
    assert doc is not None
    assert verify_proof(doc, MANIFEST, PINNED, record=rec).ok
    result = verify_proof(doc, MANIFEST, PINNED, record=edited)
    assert codes_of(result) == ["PROOF_INVALID"]
    (f,) = result.findings
    assert f.expected == f"{record_key(rec)} {record_digest(rec).hex()}"
    assert f.actual == f"{record_key(rec)} {record_digest(edited).hex()}"
    assert not result.ok and exit_code_for(result) == 1


def _leaves() -> list[bytes]:
    return LEAVES.splitlines(keepends=True)


def test_prove_refuses_leaves_of_the_right_size_that_do_not_hash_to_the_root() -> None:
    """make_proof: size *or* root differing refuses the leaves file (MAN-6)."""
    lines = _leaves()
    key, _ = json.loads(lines[3])
    lines[3] = leaves_line(key, bytes(32))  # same count, same order, another digest
    with pytest.raises(InputError, match="does not hash to the manifest's Merkle root"):
        make_proof(MANIFEST, lambda: lines, key)


def test_prove_names_the_leaves_file_and_line_of_a_malformed_leaf(tmp_path: Path) -> None:
    path = tmp_path / "m.leaves"
    lines = _leaves()
    path.write_bytes(b"".join([lines[0], b"not a leaf\n", *lines[2:]]))
    with pytest.raises(InputError) as caught:
        make_proof(MANIFEST, path, "dek#d-1#1")
    assert caught.value.where == f"{path}:2"


def test_verify_proof_against_an_unsupported_manifest_says_so() -> None:
    doc = make_proof(MANIFEST, _leaves, "dek#d-1#1")
    assert doc is not None
    future = {k: v for k, v in MANIFEST.items() if k != "merkle"} | {"version": 2}
    result = verify_proof(doc, future, PINNED)  # no exception: the finding says why
    assert codes_of(result) == ["MANIFEST_VERSION_UNSUPPORTED"]
    broken = {k: v for k, v in MANIFEST.items() if k != "merkle"}
    with pytest.raises(InputError):
        verify_proof(doc, broken, PINNED)


def test_verify_proof_counts_one_proof() -> None:
    doc = make_proof(MANIFEST, _leaves, "dek#d-1#1")
    assert doc is not None
    assert verify_proof(doc, MANIFEST, PINNED).checked == Counter({"proofs": 1})


# --- chain/verify.py: genesis of a BLAKE3 chain -------------------------------


def test_genesis_of_a_blake3_chain_is_checked() -> None:
    good = build_chain("b3", 3, alg="blake3")
    assert good[0].fields["previous_hash"] == genesis_hash("b3", "blake3")
    assert run_chain(good).findings == []
    for wrong in (
        genesis_hash("b3", "sha256"),  # the right chain id, the wrong algorithm
        genesis_hash("other", "blake3"),  # the right algorithm, another chain
        "00" * 32,
    ):
        bad = build_chain("b3", 3, alg="blake3", previous_hash=wrong)
        result = run_chain(bad)
        assert codes_of(result) == ["CHAIN_GENESIS_MISMATCH"], wrong
        (f,) = result.findings
        assert (f.where, f.expected, f.actual) == (
            "chain:b3@0",
            genesis_hash("b3", "blake3"),
            wrong,
        )


def test_genesis_of_a_sha256_chain_is_not_the_blake3_one() -> None:
    bad = build_chain("s2", 3, alg="sha256", previous_hash=genesis_hash("s2", "blake3"))
    assert codes_of(run_chain(bad)) == ["CHAIN_GENESIS_MISMATCH"]


# --- envelope/verify.py: the aad_hash comparison ------------------------------

A = Address.of("d-1", "perspective", "01", "02")
B = Address.of("d-1", "perspective", "01", "03")


def _with_aad_hash(rec: EntityRecord, value: str) -> EntityRecord:
    assert rec.envelope is not None
    return dataclasses.replace(rec, envelope=dataclasses.replace(rec.envelope, aad_hash=value))


@pytest.mark.parametrize(
    "stored",
    [
        aad_hash(B),  # another address's hash
        aad_hash(A)[:-1] + ("0" if aad_hash(A)[-1] != "0" else "1"),  # the last digit differs
        "f" + aad_hash(A)[1:] if aad_hash(A)[0] != "f" else "e" + aad_hash(A)[1:],  # the first
        aad_hash(A).upper(),  # not the canonical lowercase form
        aad_hash(A)[:32],  # a prefix
        aad_hash(A) + "00",  # an extension
    ],
)
def test_aad_hash_comparison(stored: str) -> None:
    rec = sealed_record(A)
    assert check_record(rec) == []
    keyless = check_record(_with_aad_hash(rec, stored))
    assert codes_of(keyless) == ["AAD_HASH_MISMATCH"]
    assert keyless[0].expected == aad_hash(A)
    # With the key the ciphertext still opens for A: only the stored hash is wrong.
    keyed = check_record(_with_aad_hash(rec, stored), resolver_for(A))
    assert codes_of(keyed) == ["AAD_HASH_MISMATCH"]


# --- envelope/verify.py / envelope/nonces.py: the ledger after an earlier finding --------


def test_nonce_reuse_by_a_record_with_another_finding_is_still_reported() -> None:
    """ENV-5: every v1 envelope enters the ledger, whatever else is wrong with it."""
    k = kid(A)
    n = nonce("shared")
    first = EntityRecord(A, {}, seal(A, {"t": 1}, dek(k), k, n))
    # Same key and nonce, and a wrong aad_hash: two findings on one record.
    second = _with_aad_hash(EntityRecord(B, {}, seal(B, {"t": 2}, dek(k), k, n)), aad_hash(A))
    third = EntityRecord(
        Address.of("d-1", "perspective", "01", "04"),
        {},
        seal(Address.of("d-1", "perspective", "01", "04"), {"t": 3}, dek(k), k, n),
    )
    for limits in (None, SPILL):
        result = verify_envelopes([first, second, third], limits=limits)
        got = sorted((f.code.name, f.where) for f in result)
        assert got == [
            ("AAD_HASH_MISMATCH", str(B)),
            ("NONCE_REUSE", str(B)),
            ("NONCE_REUSE", str(third.address)),
        ], limits
        assert {f.extra["first"] for f in result if f.code is codes.NONCE_REUSE} == {str(A)}


def test_nonce_reuse_ledger_keeps_the_first_occurrence_after_a_finding() -> None:
    """A third record reusing the nonce after a first reuse is still reported,
    against the first occurrence — even when it is a copy of the second. In
    memory, and spilled (a partition checked in memory, and one of a single
    repeated fingerprint)."""
    k, n = "dek#d#1", bytes(12)
    fillers = [(k, i.to_bytes(12, "big"), f"f{i}") for i in range(1, 8)]
    for limits, before in ((None, []), (SPILL, []), (NonceLimits(8, 2), fillers)):
        with NonceLedger(limits) as ledger:
            for row in before:
                ledger.add(*row)
            ledger.add(k, n, "a", ciphertext=b"one")
            ledger.add(k, n, "b", ciphertext=b"two")  # first reuse
            ledger.add(k, n, "c", ciphertext=b"three")  # a third record
            ledger.add(k, n, "b", ciphertext=b"two")  # the second one read again
            got = sorted((f.extra["first"], f.where) for f in ledger.findings())
            spilled = ledger.stats["spilled"]
        assert got == [("a", "b"), ("a", "b"), ("a", "c")], limits
        assert (spilled > 0) == (limits is not None)


# --- envelope/verify.py: the nonce length rule ---------------------------------


@pytest.mark.parametrize("length", [0, 1, NONCE_BYTES - 1, NONCE_BYTES + 1, 16, 32])
def test_nonce_length_rule(length: int) -> None:
    rec = sealed_record(A)
    assert rec.envelope is not None
    assert len(rec.envelope.nonce) == NONCE_BYTES and check_record(rec, resolver_for(A)) == []
    bad = dataclasses.replace(
        rec, envelope=dataclasses.replace(rec.envelope, nonce=bytes(range(length)))
    )
    keyless = check_record(bad)
    assert codes_of(keyless) == ["NONCE_LENGTH"]
    assert keyless[0].actual == f"{length} bytes"
    # The keyed checks do not run on an unusable nonce: no misleading diagnosis.
    assert codes_of(check_record(bad, resolver_for(A))) == ["NONCE_LENGTH"]


# --- findings/codes.py / migration/gate.py: manifest count severity ------------------------------


def test_manifest_count_mismatch_is_an_error() -> None:
    assert codes.MANIFEST_COUNT_MISMATCH.severity is Severity.ERROR
    recs = sample_records()
    del recs[2]
    result = gate_post(MANIFEST, iter(recs), pinned=PINNED, leaves=None)
    counts = [f for f in result if f.code is codes.MANIFEST_COUNT_MISMATCH]
    assert [f.where for f in counts] == ["totals", "dialogue:d-1"]
    assert all(f.severity is Severity.ERROR for f in counts)
    only = Result(checked=Counter({"records": 1}))
    only.extend(counts)
    assert not only.ok and exit_code_for(only) == 1
    assert only.errors == counts


# --- records/address.py: an unescaped '#' in an id -------------------------------------


def test_unescaped_hash_in_an_id_is_refused() -> None:
    with pytest.raises(AddressError, match="unescaped '#'"):
        unescape_component("d#1")
    with pytest.raises(AddressError, match="unescaped '#'"):
        Address.from_dynamodb("dialogue#d#1", "meta")
    with pytest.raises(AddressError, match="unescaped '#'"):
        Address.from_sql("d#1", "meta", "")
    with pytest.raises(AddressError, match="unescaped '#'"):
        Address.parse("dialogue:d#1/entity:meta")
    with pytest.raises(AddressError, match="unescaped '#'"):
        Address("d#1", "meta", ())  # type: ignore[arg-type]
    # The escaped form is the id "d#1".
    a = Address.from_dynamodb("dialogue#d%231", "meta")
    assert a == Address.of("d#1", "meta") and a.dialogue_id == "d#1"


# --- a repeated event_id --------------------------------------------------------


def test_repeated_event_id_in_a_chain_is_uuid_backwards() -> None:
    evs = build_chain("c", 4)
    evs[2].fields.update(event_id=evs[1].fields["event_id"], timestamp=evs[1].fields["timestamp"])
    rechain(evs, 2)  # a well-sealed chain whose only fault is the repeated id
    result = run_chain(evs)
    assert codes_of(result) == ["CHAIN_UUID_BACKWARDS"]
    assert result.findings[0].where == "chain:c@2"


def _repeated_event_id() -> tuple[list[Record], AuditEvent]:
    events = audit_events("crypto", 3)
    again = AuditEvent(
        "crypto", {**events[2].fields, "event_id": events[1].fields["event_id"]}, origin="x:9"
    )
    assert record_key(again) == record_key(events[1])
    return [*sample_records(), again], again


def test_repeated_event_id_is_a_duplicate_record_key_in_a_manifest() -> None:
    records, again = _repeated_event_id()
    with ManifestBuilder() as b:
        b.add_all(records)
        dups = b.duplicate_findings()
    assert [(f.code.name, f.where) for f in dups] == [("RECORD_KEY_DUPLICATE", record_key(again))]
    assert dups[0].severity is Severity.ERROR


def test_repeated_event_id_is_a_duplicate_record_key_at_the_gate() -> None:
    records, again = _repeated_event_id()
    result = gate_post(
        MANIFEST,
        iter(records),
        pinned=PINNED,
        leaves=LEAVES.splitlines(keepends=True),
    )
    assert ("RECORD_KEY_DUPLICATE", record_key(again)) in [(f.code.name, f.where) for f in result]
    assert not result.ok


# --- chain/verify.py: the hash_alg of an expected tip ----------------------------


def test_tip_hash_alg_is_compared() -> None:
    evs = build_chain("c", 4)  # sha256
    tip = evs[-1].hash
    for alg in (None, "sha256"):
        assert run_chain(evs, ChainExpectation("c", 4, tip, alg)).findings == []
    result = run_chain(evs, ChainExpectation("c", 4, tip, "blake3"))
    assert codes_of(result) == ["CHAIN_TIP_MISMATCH"]
    assert result.findings[0].expected == f"{tip} (blake3)"
    assert result.findings[0].actual == f"{tip} (sha256)"


def test_tip_hash_alg_of_an_empty_chain_picks_its_genesis() -> None:
    for alg in ("sha256", "blake3"):
        ok = ChainExpectation("e", 0, genesis_hash("e", alg), alg)
        assert codes_of(run_chain([], ok)) == [], alg
    wrong = ChainExpectation("e", 0, genesis_hash("e", "sha256"), "blake3")
    assert codes_of(run_chain([], wrong)) == ["CHAIN_TIP_MISMATCH"]


# --- envelope/verify.py: a key_id dialogue compared as a prefix --------------------


@pytest.mark.parametrize(
    ("record_dialogue", "key_dialogue"),
    [("d-10", "d-1"), ("d-1", "d-10"), ("d-1", "d-"), ("d-1x", "d-1")],
)
def test_key_id_dialogue_is_compared_whole_not_as_a_prefix(
    record_dialogue: str, key_dialogue: str
) -> None:
    address = Address.of(record_dialogue, "meta")
    k = f"dek#{key_dialogue}#1"
    rec = EntityRecord(address, {}, seal(address, {"t": 1}, dek(k), k, nonce("p")))
    result = check_record(rec)
    assert codes_of(result) == ["KEY_ID_WRONG_DIALOGUE"]
    assert (result[0].expected, result[0].actual) == (record_dialogue, key_dialogue)
    # The right dialogue's key is accepted.
    own = f"dek#{record_dialogue}#1"
    assert (
        check_record(EntityRecord(address, {}, seal(address, {}, dek(own), own, nonce("q")))) == []
    )


# --- primitives/merkle.py: a failed inclusion check says why ----------------------------------

_LEAVES5 = [leaf_hash(f"k{i}", bytes([i]) * 32) for i in range(5)]
_ROOT5 = root_of(_LEAVES5)


def test_inclusion_check_reports_the_outcome_and_both_roots() -> None:
    proof = inclusion_proof(_LEAVES5, 5, 2)
    assert verify_inclusion(2, 5, _LEAVES5[2], proof, _ROOT5) == InclusionCheck(
        True, _ROOT5, _ROOT5
    )
    wrong = verify_inclusion(2, 5, _LEAVES5[3], proof, _ROOT5)
    calculated = root_from_inclusion_proof(2, 5, _LEAVES5[3], proof)
    assert wrong == InclusionCheck(False, _ROOT5, calculated, "the proof leads to a different root")
    assert wrong.ok is False and calculated != _ROOT5
    outside = verify_inclusion(5, 5, _LEAVES5[2], proof, _ROOT5)
    assert outside == InclusionCheck(
        False, _ROOT5, None, "leaf index 5 is outside a tree of size 5"
    )
    assert outside.ok is False


@pytest.mark.parametrize(
    ("index", "size", "leaf", "proof", "message"),
    [
        (5, 5, _LEAVES5[0], [], "leaf index 5 is outside a tree of size 5"),
        (-1, 5, _LEAVES5[0], [], "leaf index -1 is outside a tree of size 5"),
        (0, 5, _LEAVES5[0][:31], [], "leaf hash is 31 bytes, not 32"),
        (0, 2, _LEAVES5[0], [_LEAVES5[1][:31]], "proof element 0 is 31 bytes, not 32"),
        (0, 2, _LEAVES5[0], [_LEAVES5[1], _LEAVES5[2]], "proof has 2 elements, more than"),
        (0, 5, _LEAVES5[0], [_LEAVES5[1]], "proof has 1 elements, fewer than"),
    ],
)
def test_inclusion_proof_errors_name_the_fault(
    index: int, size: int, leaf: bytes, proof: list[bytes], message: str
) -> None:
    with pytest.raises(ProofError, match=re.escape(message)):
        root_from_inclusion_proof(index, size, leaf, proof)


def test_inclusion_proof_of_a_short_input_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="expected 5 leaves, the input ended early"):
        inclusion_proof([], 5, 0)  # the proven leaf itself is missing too
    with pytest.raises(ValueError, match="expected 5 leaves, the input ended early"):
        inclusion_proof(_LEAVES5[:3], 5, 0)


def test_leaf_hash_and_proof_ranges_name_their_fault() -> None:
    with pytest.raises(ValueError, match="a record digest is 32 bytes, got 31"):
        leaf_hash("k", bytes(31))
    with pytest.raises(ProofError, match="leaf index 5 is outside a tree of size 5"):
        proof_ranges(5, 5)


# --- records/digest.py: the canonical record form (MAN-1.2, MAN-1.3) ---------------------

_D = Address.of("d-1", "meta")


def _canonical(attrs: dict[str, Any]) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(canonical_record_json(EntityRecord(_D, attrs, None)))
    return doc


def test_record_digest_canonicalises_sets_numbers_lists_and_maps() -> None:
    doc = _canonical(
        {
            "ss": {"SS": ["b", "a", "é"]},
            "ns": {"NS": ["1.50", "+1", "10"]},
            "bs": {"BS": [b"\x02", b"\x01"]},
            "l": {"L": [{"N": "1.50"}, {"SS": ["y", "x"]}]},
            "m": {"M": {"k": {"N": "2.0"}, "s": {"NS": ["3", "2.00"]}}},
        }
    )
    assert doc["ss"] == {"SS": ["a", "b", "é"]}
    assert doc["ns"] == {"NS": ["1", "1.5", "10"]}
    assert doc["bs"] == {"BS": ["AQ==", "Ag=="]}
    assert doc["l"] == {"L": [{"N": "1.5"}, {"SS": ["x", "y"]}]}
    assert doc["m"] == {"M": {"k": {"N": "2"}, "s": {"NS": ["2", "3"]}}}
    same = EntityRecord(_D, {"ns": {"NS": ["10", "1", "1.5"]}}, None)
    assert record_digest(same) == record_digest(
        EntityRecord(_D, {"ns": {"NS": ["1.5", "+1", "10"]}}, None)
    )


def test_canonical_number_keeps_all_38_digits() -> None:
    assert canonical_number("12345678901234567890123456789012345678") == (
        "12345678901234567890123456789012345678"
    )
    assert canonical_number("1.2345678901234567890123456789012345678E+5") == (
        "123456.78901234567890123456789012345678"
    )


def test_jcs_is_rfc8785_for_numbers_and_astral_member_names() -> None:
    values: list[Any] = [
        {"a": 1.0, "b": [1e21, 0.1]},
        {"\U0001f600": "x", "\uffff": "y"},  # UTF-16 order differs from code points
        [{"n": 2.50}],
        [1.0, 1e21],  # a list of numbers is not plain either
        1.0,
    ]
    for value in values:
        assert jcs(value) == rfc8785.dumps(value), value


def test_jcs_of_a_lone_surrogate_is_a_unicode_error() -> None:
    for value in ({"a": "\ud800"}, ["\udfff"], "\ud800"):
        with pytest.raises(UnicodeEncodeError):
            jcs(value)


def test_audit_record_key_escapes_exactly_percent_slash_and_controls() -> None:
    assert audit_record_key("X a%/\x1f\x7f\x80é", "e") == "audit:X a%25%2F%1F%7F\x80é/e"


def test_record_key_of_an_audit_event_without_event_id_says_so() -> None:
    with pytest.raises(ValueError, match="audit event in chain 'c' has no string event_id"):
        record_key(AuditEvent("c", {"seq": 0}))


# --- keys/signing.py: the trusted-keys file ------------------------------------------

_SIGNER = private_key_from_label("focused")


def _trusted_keys(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "trusted-keys.json"
    path.write_text(text, encoding="utf-8")
    return path


def test_trusted_keys_file_that_is_a_private_seed_is_refused_unechoed(tmp_path: Path) -> None:
    seed = "0123456789abcdef" * 4
    with pytest.raises(InputError, match="looks like a signing-key file") as caught:
        TrustStore.load(_trusted_keys(tmp_path, seed + "\n"))
    assert seed not in str(caught.value)
    for other in (seed.upper(), seed + "0", seed[:-1], "X" * 64):  # not a seed: read as JSON
        with pytest.raises(InputError, match="JSON expected"):
            TrustStore.load(_trusted_keys(tmp_path, other))


@pytest.mark.parametrize("key", [5, None, "zz" * 32, "AB" * 32, "ab" * 31])
def test_trusted_keys_entry_that_is_not_a_lowercase_hex_key_is_refused(
    tmp_path: Path, key: object
) -> None:
    doc = {"type": TRUSTED_KEYS_TYPE, "version": 1, "keys": [public_bytes(_SIGNER).hex(), key]}
    with pytest.raises(InputError, match=re.escape("keys[1] is not 64 lowercase hex digits")):
        TrustStore.load(_trusted_keys(tmp_path, json.dumps(doc)))


def test_trusted_keys_file_is_read_as_utf8(tmp_path: Path) -> None:
    doc = {"type": TRUSTED_KEYS_TYPE, "version": 1, "keys": [public_bytes(_SIGNER).hex()]}
    text = json.dumps(doc, ensure_ascii=False).replace("{", '{"note": "clé ✓", ', 1)
    path = _trusted_keys(tmp_path, text)
    store = TrustStore.load(path)
    assert list(store.keys.values()) == [public_bytes(_SIGNER)]
    # Whatever the locale: in an ASCII one (C locale, no coercion) too.
    env = {**os.environ, "LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}
    code = "import sys; from pathlib import Path; from chainaudit.keys.signing import TrustStore; "
    code += "print(len(TrustStore.load(Path(sys.argv[1])).keys))"
    run = subprocess.run(
        [sys.executable, "-c", code, str(path)], env=env, capture_output=True, text=True
    )
    assert (run.returncode, run.stdout.strip()) == (0, "1"), run.stderr[-500:]


# --- chain/checkpoint.py: the shape of a checkpoint -----------------------------------


def _checkpoint(**changes: object) -> dict[str, Any]:
    cp = make_checkpoint(_SIGNER, "c", 3, "ab" * 32, "sha256", "2026-01-03T00:00:00.000Z")
    cp.update(changes)
    return cp


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"chain_id": 5}, "chain_id must be a non-empty string"),
        ({"chain_id": ""}, "chain_id must be a non-empty string"),
        ({"count": MAX_INT + 1}, "count must be a non-negative integer"),
        ({"hash_alg": "sha1"}, "hash_alg 'sha1' is not one of sha256, blake3"),
    ],
)
def test_checkpoint_shape_problems_are_named(changes: dict[str, object], message: str) -> None:
    got = verify_checkpoint(_checkpoint(**changes), TrustStore.of([public_bytes(_SIGNER)]))
    assert isinstance(got, Finding) and got.code is codes.CHECKPOINT_MALFORMED
    assert got.message == message


def test_checkpoint_count_may_be_the_largest_json_integer() -> None:
    cp = make_checkpoint(_SIGNER, "c", MAX_INT, "ab" * 32, "sha256", "2026-01-03T00:00:00.000Z")
    got = verify_checkpoint(cp, TrustStore.of([public_bytes(_SIGNER)]))
    assert isinstance(got, ChainExpectation) and got.count == MAX_INT


# --- chain/boundary.py: the continuity hook passes the pinned keys on --------------------


# --- envelope/nonces.py: the ledger's report, its bookkeeping and its spill files -------------


def test_nonce_reuse_by_a_copied_record_says_the_ciphertext_is_identical() -> None:
    with NonceLedger() as ledger:
        ledger.add("k", bytes(12), "a", ciphertext=b"same")
        ledger.add("k", bytes(12), "b", ciphertext=b"same")  # a copy: cut-and-paste
        ledger.add("k", bytes(12), "c", ciphertext=b"other")  # a writer's reuse
        copy, reuse = ledger.findings()
    assert copy.extra == {"key_id": "k", "first": "a", "second": "b", "identical_ciphertext": True}
    assert copy.message == (
        "the nonce under key k is also used by a; "
        "the ciphertext is identical too: this record is a copy of that one"
    )
    assert reuse.extra == {"key_id": "k", "first": "a", "second": "c"}
    assert reuse.message == "the nonce under key k is also used by a"


def test_nonce_ledger_stats_in_memory() -> None:
    with NonceLedger() as ledger:
        for where in "abc":
            ledger.add("k", bytes(12), where)
        ledger.add("k", bytes(11) + b"\x01", "d")
        list(ledger.findings())
        assert ledger.stats == {
            "added": 4,
            "spilled": 0,
            "splits": 0,
            "max_resident": 2,
            "partitions_checked": 0,
        }


@pytest.mark.parametrize("distinct", [100, 300])
def test_nonce_ledger_stats_when_spilled(tmp_path: Path, distinct: int) -> None:
    """Every partition, and every bucket of a split, is checked exactly once."""
    limits = NonceLimits(max_in_memory=4, partitions=2, tmp_dir=str(tmp_path))
    with NonceLedger(limits) as ledger:
        for i in range(300):
            ledger.add("k", (i % distinct).to_bytes(12, "big"), f"a{i}")
        found = list(ledger.findings())
        stats = dict(ledger.stats)
    assert len(found) == 300 - distinct
    assert stats["added"] == stats["spilled"] == 300
    assert stats["partitions_checked"] == 2 + 15 * stats["splits"]
    assert stats["splits"] > 0
    assert stats["max_resident"] <= 4


def test_nonce_ledger_checks_a_partition_of_exactly_the_limit_in_memory() -> None:
    # Two distinct fingerprints in partition 0 of 2 and one in partition 1: the
    # ledger spills at the third; partition 0 then holds 3 entries (the limit)
    # with the repeat, and is checked in memory, unsplit.
    candidates = [i.to_bytes(12, "big") for i in range(64)]
    even = [n for n in candidates if fingerprint("k", n)[0] % 2 == 0]
    odd = [n for n in candidates if fingerprint("k", n)[0] % 2 == 1]
    with NonceLedger(NonceLimits(max_in_memory=3, partitions=2)) as ledger:
        for where, n in (("a", even[0]), ("b", even[1]), ("c", odd[0]), ("again", even[0])):
            ledger.add("k", n, where)
        assert [f.where for f in ledger.findings()] == ["again"]
        assert ledger.stats["spilled"] == 4 and ledger.stats["splits"] == 0
        assert ledger.stats["partitions_checked"] == 2


def test_nonce_ledger_spills_into_its_own_directory_under_tmp_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[object] = []
    real = tempfile.TemporaryFile

    def temporary_file(*args: Any, **kwargs: Any) -> Any:
        made.append(kwargs.get("dir"))
        return real(*args, **kwargs)

    monkeypatch.setattr(tempfile, "TemporaryFile", temporary_file)
    limits = NonceLimits(max_in_memory=2, partitions=2, tmp_dir=str(tmp_path))
    cwd_before = sorted(os.listdir())
    with NonceLedger(limits) as ledger:
        for i in range(40):
            ledger.add("k", i.to_bytes(12, "big"), f"a{i}")
        spill = Path(str(ledger._dir))
        assert spill.parent == tmp_path and spill.name.startswith("chainaudit-nonces-")
        assert sorted(os.listdir(spill)) == ["addresses", "index", "p000", "p001"]
        list(ledger.findings())
    assert made and all(d == str(spill) for d in made)  # split buckets too
    assert sorted(os.listdir()) == cwd_before and os.listdir(tmp_path) == []


def test_nonce_ledger_names_an_unwritable_tmp_dir(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    ledger = NonceLedger(NonceLimits(max_in_memory=1, partitions=2, tmp_dir=str(missing)))
    with pytest.raises(
        LocalFaultError, match=re.escape(f"{missing}: cannot write the nonce ledger")
    ):
        ledger.add("k", bytes(12), "a")


def test_nonce_ledger_close_never_fails(tmp_path: Path) -> None:
    class Unclosable:
        def close(self) -> None:
            raise OSError("disk full")

    ledger = NonceLedger(NonceLimits(max_in_memory=1, partitions=2, tmp_dir=str(tmp_path)))
    ledger.add("k", bytes(12), "a")
    ledger._parts.append(Unclosable())  # type: ignore[arg-type]
    shutil.rmtree(str(ledger._dir))  # removed behind its back
    ledger.close()
    ledger.close()


# --- records/address.py: the fast paths agree with the full parsers -------------------------

_ADDRESS_BITS = st.sampled_from(
    ["dialogue", ":", "#", "/", "entity", "meta", "perspective", "event", "ref", "01", "02",
     "%23", "%2F", "%", "d-1", "a", "", "é", "\x00", "DIALOGUE", "2026-01-02T03:04:05Z"]
)  # fmt: skip


def _full(parse: Any, *args: str) -> Address | None:
    """The full parser's answer, with the fast path switched off."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(address_module, "_fast_parse", lambda text: None)
        mp.setattr(address_module, "_fast_from_dynamodb", lambda pk, sk: None)
        try:
            result: Address = parse(*args)
        except AddressError:
            return None
    return result


@settings(max_examples=400)
@given(st.lists(_ADDRESS_BITS, max_size=9).map("".join))
def test_address_fast_paths_accept_exactly_what_the_full_parsers_accept(tail: str) -> None:
    for text in (tail, "dialogue:" + tail, "dialogue:d-1/entity:" + tail):
        want = _full(Address.parse, text)
        try:
            got: Address | None = Address.parse(text)
        except AddressError:
            got = None
        assert got == want, text
        if got is not None:
            assert str(got) == text and got.dialogue == want.dialogue  # type: ignore[union-attr]
    for pk, sk in (("dialogue#d-1", tail), ("dialogue#" + tail, "meta"), (tail, "meta")):
        want = _full(Address.from_dynamodb, pk, sk)
        try:
            got = Address.from_dynamodb(pk, sk)
        except AddressError:
            got = None
        assert got == want, (pk, sk)


def test_address_fast_path_refuses_an_over_long_address() -> None:
    from chainaudit.records.address import MAX_ADDRESS_BYTES

    d, x, y = "d" * 255, "x" * 255, "y" * 255
    fixed = len(f"dialogue:{d}/entity:ref/{x}#{y}#")
    for extra in range(-2, 3):
        z = "z" * (MAX_ADDRESS_BYTES - fixed + extra)
        text = f"dialogue:{d}/entity:ref/{x}#{y}#{z}"
        assert len(text) == MAX_ADDRESS_BYTES + extra
        want = _full(Address.parse, text)
        try:
            got: Address | None = Address.parse(text)
        except AddressError:
            got = None
        assert got == want and (got is not None) == (extra <= 0), extra
        pk, sk = f"dialogue#{d}", f"ref#{x}#{y}#{z}"
        try:
            pk_got: Address | None = Address.from_dynamodb(pk, sk)
        except AddressError:
            pk_got = None
        assert pk_got == _full(Address.from_dynamodb, pk, sk) == want, extra


def test_nonce_ledger_stats_of_an_empty_ledger_and_of_one_repeated_nonce() -> None:
    with NonceLedger() as ledger:
        assert list(ledger.findings()) == []
        assert set(ledger.stats.values()) == {0}
    candidates = [i.to_bytes(12, "big") for i in range(64)]
    even = [n for n in candidates if fingerprint("k", n)[0] % 2 == 0]
    odd = [n for n in candidates if fingerprint("k", n)[0] % 2 == 1]
    for repeated, fillers in ((even[0], odd[:2]), (odd[0], even[:2])):  # either partition
        with NonceLedger(NonceLimits(max_in_memory=2, partitions=2)) as ledger:
            for i, n in enumerate(fillers):
                ledger.add("k", n, f"f{i}")  # spills at the second
            for i in range(30):
                ledger.add("k", repeated, f"a{i}")
            assert len(list(ledger.findings())) == 29
            # one partition of a single repeated fingerprint (streamed), one of the fillers
            assert ledger.stats["partitions_checked"] == 2 and ledger.stats["splits"] == 0
            assert ledger.stats["max_resident"] == 2


def test_proof_ranges_split_at_the_largest_power_of_two_below() -> None:
    """RFC 9162 §2.1.1: the left subtree holds the largest power of two below n."""
    assert proof_ranges(0, 5) == [(1, 2), (2, 4), (4, 5)]
    assert proof_ranges(4, 5) == [(0, 4)]
    assert proof_ranges(2, 3) == [(0, 2)]
    assert proof_ranges(6, 8) == [(7, 8), (4, 6), (0, 4)]


# --- report/render.py: the exit code a report states, and errors listed first --------------


def test_report_exit_code_is_the_error_s_only_when_both_are_stated() -> None:
    from chainaudit.report.render import Summary, report_exit_code

    findings = Result(checked=Counter({"records": 1}))
    findings.add(Finding(codes.MANIFEST_COUNT_MISMATCH, "totals", "differs"))
    assert report_exit_code(findings, Summary("verify", "x", error="boom", error_exit=3)) == 3
    assert report_exit_code(findings, Summary("verify", "x", error="boom")) == 1
    assert report_exit_code(findings, Summary("verify", "x", error_exit=3)) == 1
    assert report_exit_code(Result(checked=Counter({"records": 1})), Summary("verify", "x")) == 0


def test_report_lists_errors_before_unverified_before_notices() -> None:
    from chainaudit.report.render import _codes_in_order

    result = Result(checked=Counter({"records": 1}))
    for code in (codes.KEY_SHREDDED, codes.KEY_MISSING, codes.NONCE_REUSE):
        result.add(Finding(code, "x", "m"))
    assert [c.severity for c in _codes_in_order(result)] == [
        Severity.ERROR,
        Severity.UNVERIFIED,
        Severity.NOTICE,
    ]
