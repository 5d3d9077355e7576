"""Ed25519 signatures with pinned public keys (CHAIN-10).

Checkpoints and boundary events are signed with Ed25519 (RFC 8032). A
signature counts only if its signer is a key the user pinned: a
:class:`TrustStore` maps key ids (hex SHA-256 of the raw 32-byte public key)
to public keys, and :meth:`TrustStore.check` says which of "untrusted",
"invalid" or "valid" a signature is. The verify path :func:`verify` is the
one Wycheproof ``ed25519_test.json`` runs through. Private keys are never
printed; only vector generators and tests create them.

>>> sk = private_key_from_label("doc")
>>> store = TrustStore.of([public_bytes(sk)])
>>> store.check(key_id(public_bytes(sk)), sign(sk, b"m"), b"m")
'valid'
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from chainaudit.errors import InputError
from chainaudit.primitives import strictjson

PUBLIC_KEY_BYTES = 32
SIGNATURE_BYTES = 64
#: CHAIN-10: derivation of deterministic vector keys from labels.
VECTOR_KEY_DOMAIN = b"chainaudit/vectors/ed25519\x00"
TRUSTED_KEYS_TYPE = "chainaudit/trusted-keys"

Verdict = Literal["valid", "invalid", "untrusted"]


def key_id(public_key: bytes) -> str:
    """CHAIN-10: the signer key id, lowercase hex SHA-256 of the raw public key."""
    if len(public_key) != PUBLIC_KEY_BYTES:
        raise ValueError("an Ed25519 public key is 32 bytes")
    return hashlib.sha256(public_key).hexdigest()


def verify(public_key: bytes, signature: bytes, message: bytes) -> bool:
    """Whether ``signature`` is a valid Ed25519 signature of ``message`` (RFC 8032).

    Wrong lengths and undecodable keys are simply invalid: bad data, not misuse.
    """
    if len(public_key) != PUBLIC_KEY_BYTES or len(signature) != SIGNATURE_BYTES:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def sign(private_key: Ed25519PrivateKey, message: bytes) -> bytes:
    """An Ed25519 signature (deterministic by RFC 8032)."""
    return private_key.sign(message)


def public_bytes(private_key: Ed25519PrivateKey) -> bytes:
    """The raw 32-byte public key of a private key."""
    return private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def private_key_from_label(label: str) -> Ed25519PrivateKey:
    """CHAIN-10: a deterministic key for vectors: seed = SHA-256(domain || label)."""
    seed = hashlib.sha256(VECTOR_KEY_DOMAIN + label.encode("utf-8")).digest()
    return Ed25519PrivateKey.from_private_bytes(seed)


@dataclass(frozen=True)
class TrustStore:
    """The public keys a user pinned, by key id. Only these can make a signature count."""

    keys: dict[str, bytes] = field(default_factory=dict)

    @classmethod
    def of(cls, public_keys: Iterable[bytes]) -> TrustStore:
        return cls({key_id(k): bytes(k) for k in public_keys})

    @classmethod
    def load(cls, path: Path) -> TrustStore:
        """Read a trusted-keys file (CHAIN-10); raises InputError if it is not one."""
        where = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, ValueError) as exc:
            raise InputError(where, f"cannot read trusted keys: {exc}") from None
        if len(text.strip()) == 64 and all(c in "0123456789abcdef" for c in text.strip()):
            # Never echo it: this is most likely a private signing-key seed.
            raise InputError(
                where,
                "this looks like a signing-key file (a private seed), not a trusted-keys file; "
                "pass the trusted-keys JSON that `chainaudit keys signer` wrote beside it",
            )
        try:
            doc = strictjson.loads(text)
        except ValueError as exc:
            raise InputError(where, f"not a trusted-keys file (JSON expected): {exc}") from None
        if (
            not isinstance(doc, dict)
            or doc.get("type") != TRUSTED_KEYS_TYPE
            or doc.get("version") != 1
            or not isinstance(doc.get("keys"), list)
        ):
            raise InputError(where, f"not a {TRUSTED_KEYS_TYPE} version 1 file")
        keys: list[bytes] = []
        for i, text in enumerate(doc["keys"]):
            try:
                raw = bytes.fromhex(text) if isinstance(text, str) else b""
            except ValueError:
                raw = b""
            if len(raw) != PUBLIC_KEY_BYTES or raw.hex() != text:
                raise InputError(where, f"keys[{i}] is not 64 lowercase hex digits")
            keys.append(raw)
        return cls.of(keys)

    def __contains__(self, signer_key_id: object) -> bool:
        return signer_key_id in self.keys

    def check(self, signer_key_id: str, signature: bytes, message: bytes) -> Verdict:
        """Return "untrusted" if the signer is not pinned, else "valid" or "invalid"."""
        public_key = self.keys.get(signer_key_id)
        if public_key is None:
            return "untrusted"
        return "valid" if verify(public_key, signature, message) else "invalid"
