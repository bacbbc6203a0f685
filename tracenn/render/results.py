"""Views of results other than a step: the XOR run, verify's tables, compare's report and the
MNIST summaries.  Each builds `Table`s (any tabulate format) or text from plain results."""

from __future__ import annotations

from ..engine.mistakes import MISTAKES
from ..notation import num
from .tables import Table


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
    if run.verdict == "saturated":
        layer = "the output layer" if run.saturated == "output" else \
            run.saturated.replace("hidden ", "hidden layer ")
        return (f"Saturated{seed}: every unit of {layer} is saturated (its σ′ is 0 "
                f"on all four samples), so no gradient flows back and training stopped at {right} "
                f"of 4 correct. The learning rate η = {run.eta:g} is far too large: try a smaller "
                "--lr.")
    if run.verdict == "stuck":
        return (f"Stuck in a local minimum{seed}: {right} of 4 correct and the loss has stopped "
                "falling. Hint: try another --seed, or a different --lr.")
    return (f"Not solved yet{seed}: {right} of 4 correct, but the loss is still falling. "
            "Hint: train longer with --epochs, or raise --lr.")


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


def update_check_table(step: int, rows, precision: int) -> Table:
    """The optimizer's update, SymPy's evaluation of its formulas against the engine's numbers."""
    return Table(f"Step {step} · the update: SymPy's formulas of the optimizer against the engine",
                 ["quantity", "formula", "SymPy", "engine", "|diff|", "result"],
                 [[r.name, r.formula, num(r.sympy, precision), num(r.engine, precision),
                   f"{r.diff:.1e}", _verdict(r.ok)] for r in rows])


def identity_table(rows) -> Table:
    return Table("The identities behind backprop, checked symbolically",
                 ["identity", "textbook form", "what SymPy found", "holds?"],
                 [[r.name, r.textbook, r.found, "yes" if r.holds else "NO"] for r in rows])


def precision_table(rows, dps: int) -> Table:
    return Table(f"float64 against a recomputation with {dps} significant digits",
                 ["quantity", "float64", f"{dps} digits", "|difference|"],
                 [[r.name, repr(r.float64), r.exact, f"{r.difference:.1e}"] for r in rows])


# --------------------------------------------------------------------------------------------
# compare
# --------------------------------------------------------------------------------------------


# the later independent wrong values shown with their numbers; the rest are named only
ALSO_SHOWN = 3


def render_comparison(result, precision: int) -> str:
    lines = [f"Step {result.step}: compared {len(result.checked)} of your values "
             f"({result.not_given} quantities not given)."]
    lines += [f"Read: {note}" for note in result.notes]
    if result.unknown:
        lines.append("Unknown names (not quantities of this network, skipped): "
                     + ", ".join(result.unknown))
    if result.convention is not None:
        lines.append(result.convention.describe())
    if getattr(result, "batch_mean", None) is not None:
        lines.append(result.batch_mean.describe())
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
    if result.follows:
        lines.append(f"  after it: {len(result.follows)} of your later values follow from it "
                     f"(right given your earlier numbers): {', '.join(result.follows)}")
    if result.also_wrong:
        shown = ", ".join(f"{name} (yours {num(yours, precision)}, right {num(right, precision)})"
                          for name, yours, right in result.also_wrong[:ALSO_SHOWN])
        if len(result.also_wrong) > ALSO_SHOWN:
            rest = ", ".join(name for name, _, _ in result.also_wrong[ALSO_SHOWN:])
            shown += f"; and {rest}"
        lines.append(f"  also wrong, not following from it: {len(result.also_wrong)} "
                     f"value{'s' if len(result.also_wrong) > 1 else ''}: {shown}")
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
