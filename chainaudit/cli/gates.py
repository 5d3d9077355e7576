"""``gate pre``, ``gate post``, ``diff``, ``prove`` and ``verify-proof``.

The pre-migration gate verifies the source fully and signs a manifest of it
(per dialogue counts, chain tips, a BLAKE3 Merkle root over every record,
and a leaves file naming every record); the post-migration gate verifies
the target fully and proves it holds exactly the manifest's records, with
every chain bridged (docs/manifest.md).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import click

from chainaudit.audit import AuditOptions
from chainaudit.cli.common import (
    emit,
    key_options,
    load_json,
    load_trust,
    load_umk,
    now,
    open_source,
    report_options,
    run_audit,
    store_options,
    trust_option,
)
from chainaudit.diff import diff_sources
from chainaudit.errors import InputError
from chainaudit.findings import Finding
from chainaudit.gate import gate_post
from chainaudit.manifest import ManifestBuilder, dump_manifest, sign_manifest
from chainaudit.proof import make_proof, verify_proof
from chainaudit.report import exit_code_for
from chainaudit.signer import load_signing_key
from chainaudit.sources import Source


def _leaves_path(manifest: str, leaves: str | None) -> Path:
    return Path(leaves) if leaves else Path(manifest + ".leaves")


def _records(src: Source) -> Iterator[object]:
    for item in src.read():
        if not isinstance(item, Finding):
            yield item


@click.group()
def gate() -> None:
    """Migration gates: sign what the source holds, prove the target holds exactly that.

    \b
    Example:
      chainaudit gate pre dynamodb://blue_dialogues --signing-key migration.key -m manifest.json
      chainaudit gate post postgresql://127.0.0.1/audit -m manifest.json --trusted-keys trusted-keys.json
    """


@gate.command("pre")
@click.argument("source")
@click.option(
    "--signing-key",
    required=True,
    type=click.Path(dir_okay=False),
    help="Signing-key file (chainaudit keys signer).",
)
@click.option(
    "-m",
    "--manifest",
    "manifest_out",
    required=True,
    type=click.Path(dir_okay=False),
    help="Where to write the signed manifest.",
)
@click.option(
    "--leaves",
    type=click.Path(dir_okay=False),
    help="Where to write the leaves file (default MANIFEST.leaves).",
)
@click.option("--created-at", metavar="TIME", help="Manifest time (RFC 3339 UTC); default now.")
@key_options
@trust_option
@store_options
@report_options
def gate_pre(
    source: str,
    signing_key: str,
    manifest_out: str,
    leaves: str | None,
    created_at: str | None,
    umk_file: str | None,
    kms_umk_blob: str | None,
    kms_key_id: str | None,
    trusted_keys: tuple[str, ...],
    endpoint_url: str | None,
    region: str | None,
    segments: int,
    fmt: str,
    output: str | None,
    quiet: bool,
) -> None:
    """Verify SOURCE fully, then write a signed manifest of it.

    The manifest is written only when the source verifies (exit 0): a gate
    never signs data it could not vouch for.

    \b
    Example:
      chainaudit gate pre dynamodb://blue_dialogues --endpoint-url http://127.0.0.1:8000 \\
          --signing-key signer.key --trusted-keys trusted-keys.json -m manifest.json
    """
    signer = load_signing_key(signing_key)
    src = open_source(source, endpoint_url, region, segments)
    options = AuditOptions(
        umk=load_umk(umk_file, kms_umk_blob, kms_key_id, region), trust=load_trust(trusted_keys)
    )
    result = run_audit(src, options, quiet)
    if exit_code_for(result) == 0:
        leaves_path = _leaves_path(manifest_out, leaves)
        with ManifestBuilder() as builder, open(leaves_path, "wb") as leaves_file:
            for item in _records(src):
                builder.add(item)  # type: ignore[arg-type]
            result.extend(builder.duplicate_findings())
            statement = builder.statement(
                created_at=created_at or now(),
                source={
                    "backend": source.split(":", 1)[0] if "://" in source else "file",
                    "name": src.describe(),
                },
                leaves_out=leaves_file,
            )
        if exit_code_for(result) == 0:
            Path(manifest_out).write_bytes(dump_manifest(sign_manifest(statement, signer)))
            click.echo(
                f"signed manifest written to {manifest_out} (leaves: {leaves_path})", err=True
            )
    emit(result, "gate pre", src.describe(), fmt, output)


@gate.command("post")
@click.argument("target")
@click.option(
    "-m",
    "--manifest",
    required=True,
    type=click.Path(dir_okay=False, exists=True),
    help="The signed manifest from gate pre.",
)
@click.option(
    "--leaves",
    type=click.Path(dir_okay=False),
    help="The manifest's leaves file (default MANIFEST.leaves); names every missing or changed record.",
)
@click.option(
    "--allow-unbridged",
    is_flag=True,
    help="Accept chains that end at the manifest's tip with no boundary (a copy, not a migration).",
)
@key_options
@trust_option
@store_options
@report_options
def gate_post_cmd(
    target: str,
    manifest: str,
    leaves: str | None,
    allow_unbridged: bool,
    umk_file: str | None,
    kms_umk_blob: str | None,
    kms_key_id: str | None,
    trusted_keys: tuple[str, ...],
    endpoint_url: str | None,
    region: str | None,
    segments: int,
    fmt: str,
    output: str | None,
    quiet: bool,
) -> None:
    """Verify TARGET fully and prove it holds exactly the manifest's records.

    Nothing missing, nothing extra, nothing changed (by address), the same
    Merkle root, and every chain bridged by a valid boundary event
    (``chainaudit import --boundary-key``) unless --allow-unbridged.

    \b
    Example:
      chainaudit gate post postgresql://127.0.0.1/audit -m manifest.json --trusted-keys trusted-keys.json
    """
    if not trusted_keys:
        raise click.UsageError(
            "gate post needs --trusted-keys: a manifest counts only if a pinned key signed it"
        )
    doc = load_json(manifest, "manifest")
    trust = load_trust(trusted_keys)
    src = open_source(target, endpoint_url, region, segments)
    options = AuditOptions(umk=load_umk(umk_file, kms_umk_blob, kms_key_id, region), trust=trust)
    result = run_audit(src, options, quiet)
    leaves_path = _leaves_path(manifest, leaves)
    if leaves is not None and not leaves_path.exists():
        raise InputError(str(leaves_path), "no such leaves file")
    if leaves_path.exists():
        with open(leaves_path, "rb") as lf:
            gated = gate_post(
                doc,
                src.read(),
                pinned=trust.keys.values(),
                leaves=lf,
                require_bridge=not allow_unbridged,
            )
    else:
        gated = gate_post(
            doc, src.read(), pinned=trust.keys.values(), require_bridge=not allow_unbridged
        )
    result.extend(gated.findings)
    emit(result, "gate post", src.describe(), fmt, output)


@click.command("diff")
@click.argument("a")
@click.argument("b")
@store_options
@report_options
def diff_cmd(
    a: str,
    b: str,
    endpoint_url: str | None,
    region: str | None,
    segments: int,
    fmt: str,
    output: str | None,
    quiet: bool,
) -> None:
    """What differs between two stores or exports, by record key (dual-write check).

    Reports records only in A, only in B, and changed (different bytes).
    Exit 0 when both hold exactly the same records.

    \b
    Example:
      chainaudit diff dynamodb://blue_dialogues postgresql://127.0.0.1/audit --endpoint-url http://127.0.0.1:8000
    """
    src_a = open_source(a, endpoint_url, region, segments)
    src_b = open_source(b, endpoint_url, region, segments)
    result = diff_sources(
        src_a.read(), src_b.read(), label_a=src_a.describe(), label_b=src_b.describe()
    )
    emit(result, "diff", f"{src_a.describe()} vs {src_b.describe()}", fmt, output)


@click.command("prove")
@click.argument("record_key")
@click.option(
    "-m",
    "--manifest",
    required=True,
    type=click.Path(dir_okay=False, exists=True),
    help="The signed manifest written by gate pre.",
)
@click.option(
    "--leaves", type=click.Path(dir_okay=False), help="Leaves file (default MANIFEST.leaves)."
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), help="Write the proof here (default stdout)."
)
def prove(record_key: str, manifest: str, leaves: str | None, output: str | None) -> None:
    """An inclusion proof that RECORD_KEY (an address, dek#D#V or audit:C/ID) is in a manifest.

    The proof is checkable with only the manifest and a pinned key.

    \b
    Example:
      chainaudit prove 'dialogue:dlg-2026-001/entity:meta' -m manifest.json -o meta.proof.json
    """
    doc = load_json(manifest, "manifest")
    leaves_path = _leaves_path(manifest, leaves)
    if not leaves_path.exists():
        raise InputError(str(leaves_path), "no such leaves file")

    def open_leaves() -> Iterator[bytes]:
        with open(leaves_path, "rb") as f:
            yield from f

    proof = make_proof(doc, open_leaves, record_key)
    if proof is None:
        click.echo(
            f"chainaudit: error: {record_key}: not in the manifest; a record key is an address "
            "(dialogue:D/entity:T/S), dek#D#V or audit:C/EVENT_ID, exactly as listed in "
            f"{leaves_path}",
            err=True,
        )
        sys.exit(1)
    text = json.dumps(proof, indent=2) + "\n"
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


@click.command("verify-proof")
@click.argument("proof")
@click.option(
    "-m",
    "--manifest",
    required=True,
    type=click.Path(dir_okay=False, exists=True),
    help="The signed manifest the proof was made from.",
)
@trust_option
@report_options
def verify_proof_cmd(
    proof: str,
    manifest: str,
    trusted_keys: tuple[str, ...],
    fmt: str,
    output: str | None,
    quiet: bool,
) -> None:
    """Check an inclusion proof against a signed manifest, without the data.

    \b
    Example:
      chainaudit verify-proof meta.proof.json -m manifest.json --trusted-keys trusted-keys.json
    """
    trust = load_trust(trusted_keys)
    result = verify_proof(
        load_json(proof, "proof"), load_json(manifest, "manifest"), trust.keys.values()
    )
    emit(result, "verify-proof", proof, fmt, output)
