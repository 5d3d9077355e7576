"""``chainaudit demo`` and ``chainaudit vectors``: the built-in sample and the golden vectors."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import click

from chainaudit.chain.checkpoint import make_checkpoint
from chainaudit.errors import InputError
from chainaudit.keys.signer import trusted_keys_document
from chainaudit.keys.signing import public_bytes
from chainaudit.keys.umk import write_secret_file
from chainaudit.outfile import destination, write_output
from chainaudit.sample import DEFAULT_SEED, build_sample
from chainaudit.sources.ndjson import write_export

SAMPLE_CREATED_AT = "2026-03-02T12:00:00.000Z"
DEMO_FILES = ("export.ndjson", "umk.hex", "signer.key", "trusted-keys.json", "checkpoint.json")
#: Key files: written only as new regular files (chainaudit.outfile.create_exclusive).
SECRET_LABELS = {"umk.hex": "UMK file", "signer.key": "signing key file"}


def _output_dir(directory: str) -> Path:
    """DIRECTORY of demo and vectors generate, created if missing; anything
    else there is one line, exit 2 (CLI-4), not click's usage text."""
    out = Path(directory)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise InputError(directory, "exists and is not a directory") from None
    except OSError as exc:
        raise InputError(directory, f"cannot create the directory: {exc.strerror}") from None
    return out


@click.command()
@click.argument("directory", type=click.Path(readable=False))
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
      trusted-keys.json   the public keys of the signer and of the erasure
                          authority, to pin with --trusted-keys
      checkpoint.json     signed checkpoints of every chain at its tip

    \b
    Example:
      chainaudit demo /tmp/demo
      chainaudit verify /tmp/demo/export.ndjson --umk /tmp/demo/umk.hex \\
          --trusted-keys /tmp/demo/trusted-keys.json --checkpoint /tmp/demo/checkpoint.json
    """
    out = _output_dir(directory)
    sample = build_sample(seed)
    assert sample.umk is not None and sample.signer is not None
    assert sample.erasure_signer is not None
    # CHAIN-11 bundle: every chain (the audit log and each dialogue's lifecycle
    # chain) checkpointed at its tip, so every commitment is anchored (COMMIT-5).
    checkpoints = [
        make_checkpoint(sample.signer, chain_id, count, tip, alg, SAMPLE_CREATED_AT)
        for chain_id, count, tip, alg in sorted(sample.tips)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        staged = Path(tmp) / "export.ndjson"
        write_export(staged, sample.records, source="chainaudit demo", created_at=SAMPLE_CREATED_AT)
        export = staged.read_bytes()
    secrets = {"umk.hex": sample.umk.reveal(), "signer.key": sample.signer.private_bytes_raw()}
    files = {
        "export.ndjson": export,
        **{name: (key.hex() + "\n").encode("ascii") for name, key in secrets.items()},
        "trusted-keys.json": trusted_keys_document(
            [public_bytes(sample.signer), public_bytes(sample.erasure_signer)]
        ).encode("utf-8"),
        "checkpoint.json": (json.dumps(checkpoints, indent=2) + "\n").encode("utf-8"),
    }
    # The sample is deterministic: a regular file already there must be byte
    # for byte what this run writes (it is then left alone), or it is someone
    # else's file. Everything is checked before anything is written. A device,
    # a FIFO or a symlink's target is written as every output is (CLI-8),
    # except the key files: only new regular files (write_secret_file).
    todo = []
    for name in DEMO_FILES:
        target = out / name
        if name in secrets:
            if target.is_symlink() or (target.exists() and not target.is_file()):
                write_secret_file(target, secrets[name], SECRET_LABELS[name])  # refuses
            existing = target if target.exists() else None
        else:
            dest = destination(target, name)
            found = dest.kind == "file" and os.path.exists(dest.target)
            existing = Path(dest.target) if found else None
        if existing is None:
            todo.append(name)
        elif existing.read_bytes() != files[name]:
            raise InputError(
                str(target), "exists and is not this demo's file; choose an empty directory"
            )
    for name in todo:
        if name in secrets:
            write_secret_file(out / name, secrets[name], SECRET_LABELS[name])
        else:
            mode = 0o600 if name == "export.ndjson" else 0o666  # as write_export
            write_output(out / name, files[name], name, create_mode=mode)
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
    from chainaudit.conformance.check import check_tree, summary

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
    type=click.Path(file_okay=False, exists=True),
    help="The golden vectors (a checkout's vectors/). Default: regenerated by this "
    "chainaudit, byte for byte the published ones (docs/conformance.md CONF-4).",
)
@click.option(
    "--only",
    "only",
    multiple=True,
    metavar="FAMILY",
    help="Compare only this family (repeatable): envelope, keys, chain, manifest, export, "
    "commitment, report, findings.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "junit"]),
    default="text",
    show_default=True,
    help="Report format: text, a JSON summary with every case, or JUnit XML (a test "
    "suite per family).",
)
@click.option("-v", "--verbose", is_flag=True, help="List every case, not only failures.")
def vectors_compare(
    answers: str, vectors_dir: str | None, only: tuple[str, ...], fmt: str, verbose: bool
) -> None:
    """Check ANOTHER implementation's answers against the golden vectors.

    ANSWERS holds one answer file per vector case, at the same relative
    path, in the format of docs/conformance.md. A failed case names the
    JSON path of its first difference; a partial answer set is summarised
    per family. Exit 0 when every case passed, 1 when any failed, 3 when
    any answer is missing.

    \b
    Example:
      my-impl --vectors vectors/ --out answers/ && chainaudit vectors compare answers/
      chainaudit vectors compare answers/ --only envelope --format junit > conformance.xml
    """
    from chainaudit import __version__
    from chainaudit.conformance.compare import (
        compare_tree,
        exit_code,
        families,
        render_json,
        render_junit,
        render_text,
    )

    with tempfile.TemporaryDirectory() as tmp:
        if vectors_dir is None:
            root = Path(tmp)
            _generate(root)
            label = f"generated by chainaudit {__version__}"
        else:
            root = Path(vectors_dir)
            label = vectors_dir
        known = families(root)
        unknown = sorted(set(only) - set(known))
        if unknown:
            raise click.BadParameter(
                f"no vector family {', '.join(unknown)}; choose from {', '.join(known)}",
                param_hint="--only",
            )
        results = compare_tree(root, Path(answers), set(only) if only else None)
    if fmt == "json":
        out = render_json(results, vectors=label, only=only, tool=f"chainaudit {__version__}")
    elif fmt == "junit":
        out = render_junit(results, vectors=label)
    else:
        out = render_text(results, verbose)
    click.echo(out, nl=False)
    sys.exit(exit_code(results))


@vectors.command("generate")
@click.argument("directory", type=click.Path(readable=False))
def vectors_generate(directory: str) -> None:
    """Write the golden vectors into DIRECTORY (byte for byte the committed ones).

    \b
    Example:
      chainaudit vectors generate /tmp/vectors && diff -r /tmp/vectors vectors/
    """
    _generate(_output_dir(directory))


def _generate(out: Path) -> None:
    from chainaudit.conformance.vectorgen import available_generators

    for _name, generate in available_generators():
        generate(out)
