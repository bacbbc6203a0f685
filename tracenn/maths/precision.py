"""A whole step recomputed with N significant digits (mpmath), starting from the float64 values
themselves, and every float64 value of the trace compared with it."""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..engine.functions import ACTIVATIONS, LOSSES
from ..record.trace import Step
from .partials import Numbers, partial_derivatives
from .symbolic import SYMPY_OPS, _obj


@dataclass
class PrecisionRow:
    name: str
    float64: float
    exact: str  # the high-precision value, as digits
    difference: float

    def to_json(self) -> dict:
        return {"name": self.name, "float64": self.float64, "high_precision": self.exact,
                "abs_difference": self.difference}


def high_precision(step: Step, loss, numbers: Numbers, grads: dict | None = None) -> list[PrecisionRow]:
    """Compare every float64 value of the step (forward values, loss, gradients, updated
    parameters) with its recomputation in `numbers.dps` significant digits, from the float64
    values themselves (exactly, as binary fractions): `numbers` holds the forward pass, `grads`
    SymPy's derivatives in those digits (computed here when not given)."""
    import mpmath

    dps = numbers.dps
    if grads is None:
        grads = partial_derivatives(step, loss, dps, numbers=numbers)
    rows: list[PrecisionRow] = []
    n = step.x.shape[0]
    with mpmath.workdps(numbers.work_dps):
        for s in range(n):
            for kind, values, name in (("z", numbers.z[s], step.labels.net),
                                       ("a", numbers.a[s][1:], step.labels.out)):
                for l, (layer, exact) in enumerate(zip(step.layers, values), start=1):
                    for j, v in enumerate(exact):
                        f64 = (layer.z if kind == "z" else layer.a)[s, j]
                        rows.append(_prec(_sample(name(l, j), s, n), f64, v, dps))
        E = _loss_function(loss.name, step.layers[-1].activation, len(step.t[0]))
        E_total = mpmath.fsum(E(*numbers.z[s][-1], *numbers.a[s][-1], *numbers.t[s])
                              for s in range(n)) / n
        rows.append(_prec(step.labels.total, step.loss, E_total, dps))
        engine_grads = step.grads()
        for p in step.labels.parameter_names():
            rows.append(_prec(f"∂E/∂{p}", engine_grads[p], grads[p], dps))
        rows += _updates(step, grads, numbers.work_dps, dps)
    return rows


def _updates(step: Step, grads: dict, work_dps: int, dps: int) -> list[PrecisionRow]:
    """Each parameter after the update (and the optimizer's state after it), recomputed from
    the optimizer's SymPy formulas with the high-precision gradient, the float64 value before
    and the float64 state before put in."""
    import mpmath

    before, after = step.params_before(), step.params()
    updated = {name: (kind, trace, at) for name, kind, _, trace, at in step.updates()}
    opt = step.optimizer_object(textbook=True) if step.optimizer is not None else None
    rows = []
    for p in step.labels.parameter_names():
        if p not in updated or opt is None:  # a frozen bias keeps its value
            rows.append(_prec(f"{p} (new)", after[p], mpmath.mpf(before[p]), dps))
            continue
        kind, trace, at = updated[p]
        values = {"dE": grads[p], "w": mpmath.mpf(before[p]),
                  **{k: mpmath.mpf(v) for k, v in step.optimizer.settings.items()},
                  **{f"{s} before": mpmath.mpf(float(a[at])) for s, a in trace.before.items()}}
        symbols = {role: sp.Symbol(f"r{i}") for i, role in enumerate(values)}
        formulas = opt.symbolic(lambda role: symbols[role], step.optimizer.t, bias=kind == "b")
        subs = {symbols[r]: sp.Float(mpmath.nstr(v, work_dps), work_dps) for r, v in values.items()}
        for key, expr in formulas.items():
            if key == "new" or key in trace.after:
                exact = mpmath.mpf(str(sp.N(expr.xreplace(subs), work_dps)))
                f64 = after[p] if key == "new" else float(trace.after[key][at])
                name = f"{p} (new)" if key == "new" else f"{step.labels.state(key, p)} (new)"
                rows.append(_prec(name, f64, exact, dps))
    return rows


_LOSS_FNS: dict = {}


def _loss_function(name: str, activation: str, K: int):
    """E(z_1…z_K, a_1…a_K, t_1…t_K) for one sample, from the loss's SymPy form (in z where it
    has one for this output activation, see Loss.at), in mpmath."""
    loss, act = LOSSES[name], ACTIVATIONS[activation]
    key = (id(loss), id(act), K)
    if key not in _LOSS_FNS:  # cached with the objects, so that their ids are not reused meanwhile
        z = sp.symbols(f"z0:{K}", real=True)
        a = sp.symbols(f"a0:{K}", real=True)
        t = sp.symbols(f"t0:{K}", real=True)
        E = sp.Add(*loss.at(act, _obj(z), _obj(a), _obj(t), SYMPY_OPS)[0])
        _LOSS_FNS[key] = (sp.lambdify([*z, *a, *t], E, modules="mpmath"), loss, act)
    return _LOSS_FNS[key][0]


def _sample(name: str, s: int, n: int) -> str:
    return f"{name} (sample {s + 1})" if n > 1 else name


def _prec(name: str, value: float, exact, dps: int) -> PrecisionRow:
    import mpmath

    return PrecisionRow(name, float(value), mpmath.nstr(exact, dps), float(abs(mpmath.mpf(float(value)) - exact)))
