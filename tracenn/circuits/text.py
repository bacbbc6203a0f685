"""A circuit trace as the terminal shows it (`tracenn graph`, `str(trace)`) and as a notebook
shows it (`_repr_html_`): the forward table, the backward table, the input gradients, the
notes and the verification.  Reads the trace; computes nothing.
"""

from __future__ import annotations

import html

from tabulate import tabulate

from ..notation import DEFAULT_PRECISION, num
from .trace import CircuitTrace


def forward_rows(trace: CircuitTrace, precision: int):
    rows = [(n.label, "input", "", num(n.value, precision)) for n in trace.inputs]
    for g in trace.gates:
        given = ", ".join(num(trace.node(a).value, precision) for a in g.args)
        rows.append((g.label, f"{g.label} = {g.text}", given, num(g.value, precision)))
    return ["node", "operation", "inputs", "value"], rows


def backward_rows(trace: CircuitTrace, precision: int):
    rows = []
    for step in trace.backward:
        gate = trace.node(step.gate)
        upstream = num(step.upstream, precision)
        if len(step.parts) > 1:
            upstream += " (sum of " + " + ".join(num(a, precision) for _, a in step.parts) + ")"
        elif not step.parts:
            upstream += " (output)"
        for i, local in enumerate(step.locals):
            arg = trace.node(local.arg)
            total = num(local.total, precision) + (" (accumulated)" if local.accumulates else "")
            rows.append((gate.label if i == 0 else "", upstream if i == 0 else "",
                         f"∂{gate.label}/∂{arg.label} = {local.formula}",
                         num(local.local, precision), num(local.downstream, precision),
                         f"{arg.label}: {total}"))
    return ["gate", "upstream", "local derivative", "local", f"downstream = {trace.rule}",
            "gradient so far"], rows


def gradient_rows(trace: CircuitTrace, precision: int):
    out = trace.node(trace.output).label
    headers = ["input", "value", f"∂{out}/∂input"]
    check = trace.check
    if check is None:
        return headers, [(n.label, num(n.value, precision), num(n.grad, precision))
                         for n in trace.inputs]
    rows = [(r.input, num(trace.labelled(r.input).value, precision), num(r.backprop, precision),
             num(r.sympy, precision), num(r.finite_difference, precision)
             + ("" if r.difference == "central" else f" ({r.difference})"),
             "ok" if r.ok else "FAIL") for r in check.rows]
    return headers + ["SymPy", "finite difference", "check"], rows


def bridge_rows(trace: CircuitTrace, precision: int):
    """The neuron's numbers in the circuit beside the network trace's (trace.bridge)."""
    rows = [(r.quantity, r.circuit, num(r.circuit_value, precision), num(r.trace_value, precision),
             "ok" if r.ok else "FAIL") for r in trace.bridge.rows]
    return ["network trace", "in the circuit", "circuit", "trace", "equal"], rows


def _tables(trace: CircuitTrace, precision: int, titles=("Forward pass (topological order)",
            "Backward pass (reverse order)", "Gradient of every input")):
    tables = list(zip(titles, (forward_rows(trace, precision), backward_rows(trace, precision),
                               gradient_rows(trace, precision))))
    if trace.bridge is not None:
        b = trace.bridge
        tables.append((f"Beside the network trace ({b.neuron}, step {b.step}, within "
                       f"{b.tolerance:g})", bridge_rows(trace, precision)))
    return tables


def circuit_text(trace: CircuitTrace, fmt: str = "simple",
                 precision: int = DEFAULT_PRECISION) -> str:
    out = trace.node(trace.output)
    parts = [f"Circuit: {trace.source}, output {out.label} = {num(out.value, precision)}", ""]
    for title, (headers, rows) in _tables(trace, precision):
        parts += [title, tabulate(rows, headers, tablefmt=fmt, disable_numparse=True), ""]
    parts += [f"Note: {n}" for n in _notes(trace)]
    if trace.check is not None:
        parts.append(verdict(trace))
    return "\n".join(parts).rstrip("\n")


def _notes(trace: CircuitTrace) -> list[str]:
    said = [s.note for s in trace.backward if "tie" in s.note]
    return [*trace.notes, *[n.split(";")[0] for n in said]]


def verdict(trace: CircuitTrace) -> str:
    check = trace.check
    kinks = f"; at a kink: {', '.join(check.kinks)}" if check.kinks else ""
    how = ("SymPy's derivative of the composed expression" if check.method == "diff" else
           "a 40-digit central difference of the composed circuit evaluated by SymPy (too "
           "large as one expression for SymPy's diff)")
    if check.ok:
        said = (f"Verified: every input's gradient equals {how} (within {check.tolerance:g}) "
                f"and a central difference (within 1e-05){kinks}.")
    else:
        wrong = ", ".join(r.input for r in check.rows if not r.ok)
        said = f"NOT verified: the gradient of {wrong} disagrees{kinks}."
    bridge = trace.bridge
    if bridge is None:
        return said
    if bridge.ok:
        return (f"{said}\nThe circuit's δ and ∂E/∂w of {bridge.neuron} equal the network "
                f"trace's (within {bridge.tolerance:g}).")
    differ = ", ".join(r.quantity for r in bridge.rows if not r.ok)
    return f"{said}\nNOT equal to the network trace: {differ}."


def circuit_html(trace: CircuitTrace, precision: int = DEFAULT_PRECISION) -> str:
    """The same tables as HTML, for a notebook."""
    out = trace.node(trace.output)
    parts = [f"<p><b>Circuit</b>: {html.escape(trace.source)}, output "
             f"{html.escape(out.label)} = {num(out.value, precision)}</p>"]
    for title, (headers, rows) in _tables(trace, precision, ("Forward pass", "Backward pass",
                                                             "Gradient of every input")):
        parts += [f"<p>{title}</p>", tabulate(rows, headers, tablefmt="html",
                                              disable_numparse=True)]
    parts += [f"<p>{html.escape(n)}</p>" for n in _notes(trace)]
    if trace.check is not None:
        parts.append(f"<p>{html.escape(verdict(trace))}</p>")
    return "\n".join(parts)
