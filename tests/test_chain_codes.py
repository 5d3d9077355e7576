"""One direct scenario per chain finding code (CHAIN-13), independent of the
vector files, and a check that the scenarios cover every chain code."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from chainaudit.chain.checkpoint import ChainExpectation, make_checkpoint, verify_checkpoint
from chainaudit.chain.events import seal
from chainaudit.chain.verify import ChainPolicy, verify_events
from chainaudit.conformance.vectorgen.chain_build import (
    STORE_B,
    T0_MS,
    Ev,
    boundary_event,
    build_chain,
    rechain,
    ts_text,
)
from chainaudit.findings import Finding, Result, codes
from chainaudit.keys.history import verify_key_history
from chainaudit.keys.signing import TrustStore, private_key_from_label, public_bytes
from chainaudit.records.model import AuditEvent, KeyState, WrappedDek

SIGNER = "test-signer"
TRUST = TrustStore.of([public_bytes(private_key_from_label(SIGNER))])


def run(events: list[Ev], *expect: ChainExpectation) -> Result:
    policy = ChainPolicy(TRUST, tuple(expect))
    return verify_events(((AuditEvent(e.chain_id, e.fields), e.store) for e in events), policy)


def base(n: int = 6, chain_id: str = "c") -> list[Ev]:
    return build_chain(chain_id, n)


def edited(f: Callable[[list[Ev]], object], rehash_from: int | None = None) -> list[Ev]:
    evs = base()
    f(evs)
    if rehash_from is not None:
        rechain(evs, rehash_from)
    return evs


def _bridge(label: str = SIGNER, target: str = "c", source_count: int | None = None) -> list[Ev]:
    src = base(3)
    b = boundary_event(label, src, "c", target, T0_MS + 3500, "blake3", source_count=source_count)
    return [*src, b]


def _set(i: int, **values: object) -> Callable[[list[Ev]], None]:
    return lambda evs: evs[i].fields.update(values)


def _kh(*records: object) -> Result:
    return verify_key_history(records)  # type: ignore[arg-type]


def _dek(state: KeyState) -> WrappedDek:
    return WrappedDek("dek#d#1", "d", 1, "u", "A256KW", None, None, state, "2026-01-01T00:00:00Z")


def _ckpt(label: str, tamper: bool = False, version: int = 1) -> Result:
    cp = make_checkpoint(
        private_key_from_label(label), "c", 3, "0" * 64, "sha256", "2026-01-01T00:00:00.000Z"
    )
    if tamper:
        cp["count"] = 4
    cp["version"] = version
    got = verify_checkpoint(cp, TRUST)
    r = Result()
    if isinstance(got, Finding):
        r.add(got)
    return r


SCENARIOS: dict[str, tuple[Callable[[], Result], int | None]] = {
    "CHAIN_EVENT_MALFORMED": (lambda: run(edited(lambda e: e[2].fields.pop("key_id"))), 2),
    "CHAIN_HASH_ALG_UNKNOWN": (lambda: run(edited(_set(2, hash_alg="sha1"))), 2),
    "EVENT_HASH_MISMATCH": (lambda: run(edited(_set(2, principal="eve"))), 2),
    "CHAIN_UUID_INVALID": (lambda: run(edited(_set(2, event_id="not-a-uuid"), 2)), 2),
    "CHAIN_TIMESTAMP_SKEW": (
        lambda: run(edited(_set(2, timestamp=ts_text(T0_MS + 2000 + 400_000)), 2)),
        2,
    ),
    "CHAIN_GENESIS_MISMATCH": (lambda: run([Ev("c", "", e.fields) for e in base(3, "d")]), 0),
    "CHAIN_LINK_BROKEN": (
        lambda: run(base(2) + [Ev("c", "", e.fields) for e in base(4, "d")[2:]]),
        2,
    ),
    "CHAIN_GAP": (lambda: run(edited(lambda e: e.pop(2))), 2),
    "CHAIN_OUT_OF_ORDER": (lambda: run(edited(lambda e: e.insert(5, e[1].copy()))), 1),
    "CHAIN_DUPLICATE": (lambda: run(edited(lambda e: e.insert(3, e[2].copy()))), 2),
    "CHAIN_FORK": (
        lambda: run(
            edited(lambda e: e.insert(3, Ev("c", "", seal(dict(e[2].fields, principal="x")))))
        ),
        2,
    ),
    "CHAIN_UUID_BACKWARDS": (
        lambda: run(
            edited(
                lambda e: e[2].fields.update(
                    event_id=e[1].fields["event_id"], timestamp=e[1].fields["timestamp"]
                ),
                2,
            )
        ),
        2,
    ),
    "CHAIN_HASH_ALG_CHANGED": (lambda: run(edited(_set(4, hash_alg="blake3"), 4)), 4),
    "CHAIN_BOUNDARY_MISSING": (
        lambda: run(
            base(3)
            + build_chain("c", 2, first_seq=3, previous_hash=base(3)[-1].hash, store=STORE_B)
        ),
        3,
    ),
    "CHAIN_TRUNCATED": (lambda: run(base(4), ChainExpectation("c", 6, base()[-1].hash)), 4),
    "CHAIN_TIP_MISMATCH": (
        lambda: run(edited(_set(1, principal="eve"), 1), ChainExpectation("c", 6, base()[-1].hash)),
        5,
    ),
    "CHECKPOINT_MALFORMED": (lambda: _ckpt(SIGNER, version=2), None),
    "CHECKPOINT_SIGNER_UNTRUSTED": (lambda: _ckpt("stranger"), 3),
    "CHECKPOINT_SIGNATURE_INVALID": (lambda: _ckpt(SIGNER, tamper=True), 4),
    "BOUNDARY_REPLAYED": (lambda: run([Ev("c", "", e.fields) for e in _bridge(target="z")]), 3),
    "BOUNDARY_SIGNER_UNTRUSTED": (lambda: run(_bridge(label="stranger")), 3),
    "BOUNDARY_SIGNATURE_INVALID": (lambda: run([*base(3), _resigned()]), 3),
    "BOUNDARY_SOURCE_MISMATCH": (lambda: run(_bridge(source_count=4)), 4),
    "KEY_NOT_IN_AUDIT_LOG": (lambda: _kh(_dek(KeyState.ACTIVE)), None),
    "KEY_ROTATION_UNLOGGED": (lambda: _kh(_dek(KeyState.RETIRED), _log("wrap_dek")), None),
    "KEY_DESTRUCTION_UNLOGGED": (lambda: _kh(_dek(KeyState.DESTROYED), _log("wrap_dek")), None),
}


def _log(op: str) -> AuditEvent:
    return AuditEvent("log", {"operation": op, "key_id": "dek#d#1", "outcome": "success"})


def _resigned() -> Ev:
    b = _bridge()[-1]
    return Ev("c", b.store, seal(dict(b.fields, target_backend="elsewhere")))


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_produces_its_code_first_at_its_position(name: str) -> None:
    make, seq = SCENARIOS[name]
    result = make()
    assert not result.ok
    first = result.findings[0]
    assert first.code.name == name, [str(f) for f in result.findings]
    if seq is not None:
        assert first.extra["seq"] == seq
        assert first.where.endswith(f"@{seq}")


def test_the_scenarios_cover_every_chain_code() -> None:
    from chainaudit.findings import registry

    chain = {n for n, c in registry().items() if c.spec.startswith("CHAIN-")}
    assert chain == set(SCENARIOS)


def test_an_untouched_chain_has_no_finding() -> None:
    result = run(base())
    assert result.ok and result.findings == []
    assert result.checked["chain_events"] == 6


def test_every_chain_code_is_an_error() -> None:
    """CHAIN-13: untrusted signers too are errors, not 'unverified'."""
    from chainaudit.findings import Severity, registry

    chain = [c for c in registry().values() if c.spec.startswith("CHAIN-")]
    assert chain and all(c.severity is Severity.ERROR for c in chain)
    assert codes.BOUNDARY_SIGNER_UNTRUSTED in chain
