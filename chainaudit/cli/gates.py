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
from collections.abc import Iterator, Sequence
from pathlib import Path

import click

from chainaudit.audit import AuditOptions
from chainaudit.cli.common import (
    conclude,
    emit,
    file_digest,
    key_options,
    load_json,
    load_trust,
    load_umk,
    now,
    open_source,
    provenance,
    report_options,
    require_option,
    run_audit,
    run_facts,
    store_options,
    trust_option,
)
from chainaudit.errors import InputError, naming_files
from chainaudit.findings import Finding, codes
from chainaudit.keys.signer import load_signing_key
from chainaudit.migration.diff import diff_sources
from chainaudit.migration.gate import gate_post
from chainaudit.migration.manifest import ManifestBuilder, check_shape, dump_manifest, sign_manifest
from chainaudit.migration.proof import make_proof, verify_proof
from chainaudit.outfile import destination, open_output, write_output
from chainaudit.report.assurance import Anchor, Evidence
from chainaudit.report.render import exit_code_for
from chainaudit.sources import Source

#: REP-7 defaults of the gates (docs/cli.md): gate pre signs only what keys
#: authenticated; gate post proves the target complete against the manifest.
GATE_PRE_REQUIRES = "authenticated"
GATE_POST_REQUIRES = "complete"


def _leaves_path(manifest: str, leaves: str | None) -> Path:
    return Path(leaves) if leaves else Path(manifest + ".leaves")


def _check_outputs(manifest: str, leaves: str | None, report: str | None) -> None:
    """Refuse unusable outputs before the long run and before signing anything
    (docs/cli.md, CLI-8): each must be writable (a device is opened to see),
    the leaves file needs a name of its own when the manifest is not a
    regular file, and at most one output may be stdout (the report goes
    there without -o)."""
    dest = destination(manifest, "the manifest")
    if leaves is None and dest.kind != "file":
        raise InputError(manifest, "is not a regular file: name the leaves file with --leaves")
    dests = [dest, destination(_leaves_path(manifest, leaves), "the leaves file")]
    if report:
        dests.append(destination(report, "the report"))
    on_stdout = [d.path for d in dests if d.kind == "descriptor" and d.fd == 1]
    if not report:
        on_stdout.append("the report (no -o)")
    if len(on_stdout) > 1:
        raise InputError(", ".join(on_stdout), "only one output can go to stdout")
    for d in dests:
        d.probe()


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
    type=click.Path(readable=False),  # checked by chainaudit.outfile, in one line
    metavar="FILE",
    help="Where to write the signed manifest.",
)
@click.option(
    "--leaves",
    type=click.Path(readable=False),
    metavar="FILE",
    help="Where to write the leaves file (default MANIFEST.leaves).",
)
@click.option("--created-at", metavar="TIME", help="Manifest time (RFC 3339 UTC); default now.")
@key_options
@trust_option
@require_option(GATE_PRE_REQUIRES)
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
    require: tuple[str, ...],
    endpoint_url: str | None,
    region: str | None,
    segments: int,
    fmt: str,
    output: str | None,
    quiet: bool,
) -> None:
    """Verify SOURCE fully, then write a signed manifest of it.

    The manifest is written only when the source verifies (exit 0): a gate
    never signs data it could not vouch for. By default it requires every
    envelope to be authenticated (--require authenticated: give --umk or
    --kms-umk-blob), so a manifest never launders data no key has checked.

    \b
    Example:
      chainaudit gate pre dynamodb://blue_dialogues --endpoint-url http://127.0.0.1:8000 \\
          --signing-key signer.key --trusted-keys trusted-keys.json -m manifest.json
    """
    signer = load_signing_key(signing_key)
    _check_outputs(manifest_out, leaves, output)
    src = open_source(source, endpoint_url, region, segments)
    options = AuditOptions(
        umk=load_umk(umk_file, kms_umk_blob, kms_key_id, region), trust=load_trust(trusted_keys)
    )
    evidence = Evidence()
    result = run_audit(src, options, quiet, evidence)
    conclude(result, evidence, require)
    if exit_code_for(result) == 0:
        leaves_path = _leaves_path(manifest_out, leaves)
        with (
            ManifestBuilder() as builder,
            open_output(leaves_path, "the leaves file") as leaves_file,
        ):
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
            signed = dump_manifest(sign_manifest(statement, signer))
            write_output(manifest_out, signed, "the manifest")
            click.echo(
                f"signed manifest written to {manifest_out} (leaves: {leaves_path})", err=True
            )
    facts = run_facts(evidence, options, src, False)
    emit(
        result,
        "gate pre",
        src.describe(),
        fmt,
        output,
        evidence=evidence,
        required=require,
        facts=facts,
        provenance=provenance((source,), (src,), options),
    )


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
@require_option(GATE_POST_REQUIRES)
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
    require: tuple[str, ...],
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
    with naming_files(manifest=manifest):
        check_shape(doc)
    trust = load_trust(trusted_keys)
    src = open_source(target, endpoint_url, region, segments)
    options = AuditOptions(umk=load_umk(umk_file, kms_umk_blob, kms_key_id, region), trust=trust)
    evidence = Evidence()
    result = run_audit(src, options, quiet, evidence)
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
    _manifest_evidence(doc, manifest, gated.findings, evidence)
    facts = run_facts(evidence, options, src, True)
    emit(
        result,
        "gate post",
        src.describe(),
        fmt,
        output,
        evidence=evidence,
        required=require,
        facts=facts,
        provenance={
            **provenance((target,), (src,), options),
            "manifest": {"name": manifest, "sha256": file_digest(manifest)},
        },
    )


_MANIFEST_DOUBT = frozenset(
    {
        codes.MANIFEST_VERSION_UNSUPPORTED,
        codes.MANIFEST_SIGNATURE_INVALID,
        codes.MANIFEST_SIGNER_UNTRUSTED,
    }
)


def _manifest_evidence(
    doc: dict[str, object], origin: str, findings: Sequence[Finding], evidence: Evidence
) -> None:
    """REP-7 for gate post: a manifest whose signature verified under a pinned
    key proves completeness and anchors each chain up to its tip, and through
    the signed boundary that bridges it."""
    if any(f.code in _MANIFEST_DOUBT for f in findings):
        return
    signer = doc.get("signer_key_id")
    evidence.manifest_signer = signer if isinstance(signer, str) else ""
    bridged = {
        f.extra.get("chain_id") for f in findings if f.code is codes.MANIFEST_CHAIN_BRIDGED
    }
    chains = doc.get("chains")
    if not isinstance(chains, dict):
        return
    for cid, entry in chains.items():
        count = entry.get("count") if isinstance(entry, dict) else None
        if isinstance(count, int):
            n = count + 1 if cid in bridged else count
            evidence.anchors.append(Anchor(cid, n, "manifest", origin, evidence.manifest_signer))


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
    "-o",
    "--output",
    type=click.Path(readable=False),
    metavar="FILE",
    help="Write the proof here (default stdout).",
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

    with naming_files(manifest=manifest, leaves=str(leaves_path)):
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
        write_output(output, text, "the proof")
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
    with naming_files(proof=proof, manifest=manifest):
        result = verify_proof(
            load_json(proof, "proof"), load_json(manifest, "manifest"), trust.keys.values()
        )
    emit(result, "verify-proof", proof, fmt, output)
