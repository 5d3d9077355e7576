"""The user master key (UMK): the root of the key hierarchy (KEY-1).

A UMK is 32 random bytes. In development it lives in a local file of 64
lower-case hex characters that only its owner may read; in production it is
a KMS-encrypted blob opened by :class:`chainaudit.keys.kms.KmsUmkSource`. This
module does file I/O only in :meth:`Umk.from_file` and :func:`create_umk_file`
(which writes through :mod:`chainaudit.outfile`); it imports no cloud SDK.

Key material never appears in ``repr``, ``str`` or exception messages: a file
with bad content is described ("65 characters"), never quoted.

>>> umk = Umk.from_hex("00" * 32)
>>> umk
Umk(fingerprint='a16294d6bde75a54')
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path
from typing import Any

from chainaudit.errors import InputError, KeySourceError
from chainaudit.outfile import create_exclusive

#: KEY-1: the UMK is an AES-256-sized secret.
UMK_BYTES = 32
_HEX_DIGITS = frozenset("0123456789abcdef")
_FINGERPRINT_PREFIX = b"chainaudit/umk-fingerprint/v1\x00"


class SecretKey:
    """32 secret bytes that never print themselves.

    ``reveal()`` is the only way to get the bytes, so every use of key
    material is greppable. Equality is constant-time; instances are not
    hashable (a key must not end up as a dict key that a debugger prints).
    """

    __slots__ = ("_material",)
    _kind = "SecretKey"

    def __init__(self, material: bytes) -> None:
        if not isinstance(material, bytes | bytearray) or len(material) != UMK_BYTES:
            raise ValueError(f"a {self._kind} is exactly {UMK_BYTES} bytes")
        self._material = bytes(material)

    def reveal(self) -> bytes:
        """The key bytes. Never log, print or store the result."""
        return self._material

    def fingerprint(self) -> str:
        """A non-secret name for the key (first 8 bytes of a domain-separated
        SHA-256, hex), so reports can say which key was used without showing it."""
        return hashlib.sha256(_FINGERPRINT_PREFIX + self._material).hexdigest()[:16]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SecretKey) or type(other) is not type(self):
            return NotImplemented
        return hmac.compare_digest(self._material, other._material)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{self._kind}(fingerprint={self.fingerprint()!r})"

    __str__ = __repr__

    def __reduce__(self) -> str | tuple[Any, ...]:
        raise TypeError(f"a {self._kind} cannot be pickled")


class Umk(SecretKey):
    """A user master key (KEY-1)."""

    __slots__ = ()
    _kind = "Umk"

    @classmethod
    def from_hex(cls, text: str) -> Umk:
        """Parse 64 lower-case hex characters (tests, vectors). Raises ValueError
        describing, never quoting, bad input."""
        problem = _hex_problem(text)
        if problem:
            raise ValueError(f"UMK hex: {problem}")
        return cls(bytes.fromhex(text))

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Umk:
        """Read a UMK file (KEY-1): 64 lower-case hex characters, optionally
        followed by one ``\\n``; mode must grant nothing to group or others.

        Raises :class:`~chainaudit.errors.KeySourceError`.
        """
        return cls(read_secret_file(path, "UMK file"))


class Kek(SecretKey):
    """A key-encryption key derived from a UMK for one user (KEY-3)."""

    __slots__ = ()
    _kind = "Kek"


def _hex_problem(text: str) -> str:
    """Why ``text`` is not exactly 64 lower-case hex digits ('' if it is)."""
    if len(text) != 2 * UMK_BYTES:
        return (
            f"expected exactly {2 * UMK_BYTES} lower-case hex characters "
            f"(and at most one trailing newline), found {len(text)} characters"
        )
    if any(c in "ABCDEF" for c in text):
        return "contains upper-case hex digits; the format is lower-case only"
    if not set(text) <= _HEX_DIGITS:
        return "contains characters that are not hex digits (whitespace, CR or other)"
    return ""


def read_secret_file(path: str | os.PathLike[str], label: str) -> bytes:
    """Read a 32-byte secret stored as 64 lower-case hex characters (KEY-1).

    The same format serves UMK files and Ed25519 signing-key seeds. The mode
    is checked on the opened descriptor, so a file swapped between the check
    and the read cannot slip through. Messages name the file, never the key.
    """
    p = Path(path)
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise KeySourceError(f"{label} {p}: cannot open ({exc.strerror})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise KeySourceError(f"{label} {p}: not a regular file")
        loose = stat.S_IMODE(st.st_mode) & 0o077
        if loose:
            raise KeySourceError(
                f"{label} {p} has mode {stat.S_IMODE(st.st_mode):04o}: it is accessible by "
                f"group or others, so the key may already be exposed. Restrict it with "
                f"`chmod 600 {p}` (and consider rotating the key)."
            )
        raw = os.read(fd, 4096)
    finally:
        os.close(fd)
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        raise KeySourceError(
            f"{label} {p}: not ASCII; expected 64 lower-case hex characters"
        ) from None
    if text.endswith("\n"):
        text = text[:-1]
    problem = _hex_problem(text)
    if problem:
        raise KeySourceError(f"{label} {p}: {problem}")
    return bytes.fromhex(text)


def write_secret_file(path: str | os.PathLike[str], material: bytes, label: str) -> None:
    """Write a 32-byte secret as hex with mode 0600, atomically; never overwrite.

    Through :func:`chainaudit.outfile.create_exclusive`: the key goes to a
    temporary file created with mode 0600 beside ``path`` and is linked into
    place, so no reader ever sees a partial file or a moment of looser
    permissions. Only a new regular file is written: an existing file (a
    replaced UMK would orphan every DEK wrapped under it), a symbolic link,
    a device, a FIFO and ``-`` are refused with :class:`KeySourceError`.
    """
    try:
        create_exclusive(path, (material.hex() + "\n").encode("ascii"), label)
    except InputError as exc:
        raise KeySourceError(exc.diagnostics()) from None


def create_umk_file(path: str | os.PathLike[str]) -> Umk:
    """Write a new random UMK to ``path`` with mode 0600, atomically (KEY-1)."""
    umk = Umk(secrets.token_bytes(UMK_BYTES))
    write_secret_file(path, umk.reveal(), "UMK file")
    return umk
