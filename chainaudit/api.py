"""The library's entry points that are not a re-export (docs/api.md).

:func:`verify` is ``chainaudit verify`` as a function: one read of a
source (a path, a store URL, a :class:`~chainaudit.sources.Source`, or any
iterable of records), every check, the assurance statement (REP-7), and the
same findings, counters and exit code as the command. :func:`open_source`
picks the adapter for a path or URL as the command does.
:func:`seal_envelope` seals with a fresh random nonce unless one is given.

Everything here calls the code the CLI runs; nothing is reimplemented.
Heavy dependencies (boto3, psycopg) load only when a store URL is opened.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from chainaudit.audit import AuditOptions, audit
from chainaudit.chain.checkpoint import ChainExpectation
from chainaudit.envelope.seal import seal, seal_random
from chainaudit.errors import InputError
from chainaudit.findings import Result
from chainaudit.keys.dekmap import DekMap
from chainaudit.keys.signing import TrustStore
from chainaudit.keys.umk import Umk
from chainaudit.records.address import Address
from chainaudit.records.model import Envelope
from chainaudit.report.assurance import (
    Evidence,
    assess,
    parse_require,
    policy_findings,
    unanchored_findings,
)
from chainaudit.sources import Source, SourceItem
from chainaudit.sources.memory import RecordsSource
from chainaudit.sources.timeouts import StoreTimeouts

#: What :func:`verify` accepts as its source.
SourceLike = str | os.PathLike[str] | Source | Iterable[SourceItem]


def open_source(
    spec: str | os.PathLike[str],
    *,
    endpoint_url: str | None = None,
    region: str | None = None,
    segments: int = 4,
    profile: str | None = None,
    s3_endpoint_url: str | None = None,
    timeouts: StoreTimeouts | None = None,
) -> Source:
    """The adapter for ``spec``, as ``chainaudit verify SOURCE`` chooses it.

    ``spec`` is a path (an NDJSON export, ``.gz``, a DynamoDB export
    directory, PostgreSQL COPY files), ``postgresql://...``,
    ``dynamodb://TABLE`` or ``s3://BUCKET/...`` (docs/export.md). The
    keyword options are the command's store options. Raises
    :class:`~chainaudit.errors.InputError` when nothing fits.
    """
    text = os.fspath(spec)
    limits = timeouts if timeouts is not None else StoreTimeouts()
    if text.startswith(("postgresql://", "postgres://")):
        from chainaudit.sources.postgres import PostgresStore

        return PostgresStore(text, timeouts=limits)
    if text.startswith("dynamodb://"):
        from chainaudit.sources.dynamodb import DynamoDBStore

        table = text[len("dynamodb://") :].strip("/")
        if not table:
            raise InputError(text, "name the table: dynamodb://TABLE")
        return DynamoDBStore(
            table,
            endpoint_url=endpoint_url,
            region=region,
            segments=segments,
            timeouts=limits,
            profile=profile,
        )
    if text.startswith("s3://"):
        from chainaudit.sources.s3 import open_s3

        return open_s3(
            text, endpoint_url=s3_endpoint_url, region=region, profile=profile, timeouts=limits
        )
    from chainaudit.sources.open import open_source as open_file

    return open_file(text)


def _as_source(source: SourceLike) -> Source:
    if isinstance(source, str | os.PathLike):
        return open_source(source)
    if hasattr(source, "read") and hasattr(source, "describe"):
        return source  # type: ignore[return-value]
    return RecordsSource(source)


def _trust(keys: TrustStore | Iterable[bytes]) -> TrustStore:
    return keys if isinstance(keys, TrustStore) else TrustStore.of(keys)


def verify(
    source: SourceLike,
    *,
    umk: Umk | None = None,
    deks: DekMap | Mapping[str, bytes] | None = None,
    trusted_keys: TrustStore | Iterable[bytes] = (),
    checkpoints: Iterable[Mapping[str, Any]] = (),
    expectations: Iterable[ChainExpectation] = (),
    require: str | Sequence[str] = (),
    workers: int = 1,
    evidence: Evidence | None = None,
) -> Result:
    """Verify every record, envelope, key, chain and commitment of ``source``.

    ``source``: a path or store URL (:func:`open_source`), a
    :class:`~chainaudit.sources.Source`, or an iterable of records (a
    :class:`~chainaudit.sources.memory.RecordsSource` is made of it).
    ``umk``: keyed run (authenticate and decrypt every envelope); or
    ``deks``: keyed run with the data keys you hold (a
    :class:`~chainaudit.keys.dekmap.DekMap` or a mapping ``{"dek#D#V": key}``);
    with neither, keyless. ``trusted_keys``: the pinned Ed25519 public keys (raw 32
    bytes) or a :class:`~chainaudit.keys.signing.TrustStore`; signatures by any
    other key do not count. ``checkpoints``: signed checkpoint documents
    (CHAIN-11). ``require``: assurance families that must be proven
    (REP-7: ``authenticated``, ``anchored``, ``committed``, ``complete``,
    ``erasure``, or ``all``; a list or ``--require``'s comma-separated
    text), else an ``ASSURANCE_NOT_MET`` finding. ``ValueError`` names an
    unknown family.

    The result holds the findings and ``checked`` counters of
    ``chainaudit verify`` on the same input, including the REP-7
    ``CHAIN_UNANCHORED`` notices; ``chainaudit.exit_code_for(result)`` is
    the command's exit code. ``evidence``, when given, is filled with what
    the assurance statement rests on, and ``evidence.assurance`` with the
    statement itself. Raises :class:`~chainaudit.errors.InputError` or
    :class:`~chainaudit.errors.StoreError` when the source cannot be read.
    """
    families = parse_require(require if isinstance(require, str) else ",".join(require))
    src = _as_source(source)
    if deks is not None and not isinstance(deks, DekMap):
        deks = DekMap(deks)
    options = AuditOptions(
        umk=umk,
        deks=deks,
        trust=_trust(trusted_keys),
        checkpoints=[(f"checkpoint[{i}]", dict(doc)) for i, doc in enumerate(checkpoints)],
        expectations=list(expectations),
        workers=workers,
    )
    ev = evidence if evidence is not None else Evidence()
    result = audit(src, options, None, ev)
    # REP-7, as the CLI concludes every verifying command (chainaudit.cli.common.conclude).
    result.extend(unanchored_findings(ev))
    ev.assurance = assess(result, ev)
    result.extend(policy_findings(ev.assurance, families))
    return result


def seal_envelope(
    address: Address,
    payload: Mapping[str, Any],
    dek: bytes,
    key_id: str,
    nonce: bytes | None = None,
) -> Envelope:
    """Seal ``payload`` for ``address`` under ``dek`` (ENV-2..8).

    Without ``nonce``, a fresh random 96-bit nonce from the OS CSPRNG
    (:func:`chainaudit.envelope.seal.seal_random`); with one, exactly
    :func:`chainaudit.envelope.seal.seal` (deterministic, for vectors and tests:
    a nonce MUST never repeat under one key, ENV-5). The payload is encoded
    with :func:`chainaudit.envelope.seal.encode_payload` (RFC 8785).
    """
    if nonce is None:
        return seal_random(address, payload, dek, key_id)
    return seal(address, payload, dek, key_id, nonce)


def load_trusted_keys(*paths: str | os.PathLike[str]) -> TrustStore:
    """Every key pinned by the given trusted-keys files (CHAIN-10), as ``--trusted-keys``."""
    keys: list[bytes] = []
    for p in paths:
        keys.extend(TrustStore.load(Path(p)).keys.values())
    return TrustStore.of(keys)


__all__ = ["SourceLike", "load_trusted_keys", "open_source", "seal_envelope", "verify"]
