"""chainaudit's testing kit: test a writer against the verifier (docs/api.md API-11).

* **Mutators** (:mod:`chainaudit.testing.mutators`): one function per attack
  class of docs/threat-model.md (flip a ciphertext byte, move a record,
  roll one back, edit a cleartext attribute, plant, delete, forge an
  erasure, drop, duplicate or reorder chain events, rewrite a chain from
  genesis, ...), each returning the tampered records and the finding the
  verifier must report, and where; :data:`MUTATORS` lists them all.
* **Assertions**: :func:`assert_verifies_clean` (the records verify, exit 0)
  and :func:`assert_detects` (a finding at an address), whose failures
  name the findings.
* **Datasets and keys**: :class:`Dataset` (records with the evidence to
  verify them), :func:`sample_dataset` (the demo's), :class:`AuditKeys`
  (a UMK and signing keys from a label), and deterministic builders
  (:func:`sealed_record`, :func:`dek`, :func:`nonce`, ...).
* **Strategies** (:mod:`chainaudit.testing.strategies`, needs hypothesis:
  ``pip install 'chainaudit[testing]'``): hostile ids and addresses,
  payloads, sealed records, chains, whole dialogues with rotations,
  shredding, receipts and boundaries, and mutations of them.
* **A pytest plugin** (:mod:`chainaudit.testing.plugin`, registered as
  ``chainaudit`` through the ``pytest11`` entry point): fixtures
  ``chainaudit_keys``, ``chainaudit_sample`` and ``chainaudit_verify``.

Importing this package does not import hypothesis; only
:mod:`chainaudit.testing.strategies` does.
"""

from __future__ import annotations

from chainaudit.testing.assertions import (
    STATE_NOTICES,
    assert_detects,
    assert_mutation_detected,
    assert_verifies_clean,
    describe,
)
from chainaudit.testing.builders import (
    canonical_attrs,
    dek,
    key_id_for,
    nonce,
    resolver_for,
    sample_records,
    sealed_record,
    without_origin,
)
from chainaudit.testing.dataset import CHECKPOINT_TIME, AuditKeys, Dataset, sample_dataset
from chainaudit.testing.mutators import (
    MUTATORS,
    Mutation,
    Mutator,
    NoTarget,
    copy_record,
    delete_record,
    drop_chain_event,
    duplicate_chain_event,
    edit_chain_event,
    edit_cleartext_attribute,
    flip_ciphertext_byte,
    flip_nonce_byte,
    forge_boundary,
    forge_erasure,
    forge_erasure_receipt,
    move_record,
    plant_after_erasure,
    plant_record,
    reorder_chain_events,
    reuse_nonce,
    rewrite_chain_from_genesis,
    roll_back_record,
    strip_envelope,
    tamper_wrapped_key,
    truncate_chain,
)

__all__ = [
    "CHECKPOINT_TIME",
    "MUTATORS",
    "STATE_NOTICES",
    "AuditKeys",
    "Dataset",
    "Mutation",
    "Mutator",
    "NoTarget",
    "assert_detects",
    "assert_mutation_detected",
    "assert_verifies_clean",
    "canonical_attrs",
    "copy_record",
    "dek",
    "delete_record",
    "describe",
    "drop_chain_event",
    "duplicate_chain_event",
    "edit_chain_event",
    "edit_cleartext_attribute",
    "flip_ciphertext_byte",
    "flip_nonce_byte",
    "forge_boundary",
    "forge_erasure",
    "forge_erasure_receipt",
    "key_id_for",
    "move_record",
    "nonce",
    "plant_after_erasure",
    "plant_record",
    "reorder_chain_events",
    "resolver_for",
    "reuse_nonce",
    "rewrite_chain_from_genesis",
    "roll_back_record",
    "sample_dataset",
    "sample_records",
    "sealed_record",
    "strip_envelope",
    "tamper_wrapped_key",
    "truncate_chain",
    "without_origin",
]
