"""SymPy: a network's loss for one sample as an expression in named symbols, and the textbook
chain-rule form of each gradient.

This room (maths/) is the only one that imports SymPy; the command line imports it only for
`verify` and `--check`.  The loss expression is built from the activations' and the loss's
`symbolic` forms, so SymPy's derivative of it involves no derivative code of the engine.  The
chain-rule form shown beside it is built from the same `prime`, `dE_da` and `fused` formula
objects the engine calls, applied to symbols instead of arrays.
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
    step=_elementwise(lambda z: sp.Piecewise((1, z > 0), (0, True))),
    log=_elementwise(sp.log),
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
    """A network's loss for one sample as a SymPy expression in named symbols.

    Symbols: the inputs (labels.inputs), every weight and bias (by display name; a shared bias
    is one symbol feeding every neuron of its layer) and the targets t1..tK.
    """

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
        a = self.x
        self.zs, self.acts = [], [a]
        for l, act in enumerate(self.activations):
            z = [sum(w * ai for w, ai in zip(row, a)) + self.b[l][0 if shared[l] else j]
                 for j, row in enumerate(self.W[l])]
            a = act.symbolic(z)
            self.zs.append(z)
            self.acts.append(a)
        terms = self.loss.terms(_obj(a), _obj(self.t), SYMPY_OPS)
        self.E = sum(terms[0])
        self._grad_fn = None
        self._names = {s: latex_name(s.name) for s in self.x + self.t + self.params}

    @property
    def args(self) -> list:
        return self.x + self.t + self.params

    def gradient_function(self):
        """f(x…, t…, θ…) → [∂E/∂θ for every θ], lambdified once with common subexpressions."""
        if self._grad_fn is None:
            derivs = [sp.diff(self.E, p) for p in self.params]
            self._grad_fn = sp.lambdify(self.args, derivs, modules="math", cse=True)
        return self._grad_fn

    # --- the chain-rule form, from the engine's own formula objects ---------------------------

    def out_symbol(self, l: int, j: int) -> sp.Symbol:
        return sp.Symbol(self.labels.out(l, j), real=True)

    def delta_factors(self, l: int, j: int) -> list:
        """δ of neuron j of layer l as factors [∂E/∂out, ∂out/∂net] (or [δ] when the loss's fused
        form or a softmax Jacobian applies)."""
        L = len(self.activations)
        act = self.activations[l - 1]
        a = [self.out_symbol(l, m) for m in range(len(self.W[l - 1]))]
        net = sp.Symbol(self.labels.net(l, j), real=True)
        if l == L:
            nets = [sp.Symbol(self.labels.net(l, m), real=True) for m in range(len(a))]
            dE_da = list(self.loss.dE_da(_obj(a), _obj(self.t))[0])
            deltas = output_delta(self.loss, act, a, nets, self.t, dE_da)
            if deltas is not None:
                return [deltas[j]]
            return [dE_da[j], act.prime(net, a[j], SYMPY_OPS)]
        nxt = [sp.Symbol(self.labels.delta(l + 1, m), real=True) for m in range(len(self.W[l]))]
        dE_da = sum(d * row[j] for d, row in zip(nxt, self.W[l]))
        return [dE_da, act.prime(net, a[j], SYMPY_OPS)]

    def chain_rule(self, name: str) -> tuple[str, str]:
        """The textbook chain-rule form of ∂E/∂name, as text and as LaTeX."""
        for l in range(1, len(self.activations) + 1):
            for j, row in enumerate(self.labels.weights[l - 1]):
                for k, wname in enumerate(row):
                    if wname == name:
                        return self._render(self.delta_factors(l, j) + [self.out_symbol(l - 1, k)], name)
            bnames = self.labels.biases[l - 1]
            if name in bnames:
                if self.shared[l - 1]:
                    parts = [sp.Symbol(self.labels.delta(l, j), real=True) for j in range(len(self.W[l - 1]))]
                    return self._render([sp.Add(*parts, evaluate=False)], name)
                return self._render(self.delta_factors(l, bnames.index(name)), name)
        raise KeyError(name)

    def _render(self, factors: list, name: str) -> tuple[str, str]:
        names = dict(self._names)
        for f in factors:
            for s in f.free_symbols:
                names.setdefault(s, latex_name(s.name))
        text = " · ".join(factor_text(f) for f in factors)
        tex = r" \cdot ".join(_factor_latex(f, names) for f in factors)
        lhs = rf"\frac{{\partial {latex_name(self.labels.total)}}}{{\partial {latex_name(name)}}}"
        return f"∂E/∂{name} = {text}", f"{lhs} = {tex}"


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
