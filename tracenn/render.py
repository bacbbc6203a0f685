"""Views of a trace: tables (any `tabulate` format) and JSON Lines.

Renderers only look values up and format them; every number shown was computed by the engine
and stored in the trace.  Each table is built once as a `Table` (title, headers, rows) and the
output format is a parameter, so tables, Markdown and LaTeX share the same rows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from tabulate import tabulate

from .trace import Labels, Step, StepSummary

DEFAULT_PRECISION = 9  # decimals, as in Mazur's blog


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[str]]
    note: str = ""  # a line under the table


def num(x: float, precision: int) -> str:
    """Fixed-point with `precision` decimals; scientific for tiny non-zero values that would
    otherwise print as zeros."""
    x = float(x) + 0.0  # turns −0.0 (e.g. −t/a with t = 0) into 0.0
    if (x != 0 and abs(x) < 10.0 ** -min(precision, 4) and precision > 0) or abs(x) >= 1e9:
        return f"{x:.{max(precision - 1, 0)}e}"
    return f"{x:.{precision}f}"


def format_tables(tables: list[Table], fmt: str) -> str:
    """Tables in a tabulate format; in Markdown formats (github, pipe) each title is bold and
    set apart by a blank line, so the table after it is not swallowed by the paragraph."""
    markdown = fmt in ("github", "pipe")
    parts = []
    for table in tables:
        body = tabulate(table.rows, headers=table.headers, tablefmt=fmt, disable_numparse=True,
                        colalign=_align(table))
        if table.note:  # in Markdown a line right under a table would become one of its rows
            body += ("\n\n" if markdown else "\n") + table.note
        if not table.title:
            parts.append(body)
        elif markdown:
            parts.append(f"**{table.title.strip('*')}**\n\n{body}")
        else:
            parts.append(f"{table.title}\n{body}")
    return "\n\n".join(parts)


def _align(table: Table) -> list[str]:
    # A column is right-aligned when its cells look like numbers (or are empty).
    def numeric(cell: str) -> bool:
        try:
            float(cell.replace("(frozen)", "").strip() or "0")
            return True
        except ValueError:
            return False


    return ["right" if all(numeric(r[i]) for r in table.rows) else "left"
            for i in range(len(table.headers))]


# --------------------------------------------------------------------------------------------
# One step
# --------------------------------------------------------------------------------------------


def step_tables(step: Step, precision: int, checks: dict | None = None) -> list[Table]:
    """The tables of one step: forward pass, error, each layer's backward pass (output layer
    first, as backprop runs), and the error before and after the update.  With `checks`
    (parameter name → symbolic.GradientRow), the backward tables get a PASS/FAIL column."""
    labels = step.labels
    tables = [_forward(step, labels, precision), _error(step, labels, precision)]
    L = len(step.layers)
    for l in range(L, 0, -1):
        tables.append(_backward(step, labels, l, precision, checks))
    tables.append(_before_after(step, labels, precision))
    return tables


def _samples_prefix(step: Step, s: int) -> list[str]:
    return [str(step.samples[s] + 1)] if len(step.samples) > 1 else []


def _sample_header(step: Step) -> list[str]:
    return ["sample"] if len(step.samples) > 1 else []


def _net_formula(labels: Labels, l: int, j: int, n_in: int, shared: bool) -> str:
    if n_in > 4:
        return ""
    terms = [f"{labels.weights[l - 1][j][k]}·{labels.out(l - 1, k)}" for k in range(n_in)]
    bias = labels.biases[l - 1][0 if shared else j]
    return " + ".join(terms + [bias])


def _forward(step: Step, labels: Labels, p: int) -> Table:
    show_formula = all(layer.W.shape[1] <= 4 for layer in step.layers)
    headers = _sample_header(step) + ["neuron", "net", "out"] + (["net ="] if show_formula else [])
    rows = []
    for s in range(len(step.samples)):
        pre = _samples_prefix(step, s)
        for k, name in enumerate(labels.inputs):
            rows.append(pre + [name, "", num(step.x[s, k], p)] + ([""] if show_formula else []))
        for l, layer in enumerate(step.layers, start=1):
            for j, name in enumerate(labels.neurons[l - 1]):
                row = pre + [name, num(layer.z[s, j], p), num(layer.a[s, j], p)]
                if show_formula:
                    row.append(_net_formula(labels, l, j, layer.W.shape[1], layer.shared_bias))
                rows.append(row)
    acts = ", ".join(f"{l.name}: {l.activation}" for l in step.layers)
    return Table(f"Step {step.step} · forward pass ({acts})", headers, rows)


def _error(step: Step, labels: Labels, p: int) -> Table:
    headers = _sample_header(step) + ["output", "target", "out", "E"]
    out = step.layers[-1]
    rows = []
    for s in range(len(step.samples)):
        pre = _samples_prefix(step, s)
        for k, name in enumerate(labels.neurons[-1]):
            rows.append(pre + [f"{name} ({labels.error(k)})", num(step.t[s, k], p),
                               num(out.a[s, k], p), num(step.losses[s, k], p)])
    total = labels.total + (" (mean over samples)" if len(step.samples) > 1 else "")
    rows.append(([""] if len(step.samples) > 1 else []) + [total, "", "", num(step.loss, p)])
    return Table(f"Step {step.step} · error", headers, rows)


def _backward(step: Step, labels: Labels, l: int, p: int, checks: dict | None = None) -> Table:
    """Backward pass through layer l: one row per weight (and bias) with its chain-rule factors
    ∂E/∂out · ∂out/∂net · ∂net/∂w.  For a batch, the factors are shown per sample and the
    gradient (their mean) on the weight's last row."""
    layer = step.layers[l - 1]
    n = len(step.samples)
    L = len(step.layers)
    elementwise = layer.da_dz is None or layer.da_dz.ndim == 2
    headers = ["weight"] + _sample_header(step) + ["∂E/∂out", "∂out/∂net", "δ = ∂E/∂net",
                                                   "∂net/∂w", "∂E/∂w", "new value"]
    if checks is not None:
        headers.append("check")
    rows = []

    def check_cell(name: str, last: bool) -> list[str]:
        if checks is None:
            return []
        return ["PASS" if checks[name].ok else "FAIL"] if last else [""]

    def factor_cells(s: int, j: int) -> list[str]:
        dadz = num(layer.da_dz[s, j], p) if (elementwise and layer.da_dz is not None) else "(Jacobian)"
        return [num(layer.dE_da[s, j], p), dadz, num(layer.delta[s, j], p)]

    def emit(param: str, label: str, per_sample, grad: float, new: str):
        for s in range(n):
            cells, dnet = per_sample(s)
            last = s == n - 1
            rows.append([label if s == 0 else ""] + _samples_prefix(step, s) + cells
                        + [dnet, num(grad, p) if last else "", new if last else ""]
                        + check_cell(param, last))

    for j in range(layer.W.shape[0]):
        for k in range(layer.W.shape[1]):
            param = labels.weights[l - 1][j][k]
            source = labels.out(l - 1, k) if l == 1 else labels.neurons[l - 2][k]
            emit(param, f"{param} ({source}→{labels.neurons[l - 1][j]})",
                 lambda s, j=j, k=k: (factor_cells(s, j), num(layer.a_in[s, k], p)),
                 layer.grad_W[j, k], num(layer.W_new[j, k], p))
    frozen = "" if layer.bias_trainable else " (frozen)"
    if layer.shared_bias:
        # One bias feeds every neuron of the layer: a row per neuron, the gradient (the sum of
        # their δ) and the new value on the last row.
        bias = labels.biases[l - 1][0]
        last_j = layer.W.shape[0] - 1
        for j, neuron in enumerate(labels.neurons[l - 1]):
            for s in range(n):
                last = j == last_j and s == n - 1
                label = f"{bias} (→{neuron})" if s == 0 else ""
                rows.append([label] + _samples_prefix(step, s) + factor_cells(s, j)
                            + ["1", num(layer.grad_b[0], p) if last else "",
                               num(layer.b_new[0], p) + frozen if last else ""]
                            + check_cell(bias, last))
    else:
        for j in range(layer.W.shape[0]):
            emit(labels.biases[l - 1][j], f"{labels.biases[l - 1][j]} (→{labels.neurons[l - 1][j]})",
                 lambda s, j=j: (factor_cells(s, j), "1"),
                 layer.grad_b[j], num(layer.b_new[j], p) + frozen)
    if l == L:
        what = f"output layer ({layer.activation})"
    else:
        what = f"hidden layer {l} ({layer.activation}); ∂E/∂out = Σ over layer {l + 1} of δ·w"
    if n > 1:
        what += f"; factors per sample, ∂E/∂w the mean over the {n} samples"
    return Table(f"Step {step.step} · backward pass, {what}", headers, rows)


def _before_after(step: Step, labels: Labels, p: int) -> Table:
    rows = [[name, num(b, p), num(a, p), num(c, p)] for name, b, a, c in step.errors()]
    return Table(f"Step {step.step} · error before and after the update (η = {step.eta:g})",
                 ["error", "before", "after", "change"], rows)


def render_step(step: Step, fmt: str, precision: int, checks: dict | None = None) -> str:
    text = format_tables(step_tables(step, precision, checks), fmt)
    if step.mistakes:
        text += "\n\nMistake switched on: " + ", ".join(step.mistakes)
    return text


def render_summary(entry: StepSummary, labels: Labels, precision: int) -> str:
    return (f"step {entry.step}: {labels.total} {num(entry.loss, precision)} before the update, "
            f"{num(entry.loss_after, precision)} after")


def json_line(obj) -> str:
    """One JSON object on one line, full float precision (Python's shortest round-trip repr)."""
    return json.dumps(obj.to_json() if hasattr(obj, "to_json") else obj, ensure_ascii=False)


# --------------------------------------------------------------------------------------------
# The XOR run
# --------------------------------------------------------------------------------------------


def xor_tables(run, precision: int) -> list[Table]:
    labels = run.labels
    curve = Table(f"Loss ({labels.total}, mean over the four samples) during training",
                  ["epoch", labels.total], [[str(e), num(loss, precision)] for e, loss in run.curve])
    x_names = labels.inputs
    truth = Table("Truth table after training",
                  x_names + ["target", "output", "rounded", "correct?"],
                  [[f"{v:g}" for v in r.x] + [f"{r.target:g}", num(r.output, precision),
                                              str(r.rounded), "yes" if r.correct else "NO"]
                   for r in run.table])
    return [curve, truth]


def xor_verdict(run) -> str:
    seed = "" if run.seed is None else f" (seed {run.seed})"
    right = sum(r.correct for r in run.table)
    if run.verdict == "solved":
        return f"Solved{seed}: all four outputs round to their targets after {run.epochs} epochs."
    if run.verdict == "stuck":
        return (f"Stuck in a local minimum{seed}: {right} of 4 correct and the loss has stopped "
                "falling. Hint: try another --seed, or a different --lr.")
    return (f"Not solved yet{seed}: {right} of 4 correct, but the loss is still falling. "
            "Hint: train longer with --epochs, or raise --lr.")


def xor_json(run) -> dict:
    from .trace import FORMAT_VERSION

    return {
        "format": FORMAT_VERSION,
        "kind": "result",
        "epochs": run.epochs,
        "seed": run.seed,
        "mode": run.mode,
        "eta": run.eta,
        "verdict": run.verdict,
        "curve": [{"epoch": e, "loss": loss} for e, loss in run.curve],
        "truth_table": [{"x": r.x, "target": r.target, "output": r.output, "rounded": r.rounded,
                         "correct": r.correct} for r in run.table],
    }


# --------------------------------------------------------------------------------------------
# Verification (tracenn verify, --check)
# --------------------------------------------------------------------------------------------


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def gradient_table(step: int, rows, precision: int) -> Table:
    return Table(
        f"Step {step} · gradients three ways: SymPy's derivative, backprop, central differences",
        ["parameter", "chain rule (textbook form)", "SymPy", "backprop", "finite diff.",
         "max |diff|", "result"],
        [[r.name, r.chain, num(r.sympy, precision), num(r.backprop, precision),
          num(r.finite_difference, precision), f"{r.diff:.1e}", _verdict(r.ok)] for r in rows])


def identity_table(rows) -> Table:
    return Table("The identities behind backprop, checked symbolically",
                 ["identity", "textbook form", "what SymPy found", "holds?"],
                 [[r.name, r.textbook, r.found, "yes" if r.holds else "NO"] for r in rows])


def precision_table(rows, dps: int) -> Table:
    return Table(f"float64 against a recomputation with {dps} significant digits",
                 ["quantity", "float64", f"{dps} digits", "|difference|"],
                 [[r.name, repr(r.float64), r.exact, f"{r.difference:.1e}"] for r in rows])


def latex_block(rows, precision: int) -> str:
    """The chain-rule formulas with their values, as one align* environment."""
    lines = [rf"  {r.latex.replace(' = ', ' &= ', 1)} = {num(r.backprop, precision)} \\" for r in rows]
    if lines:
        lines[-1] = lines[-1][: -len(r" \\")]
    return "\n".join([r"\begin{align*}", *lines, r"\end{align*}"])


def verify_json(step: int, rows, identities, precision_rows=None) -> dict:
    from .trace import FORMAT_VERSION

    out = {
        "format": FORMAT_VERSION,
        "kind": "verify",
        "step": step,
        "pass": all(r.ok for r in rows) and all(i.holds for i in identities),
        "gradients": [r.to_json() for r in rows],
        "identities": [i.to_json() for i in identities],
    }
    if precision_rows is not None:
        out["precision"] = [r.to_json() for r in precision_rows]
    return out


# --------------------------------------------------------------------------------------------
# compare
# --------------------------------------------------------------------------------------------


def render_comparison(result, precision: int) -> str:
    from .network import MISTAKES

    lines = [f"Step {result.step}: compared {len(result.checked)} of your values "
             f"({result.not_given} quantities not given)."]
    if result.unknown:
        lines.append("Unknown names (not quantities of this network, skipped): "
                     + ", ".join(result.unknown))
    m = result.first
    if m is None:
        lines.append("Every value you gave matches.")
        return "\n".join(lines)
    lines += [
        "",
        f"First mismatch: {m.name} ({m.stage})",
        f"  yours:   {num(m.yours, precision)}",
        f"  right:   {num(m.right, precision)}",
        f"  formula: {m.formula}",
    ]
    if m.substituted.strip("= "):
        lines.append(f"           {m.substituted}")
    if m.inputs:
        lines.append("  inputs:  " + ", ".join(f"{name} {status}" for name, status in m.inputs))
    if result.mistakes:
        lines.append("")
        for d in result.mistakes:
            if d.conflicts:
                lines.append(f"Your wrong numbers match a known mistake: {d.name} — "
                             f"{MISTAKES[d.name]}; but it would also have changed "
                             f"{', '.join(d.conflicts)}, which you have right.")
            else:
                lines.append(f"Your numbers match a known mistake: {d.name} — {MISTAKES[d.name]}.")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# MNIST
# --------------------------------------------------------------------------------------------

SPARK = "▁▂▃▄▅▆▇█"


def _g(x, digits: int = 4) -> str:
    if x is None or x != x:  # None or NaN
        return "—"
    return f"{x:.{digits}g}"


def _pct(x) -> str:
    return "—" if x is None or x != x else f"{100 * x:.2f}%"


def mnist_summary_table(summary, epochs: int) -> Table:
    """One row per layer: the per-layer statistics of a summary (mnist.summary.Summary)."""
    where = f"epoch {summary.epoch}/{epochs}"
    if summary.kind == "every":
        where += f", batches to {summary.batch}"
    elif summary.kind == "partial":
        where += f", interrupted after batch {summary.batch}"
    elif summary.kind == "start":
        where = (f"before training (the initial weights on {summary.samples} training images, "
                 "no update)")
    title = (f"{where} · loss {_g(summary.loss)} · train {_pct(summary.train_accuracy)} · "
             f"test {_pct(summary.test_accuracy)}")
    if summary.kind != "start":
        title += f" · {summary.seconds:.2f} s"
    rows = []
    for s in summary.layers:
        kind = s.inactive_kind
        inactive = f"{_pct(s.inactive_fraction)} {kind}" if kind else "—"
        rows.append([s.name, s.activation, _g(s.z_mean), _g(s.z_std), _g(s.a_mean), _g(s.a_std),
                     inactive, _g(s.delta_norm), _g(s.grad_norm), _g(s.grad_rms, 3),
                     _g(s.weight_norm), _g(s.update_ratio, 3)])
    return Table(title, ["layer", "f", "z mean", "z std", "a mean", "a std", "saturated/dead",
                         "rms ‖δ‖", "‖∂E/∂W‖", "per weight", "‖W‖", "‖ΔW‖/‖W‖"], rows,
                 gradient_note(summary))


def gradient_note(summary) -> str:
    """One line comparing the first layer's ‖∂E/∂W‖ with the output layer's."""
    ratios = summary.gradient_ratios
    if ratios is None:
        return ""

    def times(r: float) -> str:
        return f"{r:.3g}× smaller" if r >= 1 else f"{1 / r:.3g}× larger"

    first = summary.names[0]
    return (f"{first} against output: ‖∂E/∂W‖ {times(ratios[0])}, per weight "
            f"{times(ratios[1])}")


def sparkline(values) -> str:
    vals = [v for v in values if v == v]
    if not vals:
        return ""
    lo, hi = min(vals), max(vals)
    span = hi - lo or 1.0
    return "".join(SPARK[min(int((v - lo) / span * (len(SPARK) - 1) + 0.5), len(SPARK) - 1)]
                   for v in vals)


def confusion_table(matrix) -> Table:
    rows = [[str(d)] + [str(int(v)) for v in row] for d, row in enumerate(matrix)]
    return Table("Confusion matrix of the test set (row: true digit, column: predicted)",
                 ["true"] + [str(d) for d in range(10)], rows)
