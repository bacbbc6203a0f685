"""Running a spec: the engine trained on a copy of the spec's network, its steps recorded as
the caller asks — streamed one by one, one step alone, once per catalogued mistake, or as the
XOR run with its evaluation.  Plain data out (record/); renderers and the CLI take it from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from .engine.loop import FULL, NONE, SUMMARY, Observer, iterate, train
from .engine.mistakes import CATALOGUE, Mistakes, applicable
from .engine.mistakes import Network as MistakeNetwork
from .engine.optim import Optimizer, make_optimizer
from .errors import OptionError, TrainingDiverged, UnsupportedError
from .record.recorder import Recorder
from .record.trace import Step, StepSummary
from .spec import Spec


def optimizer_for(spec: Spec, lr: float | None = None, mistakes: Mistakes | None = None,
                  **overrides) -> Optimizer:
    """The optimizer the spec's [training] asks for, η = `lr` if given; `overrides` replace
    hyper-parameters (optimizer=, momentum=, weight_decay=, …; None keeps the spec's)."""
    t = spec.training
    name = overrides.pop("optimizer", None) or t.optimizer
    hyper = dict(t.hyper) if name == t.optimizer else {}
    decay = overrides.pop("weight_decay", None)
    if decay is None:
        decay = t.weight_decay
    hyper.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return make_optimizer(name, lr if lr is not None else t.learning_rate,
                              weight_decay=decay, mistakes=mistakes or Mistakes(), **hyper)
    except ValueError as exc:
        raise OptionError(str(exc)) from None


def network_of(spec: Spec) -> MistakeNetwork:
    """What the mistakes need to know of a spec's network (engine.mistakes.Network)."""
    net = spec.network
    out = net.layers[-1].activation.name
    trained = [layer.bias_trainable for layer in net.layers]
    targets = np.asarray(spec.data.T, dtype=float) if len(spec.data) else None
    one_hot = targets is not None and targets.ndim == 2 and targets.shape[1] > 1 and bool(
        np.all((targets == 0) | (targets == 1)) and np.all(targets.sum(axis=1) == 1))
    return MistakeNetwork(net.loss.name, out in net.loss.fused,
                          tuple(layer.activation.name for layer in net.layers),
                          not all(trained), any(trained), spec.batch_size, len(net.layers),
                          separate_biases=any(len(layer.b) > 1 for layer in net.layers),
                          square_weights=any(layer.W.shape[0] == layer.W.shape[1] > 1
                                             for layer in net.layers),
                          one_hot=one_hot)


def check_mistakes(names, optimizer: Optimizer, spec: Spec | None = None) -> Mistakes:
    """The Mistakes object for `names` (a name or several); refuses an unknown name or one
    that cannot change anything with this optimizer (on this spec's network), in one line."""
    if isinstance(names, str):
        names = (names,)
    try:
        mistakes = Mistakes(names)
    except ValueError as exc:
        raise OptionError(str(exc)) from None
    network = network_of(spec) if spec is not None else MistakeNetwork()
    for m in mistakes.active:
        why = m.applies(optimizer.NAME, optimizer.weight_decay, network=network)
        if why:
            raise UnsupportedError(f"mistake {m.name} does not apply here: {why}")
    return mistakes


def check_count(name: str, value) -> int:
    """A step number, a number of steps or an interval: a whole number ≥ 1."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise OptionError(f"{name} = {value!r} is not allowed; expected a whole number ≥ 1 "
                          "(steps are counted from 1)")
    return value


def show_policy(steps: int, every: int, first_full: bool = False):
    """Which steps are shown: every `every`-th step in full; step 1 and the last step, when they
    are not multiples of `every`, as one summary line each (in full with `first_full`)."""

    check_count("every", every)

    def show(step: int) -> int:
        if step % every == 0:
            return FULL
        if step == 1:
            return FULL if first_full else SUMMARY
        if step == steps:
            return SUMMARY
        return NONE

    return show


def iter_trace(spec: Spec, *, steps: int, show=None, lr: float | None = None, mistakes=(),
               progress=None, **optimizer) -> Iterator[Step | StepSummary]:
    """Train a copy of `spec` for `steps` updates (online or full batch, as the spec says) and
    yield each entry `show(step)` asks for (default: every step in full) as soon as it is
    computed, and calls `progress(step)` after each step.  Keeps nothing: memory stays flat
    however many steps run.  Raises TrainingDiverged after yielding every step before the one
    that diverged."""
    check_count("steps", steps)
    show = show or (lambda step: FULL)
    run = spec.copy()
    opt = optimizer_for(run, lr, **optimizer)
    opt.mistakes = check_mistakes(mistakes, opt, run)
    recorder = Recorder(run.labels, opt, opt.mistakes.names)
    plan = run.batch_order()
    check_order_length(plan, steps, len(run.data))
    for ev in iterate(run.network, run.data, opt, steps=steps, batch_order=plan,
                      detail=lambda step: show(step) >= FULL, mistakes=opt.mistakes):
        level = show(ev.step)
        if level >= FULL:
            yield recorder.step(run.network, ev.record, ev.step, ev.epoch, ev.indices)
        elif level == SUMMARY:
            yield recorder.summary(run.network, ev.record, ev.step, ev.epoch)
        if progress is not None:
            progress(ev.step)


def check_order_length(plan, steps: int, N: int) -> None:
    """Refuse, in one line, more steps than the learner's own per-epoch order gives."""
    epochs = plan.epochs_given()
    if epochs is not None and steps > epochs * plan.per_epoch(N):
        raise OptionError(f"{steps} steps asked for, but the spec's training.order gives "
                          f"{epochs} epoch(s) of {plan.per_epoch(N)} step(s) = "
                          f"{epochs * plan.per_epoch(N)} steps; give fewer steps or more orders")


def trace_one_step(spec: Spec, step: int, *, lr: float | None = None, mistakes=(),
                   **optimizer) -> Step:
    """Train up to update `step` and return that step's full trace."""
    check_count("step", step)
    entries = iter_trace(spec, steps=step, show=lambda s: FULL if s == step else NONE, lr=lr,
                         mistakes=mistakes, **optimizer)
    return list(entries)[-1]


def mistakes_for(spec: Spec, step: int, *, walkthrough: bool = False, **optimizer) -> list[str]:
    """The catalogued mistakes that can change step `step` of this spec (its network and
    optimizer); with `walkthrough`, only those of the walkthrough's table."""
    opt = optimizer_for(spec, **optimizer)
    names = applicable(opt.NAME, opt.weight_decay, step, network_of(spec))
    return [n for n in names if CATALOGUE[n].walkthrough] if walkthrough else names


def mistakes_not_for(spec: Spec, step: int, *, walkthrough: bool = False,
                     **optimizer) -> list[tuple[str, str]]:
    """(name, why) for each catalogued mistake of this optimizer and step that cannot change
    anything on this spec's network (frozen biases, online updates, no half-sse, …)."""
    opt = optimizer_for(spec, **optimizer)
    network = network_of(spec)
    out = []
    for name, m in CATALOGUE.items():
        if walkthrough and not m.walkthrough:
            continue
        if m.applies(opt.NAME, opt.weight_decay, step) is None:
            why = m.applies(opt.NAME, opt.weight_decay, step, network)
            if why:
                out.append((name, why))
    return out


def each_mistake(spec: Spec, step: int, *, lr: float | None = None, names=None, **optimizer):
    """(name, the step as the engine computes it with that mistake switched on) for each
    catalogued mistake that applies (or each of `names`); a mistake that makes training diverge
    gives its TrainingDiverged instead of a step."""
    for name in names if names is not None else mistakes_for(spec, step, **optimizer):
        try:
            yield name, trace_one_step(spec, step, lr=lr, mistakes=(name,), **optimizer)
        except TrainingDiverged as exc:
            yield name, exc


def own_run_note(spec: Spec, *, mistakes=(), update_biases: bool = False, **options) -> str:
    """The spec's note, which speaks of the spec's own run (Mazur's: the error tracenn prints
    after the first update); none for a run that a mistake or an option changes."""
    changed = bool(mistakes) or update_biases or any(v is not None for v in options.values())
    return "" if changed else spec.note


def description(name: str, spec: Spec | None = None) -> str:
    """What the mistake does wrong; given a spec, in the terms of its network."""
    return CATALOGUE[name].description if spec is None else \
        CATALOGUE[name].describe(network_of(spec))


# --------------------------------------------------------------------------------------------
# XOR
# --------------------------------------------------------------------------------------------

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
    verdict: str  # "solved", "stuck", "saturated" or "unfinished"
    epochs: int
    seed: int | None
    mode: str
    eta: float
    labels: object = None
    saturated: str = ""  # the layer whose units are all saturated, when verdict is "saturated"

    @property
    def solved(self) -> bool:
        return self.verdict == "solved"

    def __str__(self) -> str:
        """All that `tracenn xor` prints: the first epoch, the loss curve, the truth table."""
        from .render.text import xor_text

        return xor_text(self)

    def to_json(self) -> dict:
        from .record.jsonl import envelope

        return envelope(
            "result", epochs=self.epochs, seed=self.seed, mode=self.mode, eta=self.eta,
            verdict=self.verdict, **({"saturated": self.saturated} if self.saturated else {}),
            curve=[{"epoch": e, "loss": loss} for e, loss in self.curve],
            truth_table=[{"x": r.x, "target": r.target, "output": r.output, "rounded": r.rounded,
                          "correct": r.correct} for r in self.table])


class _FirstEpoch(Observer):
    """Observer: every step of the first epoch in full, and the loss over the whole data set
    after every `every`-th epoch (and the last)."""

    def __init__(self, recorder: Recorder, data, per_epoch: int, every: int, epochs: int):
        self.recorder, self.data, self.per_epoch = recorder, data, per_epoch
        self.every, self.epochs = every, epochs
        self.steps: list[Step] = []
        self.curve: list[tuple[int, float]] = []

    def needs(self, step):
        return FULL if step <= self.per_epoch else NONE

    def on_step(self, net, rec, step, epoch, idx):
        if step <= self.per_epoch:
            self.steps.append(self.recorder.step(net, rec, step, epoch, idx))

    def on_epoch(self, net, epoch):
        if epoch == 1 or epoch % self.every == 0 or epoch == self.epochs:
            self.curve.append((epoch, net.mean_loss(self.data.X, self.data.T)))


class _EpochProgress(Observer):
    def __init__(self, callback, epochs: int):
        self.callback, self.epochs = callback, epochs

    def on_epoch(self, net, epoch):
        self.callback(epoch, self.epochs)


def train_xor(spec: Spec, *, epochs: int, every: int, batch: bool, lr: float | None = None,
              mistakes=(), progress=None, **optimizer) -> XorRun:
    """Train the XOR spec; record the first epoch's steps in full and evaluate the result.
    `progress(epoch, epochs)` is called after each epoch."""
    run = spec.copy()
    data = run.data
    batch_size = len(data) if batch else 1
    opt = optimizer_for(run, lr, **optimizer)
    opt.mistakes = check_mistakes(mistakes, opt, run)
    watch = _FirstEpoch(Recorder(run.labels, opt, opt.mistakes.names), data,
                        -(-len(data) // batch_size), every, epochs)
    observers = [watch] + ([_EpochProgress(progress, epochs)] if progress else [])
    train(run.network, data, opt, observers=observers, epochs=epochs, batch_size=batch_size,
          mistakes=opt.mistakes)
    out = run.network.output(data.X)[:, 0]
    table = []
    for x, t, o in zip(data.X, data.T[:, 0], out):
        rounded = int(o >= 0.5)
        table.append(TruthRow(x.tolist(), float(t), float(o), rounded, rounded == int(t >= 0.5)))
    saturated = _saturated_layer(run.network, data.X)
    if all(r.correct for r in table):
        verdict = "solved"
    elif saturated:
        verdict = "saturated"
    else:
        # A loss that has stopped falling after many epochs is a local minimum; early on, XOR
        # nets commonly sit on a plateau for a few hundred epochs before they escape.
        stuck = _plateaued(watch.curve) and epochs >= STUCK_AFTER_EPOCHS
        verdict = "stuck" if stuck else "unfinished"
    return XorRun(watch.steps, watch.curve, table, verdict, epochs, spec.seed,
                  "batch" if batch else "online", opt.lr, run.labels, saturated)


SATURATED = 1e-12  # f′ below this on every sample: no gradient flows through the layer


def _saturated_layer(net, X) -> str:
    """The name of a layer whose every unit is saturated on every sample (f′(z) ≈ 0), so that
    no gradient can flow back through it; "" when there is none."""
    from .engine.functions import NUMPY_OPS
    from .notation import layer_name

    import numpy as np

    with np.errstate(all="ignore"):
        zs, acts = net.forward(X)
    for l, (layer, z, a) in enumerate(zip(net.layers, zs, acts[1:])):
        act = layer.activation
        if act.elementwise and act.name != "identity":
            if np.all(np.abs(act.prime(z, a, NUMPY_OPS)) < SATURATED):
                return layer_name(l, len(net.layers))
    return ""


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
