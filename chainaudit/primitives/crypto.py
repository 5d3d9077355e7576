"""The primitives, behind one small call path that tests pin with Wycheproof
and NIST CAVP vectors (tests/test_primitives_*.py).

Everything cryptographic in chainaudit goes through these functions, so the
peer test suites exercise exactly the code that verifies user data.
Authenticated decryption fails opaquely with :class:`AuthenticationError`:
callers learn only that it failed, never why.
"""

from __future__ import annotations

import hashlib
import hmac

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.keywrap import (
    InvalidUnwrap,
    aes_key_unwrap,
    aes_key_wrap,
)

GCM_TAG_BYTES = 16
AES256_KEY_BYTES = 32


class AuthenticationError(Exception):
    """Authenticated decryption or unwrapping failed. Carries no detail on purpose."""


def gcm_encrypt(key: bytes, nonce: bytes, aad: bytes, plaintext: bytes) -> bytes:
    """AES-GCM (SP 800-38D) with a 128-bit tag; returns ciphertext || tag."""
    enc = Cipher(algorithms.AES(key), modes.GCM(nonce)).encryptor()
    enc.authenticate_additional_data(aad)
    ct = enc.update(plaintext) + enc.finalize()
    return ct + enc.tag


def gcm_decrypt(
    key: bytes, nonce: bytes, aad: bytes, ciphertext_and_tag: bytes, tag_bytes: int = GCM_TAG_BYTES
) -> bytes:
    """Open ciphertext || tag, where the tag is the last ``tag_bytes`` bytes.

    ``tag_bytes`` other than 16 exists only so the verifier can recognise a
    truncated tag (ENV-6) and so Wycheproof's short-tag cases can be run;
    envelope v1 itself always uses 16.
    """
    if not 4 <= tag_bytes <= 16 or len(ciphertext_and_tag) < tag_bytes:
        raise AuthenticationError
    if tag_bytes == GCM_TAG_BYTES:
        # The one-shot AEAD object does the same SP 800-38D decryption
        # (same key and nonce length rules, ValueError otherwise) without
        # building a streaming context: ~100x cheaper per record. Built per
        # call, so no key material is kept beyond the caller's own reference.
        try:
            return AESGCM(key).decrypt(nonce, ciphertext_and_tag, aad)
        except (InvalidTag, ValueError):
            raise AuthenticationError from None
    ct, tag = ciphertext_and_tag[:-tag_bytes], ciphertext_and_tag[-tag_bytes:]
    try:
        dec = Cipher(
            algorithms.AES(key), modes.GCM(nonce, tag, min_tag_length=tag_bytes)
        ).decryptor()
        dec.authenticate_additional_data(aad)
        return dec.update(ct) + dec.finalize()
    except (InvalidTag, ValueError):
        raise AuthenticationError from None


def hkdf_sha256(ikm: bytes, salt: bytes | None, info: bytes, length: int) -> bytes:
    """HKDF-SHA256 (RFC 5869). An empty or absent salt means HashLen zero bytes."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt or None, info=info).derive(ikm)


def aes_kw_wrap(kek: bytes, key: bytes) -> bytes:
    """AES key wrap (RFC 3394)."""
    return aes_key_wrap(kek, key)


def aes_kw_unwrap(kek: bytes, wrapped: bytes) -> bytes:
    """AES key unwrap (RFC 3394); fails opaquely."""
    try:
        return aes_key_unwrap(kek, wrapped)
    except (InvalidUnwrap, ValueError):
        raise AuthenticationError from None


def sha256(data: bytes) -> bytes:
    """SHA-256 digest."""
    return hashlib.sha256(data).digest()


def equal(a: bytes | str, b: bytes | str) -> bool:
    """Constant-time comparison of two tags, hashes or signatures."""
    if isinstance(a, str):
        a = a.encode("utf-8")
    if isinstance(b, str):
        b = b.encode("utf-8")
    return hmac.compare_digest(a, b)
