"""The training loop: batches in order (or shuffled), one `train_step` each, and what happens
around it — the steps handed out as they are made, observers, the divergence check, stopping.

`iterate` is a generator of `Event`s, so a caller can stream the steps (print each as it is
computed, keep none); `train` runs the same loop for observers, which is how MNIST's per-layer
summaries and the progress bar watch training.  The engine never prints.
"""

from __future__ import annotations

import math
from typing import Callable, Iterator, NamedTuple, Sequence

import numpy as np

from ..errors import TrainingDiverged
from ..notation import layer_name
from .backprop import StepRecord, Workspace, train_step, train_step_chunked
from .mistakes import NO_MISTAKES, Mistakes
from .network import Network
from .optim import Optimizer

NONE, SUMMARY, FULL = 0, 1, 2  # what an observer wants of a step


class ArrayData:
    """A small data set held as two float arrays: inputs (N, n_in) and targets (N, K).

    A data set for `train` has a length and `batches(order, batch_size)`, which yields
    (indices, x, t) for consecutive slices of `order`; the last batch may be smaller."""

    def __init__(self, X: np.ndarray, T: np.ndarray):
        self.X, self.T = X, T

    def __len__(self) -> int:
        return self.X.shape[0]

    def batches(self, order: np.ndarray, batch_size: int):
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            yield idx, self.X[idx], self.T[idx]


class BatchOrder:
    """Which samples each step of an epoch takes (a step is one update on one batch).

    Consecutive slices of `batch_size` samples (the last may be smaller) of: the samples in
    order; a new permutation each epoch drawn from `rng` (shuffled mini-batches); or the
    learner's own permutation for each epoch, `orders[e - 1]` (as Nielsen's `SGD` shuffles,
    recorded).  Or the learner's own `batches`, the same every epoch.  Online training is
    batch_size 1, full batch batch_size N: every mode is a batch order."""

    def __init__(self, batch_size: int = 1, rng: np.random.Generator | None = None,
                 orders: Sequence[Sequence[int]] | None = None,
                 batches: Sequence[Sequence[int]] | None = None):
        self.batch_size, self.rng = batch_size, rng
        self.orders = None if orders is None else [np.asarray(o, dtype=np.intp) for o in orders]
        self.batches = None if batches is None else [np.asarray(b, dtype=np.intp) for b in batches]

    def per_epoch(self, N: int) -> int:
        """Steps in an epoch of N samples."""
        return len(self.batches) if self.batches is not None else -(-N // self.batch_size)

    def epochs_given(self) -> int | None:
        """How many epochs the order can run (None: any number)."""
        return None if self.orders is None else len(self.orders)

    def epoch(self, epoch: int, N: int) -> list[np.ndarray]:
        """The sample indices of each step of epoch `epoch` (counted from 1)."""
        if self.batches is not None:
            return self.batches
        if self.orders is not None:
            if epoch > len(self.orders):
                raise ValueError(f"the batch order gives {len(self.orders)} epoch(s); "
                                 f"epoch {epoch} has none")
            order = self.orders[epoch - 1]
        else:
            order = self.rng.permutation(N) if self.rng is not None else np.arange(N)
        return list(_index_batches(order, self.batch_size))


class Observer:
    """Watches training.  `needs(step)` says how much of a step it wants (NONE, SUMMARY or
    FULL: FULL makes the engine keep the arrays from before the update and the optimizer's
    record); `on_step` sees every step (but see `every_step`), `on_epoch` the end of every
    epoch.

    An observer with `takes_chunks` also accepts steps made in chunks (a large batch, see
    train_step_chunked): `on_chunk` sees each chunk's record before `on_step` sees the step's,
    which then holds no per-sample arrays.  Training makes such steps only when every observer
    takes them.

    An observer without `every_step` does not need to see each step: in a sparse run (iterate's
    `sparse`) it is shown a step written into the engine's window only when the window is full,
    an epoch or the run is about to end, a `show_every` span ends or `should_stop()` is true;
    it reads the steps before from the window.
    Training is sparse only when no observer needs every step."""

    takes_chunks = False
    every_step = True

    def needs(self, step: int) -> int:
        return NONE

    def on_chunk(self, net: Network, rec: StepRecord, idx: np.ndarray) -> None:
        pass

    def on_step(self, net: Network, rec: StepRecord, step: int, epoch: int,
                idx: np.ndarray) -> None:
        pass

    def on_epoch(self, net: Network, epoch: int) -> None:
        pass


class Event(NamedTuple):
    """One step as `iterate` hands it out: the record, its place, and whether it ended an
    epoch.  `record` is the engine's own arrays: copy what must outlive the next step."""

    record: StepRecord
    step: int
    epoch: int
    indices: np.ndarray
    epoch_done: bool


def iterate(net: Network, data, optimizer: Optimizer, *, steps: int | None = None,
            epochs: int | None = None, batch_size: int = 1, rng: np.random.Generator | None = None,
            detail: Callable[[int], bool] | None = None, mistakes: Mistakes = NO_MISTAKES,
            on_chunk: Callable[[StepRecord, np.ndarray], None] | None = None,
            chunk_size: int | None = None, batch_order: BatchOrder | None = None,
            lean: bool = False, check_every: int = 50, gradients: bool = True,
            window: int | None = None, window_output_only: bool = False, norms: bool = False,
            sparse: bool = False, show_every: int | None = None,
            should_stop: Callable[[], bool] | None = None) -> Iterator[Event]:
    """Train until `steps` updates or `epochs` passes over `data`, whichever comes first,
    yielding each step as it is made.  Batches are taken in order, or shuffled each epoch when
    `rng` is given (`batch_order`, a BatchOrder, replaces both); an epoch's last batch may be
    smaller.  `detail(step)` says which steps keep everything (train_step).  With `chunk_size`,
    a larger batch is stepped in chunks (train_step_chunked; `on_chunk(record, indices)` sees
    each), unless mistakes are active or the step is kept in detail.  Raises TrainingDiverged
    naming the step, the layer and the quantity that stopped being finite.

    `lean` is the training hot path (MNIST): a step not kept in detail computes no loss (None:
    observers compute and check it from z, a and t) and writes its gradients and updates into
    buffers reused step to step (Workspace); the parameters are checked every `check_every`
    steps, so a NaN is caught within that window.  With it, no `gradients`: plain descent
    keeps no ∂E/∂W (train_step); a `window`: the steps' z, a and δ go into a Window of that
    many steps (engine/window.py; `window_output_only`: the output layer's only); `norms`:
    records hold ‖∂E/∂W‖ per layer; `sparse` (without `detail` or `batch_order`: every step
    of an epoch but its last has a slot): a step in the window is yielded only if it fills
    it, is one of the epoch's or the run's last two, ends a multiple of `show_every` batches,
    or `should_stop()` is true after it; observers read the others from the window."""
    workspace = Workspace(net, window, window_output_only, norms) if lean else None
    plan = batch_order or BatchOrder(batch_size, rng)
    per_epoch, step, epoch = plan.per_epoch(len(data)), 0, 0  # batches an epoch; steps and epochs
    checked = 0  # the last step whose parameters were checked (lean)
    chunked = batch_order is None and not mistakes and batch_size > (chunk_size or math.inf)
    hide, last = sparse and detail is None and batch_order is None, (steps or math.inf) - 1
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        while (steps is None or step < steps) and (epochs is None or epoch < epochs):
            epoch += 1
            batches = _epoch_batches(data, plan, epoch, chunked, batch_order is None)
            for batch, item in enumerate(batches, 1):
                step += 1
                full = detail is not None and detail(step)
                if chunked:
                    idx, rec = _batch_step(net, data, optimizer, item, chunk_size, full,
                                           mistakes, step, on_chunk)
                else:
                    idx, x, t = item
                    rec = train_step(net, x, t, optimizer, detail=full, mistakes=mistakes,
                                     loss=not lean, workspace=workspace, gradients=gradients)
                if full or (rec.loss is not None and not math.isfinite(rec.loss)):
                    check_finite(rec, step, full)  # the loss is check_finite's own first test
                if full or (lean and step - checked >= check_every):
                    check_finite_parameters(net, step, checked + 1 if lean else None)
                    checked = step
                if hide and batch < per_epoch - 1 and step < last and rec.window is not None \
                        and not rec.window.full and not (show_every and batch % show_every == 0
                                                         or should_stop and should_stop()):
                    continue  # in the window, with its targets and ‖∂E/∂W‖ (sparse)
                yield Event(rec, step, epoch, idx, batch == per_epoch)
                if steps is not None and step >= steps:
                    break
        check_finite_parameters(net, step, checked + 1 if lean else None)


def _batch_step(net, data, optimizer, idx, chunk_size, full, mistakes, step, on_chunk):
    """One step of `iterate` on the batch of samples `idx`: whole if it is no larger than a
    chunk or kept in detail, else in chunks.  Returns the indices and the record."""
    item = idx
    if full or len(item) <= chunk_size:
        (idx, x, t), = data.batches(item, len(item))
        return idx, train_step(net, x, t, optimizer, detail=full, mistakes=mistakes)

    def seen(rec, chunk_idx):
        check_finite(rec, step, False)
        if on_chunk is not None:
            on_chunk(rec, chunk_idx)

    return item, train_step_chunked(net, data.batches(item, chunk_size), optimizer, on_chunk=seen)


def _epoch_batches(data, plan: BatchOrder, epoch: int, chunked: bool, own: bool):
    """The batches of epoch `epoch`: (indices, x, t) each, or with `chunked` the indices only.
    `own`: in the order `plan` draws (its rng, or none), sliced by the data itself (MNIST reads
    its batches); otherwise the plan's own batches."""
    N = len(data)
    if not own:
        return (next(data.batches(idx, len(idx))) for idx in plan.epoch(epoch, N))
    order = plan.rng.permutation(N) if plan.rng is not None else np.arange(N)
    return _index_batches(order, plan.batch_size) if chunked else \
        data.batches(order, plan.batch_size)


def _index_batches(order: np.ndarray, batch_size: int):
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]


def train(net: Network, data, optimizer: Optimizer, *, observers: Sequence[Observer] = (),
          should_stop: Callable[[], bool] = lambda: False, **options) -> int:
    """Run `iterate` for observers: each step is handed to every observer, each epoch's end
    too; `should_stop()` is asked after each step (Ctrl-C).  Returns the number of steps done.
    `options` are iterate's; `chunk_size` is used only if every observer takes chunks."""
    done = 0
    if options.get("chunk_size") is not None and all(o.takes_chunks for o in observers):
        def on_chunk(rec, idx):
            for o in observers:
                o.on_chunk(net, rec, idx)
        options["on_chunk"] = on_chunk
    else:
        options.pop("chunk_size", None)
    events = iterate(net, data, optimizer,
                     detail=lambda step: max((o.needs(step) for o in observers), default=NONE) >= FULL,
                     **options)
    for ev in observed(net, events, observers, should_stop):
        done = ev.step
    return done


def observed(net: Network, events: Iterator[Event], observers: Sequence[Observer],
             should_stop: Callable[[], bool] = lambda: False) -> Iterator[Event]:
    """Each event handed to every observer (and, at an epoch's end, the epoch too), then
    yielded; after each, `should_stop()` is asked, and when it says so training ends there
    (its parameters checked)."""
    for ev in events:
        for o in observers:
            o.on_step(net, ev.record, ev.step, ev.epoch, ev.indices)
        if ev.epoch_done:
            for o in observers:
                o.on_epoch(net, ev.epoch)
        yield ev
        if should_stop():
            events.close()
            check_finite_parameters(net, ev.step)
            return


def _where(what: str, l: int, L: int) -> str:
    return f"{what} of layer {l + 1} ({layer_name(l, L)})"


def check_finite(rec: StepRecord, step: int, full: bool) -> None:
    """Raise TrainingDiverged if the step did: its loss E, a delta δ or a gradient is not finite.

    That is the whole rule, and the parameters after the update (`check_finite_parameters`).
    ∂E/∂a and ∂a/∂z are not part of it: where σ(z) has rounded to 1 (z ≳ 37) or a softmax
    output underflowed to 0 while its target is not, ∂E/∂a = −t/a or (1 − t)/(1 − a) is ±∞
    although δ = a − t, the step and the loss (computed from z) are finite — the step is fine.
    On the training hot path only the loss is checked: a NaN or an overflow anywhere reaches it
    within a step or two (`check_finite_parameters` catches the rest at the end).  A step kept in
    full is checked layer by layer, so no NaN ever reaches a table or a JSON line; the message
    names the first value that is not finite, in the order the step computed them."""
    if math.isfinite(rec.loss) and not full:
        return
    where = first_non_finite(rec)
    if where is not None:
        raise TrainingDiverged(step, where)


def first_non_finite(rec: StepRecord) -> str | None:
    """Where a step (kept in full) diverged, or None: its z and a layer by layer when the loss
    is not finite (the first place it broke), then the loss, then δ, ∂E/∂W and ∂E/∂b from the
    output layer down."""
    L = len(rec.zs)
    if not math.isfinite(rec.loss):
        for l in range(L):
            if not np.isfinite(rec.zs[l].sum()):
                return _where("z", l, L)
            if not np.all(np.isfinite(rec.activations[l + 1])):
                return _where("a", l, L)
        return f"the loss at layer {L} (output)"
    for l in range(L - 1, -1, -1):
        for what, arrays in (("δ", rec.deltas), ("∂E/∂W", rec.grads_W), ("∂E/∂b", rec.grads_b)):
            if arrays[l] is not None and not np.all(np.isfinite(arrays[l])):
                return _where(what, l, L)
    return None


def check_finite_parameters(net: Network, step: int, first: int | None = None) -> None:
    """Raise TrainingDiverged if a weight or bias is no longer finite: at `step`, or somewhere
    in steps `first` to `step` (the window since the previous check)."""
    L = len(net.layers)
    with np.errstate(over="ignore", invalid="ignore"):
        for l, layer in enumerate(net.layers):
            if not (np.isfinite(layer.W.sum()) and np.isfinite(layer.b.sum())):
                raise TrainingDiverged(step, _where("W or b", l, L), first)
