"""Check golden vector files against the library, case by case.

Every vector file declares ``{"type": ..., "version": ...}``; this module
dispatches on the type to a checker that loads the case, runs the library
on it and compares with what the case expects. Each case yields a
:class:`CaseResult` (pass/fail plus every problem found), so a runner can
report all failing cases at once. Used by ``tests/test_vectors.py`` and by
``chainaudit vectors verify``. Format: ``docs/vectors.md``.

Other vector families plug in by exposing ``VECTOR_CHECKERS`` (a mapping of
type name to ``check(doc, path) -> list[CaseResult]``) in their generator
module (``chainaudit.conformance.vectorgen.keys``, ``chainaudit.conformance.vectorgen.chain``).
"""

from __future__ import annotations

import importlib
import importlib.util
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chainaudit.conformance.vectorgen import GENERATORS
from chainaudit.envelope.nonces import fingerprint
from chainaudit.envelope.seal import ALGORITHMS, SUPPORTED_VERSIONS, aad_for, aad_hash, open_bytes
from chainaudit.envelope.verify import verify_envelopes
from chainaudit.findings import Finding, Result, codes
from chainaudit.keys.hierarchy import parse_key_id
from chainaudit.keys.resolver import DekLookup, DekStatus
from chainaudit.primitives import crypto, strictjson
from chainaudit.records.address import Address, AddressError
from chainaudit.records.item import record_from_item, typed_from_json
from chainaudit.records.model import EntityRecord
from chainaudit.sources import SourceItem

#: VEC-1: every case file's ``type`` starts with this.
TYPE_PREFIX = "chainaudit/"
ENVELOPE_TYPE = "chainaudit/envelope-vector"
ENVELOPE_VERSIONS = frozenset({1})


@dataclass
class CaseResult:
    """The verdict on one vector case. ``problems`` is empty when it passed."""

    name: str
    path: str
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems


Checker = Callable[[Mapping[str, Any], str], list[CaseResult]]


class StaticResolver:
    """A :class:`~chainaudit.keys.resolver.DekResolver` over fixed key states (vectors, tests).

    ``keys`` maps key_id to a DEK (found) or to a :class:`DekStatus`; key ids
    not listed are MISSING.
    """

    def __init__(self, keys: Mapping[str, bytes | DekStatus]) -> None:
        self._keys = dict(keys)

    def __repr__(self) -> str:
        return f"StaticResolver({len(self._keys)} key ids)"

    def resolve(self, key_id: str) -> DekLookup:
        value = self._keys.get(key_id, DekStatus.MISSING)
        if isinstance(value, DekStatus):
            return DekLookup(value, detail="as stated by the vector")
        return DekLookup(DekStatus.FOUND, value)

    def versions(self, dialogue: str) -> Sequence[str]:
        out = []
        for kid in self._keys:
            try:
                d, v = parse_key_id(kid)
            except ValueError:
                continue
            if d == dialogue:
                out.append((v, kid))
        return [kid for _, kid in sorted(out)]


def outcome_of(result: Result) -> str:
    """VEC-2: ``valid``, ``invalid``, ``unverified`` or ``notice``."""
    if not result.findings:
        return "valid"
    if result.errors:
        return "invalid"
    if result.unverified:
        return "unverified"
    return "notice"


def _resolver(keys: Sequence[Mapping[str, Any]]) -> StaticResolver:
    table: dict[str, bytes | DekStatus] = {}
    for k in keys:
        status = DekStatus(k["status"])
        table[k["key_id"]] = bytes.fromhex(k["dek"]) if status is DekStatus.FOUND else status
    return StaticResolver(table)


def check_envelope_case(doc: Mapping[str, Any], path: str) -> list[CaseResult]:
    """Check one envelope vector (VEC-2) against the library."""
    res = CaseResult(str(doc.get("name", "?")), path)
    problems = res.problems
    try:
        if doc.get("version") not in ENVELOPE_VERSIONS:
            problems.append(f"unsupported vector version {doc.get('version')!r}")
            return [res]
        if doc["algorithm"] not in ALGORITHMS.values():
            problems.append(f"unknown algorithm id {doc['algorithm']!r}")
            return [res]
        keys = doc["keys"]
        resolver = _resolver(keys)
        items: list[SourceItem] = []
        for i, r in enumerate(doc["records"]):
            origin = f"{res.name}#{i}"
            rec = _record(r["item"], origin)
            items.append(rec)
            _check_binding(r, rec, origin, problems)
        for mode, resolv in (("keyless", None), ("keyed", resolver)):
            result = verify_envelopes(items, resolv)
            want = doc["expected"][mode]
            got = sorted(result.codes())
            if got != sorted(want["findings"]):
                problems.append(f"{mode}: findings {got}, expected {sorted(want['findings'])}")
            if outcome_of(result) != want["outcome"]:
                problems.append(f"{mode}: outcome {outcome_of(result)}, expected {want['outcome']}")
            if mode == "keyed" and not result.errors:
                _check_plaintexts(doc, items, resolver, problems)
    except (KeyError, TypeError, ValueError) as exc:
        problems.append(f"malformed vector: {type(exc).__name__}: {exc}")
    return [res]


def _record(item_json: Mapping[str, Any], origin: str) -> SourceItem:
    """VEC-2 step 1: the item's record, or the one finding that says why there is none.

    A typed value that breaks MODEL-3 (e.g. non-canonical base64 in ``B``)
    makes the item RECORD_MALFORMED, as it would in a store's item.
    """
    try:
        item = {k: typed_from_json(v, f"{origin}.{k}") for k, v in item_json.items()}
    except ValueError as exc:
        return Finding(codes.RECORD_MALFORMED, origin, str(exc), source=origin)
    return record_from_item(item, origin)


def _check_binding(r: Mapping[str, Any], rec: SourceItem, origin: str, problems: list[str]) -> None:
    """The record's address, AAD, aad_hash, SQL key and nonce fingerprint are
    those the vector states (ADDR-4, ENV-4, ENV-5)."""
    if "nonce_fingerprint" in r:
        if not isinstance(rec, EntityRecord) or rec.envelope is None:
            problems.append(f"{origin}: nonce_fingerprint on a record without an envelope")
        elif fingerprint(rec.envelope.key_id, rec.envelope.nonce).hex() != r["nonce_fingerprint"]:  # ct-ok: both sides are public golden-vector values
            problems.append(f"{origin}: nonce_fingerprint differs")
    if r["address"] is None:
        if r.get("sql") is not None:
            problems.append(f"{origin}: sql given for an item without an address")
        return
    try:
        stated = Address.parse(r["address"])
    except AddressError as exc:
        problems.append(f"{origin}: stated address does not parse: {exc}")
        return
    if isinstance(rec, EntityRecord) and rec.address != stated:
        problems.append(f"{origin}: item maps to {rec.address}, vector states {stated}")
    if str(stated) != r["address"]:
        problems.append(f"{origin}: address does not round-trip")
    if aad_for(stated).hex() != r["aad"]:
        problems.append(f"{origin}: aad differs")
    if aad_hash(stated) != r["aad_hash"]:  # ct-ok: both sides are public golden-vector values
        problems.append(f"{origin}: aad_hash differs")
    sql = r["sql"]
    if list(stated.to_sql()) != sql:
        problems.append(f"{origin}: SQL key differs from the vector's")
    else:
        try:
            if Address.from_sql(*sql) != stated:
                problems.append(f"{origin}: SQL key maps to another address")
        except AddressError as exc:
            problems.append(f"{origin}: SQL key does not map: {exc}")


def _check_plaintexts(
    doc: Mapping[str, Any],
    items: Sequence[SourceItem],
    resolver: StaticResolver,
    problems: list[str],
) -> None:
    """When the keyed run found no error, each found key opens its record to ``plaintext``."""
    for i, (r, rec) in enumerate(zip(doc["records"], items, strict=True)):
        if not isinstance(rec, EntityRecord) or rec.envelope is None or r["plaintext"] is None:
            continue
        if rec.envelope.version not in SUPPORTED_VERSIONS:
            problems.append(f"record {i}: plaintext given for an unsupported envelope version")
            continue
        lookup = resolver.resolve(rec.envelope.key_id)
        if lookup.status is not DekStatus.FOUND or lookup.dek is None:
            continue
        try:
            pt = open_bytes(aad_for(rec.address), rec.envelope, lookup.dek)
        except crypto.AuthenticationError:
            problems.append(f"record {i}: does not open although no error was expected")
            continue
        if not crypto.equal(pt, bytes.fromhex(r["plaintext"])):
            problems.append(f"record {i}: decrypted plaintext differs from the vector's")
        if r["payload"] is not None and json.loads(pt) != r["payload"]:
            problems.append(f"record {i}: payload differs from the vector's")


def checkers() -> dict[str, Checker]:
    """Every known vector type and its checker (envelope here, others by plug-in)."""
    table: dict[str, Checker] = {ENVELOPE_TYPE: check_envelope_case}
    for name in GENERATORS:
        if importlib.util.find_spec(name) is None:
            continue
        extra = getattr(importlib.import_module(name), "VECTOR_CHECKERS", None)
        if extra:
            table.update(extra)
    return table


def vector_files(root: Path) -> Iterator[Path]:
    """Every ``*.json`` vector file below ``root``, in a stable order."""
    yield from sorted(p for p in Path(root).rglob("*.json") if p.is_file())


def load_case(path: Path) -> dict[str, Any] | None:
    """The vector document in ``path``, or None when the file is a fixture (VEC-1).

    A case file is one JSON object whose ``type`` starts with ``chainaudit/``.
    Anything else (e.g. DynamoDB Export-to-S3 manifests, JSON-lines data) is
    input data of some case in a format fixed elsewhere; the byte-exact
    regeneration test, not this loader, guards those files.
    """
    try:
        doc = strictjson.loads(Path(path).read_bytes(), unique=False)
    except ValueError:
        return None
    if not isinstance(doc, dict) or not str(doc.get("type", "")).startswith(TYPE_PREFIX):
        return None
    return doc


def check_file(path: Path, table: Mapping[str, Checker] | None = None) -> list[CaseResult]:
    """Check every case in one vector file (a fixture yields no case)."""
    table = table if table is not None else checkers()
    doc = load_case(path)
    if doc is None:
        return []
    checker = table.get(doc["type"])
    if checker is None:
        return [CaseResult(Path(path).name, str(path), [f"unknown vector type {doc['type']!r}"])]
    try:
        return checker(doc, str(path))
    except Exception as exc:  # a malformed case fails, it does not end the run (CLI-4)
        problem = f"malformed {doc['type']} case: {type(exc).__name__}: {exc}"[:300]
        return [CaseResult(Path(path).name, str(path), [problem])]


def check_tree(root: Path) -> list[CaseResult]:
    """Check every vector file below ``root``; one result per case."""
    table = checkers()
    out: list[CaseResult] = []
    for path in vector_files(root):
        out.extend(check_file(path, table))
    return out


def summary(results: Sequence[CaseResult]) -> tuple[int, int]:
    """(passed, failed) counts."""
    passed = sum(r.passed for r in results)
    return passed, len(results) - passed


def main(argv: Sequence[str]) -> int:
    """``python -m chainaudit.conformance.check [DIR]``: print FAIL lines and a summary.

    Exit 0 when every case passes, 1 otherwise.
    """
    root = Path(argv[0]) if argv else Path("vectors")
    results = check_tree(root)
    for r in results:
        if not r.passed:
            print(f"FAIL: {r.path}: {r.name}: {'; '.join(r.problems)}")
    passed, failed = summary(results)
    print(f"{'OK' if not failed else 'FAIL'}: {passed} passed, {failed} failed under {root}")
    return 0 if not failed and passed else 1


__all__ = [
    "ENVELOPE_TYPE",
    "CaseResult",
    "StaticResolver",
    "check_envelope_case",
    "check_file",
    "check_tree",
    "checkers",
    "load_case",
    "main",
    "outcome_of",
    "summary",
    "vector_files",
]


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
