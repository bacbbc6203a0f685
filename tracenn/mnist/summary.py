"""Per-layer summaries of training: the same quantities as a full trace, as statistics that add.

The statistics are sums and counts (one float64 row per layer, columns FIELDS), so the summary
of an epoch is the sum of its batches' rows and the means and spreads are read off at the end,
by `LayerSummary`.  Two states do not add: ‖W‖ after the latest batch and ‖ΔW‖ of the latest
update, both taken when a summary is emitted.

Per layer: mean and std of z and of a; the fraction of units saturated (sigmoid, tanh: f′ below
0.01, counted over every sample and unit) or dead (ReLU: zero for every sample of a batch,
counted over units and batches); the root-mean-square norm of a sample's delta ‖δ‖; the mean
‖∂E/∂W‖ per batch, and that over √(number of weights), the size of one weight's gradient, which
is what compares between layers of different sizes; ‖W‖; and the update ratio ‖ΔW‖/‖W‖ of the
latest update, the figure of CS231n's rule of thumb (about 1e-3).  Taking ‖ΔW‖ once per summary
rather than after every batch saves a pass over every weight matrix per step.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..record.jsonl import envelope

# The additive fields of a layer's statistics, kept in one float64 row so that adding the
# statistics of some batches is one array addition.
FIELDS = ("n_values", "sum_z", "sumsq_z", "sum_a", "sumsq_a", "inactive", "inactive_of",
          "samples", "sum_delta_sq", "batches", "sum_grad_norm")
_INDEX = {name: i for i, name in enumerate(FIELDS)}

class LayerSummary:
    """One layer's row of a summary, read as figures: the sums and counts n_values (samples ×
    units), sum and sum of squares of z and of a, inactive (saturated sample-unit pairs or dead
    unit-batch pairs) out of inactive_of, samples and Σ‖δ‖² over them, batches and Σ‖∂E/∂W‖
    over them; plus two states, weight_norm and update_norm: ‖W‖ after the latest batch and
    ‖ΔW‖ of the latest update."""

    __slots__ = ("name", "activation", "values", "weight_norm", "n_weights", "update_norm")

    def __init__(self, name: str, activation: str, values=None, weight_norm: float | None = None,
                 n_weights: int = 0, update_norm: float | None = None):
        self.name, self.activation = name, activation
        self.values = np.zeros(len(FIELDS)) if values is None else values
        self.weight_norm = weight_norm
        self.n_weights = n_weights
        self.update_norm = update_norm

    def __getattr__(self, item):
        try:
            return self.values[_INDEX[item]]
        except KeyError:
            raise AttributeError(item) from None

    @property
    def inactive_kind(self) -> str:
        return {"relu": "dead", "sigmoid": "saturated", "tanh": "saturated"}.get(self.activation, "")

    @staticmethod
    def _mean(total: float, count: float) -> float:
        return float(total / count) if count else float("nan")

    @property
    def z_mean(self) -> float:
        return self._mean(self.sum_z, self.n_values)

    @property
    def z_std(self) -> float:
        return _std(self.sum_z, self.sumsq_z, self.n_values)

    @property
    def a_mean(self) -> float:
        return self._mean(self.sum_a, self.n_values)

    @property
    def a_std(self) -> float:
        return _std(self.sum_a, self.sumsq_a, self.n_values)

    @property
    def inactive_fraction(self) -> float:
        return self._mean(self.inactive, self.inactive_of) if self.inactive_kind else float("nan")

    @property
    def delta_norm(self) -> float:
        """The root-mean-square of a sample's ‖δ‖ (the mean of ‖δ‖² is what adds up)."""
        return math.sqrt(self._mean(self.sum_delta_sq, self.samples))

    @property
    def grad_norm(self) -> float:
        return self._mean(self.sum_grad_norm, self.batches)

    @property
    def grad_rms(self) -> float:
        """‖∂E/∂W‖ / √(number of weights): the size of one weight's gradient.  ‖∂E/∂W‖ itself
        grows with the number of weights (784×128 in MNIST's first layer, 64×10 in its last),
        so this is the figure to compare between layers, e.g. for vanishing gradients."""
        return self.grad_norm / math.sqrt(self.n_weights) if self.n_weights else float("nan")

    @property
    def update_ratio(self) -> float:
        """‖ΔW‖/‖W‖ of the latest update, as CS231n's rule of thumb (about 1e-3) means it."""
        if not self.weight_norm or self.update_norm is None:
            return float("nan")
        return self.update_norm / self.weight_norm

    def to_json(self) -> dict:
        out = {"name": self.name, "activation": self.activation, "z_mean": self.z_mean,
               "z_std": self.z_std, "a_mean": self.a_mean, "a_std": self.a_std,
               "delta_norm": self.delta_norm, "grad_norm": self.grad_norm,
               "grad_rms": self.grad_rms,
               "weight_norm": self.weight_norm, "update_ratio": self.update_ratio}
        if self.inactive_kind:
            out[self.inactive_kind] = self.inactive_fraction
        return {k: _finite_or_none(v) for k, v in out.items()}


def _std(total: float, sumsq: float, n: int) -> float:
    if not n:
        return float("nan")
    mean = total / n
    return math.sqrt(max(sumsq / n - mean * mean, 0.0))


def _finite_or_none(v):
    return None if isinstance(v, float) and not math.isfinite(v) else v


@dataclass
class Summary:
    """What one summary line reports: the loss, accuracies and the per-layer statistics.
    `stats` is (layers, FIELDS): the sum of `summarise` over its batches."""

    epoch: int
    batch: int  # batches done in this epoch
    kind: str = "epoch"  # "epoch": a whole epoch; "every": the last --every batches; "partial":
    # an interrupted epoch; "start": the untrained network (epoch 0, no update)
    samples: int = 0
    sum_loss: float = 0.0
    correct: int = 0
    stats: np.ndarray | None = None
    names: list[str] = field(default_factory=list)
    activations: list[str] = field(default_factory=list)
    n_weights: list[int] = field(default_factory=list)
    weight_norms: list[float] = field(default_factory=list)  # ‖W‖ when emitted
    update_norms: list[float] = field(default_factory=list)  # ‖ΔW‖ of the latest update
    test_accuracy: float | None = None
    seconds: float = 0.0

    def add(self, stats: np.ndarray | None, loss_sum: float, n: int, correct: int):
        """Add the sums of some batches: per-layer statistics, Σ loss, samples, Σ correct."""
        if stats is None:
            pass
        elif self.stats is None:
            self.stats = stats.copy()
        else:
            self.stats += stats
        self.sum_loss += loss_sum
        self.samples += n
        self.correct += correct

    @property
    def layers(self) -> list[LayerSummary]:
        if self.stats is None:
            return []
        norms = self.weight_norms or [None] * len(self.names)
        updates = self.update_norms or [None] * len(self.names)
        return [LayerSummary(name, act, row, norm, size, update) for name, act, row, norm, size, update
                in zip(self.names, self.activations, self.stats, norms, self.n_weights, updates)]

    @property
    def gradient_ratios(self) -> tuple[float, float] | None:
        """How many times the output layer's ‖∂E/∂W‖ exceeds the first layer's, plain and per
        weight (above 1: the gradient shrinks toward the input, as it vanishes with sigmoid)."""
        layers = self.layers
        if len(layers) < 2 or not layers[0].grad_norm:
            return None
        first, last = layers[0], layers[-1]
        return last.grad_norm / first.grad_norm, last.grad_rms / first.grad_rms

    @property
    def loss(self) -> float:
        return self.sum_loss / self.samples if self.samples else float("nan")

    @property
    def train_accuracy(self) -> float:
        return self.correct / self.samples if self.samples else float("nan")

    def to_json(self) -> dict:
        return envelope("mnist-summary", span=self.kind, epoch=self.epoch, batch=self.batch,
                        loss=_finite_or_none(self.loss),
                        train_accuracy=_finite_or_none(self.train_accuracy),
                        test_accuracy=_finite_or_none(self.test_accuracy), seconds=self.seconds,
                        layers=[s.to_json() for s in self.layers])

    def _repr_html_(self) -> str:
        from ..render.notebook import summary_html

        return summary_html(self)
