"""Training an MLP on MNIST with the one engine (network.train), float32, observed by
per-layer summaries instead of a full trace.

Images stay uint8 and are scaled to [0, 1] one batch at a time, which keeps the process small
(the full training set is 47 MB as bytes, 188 MB as float32).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from ..engine.functions import ACTIVATIONS, resolve_loss
from ..engine.loop import Observer, iterate, observed
from ..engine.network import Network, init_layers
from ..engine.optim import SGD, Optimizer, make_optimizer as _make
from ..errors import DataError, OptionError
from . import memory
from .data import PIXELS, MnistData
from .observer import SummaryObserver, accuracy
from .summary import Summary



@dataclass
class MnistConfig:
    """One MNIST run.  The defaults are the recipe README's MNIST part explains: momentum 0.9
    with η = 0.1 annealed on a cosine schedule, weight decay 5e-4 on the weights, batch 64."""

    layers: list[int] = field(default_factory=lambda: [784, 128, 64, 10])
    activation: str = "relu"  # hidden layers
    output: str = "softmax"
    loss: str = "cross-entropy"
    optimizer: str = "momentum"
    lr: float | None = None  # None: the optimizer's default below
    momentum: float = 0.9
    batch_size: int = 64
    epochs: int = 10
    seed: int = 0
    limit: int | None = None
    every: int | None = None
    init: str = "auto"  # "auto": He for ReLU layers, Glorot (Xavier) otherwise
    init_scale: float = 1.0  # for "normal" and "uniform"
    schedule: str = "cosine"  # η over the run: "cosine" or "constant" (see LearningRate)
    weight_decay: float | None = None  # λ; None: the optimizer's default below

    # momentum and nesterov: measured on this network (README); rmsprop, adam and adamw: 0.001,
    # Keras' default (PyTorch's rmsprop default of 0.01 diverges on this network)
    DEFAULT_LR = {"sgd": 0.1, "momentum": 0.1, "nesterov": 0.1, "rmsprop": 0.001,
                  "adam": 0.001, "adamw": 0.001}
    # momentum and nesterov: measured (README); adamw: torch.optim.AdamW's; the others: 0
    DEFAULT_WEIGHT_DECAY = {"momentum": 5e-4, "nesterov": 5e-4, "adamw": 0.01}

    @property
    def eta(self) -> float:
        return self.lr if self.lr is not None else self.DEFAULT_LR[self.optimizer]

    @property
    def decay(self) -> float:
        """λ: weight decay of the weights (biases are not decayed, see engine/optim.py)."""
        if self.weight_decay is not None:
            return self.weight_decay
        return self.DEFAULT_WEIGHT_DECAY.get(self.optimizer, 0.0)


class MnistBatches:
    """The engine's data interface over uint8 images: scaled to float32 [0, 1], with one-hot
    targets.  Images are converted a few hundred at a time, so that a small batch costs two
    slices rather than a gather and a conversion of its own; a few hundred (800 KB as float32)
    stay in the processor's cache until their batches are used, a few thousand did not and were
    slower than converting each batch."""

    CHUNK = 256  # images converted at once

    def __init__(self, images: np.ndarray, labels: np.ndarray, dtype=np.float32):
        self.images, self.labels = images, labels
        self.dtype = np.dtype(dtype)
        self.scale = self.dtype.type(1 / 255)
        self.eye = np.eye(10, dtype=self.dtype)

    def __len__(self) -> int:
        return len(self.images)

    def batches(self, order: np.ndarray, batch_size: int):
        per_chunk = max(1, self.CHUNK // batch_size) * batch_size
        for c in range(0, len(order), per_chunk):
            ids = order[c : c + per_chunk]
            X = np.multiply(self.images[ids], self.scale, dtype=self.dtype)  # (m, 784)
            T = self.eye[self.labels[ids]]  # (m, 10)
            for s in range(0, len(ids), batch_size):
                yield ids[s : s + batch_size], X[s : s + batch_size], T[s : s + batch_size]


def build_network(cfg: MnistConfig) -> Network:
    """Seeded float32 network, initialised as cfg.init says; "auto" is He for ReLU layers and
    Glorot (Xavier) otherwise."""
    hidden = ACTIVATIONS[cfg.activation]
    out = ACTIVATIONS[cfg.output]
    acts = [hidden] * (len(cfg.layers) - 2) + [out]
    rng = np.random.default_rng(cfg.seed)
    layers = []
    for l, act in enumerate(acts):
        scheme = cfg.init
        if scheme == "auto":
            scheme = "he" if act.name == "relu" else "xavier"
        layers += init_layers(cfg.layers[l:l + 2], [act], rng, scheme, cfg.init_scale,
                              dtype=np.float32)
    return Network(layers, resolve_loss(cfg.loss, out))


def check_memory(cfg: MnistConfig, n_images: int = 0) -> None:
    """Refuse (UnsupportedError, with the estimate) a run that cannot fit in memory."""
    memory.check(cfg.layers, cfg.optimizer, cfg.batch_size, n_images)


def _check_not_empty(data: MnistData) -> None:
    if not len(data.train_images):
        raise DataError(data.source, "holds no training images")
    if not len(data.test_images):
        raise DataError(data.source, "holds no test images: tracenn measures the test accuracy "
                        "after every epoch and needs at least one")


def make_optimizer(cfg: MnistConfig) -> Optimizer:
    """The optimizer cfg names, in torch.optim's conventions (engine/optim.py)."""
    hyper = {"momentum": cfg.momentum} if cfg.optimizer in ("momentum", "nesterov") else {}
    return _make(cfg.optimizer, cfg.eta, weight_decay=cfg.decay, **hyper)


@dataclass
class MnistRun:
    summaries: list[Summary]  # every summary emitted, in order
    epoch_losses: list[float]
    confusion: np.ndarray  # (10, 10): row = true digit, column = predicted
    test_accuracy: float
    interrupted: bool
    seconds: float
    net: Network


class Training:
    """One MNIST training run as `cfg` says, iterated: it yields each `Summary` (loss, train and
    test accuracy, and with `layer_stats` the per-layer statistics) as it is made, beginning
    with the untrained network's (`start_summary`, see measure_start); once exhausted, `result`
    holds the MnistRun.  `progress(epoch, n)` is called with the samples of the batches done
    since it last was; `should_stop()` after each step (Ctrl-C).  A batch larger than `chunk`
    samples (default: as memory.chunk_samples says; None: never) is stepped in chunks, with the
    statistics and update of the whole batch.
    Raises DataError (no training or test images), UnsupportedError (a network that does not
    fit in memory) and TrainingDiverged."""

    def __init__(self, data: MnistData, cfg: MnistConfig, *, progress=None,
                 should_stop=lambda: False, layer_stats: bool = True, start_summary: bool = True,
                 chunk: int | None | str = "auto"):
        if cfg.layers[0] != PIXELS:
            raise ValueError(f"the first layer must have 784 units (28×28 pixels), not {cfg.layers[0]}")
        _check_not_empty(data)
        self.data, self.cfg = data.limit(cfg.limit), cfg
        check_memory(cfg, len(self.data.train_images) + len(self.data.test_images))
        self.progress, self.should_stop = progress, should_stop
        self.layer_stats, self.start_summary = layer_stats, start_summary
        self.chunk = memory.chunk_samples(cfg.layers) if chunk == "auto" else chunk
        self.result: MnistRun | None = None

    def __iter__(self):
        d, cfg = self.data, self.cfg
        net = build_network(cfg)
        batches = MnistBatches(d.train_images, d.train_labels)
        collected: list[Summary] = []
        if self.start_summary:
            collected.append(measure_start(net, batches, cfg.batch_size, d.test_images,
                                           d.test_labels, self.layer_stats, self.chunk))
            yield collected[-1]
        pending: list[Summary] = []
        observer = SummaryObserver(pending.append, d.test_images, d.test_labels, cfg.every,
                                   self.layer_stats)
        observers = [observer] + ([_Progress(self.progress)] if self.progress else [])
        start = time.perf_counter()
        optimizer = make_optimizer(cfg)
        total = cfg.epochs * -(-len(batches) // cfg.batch_size)
        if cfg.schedule != "constant":
            observers.append(LearningRate(optimizer, cfg.schedule, total))
        events = iterate(net, batches, optimizer, epochs=cfg.epochs,
                         batch_size=cfg.batch_size, rng=np.random.default_rng(cfg.seed + 1),
                         chunk_size=self.chunk, lean=True, check_every=_window(cfg.batch_size),
                         gradients=False,  # only ‖∂E/∂W‖ is looked at, which `norms` takes
                         window=_room(cfg.batch_size), window_output_only=not self.layer_stats,
                         norms=self.layer_stats, show_every=cfg.every,
                         sparse=not any(o.every_step for o in observers),
                         should_stop=self.should_stop,
                         on_chunk=lambda rec, idx: observer.on_chunk(net, rec, idx))
        steps = 0
        for ev in observed(net, events, observers, self.should_stop):
            steps = ev.step
            while pending:
                collected.append(pending.pop(0))
                yield collected[-1]
        interrupted = steps < total
        if interrupted:
            observer.finish_partial(net)
            collected += pending
            yield from pending
        self.result = self._finish(net, collected, interrupted, time.perf_counter() - start)

    def _finish(self, net, collected, interrupted, seconds) -> "MnistRun":
        d = self.data
        acc, preds = accuracy(net, d.test_images, d.test_labels)
        confusion = np.zeros((10, 10), dtype=np.int64)
        np.add.at(confusion, (d.test_labels.astype(np.int64), preds), 1)
        epoch_losses = [s.loss for s in collected if s.kind == "epoch"]
        return MnistRun(collected, epoch_losses, confusion, acc, interrupted, seconds, net)


def run(data: MnistData, cfg: MnistConfig, *, emit=lambda s: None, **options) -> MnistRun:
    """Train as `cfg` says; `emit(summary)` receives each summary as it is made.  `options` are
    Training's (progress, should_stop, layer_stats, start_summary)."""
    training = Training(data, cfg, **options)
    for summary in training:
        emit(summary)
    return training.result


START_SAMPLES = 1024


def measure_start(net: Network, batches: MnistBatches, batch_size: int, test_images,
                  test_labels, layer_stats: bool = True, chunk: int | None = None) -> Summary:
    """The summary of the untrained network: the first START_SAMPLES training images (at least
    one batch) in batches of `batch_size`, forward and backward through the engine with an
    update of zero, so the weights do not change.  It is where every column starts: for softmax
    with cross-entropy the loss is near ln 10 = 2.303 and the accuracy near 10%; with sigmoid
    hidden layers the gradients already shrink toward the input.  No update is made, so the
    update ratio is not given."""
    probe = net.copy()
    seen: list[Summary] = []
    observer = SummaryObserver(seen.append, test_images, test_labels, None, layer_stats)
    m = min(len(batches), max(START_SAMPLES, batch_size))
    first = MnistBatches(batches.images[:m], batches.labels[:m], batches.dtype)
    for ev in iterate(probe, first, SGD(0.0), epochs=1, batch_size=batch_size, chunk_size=chunk,
                      lean=True, check_every=_window(batch_size), window=_room(batch_size),
                      window_output_only=not layer_stats, norms=layer_stats,
                      on_chunk=lambda rec, idx: observer.on_chunk(probe, rec, idx)):
        observer.on_step(probe, ev.record, ev.step, 0, ev.indices)
    observer.on_epoch(probe, 0)
    (summary,) = seen
    summary.kind = "start"
    summary.seconds = 0.0
    summary.update_norms = []  # the updates of zero are not updates
    return summary


def _window(batch_size: int) -> int:
    """Steps between the engine's checks that the parameters are finite: the steps the summary
    observer reduces at once (it checks their loss), so a NaN is caught within one window."""
    return max(1, SummaryObserver.PENDING_SAMPLES // batch_size)


def _room(batch_size: int) -> int | None:
    """The steps of the engine's window (engine/window.py) that the summary observer reduces at
    once: one window of the divergence check; none for batches larger than a window's samples
    (a window of one such batch would only hold what the step's own arrays hold)."""
    return _window(batch_size) if batch_size <= SummaryObserver.PENDING_SAMPLES else None


SCHEDULES = ("constant", "cosine")


class LearningRate(Observer):
    """Sets η for each next step: "cosine" anneals it from the configured η at the first step
    toward 0 at the last, η_t = η · ½ (1 + cos(π t / T)) after t of the run's T steps (SGDR's
    schedule without restarts: Loshchilov & Hutter, ICLR 2017); "constant" leaves it alone."""

    def __init__(self, optimizer: Optimizer, schedule: str, total_steps: int):
        if schedule not in SCHEDULES:
            raise OptionError(f"unknown schedule {schedule!r}; allowed: {', '.join(SCHEDULES)}")
        self.optimizer, self.schedule, self.total = optimizer, schedule, total_steps
        self.eta = optimizer.lr

    def on_step(self, net, rec, step, epoch, idx):
        if self.schedule == "cosine":
            self.optimizer.lr = self.eta * 0.5 * (1 + math.cos(math.pi * step / self.total))


class _Progress(Observer):
    """Calls `callback(epoch, samples)` with the samples of the steps made since it last did.
    In a sparse run the steps it was not shown are of the batch it is shown (iterate shows the
    epoch's last two steps, so a smaller last batch is always seen)."""

    every_step = False

    def __init__(self, callback):
        self.callback = callback
        self.step = 0

    def on_step(self, net, rec, step, epoch, idx):
        self.callback(epoch, len(idx) * (step - self.step))
        self.step = step
