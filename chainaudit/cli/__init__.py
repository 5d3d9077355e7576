"""The ``chainaudit`` command line: flags to core objects, results to reports.

Exit codes (docs/cli.md): 0 everything checked and sound; 1 integrity
findings; 2 usage error or unreadable input; 3 could not verify everything.
"""

from __future__ import annotations

import logging
import os
import traceback
from typing import Any, NoReturn

import click

from chainaudit import __version__
from chainaudit.cli.demo import demo, vectors
from chainaudit.cli.gates import diff_cmd, gate, prove, verify_proof_cmd
from chainaudit.cli.keys import keys
from chainaudit.cli.migrate import export_cmd, import_cmd
from chainaudit.cli.verify import verify
from chainaudit.errors import EXIT_UNVERIFIED, EXIT_USAGE, RESOURCE_ERRNOS, ChainauditError

#: Set (to anything) for the traceback of an internal error (CLI-4).
DEBUG_ENV = "CHAINAUDIT_DEBUG"
#: Exit code of a run interrupted by SIGINT (Ctrl-C), as shells report it.
EXIT_INTERRUPTED = 130


class _Group(click.Group):
    """Prints every deliberate error as one line and exits with its code.

    CLI-4: no input or fault ever ends in a traceback. An exception nobody
    raised on purpose is a bug: one ``internal error`` line, exit 3 (the run
    could not verify everything), never 1, which means integrity findings.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:  # chainaudit --no-such-option
            _usage_error(exc, ctx)

    def invoke(self, ctx: click.Context) -> Any:
        _quiet_driver_loggers()
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
            ctx.exit(EXIT_UNVERIFIED if exc.errno in RESOURCE_ERRNOS else EXIT_USAGE)
        except click.UsageError as exc:  # a bad option value, a missing file: one line too
            _usage_error(exc, ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt:
            click.echo("chainaudit: interrupted", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except Exception as exc:
            if os.environ.get(DEBUG_ENV):
                traceback.print_exc()
            click.echo(
                f"chainaudit: internal error: {type(exc).__name__}: {_one_line(str(exc))[:300]} "
                f"(please report; rerun with {DEBUG_ENV}=1 for the traceback)",
                err=True,
            )
            ctx.exit(EXIT_UNVERIFIED)


def _usage_error(exc: click.UsageError, ctx: click.Context) -> NoReturn:
    """A usage error as one line naming the command's help (CLI-10); a group named
    without its command still shows its help (click >= 8.2 raises that as an error)."""
    if type(exc).__name__ == "NoArgsIsHelpError":
        raise exc
    where = exc.ctx.command_path if exc.ctx is not None else ctx.command_path
    click.echo(
        f"chainaudit: error: {_one_line(exc.format_message())} (see '{where} --help')", err=True
    )
    ctx.exit(exc.exit_code)


def _quiet_driver_loggers() -> None:
    """The CLI reports a driver's error itself, in one line (CLI-4): a driver's
    own log lines (psycopg's ``error ignored terminating <psycopg.Pipeline>``)
    would be a second, unasked-for line on stderr. Kept with CHAINAUDIT_DEBUG."""
    if os.environ.get(DEBUG_ENV):
        return
    for name in ("psycopg", "botocore", "boto3", "urllib3"):
        logger = logging.getLogger(name)
        if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
            logger.addHandler(logging.NullHandler())


def _one_line(text: str) -> str:
    """CLI-4: a deliberate error is one line, even when a driver's message is not,
    and no control character from a file name or a value reaches the terminal."""
    line = " ".join(text.split())
    if line.isprintable():
        return line
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in line)


@click.group(
    cls=_Group,
    context_settings={
        "help_option_names": ["-h", "--help"],
        # CLI-8: every option defaults from CHAINAUDIT_<COMMAND>_<OPTION>.
        "auto_envvar_prefix": "CHAINAUDIT",
    },
)
@click.version_option(__version__, "-V", "--version", prog_name="chainaudit")
def main() -> None:
    """Prove encrypted, hash-chained records are complete, untampered, bound and decryptable.

    \b
    Example (start here):
      chainaudit demo /tmp/demo
      chainaudit verify /tmp/demo/export.ndjson --umk /tmp/demo/umk.hex --trusted-keys /tmp/demo/trusted-keys.json

    Exit codes: 0 sound, 1 integrity findings, 2 usage or unreadable input,
    3 could not verify everything (missing key, store unreachable, partial).
    """


def _env_defaults(group: click.Group, prefix: str = "CHAINAUDIT") -> None:
    """CLI-8: every option without an environment variable of its own defaults
    from ``CHAINAUDIT_<COMMAND>_<OPTION>``, named after the command path and the
    option's long name (``--trusted-keys`` of ``verify``:
    ``CHAINAUDIT_VERIFY_TRUSTED_KEYS``; of ``gate post``:
    ``CHAINAUDIT_GATE_POST_TRUSTED_KEYS``), shown in ``--help``."""
    for name, command in group.commands.items():
        path = f"{prefix}_{name.upper().replace('-', '_')}"
        if isinstance(command, click.Group):
            _env_defaults(command, path)
            continue
        for param in command.params:
            if not isinstance(param, click.Option) or param.envvar:
                continue
            if "--help" in param.opts:
                continue
            longest = max(param.opts, key=len).lstrip("-")
            param.envvar = f"{path}_{longest.upper().replace('-', '_')}"
            param.show_envvar = True


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

_env_defaults(main)
