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


def circuit_arguments(f):
    """`graph "EXPR"|FILE.py --at x=…` on a network command (draw, html, walkthrough)."""
    f = click.option("--at", "at", type=Assignments(), multiple=True,
                     help='With graph "EXPR": the circuit\'s input values, --at x=-2,y=5.')(f)
    return click.argument("circuit", metavar='["EXPR"|FILE.py]', required=False,
                          default=None)(f)


CIRCUIT_PARAMS = {"target", "circuit", "at", "output", "view"}


def circuit_of(target, circuit, at, command: str):
    """The traced circuit of `tracenn COMMAND graph "EXPR" --at …`, or None for a network."""
    if target != "graph" and circuit is None:
        if at:
            raise click.UsageError(f'--at gives a circuit\'s inputs: tracenn {command} graph '
                                   '"EXPR" --at x=-2,y=5')
        return None
    if target != "graph" or circuit is None:
        raise click.UsageError(f'a circuit is written as: tracenn {command} graph "EXPR" '
                               "--at x=-2,y=5")
    refuse_network_options(command, CIRCUIT_PARAMS)
    return api.graph(circuit, merged(at))


def refuse_network_options(command: str, allowed: set[str]) -> None:
    """One line naming the options given to `tracenn COMMAND graph` that only a network has
    (--step, --lr, --mistake, …), rather than ignoring them."""
    ctx = click.get_current_context()
    given = [p.opts[-1] for p in ctx.command.params if p.name not in allowed
             and ctx.get_parameter_source(p.name) != click.core.ParameterSource.DEFAULT]
    if given:
        takes = sorted(p.opts[-1] for p in ctx.command.params
                       if p.name in allowed and p.opts and p.opts[-1].startswith("-"))
        raise click.UsageError(f"{', '.join(given)}: a network's option, not a circuit's; "
                               f"tracenn {command} graph takes {', '.join(takes)}")


def merged(at) -> dict[str, float]:
    values = {}
    for group in at:
        for name, value in group.items():
            if name in values:
                raise click.BadParameter(f"{name} is given twice", param_hint="--at")
            values[name] = value
    return values


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
@click.option("--svg", "svg_file", metavar="FILE.svg", default=None,
              help="Also draw the circuit as SVG to FILE.svg (- for stdout, instead of the "
              "tables): inputs left, output right, the gate's symbol in each node, the value "
              "above each wire and, in the backward --view, the gradient below it.")
@click.option("--view", type=click.Choice(["forward", "backward"]), default="backward",
              show_default=True, help="With --svg: forward shows the values only.")
@click.option("--html", "html_file", metavar="FILE.html", default=None,
              help="Also write a self-contained page to FILE.html that plays the circuit gate "
              "by gate, forward then backward, with each gate's arithmetic.")
@click.option("--walkthrough", "walk_file", metavar="FILE.md", default=None,
              help="Also write a Markdown walkthrough (LaTeX in $$ blocks) to FILE.md, with "
              "the forward and backward pictures beside it (FILE-forward.svg, "
              "FILE-backward.svg); - prints it without pictures.")
@click.option("--mistake", metavar="NAME", default=None,
              help="Make a classic mistake in the backward pass on purpose and show the wrong "
              "gradients it gives: fork-overwritten, mul-not-swapped, max-to-both, no-upstream.")
@output_options
def graph(target, at, output, neuron, step_no, svg_file, view, html_file, walk_file, mistake,
          fmt, precision, as_json):
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
    trace = api.graph(target, merged(at), output=output, neuron=neuron, step=step_no)
    if mistake is not None:
        from ..circuits.mistakes import mistake_named, with_mistake

        trace = with_mistake(trace, mistake_named(mistake))
    _pictures(trace, svg_file, view, html_file)
    _walkthrough(trace, walk_file)
    if "-" in (svg_file, html_file, walk_file):
        pass
    elif as_json:
        echo(dumps(trace))
    else:
        from ..circuits.text import circuit_text

        echo(circuit_text(trace, fmt, precision))
    checked = trace.check is None or trace.check.ok
    return 0 if checked and (trace.bridge is None or trace.bridge.ok) else 1


def write_pictures(trace, svg_file, view, html_file):
    """`tracenn draw graph …` and `tracenn html graph …`: the picture or the page."""
    _pictures(trace, svg_file or ("-" if html_file is None else None), view, html_file)


def write_walkthrough(trace, path):
    """`tracenn walkthrough graph …`: printed, or to a file with its pictures beside it."""
    _walkthrough(trace, path or "-")


def _pictures(trace, svg_file, view, html_file):
    """The circuit's picture and page, written atomically (or to stdout for -)."""
    from .files import write_output

    if svg_file is not None:
        from ..render.circuit_svg import circuit_svg

        write_output(svg_file, circuit_svg(trace, view))
    if html_file is not None:
        from ..render.circuit_html import circuit_page

        write_output(html_file, circuit_page(trace))


def _walkthrough(trace, path):
    """The walkthrough, and beside a file its two pictures (all three written, or none)."""
    if path is None:
        return
    from ..render.circuit_markdown import circuit_walkthrough
    from ..render.circuit_svg import circuit_svg
    from .files import write_output, write_with_pictures

    if path == "-":
        write_output(path, circuit_walkthrough(trace))
        return
    pictures = {view: circuit_svg(trace, view) for view in ("forward", "backward")}
    write_with_pictures(path, pictures, lambda names: circuit_walkthrough(trace, figures=names))
