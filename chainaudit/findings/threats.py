"""Which attacker each finding code catches: the index of docs/threat-model.md.

Every registered code names one section of the threat model (its anchor);
each section names the attackers (:data:`ATTACKERS`) whose attack the code
is evidence of. The text report links each finding to its section, and
docs/findings.md lists it beside the code. A test keeps this table, the
registry and the document in step, so a new code cannot ship without
saying what it defends against.
"""

from __future__ import annotations

from chainaudit.findings import Code

#: Short names of the attackers of docs/threat-model.md#attackers.
ATTACKERS = {
    "reader": "reads exports or the store, writes nothing",
    "writer": "can write the store or an export, holds no keys",
    "key-holder": "holds the service's keys (UMK or KMS access)",
    "operator": "runs a migration between stores",
    "fault": "no attacker: a writer bug, a lost key, a partial read",
}

#: section anchor → (attackers it is about, code names it covers).
SECTIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "edited-envelopes": (
        ("writer", "fault"),
        (
            "ADDRESS_INVALID",
            "RECORD_MALFORMED",
            "ENVELOPE_MISSING",
            "ENVELOPE_UNEXPECTED",
            "ENVELOPE_VERSION_UNSUPPORTED",
            "NONCE_LENGTH",
            "CIPHERTEXT_TOO_SHORT",
            "AUTHENTICATION_FAILED",
            "TAG_TRUNCATED",
            "PAYLOAD_NOT_JSON_OBJECT",
            "PAYLOAD_NOT_CANONICAL",
        ),
    ),
    "moved-records": (
        ("writer",),
        (
            "AAD_HASH_MISMATCH",
            "ADDRESS_MOVED",
            "LEGACY_AAD",
            "KEY_ID_INVALID",
            "KEY_ID_WRONG_DIALOGUE",
            "WRONG_KEY_VERSION",
        ),
    ),
    "nonce-reuse": (("fault", "writer"), ("NONCE_REUSE",)),
    "keys": (
        ("writer", "fault"),
        (
            "KEY_MISSING",
            "KEY_UNWRAP_FAILED",
            "DEK_RECORD_INVALID",
            "UMK_MISMATCH",
            "KEY_NOT_IN_AUDIT_LOG",
            "KEY_ROTATION_UNLOGGED",
            "KEY_DESTRUCTION_UNLOGGED",
            "KEY_HISTORY_UNCHECKED",
        ),
    ),
    "rollback-and-edits": (
        ("writer",),
        ("COMMIT_MISMATCH", "COMMIT_ROLLBACK", "COMMIT_MISSING", "COMMIT_RECORD_MISSING"),
    ),
    "forged-erasure": (
        ("writer",),
        (
            "KEY_SHREDDED",
            "ERASURE_UNSIGNED",
            "ERASURE_SIGNER_UNTRUSTED",
            "ERASURE_RECEIPT_INVALID",
            "ERASURE_RECEIPT_MISMATCH",
            "ERASURE_RECORD_AFTER",
        ),
    ),
    "chain-tampering": (
        ("writer",),
        (
            "CHAIN_EVENT_MALFORMED",
            "CHAIN_HASH_ALG_UNKNOWN",
            "EVENT_HASH_MISMATCH",
            "CHAIN_UUID_INVALID",
            "CHAIN_TIMESTAMP_SKEW",
            "CHAIN_GENESIS_MISMATCH",
            "CHAIN_LINK_BROKEN",
            "CHAIN_GAP",
            "CHAIN_OUT_OF_ORDER",
            "CHAIN_DUPLICATE",
            "CHAIN_FORK",
            "CHAIN_UUID_BACKWARDS",
            "CHAIN_HASH_ALG_CHANGED",
        ),
    ),
    "anchoring": (
        ("writer",),
        (
            "CHAIN_TRUNCATED",
            "CHAIN_TIP_MISMATCH",
            "CHECKPOINT_MALFORMED",
            "CHECKPOINT_SIGNER_UNTRUSTED",
            "CHECKPOINT_SIGNATURE_INVALID",
            "CHAIN_UNANCHORED",
        ),
    ),
    "removed-records": (
        ("writer", "fault"),
        (
            "EXPORT_TRUNCATED",
            "EXPORT_DIGEST_MISMATCH",
            "EXPORT_COUNT_MISMATCH",
            "EXPORT_TRAILING_DATA",
            "EXPORT_KIND_MISMATCH",
            "EXPORT_OUT_OF_ORDER",
            "EXPORT_DUPLICATE_KEY",
            "EXPORT_NOT_CANONICAL",
            "DDB_EXPORT_CHECKSUM_MISMATCH",
            "DDB_EXPORT_COUNT_MISMATCH",
            "DDB_EXPORT_FILE_MISSING",
            "NOTHING_CHECKED",
        ),
    ),
    "migration": (
        ("operator", "writer"),
        (
            "IMPORT_CONFLICT",
            "IMPORT_NOT_REPRESENTABLE",
            "CHAIN_BOUNDARY_MISSING",
            "BOUNDARY_REPLAYED",
            "BOUNDARY_SIGNER_UNTRUSTED",
            "BOUNDARY_SIGNATURE_INVALID",
            "BOUNDARY_SOURCE_MISMATCH",
            "RECORD_KEY_DUPLICATE",
            "MANIFEST_VERSION_UNSUPPORTED",
            "MANIFEST_SIGNATURE_INVALID",
            "MANIFEST_SIGNER_UNTRUSTED",
            "MANIFEST_LEAVES_INVALID",
            "MANIFEST_LEAVES_ABSENT",
            "MANIFEST_RECORD_MISSING",
            "MANIFEST_RECORD_EXTRA",
            "MANIFEST_RECORD_CHANGED",
            "MANIFEST_ROOT_MISMATCH",
            "MANIFEST_COUNT_MISMATCH",
            "MANIFEST_CHAIN_TIP_MISMATCH",
            "MANIFEST_CHAIN_UNBRIDGED",
            "MANIFEST_CHAIN_BRIDGED",
            "DIFF_ONLY_IN_A",
            "DIFF_ONLY_IN_B",
            "DIFF_CHANGED",
            "DIFF_BOUNDARY_ONE_SIDE",
            "PROOF_INVALID",
            "PROOF_MANIFEST_MISMATCH",
        ),
    ),
    "missing-evidence": (
        ("writer", "fault"),
        ("SIGNATURES_UNCHECKED", "ASSURANCE_NOT_MET"),
    ),
}

#: The document the anchors belong to.
DOCUMENT = "docs/threat-model.md"


def section_of(code: Code | str) -> str | None:
    """The threat-model anchor of ``code``, or None if it is not classified."""
    name = code if isinstance(code, str) else code.name
    for anchor, (_, names) in SECTIONS.items():
        if name in names:
            return anchor
    return None


def link_of(code: Code | str) -> str | None:
    """``docs/threat-model.md#anchor`` for ``code``, or None."""
    anchor = section_of(code)
    return None if anchor is None else f"{DOCUMENT}#{anchor}"


def attackers_of(code: Code | str) -> tuple[str, ...]:
    """The attackers whose attack ``code`` is evidence of."""
    anchor = section_of(code)
    return () if anchor is None else SECTIONS[anchor][0]
