"""An external writer, written only against chainaudit's public API and its pytest plugin.

This module plays the engineers of the audited service (issue 11): their
writer (:class:`ServiceWriter`) stores dialogues through ``chainaudit``'s
public names only (no ``chainaudit.<module>`` import; a test below checks
this module's own imports), and their tests use the plugin's fixtures
(``chainaudit_keys``) and ``chainaudit.testing``. What they prove:

* everything the writer writes verifies clean, with every assurance
  proven (keys, pinned signers, a checkpoint of every chain), for
  generated dialogue ids (hostile ones included) and payloads;
* every mutator of ``chainaudit.testing`` (one per attack class of
  docs/threat-model.md) applied to what it wrote is detected, at the
  address or chain position the mutator names.
"""

from __future__ import annotations

import ast
import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chainaudit as ca
from chainaudit.testing import (
    MUTATORS,
    AuditKeys,
    NoTarget,
    assert_mutation_detected,
    assert_verifies_clean,
)
from chainaudit.testing import strategies as cst

PRINCIPAL = "svc:dialogues"
START = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


class ServiceWriter:
    """The audited service's writer: one DEK per dialogue (rotated on demand), every
    record sealed, every version committed in the dialogue's lifecycle chain,
    key operations in the crypto audit log, erasure with a signed receipt,
    a migration boundary on request."""

    def __init__(self, keys: AuditKeys) -> None:
        self.keys = keys
        self.clock = START
        self.stored: dict[str, ca.Record] = {}
        self.superseded: list[ca.EntityRecord] = []
        self.events: list[ca.Record] = []
        self.log = ca.ChainWriter("crypto-audit")
        self.chains: dict[str, ca.ChainWriter] = {}
        self.current: dict[str, tuple[ca.WrappedDek, bytes]] = {}

    def now(self) -> str:
        self.clock += datetime.timedelta(milliseconds=1500)
        return self.clock.strftime("%Y-%m-%dT%H:%M:%S.") + f"{self.clock.microsecond // 1000:03d}Z"

    def _audit(self, operation: str, key_id: str) -> None:
        self.events.append(
            self.log.append_event(
                {
                    "timestamp": self.now(),
                    "trace_id": f"trace-{self.log.count}",
                    "span_id": f"span-{self.log.count}",
                    "operation": operation,
                    "key_id": key_id,
                    "principal": PRINCIPAL,
                    "outcome": "success",
                }
            )
        )

    def _store(self, record: ca.WrappedDek | ca.EntityRecord, op: str = "put") -> None:
        d = record.dialogue if isinstance(record, ca.WrappedDek) else record.address.dialogue
        self.events.append(self.chains[d].commit(record, timestamp=self.now(), principal=PRINCIPAL, op=op))
        key = ca.record_key(record)
        if op == "delete":
            self.stored.pop(key, None)
        else:
            self.stored[key] = record

    def open_dialogue(self, dialogue_id: str, owner: str) -> None:
        d = ca.escape_component(dialogue_id)
        self.chains[d] = ca.ChainWriter.for_dialogue(d)
        self._new_key(d, owner, 1)

    def _new_key(self, d: str, owner: str, version: int) -> None:
        kek = ca.derive_kek(self.keys.umk, owner)
        record, dek = ca.new_dek(kek, owner, d, version, self.now())
        self.current[d] = (record, dek)
        self._store(record)
        self._audit("wrap_dek", record.key_id)

    def rotate(self, dialogue_id: str) -> None:
        d = ca.escape_component(dialogue_id)
        old, _ = self.current[d]
        self._store(ca.retire_dek(old))
        self._new_key(d, old.owner, old.version + 1)
        self._audit("rotate_dek", old.key_id)

    def put(self, address: ca.Address, payload: dict[str, Any], attrs: dict[str, Any]) -> None:
        record, dek = self.current[address.dialogue]
        envelope = ca.seal_envelope(address, payload, dek, record.key_id)
        self._audit("encrypt", record.key_id)
        entity = ca.EntityRecord(address, attrs, envelope)
        old = self.stored.get(str(address))
        if isinstance(old, ca.EntityRecord):
            self.superseded.append(old)
        self._store(entity)

    def delete(self, address: ca.Address) -> None:
        old = self.stored[str(address)]
        assert isinstance(old, ca.EntityRecord)
        self._store(old, op="delete")

    def erase(self, dialogue_id: str) -> None:
        d = ca.escape_component(dialogue_id)
        record, _ = self.current.pop(d)
        at = self.now()
        self.events.append(
            self.chains[d].erasure_receipt(
                self.keys.erasure_authority,
                key_id=record.key_id,
                destroyed_at=at,
                timestamp=self.now(),
                principal="erasure:authority",
            )
        )
        self._store(ca.destroy_dek(record, at))
        self._audit("destroy_dek", record.key_id)

    def migrate(self, dialogue_id: str) -> None:
        d = ca.escape_component(dialogue_id)
        self.events.append(
            self.chains[d].boundary(
                self.keys.signer,
                timestamp=self.now(),
                source_backend="dynamodb",
                target_backend="postgresql",
                hash_alg="blake3",
            )
        )

    def records(self) -> list[ca.Record]:
        return [*self.stored.values(), *self.events]

    def evidence(self) -> dict[str, Any]:
        return {
            "umk": self.keys.umk,
            "trusted_keys": self.keys.trusted_keys,
            "checkpoints": ca.checkpoint_all(self.records(), self.keys.signer, self.now()),
        }


def write_story(keys: AuditKeys, names: list[str], payloads: list[dict[str, Any]]) -> ServiceWriter:
    """Every operation of the writer, on dialogues named ``names``."""
    w = ServiceWriter(keys)
    for i, name in enumerate(names):
        w.open_dialogue(name, owner=f"user:{i}")
        claims = [ca.Address.of(name, "claim", "01", f"{n:02d}") for n in range(1, 4)]
        w.put(ca.Address.of(name, "meta"), {"title": name}, {"status": {"S": "open"}})
        for n, address in enumerate(claims):
            w.put(address, payloads[n % len(payloads)], {"score": {"N": str(n)}})
        w.rotate(name)
        w.put(claims[0], {"text": "revised"}, {"score": {"N": "10"}})  # an update, under v2
        w.delete(claims[2])
        if i % 3 == 1:
            w.erase(name)
        elif i % 3 == 2:
            w.migrate(name)
            w.put(ca.Address.of(name, "verdict", "final"), {"verdict": "kept"}, {})
    return w


NAMES = ["dlg-1", "dlg/2 #é", "Zürich%3"]
PAYLOADS: list[dict[str, Any]] = [{"text": "a"}, {"n": 1.5, "list": [1, None, "é"]}]


@pytest.fixture(scope="module")
def story(chainaudit_keys: AuditKeys) -> ServiceWriter:
    return write_story(chainaudit_keys, NAMES, PAYLOADS)


def test_what_the_writer_writes_verifies_clean_with_every_assurance(story: ServiceWriter) -> None:
    evidence = ca.Evidence()
    result = ca.verify(story.records(), **story.evidence(), evidence=evidence)
    assert ca.exit_code_for(result) == 0, [str(f) for f in result]
    assert evidence.assurance is not None
    assert {a.level.value for a in evidence.assurance.values()} == {"proven"}
    assert_verifies_clean(story.records(), **story.evidence(), require="all")


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(cst.ids(max_size=6), min_size=1, max_size=3, unique=True),
    st.lists(cst.payloads(), min_size=1, max_size=3),
)
def test_generated_dialogues_verify_clean(
    chainaudit_keys: AuditKeys, names: list[str], payloads: list[dict[str, Any]]
) -> None:
    w = write_story(chainaudit_keys, names, payloads)
    assert_verifies_clean(w.records(), **w.evidence())


@pytest.mark.parametrize("name", sorted(MUTATORS))
def test_every_mutation_is_detected_where_it_says(story: ServiceWriter, name: str) -> None:
    evidence = story.evidence()
    found = 0
    for pick in range(0, 60, 7):
        try:
            mutation = MUTATORS[name](story.records(), pick=pick, superseded=story.superseded)
        except NoTarget:
            break
        assert_mutation_detected(mutation, **evidence)
        found += 1
    assert found, f"{name} found nothing to attack in what the writer wrote"


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(MUTATORS)), st.integers(0, 1 << 16))
def test_any_mutation_at_any_target_is_detected(
    chainaudit_keys: AuditKeys, name: str, pick: int
) -> None:
    w = write_story(chainaudit_keys, NAMES, PAYLOADS)
    mutation = MUTATORS[name](w.records(), pick=pick, superseded=w.superseded)
    assert_mutation_detected(mutation, **w.evidence())


def test_this_module_uses_only_the_public_api() -> None:
    tree = ast.parse(Path(__file__).read_text(encoding="utf-8"))
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
        elif isinstance(node, ast.Import):
            modules.update(a.name for a in node.names)
    ours = {m for m in modules if m.split(".")[0] == "chainaudit"}
    assert ours == {"chainaudit", "chainaudit.testing"}, ours
    used = {
        n.attr
        for n in ast.walk(tree)
        if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "ca"
    }
    assert used - {"__all__"} <= set(ca.__all__), used - set(ca.__all__)
