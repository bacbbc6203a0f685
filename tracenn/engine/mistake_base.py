"""The base of the mistake catalogue (engine/mistakes.py): what a mistake knows of a network,
and the hooks through which it changes the engine.  Each hook receives the right value first
and returns the value to use; the base class returns it unchanged.
"""

from __future__ import annotations

from typing import NamedTuple


class Network(NamedTuple):
    """What a mistake needs to know of the network it would change (None: not known)."""

    loss: str | None = None
    fused: bool | None = None  # the output delta is the loss's fused form (a − t)
    activations: tuple[str, ...] = ()
    frozen_bias: bool | None = None  # some bias is not updated
    trained_bias: bool | None = None  # some bias is updated
    samples: int | None = None  # per step
    layers: int | None = None
    separate_biases: bool | None = None  # some layer has a bias of its own for each neuron
    square_weights: bool | None = None  # some W is square (n_out = n_in)
    one_hot: bool | None = None  # every target is a one-hot vector of two or more classes


class Mistake:
    """A mistake a learner makes; every hook returns the right value unchanged."""

    name = ""
    description = ""
    symptom = ""  # what a learner sees in their own numbers (the catalogue's documentation)
    optimizers: tuple[str, ...] | None = None  # where it applies; None: every optimizer
    needs_weight_decay = False
    walkthrough = True  # a row of the walkthrough's "Common mistakes" (the textbook's mistakes)

    def applies(self, optimizer: str, weight_decay: float, step: int | None = None,
                network: Network = Network()) -> str | None:
        """None when the mistake can change a step of this optimizer (at this step and on this
        network, when given), else why it cannot."""
        if self.optimizers is not None and optimizer not in self.optimizers:
            return f"it concerns {' or '.join(self.optimizers)}, not {optimizer}"
        if self.needs_weight_decay and not weight_decay:
            return "it concerns weight decay, and weight_decay is 0"
        return self.cannot(network)

    def cannot(self, network: Network) -> str | None:
        """Why the mistake changes nothing on this network, or None."""
        return None

    def describe(self, network: Network) -> str:
        """What goes wrong, in the terms of this network (its activations)."""
        return self.description

    # --- backprop (engine/backprop.py) ---------------------------------------------------------
    def batch_scale(self, scale: float, n: int) -> float:
        return scale  # 1/n: the gradient of a batch is the mean over its samples

    def targets(self, t):
        return t  # the targets the loss compares the outputs with

    def output_dE_da(self, dE_da):
        return dE_da

    def jacobian(self, J, a):
        return J  # ∂a/∂z of an output that is not element-wise (softmax): (n, K, K)

    def jacobian_delta(self, delta, dE_da, a):
        return delta  # δ through that Jacobian: Σ_k ∂E/∂a_k ∂a_k/∂z_j

    def prime(self, value, act, z, a):
        return value  # f′(z), written with z and a = f(z)

    def fused_delta(self, delta, a):
        return delta

    def next_weights(self, W, update):
        return W  # hidden deltas use the next layer's weights from before the update

    def gradient(self, g, key, memory: dict):
        return g

    def update_sign(self, sign: float) -> float:
        return sign

    def bias_trainable(self, trainable: bool) -> bool:
        return trainable

    def bias_lr(self, lr: float) -> float:
        return lr

    # --- optimizers (engine/optim.py) ----------------------------------------------------------
    def bias_correction(self, value, beta: float, t: int):
        return value  # 1 − βᵗ

    def adam_denominator(self, value, v_hat, eps: float):
        return value  # √v̂ + ε

    def carry_velocity(self, carry: bool) -> bool:
        return carry

    def decay_bias(self, decay: bool) -> bool:
        return decay  # weight decay applies to weights, not to biases

    def decoupled(self, decoupled: bool) -> bool:
        return decoupled
