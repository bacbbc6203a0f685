"""Plain data recorded by the engine: one `Step` per weight update, one `LayerTrace` per layer.

Conventions, stated once for the whole package:
- Layers are numbered from 1 (the first layer after the input) to L (the output layer); the
  input is layer 0.  `W[j][k]` connects input k (neuron k of layer l−1) to neuron j of layer l,
  so row j of W holds the weights into neuron j.
- Per-sample arrays have samples in rows: z, a and delta have shape (n_samples, n_neurons).
- delta is ∂E/∂z for each sample's own loss E; grad_W and grad_b are the gradient of the batch
  loss, the mean over samples (so for one sample they are δ a_inᵀ and δ).
- A layer whose bias is shared by all its neurons (Mazur's b1, b2) has b of length 1, and its
  grad_b is the sum of δ over the layer's neurons.

The JSON Lines contract (`Step.to_json`), "format": 1:
  {"format": 1, "kind": "step", "step": s, "loss": E before, "loss_after": E after,
   "samples": [...], "inputs": [[...]], "targets": [[...]],
   "losses": {name: E_k}, "losses_after": {...},
   "layers": [{"name", "W", "b", "z", "a", "delta", "dE_da", "da_dz", "grad_W", "grad_b",
               "W_new", "b_new"}, ...],
   "params": {display name: value after the update}, "grads": {display name: gradient}}
`step` counts the updates done; "loss_after" is the loss on the same samples after the update.
Summary lines (`StepSummary`) are {"format": 1, "kind": "summary", "step", "loss", "loss_after"}.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

FORMAT_VERSION = 1  # 1: first version of the JSON Lines trace


@dataclass
class Labels:
    """Display names of a network's quantities.

    With `blog` names (Mazur's style) neuron h1 has net input `net_h1`, output `out_h1` and error
    `E_h1`, and the loss is `E_total`.  Otherwise names are indexed: z2[1], a2[1], delta2[1], E.
    """

    inputs: list[str]
    neurons: list[list[str]]  # [layer l-1][j]
    weights: list[list[list[str]]]  # [layer l-1][j][k]
    biases: list[list[str]]  # [layer l-1][j], one name when the bias is shared
    blog: bool = False

    def net(self, l: int, j: int) -> str:
        return f"net_{self.neurons[l - 1][j]}" if self.blog else f"z{l}[{j + 1}]"

    def out(self, l: int, j: int) -> str:
        if l == 0:
            return self.inputs[j]
        return f"out_{self.neurons[l - 1][j]}" if self.blog else f"a{l}[{j + 1}]"

    def delta(self, l: int, j: int) -> str:
        return f"delta_{self.neurons[l - 1][j]}" if self.blog else f"delta{l}[{j + 1}]"

    def error(self, k: int) -> str:
        return f"E_{self.neurons[-1][k]}" if self.blog else f"E[{k + 1}]"

    @property
    def total(self) -> str:
        return "E_total" if self.blog else "E"

    def parameter_names(self) -> list[str]:
        """All weight and bias names, in network order (layer by layer, weights then biases)."""
        out: list[str] = []
        for w_rows, b_names in zip(self.weights, self.biases):
            out.extend(name for row in w_rows for name in row)
            out.extend(b_names)
        return out

    @classmethod
    def indexed(cls, sizes: list[int]) -> "Labels":
        """Indexed names for a network of these sizes: x1.., n2[1].., W2[1,2], b2[1]."""
        layers = range(1, len(sizes))
        return cls(
            inputs=[f"x{k + 1}" for k in range(sizes[0])],
            neurons=[[f"n{l}[{j + 1}]" for j in range(sizes[l])] for l in layers],
            weights=[
                [[f"W{l}[{j + 1},{k + 1}]" for k in range(sizes[l - 1])] for j in range(sizes[l])]
                for l in layers
            ],
            biases=[[f"b{l}[{j + 1}]" for j in range(sizes[l])] for l in layers],
        )


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

    @property
    def shared_bias(self) -> bool:
        return self.b.shape[0] == 1 and self.W.shape[0] > 1

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "activation": self.activation,
            "W": self.W.tolist(),
            "b": self.b.tolist(),
            "z": self.z.tolist(),
            "a": self.a.tolist(),
            "delta": self.delta.tolist(),
            "dE_da": self.dE_da.tolist(),
            "da_dz": None if self.da_dz is None else self.da_dz.tolist(),
            "grad_W": self.grad_W.tolist(),
            "grad_b": self.grad_b.tolist(),
            "W_new": self.W_new.tolist(),
            "b_new": self.b_new.tolist(),
        }


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
    eta: float
    mistakes: tuple[str, ...] = ()

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
        for layer, w_names, b_names in zip(self.layers, self.labels.weights, self.labels.biases):
            W, b = getattr(layer, w_attr), getattr(layer, b_attr)
            for j, row in enumerate(w_names):
                for k, name in enumerate(row):
                    out[name] = float(W[j, k])
            for j, name in enumerate(b_names):
                out[name] = float(b[j])
        return out

    def errors(self) -> list[tuple[str, float, float, float]]:
        """(name, before, after, change) for each output's E (mean over samples) and the total."""
        before, after = self.losses.mean(axis=0), self.losses_after.mean(axis=0)
        rows = [(self.labels.error(k), float(b), float(a), float(a - b))
                for k, (b, a) in enumerate(zip(before, after))]
        rows.append((self.labels.total, self.loss, self.loss_after, self.loss_after - self.loss))
        return rows

    def _loss_names(self, losses: np.ndarray) -> dict[str, float]:
        mean = losses.mean(axis=0)
        named = {self.labels.error(k): float(v) for k, v in enumerate(mean)}
        named[self.labels.total] = float(losses.sum(axis=1).mean())
        return named

    def to_json(self) -> dict:
        return {
            "format": FORMAT_VERSION,
            "kind": "step",
            "step": self.step,
            "epoch": self.epoch,
            "loss": self.loss,
            "loss_after": self.loss_after,
            "samples": list(self.samples),
            "inputs": self.x.tolist(),
            "targets": self.t.tolist(),
            "eta": self.eta,
            "mistakes": list(self.mistakes),
            "losses": self._loss_names(self.losses),
            "losses_after": self._loss_names(self.losses_after),
            "layers": [layer.to_json() for layer in self.layers],
            "params": self.params(),
            "grads": self.grads(),
        }


@dataclass
class StepSummary:
    """One line for a step that is shown but not in full."""

    step: int
    epoch: int
    loss: float
    loss_after: float

    def to_json(self) -> dict:
        return {
            "format": FORMAT_VERSION,
            "kind": "summary",
            "step": self.step,
            "epoch": self.epoch,
            "loss": self.loss,
            "loss_after": self.loss_after,
        }


@dataclass
class Run:
    """What a traced run produced: full steps and summary lines, in order of step."""

    labels: Labels
    entries: list[Step | StepSummary] = field(default_factory=list)
