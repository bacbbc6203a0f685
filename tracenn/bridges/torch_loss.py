"""A PyTorch loss paired with the model's last module, as tracenn's output activation and loss,
and the targets in tracenn's form (one row per sample; class indices become one-hot rows).

  model's last module  loss                              tracenn's output, loss
  (none, or Identity)  CrossEntropyLoss (logits)         softmax, cross-entropy
  LogSoftmax           NLLLoss                           softmax, cross-entropy
  Sigmoid              BCELoss                           sigmoid, binary-cross-entropy
  (none, or Identity)  BCEWithLogitsLoss (logits)        sigmoid, binary-cross-entropy
  Sigmoid, Tanh, ReLU, Identity, Softmax or none
                       MSELoss                           that activation, mse (sse: see below)
  the same             a tracenn loss by name: "half-sse", "sse", "mse", "cross-entropy", …

MSELoss(reduction="mean") averages over the samples and the K outputs: that is tracenn's mse,
E = (1/K) Σ_k (t_k − a_k)² per sample and the mean over samples.  With reduction="sum" it adds
every element, which per sample is tracenn's sse; summed over the samples where tracenn takes
their mean (the summed-batch mistake, unless the batch has one sample).  The other losses'
reduction="sum" likewise sums the samples' losses.  BCELoss's mean averages over the outputs
too, so it equals tracenn's binary cross-entropy (a sum over the outputs) only for one output.

Refused, each in one line: Softmax before CrossEntropyLoss (softmax applied twice), Softmax
before NLLLoss (NLLLoss wants log-probabilities and would compute −a_t, not −log a_t),
LogSoftmax before CrossEntropyLoss (it takes logits), Sigmoid before BCEWithLogitsLoss, class
weights, pos_weight, label smoothing, reduction="none", and losses other than these.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from torch import nn

from ..engine.functions import ACTIVATIONS, LOSSES, resolve_loss
from ..errors import OptionError, UnsupportedError
from . import TORCH_LOSSES
from .torch_model import Plan


@dataclass
class LossReading:
    """What a learner's loss means in tracenn's terms."""

    name: str  # tracenn's loss: mse, sse, half-sse, cross-entropy, binary-cross-entropy
    output: str  # tracenn's output activation
    reduction: str  # "mean" or "sum": how the learner's batch loss combines its samples
    text: str  # the learner's loss as written: CrossEntropyLoss(reduction='sum')
    classes: bool = False  # targets may be class indices
    logits: bool = False  # the output activation is applied inside the loss
    module: nn.Module | None = None  # the torch loss, None for a loss named by tracenn's name
    inferred: bool = False  # a loss function of the learner's own: mean or sum read from its value

    def sample_weight(self, n: int) -> float:
        """w in the learner's batch loss L = w Σ_s E_s (tracenn's batch loss has w = 1/n)."""
        return 1.0 / n if self.reduction == "mean" else 1.0


def _loss_module(loss) -> nn.Module:
    if isinstance(loss, str) and loss in TORCH_LOSSES:
        return getattr(nn, loss)()
    if isinstance(loss, type) and issubclass(loss, nn.Module):
        loss = loss()
    if isinstance(loss, nn.Module) and type(loss) in {getattr(nn, n) for n in TORCH_LOSSES}:
        return loss
    name = loss if isinstance(loss, str) else type(loss).__name__
    raise UnsupportedError(
        f"the loss {name} is not one tracenn pairs; it takes {', '.join(TORCH_LOSSES)} or a "
        f"tracenn loss by name ({', '.join(dict.fromkeys(l.name for l in LOSSES.values()))})")


def _check_options(module: nn.Module, text: str) -> None:
    if getattr(module, "weight", None) is not None:
        raise UnsupportedError(f"{text} with class weights: tracenn weighs every output alike")
    if getattr(module, "pos_weight", None) is not None:
        raise UnsupportedError(f"{text} with pos_weight: tracenn weighs every output alike")
    if getattr(module, "label_smoothing", 0.0):
        raise UnsupportedError(f"{text} with label_smoothing: tracenn's targets are as given")
    if module.reduction not in ("mean", "sum"):
        raise UnsupportedError(f"{text}: the loss must be one number for backward; use "
                               "reduction='mean' (tracenn's batch loss is the samples' mean)")


def read_loss(loss, plan: Plan) -> LossReading:
    """The pairing of `loss` (a torch loss, its class or name, or a tracenn loss name) with the
    model's last module; refuses a pairing tracenn does not trace, in one line."""
    if isinstance(loss, str) and loss in LOSSES:
        return _named_loss(loss, plan)
    module = _loss_module(loss)
    kind = type(module).__name__
    text = f"{kind}(reduction={module.reduction!r})"
    _check_options(module, text)
    last, K, reduction = plan.output, plan.sizes[-1], module.reduction
    if kind == "MSELoss":
        if last == "log-softmax":
            raise UnsupportedError("MSELoss after LogSoftmax: tracenn's outputs are activations, "
                                   "not log-probabilities (use Softmax)")
        return LossReading("mse" if reduction == "mean" else "sse", last, reduction, text,
                           module=module)
    if kind == "CrossEntropyLoss":
        _need(last == "identity", last, f"{text} takes logits: end the model with its last "
              "Linear", {"softmax": "Softmax before it applies softmax twice",
                         "log-softmax": "use NLLLoss after LogSoftmax"})
        _need(K >= 2, last, f"{text} needs at least two outputs, the model has {K}")
        return LossReading("cross-entropy", "softmax", reduction, text, True, True, module)
    if kind == "NLLLoss":
        _need(last == "log-softmax", last, f"{text} takes log-probabilities: end the model "
              "with LogSoftmax (or use CrossEntropyLoss on logits)",
              {"softmax": "after Softmax it would compute −a_t, not −log a_t"})
        return LossReading("cross-entropy", "softmax", reduction, text, True, False, module)
    sigmoid_last = last == ("identity" if kind == "BCEWithLogitsLoss" else "sigmoid")
    _need(sigmoid_last, last, f"{text} pairs with " + (
        "logits: end the model with its last Linear" if kind == "BCEWithLogitsLoss"
        else "Sigmoid outputs"), {"sigmoid": "Sigmoid before it applies sigmoid twice"}
        if kind == "BCEWithLogitsLoss" else {})
    if reduction == "mean" and K > 1:
        raise UnsupportedError(
            f"{text} averages over the {K} outputs as well as the samples; tracenn's "
            "binary-cross-entropy sums over the outputs (use one output, or reduction='sum')")
    return LossReading("binary-cross-entropy", "sigmoid", reduction, text,
                       logits=kind == "BCEWithLogitsLoss", module=module)


def _need(ok: bool, last: str, message: str, why: dict | None = None) -> None:
    if not ok:
        reason = (why or {}).get(last)
        shown = {"identity": "no activation"}.get(last, last)
        raise UnsupportedError(f"{message} (the model ends with {shown}"
                               + (f"; {reason})" if reason else ")"))


def _named_loss(name: str, plan: Plan) -> LossReading:
    last = plan.output
    if last == "log-softmax":
        raise UnsupportedError(f"the loss {name} after LogSoftmax: tracenn's outputs are "
                               "activations, not log-probabilities (use Softmax)")
    try:
        loss = resolve_loss(name, ACTIVATIONS[last])
    except ValueError as exc:
        raise UnsupportedError(f"the loss {name}: {exc}") from None
    return LossReading(loss.name, last, "mean", f"tracenn's {loss.name}")


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------


def as_array(value, what: str) -> np.ndarray:
    """A tensor, array or nested list as a NumPy array (a tensor's dtype kept)."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):
        raise OptionError(f"{what}: expected rows of numbers, got {type(value).__name__}") from None
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number)
                                     or array.dtype == bool):
        raise OptionError(f"{what}: expected rows of numbers")
    if not np.all(np.isfinite(array)):
        raise OptionError(f"{what}: every number must be finite")
    return array


def read_inputs(inputs, n_in: int) -> np.ndarray:
    X = as_array(inputs, "inputs")
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] != n_in:
        raise OptionError(f"inputs have shape {X.shape}; the model takes one row of {n_in} "
                          f"input(s) per sample, shape (n, {n_in})")
    return X.astype(np.float64)


def read_targets(targets, reading: LossReading, n: int, K: int):
    """The targets as tracenn's rows (n, K) in float64, and the class indices (n,) when they
    were given as classes (else None)."""
    T = as_array(targets, "targets")
    if reading.classes and T.shape == (n, 1) and K > 1:
        T = T[:, 0]  # one column of class indices, as a CSV file gives them
    if reading.classes and T.ndim == 1 and T.shape[0] == n:
        if not np.all(T == np.round(T)) or T.min() < 0 or T.max() >= K:
            raise OptionError(f"targets: class indices must be whole numbers 0..{K - 1}")
        indices = T.astype(np.int64)
        return np.eye(K)[indices], indices
    if T.shape != (n, K):
        hint = (f"; a loss would broadcast ({n},) against ({n}, {K})" if T.shape == (n,) else "")
        classes = " or one class index per sample" if reading.classes else ""
        raise OptionError(f"targets have shape {T.shape}; the model's outputs have shape "
                          f"({n}, {K}): give one row of {K} target(s) per sample{classes}{hint}")
    if reading.text.startswith("NLLLoss"):
        raise OptionError("targets: NLLLoss takes one class index per sample, not rows of "
                          "probabilities")
    return T.astype(np.float64), None
