"""A loaded spec: the network with its initial weights, its display names, the data and the
training settings — plain data that the library traces, verifies, draws and compares."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np

from ..engine.loop import ArrayData, BatchOrder
from ..engine.network import Network
from ..record.labels import Labels


@dataclass
class Training:
    """[training]: η, how long (steps or epochs), online or full-batch updates, and the
    optimizer with its hyper-parameters (those left out take PyTorch's defaults)."""

    learning_rate: float = 0.1
    steps: int | None = 1
    epochs: int | None = None
    mode: str = "online"  # or "batch", "mini-batch"
    optimizer: str = "sgd"
    hyper: dict[str, float] = field(default_factory=dict)  # momentum, beta1, beta2, epsilon, alpha
    weight_decay: float | None = None  # None: the optimizer's default (AdamW 0.01, else 0)
    # mode = "mini-batch": slices of batch_size, of the samples in order, shuffled each epoch
    # (from `seed`), or of the learner's own per-epoch `order`; or the learner's own `batches`
    batch_size: int | None = None
    shuffle: bool = False
    seed: int = 0
    batches: list[list[int]] | None = None
    order: list[list[int]] | None = None


@dataclass
class Spec:
    """A network exactly as a spec describes it.  Tracing never changes a Spec: the library
    trains a copy of `network`."""

    source: str
    network: Network
    labels: Labels
    data: ArrayData
    training: Training
    title: str = ""
    note: str = ""
    seed: int | None = None
    cite: str = ""  # [meta] source: where the example comes from

    @property
    def learning_rate(self) -> float:
        return self.training.learning_rate

    @property
    def steps(self) -> int | None:
        return self.training.steps

    @property
    def epochs(self) -> int | None:
        return self.training.epochs

    @property
    def mode(self) -> str:
        return self.training.mode

    @property
    def batch_size(self) -> int:
        """Samples in a step (the largest, where the learner's own batches differ in size)."""
        t = self.training
        if self.mode == "mini-batch":
            return t.batch_size if t.batches is None else max(len(b) for b in t.batches)
        return 1 if self.mode == "online" else len(self.data)

    @property
    def steps_per_epoch(self) -> int:
        return self.batch_order().per_epoch(len(self.data))

    def batch_order(self) -> BatchOrder:
        """The engine's order of batches for a run of this spec (a shuffle starts afresh from
        the spec's seed each run, so every command replays the same order)."""
        t = self.training
        if self.mode != "mini-batch":
            return BatchOrder(self.batch_size)
        if t.batches is not None:
            return BatchOrder(batches=t.batches)
        rng = np.random.default_rng(t.seed) if t.shuffle else None
        return BatchOrder(t.batch_size, rng, orders=t.order)

    @property
    def total_steps(self) -> int:
        """The updates the spec asks for: its steps, or its epochs times the steps per epoch."""
        if self.epochs is not None:
            return self.epochs * self.steps_per_epoch
        return self.steps or 1

    def copy(self) -> "Spec":
        """A copy with its own network and settings (the data is shared: it is never changed)."""
        return Spec(self.source, self.network.copy(), copy.deepcopy(self.labels), self.data,
                    copy.deepcopy(self.training), self.title, self.note, self.seed, self.cite)

    def _repr_svg_(self) -> str | None:
        """In a notebook, a spec shows its network: names, initial weights and biases."""
        from ..render.notebook import spec_svg

        return spec_svg(self)

    def with_mini_batches(self, batch_size: int | None = None, *, shuffle: bool = False,
                          seed: int = 0, order=None, batches=None) -> "Spec":
        """A copy trained in mini-batches, keys as [training]'s: `batch_size` with `shuffle`
        and `seed`, or the learner's own per-epoch `order` (a list or a NumPy array, one
        permutation of the sample indices per row), or the learner's own `batches`.  Raises
        SpecError as the reader does."""
        from .batches import read_mini_batch
        from .reader import Checks

        keys = {"batch_size": batch_size, "order": order, "batches": batches}
        table = {k: v for k, v in keys.items() if v is not None}
        if shuffle:
            table.update(shuffle=True, seed=seed)
        out = self.copy()
        out.training.mode = "mini-batch"
        read_mini_batch(Checks(self.source), table, out.training, len(self.data))
        return out

    def with_biases_trained(self) -> "Spec":
        """A copy in which every bias is updated (the --update-biases option)."""
        out = self.copy()
        for layer in out.network.layers:
            layer.bias_trainable = True
        return out
