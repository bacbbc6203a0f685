"""From PyTorch to tracenn: a learner's `nn.Sequential` with its current weights, its loss and
its optimizer as a spec (`from_torch`), so that their model can be traced, verified, compared
and walked through as the textbook would.  `check_torch` (torch_check.py) runs the learner's own
training step beside tracenn's.

The spec copies the weights exactly and keeps their convention: tracenn's `W[j][k]` (input k →
neuron j) is the Linear's `weight[j][k]`.  The model's first Linear is layer 1, so in the
spec's indexed names `model[0].weight[j][k]` is `W1[j+1,k+1]` and its outputs are z1[…], a1[…].
Every step of the spec uses all the given samples (one full batch, as the learner's
`loss_fn(model(inputs), targets)` does), and the batch loss is their mean; the pairings of
losses and output modules are listed in torch_loss.py, the optimizers in torch_optim.py.
"""

from __future__ import annotations

import numpy as np

from ..errors import UnsupportedError
from ..spec import Spec
from ..spec.reader import Reader
from .torch_loss import LossReading, read_inputs, read_loss, read_targets
from .torch_model import Plan, read_model, weights
from .torch_optim import OptimizerReading, read_optimizer

SOURCE = "PyTorch model"


def from_torch(model, inputs, targets, *, loss, lr: float | None = None, optimizer=None,
               source: str = SOURCE) -> Spec:
    """The spec of `model` (an nn.Sequential of Linear layers and activations) with its current
    weights, trained on (`inputs`, `targets`) with `loss` (a torch loss such as
    nn.CrossEntropyLoss(), its class or name, or a tracenn loss name such as "half-sse") and
    `optimizer` (a torch.optim optimizer over the model's parameters; None: gradient descent
    with η = `lr`, default 0.1).  `lr` replaces the optimizer's learning rate when given.
    `inputs` has one row per sample; `targets` one row per sample, or one class index per
    sample for CrossEntropyLoss and NLLLoss.  Raises UnsupportedError (a module, loss or
    optimizer tracenn does not trace) or OptionError (inputs or targets that do not fit)."""
    plan = read_model(model)
    reading = read_loss(loss, plan)
    X = read_inputs(inputs, plan.sizes[0])
    n = X.shape[0]
    T, _ = read_targets(targets, reading, n, plan.sizes[-1])
    if reading.sample_weight(n) != 1.0 / n:
        raise UnsupportedError(
            f"{reading.text} sums the losses of the {n} samples, and tracenn's batch loss is "
            "their mean: use reduction='mean' (check_torch shows what the sum changes, the "
            "summed-batch mistake)")
    return build_spec(plan, reading, X, T, read_optimizer(optimizer, plan, lr), source)


def decay_note(opt: OptimizerReading) -> str:
    return (f"The PyTorch optimizer decays the biases too (one parameter group with "
            f"weight_decay = {opt.weight_decay:g}); tracenn decays weights only, as its "
            "convention is, so the biases' updates differ from PyTorch's. The mistake "
            "weight-decay-on-bias (--mistake weight-decay-on-bias) traces what PyTorch does.")


def build_spec(plan: Plan, reading: LossReading, X: np.ndarray, T: np.ndarray,
               opt: OptimizerReading, source: str = SOURCE) -> Spec:
    """The spec, built through the spec reader so that it is checked as a TOML file would be
    and `spec_to_toml` writes it back exactly."""
    layers = []
    for unit in plan.units:
        W, b = weights(unit)
        layers.append({"weights": W.tolist(), "biases": b.tolist()})
    meta = {"title": f"{plan.text()}, {reading.text}"}
    if opt.decays_bias:
        meta["note"] = decay_note(opt)
    doc = {
        "meta": meta,
        "network": {"sizes": plan.sizes,
                    "activations": [u.activation for u in plan.units[:-1]] + [reading.output],
                    "loss": reading.name, "train_bias": opt.train_bias},
        "layer": layers,
        "training": opt.training("batch" if len(X) > 1 else "online"),
        "data": {"inputs": X.tolist(), "targets": T.tolist()},
    }
    return Reader(source).build(doc, None)
