"""Plain data recorded from the engine: one `Step` per weight update shown in full, one
`LayerTrace` per layer of it, a `StepSummary` for a step shown as one line, and a `Run` of them.

Conventions, stated once for the whole package:
- Layers are numbered from 1 (the first layer after the input) to L (the output layer); the
  input is layer 0.  `W[j][k]` connects input k (neuron k of layer l−1) to neuron j of layer l,
  so row j of W holds the weights into neuron j.
- Per-sample arrays have samples in rows: z, a and delta have shape (n_samples, n_neurons).
- delta is ∂E/∂z for each sample's own loss E; grad_W and grad_b are the gradient of the batch
  loss, the mean over samples (so for one sample they are δ a_inᵀ and δ).
- A layer whose bias is shared by all its neurons (Mazur's b1, b2) has b of length 1, and its
  grad_b is the sum of δ over the layer's neurons.

Every quantity of a step also has a display name (record/labels.py), in the order backprop
computes it: `step.values()` and `step["delta_o1"]`.  JSON lives in record/jsonl.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, NamedTuple

import numpy as np

from ..engine.functions import ACTIVATIONS
from ..engine.network import Layer, Network
from ..engine.optim import UpdateTrace
from .labels import Labels


@dataclass
class LayerTrace:
    """Everything one layer computed in one step (see the module docstring for shapes)."""

    name: str  # "hidden 1", …, "output"
    activation: str
    a_in: np.ndarray  # (n, n_in), the incoming activations
    W: np.ndarray  # (n_out, n_in), before the update
    b: np.ndarray  # (n_out,) or (1,) when shared, before the update
    z: np.ndarray  # (n, n_out)
    a: np.ndarray  # (n, n_out)
    dE_da: np.ndarray  # (n, n_out): ∂E/∂a (for a hidden layer: summed over the next layer)
    da_dz: np.ndarray | None  # (n, n_out), or (n, n_out, n_out) for softmax; None when fused
    delta: np.ndarray  # (n, n_out): ∂E/∂z
    grad_W: np.ndarray  # (n_out, n_in)
    grad_b: np.ndarray  # like b
    W_new: np.ndarray
    b_new: np.ndarray
    bias_trainable: bool = True
    update_W: UpdateTrace | None = None  # the optimizer's state and intermediates for W
    update_b: UpdateTrace | None = None  # … for b (None when b is frozen)

    @property
    def shared_bias(self) -> bool:
        return self.b.shape[0] == 1 and self.W.shape[0] > 1


@dataclass
class OptimizerInfo:
    """Which optimizer made a step: its name (sgd, momentum, …), its title, every
    hyper-parameter (lr, weight_decay, …) and t, the number of updates so far."""

    name: str
    title: str
    settings: dict[str, float]
    t: int
    state_names: tuple[str, ...] = ()


class Q(NamedTuple):
    """One quantity of a step in the order backprop computes it: its display name, its stage
    (forward, loss, delta, gradient, update, after), its kind, and where it sits: layer l
    (1..L, 0 for none), sample s, neuron j, input k."""

    name: str
    stage: str
    kind: str  # net, out, E, E_total, dE_da, delta, dE_dx, grad_W, grad_b, opt_W:key, opt_b:key,
    #            new_W, new_b, after
    l: int = 0
    s: int = 0
    j: int = 0
    k: int = 0


@dataclass
class Step:
    """One training step (one weight update) recorded in full."""

    step: int  # updates done, counting this one
    epoch: int
    samples: list[int]  # indices into the data set
    x: np.ndarray  # (n, n_in)
    t: np.ndarray  # (n, n_out)
    losses: np.ndarray  # (n, n_out): E_k for each sample and output, before the update
    losses_after: np.ndarray  # the same after the update
    layers: list[LayerTrace]
    labels: Labels
    eta: float  # the learning rate η
    mistakes: tuple[str, ...] = ()
    optimizer: OptimizerInfo | None = None
    dE_dx: np.ndarray | None = None  # (n, n_in): ∂E/∂x, the gradient at the inputs

    @property
    def loss(self) -> float:
        """The batch loss before the update: mean over samples of Σ_k E_k."""
        return float(self.losses.sum(axis=1).mean())

    @property
    def loss_after(self) -> float:
        return float(self.losses_after.sum(axis=1).mean())

    def params(self) -> dict[str, float]:
        """Parameters after the update, keyed by display name."""
        return self._by_name("W_new", "b_new")

    def params_before(self) -> dict[str, float]:
        return self._by_name("W", "b")

    def grads(self) -> dict[str, float]:
        return self._by_name("grad_W", "grad_b")

    def _by_name(self, w_attr: str, b_attr: str) -> dict[str, float]:
        out: dict[str, float] = {}
        for l, kind, j, k, name in self.labels.parameters():
            layer = self.layers[l - 1]
            out[name] = float(getattr(layer, w_attr)[j, k] if kind == "W" else getattr(layer, b_attr)[j])
        return out

    def errors(self) -> list[tuple[str, float, float, float]]:
        """(name, before, after, change) for each output's E (mean over samples) and the total."""
        before, after = self.losses.mean(axis=0), self.losses_after.mean(axis=0)
        rows = [(self.labels.error(k), float(b), float(a), float(a - b))
                for k, (b, a) in enumerate(zip(before, after))]
        rows.append((self.labels.total, self.loss, self.loss_after, self.loss_after - self.loss))
        return rows

    # --- every quantity by name ---------------------------------------------------------------

    def quantities(self) -> Iterator[Q]:
        """Every computed quantity of the step, in the order backprop computes it: forward (net
        and out, layer by layer), loss (E per output, the total), deltas (∂E/∂out and δ, output
        layer first, then ∂E/∂x at the inputs), gradients and updates (output layer first), and
        the loss after."""
        lab, n, L = self.labels, len(self.samples), len(self.layers)
        for s in range(n):
            for l, layer in enumerate(self.layers, start=1):
                J = range(layer.W.shape[0])
                yield from (Q(lab.sample(lab.net(l, j), s, n), "forward", "net", l, s, j) for j in J)
                yield from (Q(lab.sample(lab.out(l, j), s, n), "forward", "out", l, s, j) for j in J)
        for s in range(n):
            for k in range(self.t.shape[1]):
                yield Q(lab.sample(lab.error(k), s, n), "loss", "E", 0, s, k)
        yield Q(lab.total, "loss", "E_total")
        for s in range(n):
            for l in range(L, 0, -1):
                J = range(self.layers[l - 1].W.shape[0])
                yield from (Q(lab.grad(lab.sample(lab.out(l, j), s, n)), "delta", "dE_da", l, s, j)
                            for j in J)
                yield from (Q(lab.sample(lab.delta(l, j), s, n), "delta", "delta", l, s, j) for j in J)
            if self.dE_dx is not None:  # ∂E/∂x, the gradient at the inputs, after δ of layer 1
                yield from (Q(lab.grad(lab.sample(x, s, n)), "delta", "dE_dx", 1, s, 0, k)
                            for k, x in enumerate(lab.inputs))
        params = list(lab.parameters())
        for l in range(L, 0, -1):
            for pl, kind, j, k, name in params:
                if pl == l:
                    yield Q(lab.grad(name), "gradient", f"grad_{kind}", l, 0, j, k or 0)
        shown = self.optimizer_quantities()
        for l in range(L, 0, -1):
            for pl, kind, j, k, name in params:
                if pl == l:
                    if self._update(l, kind) is not None:
                        yield from (Q(lab.state(key, name), "update", f"opt_{kind}:{key}", l, 0, j,
                                      k or 0) for key in shown[kind])
                    yield Q(lab.new(name), "update", f"new_{kind}", l, 0, j, k or 0)
        yield Q(lab.after, "after", "after")

    def network(self, loss, *, after: bool = False):
        """The engine's network as it was before this step's update (after it, with `after`),
        rebuilt from the record with copies of its parameters, to be run with `loss`."""
        return Network([Layer((lt.W_new if after else lt.W).copy(),
                              (lt.b_new if after else lt.b).copy(),
                              ACTIVATIONS[lt.activation], lt.bias_trainable)
                        for lt in self.layers], loss)

    def optimizer_object(self, *, textbook: bool = False):
        """The engine's optimizer for this step's settings (its formulas and names), with the
        step's mistakes; with `textbook`, the spec's own rule without them (what verify checks
        the update against)."""
        from ..engine.mistakes import Mistakes
        from ..engine.optim import optimizer_of

        info = self.optimizer
        return optimizer_of(info.name, info.settings, Mistakes(() if textbook else self.mistakes))

    def optimizer_quantities(self) -> dict[str, tuple[str, ...]]:
        """The optimizer's quantities of each weight ("W") and bias ("b"); none for plain
        gradient descent, whose update is η ∂E/∂w and nothing more."""
        if self.optimizer is None or self.optimizer.name == "sgd" and not \
                self.optimizer.settings.get("weight_decay"):
            return {"W": (), "b": ()}
        opt = self.optimizer_object()
        return {kind: (("g",) if opt.decays(kind == "b") else ()) + opt.SHOWN
                for kind in ("W", "b")}

    def _update(self, l: int, kind: str):
        layer = self.layers[l - 1]
        return layer.update_W if kind == "W" else layer.update_b

    def updates(self) -> Iterator[tuple[str, str, int, object, tuple]]:
        """(name, kind, l, update trace, index) for every parameter the optimizer updated, in
        network order: a weight's index is (j, k), a bias's (j,); a frozen bias is left out."""
        for l, kind, j, k, name in self.labels.parameters():
            trace = self._update(l, kind)
            if trace is not None:
                yield name, kind, l, trace, ((j, k) if kind == "W" else (j,))

    def value(self, q: Q) -> float:
        """The value of quantity `q` (one of `quantities()`)."""
        if q.kind == "E_total":
            return self.loss
        if q.kind == "after":
            return self.loss_after
        if q.kind == "E":
            return float(self.losses[q.s, q.j])
        if q.kind == "dE_dx":
            return float(self.dE_dx[q.s, q.k])
        if q.kind.startswith("opt_"):
            kind, key = q.kind[4:].split(":")
            trace = self._update(q.l, kind)
            array = trace.after[key] if key in trace.after else trace.terms[key]
            return float(array[q.j, q.k] if kind == "W" else array[q.j])
        layer = self.layers[q.l - 1]
        per_sample = {"net": layer.z, "out": layer.a, "dE_da": layer.dE_da, "delta": layer.delta}
        if q.kind in per_sample:
            return float(per_sample[q.kind][q.s, q.j])
        arrays = {"grad_W": layer.grad_W, "new_W": layer.W_new}
        if q.kind in arrays:
            return float(arrays[q.kind][q.j, q.k])
        return float((layer.grad_b if q.kind == "grad_b" else layer.b_new)[q.j])

    def given(self) -> dict[str, float]:
        """What the step starts from, by name: the inputs and targets of each sample (x1, t1,
        with @s for several samples), every parameter before the update, and η."""
        lab, n = self.labels, len(self.samples)
        out: dict[str, float] = {"η": self.eta, **self.params_before()}
        for s in range(n):
            for k, name in enumerate(lab.inputs):
                out[lab.sample(name, s, n)] = float(self.x[s, k])
            for k in range(self.t.shape[1]):
                out[lab.sample(lab.target(k), s, n)] = float(self.t[s, k])
        if any(self.optimizer_quantities().values()):
            out.update(self._optimizer_given())
        return out

    def _optimizer_given(self) -> dict[str, float]:
        """The hyper-parameters (μ, β1, β2, ε, α, λ) and each parameter's state before."""
        from ..engine.optim import SYMBOLS

        out = {SYMBOLS[k]: float(v) for k, v in self.optimizer.settings.items() if k != "lr"}
        for name, _, _, trace, at in self.updates():
            for key, array in trace.before.items():
                out[self.labels.state(key, name, before=True)] = float(array[at])
        return out

    def values(self) -> dict[str, float]:
        """Every computed quantity by display name, in computation order (see quantities())."""
        return {q.name: self.value(q) for q in self.quantities()}

    def __getitem__(self, name: str) -> float:
        """A quantity by display name: step["out_h1"], step["delta_o1"], step["dE/dw5"],
        step["w5+"] (after the update), step["w5"] (before it), step["dE/di1"] (at an input),
        step["E_total after"]."""
        values = self.values()
        if name in values:
            return values[name]
        given = self.given()
        if name in given:
            return given[name]
        raise KeyError(f"{name!r} is not a quantity of this step; names look like "
                       f"{', '.join(list(values)[:4])}, …")

    def to_json(self) -> dict:
        from .jsonl import encode

        return encode(self)

    def __str__(self) -> str:
        """The step's tables, as the tracing commands print them."""
        from ..render.text import step_text

        return step_text(self)

    def _repr_html_(self) -> str:
        from ..render.notebook import step_html

        return step_html(self)

    def _repr_svg_(self) -> str | None:
        from ..render.notebook import step_svg

        return step_svg(self)


@dataclass
class StepSummary:
    """One line for a step that is shown but not in full."""

    step: int
    epoch: int
    loss: float
    loss_after: float

    def to_json(self) -> dict:
        from .jsonl import encode

        return encode(self)


@dataclass
class Run:
    """What a traced run produced: full steps and summary lines, in order of step."""

    labels: Labels
    entries: list[Step | StepSummary] = field(default_factory=list)
    title: str = ""
    note: str = ""  # the spec's note, printed after step 1

    @property
    def steps(self) -> list[Step]:
        """The steps recorded in full."""
        return [e for e in self.entries if isinstance(e, Step)]

    def to_json(self) -> list[dict]:
        """One JSON object per entry, as `--json` prints them (JSON Lines)."""
        from .jsonl import encode

        return [encode(e) for e in self.entries]

    def __str__(self) -> str:
        """Every entry, as `tracenn trace SPEC --steps N` prints them."""
        from ..render.text import run_text

        return run_text(self)

    def _repr_html_(self) -> str:
        from ..render.notebook import run_html

        return run_html(self)
