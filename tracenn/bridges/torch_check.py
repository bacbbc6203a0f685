"""check_torch: a learner's own PyTorch training step beside tracenn's, number by number.

The learner's step runs on a copy of their model and optimizer (in float64 unless asked not
to; the originals are left as they are) with hooks that record what PyTorch computed: forward
hooks on every Linear (z) and activation module (a); tensor hooks on those outputs (∂L/∂z and
∂L/∂a, from the learner's own backward, a custom autograd.Function's included) and on the
inputs the first Linear sees (∂L/∂x); a hook after
each parameter's gradient is accumulated (the .grad the optimizer uses); the optimizer's state
after the step, where it keeps it as torch.optim does (`optimizer.state[p]`: momentum_buffer,
square_avg, exp_avg, exp_avg_sq); and the weights after the step.  tracenn traces the same steps from the same weights (the spec `from_torch` makes),
and `compare` walks both in the order backprop computes them: the first difference, the right
value with its formula and numbers, which of its inputs the learner had right, and the
catalogued mistakes whose numbers match.

PyTorch's numbers in tracenn's terms: δ and ∂E/∂a are per sample (δ = ∂E_s/∂z for the sample's
own loss), while PyTorch's hooks see the gradient of the batch loss L = w Σ_s E_s, so they are
divided by w: 1/n for reduction="mean" (tracenn's mean), 1 for "sum".  The batch loss is read
as L/(n w).  Gradients and updated weights are taken as they are, so a reduction="sum" shows
where it matters: at the first gradient, n times tracenn's (summed-batch).  A loss function of
the learner's own is read as a mean, or as a sum when its value is the samples' losses summed.

Not recorded from PyTorch (not given to the comparison): the per-output losses E_k, the loss
after the update, and the output layer's a and ∂E/∂a where the loss applies the output
activation itself (CrossEntropyLoss, BCEWithLogitsLoss) or the model ends with LogSoftmax.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import torch
from torch import nn

from ..comparison import Comparison, compare, explained, mistaken_steps
from ..engine.optim import OPTIMIZERS
from ..errors import OptionError, UnsupportedError
from ..maths.quantities import StepQuantities
from ..record.trace import Step
from ..runs import iter_trace
from .torch import SOURCE, build_spec
from . import TORCH_LOSSES
from .torch_loss import LossReading, read_inputs, read_loss, read_targets
from .torch_model import Plan, read_model
from .torch_optim import read_optimizer
from .torch_record import LearnerRun, layer_arrays, learner_values, sample_weight

FLOAT64_TOLERANCE = 1e-10  # float64 on both sides: agreement to rounding (about 1e-15)
FLOAT32_TOLERANCE = 1e-5  # a float32 step against tracenn's float64: a few float32 ulps


def textbook_step(model, optimizer, loss_fn, inputs, targets):
    """One training step as the textbook writes it: zero the gradients, forward, the loss,
    backward, update.  A learner's own `train_step` takes the same five arguments."""
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    optimizer.step()
    return loss


# --------------------------------------------------------------------------------------------
# The check
# --------------------------------------------------------------------------------------------


@dataclass(repr=False)
class TorchCheck:
    """What `check_torch` found: one `Comparison` per step checked, in order, up to the first
    step with a difference.  `.ok`, `.first` (the first difference, a comparison.Mismatch),
    `.step` (its step), `.mistakes` (catalogued mistakes its numbers match); `.spec` is the
    spec tracenn traced.  Displays itself in a notebook."""

    model: str
    loss: str
    optimizer: str
    dtype: str
    tolerance: float
    comparisons: list[Comparison]
    not_recorded: list[str]
    spec: object = field(repr=False, default=None)
    precision: int = 9

    def __repr__(self) -> str:
        mistakes = [d.name for d in self.mistakes]
        return (f"TorchCheck(ok={self.ok}, steps={len(self.comparisons)}, step={self.step}, "
                f"first={None if self.first is None else self.first.name!r}, "
                f"mistakes={mistakes})")

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.comparisons)

    @property
    def failed(self) -> Comparison | None:
        return next((c for c in self.comparisons if not c.ok), None)

    @property
    def first(self):
        return None if self.failed is None else self.failed.first

    @property
    def step(self) -> int | None:
        return None if self.failed is None else self.failed.step

    @property
    def mistakes(self) -> list:
        return [] if self.failed is None else self.failed.mistakes

    def to_json(self) -> dict:
        from ..record.jsonl import envelope

        return envelope("check-torch", match=self.ok, model=self.model, loss=self.loss,
                        optimizer=self.optimizer, dtype=self.dtype, tolerance=self.tolerance,
                        not_recorded=self.not_recorded,
                        steps=[c.to_json() for c in self.comparisons])

    def __str__(self) -> str:
        from ..render.torch_check import torch_check_text

        return torch_check_text(self, self.precision)

    def _repr_html_(self) -> str:
        from ..render.torch_check import torch_check_html

        return torch_check_html(self, self.precision)


def read_learner_loss(loss_fn, loss, plan: Plan) -> LossReading:
    """The meaning of `loss_fn`: a torch loss says it itself; a function of the learner's own
    is told by `loss` (a torch loss or a tracenn loss name)."""
    if isinstance(loss_fn, nn.Module) and type(loss_fn) in {getattr(nn, n) for n in TORCH_LOSSES}:
        if loss is not None:
            raise OptionError("loss= says what a loss function of your own computes; loss_fn "
                              f"is already {type(loss_fn).__name__}")
        return read_loss(loss_fn, plan)
    if not callable(loss_fn):
        raise OptionError(f"loss_fn: expected a torch loss or a function (output, target) → "
                          f"loss, got {type(loss_fn).__name__}")
    name = getattr(loss_fn, "__name__", type(loss_fn).__name__)
    if loss is None:
        raise UnsupportedError(
            f"loss_fn {name} is a loss of your own: say what it computes with loss= (a torch "
            "loss such as nn.MSELoss(), or a tracenn loss name such as \"half-sse\")")
    reading = read_loss(loss, plan)
    reading.inferred, reading.text = True, f"{name}, meant as {reading.text}"
    return reading


def _check_optimizer(optimizer, means) -> None:
    if optimizer is None or not hasattr(optimizer, "step"):
        raise OptionError("optimizer: expected the optimizer your training step uses")
    if isinstance(optimizer, torch.optim.Optimizer):
        held = sorted({k for state in optimizer.state.values() for k in state})
        if held:
            raise UnsupportedError(
                f"the optimizer has taken steps already (it holds {', '.join(held)}); the check "
                "starts from fresh optimizer state, as tracenn's step 1 does: make a new one")
    elif means is None:
        raise UnsupportedError(
            f"the optimizer {type(optimizer).__name__} is not a torch.optim optimizer: say "
            "which one it is meant to follow with means=, e.g. means=torch.optim.SGD("
            "model.parameters(), lr=0.1, momentum=0.9) (only its settings are read)")


def not_recorded(plan: Plan, reading: LossReading, trained_biases: list[bool]) -> list[str]:
    """What tracenn traces that PyTorch's step does not show, in words."""
    out = ["the per-output losses E_k", "the loss after the update"]
    if reading.logits:
        out.append(f"the output layer's a and ∂E/∂a (the loss applies {reading.output} itself)")
    elif plan.output == "log-softmax":
        out.append("the output layer's ∂E/∂a (the model ends with LogSoftmax)")
    frozen = [f"{u.where}.bias" for u, trained in zip(plan.units, trained_biases) if not trained]
    if frozen:
        out.append("∂E/∂b of the biases that are not trained (" + ", ".join(frozen) + ")")
    return out


def check_torch(model, optimizer, loss_fn, inputs, targets, *, steps: int = 2, train_step=None,
                loss=None, means=None, double: bool = True, tolerance: float | None = None,
                precision: int = 9) -> TorchCheck:
    """Run the learner's training step `steps` times on (`inputs`, `targets`), on copies of
    `model` and `optimizer`, beside tracenn's trace of the same steps; stop at the first step
    with a difference.  `train_step(model, optimizer, loss_fn, inputs, targets)` is the
    learner's own step (default: `textbook_step`).  `loss` says what a `loss_fn` of the
    learner's own computes; `means` which torch.optim optimizer (only its settings are read)
    or tracenn settings ({"optimizer": "adam", "lr": 0.01}) an optimizer of their own follows.
    `double` runs the copies in float64 (tolerance 1e-10); False keeps the model's dtype
    (float32: tolerance 1e-5).  Two steps by default, so that what one step leaves to the
    next (gradients not zeroed, optimizer state) is checked too."""
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise OptionError(f"steps: expected a whole number ≥ 1, got {steps!r}")
    plan = read_model(model)
    reading = read_learner_loss(loss_fn, loss, plan)
    X = read_inputs(inputs, plan.sizes[0])
    T, classes = read_targets(targets, reading, X.shape[0], plan.sizes[-1])
    _check_optimizer(optimizer, means)
    opt = read_optimizer(optimizer if means is None else means, plan)
    run = LearnerRun(model, optimizer, loss_fn, double, opt.train_bias,
                     OPTIMIZERS[opt.name].TORCH_STATE)
    x = torch.as_tensor(X, dtype=run.dtype)
    t = torch.as_tensor(classes) if classes is not None else torch.as_tensor(T, dtype=run.dtype)
    if classes is None:
        T = t.double().numpy()  # the targets and inputs exactly as the learner's step sees them
    spec = build_spec(plan, reading, x.double().numpy(), T, opt, SOURCE)
    if tolerance is None:
        tolerance = FLOAT64_TOLERANCE if run.dtype == torch.float64 else FLOAT32_TOLERANCE
    try:
        comparisons, w = _compare_steps(run, spec, reading, train_step or textbook_step, x, t,
                                        steps, tolerance, precision)
    finally:
        run.recorder.close()
    optimizer_text = opt.text if means is None else \
        f"{type(optimizer).__name__}, meant as {opt.text}"
    return TorchCheck(plan.text(), _loss_text(reading, w, X.shape[0], spec.network.loss.name),
                      f"{optimizer_text} → tracenn's {opt.name}",
                      str(run.dtype).removeprefix("torch."), tolerance, comparisons,
                      not_recorded(plan, reading, opt.train_bias), spec, precision)


def _loss_text(reading: LossReading, w: float, n: int, name: str) -> str:
    """The learner's loss and how its value is read: the samples' mean (tracenn's) or sum."""
    if n == 1:
        return f"{reading.text} → tracenn's {name}"
    how = "their mean, as tracenn's" if w != 1.0 else "their sum, where tracenn takes the mean"
    return f"{reading.text} → tracenn's {name}; the {n} samples' losses: {how}"


class Plain(NamedTuple):
    name: str
    stage: str
    value: float
    inputs: tuple = ()


class PlainQuantities:
    """A step's quantities by value alone, without their SymPy formulas: what `compare` needs
    while every number matches, and `diagnose` to hold a mistake's numbers against the
    learner's.  Building the formulas of a few thousand quantities takes seconds, so they are
    built (StepQuantities) only for a step with a difference."""

    def __init__(self, step: Step):
        self.step, self.given = step, step.given()
        self.items = [Plain(q.name, q.stage, step.value(q)) for q in step.quantities()]

    def values(self) -> dict[str, float]:
        return {**self.given, **{q.name: q.value for q in self.items}}

    def as_text(self, q, values, precision) -> tuple[str, str]:
        return "", ""  # no formula: a step with a difference is compared again with them


def _compare_steps(run: LearnerRun, spec, reading: LossReading, train_step, x, t, steps: int,
                   tolerance: float, precision: int) -> tuple[list[Comparison], float]:
    """Each step of the learner's against tracenn's, up to the first with a difference; and w,
    the weight of a sample in the learner's batch loss."""
    comparisons, w = [], None
    T, loss = spec.data.T, spec.network.loss
    for step in iter_trace(spec, steps=steps):  # tracenn's steps, each in full
        rec = run.step(train_step, x, t)
        if w is None:
            w = sample_weight(reading, layer_arrays(run, rec, reading, 1.0), rec.loss, T, loss)
        learner = learner_values(step, layer_arrays(run, rec, reading, w), rec.loss, w)
        result = compare(PlainQuantities(step), learner, [], tolerance, precision)
        if not result.ok:  # again, with the formulas, to show the first difference's
            right = StepQuantities(step, loss)
            result = compare(right, learner, [], tolerance, precision)
            result.mistakes = explained(result, right, mistaken_steps(spec, step.step), tolerance)
        comparisons.append(result)
        if not result.ok:
            break
    return comparisons, w
