"""SymPy's side of the formula objects: the operations they need on expressions (SYMPY_OPS),
and a network's symbols by display name with the textbook chain-rule form of each gradient.

This room (maths/) is the only one that imports SymPy; the command line imports it only for
`verify` and `--check`.  The chain-rule form is built from the same `prime`, `dE_da` and `fused`
formula objects the engine calls, applied to symbols instead of arrays; SymPy's own derivative
of the loss, which involves none of them, is maths/partials.py's.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import sympy as sp

from ..engine.functions import ACTIVATIONS, LOSSES
from ..notation import factor_text, latex_name
from ..record.labels import Labels
from ..record.trace import Step


def _elementwise(fn):
    """Apply a scalar SymPy function to an expression or to each cell of an object array."""
    vectorized = np.vectorize(fn, otypes=[object])
    return lambda x: vectorized(x) if isinstance(x, np.ndarray) else fn(x)


# The counterpart of functions.NUMPY_OPS: the same formulas, evaluated on SymPy expressions.
SYMPY_OPS = SimpleNamespace(
    div=lambda num, den: num / den,
    step=_elementwise(lambda z: sp.Piecewise((1, z > 0), (0, True))),
    log=_elementwise(sp.log),
    softplus=_elementwise(lambda v: sp.log(1 + sp.exp(v))),
    logsumexp=lambda z: _obj([sp.log(sp.Add(*[sp.exp(v) for v in row])) for row in z]).T,
)


def _obj(values) -> np.ndarray:
    """A (1, K) object array of SymPy expressions: the engine's formulas accept it like floats."""
    arr = np.empty((1, len(values)), dtype=object)
    arr[0, :] = list(values)
    return arr


def _factor_latex(expr, names) -> str:
    text = sp.latex(expr, symbol_names=names)
    return rf"\left({text}\right)" if isinstance(expr, sp.Add) else text


def output_delta(loss, act, outs: list, nets: list, t: list, dE_da: list) -> list | None:
    """δ_j of an output layer as expressions, from the engine's own formula objects: the loss's
    fused form for this activation (a − t after softmax + cross-entropy), or the softmax Jacobian
    applied to `dE_da`; None when δ is the plain product ∂E/∂a · f′(z)."""
    fused = loss.fused.get(act.name)
    if fused is not None:
        return list(fused(_obj(outs), _obj(t))[0])
    if act.prime is None:
        return list(act.backprop(_obj(dE_da), _obj(nets), _obj(outs))[0])
    return None


class SymbolicNetwork:
    """A network's symbols by display name (inputs, weights, biases, targets t1..tK; a shared
    bias is one symbol feeding every neuron of its layer) and the textbook chain-rule form of
    each gradient.  SymPy's derivative itself is maths/partials.py's."""

    def __init__(self, labels: Labels, activations: list[str], loss_name: str, shared: list[bool]):
        self.labels = labels
        self.activations = [ACTIVATIONS[name] for name in activations]
        self.loss = LOSSES[loss_name]
        self.shared = shared
        self.x = [sp.Symbol(n, real=True) for n in labels.inputs]
        K = len(labels.neurons[-1])
        self.t = [sp.Symbol(f"t{k + 1}", real=True) for k in range(K)]
        self.W = [[[sp.Symbol(n, real=True) for n in row] for row in layer] for layer in labels.weights]
        self.b = [[sp.Symbol(n, real=True) for n in layer] for layer in labels.biases]
        self.params = [s for Wl, bl in zip(self.W, self.b) for s in [w for row in Wl for w in row] + bl]
        self._names = {s: latex_name(s.name) for s in self.x + self.t + self.params}
        self._where = None  # parameter name -> (l, kind, j, k)
        self._shown: dict = {}  # factor -> (text, LaTeX)
        self._deltas: dict = {}  # (l, j) -> δ's factors

    # --- the chain-rule form, from the engine's own formula objects ---------------------------

    def out_symbol(self, l: int, j: int) -> sp.Symbol:
        return sp.Symbol(self.labels.out(l, j), real=True)

    def delta_factors(self, l: int, j: int) -> list:
        """δ of neuron j of layer l as factors [∂E/∂out, ∂out/∂net] (or [δ] when the loss's fused
        form or a softmax Jacobian applies)."""
        if (l, j) not in self._deltas:
            self._deltas[l, j] = self._delta_factors(l, j)
        return self._deltas[l, j]

    def _delta_factors(self, l: int, j: int) -> list:
        L = len(self.activations)
        act = self.activations[l - 1]
        a = [self.out_symbol(l, m) for m in range(len(self.W[l - 1]))]
        net = sp.Symbol(self.labels.net(l, j), real=True)
        if l == L:
            nets = [sp.Symbol(self.labels.net(l, m), real=True) for m in range(len(a))]
            dE_da = list(self.loss.dE_da(_obj(a), _obj(self.t), SYMPY_OPS)[0])
            deltas = output_delta(self.loss, act, a, nets, self.t, dE_da)
            if deltas is not None:
                return [deltas[j]]
            return [dE_da[j], act.prime(net, a[j], SYMPY_OPS)]
        nxt = [sp.Symbol(self.labels.delta(l + 1, m), real=True) for m in range(len(self.W[l]))]
        dE_da = sum(d * row[j] for d, row in zip(nxt, self.W[l]))
        return [dE_da, act.prime(net, a[j], SYMPY_OPS)]

    def chain_rule(self, name: str) -> tuple[str, str]:
        """The textbook chain-rule form of ∂E/∂name, as text and as LaTeX."""
        if self._where is None:
            self._where = {pname: (l, kind, j, k) for l, kind, j, k, pname in self.labels.parameters()}
        l, kind, j, k = self._where[name]
        if kind == "W":
            return self._render(self.delta_factors(l, j) + [self.out_symbol(l - 1, k)], name)
        if self.shared[l - 1]:
            parts = [sp.Symbol(self.labels.delta(l, m), real=True) for m in range(len(self.W[l - 1]))]
            return self._render([sp.Add(*parts, evaluate=False)], name)
        return self._render(self.delta_factors(l, j), name)

    def _render(self, factors: list, name: str) -> tuple[str, str]:
        shown = [self._factor(f) for f in factors]
        text = " · ".join(t for t, _ in shown)
        tex = r" \cdot ".join(t for _, t in shown)
        lhs = rf"\frac{{\partial {latex_name(self.labels.total)}}}{{\partial {latex_name(name)}}}"
        return f"∂E/∂{name} = {text}", f"{lhs} = {tex}"

    def _factor(self, f) -> tuple[str, str]:
        """A factor as text and LaTeX, each written once (a neuron's δ factors recur in the
        chain rule of every weight into it)."""
        if f not in self._shown:
            names = {s: self._names.get(s) or latex_name(s.name) for s in f.free_symbols}
            self._shown[f] = (factor_text(f), _factor_latex(f, names))
        return self._shown[f]


_CACHE: dict = {}


def symbolic_network(step: Step, loss_name: str) -> SymbolicNetwork:
    labels = step.labels
    # keyed by the formula objects themselves, so a swapped-in activation is never served stale
    key = (repr(labels), tuple(id(ACTIVATIONS[l.activation]) for l in step.layers),
           id(LOSSES[loss_name]), tuple(l.shared_bias for l in step.layers))
    if key not in _CACHE:
        _CACHE[key] = SymbolicNetwork(labels, [l.activation for l in step.layers], loss_name,
                                      [l.shared_bias for l in step.layers])
    return _CACHE[key]
