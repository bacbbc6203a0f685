"""tracenn walkthrough: one training step as a textbook page, in Markdown."""

from __future__ import annotations

import click

from .. import api
from .files import write_output, write_with_pictures
from .graph import circuit_arguments, circuit_of, write_walkthrough
from .options import (TARGET, lr_option, optimizer_options, output_file_option,
                      precision_option, seed_option, step_option, update_biases_option)


@click.command()
@click.argument("target", metavar=TARGET + "|graph")
@circuit_arguments
@step_option("The training step to walk through.")
@seed_option("Seed for layers the spec initialises at random.")
@click.option("--steps", type=click.IntRange(1, 20), default=None,
              help="Walk through steps 1..N one after the other (an optimizer's state grows "
              "over steps), instead of the single --step.")
@lr_option()
@update_biases_option()
@optimizer_options
@precision_option("Decimals shown.")
@output_file_option
def walkthrough(target, circuit, at, step_no, steps, seed, lr, update_biases, precision, output, **optimizer):
    """Print a Markdown walkthrough of one training step, as a textbook page would show it.

    For every quantity: the formula (LaTeX in $$ blocks, which GitHub renders), the formula
    with the numbers substituted, and the result; a table per stage; every weight's update; and
    what each classic mistake would have produced instead.  With -o FILE.md, the pictures of
    the step's forward and backward pass are written beside it (FILE-forward.svg,
    FILE-backward.svg) and embedded.

    tracenn walkthrough graph "EXPR"|FILE.py --at x=-2,y=5,z=-4 walks through a circuit instead,
    gate by gate (as tracenn graph --walkthrough).
    """
    trace = circuit_of(target, circuit, at, "walkthrough")
    if trace is not None:
        return write_walkthrough(trace, output)
    options = dict(seed=seed, lr=lr, update_biases=update_biases, **optimizer)
    if output is None or output == "-":
        write_output(output, api.walkthrough(target, step_no, steps=steps, precision=precision,
                                             **options))
        return
    explained = steps or step_no
    pictures = {v: api.draw(target, explained, view=v, steps=explained, **options)
                for v in ("forward", "backward")}
    write_with_pictures(output, pictures, lambda names: api.walkthrough(
        target, step_no, steps=steps, precision=precision, figures=names, **options))
