"""The one registry of finding codes.

Every code names the spec section it enforces (``docs/``), its severity and
what the user should do. Names are stable: reports, JUnit test cases and
vectors refer to them. Each section is owned by one spec document.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """How a finding affects the verdict.

    ``error``: integrity is broken (exit 1). ``unverified``: something could
    not be checked, e.g. a missing key (exit 3). ``notice``: recorded state
    that is not a fault, e.g. a crypto-shredded record; does not fail a run.
    """

    ERROR = "error"
    UNVERIFIED = "unverified"
    NOTICE = "notice"


@dataclass(frozen=True, slots=True)
class Code:
    """A registered finding code. ``name`` is stable across releases."""

    name: str
    severity: Severity
    spec: str
    summary: str
    advice: str = ""

    def __reduce__(self) -> tuple[Any, ...]:
        # A code is its registered instance, also when a finding comes back
        # pickled from another process (--workers, --dask): `f.code is codes.X`.
        return (lookup, (self.name,))


_REGISTRY: dict[str, Code] = {}


def register(name: str, severity: Severity, spec: str, summary: str, advice: str = "") -> Code:
    """Add a code to the registry; names are unique and upper snake case."""
    if name in _REGISTRY:
        raise ValueError(f"finding code {name} registered twice")
    if not name.replace("_", "").isalnum() or name.upper() != name:
        raise ValueError(f"finding code {name!r} must be UPPER_SNAKE_CASE")
    code = Code(name, severity, spec, summary, advice)
    _REGISTRY[name] = code
    return code


def registry() -> dict[str, Code]:
    """All registered codes by name."""
    return dict(_REGISTRY)


def lookup(name: str) -> Code:
    """The code registered under ``name``; KeyError when unknown."""
    return _REGISTRY[name]


E, U, N = Severity.ERROR, Severity.UNVERIFIED, Severity.NOTICE

# --- Addresses (docs/address.md) -------------------------------------------
ADDRESS_INVALID = register(
    "ADDRESS_INVALID",
    E,
    "ADDR-4",
    "the physical key does not map to a valid canonical address",
    "Fix the writer: the key breaks the address grammar, so the record cannot be bound.",
)

# --- Envelope, keyless checks (docs/envelope.md) ----------------------------
RECORD_MALFORMED = register(
    "RECORD_MALFORMED",
    E,
    "MODEL-8",
    "an item cannot be a record: an attribute missing or of the wrong type, a partial "
    "envelope, a value breaking MODEL-3..6",
    "The record is structurally broken; restore it from a trusted copy.",
)
ENVELOPE_MISSING = register(
    "ENVELOPE_MISSING",
    E,
    "ENV-2",
    "an entity type that must be encrypted has no envelope",
    "Cleartext content where ciphertext is required: treat as a leak or a substitution.",
)
ENVELOPE_UNEXPECTED = register(
    "ENVELOPE_UNEXPECTED",
    E,
    "ENV-2",
    "an entity type that carries no encrypted fields has an envelope",
    "Refs are cleartext by design; an envelope there was not written by the service.",
)
ENVELOPE_VERSION_UNSUPPORTED = register(
    "ENVELOPE_VERSION_UNSUPPORTED",
    U,
    "ENV-3",
    "the envelope version is not one this verifier implements",
    "Upgrade chainaudit or check the writer's envelope version.",
)
AAD_HASH_MISMATCH = register(
    "AAD_HASH_MISMATCH",
    E,
    "ENV-4",
    "aad_hash is not the SHA-256 of the record's own canonical address",
    "The record was moved or its aad_hash edited; with keys, chainaudit names which.",
)
LEGACY_AAD = register(
    "LEGACY_AAD",
    E,
    "ENV-9",
    "the record is sealed with the legacy pk||sk AAD, which is not portable",
    "Re-seal under the v1 address AAD before migrating; this ciphertext is bound to DynamoDB keys.",
)
NONCE_LENGTH = register(
    "NONCE_LENGTH",
    E,
    "ENV-5",
    "content_nonce is not 12 bytes",
    "v1 nonces are exactly 96 bits; the record was not written by a v1 sealer.",
)
NONCE_REUSE = register(
    "NONCE_REUSE",
    E,
    "ENV-5",
    "two records share a nonce under the same key",
    "Catastrophic for GCM (keystream and authentication key leak): rotate the key, re-seal both.",
)
CIPHERTEXT_TOO_SHORT = register(
    "CIPHERTEXT_TOO_SHORT",
    E,
    "ENV-6",
    "content_encrypted is shorter than the 16-byte tag",
    "The ciphertext was truncated; restore it from a trusted copy.",
)
KEY_ID_INVALID = register(
    "KEY_ID_INVALID",
    E,
    "KEY-2",
    "key_id does not follow the grammar dek#{dialogue_id}#{version}",
    "The record names no usable key.",
)
KEY_ID_WRONG_DIALOGUE = register(
    "KEY_ID_WRONG_DIALOGUE",
    E,
    "KEY-2",
    "key_id names a different dialogue than the record's address",
    "A record sealed under another dialogue's key: cut-and-paste across dialogues.",
)

# --- Envelope, checks with keys (docs/envelope.md) --------------------------
AUTHENTICATION_FAILED = register(
    "AUTHENTICATION_FAILED",
    E,
    "ENV-6",
    "the GCM tag does not verify: ciphertext, nonce or tag was changed",
    "The bytes were altered after sealing; restore the record from a trusted copy.",
)
ADDRESS_MOVED = register(
    "ADDRESS_MOVED",
    E,
    "ENV-4",
    "the ciphertext authenticates, but for a different address (cut-and-paste)",
    "Move the record back to the address it was sealed for, or find who moved it.",
)
WRONG_KEY_VERSION = register(
    "WRONG_KEY_VERSION",
    E,
    "ENV-7",
    "the ciphertext opens under another version of the dialogue's key than key_id names",
    "key_id was edited or written wrongly; correct key_id to the version that opens it.",
)
TAG_TRUNCATED = register(
    "TAG_TRUNCATED",
    E,
    "ENV-6",
    "the ciphertext verifies only with a tag shorter than 16 bytes",
    "Tag bytes were cut off; v1 requires the full 128-bit tag.",
)
PAYLOAD_NOT_JSON_OBJECT = register(
    "PAYLOAD_NOT_JSON_OBJECT",
    E,
    "ENV-8",
    "the decrypted payload is not a UTF-8 JSON object with unique member names",
    "The writer sealed something other than the entity's encrypted fields.",
)
PAYLOAD_NOT_CANONICAL = register(
    "PAYLOAD_NOT_CANONICAL",
    N,
    "ENV-8",
    "the payload is a JSON object but not in RFC 8785 canonical form",
    "Readers accept it; v1 writers must emit RFC 8785 so payloads are reproducible.",
)
KEY_SHREDDED = register(
    "KEY_SHREDDED",
    N,
    "KEY-6",
    "the record's key was destroyed (crypto-shredded); it cannot be decrypted by design",
    "Erasure by design when an erasure receipt signed by a pinned key proves the destruction "
    "(COMMIT-8); otherwise the run also reports ERASURE_UNSIGNED or a receipt finding. "
    "Keyless checks still cover this record.",
)
KEY_MISSING = register(
    "KEY_MISSING",
    U,
    "KEY-5",
    "no wrapped DEK for this key_id was found, so the record could not be decrypted",
    "Supply the wrapped-DEK records or the right UMK; the record is unverified, not bad.",
)
KEY_UNWRAP_FAILED = register(
    "KEY_UNWRAP_FAILED",
    E,
    "KEY-4",
    "the wrapped DEK does not unwrap under the owner's KEK",
    "Wrong UMK, wrong owner, or an altered wrapped-DEK record.",
)
DEK_RECORD_INVALID = register(
    "DEK_RECORD_INVALID",
    E,
    "KEY-7",
    "a wrapped-DEK record is malformed or inconsistent with its key_id",
    "Restore the wrapped-DEK record from a trusted copy.",
)

# --- Exports (docs/export.md) ---
EXPORT_TRUNCATED = register(
    "EXPORT_TRUNCATED",
    E,
    "EXP-6",
    "the export ends before its trailer line: the file was cut short",
    "Records after the cut are missing; obtain the complete export again.",
)
EXPORT_DIGEST_MISMATCH = register(
    "EXPORT_DIGEST_MISMATCH",
    E,
    "EXP-6",
    "the trailer's digest does not match the bytes of the preceding lines",
    "A line was edited, added or removed after the export was written; use a trusted copy.",
)
EXPORT_COUNT_MISMATCH = register(
    "EXPORT_COUNT_MISMATCH",
    E,
    "EXP-6",
    "the trailer's counts differ from the lines actually present",
    "Lines were added or removed after the export was written; use a trusted copy.",
)
EXPORT_TRAILING_DATA = register(
    "EXPORT_TRAILING_DATA",
    E,
    "EXP-6",
    "lines follow the trailer, so they are covered by no digest",
    "Something was appended to a complete export; those lines are not part of it.",
)
EXPORT_KIND_MISMATCH = register(
    "EXPORT_KIND_MISMATCH",
    E,
    "EXP-4",
    "a line's kind differs from the kind of record its item maps to",
    "The writer mislabelled the line or the item's keys were edited.",
)
EXPORT_OUT_OF_ORDER = register(
    "EXPORT_OUT_OF_ORDER",
    E,
    "EXP-5",
    "record lines are not in ascending (pk, sk) order",
    "Lines were reordered after the export was written (a v1 writer sorts by key): find who edited the file; the trailer digest no longer matches either unless it was recomputed.",
)
EXPORT_DUPLICATE_KEY = register(
    "EXPORT_DUPLICATE_KEY",
    E,
    "EXP-5",
    "two record lines carry the same (pk, sk)",
    "A store holds one item per key: one of the two lines is a substitution or a replay.",
)
EXPORT_NOT_CANONICAL = register(
    "EXPORT_NOT_CANONICAL",
    N,
    "EXP-3",
    "a line is valid JSON but not in RFC 8785 canonical form",
    "Readers accept it; v1 writers must emit canonical lines so exports are reproducible.",
)
DDB_EXPORT_CHECKSUM_MISMATCH = register(
    "DDB_EXPORT_CHECKSUM_MISMATCH",
    E,
    "EXP-9",
    "a DynamoDB export data file's MD5 differs from manifest-files.json",
    "The data file was altered or damaged after the export; download it again.",
)
DDB_EXPORT_COUNT_MISMATCH = register(
    "DDB_EXPORT_COUNT_MISMATCH",
    E,
    "EXP-9",
    "a DynamoDB export's item count differs from what its manifest states",
    "Items were added to or lost from the export; download it again.",
)
DDB_EXPORT_FILE_MISSING = register(
    "DDB_EXPORT_FILE_MISSING",
    E,
    "EXP-9",
    "a data file listed in manifest-files.json is not in the export directory",
    "The export copy is incomplete; download the missing file.",
)

# --- Stores and imports (docs/stores.md) ------------------------------------
IMPORT_CONFLICT = register(
    "IMPORT_CONFLICT",
    E,
    "STORE-7",
    "an import met a stored item that differs from the incoming one at the same key",
    "Not overwritten: find out which copy is the truth (a dual write, a replay, an edit) "
    "before resolving it by hand.",
)
IMPORT_NOT_REPRESENTABLE = register(
    "IMPORT_NOT_REPRESENTABLE",
    E,
    "STORE-7",
    "the target store cannot hold this item byte for byte, so it was not written",
    "DynamoDB normalises numbers (3.50 becomes 3.5) and PostgreSQL text cannot hold U+0000: "
    "a verbatim copy is impossible; keep the record in a store that can hold it.",
)

# --- Chains (docs/chain.md) ---
CHAIN_EVENT_MALFORMED = register(
    "CHAIN_EVENT_MALFORMED",
    E,
    "CHAIN-2",
    "a chain event has a missing, mistyped or out-of-domain field",
    "The event cannot be linked; restore it from a trusted copy or fix the writer.",
)
CHAIN_HASH_ALG_UNKNOWN = register(
    "CHAIN_HASH_ALG_UNKNOWN",
    E,
    "CHAIN-3",
    "the event names a hash algorithm other than sha256 or blake3",
    "Version 1 allows only sha256 and blake3; the event was not written by a v1 writer.",
)
EVENT_HASH_MISMATCH = register(
    "EVENT_HASH_MISMATCH",
    E,
    "CHAIN-3",
    "the event's fields do not hash to its event_hash: the event was edited",
    "Compare the event with a trusted copy; the recomputed hash is in 'expected'.",
)
CHAIN_UUID_INVALID = register(
    "CHAIN_UUID_INVALID",
    E,
    "CHAIN-6",
    "event_id is not a canonical lowercase UUIDv7",
    "Ids must be RFC 9562 version 7 in lowercase 8-4-4-4-12 form; the id was forged or rewritten.",
)
CHAIN_TIMESTAMP_SKEW = register(
    "CHAIN_TIMESTAMP_SKEW",
    E,
    "CHAIN-6",
    "the timestamp and the UUIDv7 time differ by more than the clock-skew tolerance",
    "Either was rewritten (back-dating), or a writer's clock is badly off.",
)
CHAIN_GENESIS_MISMATCH = register(
    "CHAIN_GENESIS_MISMATCH",
    E,
    "CHAIN-4",
    "the first event does not start from this chain's genesis value",
    "The chain's head belongs to another chain (replay or splice), or was rewritten.",
)
CHAIN_LINK_BROKEN = register(
    "CHAIN_LINK_BROKEN",
    E,
    "CHAIN-7",
    "previous_hash is not the hash of the previous event",
    "Events of another chain were spliced in, or an event was replaced.",
)
CHAIN_GAP = register(
    "CHAIN_GAP",
    E,
    "CHAIN-7",
    "one or more events are missing before this position",
    "Events were deleted; restore them from a backup or an earlier export.",
)
CHAIN_OUT_OF_ORDER = register(
    "CHAIN_OUT_OF_ORDER",
    E,
    "CHAIN-7",
    "events of the chain are stored in the wrong order",
    "Stored order was changed, or an old event was replayed later in the chain.",
)
CHAIN_DUPLICATE = register(
    "CHAIN_DUPLICATE",
    E,
    "CHAIN-7",
    "the same event is stored twice",
    "A replayed or double-imported event; remove the copy.",
)
CHAIN_FORK = register(
    "CHAIN_FORK",
    E,
    "CHAIN-7",
    "two events claim the same predecessor",
    "An event was inserted, or two writers appended concurrently; find which branch is genuine.",
)
CHAIN_UUID_BACKWARDS = register(
    "CHAIN_UUID_BACKWARDS",
    E,
    "CHAIN-6",
    "event_id does not increase along the chain",
    "Ids were rewritten or events reordered; stored order must be event_id order.",
)
CHAIN_HASH_ALG_CHANGED = register(
    "CHAIN_HASH_ALG_CHANGED",
    E,
    "CHAIN-7",
    "the hash algorithm changes without a migration-boundary event",
    "Only a signed boundary may switch algorithms; treat as a downgrade attempt.",
)
CHAIN_BOUNDARY_MISSING = register(
    "CHAIN_BOUNDARY_MISSING",
    E,
    "CHAIN-12",
    "a chain segment starts mid-chain or in a new store without a boundary event",
    "Its head was deleted, or it was migrated without a signed boundary; re-run the migration's bridge step.",
)
CHAIN_TRUNCATED = register(
    "CHAIN_TRUNCATED",
    E,
    "CHAIN-11",
    "the chain has fewer events than a checkpoint or manifest recorded",
    "Events at the end were deleted; restore them from the source or a backup.",
)
CHAIN_TIP_MISMATCH = register(
    "CHAIN_TIP_MISMATCH",
    E,
    "CHAIN-11",
    "the event at a checkpoint's or manifest's count differs from the recorded tip",
    "The chain was rewritten since the checkpoint: history is not append-only.",
)
CHECKPOINT_MALFORMED = register(
    "CHECKPOINT_MALFORMED",
    E,
    "CHAIN-11",
    "a checkpoint is not a well-formed version 1 checkpoint",
    "Regenerate the checkpoint with a v1 writer.",
)
CHECKPOINT_SIGNER_UNTRUSTED = register(
    "CHECKPOINT_SIGNER_UNTRUSTED",
    E,
    "CHAIN-11",
    "a checkpoint is signed by a key that is not pinned",
    "Pin the checkpoint signer's public key if it is genuinely yours; otherwise it is forged.",
)
CHECKPOINT_SIGNATURE_INVALID = register(
    "CHECKPOINT_SIGNATURE_INVALID",
    E,
    "CHAIN-11",
    "a checkpoint signature does not verify under the pinned key",
    "The checkpoint was altered after signing; it cannot be relied on.",
)
BOUNDARY_REPLAYED = register(
    "BOUNDARY_REPLAYED",
    E,
    "CHAIN-12",
    "a migration-boundary event names another target chain: it was replayed",
    "Boundaries bind to one chain; this one was copied from elsewhere.",
)
BOUNDARY_SIGNER_UNTRUSTED = register(
    "BOUNDARY_SIGNER_UNTRUSTED",
    E,
    "CHAIN-12",
    "a boundary event is signed by a key that is not pinned",
    "Pin the migration signer's public key if it is genuinely yours; otherwise it is forged.",
)
BOUNDARY_SIGNATURE_INVALID = register(
    "BOUNDARY_SIGNATURE_INVALID",
    E,
    "CHAIN-12",
    "a boundary event's signature does not verify",
    "A boundary field was changed after signing; the bridge cannot be relied on.",
)
BOUNDARY_SOURCE_MISMATCH = register(
    "BOUNDARY_SOURCE_MISMATCH",
    E,
    "CHAIN-12",
    "the boundary's source count or terminal hash is not what the source chain holds",
    "Events were lost or added at the cut; compare source and target around it.",
)
KEY_NOT_IN_AUDIT_LOG = register(
    "KEY_NOT_IN_AUDIT_LOG",
    E,
    "CHAIN-9",
    "a key in use was never created through the audit log (no wrap_dek/rotate_dek event)",
    "The key was created outside the audited path, or its log events were deleted.",
)
KEY_ROTATION_UNLOGGED = register(
    "KEY_ROTATION_UNLOGGED",
    E,
    "CHAIN-9",
    "a retired key's rotation is not recorded in the audit log",
    "Rotations must be logged as rotate_dek; find who retired the key.",
)
KEY_DESTRUCTION_UNLOGGED = register(
    "KEY_DESTRUCTION_UNLOGGED",
    E,
    "CHAIN-9",
    "a destroyed key's destruction is not recorded in the audit log",
    "An unlogged erasure cannot be told from sabotage; investigate.",
)

# --- Manifests, gates and diffs (docs/manifest.md) ---------------------------
RECORD_KEY_DUPLICATE = register(
    "RECORD_KEY_DUPLICATE",
    E,
    "MAN-1.1",
    "two records in one dataset have the same record key",
    "One identity, two rows: an import ran twice with different data or a row was copied; keep one.",
)
MANIFEST_VERSION_UNSUPPORTED = register(
    "MANIFEST_VERSION_UNSUPPORTED",
    U,
    "MAN-3",
    "the manifest's type, version or algorithm is not one this verifier implements",
    "Upgrade chainaudit, or regenerate the manifest with `gate pre` of this version.",
)
MANIFEST_SIGNATURE_INVALID = register(
    "MANIFEST_SIGNATURE_INVALID",
    E,
    "MAN-3.3",
    "the manifest's Ed25519 signature does not verify under the pinned key",
    "The manifest was altered after signing (or signed by another key with the same id); do not trust it.",
)
MANIFEST_SIGNER_UNTRUSTED = register(
    "MANIFEST_SIGNER_UNTRUSTED",
    U,
    "MAN-3.3",
    "the manifest is signed by a key that is not among the pinned public keys",
    "Pin the signer's public key if you trust it (compare its fingerprint out of band), then rerun.",
)
MANIFEST_LEAVES_INVALID = register(
    "MANIFEST_LEAVES_INVALID",
    E,
    "MAN-3.4",
    "the leaves file is unsorted, malformed, or does not hash to the signed Merkle root",
    "Use the leaves file written with this manifest; per-record findings from this file are not trustworthy.",
)
MANIFEST_LEAVES_ABSENT = register(
    "MANIFEST_LEAVES_ABSENT",
    N,
    "MAN-3.4",
    "no leaves file was given, so differences can be detected but not named by address",
    "Pass the manifest's leaves file to name each missing, extra or changed record.",
)
MANIFEST_RECORD_MISSING = register(
    "MANIFEST_RECORD_MISSING",
    E,
    "MAN-4",
    "a record in the manifest is absent from the target",
    "The migration lost this record: re-import it from the source export.",
)
MANIFEST_RECORD_EXTRA = register(
    "MANIFEST_RECORD_EXTRA",
    E,
    "MAN-4",
    "the target holds a record the manifest does not list",
    "Find who wrote it: a record added during or after the migration, outside the manifest.",
)
MANIFEST_RECORD_CHANGED = register(
    "MANIFEST_RECORD_CHANGED",
    E,
    "MAN-4",
    "a record exists in both, but its digest differs from the manifest's",
    "The record was altered in transit or after import; restore it from the source export.",
)
MANIFEST_ROOT_MISMATCH = register(
    "MANIFEST_ROOT_MISMATCH",
    E,
    "MAN-4",
    "the Merkle root over the target's records differs from the manifest's",
    "The target does not hold exactly the manifest's records; the other findings say where.",
)
MANIFEST_COUNT_MISMATCH = register(
    "MANIFEST_COUNT_MISMATCH",
    E,
    "MAN-4",
    "a record count (total, per kind, per dialogue or per chain) differs from the manifest's",
    "Records were lost or added; compare the named dialogue or chain with the source.",
)
MANIFEST_CHAIN_TIP_MISMATCH = register(
    "MANIFEST_CHAIN_TIP_MISMATCH",
    E,
    "MAN-4.2",
    "a chain's tip (or the tip a boundary event claims) differs from the manifest's",
    "The chain was altered or bridged from a different source state; do not accept the migration.",
)
MANIFEST_CHAIN_UNBRIDGED = register(
    "MANIFEST_CHAIN_UNBRIDGED",
    E,
    "MAN-4.2",
    "a chain the manifest lists is not bridged by a migration-boundary event at its tip",
    "A migration must bridge each chain: import with --boundary-key and --manifest. For a plain copy that is not a migration, run gate post with --allow-unbridged.",
)
MANIFEST_CHAIN_BRIDGED = register(
    "MANIFEST_CHAIN_BRIDGED",
    N,
    "MAN-4.2",
    "a chain continues past the manifest's tip through a boundary event naming that tip",
    "Expected after a migration; the chain verifier checks the boundary's signature.",
)
DIFF_ONLY_IN_A = register(
    "DIFF_ONLY_IN_A",
    E,
    "MAN-5",
    "the record exists only in the first store (A)",
    "During dual writes: the write to B was lost or is pending; copy it or find the failed write.",
)
DIFF_ONLY_IN_B = register(
    "DIFF_ONLY_IN_B",
    E,
    "MAN-5",
    "the record exists only in the second store (B)",
    "During dual writes: the write to A was lost or is pending; copy it or find the failed write.",
)
DIFF_CHANGED = register(
    "DIFF_CHANGED",
    E,
    "MAN-5",
    "the record exists in both stores with different digests",
    "The two stores disagree on this record; decide which copy is authoritative.",
)
DIFF_BOUNDARY_ONE_SIDE = register(
    "DIFF_BOUNDARY_ONE_SIDE",
    N,
    "MAN-5",
    "a migration-boundary event exists in one store only: the chain was bridged there",
    "Expected after `import --boundary-key`; `gate post` checks that the boundary is the right one.",
)
PROOF_INVALID = register(
    "PROOF_INVALID",
    E,
    "MAN-6",
    "the inclusion proof does not lead to the manifest's Merkle root",
    "The record (or the proof) is not what the manifest committed to.",
)
PROOF_MANIFEST_MISMATCH = register(
    "PROOF_MANIFEST_MISMATCH",
    E,
    "MAN-6",
    "the proof names another manifest (digest, root or tree size differ)",
    "Verify the proof against the manifest it was made from.",
)

# --- Record commitments and erasure receipts (docs/commitments.md) -----------
COMMIT_MISMATCH = register(
    "COMMIT_MISMATCH",
    E,
    "COMMIT-6",
    "the record differs from its latest commitment and from every earlier committed version",
    "The record (envelope or a cleartext attribute) was edited after it was committed, or "
    "its commitment was forged: restore it from a trusted copy, find who wrote it.",
)
COMMIT_ROLLBACK = register(
    "COMMIT_ROLLBACK",
    E,
    "COMMIT-6",
    "the record is an older committed version of itself, not the latest one",
    "A validly sealed older version was put back (rollback, or a delete undone): restore "
    "the latest version; the finding names the position of both commitments.",
)
COMMIT_MISSING = register(
    "COMMIT_MISSING",
    E,
    "COMMIT-6",
    "a record no commitment names, in a dialogue whose records are committed",
    "The record was planted, or written around the committing writer: find who wrote it.",
)
COMMIT_RECORD_MISSING = register(
    "COMMIT_RECORD_MISSING",
    E,
    "COMMIT-6",
    "a record whose latest commitment puts it is absent from the source",
    "The record was deleted without a delete commitment: restore it from a trusted copy.",
)
ERASURE_UNSIGNED = register(
    "ERASURE_UNSIGNED",
    U,
    "COMMIT-8",
    "a key was destroyed, but no erasure receipt in its dialogue's lifecycle chain proves it",
    "Anyone who can write the store can mark a key destroyed: treat the data as possibly "
    "destroyed by sabotage until the erasure authority confirms it (chainaudit keys destroy "
    "--erasure-key writes the receipt).",
)
ERASURE_SIGNER_UNTRUSTED = register(
    "ERASURE_SIGNER_UNTRUSTED",
    U,
    "COMMIT-8",
    "an erasure receipt is signed by a key that is not pinned",
    "Pin the erasure authority's public key with --trusted-keys if you trust it; until then "
    "the destruction is not proven lawful.",
)
ERASURE_RECEIPT_INVALID = register(
    "ERASURE_RECEIPT_INVALID",
    E,
    "COMMIT-8",
    "an erasure receipt's signature does not verify under the pinned key",
    "The receipt was altered or forged: the destruction it claims is not evidence of a "
    "lawful erasure.",
)
ERASURE_RECEIPT_MISMATCH = register(
    "ERASURE_RECEIPT_MISMATCH",
    E,
    "COMMIT-8",
    "an erasure receipt names another dialogue's key, a key that is not destroyed, another "
    "destruction time, or a chain tip other than where it is stored",
    "A valid receipt copied or moved, or an erasure that did not take effect: check the key "
    "record and the chain at the named position.",
)
ERASURE_RECORD_AFTER = register(
    "ERASURE_RECORD_AFTER",
    E,
    "COMMIT-8",
    "a record sealed under a destroyed key is not committed before the key's erasure receipt",
    "The record appeared after the erasure (planted, or restored from a copy): remove it, "
    "find who wrote it.",
)

# --- Runs (docs/cli.md) ------------------------------------------------------
NOTHING_CHECKED = register(
    "NOTHING_CHECKED",
    U,
    "CLI-3",
    "the source held no records, so nothing was verified",
    "Check the path, table or DSN: an empty source is never a pass.",
)
KEY_HISTORY_UNCHECKED = register(
    "KEY_HISTORY_UNCHECKED",
    N,
    "CLI-5",
    "the source holds no crypto audit log, so key history (CHAIN-9) was not checked",
    "Verify the full export or the store that holds the audit log to check key history.",
)
UMK_MISMATCH = register(
    "UMK_MISMATCH",
    U,
    "CLI-2",
    "the UMK given unwraps none of the dataset's wrapped keys: probably the wrong UMK",
    "Check that --umk (or the KMS blob) is the UMK these keys were wrapped under; compare fingerprints with `chainaudit keys init` output.",
)
SIGNATURES_UNCHECKED = register(
    "SIGNATURES_UNCHECKED",
    U,
    "CLI-2",
    "no public key was pinned, so signatures on boundaries and checkpoints were not checked",
    "Pass --trusted-keys FILE (a trusted-keys file, e.g. the one `chainaudit keys signer` wrote) to check them.",
)

# --- Assurance (docs/report.md REP-7, docs/threat-model.md) --------------------
CHAIN_UNANCHORED = register(
    "CHAIN_UNANCHORED",
    N,
    "REP-7",
    "no signed checkpoint or manifest anchors this chain (or its newest events): a chain "
    "rewritten from genesis, or cut at its tail, would verify the same",
    "Pass a checkpoint of the chain (--checkpoint) signed by a pinned key; writers should "
    "checkpoint every chain periodically (docs/threat-model.md#anchoring).",
)
ASSURANCE_NOT_MET = register(
    "ASSURANCE_NOT_MET",
    U,
    "REP-7",
    "an assurance the run was required to prove (--require) was not proven",
    "Supply the evidence the assurance rests on (keys, checkpoints, a manifest, commitments, "
    "erasure receipts; docs/threat-model.md), or do not require it.",
)
