"""Envelope v1 seal/open (docs/envelope.md ENV-3..ENV-9): round trips, AAD bytes,
payload rules, and that any single-bit change is detected."""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainaudit.conformance.vectorgen.envelope import NOT_CANONICAL, NOT_OBJECT
from chainaudit.envelope.seal import (
    ALGORITHMS,
    NONCE_BYTES,
    TAG_BYTES,
    PayloadError,
    aad_for,
    aad_from_hash,
    aad_hash,
    decode_payload,
    encode_payload,
    legacy_aad_for,
    legacy_aad_hash,
    open_envelope,
    seal,
    seal_random,
)
from chainaudit.primitives import crypto
from chainaudit.records.address import Address, EntityType
from chainaudit.testing import dek, nonce
from chainaudit.testing.strategies import addresses, payloads

#: Every entity type an envelope may be sealed for (all but ref, ENV-2).
SEALABLE = [t for t in EntityType if t is not EntityType.REF]

A = Address.of("d-1", "claim", "01", "02")
KEY = dek("k")
KID = "dek#d-1#1"


def test_algorithm_registry_pins_v1() -> None:
    assert ALGORITHMS == {1: "A256GCM-ADDR-SHA256"}


def test_aad_is_raw_sha256_of_address_bytes() -> None:
    # ENV-4: the AAD is the 32-byte digest; aad_hash is its lowercase hex.
    want = hashlib.sha256(b"dialogue:d-1/entity:claim/01#02").digest()
    assert aad_for(A) == want
    assert aad_hash(A) == want.hex()
    assert aad_from_hash(want.hex()) == want
    assert aad_from_hash(want.hex().upper()) is None
    assert aad_from_hash("00" * 31) is None


def test_legacy_aad_is_sha256_of_pk_then_sk() -> None:
    # ENV-9: UTF-8(pk) || UTF-8(sk), no separator.
    want = hashlib.sha256(b"dialogue#d-1claim#01#02").digest()
    assert legacy_aad_for(A) == want
    assert legacy_aad_hash(A) == want.hex()
    assert legacy_aad_for(A) != aad_for(A)


def test_seal_is_deterministic_given_the_nonce() -> None:
    e1 = seal(A, {"b": 1, "a": "é"}, KEY, KID, nonce("n"))
    e2 = seal(A, {"a": "é", "b": 1}, KEY, KID, nonce("n"))
    assert e1 == e2
    assert len(e1.ciphertext) == len(encode_payload({"a": "é", "b": 1})) + TAG_BYTES
    assert e1.aad_hash == aad_hash(A) and e1.version == 1


def test_seal_random_draws_fresh_nonces() -> None:
    e1, e2 = (seal_random(A, {"a": 1}, KEY, KID) for _ in range(2))
    assert len(e1.nonce) == NONCE_BYTES and e1.nonce != e2.nonce
    assert open_envelope(A, e1, KEY) == {"a": 1}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dek": bytes(16)}, "DEK"),
        ({"nonce": bytes(16)}, "nonce"),
        ({"address": Address.of("d", "ref", "a", "b", "c")}, "no envelope"),
    ],
)
def test_seal_misuse_raises(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"address": A, "payload": {}, "dek": KEY, "key_id": KID}
    args["nonce"] = nonce("n")
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        seal(**args)  # type: ignore[arg-type]


def test_encode_payload_is_rfc8785() -> None:
    assert encode_payload({"b": [1.0, 1e21], "a": "\u00e9"}) == '{"a":"é","b":[1,1e+21]}'.encode()
    with pytest.raises(TypeError):
        encode_payload([1, 2])  # type: ignore[arg-type]


@pytest.mark.parametrize(("label", "plaintext"), NOT_OBJECT, ids=[n for n, _ in NOT_OBJECT])
def test_decode_rejects_what_is_not_a_json_object(label: str, plaintext: bytes) -> None:
    with pytest.raises(PayloadError):
        decode_payload(plaintext)


@pytest.mark.parametrize(("label", "plaintext"), NOT_CANONICAL, ids=[n for n, _ in NOT_CANONICAL])
def test_decode_accepts_non_canonical_objects_and_says_so(label: str, plaintext: bytes) -> None:
    value, canonical = decode_payload(plaintext)
    assert isinstance(value, dict) and canonical is False


@pytest.mark.parametrize(
    ("plaintext", "canonical"),
    [
        (b'{"a":9007199254740991}', True),
        (b'{"a":9007199254740992}', True),  # 2^53: an exact double, JCS writes it so
        (b'{"a":-9007199254740992}', True),
        (b'{"a":10000000000000000}', True),  # JCS form of the double 1e16
        (b'{"a":1e+21}', True),
        (b'{"a":9007199254740993}', False),  # reads as 2^53
        (b'{"a":1e16}', False),
        (b'{"a":1e400}', False),  # beyond the double range: no RFC 8785 form
        (b'{"a":1' + b"0" * 400 + b"}", False),
    ],
)
def test_payload_numbers_are_canonical_as_doubles(plaintext: bytes, canonical: bool) -> None:
    """ENV-8: canonical means equal to RFC 8785 of the value read as doubles."""
    assert decode_payload(plaintext)[1] is canonical


def test_payload_errors_never_quote_content() -> None:
    for bad in (b'{"SECRET":1,"SECRET":2}', b'{"a":"SECRET"', b'["SECRET"]', b'{"SECRET":NaN}'):
        with pytest.raises(PayloadError) as info:
            decode_payload(bad)
        assert "SECRET" not in str(info.value)


def test_open_rejects_an_unsupported_version() -> None:
    env = dataclasses.replace(seal(A, {}, KEY, KID, nonce("n")), version=2)
    with pytest.raises(ValueError, match="version"):
        open_envelope(A, env, KEY)


@settings(max_examples=60, deadline=None)
@given(addresses(entity_types=SEALABLE), payloads())
def test_seal_open_round_trip(address: Address, payload: dict[str, object]) -> None:
    env = seal(address, payload, KEY, f"dek#{address.dialogue}#1", nonce(str(address)))
    opened = open_envelope(address, env, KEY)
    # RFC 8785 keeps every value; the only change is -0.0 -> 0 (still ==).
    assert opened == payload
    value, canonical = decode_payload(encode_payload(opened))
    assert canonical and value == payload


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_any_single_bit_change_is_detected(data: st.DataObject) -> None:
    """ENV-6: flipping one bit of ciphertext, tag, nonce or address defeats opening."""
    address = data.draw(addresses(entity_types=SEALABLE))
    env = seal(address, data.draw(payloads()), KEY, KID, nonce(str(address)))
    field = data.draw(st.sampled_from(["ciphertext", "nonce", "address"]))
    if field == "address":
        raw = bytearray(address.to_bytes())
        bit = data.draw(st.integers(0, 8 * len(raw) - 1))
        raw[bit // 8] ^= 0x80 >> (bit % 8)
        # The changed bytes need not be a valid address; the AAD is still over them.
        aad = hashlib.sha256(bytes(raw)).digest()
        with pytest.raises(crypto.AuthenticationError):
            crypto.gcm_decrypt(KEY, env.nonce, aad, env.ciphertext)
        return
    value = bytearray(getattr(env, field))
    bit = data.draw(st.integers(0, 8 * len(value) - 1))
    value[bit // 8] ^= 0x80 >> (bit % 8)
    with pytest.raises(crypto.AuthenticationError):
        changed: dict[str, Any] = {field: bytes(value)}
        open_envelope(address, dataclasses.replace(env, **changed), KEY)


@settings(max_examples=40, deadline=None)
@given(addresses(entity_types=SEALABLE), addresses(entity_types=SEALABLE))
def test_sealed_for_one_address_does_not_open_at_another(a: Address, b: Address) -> None:
    env = seal(a, {"x": 1}, KEY, KID, nonce("n"))
    if a == b:
        assert open_envelope(b, env, KEY) == {"x": 1}
    else:
        with pytest.raises(crypto.AuthenticationError):
            open_envelope(b, env, KEY)
