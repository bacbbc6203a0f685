"""tracenn verify: a step's numbers proved three independent ways, and the formulas."""

from __future__ import annotations


import click

from .. import api
from ..maths import VERIFY_MAX_PARAMETERS, VERIFY_MAX_SIZE
from ..record.jsonl import dumps
from ..render.latex import latex_block
from ..render.text import verification_text
from .options import (PositiveFloat, TARGET, lr_option, optimizer_options, output_options,
                      seed_option, step_option, update_biases_option)
from .output import Progress, echo


@click.command()
@click.argument("target", metavar=TARGET)
@step_option("Check the gradients at this step of the trace.")
@click.option("--tolerance", type=PositiveFloat(), default=1e-6, show_default=True,
              help="Largest allowed difference between the three values, relative to "
              "max(1, |value|).")
@click.option("--latex", is_flag=True,
              help="Print the chain-rule formulas and their values as LaTeX (an align* block).")
@click.option("--dps", type=click.IntRange(16, 1000), default=None,
              help="Also recompute the whole step with this many significant digits (mpmath) "
              "and show how far each float64 value is from it.")
@click.option("--max-parameters", type=click.IntRange(min=1), default=VERIFY_MAX_PARAMETERS,
              show_default=True, metavar="N",
              help="Refuse a network with more parameters than this (about 1.5 ms each).")
@click.option("--max-size", type=click.IntRange(min=1), default=VERIFY_MAX_SIZE,
              show_default=True, metavar="N",
              help="Refuse a network whose loss, written out as an expression in one parameter, "
              "has more operations than this (SymPy takes about 0.08 ms each; the count "
              "multiplies with every layer's width).")
@seed_option("Seed for layers the spec initialises at random.")
@lr_option()
@update_biases_option()
@optimizer_options
@output_options
def verify(target, step_no, tolerance, latex, dps, max_parameters, max_size, seed, lr,
           update_biases, fmt, precision, as_json, **optimizer):
    """Prove a step's numbers three independent ways and show the formulas.

    SymPy writes the loss as an expression in each parameter (every other parameter, input and
    target standing for its number), differentiates it and evaluates the derivative at the
    step's values; the table sets that beside the engine's backprop value and a central finite
    difference, with the textbook chain-rule form of each gradient.  A second table checks
    symbolically the identities backprop relies on, taken from the engine's own formula
    objects, for the activations and the loss this network uses.  Exit status 0 when every row
    passes, 1 when any fails.
    """
    with Progress("verify", "tracing the step and importing SymPy") as progress:
        result = api.verify(target, step_no, tolerance=tolerance, dps=dps, seed=seed, lr=lr,
                            update_biases=update_biases, max_parameters=max_parameters,
                            max_size=max_size, progress=progress, **optimizer)
    if as_json:
        echo(dumps(result))
    elif latex:
        echo(latex_block(result.gradients, precision))
    else:
        echo(verification_text(result, fmt, precision))
    return 0 if result.ok else 1
