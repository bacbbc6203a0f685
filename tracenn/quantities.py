"""Every quantity of one traced step, in the order backprop computes it, each with its formula.

A `Quantity` holds a display name (out_h1, delta_o1, dE/dw5, w5+), its value from the trace, and
a SymPy expression in the symbols of the quantities it is computed from (one level: out_h1 =
σ(net_h1), delta_h1 = (delta_o1·w5 + delta_o2·w7)·out_h1(1 − out_h1)).  The expressions are
built from the same activation and loss objects the engine uses.  `compare` prints them as text
with numbers substituted; the walkthrough prints them as LaTeX.

Order: forward (net, out per layer), loss (E per output, E_total), deltas (∂E/∂out and δ, output
layer first), gradients (output layer first), updates (w+), and the loss after the update.
With several samples in a step, per-sample quantities carry "@s" (out_h1@2).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from .functions import ACTIVATIONS
from .symbolic import SYMPY_OPS, _obj, latex_name, output_delta
from .trace import Step

@dataclass
class Quantity:
    name: str
    stage: str
    value: float
    expr: sp.Expr | None  # None for the loss after the update (a whole forward pass)
    symbol: sp.Symbol = field(repr=False, default=None)
    layer: int | None = None  # the layer it belongs to (1..L); None for the loss

    @property
    def inputs(self) -> list[str]:
        if self.expr is None:
            return []
        return sorted(s.name for s in self.expr.free_symbols)


class StepQuantities:
    """The quantities of `step` (a correct trace) and the given values they start from."""

    def __init__(self, step: Step, loss):
        self.step = step
        self.loss = loss
        self.given: dict[str, float] = {}  # inputs, targets, initial parameters, η
        self.items: list[Quantity] = []
        self._build()
        self.by_name = {q.name: q for q in self.items}

    # --- naming ---------------------------------------------------------------------------

    def _s(self, name: str, s: int) -> str:
        return f"{name}@{s + 1}" if len(self.step.samples) > 1 else name

    @staticmethod
    def grad_name(param: str) -> str:
        return f"dE/d{param}"

    @staticmethod
    def new_name(param: str) -> str:
        return f"{param}+"

    def _sym(self, name: str) -> sp.Symbol:
        return sp.Symbol(name, real=True)

    def _add(self, name, stage, value, expr, layer=None):
        self.items.append(Quantity(name, stage, float(value), expr, self._sym(name), layer))

    # --- building -------------------------------------------------------------------------

    def _build(self) -> None:
        step, labels = self.step, self.step.labels
        n = len(step.samples)
        L = len(step.layers)
        eta = self._sym("η")
        self.given["η"] = step.eta
        before = step.params_before()
        self.given.update(before)
        K = len(labels.neurons[-1])
        t_names = [f"t{k + 1}" for k in range(K)]

        for s in range(n):
            for k, name in enumerate(labels.inputs):
                self.given[self._s(name, s)] = float(step.x[s, k])
            for k, name in enumerate(t_names):
                self.given[self._s(name, s)] = float(step.t[s, k])

        def out_sym(l, j, s):
            return self._sym(self._s(labels.out(l, j), s))

        # forward
        for s in range(n):
            for l, layer in enumerate(step.layers, start=1):
                act = ACTIVATIONS[layer.activation]
                nets = []
                for j in range(layer.W.shape[0]):
                    b_name = labels.biases[l - 1][0 if layer.shared_bias else j]
                    expr = sp.Add(*[sp.Mul(self._sym(labels.weights[l - 1][j][k]), out_sym(l - 1, k, s),
                                           evaluate=False) for k in range(layer.W.shape[1])],
                                  self._sym(b_name), evaluate=False)
                    self._add(self._s(labels.net(l, j), s), "forward", layer.z[s, j], expr, l)
                    nets.append(self._sym(self._s(labels.net(l, j), s)))
                outs = act.symbolic(nets)
                for j in range(layer.W.shape[0]):
                    self._add(self._s(labels.out(l, j), s), "forward", layer.a[s, j], outs[j], l)

        # loss
        per_sample_totals = []
        for s in range(n):
            a = _obj([out_sym(L, k, s) for k in range(K)])
            t = _obj([self._sym(self._s(tn, s)) for tn in t_names])
            terms = self.loss.terms(a, t, SYMPY_OPS)[0]
            names = []
            for k in range(K):
                name = self._s(labels.error(k), s)
                self._add(name, "loss", step.losses[s, k], terms[k])
                names.append(self._sym(name))
            per_sample_totals.append(sp.Add(*names, evaluate=False))
        total = per_sample_totals[0] if n == 1 else sp.Mul(
            sp.Rational(1, n), sp.Add(*per_sample_totals, evaluate=False), evaluate=False)
        self._add(labels.total, "loss", step.loss, total)

        # deltas, output layer first
        for s in range(n):
            for l in range(L, 0, -1):
                layer = step.layers[l - 1]
                act = ACTIVATIONS[layer.activation]
                n_out = layer.W.shape[0]
                outs = [out_sym(l, j, s) for j in range(n_out)]
                nets = [self._sym(self._s(labels.net(l, j), s)) for j in range(n_out)]
                if l == L:
                    t = [self._sym(self._s(tn, s)) for tn in t_names]
                    dE_da = self.loss.dE_da(_obj(outs), _obj(t))[0]
                    grads = [self._sym(f"dE/d{o.name}") for o in outs]  # δ refers to ∂E/∂out
                    deltas = output_delta(self.loss, act, outs, nets, t, grads)
                else:
                    nxt = step.layers[l]
                    dE_da = [sp.Add(*[sp.Mul(self._sym(self._s(labels.delta(l + 1, m), s)),
                                             self._sym(labels.weights[l][m][j]), evaluate=False)
                                      for m in range(nxt.W.shape[0])], evaluate=False)
                             for j in range(n_out)]
                    deltas = None
                for j in range(n_out):
                    dname = f"dE/d{outs[j].name}"
                    self._add(dname, "delta", layer.dE_da[s, j], dE_da[j], l)
                for j in range(n_out):
                    if deltas is not None:
                        expr = deltas[j]
                    else:
                        expr = sp.Mul(self._sym(f"dE/d{outs[j].name}"),
                                      act.prime(nets[j], outs[j], SYMPY_OPS), evaluate=False)
                    self._add(self._s(labels.delta(l, j), s), "delta", layer.delta[s, j], expr, l)

        # gradients, output layer first (mean over the samples of a batch)
        def mean(terms):
            if n == 1:
                return terms[0]
            return sp.Mul(sp.Rational(1, n), sp.Add(*terms, evaluate=False), evaluate=False)

        for l in range(L, 0, -1):
            layer = step.layers[l - 1]
            for j in range(layer.W.shape[0]):
                for k in range(layer.W.shape[1]):
                    terms = [sp.Mul(self._sym(self._s(labels.delta(l, j), s)), out_sym(l - 1, k, s),
                                    evaluate=False) for s in range(n)]
                    self._add(self.grad_name(labels.weights[l - 1][j][k]), "gradient",
                              layer.grad_W[j, k], mean(terms), l)
            if layer.shared_bias:
                terms = [sp.Add(*[self._sym(self._s(labels.delta(l, j), s))
                                  for j in range(layer.W.shape[0])], evaluate=False) for s in range(n)]
                self._add(self.grad_name(labels.biases[l - 1][0]), "gradient", layer.grad_b[0],
                          mean(terms), l)
            else:
                for j in range(layer.W.shape[0]):
                    terms = [self._sym(self._s(labels.delta(l, j), s)) for s in range(n)]
                    self._add(self.grad_name(labels.biases[l - 1][j]), "gradient", layer.grad_b[j],
                              mean(terms), l)

        # updates, output layer first
        for l in range(L, 0, -1):
            layer = step.layers[l - 1]
            for j in range(layer.W.shape[0]):
                for k in range(layer.W.shape[1]):
                    p = labels.weights[l - 1][j][k]
                    self._add(self.new_name(p), "update", layer.W_new[j, k], self._update(p, eta), l)
            for j, p in enumerate(labels.biases[l - 1]):
                expr = self._update(p, eta) if layer.bias_trainable else self._sym(p)
                self._add(self.new_name(p), "update", layer.b_new[j], expr, l)

        self._add(f"{labels.total} after", "after", step.loss_after, None)

    def _update(self, p: str, eta) -> sp.Expr:
        return sp.Add(self._sym(p), sp.Mul(-1, eta, self._sym(self.grad_name(p)), evaluate=False),
                      evaluate=False)

    # --- values and display ----------------------------------------------------------------

    def values(self) -> dict[str, float]:
        """Every quantity's value by name, plus the given values."""
        out = dict(self.given)
        out.update({q.name: q.value for q in self.items})
        return out

    def as_text(self, q: Quantity, values: dict[str, float], precision: int) -> tuple[str, str]:
        """`q`'s formula as text, and with the numbers of `values` substituted."""
        if q.expr is None:
            return (f"{self.step.labels.total} recomputed with the updated parameters, on the same "
                    "samples"), ""
        subs = {s: sp.Symbol(self._number(s.name, values, precision)) for s in q.expr.free_symbols
                if s.name in values}
        with sp.evaluate(False):  # keep the formula's order of terms when numbers go in
            numbers = q.expr.xreplace(subs)
        return _text(q.expr), _text(numbers)

    def as_latex(self, q: Quantity, values: dict[str, float], precision: int) -> tuple[str, str]:
        names = {s: latex_name(s.name.split("@")[0]) + _sample_tex(s.name) for s in q.expr.free_symbols}
        plain = sp.latex(q.expr, symbol_names=names, order="none")
        numbers = {s: self._number(s.name, values, precision) for s in q.expr.free_symbols
                   if s.name in values}
        return plain, sp.latex(q.expr, symbol_names={**names, **numbers}, order="none",
                               mul_symbol="dot")

    def _number(self, name: str, values: dict[str, float], precision: int) -> str:
        """A value as it goes into a formula: given values (inputs, targets, initial weights, η)
        as short as they are written, computed ones with `precision` decimals."""
        from .render import num

        x = values[name]
        text = f"{x:.{max(precision, 1)}g}" if name in self.given else num(x, precision)
        return f"({text})" if text.startswith("-") else text


def _sample_tex(name: str) -> str:
    return rf"^{{[{name.split('@')[1]}]}}" if "@" in name else ""


def _text(expr) -> str:
    text = sp.sstr(expr, order="none")
    return (text.replace("**2", "²").replace("*", "·").replace(" - ", " − ").replace("(-", "(−")
            .replace("delta_", "δ_").replace("exp(", "e^("))


def flatten_trace_json(obj: dict, q: StepQuantities) -> dict[str, float]:
    """A JSON Lines step object (format 1) as {quantity name: value}, using the spec's names."""
    labels = q.step.labels
    out: dict[str, float] = {}
    n = len(obj.get("samples", [0])) if isinstance(obj.get("samples"), list) else 1
    for l, layer in enumerate(obj.get("layers", []), start=1):
        for key, namer in (("z", labels.net), ("a", labels.out), ("delta", labels.delta)):
            rows = layer.get(key)
            if not isinstance(rows, list):
                continue
            for s, row in enumerate(rows):
                for j, v in enumerate(row):
                    name = namer(l, j)
                    out[f"{name}@{s + 1}" if n > 1 else name] = v
        for s, row in enumerate(layer.get("dE_da") or []):
            for j, v in enumerate(row):
                name = f"dE/d{labels.out(l, j)}"
                out[f"{name}@{s + 1}" if n > 1 else name] = v
    if n == 1:  # with several samples the per-output losses in the JSON are means, not per sample
        for name, v in (obj.get("losses") or {}).items():
            out[name] = v
    if "loss" in obj:
        out[labels.total] = obj["loss"]
    if "loss_after" in obj:
        out[f"{labels.total} after"] = obj["loss_after"]
    for name, v in (obj.get("grads") or {}).items():
        out[StepQuantities.grad_name(name)] = v
    for name, v in (obj.get("params") or {}).items():
        out[StepQuantities.new_name(name)] = v
    return out

