"""Envelope v1: seal and open AES-256-GCM envelopes bound to a canonical address.

The GCM additional data is the raw SHA-256 digest of the record's canonical
address (ENV-4), so the same ciphertext authenticates in every store. This
module is pure: no I/O, no clock, no randomness except in :func:`seal_random`.

Specification: ``docs/envelope.md`` (sections cited as ``ENV-n``).

>>> from chainaudit.records.address import Address
>>> a = Address.of("d-1", "claim", "01", "02")
>>> dek = bytes(32)
>>> env = seal(a, {"text": "hi"}, dek, "dek#d-1#1", bytes(12))
>>> env.aad_hash == aad_hash(a)
True
>>> open_envelope(a, env, dek)
{'text': 'hi'}
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from typing import Any

import orjson
import rfc8785

from chainaudit.primitives import crypto
from chainaudit.records.address import Address, legacy_aad_bytes
from chainaudit.records.model import Envelope

#: The envelope specification version this module implements (ENV-3).
SPEC_VERSION = 1

#: ENV-3: envelope version -> algorithm id. Ids are stable and never reused.
ALGORITHMS: dict[int, str] = {1: "A256GCM-ADDR-SHA256"}
SUPPORTED_VERSIONS = frozenset(ALGORITHMS)

NONCE_BYTES = 12  # ENV-5
TAG_BYTES = crypto.GCM_TAG_BYTES  # ENV-6
DEK_BYTES = crypto.AES256_KEY_BYTES

#: ENV-6: tag lengths (bytes) tried when diagnosing a truncated tag, longest first.
TRUNCATED_TAG_LENGTHS = (15, 14, 13, 12, 8, 4)


class PayloadError(ValueError):
    """A decrypted payload that is not a JSON object (ENV-8). The message never
    contains payload content."""


# --- ENV-4 / ENV-9: additional data ----------------------------------------


def aad_for(address: Address) -> bytes:
    """ENV-4: the GCM additional data, SHA-256 of the address bytes (32 raw bytes)."""
    return crypto.sha256(address.to_bytes())


def aad_hash(address: Address) -> str:
    """ENV-4: the stored ``aad_hash``, the lowercase hex of :func:`aad_for`."""
    return aad_for(address).hex()


def legacy_aad_for(address: Address) -> bytes:
    """ENV-9: the pre-v1 draft's AAD, SHA-256 of UTF-8(pk) || UTF-8(sk)."""
    pk, sk = address.to_dynamodb()
    return crypto.sha256(legacy_aad_bytes(pk, sk))


def legacy_aad_hash(address: Address) -> str:
    """ENV-9: the ``aad_hash`` a legacy-sealed record stores."""
    return legacy_aad_for(address).hex()


def aad_from_hash(stored: str) -> bytes | None:
    """The AAD a stored ``aad_hash`` stands for, or None when it is not 64 lowercase hex."""
    if len(stored) != 64 or any(c not in "0123456789abcdef" for c in stored):
        return None
    return bytes.fromhex(stored)


# --- ENV-8: payload ---------------------------------------------------------


def encode_payload(payload: Mapping[str, Any]) -> bytes:
    """ENV-8: the RFC 8785 (JCS) UTF-8 bytes of a JSON object."""
    if not isinstance(payload, Mapping):
        raise TypeError("an envelope payload must be a JSON object (a mapping)")
    return rfc8785.dumps(dict(payload))


def _reject_constant(name: str) -> Any:
    raise PayloadError(f"the non-JSON literal {name} is not allowed")


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise PayloadError("an object has a duplicate member name")
        out[key] = value
    return out


def _has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")  # strict UTF-8 cannot encode a lone surrogate
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False


def decode_payload(plaintext: bytes) -> tuple[dict[str, Any], bool]:
    """ENV-8: parse a payload; returns ``(object, is_canonical)``.

    Raises :class:`PayloadError` (without payload content in the message)
    when it is not UTF-8, not JSON, not an object, has duplicate member
    names, NaN/Infinity, or lone surrogates.
    """
    fast = _canonical_payload(plaintext)
    if fast is not None:
        return fast, True
    return _decode_payload(plaintext)


def _canonical_payload(plaintext: bytes) -> dict[str, Any] | None:
    """The object of a payload that is plainly canonical, or None to let
    :func:`_decode_payload` decide (and name any problem).

    Plainly canonical: ``orjson`` parses it to an object holding no float
    and no integer beyond 2^53-1, not nested deeper than the standard
    parser goes, without a byte from U+E000 up, and its sorted compact
    re-encoding is the plaintext itself. For such a payload ``orjson``'s
    value is the standard library's, its re-encoding is the RFC 8785 form
    (tests/test_fast_paths.py), and two equal names cannot survive the
    byte-exact comparison, so the answer is :func:`_decode_payload`'s.
    """
    if plaintext.count(b"[") + plaintext.count(b"{") > 100:
        return None
    try:
        value = orjson.loads(plaintext)
    except orjson.JSONDecodeError:
        return None
    if type(value) is not dict or not _small_numbers(value):
        return None
    if not plaintext.isascii() and _HIGH_BYTE.search(plaintext) is not None:
        return None
    if orjson.dumps(value, option=orjson.OPT_SORT_KEYS) != plaintext:
        return None
    return value


_HIGH_BYTE = re.compile(rb"[\xee-\xff]")


def _small_numbers(value: Any) -> bool:
    """No float and no integer an IEEE double cannot hold exactly, at any depth."""
    stack = [value]
    while stack:
        item = stack.pop()
        t = type(item)
        if t is dict:
            stack.extend(item.values())
        elif t is list:
            stack.extend(item)
        elif t is int:
            if not -_SAFE_INTEGER <= item <= _SAFE_INTEGER:
                return False
        elif t is float:
            return False
    return True


def _decode_payload(plaintext: bytes) -> tuple[dict[str, Any], bool]:
    """:func:`decode_payload` the reference way: the standard parser, then RFC 8785."""
    try:
        text = plaintext.decode("utf-8", errors="strict")
    except UnicodeDecodeError as exc:
        raise PayloadError(f"not valid UTF-8 (at byte {exc.start})") from None
    if text.startswith("\ufeff"):
        raise PayloadError("starts with a byte order mark")
    try:
        value = json.loads(text, object_pairs_hook=_unique_object, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise PayloadError(f"not JSON ({exc.msg} at character {exc.pos})") from None
    except RecursionError:
        raise PayloadError("nested too deeply") from None
    except PayloadError:  # a duplicate name or a NaN/Infinity literal, named by the hooks
        raise
    except ValueError:  # only Python's own limit on integer digits is left (CLI-4)
        raise PayloadError("not JSON (a number has more digits than this reader takes)") from None
    if not isinstance(value, dict):
        raise PayloadError(f"a JSON {_json_kind(value)}, not an object")
    # Raw surrogates cannot survive strict UTF-8 decoding; only a \u escape
    # can produce one, so the walk is needed only when the text has one.
    try:
        surrogate = "\\u" in text and _has_lone_surrogate(value)
    except RecursionError:
        raise PayloadError("nested too deeply") from None
    if surrogate:
        raise PayloadError("a string contains a lone surrogate")
    try:
        canonical = rfc8785.dumps(_as_doubles(value)) == plaintext
    except (rfc8785.CanonicalizationError, ValueError, OverflowError, RecursionError):
        canonical = False  # no RFC 8785 form: a number beyond the double range
    return value, canonical


#: Integers up to this magnitude are exact doubles and rfc8785 takes them as int.
_SAFE_INTEGER = 2**53 - 1


def _as_doubles(value: Any) -> Any:
    """ENV-8: every number as the IEEE-754 double RFC 8785 (3.2.2.3) serialises.

    JSON integers beyond 2^53-1 become floats (rounded to nearest, as any
    JCS implementation parses them), so a payload a JCS writer emitted for a
    large double (``9007199254740992``, ``10000000000000000``) is canonical,
    and ``9007199254740993`` (which reads as 2^53) is not. An integer beyond
    the double range raises OverflowError: it has no RFC 8785 form.
    """
    if isinstance(value, bool) or value is None or isinstance(value, str | float):
        return value
    if isinstance(value, int):
        return value if -_SAFE_INTEGER <= value <= _SAFE_INTEGER else float(value)
    if isinstance(value, dict):
        return {k: _as_doubles(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_doubles(v) for v in value]
    return value


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"


# --- ENV-6: seal and open ---------------------------------------------------


def seal_bytes(
    address: Address, plaintext: bytes, dek: bytes, key_id: str, nonce: bytes
) -> Envelope:
    """Seal exact plaintext bytes (used by the vector generator for malformed payloads)."""
    if len(dek) != DEK_BYTES:
        raise ValueError(f"a DEK is {DEK_BYTES} bytes")
    if len(nonce) != NONCE_BYTES:
        raise ValueError(f"a v1 nonce is {NONCE_BYTES} bytes")  # ENV-5
    ct = crypto.gcm_encrypt(dek, nonce, aad_for(address), plaintext)
    return Envelope(ciphertext=ct, nonce=nonce, key_id=key_id, aad_hash=aad_hash(address))


def seal(
    address: Address, payload: Mapping[str, Any], dek: bytes, key_id: str, nonce: bytes
) -> Envelope:
    """Seal a payload for ``address`` under ``dek`` with the given unique nonce (ENV-2..8).

    The nonce is a parameter so vectors are deterministic; it MUST never be
    reused under the same key (ENV-5). Use :func:`seal_random` in writers.
    """
    if not address.has_envelope:
        raise ValueError(f"entities of type {address.entity_type.value!r} carry no envelope")
    return seal_bytes(address, encode_payload(payload), dek, key_id, nonce)


def seal_random(address: Address, payload: Mapping[str, Any], dek: bytes, key_id: str) -> Envelope:
    """:func:`seal` with a fresh random 96-bit nonce from the OS CSPRNG (ENV-5)."""
    return seal(address, payload, dek, key_id, os.urandom(NONCE_BYTES))


def open_bytes(aad: bytes, envelope: Envelope, dek: bytes, tag_bytes: int = TAG_BYTES) -> bytes:
    """Authenticate and decrypt with an explicit AAD; raises
    :class:`chainaudit.primitives.crypto.AuthenticationError` opaquely on failure."""
    return crypto.gcm_decrypt(dek, envelope.nonce, aad, envelope.ciphertext, tag_bytes)


def open_envelope(address: Address, envelope: Envelope, dek: bytes) -> dict[str, Any]:
    """Open an envelope at ``address`` and return its payload object (ENV-6, ENV-8).

    Raises :class:`chainaudit.primitives.crypto.AuthenticationError` when it does not
    authenticate for this address and key, :class:`PayloadError` when the
    plaintext is not a JSON object, ValueError for an unsupported version.
    The verifier (:mod:`chainaudit.envelope.verify`) turns these into findings.
    """
    if envelope.version not in SUPPORTED_VERSIONS:
        raise ValueError(f"envelope version {envelope.version} is not supported")
    payload, _ = decode_payload(open_bytes(aad_for(address), envelope, dek))
    return payload
