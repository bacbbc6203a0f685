"""The one engine: a fully connected feed-forward network, its forward pass, backward pass and
update, and the training loop that hands every step to observers.

The same code serves Mazur's 2-2-2 network (float64, every value recorded by `TraceRecorder`)
and an MNIST MLP (float32, per-layer statistics recorded by `mnist.summary`).  The engine never
prints; what is kept of a step is the observers' business.  See trace.py for the conventions
(W[j][k] connects input k to neuron j; samples in rows).

Backprop, as the engine computes it for a batch of n samples (Nielsen, "Neural Networks and Deep
Learning", ch. 2, equations BP1-BP4):
    z^l = a^(l−1) W^lᵀ + b^l,  a^l = f(z^l)                              forward
    δ^L = ∂E/∂a^L ⊙ f′(z^L)   (or the loss's fused form, e.g. a − t)      output delta
    δ^l = (δ^(l+1) W^(l+1)) ⊙ f′(z^l)                                     hidden deltas
    ∂E/∂W^l = (1/n) δ^lᵀ a^(l−1),  ∂E/∂b^l = (1/n) Σ_samples δ^l          gradients
Hidden deltas use W^(l+1) from *before* the update, as Mazur's text prescribes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Protocol, Sequence

import numpy as np

from .functions import NUMPY_OPS, Activation, Loss
from .trace import Labels, LayerTrace, Step, StepSummary

# The catalogue of classic backprop mistakes.  Each can be switched on in the engine, so that
# `--mistake` shows its effect and `compare` can recognise a learner's numbers as one of them.
MISTAKES: dict[str, str] = {
    "updated-weights": "hidden deltas computed with the already updated weights of the next "
    "layer (the order that gives the blog's 0.291027924)",
    "sigma-prime-of-a": "the activation's derivative applied to the activation instead of z: "
    "σ(a)(1 − σ(a)) in place of a(1 − a)",
    "dropped-half": "the ½ of half-sse dropped, so ∂E/∂out and every gradient are doubled",
    "added-update": "the update added instead of subtracted: w + η ∂E/∂w",
    "bias-no-lr": "the learning rate not applied to the biases: b − ∂E/∂b",
    "frozen-bias-updated": "biases updated although they should stay frozen",
    "summed-batch": "the gradient of a batch summed over its samples instead of averaged",
    "extra-sigma-prime": "an extra σ′ factor a(1 − a) on a softmax/cross-entropy output delta",
}


class TrainingDiverged(ArithmeticError):
    """A value became NaN or infinite; says at which step and where."""

    def __init__(self, step: int, where: str):
        super().__init__(
            f"training diverged at step {step}: {where} is no longer finite "
            "(NaN or overflow); try a smaller learning rate"
        )
        self.step = step
        self.where = where


@dataclass
class Layer:
    """One layer: W (n_out, n_in), b (n_out,) or (1,) when one bias is shared by all neurons."""

    W: np.ndarray
    b: np.ndarray
    activation: Activation
    bias_trainable: bool = True

    @property
    def shared_bias(self) -> bool:
        return self.b.shape[0] == 1 and self.W.shape[0] > 1


class Network:
    """A feed-forward network: layers, a loss, and (for display) the labels of its quantities."""

    def __init__(self, layers: list[Layer], loss: Loss, labels: Labels | None = None):
        self.layers = layers
        self.loss = loss
        self.labels = labels or Labels.indexed(self.sizes)

    @property
    def sizes(self) -> list[int]:
        return [self.layers[0].W.shape[1]] + [layer.W.shape[0] for layer in self.layers]

    @property
    def dtype(self):
        return self.layers[0].W.dtype

    def forward(self, x: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """zs[l−1] = z^l for l = 1..L, and activations[l] = a^l with activations[0] = x."""
        zs, activations = [], [x]
        a = x
        for layer in self.layers:
            # z = a Wᵀ, computed as (W aᵀ)ᵀ: the same numbers, and for a small batch against a
            # wide layer this orientation is a quarter faster in OpenBLAS.  z is then stored
            # column-major, which NumPy and BLAS handle without copying.
            z = (layer.W @ a.T).T  # (n, n_out)
            z += layer.b
            a = layer.activation.fn(z)
            zs.append(z)
            activations.append(a)
        return zs, activations

    def output(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)[1][-1]

    def losses(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        """E_k for every sample and output, (n, K)."""
        with np.errstate(all="ignore"):
            return self.loss(self.output(x), t)

    def mean_loss(self, x: np.ndarray, t: np.ndarray) -> float:
        return float(self.losses(x, t).sum(axis=1).mean())

    def copy(self) -> "Network":
        layers = [Layer(l.W.copy(), l.b.copy(), l.activation, l.bias_trainable) for l in self.layers]
        return Network(layers, self.loss, self.labels)


def init_layers(
    sizes: Sequence[int],
    activations: Sequence[Activation],
    rng: np.random.Generator,
    scheme: str = "xavier",
    scale: float = 1.0,
    shared_bias: Sequence[bool] | None = None,
    bias_trainable: Sequence[bool] | None = None,
    dtype=np.float64,
) -> list[Layer]:
    """Seeded random layers.

    Schemes: "uniform" draws weights and biases from U(−scale, scale); "normal" from
    N(0, scale²); "xavier" (Glorot & Bengio 2010) draws W from U(±√(6/(n_in+n_out))) and sets b to
    0; "he" (He et al. 2015) draws W from N(0, 2/n_in) and sets b to 0; "lecun" (LeCun et al.
    1998, and Nielsen's network2.py) draws W from N(0, 1/n_in) and sets b to 0; "zeros" sets all
    to 0.
    """
    L = len(sizes) - 1
    shared_bias = shared_bias or [False] * L
    bias_trainable = bias_trainable or [True] * L
    layers = []
    for l in range(L):
        n_in, n_out = sizes[l], sizes[l + 1]
        n_b = 1 if shared_bias[l] else n_out
        if scheme == "uniform":
            W = rng.uniform(-scale, scale, (n_out, n_in))
            b = rng.uniform(-scale, scale, n_b)
        elif scheme == "normal":
            W = rng.normal(0.0, scale, (n_out, n_in))
            b = rng.normal(0.0, scale, n_b)
        elif scheme == "xavier":
            r = np.sqrt(6.0 / (n_in + n_out))
            W, b = rng.uniform(-r, r, (n_out, n_in)), np.zeros(n_b)
        elif scheme == "he":
            W, b = rng.normal(0.0, np.sqrt(2.0 / n_in), (n_out, n_in)), np.zeros(n_b)
        elif scheme == "lecun":
            W, b = rng.normal(0.0, np.sqrt(1.0 / n_in), (n_out, n_in)), np.zeros(n_b)
        elif scheme == "zeros":
            W, b = np.zeros((n_out, n_in)), np.zeros(n_b)
        else:
            raise ValueError(f"unknown init scheme {scheme!r}")
        layers.append(Layer(W.astype(dtype), b.astype(dtype), activations[l], bias_trainable[l]))
    return layers


INIT_SCHEMES = ("xavier", "he", "lecun", "uniform", "normal", "zeros")


# --------------------------------------------------------------------------------------------
# Optimizers: each maps a parameter's gradient to the step that is subtracted from it.
# --------------------------------------------------------------------------------------------


class SGD:
    """Plain gradient descent: Δθ = η ∂E/∂θ."""

    def __init__(self, eta: float):
        self.eta = eta

    def step(self, key, grad: np.ndarray) -> np.ndarray:
        return self.eta * grad


class Momentum:
    """Classical momentum (Polyak 1964): v ← μ v + η g, Δθ = v."""

    def __init__(self, eta: float, mu: float = 0.9):
        self.eta, self.mu = eta, mu
        self.velocity: dict = {}

    def step(self, key, grad):
        v = self.velocity.get(key)
        v = self.eta * grad if v is None else self.mu * v + self.eta * grad
        self.velocity[key] = v
        return v


class Adam:
    """Adam (Kingma & Ba 2015) with the paper's defaults β1 = 0.9, β2 = 0.999, ε = 1e-8."""

    def __init__(self, eta: float, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        self.eta, self.beta1, self.beta2, self.eps = eta, beta1, beta2, eps
        self.moments: dict = {}

    def step(self, key, grad):
        m, v, t = self.moments.get(key, (0.0, 0.0, 0))
        t += 1
        m = self.beta1 * m + (1 - self.beta1) * grad
        v = self.beta2 * v + (1 - self.beta2) * grad * grad
        self.moments[key] = (m, v, t)
        m_hat = m / (1 - self.beta1**t)
        v_hat = v / (1 - self.beta2**t)
        return self.eta * m_hat / (np.sqrt(v_hat) + self.eps)


# --------------------------------------------------------------------------------------------
# One step
# --------------------------------------------------------------------------------------------


@dataclass
class StepRecord:
    """The arrays one step computed, by reference (no copies).  Index l−1 holds layer l.

    The network's layers already hold W_new and b_new when observers see this record.
    """

    x: np.ndarray
    t: np.ndarray
    zs: list[np.ndarray]
    activations: list[np.ndarray]  # activations[0] is x
    losses: np.ndarray  # (n, K)
    dE_da: list[np.ndarray | None]
    da_dz: list[np.ndarray | None]
    deltas: list[np.ndarray]
    grads_W: list[np.ndarray]
    grads_b: list[np.ndarray]
    W_old: list[np.ndarray] | None  # W and b before the update; None unless recorded in detail
    b_old: list[np.ndarray] | None
    updates_W: list[np.ndarray]  # the step subtracted from each W (ΔW = −update)
    loss: float  # the batch loss: mean over samples of Σ_k E_k


def train_step(
    net: Network,
    x: np.ndarray,
    t: np.ndarray,
    optimizer,
    *,
    detail: bool = False,
    mistakes: frozenset[str] = frozenset(),
) -> StepRecord:
    """Forward, backward and update on the batch (x, t); returns what was computed.

    With `detail`, the chain-rule factors ∂E/∂a and ∂a/∂z of the output layer are computed even
    where the loss's fused delta makes them unnecessary, and the arrays from before the update
    are kept (the full trace shows them); without it, the weights are updated in place.
    """
    layers = net.layers
    L = len(layers)
    n = x.shape[0]
    zs, acts = net.forward(x)
    losses = net.loss(acts[-1], t)

    dE_das: list = [None] * L
    da_dzs: list = [None] * L
    deltas: list = [None] * L
    grads_W: list = [None] * L
    grads_b: list = [None] * L
    updates: list = [None] * L
    scale = 1.0 if "summed-batch" in mistakes else 1.0 / n
    wrong_prime = "sigma-prime-of-a" in mistakes

    def prime(act: Activation, z, a):
        if wrong_prime:  # f′ evaluated at a instead of z: f′(a) = f(a)(1 − f(a)) for sigmoid
            return act.prime(a, act.fn(a), NUMPY_OPS)
        return act.prime(z, a, NUMPY_OPS)

    # Output layer.
    out = layers[-1]
    z, a = zs[-1], acts[-1]
    fused = net.loss.fused.get(out.activation.name)
    if fused is None or detail:
        dE_da = net.loss.dE_da(a, t)
        if "dropped-half" in mistakes:
            dE_da = 2 * dE_da
        dE_das[-1] = dE_da
        da_dzs[-1] = prime(out.activation, z, a) if out.activation.elementwise else out.activation.da_dz(z, a)
    if fused is not None:
        delta = fused(a, t)
        if "extra-sigma-prime" in mistakes:
            delta = delta * (a * (1 - a))
    elif out.activation.elementwise:
        delta = dE_das[-1] * da_dzs[-1]
    else:
        delta = out.activation.backprop(dE_das[-1], z, a)
    deltas[-1] = delta

    sign = -1.0 if "added-update" in mistakes else 1.0
    b_updates: list = [None] * L
    for l in range(L - 1, -1, -1):  # layer l+1 in the book's numbering
        layer = layers[l]
        if l < L - 1:
            nxt = layers[l + 1].W  # the weights from before the update
            if "updated-weights" in mistakes:
                nxt = nxt - updates[l + 1]
            dE_da = deltas[l + 1] @ nxt  # (n, n_{l+1}) @ (n_{l+1}, n_l): Σ over next neurons
            da_dz = prime(layer.activation, zs[l], acts[l + 1])
            dE_das[l], da_dzs[l] = dE_da, da_dz
            deltas[l] = dE_da * da_dz
        scaled = deltas[l] * scale if scale != 1.0 else deltas[l]
        gW = scaled.T @ acts[l]  # (n_out, n) @ (n, n_in)
        gb = np.add.reduce(scaled, axis=0)
        if layer.shared_bias:
            gb = gb.sum(keepdims=True)  # one bias feeds every neuron: its gradient is the sum
        grads_W[l], grads_b[l] = gW, gb
        updates[l] = optimizer.step((l, "W"), gW)
        if sign != 1.0:
            updates[l] = sign * updates[l]
        if layer.bias_trainable or "frozen-bias-updated" in mistakes:
            b_updates[l] = sign * gb if "bias-no-lr" in mistakes else sign * optimizer.step((l, "b"), gb)

    # Apply the updates only now, so every delta above used the weights from before the update.
    # A step recorded in full keeps the old arrays (the trace shows W and W_new); otherwise the
    # update is done in place, which saves an allocation per layer on the training hot path.
    W_old = [layer.W for layer in layers] if detail else None
    b_old = [layer.b for layer in layers] if detail else None
    for layer, upd, b_upd in zip(layers, updates, b_updates):
        if detail:
            layer.W = layer.W - upd
            if b_upd is not None:
                layer.b = layer.b - b_upd
        else:
            layer.W -= upd
            if b_upd is not None:
                layer.b -= b_upd
    return StepRecord(x, t, zs, acts, losses, dE_das, da_dzs, deltas, grads_W, grads_b, W_old, b_old,
                      updates, float(np.add.reduce(losses, axis=None)) / n)


# --------------------------------------------------------------------------------------------
# Data, observers and the training loop
# --------------------------------------------------------------------------------------------


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


NONE, SUMMARY, FULL = 0, 1, 2  # what an observer wants of a step


class Observer(Protocol):
    def needs(self, step: int) -> int: ...

    def on_step(self, net: Network, rec: StepRecord, step: int, epoch: int, idx: np.ndarray) -> None: ...

    def on_epoch(self, net: Network, epoch: int) -> None: ...


class TraceRecorder:
    """The full-trace observer: a `Step` for every step `show(step)` calls FULL, a
    `StepSummary` for SUMMARY.  Values are copied out of the engine's arrays."""

    def __init__(self, show, eta: float, mistakes: Iterable[str] = ()):
        self.show = show
        self.eta = eta
        self.mistakes = tuple(mistakes)
        self.entries: list[Step | StepSummary] = []

    def needs(self, step: int) -> int:
        return self.show(step)

    def on_step(self, net, rec, step, epoch, idx):
        level = self.show(step)
        if level == NONE:
            return
        losses_after = net.losses(rec.x, rec.t)
        if level == SUMMARY:
            after = float(losses_after.sum(axis=1).mean())
            self.entries.append(StepSummary(step, epoch, rec.loss, after))
            return
        layers = []
        L = len(net.layers)
        for l, layer in enumerate(net.layers):
            layers.append(
                LayerTrace(
                    name="output" if l == L - 1 else f"hidden {l + 1}",
                    activation=layer.activation.name,
                    a_in=rec.activations[l].copy(),
                    W=rec.W_old[l].copy(),
                    b=rec.b_old[l].copy(),
                    z=rec.zs[l].copy(),
                    a=rec.activations[l + 1].copy(),
                    dE_da=rec.dE_da[l].copy(),
                    da_dz=None if rec.da_dz[l] is None else rec.da_dz[l].copy(),
                    delta=rec.deltas[l].copy(),
                    grad_W=rec.grads_W[l].copy(),
                    grad_b=rec.grads_b[l].copy(),
                    W_new=layer.W.copy(),
                    b_new=layer.b.copy(),
                    bias_trainable=layer.bias_trainable,
                )
            )
        self.entries.append(
            Step(step, epoch, [int(i) for i in idx], rec.x.copy(), rec.t.copy(), rec.losses.copy(),
                 losses_after, layers, net.labels, self.eta, self.mistakes)
        )

    def on_epoch(self, net, epoch):
        pass


def _check_finite(net: Network, rec: StepRecord, step: int) -> None:
    # On the hot path only the loss is checked: a NaN or an overflow anywhere reaches it within a
    # step or two (weights that became infinite without touching the loss are caught at the end).
    if math.isfinite(rec.loss):
        return
    for l, (z, a) in enumerate(zip(rec.zs, rec.activations[1:])):
        if not np.isfinite(z.sum()):
            raise TrainingDiverged(step, f"z of layer {l + 1} ({_layer_name(net, l)})")
        if not np.all(np.isfinite(a)):
            raise TrainingDiverged(step, f"a of layer {l + 1} ({_layer_name(net, l)})")
    raise TrainingDiverged(step, f"the loss at layer {len(net.layers)} (output)")


def _check_final(net: Network, step: int) -> None:
    for l, layer in enumerate(net.layers):
        if not (np.isfinite(layer.W.sum()) and np.isfinite(layer.b.sum())):
            raise TrainingDiverged(step, f"W or b of layer {l + 1} ({_layer_name(net, l)})")


def _layer_name(net: Network, l: int) -> str:
    return "output" if l == len(net.layers) - 1 else f"hidden {l + 1}"


def train(
    net: Network,
    data,
    optimizer,
    *,
    steps: int | None = None,
    epochs: int | None = None,
    batch_size: int = 1,
    rng: np.random.Generator | None = None,
    observers: Sequence = (),
    mistakes: Iterable[str] = (),
    should_stop=lambda: False,
) -> int:
    """Train until `steps` updates or `epochs` passes over `data`, whichever comes first.

    Batches are taken in order, or shuffled each epoch when `rng` is given; the last batch of an
    epoch may be smaller.  Each step is handed to every observer; `should_stop()` is asked after
    each step (Ctrl-C handling).  Returns the number of steps done.  Raises TrainingDiverged.
    """
    mistakes = frozenset(mistakes)
    unknown = mistakes - MISTAKES.keys()
    if unknown:
        raise ValueError(f"unknown mistake(s): {', '.join(sorted(unknown))}")
    N = len(data)
    per_epoch = -(-N // batch_size)  # batches
    step = epoch = 0
    stop = False
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        while not stop and (steps is None or step < steps) and (epochs is None or epoch < epochs):
            epoch += 1
            order = rng.permutation(N) if rng is not None else np.arange(N)
            for batch, (idx, x, t) in enumerate(data.batches(order, batch_size), 1):
                step += 1
                need = NONE
                for o in observers:
                    need = max(need, o.needs(step))
                rec = train_step(net, x, t, optimizer, detail=need >= FULL, mistakes=mistakes)
                _check_finite(net, rec, step)
                for o in observers:
                    o.on_step(net, rec, step, epoch, idx)
                if batch == per_epoch:
                    for o in observers:
                        o.on_epoch(net, epoch)
                if (steps is not None and step >= steps) or should_stop():
                    stop = True
                    break
        _check_final(net, step)
    return step
