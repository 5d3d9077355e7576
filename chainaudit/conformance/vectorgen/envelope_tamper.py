"""Negative envelope vectors, one named tampering method per function (VEC-2, VEC-3).

Each method starts from a correctly sealed base record and changes one
thing: flip every bit, truncate at every length, move to another address,
swap key versions, seal with the legacy AAD, break the structure or the
payload. The codes each case must produce are declared here from the spec
(ENV-n), not computed by the verifier.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from chainaudit.conformance.vectorgen.envelope_build import (
    OTHER_D,
    SHORT_ADDR,
    SHORT_PAYLOAD,
    A,
    Case,
    D,
    Rec,
    _found,
    cleartext,
    dek_for,
    key_id,
    make_envelope,
    mutation,
    nonce_for,
    rec_of,
    sealed,
    to_json_item,
    with_env,
)
from chainaudit.envelope.seal import aad_hash, encode_payload, legacy_aad_for, legacy_aad_hash
from chainaudit.records.address import Address
from chainaudit.records.model import EntityRecord

LONG_ADDR = A(D, "evidence", "01", "04")
LONG_PAYLOAD = {"source": "https://example.org/benchmark-report", "page": 12}


def _base(address: Address, payload: Mapping[str, Any], label: str) -> EntityRecord:
    record, _ = sealed(address, payload, label)
    return record


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
    ra.nonce_fp = rb.nonce_fp = True
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
                f"envelope_version {v}: not implemented (ENV-3); no plaintext is "
                "given because a verifier must not read it",
                [Rec(item, SHORT_ADDR)],
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
            [Rec(to_json_item(EntityRecord(ref, cleartext(ref), env)), ref)],
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
    item["envelope_version"] = {"N": "1.0"}
    cases.append(
        Case(
            "malformed-envelope-version-not-integer",
            "envelope_version 1.0: not a decimal integer (ENV-3)",
            [Rec(item, SHORT_ADDR)],
            ["RECORD_MALFORMED"],
            mutation=mutation("edit-attribute", attribute="envelope_version", value="1.0"),
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


def negative_cases() -> list[Case]:
    """Every negative case, in a fixed order."""
    return [
        *flip_cases(),
        *truncation_cases(),
        *move_cases(),
        *key_cases(),
        *aad_cases(),
        *structure_cases(),
        *payload_cases(),
    ]
