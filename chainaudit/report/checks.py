"""Which checks a command runs, and which it skipped and why (REP-4).

Every registered finding code belongs to exactly one *check family* here.
A command runs some families; a run may skip a family it would otherwise
run because the evidence it needs was not given (no keys, no checkpoint,
no pinned key, no audit log). :func:`plan` turns a command and a
:class:`RunFacts` into the JUnit plan: code name → ``None`` (the check ran)
or the reason it was skipped. Codes of families the command never runs
are absent: a keyless ``verify`` does not "pass" ``AUTHENTICATION_FAILED``,
and ``gate pre`` does not "pass" ``DIFF_ONLY_IN_A``. Pure: no I/O.

A test asserts every registered code is in one family, so a new code
cannot silently fall out of the reports.
"""

from __future__ import annotations

from dataclasses import dataclass

from chainaudit.findings import Code, Result, codes, registry
from chainaudit.findings.result import code_counts

#: family → its codes. Order within a family is irrelevant (JUnit sorts by name).
FAMILIES: dict[str, tuple[Code, ...]] = {
    "record": (codes.ADDRESS_INVALID, codes.RECORD_MALFORMED),
    "envelope": (
        codes.ENVELOPE_MISSING,
        codes.ENVELOPE_UNEXPECTED,
        codes.ENVELOPE_VERSION_UNSUPPORTED,
        codes.AAD_HASH_MISMATCH,
        codes.LEGACY_AAD,
        codes.NONCE_LENGTH,
        codes.NONCE_REUSE,
        codes.CIPHERTEXT_TOO_SHORT,
        codes.KEY_ID_INVALID,
        codes.KEY_ID_WRONG_DIALOGUE,
        codes.DEK_RECORD_INVALID,
    ),
    "keyed": (
        codes.AUTHENTICATION_FAILED,
        codes.ADDRESS_MOVED,
        codes.WRONG_KEY_VERSION,
        codes.TAG_TRUNCATED,
        codes.PAYLOAD_NOT_JSON_OBJECT,
        codes.PAYLOAD_NOT_CANONICAL,
        codes.KEY_SHREDDED,
        codes.KEY_MISSING,
        codes.KEY_UNWRAP_FAILED,
    ),
    "umk": (codes.UMK_MISMATCH,),
    "export": (
        codes.EXPORT_TRUNCATED,
        codes.EXPORT_DIGEST_MISMATCH,
        codes.EXPORT_COUNT_MISMATCH,
        codes.EXPORT_TRAILING_DATA,
        codes.EXPORT_KIND_MISMATCH,
        codes.EXPORT_OUT_OF_ORDER,
        codes.EXPORT_DUPLICATE_KEY,
        codes.EXPORT_NOT_CANONICAL,
    ),
    "ddb_export": (
        codes.DDB_EXPORT_CHECKSUM_MISMATCH,
        codes.DDB_EXPORT_COUNT_MISMATCH,
        codes.DDB_EXPORT_FILE_MISSING,
    ),
    "import": (codes.IMPORT_CONFLICT, codes.IMPORT_NOT_REPRESENTABLE),
    "chain": (
        codes.CHAIN_EVENT_MALFORMED,
        codes.CHAIN_HASH_ALG_UNKNOWN,
        codes.EVENT_HASH_MISMATCH,
        codes.CHAIN_UUID_INVALID,
        codes.CHAIN_TIMESTAMP_SKEW,
        codes.CHAIN_GENESIS_MISMATCH,
        codes.CHAIN_LINK_BROKEN,
        codes.CHAIN_GAP,
        codes.CHAIN_OUT_OF_ORDER,
        codes.CHAIN_DUPLICATE,
        codes.CHAIN_FORK,
        codes.CHAIN_UUID_BACKWARDS,
        codes.CHAIN_HASH_ALG_CHANGED,
        codes.CHAIN_BOUNDARY_MISSING,
        codes.BOUNDARY_REPLAYED,
        codes.BOUNDARY_SOURCE_MISMATCH,
    ),
    "anchor": (
        codes.CHAIN_TRUNCATED,
        codes.CHAIN_TIP_MISMATCH,
        codes.CHECKPOINT_MALFORMED,
        codes.CHECKPOINT_SIGNER_UNTRUSTED,
        codes.CHECKPOINT_SIGNATURE_INVALID,
    ),
    "signatures": (codes.BOUNDARY_SIGNER_UNTRUSTED, codes.BOUNDARY_SIGNATURE_INVALID),
    "unpinned": (codes.SIGNATURES_UNCHECKED,),
    "key_history": (
        codes.KEY_NOT_IN_AUDIT_LOG,
        codes.KEY_ROTATION_UNLOGGED,
        codes.KEY_DESTRUCTION_UNLOGGED,
    ),
    "key_history_absent": (codes.KEY_HISTORY_UNCHECKED,),
    "coverage": (codes.NOTHING_CHECKED,),
    "assurance": (codes.CHAIN_UNANCHORED, codes.ASSURANCE_NOT_MET),
    "commitment": (
        codes.COMMIT_MISMATCH,
        codes.COMMIT_ROLLBACK,
        codes.COMMIT_MISSING,
        codes.COMMIT_RECORD_MISSING,
    ),
    "erasure": (
        codes.ERASURE_UNSIGNED,
        codes.ERASURE_SIGNER_UNTRUSTED,
        codes.ERASURE_RECEIPT_INVALID,
        codes.ERASURE_RECEIPT_MISMATCH,
        codes.ERASURE_RECORD_AFTER,
    ),
    "duplicates": (codes.RECORD_KEY_DUPLICATE,),
    "manifest": (
        codes.MANIFEST_VERSION_UNSUPPORTED,
        codes.MANIFEST_SIGNATURE_INVALID,
        codes.MANIFEST_SIGNER_UNTRUSTED,
        codes.MANIFEST_LEAVES_INVALID,
        codes.MANIFEST_LEAVES_ABSENT,
        codes.MANIFEST_RECORD_MISSING,
        codes.MANIFEST_RECORD_EXTRA,
        codes.MANIFEST_RECORD_CHANGED,
        codes.MANIFEST_ROOT_MISMATCH,
        codes.MANIFEST_COUNT_MISMATCH,
        codes.MANIFEST_CHAIN_TIP_MISMATCH,
        codes.MANIFEST_CHAIN_UNBRIDGED,
        codes.MANIFEST_CHAIN_BRIDGED,
    ),
    "diff": (
        codes.DIFF_ONLY_IN_A,
        codes.DIFF_ONLY_IN_B,
        codes.DIFF_CHANGED,
        codes.DIFF_BOUNDARY_ONE_SIDE,
    ),
    "proof": (codes.PROOF_INVALID, codes.PROOF_MANIFEST_MISMATCH),
}

#: Families a full verification runs (``verify``, ``gate pre``, ``gate post``).
_AUDIT = (
    "record",
    "envelope",
    "keyed",
    "umk",
    "chain",
    "anchor",
    "signatures",
    "unpinned",
    "key_history",
    "key_history_absent",
    "coverage",
    "assurance",
    "commitment",
    "erasure",
)
#: command → the families it runs.
COMMANDS: dict[str, tuple[str, ...]] = {
    "verify": _AUDIT,
    "gate pre": (*_AUDIT, "duplicates"),
    "gate post": (*_AUDIT, "duplicates", "manifest"),
    "diff": ("diff", "duplicates", "coverage"),
    "verify-proof": ("proof", "manifest", "coverage"),
    "import": ("import", "record"),
}


def family_of(code: Code) -> str | None:
    """The family ``code`` belongs to, or None for a code not classified yet."""
    for name, members in FAMILIES.items():
        if code in members:
            return name
    return None


@dataclass(frozen=True, slots=True)
class RunFacts:
    """What a run had to work with, for deciding which families ran.

    ``source_kind`` is ``export`` (a chainaudit NDJSON export), ``ddb_export``
    (a DynamoDB Export to S3 directory), or anything else (live store, COPY
    file) where neither export family applies.
    """

    keyed: bool = False
    umk_given: bool = False
    checkpoints: bool = False
    pinned: bool = False
    audit_log: bool = True
    source_kind: str = ""
    #: Every kind, when the run read several sources as one dataset.
    source_kinds: frozenset[str] = frozenset()


def _skip_reason(family: str, facts: RunFacts, command: str) -> str | None:
    """Why ``family`` did not run in this run, or None when it ran."""
    if family == "keyed" and not facts.keyed:
        if facts.umk_given:
            return (
                "the UMK unwraps none of the keys (UMK_MISMATCH): envelopes were not authenticated"
            )
        return "no keys given (--umk or --kms-umk-blob): envelopes were not authenticated"
    if family == "anchor" and not facts.checkpoints and command != "gate post":
        return "no --checkpoint given: no chain was held to a signed checkpoint"
    if family == "signatures" and not facts.pinned:
        return "no --trusted-keys given: boundary signatures were not checked"
    if family == "key_history" and not facts.audit_log:
        return "the source holds no crypto audit log"
    return None


def _present(family: str, facts: RunFacts) -> bool:
    """Families that are statements about the run itself appear only when they
    apply: ``UMK_MISMATCH`` needs a UMK, ``SIGNATURES_UNCHECKED`` an absence of
    pinned keys, ``KEY_HISTORY_UNCHECKED`` an absent audit log."""
    if family == "umk":
        return facts.umk_given
    if family == "unpinned":
        return not facts.pinned
    if family == "key_history_absent":
        return not facts.audit_log
    return True


def plan(command: str, facts: RunFacts, result: Result | None = None) -> dict[str, str | None]:
    """JUnit plan for ``command``: code name → None (ran) or the reason it was skipped.

    Source-specific families (``export``, ``ddb_export``) are included only
    for that source kind. Codes with findings in ``result`` are always
    included as ran (a finding proves the check ran). Unknown commands get
    every registered code, as ran (REP-4's default).
    """
    families = COMMANDS.get(command)
    out: dict[str, str | None] = {}
    if families is None:
        out = {name: None for name in registry()}
    else:
        chosen = list(families)
        if command in ("verify", "gate pre", "gate post"):
            kinds = facts.source_kinds | {facts.source_kind}
            chosen += [k for k in ("export", "ddb_export") if k in kinds]
        for fam in chosen:
            if not _present(fam, facts):
                continue
            reason = _skip_reason(fam, facts, command)
            for code in FAMILIES[fam]:
                out[code.name] = reason
    if result is not None:
        for code in code_counts(result.findings):
            out[code.name] = None
    return out
