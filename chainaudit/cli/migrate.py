"""``chainaudit export`` and ``chainaudit import``: the migration surface.

Bytes are copied verbatim: no key is needed, nothing is decrypted or
re-encrypted. An import is idempotent and resumable, never overwrites a
differing record (that is a conflict, exit 1), and can bridge every chain it
moved with a signed migration-boundary event (CHAIN-12).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import click

from chainaudit.chain.events import timestamp_ms
from chainaudit.cli.common import load_json, now, open_source, store_options
from chainaudit.errors import EXIT_FINDINGS, EXIT_OK, InputError, naming_files
from chainaudit.findings import Finding
from chainaudit.keys.signer import load_signing_key
from chainaudit.migration.bridge import boundary_records, chain_tips
from chainaudit.migration.manifest import check_shape, manifest_digest
from chainaudit.records.model import Record
from chainaudit.sources.migration import export_encrypted_batch, import_encrypted_batch
from chainaudit.sources.ndjson import write_export

F = TypeVar("F", bound=Callable[..., Any])


def summary_options(f: F) -> F:
    """``--format text|json`` and ``-q`` for export and import (CLI-9): text goes
    to stderr (stdout may carry the export itself), JSON to stdout."""
    f = click.option(
        "-q", "--quiet", is_flag=True, help="No summary on stderr (the exit code still tells)."
    )(f)
    f = click.option(
        "--format",
        "fmt",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        help="Summary of what was done: text on stderr, or a JSON object on stdout.",
    )(f)
    return f


def _summarize(fmt: str, quiet: bool, text: str, doc: dict[str, Any]) -> None:
    if fmt == "json":
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
    elif not quiet:
        click.echo(text, err=True)


def _counts_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{kind} {n}" for kind, n in counts.items() if kind != "lines")


@click.command("export")
@click.argument("source")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(readable=False),  # checked by chainaudit.outfile, in one line
    metavar="FILE",
    help="Export file (.ndjson or .ndjson.gz; `-`: stdout).",
)
@click.option(
    "--dialogue",
    "dialogues",
    multiple=True,
    metavar="ID",
    help="Only this dialogue (escaped id, repeatable); audit-log events are then left out.",
)
@click.option(
    "--created-at",
    metavar="TIME",
    help="Header time (RFC 3339 UTC); default now. Fix it for reproducible files.",
)
@store_options
@summary_options
def export_cmd(
    source: str,
    output: str,
    dialogues: tuple[str, ...],
    created_at: str | None,
    endpoint_url: str | None,
    region: str | None,
    segments: int,
    fmt: str,
    quiet: bool,
) -> None:
    """Export the encrypted records of SOURCE verbatim into a chainaudit NDJSON file.

    Records are sorted by key, with a trailer holding counts and a digest of
    every line, so the same records give the same bytes from any store. A
    regular file is written atomically (temporary name, fsync, rename); a
    device, a FIFO or `-` is written through, a symlink's target is written.

    \b
    Example:
      chainaudit export dynamodb://blue_dialogues --endpoint-url http://127.0.0.1:8000 -o batch.ndjson
    """
    if fmt == "json" and output == "-":
        raise click.UsageError("--format json prints on stdout: give -o FILE for the export")
    src = open_source(source, endpoint_url, region, segments)
    records = export_encrypted_batch(src, dialogues or None)
    summary = write_export(output, records, source=src.describe(), created_at=created_at or now())
    counts = {k: n for k, n in summary.counts.items() if k != "lines"}
    total = sum(counts.values())
    _summarize(
        fmt,
        quiet,
        f"exported {total} records ({_counts_text(counts)}) from {src.describe()} to {output}",
        {
            "type": "chainaudit/export-summary",
            "version": 1,
            "command": "export",
            "source": src.describe(),
            "output": output,
            "records": total,
            "counts": counts,
            "digest": summary.digest,
        },
    )


class _Damaged(Exception):
    """The input export failed its own integrity checks (raised before any write)."""


@click.command("import")
@click.argument("file")
@click.argument("target")
@click.option("--create", is_flag=True, help="Create the table or schema first (idempotent).")
@click.option(
    "--boundary-key",
    type=click.Path(dir_okay=False),
    help="Signing-key file: bridge every imported chain with a signed boundary event.",
)
@click.option(
    "--manifest",
    type=click.Path(dir_okay=False),
    help="The gate-pre manifest of this batch: its digest goes into each boundary, its time is the boundary time.",
)
@click.option(
    "--source-backend",
    default="dynamodb",
    show_default=True,
    help="Name of the store the batch came from, for boundary events.",
)
@click.option(
    "--target-backend",
    default=None,
    help="Name of the target store for boundary events (default: its scheme).",
)
@click.option(
    "--boundary-hash-alg",
    type=click.Choice(["sha256", "blake3"]),
    help="Hash algorithm of the continued chains (default: keep the source's).",
)
@click.option(
    "--boundary-time",
    metavar="TIME",
    help="Boundary timestamp (default: the manifest's created_at, else now).",
)
@store_options
@summary_options
def import_cmd(
    file: str,
    target: str,
    create: bool,
    boundary_key: str | None,
    manifest: str | None,
    source_backend: str,
    target_backend: str | None,
    boundary_hash_alg: str | None,
    boundary_time: str | None,
    endpoint_url: str | None,
    region: str | None,
    segments: int,
    fmt: str,
    quiet: bool,
) -> None:
    """Import the records of FILE into TARGET verbatim, idempotently.

    Records already present and identical are skipped, absent ones written,
    differing ones reported as IMPORT_CONFLICT and left untouched (exit 1).
    Re-running after an interruption completes the import.

    \b
    Example:
      chainaudit import batch.ndjson postgresql://localhost/audit --create \\
          --boundary-key signer.key --manifest manifest.json
    """
    # Every file named is read before anything is written (CLI-10).
    signer = load_signing_key(boundary_key) if boundary_key else None
    doc = load_json(manifest, "manifest") if manifest else None
    if manifest and doc is not None:
        with naming_files(manifest=manifest):
            check_shape(doc)
    when = boundary_time or (doc or {}).get("created_at")
    if signer is not None and when is not None and timestamp_ms(str(when)) is None:
        given = f"--boundary-time {boundary_time}" if boundary_time else f"{manifest}: created_at"
        raise InputError(given, "is not an RFC 3339 UTC timestamp (YYYY-MM-DDThh:mm:ss[.f]Z)")
    src = open_source(file, None, None, 1)
    sink = open_source(target, endpoint_url, region, segments)
    if not hasattr(sink, "import_records"):
        raise InputError(
            target, "is not a store chainaudit can import into (use postgresql:// or dynamodb://)"
        )
    if create:
        creator = getattr(sink, "create_schema", None) or getattr(sink, "create_table", None)
        if creator is not None:
            creator()
    damage: list[Finding] = []

    def intact() -> Iterator[Record]:
        # EXP-7: an export is judged at its end (trailer digest and counts), so
        # the batch is staged and nothing reaches the store unless it is whole.
        yield from export_encrypted_batch(src, on_finding=damage.append)
        if damage:
            raise _Damaged

    try:
        report = import_encrypted_batch(sink, intact(), stage=True)  # type: ignore[arg-type]
    except _Damaged:
        if fmt == "json":
            _summarize(fmt, quiet, "", _import_doc(file, sink.describe(), damage, refused=True))
        else:
            click.echo(
                f"chainaudit: refusing to import {file}: {len(damage)} integrity finding(s); "
                "nothing was written",
                err=True,
            )
            for finding in damage[:20]:
                click.echo(f"  {finding}", err=True)
        sys.exit(EXIT_FINDINGS)
    conflicts = list(report.conflicts)
    bridged = 0
    already: set[str] = set()
    if signer is not None:
        digest = None
        time = boundary_time
        if doc is not None:
            digest = manifest_digest(doc)
            time = time or str(doc.get("created_at"))
        tips = chain_tips(export_encrypted_batch(src))
        # A chain that already continues past the batch's tip in the target was
        # bridged (or continued) before: a second boundary would fork it.
        present = chain_tips(export_encrypted_batch(sink))
        already = {c for c, t in tips.items() if c in present and present[c].count > t.count}
        tips = {c: t for c, t in tips.items() if c not in already}
        bounds = list(
            boundary_records(
                tips,
                signer,
                time=time or now(),
                source_backend=source_backend,
                target_backend=target_backend or target.split(":", 1)[0],
                hash_alg=boundary_hash_alg,
                manifest_digest=digest,
            )
        )
        extra = import_encrypted_batch(sink, bounds)  # type: ignore[arg-type]
        conflicts += extra.conflicts
        bridged = len(bounds)
    text = (
        f"imported into {sink.describe()}: {report.written} written, {report.unchanged} unchanged, "
        f"{len(conflicts)} conflicts, {bridged} chains bridged"
        + (f", {len(already)} already continued" if boundary_key else "")
    )
    text += "".join(f"\n  {finding}" for finding in conflicts[:20])
    doc = _import_doc(file, sink.describe(), conflicts, refused=False)
    doc.update(
        written=report.written,
        unchanged=report.unchanged,
        bridged=bridged,
        already_continued=len(already),
    )
    _summarize(fmt, quiet, text, doc)
    sys.exit(EXIT_FINDINGS if conflicts else EXIT_OK)


def _import_doc(
    file: str, target: str, findings: list[Finding], *, refused: bool
) -> dict[str, Any]:
    """The JSON summary of an import (CLI-9): what was written, and every conflict
    (or, when the export was refused, every integrity finding) as REP-3.1 objects."""
    return {
        "type": "chainaudit/import-summary",
        "version": 1,
        "command": "import",
        "file": file,
        "target": target,
        "refused": refused,
        "exit_code": EXIT_FINDINGS if findings else EXIT_OK,
        "written": 0,
        "unchanged": 0,
        "bridged": 0,
        "already_continued": 0,
        "conflicts": 0 if refused else len(findings),
        "findings": [f.to_json() for f in findings],
    }
