"""chainaudit: prove that encrypted, hash-chained records are complete,
untampered, bound to their address and decryptable, in any store, and that a
migration between stores lost nothing and broke no chain.

The names below are the public API (docs/api.md), stable under semantic
versioning: within a major version none is removed or changes meaning. Each
is the very object its module defines (``chainaudit.seal_event`` *is*
``chainaudit.chain.seal``), loaded on first use, so ``import chainaudit``
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
    from chainaudit.address import Address as Address
    from chainaudit.address import AddressError as AddressError
    from chainaudit.address import EntityType as EntityType
    from chainaudit.address import escape_component as escape_component
    from chainaudit.address import unescape_component as unescape_component
    from chainaudit.api import SourceLike as SourceLike
    from chainaudit.api import load_trusted_keys as load_trusted_keys
    from chainaudit.api import open_source as open_source
    from chainaudit.api import seal_envelope as seal_envelope
    from chainaudit.api import verify as verify
    from chainaudit.assurance import Assurance as Assurance
    from chainaudit.assurance import Evidence as Evidence
    from chainaudit.assurance import Level as Level
    from chainaudit.assurance import assess as assess
    from chainaudit.boundary import make_boundary as make_boundary
    from chainaudit.chain import chain_event_from_entity as chain_event_from_entity
    from chainaudit.chain import event_hash as event_hash
    from chainaudit.chain import genesis_hash as genesis_hash
    from chainaudit.chain import lifecycle_chain_id as lifecycle_chain_id
    from chainaudit.chain import lifecycle_record as lifecycle_record
    from chainaudit.chain import seal as seal_event
    from chainaudit.checkpoint import ChainExpectation as ChainExpectation
    from chainaudit.checkpoint import make_checkpoint as make_checkpoint
    from chainaudit.checkpoint import verify_checkpoint as verify_checkpoint
    from chainaudit.commitment import commit_fields as commit_fields
    from chainaudit.commitment import item_digest as item_digest
    from chainaudit.commitment import receipt_fields as receipt_fields
    from chainaudit.crypto import AuthenticationError as AuthenticationError
    from chainaudit.dekmap import DekMap as DekMap
    from chainaudit.digest import record_digest as record_digest
    from chainaudit.digest import record_key as record_key
    from chainaudit.envelope import PayloadError as PayloadError
    from chainaudit.envelope import aad_hash as aad_hash
    from chainaudit.envelope import decode_payload as decode_payload
    from chainaudit.envelope import encode_payload as encode_payload
    from chainaudit.envelope import open_envelope as open_envelope
    from chainaudit.erasure import ErasurePlan as ErasurePlan
    from chainaudit.erasure import ErasureRefused as ErasureRefused
    from chainaudit.erasure import plan_erasure as plan_erasure
    from chainaudit.errors import ChainauditError as ChainauditError
    from chainaudit.errors import InputError as InputError
    from chainaudit.errors import KeySourceError as KeySourceError
    from chainaudit.errors import StoreError as StoreError
    from chainaudit.findings import Code as Code
    from chainaudit.findings import Finding as Finding
    from chainaudit.findings import Result as Result
    from chainaudit.findings import Severity as Severity
    from chainaudit.gate import gate_post as gate_post
    from chainaudit.item import item_from_record as item_from_record
    from chainaudit.item import record_from_item as record_from_item
    from chainaudit.keyring import KeyRing as KeyRing
    from chainaudit.keys import check_dek_record as check_dek_record
    from chainaudit.keys import derive_kek as derive_kek
    from chainaudit.keys import destroy as destroy_dek
    from chainaudit.keys import format_key_id as format_key_id
    from chainaudit.keys import new_dek as new_dek
    from chainaudit.keys import parse_key_id as parse_key_id
    from chainaudit.keys import retire as retire_dek
    from chainaudit.keys import unwrap_dek as unwrap_dek
    from chainaudit.keys import wrap_dek as wrap_dek
    from chainaudit.kms import KmsUmkSource as KmsUmkSource
    from chainaudit.manifest import build_manifest as build_manifest
    from chainaudit.manifest import dump_manifest as dump_manifest
    from chainaudit.manifest import load_manifest as load_manifest
    from chainaudit.manifest import manifest_digest as manifest_digest
    from chainaudit.manifest import verify_manifest as verify_manifest
    from chainaudit.model import AttrValue as AttrValue
    from chainaudit.model import AuditEvent as AuditEvent
    from chainaudit.model import EntityRecord as EntityRecord
    from chainaudit.model import Envelope as Envelope
    from chainaudit.model import KeyState as KeyState
    from chainaudit.model import Record as Record
    from chainaudit.model import WrappedDek as WrappedDek
    from chainaudit.proof import make_proof as make_proof
    from chainaudit.proof import verify_proof as verify_proof
    from chainaudit.report import exit_code_for as exit_code_for
    from chainaudit.report import verdict_for as verdict_for
    from chainaudit.resolver import DekLookup as DekLookup
    from chainaudit.resolver import DekResolver as DekResolver
    from chainaudit.resolver import DekStatus as DekStatus
    from chainaudit.signing import TrustStore as TrustStore
    from chainaudit.signing import key_id as signer_key_id
    from chainaudit.signing import public_bytes as public_bytes
    from chainaudit.sources import Source as Source
    from chainaudit.sources import SourceItem as SourceItem
    from chainaudit.sources.memory import RecordsSource as RecordsSource
    from chainaudit.umk import Umk as Umk
    from chainaudit.verify_chain import ChainPolicy as ChainPolicy
    from chainaudit.verify_chain import verify_events as verify_events
    from chainaudit.verify_envelope import check_record as check_record
    from chainaudit.verify_envelope import verify_envelopes as verify_envelopes
    from chainaudit.writer import ChainWriter as ChainWriter
    from chainaudit.writer import checkpoint_all as checkpoint_all
    from chainaudit.writer import new_event_id as new_event_id

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
    "exit_code_for": ("chainaudit.report", "exit_code_for"),
    "verdict_for": ("chainaudit.report", "verdict_for"),
    "Evidence": ("chainaudit.assurance", "Evidence"),
    "Assurance": ("chainaudit.assurance", "Assurance"),
    "Level": ("chainaudit.assurance", "Level"),
    "assess": ("chainaudit.assurance", "assess"),
    "ChainauditError": ("chainaudit.errors", "ChainauditError"),
    "InputError": ("chainaudit.errors", "InputError"),
    "StoreError": ("chainaudit.errors", "StoreError"),
    "KeySourceError": ("chainaudit.errors", "KeySourceError"),
    "Address": ("chainaudit.address", "Address"),
    "AddressError": ("chainaudit.address", "AddressError"),
    "EntityType": ("chainaudit.address", "EntityType"),
    "escape_component": ("chainaudit.address", "escape_component"),
    "unescape_component": ("chainaudit.address", "unescape_component"),
    "EntityRecord": ("chainaudit.model", "EntityRecord"),
    "Envelope": ("chainaudit.model", "Envelope"),
    "WrappedDek": ("chainaudit.model", "WrappedDek"),
    "KeyState": ("chainaudit.model", "KeyState"),
    "AuditEvent": ("chainaudit.model", "AuditEvent"),
    "Record": ("chainaudit.model", "Record"),
    "AttrValue": ("chainaudit.model", "AttrValue"),
    "item_from_record": ("chainaudit.item", "item_from_record"),
    "record_from_item": ("chainaudit.item", "record_from_item"),
    "record_key": ("chainaudit.digest", "record_key"),
    "record_digest": ("chainaudit.digest", "record_digest"),
    "seal_envelope": ("chainaudit.api", "seal_envelope"),
    "open_envelope": ("chainaudit.envelope", "open_envelope"),
    "encode_payload": ("chainaudit.envelope", "encode_payload"),
    "decode_payload": ("chainaudit.envelope", "decode_payload"),
    "aad_hash": ("chainaudit.envelope", "aad_hash"),
    "PayloadError": ("chainaudit.envelope", "PayloadError"),
    "AuthenticationError": ("chainaudit.crypto", "AuthenticationError"),
    "check_record": ("chainaudit.verify_envelope", "check_record"),
    "verify_envelopes": ("chainaudit.verify_envelope", "verify_envelopes"),
    "Umk": ("chainaudit.umk", "Umk"),
    "KeyRing": ("chainaudit.keyring", "KeyRing"),
    "DekMap": ("chainaudit.dekmap", "DekMap"),
    "KmsUmkSource": ("chainaudit.kms", "KmsUmkSource"),
    "DekResolver": ("chainaudit.resolver", "DekResolver"),
    "DekLookup": ("chainaudit.resolver", "DekLookup"),
    "DekStatus": ("chainaudit.resolver", "DekStatus"),
    "derive_kek": ("chainaudit.keys", "derive_kek"),
    "new_dek": ("chainaudit.keys", "new_dek"),
    "wrap_dek": ("chainaudit.keys", "wrap_dek"),
    "unwrap_dek": ("chainaudit.keys", "unwrap_dek"),
    "format_key_id": ("chainaudit.keys", "format_key_id"),
    "parse_key_id": ("chainaudit.keys", "parse_key_id"),
    "retire_dek": ("chainaudit.keys", "retire"),
    "destroy_dek": ("chainaudit.keys", "destroy"),
    "check_dek_record": ("chainaudit.keys", "check_dek_record"),
    "ChainWriter": ("chainaudit.writer", "ChainWriter"),
    "new_event_id": ("chainaudit.writer", "new_event_id"),
    "checkpoint_all": ("chainaudit.writer", "checkpoint_all"),
    "seal_event": ("chainaudit.chain", "seal"),
    "event_hash": ("chainaudit.chain", "event_hash"),
    "genesis_hash": ("chainaudit.chain", "genesis_hash"),
    "lifecycle_chain_id": ("chainaudit.chain", "lifecycle_chain_id"),
    "lifecycle_record": ("chainaudit.chain", "lifecycle_record"),
    "chain_event_from_entity": ("chainaudit.chain", "chain_event_from_entity"),
    "verify_events": ("chainaudit.verify_chain", "verify_events"),
    "ChainPolicy": ("chainaudit.verify_chain", "ChainPolicy"),
    "commit_fields": ("chainaudit.commitment", "commit_fields"),
    "item_digest": ("chainaudit.commitment", "item_digest"),
    "receipt_fields": ("chainaudit.commitment", "receipt_fields"),
    "plan_erasure": ("chainaudit.erasure", "plan_erasure"),
    "ErasurePlan": ("chainaudit.erasure", "ErasurePlan"),
    "ErasureRefused": ("chainaudit.erasure", "ErasureRefused"),
    "TrustStore": ("chainaudit.signing", "TrustStore"),
    "public_bytes": ("chainaudit.signing", "public_bytes"),
    "signer_key_id": ("chainaudit.signing", "key_id"),
    "make_checkpoint": ("chainaudit.checkpoint", "make_checkpoint"),
    "verify_checkpoint": ("chainaudit.checkpoint", "verify_checkpoint"),
    "ChainExpectation": ("chainaudit.checkpoint", "ChainExpectation"),
    "make_boundary": ("chainaudit.boundary", "make_boundary"),
    "build_manifest": ("chainaudit.manifest", "build_manifest"),
    "verify_manifest": ("chainaudit.manifest", "verify_manifest"),
    "load_manifest": ("chainaudit.manifest", "load_manifest"),
    "dump_manifest": ("chainaudit.manifest", "dump_manifest"),
    "manifest_digest": ("chainaudit.manifest", "manifest_digest"),
    "gate_post": ("chainaudit.gate", "gate_post"),
    "make_proof": ("chainaudit.proof", "make_proof"),
    "verify_proof": ("chainaudit.proof", "verify_proof"),
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
