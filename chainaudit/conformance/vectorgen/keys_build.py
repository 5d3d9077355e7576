"""Building blocks of the key-hierarchy vectors (KEY-8): fixed key material,
wrapped-DEK records in item and plain form, and the resolve-case shapes.

Shared by :mod:`chainaudit.conformance.vectorgen.keys` (the case tables) and
:mod:`chainaudit.conformance.vectorgen.keys_rules` (KEY-5 rule cases). All secrets are
SHA-256 of fixed labels: no clock, no randomness.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chainaudit.conformance.vectorgen import derive
from chainaudit.conformance.vectorgen.keys_check import KEYS_TYPE, STATUS_FINDING
from chainaudit.keys.hierarchy import WrapAlg, derive_kek, format_key_id, wrap_aad, wrap_dek
from chainaudit.keys.umk import Umk
from chainaudit.records.item import item_from_record, typed_to_json
from chainaudit.records.model import WrappedDek

TYPE = KEYS_TYPE
VERSION = 1
SUBDIR = "keys"
UMK_DOMAIN = b"chainaudit/vectors/keys/umk/"
DEK_DOMAIN = b"chainaudit/vectors/keys/dek/"
NONCE_DOMAIN = b"chainaudit/vectors/keys/nonce/"
T_CREATED = "2026-01-02T03:04:05Z"
T_ROTATED = "2026-02-01T00:00:00Z"
T_DESTROYED = "2026-03-01T12:00:00.5Z"

GCM, KW = WrapAlg.A256GCM_KEYID_V1, WrapAlg.A256KW
D = "dlg-0001"
D_ESCAPED = "q%2F2026%23x"  # logical dialogue id "q/2026#x"
USERS = ["alice", "zoë", "用户-7", "bob@example.org", "Ådne Ødegård"]


def umk(label: str = "main") -> Umk:
    return Umk(derive(UMK_DOMAIN, label, 32))


def dek(kid: str) -> bytes:
    return derive(DEK_DOMAIN, kid, 32)


def nonce(label: str) -> bytes:
    return derive(NONCE_DOMAIN, label, 12)


def _hex(b: bytes | None) -> str | None:
    return None if b is None else b.hex()


def record(
    alg: WrapAlg = GCM,
    dialogue: str = D,
    version: int = 1,
    owner: str = "alice",
    umk_label: str = "main",
    created_at: str = T_CREATED,
) -> WrappedDek:
    kid = format_key_id(dialogue, version)
    n = nonce(kid) if alg is GCM else None
    kek = derive_kek(umk(umk_label), owner)
    return wrap_dek(kek, dek(kid), kid, owner, dialogue, version, n, created_at, alg)


def record_json(rec: WrappedDek) -> dict[str, Any]:
    """A record twice: its stored item (DynamoDB typed JSON, binary base64)
    and its fields in plain form (binary hex)."""
    item = {k: typed_to_json(v) for k, v in item_from_record(rec).items()}
    return {
        "item": item,
        "fields": {
            "key_id": rec.key_id,
            "dialogue": rec.dialogue,
            "version": rec.version,
            "owner": rec.owner,
            "wrap_alg": rec.wrap_alg,
            "wrapped_key": _hex(rec.wrapped_key),
            "wrap_nonce": _hex(rec.wrap_nonce),
            "state": rec.state.value,
            "created_at": rec.created_at,
            "destroyed_at": rec.destroyed_at,
        },
    }


def malformed_json(rec: WrappedDek, **edit: Any) -> dict[str, Any]:
    """A record's item edited so that it no longer maps (MODEL-5): ``fields`` is
    null. ``edit`` maps attribute names to a typed JSON value, or None to drop it."""
    entry = record_json(rec)
    for name, value in edit.items():
        if value is None:
            del entry["item"][name]
        else:
            entry["item"][name] = value
    entry["fields"] = None
    return entry


def _head(name: str, kind: str, description: str) -> dict[str, Any]:
    return {
        "type": TYPE,
        "version": VERSION,
        "name": name,
        "kind": kind,
        "description": description,
    }


def _wrap_detail(rec: WrappedDek, umk_label: str = "main") -> dict[str, Any]:
    kek = derive_kek(umk(umk_label), rec.owner)
    detail: dict[str, Any] = {
        "alg": rec.wrap_alg,
        "owner": rec.owner,
        "key_id": rec.key_id,
        "kek": kek.reveal().hex(),
        "dek": dek(rec.key_id).hex(),
        "nonce": _hex(rec.wrap_nonce),
        "wrapped_key": _hex(rec.wrapped_key),
    }
    if rec.wrap_alg == GCM.value:
        detail["aad"] = wrap_aad(rec.key_id, rec.owner).hex()
    return detail


def _resolve_case(
    name: str,
    description: str,
    records: Sequence[WrappedDek | dict[str, Any]],
    resolve: str,
    status: str,
    finding: str | None,
    *,
    umks: dict[str, Any] | None = None,
    record_findings: list[list[str]] | None = None,
    dek_of: str | None = None,
    wraps: tuple[WrappedDek, ...] = (),
    mutation: str | None = None,
) -> dict[str, Any]:
    case = _head(name, "resolve", description)
    if mutation is not None:
        case["mutation"] = mutation
    case["umk"] = umks if umks is not None else {"all": umk().reveal().hex()}
    case["records"] = [r if isinstance(r, dict) else record_json(r) for r in records]
    if wraps:
        case["wraps"] = [_wrap_detail(r) for r in wraps]
    case["resolve"] = resolve
    case["expected"] = {
        "status": status,
        "dek": dek(dek_of).hex() if dek_of else None,
        "envelope_finding": finding,
        "record_findings": record_findings or [[] for _ in records],
    }
    return case


def _found(
    name: str,
    description: str,
    records: Sequence[WrappedDek | dict[str, Any]],
    kid: str,
    **kw: Any,
) -> dict[str, Any]:
    """A positive resolution case: ``kid`` resolves to its own DEK."""
    return _resolve_case(name, description, records, kid, "found", None, dek_of=kid, **kw)


# --- resolution: negative ------------------------------------------------------------------


def _flip(b: bytes | None, bit: int) -> bytes:
    raw = bytearray(b or b"")
    raw[bit // 8] ^= 0x80 >> (bit % 8)
    return bytes(raw)


KID1, KID2 = format_key_id(D, 1), format_key_id(D, 2)
INVALID = [["DEK_RECORD_INVALID"]]


def _fails(
    name: str,
    description: str,
    records: Sequence[WrappedDek | dict[str, Any]],
    mutation: str,
    **kw: Any,
) -> dict[str, Any]:
    """A negative case that resolves to UNWRAP_FAILED (unless overridden)."""
    resolve = kw.pop("resolve", KID1)
    status = kw.pop("status", "unwrap_failed")
    finding = kw.pop("finding", STATUS_FINDING[status])
    return _resolve_case(
        name, description, records, resolve, status, finding, mutation=mutation, **kw
    )
