"""A variant of a network for one student: the same shape, names, activations, loss and
learning rate, with weights, biases, inputs and targets drawn from stated ranges at few
decimals (Mazur's example gives every number with two) — and rejected when it would make a
poor exercise:

- a saturated unit (∂out/∂net below a fifth of its largest value, e.g. σ′ < 0.05, or a ReLU
  that is off): its gradients vanish and teach nothing;
- a gradient (or δ, or ∂E/∂x) asked that rounds to zero at the worksheet's decimals, or keeps
  a single significant digit (0.0005 at 4 decimals: a slip would round away);
- an update asked that rounds to the parameter's old value (forgetting the update would go
  unnoticed);
- two quantities asked whose values are equal at the worksheet's decimals (a mix-up would go
  unnoticed), unless their formulas make them equal whatever the numbers (a bias's gradient is
  its δ) — worked out for each variant with its own targets, since a one-hot target makes
  ∂E/∂out of every other class 0, whichever class it is;
- a loss that does not fall after the update.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

from ..engine.functions import ACTIVATIONS, CROSS_ENTROPY
from ..engine.loop import ArrayData
from ..errors import OptionError
from ..record.trace import Step
from ..runs import trace_one_step
from ..spec import Spec

SATURATED = 0.2  # a unit is saturated when f′(z) < SATURATED · f′(0⁺)
GRADIENT_KINDS = ("delta", "dE_dx", "grad_W", "grad_b")


@dataclass(frozen=True)
class Ranges:
    """Where a variant's numbers are drawn from (uniformly, inclusive), and their decimals."""

    weights: tuple[float, float] = (0.10, 0.90)
    biases: tuple[float, float] = (0.10, 0.90)
    inputs: tuple[float, float] = (0.01, 0.99)
    targets: tuple[float, float] = (0.01, 0.99)  # one-hot for softmax with cross-entropy
    decimals: int = 2

    def check(self) -> None:
        """Raises OptionError for a range that holds no number at its decimals."""
        unit = 10.0 ** -self.decimals
        for name in ("weights", "biases", "inputs", "targets"):
            lo, hi = getattr(self, name)
            if not lo <= hi or round(hi / unit) < round(lo / unit):
                raise OptionError(f"--{name}: {lo:g}:{hi:g} holds no number with "
                                  f"{self.decimals} decimal(s); give LOW:HIGH with LOW ≤ HIGH")

    def to_json(self) -> dict:
        return {"weights": list(self.weights), "biases": list(self.biases),
                "inputs": list(self.inputs), "targets": list(self.targets),
                "decimals": self.decimals}


def _values(rng: np.random.Generator, bounds: tuple[float, float], shape, decimals: int):
    scale = 10 ** decimals
    lo, hi = round(bounds[0] * scale), round(bounds[1] * scale)
    return rng.integers(lo, hi, size=shape, endpoint=True) / scale  # exact decimals: 15/100 = 0.15


def draw(spec: Spec, rng: np.random.Generator, ranges: Ranges, title: str) -> Spec:
    """A variant of `spec` with new numbers: one step of training, on one sample when the spec
    trains online (the sample that step uses), on every sample in batch mode."""
    out = spec.copy()
    for layer in out.network.layers:
        layer.W = _values(rng, ranges.weights, layer.W.shape, ranges.decimals)
        layer.b = _values(rng, ranges.biases, layer.b.shape, ranges.decimals)
    n = 1 if spec.mode == "online" else len(spec.data)
    X = _values(rng, ranges.inputs, (n, out.network.sizes[0]), ranges.decimals)
    K = out.network.sizes[-1]
    if out.network.loss is CROSS_ENTROPY:  # softmax outputs: targets are a class, one-hot
        T = np.eye(K)[rng.integers(0, K, size=n)]
    else:
        T = _values(rng, ranges.targets, (n, K), ranges.decimals)
    out.data = ArrayData(X, T)
    out.training.steps, out.training.epochs = 1, None
    out.title, out.note = title, ""
    return out


def _saturated(step: Step) -> str | None:
    for l, layer in enumerate(step.layers, start=1):
        act = ACTIVATIONS[layer.activation]
        if not act.elementwise:
            continue
        tiny = np.full((1, 1), 1e-9)
        limit = SATURATED * float(act.da_dz(tiny, act.fn(tiny))[0, 0])
        prime = act.da_dz(layer.z, layer.a)  # (n, K)
        for s, j in zip(*np.nonzero(prime < limit)):
            name = step.labels.neurons[l - 1][j]
            return (f"{name} is saturated: ∂out/∂net = {prime[s, j]:.3g} at net = "
                    f"{layer.z[s, j]:.3g}")
    return None


def fixed(x: float, decimals: int) -> str:
    """x rounded to `decimals` as a student writes it (no "-0.0000")."""
    text = f"{x:.{decimals}f}"
    return text.lstrip("-") if float(text) == 0 else text


def always_equal(spec: Spec, asked: list[str]) -> set[frozenset[str]]:
    """The pairs of asked quantities that their formulas make equal whatever the numbers (a
    bias's gradient and its δ for one sample; ∂E/∂out = 0 for each class a one-hot target
    excludes): those still equal to the last bit in two copies of the network whose every
    number is jittered."""
    rng = np.random.default_rng(0)
    found = None
    for _ in range(2):
        copy = spec.copy()
        for layer in copy.network.layers:
            layer.W = _jitter(rng, layer.W)
            layer.b = _jitter(rng, layer.b)
        T = spec.data.T if copy.network.loss is CROSS_ENTROPY else _jitter(rng, spec.data.T)
        copy.data = ArrayData(_jitter(rng, spec.data.X), T)
        values = trace_one_step(copy, 1).values()
        pairs = {frozenset(p) for p in combinations(asked, 2) if values[p[0]] == values[p[1]]}
        found = pairs if found is None else found & pairs
    return found


def _jitter(rng: np.random.Generator, a: np.ndarray) -> np.ndarray:
    return a * (1 + 0.01 * rng.uniform(-1, 1, a.shape)) + 0.01 * rng.uniform(-1, 1, a.shape)


def degenerate(step: Step, asked: list[str], decimals: int,
               allowed: set[frozenset[str]] = frozenset()) -> str | None:
    """Why this variant makes a poor exercise, or None when it is a good one.  `allowed`: the
    pairs of quantities that may be equal (see always_equal)."""
    why = _saturated(step)
    if why:
        return why
    if step.loss_after >= step.loss:
        return f"the loss does not fall ({step.loss:.6g} before the update, {step.loss_after:.6g} after)"
    quantities = {q.name: q for q in step.quantities()}
    values = step.values()
    before = step.params_before()
    seen: dict[str, list[str]] = {}
    for name in asked:
        q, value = quantities[name], values[name]
        shown = fixed(value, decimals)
        if q.kind in GRADIENT_KINDS and abs(float(shown)) < 10 * 10.0 ** -decimals:
            return (f"{name} = {value:.3g} rounds to zero at {decimals} decimals" if float(shown) == 0
                    else f"{name} = {shown} keeps a single significant digit at {decimals} decimals")
        if q.kind.startswith("new_") and shown == fixed(before[name[:-1]], decimals):
            return f"{name} rounds to the value before the update at {decimals} decimals"
        for other in seen.get(shown, []):
            if frozenset((other, name)) not in allowed:
                return f"{other} and {name} are both {shown} at {decimals} decimals"
        seen.setdefault(shown, []).append(name)
    return None
