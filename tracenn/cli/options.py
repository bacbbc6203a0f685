"""Options and value types shared by the commands, each declared once."""

from __future__ import annotations

import math

import click
from tabulate import tabulate_formats

from ..engine.mistakes import CATALOGUE, MISTAKES
from ..engine.mistakes_numpy import ALIASES
from ..engine.optim import OPTIMIZERS
from ..notation import DEFAULT_PRECISION

TARGET = "mazur|xor|softmax|SPEC.toml"


class PositiveFloat(click.ParamType):
    name = "number > 0"

    def convert(self, value, param, ctx):
        try:
            x = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number; expected a finite number > 0", param, ctx)
        if not math.isfinite(x) or x <= 0:
            self.fail(f"{value!r} is not allowed; expected a finite number > 0", param, ctx)
        return x


def _options(*decorators):
    """One decorator applying several click options in the order written."""

    def deco(f):
        for d in reversed(decorators):
            f = d(f)
        return f

    return deco


def json_option(help: str = "Print one JSON object per shown step (JSON Lines) and nothing else."):
    return click.option("--json", "as_json", is_flag=True, help=help)


def precision_option(help: str = "Decimals shown in tables (0..17).", default=DEFAULT_PRECISION):
    return click.option("--precision", type=click.IntRange(0, 17), default=default,
                        show_default=True, help=help)


format_option = click.option(
    "--format", "fmt", type=click.Choice(tabulate_formats), default="simple", show_default=True,
    metavar="FORMAT", help="Table format: any tabulate format, e.g. simple, github, grid, latex, "
    "html.")


def output_options(f):
    """--format, --precision and --json, shared by every command that prints tables."""
    return _options(format_option, precision_option(), json_option())(f)


def seed_option(help: str = "Seed for layers the spec initialises at random (default: the "
                "spec's)."):
    return click.option("--seed", type=click.IntRange(min=0), default=None, help=help)


def lr_option(default_text: str = "the spec's"):
    return click.option("--lr", type=PositiveFloat(), default=None,
                        help=f"Learning rate η (default: {default_text}).")


def step_option(help: str):
    return click.option("--step", "step_no", type=click.IntRange(min=1), default=1,
                        show_default=True, help=help)


def steps_options(default_steps: int | None, every_default: int | None = 1):
    return _options(
        click.option("--steps", type=click.IntRange(min=1), default=default_steps,
                     show_default=default_steps is not None,
                     help="Number of updates (training steps) to run."),
        click.option("--every", type=click.IntRange(min=1), default=every_default,
                     show_default=every_default is not None,
                     help="Show every K-th step in full; step 1 and the last step, when not "
                     "multiples of K, as one summary line."),
    )


def update_biases_option(help: str = "Update every bias, even those the spec freezes."):
    return click.option("--update-biases", is_flag=True, help=help)


# Short helps: each appears in the --help of every tracing command; what each mistake does and
# each optimizer's formula are in the output itself (the walkthrough's "Common mistakes", the
# update tables' titles), in tracenn.MISTAKES and in engine/optim.py
mistake_option = click.option(
    "--mistake", "mistakes", multiple=True, type=click.Choice([*MISTAKES, *ALIASES]),
    metavar="NAME",
    help="Switch on a classic backprop mistake (repeatable): "
    + ", ".join(n for n, m in CATALOGUE.items() if m.walkthrough)
    + ". tracenn walkthrough explains each; the README also lists those of NumPy code.")

check_option = click.option(
    "--check", is_flag=True,
    help="Check every gradient against SymPy's derivative and central differences and add a "
    "PASS/FAIL column (imports SymPy; exit status 1 if any check fails).")

output_file_option = click.option(
    "-o", "--output", metavar="FILE", default=None,
    help="Write the result to FILE (replaced only once it is complete) instead of printing it.")


class Interval(click.ParamType):
    """A finite number in an interval: [0, 1) for a momentum, a β or RMSProp's α; [0, ∞) for a
    weight decay."""

    def __init__(self, low: float, high: float | None = None):
        self.low, self.high = low, high
        self.name = f"number in [{low:g}, {high:g})" if high is not None else f"number ≥ {low:g}"

    def convert(self, value, param, ctx):
        try:
            x = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number; expected a {self.name}", param, ctx)
        if not math.isfinite(x) or x < self.low or (self.high is not None and x >= self.high):
            self.fail(f"{value!r} is not allowed; expected a {self.name}", param, ctx)
        return x


OPTIMIZER_HELP = ("Update rule, as torch.optim computes it: " + ", ".join(OPTIMIZERS)
                  + " (default: the spec's, sgd: w ← w − η ∂E/∂w); the others' formulas head "
                  "their update tables.")


def optimizer_options(f):
    """--optimizer and its hyper-parameters, shared by the tracing commands."""
    return _options(
        click.option("--optimizer", type=click.Choice(list(OPTIMIZERS)), default=None,
                     metavar="NAME", help=OPTIMIZER_HELP),
        click.option("--momentum", type=Interval(0, 1), default=None,
                     help="μ of momentum and nesterov (PyTorch's default 0.9)."),
        click.option("--beta1", type=Interval(0, 1), default=None, help="Adam's β1 (default 0.9)."),
        click.option("--beta2", type=Interval(0, 1), default=None, help="Adam's β2 (default 0.999)."),
        click.option("--eps", "epsilon", type=PositiveFloat(), default=None,
                     help="ε of adam, adamw and rmsprop (default 1e-8), outside the root."),
        click.option("--alpha", type=Interval(0, 1), default=None,
                     help="RMSProp's smoothing α (default 0.99)."),
        click.option("--weight-decay", "weight_decay", type=Interval(0), default=None,
                     help="λ: sgd, momentum, nesterov, rmsprop and adam add λw to the gradient; "
                     "adamw decays w by ηλw apart from it (default 0; adamw 0.01). Biases are "
                     "not decayed."),
    )(f)
