"""tracenn draw and tracenn html: the network drawn with its numbers (SVG), and a page that
plays the steps (HTML)."""

from __future__ import annotations

import warnings

import click

from .. import api
from ..notation import PICTURE_PRECISION
from ..render.figure import VIEWS
from .files import write_output
from .graph import circuit_arguments, circuit_of, write_pictures
from .output import Progress
from .options import (TARGET, lr_option, mistake_option, optimizer_options, precision_option,
                      seed_option, step_option, update_biases_option)

def picture_tracing_options(f):
    """The tracing options of draw and html, and the picture's precision."""
    precision = precision_option(PRECISION_HELP, default=PICTURE_PRECISION)
    for option in reversed([lr_option(), seed_option(), update_biases_option(), optimizer_options,
                            mistake_option, precision]):
        f = option(f)
    return f


PRECISION_HELP = "Decimals of the numbers on the picture (0..17; 4 by default, the tables' 9 " \
                 "would crowd it)."


def run_noting(command: str, make):
    """`make()`, with the notes a picture gives (edge labels left out) printed on stderr."""
    from ..pictures import PictureNote

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PictureNote)
        result = make()
    for w in caught:
        if issubclass(w.category, PictureNote):
            click.echo(f"tracenn {command}: note: {w.message}", err=True)
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    return result


def picture_file_option(what: str, ext: str):
    return click.option("-o", "--output", metavar=f"FILE.{ext}", default=None,
                        help=f"Write the {what} to FILE.{ext} (replaced only once it is complete); "
                        "without it, print it.")


@click.command()
@click.argument("target", metavar=TARGET + "|graph")
@circuit_arguments
@picture_file_option("picture", "svg")
@step_option("The step to draw (it must lie within the trace, see --steps).")
@click.option("--view", type=click.Choice(VIEWS), default="forward", show_default=True,
              help="forward: net and out on each neuron, each weight on its edge, the error and "
              "E_total; backward: ∂E/∂out and δ on each neuron, ∂E/∂w on each edge; update: "
              "every weight and bias old → new, η in the title.")
@click.option("--steps", type=click.IntRange(min=1), default=None,
              help="Length of the trace (default: the spec's steps, or its epochs times the "
              "steps per epoch).")
@click.option("--sample", type=click.IntRange(min=1), default=1, show_default=True,
              help="For a step of several samples (batch mode): whose net, out and δ to show.")
@picture_tracing_options
def draw(target, circuit, at, output, step_no, view, steps, sample, lr, seed, update_biases,
         mistakes, precision, **optimizer):
    """Draw the network with its numbers at one step, as SVG.

    Inputs on the left, one column per layer, the error on the right; every edge carries its
    weight's name and value, coloured by sign and as wide as its magnitude.  A bias shared by a
    layer (Mazur's b1, b2) is one node; a per-neuron bias is shown with its neuron.  The SVG is
    self-contained (no fonts, images or scripts from elsewhere), so GitHub shows it in Markdown.
    Layers of more than 12 units are drawn without edge labels (a note on stderr says so);
    layers of more than 32 are refused.

    tracenn draw graph "EXPR"|FILE.py --at x=-2,y=5,z=-4 [--view forward|backward] draws a
    circuit instead (as tracenn graph --svg).
    """
    trace = circuit_of(target, circuit, at, "draw")
    if trace is not None:
        if view == "update":
            raise click.BadParameter("a circuit has the views forward and backward",
                                     param_hint="--view")
        return write_pictures(trace, output, view, None)
    svg = run_noting("draw", lambda: api.draw(
        target, step_no, view=view, precision=precision, sample=sample, steps=steps, lr=lr,
        mistakes=mistakes, update_biases=update_biases, seed=seed, **optimizer))
    write_output(output, svg)


@click.command()
@click.argument("target", metavar=TARGET + "|graph")
@circuit_arguments
@picture_file_option("page", "html")
@click.option("--steps", type=click.IntRange(min=1), default=None,
              help="Number of updates (training steps) to run (default: the spec's).")
@click.option("--every", type=click.IntRange(min=1), default=None,
              help="Keep every K-th epoch in full, every sample of it (and the first and the last "
              "epoch; with full batch an epoch is a step); default: about 200 pictures in all "
              "(one for each sample of a step), so a long run stays a small page. The loss curve "
              "has each sample's loss at the kept steps and the mean of every epoch up to 1,000 "
              "steps (or of 1,000 of them beyond).")
@picture_tracing_options
def html(target, circuit, at, output, steps, every, lr, seed, update_biases, mistakes,
         precision, **optimizer):
    """Write one self-contained HTML page that plays training step by step.

    The picture of the current step with its phase lit as it plays (forward, error, backward,
    update), the step's tables beside it, the loss curve with the step marked, and for a network
    with two inputs (xor) the output over the input plane as a heat map with the training points,
    computed by the engine after each step.  Previous/next, play/pause, a slider and the arrow
    keys move through the steps; the address #step=N opens step N.  The page works offline: it
    requests nothing, and it embeds the trace as JSON Lines (format 1).

    tracenn html graph "EXPR"|FILE.py --at x=-2,y=5,z=-4 plays a circuit gate by gate instead,
    forward then backward (as tracenn graph --html).
    """
    trace = circuit_of(target, circuit, at, "html")
    if trace is not None:
        return write_pictures(trace, None, "backward", output or "-")
    spec = api.load(target, seed=seed)
    total = steps or spec.total_steps
    with Progress("html", "training") as progress:
        page = run_noting("html", lambda: api.html(
            spec, steps, every=every, precision=precision, lr=lr, mistakes=mistakes,
            update_biases=update_biases,
            progress=lambda step: progress("training", step, total), **optimizer))
    write_output(output, page)


@click.command()
@click.argument("target", metavar=TARGET)
@picture_file_option("picture", "svg")
@click.option("--step", "step_no", type=click.IntRange(min=1), default=None,
              help="After which update (default: the spec's last step).")
@click.option("--columns", type=click.IntRange(min=1), default=3, show_default=True,
              help="Panels to a row (1 makes a picture about 300 px wide, for a phone).")
@lr_option()
@seed_option()
@update_biases_option()
@optimizer_options
@mistake_option
def maps(target, output, step_no, columns, lr, seed, update_biases, mistakes, **optimizer):
    """Draw, for a network with two inputs (xor), each hidden unit and the output over the
    input square, as SVG.

    A heat map per unit of its activation after the step's update, the line where the unit
    switches (activation 0.5 for a sigmoid: where its z = 0), a colour bar with that level
    marked, and the training points (filled: target 1).  A hidden unit's line is where its own
    w·x + b is 0; the output's is the line that separates the classes.
    """
    svg = api.decision_maps(target, step_no, columns=columns, lr=lr, mistakes=mistakes,
                            update_biases=update_biases, seed=seed, **optimizer)
    write_output(output, svg)
