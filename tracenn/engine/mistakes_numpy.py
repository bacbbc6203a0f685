"""Mistakes found in learners' own NumPy networks (the from-scratch projects of issue 20): each
a line of course-style code written slightly wrong, as engine/mistakes.py's catalogue holds them.

Each has a `symptom`: what the learner sees in their own numbers, which the catalogue documents.
"""

from __future__ import annotations

import numpy as np

from .mistake_base import Mistake


class NumpyMistake(Mistake):
    """A mistake of NumPy code: recognised by compare and check, left out of the walkthrough's
    table of the textbook's mistakes."""

    walkthrough = False


class SoftmaxDiagonal(NumpyMistake):
    name = "softmax-diagonal"
    description = ("softmax′ taken element-wise as a(1 − a), the diagonal of its Jacobian only: "
                   "δ_j = ∂E/∂a_j · a_j(1 − a_j) in place of a_j(∂E/∂a_j − Σ_k ∂E/∂a_k a_k)")
    symptom = ("every output delta is off (the terms −a_j a_k of the other outputs are missing); "
               "the loss still falls, more slowly, so the net seems to learn")

    def jacobian(self, J, a):
        K = a.shape[-1]
        diagonal = np.zeros_like(J)
        diagonal[:, np.arange(K), np.arange(K)] = a * (1 - a)
        return diagonal

    def jacobian_delta(self, delta, dE_da, a):
        return dE_da * (a * (1 - a))

    def cannot(self, network):
        if network.activations and network.activations[-1] != "softmax":
            return f"it concerns a softmax output, and this network's is {network.activations[-1]}"
        if network.fused:
            return ("with cross-entropy the output delta is a − t and softmax′ is never taken; "
                    "it concerns softmax with another loss (squared error)")
        return None


class BiasSummedOverNeurons(NumpyMistake):
    name = "bias-summed-over-neurons"
    description = ("∂E/∂b summed over the samples and over the neurons, np.sum(dZ) / m without "
                   "axis=1: every bias of a layer gets the same gradient")
    symptom = ("every bias of a layer gets the same gradient and moves by the same amount; "
               "after softmax with cross-entropy the output biases' gradient is 0 (Σ_k (a_k − t_k) "
               "= 0), so they never learn")

    def gradient(self, g, key, memory):
        if key[1] != "b" or g.shape[0] < 2:
            return g
        return np.full_like(g, g.sum())

    def cannot(self, network):
        if network.separate_biases is False:
            return "no layer has a bias of its own for each neuron"
        return None


class WTransposed(NumpyMistake):
    name = "w-transposed"
    description = ("the gradient of every square W transposed (dW = A_prev·dZᵀ where dZ·A_prevᵀ "
                   "belongs), so W is updated transposed: ∂E/∂W[j,k] takes ∂E/∂W[k,j]")
    symptom = ("no error is raised, since a square W has the same shape both ways round; the "
               "diagonal of ∂E/∂W is right and each other value is its mirror image's")

    def gradient(self, g, key, memory):
        if key[1] != "W" or g.ndim != 2 or g.shape[0] != g.shape[1]:
            return g
        return g.T.copy()

    def cannot(self, network):
        if network.square_weights is False:
            return ("it concerns a square W (only then do both orientations fit), and this "
                    "network has none")
        return None


class MeanTwice(NumpyMistake):
    name = "mean-twice"
    description = ("the gradient of a batch averaged twice, 1/m²: dZ = (A − Y)/m and then "
                   "dW = dZ·Aᵀ/m again")
    symptom = ("every gradient is 1/m of the right one (m samples a step), the deltas are right "
               "(or 1/m of them): training is m times slower, as if η were η/m")

    def batch_scale(self, scale, n):
        return scale / n

    def cannot(self, network):
        if network.samples == 1:
            return "every step has one sample (online updates)"
        return None


class TargetsOneHotOff(NumpyMistake):
    name = "targets-one-hot-off"
    description = ("the labels turned into one-hot vectors off by one class, np.eye(K)[y − 1] on "
                   "labels counted from 0: class k's target is the one-hot vector of class k − 1 "
                   "(class 0's of the last class)")
    symptom = ("the outputs are pulled toward the neighbouring class: E and ∂E/∂out are wrong "
               "from the start, and the accuracy against the true labels stays near 0")

    def targets(self, t):
        return np.roll(t, -1, axis=-1)

    def cannot(self, network):
        if network.one_hot is False:
            return "it concerns one-hot targets (one class a sample), which this network has not"
        return None


ALIASES = {"no-mean": "summed-batch"}  # another name for a catalogued mistake
NUMPY_MISTAKES = (SoftmaxDiagonal(), BiasSummedOverNeurons(), WTransposed(), MeanTwice(),
                  TargetsOneHotOff())
