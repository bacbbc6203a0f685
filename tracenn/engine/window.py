"""A window of training steps in arrays made once: k consecutive steps' z, a and δ of every
layer, for an observer that reduces steps k at a time (MNIST's per-layer summaries).

Without a window each step makes new arrays for z, a and δ, and such an observer keeps k steps'
of them and concatenates each kind before reducing it: at batch 10 that is a copy of every value
and a few hundred small allocations per window.  With one, the engine's forward pass and backprop
write a step's arrays into the window's next slot (the same operations, `out=` the slot), so the
k steps of a kind lie in one contiguous block when the observer reads them.

Layout, per layer of n_out units, for batches of n samples:
    z[l], a[l]   (k, n_out, n)   slot i, transposed, is step i's z or a, (n, n_out) column-major,
                                 the layout the forward pass makes, (W aᵀ)ᵀ, without a window
    delta[l]     (k, n, n_out)   slot i is step i's δ, row-major
so a[l][:f] reshaped to (f·n_out, n) has a row per unit and batch, and every block ravels
without a copy.  Beside them, per slot: `t[i]`, the step's targets (by reference: they are the
data's own arrays, which outlive the step), and `grad_norms[i]`, its ‖∂E/∂W‖ by layer when the
workspace takes them (else None), so an observer can reduce steps it was not shown one by one
(`iterate(..., sparse=True)`).  `filled` counts the slots written since the observer last
emptied the window (`clear`); when it is full, or a batch has another size (an epoch's smaller
last batch), `take` gives no slot and the engine makes new arrays as without a window.  A
window of the output layer only (`output_only`: an observer that takes only the loss and the
accuracy) holds its z and a, and None for the rest: those the engine makes as without a window.
"""

from __future__ import annotations

import numpy as np

from .network import Network


class Window:
    """Room for `steps` steps of `batch` samples each of `net` (see the module's docstring)."""

    def __init__(self, net: Network, steps: int, batch: int, output_only: bool = False):
        dtype = net.dtype
        L = len(net.layers)
        units = [layer.W.shape[0] if not output_only or l == L - 1 else None
                 for l, layer in enumerate(net.layers)]
        self.steps, self.batch, self.output_only = steps, batch, output_only

        def arrays(shape):
            return [None if m is None else np.empty(shape(m), dtype) for m in units]

        self.z = arrays(lambda m: (steps, m, batch))
        self.a = arrays(lambda m: (steps, m, batch))
        self.delta = [None] * L if output_only else arrays(lambda m: (steps, batch, m))
        # each slot's arrays as the step uses them, made once: slots[i] = (zs, acts, deltas)
        # with zs[l] = z[l][i] (written by W aᵀ, read transposed), acts[l] = a[l][i].T; None
        # where the window keeps nothing (out=None: the engine makes a new array)
        self.slots = [([None if z is None else z[i] for z in self.z],
                       [None if a is None else a[i].T for a in self.a],
                       [None if d is None else d[i] for d in self.delta]) for i in range(steps)]
        self.t: list = [None] * steps  # each slot's targets, (batch, K)
        self.grad_norms: list = [None] * steps  # each slot's ‖∂E/∂W‖ by layer (or None)
        self.filled = 0

    def take(self, n: int) -> int | None:
        """The slot for the next step, of n samples, or None: full, or a batch of another
        size."""
        i = self.filled
        if i == self.steps or n != self.batch:
            return None
        self.filled = i + 1
        return i

    @property
    def full(self) -> bool:
        return self.filled == self.steps

    def clear(self) -> None:
        """Empty the window (its values stay until overwritten): the next step takes slot 0."""
        self.filled = 0
