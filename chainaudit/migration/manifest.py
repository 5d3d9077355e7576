"""The signed migration manifest: what a source held, committed to by one Merkle root.

``gate pre`` streams the source's records through :class:`ManifestBuilder`,
which counts them per kind, dialogue and chain, sorts their (record key,
digest) pairs on disk and builds the Merkle root (MAN-2). The statement is
signed with Ed25519 (:func:`sign_manifest`), and the sorted leaves are
written to a **leaves file** beside the manifest (MAN-3.4) so that ``gate
post`` and ``prove`` can name individual records later. The leaves file
needs no signature of its own: the signed root commits to every line of it.

Specification: ``docs/manifest.md`` (MAN-3). Pure apart from the temporary
index file and the caller's output stream; the clock is a parameter.

>>> from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
>>> sk = Ed25519PrivateKey.from_private_bytes(bytes(32))
>>> with ManifestBuilder() as b:
...     statement = b.statement(created_at="2026-01-01T00:00:00Z", source={"name": "demo"})
>>> m = sign_manifest(statement, sk)
>>> verify_manifest(m, [public_key_bytes(sk)])
[]
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from chainaudit.chain.tips import ChainEvent as ChainEvent
from chainaudit.chain.tips import ChainTally as ChainTally
from chainaudit.chain.tips import ChainTip as ChainTip
from chainaudit.chain.tips import chain_event_of as chain_event_of
from chainaudit.errors import InputError
from chainaudit.findings import Finding, codes

# Re-exported: chain tips were first defined here and callers import them from here.
from chainaudit.keys import signing
from chainaudit.migration.index import LeafIndex
from chainaudit.primitives import strictjson
from chainaudit.primitives.merkle import MERKLE_ALG, TreeBuilder, leaf_hash
from chainaudit.records.digest import (
    AUDIT_KEY_PREFIX,
    DEK_KEY_PREFIX,
    RECORD_DIGEST_ALG,
    keyed_digest,
)
from chainaudit.records.model import Record

MANIFEST_TYPE = "chainaudit/manifest"
MANIFEST_VERSION = 1
#: MAN-3.3: the signature's domain-separation prefix.
SIGNATURE_DOMAIN = b"chainaudit/manifest/v1\x00"
ALGORITHMS = {"record_digest": RECORD_DIGEST_ALG, "merkle": MERKLE_ALG}


# --- building (MAN-3.1) -------------------------------------------------------


def key_dialogue(key: str) -> str | None:
    """The escaped dialogue id encoded in a record key (MAN-1.1), if any."""
    if key.startswith("dialogue:"):
        return key[len("dialogue:") :].split("/", 1)[0]
    if key.startswith(DEK_KEY_PREFIX):
        return key[len(DEK_KEY_PREFIX) :].split("#", 1)[0]
    return None


def key_kind(key: str) -> str:
    """``entities``, ``deks`` or ``audit_events``: the totals member a key counts in."""
    if key.startswith(DEK_KEY_PREFIX):
        return "deks"
    if key.startswith(AUDIT_KEY_PREFIX):
        return "audit_events"
    return "entities"


@dataclass
class LeafSummary:
    """Counts and root over one sorted pass of the leaves."""

    root: bytes
    size: int
    totals: Counter[str]
    dialogues: dict[str, Counter[str]]


def summarise(leaves: Iterable[tuple[str, bytes]], out: IO[bytes] | None = None) -> LeafSummary:
    """One pass over sorted leaves: the root, the counts, and optionally the leaves file."""
    tree = TreeBuilder()
    totals: Counter[str] = Counter()
    dialogues: dict[str, Counter[str]] = {}
    for key, digest in leaves:
        tree.add(leaf_hash(key, digest))
        kind = key_kind(key)
        totals[kind] += 1
        d = key_dialogue(key)
        if d is not None:
            dialogues.setdefault(d, Counter())[kind] += 1
        if out is not None:
            out.write(leaves_line(key, digest))
    return LeafSummary(tree.root(), tree.size, totals, dialogues)


class ManifestBuilder:
    """Collect a source's records and produce the unsigned manifest statement.

    Feed every record with :meth:`add` (any order), then call
    :meth:`statement`. Duplicate record keys are returned by
    :meth:`duplicate_findings`. Use as a context manager so the temporary
    index is deleted.
    """

    def __init__(self, index_dir: str | None = None) -> None:
        self.index = LeafIndex(index_dir)
        self.chains = ChainTally()

    def add(self, record: Record) -> None:
        key, digest = keyed_digest(record)
        self.index.add(key, digest, record.origin)
        ev = chain_event_of(record, key)
        if ev is not None:
            self.chains.add(ev)

    def add_all(self, records: Iterable[Record]) -> None:
        for record in records:
            self.add(record)

    def duplicate_findings(self) -> list[Finding]:
        """RECORD_KEY_DUPLICATE for every repeated key (MAN-1.1)."""
        return [
            Finding(
                codes.RECORD_KEY_DUPLICATE,
                key,
                "a second record with this record key; the first one read is in the manifest",
                actual=digest.hex(),
                source=origin or None,
            )
            for key, digest, origin in self.index.duplicates()
        ]

    def statement(
        self,
        *,
        created_at: str,
        source: Mapping[str, str],
        chains: Mapping[str, ChainTip] | None = None,
        leaves_out: IO[bytes] | None = None,
    ) -> dict[str, Any]:
        """The manifest without ``signer_key_id`` and ``signature`` (MAN-3.1).

        ``chains`` overrides the tips observed in the records (e.g. the chain
        verifier's, which follow the links); ``leaves_out`` receives the
        leaves file (MAN-3.4) in the same pass.
        """
        s = summarise(self.index.sorted_leaves(), leaves_out)
        tips = self.chains.tips()
        if chains:
            tips.update(chains)
        return {
            "type": MANIFEST_TYPE,
            "version": MANIFEST_VERSION,
            "created_at": created_at,
            "source": dict(source),
            "algorithms": dict(ALGORITHMS),
            "totals": {
                "records": s.size,
                "entities": s.totals["entities"],
                "deks": s.totals["deks"],
                "audit_events": s.totals["audit_events"],
                "dialogues": len(s.dialogues),
                "chains": len(tips),
            },
            "dialogues": {
                d: {"records": sum(c.values()), "entities": c["entities"], "deks": c["deks"]}
                for d, c in s.dialogues.items()
            },
            "chains": {c: t.to_json() for c, t in tips.items()},
            "merkle": {"tree_size": s.size, "root": s.root.hex()},
        }

    def close(self) -> None:
        self.index.close()

    def __enter__(self) -> ManifestBuilder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def build_manifest(
    records: Iterable[Record],
    *,
    private_key: Ed25519PrivateKey,
    created_at: str,
    source: Mapping[str, str],
    leaves_out: IO[bytes],
    chains: Mapping[str, ChainTip] | None = None,
    index_dir: str | None = None,
) -> tuple[dict[str, Any], list[Finding]]:
    """``gate pre`` in one call: the signed manifest, with the leaves file
    written to ``leaves_out``, and the RECORD_KEY_DUPLICATE findings.

    ``records`` is the verified source's records (source findings are the
    caller's); ``created_at`` is the caller's clock reading.
    """
    with ManifestBuilder(index_dir) as b:
        b.add_all(records)
        statement = b.statement(
            created_at=created_at, source=source, chains=chains, leaves_out=leaves_out
        )
        duplicates = b.duplicate_findings()
    return sign_manifest(statement, private_key), duplicates


# --- leaves file (MAN-3.4) ----------------------------------------------------


def leaves_line(key: str, digest: bytes) -> bytes:
    """One line of the leaves file: RFC 8785 ``[key, digest hex]`` and LF."""
    return bytes(rfc8785.dumps([key, digest.hex()])) + b"\n"


class LeavesError(ValueError):
    """A leaves file that is malformed or not strictly sorted, at ``where`` (file:line)."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message


def read_leaves(lines: Iterable[bytes], where: str = "leaves") -> Iterator[tuple[str, bytes]]:
    """Parse a leaves file strictly, streaming; raises :class:`LeavesError`.

    Each line must be exactly the canonical form :func:`leaves_line` writes,
    and keys must be strictly increasing by UTF-8 bytes (no duplicates).
    """
    prev: bytes | None = None
    for n, line in enumerate(lines, 1):
        try:
            key, hexd = strictjson.loads(line)
            digest = bytes.fromhex(hexd)
            ok = isinstance(key, str) and len(digest) == 32 and leaves_line(key, digest) == line
        except (ValueError, TypeError):
            ok = False
        if not ok:
            raise LeavesError(f"{where}:{n}", "not a canonical leaves line")
        raw = key.encode("utf-8")
        if prev is not None and raw <= prev:
            raise LeavesError(f"{where}:{n}", f"key {key!r} is not after the previous key")
        prev = raw
        yield key, digest


# --- signing (MAN-3.3) --------------------------------------------------------
# Ed25519 goes through chainaudit.keys.signing (CHAIN-10): raw 32-byte keys,
# key id = hex SHA-256 of the public key, trust only through pinned keys.


def public_key_bytes(private_key: Ed25519PrivateKey) -> bytes:
    """The raw 32-byte public key (CHAIN-10)."""
    return signing.public_bytes(private_key)


def signer_key_id(public_key: bytes) -> str:
    """CHAIN-10: lowercase hex SHA-256 of the raw public key."""
    return signing.key_id(public_key)


def signing_input(statement: Mapping[str, Any]) -> bytes:
    """MAN-3.3: prefix || RFC 8785 of the manifest without ``signature``."""
    body = {k: v for k, v in statement.items() if k != "signature"}
    return SIGNATURE_DOMAIN + bytes(rfc8785.dumps(body))


def sign_manifest(statement: Mapping[str, Any], private_key: Ed25519PrivateKey) -> dict[str, Any]:
    """Add ``signer_key_id`` and ``signature`` (hex) to a statement."""
    out = {k: v for k, v in statement.items() if k not in ("signer_key_id", "signature")}
    out["signer_key_id"] = signer_key_id(public_key_bytes(private_key))
    out["signature"] = signing.sign(private_key, signing_input(out)).hex()
    return out


def manifest_digest(manifest: Mapping[str, Any]) -> str:
    """MAN-3.5: lowercase hex SHA-256 of RFC 8785 of the whole signed manifest.

    This is the value a migration-boundary event names (CHAIN-12).
    """
    return hashlib.sha256(bytes(rfc8785.dumps(dict(manifest)))).hexdigest()


#: Pinned public keys: raw 32-byte keys, or a loaded trusted-keys file.
Pinned = Iterable[bytes] | signing.TrustStore


def trust_store(pinned: Pinned) -> signing.TrustStore:
    """The pinned keys as a :class:`~chainaudit.keys.signing.TrustStore`."""
    return pinned if isinstance(pinned, signing.TrustStore) else signing.TrustStore.of(pinned)


def verify_manifest(manifest: Mapping[str, Any], pinned: Pinned) -> list[Finding]:
    """Check type, version, algorithms and the signature against pinned keys.

    Returns findings (empty when the manifest is trusted). A manifest whose
    members are malformed raises :class:`~chainaudit.errors.InputError`
    naming the member.
    """
    where = "manifest"
    if manifest.get("type") != MANIFEST_TYPE or manifest.get("version") != MANIFEST_VERSION:
        return [
            Finding(
                codes.MANIFEST_VERSION_UNSUPPORTED,
                where,
                "not a manifest type/version this verifier implements",
                expected=f"{MANIFEST_TYPE} v{MANIFEST_VERSION}",
                actual=f"{manifest.get('type')} v{manifest.get('version')}",
            )
        ]
    if manifest.get("algorithms") != ALGORITHMS:
        return [
            Finding(
                codes.MANIFEST_VERSION_UNSUPPORTED,
                where,
                "unknown digest or Merkle algorithm",
                expected=json.dumps(ALGORITHMS, sort_keys=True),
                actual=json.dumps(manifest.get("algorithms"), sort_keys=True),
            )
        ]
    check_shape(manifest)
    trust = trust_store(pinned)
    kid = manifest["signer_key_id"]
    verdict = trust.check(kid, bytes.fromhex(manifest["signature"]), signing_input(manifest))
    if verdict == "untrusted":
        return [
            Finding(
                codes.MANIFEST_SIGNER_UNTRUSTED,
                where,
                "the signer's key is not pinned",
                actual=kid,
            )
        ]
    if verdict != "valid":
        return [
            Finding(
                codes.MANIFEST_SIGNATURE_INVALID,
                where,
                "the signature does not verify under the pinned key",
                actual=kid,
            )
        ]
    return []


def check_shape(m: Mapping[str, Any]) -> None:
    """Raise InputError unless the members MAN-3.1 requires are there and typed."""

    def need(cond: bool, what: str) -> None:
        if not cond:
            raise InputError("manifest", f"malformed: {what}")

    need(isinstance(m.get("created_at"), str), "created_at must be a string")
    need(isinstance(m.get("source"), dict), "source must be an object")
    totals = m.get("totals")
    need(isinstance(totals, dict) and all(_count(totals.get(k)) for k in TOTALS), "totals")
    need(isinstance(m.get("dialogues"), dict), "dialogues must be an object")
    for d, v in m["dialogues"].items():
        need(
            isinstance(v, dict) and all(_count(v.get(k)) for k in DIALOGUE_COUNTS), f"dialogue {d}"
        )
    need(isinstance(m.get("chains"), dict), "chains must be an object")
    for c, v in m["chains"].items():
        need(
            isinstance(v, dict)
            and _count(v.get("count"))
            and "tip" in v  # MAN-3.1: 64 hex, or null when unknown; never absent
            and (v.get("tip") is None or _hex(v.get("tip"), 32))
            and (v.get("hash_alg") is None or isinstance(v.get("hash_alg"), str)),
            f"chain {c}",
        )
    mk = m.get("merkle")
    need(
        isinstance(mk, dict) and _count(mk.get("tree_size")) and _hex(mk.get("root"), 32), "merkle"
    )
    need(_hex(m.get("signer_key_id"), 32), "signer_key_id must be 64 hex digits")
    need(_hex(m.get("signature"), 64), "signature must be 128 hex digits")
    try:  # signed and digested in RFC 8785 form (MAN-3.3, MAN-3.5): it must have one
        rfc8785.dumps(dict(m))
    except rfc8785.CanonicalizationError as exc:
        need(False, f"no RFC 8785 form ({exc})")


TOTALS = ("records", "entities", "deks", "audit_events", "dialogues", "chains")
DIALOGUE_COUNTS = ("records", "entities", "deks")


def _count(v: Any) -> bool:
    # Counts are signed in RFC 8785 form, whose integers stop at 2**53 - 1.
    return isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= _MAX_SAFE_INT


_MAX_SAFE_INT = 2**53 - 1


def _hex(v: Any, n: int) -> bool:
    return isinstance(v, str) and len(v) == 2 * n and all(c in "0123456789abcdef" for c in v)


def load_manifest(data: bytes, where: str = "manifest") -> dict[str, Any]:
    """Parse manifest JSON (UTF-8); InputError when it is not a JSON object."""
    try:
        obj = strictjson.loads(data)
    except ValueError as exc:
        raise InputError(where, f"not JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise InputError(where, "a manifest is a JSON object")
    return obj


def dump_manifest(manifest: Mapping[str, Any]) -> bytes:
    """The manifest file bytes: 2-space indented JSON with sorted members and LF.

    Readable in review; the signature does not depend on this layout
    (it covers the RFC 8785 form).
    """
    return (json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()
