"""A circuit's gradient checked two independent ways, as `tracenn verify` checks a network's:

- SymPy: the whole circuit composed into one expression in its inputs (constants exact),
  differentiated by each input and evaluated at the inputs' values;
- a central difference (f(x + h) − f(x − h)) / 2h of the float forward pass, h = 1e-6·max(1, |x|).
  Where the circuit has a kink at these values (relu or abs at 0, a max/min tie) the derivative
  is one-sided, and the one-sided differences are taken too: the backprop value passes if it
  equals one of them, and the row says which.

A circuit that reuses values (h = f(h, h) line after line) is a small graph but, written out
as one expression, a tree that doubles with each reuse: past TREE_LIMIT nodes SymPy's diff would
take minutes, so SymPy evaluates the composed circuit instead, at 40 significant digits, and
the derivative is its central difference with h = 1e-12·max(1, |x|) (error near 1e-24), the
method recorded in `CircuitCheck.method`.

Each input's backprop gradient (the trace's) must be within `tolerance` of SymPy's (relative to
max(1, |value|)) and within 1e-5 of the finite difference.  SymPy is imported here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .ops import OPS
from .trace import CircuitTrace

FD_TOLERANCE = 1e-5
TREE_LIMIT = 120  # nodes of the composed expression written as a tree
DIGITS = 40


@dataclass
class InputCheck:
    input: str  # the input's label
    backprop: float
    sympy: float
    finite_difference: float
    difference: str  # "central", or the side of a one-sided difference at a kink
    ok: bool


@dataclass
class CircuitCheck:
    rows: list[InputCheck]
    expression: str  # the composed expression SymPy differentiated, as text
    tolerance: float
    kinks: list[str] = field(default_factory=list)  # gates at a kink, e.g. "g3: relu at 0"
    method: str = "diff"  # "diff" (SymPy's derivative) or "40-digit difference" (see above)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    def to_json(self) -> dict:
        return {**asdict(self), "ok": self.ok}


def forward_value(trace: CircuitTrace, values: dict[str, float]) -> float:
    """The output recomputed in float from these input values (by label)."""
    value = {n.id: values.get(n.label, n.value) for n in (*trace.inputs, *trace.constants)}
    for g in trace.gates:
        value[g.id] = OPS[g.op].fn(*[value[a] for a in g.args], g.param)
    return value[trace.output]


def composed(trace: CircuitTrace):
    """The circuit as one SymPy expression in its inputs' symbols, and those symbols."""
    import sympy as sp

    symbols = {n.id: sp.Symbol(n.label, real=True) for n in trace.inputs}
    expr = dict(symbols)
    for k in trace.constants:
        expr[k.id] = sp.Integer(int(k.value)) if k.value.is_integer() else sp.Float(k.value)
    for g in trace.gates:
        expr[g.id] = OPS[g.op].symbolic(*[expr[a] for a in g.args], g.param)
    return expr[trace.output], symbols


def tree_size(trace: CircuitTrace) -> int:
    """How many nodes the circuit has when written out as one expression (a tree)."""
    size = {n.id: 1 for n in (*trace.inputs, *trace.constants)}
    for g in trace.gates:
        size[g.id] = 1 + sum(size[a] for a in g.args)
    return size[trace.output]


def precise_value(trace: CircuitTrace, values: dict[str, object]):
    """The output recomputed by SymPy with DIGITS-digit numbers (gates' SymPy forms)."""
    import sympy as sp

    value = {n.id: values.get(n.label, sp.Float(n.value, DIGITS)) for n in trace.inputs}
    value.update({k.id: sp.Float(k.value, DIGITS) for k in trace.constants})
    for g in trace.gates:
        value[g.id] = sp.Float(OPS[g.op].symbolic(*[value[a] for a in g.args], g.param), DIGITS)
    return value[trace.output]


def _precise_derivative(trace: CircuitTrace, n, backprop: float, kinked: bool) -> float:
    import sympy as sp

    x = sp.Float(n.value, DIGITS)
    h = sp.Float(1e-12 * max(1.0, abs(n.value)), DIGITS)
    f = lambda v: precise_value(trace, {n.label: v})
    central = float((f(x + h) - f(x - h)) / (2 * h))
    if not kinked or abs(central - backprop) <= 1e-9 * max(1.0, abs(central)):
        return central
    f0 = f(x)
    sides = [float((f0 - f(x - h)) / h), float((f(x + h) - f0) / h)]
    return min(sides, key=lambda d: abs(d - backprop))


def kinks(trace: CircuitTrace) -> list[str]:
    """Gates whose derivative jumps at the values of this trace."""
    out = []
    for g in trace.gates:
        x = [trace.node(a).value for a in g.args]
        if g.op in ("relu", "abs") and x[0] == 0:
            out.append(f"{g.label}: {g.op} at 0")
        elif g.op in ("max", "min") and x[0] == x[1]:
            out.append(f"{g.label}: {g.op} of a tie")
    return out


def check_circuit(trace: CircuitTrace, tolerance: float = 1e-9) -> CircuitCheck:
    """Both checks for every input of a traced circuit (run_backward done)."""
    import sympy as sp

    kinked = kinks(trace)
    size = tree_size(trace)
    if size > TREE_LIMIT:
        exact = {n.id: _precise_derivative(trace, n, n.grad, bool(kinked)) for n in trace.inputs}
        text, method = f"{size} nodes as a tree (too large for SymPy's diff; evaluated " \
                       "instead)", "40-digit difference"
    else:
        expr, symbols = composed(trace)
        at = {symbols[n.id]: sp.Float(n.value, 30) if n.value else sp.Integer(0)
              for n in trace.inputs}
        exact = {n.id: float(sp.diff(expr, symbols[n.id]).xreplace(at).evalf(20))
                 for n in trace.inputs}
        text, method = (sp.sstr(expr) if sp.count_ops(expr) <= 200 else
                        f"{sp.count_ops(expr)} operations (too long to print)"), "diff"
    rows = []
    for n in trace.inputs:
        fd, how = _difference(trace, n, bool(kinked))
        e = exact[n.id]
        rows.append(InputCheck(n.label, n.grad, e, fd, how,
                               abs(e - n.grad) <= tolerance * max(1.0, abs(e))
                               and abs(fd - n.grad) <= FD_TOLERANCE * max(1.0, abs(fd))))
    return CircuitCheck(rows, text, tolerance, kinked, method=method)


def _difference(trace: CircuitTrace, n, kinked: bool) -> tuple[float, str]:
    values = {m.label: m.value for m in trace.inputs}
    x, h = n.value, 1e-6 * max(1.0, abs(n.value))
    f = lambda v: forward_value(trace, {**values, n.label: v})
    central = (f(x + h) - f(x - h)) / (2 * h)
    if not kinked or abs(central - n.grad) <= FD_TOLERANCE * max(1.0, abs(central)):
        return central, "central"
    f0 = f(x)
    for side, d in (("left", (f0 - f(x - h)) / h), ("right", (f(x + h) - f0) / h)):
        if abs(d - n.grad) <= FD_TOLERANCE * max(1.0, abs(d)):
            return d, f"{side}-sided (kink)"
    return central, "central"
