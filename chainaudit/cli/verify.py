"""``chainaudit verify``: full verification of an export or a live store."""

from __future__ import annotations

import importlib
from collections.abc import Callable

import click

from chainaudit.audit import AuditOptions
from chainaudit.cli.common import (
    aws_profile,
    emit,
    key_options,
    load_checkpoints,
    load_trust,
    load_umk,
    open_source,
    provenance,
    report_options,
    require_option,
    run_audit,
    run_facts,
    store_options,
    trust_option,
)
from chainaudit.findings import Result
from chainaudit.report.assurance import Evidence
from chainaudit.sources import Source
from chainaudit.sources.ddb_export import DynamoDBExportSource
from chainaudit.sources.multi import MultiSource


@click.command()
@click.argument("sources", nargs=-1, required=True, metavar="SOURCE...")
@key_options
@trust_option
@click.option(
    "--checkpoint",
    "checkpoints",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="Signed checkpoint file (CHAIN-11): one checkpoint or a JSON array of them; "
    "proves each chain still extends it (repeatable).",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Processes: an uncompressed NDJSON export, a DynamoDB table (Scan segments) or "
    "a PostgreSQL database (key ranges of one snapshot) is read and verified in that "
    "many parts at once; a DynamoDB Export to S3 by data file, on a local Dask cluster "
    "(chainaudit[dask]); other sources split only their chain verification (CLI-5).",
)
@click.option(
    "--dask",
    "dask_address",
    metavar="ADDRESS",
    help="Verify on a Dask cluster: tcp://HOST:PORT (its scheduler) or local:N (a "
    "LocalCluster of N worker processes); the same result as one process. Needs "
    "chainaudit[dask]; workers open the UMK themselves (docs/distributed.md).",
)
@require_option("none")
@store_options
@report_options
def verify(
    sources: tuple[str, ...],
    umk_file: str | None,
    kms_umk_blob: str | None,
    kms_key_id: str | None,
    trusted_keys: tuple[str, ...],
    checkpoints: tuple[str, ...],
    workers: int,
    dask_address: str | None,
    require: tuple[str, ...],
    endpoint_url: str | None,
    region: str | None,
    segments: int,
    fmt: str,
    output: str | None,
    quiet: bool,
) -> None:
    """Verify every record, envelope and chain in SOURCE (several: one dataset).

    SOURCE is an NDJSON export (.ndjson or .ndjson.gz), a DynamoDB Export to
    S3 directory, a PostgreSQL COPY file (TABLE.copy.json in COPY text format,
    or TABLE.jsonl of row_to_json lines; see docs/export.md), postgresql://...,
    dynamodb://TABLE, or an export read in S3: s3://BUCKET/PREFIX/AWSDynamoDB/ID/
    (a DynamoDB Export to S3), s3://BUCKET/KEY.ndjson, or s3://BUCKET/PREFIX/ (every
    .ndjson and .ndjson.gz object under it); `-` is an export on standard input. Several sources
    are checked as one dataset (nonce reuse and chains across them; their
    order does not matter). Keyless by default; with --umk (or KMS) it also
    authenticates and decrypts every envelope.

    \b
    Example:
      chainaudit verify export.ndjson --umk umk.hex --trusted-keys trusted-keys.json
      chainaudit verify dynamodb://blue_dialogues --endpoint-url http://127.0.0.1:8000 --format json
      chainaudit verify s3://my-exports/prod/AWSDynamoDB/01700000000000-0a1b2c3d/ --region eu-west-1
      chainaudit verify s3://my-exports/prod/AWSDynamoDB/01700000000000-0a1b2c3d/ --dask tcp://scheduler:8786
      zcat export.ndjson.gz | chainaudit verify - incremental-0001.ndjson

    The report says what was proven, family by family (authenticated,
    anchored, committed, complete, erasure; docs/report.md REP-7); --require
    makes any of them a condition of exit 0.

    Exit codes: 0 sound, 1 findings, 2 bad input, 3 could not verify everything.
    """
    options = AuditOptions(
        umk=load_umk(umk_file, kms_umk_blob, kms_key_id, region),
        trust=load_trust(trusted_keys),
        checkpoints=load_checkpoints(checkpoints),
        workers=workers,
    )
    if sources.count("-") > 1:
        raise click.UsageError("standard input (-) can be named once")
    opened = [open_source(s, endpoint_url, region, segments) for s in sources]
    src = opened[0] if len(opened) == 1 else MultiSource(opened)
    evidence = Evidence()
    runner = None
    if dask_address:
        from chainaudit import distributed

        if workers > 1:
            raise click.UsageError("give --workers or --dask, not both")
        ref = distributed.umk_ref(
            options.umk, umk_file, kms_umk_blob, kms_key_id, region, aws_profile()
        )
        runner = distributed.runner(dask_address, ref)
    elif workers > 1 and any(isinstance(s, DynamoDBExportSource) for s in opened):
        runner = _data_file_runner(
            src, workers, options, umk_file, kms_umk_blob, kms_key_id, region, quiet
        )
    result = run_audit(src, options, quiet, evidence, runner)
    facts = run_facts(evidence, options, src, bool(checkpoints))
    emit(
        result,
        "verify",
        src.describe(),
        fmt,
        output,
        evidence=evidence,
        required=require,
        facts=facts,
        provenance=provenance(sources, opened, options, checkpoints),
    )


def _data_file_runner(
    src: Source,
    workers: int,
    options: AuditOptions,
    umk_file: str | None,
    kms_umk_blob: str | None,
    kms_key_id: str | None,
    region: str | None,
    quiet: bool,
) -> Callable[..., Result] | None:
    """``--workers N`` with a DynamoDB Export to S3 among the sources (CLI-5):
    its data files hold a dialogue's items in any of them, so they are read
    as the spooled run of ``--dask local:N`` reads them (a task per data
    file, then one per chain bucket), on N local worker processes. Without
    the ``dask`` extra, or beside a source Dask workers do not read (a live
    store, standard input), one process reads them (and says so)."""
    try:
        importlib.import_module("distributed")
    except ImportError:
        _in_one_process("with chainaudit[dask] installed", quiet)
        return None
    from chainaudit import distributed

    if not distributed.plannable(src):
        _in_one_process("beside other exports (not a live store or standard input)", quiet)
        return None
    ref = distributed.umk_ref(
        options.umk, umk_file, kms_umk_blob, kms_key_id, region, aws_profile()
    )
    return distributed.runner(f"local:{workers}", ref)


def _in_one_process(only: str, quiet: bool) -> None:
    """Say (one line on stderr) why one process reads the export's data files."""
    if not quiet:
        click.echo(
            f"chainaudit: --workers reads a DynamoDB export's data files in parallel only "
            f"{only}; reading them in one process",
            err=True,
        )
