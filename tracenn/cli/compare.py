"""tracenn compare: where a learner's backprop went wrong."""

from __future__ import annotations

import click

from .. import api
from ..record.jsonl import dumps
from ..render.text import comparison_text
from .options import (PositiveFloat, TARGET, json_option, lr_option, optimizer_options,
                      precision_option, seed_option, step_option, update_biases_option)
from .output import echo


@click.command()
@click.argument("target", metavar=TARGET)
@click.option("--values", "values_file", required=True, metavar="FILE",
              help="Your numbers: tracenn's JSON Lines trace, a flat JSON object keyed by names "
              "(out_h1, delta_o1, dE/dw5, w5 = w5 after the update), or CSV name,value rows.")
@step_option("The step your numbers belong to.")
@click.option("--tolerance", type=PositiveFloat(), default=None,
              help="Largest difference that still matches, relative to max(1, |right value|), "
              "for every value (e.g. 1e-5 for float32 code).  Default: each value as precise as "
              "it is written (0.68 means 0.68 ± 0.005), and at least 1e-8.")
@lr_option()
@update_biases_option("Compare against a run that updates every bias.")
@optimizer_options
@seed_option("Seed for layers the spec initialises at random.")
@precision_option("Decimals shown.")
@json_option("Print the result as one JSON object.")
@click.option("--draw", "draw_file", metavar="FILE.svg", default=None,
              help="Also draw the network at this step (SVG): your first wrong number in red "
              "with the right value beside it, the inputs of its formula you had right in "
              "green; in the view of that number (forward, backward or update), at 4 decimals "
              "or as many as show the difference.")
def compare(target, values_file, step_no, tolerance, lr, update_biases, seed, precision, as_json,
            draw_file, **optimizer):
    """Find where your backprop went wrong: the first of your numbers that differs.

    Walks the quantities in the order backprop computes them (forward, loss, deltas, gradients,
    updates) and reports the first of your values that differs beyond --tolerance: the right
    value, the formula with the right numbers substituted, and which of its inputs you had
    right.  Later values that are right given your own earlier numbers are listed as following
    from it; deltas that are all −δ are read in the (t − o) convention of Mitchell and of Han,
    Kamber & Pei.  When your numbers match a classic mistake it names it.  Exit status 0 when
    every value matches, 1 at a mismatch, 2 for a file that cannot be read.
    """
    spec = api.load(target, seed=seed)
    result = api.compare(spec, values_file, step_no, tolerance=tolerance, precision=precision,
                         lr=lr, update_biases=update_biases, **optimizer)
    if draw_file is not None:
        from ..files import write_atomically

        write_atomically(draw_file, api.draw(spec, step_no, comparison=result, lr=lr,
                                             update_biases=update_biases, **optimizer))
    echo(dumps(result) if as_json else comparison_text(result, precision))
    return 0 if result.ok else 1
