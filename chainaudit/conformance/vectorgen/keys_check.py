"""Checker of the key-hierarchy vectors (``vectors/keys/``, KEY-8).

Plugged into :mod:`chainaudit.conformance.check` through
``chainaudit.conformance.vectorgen.keys.VECTOR_CHECKERS``, so ``tests/test_vectors.py``
and ``chainaudit vectors verify`` run it. Each file is one case; every
mismatch is collected as a problem (nothing is raised), so a runner reports
all failing cases at once. Only ``umk_file`` cases touch the file system
(a private temporary directory, to apply the case's mode).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from chainaudit.conformance.check import CaseResult
from chainaudit.errors import KeySourceError
from chainaudit.findings import Finding
from chainaudit.keys.hierarchy import (
    KEK_SALT,
    check_dek_record,
    derive_kek,
    format_key_id,
    parse_key_id,
    wrap_aad,
    wrap_dek,
)
from chainaudit.keys.keyring import KeyRing
from chainaudit.keys.umk import Kek, Umk
from chainaudit.records.item import record_from_item, typed_from_json
from chainaudit.records.model import KeyState, WrappedDek

KEYS_TYPE = "chainaudit/keys-vector"
KEYS_VERSIONS = frozenset({1})
#: KEY-5: the finding an envelope gets for each resolver status.
STATUS_FINDING: dict[str, str | None] = {
    "found": None,
    "shredded": "KEY_SHREDDED",
    "missing": "KEY_MISSING",
    "unwrap_failed": "KEY_UNWRAP_FAILED",
}
_TIME = "2026-01-02T03:04:05Z"  # created_at does not enter the wrapped bytes


def check_keys_case(doc: Mapping[str, Any], path: str) -> list[CaseResult]:
    """Check one key vector file; one :class:`CaseResult`."""
    name = str(doc.get("name", Path(path).stem))
    problems: list[str] = []
    if doc.get("version") not in KEYS_VERSIONS:
        problems.append(f"unsupported version {doc.get('version')!r}")
    elif name != Path(path).stem:
        problems.append(f"name {name!r} differs from the file name")
    else:
        check = _KINDS.get(str(doc.get("kind")))
        if check is None:
            problems.append(f"unknown kind {doc.get('kind')!r}")
        else:
            try:
                check(doc, problems)
            except (KeyError, TypeError, ValueError) as exc:
                problems.append(f"malformed or unexpected error: {type(exc).__name__}: {exc}")
    return [CaseResult(name, path, problems)]


def _hkdf32(ikm: bytes, salt: bytes, info: bytes) -> bytes:
    """RFC 5869 for L = 32, written out apart from the library's call path."""
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    return hmac.new(prk, info + b"\x01", hashlib.sha256).digest()


def _kek(doc: Mapping[str, Any], problems: list[str]) -> None:
    umk = Umk.from_hex(doc["umk"])
    info = bytes.fromhex(doc["info"])
    if bytes.fromhex(doc["salt"]) != KEK_SALT:
        problems.append("salt differs from KEY-3")
    if info != b"user:" + doc["user_id"].encode("utf-8"):
        problems.append("info is not 'user:' + UTF-8(user_id)")
    kek = derive_kek(umk, doc["user_id"]).reveal()
    by_hand = hashlib.sha256(b"chainaudit/umk-fingerprint/v1\x00" + umk.reveal()).hexdigest()
    if not umk.fingerprint() == by_hand[:16] == doc["umk_fingerprint"]:  # ct-ok: a public test vector's fingerprint
        problems.append("UMK fingerprint differs from KEY-1")
    if kek.hex() != doc["kek"]:
        problems.append("derive_kek differs from the vector's kek")
    if _hkdf32(umk.reveal(), KEK_SALT, info) != kek:
        problems.append("derive_kek differs from RFC 5869 computed by hand")


def _key_id(doc: Mapping[str, Any], problems: list[str]) -> None:
    exp = doc["expected"]
    try:
        parsed: tuple[str, int] | None = parse_key_id(doc["key_id"])
        error = ""
    except ValueError as exc:
        parsed, error = None, str(exc)
    if exp["valid"]:
        if parsed != (exp["dialogue"], exp["version"]):
            problems.append(f"parsed as {parsed!r} ({error})")
        elif format_key_id(exp["dialogue"], exp["version"]) != doc["key_id"]:
            problems.append("format_key_id does not reproduce the key id")
    elif parsed is not None:
        problems.append(f"accepted as {parsed!r}")
    elif exp["error"] not in error:
        problems.append(f"rejected for another reason: {error}")


def _umk_file(doc: Mapping[str, Any], problems: list[str]) -> None:
    exp = doc["expected"]
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "umk.hex"
        p.write_bytes(bytes.fromhex(doc["content"]))
        os.chmod(p, int(doc["mode"], 8))
        try:
            got: str | None = Umk.from_file(p).reveal().hex()
            error = ""
        except KeySourceError as exc:
            got, error = None, str(exc)
    if exp["valid"] and got != exp["umk"]:
        problems.append(f"refused or read wrongly: {error}")
    elif not exp["valid"] and got is not None:
        problems.append("accepted a file KEY-1 refuses")
    elif not exp["valid"] and exp["error"] not in error:
        problems.append(f"refused for another reason: {error}")


def _record(
    entry: Mapping[str, Any], origin: str, problems: list[str]
) -> WrappedDek | Finding | None:
    """The record of a vector entry, or the finding of an item that does not map
    (``fields`` null, KEY-5), or None after noting a problem."""
    item = {k: typed_from_json(v, k) for k, v in entry["item"].items()}
    rec = record_from_item(item, origin)
    f = entry["fields"]
    if f is None:
        if isinstance(rec, Finding):
            return rec
        problems.append(f"{origin}: item maps to a record although fields is null")
        return None
    if not isinstance(rec, WrappedDek):
        problems.append(f"{origin}: item is not a wrapped-DEK record: {rec}")
        return None
    plain = WrappedDek(
        key_id=f["key_id"],
        dialogue=f["dialogue"],
        version=f["version"],
        owner=f["owner"],
        wrap_alg=f["wrap_alg"],
        wrapped_key=None if f["wrapped_key"] is None else bytes.fromhex(f["wrapped_key"]),
        wrap_nonce=None if f["wrap_nonce"] is None else bytes.fromhex(f["wrap_nonce"]),
        state=KeyState(f["state"]),
        created_at=f["created_at"],
        destroyed_at=f["destroyed_at"],
        origin=origin,
    )
    if rec != plain:
        problems.append(f"{origin}: item and fields disagree")
    return rec


def _umks(spec: Mapping[str, Any]) -> Umk | dict[str, Umk] | None:
    if "all" in spec:
        return Umk.from_hex(spec["all"])
    if "per_owner" in spec:
        return {owner: Umk.from_hex(h) for owner, h in spec["per_owner"].items()}
    if spec:
        raise ValueError(f"unknown umk spec {sorted(spec)}")
    return None


def _resolve(doc: Mapping[str, Any], problems: list[str]) -> None:
    exp = doc["expected"]
    if STATUS_FINDING.get(exp["status"], "?") != exp["envelope_finding"]:
        problems.append("envelope_finding does not match the KEY-5 table for the status")
    records: list[WrappedDek] = []
    found: list[list[str]] = []
    for i, entry in enumerate(doc["records"]):
        rec = _record(entry, f"record {i}", problems)
        if isinstance(rec, Finding):  # not a record: the resolver never sees it
            found.append([rec.code.name])
        elif rec is not None:
            records.append(rec)
            found.append([f.code.name for f in check_dek_record(rec)])
    if found != exp["record_findings"]:
        problems.append(f"KEY-7 findings {found}, expected {exp['record_findings']}")
    umks = _umks(doc["umk"])
    lookup = KeyRing(umks, records).resolve(doc["resolve"])
    if lookup.status.value != exp["status"]:
        problems.append(f"status {lookup.status.value} ({lookup.detail}), expected {exp['status']}")
    got_dek = lookup.dek.hex() if lookup.dek is not None else None
    if got_dek != exp["dek"]:
        problems.append("resolved DEK differs from the vector's")
    for w in doc.get("wraps", []):
        _wrap(w, umks, problems)


def _wrap(w: Mapping[str, Any], umks: Umk | dict[str, Umk] | None, problems: list[str]) -> None:
    kek = Kek(bytes.fromhex(w["kek"]))
    umk = umks if isinstance(umks, Umk) else (umks or {}).get(w["owner"])
    if umk is None or derive_kek(umk, w["owner"]) != kek:
        problems.append(f"wrap of {w['key_id']}: kek is not the owner's KEK")
    if "aad" in w and wrap_aad(w["key_id"], w["owner"]).hex() != w["aad"]:
        problems.append(f"wrap of {w['key_id']}: wrap AAD differs")
    dialogue, version = parse_key_id(w["key_id"])
    nonce = None if w["nonce"] is None else bytes.fromhex(w["nonce"])
    rec = wrap_dek(
        kek,
        bytes.fromhex(w["dek"]),
        w["key_id"],
        w["owner"],
        dialogue,
        version,
        nonce,
        _TIME,
        w["alg"],
    )
    if rec.wrapped_key is None or rec.wrapped_key.hex() != w["wrapped_key"]:
        problems.append(f"wrap of {w['key_id']}: wrapped_key differs")


_KINDS: dict[str, Callable[[Mapping[str, Any], list[str]], None]] = {
    "kek": _kek,
    "key_id": _key_id,
    "umk_file": _umk_file,
    "resolve": _resolve,
}
