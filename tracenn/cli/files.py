"""Where a command's result goes: stdout, or a file written atomically (-o FILE; -o - is
stdout)."""

from __future__ import annotations


from pathlib import Path

from ..files import check_destination, write_atomically
from .output import echo


def write_output(path: str | None, text: str) -> None:
    if path is None or path == "-":
        echo(text, nl=False)
    else:
        write_atomically(path, text)


def write_with_pictures(path: str, pictures: dict[str, str], text_for) -> None:
    """A page and its pictures beside it, FILE-VIEW.svg for each view in `pictures`: all of
    them written, or none (every destination is checked first).  `text_for(names)` gives the
    page, which refers to the pictures by those file names."""
    where = Path(path)
    names = {view: f"{where.stem}-{view}.svg" for view in pictures}
    for target in (where, *(where.with_name(n) for n in names.values())):
        check_destination(target)
    text = text_for(names)
    for view, name in names.items():
        write_atomically(where.with_name(name), pictures[view])
    write_atomically(where, text)
