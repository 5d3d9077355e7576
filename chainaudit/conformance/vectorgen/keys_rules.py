"""Key-resolution vectors that pin KEY-5's rules (H9): items that do not map
never reach the resolver, which duplicate records are one key and which
conflict, and a keyed run without any UMK. Expected outcomes are declared
from docs/keys.md, not computed by the library.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from chainaudit.conformance.vectorgen.keys_build import (
    KID1,
    T_DESTROYED,
    T_ROTATED,
    _fails,
    _found,
    malformed_json,
)
from chainaudit.keys.hierarchy import destroy, retire
from chainaudit.records.model import WrappedDek

MALFORMED = [["RECORD_MALFORMED"]]


def rule_resolve_cases(base: WrappedDek) -> list[dict[str, Any]]:
    """KEY-5: items that do not map, duplicate records, no UMK at all."""
    out = []
    for label, edit, why in (
        ("unknown-state", {"state": {"S": "revoked"}}, "state 'revoked' is not a KeyState"),
        ("extra-attribute", {"note": {"S": "x"}}, "an attribute MODEL-5 does not list"),
        ("owner-missing", {"owner": None}, "the required owner is missing"),
        ("wrapped-key-as-string", {"wrapped_key": {"S": "AAAA"}}, "wrapped_key is S, not B"),
        ("version-leading-zero", {"sk": {"S": "dek#01"}}, "sk dek#01 is not canonical"),
    ):
        out.append(
            _fails(
                f"malformed-item-{label}",
                f"the item does not map to a wrapped-DEK record ({why}, MODEL-5): it is "
                "reported as RECORD_MALFORMED and the resolver never sees it, so the key "
                "id is missing (KEY-5)",
                [malformed_json(base, **edit)],
                f"edit the item: {why}",
                status="missing",
                record_findings=MALFORMED,
            )
        )
    out.append(
        _found(
            "malformed-item-next-to-valid-record",
            "a well-formed record and an unmappable copy of it: the copy is not a record, "
            "so there is no conflict and the key is found (KEY-5)",
            [base, malformed_json(base, state={"S": "revoked"})],
            KID1,
            record_findings=[[], ["RECORD_MALFORMED"]],
            mutation="a second copy with state 'revoked'",
        )
    )
    out.append(
        _found(
            "duplicate-records-identical",
            "the same record read twice (e.g. from two stores): one key, found (KEY-5)",
            [base, base],
            KID1,
            mutation="the record read twice",
        )
    )
    out.append(
        _found(
            "duplicate-records-active-and-retired",
            "the record before and after rotation (active, retired; created_at differs): "
            "the same key material, so the same key; found (KEY-5)",
            [base, replace(retire(base), created_at=T_ROTATED)],
            KID1,
            mutation="a second copy retired, with another created_at",
        )
    )
    out.append(
        _fails(
            "conflicting-records-destroyed-and-active",
            "one copy destroyed, another still active: shredding was not effective "
            "everywhere; the resolver refuses to pick (KEY-5, KEY-6)",
            [base, destroy(base, T_DESTROYED)],
            "a second copy destroyed",
        )
    )
    out.append(
        _fails(
            "no-umk-at-all",
            "wrapped-DEK records but no UMK: an active key is missing (KEY-5 step 5)",
            [base],
            "verifier given no UMK",
            status="missing",
            umks={},
        )
    )
    return out
