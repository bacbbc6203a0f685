"""tracenn walkthrough: one training step as a textbook page, in Markdown."""

from __future__ import annotations

from pathlib import Path

import click

from .. import api
from ..files import check_destination, write_atomically
from .files import write_output
from .options import TARGET, output_file_option, precision_option, seed_option, step_option


@click.command()
@click.argument("target", metavar=TARGET)
@step_option("The training step to walk through.")
@seed_option("Seed for layers the spec initialises at random.")
@precision_option("Decimals shown.")
@output_file_option
def walkthrough(target, step_no, seed, precision, output):
    """Print a Markdown walkthrough of one training step, as a textbook page would show it.

    For every quantity: the formula (LaTeX in $$ blocks, which GitHub renders), the formula
    with the numbers substituted, and the result; a table per stage; every weight's update; and
    what each classic mistake would have produced instead.  With -o FILE.md, the pictures of
    the step's forward and backward pass are written beside it (FILE-forward.svg,
    FILE-backward.svg) and embedded.
    """
    if output is None or output == "-":
        write_output(output, api.walkthrough(target, step_no, precision=precision, seed=seed))
        return
    path = Path(output)
    views = ("forward", "backward")
    pictures = {v: api.draw(target, step_no, view=v, steps=step_no, seed=seed) for v in views}
    names = {v: f"{path.stem}-{v}.svg" for v in views}
    text = api.walkthrough(target, step_no, precision=precision, seed=seed, figures=names)
    for where in (path, *(path.with_name(n) for n in names.values())):
        check_destination(where)  # all three can be written, or none is
    for v in views:
        write_atomically(path.with_name(names[v]), pictures[v])
    write_atomically(path, text)
