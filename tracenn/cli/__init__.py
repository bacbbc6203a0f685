"""The command line: thin click commands that parse options, call the public API (tracenn.api)
and hand the result to a renderer.  Errors are handled here, once: every `TracennError` and
every bad option ends in one line on stderr ("tracenn CMD: error: …") and exit status 2;
Ctrl-C in one line and exit status 130.

Commands are loaded lazily, each from its own module, so `tracenn mazur` imports neither SymPy
nor the MNIST code.
"""

from __future__ import annotations

import importlib
import signal
import sys

import click

from ..errors import TracennError
from .output import Stopped, ignore_signals, restore_signals, stop_signals

EXIT_BAD_INPUT = 2

# command -> module (in tracenn.cli) that defines it
COMMANDS = {
    "mazur": "tracing", "xor": "tracing", "trace": "tracing", "verify": "verify",
    "compare": "compare", "walkthrough": "walkthrough", "mnist": "mnist",
    "draw": "draw", "html": "draw", "maps": "draw",
    "spec": "spec",
    "exercise": "exercise", "grade": "exercise",
    "check": "check",
    "graph": "graph",
}


class BadInput(click.ClickException):
    exit_code = EXIT_BAD_INPUT


class _Interrupted(Exception):
    """Ctrl-C or SIGTERM carried past click's own handler (which would print a blank line)."""

    def __init__(self, cause: KeyboardInterrupt):
        super().__init__()
        self.signum = cause.signum if isinstance(cause, Stopped) else signal.SIGINT


class TracennGroup(click.Group):
    """Commands loaded on first use; one place where errors become one line and an exit code."""

    def list_commands(self, ctx):
        return list(COMMANDS)

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        module = importlib.import_module(f"{__name__}.{COMMANDS[name]}")
        return getattr(module, name)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as exc:
            raise _Interrupted(exc) from None
        except TracennError as exc:
            error = BadInput(str(exc))
            error.where = f"{ctx.command_path} {ctx.invoked_subcommand}".strip()
            raise error from None

    def main(self, args=None, prog_name=None, **kwargs):
        kwargs.pop("standalone_mode", None)
        old = stop_signals()
        try:
            rv = super().main(args=args, prog_name=prog_name, standalone_mode=False, **kwargs)
        except (_Interrupted, click.exceptions.Abort, KeyboardInterrupt) as exc:
            ignore_signals()
            signum = getattr(exc, "signum", signal.SIGINT)
            click.echo("tracenn: stopped by SIGTERM" if signum == signal.SIGTERM
                       else "tracenn: interrupted", err=True)
            sys.exit(128 + signum)  # 130 for Ctrl-C, 143 for SIGTERM, as shells report them
        except click.ClickException as exc:
            ctx = getattr(exc, "ctx", None)
            where = getattr(exc, "where", None) or (ctx.command_path if ctx is not None else "tracenn")
            click.echo(f"{where}: error: {exc.format_message()}", err=True)
            sys.exit(EXIT_BAD_INPUT if isinstance(exc, click.UsageError) else exc.exit_code)
        finally:
            restore_signals(old)
        sys.exit(rv if isinstance(rv, int) else 0)


@click.group(cls=TracennGroup, invoke_without_command=True,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tracenn")
@click.pass_context
def cli(ctx):
    """tracenn: backpropagation made visible, number by number.

    Weight convention throughout: W[j][k] connects input k to neuron j of the layer.
    """
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


def main() -> None:
    cli.main(prog_name="tracenn")
