"""Envelope vectors that pin one rule each (VEC-2): item mapping and check
order, the nonce ledger's entry rule, address limits and part grammars,
refuted legacy AAD, payload numbers.

The tampering families (flip, truncate, move, ...) live in
:mod:`chainaudit.conformance.vectorgen.envelope_tamper`; this module holds the cases an
independent implementation needed to stop guessing (ENV-2, ENV-3, ENV-5,
ENV-7..ENV-9, ADDR-2, ADDR-5, MODEL-3). Expected codes are declared from the
spec, never computed by the verifier.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from typing import Any

from chainaudit.conformance.vectorgen.envelope_build import (
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
from chainaudit.envelope.seal import encode_payload, legacy_aad_for, legacy_aad_hash
from chainaudit.records.model import EntityRecord

TS = "2026-01-02T03:04:05Z"

#: ADDR-5: a ref whose address is exactly 1024 UTF-8 bytes, every part at or
#: near the 255-byte component limit, measured on the escaped form
#: ('#' x 85 escapes to 255 bytes), with 2- and 4-byte characters.
LIMIT_DIALOGUE = "#" * 85
LIMIT_IDS = ("é" * 127 + "x", "🦉" * 63 + "xyz", "c" * 236)


def _limit_ref(last: str) -> tuple[str, str]:
    """pk and sk of the limit ref with ``last`` as its third id (escaped = logical)."""
    return "dialogue#" + "%23" * 85, f"ref#{LIMIT_IDS[0]}#{LIMIT_IDS[1]}#{last}"


def rule_positive_cases() -> list[Case]:
    cases = []
    limit = A(LIMIT_DIALOGUE, "ref", *LIMIT_IDS)
    assert len(limit.to_bytes()) == 1024
    cases.append(
        Case(
            "valid-address-at-limit-1024",
            "a ref whose address is exactly 1024 bytes; dialogue id and two ids are "
            "255 escaped bytes each (ADDR-5)",
            [rec_of(EntityRecord(limit, cleartext(limit), None), None, None)],
        )
    )
    name = "valid-payload-large-doubles"
    pt = b'{"a":9007199254740992,"b":10000000000000000,"c":-9007199254740992}'
    address = A(D, "claim", "06", "01")
    env = make_envelope(address, pt, key_id(D), nonce_for(name))
    cases.append(
        Case(
            name,
            "integers beyond 2^53-1 that are exact doubles, written as RFC 8785 writes "
            "those doubles: canonical (ENV-8)",
            [rec_of(EntityRecord(address, cleartext(address), env), pt, json.loads(pt))],
        )
    )
    return cases


# --- item mapping and check order (ENV-2, ENV-3, MODEL-3) ---------------------


def _base_item() -> dict[str, Any]:
    record, _ = sealed(SHORT_ADDR, SHORT_PAYLOAD, "short")
    return to_json_item(record)


def _malformed(name: str, description: str, item: dict[str, Any], **params: Any) -> Case:
    return Case(
        name,
        description,
        [Rec(item, None)],
        ["RECORD_MALFORMED"],
        mutation=mutation("edit-item", **params),
    )


def mapping_cases() -> list[Case]:
    cases = []
    item = _base_item()
    item["envelope_version"] = {"N": "01"}
    cases.append(
        _malformed(
            "malformed-envelope-version-leading-zero",
            "envelope_version 01: must match 0|[1-9][0-9]* (ENV-3)",
            item,
            attribute="envelope_version",
            value="01",
        )
    )
    item = _base_item()
    item["envelope_version"] = {"S": "1"}
    cases.append(
        _malformed(
            "malformed-envelope-version-as-string",
            "envelope_version stored as S, not N (ENV-2)",
            item,
            attribute="envelope_version",
            value={"S": "1"},
        )
    )
    item = to_json_item(EntityRecord(SHORT_ADDR, cleartext(SHORT_ADDR), None))
    item["envelope_version"] = {"N": "1"}
    cases.append(
        _malformed(
            "malformed-envelope-version-without-envelope",
            "envelope_version without the four envelope attributes: RECORD_MALFORMED, "
            "not ENVELOPE_MISSING (ENV-2 rule 1)",
            item,
            attribute="envelope_version",
            value="1",
        )
    )
    item = _base_item()
    item["envelope_version"] = {"N": "2"}
    del item["content_nonce"]
    cases.append(
        _malformed(
            "malformed-envelope-version-2-missing-nonce",
            "a version-2 envelope without content_nonce: the four-attribute frame is "
            "checked before the version (ENV-2, ENV-3)",
            item,
            attribute="content_nonce",
            envelope_version="2",
        )
    )
    item = _base_item()
    del item["pk"]
    cases.append(
        _malformed("malformed-pk-missing", "no pk attribute (ENV-2 rule 1)", item, attribute="pk")
    )
    item = _base_item()
    item["sk"] = {"N": "1"}
    cases.append(
        _malformed("malformed-sk-not-string", "sk stored as N (ENV-2 rule 1)", item, attribute="sk")
    )
    ref = A(D, "ref", "claim-01-02", "supports", "claim-01-03")
    item = to_json_item(EntityRecord(ref, cleartext(ref), None))
    base = _base_item()
    item["key_id"] = base["key_id"]
    item["content_encrypted"] = base["content_encrypted"]
    cases.append(
        _malformed(
            "malformed-partial-envelope-on-ref",
            "a ref with two of the four envelope attributes: the mapping's RECORD_MALFORMED, "
            "not ENVELOPE_UNEXPECTED (ENV-2)",
            item,
            attribute="key_id, content_encrypted",
        )
    )
    item = _base_item()
    del item["content_nonce"]
    item["pk"] = {"S": "dialogue#a%b"}
    cases.append(
        Case(
            "address-invalid-with-partial-envelope",
            "a bad pk and a partial envelope: the address is checked first, one finding "
            "(ENV-2 rule 1)",
            [Rec(item, None)],
            ["ADDRESS_INVALID"],
            mutation=mutation("edit-pk", pk="dialogue#a%b", removed="content_nonce"),
        )
    )
    # MODEL-3: B values are canonical standard padded base64. 23 bytes leave two
    # unused bits in the last character and one '=' of padding.
    b64 = _base_item()["content_encrypted"]["B"]
    assert len(b64) == 32 and b64.endswith("=") and not b64.endswith("==")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = alphabet[alphabet.index(b64[-2]) | 1]  # set an unused low bit
    for label, value in (("not-canonical", b64[:-2] + last + "="), ("unpadded", b64[:-1])):
        item = _base_item()
        item["content_encrypted"] = {"B": value}
        cases.append(
            _malformed(
                f"malformed-ciphertext-base64-{label}",
                f"content_encrypted base64 {label.replace('-', ' ')}: a typed value "
                "breaking MODEL-3 (VEC-2 step 1)",
                item,
                attribute="content_encrypted",
                value=value,
            )
        )
    return cases


def ref_cases() -> list[Case]:
    ref = A(D, "ref", "claim-01-02", "supports", "claim-01-03")
    pt = encode_payload(SHORT_PAYLOAD)
    env = make_envelope(ref, pt, "dek#dlg-0001#01", nonce_for("envelope-on-ref"))
    env = dataclasses.replace(env, nonce=env.nonce[:8], aad_hash="")
    record = EntityRecord(ref, cleartext(ref), env)
    return [
        Case(
            "envelope-on-ref-broken",
            "a ref with an envelope whose nonce, key_id and aad_hash are all bad: only "
            "ENVELOPE_UNEXPECTED, no other check runs on it (ENV-2)",
            [Rec(to_json_item(record), ref)],
            ["ENVELOPE_UNEXPECTED"],
            mutation=mutation("add-envelope", nonce_bytes=8, key_id="dek#dlg-0001#01"),
        )
    ]


# --- the nonce ledger (ENV-5) ---------------------------------------------------


def _reuse(name: str, description: str, recs: list[Rec], codes: list[str], **kw: Any) -> Case:
    for r in recs:
        if "content_nonce" in r.item and "key_id" in r.item:
            r.nonce_fp = True
    keyed = kw.pop("keyed", None)
    return Case(name, description, recs, codes, keyed, mutation=mutation("reuse-nonce", **kw))


def ledger_cases() -> list[Case]:
    label = "nonce-ledger"
    a, b, c = (A(D, "claim", "07", n) for n in ("01", "02", "03"))
    _, ra = sealed(a, {"i": 1}, label)
    _, rb = sealed(b, {"i": 2}, label)
    _, rc = sealed(c, {"i": 3}, label)
    _, ra2 = sealed(a, {"i": 9}, label)
    cases = [
        _reuse(
            "nonce-reuse-repeat-read-twice",
            "A, B, B (B read twice): each later occurrence is compared with the first "
            "occurrence A only, so both B are reuse (ENV-5)",
            [ra, rb, copy.deepcopy(rb)],
            ["NONCE_REUSE", "NONCE_REUSE"],
            pattern="A,B,B",
        ),
        _reuse(
            "nonce-reuse-first-read-twice",
            "A, A, B: the second A is the same record read twice; B is one reuse (ENV-5)",
            [ra, copy.deepcopy(ra), rb],
            ["NONCE_REUSE"],
            pattern="A,A,B",
        ),
        _reuse(
            "nonce-reuse-three-addresses",
            "A, B, C under one key and nonce: two reuses, both naming A (ENV-5)",
            [ra, rb, rc],
            ["NONCE_REUSE", "NONCE_REUSE"],
            pattern="A,B,C",
        ),
        _reuse(
            "nonce-reuse-same-address-other-ciphertext",
            "the same address twice with one key and nonce but different ciphertexts: two "
            "seals, so reuse (ENV-5)",
            [ra, ra2],
            ["NONCE_REUSE"],
            pattern="A,A'",
        ),
    ]
    short8 = nonce_for(label)[:8]
    pt = encode_payload({"i": 1})
    recs = []
    for addr in (a, b):
        env = make_envelope(addr, pt, key_id(D), nonce_for(label))
        record = with_env(EntityRecord(addr, cleartext(addr), env), nonce=short8)
        recs.append(rec_of(record, pt, {"i": 1}))
    cases.append(
        _reuse(
            "nonce-reuse-nonce-length",
            "two records with the same 8-byte nonce under one key: NONCE_LENGTH on each and "
            "the pair still enters the ledger (ENV-5)",
            recs,
            ["NONCE_LENGTH", "NONCE_LENGTH", "NONCE_REUSE"],
            nonce_bytes=8,
        )
    )
    bad = f"dek#{D}#01"
    recs = [
        rec_of(with_env(sealed(addr, {"i": i}, label)[0], key_id=bad), None, None)
        for i, addr in ((1, a), (2, b))
    ]
    cases.append(
        _reuse(
            "nonce-reuse-key-id-invalid",
            "two records naming the invalid key id dek#dlg-0001#01 with one nonce: the "
            "ledger groups by the stored key_id string (ENV-5)",
            recs,
            ["KEY_ID_INVALID", "KEY_ID_INVALID", "NONCE_REUSE"],
            key_id=bad,
        )
    )
    ref = A(D, "ref", "claim-07-01", "copy", "x")
    claim_record, _ = sealed(a, {"i": 1}, label)
    ref_record = EntityRecord(ref, cleartext(ref), claim_record.envelope)
    cases.append(
        _reuse(
            "nonce-reuse-envelope-on-ref",
            "a claim's envelope copied onto a ref: ENVELOPE_UNEXPECTED, and the copy still "
            "enters the ledger (ENV-2, ENV-5)",
            [ra, Rec(to_json_item(ref_record), ref)],
            ["ENVELOPE_UNEXPECTED", "NONCE_REUSE"],
            copied_to=str(ref),
        )
    )
    v2 = copy.deepcopy(rb)
    v2.item["envelope_version"] = {"N": "2"}
    v2.plaintext = v2.payload = None
    cases.append(
        _reuse(
            "nonce-reuse-unsupported-version-not-entered",
            "A (v1) and B (envelope_version 2) with one key id and nonce: B is not read, "
            "so it does not enter the ledger (ENV-3, ENV-5)",
            [ra, v2],
            ["ENVELOPE_VERSION_UNSUPPORTED"],
            envelope_version="2",
        )
    )
    return cases


# --- keyed diagnosis (ENV-7, ENV-9) and payload numbers (ENV-8) ------------------


def keyed_rule_cases() -> list[Case]:
    cases = []
    record, rec = sealed(SHORT_ADDR, SHORT_PAYLOAD, "short")
    moved = with_env(record, aad_hash=legacy_aad_hash(SHORT_ADDR))
    cases.append(
        Case(
            "legacy-aad-hash-on-v1-ciphertext",
            "aad_hash set to the legacy hash on a v1-sealed record: LEGACY_AAD without keys, "
            "refuted by the key to AAD_HASH_MISMATCH (ENV-9)",
            [rec_of(moved, rec.plaintext, SHORT_PAYLOAD)],
            ["LEGACY_AAD"],
            ["AAD_HASH_MISMATCH"],
            mutation=mutation("legacy-hash-on-v1", value=legacy_aad_hash(SHORT_ADDR)),
        )
    )
    pt = encode_payload(SHORT_PAYLOAD)
    env = make_envelope(
        SHORT_ADDR,
        pt,
        key_id(D, 1),
        nonce_for("legacy-swap"),
        dek=dek_for(key_id(D, 2)),
        stored_hash=legacy_aad_hash(SHORT_ADDR),
    )
    cases.append(
        Case(
            "key-version-swapped-legacy-aad-hash",
            "v1 address AAD under version 2's key, key_id names version 1, aad_hash is the "
            "legacy hash: opening under another version refutes LEGACY_AAD (ENV-7, ENV-9)",
            [rec_of(EntityRecord(SHORT_ADDR, cleartext(SHORT_ADDR), env), pt, SHORT_PAYLOAD)],
            ["LEGACY_AAD"],
            ["AAD_HASH_MISMATCH", "WRONG_KEY_VERSION"],
            keys=_found(key_id(D, 1), key_id(D, 2)),
            mutation=mutation("swap-key-version", sealed_with=key_id(D, 2), aad_hash="legacy"),
        )
    )
    bad = b"[1,2]"
    env = make_envelope(
        SHORT_ADDR,
        bad,
        key_id(D),
        nonce_for("legacy-not-object"),
        aad=legacy_aad_for(SHORT_ADDR),
        stored_hash=legacy_aad_hash(SHORT_ADDR),
    )
    cases.append(
        Case(
            "legacy-aad-payload-not-object",
            "legacy-sealed array payload: the diagnosis LEGACY_AAD is reported and the "
            "payload is not checked (ENV-7, ENV-8)",
            [rec_of(EntityRecord(SHORT_ADDR, cleartext(SHORT_ADDR), env), bad, None)],
            ["LEGACY_AAD"],
            ["LEGACY_AAD"],
            mutation=mutation("legacy-aad", plaintext=bad.hex()),
        )
    )
    name = "payload-not-canonical-number-overflow"
    over = b'{"a":1e400}'
    env = make_envelope(SHORT_ADDR, over, key_id(D), nonce_for(name))
    cases.append(
        Case(
            name,
            "a number beyond the double range has no RFC 8785 form (ENV-8)",
            [rec_of(EntityRecord(SHORT_ADDR, cleartext(SHORT_ADDR), env), over, None)],
            [],
            ["PAYLOAD_NOT_CANONICAL"],
            mutation=mutation("seal-plaintext", plaintext=over.hex()),
        )
    )
    return cases


# --- addresses (ADDR-2, ADDR-3, ADDR-5) --------------------------------------------

BAD_KEYS: list[tuple[str, str, str, str]] = [
    ("over-limit-1025", *_limit_ref("c" * 237), "the limit ref with one byte more: 1025 bytes"),
    (
        "component-256-bytes",
        "dialogue#" + "%25" * 85 + "x",
        "claim#01#02",
        "a dialogue id of 256 escaped bytes (86 logical)",
    ),
    ("nn-one-digit", f"dialogue#{D}", "round#1", "nn is exactly two digits"),
    ("nn-three-digits", f"dialogue#{D}", "claim#01#002", "nn is exactly two digits"),
    ("nn-non-ascii-digits", f"dialogue#{D}", "round#٠١", "nn digits are ASCII"),
    ("ts-no-zone", f"dialogue#{D}", "event#claim#c-1#2026-01-02T03:04:05", "ts ends in Z"),
    ("ts-offset", f"dialogue#{D}", "event#claim#c-1#2026-01-02T03:04:05+00:00", "ts is UTC Z"),
    (
        "ts-fraction-10-digits",
        f"dialogue#{D}",
        "event#claim#c-1#2026-01-02T03:04:05.1234567890Z",
        "at most 9 fraction digits",
    ),
    ("ts-lowercase-t", f"dialogue#{D}", "event#claim#c-1#2026-01-02t03:04:05Z", "T is upper-case"),
    ("event-describes-event", f"dialogue#{D}", f"event#event#e-1#{TS}", "type excludes event"),
    ("not-nfc", f"dialogue#{D}", "expert#e\u0301", "ids are NFC"),
    ("control-character", f"dialogue#{D}", "expert#a\tb", "no Cc code points"),
    ("lowercase-escape", "dialogue#a%2fb", "meta", "escapes are upper-case hex"),
    ("meta-with-subkey", f"dialogue#{D}", "meta#x", "meta takes no subkey"),
    ("type-uppercase", f"dialogue#{D}", "Claim#01#02", "type names are exact"),
]


def address_cases() -> list[Case]:
    cases = []
    for label, pk, sk, why in BAD_KEYS:
        item = _base_item()
        item["pk"], item["sk"] = {"S": pk}, {"S": sk}
        cases.append(
            Case(
                f"address-invalid-{label}",
                f"pk/sk do not map to an address: {why} (ADDR-2..ADDR-5)",
                [Rec(item, None)],
                ["ADDRESS_INVALID"],
                mutation=mutation("edit-key", pk=pk, sk=sk),
            )
        )
    return cases


def rule_negative_cases() -> list[Case]:
    """Every rule case that must produce findings, in a fixed order."""
    return [
        *mapping_cases(),
        *ref_cases(),
        *ledger_cases(),
        *keyed_rule_cases(),
        *address_cases(),
    ]


__all__ = ["rule_negative_cases", "rule_positive_cases"]
