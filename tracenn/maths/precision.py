"""A whole step recomputed with N significant digits (mpmath), starting from the float64 values
themselves, and every float64 value of the trace compared with it."""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..engine.functions import LOSSES
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
        E = _loss_function(loss.name, len(step.t[0]))
        E_total = mpmath.fsum(E(*numbers.a[s][-1], *numbers.t[s]) for s in range(n)) / n
        rows.append(_prec(step.labels.total, step.loss, E_total, dps))
        engine_grads, before, after = step.grads(), step.params_before(), step.params()
        eta = mpmath.mpf(step.eta)
        trainable = _trainable(step)
        names = step.labels.parameter_names()
        for p in names:
            rows.append(_prec(f"∂E/∂{p}", engine_grads[p], grads[p], dps))
        for p in names:
            old = mpmath.mpf(before[p])
            new = old - eta * grads[p] if trainable[p] else old
            rows.append(_prec(f"{p} (new)", after[p], new, dps))
    return rows


_LOSS_FNS: dict = {}


def _loss_function(name: str, K: int):
    """E(a_1…a_K, t_1…t_K) for one sample, from the loss's SymPy form, in mpmath."""
    loss = LOSSES[name]
    key = (id(loss), K)
    if key not in _LOSS_FNS:  # cached with the object, so that its id is not reused meanwhile
        a = sp.symbols(f"a0:{K}", real=True)
        t = sp.symbols(f"t0:{K}", real=True)
        E = sp.Add(*loss.terms(_obj(a), _obj(t), SYMPY_OPS)[0])
        _LOSS_FNS[key] = (sp.lambdify([*a, *t], E, modules="mpmath"), loss)
    return _LOSS_FNS[key][0]


def _sample(name: str, s: int, n: int) -> str:
    return f"{name} (sample {s + 1})" if n > 1 else name


def _trainable(step: Step) -> dict[str, bool]:
    out = {}
    for layer, w_names, b_names in zip(step.layers, step.labels.weights, step.labels.biases):
        for row in w_names:
            for name in row:
                out[name] = True
        for name in b_names:
            out[name] = layer.bias_trainable
    return out


def _prec(name: str, value: float, exact, dps: int) -> PrecisionRow:
    import mpmath

    return PrecisionRow(name, float(value), mpmath.nstr(exact, dps), float(abs(mpmath.mpf(float(value)) - exact)))
