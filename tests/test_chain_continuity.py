"""Chain continuity across a migration (CHAIN-14)."""

from __future__ import annotations

from collections.abc import Iterator

from chainaudit.conformance.vectorgen.chain_build import (
    T0_MS,
    Ev,
    boundary_event,
    build_chain,
    to_item,
)
from chainaudit.keys.signing import TrustStore, private_key_from_label, public_bytes
from chainaudit.migration.continuity import verify_chain_continuity
from chainaudit.records.item import record_from_item, typed_from_json
from chainaudit.sources import SourceItem

SIGNER = "continuity-signer"
TRUST = TrustStore.of([public_bytes(private_key_from_label(SIGNER))])
CHAINS = ("main", "dialogue:dlg-1/events")


class ListSource:
    """An in-memory store: yields the records of the given events."""

    def __init__(self, name: str, events: list[Ev]) -> None:
        self.name, self.events = name, events

    def describe(self) -> str:
        return self.name

    def read(self) -> Iterator[SourceItem]:
        for i, ev in enumerate(self.events):
            item = {k: typed_from_json(v, k) for k, v in to_item(ev).items()}
            yield record_from_item(item, f"{self.name}:{i}")


def _source() -> list[Ev]:
    return [e for cid in CHAINS for e in build_chain(cid, 5)]


def _bridged(chain: list[Ev], alg: str = "blake3") -> list[Ev]:
    cid = chain[0].chain_id
    b = boundary_event(SIGNER, chain, cid, cid, T0_MS + 60_000, alg)
    after = build_chain(cid, 2, alg, first_seq=len(chain) + 1, previous_hash=b.hash,
                        start_ms=T0_MS + 60_000)  # fmt: skip
    return [*chain, b, *after]


def _run(target: list[Ev]) -> list[str]:
    src = _source()
    # Interleave the target's records so the spool's ordering is exercised.
    result = verify_chain_continuity(
        ListSource("src", src), ListSource("dst", target[::-1])
    )
    return [
        f"{f.code.name}@{f.extra.get('chain_id')}@{f.extra.get('seq')}" for f in result.findings
    ]


def test_copied_and_bridged_chains_continue() -> None:
    src = _source()
    target = [e for cid in CHAINS for e in _bridged([x for x in src if x.chain_id == cid])]
    result = verify_chain_continuity(ListSource("src", src), ListSource("dst", target), TRUST)
    assert result.ok, [str(f) for f in result.findings]
    assert result.checked["chain_events"] == len(src) + len(target)


def test_without_trust_the_boundary_signer_is_untrusted() -> None:
    src = _source()
    target = [e for cid in CHAINS for e in _bridged([x for x in src if x.chain_id == cid])]
    got = _run(target)
    assert got == [
        "BOUNDARY_SIGNER_UNTRUSTED@dialogue:dlg-1/events@5",
        "BOUNDARY_SIGNER_UNTRUSTED@main@5",
    ]


def test_copy_without_boundary_is_reported_at_the_count() -> None:
    src = _source()
    result = verify_chain_continuity(ListSource("src", src), ListSource("dst", src), TRUST)
    assert [f.code.name for f in result.findings] == ["CHAIN_BOUNDARY_MISSING"] * 2
    assert {f.extra["seq"] for f in result.findings} == {5}


def test_an_event_lost_in_the_copy_is_found() -> None:
    src = _source()
    main = [x for x in src if x.chain_id == "main"]
    life = [x for x in src if x.chain_id != "main"]
    lossy = _bridged(main[:4])  # the fifth event never arrived
    result = verify_chain_continuity(
        ListSource("src", src), ListSource("dst", [*lossy, *_bridged(life)]), TRUST
    )
    assert [f.code.name for f in result.findings][:1] == ["CHAIN_TIP_MISMATCH"]
    assert result.findings[0].extra["seq"] == 4
