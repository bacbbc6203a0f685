"""MNIST mode: a real MLP trained on MNIST by the same engine as the small traces (float32),
watched by per-layer summaries instead of a full trace.

    for summary in tracenn.mnist.train(epochs=3, limit=2000):
        print(summary.epoch, summary.loss, [layer.grad_norm for layer in summary.layers])

`train` yields a `Summary` before training, after every epoch (and every `every` batches); its
`layers` are `LayerSummary` rows (z_mean, z_std, a_mean, a_std, inactive_fraction, delta_norm,
grad_norm, grad_rms, weight_norm, update_ratio).
"""

from __future__ import annotations

from typing import Iterator

from .data import MnistData, load, load_sample, resolve
from .summary import LayerSummary, Summary
from .training import MnistConfig, MnistRun, Training

__all__ = ["LayerSummary", "MnistConfig", "MnistData", "MnistRun", "Summary", "Training",
           "load", "load_sample", "resolve", "train"]


def train(data=None, *, layer_stats: bool = True, **config) -> Iterator[Summary]:
    """Train on MNIST and yield each summary as it is made.  `data` is an MnistData, a path
    (a folder of IDX files, mnist.npz, a CSV or .csv.gz file, mnist.pkl.gz) or None
    ($TRACENN_DATA, the download cache, or the sample that ships with tracenn).  `config` are
    MnistConfig's fields: layers, activation, output, loss, optimizer, lr, momentum,
    batch_size, epochs, seed, limit, every, init, init_scale, schedule, weight_decay.  Raises
    DataError, UnsupportedError (a network too large for memory) or TrainingDiverged."""
    if not isinstance(data, MnistData):
        data = resolve(None if data is None else str(data))
    return iter(Training(data, MnistConfig(**config), layer_stats=layer_stats))
