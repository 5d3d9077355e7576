"""A user's module written against chainaudit's public API only (docs/api.md API-12).

``tests/test_api_typing.py`` type-checks it with ``mypy --strict`` and runs
``main()``: the public names must be usable, typed, without reaching into
internal modules.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import chainaudit
from chainaudit import (
    Address,
    ChainWriter,
    DekMap,
    EntityRecord,
    Finding,
    Record,
    Result,
    Umk,
)


def write_dialogue(umk: Umk, dialogue_id: str, texts: Sequence[str]) -> tuple[list[Record], ChainWriter]:
    """A tiny writer: one key, one claim per text, each committed."""
    t0 = "2026-03-02T09:00:00.000Z"
    d = chainaudit.escape_component(dialogue_id)
    dek_record, dek = chainaudit.new_dek(chainaudit.derive_kek(umk, "owner"), "owner", d, 1, t0)
    chain = ChainWriter.for_dialogue(d)
    records: list[Record] = [dek_record, chain.commit(dek_record, timestamp=t0, principal="svc")]
    for i, text in enumerate(texts, 1):
        address = Address.of(dialogue_id, chainaudit.EntityType.CLAIM, "01", f"{i:02d}")
        envelope = chainaudit.seal_envelope(address, {"text": text}, dek, dek_record.key_id)
        entity = EntityRecord(address, {"n": {"N": str(i)}}, envelope)
        records += [entity, chain.commit(entity, timestamp=t0, principal="svc")]
    return records, chain


def problems(result: Result) -> list[tuple[str, str]]:
    found: list[Finding] = result.errors + result.unverified
    return [(f.code.name, f.where) for f in found]


def main() -> int:
    umk = Umk(os.urandom(32))
    signer = Ed25519PrivateKey.generate()
    records, chain = write_dialogue(umk, "d/1", ["a", "b"])
    evidence = chainaudit.Evidence()
    result: Result = chainaudit.verify(
        records,
        umk=umk,
        trusted_keys=[chainaudit.public_bytes(signer)],
        checkpoints=[chain.checkpoint(signer, "2026-03-02T09:00:01.000Z")],
        require=("anchored", "committed"),
        evidence=evidence,
    )
    assert problems(result) == [], problems(result)
    assert evidence.assurance is not None
    level: chainaudit.Level = evidence.assurance["committed"].level
    assert level is chainaudit.Level.PROVEN
    claim = records[2]
    assert isinstance(claim, EntityRecord) and claim.envelope is not None
    keys = DekMap({"dek#d%2F1#1": os.urandom(32)})
    codes = [f.code.name for f in chainaudit.check_record(claim, keys)]
    assert codes == ["AUTHENTICATION_FAILED"], codes
    status: chainaudit.DekStatus = keys.resolve("dek#d%2F1#2").status
    assert status is chainaudit.DekStatus.MISSING
    return chainaudit.exit_code_for(result)


if __name__ == "__main__":
    raise SystemExit(main())
