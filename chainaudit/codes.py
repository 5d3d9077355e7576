"""The one registry of finding codes.

Every code names the spec section it enforces (``docs/``), its severity and
what the user should do. Names are stable: reports, JUnit test cases and
vectors refer to them. Each section is owned by one spec document.
"""

from __future__ import annotations

from chainaudit.findings import Severity, register

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
    "ENV-2",
    "an envelope attribute is missing or has the wrong type",
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
    "Not tampering: the erasure is recorded. Keyless checks still cover this record.",
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
    "KEY-4",
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
    "The file was not written by a conforming v1 writer; its bytes are not reproducible.",
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
    "EXP-8",
    "a DynamoDB export data file's MD5 differs from manifest-files.json",
    "The data file was altered or damaged after the export; download it again.",
)
DDB_EXPORT_COUNT_MISMATCH = register(
    "DDB_EXPORT_COUNT_MISMATCH",
    E,
    "EXP-8",
    "a DynamoDB export's item count differs from what its manifest states",
    "Items were added to or lost from the export; download it again.",
)
DDB_EXPORT_FILE_MISSING = register(
    "DDB_EXPORT_FILE_MISSING",
    E,
    "EXP-8",
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
