"""From the engine's arrays to records: a `Step` with display names, copied out of the engine's
buffers (which the next step reuses), or a one-line `StepSummary`."""

from __future__ import annotations

import numpy as np

from ..engine.backprop import StepRecord
from ..notation import layer_name
from ..engine.network import Network
from ..engine.optim import Optimizer
from ..errors import TrainingDiverged
from .labels import Labels
from .trace import LayerTrace, OptimizerInfo, Step, StepSummary


def _copy(a):
    return None if a is None else a.copy()


class Recorder:
    """Turns engine steps into records for a network with these labels, trained by `optimizer`
    with `mistakes` (names) switched on."""

    def __init__(self, labels: Labels, optimizer: Optimizer, mistakes=()):
        self.labels = labels
        self.optimizer = optimizer
        self.mistakes = tuple(mistakes)

    def summary(self, net: Network, rec: StepRecord, step: int, epoch: int) -> StepSummary:
        after = _losses_after(net, rec, step)
        return StepSummary(step, epoch, rec.loss, float(after.sum(axis=1).mean()))

    def step(self, net: Network, rec: StepRecord, step: int, epoch: int, idx) -> Step:
        """The full record of a step made with detail (see engine.backprop.train_step)."""
        L = len(net.layers)
        layers = []
        for l, layer in enumerate(net.layers):
            layers.append(LayerTrace(
                name=layer_name(l, L), activation=layer.activation.name,
                a_in=rec.activations[l].copy(), W=rec.W_old[l].copy(), b=rec.b_old[l].copy(),
                z=rec.zs[l].copy(), a=rec.activations[l + 1].copy(), dE_da=rec.dE_da[l].copy(),
                da_dz=_copy(rec.da_dz[l]), delta=rec.deltas[l].copy(),
                grad_W=rec.grads_W[l].copy(), grad_b=rec.grads_b[l].copy(),
                W_new=layer.W.copy(), b_new=layer.b.copy(), bias_trainable=layer.bias_trainable,
                update_W=rec.trace_W[l] if rec.trace_W else None,
                update_b=rec.trace_b[l] if rec.trace_b else None,
            ))
        opt = self.optimizer
        info = OptimizerInfo(opt.NAME, opt.TITLE, dict(opt.settings), opt.t, opt.STATE)
        return Step(step, epoch, [int(i) for i in idx], rec.x.copy(), rec.t.copy(),
                    rec.losses.copy(), _losses_after(net, rec, step), layers, self.labels, opt.lr,
                    self.mistakes, info, _copy(rec.dE_dx))


def _losses_after(net: Network, rec: StepRecord, step: int):
    """E_k per sample after the update, on the step's own samples; a value that overflowed is a
    divergence (no infinity is ever recorded)."""
    after = net.losses(rec.x, rec.t)
    if np.all(np.isfinite(after)):
        return after
    L = len(net.layers)
    with np.errstate(all="ignore"):
        zs, acts = net.forward(rec.x)
    for l in range(L):
        for what, values in (("z", zs[l]), ("a", acts[l + 1])):
            if not np.all(np.isfinite(values)):
                raise TrainingDiverged(step, f"{what} of layer {l + 1} ({layer_name(l, L)}) after "
                                       "the update")
    raise TrainingDiverged(step, f"the loss at layer {L} (output) after the update")
