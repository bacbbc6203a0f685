"""Recording a learner's PyTorch training step: hooks on a copy of their model, and what they
recorded read in tracenn's terms (see torch_check.py for how PyTorch's numbers are read)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ..comparison import close
from ..engine.functions import ACTIVATIONS
from ..errors import UnsupportedError
from ..record.trace import Step
from .torch_loss import LossReading
from .torch_model import Plan, read_model, weights


@dataclass
class Record:
    """What one step of the learner's computed, by layer index (0 = model's first Linear)."""

    z: dict = field(default_factory=dict)
    a: dict = field(default_factory=dict)
    dz: dict = field(default_factory=dict)  # ∂L/∂z of the batch loss L
    da: dict = field(default_factory=dict)
    grads: dict = field(default_factory=dict)  # (l, "W" | "b") -> .grad
    dx: object = None  # ∂L/∂x at the model's inputs
    state: dict = field(default_factory=dict)  # (l, "W" | "b", tracenn's state name) -> tensor
    watching_x: bool = False
    loss: float | None = None


class Recorder:
    """Hooks on a model's layers that fill a `Record` for each step."""

    def __init__(self, plan: Plan, trained_biases: list[bool]):
        self.plan, self.record, self.handles = plan, Record(), []
        self.handles.append(plan.units[0].linear.register_forward_pre_hook(self._inputs))
        for l, unit in enumerate(plan.units):
            self.handles.append(unit.linear.register_forward_hook(self._forward(l, "z")))
            if unit.act_module is not None:
                self.handles.append(unit.act_module.register_forward_hook(self._forward(l, "a")))
            # a bias the optimizer does not train keeps a .grad that its zero_grad() never
            # clears and no update uses: it is not recorded
            bias = unit.linear.bias if trained_biases[l] else None
            for kind, p in (("W", unit.linear.weight), ("b", bias)):
                if p is not None and p.requires_grad:
                    self.handles.append(p.register_post_accumulate_grad_hook(self._grad(l, kind)))

    def _forward(self, l: int, what: str):
        def hook(module, inputs, output):
            values, grads = (self.record.z, self.record.dz) if what == "z" else \
                (self.record.a, self.record.da)
            if l in values or not output.requires_grad:
                return  # the first forward of the step that is backpropagated
            values[l] = output.detach().clone()  # before an in-place activation changes it
            output.register_hook(lambda g: grads.__setitem__(l, g.detach().clone()))
        return hook

    def _inputs(self, module, args):
        """∂L/∂x: the first Linear is given a copy of its input that asks for its gradient (the
        learner's own tensor is left alone)."""
        if self.record.watching_x or not torch.is_grad_enabled():
            return None
        self.record.watching_x = True
        x = args[0] if args[0].requires_grad else args[0].detach().clone().requires_grad_(True)
        x.register_hook(lambda g: setattr(self.record, "dx", g.detach().clone()))
        return (x, *args[1:])

    def _grad(self, l: int, kind: str):
        def hook(p):
            self.record.grads[(l, kind)] = p.grad.detach().clone()
        return hook

    def recording(self, loss_fn):
        """`loss_fn`, with its first value of each step kept."""
        def recorded(output, target):
            value = loss_fn(output, target)
            if self.record.loss is None and isinstance(value, torch.Tensor) and value.numel() == 1:
                self.record.loss = float(value.detach())
            return value
        return recorded

    def close(self) -> None:
        for h in self.handles:
            h.remove()


def _to_double(obj, seen: set, depth: int = 0) -> None:
    """Make every floating tensor reachable from `obj` (an optimizer of the learner's own and
    the buffers it keeps) float64 in place, so that it steps the float64 copy of the model."""
    if depth > 5 or id(obj) in seen or isinstance(obj, nn.Module):
        return
    seen.add(id(obj))
    if isinstance(obj, torch.Tensor):
        if obj.is_floating_point() and obj.dtype != torch.float64:
            obj.data = obj.data.double()
        return
    if isinstance(obj, dict):
        children = list(obj.values())
    elif isinstance(obj, (list, tuple, set)):
        children = list(obj)
    elif hasattr(obj, "__dict__") and not isinstance(obj, type):
        children = list(vars(obj).values())
    else:
        return
    for child in children:
        _to_double(child, seen, depth + 1)


class LearnerRun:
    """The learner's model, optimizer and loss on copies, with the recorder's hooks."""

    def __init__(self, model, optimizer, loss_fn, double: bool, trained_biases: list[bool],
                 state_names: dict[str, str]):
        try:
            self.model, self.optimizer, self.loss_fn = copy.deepcopy((model, optimizer, loss_fn))
        except Exception as exc:  # an object of the learner's own that cannot be copied
            raise UnsupportedError(f"the model, optimizer or loss cannot be copied for the check "
                                   f"({type(exc).__name__}: {exc})") from None
        if double:
            self.model.double()
            _to_double(self.optimizer, set())
            _to_double(self.loss_fn, set())
        for p in self.model.parameters():
            p.grad = None
        self.plan = read_model(self.model)
        self.dtype = self.plan.units[0].linear.weight.dtype
        self.recorder = Recorder(self.plan, trained_biases)
        self.state_names = state_names  # tracenn's name -> torch.optim's (m -> exp_avg)

    def step(self, train_step, inputs, targets) -> Record:
        self.recorder.record = Record()
        train_step(self.model, self.optimizer, self.recorder.recording(self.loss_fn),
                   inputs, targets)
        self._read_state(self.recorder.record)
        return self.recorder.record

    def _read_state(self, record: Record) -> None:
        """The optimizer's state after the step, where it keeps it as torch.optim does: in
        `optimizer.state[parameter]`, under torch.optim's names (exp_avg, momentum_buffer, …)."""
        state = getattr(self.optimizer, "state", None)
        if not isinstance(state, Mapping):
            return
        for l, unit in enumerate(self.plan.units):
            for kind, p in (("W", unit.linear.weight), ("b", unit.linear.bias)):
                held = state.get(p) if p is not None and p in state else None
                for ours, theirs in self.state_names.items():
                    if isinstance(held, Mapping) and isinstance(held.get(theirs), torch.Tensor):
                        record.state[(l, kind, ours)] = held[theirs].detach().clone()


def _numpy(t) -> np.ndarray | None:
    return None if t is None else t.detach().cpu().double().numpy()


def layer_arrays(run: LearnerRun, rec: Record, reading: LossReading, w: float) -> list[dict]:
    """Per layer, the learner's arrays under tracenn's quantity kinds (None: not recorded)."""
    out, L = [], len(run.plan.units)
    for l, unit in enumerate(run.plan.units):
        z, dz = _numpy(rec.z.get(l)), _numpy(rec.dz.get(l))
        if unit.act_module is None:
            a, da = z, dz
        else:
            a, da = _numpy(rec.a.get(l)), _numpy(rec.da.get(l))
        if unit.activation == "log-softmax":
            a, da = (None if a is None else np.exp(a)), None  # probabilities; ∂L/∂log a is not ∂E/∂a
        if l == L - 1 and reading.logits:
            a = da = None  # the loss applies the output activation itself
        W_new, b_new = weights(unit)
        arrays = {"net": z, "out": a, "dE_da": _per_sample(da, w), "delta": _per_sample(dz, w),
                  "dE_dx": _per_sample(_numpy(rec.dx), w) if l == 0 else None,
                  "grad_W": _numpy(rec.grads.get((l, "W"))),
                  "grad_b": _numpy(rec.grads.get((l, "b"))), "new_W": W_new, "new_b": b_new}
        arrays.update({f"opt_{kind}:{name}": _numpy(t)
                       for (at, kind, name), t in rec.state.items() if at == l})
        out.append(arrays)
    return out


def _per_sample(gradient: np.ndarray | None, w: float) -> np.ndarray | None:
    """∂E_s/∂… of each sample's own loss, from the gradient of L = w Σ_s E_s."""
    return None if gradient is None else gradient / w


def learner_values(right: Step, arrays: list[dict], loss: float | None, w: float) -> dict:
    """The learner's numbers by tracenn's display names (the names of `right`'s quantities)."""
    n, values = len(right.samples), {}
    for q in right.quantities():
        if q.kind == "E_total":
            if loss is not None:
                values[q.name] = loss / (n * w)
            continue
        array = arrays[q.l - 1].get(q.kind) if q.l else None
        if array is None:
            continue
        if q.kind in ("net", "out", "dE_da", "delta"):
            values[q.name] = float(array[q.s, q.j])
        elif q.kind == "dE_dx":
            values[q.name] = float(array[q.s, q.k])
        elif q.kind in ("grad_W", "new_W") or q.kind.startswith("opt_W:"):
            values[q.name] = float(array[q.j, q.k])
        else:
            values[q.name] = float(array[q.j])
    return values


def sample_weight(reading: LossReading, arrays: list[dict], loss: float | None, T: np.ndarray,
                  spec_loss) -> float:
    """w in the learner's L = w Σ_s E_s: from the torch loss's reduction, or for a loss function
    of the learner's own from its value (the sum when it equals the samples' summed losses)."""
    n = T.shape[0]
    if not reading.inferred:
        return reading.sample_weight(n)
    output = arrays[-1]["out"]
    if output is None and reading.logits and arrays[-1]["net"] is not None:
        output = ACTIVATIONS[reading.output].fn(arrays[-1]["net"])
    if n == 1 or loss is None or output is None:
        return 1.0 / n
    per_sample = spec_loss(output, T).sum(axis=1)
    summed = close(loss, float(per_sample.sum()), 1e-6)
    return 1.0 if summed and not close(loss, float(per_sample.mean()), 1e-6) else 1.0 / n
