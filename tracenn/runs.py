"""Running a spec: which steps are recorded in full, and the XOR run's evaluation.

These functions return plain data (trace.Run, XorRun); the CLI hands it to a renderer.
"""

from __future__ import annotations

from dataclasses import dataclass

from .network import FULL, NONE, SGD, SUMMARY, TraceRecorder, train
from .spec import Spec
from .trace import Run, Step


def show_policy(steps: int, every: int, first_full: bool = False):
    """Which steps are shown: every `every`-th step in full; step 1 and the last step, when they
    are not multiples of `every`, as one summary line each (in full with `first_full`)."""

    def show(step: int) -> int:
        if step % every == 0:
            return FULL
        if step == 1:
            return FULL if first_full else SUMMARY
        if step == steps:
            return SUMMARY
        return NONE

    return show


def _record(spec: Spec, steps: int, show, lr: float | None, mistakes: tuple[str, ...]):
    """Train `spec` for `steps` updates (online or full batch, as the spec says) and return the
    entries `show(step)` asked for.  Raises TrainingDiverged."""
    eta = lr if lr is not None else spec.learning_rate
    recorder = TraceRecorder(show, eta, mistakes)
    train(spec.network, spec.data, SGD(eta), steps=steps, batch_size=spec.batch_size,
          observers=[recorder], mistakes=mistakes)
    return recorder.entries


def trace_spec(spec: Spec, *, steps: int, every: int = 1, lr: float | None = None,
               mistakes: tuple[str, ...] = ()) -> Run:
    """The steps `show_policy(steps, every)` selects, as a Run."""
    return Run(spec.network.labels, _record(spec, steps, show_policy(steps, every), lr, mistakes))


def trace_one_step(spec: Spec, step: int, *, lr: float | None = None,
                   mistakes: tuple[str, ...] = ()) -> Step:
    """Train up to update `step` and return that step's full trace."""
    return _record(spec, step, lambda s: FULL if s == step else NONE, lr, mistakes)[-1]


STUCK_AFTER_EPOCHS = 1000


@dataclass
class TruthRow:
    x: list[float]
    target: float
    output: float
    rounded: int
    correct: bool


@dataclass
class XorRun:
    """An XOR training run: the first epoch in full, the loss at intervals, the truth table."""

    first_epoch: list[Step]
    curve: list[tuple[int, float]]  # (epoch, mean loss over the four samples after it)
    table: list[TruthRow]
    verdict: str  # "solved", "stuck" or "unfinished"
    epochs: int
    seed: int | None
    mode: str
    eta: float
    labels: object = None

    @property
    def solved(self) -> bool:
        return self.verdict == "solved"


class _EpochLoss:
    """Observer: the loss over the whole data set after every `every`-th epoch (and the last)."""

    def __init__(self, data, every: int, epochs: int):
        self.data, self.every, self.epochs = data, every, epochs
        self.curve: list[tuple[int, float]] = []

    def needs(self, step):
        return NONE

    def on_step(self, net, rec, step, epoch, idx):
        pass

    def on_epoch(self, net, epoch):
        if epoch == 1 or epoch % self.every == 0 or epoch == self.epochs:
            self.curve.append((epoch, net.mean_loss(self.data.X, self.data.T)))


def train_xor(spec: Spec, *, epochs: int, every: int, batch: bool, lr: float | None = None,
              mistakes: tuple[str, ...] = ()) -> XorRun:
    """Train the XOR spec; record the first epoch's steps in full and evaluate the result."""
    eta = lr if lr is not None else spec.learning_rate
    data = spec.data
    batch_size = len(data) if batch else 1
    steps_per_epoch = -(-len(data) // batch_size)
    recorder = TraceRecorder(lambda s: FULL if s <= steps_per_epoch else NONE, eta, mistakes)
    curve = _EpochLoss(data, every, epochs)
    train(spec.network, data, SGD(eta), epochs=epochs, batch_size=batch_size,
          observers=[recorder, curve], mistakes=mistakes)
    out = spec.network.output(data.X)[:, 0]
    table = []
    for x, t, o in zip(data.X, data.T[:, 0], out):
        rounded = int(o >= 0.5)
        table.append(TruthRow(x.tolist(), float(t), float(o), rounded, rounded == int(t >= 0.5)))
    if all(r.correct for r in table):
        verdict = "solved"
    else:
        # A loss that has stopped falling after many epochs is a local minimum; early on, XOR
        # nets commonly sit on a plateau for a few hundred epochs before they escape.
        stuck = _plateaued(curve.curve) and epochs >= STUCK_AFTER_EPOCHS
        verdict = "stuck" if stuck else "unfinished"
    return XorRun(recorder.entries, curve.curve, table, verdict, epochs, spec.seed,
                  "batch" if batch else "online", eta, spec.network.labels)


def _plateaued(curve: list[tuple[int, float]]) -> bool:
    """True when the loss fell by less than 1% over the last fifth of training."""
    if len(curve) < 2:
        return False
    last_epoch, last = curve[-1]
    earlier = [loss for epoch, loss in curve if epoch <= 0.8 * last_epoch] or [curve[0][1]]
    return earlier[-1] - last < 0.01 * earlier[-1]


def xor_curve_every(epochs: int) -> int:
    """The default interval for the loss lines: about ten lines per run."""
    return max(1, epochs // 10)

