"""Ed25519 signing keys on disk, for ``gate pre`` manifests and boundary events.

A signing-key file holds the 32-byte RFC 8032 seed in the UMK file format
(KEY-1: 64 lower-case hex characters, mode 0600, never group/other
readable). Its public half is published as a trusted-keys file (CHAIN-10)
that auditors pin. The seed is read only to sign; it never prints.
"""

from __future__ import annotations

import json
import os
import secrets

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from chainaudit.keys.signing import TRUSTED_KEYS_TYPE, key_id, public_bytes
from chainaudit.keys.umk import read_secret_file, write_secret_file
from chainaudit.outfile import destination

LABEL = "signing key file"


def load_signing_key(path: str | os.PathLike[str]) -> Ed25519PrivateKey:
    """The private key in a signing-key file (raises KeySourceError, naming the file)."""
    return Ed25519PrivateKey.from_private_bytes(read_secret_file(path, LABEL))


def trusted_keys_document(public_keys: list[bytes]) -> str:
    """A trusted-keys file (CHAIN-10) pinning ``public_keys``."""
    doc = {"type": TRUSTED_KEYS_TYPE, "version": 1, "keys": [k.hex() for k in public_keys]}
    return json.dumps(doc, indent=2) + "\n"


def create_signing_key(path: str | os.PathLike[str], trusted_out: str | os.PathLike[str]) -> str:
    """Create a new signing-key file and its trusted-keys file; return the signer key id.

    The trusted-keys file is public: it may be a device, a FIFO, ``-`` or a
    symbolic link's target (:mod:`chainaudit.outfile`); it is checked before
    the key is created, so a bad path never leaves a key without its pin.
    """
    pin = destination(trusted_out, "the trusted-keys file")
    seed = secrets.token_bytes(32)
    write_secret_file(path, seed, LABEL)
    public = public_bytes(Ed25519PrivateKey.from_private_bytes(seed))
    with pin.open() as out:
        out.write(trusted_keys_document([public]).encode("utf-8"))
    return key_id(public)
