"""tracenn compare: where a learner's backprop went wrong."""

from __future__ import annotations

import click

from .. import api
from ..record.jsonl import dumps
from ..render.text import comparison_text
from .options import (PositiveFloat, TARGET, json_option, lr_option, optimizer_options,
                      precision_option, seed_option, step_option, update_biases_option)
from .graph import Assignments, refuse_network_options
from .output import echo


@click.command()
@click.argument("target", metavar=TARGET + '|graph')
@click.argument("circuit", metavar='["EXPR"|FILE.py]', required=False, default=None)
@click.option("--at", "at", type=Assignments(), multiple=True,
              help='With graph "EXPR": the circuit\'s input values, --at x=-2,y=5,z=-4.')
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
def compare(target, circuit, at, values_file, step_no, tolerance, lr, update_biases, seed,
            precision, as_json, draw_file, **optimizer):
    """Find where your backprop went wrong: the first of your numbers that differs.

    Walks the quantities in the order backprop computes them (forward, loss, deltas, gradients,
    updates) and reports the first of your values that differs beyond --tolerance: the right
    value, the formula with the right numbers substituted, and which of its inputs you had
    right.  Later values that are right given your own earlier numbers are listed as following
    from it; deltas that are all −δ are read in the (t − o) convention of Mitchell and of Han,
    Kamber & Pei.  When your numbers match a classic mistake it names it.  Exit status 0 when
    every value matches, 1 at a mismatch, 2 for a file that cannot be read.

    tracenn compare graph "EXPR"|FILE.py --at x=-2,y=5,z=-4 --values FILE: your gradients on a
    circuit (a file of lines dx = -4 or x = -4, or JSON {"x": -4}) against its backward pass;
    the first wrong one in backward order and the circuit mistake it matches (gradient not
    added at a fork, mul gate's inputs not swapped, max gate's gradient sent to both inputs,
    local derivative without the upstream factor).
    """
    if target == "graph" or circuit is not None:
        if draw_file is not None:
            raise click.UsageError("--draw draws a network; a circuit's picture is tracenn graph's")
        return _compare_circuit(target, circuit, at, values_file, tolerance, precision, as_json)
    spec = api.load(target, seed=seed)
    result = api.compare(spec, values_file, step_no, tolerance=tolerance, precision=precision,
                         lr=lr, update_biases=update_biases, **optimizer)
    if draw_file is not None:
        from ..files import write_atomically

        write_atomically(draw_file, api.draw(spec, step_no, comparison=result, lr=lr,
                                             update_biases=update_biases, **optimizer))
    echo(dumps(result) if as_json else comparison_text(result, precision))
    return 0 if result.ok else 1


def _compare_circuit(target, circuit, at, values_file, tolerance, precision, as_json) -> int:
    from ..circuits.compare import compare_circuit, comparison_text as circuit_text

    if target != "graph" or circuit is None:
        raise click.UsageError('a circuit is compared as: tracenn compare graph "EXPR" '
                               "--at x=-2 --values FILE")
    refuse_network_options("compare", {"target", "circuit", "at", "values_file", "tolerance",
                                       "precision", "as_json"})
    values = {name: value for group in at for name, value in group.items()}
    result = compare_circuit(api.graph(circuit, values, verify=False), values_file, tolerance)
    echo(dumps(result) if as_json else circuit_text(result, 6 if precision is None else precision))
    return 0 if result.ok else 1
