"""Generator of the envelope v1 golden vectors (``vectors/envelope/``).

Positive cases cover every entity type and ids that need Unicode or
escaping; negative cases are produced by named tampering methods applied
to a sealed base record (flip every bit, truncate at every length, move to
another address, swap key versions, legacy AAD, ...), one file per
mutation, each stating the finding codes it must produce without keys and
with keys. The expected codes are declared here from the spec (ENV-n), not
computed by the verifier, so ``chainaudit.conformance.check`` is a real test.

DEKs and nonces are SHA-256 of fixed labels: no clock, no randomness.
Format: ``docs/vectors.md`` (VEC-2).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from chainaudit.conformance.vectorgen import write_json
from chainaudit.conformance.vectorgen.envelope_build import (
    SUBDIR,
    TYPE,
    VERSION,
    A,
    Case,
    D,
    Rec,
    _found,
    cleartext,
    key_id,
    rec_of,
    sealed,
    to_json_item,
    with_env,
)
from chainaudit.conformance.vectorgen.envelope_rules import rule_negative_cases, rule_positive_cases
from chainaudit.conformance.vectorgen.envelope_tamper import (
    NOT_CANONICAL,
    NOT_OBJECT,
    negative_cases,
)
from chainaudit.envelope.nonces import fingerprint
from chainaudit.envelope.seal import ALGORITHMS, aad_for, aad_hash, encode_payload
from chainaudit.findings import Severity, lookup
from chainaudit.records.address import Address
from chainaudit.records.model import EntityRecord

__all__ = ["NOT_CANONICAL", "NOT_OBJECT", "all_cases", "case_json", "generate", "outcome"]

# --- positive cases ------------------------------------------------------------

POSITIVE: list[tuple[str, str, Address, Mapping[str, Any] | None]] = [
    ("meta", "the dialogue root entity", A(D, "meta"), {"title": "Migrate to PostgreSQL?"}),
    ("expert", "an expert", A(D, "expert", "ada"), {"name": "Ada", "persona": "storage engineer"}),
    ("round", "a round", A(D, "round", "01"), {"summary": "opening statements"}),
    ("verdict", "a verdict", A(D, "verdict", "v-1"), {"decision": "migrate in batches"}),
    ("perspective", "a perspective", A(D, "perspective", "01", "02"), {"text": "cost first"}),
    ("tension", "a tension", A(D, "tension", "01", "03"), {"between": ["ada", "bob"]}),
    (
        "recommendation",
        "a recommendation",
        A(D, "recommendation", "02", "01"),
        {"text": "dual-write"},
    ),
    ("evidence", "evidence", A(D, "evidence", "01", "04"), {"source": "benchmark", "page": 12}),
    ("claim", "a claim", A(D, "claim", "01", "02"), {"text": "latency is fine"}),
    ("move", "a move", A(D, "move", "01", "ada", "03"), {"kind": "rebut"}),
    (
        "ref-no-envelope",
        "a ref: cleartext only, no envelope (ENV-2)",
        A(D, "ref", "claim-01-02", "supports", "claim-01-03"),
        None,
    ),
    (
        "event",
        "a lifecycle event",
        A(D, "event", "claim", "c-01-02", "2026-01-02T03:04:05.123Z"),
        {"change": "created"},
    ),
    ("unicode-dialogue", "a non-ASCII (NFC) dialogue id", A("diálogo-Ω", "meta"), {"title": "ü"}),
    ("unicode-emoji-verdict", "an emoji in a verdict id", A(D, "verdict", "🦉-owl"), {"x": "🦉"}),
    (
        "unicode-cjk-expert",
        "CJK dialogue id and expert slug",
        A("対話-7", "expert", "専門家"),
        {"name": "専門家"},
    ),
    (
        "escaped-dialogue",
        "a dialogue id with # / % : (escaped %23 %2F %25, ':' literal)",
        A("a#b/c%d:e", "claim", "01", "02"),
        {"text": "escaped"},
    ),
    ("escaped-verdict", "a verdict id with # / % :", A(D, "verdict", "v#1/2%3:4"), {"d": 1}),
    (
        "escaped-move-slug",
        "a move whose expert slug has / and #",
        A(D, "move", "02", "x/y#z", "01"),
        {"kind": "concede"},
    ),
    (
        "event-no-envelope",
        "a lifecycle event without an envelope: allowed (ENV-2, CHAIN-12)",
        A(D, "event", "meta", "dlg-0001", "2026-01-02T03:04:06Z"),
        None,
    ),
    (
        "escaped-ref",
        "a ref with escaped ids, no envelope",
        A(D, "ref", "a#b", "cites", "c/d"),
        None,
    ),
    (
        "escaped-event",
        "an event about an escaped id",
        A(D, "event", "verdict", "v#1", "2026-01-02T03:04:05Z"),
        {"change": "closed"},
    ),
    ("empty-payload", "the empty JSON object", A(D, "round", "02"), {}),
    (
        "payload-jcs-numbers-and-escapes",
        "payload exercising RFC 8785 number and string forms",
        A(D, "claim", "02", "01"),
        {
            "z": 1.5,
            "big": 1e21,
            "small": 1e-7,
            "neg": -3,
            "s": 'é\u2028"q"\\🦉\u0007',
            "a": [True, None],
        },
    ),
]


def positive_cases() -> list[Case]:
    cases = []
    for label, desc, address, payload in POSITIVE:
        name = f"valid-{label}"
        if payload is None:
            record = EntityRecord(address, cleartext(address), None)
            cases.append(Case(name, desc, [rec_of(record, None, None)]))
        else:
            _, rec = sealed(address, payload, name)
            cases.append(Case(name, desc, [rec]))
    record, _ = sealed(A(D, "claim", "03", "01"), {"v": 1}, "valid-envelope-version-explicit-1")
    record = with_env(record, version=1)
    item = to_json_item(record)
    item["envelope_version"] = {"N": "1"}
    cases.append(
        Case(
            "valid-envelope-version-explicit-1",
            "envelope_version stored explicitly as 1 (ENV-3)",
            [Rec(item, record.address, encode_payload({"v": 1}), {"v": 1})],
        )
    )
    _, r2 = sealed(A(D, "claim", "03", "02"), {"v": 2}, "valid-key-version-2", key_id(D, 2))
    cases.append(
        Case(
            "valid-key-version-2",
            "sealed under version 2 while version 1 exists",
            [r2],
            keys=_found(key_id(D, 1), key_id(D, 2)),
        )
    )
    shared = "valid-nonce-same-under-different-keys"
    _, a = sealed(A(D, "claim", "04", "01"), {"k": 1}, shared, key_id(D, 1))
    _, b = sealed(A(D, "claim", "04", "02"), {"k": 2}, shared, key_id(D, 2))
    a.nonce_fp = b.nonce_fp = True
    cases.append(Case(shared, "one nonce under two different keys is not reuse (ENV-5)", [a, b]))
    _, r = sealed(A(D, "claim", "04", "03"), {"k": 3}, "valid-same-record-twice")
    r.nonce_fp = True
    cases.append(
        Case(
            "valid-same-record-twice",
            "the same item read twice (same address) is not nonce reuse (ENV-5)",
            [r, r],
        )
    )
    return cases


def all_cases() -> list[Case]:
    """Every envelope case: positive first, then each tampering method."""
    return [
        *positive_cases(),
        *rule_positive_cases(),
        *negative_cases(),
        *rule_negative_cases(),
    ]


# --- rendering -------------------------------------------------------------------


def outcome(codes: list[str]) -> str:
    """VEC-2: valid (no findings), invalid (an error), unverified, or notice."""
    severities = {lookup(c).severity for c in codes}
    if not codes:
        return "valid"
    if Severity.ERROR in severities:
        return "invalid"
    if Severity.UNVERIFIED in severities:
        return "unverified"
    return "notice"


def case_json(case: Case) -> dict[str, Any]:
    used = sorted(
        {
            r.item["key_id"]["S"]
            for r in case.records
            if "key_id" in r.item and "S" in r.item["key_id"]
        }
    )
    keys = case.keys if case.keys is not None else _found(*used)
    keyed = case.keyed if case.keyed is not None else case.keyless
    return {
        "type": TYPE,
        "version": VERSION,
        "name": case.name,
        "description": case.description,
        "algorithm": ALGORITHMS[1],
        "mutation": case.mutation,
        "keys": keys,
        "records": [_record_json(r) for r in case.records],
        "expected": {
            "keyless": {"outcome": outcome(case.keyless), "findings": sorted(case.keyless)},
            "keyed": {"outcome": outcome(keyed), "findings": sorted(keyed)},
        },
    }


def _record_json(r: Rec) -> dict[str, Any]:
    out: dict[str, Any] = {
        "item": r.item,
        "address": str(r.address) if r.address else None,
        "sql": list(r.address.to_sql()) if r.address else None,
        "aad": aad_for(r.address).hex() if r.address else None,
        "aad_hash": aad_hash(r.address) if r.address else None,
        "plaintext": r.plaintext.hex() if r.plaintext is not None else None,
        "payload": dict(r.payload) if r.payload is not None else None,
    }
    if r.nonce_fp:
        nonce = base64.b64decode(r.item["content_nonce"]["B"])
        out["nonce_fingerprint"] = fingerprint(r.item["key_id"]["S"], nonce).hex()
    return out


def generate(out_dir: Path) -> list[Path]:
    """Write every envelope case to ``out_dir/envelope/{positive,negative}/NAME.json``."""
    root = Path(out_dir) / SUBDIR
    for stale in sorted(root.glob("*/*.json")):
        stale.unlink()
    written = []
    names: set[str] = set()
    for case in all_cases():
        if case.name in names:
            raise AssertionError(f"duplicate vector name {case.name}")
        names.add(case.name)
        written.append(write_json(root / case.group / f"{case.name}.json", case_json(case)))
    return written
