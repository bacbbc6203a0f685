"""The identities behind backprop, each taken from the engine's own formula objects and checked
symbolically against SymPy's derivative of the function itself: a wrong derivative in
engine/functions.py fails a row here."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from ..engine.functions import ACTIVATIONS, LOSSES
from .symbolic import SYMPY_OPS, _obj


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
    return _derivative_rows() + _softmax_rows() + _sigmoid_output_rows() + _recurrence_rows()


def _derivative_rows() -> list[IdentityRow]:
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
    return rows


def _softmax_rows() -> list[IdentityRow]:
    rows = []
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
    return rows


def _sigmoid_output_rows() -> list[IdentityRow]:
    z = sp.Symbol("z", real=True)
    rows = []
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
    return rows


def _recurrence_rows() -> list[IdentityRow]:
    """The hidden recurrence and the gradient formulas, on a 2-2-2 sigmoid network in symbols."""
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
