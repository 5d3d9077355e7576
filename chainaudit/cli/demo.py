"""``chainaudit demo`` and ``chainaudit vectors``: the built-in sample and the golden vectors."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import click

from chainaudit.checkpoint import make_checkpoint
from chainaudit.errors import InputError
from chainaudit.model import AuditEvent
from chainaudit.sample import AUDIT_CHAIN, DEFAULT_SEED, build_sample
from chainaudit.signer import trusted_keys_document
from chainaudit.signing import public_bytes
from chainaudit.sources.ndjson import write_export
from chainaudit.umk import write_secret_file

SAMPLE_CREATED_AT = "2026-03-02T12:00:00.000Z"
DEMO_FILES = ("export.ndjson", "umk.hex", "signer.key", "trusted-keys.json", "checkpoint.json")


@click.command()
@click.argument("directory", type=click.Path(file_okay=False))
@click.option(
    "--seed", default=DEFAULT_SEED, show_default=True, help="Label the sample derives from."
)
def demo(directory: str, seed: str) -> None:
    """Write a realistic sample into DIRECTORY: an export and the keys to audit it.

    Five dialogues with every entity type, wrapped DEKs, the crypto audit log,
    each dialogue's lifecycle chain, a key rotation, a crypto-shredded
    dialogue, and a chain that crosses a signed migration boundary. The same
    seed always gives the same bytes, so running it again is harmless.

    \b
    Files written:
      export.ndjson       the sample as a chainaudit NDJSON export
      umk.hex             the user master key (mode 0600)
      signer.key          the migration signer's Ed25519 seed (mode 0600)
      trusted-keys.json   the signer's public key, to pin with --trusted-keys
      checkpoint.json     a signed checkpoint of the crypto audit log

    \b
    Example:
      chainaudit demo /tmp/demo
      chainaudit verify /tmp/demo/export.ndjson --umk /tmp/demo/umk.hex \\
          --trusted-keys /tmp/demo/trusted-keys.json --checkpoint /tmp/demo/checkpoint.json
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    sample = build_sample(seed)
    assert sample.umk is not None and sample.signer is not None
    audit_events = [
        r for r in sample.records if isinstance(r, AuditEvent) and r.chain_id == AUDIT_CHAIN
    ]
    tip = audit_events[-1].fields
    checkpoint = make_checkpoint(
        sample.signer,
        AUDIT_CHAIN,
        len(audit_events),
        tip["event_hash"],
        tip["hash_alg"],
        SAMPLE_CREATED_AT,
    )
    with tempfile.TemporaryDirectory(dir=out) as tmp:
        staged = Path(tmp)
        write_export(
            staged / "export.ndjson",
            sample.records,
            source="chainaudit demo",
            created_at=SAMPLE_CREATED_AT,
        )
        write_secret_file(staged / "umk.hex", sample.umk.reveal(), "UMK file")
        write_secret_file(
            staged / "signer.key", sample.signer.private_bytes_raw(), "signing key file"
        )
        (staged / "trusted-keys.json").write_text(
            trusted_keys_document([public_bytes(sample.signer)]), encoding="utf-8"
        )
        (staged / "checkpoint.json").write_text(
            json.dumps(checkpoint, indent=2) + "\n", encoding="utf-8"
        )
        # The sample is deterministic: a file that is already there must be
        # byte for byte what this run wrote, or it is someone else's file.
        for name in DEMO_FILES:
            target = out / name
            if target.exists() and target.read_bytes() != (staged / name).read_bytes():
                raise InputError(
                    str(target), "exists and is not this demo's file; choose an empty directory"
                )
        for name in DEMO_FILES:
            os.replace(staged / name, out / name)
    click.echo(f"wrote {len(sample.records)} records to {out / 'export.ndjson'}", err=True)
    for note in sample.notes:
        click.echo(f"  {note}", err=True)


@click.group()
def vectors() -> None:
    """Golden vectors: check this implementation (or regenerate them).

    \b
    Example:
      chainaudit vectors verify vectors/
    """


@vectors.command("verify")
@click.argument("directory", required=False, type=click.Path(file_okay=False, exists=True))
@click.option("-v", "--verbose", is_flag=True, help="List every case, not only failures.")
def vectors_verify(directory: str | None, verbose: bool) -> None:
    """Run every golden vector in DIRECTORY against this implementation.

    Without DIRECTORY, the vectors are regenerated from the committed
    deterministic generator into a temporary directory and checked there.

    \b
    Example:
      chainaudit vectors verify vectors/
    """
    from chainaudit.vectorcheck import check_tree, summary

    if directory is None:
        with tempfile.TemporaryDirectory() as tmp:
            _generate(Path(tmp))
            results = check_tree(Path(tmp))
    else:
        results = check_tree(Path(directory))
    for r in results:
        if verbose or not r.passed:
            click.echo(f"{'ok  ' if r.passed else 'FAIL'} {r.path} {r.name}")
            for p in r.problems:
                click.echo(f"       {p}")
    passed, failed = summary(results)
    click.echo(f"{passed} passed, {failed} failed")
    sys.exit(0 if passed and not failed else (1 if failed else 3))


@vectors.command("compare")
@click.argument("answers", type=click.Path(file_okay=False, exists=True))
@click.option(
    "--vectors",
    "vectors_dir",
    default="vectors",
    show_default=True,
    type=click.Path(file_okay=False, exists=True),
    help="The golden vectors.",
)
@click.option("-v", "--verbose", is_flag=True, help="List every case, not only failures.")
def vectors_compare(answers: str, vectors_dir: str, verbose: bool) -> None:
    """Check ANOTHER implementation's answers against the golden vectors.

    ANSWERS holds one answer file per vector case, at the same relative
    path, in the format of docs/conformance.md. Exit 0 when every case
    passed, 1 when any failed, 3 when any answer is missing.

    \b
    Example:
      my-impl --vectors vectors/ --out answers/ && chainaudit vectors compare answers/
    """
    from chainaudit.vectorcompare import compare_tree

    results = compare_tree(Path(vectors_dir), Path(answers))
    for r in results:
        if verbose or r.status != "passed":
            click.echo(f"{r.status:<7} {r.case}{': ' + r.detail if r.detail else ''}")
    counts = {s: sum(r.status == s for r in results) for s in ("passed", "failed", "missing")}
    click.echo(f"{counts['passed']} passed, {counts['failed']} failed, {counts['missing']} missing")
    if counts["failed"]:
        sys.exit(1)
    sys.exit(3 if counts["missing"] or not results else 0)


@vectors.command("generate")
@click.argument("directory", type=click.Path(file_okay=False))
def vectors_generate(directory: str) -> None:
    """Write the golden vectors into DIRECTORY (byte for byte the committed ones).

    \b
    Example:
      chainaudit vectors generate /tmp/vectors && diff -r /tmp/vectors vectors/
    """
    _generate(Path(directory))


def _generate(out: Path) -> None:
    from chainaudit.vectorgen import available_generators

    for _name, generate in available_generators():
        generate(out)
