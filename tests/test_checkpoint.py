"""Signed checkpoints (CHAIN-11): signing, verification, and consistency."""

from __future__ import annotations

from typing import Any

import rfc8785

from chainaudit.chain.checkpoint import (
    DOMAIN_CHECKPOINT,
    ChainExpectation,
    make_checkpoint,
    message,
    verify_checkpoint,
)
from chainaudit.chain.events import genesis_hash
from chainaudit.chain.verify import ChainPolicy, verify_events
from chainaudit.conformance.vectorgen.chain_build import build_chain, rechain
from chainaudit.findings import Finding, codes
from chainaudit.keys.signing import TrustStore, private_key_from_label, public_bytes, verify
from chainaudit.records.model import AuditEvent

KEY = private_key_from_label("cp")
TRUST = TrustStore.of([public_bytes(KEY)])
TIME = "2026-01-03T00:00:00.000Z"


def _cp(count: int, tip: str, alg: str = "sha256") -> dict[str, Any]:
    return make_checkpoint(KEY, "c", count, tip, alg, TIME)


def test_signature_covers_the_jcs_statement_with_domain_prefix() -> None:
    cp = _cp(3, "ab" * 32)
    statement = {k: v for k, v in cp.items() if k != "signature"}
    assert message(statement) == DOMAIN_CHECKPOINT + rfc8785.dumps(statement)
    assert verify(public_bytes(KEY), bytes.fromhex(cp["signature"]), message(statement))
    got = verify_checkpoint(cp, TRUST)
    assert got == ChainExpectation("c", 3, "ab" * 32, "sha256", "checkpoint", "checkpoint")


def test_every_statement_member_is_signed() -> None:
    cp = _cp(3, "ab" * 32)
    changes = {"chain_id": "d", "count": 4, "tip_hash": "cd" * 32, "hash_alg": "blake3",
               "time": "2026-01-03T00:00:01.000Z"}  # fmt: skip
    for name, value in changes.items():
        got = verify_checkpoint(dict(cp, **{name: value}), TRUST)
        assert isinstance(got, Finding) and got.code is codes.CHECKPOINT_SIGNATURE_INVALID, name
    got = verify_checkpoint(dict(cp, signer_key_id="00" * 32), TRUST)
    assert isinstance(got, Finding) and got.code is codes.CHECKPOINT_SIGNER_UNTRUSTED


def test_malformed_checkpoints() -> None:
    cp = _cp(3, "ab" * 32)
    for bad in (
        dict(cp, type="x"),
        dict(cp, version=2),
        dict(cp, version=True),
        dict(cp, count=-1),
        dict(cp, count=True),
        dict(cp, tip_hash="AB" * 32),
        dict(cp, hash_alg="md5"),
        dict(cp, time="yesterday"),
        dict(cp, extra=1),
        {k: v for k, v in cp.items() if k != "signature"},
    ):
        got = verify_checkpoint(bad, TRUST)
        assert isinstance(got, Finding) and got.code is codes.CHECKPOINT_MALFORMED


def _run(events: list[Any], *cps: dict[str, Any]) -> list[str]:
    exps = []
    for cp in cps:
        got = verify_checkpoint(cp, TRUST)
        assert isinstance(got, ChainExpectation)
        exps.append(got)
    result = verify_events(
        (AuditEvent(e.chain_id, e.fields) for e in events), ChainPolicy(TRUST, tuple(exps))
    )
    return [f"{f.code.name}@{f.extra['seq']}" for f in result.findings]


def test_chain_that_grew_is_consistent_with_every_earlier_checkpoint() -> None:
    chain = build_chain("c", 10)
    cps = [_cp(n, chain[n - 1].hash) for n in range(1, 11)]
    assert _run(chain, *cps, _cp(0, genesis_hash("c"))) == []


def test_truncation_at_every_length_is_reported_where_events_end() -> None:
    chain = build_chain("c", 6)
    cp = _cp(6, chain[-1].hash)
    for k in range(6):
        assert _run(chain[:k], cp) == [f"CHAIN_TRUNCATED@{k}"]


def test_rewritten_history_diverges_at_each_checkpoint_after_the_edit() -> None:
    chain = build_chain("c", 8)
    cps = [_cp(n, chain[n - 1].hash) for n in (2, 5, 8)]
    forged = [e.copy() for e in chain]
    forged[3].fields["principal"] = "eve"
    rechain(forged, 3)
    assert _run(forged, *cps) == ["CHAIN_TIP_MISMATCH@4", "CHAIN_TIP_MISMATCH@7"]


def test_hash_alg_of_the_tip_is_part_of_the_checkpoint() -> None:
    chain = build_chain("c", 3)
    assert _run(chain, _cp(3, chain[-1].hash, "blake3")) == ["CHAIN_TIP_MISMATCH@2"]


def test_empty_chain_checkpoint_must_hold_the_genesis_value() -> None:
    assert _run([], _cp(0, genesis_hash("c"))) == []
    assert _run([], _cp(0, "00" * 32)) == ["CHAIN_TIP_MISMATCH@0"]
    # Reported at position 0 also when the chain has grown past it (CHAIN-11).
    assert _run(build_chain("c", 3), _cp(0, "00" * 32)) == ["CHAIN_TIP_MISMATCH@0"]


def test_a_malformed_checkpoint_is_located_by_its_valid_members_only() -> None:
    cp = _cp(3, "ab" * 32)
    got = verify_checkpoint(dict(cp, count="3"), TRUST, "checkpoints[0]")
    assert isinstance(got, Finding) and got.where == "checkpoints[0]"
    assert (got.extra["chain_id"], got.extra["seq"]) == ("c", None)
    got = verify_checkpoint(dict(cp, chain_id=7, version=2), TRUST)
    assert isinstance(got, Finding) and (got.extra["chain_id"], got.extra["seq"]) == (None, 3)


def test_a_checkpoint_that_is_not_an_object_is_malformed() -> None:
    got = verify_checkpoint([1, 2], TRUST)  # type: ignore[arg-type]
    assert isinstance(got, Finding) and got.code is codes.CHECKPOINT_MALFORMED
