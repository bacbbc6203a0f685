"""SymPy: the loss as an expression in named symbols, its derivatives, the identities behind
backprop, and a high-precision recomputation of a step.

This is the only module that imports SymPy (the CLI imports it only for `verify` and `--check`).
Three independent values are compared for every parameter of a traced step:
  - SymPy's derivative of the loss expression built from the activations' and loss's `symbolic`
    forms (no derivative code of the engine is involved),
  - the engine's backprop value from the trace,
  - a central finite difference of the engine's forward pass.
The chain-rule form shown beside them is built from the same `prime`, `dE_da` and `fused` formula
objects the engine calls, applied to symbols instead of arrays.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import sympy as sp

from .functions import ACTIVATIONS, LOSSES
from .network import Layer, Network
from .trace import Labels, Step

def _elementwise(fn):
    """Apply a scalar SymPy function to an expression or to each cell of an object array."""
    vectorized = np.vectorize(fn, otypes=[object])
    return lambda x: vectorized(x) if isinstance(x, np.ndarray) else fn(x)


# The counterpart of functions.NUMPY_OPS: the same formulas, evaluated on SymPy expressions.
SYMPY_OPS = SimpleNamespace(
    step=_elementwise(lambda z: sp.Piecewise((1, z > 0), (0, True))),
    log=_elementwise(sp.log),
)

DEFAULT_TOLERANCE = 1e-6
FD_STEP = 1e-6


def _obj(values) -> np.ndarray:
    """A (1, K) object array of SymPy expressions: the engine's formulas accept it like floats."""
    arr = np.empty((1, len(values)), dtype=object)
    arr[0, :] = list(values)
    return arr


# --------------------------------------------------------------------------------------------
# Display: symbol names as LaTeX
# --------------------------------------------------------------------------------------------

_INDEXED = re.compile(r"^(W|b|z|a|delta|n)(\d+)\[([\d,]+)\]$")
_NAMED = re.compile(r"^(net|out|delta|E)_(.+)$")


def latex_name(name: str) -> str:
    """LaTeX for a display name: W2[1,2] → W^{(2)}_{1,2}, out_h1 → out_{h1}, w5 → w_{5},
    dE/dw5 → ∂E/∂w_5 as a fraction, w5+ → w_{5}^{+}."""
    if name == "η":
        return r"\eta"
    if name.startswith("dE/d"):
        return rf"\frac{{\partial E}}{{\partial {latex_name(name[4:])}}}"
    if name.endswith("+"):
        return f"{latex_name(name[:-1])}^{{+}}"
    m = _INDEXED.match(name)
    if m:
        base = r"\delta" if m.group(1) == "delta" else m.group(1)
        return f"{base}^{{({m.group(2)})}}_{{{m.group(3)}}}"
    m = _NAMED.match(name)
    if m:
        base = {"delta": r"\delta", "E": "E"}.get(m.group(1), rf"\mathrm{{{m.group(1)}}}")
        sub = r"\mathrm{total}" if m.group(2) == "total" else m.group(2)
        return f"{base}_{{{sub}}}"
    m = re.match(r"^([A-Za-z]+)(\d+)$", name)
    if m:
        return f"{m.group(1)}_{{{m.group(2)}}}"
    return name


def _factor_latex(expr, names) -> str:
    text = sp.latex(expr, symbol_names=names)
    return rf"\left({text}\right)" if isinstance(expr, sp.Add) else text


def _factor_text(expr) -> str:
    text = sp.sstr(expr, order="none").replace("**2", "²").replace("*", "·").replace("-", "−")
    text = text.replace("delta_", "δ_").replace("delta", "δ")
    return f"({text})" if isinstance(expr, sp.Add) else text


# --------------------------------------------------------------------------------------------
# The network as expressions
# --------------------------------------------------------------------------------------------


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
        text = " · ".join(_factor_text(f) for f in factors)
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


# --------------------------------------------------------------------------------------------
# Gradient rows
# --------------------------------------------------------------------------------------------


@dataclass
class GradientRow:
    name: str
    chain: str  # textbook chain-rule form
    latex: str
    sympy: float
    backprop: float
    finite_difference: float
    tolerance: float

    @property
    def diff(self) -> float:
        return max(abs(self.sympy - self.backprop), abs(self.finite_difference - self.backprop))

    @property
    def ok(self) -> bool:
        return self.diff <= self.tolerance * max(1.0, abs(self.sympy))

    def to_json(self) -> dict:
        return {"name": self.name, "chain_rule": self.chain, "latex": self.latex,
                "sympy": self.sympy, "backprop": self.backprop,
                "finite_difference": self.finite_difference, "max_abs_diff": self.diff,
                "pass": self.ok}


def network_before(step: Step, loss) -> Network:
    """The network as it was before the step's update, rebuilt from the trace."""
    layers = [Layer(lt.W.copy(), lt.b.copy(), ACTIVATIONS[lt.activation], lt.bias_trainable)
              for lt in step.layers]
    return Network(layers, loss, step.labels)


def check_gradients(step: Step, loss, tolerance: float = DEFAULT_TOLERANCE) -> list[GradientRow]:
    """One row per parameter: SymPy's derivative, the engine's value, a central difference."""
    sym = symbolic_network(step, loss.name)
    f = sym.gradient_function()
    before = step.params_before()
    theta = [before[p.name] for p in sym.params]
    n = step.x.shape[0]
    sym_vals = np.zeros(len(theta))
    for s in range(n):
        sym_vals += np.array(f(*step.x[s], *step.t[s], *theta), dtype=float)
    sym_vals /= n  # the batch loss is the mean of the samples' losses
    fd = _finite_differences(network_before(step, loss), step)
    grads = step.grads()
    rows = []
    for i, p in enumerate(sym.params):
        chain, tex = sym.chain_rule(p.name)
        rows.append(GradientRow(p.name, chain, tex, float(sym_vals[i]), grads[p.name],
                                fd[p.name], tolerance))
    return rows


def _finite_differences(net: Network, step: Step) -> dict[str, float]:
    out = {}
    x, t = step.x, step.t
    for layer, w_names, b_names in zip(net.layers, step.labels.weights, step.labels.biases):
        for param, names in ((layer.W, [n for row in w_names for n in row]), (layer.b, b_names)):
            flat = param.reshape(-1)
            for i, name in enumerate(names):
                old = flat[i]
                flat[i] = old + FD_STEP
                up = net.mean_loss(x, t)
                flat[i] = old - FD_STEP
                down = net.mean_loss(x, t)
                flat[i] = old
                out[name] = (up - down) / (2 * FD_STEP)
    return out


# --------------------------------------------------------------------------------------------
# The identities behind backprop
# --------------------------------------------------------------------------------------------


@dataclass
class IdentityRow:
    name: str
    textbook: str
    found: str
    holds: bool

    def to_json(self) -> dict:
        return {"identity": self.name, "textbook": self.textbook, "sympy_found": self.found,
                "holds": self.holds}


def _zero(differences) -> tuple[str, bool]:
    """Whether every expression in `differences` is identically zero.

    First a counterexample search: the difference evaluated at a few random points; a value
    clearly away from zero proves the identity false.  Then the proof: each distinct exponential
    becomes an independent positive symbol and the result is cancelled as a rational function
    (zero there means zero for all inputs); failing that, SymPy's general `simplify` decides.
    """
    rng = np.random.default_rng(0)
    for expr in differences:
        expr = sp.sympify(expr)
        symbols = sorted(expr.free_symbols, key=lambda s: s.name)
        try:
            f = sp.lambdify(symbols, expr, modules="math")
        except (TypeError, NameError, ValueError, SyntaxError):
            f = None  # not numerically evaluable here: leave it to the symbolic proof
        for _ in range(2 if f is not None else 0):
            point = {s: rng.uniform(0.1, 1.0) * (1 if s.is_positive else rng.choice([-1, 1]))
                     for s in symbols}
            try:
                value = complex(f(*point.values()))
            except (TypeError, NameError, ValueError, ArithmeticError):
                break
            if abs(value) > 1e-9:
                at = ", ".join(f"{s}={float(v):.3g}" for s, v in point.items())
                return f"difference is {value.real:.6g} at {at}, not 0", False
        exps: dict = {}
        rational = expr.replace(lambda q: isinstance(q, sp.exp),
                                lambda q: exps.setdefault(q, sp.Dummy(positive=True)))
        if sp.cancel(sp.together(rational)) == 0:
            continue
        residual = sp.simplify(expr)
        if residual != 0:
            return f"difference = {sp.sstr(residual)}", False
    return "difference simplifies to 0", True


def check_identities() -> list[IdentityRow]:
    """Each formula the engine relies on, taken from the engine's own objects, against SymPy's
    derivative of the function itself.  A wrong derivative in functions.py fails a row here."""
    z = sp.Symbol("z", real=True)
    p = sp.Symbol("p", positive=True)
    rows = []

    def elementwise(name: str, label: str, at=(z,)):
        act = ACTIVATIONS[name]
        textbook = act.prime_formula
        a = act.symbolic([z])[0]
        difference = sp.diff(a, z) - act.prime(z, a, SYMPY_OPS)
        found, ok = _zero([difference.subs(z, point) for point in at])
        if name == "relu":
            found += " (for z > 0 and z < 0; relu′(0) is taken as 0)"
        rows.append(IdentityRow(label, textbook, found, ok))

    elementwise("sigmoid", "sigmoid derivative")
    elementwise("tanh", "tanh derivative")
    elementwise("relu", "relu derivative", at=(p, -p))
    elementwise("identity", "identity derivative")

    # Softmax Jacobian: the engine's backprop through softmax, applied to symbols g_k = ∂E/∂a_k,
    # against Σ_k g_k ∂a_k/∂z_j from SymPy's derivative of softmax itself.
    softmax = ACTIVATIONS["softmax"]
    K = 3
    zs = sp.symbols(f"z1:{K + 1}", real=True)
    gs = sp.symbols(f"g1:{K + 1}", real=True)
    a = softmax.symbolic(list(zs))
    engine = softmax.backprop(_obj(gs), _obj(zs), _obj(a))[0]
    found, ok = _zero([engine[j] - sum(gs[k] * sp.diff(a[k], zs[j]) for k in range(K))
                       for j in range(K)])
    rows.append(IdentityRow("softmax Jacobian", softmax.prime_formula, found, ok))

    # Softmax + cross-entropy: δ = a − y for one-hot y (each of the K one-hot targets).
    ce = LOSSES["cross-entropy"]
    differences = []
    for hot in range(K):
        y = [1 if k == hot else 0 for k in range(K)]
        E = sum(ce.terms(_obj(a), _obj(y), SYMPY_OPS)[0])
        fused = ce.fused["softmax"](_obj(a), _obj(y))[0]
        differences += [sp.diff(E, zs[j]) - fused[j] for j in range(K)]
    found, ok = _zero(differences)
    rows.append(IdentityRow("softmax + cross-entropy",
                            ce.fused_formula["softmax"] + " (one-hot t)", found, ok))

    # Sigmoid + binary cross-entropy: δ = a − t.
    sig = ACTIVATIONS["sigmoid"]
    t = sp.Symbol("t", real=True)
    bce = LOSSES["binary-cross-entropy"]
    a1 = sig.symbolic([z])[0]
    E = bce.terms(_obj([a1]), _obj([t]), SYMPY_OPS)[0, 0]
    found, ok = _zero([sp.diff(E, z) - bce.fused["sigmoid"](_obj([a1]), _obj([t]))[0, 0]])
    rows.append(IdentityRow("sigmoid + binary cross-entropy", bce.fused_formula["sigmoid"], found, ok))

    # Half-sse with a sigmoid output: δ = (a − t) a (1 − a), from the engine's dE_da and prime.
    half = LOSSES["half-sse"]
    E = half.terms(_obj([a1]), _obj([t]), SYMPY_OPS)[0, 0]
    engine = half.dE_da(_obj([a1]), _obj([t]))[0, 0] * sig.prime(z, a1, SYMPY_OPS)
    found, ok = _zero([sp.diff(E, z) - engine])
    rows.append(IdentityRow("half-sse + sigmoid output",
                            f"δ = ∂E/∂a · σ′ with {half.dE_da_formula}: δ = (a − t) a (1 − a)",
                            found, ok))

    # The hidden recurrence and the gradient formulas, on a 2-2-2 sigmoid network in symbols.
    rows.extend(_recurrence_rows())
    return rows


def _recurrence_rows() -> list[IdentityRow]:
    sig = ACTIVATIONS["sigmoid"]
    half = LOSSES["half-sse"]
    x = sp.symbols("x1:3", real=True)
    t = sp.symbols("t1:3", real=True)
    W1 = sp.Matrix(2, 2, lambda j, k: sp.Symbol(f"u{j + 1}{k + 1}", real=True))
    W2 = sp.Matrix(2, 2, lambda j, k: sp.Symbol(f"v{j + 1}{k + 1}", real=True))
    b1 = sp.symbols("c1:3", real=True)
    b2 = sp.symbols("d1:3", real=True)
    z1 = [sum(W1[j, k] * x[k] for k in range(2)) + b1[j] for j in range(2)]
    a1 = sig.symbolic(z1)
    z2 = [sum(W2[j, k] * a1[k] for k in range(2)) + b2[j] for j in range(2)]
    a2 = sig.symbolic(z2)
    E = sum(half.terms(_obj(a2), _obj(t), SYMPY_OPS)[0])
    # δ² by the engine's formulas; δ¹ by the recurrence (W²)ᵀ δ² ⊙ σ′(z¹)
    d2 = [half.dE_da(_obj(a2), _obj(t))[0, j] * sig.prime(z2[j], a2[j], SYMPY_OPS) for j in range(2)]
    d1 = [sum(W2[m, j] * d2[m] for m in range(2)) * sig.prime(z1[j], a1[j], SYMPY_OPS) for j in range(2)]
    # SymPy's own ∂E/∂z¹_j: differentiate E with z¹ as free symbols
    zeta = sp.symbols("zeta1:3", real=True)
    a1_free = sig.symbolic(list(zeta))
    z2_free = [sum(W2[j, k] * a1_free[k] for k in range(2)) + b2[j] for j in range(2)]
    E_free = sum(half.terms(_obj(sig.symbolic(z2_free)), _obj(t), SYMPY_OPS)[0])
    back = {zeta[j]: z1[j] for j in range(2)}
    rec = [sp.diff(E_free, zeta[j]).subs(back) - d1[j] for j in range(2)]
    # ∂E/∂W¹ = δ¹ (a⁰)ᵀ and ∂E/∂b¹ = δ¹, against SymPy's derivative of E
    gW = [sp.diff(E, W1[j, k]) - d1[j] * x[k] for j in range(2) for k in range(2)]
    gb = [sp.diff(E, b1[j]) - d1[j] for j in range(2)]
    rows = []
    for name, textbook, residual in (
        ("hidden recurrence", "δˡ = (Wˡ⁺¹)ᵀ δˡ⁺¹ ⊙ σ′(zˡ)", rec),
        ("weight gradient", "∂E/∂Wˡ = δˡ (aˡ⁻¹)ᵀ", gW),
        ("bias gradient", "∂E/∂bˡ = δˡ", gb),
    ):
        found, ok = _zero(residual)
        rows.append(IdentityRow(name, textbook, found, ok))
    return rows


# --------------------------------------------------------------------------------------------
# High precision
# --------------------------------------------------------------------------------------------


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
