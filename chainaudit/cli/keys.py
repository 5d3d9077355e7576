"""``chainaudit keys``: create keys safely and show what a dataset needs."""

from __future__ import annotations

import sys
from collections import Counter

import click

from chainaudit.chain.events import timestamp_ms
from chainaudit.cli.common import key_options, load_umk, now, open_source, store_options
from chainaudit.commitments.erasure import ErasureRefused, plan_erasure
from chainaudit.errors import ConflictError, InputError
from chainaudit.keys.hierarchy import parse_key_id
from chainaudit.keys.keyring import KeyRing
from chainaudit.keys.resolver import DekStatus
from chainaudit.keys.shred import destruction_event
from chainaudit.keys.signer import create_signing_key, load_signing_key
from chainaudit.keys.umk import create_umk_file
from chainaudit.migration.manifest import ChainEvent, ChainTally
from chainaudit.records.model import AuditEvent, EntityRecord, Record, WrappedDek
from chainaudit.sources.migration import import_encrypted_batch


@click.group()
def keys() -> None:
    """Create a UMK or a signing key; list the keys a dataset needs.

    \b
    Example:
      chainaudit keys init umk.hex
      chainaudit keys needed export.ndjson --umk umk.hex
    """


@keys.command("init")
@click.argument("umk_file", type=click.Path(readable=False))
def keys_init(umk_file: str) -> None:
    """Create a new random UMK in UMK_FILE (mode 0600, never overwritten).

    UMK_FILE must be a new regular file: a key is never written through a
    symbolic link, to a device, a FIFO or stdout.

    \b
    Example:
      chainaudit keys init ~/.config/chainaudit/umk.hex
    """
    umk = create_umk_file(umk_file)
    click.echo(f"created UMK {umk.fingerprint()} in {umk_file} (mode 0600)", err=True)


@keys.command("signer")
@click.argument("key_file", type=click.Path(readable=False))
@click.option(
    "--trusted-out",
    type=click.Path(readable=False),  # checked by chainaudit.outfile, in one line
    metavar="FILE",
    help="Trusted-keys file to write (default KEY_FILE.trusted.json; `-`: stdout).",
)
def keys_signer(key_file: str, trusted_out: str | None) -> None:
    """Create an Ed25519 signing key for manifests and boundary events.

    Writes the seed to KEY_FILE (mode 0600) and its public key as a
    trusted-keys file that auditors pin with --trusted-keys.

    \b
    Example:
      chainaudit keys signer migration.key --trusted-out trusted-keys.json
    """
    out = trusted_out or key_file + ".trusted.json"
    kid = create_signing_key(key_file, out)
    click.echo(f"created signer {kid} in {key_file}; public key pinned in {out}", err=True)


@keys.command("needed")
@click.argument("source")
@key_options
@store_options
def keys_needed(
    source: str,
    umk_file: str | None,
    kms_umk_blob: str | None,
    kms_key_id: str | None,
    endpoint_url: str | None,
    region: str | None,
    segments: int,
) -> None:
    """List the key ids SOURCE's records use, and whether each can be opened.

    Without a UMK it says whether each wrapped DEK is present (or
    destroyed); with --umk it also unwraps each one. Exit 3 if any key a
    record needs is missing or does not unwrap.

    \b
    Example:
      chainaudit keys needed export.ndjson --umk umk.hex
    """
    umk = load_umk(umk_file, kms_umk_blob, kms_key_id, region)
    src = open_source(source, endpoint_url, region, segments)
    used: Counter[str] = Counter()
    ring = KeyRing(umk)
    states: dict[str, str] = {}
    for item in src.read():
        if isinstance(item, EntityRecord) and item.envelope is not None:
            used[item.envelope.key_id] += 1
        elif isinstance(item, WrappedDek):
            ring.add(item)
            states[f"dek#{item.dialogue}#{item.version}"] = item.state.value
    bad = 0
    click.echo(f"{'key id':<48} {'records':>7}  status")
    for key_id in sorted(set(used) | set(states)):
        if key_id not in states:
            status = "missing: no wrapped-DEK record"
        elif umk is None:
            status = (
                "destroyed (crypto-shredded)"
                if states[key_id] == "destroyed"
                else f"present ({states[key_id]})"
            )
        else:
            lookup = ring.resolve(key_id)
            status = {
                DekStatus.FOUND: f"opens ({states[key_id]})",
                DekStatus.SHREDDED: "destroyed (crypto-shredded)",
                DekStatus.MISSING: "missing: " + lookup.detail,
                DekStatus.UNWRAP_FAILED: "does not unwrap: " + lookup.detail,
            }[lookup.status]
        if status.startswith(("missing", "does not")) and used[key_id]:
            bad += 1
        click.echo(f"{key_id:<48} {used[key_id]:>7}  {status}")
    sys.exit(3 if bad or not (used or states) else 0)


@keys.command("destroy")
@click.argument("key_id")
@click.argument("target")
@click.option("--at", "at", metavar="TIME", help="Destruction time (RFC 3339 UTC); default now.")
@click.option(
    "--audit-chain",
    default="crypto-audit",
    show_default=True,
    help="Audit-log chain that records it.",
)
@click.option("--principal", default="svc:chainaudit", show_default=True, help="Who destroys it.")
@click.option(
    "--erasure-key",
    "erasure_key_file",
    type=click.Path(dir_okay=False),
    help="The erasure authority's signing-key file (`chainaudit keys signer`): sign an "
    "erasure receipt (COMMIT-7). Without it the destruction is unsigned: verify reports "
    "ERASURE_UNSIGNED.",
)
@store_options
def keys_destroy(
    key_id: str,
    target: str,
    at: str | None,
    audit_chain: str,
    principal: str,
    erasure_key_file: str | None,
    endpoint_url: str | None,
    region: str | None,
    segments: int,
) -> None:
    """Crypto-shred KEY_ID in TARGET and record it (KEY-6, COMMIT-9).

    With --erasure-key, an erasure receipt signed by that key is appended to
    the dialogue's lifecycle chain at its tip first (a dialogue never
    committed before gets a commitment of every record as stored now; one
    whose records do not match their commitments is refused, exit 1). Then
    the wrapped-DEK record becomes `destroyed` (key material removed, by a
    compare-and-set that never overwrites a concurrent change), its new
    version is committed, and a `destroy_dek` event is appended to the audit
    chain. The records sealed under the key stay, verify keylessly, and are
    reported as KEY_SHREDDED. Re-running after an interruption completes the
    act and changes nothing more.

    \b
    Example:
      chainaudit keys destroy 'dek#dlg-2026-001#1' postgresql://127.0.0.1/audit \\
          --erasure-key erasure.key
    """
    try:
        dialogue, version = parse_key_id(key_id)
    except ValueError as exc:
        raise InputError(key_id, str(exc)) from None
    sink = open_source(target, endpoint_url, region, segments)
    replace = getattr(sink, "replace_dek", None)
    if replace is None:
        raise InputError(
            target, "keys can be destroyed only in a live store (postgresql:// or dynamodb://)"
        )
    erasure_key = load_signing_key(erasure_key_file) if erasure_key_file else None
    record: WrappedDek | None = None
    mine: list[Record] = []  # the dialogue's records and lifecycle events (one dialogue)
    logged = False
    tally = ChainTally()
    latest: str | None = None
    for item in sink.read():
        if isinstance(item, WrappedDek) and item.dialogue == dialogue:
            mine.append(item)
            if item.version == version:
                record = item
        elif isinstance(item, EntityRecord) and item.address.dialogue == dialogue:
            mine.append(item)
        elif isinstance(item, AuditEvent) and item.chain_id == audit_chain:
            seq = item.fields.get("seq")
            tally.add(
                ChainEvent(item.chain_id, seq if isinstance(seq, int) else None, item.fields, "")
            )
            stamp = item.fields.get("timestamp")
            if isinstance(stamp, str) and (latest is None or _after(stamp, latest)):
                latest = stamp
            if (
                item.fields.get("operation") == "destroy_dek"
                and item.fields.get("key_id") == key_id
            ):
                logged = True
    if record is None:
        raise InputError(target, f"holds no wrapped-DEK record {key_id}")
    when = record.destroyed_at or at or now()
    last = latest if not logged else None
    if last is not None and not _after(when, last):
        # The audit log is append-only: an event dated before its tip would
        # break the chain for good (CHAIN-6 order), so refuse before writing.
        raise InputError(
            f"--at {when}",
            f"is not after the last event of audit chain {audit_chain} ({last}); "
            "a destruction can only be recorded after it",
        )
    try:
        plan = plan_erasure(key_id, mine, when, erasure_key=erasure_key, principal=principal)
    except ErasureRefused as exc:
        raise ConflictError(f"{sink.describe()}: {exc}") from None
    _write(sink, plan.before)
    changed = False
    if plan.destroyed is not None:
        changed = replace(record, plan.destroyed)
    _write(sink, plan.after)
    if not logged:
        event = destruction_event(
            key_id, audit_chain, tally.tips().get(audit_chain), when, principal
        )
        report = import_encrypted_batch(sink, [event])  # type: ignore[arg-type]
        if report.conflicts:
            raise ConflictError(f"{sink.describe()}: {report.conflicts[0]}")
    receipt = (
        "erasure receipt signed"
        if plan.receipt_written
        else "erasure receipt already present"
        if plan.receipt_present
        else "no erasure receipt (unsigned: pass --erasure-key)"
    )
    click.echo(
        f"{key_id}: {'destroyed' if changed else 'was already destroyed'} at {when}; "
        f"{'destroy_dek event appended to ' + audit_chain if not logged else 'already in the audit log'}; "
        f"{receipt}"
        + (f"; {plan.committed_before} record(s) committed first" if plan.committed_before else ""),
        err=True,
    )


def _write(sink: object, records: list[EntityRecord]) -> None:
    """Append lifecycle events (commitments, a receipt); a conflict is exit 1."""
    if not records:
        return
    report = import_encrypted_batch(sink, records)  # type: ignore[arg-type]
    if report.conflicts:
        raise ConflictError(f"{sink.describe()}: {report.conflicts[0]}")  # type: ignore[attr-defined]


def _after(a: str, b: str) -> bool:
    """Whether RFC 3339 time ``a`` is strictly later than ``b`` (to the millisecond)."""
    ma, mb = timestamp_ms(a), timestamp_ms(b)
    if ma is None:
        raise InputError(f"--at {a}", "is not an RFC 3339 UTC timestamp (YYYY-MM-DDThh:mm:ss[.f]Z)")
    return mb is None or ma > mb
