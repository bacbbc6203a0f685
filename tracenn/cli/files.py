"""Where a command's result goes: stdout, or a file written atomically (-o FILE; -o - is
stdout)."""

from __future__ import annotations

import click

from ..files import write_atomically


def write_output(path: str | None, text: str) -> None:
    if path is None or path == "-":
        click.echo(text, nl=False)
    else:
        write_atomically(path, text)
