"""The identities behind backprop, checked symbolically against SymPy's derivative of the
function itself.  The rows of an activation or a loss (and the hidden recurrence) take their
formulas from the engine's own objects, so a wrong derivative in engine/functions.py fails a
row here; the weight- and bias-gradient rows state the chain rule through z = W a + b itself,
which holds for any engine."""

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

    The proof: the exponentials become powers of independent positive symbols (e^(2z − w) =
    D_z² / D_w), the result is written as one fraction, and its numerator expands to 0 (zero
    there means zero for all inputs).  Failing that, a counterexample search: the difference at
    a few random points, where a value clearly away from zero proves the identity false; and
    then SymPy's general `simplify` decides.
    """
    for expr in differences:
        expr = sp.sympify(expr)
        numerator = sp.together(_exponentials_as_powers(expr)).as_numer_denom()[0]
        if sp.expand(numerator) == 0:
            continue
        counterexample = _counterexample(expr)
        if counterexample:
            return counterexample, False
        residual = sp.simplify(expr)
        if residual != 0:
            return f"difference = {sp.sstr(residual)}", False
    return "difference simplifies to 0", True


def _counterexample(expr) -> str | None:
    rng = np.random.default_rng(0)
    symbols = sorted(expr.free_symbols, key=lambda s: s.name)
    for _ in range(2):
        point = {s: sp.Float(rng.uniform(0.1, 1.0) * (1 if s.is_positive else rng.choice([-1, 1])))
                 for s in symbols}
        try:
            value = complex(expr.xreplace(point))
        except (TypeError, ValueError, ArithmeticError):
            return None  # not numerically evaluable here: leave it to `simplify`
        if abs(value) > 1e-9:
            at = ", ".join(f"{s}={float(v):.3g}" for s, v in point.items())
            return f"difference is {value.real:.6g} at {at}, not 0"
    return None


def _exponentials_as_powers(expr):
    """`expr` with every e^(c·u) written as D^c, one positive symbol D per exponent u taken
    without its rational factor and sign, so that the e^z, e^(2z) and e^(−z) SymPy writes become
    powers of one symbol and cancel."""
    bases: dict = {}

    def power(e):
        c, u = e.args[0].as_content_primitive()
        if u.could_extract_minus_sign():
            c, u = -c, -u
        return bases.setdefault(u, sp.Dummy(positive=True)) ** c

    return expr.replace(lambda q: isinstance(q, sp.exp), power)


ELEMENTWISE = {"sigmoid": "sigmoid derivative", "tanh": "tanh derivative",
               "relu": "relu derivative", "identity": "identity derivative"}


def check_identities(activations: list[str] | None = None, loss: str | None = None,
                     progress=None) -> list[IdentityRow]:
    """Each formula the engine relies on, taken from the engine's own objects, against SymPy's
    derivative of the function itself.  A wrong derivative in functions.py fails a row here.

    With `activations` (one name per layer, the output last) and `loss`, only the formulas such
    a network uses: each activation's derivative, the softmax Jacobian, and the fused output
    delta of its output activation and loss.  The hidden recurrence and the gradient formulas
    hold for every network and are always checked.  Without them, every formula.
    `progress(done, total)` is called as each group of rows is checked."""
    used = None if activations is None else {ACTIVATIONS[a].name for a in activations}
    output = None if activations is None else ACTIVATIONS[activations[-1]].name
    loss = None if loss is None else LOSSES[loss].name

    def uses(name: str) -> bool:
        return used is None or name in used

    def pair(out: str, loss_name: str) -> bool:
        return output in (None, out) and loss in (None, loss_name)

    checks = [(_derivative_row, name, label) for name, label in ELEMENTWISE.items() if uses(name)]
    if uses("softmax"):
        checks.append((_softmax_jacobian_row,))
    if pair("softmax", "cross-entropy"):
        checks.append((_softmax_cross_entropy_row,))
    if pair("sigmoid", "binary-cross-entropy"):
        checks.append((_sigmoid_bce_row,))
    if pair("sigmoid", "half-sse"):
        checks.append((_half_sse_sigmoid_row,))
    hidden = [] if activations is None else [ACTIVATIONS[a].name for a in activations[:-1]]
    hidden = [h for h in dict.fromkeys(hidden) if h in ELEMENTWISE] or \
        (list(ELEMENTWISE) if activations is None else ["sigmoid"])
    checks.append((_recurrence_rows, hidden))
    rows = []
    for i, (check, *args) in enumerate(checks):
        found = check(*args)
        rows += found if isinstance(found, list) else [found]
        if progress:
            progress(i + 1, len(checks))
    return rows


def _derivative_row(name: str, label: str) -> IdentityRow:
    z = sp.Symbol("z", real=True)
    p = sp.Symbol("p", positive=True)
    act = ACTIVATIONS[name]
    a = act.symbolic([z])[0]
    difference = sp.diff(a, z) - act.prime(z, a, SYMPY_OPS)
    # relu′ is checked on each side of its kink and at it, where both take relu′(0) = 0
    points = (p, -p, 0) if act.kink is not None else (z,)
    found, ok = _zero([difference.subs(z, point) for point in points])
    if act.kink is not None:
        found += " (for z > 0, z < 0 and at z = 0: relu′(0) = 0)"
    return IdentityRow(label, act.prime_formula, found, ok)


def _softmax_jacobian_row() -> IdentityRow:
    # The engine's backprop through softmax, applied to symbols g_k = ∂E/∂a_k, against
    # Σ_k g_k ∂a_k/∂z_j from SymPy's derivative of softmax itself.
    softmax = ACTIVATIONS["softmax"]
    zs, gs = sp.symbols("z1:4", real=True), sp.symbols("g1:4", real=True)
    a = softmax.symbolic(list(zs))
    engine = softmax.backprop(_obj(gs), _obj(zs), _obj(a))[0]
    found, ok = _zero([engine[j] - sum(gs[k] * sp.diff(a[k], zs[j]) for k in range(3))
                       for j in range(3)])
    return IdentityRow("softmax Jacobian", softmax.prime_formula, found, ok)


def _softmax_cross_entropy_row() -> IdentityRow:
    # δ = a − y for one-hot y (each of the K one-hot targets).
    zs = sp.symbols("z1:4", real=True)
    a = ACTIVATIONS["softmax"].symbolic(list(zs))
    ce = LOSSES["cross-entropy"]
    differences = []
    for hot in range(3):
        y = [1 if k == hot else 0 for k in range(3)]
        E = sum(ce.terms(_obj(a), _obj(y), SYMPY_OPS)[0])
        fused = ce.fused["softmax"](_obj(a), _obj(y))[0]
        differences += [sp.diff(E, zs[j]) - fused[j] for j in range(3)]
    found, ok = _zero(differences)
    return IdentityRow("softmax + cross-entropy", ce.fused_formula["softmax"] + " (one-hot t)",
                       found, ok)


def _sigmoid_bce_row() -> IdentityRow:
    # δ = a − t
    z, t = sp.Symbol("z", real=True), sp.Symbol("t", real=True)
    bce = LOSSES["binary-cross-entropy"]
    a1 = ACTIVATIONS["sigmoid"].symbolic([z])[0]
    E = bce.terms(_obj([a1]), _obj([t]), SYMPY_OPS)[0, 0]
    found, ok = _zero([sp.diff(E, z) - bce.fused["sigmoid"](_obj([a1]), _obj([t]))[0, 0]])
    return IdentityRow("sigmoid + binary cross-entropy", bce.fused_formula["sigmoid"], found, ok)


def _half_sse_sigmoid_row() -> IdentityRow:
    # δ = (a − t) a (1 − a), from the engine's dE_da and prime
    z, t = sp.Symbol("z", real=True), sp.Symbol("t", real=True)
    sig, half = ACTIVATIONS["sigmoid"], LOSSES["half-sse"]
    a1 = sig.symbolic([z])[0]
    E = half.terms(_obj([a1]), _obj([t]), SYMPY_OPS)[0, 0]
    engine = half.dE_da(_obj([a1]), _obj([t]), SYMPY_OPS)[0, 0] * sig.prime(z, a1, SYMPY_OPS)
    found, ok = _zero([sp.diff(E, z) - engine])
    return IdentityRow("half-sse + sigmoid output",
                       f"δ = ∂E/∂a · σ′ with {half.dE_da_formula}: δ = (a − t) a (1 − a)",
                       found, ok)


def _recurrence_rows(hidden: list[str]) -> list[IdentityRow]:
    """The hidden recurrence, with each element-wise activation in `hidden`, and the gradient
    formulas.

    The loss is written as E = Σ_m g_m z_m of the next layer's net inputs, with symbols g_m:
    the chain rule involves only E's first derivatives, and these are g = δ of that layer, so
    what holds for every g holds for every loss and output layer."""
    rows = []
    W = sp.Matrix(2, 2, lambda m, j: sp.Symbol(f"v{m + 1}{j + 1}", real=True))
    g = sp.symbols("g1:3", real=True)
    zeta = sp.symbols("zeta1:3", real=True)
    p = sp.Symbol("p", positive=True)
    residuals = []
    for name in hidden:
        act = ACTIVATIONS[name]
        a = act.symbolic(list(zeta))
        E = sum(g[m] * (W[m, 0] * a[0] + W[m, 1] * a[1]) for m in range(2))
        # δ by the recurrence (W²)ᵀ δ² ⊙ f′(z), f′ from the engine's formula object
        delta = [sum(W[m, j] * g[m] for m in range(2)) * act.prime(zeta[j], a[j], SYMPY_OPS)
                 for j in range(2)]
        rec = [sp.diff(E, zeta[j]) - delta[j] for j in range(2)]
        if name == "relu":  # on each side of its kink, where relu′ is defined
            rec = [r.subs({zeta[0]: side, zeta[1]: side}) for r in rec for side in (p, -p)]
        residuals += rec
    found, ok = _zero(residuals)
    rows.append(IdentityRow("hidden recurrence", "δˡ = (Wˡ⁺¹)ᵀ δˡ⁺¹ ⊙ σ′(zˡ)", found, ok))
    # ∂E/∂W¹ = δ¹ (a⁰)ᵀ and ∂E/∂b¹ = δ¹, with δ¹ = g the derivative by z¹ = W¹ x + b¹
    x = sp.symbols("x1:3", real=True)
    U = sp.Matrix(2, 2, lambda j, k: sp.Symbol(f"u{j + 1}{k + 1}", real=True))
    c = sp.symbols("c1:3", real=True)
    E = sum(g[j] * (U[j, 0] * x[0] + U[j, 1] * x[1] + c[j]) for j in range(2))
    for name, textbook, residual in (
        ("weight gradient", "∂E/∂Wˡ = δˡ (aˡ⁻¹)ᵀ",
         [sp.diff(E, U[j, k]) - g[j] * x[k] for j in range(2) for k in range(2)]),
        ("bias gradient", "∂E/∂bˡ = δˡ", [sp.diff(E, c[j]) - g[j] for j in range(2)]),
    ):
        found, ok = _zero(residual)
        rows.append(IdentityRow(name, textbook, found, ok))
    return rows
