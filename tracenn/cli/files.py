"""Where a command's result goes: stdout, or a file written atomically (-o FILE; -o - is
stdout)."""

from __future__ import annotations


from ..files import write_atomically
from .output import echo


def write_output(path: str | None, text: str) -> None:
    if path is None or path == "-":
        echo(text, nl=False)
    else:
        write_atomically(path, text)
