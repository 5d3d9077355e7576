"""A dataset with the evidence to verify it, and deterministic test keys.

A :class:`Dataset` is what a verification needs: the records, the UMK, the
pinned public keys (checkpoint signer, erasure authority) and signed
checkpoints of its chains; plus older committed versions of records
(``superseded``), which a rollback puts back. :class:`AuditKeys` are the
keys a test writer signs and wraps with, derived from a label. No
hypothesis needed.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from chainaudit.findings import Result
from chainaudit.keys.signing import TrustStore, private_key_from_label, public_bytes
from chainaudit.keys.umk import Umk
from chainaudit.records.model import EntityRecord, Record, WrappedDek

#: The time test checkpoints are signed at (a parameter: nothing reads the clock).
CHECKPOINT_TIME = "2026-03-02T12:00:00.000Z"


@dataclass(frozen=True)
class AuditKeys:
    """A UMK, a checkpoint/boundary signer and an erasure authority, for tests.

    :meth:`from_label` derives them from a label, so every run has the same
    keys. ``trusted_keys`` are the public keys to pin (both signers).
    """

    umk: Umk
    signer: Ed25519PrivateKey
    erasure_authority: Ed25519PrivateKey

    @classmethod
    def from_label(cls, label: str = "chainaudit-testing") -> AuditKeys:
        material = hashlib.sha256(f"chainaudit/testing/umk/{label}".encode()).digest()
        return cls(
            Umk(material),
            private_key_from_label(f"chainaudit/testing/signer/{label}"),
            private_key_from_label(f"chainaudit/testing/erasure-authority/{label}"),
        )

    @property
    def trusted_keys(self) -> tuple[bytes, ...]:
        """The public keys to pin: the signer's and the erasure authority's."""
        return (public_bytes(self.signer), public_bytes(self.erasure_authority))

    @property
    def trust(self) -> TrustStore:
        return TrustStore.of(self.trusted_keys)

    def __repr__(self) -> str:
        return f"AuditKeys(umk={self.umk!r})"


@dataclass(frozen=True)
class Dataset:
    """Records and the evidence to verify them (see the module docstring)."""

    records: Sequence[Record]
    umk: Umk | None = None
    trusted_keys: tuple[bytes, ...] = ()
    checkpoints: tuple[Mapping[str, Any], ...] = ()
    superseded: tuple[EntityRecord, ...] = ()
    notes: tuple[str, ...] = field(default=(), compare=False)

    def __repr__(self) -> str:
        return (
            f"Dataset({len(self.records)} records, umk={self.umk!r}, "
            f"{len(self.trusted_keys)} pinned, {len(self.checkpoints)} checkpoints, "
            f"{len(self.superseded)} superseded)"
        )

    @classmethod
    def from_sample(cls, sample: Any, time: str = CHECKPOINT_TIME) -> Dataset:
        """A :class:`chainaudit.sample.Sample` (what the reference writer
        finished) with every chain checkpointed at its tip by the sample's signer."""
        from chainaudit.chain.writer import checkpoint_all

        signers = [k for k in (sample.signer, sample.erasure_signer) if k is not None]
        checkpoints = checkpoint_all(sample.records, sample.signer, time) if sample.signer else []
        return cls(
            list(sample.records),
            sample.umk,
            tuple(public_bytes(k) for k in signers),
            tuple(checkpoints),
            tuple(sample.superseded),
            tuple(sample.notes),
        )

    def evidence(self) -> dict[str, Any]:
        """The keyword arguments of :func:`chainaudit.verify` this dataset supplies."""
        return {
            "umk": self.umk,
            "trusted_keys": self.trusted_keys,
            "checkpoints": self.checkpoints,
        }

    def verify(self, records: Iterable[Record] | None = None, **overrides: Any) -> Result:
        """:func:`chainaudit.verify` of ``records`` (default: the dataset's own)
        with the dataset's evidence; ``overrides`` replace any of it."""
        from chainaudit.api import verify

        kwargs = {**self.evidence(), **overrides}
        return verify(list(self.records if records is None else records), **kwargs)

    def with_records(self, records: Iterable[Record]) -> Dataset:
        """The same evidence over other records (e.g. a mutation's)."""
        return dataclasses.replace(self, records=list(records))

    def deks(self) -> dict[str, bytes]:
        """Every DEK the UMK unwraps from the dataset's wrapped-DEK records, by key id."""
        from chainaudit.keys.keyring import KeyRing
        from chainaudit.keys.resolver import DekStatus

        if self.umk is None:
            return {}
        dek_records = [r for r in self.records if isinstance(r, WrappedDek)]
        ring = KeyRing(self.umk, dek_records)
        out = {}
        for r in dek_records:
            lookup = ring.resolve(r.key_id)
            if lookup.status is DekStatus.FOUND and lookup.dek is not None:
                out[r.key_id] = lookup.dek
        return out


def sample_dataset(seed: str | None = None) -> Dataset:
    """The demo's sample (``chainaudit demo``): five dialogues, every entity type,
    a rotation, a signed erasure, a migration boundary, every version committed,
    with its UMK, pinned signers and a checkpoint of every chain."""
    from chainaudit.sample import DEFAULT_SEED, build_sample

    return Dataset.from_sample(build_sample(seed or DEFAULT_SEED))


__all__ = ["CHECKPOINT_TIME", "AuditKeys", "Dataset", "sample_dataset"]
