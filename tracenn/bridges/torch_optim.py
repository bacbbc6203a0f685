"""A learner's torch.optim optimizer as tracenn's [training]: which optimizer, η, its
hyper-parameters, the weight decay, and which biases are trained.

tracenn's optimizers follow torch.optim's conventions (engine/optim.py): SGD is sgd,
SGD(momentum=μ) momentum (dampening 0), SGD(momentum=μ, nesterov=True) nesterov, RMSprop (not
centred, without momentum) rmsprop, Adam adam (the decay added to the gradient) and AdamW adamw
(decoupled).  Refused in one line: other optimizers, dampening, maximize, amsgrad, centred
RMSprop or RMSprop with momentum, and parameter groups that differ in anything but the decay.

Weight decay: tracenn decays weights only.  torch.optim decays every parameter of a group, so
one group with weight_decay > 0 decays the biases too: that is the catalogue's
weight-decay-on-bias (`decays_bias`).  Two groups, the biases' with weight_decay=0, are tracenn's
convention.  A bias the optimizer does not hold, or one with requires_grad=False, is frozen
(train_bias = false); so is the zero bias of a Linear(bias=False).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ..errors import OptionError, UnsupportedError
from ..spec.reader import OPTIMIZER_KEYS
from .torch_model import Plan

FOLLOWED = "SGD (with momentum or Nesterov), RMSprop, Adam and AdamW"
DEFAULT_LR = 0.1  # a spec's default learning rate


@dataclass
class OptimizerReading:
    """An optimizer as tracenn's training settings."""

    name: str  # sgd, momentum, nesterov, rmsprop, adam, adamw
    lr: float
    hyper: dict[str, float] = field(default_factory=dict)
    weight_decay: float = 0.0
    train_bias: list[bool] = field(default_factory=list)
    decays_bias: bool = False  # one group decays the biases too (torch.optim's way)
    text: str = ""

    def training(self, mode: str) -> dict:
        """The [training] table of a spec: one step, in `mode`."""
        return {"learning_rate": self.lr, "steps": 1, "mode": mode, "optimizer": self.name,
                **self.hyper, "weight_decay": self.weight_decay}


def _trainable_biases(plan: Plan) -> list[bool]:
    return [u.linear.bias is not None and u.linear.bias.requires_grad for u in plan.units]


def read_optimizer(optimizer, plan: Plan, lr: float | None = None) -> OptimizerReading:
    """`optimizer` (a torch.optim optimizer over the model's parameters, a dict of tracenn's
    [training] keys, or None for plain gradient descent) as tracenn's settings; `lr`, when
    given, replaces its learning rate."""
    if optimizer is None:
        return OptimizerReading("sgd", DEFAULT_LR if lr is None else float(lr),
                                train_bias=_trainable_biases(plan), text="gradient descent")
    if isinstance(optimizer, dict):
        return _from_dict(optimizer, plan, lr)
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise UnsupportedError(
            f"the optimizer {type(optimizer).__name__} is not a torch.optim optimizer; say which "
            "torch.optim optimizer it is meant to follow (check_torch's means=)")
    return _from_torch(optimizer, plan, lr)


def _from_dict(settings: dict, plan: Plan, lr: float | None) -> OptimizerReading:
    allowed = {"lr", "learning_rate"} | OPTIMIZER_KEYS
    unknown = set(settings) - allowed
    if unknown:
        raise OptionError(f"optimizer settings: unknown key(s) {', '.join(sorted(unknown))}; "
                          f"allowed: {', '.join(sorted(allowed))}")
    hyper = {k: float(v) for k, v in settings.items()
             if k in OPTIMIZER_KEYS - {"optimizer", "weight_decay"}}
    rate = lr if lr is not None else settings.get("lr", settings.get("learning_rate", DEFAULT_LR))
    name = settings.get("optimizer", "sgd")
    return OptimizerReading(name, float(rate), hyper, float(settings.get("weight_decay", 0.0)),
                            _trainable_biases(plan), text=f"tracenn's {name}")


def _settings(optimizer, group: dict) -> tuple[str, dict[str, float]]:
    """tracenn's name and hyper-parameters for one parameter group; refuses what tracenn's
    optimizers do not do."""
    kind = type(optimizer).__name__
    for flag in ("maximize", "amsgrad", "centered"):
        if group.get(flag):
            raise UnsupportedError(f"{kind}({flag}=True): tracenn follows {FOLLOWED} without it")
    if isinstance(optimizer, torch.optim.SGD):
        if group["dampening"]:
            raise UnsupportedError(f"SGD(dampening={group['dampening']}): tracenn's momentum is "
                                   "torch.optim's with dampening 0")
        mu = float(group["momentum"])
        if not mu:
            return "sgd", {}
        return ("nesterov" if group["nesterov"] else "momentum"), {"momentum": mu}
    if isinstance(optimizer, (torch.optim.Adam, torch.optim.AdamW)):  # not subclasses in every
        # torch version; recent ones mark AdamW's decay as decoupled in its group
        decoupled = group.get("decoupled_weight_decay", isinstance(optimizer, torch.optim.AdamW))
        b1, b2 = group["betas"]
        return ("adamw" if decoupled else "adam"), {
            "beta1": float(b1), "beta2": float(b2), "epsilon": float(group["eps"])}
    if isinstance(optimizer, torch.optim.RMSprop):
        if group["momentum"]:
            raise UnsupportedError("RMSprop(momentum>0): tracenn's rmsprop has no momentum")
        return "rmsprop", {"alpha": float(group["alpha"]), "epsilon": float(group["eps"])}
    raise UnsupportedError(f"{kind} is not an optimizer tracenn follows; it follows "
                           f"torch.optim's {FOLLOWED}")


def _from_torch(optimizer, plan: Plan, lr: float | None) -> OptimizerReading:
    kind = type(optimizer).__name__
    group_of = {id(p): g for g in optimizer.param_groups for p in g["params"]}
    groups, decays = [], {"weights": set(), "biases": set()}
    train_bias = []
    for u in plan.units:
        group = group_of.get(id(u.linear.weight))
        if group is None or not u.linear.weight.requires_grad:
            raise UnsupportedError(f"the optimizer does not train {u.where}.weight; tracenn "
                                   "trains every weight")
        groups.append(group)
        decays["weights"].add(float(group["weight_decay"]))
        bias = u.linear.bias
        bias_group = group_of.get(id(bias)) if bias is not None and bias.requires_grad else None
        train_bias.append(bias_group is not None)
        if bias_group is not None:
            groups.append(bias_group)
            decays["biases"].add(float(bias_group["weight_decay"]))
    name, hyper, rate = _one_setting(optimizer, groups)
    decay, decays_bias = _decay(kind, decays)
    shown = ", ".join(f"{k}={v:g}" for k, v in {"lr": rate, **hyper}.items())
    text = f"{kind}({shown}" + (f", weight_decay={decay:g}" if decay else "") + ")"
    if decays_bias:
        text += " in one group, which decays the biases too (tracenn decays weights only)"
    return OptimizerReading(name, float(lr) if lr is not None else rate, hyper, decay,
                            train_bias, decays_bias, text)


def _one_setting(optimizer, groups: list[dict]):
    """The one (name, hyper-parameters, η) of every group that holds the model's parameters."""
    seen = {}
    for g in groups:
        name, hyper = _settings(optimizer, g)
        seen[(name, tuple(sorted(hyper.items())), float(g["lr"]))] = (name, hyper, float(g["lr"]))
    if len(seen) > 1:
        raise UnsupportedError(f"the {type(optimizer).__name__}'s parameter groups differ in "
                               "more than weight_decay; tracenn uses one setting for every layer")
    return next(iter(seen.values()))


def _decay(kind: str, decays: dict) -> tuple[float, bool]:
    """λ for the weights, and whether the biases are decayed too (λ the same)."""
    if len(decays["weights"]) > 1:
        raise UnsupportedError(f"the {kind} decays the layers' weights by different amounts; "
                               "tracenn uses one weight_decay")
    decay = decays["weights"].pop()
    biases = decays["biases"] - {0.0}
    if not biases:
        return decay, False
    if biases != {decay}:
        raise UnsupportedError(f"the {kind} decays the biases by weight_decay={biases.pop():g} "
                               f"and the weights by {decay:g}; tracenn decays weights only, "
                               "or (the mistake weight-decay-on-bias) biases by the same λ")
    return decay, True
