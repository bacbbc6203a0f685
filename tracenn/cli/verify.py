"""tracenn verify: a step's numbers proved three independent ways, and the formulas."""

from __future__ import annotations

import click

from .. import api
from ..record.jsonl import dumps
from ..render.latex import latex_block
from ..render.results import (gradient_table, identity_table, precision_table,
                              update_check_table)
from ..render.tables import format_tables
from .options import (PositiveFloat, TARGET, lr_option, optimizer_options, output_options,
                      seed_option, step_option, update_biases_option)
from .output import echo


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
@seed_option("Seed for layers the spec initialises at random.")
@lr_option()
@update_biases_option()
@optimizer_options
@output_options
def verify(target, step_no, tolerance, latex, dps, seed, lr, update_biases, fmt, precision,
           as_json, **optimizer):
    """Prove a step's numbers three independent ways and show the formulas.

    SymPy builds the loss as an expression in named symbols (for mazur: i1, i2, w1..w8, b1, b2,
    t1, t2), differentiates it by every parameter and substitutes the step's values; the table
    sets that beside the engine's backprop value and a central finite difference, with the
    textbook chain-rule form of each gradient.  A second table checks symbolically the identities
    backprop relies on, taken from the engine's own formula objects.  Exit status 0 when every
    row passes, 1 when any fails.
    """
    result = api.verify(target, step_no, tolerance=tolerance, dps=dps, seed=seed, lr=lr,
                        update_biases=update_biases, **optimizer)
    if as_json:
        echo(dumps(result))
    elif latex:
        echo(latex_block(result.gradients, precision))
    else:
        tables = [gradient_table(step_no, result.gradients, precision)]
        if result.updates:
            tables.append(update_check_table(step_no, result.updates, precision))
        tables.append(identity_table(result.identities))
        if result.precision is not None:
            tables.append(precision_table(result.precision, dps))
        echo(format_tables(tables, fmt))
        echo()
        echo("All checks pass." if result.ok else f"FAILED: {', '.join(result.failed)}")
    return 0 if result.ok else 1
