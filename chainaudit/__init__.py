"""chainaudit: prove that encrypted, hash-chained records are complete,
untampered, bound to their address and decryptable, in any store, and that a
migration between stores lost nothing and broke no chain.

The names below are the public API (docs/api.md), stable under semantic
versioning: within a major version none is removed or changes meaning. Each
is the very object its module defines (``chainaudit.seal_event`` *is*
``chainaudit.chain.events.seal``), loaded on first use, so ``import chainaudit``
imports nothing else and never a store client (boto3, psycopg) or hypothesis.

>>> import chainaudit
>>> a = chainaudit.Address.of("d-1", "claim", "01", "02")
>>> str(a)
'dialogue:d-1/entity:claim/01#02'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from chainaudit.api import SourceLike as SourceLike
    from chainaudit.api import load_trusted_keys as load_trusted_keys
    from chainaudit.api import open_source as open_source
    from chainaudit.api import seal_envelope as seal_envelope
    from chainaudit.api import verify as verify
    from chainaudit.chain.boundary import make_boundary as make_boundary
    from chainaudit.chain.checkpoint import ChainExpectation as ChainExpectation
    from chainaudit.chain.checkpoint import make_checkpoint as make_checkpoint
    from chainaudit.chain.checkpoint import verify_checkpoint as verify_checkpoint
    from chainaudit.chain.events import chain_event_from_entity as chain_event_from_entity
    from chainaudit.chain.events import event_hash as event_hash
    from chainaudit.chain.events import genesis_hash as genesis_hash
    from chainaudit.chain.events import lifecycle_chain_id as lifecycle_chain_id
    from chainaudit.chain.events import lifecycle_record as lifecycle_record
    from chainaudit.chain.events import seal as seal_event
    from chainaudit.chain.verify import ChainPolicy as ChainPolicy
    from chainaudit.chain.verify import verify_events as verify_events
    from chainaudit.chain.writer import ChainWriter as ChainWriter
    from chainaudit.chain.writer import checkpoint_all as checkpoint_all
    from chainaudit.chain.writer import new_event_id as new_event_id
    from chainaudit.commitments.erasure import ErasurePlan as ErasurePlan
    from chainaudit.commitments.erasure import ErasureRefused as ErasureRefused
    from chainaudit.commitments.erasure import plan_erasure as plan_erasure
    from chainaudit.commitments.events import commit_fields as commit_fields
    from chainaudit.commitments.events import item_digest as item_digest
    from chainaudit.commitments.events import receipt_fields as receipt_fields
    from chainaudit.envelope.seal import PayloadError as PayloadError
    from chainaudit.envelope.seal import aad_hash as aad_hash
    from chainaudit.envelope.seal import decode_payload as decode_payload
    from chainaudit.envelope.seal import encode_payload as encode_payload
    from chainaudit.envelope.seal import open_envelope as open_envelope
    from chainaudit.envelope.verify import check_record as check_record
    from chainaudit.envelope.verify import verify_envelopes as verify_envelopes
    from chainaudit.errors import ChainauditError as ChainauditError
    from chainaudit.errors import InputError as InputError
    from chainaudit.errors import KeySourceError as KeySourceError
    from chainaudit.errors import StoreError as StoreError
    from chainaudit.findings import Code as Code
    from chainaudit.findings import Finding as Finding
    from chainaudit.findings import Result as Result
    from chainaudit.findings import Severity as Severity
    from chainaudit.keys.dekmap import DekMap as DekMap
    from chainaudit.keys.hierarchy import check_dek_record as check_dek_record
    from chainaudit.keys.hierarchy import derive_kek as derive_kek
    from chainaudit.keys.hierarchy import destroy as destroy_dek
    from chainaudit.keys.hierarchy import format_key_id as format_key_id
    from chainaudit.keys.hierarchy import new_dek as new_dek
    from chainaudit.keys.hierarchy import parse_key_id as parse_key_id
    from chainaudit.keys.hierarchy import retire as retire_dek
    from chainaudit.keys.hierarchy import unwrap_dek as unwrap_dek
    from chainaudit.keys.hierarchy import wrap_dek as wrap_dek
    from chainaudit.keys.keyring import KeyRing as KeyRing
    from chainaudit.keys.kms import KmsUmkSource as KmsUmkSource
    from chainaudit.keys.resolver import DekLookup as DekLookup
    from chainaudit.keys.resolver import DekResolver as DekResolver
    from chainaudit.keys.resolver import DekStatus as DekStatus
    from chainaudit.keys.signing import TrustStore as TrustStore
    from chainaudit.keys.signing import key_id as signer_key_id
    from chainaudit.keys.signing import public_bytes as public_bytes
    from chainaudit.keys.umk import Umk as Umk
    from chainaudit.migration.gate import gate_post as gate_post
    from chainaudit.migration.manifest import build_manifest as build_manifest
    from chainaudit.migration.manifest import dump_manifest as dump_manifest
    from chainaudit.migration.manifest import load_manifest as load_manifest
    from chainaudit.migration.manifest import manifest_digest as manifest_digest
    from chainaudit.migration.manifest import verify_manifest as verify_manifest
    from chainaudit.migration.proof import make_proof as make_proof
    from chainaudit.migration.proof import verify_proof as verify_proof
    from chainaudit.primitives.crypto import AuthenticationError as AuthenticationError
    from chainaudit.records.address import Address as Address
    from chainaudit.records.address import AddressError as AddressError
    from chainaudit.records.address import EntityType as EntityType
    from chainaudit.records.address import escape_component as escape_component
    from chainaudit.records.address import unescape_component as unescape_component
    from chainaudit.records.digest import record_digest as record_digest
    from chainaudit.records.digest import record_key as record_key
    from chainaudit.records.item import item_from_record as item_from_record
    from chainaudit.records.item import record_from_item as record_from_item
    from chainaudit.records.model import AttrValue as AttrValue
    from chainaudit.records.model import AuditEvent as AuditEvent
    from chainaudit.records.model import EntityRecord as EntityRecord
    from chainaudit.records.model import Envelope as Envelope
    from chainaudit.records.model import KeyState as KeyState
    from chainaudit.records.model import Record as Record
    from chainaudit.records.model import WrappedDek as WrappedDek
    from chainaudit.report.assurance import Assurance as Assurance
    from chainaudit.report.assurance import Evidence as Evidence
    from chainaudit.report.assurance import Level as Level
    from chainaudit.report.assurance import assess as assess
    from chainaudit.report.render import exit_code_for as exit_code_for
    from chainaudit.report.render import verdict_for as verdict_for
    from chainaudit.sources import Source as Source
    from chainaudit.sources import SourceItem as SourceItem
    from chainaudit.sources.memory import RecordsSource as RecordsSource

#: public name -> (module, attribute): what :func:`__getattr__` loads.
_EXPORTS: dict[str, tuple[str, str]] = {
    "verify": ("chainaudit.api", "verify"),
    "open_source": ("chainaudit.api", "open_source"),
    "load_trusted_keys": ("chainaudit.api", "load_trusted_keys"),
    "SourceLike": ("chainaudit.api", "SourceLike"),
    "RecordsSource": ("chainaudit.sources.memory", "RecordsSource"),
    "Source": ("chainaudit.sources", "Source"),
    "SourceItem": ("chainaudit.sources", "SourceItem"),
    "Result": ("chainaudit.findings", "Result"),
    "Finding": ("chainaudit.findings", "Finding"),
    "Severity": ("chainaudit.findings", "Severity"),
    "Code": ("chainaudit.findings", "Code"),
    "exit_code_for": ("chainaudit.report.render", "exit_code_for"),
    "verdict_for": ("chainaudit.report.render", "verdict_for"),
    "Evidence": ("chainaudit.report.assurance", "Evidence"),
    "Assurance": ("chainaudit.report.assurance", "Assurance"),
    "Level": ("chainaudit.report.assurance", "Level"),
    "assess": ("chainaudit.report.assurance", "assess"),
    "ChainauditError": ("chainaudit.errors", "ChainauditError"),
    "InputError": ("chainaudit.errors", "InputError"),
    "StoreError": ("chainaudit.errors", "StoreError"),
    "KeySourceError": ("chainaudit.errors", "KeySourceError"),
    "Address": ("chainaudit.records.address", "Address"),
    "AddressError": ("chainaudit.records.address", "AddressError"),
    "EntityType": ("chainaudit.records.address", "EntityType"),
    "escape_component": ("chainaudit.records.address", "escape_component"),
    "unescape_component": ("chainaudit.records.address", "unescape_component"),
    "EntityRecord": ("chainaudit.records.model", "EntityRecord"),
    "Envelope": ("chainaudit.records.model", "Envelope"),
    "WrappedDek": ("chainaudit.records.model", "WrappedDek"),
    "KeyState": ("chainaudit.records.model", "KeyState"),
    "AuditEvent": ("chainaudit.records.model", "AuditEvent"),
    "Record": ("chainaudit.records.model", "Record"),
    "AttrValue": ("chainaudit.records.model", "AttrValue"),
    "item_from_record": ("chainaudit.records.item", "item_from_record"),
    "record_from_item": ("chainaudit.records.item", "record_from_item"),
    "record_key": ("chainaudit.records.digest", "record_key"),
    "record_digest": ("chainaudit.records.digest", "record_digest"),
    "seal_envelope": ("chainaudit.api", "seal_envelope"),
    "open_envelope": ("chainaudit.envelope.seal", "open_envelope"),
    "encode_payload": ("chainaudit.envelope.seal", "encode_payload"),
    "decode_payload": ("chainaudit.envelope.seal", "decode_payload"),
    "aad_hash": ("chainaudit.envelope.seal", "aad_hash"),
    "PayloadError": ("chainaudit.envelope.seal", "PayloadError"),
    "AuthenticationError": ("chainaudit.primitives.crypto", "AuthenticationError"),
    "check_record": ("chainaudit.envelope.verify", "check_record"),
    "verify_envelopes": ("chainaudit.envelope.verify", "verify_envelopes"),
    "Umk": ("chainaudit.keys.umk", "Umk"),
    "KeyRing": ("chainaudit.keys.keyring", "KeyRing"),
    "DekMap": ("chainaudit.keys.dekmap", "DekMap"),
    "KmsUmkSource": ("chainaudit.keys.kms", "KmsUmkSource"),
    "DekResolver": ("chainaudit.keys.resolver", "DekResolver"),
    "DekLookup": ("chainaudit.keys.resolver", "DekLookup"),
    "DekStatus": ("chainaudit.keys.resolver", "DekStatus"),
    "derive_kek": ("chainaudit.keys.hierarchy", "derive_kek"),
    "new_dek": ("chainaudit.keys.hierarchy", "new_dek"),
    "wrap_dek": ("chainaudit.keys.hierarchy", "wrap_dek"),
    "unwrap_dek": ("chainaudit.keys.hierarchy", "unwrap_dek"),
    "format_key_id": ("chainaudit.keys.hierarchy", "format_key_id"),
    "parse_key_id": ("chainaudit.keys.hierarchy", "parse_key_id"),
    "retire_dek": ("chainaudit.keys.hierarchy", "retire"),
    "destroy_dek": ("chainaudit.keys.hierarchy", "destroy"),
    "check_dek_record": ("chainaudit.keys.hierarchy", "check_dek_record"),
    "ChainWriter": ("chainaudit.chain.writer", "ChainWriter"),
    "new_event_id": ("chainaudit.chain.writer", "new_event_id"),
    "checkpoint_all": ("chainaudit.chain.writer", "checkpoint_all"),
    "seal_event": ("chainaudit.chain.events", "seal"),
    "event_hash": ("chainaudit.chain.events", "event_hash"),
    "genesis_hash": ("chainaudit.chain.events", "genesis_hash"),
    "lifecycle_chain_id": ("chainaudit.chain.events", "lifecycle_chain_id"),
    "lifecycle_record": ("chainaudit.chain.events", "lifecycle_record"),
    "chain_event_from_entity": ("chainaudit.chain.events", "chain_event_from_entity"),
    "verify_events": ("chainaudit.chain.verify", "verify_events"),
    "ChainPolicy": ("chainaudit.chain.verify", "ChainPolicy"),
    "commit_fields": ("chainaudit.commitments.events", "commit_fields"),
    "item_digest": ("chainaudit.commitments.events", "item_digest"),
    "receipt_fields": ("chainaudit.commitments.events", "receipt_fields"),
    "plan_erasure": ("chainaudit.commitments.erasure", "plan_erasure"),
    "ErasurePlan": ("chainaudit.commitments.erasure", "ErasurePlan"),
    "ErasureRefused": ("chainaudit.commitments.erasure", "ErasureRefused"),
    "TrustStore": ("chainaudit.keys.signing", "TrustStore"),
    "public_bytes": ("chainaudit.keys.signing", "public_bytes"),
    "signer_key_id": ("chainaudit.keys.signing", "key_id"),
    "make_checkpoint": ("chainaudit.chain.checkpoint", "make_checkpoint"),
    "verify_checkpoint": ("chainaudit.chain.checkpoint", "verify_checkpoint"),
    "ChainExpectation": ("chainaudit.chain.checkpoint", "ChainExpectation"),
    "make_boundary": ("chainaudit.chain.boundary", "make_boundary"),
    "build_manifest": ("chainaudit.migration.manifest", "build_manifest"),
    "verify_manifest": ("chainaudit.migration.manifest", "verify_manifest"),
    "load_manifest": ("chainaudit.migration.manifest", "load_manifest"),
    "dump_manifest": ("chainaudit.migration.manifest", "dump_manifest"),
    "manifest_digest": ("chainaudit.migration.manifest", "manifest_digest"),
    "gate_post": ("chainaudit.migration.gate", "gate_post"),
    "make_proof": ("chainaudit.migration.proof", "make_proof"),
    "verify_proof": ("chainaudit.migration.proof", "verify_proof"),
}

__all__ = [
    "Address",
    "AddressError",
    "Assurance",
    "AttrValue",
    "AuditEvent",
    "AuthenticationError",
    "ChainExpectation",
    "ChainPolicy",
    "ChainWriter",
    "ChainauditError",
    "Code",
    "DekLookup",
    "DekMap",
    "DekResolver",
    "DekStatus",
    "EntityRecord",
    "EntityType",
    "Envelope",
    "ErasurePlan",
    "ErasureRefused",
    "Evidence",
    "Finding",
    "InputError",
    "KeyRing",
    "KeySourceError",
    "KeyState",
    "KmsUmkSource",
    "Level",
    "PayloadError",
    "Record",
    "RecordsSource",
    "Result",
    "Severity",
    "Source",
    "SourceItem",
    "SourceLike",
    "StoreError",
    "TrustStore",
    "Umk",
    "WrappedDek",
    "__version__",
    "aad_hash",
    "assess",
    "build_manifest",
    "chain_event_from_entity",
    "check_dek_record",
    "check_record",
    "checkpoint_all",
    "commit_fields",
    "decode_payload",
    "derive_kek",
    "destroy_dek",
    "dump_manifest",
    "encode_payload",
    "escape_component",
    "event_hash",
    "exit_code_for",
    "format_key_id",
    "gate_post",
    "genesis_hash",
    "item_digest",
    "item_from_record",
    "lifecycle_chain_id",
    "lifecycle_record",
    "load_manifest",
    "load_trusted_keys",
    "make_boundary",
    "make_checkpoint",
    "make_proof",
    "manifest_digest",
    "new_dek",
    "new_event_id",
    "open_envelope",
    "open_source",
    "parse_key_id",
    "plan_erasure",
    "public_bytes",
    "receipt_fields",
    "record_digest",
    "record_from_item",
    "record_key",
    "retire_dek",
    "seal_envelope",
    "seal_event",
    "signer_key_id",
    "unescape_component",
    "unwrap_dek",
    "verdict_for",
    "verify",
    "verify_checkpoint",
    "verify_envelopes",
    "verify_events",
    "verify_manifest",
    "verify_proof",
    "wrap_dek",
]


def __getattr__(name: str) -> Any:
    """PEP 562: load a public name from its module on first use, then keep it."""
    try:
        module, attr = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'chainaudit' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
