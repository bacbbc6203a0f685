"""tracenn graph: backprop on a circuit — a scalar expression, a program of assignments or one
neuron of a network — traced gate by gate."""

from __future__ import annotations

import math

import click

from .. import api
from ..record.jsonl import dumps
from .options import output_options
from .output import echo


class Assignments(click.ParamType):
    """NAME=VALUE pairs separated by commas: x=-2,y=5,z=-4."""

    name = "NAME=VALUE,…"

    def convert(self, value, param, ctx):
        if isinstance(value, dict):
            return value
        out = {}
        for part in filter(None, (p.strip() for p in str(value).split(","))):
            name, eq, number = part.partition("=")
            name = name.strip()
            if not eq or not name.isidentifier():
                self.fail(f"{part!r} is not NAME=VALUE (e.g. x=-2,y=5)", param, ctx)
            try:
                x = float(number)
            except ValueError:
                self.fail(f"{part!r}: {number.strip()!r} is not a number", param, ctx)
            if not math.isfinite(x):
                self.fail(f"{part!r}: the value must be a finite number", param, ctx)
            if name in out:
                self.fail(f"{name} is given twice", param, ctx)
            out[name] = x
        return out


@click.command()
@click.argument("target", metavar='"EXPR"|FILE.py|SPEC')
@click.option("--at", "at", type=Assignments(), multiple=True,
              help="The inputs' values: --at x=-2,y=5,z=-4 (may be repeated).")
@click.option("--output", "output", metavar="NAME", default=None,
              help="The variable whose gradient is traced (default: the last one assigned).")
@click.option("--neuron", metavar="NAME", default=None,
              help="With a spec (mazur, xor, softmax, SPEC.toml): that neuron's computation at "
              "--step as a circuit, set beside the network trace's δ and ∂E/∂w.")
@click.option("--step", "step_no", type=click.IntRange(min=1), default=1, show_default=True,
              help="With --neuron: the step of the network's trace.")
@click.option("--mistake", metavar="NAME", default=None,
              help="Make a classic mistake in the backward pass on purpose and show the wrong "
              "gradients it gives: fork-overwritten, mul-not-swapped, max-to-both, no-upstream.")
@output_options
def graph(target, at, output, neuron, step_no, mistake, fmt, precision, as_json):
    """Backprop on a circuit, gate by gate.

    TARGET is a scalar expression ("(x + y) * z"), a short Python file of micrograd-style
    assignments (c = a + b, d = a*b + b**3, c += c + 1, e = (b - a).relu()), or with --neuron
    a spec. It is read with Python's ast and never run: names, numbers, + - * /, ** with a
    number exponent, unary minus, exp log tanh sigmoid relu abs sqrt max min and the methods
    .relu() .tanh() .exp() .log(); anything else is refused. Names read before they are
    assigned are the inputs (values from --at). Prints the forward pass in topological order,
    the backward pass in reverse (upstream gradient, SymPy's local derivative and its value,
    downstream = local × upstream, where gradients accumulate), the gradient of every input and
    a check against SymPy's derivative of the whole expression and a central difference.
    Exit status 0 when everything checks, 1 when anything disagrees.
    """
    values = {}
    for group in at:
        for name, value in group.items():
            if name in values:
                raise click.BadParameter(f"{name} is given twice", param_hint="--at")
            values[name] = value
    trace = api.graph(target, values, output=output, neuron=neuron, step=step_no)
    if mistake is not None:
        from ..circuits.mistakes import mistake_named, with_mistake

        trace = with_mistake(trace, mistake_named(mistake))
    if as_json:
        echo(dumps(trace))
    else:
        from ..circuits.text import circuit_text

        echo(circuit_text(trace, fmt, precision))
    checked = trace.check is None or trace.check.ok
    return 0 if checked and (trace.bridge is None or trace.bridge.ok) else 1
