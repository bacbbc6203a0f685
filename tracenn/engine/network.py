"""A fully connected feed-forward network: its layers, its loss and its forward pass, and the
seeded schemes that draw initial weights.  It holds numbers only; display names live in
record/labels.py.

Conventions (stated once for the package; record/trace.py repeats them for readers of a trace):
layers are numbered from 1 (the first after the input) to L (the output), the input is layer 0;
`W[j][k]` connects input k to neuron j, so row j of W holds the weights into neuron j; arrays
hold samples in rows, so x, z and a have shape (n_samples, n_units).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .functions import Activation, Loss


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
    """A feed-forward network: its layers and the loss it is trained on."""

    def __init__(self, layers: list[Layer], loss: Loss):
        self.layers = layers
        self.loss = loss

    @property
    def sizes(self) -> list[int]:
        return [self.layers[0].W.shape[1]] + [layer.W.shape[0] for layer in self.layers]

    @property
    def dtype(self):
        return self.layers[0].W.dtype

    def forward(self, x: np.ndarray, window=None, slot: int | None = None
                ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """zs[l−1] = z^l for l = 1..L, and activations[l] = a^l with activations[0] = x.  With a
        window (engine/window.py), z and a are written into its slot `slot`."""
        zs, activations = [], [x]
        a = x
        none = [None] * len(self.layers)  # out=None: new arrays
        z_slots, a_slots, _ = window.slots[slot] if window is not None else (none, none, none)
        for layer, z_slot, a_slot in zip(self.layers, z_slots, a_slots):
            # z = a Wᵀ, computed as (W aᵀ)ᵀ: the same numbers, and for a small batch against a
            # wide layer this orientation is a quarter faster in OpenBLAS.  z is then stored
            # column-major, which NumPy and BLAS handle without copying.
            z = np.matmul(layer.W, a.T, out=z_slot).T  # (n, n_out)
            z += layer.b
            a = layer.activation.fn(z, out=a_slot)
            zs.append(z)
            activations.append(a)
        return zs, activations

    def output(self, x: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore", under="ignore"):
            return self.forward(x)[1][-1]

    def output_losses(self, z: np.ndarray, a: np.ndarray, t: np.ndarray) -> np.ndarray:
        """E_k (n, K) from the output layer's z and a (from z where the loss has that form, see
        Loss.at)."""
        return self.loss.at(self.layers[-1].activation, z, a, t)

    def losses(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        """E_k for every sample and output, (n, K)."""
        with np.errstate(all="ignore"):
            zs, acts = self.forward(x)
            return self.output_losses(zs[-1], acts[-1], t)

    def mean_loss(self, x: np.ndarray, t: np.ndarray) -> float:
        return float(self.losses(x, t).sum(axis=1).mean())

    def copy(self) -> "Network":
        layers = [Layer(l.W.copy(), l.b.copy(), l.activation, l.bias_trainable) for l in self.layers]
        return Network(layers, self.loss)


INIT_SCHEMES = ("xavier", "he", "lecun", "uniform", "normal", "zeros")


def _draw(scheme: str, rng: np.random.Generator, n_in: int, n_out: int, n_b: int, scale: float):
    if scheme == "uniform":
        return rng.uniform(-scale, scale, (n_out, n_in)), rng.uniform(-scale, scale, n_b)
    if scheme == "normal":
        return rng.normal(0.0, scale, (n_out, n_in)), rng.normal(0.0, scale, n_b)
    if scheme == "xavier":
        r = np.sqrt(6.0 / (n_in + n_out))
        return rng.uniform(-r, r, (n_out, n_in)), np.zeros(n_b)
    if scheme == "he":
        return rng.normal(0.0, np.sqrt(2.0 / n_in), (n_out, n_in)), np.zeros(n_b)
    if scheme == "lecun":
        return rng.normal(0.0, np.sqrt(1.0 / n_in), (n_out, n_in)), np.zeros(n_b)
    if scheme == "zeros":
        return np.zeros((n_out, n_in)), np.zeros(n_b)
    raise ValueError(f"unknown init scheme {scheme!r}; allowed: {', '.join(INIT_SCHEMES)}")


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
        W, b = _draw(scheme, rng, n_in, n_out, 1 if shared_bias[l] else n_out, scale)
        layers.append(Layer(W.astype(dtype), b.astype(dtype), activations[l], bias_trainable[l]))
    return layers
