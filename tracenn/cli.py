"""The command line: thin click commands that parse options, call the library and hand the
result to a renderer.  Every bad input ends in one line on stderr and exit status 2."""

from __future__ import annotations

import math
import sys

import click
from tabulate import tabulate_formats

from . import render
from .network import INIT_SCHEMES, MISTAKES, TrainingDiverged
from .render import DEFAULT_PRECISION
from .spec import SpecError, load_spec
from .trace import Step

EXIT_BAD_INPUT = 2


class BadInput(click.ClickException):
    exit_code = EXIT_BAD_INPUT


class TracennGroup(click.Group):
    """A group whose errors are one line ("tracenn CMD: error: …") and exit status 2."""

    def main(self, args=None, prog_name=None, **kwargs):
        kwargs.pop("standalone_mode", None)
        try:
            rv = super().main(args=args, prog_name=prog_name, standalone_mode=False, **kwargs)
        except click.exceptions.Abort:
            click.echo("tracenn: interrupted", err=True)
            sys.exit(130)
        except click.ClickException as exc:
            ctx = getattr(exc, "ctx", None)
            where = ctx.command_path if ctx is not None else "tracenn"
            click.echo(f"{where}: error: {exc.format_message()}", err=True)
            sys.exit(EXIT_BAD_INPUT if isinstance(exc, click.UsageError) else exc.exit_code)
        if isinstance(rv, int) and rv:
            sys.exit(rv)
        sys.exit(0)


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


def output_options(f):
    """--format, --precision and --json, shared by every command that prints tables."""
    f = click.option("--json", "as_json", is_flag=True,
                     help="Print one JSON object per shown step (JSON Lines) and nothing else.")(f)
    f = click.option("--precision", type=click.IntRange(0, 17), default=DEFAULT_PRECISION,
                     show_default=True, help="Decimals shown in tables (0..17).")(f)
    f = click.option("--format", "fmt", type=click.Choice(tabulate_formats), default="simple",
                     show_default=True, metavar="FORMAT",
                     help="Table format: any tabulate format, e.g. simple, github, grid, latex, "
                     "html.")(f)
    return f


def steps_options(default_steps: int | None):
    def deco(f):
        f = click.option("--every", type=click.IntRange(min=1), default=1, show_default=True,
                         help="Show every K-th step in full; step 1 and the last step, when not "
                         "multiples of K, as one summary line.")(f)
        f = click.option("--steps", type=click.IntRange(min=1), default=default_steps,
                         show_default=default_steps is not None,
                         help="Number of updates (training steps) to run.")(f)
        return f

    return deco


mistake_option = click.option(
    "--mistake", "mistakes", multiple=True, type=click.Choice(sorted(MISTAKES)),
    help="Run the engine with a classic backprop mistake switched on (repeatable), to show its "
    "effect: " + "; ".join(f"{k}: {v}" for k, v in MISTAKES.items()) + ".")


check_option = click.option(
    "--check", is_flag=True,
    help="Check every gradient against SymPy's derivative and central differences and add a "
    "PASS/FAIL column (imports SymPy; exit status 1 if any check fails).")


def fail(message: str) -> None:
    """Stop the current command with one line on stderr and exit status 2."""
    exc = BadInput(message)
    exc.ctx = click.get_current_context(silent=True)
    raise exc


@click.group(cls=TracennGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tracenn")
def cli():
    """tracenn: backpropagation made visible, number by number.

    Weight convention throughout: W[j][k] connects input k to neuron j of the layer.
    """


def _checks(step: Step, loss) -> dict:
    from .symbolic import check_gradients

    return {row.name: row for row in check_gradients(step, loss)}


def _print_steps(entries, labels, *, loss, check: bool, fmt: str, precision: int, as_json: bool,
                 note: str = "") -> bool:
    """Print trace entries as tables or JSON Lines; returns False if a --check failed."""
    all_ok = True
    for entry in entries:
        checks = _checks(entry, loss) if check and isinstance(entry, Step) else None
        if checks is not None:
            all_ok &= all(row.ok for row in checks.values())
        if as_json:
            obj = entry.to_json()
            if checks is not None:
                obj["checks"] = {name: row.to_json() for name, row in checks.items()}
            click.echo(render.json_line(obj))
        elif isinstance(entry, Step):
            click.echo(render.render_step(entry, fmt, precision, checks))
            if entry.step == 1 and note:
                click.echo("\n" + note)
            click.echo()
        else:
            click.echo(render.render_summary(entry, labels, precision))
    return all_ok


def _load(target: str, seed=None, update_biases: bool = False):
    """The spec of a preset or file; a bad one ends the command with its one-line message."""
    try:
        spec = load_spec(target, seed=seed)
    except SpecError as exc:
        fail(str(exc))
    if update_biases:
        spec.train_biases()
    return spec


def _trace(source: str, *, steps, every, lr, update_biases, mistakes, check, fmt, precision,
           as_json, seed=None):
    from .runs import trace_spec

    spec = _load(source, seed, update_biases)
    try:
        run = trace_spec(spec, steps=steps or spec.steps or 1, every=every, lr=lr,
                         mistakes=tuple(mistakes))
    except TrainingDiverged as exc:
        fail(str(exc))
    ok = _print_steps(run.entries, run.labels, loss=spec.network.loss, check=check, fmt=fmt,
                      precision=precision, as_json=as_json, note=spec.note)
    if not ok:
        sys.exit(1)


@cli.command()
@steps_options(1)
@click.option("--lr", type=PositiveFloat(), default=None, help="Learning rate η (default 0.5, the blog's).")
@click.option("--update-biases", is_flag=True, help="Update b1 and b2 too (the blog leaves them fixed).")
@mistake_option
@check_option
@output_options
def mazur(steps, every, lr, update_biases, mistakes, check, fmt, precision, as_json):
    """Matt Mazur's 2-2-2 step-by-step backpropagation example, with the blog's names.

    Prints, for each shown step, the forward pass (net, out), the error, the backward pass of
    the output and hidden layers (∂E/∂out · ∂out/∂net · ∂net/∂w = ∂E/∂w, new value) and the error
    before and after the update.
    """
    _trace("mazur", steps=steps, every=every, lr=lr, update_biases=update_biases,
           mistakes=mistakes, check=check, fmt=fmt, precision=precision, as_json=as_json)


@cli.command()
@click.argument("spec", metavar="SPEC.toml")
@steps_options(None)
@click.option("--lr", type=PositiveFloat(), default=None, help="Learning rate η (default: the spec's).")
@click.option("--seed", type=click.IntRange(min=0), default=None,
              help="Seed for layers the spec initialises at random (default: the spec's).")
@click.option("--update-biases", is_flag=True, help="Update every bias, even those the spec freezes.")
@mistake_option
@check_option
@output_options
def trace(spec, steps, every, lr, seed, update_biases, mistakes, check, fmt, precision, as_json):
    """Trace any network described by a TOML spec (or a preset: mazur, xor, softmax).

    Steps default to the spec's [training] steps.  Names come from the spec; where it gives
    none, indexed names such as W2[1,2] (layer 2, neuron 1, input 2) are used.
    """
    _trace(spec, steps=steps, every=every, lr=lr, update_biases=update_biases, mistakes=mistakes,
           check=check, fmt=fmt, precision=precision, as_json=as_json, seed=seed)


@cli.command()
@click.option("--seed", type=click.IntRange(min=0), default=None,
              help="Seed of the random initial weights (default 0, which converges).")
@click.option("--epochs", type=click.IntRange(min=1), default=None,
              help="Passes over the four samples (default 2000).")
@click.option("--every", type=click.IntRange(min=1), default=None,
              help="Show the loss every K epochs (default: about ten lines).")
@click.option("--lr", type=PositiveFloat(), default=None, help="Learning rate η (default 1.0).")
@click.option("--batch", is_flag=True, help="Full-batch updates (one per epoch) instead of online.")
@mistake_option
@check_option
@output_options
def xor(seed, epochs, every, lr, batch, mistakes, check, fmt, precision, as_json):
    """Train a 2-2-1 logistic network on XOR and show how it learns.

    Shows the first epoch in full (each sample's forward values, deltas, gradients and updates),
    the loss at intervals, and the truth table at the end.  A seed that gets stuck in a local
    minimum is reported as such.
    """
    from .runs import train_xor, xor_curve_every

    spec = _load("xor", seed)
    epochs = epochs or spec.epochs or 1
    every = every or xor_curve_every(epochs)
    try:
        run = train_xor(spec, epochs=epochs, every=every, batch=batch, lr=lr,
                        mistakes=tuple(mistakes))
    except TrainingDiverged as exc:
        fail(str(exc))
    ok = _print_steps(run.first_epoch, run.labels, loss=spec.network.loss, check=check, fmt=fmt,
                      precision=precision, as_json=as_json)
    if as_json:
        click.echo(render.json_line(render.xor_json(run)))
    else:
        click.echo(render.format_tables(render.xor_tables(run, precision), fmt))
        click.echo()
        click.echo(render.xor_verdict(run))
    if not ok:
        sys.exit(1)


@cli.command()
@click.argument("target", metavar="mazur|xor|softmax|SPEC.toml")
@click.option("--step", "step_no", type=click.IntRange(min=1), default=1, show_default=True,
              help="Check the gradients at this step of the trace.")
@click.option("--tolerance", type=PositiveFloat(), default=1e-6, show_default=True,
              help="Largest allowed difference between the three values, relative to "
              "max(1, |value|).")
@click.option("--latex", is_flag=True,
              help="Print the chain-rule formulas and their values as LaTeX (an align* block).")
@click.option("--dps", type=click.IntRange(16, 1000), default=None,
              help="Also recompute the whole step with this many significant digits (mpmath) "
              "and show how far each float64 value is from it.")
@click.option("--seed", type=click.IntRange(min=0), default=None,
              help="Seed for layers the spec initialises at random.")
@output_options
def verify(target, step_no, tolerance, latex, dps, seed, fmt, precision, as_json):
    """Prove a step's numbers three independent ways and show the formulas.

    SymPy builds the loss as an expression in named symbols (for mazur: i1, i2, w1..w8, b1, b2,
    t1, t2), differentiates it by every parameter and substitutes the step's values; the table
    sets that beside the engine's backprop value and a central finite difference, with the
    textbook chain-rule form of each gradient.  A second table checks symbolically the identities
    backprop relies on, taken from the engine's own formula objects.  Exit status 0 when every
    row passes, 1 when any fails.
    """
    from . import symbolic
    from .runs import trace_one_step

    spec = _load(target, seed)
    try:
        step = trace_one_step(spec, step_no)
    except TrainingDiverged as exc:
        fail(str(exc))
    loss = spec.network.loss
    rows = symbolic.check_gradients(step, loss, tolerance)
    identities = symbolic.check_identities()
    hp = symbolic.high_precision(step, loss, dps) if dps else None
    ok = all(r.ok for r in rows) and all(i.holds for i in identities)
    if as_json:
        click.echo(render.json_line(render.verify_json(step_no, rows, identities, hp)))
    elif latex:
        click.echo(render.latex_block(rows, precision))
    else:
        tables = [render.gradient_table(step_no, rows, precision), render.identity_table(identities)]
        if hp is not None:
            tables.append(render.precision_table(hp, dps))
        click.echo(render.format_tables(tables, fmt))
        failed = [r.name for r in rows if not r.ok] + [i.name for i in identities if not i.holds]
        click.echo()
        click.echo("All checks pass." if ok else f"FAILED: {', '.join(failed)}")
    sys.exit(0 if ok else 1)


@cli.command()
@click.argument("target", metavar="mazur|xor|softmax|SPEC.toml")
@click.option("--values", "values_file", required=True, metavar="FILE",
              help="Your numbers: tracenn's JSON Lines trace, a flat JSON object keyed by names "
              "(out_h1, delta_o1, dE/dw5, w5 = w5 after the update), or CSV name,value rows.")
@click.option("--step", "step_no", type=click.IntRange(min=1), default=1, show_default=True,
              help="The step your numbers belong to.")
@click.option("--tolerance", type=PositiveFloat(), default=1e-8, show_default=True,
              help="Largest difference that still matches, relative to max(1, |right value|); "
              "use 1e-5 for float32 code or numbers rounded to few decimals.")
@click.option("--lr", type=PositiveFloat(), default=None, help="Learning rate η (default: the spec's).")
@click.option("--update-biases", is_flag=True, help="Compare against a run that updates every bias.")
@click.option("--seed", type=click.IntRange(min=0), default=None,
              help="Seed for layers the spec initialises at random.")
@click.option("--precision", type=click.IntRange(0, 17), default=DEFAULT_PRECISION,
              show_default=True, help="Decimals shown.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
def compare(target, values_file, step_no, tolerance, lr, update_biases, seed, precision, as_json):
    """Find where your backprop went wrong: the first of your numbers that differs.

    Walks the quantities in the order backprop computes them (forward, loss, deltas, gradients,
    updates) and reports the first of your values that differs beyond --tolerance: the right
    value, the formula with the right numbers substituted, and which of its inputs you had
    right.  When your numbers match a classic mistake it names it.  Exit status 0 when every
    value matches, 1 at a mismatch, 2 for a file that cannot be read.
    """
    from .compare import ValuesError, compare as compare_values, diagnose, read_values
    from .quantities import StepQuantities
    from .runs import trace_one_step

    def quantities(mistakes=()):
        spec = _load(target, seed, update_biases)
        try:
            step = trace_one_step(spec, step_no, lr=lr, mistakes=mistakes)
        except TrainingDiverged as exc:
            fail(str(exc))
        return StepQuantities(step, spec.network.loss)

    right = quantities()
    try:
        learner, unknown = read_values(values_file, step_no, right)
    except ValuesError as exc:
        fail(str(exc))
    result = compare_values(right, learner, unknown, tolerance, precision)
    if not result.ok:
        mistaken = {}
        for name in MISTAKES:
            try:
                mistaken[name] = quantities((name,))
            except click.ClickException:
                continue  # this mistake makes the run diverge: it cannot be what the learner did
        result.mistakes = diagnose(learner, right, mistaken, tolerance)
    if as_json:
        click.echo(render.json_line(result))
    else:
        click.echo(render.render_comparison(result, precision))
    sys.exit(0 if result.ok else 1)


def write_atomically(path: str, text: str) -> None:
    """Write `text` to `path` through a temporary file in the same folder, renamed into place
    only when complete: an existing file is never left half-written."""
    import os
    import tempfile

    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tracenn-", suffix=".tmp")
    except OSError as exc:
        fail(f"{path}: cannot write there: {exc.strerror}")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        os.unlink(tmp)
        fail(f"{path}: cannot write: {exc.strerror}")


@cli.command()
@click.argument("target", metavar="mazur|xor|softmax|SPEC.toml")
@click.option("--step", "step_no", type=click.IntRange(min=1), default=1, show_default=True,
              help="The training step to walk through.")
@click.option("--seed", type=click.IntRange(min=0), default=None,
              help="Seed for layers the spec initialises at random.")
@click.option("--precision", type=click.IntRange(0, 17), default=DEFAULT_PRECISION,
              show_default=True, help="Decimals shown.")
@click.option("-o", "--output", metavar="FILE", default=None,
              help="Write the document to FILE (replaced only once it is complete) instead of "
              "printing it.")
def walkthrough(target, step_no, seed, precision, output):
    """Print a Markdown walkthrough of one training step, as a textbook page would show it.

    For every quantity: the formula (LaTeX in $$ blocks, which GitHub renders), the formula
    with the numbers substituted, and the result; a table per stage; every weight's update; and
    what each classic mistake would have produced instead.
    """
    from .walkthrough import collect, to_markdown

    try:
        doc = to_markdown(collect(target, step_no, seed), precision)
    except (SpecError, TrainingDiverged) as exc:
        fail(str(exc))
    if output:
        write_atomically(output, doc)
    else:
        click.echo(doc, nl=False)


class LayerSizes(click.ParamType):
    name = "sizes"

    def convert(self, value, param, ctx):
        if isinstance(value, list):
            return value
        try:
            sizes = [int(v) for v in str(value).split(",")]
        except ValueError:
            self.fail(f"{value!r} is not a comma-separated list of whole numbers, e.g. 784,128,64,10",
                      param, ctx)
        if len(sizes) < 2 or sizes[0] != 784 or sizes[-1] != 10 or min(sizes) < 1:
            self.fail(f"{value!r}: expected 784 inputs (28×28 pixels) first, 10 outputs (digits) "
                      "last, and sizes ≥ 1 between, e.g. 784,128,64,10", param, ctx)
        return sizes


@cli.command()
@click.option("--data", "data_path", metavar="PATH", default=None,
              help="MNIST as a folder of IDX files (gzipped or not), mnist.npz, a CSV file or "
              "mnist.pkl.gz. Default: $TRACENN_DATA, the --download cache, or the sample that "
              "ships with tracenn.")
@click.option("--download", is_flag=True,
              help="Download the full MNIST into the cache folder ($XDG_CACHE_HOME/tracenn/mnist) "
              "first, verifying each file's MD5.")
@click.option("--layers", type=LayerSizes(), default="784,128,64,10", show_default=True,
              help="Layer sizes, input first.")
@click.option("--activation", type=click.Choice(["relu", "sigmoid", "tanh"]), default="relu",
              show_default=True, help="Activation of the hidden layers.")
@click.option("--output", "output_act", type=click.Choice(["softmax", "sigmoid"]),
              default="softmax", show_default=True, help="Activation of the output layer.")
@click.option("--loss", type=click.Choice(["cross-entropy", "mse", "half-sse", "sse"]),
              default="cross-entropy", show_default=True, help="Loss per sample.")
@click.option("--optimizer", type=click.Choice(["sgd", "momentum", "adam"]), default="momentum",
              show_default=True, help="Update rule.")
@click.option("--lr", type=PositiveFloat(), default=None,
              help="Learning rate η (default: sgd 0.1, momentum 0.02, adam 0.001).")
@click.option("--momentum", "mu", type=click.FloatRange(0, 1, max_open=True), default=0.9,
              show_default=True, help="Momentum coefficient μ (with --optimizer momentum).")
@click.option("--init", type=click.Choice(["auto", *INIT_SCHEMES]), default="auto",
              show_default=True,
              help="Initial weights: auto is He (N(0, 2/n_in)) for ReLU layers and Xavier "
                   "(U(±√(6/(n_in+n_out)))) otherwise; lecun is N(0, 1/n_in); normal is "
                   "N(0, s²) and uniform U(−s, s) for weights and biases, s = --init-scale; "
                   "zeros makes every unit of a layer the same, the symmetry random weights "
                   "break.")
@click.option("--init-scale", type=PositiveFloat(), default=1.0, show_default=True,
              help="s of --init normal and --init uniform (normal with s = 1 is network.py's).")
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True,
              help="Samples per update: 1 is stochastic, the whole set is full-batch gradient "
              "descent, anything between is mini-batch.")
@click.option("--epochs", type=click.IntRange(min=1), default=10, show_default=True,
              help="Passes over the training set.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Seed of the initial weights and the shuffling.")
@click.option("--limit", type=click.IntRange(min=1), default=None,
              help="Train on the first N training images only.")
@click.option("--every", type=click.IntRange(min=1), default=None,
              help="Also show a summary every N batches.")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object per summary and nothing else on stdout.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--format", "fmt", type=click.Choice(tabulate_formats), default="simple",
              show_default=True, metavar="FORMAT", help="Table format (any tabulate format).")
def mnist(data_path, download, layers, activation, output_act, loss, optimizer, lr, mu, init,
          init_scale, batch_size, epochs, seed, limit, every, as_json, quiet, fmt):
    """Train an MLP on MNIST and summarise every layer as it learns.

    The same engine as the small traces, in float32, with a per-layer summary instead of a full
    trace: before training, after every epoch (and every --every batches), one row per layer
    with the mean and spread of z and a, the fraction of saturated or dead units, the size of
    δ, ‖∂E/∂W‖ and that per weight, ‖W‖ and the update ratio ‖ΔW‖/‖W‖, plus loss, train and
    test accuracy.  Ctrl-C stops after the current batch and prints the summary so far.
    """
    import signal

    from .mnist.data import DataError, resolve
    from .mnist.train import MnistConfig, run

    show_bar = not (quiet or as_json) and sys.stderr.isatty()
    if download:
        from .mnist.download import download as fetch

        def bar(label, total):
            return click.progressbar(length=total, label=label, file=sys.stderr) if show_bar else None

        try:
            folder = fetch(progress=bar)
        except DataError as exc:
            fail(str(exc))
        data_path = data_path or str(folder)
    try:
        data = resolve(data_path)
    except DataError as exc:
        fail(str(exc))
    cfg = MnistConfig(layers, activation, output_act, loss, optimizer, lr, mu, batch_size, epochs,
                      seed, limit, every, init, init_scale)
    if not as_json:
        n = len(data.train_images[:limit] if limit else data.train_images)
        click.echo(f"MNIST from {data.source}: {n} training, {len(data.test_images)} test images")
        click.echo(f"network {'-'.join(map(str, layers))}, {activation} hidden, {output_act} "
                   f"output, {loss}; {optimizer} η = {cfg.eta:g}"
                   + (f", μ = {mu:g}" if optimizer == "momentum" else "")
                   + f"; batch {batch_size}, {epochs} epoch(s), seed {seed}, init {init}"
                   + (f" (s = {init_scale:g})" if init in ("normal", "uniform") else "") + "\n")

    state = {"stop": False, "bar": None, "epoch": 0}

    def on_sigint(signum, frame):
        state["stop"] = True
        signal.signal(signal.SIGINT, signal.default_int_handler)  # a second Ctrl-C stops at once

    def close_bar():
        if state["bar"] is not None:
            state["bar"].render_finish()
            state["bar"] = None

    def progress(epoch, n):
        if epoch != state["epoch"]:
            close_bar()
            state["epoch"] = epoch
            total = len(data.train_images[:limit] if limit else data.train_images)
            state["bar"] = click.progressbar(length=total, label=f"epoch {epoch}/{epochs}",
                                             file=sys.stderr, update_min_steps=max(1, total // 100))
            state["bar"].render_progress()
        state["bar"].update(n)

    def emit(summary):
        close_bar()
        if as_json:
            click.echo(render.json_line(summary))
        else:
            click.echo(render.format_tables([render.mnist_summary_table(summary, epochs)], fmt))
            click.echo()

    old = signal.signal(signal.SIGINT, on_sigint)
    try:
        result = run(data, cfg, emit=emit, progress=progress if show_bar else None,
                     should_stop=lambda: state["stop"])
    except TrainingDiverged as exc:
        close_bar()
        fail(str(exc))
    finally:
        signal.signal(signal.SIGINT, old)
    close_bar()
    if as_json:
        return
    if result.interrupted:
        click.echo("Interrupted: the summary above covers the batches done so far.")
    if result.epoch_losses:
        click.echo(f"loss per epoch: {render.sparkline(result.epoch_losses)}  "
                   f"({result.epoch_losses[0]:.4g} → {result.epoch_losses[-1]:.4g})")
    click.echo(f"test accuracy {100 * result.test_accuracy:.2f}% after {result.seconds:.1f} s of "
               "training\n")
    click.echo(render.format_tables([render.confusion_table(result.confusion)], fmt))


def main() -> None:
    cli.main(prog_name="tracenn")
