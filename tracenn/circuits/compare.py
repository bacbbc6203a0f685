"""A learner's gradients on a circuit against its trace: the first wrong one in backward order,
and the classic mistake (mistakes.py) that produces the learner's numbers, when one does.

A learner names each gradient by the variable it belongs to, as people write it by hand or
print it from their code: `x = -4`, `dx = -4`, `df/dx = -4`, `∂f/∂x = -4`, `grad_x`, `x.grad`;
in a file of such lines or as one JSON object {"x": -4, …}.  Each number keeps the decimals it
was written with, and by default it matches within half a unit of its last decimal
(comparison/tolerance.py).  Anything that cannot be read is refused in one line (CircuitError).

The walk follows the backward pass: the output, then each gate's gradient as it is complete,
an input's once the last gate reading it has sent its share.  A gradient that is wrong but is
what the right local derivatives give from the learner's own wrong gradients above it
"follows" from the earlier error (the learner did that step right).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..comparison.reading import Written
from ..comparison.tolerance import as_tolerance, written_decimals
from ..errors import CircuitError
from .mistakes import MISTAKES, mistaken_grads
from .trace import CircuitTrace, Node

RIGHT, WRONG, FOLLOWS, MISSING = "right", "wrong", "follows", "not given"


def backward_order(trace: CircuitTrace) -> list[Node]:
    """Inputs and gates in the order their gradients are complete in the backward pass."""
    at = {g.id: i for i, g in enumerate(reversed(trace.gates))}
    key = {g.id: float(at[g.id]) for g in trace.gates}
    for n in trace.inputs:
        key[n.id] = max((at[u] for u in n.uses if u in at), default=len(at)) + 0.5
    return sorted((*trace.inputs, *trace.gates), key=lambda n: key[n.id])


def node_named(name: str, trace: CircuitTrace) -> Node | None:
    """The input or gate a learner's name means: x, dx, df/dx, ∂f/∂x, grad_x, x.grad, c' = c′."""
    labels = {n.label: n for n in (*trace.inputs, *trace.gates)}
    name = name.strip().replace("'", "′")
    tries = [name]
    if "/" in name:
        tries.append(name.rpartition("/")[2])
    for t in list(tries):
        tries += [t[1:] for p in ("d", "∂") if t.startswith(p)]
        tries += [t[5:] for p in ("grad_",) if t.startswith(p)]
        tries += [t[:-5] for p in (".grad",) if t.endswith(p)]
    return next((labels[t] for t in tries if t in labels), None)


def _number(where: str, text) -> Written:
    if isinstance(text, Written):
        return text
    raw = str(text).strip().replace("−", "-")
    try:
        x = float(raw)
    except ValueError:
        raise CircuitError(f"{where}: {raw!r} is not a number (write it as -4 or 0.25)") from None
    if not math.isfinite(x):
        raise CircuitError(f"{where}: {raw!r} is not a finite number")
    return Written(x, written_decimals(raw))


def _json_entries(where: str, text: str) -> list[tuple[str, str, object]]:
    def pairs(items):
        return items

    try:
        data = json.loads(text, object_pairs_hook=pairs, parse_int=str, parse_float=str)
    except ValueError as exc:
        raise CircuitError(f"{where}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, list) or any(isinstance(v, list) or isinstance(v, bool) or v is None
                                         for _, v in data):
        raise CircuitError(f"{where}: give one flat JSON object of numbers, "
                           '{"x": -4, "y": -4, "z": 3}')
    return [(f"{where}: {k!r}", k, v) for k, v in data]


def _line_entries(where: str, text: str) -> list[tuple[str, str, object]]:
    out = []
    for no, line in enumerate(text.splitlines(), 1):
        line = line.partition("#")[0].strip()
        if not line:
            continue
        name, eq, value = line.partition("=")
        if not eq and line.count(",") == 1:  # a CSV row name,value as answers.csv has them
            name, eq, value = line.partition(",")
            if no == 1 and name.strip().lower() in ("name", "quantity", "gradient"):
                continue  # its header
        if not eq or not name.strip() or not value.strip():
            raise CircuitError(f"{where} line {no}: {line!r} is not NAME = NUMBER "
                               "(write dx = -4 or x = -4 one a line, or CSV rows dx,-4)")
        out.append((f"{where} line {no}", name.strip(), value))
    return out


def read_gradients(source, trace: CircuitTrace) -> dict[str, Written]:
    """A learner's gradients by node id, from a file path (or a dict of name → number)."""
    if isinstance(source, dict):
        entries = [(f"{k!r}", k, v if isinstance(v, str) else Written(float(v)))
                   for k, v in source.items()]
    else:
        try:
            text = Path(source).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise CircuitError(f"{source}: cannot read it ({exc.__class__.__name__})") from None
        reader = _json_entries if text.lstrip().startswith("{") else _line_entries
        entries = reader(str(source), text)
        if not entries:
            raise CircuitError(f"{source}: holds no gradients (write dx = -4, one a line)")
    names = ", ".join(n.label for n in (*trace.inputs, *trace.gates))
    out: dict[str, Written] = {}
    for where, name, value in entries:
        node = node_named(name, trace)
        if node is None:
            raise CircuitError(f"{where}: {name.strip()!r} names no variable of the circuit; "
                               f"its variables are {names}")
        if node.id in out:
            raise CircuitError(f"{where}: the gradient of {node.label} is given twice")
        out[node.id] = _number(where, value)
    return out


@dataclass
class GradientVerdict:
    """One gradient: the learner's, the right one, and what the right local derivatives give
    from the learner's own gradients above it (`own`)."""

    label: str
    yours: float | None
    right: float
    own: float
    verdict: str  # right | wrong | follows | not given


@dataclass
class CircuitComparison:
    """Every gradient in backward order, the first wrong one, and the mistake that explains it
    (name, title, explanation; `explains` "all" when it gives every number the learner wrote,
    "first" when only the first wrong one)."""

    source: str
    rows: list[GradientVerdict]
    first_wrong: str | None
    mistake: dict | None = None
    tolerance: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.first_wrong is None and not any(r.verdict == FOLLOWS for r in self.rows)

    def to_json(self) -> dict:
        data = asdict(self)
        data["ok"] = self.ok
        data["kind"] = "circuit-comparison"
        return data

    def __str__(self) -> str:
        return comparison_text(self)


def contributions(trace: CircuitTrace) -> dict[str, list[tuple[str, float]]]:
    """node id → [(gate id, right local derivative)], one per time a gate reads the node."""
    out: dict[str, list[tuple[str, float]]] = {}
    for step in trace.backward:
        for local in step.locals:
            out.setdefault(local.arg, []).append((step.gate, local.local))
    return out


def compare_gradients(trace: CircuitTrace, yours: dict[str, float], tolerance=None,
                      ) -> CircuitComparison:
    """The learner's gradients (node id → number, as read_gradients gives) against the trace."""
    tol = as_tolerance(tolerance)
    parts = contributions(trace)
    rows, first = [], None
    for n in backward_order(trace):
        sent = parts.get(n.id, [])
        own = 1.0 if n.id == trace.output else sum(
            d * float(yours.get(g, trace.node(g).grad)) for g, d in sent)
        y = yours.get(n.id)
        if y is None:
            verdict = MISSING
        elif tol.close(y, n.grad):
            verdict = RIGHT
        elif not tol.close(own, n.grad) and tol.close(y, own):
            verdict = FOLLOWS
        else:
            verdict = WRONG
            first = first or n.id
        rows.append(GradientVerdict(n.label, None if y is None else y, n.grad, own, verdict))
    shown = trace.program.strip() if trace.source == "expression" else trace.source
    result = CircuitComparison(shown, rows, first and trace.node(first).label,
                               tolerance=tol.describe())
    if first is not None:
        result.mistake = diagnose(trace, yours, first, tol)
    return result


def diagnose(trace: CircuitTrace, yours: dict[str, float], first: str, tol) -> dict | None:
    """The classic mistake whose gradients give the learner's first wrong number (and, best,
    every other number written); for a fork, also a gradient that kept only some of the uses."""
    best = None
    for m in MISTAKES.values():
        wrong = mistaken_grads(trace, m)
        if not tol.close(yours[first], wrong[first]) or tol.close(wrong[first],
                                                                  trace.node(first).grad):
            continue
        fits = sum(tol.close(y, wrong[i]) for i, y in yours.items())
        if best is None or fits > best[0]:
            best = (fits, m)
    if best is not None:
        fits, m = best
        return {"name": m.name, "title": m.title, "explanation": m.explanation,
                "explains": "all" if fits == len(yours) else "first"}
    return _partial_fork(trace, yours, first, tol)


def _partial_fork(trace: CircuitTrace, yours, first: str, tol) -> dict | None:
    """A fork's gradient that holds the shares of some of its uses only (the others forgotten
    or overwritten): the sum over a proper subset of the gates reading it."""
    share: dict[str, float] = {}
    for g, d in contributions(trace).get(first, []):
        share[g] = share.get(g, 0.0) + d * trace.node(g).grad
    gates = list(share)
    if len(gates) < 2 or len(gates) > 10:
        return None
    for mask in range(1, 2 ** len(gates) - 1):
        kept = [g for i, g in enumerate(gates) if mask >> i & 1]
        if tol.close(yours[first], sum(share[g] for g in kept)):
            m = MISTAKES["fork-overwritten"]
            names = ", ".join(trace.node(g).label for g in kept)
            return {"name": m.name, "title": m.title, "explanation": m.explanation
                    + f" (only the share from {names} was kept)", "explains": "first"}
    return None


def compare_circuit(trace: CircuitTrace, source, tolerance=None) -> CircuitComparison:
    """Read the learner's gradients (a file, or a dict name → number) and compare them."""
    return compare_gradients(trace, read_gradients(source, trace), tolerance)


def comparison_text(c: CircuitComparison, precision: int = 6) -> str:
    """The comparison as the terminal shows it: a table in backward order, then the verdict."""
    from tabulate import tabulate

    from ..notation import num

    rows = [(r.label, "" if r.yours is None else num(r.yours, precision), num(r.right, precision),
             r.verdict + ("" if r.verdict != FOLLOWS else
                          f" (from your numbers above: {num(r.own, precision)})"))
            for r in c.rows]
    lines = [f"Your gradients on {c.source}, in backward order:",
             tabulate(rows, ["gradient of", "yours", "right", "verdict"]), ""]
    if c.first_wrong is None:
        lines.append("Every gradient you gave is right." if c.ok else
                     "No wrong gradient of your own, but some follow from others.")
    else:
        r = next(r for r in c.rows if r.label == c.first_wrong)
        lines.append(f"First wrong gradient: ∂/∂{r.label} — yours {num(r.yours, precision)}, "
                     f"right {num(r.right, precision)}.")
        if c.mistake is not None:
            scope = ("it gives every number you wrote" if c.mistake["explains"] == "all"
                     else "it gives this number")
            lines.append(f"Mistake: {c.mistake['title']} ({c.mistake['name']}; {scope}): "
                         f"{c.mistake['explanation']}.")
    lines.append(f"Matched: {c.tolerance}.")
    return "\n".join(lines)
