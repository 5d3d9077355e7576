"""The ``chainaudit`` command line: flags to core objects, results to reports.

Exit codes (docs/cli.md): 0 everything checked and sound; 1 integrity
findings; 2 usage error or unreadable input; 3 could not verify everything.
"""

from __future__ import annotations

from typing import Any

import click

from chainaudit import __version__
from chainaudit.cli.demo import demo, vectors
from chainaudit.cli.gates import diff_cmd, gate, prove, verify_proof_cmd
from chainaudit.cli.keys import keys
from chainaudit.cli.migrate import export_cmd, import_cmd
from chainaudit.cli.verify import verify
from chainaudit.errors import EXIT_USAGE, ChainauditError


class _Group(click.Group):
    """Prints every deliberate error as one line and exits with its code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ChainauditError as exc:
            click.echo(f"chainaudit: error: {_one_line(exc.diagnostics())}", err=True)
            ctx.exit(exc.exit_code)
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            click.echo(
                f"chainaudit: error: {_one_line(where + str(exc.strerror or exc))}", err=True
            )
            ctx.exit(EXIT_USAGE)


def _one_line(text: str) -> str:
    """CLI-4: a deliberate error is one line, even when a driver's message is not."""
    return " ".join(text.split())


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="chainaudit")
def main() -> None:
    """Prove encrypted, hash-chained records are complete, untampered, bound and decryptable.

    \b
    Example (start here):
      chainaudit demo /tmp/demo
      chainaudit verify /tmp/demo/export.ndjson --umk /tmp/demo/umk.hex --trusted-keys /tmp/demo/trusted-keys.json

    Exit codes: 0 sound, 1 integrity findings, 2 usage or unreadable input,
    3 could not verify everything (missing key, store unreachable, partial).
    """


for command in (
    verify,
    export_cmd,
    import_cmd,
    gate,
    diff_cmd,
    prove,
    verify_proof_cmd,
    keys,
    vectors,
    demo,
):
    main.add_command(command)
