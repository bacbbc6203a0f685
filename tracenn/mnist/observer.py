"""Watching MNIST training: each step's z, a, δ and ‖∂E/∂W‖ reduced to the additive
statistics of mnist/summary.py, a `Summary` handed out every `every` batches and after every
epoch, and the accuracy of the network on a set of images."""

from __future__ import annotations

import math
import time

import numpy as np

from ..engine.backprop import gradient_norms, norm
from ..engine.functions import NUMPY_OPS, Activation
from ..engine.loop import SUMMARY, Observer
from ..engine.network import Network
from ..engine.window import Window
from ..errors import TrainingDiverged
from ..notation import layer_name
from .summary import FIELDS, Summary

_FIELD = {name: i for i, name in enumerate(FIELDS)}

SATURATION = 0.01  # f′ below this counts as saturated


_ONES: dict = {}


def _ones(n: int, dtype) -> np.ndarray:
    key = (n, np.dtype(dtype))
    if key not in _ONES:
        _ONES[key] = np.ones(n, dtype=dtype)
    return _ONES[key]


_BOUNDS: dict = {}


def saturation_bound(act: Activation) -> float:
    """The z > 0 where f′(z) falls to SATURATION, from the activation's own f′ (bisection;
    sigmoid: 4.5848, tanh: 2.9932).  f′ of sigmoid and tanh is even and falls with |z|, so a
    unit is saturated exactly when |z| exceeds this bound, which is one comparison per value
    instead of computing f′."""
    if act.name not in _BOUNDS:
        def prime(z):
            return float(act.prime(np.float64(z), act.fn(np.array([z]))[0], NUMPY_OPS))
        lo, hi = 0.0, 1.0
        while prime(hi) >= SATURATION:
            hi *= 2
        for _ in range(60):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if prime(mid) >= SATURATION else (lo, mid)
        _BOUNDS[act.name] = hi
    return _BOUNDS[act.name]


def _flat(pieces: list[np.ndarray]) -> np.ndarray:
    """The values of some arrays as one vector, in memory order: each piece is contiguous (the
    engine's z and a are column-major, δ row-major), so this is one copy, never a gather."""
    if len(pieces) == 1:
        return pieces[0].ravel("K")
    return np.concatenate([p.ravel("K") for p in pieces])


def _by_unit(pieces: list[np.ndarray]) -> np.ndarray:
    """Batches' a (n, units each) as one (k·units, n) array, a row per unit and batch, from
    their transposes (contiguous, as the engine makes a column-major)."""
    return np.concatenate([a.T for a in pieces]) if len(pieces) > 1 else pieces[0].T


def steps_blocks(zs: list[list[np.ndarray]], acts: list[list[np.ndarray]],
                 deltas: list[list[np.ndarray]]) -> list[tuple]:
    """summarise's blocks from k steps' own arrays: zs[l], acts[l] and deltas[l] are the k
    steps' z, a and δ of layer l+1."""
    return [(_flat(z), _by_unit(a), _flat(d)) for z, a, d in zip(zs, acts, deltas)]


def window_blocks(window: Window) -> list[tuple]:
    """summarise's blocks from the steps in a Window: each kind is one contiguous block."""
    f, n = window.filled, window.batch
    return [(z[:f].ravel(), a[:f].reshape(-1, n), d[:f].ravel())
            for z, a, d in zip(window.z, window.a, window.delta)]


def summarise(net: Network, blocks: list[tuple], k: int, batch_size: int,
              grad_norms: list[float], columns: list | None = None) -> np.ndarray:
    """The additive statistics of k batches of `batch_size` samples, one row per layer (columns:
    FIELDS).  blocks[l] holds layer l+1's values over the k batches: z and δ as flat arrays (in
    any order), and a as a (k·units, batch_size) array, a row per unit and batch (steps_blocks
    and window_blocks make them); grad_norms[l] is Σ‖∂E/∂W‖ of layer l+1 over the k batches.

    With `columns` (one entry per layer), the arrays are one chunk of a batch made in chunks:
    whether a ReLU unit is dead is known only once the whole batch is seen, so each ReLU layer
    adds its column sums of a to columns[l] instead, and the row counts no batch; batch_row
    counts it when its last chunk is in."""
    out = np.empty((len(net.layers), len(FIELDS)))
    for l, layer in enumerate(net.layers):
        zf, by_unit, df = blocks[l]
        dtype = zf.dtype
        act = layer.activation
        af = by_unit.ravel()
        inactive = inactive_of = 0
        if act.name == "relu":  # a ≥ 0: a unit is dead for a batch exactly when its column sums to 0
            col_a = by_unit @ _ones(batch_size, dtype)  # Σ over each batch, per unit
            if columns is None:
                inactive, inactive_of = col_a.size - np.count_nonzero(col_a), col_a.size
            else:
                columns[l] = col_a if columns[l] is None else columns[l] + col_a
            sum_a = np.dot(col_a, _ones(col_a.size, dtype))
        else:
            sum_a = np.dot(af, _ones(af.size, dtype))
            if act.name in ("sigmoid", "tanh"):
                bound = dtype.type(saturation_bound(act))
                inactive, inactive_of = np.count_nonzero(np.abs(zf) > bound), zf.size
        out[l] = (zf.size, np.dot(zf, _ones(zf.size, dtype)), np.dot(zf, zf), sum_a,
                  np.dot(af, af), inactive, inactive_of, k * batch_size, np.dot(df, df),
                  k if columns is None else 0, grad_norms[l])
    return out


def batch_row(columns: list, grad_norms: list[float]) -> np.ndarray:
    """What summarise left for the end of a batch made in chunks: one batch, its ‖∂E/∂W‖ and
    the dead units of its ReLU layers (columns[l]: their activations' column sums, or None)."""
    out = np.zeros((len(columns), len(FIELDS)))
    for l, col in enumerate(columns):
        if col is not None:
            out[l, _FIELD["inactive"]] = col.size - np.count_nonzero(col)
            out[l, _FIELD["inactive_of"]] = col.size
        out[l, _FIELD["batches"]] = 1
        out[l, _FIELD["sum_grad_norm"]] = grad_norms[l]
    return out


class _Chunks:
    """The sums of the chunks of one batch seen so far (see SummaryObserver.on_chunk)."""

    def __init__(self, layers: int):
        self.stats: np.ndarray | None = None
        self.columns: list = [None] * layers
        self.samples = self.correct = 0


def accuracy(net: Network, images: np.ndarray, labels: np.ndarray, chunk: int = 2000) -> tuple[float, np.ndarray]:
    """Accuracy on uint8 images, and the predictions."""
    preds = np.empty(len(images), dtype=np.int64)
    scale = net.dtype.type(1 / 255)
    for start in range(0, len(images), chunk):
        x = np.multiply(images[start:start + chunk], scale, dtype=net.dtype)
        preds[start:start + chunk] = net.output(x).argmax(axis=1)
    return float((preds == labels).mean()) if len(labels) else float("nan"), preds


class SummaryObserver(Observer):
    """Summarises every step; hands a `Summary` to `emit` every `every` batches (if set) and
    after every epoch.  Test accuracy and ‖W‖ are measured when a summary is emitted.  With
    `layer_stats` off, only the loss and the accuracies are kept.

    The statistics are sums over values, reduced a window of steps at once: for small batches
    that is a tenth of the NumPy calls, and the result is the same sums.  The steps' z, a, δ,
    targets and ‖∂E/∂W‖ are read from the engine's window (engine/window.py) once it is full
    (or a summary is due), where each kind lies in one block, so a sparse run need not show
    this observer every step; a step with no room there (a smaller last batch, no window) is
    kept by its own arrays, up to PENDING_SAMPLES samples, which are concatenated.  ‖∂E/∂W‖ is
    the engine's when its workspace takes it (`norms`; a sparse run with statistics needs
    that), else taken here as the step is seen (a folded step of plain descent: ‖ΔW‖/η); ‖W‖
    and ‖ΔW‖ of the latest update when a summary is emitted.  The loss too is computed here,
    from the output layer's z, a and t of those steps at once (the engine's hot path computes
    none), and checked: that is where a diverging run is stopped, within one window (see
    _losses).  A large batch stepped in chunks is summed chunk by chunk (on_chunk) and counted
    when its step is seen."""

    PENDING_SAMPLES = 512
    takes_chunks = True
    every_step = False  # a sparse run's window holds what it takes of the steps not shown

    def __init__(self, emit, test_images, test_labels, every: int | None = None,
                 layer_stats: bool = True):
        self.emit = emit
        self.layer_stats = layer_stats
        self.test_images, self.test_labels = test_images, test_labels
        self.every = every
        self.epoch_summary: Summary | None = None
        self.window: Summary | None = None
        self.epoch_start = time.perf_counter()  # reset when an epoch's summary is emitted
        self.batch_in_epoch = 0
        self._pending: list[tuple] = []  # per step: t, and the activations, zs and δs it needs
        self._written: Window | None = None  # the engine's window, while it holds steps
        self._written_first = 0  # the step in its first slot
        self._slots_seen = 0  # its slots counted in batch_in_epoch (a sparse run shows not all)
        self._norms: list[float] = []  # per layer: Σ‖∂E/∂W‖ over the pending steps
        self._latest_updates: list[np.ndarray] | None = None  # the latest step's ΔW, by layer
        self._chunks: _Chunks | None = None  # the current batch's chunks, if made in chunks

    def needs(self, step: int) -> int:
        return SUMMARY

    def on_step(self, net, rec, step, epoch, idx):
        summary = self.epoch_summary
        if summary is None or summary.epoch != epoch:
            summary = self.epoch_summary = self._new(net, epoch, 0, "epoch")
            self.window = self._new(net, epoch, 0, "every") if self.every else None
            self.batch_in_epoch = 0
        written = rec.window  # the engine wrote the step into its window (slot rec.slot)
        # the steps made since the last one shown: in a sparse run, those in the slots before it
        made = 1 if written is None else rec.slot + 1 - self._slots_seen
        self.batch_in_epoch = batch = self.batch_in_epoch + made
        if self._chunks is not None:
            self._add_chunked(net, rec)
        elif written is not None:
            if self._pending:
                self._flush(net)  # the steps before it first
            self._written, self._slots_seen = written, rec.slot + 1
            self._written_first = step - rec.slot
            if self.layer_stats:
                if rec.grad_norms is None:  # taken here, while the gradients are this step's
                    written.grad_norms[rec.slot] = gradient_norms(rec)
                self._latest_updates = rec.updates_W
            if written.full:  # a sparse run shows a window's steps no later than that
                self._flush(net)
        else:
            self._add_pending(net, rec, step)
        summary.batch = batch
        if self.window is not None:
            self.window.batch = batch
            if batch % self.every == 0:
                self._flush(net)
                self._emit(net, self.window)
                self.window = self._new(net, epoch, batch, "every")

    def _add_pending(self, net, rec, step):
        """A step the engine's window had no room for (a smaller last batch, a full window, or
        none asked for): kept by its own arrays, with Σ‖∂E/∂W‖ added up now (the gradients are
        the engine's reused buffers)."""
        n = rec.t.shape[0]
        if self._written is not None or (self._pending and self._pending[0][0].shape[0] != n):
            self._flush(net)  # a smaller last batch, or one the window had no room for
        if self.layer_stats:
            self._pending.append((rec.t, rec.activations, rec.zs, rec.deltas, step))
            norms = self._norms or [0.0] * len(net.layers)
            for l, g in enumerate(gradient_norms(rec)):
                norms[l] += g
            self._norms = norms
            self._latest_updates = rec.updates_W
        else:
            self._pending.append((rec.t, rec.activations[-1:], rec.zs[-1:], None, step))
        if len(self._pending) * n >= self.PENDING_SAMPLES:
            self._flush(net)

    def on_chunk(self, net, rec, idx):
        """One chunk of a batch made in chunks: its sums are added up now; the batch (its dead
        ReLU units, ‖∂E/∂W‖ and loss) is counted when on_step sees the step."""
        chunks = self._chunks or _Chunks(len(net.layers))
        self._chunks = chunks
        m = len(rec.t)
        chunks.samples += m
        chunks.correct += int(np.count_nonzero(rec.activations[-1].argmax(axis=1) ==
                                               rec.t.argmax(axis=1)))
        if self.layer_stats:
            blocks = steps_blocks([[z] for z in rec.zs], [[a] for a in rec.activations[1:]],
                                  [[d] for d in rec.deltas])
            row = summarise(net, blocks, 1, m, [0.0] * len(net.layers), chunks.columns)
            chunks.stats = row if chunks.stats is None else chunks.stats + row

    def _add_chunked(self, net, rec):
        chunks, self._chunks = self._chunks, None
        self._flush(net)  # the steps before it first
        stats = None
        if self.layer_stats:
            stats = chunks.stats + batch_row(chunks.columns, gradient_norms(rec))
            self._latest_updates = rec.updates_W
        for summary in (self.epoch_summary, self.window):
            if summary is not None:
                summary.add(stats, rec.loss * chunks.samples, chunks.samples, chunks.correct)

    def _flush(self, net):
        """Reduce the pending steps (in the engine's window, or their own arrays) into the
        epoch's (and the window's) summary."""
        if self._written is not None:
            self._flush_written(net)
        pending = self._pending
        if not pending:
            return
        n = pending[0][0].shape[0]
        stack = np.concatenate if len(pending) > 1 else (lambda arrays: arrays[0])
        t = stack([p[0] for p in pending])
        stats = None
        if self.layer_stats:
            L = len(net.layers)
            blocks = steps_blocks([[p[2][l] for p in pending] for l in range(L)],
                                  [[p[1][l + 1] for p in pending] for l in range(L)],
                                  [[p[3][l] for p in pending] for l in range(L)])
            stats = summarise(net, blocks, len(pending), n, self._norms)
        out = stack([p[1][-1] for p in pending])
        steps = [p[4] for p in pending]
        arrays = None if pending[0][3] is None else \
            (lambda i: (pending[i][2], pending[i][1][1:]))
        loss_sum = self._losses(net, steps, stack([p[2][-1] for p in pending]), out, t, arrays)
        self._add(stats, loss_sum, len(pending) * n, out, t)
        self._pending, self._norms = [], []

    def _flush_written(self, net):
        """The steps in the engine's window: each kind of value is one block already."""
        w, first = self._written, self._written_first
        f, n = w.filled, w.batch
        stats = None
        if self.layer_stats:
            if None in w.grad_norms[:f]:  # a sparse run whose engine took no ‖∂E/∂W‖
                raise ValueError("per-layer statistics of steps not shown one by one need the "
                                 "engine to take ‖∂E/∂W‖ (iterate's norms)")
            norms = [0.0] * len(net.layers)  # Σ‖∂E/∂W‖ in the steps' order, as on_step added
            for step_norms in w.grad_norms[:f]:
                for l, g in enumerate(step_norms):
                    norms[l] += g
            stats = summarise(net, window_blocks(w), f, n, norms)
        K = w.z[-1].shape[1]
        # (f·n, K), column-major as the engine's own z and a are: NumPy's reductions over K
        # (softmax's log-sum-exp) are 4× faster that way than row by row
        z = w.z[-1][:f].transpose(1, 0, 2).reshape(K, -1).T
        out = w.a[-1][:f].transpose(1, 0, 2).reshape(K, -1).T
        t = np.concatenate(w.t[:f]) if f > 1 else w.t[0]
        arrays = None if w.output_only else \
            (lambda i: ([zl[i].T for zl in w.z], [al[i].T for al in w.a]))
        loss_sum = self._losses(net, range(first, first + f), z, out, t, arrays)
        self._add(stats, loss_sum, f * n, out, t)
        w.clear()
        self._written, self._slots_seen = None, 0

    def _add(self, stats, loss_sum: float, samples: int, out, t) -> None:
        correct = int(np.count_nonzero(out.argmax(axis=1) == t.argmax(axis=1)))
        for summary in (self.epoch_summary, self.window):
            if summary is not None:
                summary.add(stats, loss_sum, samples, correct)

    @staticmethod
    def _losses(net, steps: list[int], z, a, t, arrays=None) -> float:
        """Σ of some steps' losses, computed here at once (the engine's hot path computes no
        loss), and the divergence check that used to run on each step's loss: a loss that is
        not finite raises TrainingDiverged naming its step and, where the step's arrays are kept
        (`arrays(i)`: the i-th step's zs and activations after x), the first layer whose z or a
        is not finite."""
        losses = net.output_losses(z, a, t)
        total = float(np.add.reduce(losses, axis=None, dtype=np.float64))
        if math.isfinite(total):
            return total
        by_step = np.add.reduce(losses.reshape(len(steps), -1), axis=1)
        i = int(np.argmin(np.isfinite(by_step)))
        L = len(net.layers)
        where = f"the loss at layer {L} (output)"
        if arrays is not None:
            zs, acts = arrays(i)
            for l in range(L):
                if not (np.all(np.isfinite(zs[l])) and np.all(np.isfinite(acts[l]))):
                    what = "z" if not np.all(np.isfinite(zs[l])) else "a"
                    where = f"{what} of layer {l + 1} ({layer_name(l, L)})"
                    break
        raise TrainingDiverged(steps[i], where)

    @staticmethod
    def _new(net, epoch: int, batch: int, kind: str) -> Summary:
        L = len(net.layers)
        names = [layer_name(l, L) for l in range(L)]
        return Summary(epoch, batch, kind, names=names,
                       activations=[layer.activation.name for layer in net.layers],
                       n_weights=[layer.W.size for layer in net.layers])

    def on_epoch(self, net, epoch):
        self._flush(net)
        self._emit(net, self.epoch_summary)
        self.epoch_start = time.perf_counter()

    def finish_partial(self, net):
        """After an interruption: emit what the current epoch has so far."""
        self._flush(net)
        if self.epoch_summary is not None and self.epoch_summary.samples and \
                self.epoch_summary.test_accuracy is None:
            self.epoch_summary.kind = "partial"
            self._emit(net, self.epoch_summary)

    def _emit(self, net, summary: Summary):
        if self.layer_stats:
            summary.weight_norms = [norm(layer.W) for layer in net.layers]
            if self._latest_updates is not None:
                summary.update_norms = [norm(u) for u in self._latest_updates]
        summary.test_accuracy, _ = accuracy(net, self.test_images, self.test_labels)
        summary.seconds = time.perf_counter() - self.epoch_start
        self.emit(summary)
