"""Generator of the envelope v1 golden vectors (``vectors/envelope/``).

Positive cases cover every entity type and ids that need Unicode or
escaping; negative cases are produced by named tampering methods applied
to a sealed base record (flip every bit, truncate at every length, move to
another address, swap key versions, legacy AAD, ...), one file per
mutation, each stating the finding codes it must produce without keys and
with keys. The expected codes are declared here from the spec (ENV-n), not
computed by the verifier, so ``chainaudit.vectorcheck`` is a real test.

DEKs and nonces are SHA-256 of fixed labels: no clock, no randomness.
Format: ``docs/vectors.md`` (VEC-2).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chainaudit import crypto
from chainaudit.address import Address, EntityType
from chainaudit.envelope import (
    ALGORITHMS,
    aad_for,
    aad_hash,
    encode_payload,
    legacy_aad_for,
    legacy_aad_hash,
)
from chainaudit.findings import Severity, lookup
from chainaudit.item import item_from_record, typed_to_json
from chainaudit.model import AttrValue, EntityRecord, Envelope
from chainaudit.vectorgen import derive, write_json

TYPE = "chainaudit/envelope-vector"
VERSION = 1
SUBDIR = "envelope"
DEK_DOMAIN = b"chainaudit/vectors/envelope/dek/"
NONCE_DOMAIN = b"chainaudit/vectors/envelope/nonce/"

D = "dlg-0001"  # the dialogue most cases live in
OTHER_D = "dlg-0002"
TS = "2026-01-02T03:04:05Z"


def key_id(dialogue: str = D, version: int = 1) -> str:
    return f"dek#{dialogue}#{version}"


def dek_for(kid: str) -> bytes:
    """The DEK of a key id in the vectors: SHA-256(DEK_DOMAIN || key_id)."""
    return derive(DEK_DOMAIN, kid, 32)


def nonce_for(label: str) -> bytes:
    """A nonce for the vectors: the first 12 bytes of SHA-256(NONCE_DOMAIN || label)."""
    return derive(NONCE_DOMAIN, label, 12)


@dataclass
class Rec:
    """One record of a case: the physical item plus what it was made from."""

    item: dict[str, Any]  # JSON form (typed values, binary as base64)
    address: Address | None
    plaintext: bytes | None = None
    payload: Mapping[str, Any] | None = None


@dataclass
class Case:
    name: str
    description: str
    records: list[Rec]
    keyless: list[str] = field(default_factory=list)
    keyed: list[str] | None = None  # None: same as keyless
    keys: list[dict[str, str]] | None = None  # None: every key id used, found
    mutation: dict[str, Any] | None = None

    @property
    def group(self) -> str:
        return "negative" if self.mutation is not None else "positive"


# --- building records --------------------------------------------------------


def cleartext(address: Address) -> dict[str, AttrValue]:
    """Typical cleartext attributes of an item (not covered by the envelope)."""
    attrs: dict[str, AttrValue] = {
        "entity_type": {"S": address.entity_type.value},
        "created_at": {"S": TS},
    }
    if address.entity_type in (EntityType.TENSION, EntityType.VERDICT):
        attrs["status"] = {"S": "open"}
    if address.entity_type is EntityType.EVIDENCE:
        attrs["score"] = {"N": "0.75"}
    return attrs


def to_json_item(record: EntityRecord) -> dict[str, Any]:
    return {k: typed_to_json(v) for k, v in item_from_record(record).items()}


def make_envelope(
    address: Address,
    plaintext: bytes,
    kid: str,
    nonce: bytes,
    *,
    aad: bytes | None = None,
    stored_hash: str | None = None,
    dek: bytes | None = None,
) -> Envelope:
    """Seal exact bytes; ``aad``/``stored_hash``/``dek`` override for legacy and swaps."""
    ct = crypto.gcm_encrypt(
        dek if dek is not None else dek_for(kid),
        nonce,
        aad if aad is not None else aad_for(address),
        plaintext,
    )
    return Envelope(ct, nonce, kid, stored_hash if stored_hash is not None else aad_hash(address))


def sealed(
    address: Address,
    payload: Mapping[str, Any],
    label: str,
    kid: str | None = None,
    **overrides: Any,
) -> tuple[EntityRecord, Rec]:
    """A v1-sealed record and its vector form."""
    pt = encode_payload(payload)
    env = make_envelope(
        address, pt, kid or key_id(address.dialogue), nonce_for(label), **overrides
    )
    record = EntityRecord(address, cleartext(address), env)
    return record, Rec(to_json_item(record), address, pt, payload)


def rec_of(record: EntityRecord, plaintext: bytes | None, payload: Mapping[str, Any] | None) -> Rec:
    return Rec(to_json_item(record), record.address, plaintext, payload)


def with_env(record: EntityRecord, **changes: Any) -> EntityRecord:
    assert record.envelope is not None
    return dataclasses.replace(record, envelope=dataclasses.replace(record.envelope, **changes))


# --- positive cases ------------------------------------------------------------

A = Address.of
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
    cases.append(Case(shared, "one nonce under two different keys is not reuse (ENV-5)", [a, b]))
    _, r = sealed(A(D, "claim", "04", "03"), {"k": 3}, "valid-same-record-twice")
    cases.append(
        Case(
            "valid-same-record-twice",
            "the same item read twice (same address) is not nonce reuse (ENV-5)",
            [r, r],
        )
    )
    return cases


def _found(*kids: str) -> list[dict[str, str]]:
    return [{"key_id": k, "status": "found", "dek": dek_for(k).hex()} for k in kids]


# --- negative cases: tampering methods --------------------------------------------

SHORT_ADDR = A(D, "claim", "01", "02")
SHORT_PAYLOAD = {"n": 1}
LONG_ADDR = A(D, "evidence", "01", "04")
LONG_PAYLOAD = {"source": "https://example.org/benchmark-report", "page": 12}


def _base(address: Address, payload: Mapping[str, Any], label: str) -> EntityRecord:
    record, _ = sealed(address, payload, label)
    return record


def mutation(method: str, **params: Any) -> dict[str, Any]:
    return {"method": method, **params}


def flip_cases() -> list[Case]:
    """flip-ciphertext-bit-@N over content_encrypted, flip-nonce-bit-@N over the nonce."""
    base = _base(SHORT_ADDR, SHORT_PAYLOAD, "short")
    assert base.envelope is not None
    pt = encode_payload(SHORT_PAYLOAD)
    cases = []
    for attr, data in (("ciphertext", base.envelope.ciphertext), ("nonce", base.envelope.nonce)):
        for bit in range(8 * len(data)):
            flipped = bytearray(data)
            flipped[bit // 8] ^= 0x80 >> (bit % 8)
            rec = with_env(base, **{attr: bytes(flipped)})
            name = f"flip-{attr}-bit-@{bit}"
            cases.append(
                Case(
                    name,
                    f"bit {bit} (MSB first) of content_{'encrypted' if attr == 'ciphertext' else 'nonce'} flipped",
                    [rec_of(rec, pt, SHORT_PAYLOAD)],
                    [],
                    ["AUTHENTICATION_FAILED"],
                    mutation=mutation(f"flip-{attr}-bit", base="short", at=bit),
                )
            )
    return cases


def truncation_outcome(stored_len: int, n: int) -> list[str]:
    """ENV-6: the codes truncating content_encrypted to n bytes must produce."""
    if n < 16:
        return ["CIPHERTEXT_TOO_SHORT"]
    if stored_len - n in (1, 2, 3, 4, 8, 12):
        return ["TAG_TRUNCATED"]
    return ["AUTHENTICATION_FAILED"]


def truncation_cases() -> list[Case]:
    cases = []
    for label, address, payload in (
        ("short", SHORT_ADDR, SHORT_PAYLOAD),
        ("long", LONG_ADDR, LONG_PAYLOAD),
    ):
        base = _base(address, payload, label)
        assert base.envelope is not None
        ct = base.envelope.ciphertext
        pt = encode_payload(payload)
        lengths = (
            range(len(ct)) if label == "short" else [len(ct) - k for k in (1, 2, 3, 4, 8, 12, 13)]
        )
        for n in lengths:
            codes = truncation_outcome(len(ct), n)
            name = f"truncate-@{n}" if label == "short" else f"truncate-long-@{n}"
            keyless = codes if codes == ["CIPHERTEXT_TOO_SHORT"] else []
            cases.append(
                Case(
                    name,
                    f"content_encrypted ({len(ct)} bytes) cut to its first {n} bytes",
                    [rec_of(with_env(base, ciphertext=ct[:n]), pt, payload)],
                    keyless,
                    codes,
                    mutation=mutation("truncate", base=label, at=n),
                )
            )
    return cases


def move_cases() -> list[Case]:
    base = _base(SHORT_ADDR, SHORT_PAYLOAD, "short")
    pt = encode_payload(SHORT_PAYLOAD)
    targets = [
        (
            "sibling",
            A(D, "claim", "01", "03"),
            ["AAD_HASH_MISMATCH"],
            ["AAD_HASH_MISMATCH", "ADDRESS_MOVED"],
        ),
        (
            "other-type",
            A(D, "perspective", "01", "02"),
            ["AAD_HASH_MISMATCH"],
            ["AAD_HASH_MISMATCH", "ADDRESS_MOVED"],
        ),
        (
            "other-dialogue",
            A(OTHER_D, "claim", "01", "02"),
            ["AAD_HASH_MISMATCH", "KEY_ID_WRONG_DIALOGUE"],
            None,
        ),
    ]
    cases = []
    for label, target, keyless, keyed in targets:
        moved = dataclasses.replace(base, address=target)
        cases.append(
            Case(
                f"moved-to-{label}",
                f"the sealed item of {SHORT_ADDR} placed at {target} (cut-and-paste)",
                [rec_of(moved, pt, SHORT_PAYLOAD)],
                keyless,
                keyed,
                keys=_found(key_id(D), key_id(OTHER_D)),
                mutation=mutation("move", base="short", to=str(target)),
            )
        )
    target = A(D, "claim", "01", "03")
    moved = with_env(dataclasses.replace(base, address=target), aad_hash=aad_hash(target))
    cases.append(
        Case(
            "moved-to-sibling-aad-hash-rewritten",
            "moved and aad_hash rewritten for the new address: only the key detects it",
            [rec_of(moved, pt, SHORT_PAYLOAD)],
            [],
            ["AUTHENTICATION_FAILED"],
            mutation=mutation("move-and-rewrite-aad-hash", base="short", to=str(target)),
        )
    )
    return cases


def key_cases() -> list[Case]:
    pt = encode_payload(SHORT_PAYLOAD)
    cases = []
    # Sealed with v1's key, key_id names v2 (and the reverse): WRONG_KEY_VERSION.
    for sealed_v, named_v in ((1, 2), (2, 1)):
        env = make_envelope(
            SHORT_ADDR,
            pt,
            key_id(D, named_v),
            nonce_for(f"swap-{sealed_v}"),
            dek=dek_for(key_id(D, sealed_v)),
        )
        rec = EntityRecord(SHORT_ADDR, cleartext(SHORT_ADDR), env)
        cases.append(
            Case(
                f"key-version-swapped-{sealed_v}-to-{named_v}",
                f"sealed under {key_id(D, sealed_v)} but key_id names {key_id(D, named_v)}",
                [rec_of(rec, pt, SHORT_PAYLOAD)],
                [],
                ["WRONG_KEY_VERSION"],
                keys=_found(key_id(D, 1), key_id(D, 2)),
                mutation=mutation("swap-key-version", sealed_with=key_id(D, sealed_v)),
            )
        )
    base = _base(SHORT_ADDR, SHORT_PAYLOAD, "short")
    for status, code in (
        ("shredded", "KEY_SHREDDED"),
        ("missing", "KEY_MISSING"),
        ("unwrap_failed", "KEY_UNWRAP_FAILED"),
    ):
        keys = [] if status == "missing" else [{"key_id": key_id(D), "status": status}]
        cases.append(
            Case(
                f"key-{status.replace('_', '-')}",
                f"the record's DEK is {status} (KEY-5, KEY-6)",
                [rec_of(base, pt, SHORT_PAYLOAD)],
                [],
                [code],
                keys=keys,
                mutation=mutation("key-state", status=status),
            )
        )
    other = make_envelope(SHORT_ADDR, pt, key_id(OTHER_D), nonce_for("wrong-dialogue"))
    rec = EntityRecord(SHORT_ADDR, cleartext(SHORT_ADDR), other)
    cases.append(
        Case(
            "key-id-wrong-dialogue",
            "sealed under another dialogue's key, key_id names it",
            [rec_of(rec, pt, SHORT_PAYLOAD)],
            ["KEY_ID_WRONG_DIALOGUE"],
            keys=_found(key_id(D), key_id(OTHER_D)),
            mutation=mutation("key-id", key_id=key_id(OTHER_D)),
        )
    )
    for label, bad in (
        ("leading-zero", f"dek#{D}#01"),
        ("no-version", f"dek#{D}"),
        ("version-zero", f"dek#{D}#0"),
        ("wrong-prefix", f"kek#{D}#1"),
        ("unescaped-slash", "dek#a/b#1"),
        ("extra-field", f"dek#{D}#1#2"),
    ):
        cases.append(
            Case(
                f"key-id-invalid-{label}",
                f"key_id {bad!r} breaks the KEY-2 grammar",
                [rec_of(with_env(base, key_id=bad), pt, SHORT_PAYLOAD)],
                ["KEY_ID_INVALID"],
                mutation=mutation("key-id", key_id=bad),
            )
        )
    return cases


def aad_cases() -> list[Case]:
    pt = encode_payload(SHORT_PAYLOAD)
    cases = []
    legacy = make_envelope(
        SHORT_ADDR,
        pt,
        key_id(D),
        nonce_for("legacy"),
        aad=legacy_aad_for(SHORT_ADDR),
        stored_hash=legacy_aad_hash(SHORT_ADDR),
    )
    rec = EntityRecord(SHORT_ADDR, cleartext(SHORT_ADDR), legacy)
    cases.append(
        Case(
            "legacy-aad",
            "sealed with the pre-v1 SHA-256(pk||sk) AAD and its aad_hash (ENV-9)",
            [rec_of(rec, pt, SHORT_PAYLOAD)],
            ["LEGACY_AAD"],
            ["LEGACY_AAD"],
            mutation=mutation("legacy-aad"),
        )
    )
    rec = with_env(rec, aad_hash=aad_hash(SHORT_ADDR))
    cases.append(
        Case(
            "legacy-aad-hash-rewritten",
            "legacy AAD, but aad_hash rewritten to the v1 value: only the key tells",
            [rec_of(rec, pt, SHORT_PAYLOAD)],
            [],
            ["LEGACY_AAD"],
            mutation=mutation("legacy-aad-rewritten-hash"),
        )
    )
    base = _base(SHORT_ADDR, SHORT_PAYLOAD, "short")
    for label, value in (
        ("edited", "00" * 32),
        ("uppercase", aad_hash(SHORT_ADDR).upper()),
        ("hex-of-address-text", SHORT_ADDR.to_bytes().hex()[:64]),
        ("empty", ""),
    ):
        cases.append(
            Case(
                f"aad-hash-{label}",
                "aad_hash changed; the ciphertext itself is intact",
                [rec_of(with_env(base, aad_hash=value), pt, SHORT_PAYLOAD)],
                ["AAD_HASH_MISMATCH"],
                mutation=mutation("aad-hash", value=value),
            )
        )
    return cases


def structure_cases() -> list[Case]:
    pt = encode_payload(SHORT_PAYLOAD)
    base = _base(SHORT_ADDR, SHORT_PAYLOAD, "short")
    assert base.envelope is not None
    cases = []
    for n in (0, 8, 11, 13, 16):
        nonce = (base.envelope.nonce * 2)[:n]
        cases.append(
            Case(
                f"nonce-length-@{n}",
                f"content_nonce of {n} bytes (v1 requires 12)",
                [rec_of(with_env(base, nonce=nonce), pt, SHORT_PAYLOAD)],
                ["NONCE_LENGTH"],
                mutation=mutation("nonce-length", at=n),
            )
        )
    a, b = A(D, "claim", "05", "01"), A(D, "claim", "05", "02")
    _, ra = sealed(a, {"i": 1}, "nonce-reuse-pair")
    _, rb = sealed(b, {"i": 2}, "nonce-reuse-pair")
    cases.append(
        Case(
            "nonce-reuse-pair",
            "two records under one key with one nonce (ENV-5)",
            [ra, rb],
            ["NONCE_REUSE"],
            mutation=mutation("reuse-nonce"),
        )
    )
    for v in (0, 2):
        item = to_json_item(base)
        item["envelope_version"] = {"N": str(v)}
        cases.append(
            Case(
                f"envelope-version-{v}",
                f"envelope_version {v}: not implemented (ENV-3)",
                [Rec(item, SHORT_ADDR, pt, SHORT_PAYLOAD)],
                ["ENVELOPE_VERSION_UNSUPPORTED"],
                mutation=mutation("envelope-version", value=v),
            )
        )
    ref = A(D, "ref", "claim-01-02", "supports", "claim-01-03")
    env = make_envelope(ref, pt, key_id(D), nonce_for("envelope-on-ref"))
    cases.append(
        Case(
            "envelope-on-ref",
            "a ref that carries an envelope (ENV-2)",
            [Rec(to_json_item(EntityRecord(ref, cleartext(ref), env)), ref, pt, SHORT_PAYLOAD)],
            ["ENVELOPE_UNEXPECTED"],
            mutation=mutation("add-envelope"),
        )
    )
    for t in ("claim", "meta"):
        address = SHORT_ADDR if t == "claim" else A(D, "meta")
        rec = EntityRecord(
            address, {**cleartext(address), "text": {"S": "cleartext content"}}, None
        )
        cases.append(
            Case(
                f"envelope-missing-{t}",
                f"a {t} without an envelope (ENV-2)",
                [rec_of(rec, None, None)],
                ["ENVELOPE_MISSING"],
                mutation=mutation("remove-envelope"),
            )
        )
    item = to_json_item(base)
    del item["content_nonce"]
    cases.append(
        Case(
            "malformed-missing-content-nonce",
            "an envelope attribute is missing (ENV-2)",
            [Rec(item, SHORT_ADDR)],
            ["RECORD_MALFORMED"],
            mutation=mutation("remove-attribute", attribute="content_nonce"),
        )
    )
    item = to_json_item(base)
    item["content_nonce"] = {"S": item["content_nonce"]["B"]}
    cases.append(
        Case(
            "malformed-nonce-as-string",
            "content_nonce stored as S, not B (ENV-2)",
            [Rec(item, SHORT_ADDR)],
            ["RECORD_MALFORMED"],
            mutation=mutation("retype-attribute", attribute="content_nonce"),
        )
    )
    item = to_json_item(base)
    item["pk"] = {"S": "dialogue#a%b"}
    cases.append(
        Case(
            "address-invalid-bad-escape",
            "pk with a '%' that is not an escape (ADDR-3)",
            [Rec(item, None)],
            ["ADDRESS_INVALID"],
            mutation=mutation("edit-pk", pk="dialogue#a%b"),
        )
    )
    return cases


NOT_OBJECT = [
    ("array", b"[1,2]"),
    ("string", b'"s"'),
    ("null", b"null"),
    ("number", b"42"),
    ("empty", b""),
    ("truncated-json", b'{"a":'),
    ("invalid-utf8", b'{"a":"\xff"}'),
    ("duplicate-name", b'{"a":1,"a":2}'),
    ("nan", b'{"a":NaN}'),
    ("bom", b'\xef\xbb\xbf{"a":1}'),
    ("lone-surrogate", b'{"a":"\\ud800"}'),
    ("trailing-garbage", b'{"a":1}x'),
    ("nested-duplicate-name", b'{"a":{"b":1,"b":1}}'),
]
NOT_CANONICAL = [
    ("member-order", b'{"b":1,"a":2}'),
    ("whitespace", b'{ "a": 1 }'),
    ("float-form", b'{"a":1.0}'),
    ("escaped-unicode", b'{"a":"\\u00e9"}'),
    ("big-integer", b'{"a":9007199254740993}'),
    ("trailing-newline", b'{"a":1}\n'),
]


def payload_cases() -> list[Case]:
    cases = []
    for group, table, code in (
        ("not-object", NOT_OBJECT, "PAYLOAD_NOT_JSON_OBJECT"),
        ("not-canonical", NOT_CANONICAL, "PAYLOAD_NOT_CANONICAL"),
    ):
        for label, pt in table:
            name = f"payload-{group}-{label}"
            env = make_envelope(SHORT_ADDR, pt, key_id(D), nonce_for(name))
            rec = EntityRecord(SHORT_ADDR, cleartext(SHORT_ADDR), env)
            cases.append(
                Case(
                    name,
                    f"sealed plaintext is {label.replace('-', ' ')} (ENV-8)",
                    [rec_of(rec, pt, None)],
                    [],
                    [code],
                    mutation=mutation("seal-plaintext", plaintext=pt.hex()),
                )
            )
    return cases


def all_cases() -> list[Case]:
    return [
        *positive_cases(),
        *flip_cases(),
        *truncation_cases(),
        *move_cases(),
        *key_cases(),
        *aad_cases(),
        *structure_cases(),
        *payload_cases(),
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
        "records": [
            {
                "item": r.item,
                "address": str(r.address) if r.address else None,
                "aad": aad_for(r.address).hex() if r.address else None,
                "aad_hash": aad_hash(r.address) if r.address else None,
                "plaintext": r.plaintext.hex() if r.plaintext is not None else None,
                "payload": dict(r.payload) if r.payload is not None else None,
            }
            for r in case.records
        ],
        "expected": {
            "keyless": {"outcome": outcome(case.keyless), "findings": sorted(case.keyless)},
            "keyed": {"outcome": outcome(keyed), "findings": sorted(keyed)},
        },
    }


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
