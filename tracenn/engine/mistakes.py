"""The catalogue of classic backprop mistakes, each an object that the engine can switch on.

`--mistake NAME` runs the engine with the mistake, to show its effect; `compare` and `grade`
re-run the engine with each one to recognise a learner's numbers.  A mistake changes the engine
only through hooks: backprop (engine/backprop.py) and the optimizers (engine/optim.py) ask the
active `Mistakes` at each point where a learner could go wrong, and the base class leaves every
value as it is.  Each hook receives the right value first and returns the value to use.

The base class and what a mistake knows of a network are in mistake_base.py; the mistakes found
in learners' own NumPy code (softmax-diagonal, …) in mistakes_numpy.py; this module holds the
textbook's mistakes, the catalogue of both and the Mistakes the engine asks.
"""

from __future__ import annotations

import numpy as np

from .functions import NUMPY_OPS
from .mistake_base import Mistake, Network
from .mistakes_numpy import ALIASES, NUMPY_MISTAKES

MOMENTUM_OPTIMIZERS = ("momentum", "nesterov")
ADAM_OPTIMIZERS = ("adam", "adamw")


class UpdatedWeights(Mistake):
    name = "updated-weights"
    description = ("hidden deltas computed with the already updated weights of the next layer "
                   "(the order that gives the blog's 0.291027924)")

    def next_weights(self, W, update):
        return W - update

    def describe(self, network: Network) -> str:
        return "hidden deltas computed with the already updated weights of the next layer"

    def cannot(self, network):
        if network.layers is not None and network.layers < 2:
            return "it concerns hidden deltas, and this network has no hidden layer"
        return None


class SigmaPrimeOfA(Mistake):
    name = "sigma-prime-of-a"
    description = ("the activation's derivative applied to the activation instead of z: "
                   "σ(a)(1 − σ(a)) in place of a(1 − a)")

    def prime(self, value, act, z, a):
        return act.prime(a, act.fn(a), NUMPY_OPS)

    # f′ written at a where it belongs at z, for the units it changes
    AT_A = {"sigmoid": "σ(a)(1 − σ(a)) in place of a(1 − a)",
            "tanh": "1 − tanh²(a) in place of 1 − a²"}

    def describe(self, network: Network) -> str:
        used = [self.AT_A[f] for f in dict.fromkeys(network.activations) if f in self.AT_A]
        if not network.activations:
            return self.description
        return ("the activation's derivative applied to the activation instead of z"
                + (": " + "; ".join(used) if used else ""))

    def cannot(self, network):
        if network.activations and not {"sigmoid", "tanh"} & set(network.activations):
            return ("only sigmoid and tanh units change (relu′ and identity′ are the same at a "
                    "as at z), and this network has none")
        return None


class DroppedHalf(Mistake):
    name = "dropped-half"
    description = "the ½ of half-sse dropped, so ∂E/∂out and every gradient are doubled"

    def output_dE_da(self, dE_da):
        return 2 * dE_da

    def cannot(self, network):
        if network.loss is not None and network.loss != "half-sse":
            return f"it concerns the ½ of half-sse, and this network's loss is {network.loss}"
        return None


class AddedUpdate(Mistake):
    name = "added-update"
    description = "the update added instead of subtracted: w + η ∂E/∂w"

    def update_sign(self, sign):
        return -sign


class BiasNoLr(Mistake):
    name = "bias-no-lr"
    description = "the learning rate not applied to the biases: b − ∂E/∂b"

    def bias_lr(self, lr):
        return 1.0

    def cannot(self, network):
        if network.trained_bias is False:
            return "every bias is frozen (--update-biases trains them)"
        return None


class FrozenBiasUpdated(Mistake):
    name = "frozen-bias-updated"
    description = "biases updated although they should stay frozen"

    def bias_trainable(self, trainable):
        return True

    def cannot(self, network):
        if network.frozen_bias is False:
            return "no bias is frozen"
        return None


class SummedBatch(Mistake):
    name = "summed-batch"
    description = "the gradient of a batch summed over its samples instead of averaged"

    def batch_scale(self, scale, n):
        return 1.0

    def cannot(self, network):
        if network.samples == 1:
            return "every step has one sample (online updates)"
        return None


class ExtraSigmaPrime(Mistake):
    name = "extra-sigma-prime"
    description = "an extra σ′ factor a(1 − a) on a softmax/cross-entropy output delta"

    def fused_delta(self, delta, a):
        return delta * (a * (1 - a))

    def cannot(self, network):
        if network.fused is False:
            return ("it concerns the output delta a − t of softmax or sigmoid outputs with "
                    "cross-entropy, which this network does not have")
        return None


class GradientAccumulated(Mistake):
    name = "gradient-accumulated"
    description = ("gradients not zeroed between steps (a forgotten zero_grad()), so step t "
                   "uses the sum of every gradient so far")

    def applies(self, optimizer, weight_decay, step=None, network=Network()):
        if step == 1:
            return "gradients pile up only from step 2 on"
        return super().applies(optimizer, weight_decay, step, network)

    def gradient(self, g, key, memory):
        total = memory.get(key)
        total = g.copy() if total is None else total + g
        memory[key] = total
        return total.copy()


class AdamNoBiasCorrection(Mistake):
    name = "adam-no-bias-correction"
    description = "Adam without its bias correction: m and v used where m̂ and v̂ belong"
    optimizers = ADAM_OPTIMIZERS

    def bias_correction(self, value, beta, t):
        return 1.0


class AdamEpsInsideSqrt(Mistake):
    name = "adam-eps-inside-sqrt"
    description = "Adam's ε added under the square root, √(v̂ + ε), instead of after it, √v̂ + ε"
    optimizers = ADAM_OPTIMIZERS

    def adam_denominator(self, value, v_hat, eps):
        return np.sqrt(v_hat + eps)


class MomentumReset(Mistake):
    name = "momentum-reset"
    description = "the velocity not carried from step to step: every step starts from v = 0"
    optimizers = MOMENTUM_OPTIMIZERS

    def applies(self, optimizer, weight_decay, step=None, network=Network()):
        if step == 1:
            return "the velocity starts at 0 at step 1 either way; it is carried from step 2 on"
        return super().applies(optimizer, weight_decay, step, network)

    def carry_velocity(self, carry):
        return False


class WeightDecayOnBias(Mistake):
    name = "weight-decay-on-bias"
    description = "weight decay applied to the biases too, not only to the weights"
    needs_weight_decay = True

    def decay_bias(self, decay):
        return True

    def cannot(self, network):
        if network.trained_bias is False:
            return "every bias is frozen (--update-biases trains them)"
        return None


class L2InsteadOfDecoupled(Mistake):
    name = "l2-instead-of-decoupled"
    description = ("AdamW's decay added to the gradient (Adam's L2 penalty) instead of "
                   "decoupled from it: g + λw in place of w ← w − ηλw")
    optimizers = ("adamw",)
    needs_weight_decay = True

    def decoupled(self, decoupled):
        return False


CATALOGUE: dict[str, Mistake] = {m.name: m for m in (
    UpdatedWeights(), SigmaPrimeOfA(), DroppedHalf(), AddedUpdate(), BiasNoLr(),
    FrozenBiasUpdated(), SummedBatch(), ExtraSigmaPrime(), GradientAccumulated(),
    AdamNoBiasCorrection(), AdamEpsInsideSqrt(), MomentumReset(), WeightDecayOnBias(),
    L2InsteadOfDecoupled(), *NUMPY_MISTAKES,
)}
MISTAKES: dict[str, str] = {name: m.description for name, m in CATALOGUE.items()}


def applicable(optimizer: str, weight_decay: float, step: int | None = None,
               network: Network = Network()) -> list[str]:
    """The names of the mistakes that can change a step of this optimizer (on this network,
    when given), in catalogue order."""
    return [name for name, m in CATALOGUE.items()
            if m.applies(optimizer, weight_decay, step, network) is None]


class Mistakes:
    """The mistakes switched on for one run, applied in turn at every hook.  Holds what a
    mistake must remember between steps (the accumulated gradients)."""

    def __init__(self, names=()):
        names = tuple(dict.fromkeys(ALIASES.get(n, n) for n in names))
        unknown = [n for n in names if n not in CATALOGUE]
        if unknown:
            raise ValueError(f"unknown mistake(s): {', '.join(unknown)}; allowed: "
                             f"{', '.join([*CATALOGUE, *ALIASES])}")
        self.names = names
        self.active = [CATALOGUE[n] for n in names]
        self.memory: dict = {}

    def __bool__(self) -> bool:
        return bool(self.active)

    def _fold(self, hook: str, value, *args):
        for m in self.active:
            value = getattr(m, hook)(value, *args)
        return value

    def batch_scale(self, n):
        return self._fold("batch_scale", 1.0 / n, n)

    def targets(self, t):
        return self._fold("targets", t)

    def output_dE_da(self, dE_da):
        return self._fold("output_dE_da", dE_da)

    def jacobian(self, J, a):
        return self._fold("jacobian", J, a)

    def jacobian_delta(self, delta, dE_da, a):
        return self._fold("jacobian_delta", delta, dE_da, a)

    def prime(self, value, act, z, a):
        return self._fold("prime", value, act, z, a)

    def fused_delta(self, delta, a):
        return self._fold("fused_delta", delta, a)

    def next_weights(self, W, update):
        return self._fold("next_weights", W, update)

    def gradient(self, g, key):
        return self._fold("gradient", g, key, self.memory)

    def update_sign(self):
        return self._fold("update_sign", 1.0)

    def bias_trainable(self, trainable):
        return self._fold("bias_trainable", trainable)

    def bias_lr(self, lr):
        return self._fold("bias_lr", lr)

    def bias_correction(self, beta, t):
        return self._fold("bias_correction", 1 - beta**t, beta, t)

    def adam_denominator(self, v_hat, eps):
        return self._fold("adam_denominator", np.sqrt(v_hat) + eps, v_hat, eps)

    def carry_velocity(self):
        return self._fold("carry_velocity", True)

    def decay_bias(self):
        return self._fold("decay_bias", False)

    def decoupled(self):
        return self._fold("decoupled", True)


NO_MISTAKES = Mistakes()
