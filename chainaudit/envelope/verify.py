"""Verify envelope v1 records: keyless checks, keyed checks, nonce reuse.

Two forms, in the style of python-tuf:

* :func:`check_record` is pure and checks one record (ENV-2..ENV-9 except
  nonce reuse, which needs the whole dataset);
* :class:`EnvelopeVerifier` consumes records one by one, feeds the nonce
  ledger (ENV-5) and returns a :class:`~chainaudit.findings.Result` with
  ``checked["records"]``, ``checked["envelopes"]`` and ``checked["decrypted"]``.

Bad data always becomes a :class:`~chainaudit.findings.Finding`; exceptions
are raised only for misuse. Findings never carry key material or payload
content. Specification: ``docs/envelope.md``.

>>> from chainaudit.records.address import Address
>>> from chainaudit.envelope.seal import seal
>>> from chainaudit.records.model import EntityRecord
>>> a = Address.of("d-1", "meta")
>>> rec = EntityRecord(a, {}, seal(a, {"title": "t"}, bytes(32), "dek#d-1#1", bytes(12)))
>>> check_record(rec)
[]
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from types import TracebackType

from chainaudit.envelope.nonces import NonceLedger, NonceLimits
from chainaudit.envelope.seal import (
    NONCE_BYTES,
    SUPPORTED_VERSIONS,
    TAG_BYTES,
    TRUNCATED_TAG_LENGTHS,
    PayloadError,
    aad_for,
    aad_from_hash,
    aad_hash,
    decode_payload,
    legacy_aad_for,
    legacy_aad_hash,
    open_bytes,
)
from chainaudit.findings import Code, Finding, Result, codes
from chainaudit.keys.hierarchy import parse_key_id
from chainaudit.keys.resolver import DekResolver, DekStatus
from chainaudit.primitives import crypto
from chainaudit.records.model import EntityRecord, Envelope
from chainaudit.sources import SourceItem

#: Every code an envelope check can produce (item mapping, keyless, keyed, nonce
#: reuse). The vectors and tests must produce each of them at least once.
CODES = frozenset(
    c.name
    for c in (
        codes.ADDRESS_INVALID,
        codes.RECORD_MALFORMED,
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
        codes.AUTHENTICATION_FAILED,
        codes.ADDRESS_MOVED,
        codes.WRONG_KEY_VERSION,
        codes.TAG_TRUNCATED,
        codes.PAYLOAD_NOT_JSON_OBJECT,
        codes.PAYLOAD_NOT_CANONICAL,
        codes.KEY_SHREDDED,
        codes.KEY_MISSING,
        codes.KEY_UNWRAP_FAILED,
    )
)

#: A dataset names few distinct key ids; parse each once (KEY-2).
_parse_key_id = functools.lru_cache(maxsize=4096)(parse_key_id)

#: Longest stored value quoted back in a finding (aad_hash, key_id).
_QUOTE_MAX = 160


def _quote(text: str) -> str:
    return text if len(text) <= _QUOTE_MAX else text[:_QUOTE_MAX] + "…"


@dataclass
class _Check:
    """The state of checking one record."""

    record: EntityRecord
    findings: list[Finding] = field(default_factory=list)
    decrypted: bool = False
    #: Some keyed open with the record's own-address AAD succeeded (under the
    #: named key, another version of it, or with a truncated tag): proof that
    #: the ciphertext is bound to the v1 address, not to the legacy AAD (ENV-9).
    own_aad_opened: bool = False

    def add(
        self, code: Code, message: str, expected: str | None = None, actual: str | None = None
    ) -> None:
        self.findings.append(
            Finding(
                code,
                str(self.record.address),
                message,
                expected,
                actual,
                source=self.record.origin or None,
            )
        )


def check_record(record: EntityRecord, resolver: DekResolver | None = None) -> list[Finding]:
    """All findings about one entity record; keyed checks only when ``resolver`` is given.

    An empty list means the record is sound as far as the checks went.
    """
    return _check(record, resolver).findings


def _check(record: EntityRecord, resolver: DekResolver | None) -> _Check:
    if not isinstance(record, EntityRecord):
        raise TypeError(f"check_record takes an EntityRecord, not {type(record).__name__}")
    chk = _Check(record)
    env = record.envelope
    # ENV-2: refs have no envelope, every other type has one.
    if not record.address.has_envelope:
        if env is not None:
            chk.add(
                codes.ENVELOPE_UNEXPECTED,
                f"a {record.address.entity_type.value} carries no encrypted fields "
                "but has an envelope",
            )
        return chk
    if env is None:
        if not record.address.envelope_required:
            return chk  # ENV-2: lifecycle events may be cleartext only
        chk.add(
            codes.ENVELOPE_MISSING,
            f"a {record.address.entity_type.value} must be encrypted but has no envelope",
        )
        return chk
    # ENV-3: never guess how to read another version.
    if env.version not in SUPPORTED_VERSIONS:
        chk.add(
            codes.ENVELOPE_VERSION_UNSUPPORTED,
            f"envelope version {env.version} is not implemented; other checks skipped",
            expected=", ".join(str(v) for v in sorted(SUPPORTED_VERSIONS)),
            actual=str(env.version),
        )
        return chk
    usable = _keyless(chk, env)
    if resolver is not None and usable:
        keyless = list(chk.findings)
        chk.findings = []
        _keyed(chk, env, resolver)
        if chk.own_aad_opened:
            keyless = [_refute_legacy(chk, f, env) for f in keyless]
        # ENV-7: a code appears once per record; the keyed finding is the
        # more precise one when both layers name the same code.
        keyed_codes = {f.code.name for f in chk.findings}
        chk.findings = [f for f in keyless if f.code.name not in keyed_codes] + chk.findings
    return chk


def _refute_legacy(chk: _Check, finding: Finding, env: Envelope) -> Finding:
    """ENV-9: a keyless LEGACY_AAD (presumed from aad_hash alone) that the key
    refutes becomes AAD_HASH_MISMATCH: the ciphertext is bound to the v1
    address, only the stored aad_hash is wrong."""
    if finding.code.name != codes.LEGACY_AAD.name:
        return finding
    return Finding(
        codes.AAD_HASH_MISMATCH,
        finding.where,
        "aad_hash is the legacy SHA-256(pk||sk), but the ciphertext authenticates "
        "under this record's v1 address AAD: only the stored aad_hash is wrong",
        expected=aad_hash(chk.record.address),
        actual=env.aad_hash,
        source=finding.source,
    )


def _keyless(chk: _Check, env: Envelope) -> bool:
    """ENV-4..ENV-7 checks without keys; returns whether keyed checks may run."""
    address = chk.record.address
    expected_hash = aad_hash(address)
    if not crypto.equal(expected_hash, env.aad_hash):
        if crypto.equal(legacy_aad_hash(address), env.aad_hash):  # ENV-9
            chk.add(
                codes.LEGACY_AAD,
                "aad_hash is the legacy SHA-256(pk||sk): sealed under the pre-v1 AAD, "
                "which binds the ciphertext to DynamoDB keys and is not portable",
                expected=expected_hash,
                actual=env.aad_hash,
            )
        else:  # ENV-4
            chk.add(
                codes.AAD_HASH_MISMATCH,
                "aad_hash is not the SHA-256 of this record's address",
                expected=expected_hash,
                actual=_quote(env.aad_hash),
            )
    usable = True
    if len(env.nonce) != NONCE_BYTES:  # ENV-5
        chk.add(
            codes.NONCE_LENGTH,
            f"content_nonce must be {NONCE_BYTES} bytes",
            expected=f"{NONCE_BYTES} bytes",
            actual=f"{len(env.nonce)} bytes",
        )
        usable = False
    if len(env.ciphertext) < TAG_BYTES:  # ENV-6
        chk.add(
            codes.CIPHERTEXT_TOO_SHORT,
            "content_encrypted cannot hold the 16-byte tag",
            expected=f">= {TAG_BYTES} bytes",
            actual=f"{len(env.ciphertext)} bytes",
        )
        usable = False
    try:
        key_dialogue, _ = _parse_key_id(env.key_id)  # ENV-7, KEY-2
    except ValueError as exc:
        chk.add(
            codes.KEY_ID_INVALID,
            _quote(str(exc)),
            expected="dek#{dialogue_id}#{version}",
            actual=_quote(env.key_id),
        )
        return False
    if key_dialogue != address.dialogue:
        chk.add(
            codes.KEY_ID_WRONG_DIALOGUE,
            "key_id names another dialogue's key; it is not used on this record",
            expected=address.dialogue,
            actual=key_dialogue,
        )
        usable = False
    return usable


def _keyed(chk: _Check, env: Envelope, resolver: DekResolver) -> None:
    """ENV-6..ENV-8 with keys: resolve, open, diagnose a failure, check the payload."""
    lookup = resolver.resolve(env.key_id)
    detail = f" ({lookup.detail})" if lookup.detail else ""
    if lookup.status is DekStatus.SHREDDED:
        chk.add(
            codes.KEY_SHREDDED,
            f"key {env.key_id} was destroyed (crypto-shredded); not decryptable by design{detail}",
        )
        return
    if lookup.status is DekStatus.MISSING:
        chk.add(codes.KEY_MISSING, f"no key for {env.key_id}; record not decrypted{detail}")
        return
    if lookup.status is DekStatus.UNWRAP_FAILED or lookup.dek is None:
        chk.add(codes.KEY_UNWRAP_FAILED, f"key {env.key_id} does not unwrap{detail}")
        return
    dek = lookup.dek
    address = chk.record.address
    own_aad = aad_for(address)
    plaintext = _try_open(own_aad, env, dek)
    if plaintext is not None:
        chk.decrypted = chk.own_aad_opened = True
        _check_payload(chk, plaintext)
        return
    # ENV-7: a diagnosis is an error already; the plaintext a diagnostic open
    # yields is not this record's payload and is not checked (ENV-8).
    _diagnose(chk, env, dek, resolver)


def _try_open(aad: bytes, env: Envelope, dek: bytes, tag_bytes: int = TAG_BYTES) -> bytes | None:
    try:
        return open_bytes(aad, env, dek, tag_bytes)
    except crypto.AuthenticationError:
        return None


def _diagnose(chk: _Check, env: Envelope, dek: bytes, resolver: DekResolver) -> None:
    """ENV-7: name why authentication failed, most specific explanation first."""
    address = chk.record.address
    own_aad = aad_for(address)
    legacy_aad = legacy_aad_for(address)
    # 1. Sealed for the address whose hash is stored: moved (or legacy).
    stored_aad = aad_from_hash(env.aad_hash)
    if (
        stored_aad is not None
        and stored_aad != own_aad
        and _try_open(stored_aad, env, dek) is not None
    ):
        if stored_aad == legacy_aad:
            _legacy(chk)
        else:
            chk.add(
                codes.ADDRESS_MOVED,
                "the ciphertext authenticates for the address whose hash is stored, "
                "not for this one: it was moved here (cut-and-paste)",
                expected=aad_hash(address),
                actual=env.aad_hash,
            )
        return
    # 2. Sealed under the legacy pk||sk AAD (ENV-9).
    if _try_open(legacy_aad, env, dek) is not None:
        _legacy(chk)
        return
    # 3. Sealed under another version of this dialogue's key.
    for other in _other_versions(resolver, address.dialogue, env.key_id):
        lookup = resolver.resolve(other)
        if (
            lookup.status is DekStatus.FOUND
            and lookup.dek is not None
            and _try_open(own_aad, env, lookup.dek) is not None
        ):
            chk.own_aad_opened = True
            chk.add(
                codes.WRONG_KEY_VERSION,
                f"the ciphertext opens under {other}, not under the key_id it names",
                expected=other,
                actual=env.key_id,
            )
            return
    # 4. The stored tag was truncated (ENV-6).
    for t in TRUNCATED_TAG_LENGTHS:
        if len(env.ciphertext) >= t and _try_open(own_aad, env, dek, t) is not None:
            chk.own_aad_opened = True
            chk.add(
                codes.TAG_TRUNCATED,
                f"the ciphertext verifies only with a {t}-byte tag: the tag was cut short",
                expected=f"{TAG_BYTES}-byte tag",
                actual=f"{t}-byte tag",
            )
            return
    # 5. Nothing explains it: the bytes were altered.
    chk.add(
        codes.AUTHENTICATION_FAILED,
        "the GCM tag does not verify for this address and key: ciphertext, nonce "
        "or tag was changed",
    )


def _legacy(chk: _Check) -> None:
    chk.add(
        codes.LEGACY_AAD,
        "the ciphertext opens only with the legacy SHA-256(pk||sk) AAD; it is bound to "
        "DynamoDB keys and is not portable: re-seal under the v1 address AAD",
    )


def _other_versions(resolver: DekResolver, dialogue: str, key_id: str) -> Sequence[str]:
    return [k for k in resolver.versions(dialogue) if k != key_id]


def _check_payload(chk: _Check, plaintext: bytes) -> None:
    """ENV-8: the payload is a canonical JSON object; never quote its content."""
    try:
        _, canonical = decode_payload(plaintext)
    except PayloadError as exc:
        chk.add(codes.PAYLOAD_NOT_JSON_OBJECT, f"the decrypted payload is {exc}")
        return
    if not canonical:
        chk.add(
            codes.PAYLOAD_NOT_CANONICAL,
            "the payload is a JSON object but its bytes are not the RFC 8785 form",
        )


class EnvelopeVerifier:
    """Streams records through :func:`check_record` and the nonce ledger.

    Feed it with :meth:`add` (records and source findings in any order),
    then call :meth:`result` once. Records that are not entities (wrapped
    DEKs, audit events) are ignored: other verifiers own them.
    """

    def __init__(
        self,
        resolver: DekResolver | None = None,
        limits: NonceLimits | None = None,
        ledger: NonceLedger | None = None,
    ) -> None:
        """``ledger``: the nonce ledger to feed (one the caller then reads itself,
        see :meth:`records_result`); by default one of this verifier's own."""
        self.resolver = resolver
        self._ledger = ledger if ledger is not None else NonceLedger(limits)
        self._result = Result()
        self._done = False

    def add(self, item: SourceItem) -> None:
        """Check one record (or keep a finding a source produced for an unmappable item)."""
        if self._done:
            raise RuntimeError("EnvelopeVerifier.add() after result()")
        if isinstance(item, Finding):
            self._result.checked["records"] += 1
            self._result.add(item)
            return
        if not isinstance(item, EntityRecord):
            return
        self._result.checked["records"] += 1
        chk = _check(item, self.resolver)
        self._result.extend(chk.findings)
        env = item.envelope
        if env is not None:
            self._result.checked["envelopes"] += 1
            # ENV-5: every v1 envelope enters the ledger, whatever else is
            # wrong with the record (a ref's unexpected envelope included).
            if env.version in SUPPORTED_VERSIONS:
                self._ledger.add(
                    env.key_id, env.nonce, str(item.address), item.origin, env.ciphertext
                )
        if chk.decrypted:
            self._result.checked["decrypted"] += 1

    def feed(self, items: Iterable[SourceItem]) -> EnvelopeVerifier:
        """:meth:`add` every item; returns self for chaining."""
        for item in items:
            self.add(item)
        return self

    def result(self) -> Result:
        """Finish: report nonce reuse and return the result (call once)."""
        if self._done:
            raise RuntimeError("EnvelopeVerifier.result() may be called only once")
        self._done = True
        try:
            self._result.extend(self._ledger.findings())
        finally:
            self._ledger.close()
        return self._result

    def records_result(self) -> Result:
        """Finish without the nonce findings: the per-record result only, the
        ledger left to whoever gave it (call once, instead of :meth:`result`)."""
        if self._done:
            raise RuntimeError("EnvelopeVerifier.records_result() may be called only once")
        self._done = True
        return self._result

    def close(self) -> None:
        """Release spill files without producing a result."""
        self._ledger.close()

    def __enter__(self) -> EnvelopeVerifier:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def verify_envelopes(
    items: Iterable[SourceItem],
    resolver: DekResolver | None = None,
    limits: NonceLimits | None = None,
) -> Result:
    """Verify a stream of records in one call (see :class:`EnvelopeVerifier`)."""
    with EnvelopeVerifier(resolver, limits) as verifier:
        return verifier.feed(items).result()
