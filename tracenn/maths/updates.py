"""The optimizer's update checked symbolically: each parameter's new value and new state
computed by SymPy from the optimizer's own textbook formulas (engine/optim.py `symbolic`, written
apart from its numpy code), with the step's recorded gradient, old value and old state put in,
against the numbers the engine recorded."""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..engine.optim import SYMBOLS
from ..notation import expr_text
from ..record.trace import Step

DIGITS = 30  # SymPy evaluates the formulas with this many significant digits


@dataclass
class UpdateRow:
    name: str  # w5+, m_w5, vhat_w5, …
    formula: str
    sympy: float
    engine: float
    tolerance: float

    @property
    def diff(self) -> float:
        return abs(self.sympy - self.engine)

    @property
    def ok(self) -> bool:
        return self.diff <= self.tolerance * max(1.0, abs(self.sympy))

    def to_json(self) -> dict:
        return {"name": self.name, "formula": self.formula, "sympy": self.sympy,
                "engine": self.engine, "abs_diff": self.diff, "pass": self.ok}


def _recorded(trace, key: str, at):
    """The engine's value of a state or a term of an update (None if it recorded none)."""
    if key in trace.after:
        return trace.after[key][at]
    if key in trace.terms:
        return trace.terms[key][at]
    return None


def check_update(step: Step, tolerance: float = 1e-9) -> list[UpdateRow]:
    """One row per parameter and per recorded quantity of its update (its state after, m̂, v̂,
    the step, the new value), in network order, each computed by the spec's own rule — the
    optimizer and settings of the step without any mistake the step was made with, biases
    decayed only where that rule decays them — and one row per frozen bias: its value after
    the step is its value before."""
    if step.optimizer is None:
        return []
    opt = step.optimizer_object(textbook=True)
    updated = {name: (trace, at) for name, _, _, trace, at in step.updates()}
    rows = []
    for l, kind, j, k, name in step.labels.parameters():
        layer = step.layers[l - 1]
        if kind == "b" and not layer.bias_trainable:
            rows.append(UpdateRow(step.labels.new(name), f"{name} (frozen)",
                                  float(layer.b[j]), float(layer.b_new[j]), tolerance))
        elif name in updated:
            rows += _formula_rows(step, opt, name, kind, layer, *updated[name], tolerance)
    return rows


def _formula_rows(step: Step, opt, name: str, kind: str, layer, trace, at, tolerance: float):
    """The rows of one updated parameter: each formula of `opt` with the step's recorded
    gradient, old value and old state put in, against what the engine recorded."""
    old, new = (layer.W, layer.W_new) if kind == "W" else (layer.b, layer.b_new)
    grad = (layer.grad_W if kind == "W" else layer.grad_b)[at]
    numbers = {"dE": grad, "w": old[at], **step.optimizer.settings}
    numbers.update({f"{s} before": a[at] for s, a in trace.before.items()})
    symbols = {role: sp.Symbol(_display(role, name, step.labels)) for role in numbers}
    formulas = opt.symbolic(lambda role: symbols[role], step.optimizer.t, bias=kind == "b")
    subs = {symbols[r]: sp.Float(float(v), DIGITS) for r, v in numbers.items()}
    rows = []
    for key, expr in formulas.items():
        engine = new[at] if key == "new" else _recorded(trace, key, at)
        # g = ∂E/∂w itself is shown only when the engine used something else (a decay the
        # rule does not make)
        if engine is None or (expr == symbols["dE"] and float(engine) == float(grad)):
            continue
        label = step.labels.new(name) if key == "new" else step.labels.state(key, name)
        value = float(sp.N(expr.xreplace(subs), DIGITS))
        rows.append(UpdateRow(label, expr_text(expr), value, float(engine), tolerance))
    return rows


def _display(role: str, param: str, labels) -> str:
    """The display name of a symbol of an update formula for parameter `param`."""
    if role == "dE":
        return labels.grad(param)
    if role == "w":
        return param
    if role.endswith(" before"):
        return labels.state(role[:-7], param, before=True)
    return SYMBOLS[role]
