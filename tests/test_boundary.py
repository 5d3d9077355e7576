"""Migration-boundary events (CHAIN-12): statement, signing, crossing, replay."""

from __future__ import annotations

from typing import Any

import rfc8785

from chainaudit.chain.boundary import DOMAIN_BOUNDARY, STATEMENT_FIELDS, message, statement
from chainaudit.chain.events import BOUNDARY_FIELDS, CORE_FIELDS, genesis_hash, seal
from chainaudit.chain.verify import ChainPolicy, verify_events
from chainaudit.conformance.vectorgen.chain import tweak
from chainaudit.conformance.vectorgen.chain_build import (
    STORE_A,
    STORE_B,
    T0_MS,
    Ev,
    boundary_event,
    build_chain,
)
from chainaudit.keys.signing import TrustStore, private_key_from_label, public_bytes
from chainaudit.records.model import AuditEvent

SIGNER = "migrator"
TRUST = TrustStore.of([public_bytes(private_key_from_label(SIGNER))])


def codes_of(events: list[Ev]) -> list[str]:
    result = verify_events(
        ((AuditEvent(e.chain_id, e.fields), e.store) for e in events), ChainPolicy(TRUST)
    )
    return [f"{f.code.name}@{f.extra['seq']}" for f in result.findings]


def bridged(cut: int = 4, alg: str = "blake3", chain_id: str = "c") -> list[Ev]:
    src = build_chain(chain_id, cut)
    b = boundary_event(SIGNER, src, chain_id, chain_id, T0_MS + cut * 1000 + 500, alg)
    rest = build_chain(chain_id, 3, alg, STORE_B, first_seq=cut + 1, previous_hash=b.hash)
    return [*src, b, *rest]


def test_statement_is_jcs_of_the_signed_fields_with_domain() -> None:
    b = bridged()[4]
    st = statement(b.fields)
    assert st["type"] == "chainaudit/migration-boundary" and st["version"] == 1
    assert set(st) == {"type", "version", *STATEMENT_FIELDS}
    assert message(b.fields) == DOMAIN_BOUNDARY + rfc8785.dumps(st)


def test_every_boundary_field_is_signed_hashed_or_constant() -> None:
    """CHAIN-12: only event_hash and signature are outside the statement;
    seq/previous_hash are tied to source_count/source_tip_hash, and
    event_kind/boundary_version are constants."""
    outside = set(CORE_FIELDS) | set(BOUNDARY_FIELDS)
    outside -= set(STATEMENT_FIELDS)
    assert outside == {
        "seq", "previous_hash", "event_hash", "event_kind", "boundary_version", "signature",
    }  # fmt: skip


def test_a_bridged_chain_verifies_as_one_chain_across_an_algorithm_change() -> None:
    evs = bridged()
    assert evs[0].fields["hash_alg"] == "sha256" and evs[-1].fields["hash_alg"] == "blake3"
    assert codes_of(evs) == []


def test_boundary_from_an_empty_source() -> None:
    b = boundary_event(SIGNER, [], "c", "c", T0_MS, "sha256")
    assert b.fields["source_tip_hash"] == genesis_hash("c")
    assert codes_of([b]) == []


def test_target_alone_is_accepted_on_the_signature() -> None:
    assert codes_of(bridged()[4:]) == []


def test_the_same_cut_without_the_boundary_is_reported() -> None:
    evs = bridged()
    unbridged = build_chain("c", 3, first_seq=4, previous_hash=evs[3].hash, store=STORE_B)
    assert codes_of(evs[:4] + unbridged)[0] == "CHAIN_BOUNDARY_MISSING@4"
    assert codes_of(unbridged) == ["CHAIN_BOUNDARY_MISSING@4"]


def test_boundary_replayed_into_another_chain() -> None:
    evs = bridged()
    other = build_chain("d", 4)
    replay = Ev("d", STORE_B, dict(evs[4].fields))
    assert codes_of([*other, replay])[0] == "BOUNDARY_REPLAYED@4"


def test_renamed_chain_is_checked_against_the_source_at_the_end() -> None:
    legacy = build_chain("legacy", 4)
    b = boundary_event(SIGNER, legacy, "legacy", "new", T0_MS + 4500, "sha256")
    # Interleaved: the boundary arrives before the source chain has ended.
    assert codes_of([*legacy[:2], b, *legacy[2:]]) == []
    late = Ev("legacy", STORE_A, build_chain("legacy", 5)[4].fields)
    assert codes_of([*legacy, b, late]) == ["BOUNDARY_SOURCE_MISMATCH@4"]


def test_changing_any_field_breaks_the_crossing() -> None:
    evs = bridged()
    for name, value in evs[4].fields.items():
        for reseal in (False, True):
            fields: dict[str, Any] = dict(evs[4].fields)
            fields[name] = tweak(name, value)
            if reseal:
                fields = seal(fields)
            if reseal and name == "event_hash":
                continue  # resealing recomputes the field that was changed
            got = codes_of([*evs[:4], Ev("c", STORE_B, fields), *evs[5:]])
            assert got, (name, reseal)


def test_a_duplicated_boundary_is_a_duplicate_not_a_second_crossing() -> None:
    evs = bridged()
    assert codes_of([*evs[:5], evs[4].copy(), *evs[5:]]) == ["CHAIN_DUPLICATE@4"]
