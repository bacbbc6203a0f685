"""A whole step recomputed with N significant digits (mpmath), starting from the float64 values
themselves, and every float64 value of the trace compared with it."""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..record.trace import Step
from .symbolic import symbolic_network


@dataclass
class PrecisionRow:
    name: str
    float64: float
    exact: str  # the high-precision value, as digits
    difference: float

    def to_json(self) -> dict:
        return {"name": self.name, "float64": self.float64, "high_precision": self.exact,
                "abs_difference": self.difference}


def high_precision(step: Step, loss, dps: int) -> list[PrecisionRow]:
    """Recompute the whole step (forward values, loss, gradients, updated parameters) with `dps`
    significant digits, starting from the float64 values themselves (exactly, as binary
    fractions), and compare every float64 value of the trace with it."""
    import mpmath

    sym = symbolic_network(step, loss.name)
    rows: list[PrecisionRow] = []
    old = mpmath.mp.dps
    mpmath.mp.dps = dps
    try:
        before = step.params_before()
        n = step.x.shape[0]
        values = {p: mpmath.mpf(before[p.name]) for p in sym.params}
        grads = {p: mpmath.mpf(0) for p in sym.params}
        derivs = [sp.diff(sym.E, p) for p in sym.params]
        forward = [e for layer in sym.zs for e in layer] + [e for layer in sym.acts[1:] for e in layer]
        f_forward = sp.lambdify(sym.args, forward, modules="mpmath")
        f_E = sp.lambdify(sym.args, sym.E, modules="mpmath")
        f_grad = sp.lambdify(sym.args, derivs, modules="mpmath", cse=True)
        E_total = mpmath.mpf(0)
        for s in range(n):
            args = [mpmath.mpf(float(v)) for v in step.x[s]] + [mpmath.mpf(float(v)) for v in step.t[s]] \
                + [values[p] for p in sym.params]
            fw = f_forward(*args)
            i = 0
            for l, layer in enumerate(step.layers, start=1):
                for j in range(layer.z.shape[1]):
                    rows.append(_prec(_sample(step.labels.net(l, j), s, n), layer.z[s, j], fw[i], dps))
                    i += 1
            for l, layer in enumerate(step.layers, start=1):
                for j in range(layer.a.shape[1]):
                    rows.append(_prec(_sample(step.labels.out(l, j), s, n), layer.a[s, j], fw[i], dps))
                    i += 1
            E_total += f_E(*args)
            for p, g in zip(sym.params, f_grad(*args)):
                grads[p] += g
        rows.append(_prec(step.labels.total, step.loss, E_total / n, dps))
        engine_grads = step.grads()
        after = step.params()
        eta = mpmath.mpf(step.eta)
        trainable = _trainable(step)
        for p in sym.params:
            rows.append(_prec(f"∂E/∂{p.name}", engine_grads[p.name], grads[p] / n, dps))
        for p in sym.params:
            new = values[p] - eta * grads[p] / n if trainable[p.name] else values[p]
            rows.append(_prec(f"{p.name} (new)", after[p.name], new, dps))
    finally:
        mpmath.mp.dps = old
    return rows


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
