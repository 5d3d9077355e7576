"""What every command shares: opening sources, keys and trust, writing reports.

The CLI only turns flags into objects and renders results; all checking
happens in the core. Errors raised on purpose are
:class:`~chainaudit.errors.ChainauditError`s, printed by the group as one
line with the documented exit code (docs/cli.md).
"""

from __future__ import annotations

import datetime
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from chainaudit import strictjson
from chainaudit.audit import AuditOptions, audit
from chainaudit.errors import InputError
from chainaudit.findings import Result
from chainaudit.outfile import write_output
from chainaudit.report import Summary, exit_code_for, render_json, render_junit, render_text
from chainaudit.signing import TrustStore
from chainaudit.sources import Source
from chainaudit.sources.timeouts import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_READ_TIMEOUT,
    StoreTimeouts,
)
from chainaudit.umk import Umk

F = TypeVar("F", bound=Callable[..., Any])


def now() -> str:
    """The CLI's clock (the core never reads one): RFC 3339 UTC, milliseconds."""
    t = datetime.datetime.now(datetime.UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


# --- sources ------------------------------------------------------------------


_TIMEOUT_META = "chainaudit.store_timeouts"


def _store_timeout(ctx: click.Context, param: click.Parameter, value: float) -> float:
    """Keep a timeout option for :func:`open_source` (STORE-12); any positive,
    finite number of seconds."""
    if not (math.isfinite(value) and value > 0):
        raise click.BadParameter("must be a positive number of seconds")
    ctx.meta.setdefault(_TIMEOUT_META, {})[param.name] = value
    return value


def store_timeouts() -> StoreTimeouts:
    """The ``--connect-timeout`` and ``--read-timeout`` of the running command
    (their defaults outside one): every store :func:`open_source` opens uses them."""
    ctx = click.get_current_context(silent=True)
    given = ctx.meta.get(_TIMEOUT_META, {}) if ctx is not None else {}
    return StoreTimeouts(
        connect=given.get("connect_timeout", DEFAULT_CONNECT_TIMEOUT),
        read=given.get("read_timeout", DEFAULT_READ_TIMEOUT),
    )


def store_options(f: F) -> F:
    """Options of live stores: where DynamoDB is, how to scan it, and how long
    to wait for either store (STORE-12; read by :func:`open_source`)."""
    f = click.option(
        "--read-timeout",
        type=float,
        metavar="SECONDS",
        default=DEFAULT_READ_TIMEOUT,
        show_default=True,
        envvar="CHAINAUDIT_READ_TIMEOUT",
        show_envvar=True,
        expose_value=False,
        callback=_store_timeout,
        help="Longest wait for any one answer from a store, then exit 3: each PostgreSQL "
        "statement, fetch or commit (also the session's statement_timeout), each DynamoDB "
        "request (a timed-out request is not retried). docs/stores.md STORE-12.",
    )(f)
    f = click.option(
        "--connect-timeout",
        type=float,
        metavar="SECONDS",
        default=DEFAULT_CONNECT_TIMEOUT,
        show_default=True,
        envvar="CHAINAUDIT_CONNECT_TIMEOUT",
        show_envvar=True,
        expose_value=False,
        callback=_store_timeout,
        help="Longest wait for a connection to a store, then exit 3 (PostgreSQL: per "
        "address tried, in whole seconds, at least 2).",
    )(f)
    f = click.option(
        "--endpoint-url",
        metavar="URL",
        envvar="CHAINAUDIT_DYNAMODB_ENDPOINT",
        help="DynamoDB endpoint (a local server); omit for AWS.",
    )(f)
    f = click.option("--region", metavar="REGION", help="AWS region for DynamoDB and KMS.")(f)
    f = click.option(
        "--segments",
        type=click.IntRange(1, 64),
        default=4,
        show_default=True,
        help="Parallel DynamoDB Scan segments.",
    )(f)
    return f


def open_source(
    spec: str,
    endpoint_url: str | None,
    region: str | None,
    segments: int,
    *,
    timeouts: StoreTimeouts | None = None,
) -> Source:
    """The adapter for ``spec``: a path (NDJSON export, ``.gz``, DynamoDB export
    directory, PostgreSQL COPY file), ``postgresql://...`` or ``dynamodb://TABLE``.
    Stores wait at most ``timeouts`` (default: the command's, :func:`store_timeouts`)."""
    if timeouts is None:
        timeouts = store_timeouts()
    if spec.startswith(("postgresql://", "postgres://")):
        from chainaudit.sources.postgres import PostgresStore

        return PostgresStore(spec, timeouts=timeouts)
    if spec.startswith("dynamodb://"):
        from chainaudit.sources.dynamodb import DynamoDBStore

        table = spec[len("dynamodb://") :].strip("/")
        if not table:
            raise InputError(spec, "name the table: dynamodb://TABLE")
        return DynamoDBStore(
            table, endpoint_url=endpoint_url, region=region, segments=segments, timeouts=timeouts
        )
    path = Path(spec)
    if not path.exists():
        raise InputError(spec, "no such file or directory")
    import importlib.util

    if importlib.util.find_spec("chainaudit.sources.open") is not None:
        opener = importlib.import_module("chainaudit.sources.open")
        return opener.open_source(spec)  # type: ignore[no-any-return]
    from chainaudit.sources.ndjson import NdjsonSource

    return NdjsonSource(path)


# --- keys and trust -------------------------------------------------------------


def key_options(f: F) -> F:
    """Options that supply the UMK: a local file, or a KMS-encrypted blob."""
    f = click.option(
        "--umk",
        "umk_file",
        type=click.Path(dir_okay=False),
        help="UMK file (64 hex digits, mode 0600). With keys, records are also decrypted.",
    )(f)
    f = click.option(
        "--kms-umk-blob",
        type=click.Path(dir_okay=False),
        help="The UMK as a KMS ciphertext blob (base64); needs --kms-key-id.",
    )(f)
    f = click.option("--kms-key-id", metavar="ARN", help="KMS key that encrypted the UMK blob.")(f)
    return f


def load_umk(
    umk_file: str | None, kms_blob: str | None, kms_key_id: str | None, region: str | None
) -> Umk | None:
    """The UMK from the options, or None for a keyless run."""
    if umk_file and kms_blob:
        raise click.UsageError("give either --umk or --kms-umk-blob, not both")
    if umk_file:
        return Umk.from_file(umk_file)
    if kms_blob:
        if not kms_key_id:
            raise click.UsageError("--kms-umk-blob needs --kms-key-id")
        import boto3

        from chainaudit.kms import KmsUmkSource

        client = boto3.client("kms", region_name=region)
        return KmsUmkSource.from_blob_file(kms_blob, kms_key_id, client).load()
    return None


def trust_option(f: F) -> F:
    return click.option(
        "--trusted-keys",
        "trusted_keys",
        multiple=True,
        type=click.Path(dir_okay=False),
        help="Trusted-keys file pinning signer public keys (repeatable). "
        "Signatures by any other key are reported as untrusted.",
    )(f)


def load_trust(paths: tuple[str, ...]) -> TrustStore:
    """Every key pinned by the given trusted-keys files."""
    keys: list[bytes] = []
    for p in paths:
        keys.extend(TrustStore.load(Path(p)).keys.values())
    return TrustStore.of(keys)


def load_json(path: str, what: str) -> dict[str, Any]:
    """A JSON object from a file, or InputError naming the file."""
    try:
        doc = strictjson.loads(Path(path).read_bytes())
    except OSError as exc:
        raise InputError(path, f"cannot read {what}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise InputError(path, f"{what} is not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise InputError(path, f"{what} is not a JSON object")
    return doc


# --- output -----------------------------------------------------------------------


def report_options(f: F) -> F:
    f = click.option(
        "--format",
        "fmt",
        type=click.Choice(["text", "json", "junit"]),
        default="text",
        show_default=True,
        help="Report format (docs/report.md).",
    )(f)
    f = click.option(
        "-o",
        "--output",
        type=click.Path(readable=False),  # checked by chainaudit.outfile, in one line
        metavar="FILE",
        help="Write the report to this file instead of stdout (`-`: stdout).",
    )(f)
    f = click.option(
        "-q", "--quiet", is_flag=True, help="No progress on stderr (also off when not a terminal)."
    )(f)
    return f


class Progress:
    """Progress on stderr, only on a terminal and not with --quiet."""

    def __init__(self, quiet: bool) -> None:
        self.enabled = not quiet and sys.stderr.isatty()

    def __call__(self, n: int) -> None:
        if self.enabled:
            click.echo(f"\r  {n:,} records read", err=True, nl=False)

    def done(self) -> None:
        if self.enabled:
            click.echo("\r" + " " * 40 + "\r", err=True, nl=False)


def run_audit(src: Source, options: AuditOptions, quiet: bool) -> Result:
    """The full verification of ``src`` (chainaudit.audit), with progress on stderr."""
    progress = Progress(quiet)
    try:
        return audit(src, options, progress)
    finally:
        progress.done()


def emit(result: Result, command: str, subject: str, fmt: str, output: str | None) -> None:
    """Render the report, write it, and exit with the documented code."""
    summary = Summary(command=command, subject=subject, generated_at=now())
    if fmt == "json":
        text = render_json(result, summary)
    elif fmt == "junit":
        text = render_junit(result, summary)
    else:
        text = render_text(result, summary)
    if output:
        # A device, FIFO or `-` is written through, a symlink's target written (docs/cli.md, CLI-8).
        write_output(output, text, "the report")
    else:
        click.echo(text, nl=False)
    sys.exit(exit_code_for(result))
