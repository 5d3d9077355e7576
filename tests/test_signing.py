"""Pinned-key trust (CHAIN-10): only pinned keys make a signature count."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chainaudit.errors import InputError
from chainaudit.keys.signing import (
    TrustStore,
    key_id,
    private_key_from_label,
    public_bytes,
    sign,
    verify,
)

ALICE = private_key_from_label("alice")
BOB = private_key_from_label("bob")


def test_vector_keys_derive_deterministically_and_differ_by_label() -> None:
    assert public_bytes(private_key_from_label("alice")) == public_bytes(ALICE)
    assert public_bytes(ALICE) != public_bytes(BOB)
    assert sign(ALICE, b"m") == sign(private_key_from_label("alice"), b"m")


def test_check_distinguishes_valid_invalid_untrusted() -> None:
    store = TrustStore.of([public_bytes(ALICE)])
    kid = key_id(public_bytes(ALICE))
    sig = sign(ALICE, b"statement")
    assert store.check(kid, sig, b"statement") == "valid"
    assert store.check(kid, sig, b"statement!") == "invalid"
    assert store.check(kid, sign(BOB, b"statement"), b"statement") == "invalid"
    bob_kid = key_id(public_bytes(BOB))
    # Bob's signature is mathematically valid, but Bob is not pinned.
    assert store.check(bob_kid, sign(BOB, b"statement"), b"statement") == "untrusted"
    assert kid in store and bob_kid not in store


def test_verify_rejects_wrong_lengths_without_raising() -> None:
    pub = public_bytes(ALICE)
    sig = sign(ALICE, b"m")
    assert verify(pub, sig, b"m")
    assert not verify(pub[:31], sig, b"m")
    assert not verify(pub, sig[:63], b"m")
    assert not verify(pub, sig + b"\x00", b"m")


def test_key_id_needs_a_raw_32_byte_key() -> None:
    with pytest.raises(ValueError):
        key_id(b"\x00" * 31)


def test_trusted_keys_file_round_trip_and_rejections(tmp_path: Path) -> None:
    path = tmp_path / "trusted.json"
    pub = public_bytes(ALICE).hex()
    path.write_text(json.dumps({"type": "chainaudit/trusted-keys", "version": 1, "keys": [pub]}))
    store = TrustStore.load(path)
    assert list(store.keys) == [key_id(public_bytes(ALICE))]
    for bad in (
        {"type": "chainaudit/trusted-keys", "version": 2, "keys": [pub]},
        {"type": "other", "version": 1, "keys": [pub]},
        {"type": "chainaudit/trusted-keys", "version": 1, "keys": [pub.upper()]},
        {"type": "chainaudit/trusted-keys", "version": 1, "keys": [pub[:-2]]},
    ):
        path.write_text(json.dumps(bad))
        with pytest.raises(InputError):
            TrustStore.load(path)
    path.write_text("{not json")
    with pytest.raises(InputError):
        TrustStore.load(path)
