"""A PyTorch model read as tracenn's layers: an `nn.Sequential` of `nn.Linear` layers, each
followed by at most one activation tracenn knows (Sigmoid, Tanh, ReLU, Identity; Softmax or
LogSoftmax after the last).  Nested Sequentials are flattened.  Everything else is refused in
one line that names the module (model[2]) and why.

A module of the learner's own without parameters (a custom autograd.Function wrapped in a
module, say) is read as the activation its forward computes, found by running it on a few
numbers; its backward stays the learner's, which is what `check_torch` checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ..errors import OptionError, UnsupportedError

KNOWN = {nn.Sigmoid: "sigmoid", nn.Tanh: "tanh", nn.ReLU: "relu", nn.Identity: "identity",
         nn.Softmax: "softmax", nn.LogSoftmax: "log-softmax"}
OUTPUT_ONLY = ("softmax", "log-softmax")


def module_text(module: nn.Module) -> str:
    """A module as one line: Linear(2, 3), ReLU, Softmax(dim=1)."""
    if isinstance(module, nn.Linear):
        return f"Linear({module.in_features}, {module.out_features})"
    extra = module.extra_repr().replace("\n", " ")
    return f"{type(module).__name__}({extra})" if extra else type(module).__name__


@dataclass
class Unit:
    """One tracenn layer: a Linear and the activation after it (`act_module` None: identity,
    or the output activation that the loss applies)."""

    linear: nn.Linear
    where: str  # model[0]
    activation: str = "identity"
    act_module: nn.Module | None = None


@dataclass
class Plan:
    """The model read as tracenn layers."""

    units: list[Unit] = field(default_factory=list)

    @property
    def sizes(self) -> list[int]:
        return [self.units[0].linear.in_features] + [u.linear.out_features for u in self.units]

    @property
    def output(self) -> str:
        return self.units[-1].activation

    def text(self) -> str:
        parts = []
        for u in self.units:
            parts.append(module_text(u.linear))
            if u.act_module is not None and u.activation != "identity":
                parts.append(module_text(u.act_module))
        return " → ".join(parts)


# --------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------


def _children(module: nn.Module, where: str):
    """(where, module) for each module in order, nested Sequentials flattened."""
    for name, child in module.named_children():
        path = f"{where}[{name}]"
        if type(child) is nn.Sequential:
            yield from _children(child, path)
        else:
            yield path, child


def _refusal(module: nn.Module) -> str:
    """Why tracenn cannot trace this module."""
    if isinstance(module, nn.modules.conv._ConvNd):
        return "a convolution; tracenn traces fully connected layers (nn.Linear) only"
    if isinstance(module, (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm)):
        return ("normalisation ties the numbers of a batch or a layer together; tracenn's layers "
                "are a Linear and an activation")
    if isinstance(module, nn.modules.dropout._DropoutNd):
        return "dropout makes the step random; remove it to trace the network"
    if isinstance(module, nn.RNNBase):
        return "a recurrent layer; tracenn traces feed-forward networks"
    if any(True for _ in module.parameters()):
        return "a layer with parameters that is not an nn.Linear"
    return ("an activation tracenn does not know; it knows Sigmoid, Tanh, ReLU, Identity, and "
            "Softmax or LogSoftmax at the output")


def probe_activation(module: nn.Module) -> str | None:
    """The activation a parameter-free module computes, found by running its forward on a few
    numbers, or None."""
    # wide enough that look-alikes differ: ReLU6 and Hardtanh clip, Softplus and GELU bend
    z = torch.linspace(-10.0, 10.0, 24, dtype=torch.float64).reshape(4, 6)
    try:
        with torch.no_grad():
            a = module(z)
    except Exception:  # a module of the learner's own: any failure means "not an activation"
        return None
    if not isinstance(a, torch.Tensor) or a.shape != z.shape:
        return None
    a = a.double()
    candidates = {"sigmoid": torch.sigmoid(z), "tanh": torch.tanh(z), "relu": torch.relu(z),
                  "identity": z, "softmax": torch.softmax(z, 1),
                  "log-softmax": torch.log_softmax(z, 1)}
    found = [name for name, want in candidates.items()
             if torch.allclose(a, want, rtol=1e-6, atol=1e-9)]
    return found[0] if len(found) == 1 else None


def _activation(module: nn.Module) -> str | None:
    known = KNOWN.get(type(module))
    if known in OUTPUT_ONLY and module.dim not in (None, 1, -1):
        return None  # a softmax over the samples, not over the outputs
    if known is not None:
        return known
    if any(True for _ in module.parameters()):
        return None
    return probe_activation(module)


def read_model(model) -> Plan:
    """The model as tracenn layers; refuses, in one line naming the module, what tracenn cannot
    trace."""
    if not isinstance(model, nn.Module):
        raise OptionError(f"expected a torch.nn.Sequential model, got {type(model).__name__}")
    if not isinstance(model, nn.Sequential):
        raise UnsupportedError(
            f"the model is a {type(model).__name__}, not an nn.Sequential; tracenn reads "
            "nn.Sequential(Linear, activation, …) (rebuild it as one, or load its state dict "
            "with the activations named)")
    plan = Plan()
    for where, module in _children(model, "model"):
        if type(module) is nn.Linear:
            _add_linear(plan, where, module)
            continue
        name = _activation(module)
        what = f"{where} ({module_text(module)})"
        if name is None:
            raise UnsupportedError(f"{what} is not supported: {_refusal(module)}")
        if not plan.units:
            raise UnsupportedError(f"{what} comes before any Linear; tracenn's layers start "
                                   "with an nn.Linear")
        unit = plan.units[-1]
        if unit.act_module is not None:
            if name == "identity":
                continue  # an Identity after an activation changes nothing
            raise UnsupportedError(f"{what} follows {module_text(unit.act_module)}; tracenn "
                                   "takes one activation after each Linear")
        unit.activation, unit.act_module = name, module
    if not plan.units:
        raise UnsupportedError("the model holds no nn.Linear layer")
    for unit in plan.units[:-1]:
        if unit.activation in OUTPUT_ONLY:
            raise UnsupportedError(f"{module_text(unit.act_module)} after {unit.where} is allowed "
                                   "only after the last Linear")
    return plan


def _add_linear(plan: Plan, where: str, linear: nn.Linear) -> None:
    if plan.units and plan.units[-1].linear.out_features != linear.in_features:
        before = plan.units[-1]
        raise UnsupportedError(
            f"{where} ({module_text(linear)}) takes {linear.in_features} input(s), but "
            f"{before.where} ({module_text(before.linear)}) gives {before.linear.out_features}")
    if not linear.weight.dtype.is_floating_point:
        raise UnsupportedError(f"{where} holds {linear.weight.dtype} weights; expected floats")
    plan.units.append(Unit(linear, where))


def weights(unit: Unit) -> tuple[np.ndarray, np.ndarray]:
    """W (n_out, n_in) and b (n_out,) of a layer in float64 (no bias: zeros)."""
    W = unit.linear.weight.detach().cpu().double().numpy()
    b = unit.linear.bias
    b = np.zeros(W.shape[0]) if b is None else b.detach().cpu().double().numpy()
    return W, b
