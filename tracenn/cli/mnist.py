"""tracenn mnist: an MLP trained on MNIST, every layer summarised as it learns."""

from __future__ import annotations

import signal
import sys

import click

from ..engine.network import INIT_SCHEMES
from ..record.jsonl import dumps
from ..render.results import confusion_table, mnist_summary_table, sparkline
from ..render.tables import format_tables
from .options import Interval, PositiveFloat, format_option
from .output import Progress, echo, restore_signals


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


class _Bar:
    """A progress bar per epoch on stderr (terminal only).  Not cli/output.Progress, the one
    line the short commands share: an MNIST epoch takes minutes, and click's bar gives its
    percentage and the time left."""

    def __init__(self, epochs: int, total: int):
        self.epochs, self.total = epochs, total
        self.bar, self.epoch = None, 0

    def __call__(self, epoch: int, n: int):
        if epoch != self.epoch:
            self.close()
            self.epoch = epoch
            self.bar = click.progressbar(length=self.total, label=f"epoch {epoch}/{self.epochs}",
                                         file=sys.stderr, update_min_steps=max(1, self.total // 100))
            self.bar.render_progress()
        self.bar.update(n)

    def close(self):
        if self.bar is not None:
            self.bar.render_finish()
            self.bar = None


def _describe(data, cfg) -> str:
    n = len(data.limit(cfg.limit).train_images)
    return (f"MNIST from {data.source}: {n} training, {len(data.test_images)} test images\n"
            f"network {'-'.join(map(str, cfg.layers))}, {cfg.activation} hidden, {cfg.output} "
            f"output, {cfg.loss}; {cfg.optimizer} η = {cfg.eta:g} "
            + ("on a cosine schedule (toward 0 at the last step)" if cfg.schedule == "cosine"
               else "constant")
            + (f", μ = {cfg.momentum:g}" if cfg.optimizer in ("momentum", "nesterov") else "")
            + (f", weight decay λ = {cfg.decay:g}" if cfg.decay else "")
            + f"; batch {cfg.batch_size}, {cfg.epochs} epoch(s), seed {cfg.seed}, init {cfg.init}"
            + (f" (s = {cfg.init_scale:g})" if cfg.init in ("normal", "uniform") else "") + "\n")


def _data(data_path, label_column, download: bool, show_bar: bool):
    from ..mnist.data import resolve

    if download:
        from ..mnist.download import download as fetch

        def bar(label, total):
            return click.progressbar(length=total, label=label, file=sys.stderr) if show_bar else None

        data_path = data_path or str(fetch(progress=bar))
    if not show_bar:
        return resolve(data_path, label_column)
    with Progress("mnist", f"reading {data_path or 'MNIST'}"):  # a CSV file takes a second
        return resolve(data_path, label_column)


class _Signals:
    """Ctrl-C (SIGINT) and SIGTERM while `tracenn mnist` runs: the first one during training
    asks it to stop after the current batch (the summaries so far, the report and one line on
    stderr are still printed, and the exit status is 128 + the signal's number: 130, 143).  A
    second one, or one before training began, is handed to the house's handler
    (cli/output.py), which stops the command at once, after the line being written."""

    NAMES = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM"}

    def __init__(self):
        self.received: int | None = None
        self.training = False
        self.previous: dict = {}

    def __enter__(self):
        for signum in self.NAMES:
            self.previous[signum] = signal.signal(signum, self)
        return self

    def __exit__(self, *exc):
        restore_signals(self.previous)
        return False

    def __call__(self, signum, frame):
        if self.received is not None or not self.training:
            restore_signals(self.previous)
            signal.raise_signal(signum)  # the house's handler: stop now
            return
        self.received = signum

    def should_stop(self) -> bool:
        return self.received is not None


def _stopped_line(signum: int, result) -> str:
    name = _Signals.NAMES.get(signum, f"signal {signum}")
    if not result.summaries:
        return f"interrupted by {name}"
    last = result.summaries[-1]
    done = (f"{last.batch} batches of epoch {last.epoch}" if last.kind == "partial"
            else f"epoch {last.epoch}")
    return f"interrupted by {name} after {done}; the summaries above cover what was done"


def _report(result, fmt: str) -> None:
    if result.epoch_losses:
        echo(f"loss per epoch: {sparkline(result.epoch_losses)}  "
             f"({result.epoch_losses[0]:.4g} → {result.epoch_losses[-1]:.4g})")
    echo(f"test accuracy {100 * result.test_accuracy:.2f}% after {result.seconds:.1f} s of "
         "training\n")
    echo(format_tables([confusion_table(result.confusion)], fmt))


@click.command()
@click.option("--data", "data_path", metavar="PATH", default=None,
              help="MNIST as a folder of IDX files (gzipped or not), mnist.npz, a CSV file "
              "(.csv or .csv.gz: a label and 784 pixels a row) or mnist.pkl.gz. Default: $TRACENN_DATA, the --download cache, or the sample that "
              "ships with tracenn.")
@click.option("--download", is_flag=True,
              help="Download the full MNIST into the cache folder ($XDG_CACHE_HOME/tracenn/mnist) "
              "first, verifying each file's MD5.")
@click.option("--layers", type=LayerSizes(), default="784,128,64,10", show_default=True,
              help="Layer sizes, input first.")
@click.option("--activation", type=click.Choice(["relu", "sigmoid", "tanh"]), default="relu",
              show_default=True, help="Activation of the hidden layers.")
@click.option("--label-column", metavar="NAME|N", default=None,
              help="Where a CSV file keeps its labels: a header name or a column number "
              "counted from 1. Default: the header's label, class, target or y column, else "
              "the first column.")
@click.option("--output-activation", "output_act", type=click.Choice(["softmax", "sigmoid"]),
              default="softmax", show_default=True, help="Activation of the output layer.")
@click.option("--loss", type=click.Choice(["cross-entropy", "mse", "half-sse", "sse"]),
              default="cross-entropy", show_default=True, help="Loss per sample.")
@click.option("--optimizer", type=click.Choice(["sgd", "momentum", "nesterov", "rmsprop", "adam",
                                                "adamw"]), default="momentum",
              show_default=True, help="Update rule, in torch.optim's conventions.")
@click.option("--lr", type=PositiveFloat(), default=None,
              help="Learning rate η, the first step's on a cosine schedule (default: sgd, "
              "momentum and nesterov 0.1; rmsprop, adam and adamw 0.001).")
@click.option("--weight-decay", "decay", type=Interval(0), default=None,
              help="Weight decay λ of the weights, biases excepted (default: momentum and "
              "nesterov 5e-4, adamw 0.01, the others 0).")
@click.option("--schedule", type=click.Choice(["cosine", "constant"]), default="cosine",
              show_default=True,
              help="η over the run: constant, or cosine (from η at the first step toward 0 at "
              "the last: η·½(1 + cos(π t/T)) after t of the T steps).")
@click.option("--momentum", "mu", type=Interval(0, 1), default=0.9,
              show_default=True, help="Momentum coefficient μ (with --optimizer momentum or "
              "nesterov).")
@click.option("--init", type=click.Choice(["auto", *INIT_SCHEMES]), default="auto",
              show_default=True,
              help="Initial weights: auto is He (N(0, 2/n_in)) for ReLU layers and Xavier "
                   "(U(±√(6/(n_in+n_out)))) otherwise; lecun is N(0, 1/n_in); normal is "
                   "N(0, s²) and uniform U(−s, s) for weights and biases, s = --init-scale; "
                   "zeros makes every unit of a layer the same, the symmetry random weights "
                   "break.")
@click.option("--init-scale", type=PositiveFloat(), default=1.0, show_default=True,
              help="s of --init normal and --init uniform (normal with s = 1 is the init of "
              "Nielsen's network.py).")
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
@click.option("--html", "html_path", metavar="FILE.html", default=None,
              help="Also write a report page: a chart per statistic over training, one line per "
              "layer, and the confusion matrix as a heat map; rewritten as training goes on, and "
              "on Ctrl-C with what there is.")
@format_option
@click.pass_context
def mnist(ctx, data_path, download, label_column, layers, activation, output_act, loss,
          optimizer, lr, decay, schedule, mu, init, init_scale, batch_size, epochs, seed, limit,
          every, as_json, quiet, html_path, fmt):
    """Train an MLP on MNIST and summarise every layer as it learns.

    The same engine as the small traces, in float32, with a per-layer summary instead of a full
    trace: before training, after every epoch (and every --every batches), one row per layer
    with the mean and spread of z and a, the fraction of saturated or dead units, the size of
    δ, ‖∂E/∂W‖ and that per weight, ‖W‖ and the update ratio ‖ΔW‖/‖W‖, plus loss, train and
    test accuracy.  Ctrl-C (or SIGTERM) stops after the current batch, prints the summary so
    far and exits with status 130 (143).
    """
    from ..mnist.training import MnistConfig, check_memory

    cfg = MnistConfig(layers, activation, output_act, loss, optimizer, lr, mu, batch_size, epochs,
                      seed, limit, every, init, init_scale)
    cfg.schedule, cfg.weight_decay = schedule, decay
    check_memory(cfg)  # before the data is read: a network that cannot fit is refused at once
    show_bar = not (quiet or as_json) and sys.stderr.isatty()
    with _Signals() as signals:
        data = _data(data_path, label_column, download, show_bar)
        result = _train(data, cfg, signals, as_json, fmt, show_bar, html_path)
    if not as_json:
        _report(result, fmt)
    if result.interrupted:
        click.echo(f"{ctx.command_path}: {_stopped_line(signals.received, result)}", err=True)
        ctx.exit(128 + signals.received)


def _train(data, cfg, signals: _Signals, as_json: bool, fmt: str, show_bar: bool, html_path):
    """Run the training, printing each summary as it is made (and adding it to the --html
    report); returns the MnistRun."""
    from ..mnist.training import run

    if not as_json:
        echo(_describe(data, cfg))
    n = len(data.limit(cfg.limit).train_images)
    bar = _Bar(cfg.epochs, n)
    report = None
    if html_path:
        from .report import ReportFile

        report = ReportFile(html_path, _describe(data, cfg), cfg.epochs)

    def emit(summary):
        bar.close()
        echo(dumps(summary) if as_json else
             format_tables([mnist_summary_table(summary, cfg.epochs)], fmt) + "\n")
        if report is not None:
            report.add(summary)

    signals.training = True
    result = None
    try:
        result = run(data, cfg, emit=emit, progress=bar if show_bar else None,
                     should_stop=signals.should_stop)
        return result
    finally:
        bar.close()
        if report is not None:
            report.write(result)  # the final page, or what there is when stopped
