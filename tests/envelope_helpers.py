"""Strategies and builders shared by the envelope, verifier and vector tests."""

from __future__ import annotations

import hashlib
import unicodedata
from typing import Any

from hypothesis import strategies as st

from chainaudit.address import SUBKEY_PARTS, Address, AddressError, EntityType
from chainaudit.envelope import seal
from chainaudit.model import EntityRecord
from chainaudit.resolver import DekStatus
from chainaudit.vectorcheck import StaticResolver

_SPECIAL = st.sampled_from(["#", "/", "%", ":", "é", "🦉", "対"])
_CHAR = st.characters(blacklist_categories=("Cc", "Cs"))

#: Logical ids: any allowed code point plus separators, NFC, short.
ids = (
    st.lists(st.one_of(_CHAR, _SPECIAL), min_size=1, max_size=8)
    .map(lambda xs: unicodedata.normalize("NFC", "".join(xs)))
    .filter(lambda s: s != "")
)
_nn = st.integers(0, 99).map(lambda n: f"{n:02d}")
_ts = st.sampled_from(["2026-01-02T03:04:05Z", "1999-12-31T23:59:59.999999999Z"])
_target = st.sampled_from([t.value for t in EntityType if t is not EntityType.EVENT])


def _part(kind: str) -> st.SearchStrategy[str]:
    return {"nn": _nn, "ts": _ts, "type": _target}.get(kind, ids)


@st.composite
def addresses(draw: st.DrawFn, enveloped: bool | None = True) -> Address:
    """Addresses of every entity type (only types with an envelope by default)."""
    types = [t for t in EntityType if enveloped is None or (t is not EntityType.REF) == enveloped]
    et = draw(st.sampled_from(types))
    parts = [draw(_part(k)) for k in SUBKEY_PARTS[et]]
    try:
        return Address.of(draw(ids), et, *parts)
    except AddressError:  # over a limit: fall back to a short id
        return Address.of(
            "d",
            et,
            *(
                p if k in ("nn", "ts", "type") else "x"
                for k, p in zip(SUBKEY_PARTS[et], parts, strict=True)
            ),
        )


#: JSON values that RFC 8785 can encode (I-JSON: safe integers, finite floats).
json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**53) + 1, 2**53 - 1),
        # JCS writes integral doubles as integers; keep them in the safe range
        # so that the value read back can be canonicalised again.
        st.floats(min_value=-(2.0**52), max_value=2.0**52, allow_nan=False),
        st.text(st.characters(blacklist_categories=["Cs"]), max_size=10),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=6), inner, max_size=4),
    ),
    max_leaves=12,
)
payloads = st.dictionaries(
    st.text(st.characters(blacklist_categories=["Cs"]), max_size=8), json_values, max_size=6
)


def dek(label: str) -> bytes:
    return hashlib.sha256(b"test-dek/" + label.encode()).digest()


def nonce(label: str) -> bytes:
    return hashlib.sha256(b"test-nonce/" + label.encode()).digest()[:12]


def kid(address: Address, version: int = 1) -> str:
    return f"dek#{address.dialogue}#{version}"


def sealed_record(
    address: Address, payload: dict[str, Any] | None = None, version: int = 1, label: str = ""
) -> EntityRecord:
    """A correctly sealed record at ``address`` under the dialogue's key ``version``."""
    k = kid(address, version)
    env = seal(address, payload or {"t": "x"}, dek(k), k, nonce(f"{address}/{label}"))
    return EntityRecord(address, {}, env)


def resolver_for(
    *addresses: Address, versions: int = 1, states: dict[str, DekStatus] | None = None
) -> StaticResolver:
    """Keys 1..versions of each address's dialogue, found; ``states`` override by key id."""
    table: dict[str, bytes | DekStatus] = {}
    for a in addresses:
        for v in range(1, versions + 1):
            table[kid(a, v)] = dek(kid(a, v))
    for k, s in (states or {}).items():
        table[k] = s
    return StaticResolver(table)
