"""``chainaudit keys``: create keys safely and show what a dataset needs."""

from __future__ import annotations

import sys
from collections import Counter

import click

from chainaudit.cli.common import key_options, load_umk, open_source, store_options
from chainaudit.keyring import KeyRing
from chainaudit.model import EntityRecord, WrappedDek
from chainaudit.resolver import DekStatus
from chainaudit.signer import create_signing_key
from chainaudit.umk import create_umk_file


@click.group()
def keys() -> None:
    """Create a UMK or a signing key; list the keys a dataset needs.

    \b
    Example:
      chainaudit keys init umk.hex
      chainaudit keys needed export.ndjson --umk umk.hex
    """


@keys.command("init")
@click.argument("umk_file", type=click.Path(dir_okay=False))
def keys_init(umk_file: str) -> None:
    """Create a new random UMK in UMK_FILE (mode 0600, never overwritten).

    \b
    Example:
      chainaudit keys init ~/.config/chainaudit/umk.hex
    """
    umk = create_umk_file(umk_file)
    click.echo(f"created UMK {umk.fingerprint()} in {umk_file} (mode 0600)", err=True)


@keys.command("signer")
@click.argument("key_file", type=click.Path(dir_okay=False))
@click.option(
    "--trusted-out",
    type=click.Path(dir_okay=False),
    help="Trusted-keys file to write (default KEY_FILE.trusted.json).",
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
