"""The backward pass of a circuit, gate by gate in reverse topological order: each gate takes
the gradient arriving at it (upstream), multiplies it by its local derivative with respect to
each input (the gate's own float formula, ops.py) and sends the product (downstream) to that
input, where it is added to whatever the input already received.  A node read by several gates
— or by one gate twice, as x*x, or again after `c += …` — so collects the sum of their
contributions; the trace records each addition.

The formula of each local derivative is SymPy's derivative of the gate's operation, written with
the gate's own inputs; SymPy is imported on the first call and each kind of gate is
differentiated once.
"""

from __future__ import annotations

import math
from functools import lru_cache

from ..errors import CircuitError
from ..notation import expr_text
from .ops import OPS
from .trace import BackwardStep, CircuitTrace, Local

GENERIC = ("u", "v")


@lru_cache(maxsize=None)
def derivatives(op: str, param: float | None):
    """SymPy's ∂/∂u (and ∂/∂v) of the operation op(u[, v]), in the generic symbols u, v."""
    import sympy as sp

    o = OPS[op]
    symbols = sp.symbols(GENERIC[: o.arity], real=True)
    expr = o.symbolic(*symbols, param)
    return tuple(sp.diff(expr, s) for s in symbols), symbols


def formula(op: str, param, labels: list[str]) -> list[str]:
    """The local derivatives of a gate as text, in its inputs' labels: "z", "1 − tanh(c)²"."""
    import sympy as sp

    ds, symbols = derivatives(op, param)
    mapping = {s: sp.Symbol(label, real=True) for s, label in zip(symbols, labels)}
    return [derivative_text(d.xreplace(mapping)) for d in ds]


def derivative_text(expr) -> str:
    """expr_text, with SymPy's Heaviside(e) written [e > 0] (½ when e = 0) and a Piecewise
    written as "a if condition else b"."""
    import sympy as sp

    if isinstance(expr, sp.Piecewise):
        (value, condition), *rest = expr.args
        other = rest[0][0] if rest else sp.nan
        return (f"{derivative_text(value)} if {expr_text(condition)} "
                f"else {derivative_text(other)}")
    expr = expr.replace(sp.Heaviside,
                        lambda *a: sp.Symbol(f"[{expr_text(a[0])} > 0]"))
    return expr_text(expr)


def _check_finite(gate, args, local) -> None:
    """A local derivative that is infinite (√x or x**0.5 at 0) has no gradient to send."""
    for a, d in zip(args, local):
        if not math.isfinite(d):
            raise CircuitError(f"{gate.label} = {gate.text}: its derivative with respect to "
                               f"{a.label} is infinite at {a.label} = {a.value!r}; choose "
                               "values where every gate is differentiable")


def run_backward(trace: CircuitTrace, mistake=None) -> CircuitTrace:
    """Fills trace.backward, every node's grad, trace.grads and the notes on accumulation and
    ties; returns the trace.  With `mistake` (mistakes.CircuitMistake) the pass makes that
    classic mistake on purpose: its wrong local derivatives, no upstream factor, or a fork's
    gradient overwritten instead of added."""
    nodes = trace._nodes()
    parts: dict[str, list[tuple[str, float]]] = {n: [] for n in nodes}
    for n in nodes.values():
        n.grad = 0.0
    nodes[trace.output].grad = 1.0
    trace.backward = []
    for gate in reversed(trace.gates):
        args = [nodes[a] for a in gate.args]
        op = OPS[gate.op]
        local = op.local(*[a.value for a in args], gate.value, gate.param)
        _check_finite(gate, args, local)
        texts = formula(gate.op, gate.param, [a.label for a in args])
        if mistake is not None:
            local = mistake.local(gate.op, [a.value for a in args], local)
            texts = mistake.formulas(gate.op, [a.label for a in args], texts)
        step = BackwardStep(gate.id, gate.grad, list(parts[gate.id]), [])
        for arg, d, text in zip(args, local, texts):
            down = d * gate.grad if mistake is None or mistake.upstream else d
            adds = mistake is None or mistake.adds
            before = bool(parts[arg.id]) and adds
            parts[arg.id].append((gate.id, down))
            arg.grad = arg.grad + down if adds else down
            step.locals.append(Local(arg.id, text, d, down, arg.grad, before))
        step.note = _note(gate, args, step, nodes)
        trace.backward.append(step)
    trace.grads = {n.label: n.grad for n in trace.inputs}
    if mistake is None or mistake.adds:
        trace.notes += _accumulation_notes(trace, parts)
    return trace


def _note(gate, args, step: BackwardStep, nodes) -> str:
    said = []
    if gate.op in ("max", "min") and args[0].value == args[1].value:
        said.append(f"{args[0].label} and {args[1].label} tie at {args[0].value!r}: the "
                    f"{gate.op} gate sends half the gradient to each")
    for local in step.locals:
        if local.accumulates:
            said.append(f"{nodes[local.arg].label} accumulates: {local.total - local.downstream!r}"
                        f" + {local.downstream!r} = {local.total!r}")
    return "; ".join(said)


def _accumulation_notes(trace: CircuitTrace, parts) -> list[str]:
    """One line per node whose gradient is a sum: which gates sent what."""
    notes = []
    for n in (*trace.inputs, *trace.gates):
        sent = parts[n.id]
        if len(sent) > 1:
            terms = " + ".join(f"{amount!r} (from {trace.node(g).label})" for g, amount in sent)
            why = " (the same variable assigned again reads it)" if "′" in "".join(
                trace.node(g).label for g, _ in sent) else ""
            notes.append(f"∂/∂{n.label} is accumulated over the {len(sent)} uses of "
                         f"{n.label}{why}: {terms} = {n.grad!r}")
    return notes
