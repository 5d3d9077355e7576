"""AWS KMS as the production source of the UMK (KEY-1).

The UMK is stored as a KMS ciphertext blob (from ``GenerateDataKey`` with
``KeySpec=AES_256``) and opened with ``kms:Decrypt``, so the plaintext UMK
exists only in the verifier's memory and every use is logged by CloudTrail.
The boto3 client is injected: this module never imports boto3 at import time
(the pure core stays free of it); :meth:`KmsUmkSource.with_default_client` is
the one place that does, lazily.

Only the call path can be tested offline (moto or a fake client): moto's
ciphertext format is its own, not real KMS's.
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path
from typing import Any

from chainaudit.errors import KeyServiceError, KeySourceError
from chainaudit.keys.umk import UMK_BYTES, Umk
from chainaudit.sources.awsconfig import config_problem

#: A boto3 KMS client, or anything with its ``decrypt`` and ``generate_data_key``
#: methods (tests inject fakes). Typed as Any because boto3-stubs' typed client
#: does not match a structural protocol with ``**kwargs``.
KmsClient = Any


class KmsUmkSource:
    """A UMK held as a KMS-encrypted blob; :meth:`load` decrypts it.

    ``key_id`` (key id, ARN or alias) is passed to ``Decrypt`` so KMS refuses
    a blob encrypted under any other key.
    """

    def __init__(self, ciphertext_blob: bytes, key_id: str, client: KmsClient) -> None:
        if not ciphertext_blob:
            raise KeySourceError("KMS UMK: empty ciphertext blob")
        self.ciphertext_blob = bytes(ciphertext_blob)
        self.key_id = key_id
        self._client = client

    def __repr__(self) -> str:
        return f"KmsUmkSource(key_id={self.key_id!r}, blob={len(self.ciphertext_blob)} bytes)"

    @classmethod
    def with_default_client(
        cls, ciphertext_blob: bytes, key_id: str, region: str | None = None
    ) -> KmsUmkSource:
        """Build with boto3's default credential chain (imports boto3 here only)."""
        import boto3  # kept out of the pure core on purpose

        client: Any = boto3.client("kms", region_name=region)
        return cls(ciphertext_blob, key_id, client)

    @classmethod
    def from_blob_file(
        cls, path: str | os.PathLike[str], key_id: str, client: KmsClient
    ) -> KmsUmkSource:
        """Read a blob file: the ciphertext blob in standard base64, one line (KEY-1).

        The blob is not secret (only KMS can open it), so no mode check.
        """
        p = Path(path)
        try:
            text = p.read_text("ascii").strip()
            blob = base64.b64decode(text, validate=True)
        except OSError as exc:
            raise KeySourceError(f"KMS UMK blob file {p}: cannot read ({exc.strerror})") from None
        except (UnicodeDecodeError, binascii.Error, ValueError):
            raise KeySourceError(f"KMS UMK blob file {p}: not one line of base64") from None
        return cls(blob, key_id, client)

    def load(self) -> Umk:
        """Decrypt the blob with KMS and return the UMK.

        Raises :class:`~chainaudit.errors.KeySourceError` naming the key and the
        KMS error code; the plaintext is never part of a message.
        """
        try:
            response = self._client.decrypt(
                CiphertextBlob=self.ciphertext_blob,
                KeyId=self.key_id,
                EncryptionAlgorithm="SYMMETRIC_DEFAULT",
            )
        except Exception as exc:  # botocore raises many types; name it, don't leak
            problem = config_problem(exc)
            if problem is not None:  # the local AWS configuration: exit 2 (CLI-3)
                raise KeySourceError(f"KMS Decrypt under {self.key_id!r}: {problem}") from None
            raise KeyServiceError(
                f"KMS Decrypt of the UMK under {self.key_id!r} failed: {_describe(exc)}"
            ) from None
        plaintext = response.get("Plaintext") if isinstance(response, dict) else None
        if not isinstance(plaintext, bytes | bytearray) or len(plaintext) != UMK_BYTES:
            size = len(plaintext) if isinstance(plaintext, bytes | bytearray) else "no"
            raise KeyServiceError(
                f"KMS Decrypt under {self.key_id!r} returned {size} plaintext bytes, "
                f"expected a {UMK_BYTES}-byte UMK"
            )
        return Umk(bytes(plaintext))


def create_kms_umk(client: KmsClient, key_id: str) -> tuple[KmsUmkSource, Umk]:
    """Create a new UMK with ``GenerateDataKey`` (``AES_256``) under ``key_id``.

    Store ``source.ciphertext_blob`` (e.g. base64 in a blob file); the
    returned :class:`Umk` is for immediate use and is not persisted.
    """
    try:
        response = client.generate_data_key(KeyId=key_id, KeySpec="AES_256")
    except Exception as exc:
        raise KeyServiceError(
            f"KMS GenerateDataKey under {key_id!r} failed: {_describe(exc)}"
        ) from None
    plaintext, blob = response.get("Plaintext"), response.get("CiphertextBlob")
    if not isinstance(plaintext, bytes) or len(plaintext) != UMK_BYTES or not blob:
        raise KeyServiceError(f"KMS GenerateDataKey under {key_id!r} returned no usable key")
    return KmsUmkSource(blob, key_id, client), Umk(plaintext)


def _describe(exc: Exception) -> str:
    """botocore's error code and message if present, else the exception type."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        err = response.get("Error", {})
        code, message = err.get("Code", ""), err.get("Message", "")
        if code:
            return f"{code}: {message}" if message else str(code)
    return type(exc).__name__
