"""The key hierarchy below the UMK: KEK derivation, key ids, DEK wrapping,
rotation and crypto-shredding (docs/keys.md, KEY-2..KEY-6).

UMK --HKDF-SHA256(user id)--> KEK --wrap(key id, owner)--> DEK per (dialogue, version)

Pure: no I/O, no clock (timestamps are parameters), no cloud SDK. Every
primitive goes through :mod:`chainaudit.primitives.crypto`. Key material never appears
in messages; :class:`chainaudit.keys.keyring.KeyRing` resolves key ids to DEKs
with caching.

>>> from chainaudit.keys.umk import Umk
>>> kek = derive_kek(Umk.from_hex("00" * 32), "alice")
>>> rec = wrap_dek(kek, bytes(32), "dek#d-1#1", "alice", "d-1", 1, bytes(12),
...                "2026-01-01T00:00:00Z")
>>> unwrap_dek(kek, rec) == bytes(32)
True
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass, replace
from enum import StrEnum

from chainaudit.findings import Finding, codes
from chainaudit.keys.umk import Kek, Umk
from chainaudit.primitives import crypto
from chainaudit.records.address import AddressError, unescape_component
from chainaudit.records.model import KeyState, WrappedDek

SPEC_VERSION = 1

#: KEY-3: HKDF-SHA256 parameters of the KEK.
KEK_SALT = b"chainaudit/kek/v1"
KEK_INFO_PREFIX = b"user:"
KEK_BYTES = 32
#: KEY-4: a DEK is an AES-256 key.
DEK_BYTES = 32
#: KEY-2: versions fit a signed 32-bit integer in every language and SQL ``integer``.
MAX_VERSION = 2**31 - 1
#: KEY-3: owner (user id) limit in UTF-8 bytes.
MAX_OWNER_BYTES = 255
#: KEY-4: domain-separation prefix of the A256GCM-KEYID-v1 wrap AAD.
WRAP_AAD_PREFIX = b"chainaudit/dek-wrap/v1\n"

_VERSION_RE = re.compile(r"[1-9][0-9]*\Z")
#: Same grammar as the ADDR-2 ``ts`` part: RFC 3339, UTC, ``Z``.
_TIMESTAMP = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?Z\Z"
)


# --- KEY-2 key ids ---------------------------------------------------------


def format_key_id(dialogue: str, version: int) -> str:
    """``dek#{D}#{version}`` for the escaped dialogue id ``D`` (KEY-2)."""
    _check_version(version)
    unescape_component(dialogue)
    return f"dek#{dialogue}#{version}"


def parse_key_id(key_id: str) -> tuple[str, int]:
    """Split a key id into (escaped dialogue id, version); ValueError says why not."""
    if not key_id.startswith("dek#"):
        raise ValueError(f"key id {key_id!r} does not start with 'dek#'")
    parts = key_id[len("dek#") :].split("#")
    if len(parts) != 2:
        raise ValueError(
            f"key id {key_id!r} must have exactly two fields after 'dek#' "
            f"(dialogue and version), found {len(parts)}"
        )
    dialogue, version_text = parts
    try:
        unescape_component(dialogue)
    except AddressError as exc:
        raise ValueError(f"key id {key_id!r}: dialogue id: {exc}") from None
    if not _VERSION_RE.match(version_text):
        raise ValueError(
            f"key id {key_id!r}: version {version_text!r} is not a positive decimal "
            "without leading zeros"
        )
    if len(version_text) > 10 or int(version_text) > MAX_VERSION:
        raise ValueError(f"key id {key_id!r}: version is over the limit of {MAX_VERSION}")
    return dialogue, int(version_text)


def _check_version(version: int) -> None:
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= MAX_VERSION:
        raise ValueError(f"key version must be an integer in 1..{MAX_VERSION}, got {version!r}")


# --- KEY-3 KEK -------------------------------------------------------------


def owner_problem(owner: str) -> str:
    """Why ``owner`` is not a valid user id (KEY-3), or '' if it is."""
    if not owner:
        return "empty user id"
    for ch in owner:
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cs"):
            return f"user id contains the forbidden code point U+{ord(ch):04X}"
    if not unicodedata.is_normalized("NFC", owner):
        return "user id is not in Unicode NFC"
    if len(owner.encode("utf-8")) > MAX_OWNER_BYTES:
        return f"user id is over the limit of {MAX_OWNER_BYTES} UTF-8 bytes"
    return ""


def kek_info(user_id: str) -> bytes:
    """The HKDF ``info`` for ``user_id``: ``b"user:" + UTF-8(user_id)`` (KEY-3)."""
    problem = owner_problem(user_id)
    if problem:
        raise ValueError(problem)
    return KEK_INFO_PREFIX + user_id.encode("utf-8")


def derive_kek(umk: Umk, user_id: str) -> Kek:
    """KEK = HKDF-SHA256(IKM=UMK, salt="chainaudit/kek/v1", info="user:"+user_id, L=32)."""
    return Kek(crypto.hkdf_sha256(umk.reveal(), KEK_SALT, kek_info(user_id), KEK_BYTES))


# --- KEY-4 wrap algorithms -------------------------------------------------


class WrapAlg(StrEnum):
    """Registered DEK wrapping algorithms (KEY-4). Values are stable ids."""

    A256GCM_KEYID_V1 = "A256GCM-KEYID-v1"
    A256KW = "A256KW"


@dataclass(frozen=True, slots=True)
class WrapSpec:
    """Fixed sizes of one wrap algorithm: nonce length (None: no nonce) and
    wrapped-key length for a 32-byte DEK."""

    nonce_bytes: int | None
    wrapped_bytes: int


WRAP_SPECS: dict[WrapAlg, WrapSpec] = {
    WrapAlg.A256GCM_KEYID_V1: WrapSpec(12, DEK_BYTES + crypto.GCM_TAG_BYTES),
    WrapAlg.A256KW: WrapSpec(None, DEK_BYTES + 8),
}
DEFAULT_WRAP_ALG = WrapAlg.A256GCM_KEYID_V1


def wrap_aad(key_id: str, owner: str) -> bytes:
    """AAD of A256GCM-KEYID-v1: ``"chainaudit/dek-wrap/v1\\n" key_id "\\n" owner``, UTF-8.

    Unambiguous: key ids contain no control characters (KEY-2), so the second
    newline ends the key id; the owner runs to the end.
    """
    return WRAP_AAD_PREFIX + key_id.encode("utf-8") + b"\n" + owner.encode("utf-8")


def wrap_dek(
    kek: Kek,
    dek: bytes,
    key_id: str,
    owner: str,
    dialogue: str,
    version: int,
    nonce: bytes | None,
    created_at: str,
    alg: WrapAlg | str = DEFAULT_WRAP_ALG,
) -> WrappedDek:
    """Wrap ``dek`` for ``owner`` and return the active wrapped-DEK record (KEY-4).

    ``key_id`` must equal ``format_key_id(dialogue, version)``; ``nonce`` is 12
    fresh random bytes for the GCM algorithm and None for A256KW.
    Raises ValueError on misuse.
    """
    wa = _wrap_alg(alg)
    if key_id != format_key_id(dialogue, version):
        raise ValueError(f"key id {key_id!r} does not name dialogue {dialogue!r} version {version}")
    if len(dek) != DEK_BYTES:
        raise ValueError(f"a DEK is {DEK_BYTES} bytes")
    problem = owner_problem(owner)
    if problem:
        raise ValueError(problem)
    if not _TIMESTAMP.match(created_at):
        raise ValueError(f"created_at {created_at!r} is not an RFC 3339 UTC timestamp")
    spec = WRAP_SPECS[wa]
    if wa is WrapAlg.A256GCM_KEYID_V1:
        if nonce is None or len(nonce) != spec.nonce_bytes:
            raise ValueError(f"{wa.value} needs a {spec.nonce_bytes}-byte wrap nonce")
        wrapped = crypto.gcm_encrypt(kek.reveal(), nonce, wrap_aad(key_id, owner), dek)
    else:
        if nonce is not None:
            raise ValueError(f"{wa.value} takes no wrap nonce")
        wrapped = crypto.aes_kw_wrap(kek.reveal(), dek)
    return WrappedDek(
        key_id=key_id,
        dialogue=dialogue,
        version=version,
        owner=owner,
        wrap_alg=wa.value,
        wrapped_key=wrapped,
        wrap_nonce=nonce,
        state=KeyState.ACTIVE,
        created_at=created_at,
    )


def new_dek(
    kek: Kek,
    owner: str,
    dialogue: str,
    version: int,
    created_at: str,
    alg: WrapAlg | str = DEFAULT_WRAP_ALG,
) -> tuple[WrappedDek, bytes]:
    """Generate a fresh random DEK (and wrap nonce) and wrap it (KEY-4, KEY-5 rotation)."""
    wa = _wrap_alg(alg)
    dek = secrets.token_bytes(DEK_BYTES)
    nonce = secrets.token_bytes(12) if WRAP_SPECS[wa].nonce_bytes else None
    key_id = format_key_id(dialogue, version)
    return wrap_dek(kek, dek, key_id, owner, dialogue, version, nonce, created_at, wa), dek


def unwrap_dek(kek: Kek, record: WrappedDek) -> bytes:
    """The DEK of ``record`` (KEY-4).

    Raises :class:`~chainaudit.primitives.crypto.AuthenticationError` (no detail) when the
    wrapped key does not open under ``kek`` with the record's key id and owner,
    and ValueError for records that hold no key material or are inconsistent
    (run :func:`check_dek_record` first to get those as findings).
    """
    if record.wrapped_key is None:
        raise ValueError(f"wrapped-DEK record {record.key_id!r} holds no key material")
    wa = _wrap_alg(record.wrap_alg)
    if record.key_id != format_key_id(record.dialogue, record.version):
        raise ValueError(f"wrapped-DEK record {record.key_id!r} is stored under another key id")
    if wa is WrapAlg.A256GCM_KEYID_V1:
        if record.wrap_nonce is None or len(record.wrap_nonce) != 12:
            raise crypto.AuthenticationError
        dek = crypto.gcm_decrypt(
            kek.reveal(),
            record.wrap_nonce,
            wrap_aad(record.key_id, record.owner),
            record.wrapped_key,
        )
    else:
        dek = crypto.aes_kw_unwrap(kek.reveal(), record.wrapped_key)
    if len(dek) != DEK_BYTES:
        raise crypto.AuthenticationError
    return dek


def _wrap_alg(alg: WrapAlg | str) -> WrapAlg:
    try:
        return WrapAlg(alg)
    except ValueError:
        raise ValueError(f"unknown wrap algorithm {alg!r}") from None


# --- KEY-5 rotation, KEY-6 destruction ------------------------------------


def retire(record: WrappedDek) -> WrappedDek:
    """The record after rotation to a newer version: ``retired``, still unwrappable."""
    if record.state is not KeyState.ACTIVE:
        raise ValueError(f"only an active key can be retired; {record.key_id} is {record.state}")
    return replace(record, state=KeyState.RETIRED)


def destroy(record: WrappedDek, destroyed_at: str) -> WrappedDek:
    """Crypto-shred (KEY-6): state ``destroyed``, key material removed, time recorded.

    The record itself stays, so the erasure is visible and records sealed
    under the key are reported as KEY_SHREDDED rather than as missing keys.
    """
    if record.state is KeyState.DESTROYED:
        raise ValueError(f"{record.key_id} is already destroyed")
    if not _TIMESTAMP.match(destroyed_at):
        raise ValueError(f"destroyed_at {destroyed_at!r} is not an RFC 3339 UTC timestamp")
    return replace(
        record,
        state=KeyState.DESTROYED,
        wrapped_key=None,
        wrap_nonce=None,
        destroyed_at=destroyed_at,
    )


# --- keyless record check -------------------------------------------------


def record_location(record: WrappedDek) -> str:
    """Where a wrapped-DEK record lives, for findings: ``dialogue#D dek#V``."""
    return f"dialogue#{record.dialogue} dek#{record.version}"


def check_dek_record(record: WrappedDek) -> list[Finding]:
    """Keyless structural checks of one wrapped-DEK record (KEY-4, KEY-6).

    Returns DEK_RECORD_INVALID findings; an empty list means the record is
    well-formed (not that it unwraps: that needs the UMK).
    """
    where = record_location(record)
    out: list[Finding] = []

    def bad(message: str, expected: str | None = None, actual: str | None = None) -> None:
        out.append(
            Finding(
                codes.DEK_RECORD_INVALID, where, message, expected, actual, record.origin or None
            )
        )

    try:
        expected_id = format_key_id(record.dialogue, record.version)
    except ValueError as exc:
        bad(f"the record's location is not a valid key: {exc}")
        expected_id = None
    if expected_id is not None and record.key_id != expected_id:
        try:
            parse_key_id(record.key_id)
            why = "key_id names another dialogue or version than where the record is stored"
        except ValueError as exc:
            why = f"key_id is invalid: {exc}"
        bad(why, expected_id, record.key_id)
    problem = owner_problem(record.owner)
    if problem:
        bad(f"owner: {problem}")
    try:
        wa: WrapAlg | None = WrapAlg(record.wrap_alg)
    except ValueError:
        wa = None
        known = ", ".join(a.value for a in WrapAlg)
        bad("unknown wrap_alg", known, record.wrap_alg)
    if not _TIMESTAMP.match(record.created_at):
        bad(
            "created_at is not an RFC 3339 UTC timestamp",
            "YYYY-MM-DDThh:mm:ss[.f]Z",
            record.created_at,
        )
    if record.state is KeyState.DESTROYED:
        if record.wrapped_key is not None or record.wrap_nonce is not None:
            bad("state is destroyed but key material is still present: the key was not shredded")
        if record.destroyed_at is None:
            bad("state is destroyed but destroyed_at is missing")
        elif not _TIMESTAMP.match(record.destroyed_at):
            bad("destroyed_at is not an RFC 3339 UTC timestamp", None, record.destroyed_at)
        return out
    if record.destroyed_at is not None:
        bad(f"destroyed_at is set on a {record.state.value} key", "absent", record.destroyed_at)
    if record.wrapped_key is None:
        bad(f"state is {record.state.value} but wrapped_key is missing")
    if wa is not None:
        spec = WRAP_SPECS[wa]
        if record.wrapped_key is not None and len(record.wrapped_key) != spec.wrapped_bytes:
            bad(
                f"wrapped_key has the wrong length for {wa.value}",
                f"{spec.wrapped_bytes} bytes",
                f"{len(record.wrapped_key)} bytes",
            )
        if spec.nonce_bytes is None and record.wrap_nonce is not None:
            bad(f"{wa.value} takes no wrap_nonce", "absent", f"{len(record.wrap_nonce)} bytes")
        elif spec.nonce_bytes is not None:
            got = "absent" if record.wrap_nonce is None else f"{len(record.wrap_nonce)} bytes"
            if got != f"{spec.nonce_bytes} bytes":
                bad(
                    f"wrap_nonce has the wrong length for {wa.value}",
                    f"{spec.nonce_bytes} bytes",
                    got,
                )
    return out

