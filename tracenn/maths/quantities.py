"""Every quantity of one traced step, in the order backprop computes it, each with its formula.

A `Quantity` holds a display name (out_h1, delta_o1, dE/dw5, w5+), its value from the trace, and
a SymPy expression in the symbols of the quantities it is computed from (one level: out_h1 =
σ(net_h1), delta_h1 = (delta_o1·w5 + delta_o2·w7)·out_h1(1 − out_h1)).  The expressions are
built from the same activation and loss objects the engine uses.  `compare` prints them as text
with numbers substituted; the walkthrough prints them as LaTeX.

The quantities and their order are the step's own (record.trace.Step.quantities): forward (net,
out per layer), loss (E per output, E_total), deltas (∂E/∂out and δ, output layer first),
gradients (output layer first), updates (w+), and the loss after the update.  With several
samples in a step, per-sample quantities carry "@s" (out_h1@2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property, lru_cache

import re

import sympy as sp

from ..engine.functions import ACTIVATIONS
from ..notation import expr_text, latex_number, num, sample_latex
from ..record.labels import Labels
from ..record.trace import Q, Step
from .symbolic import SYMPY_OPS, _obj, output_delta

# A negative number goes into a formula in parentheses, w·(−0.2); where it is a function's whole
# argument those would double the function's own: tanh((−0.2)), \tanh{\left((-0.2) \right)}
_DOUBLED_TEXT = re.compile(r"\(\(([−-][^()]*)\)\)")
_DOUBLED_LATEX = re.compile(r"\\left\(\((-[^()]*)\) \\right\)")


def undoubled(text: str, latex: bool = False) -> str:
    """`text` with the doubled parentheses around a lone negative number made single."""
    if latex:
        return _DOUBLED_LATEX.sub(r"\\left(\1 \\right)", text)
    return _DOUBLED_TEXT.sub(r"(\1)", text)


@dataclass
class Quantity:
    name: str
    stage: str
    value: float
    expr: sp.Expr | None  # None for the loss after the update (a whole forward pass)
    symbol: sp.Symbol = field(repr=False, default=None)
    layer: int | None = None  # the layer it belongs to (1..L); None for the loss

    @cached_property
    def inputs(self) -> list[str]:
        if self.expr is None:
            return []
        return sorted(s.name for s in self.expr.free_symbols)

    @cached_property
    def compiled(self):
        """(a fast numeric function of `expr`, the names of its arguments in order)."""
        return _compiled(self.expr)


@lru_cache(maxsize=None)
def _sym(name: str) -> sp.Symbol:
    return sp.Symbol(name, real=True)


@lru_cache(maxsize=4096)
def _plain_latex(expr: sp.Expr) -> str:
    """An expression's LaTeX in display names: the same for every variant of a network."""
    names = {s: sample_latex(s.name) for s in expr.free_symbols}
    return sp.latex(expr, symbol_names=names, order="none")


@lru_cache(maxsize=None)
def _compiled(expr: sp.Expr):
    """A fast numeric function of an expression, with the names of its arguments in order; one
    per distinct formula (the variants of an exercise share them)."""
    symbols = sorted(expr.free_symbols, key=lambda s: s.name)
    return sp.lambdify(symbols, expr, modules="math", dummify=True), [s.name for s in symbols]


class StepQuantities:
    """The quantities of `step` (a correct trace) and the given values they start from."""

    grad_name = staticmethod(Labels.grad)
    new_name = staticmethod(Labels.new)

    def __init__(self, step: Step, loss):
        self.step = step
        self.loss = loss
        self.given: dict[str, float] = step.given()  # inputs, targets, initial parameters, η
        self._cache: dict = {}
        self.items = [Quantity(q.name, q.stage, step.value(q), self._expr(q), _sym(q.name),
                               q.l or None) for q in step.quantities()]
        self.by_name = {q.name: q for q in self.items}

    # --- the formula of each kind of quantity ------------------------------------------------

    def _s(self, name: str, s: int) -> str:
        return Labels.sample(name, s, len(self.step.samples))

    def _out(self, l: int, j: int, s: int) -> sp.Symbol:
        return _sym(self._s(self.step.labels.out(l, j), s))

    def _expr(self, q: Q):
        lab, layers = self.step.labels, self.step.layers
        if q.kind == "net":
            layer = layers[q.l - 1]
            b = lab.biases[q.l - 1][0 if layer.shared_bias else q.j]
            return sp.Add(*[sp.Mul(_sym(lab.weights[q.l - 1][q.j][k]), self._out(q.l - 1, k, q.s),
                                   evaluate=False) for k in range(layer.W.shape[1])],
                          _sym(b), evaluate=False)
        if q.kind == "out":
            return self._outs(q.l, q.s)[q.j]
        if q.kind == "E":
            return self._terms(q.s)[q.j]
        if q.kind == "E_total":
            return self._mean([sp.Add(*[_sym(self._s(lab.error(k), s)) for k in range(self.step.t.shape[1])],
                                      evaluate=False) for s in range(len(self.step.samples))])
        if q.kind in ("dE_da", "delta"):
            return self._backward(q.l, q.s)[q.kind][q.j]
        if q.kind == "dE_dx":  # Σ_j δ¹_j w¹_jk: what input k passed on to the first layer
            first = self.step.layers[0]
            return sp.Add(*[sp.Mul(_sym(self._s(lab.delta(1, j), q.s)), _sym(lab.weights[0][j][q.k]),
                                   evaluate=False) for j in range(first.W.shape[0])], evaluate=False)
        if q.kind.startswith("grad_"):
            return self._gradient(q)
        if q.kind.startswith("opt_"):
            kind, key = q.kind[4:].split(":")
            return self._optimizer(q.l, kind, q.j, q.k)[key]
        if q.kind.startswith("new_"):
            return self._update(q)
        return None  # the loss after the update: a whole forward pass

    def _outs(self, l: int, s: int) -> list:
        key = ("out", l, s)
        if key not in self._cache:
            layer = self.step.layers[l - 1]
            nets = [_sym(self._s(self.step.labels.net(l, j), s)) for j in range(layer.W.shape[0])]
            self._cache[key] = ACTIVATIONS[layer.activation].symbolic(nets)
        return self._cache[key]

    def _targets(self, s: int) -> list:
        return [_sym(self._s(Labels.target(k), s)) for k in range(self.step.t.shape[1])]

    def _terms(self, s: int) -> list:
        K = self.step.t.shape[1]
        a = _obj([self._out(len(self.step.layers), k, s) for k in range(K)])
        return list(self.loss.terms(a, _obj(self._targets(s)), SYMPY_OPS)[0])

    def _backward(self, l: int, s: int) -> dict:
        """∂E/∂out and δ of every neuron of layer l for sample s."""
        key = ("backward", l, s)
        if key in self._cache:
            return self._cache[key]
        lab, step = self.step.labels, self.step
        layer = step.layers[l - 1]
        act = ACTIVATIONS[layer.activation]
        J = range(layer.W.shape[0])
        outs = [self._out(l, j, s) for j in J]
        nets = [_sym(self._s(lab.net(l, j), s)) for j in J]
        dE_out = [_sym(lab.grad(o.name)) for o in outs]  # δ refers to ∂E/∂out by name
        deltas = None
        if l == len(step.layers):
            t = self._targets(s)
            dE_da = list(self.loss.dE_da(_obj(outs), _obj(t), SYMPY_OPS)[0])
            deltas = output_delta(self.loss, act, outs, nets, t, dE_out)
        else:
            nxt = step.layers[l]
            dE_da = [sp.Add(*[sp.Mul(_sym(self._s(lab.delta(l + 1, m), s)), _sym(lab.weights[l][m][j]),
                                     evaluate=False) for m in range(nxt.W.shape[0])], evaluate=False)
                     for j in J]
        if deltas is None:
            deltas = [sp.Mul(dE_out[j], act.prime(nets[j], outs[j], SYMPY_OPS), evaluate=False)
                      for j in J]
        self._cache[key] = {"dE_da": dE_da, "delta": deltas}
        return self._cache[key]

    def _mean(self, terms: list):
        """A batch quantity: the term of a single sample, or (1/n) Σ of the samples' terms."""
        if len(terms) == 1:
            return terms[0]
        return sp.Mul(sp.Rational(1, len(terms)), sp.Add(*terms, evaluate=False), evaluate=False)

    def _gradient(self, q: Q):
        lab, n = self.step.labels, len(self.step.samples)
        layer = self.step.layers[q.l - 1]
        if q.kind == "grad_W":
            return self._mean([sp.Mul(_sym(self._s(lab.delta(q.l, q.j), s)), self._out(q.l - 1, q.k, s),
                                      evaluate=False) for s in range(n)])
        if layer.shared_bias:
            return self._mean([sp.Add(*[_sym(self._s(lab.delta(q.l, j), s)) for j in range(layer.W.shape[0])],
                                      evaluate=False) for s in range(n)])
        return self._mean([_sym(self._s(lab.delta(q.l, q.j), s)) for s in range(n)])

    def _update(self, q: Q):
        lab, layer = self.step.labels, self.step.layers[q.l - 1]
        kind = q.kind[4:]
        p = lab.weights[q.l - 1][q.j][q.k] if kind == "W" else lab.biases[q.l - 1][q.j]
        trace = layer.update_W if kind == "W" else layer.update_b
        if trace is None:  # a frozen bias keeps its value
            return _sym(p)
        if self.step.optimizer_quantities()[kind] or not self.step.optimizer or self.step.optimizer.name != "sgd":
            return self._optimizer(q.l, kind, q.j, q.k)["new"]
        return sp.Add(_sym(p), sp.Mul(-1, _sym("η"), _sym(lab.grad(p)), evaluate=False),
                      evaluate=False)

    def _optimizer(self, l: int, kind: str, j: int, k: int) -> dict:
        """The optimizer's formulas for one parameter, one level deep: m = β1·m before +
        (1 − β1)·g, m̂ = m/(1 − β1ᵗ), w+ = w − η·m̂/(√v̂ + ε), in the parameter's names."""
        key = ("opt", l, kind, j, k)
        if key in self._cache:
            return self._cache[key]
        from ..engine.optim import SYMBOLS

        lab, step = self.step.labels, self.step
        p = lab.weights[l - 1][j][k] if kind == "W" else lab.biases[l - 1][j]
        shown = step.optimizer_quantities()[kind]

        def sym(role: str) -> sp.Symbol:
            if role == "dE":
                return _sym(lab.grad(p))
            if role == "w":
                return _sym(p)
            if role.endswith(" before"):
                return _sym(lab.state(role[:-7], p, before=True))
            if role in SYMBOLS:
                return _sym(SYMBOLS[role])
            return _sym(lab.state(role, p))

        opt = step.optimizer_object()
        with sp.evaluate(False):  # keep the textbook's order of terms: β1·m + (1 − β1)·g
            self._cache[key] = opt.symbolic(sym, step.optimizer.t, bias=kind == "b", named=shown)
        return self._cache[key]

    # --- values and display ----------------------------------------------------------------

    def values(self) -> dict[str, float]:
        """Every quantity's value by name, plus the given values."""
        out = dict(self.given)
        out.update({q.name: q.value for q in self.items})
        return out

    def evaluate(self, q: Quantity, values: dict[str, float]) -> float | None:
        """`q`'s formula with `values` substituted for its inputs (one level: out_h1 from a
        given net_h1), or None when it cannot be (the loss after the update, whose formula is
        a whole forward pass; an input missing; a value outside the formula's domain).  This is
        how a learner's later number is checked against the learner's own earlier ones."""
        if q.expr is None:
            return None
        fn, names = q.compiled
        try:
            return float(fn(*[float(values[n]) for n in names]))
        except (KeyError, ArithmeticError, ValueError):
            return None

    def as_text(self, q: Quantity, values: dict[str, float], precision: int) -> tuple[str, str]:
        """`q`'s formula as text, and with the numbers of `values` substituted."""
        if q.expr is None:
            return (f"{self.step.labels.total} recomputed with the updated parameters, on the same "
                    "samples"), ""
        subs = {s: sp.Symbol(self._number(s.name, values, precision)) for s in q.expr.free_symbols
                if s.name in values}
        with sp.evaluate(False):  # keep the formula's order of terms when numbers go in
            numbers = q.expr.xreplace(subs)
        return expr_text(q.expr), undoubled(expr_text(numbers))

    def as_latex(self, q: Quantity, values: dict[str, float], precision: int) -> tuple[str, str]:
        names = {s: sample_latex(s.name) for s in q.expr.free_symbols}
        plain = _plain_latex(q.expr)
        numbers = {s: latex_number(self._number(s.name, values, precision))
                   for s in q.expr.free_symbols if s.name in values}
        return plain, undoubled(sp.latex(q.expr, symbol_names={**names, **numbers},
                                         order="none", mul_symbol="dot"), latex=True)

    def _number(self, name: str, values: dict[str, float], precision: int) -> str:
        """A value as it goes into a formula: given values (inputs, targets, initial weights, η)
        as short as they are written, computed ones with `precision` decimals."""
        x = values[name]
        text = f"{x:.{max(precision, 1)}g}" if name in self.given else num(x, precision)
        return f"({text})" if text.startswith("-") else text
