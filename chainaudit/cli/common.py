"""What every command shares: opening sources, keys and trust, writing reports.

The CLI only turns flags into objects and renders results; all checking
happens in the core. Errors raised on purpose are
:class:`~chainaudit.errors.ChainauditError`s, printed by the group as one
line with the documented exit code (docs/cli.md).
"""

from __future__ import annotations

import contextlib
import datetime
import errno
import functools
import hashlib
import math
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast

import click

from chainaudit.audit import AuditOptions, audit
from chainaudit.cli.progress import Progress
from chainaudit.errors import (
    EXIT_UNVERIFIED,
    EXIT_USAGE,
    ChainauditError,
    InputError,
    KeySourceError,
)
from chainaudit.findings import Result
from chainaudit.keys.signing import TrustStore
from chainaudit.keys.umk import Umk
from chainaudit.outfile import open_output
from chainaudit.primitives import strictjson
from chainaudit.report.assurance import (
    Assurance,
    Evidence,
    assess,
    parse_require,
    policy_findings,
    unanchored_findings,
)
from chainaudit.report.checks import RunFacts, plan
from chainaudit.report.render import (
    Summary,
    exit_code_for,
    render_json_chunks,
    render_junit,
    render_text,
)
from chainaudit.sources import Source
from chainaudit.sources.estimate import estimate_total
from chainaudit.sources.timeouts import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_READ_TIMEOUT,
    StoreTimeouts,
)

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


#: click context key of --profile (read by open_source and load_umk).
_AWS_PROFILE = "chainaudit.aws_profile"


def _remember_profile(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.meta[_AWS_PROFILE] = value


def aws_profile() -> str | None:
    """The ``--profile`` of the running command (None: boto3's default chain,
    which honours ``AWS_PROFILE``)."""
    ctx = click.get_current_context(silent=True)
    value = None if ctx is None else ctx.meta.get(_AWS_PROFILE)
    return value if isinstance(value, str) else None


#: click context key of --s3-endpoint-url (read by open_source for s3:// sources).
_S3_ENDPOINT = "chainaudit.s3_endpoint_url"


def _remember_s3_endpoint(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.meta[_S3_ENDPOINT] = value


def s3_endpoint_url() -> str | None:
    """The ``--s3-endpoint-url`` of the running command (None: AWS S3)."""
    ctx = click.get_current_context(silent=True)
    value = None if ctx is None else ctx.meta.get(_S3_ENDPOINT)
    return value if isinstance(value, str) else None


def store_options(f: F) -> F:
    """Options of live stores: where DynamoDB is, how to scan it, and how long
    to wait for either store (STORE-12; read by :func:`open_source`)."""
    f = click.option(
        "--profile",
        metavar="NAME",
        expose_value=False,
        callback=_remember_profile,
        help="AWS named profile for DynamoDB, S3 and KMS (default: AWS_PROFILE, then the "
        "default credential chain).",
    )(f)
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
        "or S3 request and each read of an S3 object's body (a timed-out request is not "
        "retried). docs/stores.md STORE-12.",
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
    f = click.option(
        "--s3-endpoint-url",
        metavar="URL",
        envvar="CHAINAUDIT_S3_ENDPOINT",
        show_envvar=True,
        expose_value=False,
        callback=_remember_s3_endpoint,
        help="S3 endpoint for s3:// sources (an S3-compatible server, path-style); omit for AWS.",
    )(f)
    f = click.option("--region", metavar="REGION", help="AWS region for DynamoDB, S3 and KMS.")(f)
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
    """The adapter for ``spec`` (:func:`chainaudit.api.open_source`, with the
    command's store options): a path (NDJSON export, ``.gz``, DynamoDB export
    directory, PostgreSQL COPY file), ``postgresql://...``, ``dynamodb://TABLE``,
    ``s3://BUCKET/...`` (an export in S3, EXP-13), or ``-`` (an export on
    standard input, CLI-9). Stores wait at most ``timeouts`` (default: the
    command's, :func:`store_timeouts`)."""
    if spec == "-":
        from chainaudit.sources.multi import spool_stdin

        return spool_stdin()
    from chainaudit.api import open_source as open_any

    return open_any(
        spec,
        endpoint_url=endpoint_url,
        region=region,
        segments=segments,
        profile=aws_profile(),
        s3_endpoint_url=s3_endpoint_url(),
        timeouts=timeouts if timeouts is not None else store_timeouts(),
    )


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

        from chainaudit.keys.kms import KmsUmkSource
        from chainaudit.sources.awsconfig import config_problem

        try:
            client = boto3.session.Session(profile_name=aws_profile()).client(
                "kms", region_name=region
            )
        except Exception as exc:
            problem = config_problem(exc)  # the local AWS configuration: exit 2 (CLI-3)
            if problem is None:
                raise
            raise KeySourceError(f"KMS: {problem}") from None
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


def _load_json_value(path: str, what: str) -> Any:
    try:
        return strictjson.loads(Path(path).read_bytes())
    except OSError as exc:
        raise InputError(path, f"cannot read {what}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise InputError(path, f"{what} is not JSON: {exc}") from None


def load_json(path: str, what: str) -> dict[str, Any]:
    """A JSON object from a file, or InputError naming the file."""
    doc = _load_json_value(path, what)
    if not isinstance(doc, dict):
        raise InputError(path, f"{what} is not a JSON object")
    return doc


def load_checkpoints(paths: tuple[str, ...]) -> list[tuple[str, dict[str, Any]]]:
    """Every checkpoint in the files: each holds one checkpoint object or a JSON
    array of them (CHAIN-11), so one file can anchor every chain of a dataset."""
    out: list[tuple[str, dict[str, Any]]] = []
    for p in paths:
        doc = _load_json_value(p, "checkpoint")
        docs = doc if isinstance(doc, list) else [doc]
        for i, d in enumerate(docs):
            if not isinstance(d, dict):
                raise InputError(p, f"checkpoint {i} is not a JSON object")
            out.append((p if len(docs) == 1 else f"{p}[{i}]", d))
    return out


# --- assurance (REP-7) ---------------------------------------------------------------


def require_option(default: str) -> Callable[[F], F]:
    """``--require``: assurance families whose absence ends the run in exit 3."""

    def deco(f: F) -> F:
        return click.option(
            "--require",
            "require",
            metavar="LIST",
            default=default,
            show_default=True,
            callback=_parse_require,
            help="Assurances that must be proven, comma-separated: authenticated, anchored, "
            "committed, complete, erasure, all or none. Any not proven is exit 3, named in "
            "the report (docs/threat-model.md).",
        )(f)

    return deco


def _parse_require(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[str, ...]:
    try:
        return parse_require(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


# --- output -----------------------------------------------------------------------


def report_options(f: F) -> F:
    """``--format``, ``-o`` and ``-q``; an error that ends the command still
    leaves a report behind (:func:`_error_report`)."""

    command = f

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context(silent=True)
        limit = kwargs.pop("max_findings", None)
        shown = kwargs.pop("progress", None)
        if ctx is not None:
            ctx.meta[_MAX_FINDINGS] = limit
            ctx.meta[_PROGRESS] = shown
        try:
            return command(*args, **kwargs)
        except (click.exceptions.Exit, click.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:
            _error_report(exc, kwargs)
            raise

    f = cast(F, run)
    f = click.option(
        "--format",
        "fmt",
        type=click.Choice(["text", "json", "junit", "html"]),
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
    f = click.option(
        "--progress/--no-progress",
        default=None,
        help="Progress on stderr: phase, count against the known total, rate and ETA "
        "(default: only when stderr is a terminal; -q silences it).",
    )(f)
    f = click.option(
        "--max-findings",
        type=click.IntRange(min=0),
        metavar="N",
        help="Text: show the first N finding groups (default 20). JSON: list at most N "
        "findings (default all; the counts always cover every finding). HTML: list the "
        "first N finding groups (default 1000).",
    )(f)
    return f


#: click context key carrying --max-findings from report_options to emit.
_MAX_FINDINGS = "chainaudit.max_findings"
#: click context key carrying --progress/--no-progress to run_audit.
_PROGRESS = "chainaudit.progress"


def _max_findings() -> int | None:
    ctx = click.get_current_context(silent=True)
    value = None if ctx is None else ctx.meta.get(_MAX_FINDINGS)
    return value if isinstance(value, int) else None


def file_digest(spec: str) -> str | None:
    """SHA-256 of an input file, for the report's provenance (REP-2.2); None for
    a directory, a store or anything that is not a regular file."""
    path = Path(spec)
    try:
        if not path.is_file():
            return None
        h = hashlib.sha256()
        with path.open("rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
        return h.hexdigest()
    except OSError:
        return None


def provenance(
    specs: Sequence[str],
    srcs: Sequence[Source],
    options: AuditOptions | None = None,
    checkpoints: Sequence[str] = (),
) -> dict[str, Any]:
    """What the run was given, for the report header (REP-2.2): never a key, only
    the UMK's fingerprint and the pinned keys' ids."""
    umk = options.umk if options is not None else None
    return {
        "inputs": [
            {"name": src.describe(), "sha256": getattr(src, "sha256", None) or file_digest(spec)}
            for spec, src in zip(specs, srcs, strict=True)
        ],
        "umk_fingerprint": umk.fingerprint() if umk is not None else None,
        "pinned": sorted(options.trust.keys) if options is not None else [],
        "checkpoints": list(checkpoints),
    }


def run_audit(
    src: Source,
    options: AuditOptions,
    quiet: bool,
    evidence: Evidence | None = None,
    runner: Callable[..., Result] | None = None,
) -> Result:
    """The full verification of ``src`` (chainaudit.audit), with progress on stderr;
    ``evidence`` is filled for the assurance statement (REP-7). ``runner``: what
    verifies instead of :func:`chainaudit.audit.audit`, with its arguments
    (``verify --dask``: :func:`chainaudit.distributed.audit_dask`)."""
    ctx = click.get_current_context(silent=True)
    wanted = None if ctx is None else ctx.meta.get(_PROGRESS)
    enabled = False if quiet else (wanted if isinstance(wanted, bool) else None)
    progress = Progress(enabled)
    if progress.enabled:
        progress.total = estimate_total(src)
    result = None
    try:
        result = (runner or audit)(src, options, progress, evidence)
        return result
    finally:
        progress.done(None if result is None else result.checked.get("records"))


def run_facts(
    evidence: Evidence, options: AuditOptions, src: Source, checkpoints: bool
) -> RunFacts:
    """What the run had to work with, for the JUnit plan (REP-4)."""
    return RunFacts(
        keyed=evidence.keyed,
        umk_given=options.umk is not None,
        checkpoints=checkpoints,
        pinned=bool(options.trust.keys),
        audit_log=evidence.audit_log,
        source_kind=str(getattr(src, "kind", "store")),
        source_kinds=frozenset(getattr(src, "kinds", ())),
    )


def conclude(result: Result, evidence: Evidence, required: tuple[str, ...]) -> None:
    """REP-7: add the unanchored-chain notices and the policy's findings to
    ``result`` and keep the assurance statement on ``evidence`` (once)."""
    if evidence.assurance is not None:
        return
    result.extend(unanchored_findings(evidence))
    evidence.assurance = assess(result, evidence)
    result.extend(policy_findings(evidence.assurance, required))


def emit(
    result: Result,
    command: str,
    subject: str,
    fmt: str,
    output: str | None,
    *,
    evidence: Evidence | None = None,
    required: tuple[str, ...] = (),
    facts: RunFacts | None = None,
    provenance: dict[str, Any] | None = None,
) -> None:
    """Render the report, write it, and exit with the documented code.

    With ``evidence`` (commands that verify data), the report states what
    was proven (REP-7): every chain no verified anchor covers to its end is
    a ``CHAIN_UNANCHORED`` notice, every required family not proven an
    ``ASSURANCE_NOT_MET`` (exit 3). ``facts`` decides which checks JUnit
    lists as run or skipped (REP-4).
    """
    assurance: dict[str, Assurance] = {}
    mode = None
    if evidence is not None:
        conclude(result, evidence, required)
        assurance = dict(evidence.assurance or {})
        if result.checked.get("envelopes", 0) or evidence.umk_fingerprint:
            mode = "keyed" if evidence.keyed else "keyless"
    summary = Summary(
        command=command,
        subject=subject,
        generated_at=now(),
        mode=mode,
        assurance=assurance,
        required=required,
        provenance=provenance or {},
    )
    junit_plan = plan(command, facts or RunFacts(), result)
    _deliver(_render(result, summary, fmt, junit_plan, _max_findings(), evidence), output)
    sys.exit(exit_code_for(result))


def _render(
    result: Result,
    summary: Summary,
    fmt: str,
    junit_plan: dict[str, str | None],
    max_findings: int | None = None,
    evidence: Evidence | None = None,
) -> str | Iterator[str]:
    if fmt == "json":  # a finding at a time: never the whole report in memory
        return render_json_chunks(result, summary, max_findings)
    if fmt == "html":  # REP-8: the chains' timelines come from the evidence
        from chainaudit.report.html import render_html

        return render_html(
            result,
            summary,
            evidence.timeline if evidence is not None else None,
            anchors=evidence.anchors if evidence is not None else (),
            max_findings=max_findings,
        )
    if fmt == "junit":
        return render_junit(result, summary, junit_plan)
    return render_text(result, summary, 20 if max_findings is None else max_findings)


def _deliver(text: str | Iterator[str], output: str | None) -> None:
    """Write the report (whole, or in pieces) to ``output``, or to stdout without one."""
    pieces = [text] if isinstance(text, str) else _batched(text)
    if output:
        # A device, FIFO or `-` is written through, a symlink's target written
        # (docs/cli.md, CLI-8); a regular file appears whole or not at all.
        with open_output(output, "the report") as out:
            for piece in pieces:
                out.write(piece.encode("utf-8"))
    else:
        for piece in pieces:
            click.echo(piece, nl=False)


def _batched(pieces: Iterator[str], size: int = 1 << 16) -> Iterator[str]:
    """``pieces`` joined into writes of about ``size`` characters."""
    held: list[str] = []
    n = 0
    for piece in pieces:
        held.append(piece)
        n += len(piece)
        if n >= size:
            yield "".join(held)
            held, n = [], 0
    if held:
        yield "".join(held)


def _error_exit(exc: BaseException) -> tuple[int, str]:
    """The exit code and one-line message the CLI group gives ``exc`` (CLI-4)."""
    if isinstance(exc, ChainauditError):
        return exc.exit_code, exc.diagnostics()
    if isinstance(exc, click.ClickException):
        return exc.exit_code, exc.format_message()
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        full = exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EIO)
        return (EXIT_UNVERIFIED if full else EXIT_USAGE), where + str(exc.strerror or exc)
    return EXIT_UNVERIFIED, f"internal error: {type(exc).__name__}: {exc}"


def _subject_of(params: dict[str, Any]) -> str:
    sources = params.get("sources")
    if isinstance(sources, tuple) and sources:
        return " + ".join(str(s) for s in sources)
    for name in ("source", "target", "proof"):
        if isinstance(params.get(name), str):
            return str(params[name])
    if isinstance(params.get("a"), str) and isinstance(params.get("b"), str):
        return f"{params['a']} vs {params['b']}"
    return ""


def _error_report(exc: BaseException, params: dict[str, Any]) -> None:
    """REP-3/REP-4: a run that ends in exit 2 or 3 by an error still writes its
    JSON or JUnit report (or its text report to ``-o``), carrying the error,
    so a CI step always has a file to publish. Best effort: a failure to
    write it never hides the original error."""
    fmt, output = params.get("fmt", "text"), params.get("output")
    if fmt == "text" and not output:
        return  # the one line on stderr is the whole text report
    if output and output in (getattr(exc, "where", None), getattr(exc, "filename", None)):
        return  # the report's own destination failed: again would fail, or wait on a FIFO
    ctx = click.get_current_context(silent=True)
    command = ctx.command_path.split(" ", 1)[1] if ctx and " " in ctx.command_path else ""
    code, message = _error_exit(exc)
    summary = Summary(
        command=command,
        subject=_subject_of(params),
        generated_at=now(),
        error=" ".join(message.split()),
        error_exit=code,
    )
    with contextlib.suppress(Exception):
        _deliver(_render(Result(), summary, str(fmt), {}), output)
