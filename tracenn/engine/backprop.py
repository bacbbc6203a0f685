"""One training step: the forward pass, backprop and the update, for a batch of n samples.

Backprop as the engine computes it (Nielsen, "Neural Networks and Deep Learning", ch. 2,
equations BP1-BP4), with samples in rows:
    z^l = a^(l−1) W^lᵀ + b^l,  a^l = f(z^l)                              forward
    δ^L = ∂E/∂a^L ⊙ f′(z^L)   (or the loss's fused form, e.g. a − t)      BP1, output delta
    δ^l = (δ^(l+1) W^(l+1)) ⊙ f′(z^l)                                     BP2, hidden deltas
    ∂E/∂b^l = (1/n) Σ_samples δ^l,  ∂E/∂W^l = (1/n) δ^lᵀ a^(l−1)           BP3, BP4
Hidden deltas use W^(l+1) from *before* the update, as Mazur's text prescribes; every update is
applied only once every gradient is known.  The active mistakes (engine/mistakes.py) are asked
at each point where a learner could go wrong.

A large batch can also be stepped in chunks (train_step_chunked): the same pass over each chunk,
the gradient sums added up and divided by n at the end, one update — the whole batch's step with
one chunk's memory.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np

from .functions import NUMPY_OPS
from .mistakes import NO_MISTAKES, Mistakes
from .network import Network
from .optim import Optimizer, UpdateTrace
from .window import Window


@dataclass
class StepRecord:
    """The arrays one step computed, by reference (no copies).  Index l−1 holds layer l.

    The network's layers already hold the updated W and b when observers see this record.  A
    step made in chunks (train_step_chunked) keeps only the whole batch's gradients, updates and
    loss: its per-sample fields are None or empty, and each chunk had a record of its own.
    """

    x: np.ndarray  # (n, n_in)
    t: np.ndarray  # (n, K)
    zs: list[np.ndarray]
    activations: list[np.ndarray]  # activations[0] is x
    losses: np.ndarray | None  # (n, K): E_k per sample and output (None: not computed)
    dE_da: list[np.ndarray | None]
    da_dz: list[np.ndarray | None]
    deltas: list[np.ndarray]
    grads_W: list[np.ndarray]
    grads_b: list[np.ndarray]
    W_old: list[np.ndarray] | None  # W and b before the update; None unless recorded in detail
    b_old: list[np.ndarray] | None
    updates_W: list[np.ndarray]  # the step subtracted from each W (ΔW = −update)
    loss: float | None  # the batch loss: mean over samples of Σ_k E_k (None: not computed)
    trace_W: list[UpdateTrace | None] | None = None  # the optimizer's record, with detail
    trace_b: list[UpdateTrace | None] | None = None
    dE_dx: np.ndarray | None = None  # (n, n_in): ∂E/∂x, the gradient at the inputs, with detail
    eta: float | None = None  # a folded step of plain descent (grads_W None): updates_W = η ∂E/∂W
    window: Window | None = None  # its slot `slot` holds this step's z, a, δ (those it keeps)
    slot: int | None = None
    grad_norms: list[float] | None = None  # ‖∂E/∂W‖ per layer, made by a workspace with norms


def norm(x: np.ndarray) -> float:
    """‖x‖, the Frobenius norm of an array (of ∂E/∂W, ΔW or W), as a float."""
    return math.sqrt(np.vdot(x, x))


def gradient_norms(rec: StepRecord) -> list[float]:
    """‖∂E/∂W‖ of each layer of a step: the record's own (a workspace with `norms` took them
    while the gradients were in the processor's cache), else from its ∂E/∂W, or, for a folded
    step of plain descent (ΔW = η ∂E/∂W, no ∂E/∂W kept), as ‖ΔW‖ / |η|."""
    if rec.grad_norms is not None:
        return rec.grad_norms
    if rec.eta is None:
        return [norm(g) for g in rec.grads_W]
    return [norm(u) / abs(rec.eta) for u in rec.updates_W]


def _output_delta(net: Network, z, a, t, detail: bool, mistakes: Mistakes, hooked: bool,
                  out: np.ndarray | None = None):
    """δ^L, and the chain-rule factors ∂E/∂a, ∂a/∂z (computed when needed or asked for).
    `hooked`: mistakes are active (without, their hooks are not called: they would return
    their argument).  With `out` (a window's slot), δ^L is written there."""
    act = net.layers[-1].activation
    loss = net.loss
    fused = loss.fused.get(act.name) if loss.fused else None
    dE_da = da_dz = None
    if fused is None or detail:
        dE_da = loss.dE_da(a, t)
        if hooked:
            dE_da = mistakes.output_dE_da(dE_da)
        if act.prime is not None:
            da_dz = act.prime(z, a, NUMPY_OPS)
            if hooked:
                da_dz = mistakes.prime(da_dz, act, z, a)
        else:
            da_dz = act.da_dz(z, a)
            if hooked:
                da_dz = mistakes.jacobian(da_dz, a)
    if fused is not None:
        delta = fused(a, t)
        if hooked:
            delta = mistakes.fused_delta(delta, a)
    elif act.prime is not None:
        return np.multiply(dE_da, da_dz, out=out), dE_da, da_dz
    else:
        delta = act.backprop(dE_da, z, a)
        if hooked:
            delta = mistakes.jacobian_delta(delta, dE_da, a)
    if out is not None:
        np.copyto(out, delta)
        delta = out
    return delta, dE_da, da_dz


class Workspace:
    """The arrays a training step writes its gradients and updates into, one set per layer,
    reused step to step (the training hot path: MNIST makes thousands of steps an epoch, and a
    new 784×128 array per step is a page-faulting allocation).  A record made with a workspace
    holds these buffers: they are overwritten by the next step, so an observer that keeps a
    gradient or an update past its `on_step` must copy it.  Steps recorded in detail and steps
    with active mistakes never use one (a mistake may keep or replace the arrays).

    With `window_steps`, the steps' z, a and δ (with `output_only`, the output layer's z and a)
    are written into a Window of that many steps (engine/window.py), made for the first
    batch's size; the record says which slot, and the window keeps the step's targets (and
    norms).  With `norms`, each step's record holds ‖∂E/∂W‖ of every layer (grad_norms), taken
    as soon as the optimizer has read the gradient: for a 784×128 layer that read costs 8 µs
    there, and 13 µs once the step is over and the gradient has left the processor's cache, or
    17 µs straight after BLAS wrote it on two cores (measured on MNIST's default run).  A
    folded step of plain descent has no gradient: its norms are ‖ΔW‖/|η|, taken as soon as ΔW
    is made."""

    def __init__(self, net: Network, window_steps: int | None = None, output_only: bool = False,
                 norms: bool = False):
        layers = net.layers
        self.grads_W = [np.empty_like(layer.W) for layer in layers]
        self.grads_b = [np.empty_like(layer.b) for layer in layers]
        # g = ∂E/∂W + λW, then the step: every optimizer is done with g before it writes the
        # step, so one array serves both (one array less for the processor's cache to hold)
        self.updates_W = [np.empty_like(layer.W) for layer in layers]
        self.updates_b = [np.empty_like(layer.b) for layer in layers]
        self.window_steps, self.output_only, self.norms = window_steps, output_only, norms
        self.window: Window | None = None

    def slot(self, net: Network, t: np.ndarray) -> tuple[Window | None, int | None]:
        """The window and slot the next step (targets t) is written into, or (None, None)."""
        if self.window_steps is None:
            return None, None
        window = self.window
        if window is None:
            window = self.window = Window(net, self.window_steps, t.shape[0], self.output_only)
        i = window.take(t.shape[0])
        if i is None:
            return None, None
        window.t[i] = t
        return window, i


def train_step(net: Network, x: np.ndarray, t: np.ndarray, optimizer: Optimizer, *,
               detail: bool = False, mistakes: Mistakes = NO_MISTAKES, loss: bool = True,
               workspace: Workspace | None = None, gradients: bool = True) -> StepRecord:
    """Forward, backward and update on the batch (x, t); returns what was computed.

    With `detail`, the chain-rule factors ∂E/∂a and ∂a/∂z of the output layer are computed even
    where the loss's fused delta makes them unnecessary, the arrays from before the update are
    kept, and the optimizer's state and intermediates are recorded; without it, the weights are
    updated in place.  The hot path's two switches: without `loss` the record's losses and loss
    are not computed (None: an observer that reports the loss computes it from z, a and t);
    with a `workspace`, gradients and updates are written into its buffers; and with a
    workspace but without `gradients` (no one looks at ∂E/∂W), plain gradient descent forms its
    step η ∂E/∂W = (η/n δ)ᵀ a directly and the record's grads_W and grads_b are None (its `eta`
    says what ∂E/∂W is: updates_W / η, so ‖∂E/∂W‖ can still be had).  All are ignored for a
    step in detail or with mistakes, which computes and keeps everything.
    """
    optimizer.begin_step()
    hooked = mistakes is not NO_MISTAKES and bool(mistakes)
    scale = mistakes.batch_scale(x.shape[0]) if hooked else 1.0 / x.shape[0]
    if detail or hooked:
        loss, workspace = True, None
    fold = workspace is not None and not gradients and optimizer.lr != 0 and \
        optimizer.plain and not optimizer.mistakes
    rec, b_updates = _backprop(net, x, t, scale, optimizer, detail, mistakes, loss, workspace,
                               fold, hooked)
    rec.W_old, rec.b_old = _apply(net.layers, rec.updates_W, b_updates, detail)
    return rec


def train_step_chunked(net: Network, chunks: Iterable, optimizer: Optimizer, *,
                       on_chunk: Callable[[StepRecord, np.ndarray], None] | None = None) -> StepRecord:
    """One update from a batch given as consecutive chunks (indices, x, t): the same step as
    train_step on the whole batch, with memory for one chunk's activations only.

    Each chunk is passed forward and backward through the weights from before the update, and
    its gradient sums Σ δᵀa and Σ δ are added up; the mean over the whole batch is taken at the
    end (BP3, BP4) and the update made once, so the loss, the gradients and the update are the
    whole batch's (up to the order of floating-point sums).  `on_chunk(record, indices)` sees
    each chunk's record, whose gradients are that chunk's sums, as it is made.

    The record returned holds what belongs to the whole batch — grads_W, grads_b, updates_W and
    the loss; its per-sample fields (x, t, zs, activations, losses, dE_da, da_dz, deltas) are
    None or empty, since no array of the whole batch is kept.  No mistake and no detail: those
    steps are traced whole."""
    L = len(net.layers)
    sums_W: list[np.ndarray] = []
    sums_b: list[np.ndarray] = []
    n, loss_sum = 0, 0.0
    for idx, x, t in chunks:
        rec, _ = _backprop(net, x, t, 1.0, None, False, NO_MISTAKES)
        if on_chunk is not None:
            on_chunk(rec, idx)
        if not sums_W:
            sums_W = [g.copy() for g in rec.grads_W]
            sums_b = [g.copy() for g in rec.grads_b]
        else:
            for total, g in zip(sums_W + sums_b, rec.grads_W + rec.grads_b):
                total += g
        n += x.shape[0]
        loss_sum += float(np.add.reduce(rec.losses, axis=None))
    optimizer.begin_step()
    for total in sums_W + sums_b:
        total *= total.dtype.type(1.0 / n)  # the mean over the whole batch
    updates, b_updates = [None] * L, [None] * L
    for l in range(L - 1, -1, -1):  # in train_step's order, output first
        layer = net.layers[l]
        updates[l], _ = optimizer.step((l, "W"), layer.W, sums_W[l])
        if layer.bias_trainable:
            b_updates[l], _ = optimizer.step((l, "b"), layer.b, sums_b[l], bias=True)
    _apply(net.layers, updates, b_updates, False)
    return StepRecord(None, None, [], [], None, [], [], [], sums_W, sums_b, None, None, updates,
                      loss_sum / n)


def _backprop(net: Network, x, t, scale: float, optimizer: Optimizer | None, detail: bool,
              mistakes: Mistakes, loss: bool = True, ws: Workspace | None = None,
              fold: bool = False, hooked: bool | None = None) -> tuple[StepRecord, list]:
    """The forward pass and BP1–BP4 on (x, t), gradients scaled by `scale` (1/n: a batch's mean;
    1: a chunk's sums).  With an optimizer, each layer's update is made once its gradient is
    known (a mistake may use it below) and applied later; returns the record and the bias
    updates.  `loss`, `ws`, `fold`: see train_step; `hooked`: mistakes active (None: ask)."""
    layers, L = net.layers, len(net.layers)
    window, slot = ws.slot(net, t) if ws is not None else (None, None)
    zs, acts = net.forward(x, window, slot)
    hooked = bool(mistakes) if hooked is None else hooked
    if hooked:
        t = mistakes.targets(t)  # the targets the loss is computed with
    losses = net.output_losses(zs[-1], acts[-1], t) if loss else None
    dE_das, da_dzs, deltas = [None] * L, [None] * L, [None] * L
    grads_W, grads_b, updates, b_updates = [None] * L, [None] * L, [None] * L, [None] * L
    traces_W, traces_b = ([None] * L, [None] * L) if detail else (None, None)
    into = [None] * L if window is None else window.slots[slot][2]  # where each δ goes
    delta, dE_das[-1], da_dzs[-1] = _output_delta(net, zs[-1], acts[-1], t, detail, mistakes,
                                                  hooked, into[-1])
    sign = mistakes.update_sign() if hooked else 1.0
    if fold:  # plain descent, no gradient kept: the steps (η/n δ)ᵀ a^(l−1) and Σ η/n δ at once
        eta_over_n, steps_W = optimizer.lr * scale, ws.updates_W
    norms = [None] * L if ws is not None and ws.norms else None
    for l in range(L - 1, -1, -1):  # layer l+1 in the book's numbering, output first
        layer = layers[l]
        if l < L - 1:
            nxt = layers[l + 1].W  # the weights from before the update
            if hooked:
                nxt = mistakes.next_weights(nxt, updates[l + 1])
            dE_da = delta @ nxt  # (n, n_{l+1}) @ (n_{l+1}, n_l): Σ over next neurons
            act = layer.activation
            da_dz = act.prime(zs[l], acts[l + 1], NUMPY_OPS)
            if hooked:
                da_dz = mistakes.prime(da_dz, act, zs[l], acts[l + 1])
            dE_das[l], da_dzs[l] = dE_da, da_dz
            delta = np.multiply(dE_da, da_dz, out=into[l])
        deltas[l] = delta
        if fold:
            scaled = delta * eta_over_n
            updates[l] = np.matmul(scaled.T, acts[l], out=steps_W[l])
            if layer.bias_trainable:
                b_upd = np.add.reduce(scaled, axis=0)  # η ∂E/∂b = Σ η/n δ
                b_updates[l] = b_upd if len(b_upd) == len(layer.b) else b_upd.sum(keepdims=True)
        else:
            grads_W[l], grads_b[l], updates[l], b_updates[l], tW, tb = _layer_step(
                optimizer, layer, l, delta * scale if scale != 1.0 else delta, acts[l], ws,
                mistakes, hooked, sign, detail)
            if detail:
                traces_W[l], traces_b[l] = tW, tb
        if norms is not None:  # the array the step has just written (ΔW) or read (∂E/∂W)
            norms[l] = norm(updates[l]) / abs(optimizer.lr) if fold else norm(grads_W[l])
    if window is not None:
        window.grad_norms[slot] = norms
    dE_dx = deltas[0] @ layers[0].W if detail else None
    return StepRecord(x, t, zs, acts, losses, dE_das, da_dzs, deltas, grads_W, grads_b, None,
                      None, updates, None if losses is None else
                      float(np.add.reduce(losses, axis=None)) / x.shape[0],
                      traces_W, traces_b, dE_dx, optimizer.lr if fold else None, window,
                      slot, norms), b_updates


def _layer_step(optimizer: Optimizer | None, layer, l: int, scaled, a_prev, ws, mistakes,
                hooked: bool, sign: float, detail: bool):
    """Layer l+1's gradients from its (scaled) δ, and the optimizer's steps for them with the
    mistakes' hooks: ∂E/∂W, ∂E/∂b, the W and b steps (None without an optimizer) and with
    `detail` their UpdateTraces."""
    gW, gb = _gradients(layer, l, scaled, a_prev, ws)
    if hooked:
        gW, gb = mistakes.gradient(gW, (l, "W")), mistakes.gradient(gb, (l, "b"))
    if optimizer is None:
        return gW, gb, None, None, None, None
    trains_b = mistakes.bias_trainable(layer.bias_trainable) if hooked else layer.bias_trainable
    upd, b_upd, tW, tb = _updates(optimizer, layer, l, gW, gb, trains_b, detail, ws)
    if hooked and sign != 1.0:
        upd = sign * upd
        b_upd = None if b_upd is None else sign * b_upd
    return gW, gb, upd, b_upd, tW, tb


def _gradients(layer, l: int, scaled, a_prev, ws: Workspace | None):
    """BP4 and BP3: ∂E/∂W = δᵀ a^(l−1) and ∂E/∂b = Σ δ (δ already scaled), into the
    workspace's buffers when there is one."""
    if ws is None:
        gW = scaled.T @ a_prev  # (n_out, n) @ (n, n_in)
        gb = np.add.reduce(scaled, axis=0)
    else:
        gW = np.matmul(scaled.T, a_prev, out=ws.grads_W[l])
        gb = np.add.reduce(scaled, axis=0) if layer.shared_bias else \
            np.add.reduce(scaled, axis=0, out=ws.grads_b[l])
    if len(layer.b) != len(gb):  # one bias feeds every neuron: its gradient is the sum
        gb = gb.sum(keepdims=True)
    return gW, gb


def _updates(optimizer: Optimizer, layer, l: int, gW, gb, trains_b: bool, detail: bool,
             ws: Workspace | None):
    """The optimizer's steps for W and (if trained) b of layer l+1, and with `detail` their
    UpdateTraces; into the workspace's buffers when there is one."""
    if detail:
        upd, tW = optimizer.step((l, "W"), layer.W, gW, detail=True)
    elif ws is not None:
        upd, tW = optimizer.step((l, "W"), layer.W, gW, out=ws.updates_W[l],
                                 scratch=ws.updates_W[l])
    else:
        upd, tW = optimizer.step((l, "W"), layer.W, gW)
    b_upd = tb = None
    if trains_b:
        out = None if ws is None or layer.shared_bias else ws.updates_b[l]
        b_upd, tb = optimizer.step((l, "b"), layer.b, gb, bias=True, detail=detail, out=out)
    return upd, b_upd, tW, tb


def _apply(layers, updates, b_updates, detail: bool):
    """Subtract every update, now that all deltas used the weights from before it.  A step
    recorded in full keeps the old arrays (the trace shows W and W_new); otherwise the update is
    done in place, which saves an allocation per layer on the training hot path."""
    if not detail:
        for layer, upd, b_upd in zip(layers, updates, b_updates):
            np.subtract(layer.W, upd, out=layer.W)
            if b_upd is not None:
                np.subtract(layer.b, b_upd, out=layer.b)
        return None, None
    W_old = [layer.W for layer in layers]
    b_old = [layer.b for layer in layers]
    for layer, upd, b_upd in zip(layers, updates, b_updates):
        layer.W = layer.W - upd
        if b_upd is not None:
            layer.b = layer.b - b_upd
    return W_old, b_old
