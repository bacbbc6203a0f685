"""The MNIST report: one self-contained HTML page (no script, no request) with a small chart per
statistic over training — loss, train and test accuracy, ‖∂E/∂W‖ per weight, the update ratio
‖ΔW‖/‖W‖ and the share of dead or saturated units, one line per layer — the latest summary's
table and the test set's confusion matrix as a heat map.  Every figure is a summary's value
(mnist/summary.py) or the confusion matrix's count; charts place them (charts.py).
"""

from __future__ import annotations

import math
from html import escape

from .charts import Chart, Series
from .notebook import tables_html
from .results import mnist_summary_table
from .svg import FONT_FAMILY

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1rem 1.5rem 2rem;
       color: #1a202c; background: #fafafa; }
h1 { font-size: 1.3rem; margin: 0 0 0.3rem; } h2 { font-size: 1.05rem; margin: 1.2rem 0 0.4rem; }
pre.about { font-size: 0.85rem; color: #4a5568; margin: 0.2rem 0 0.8rem; white-space: pre-wrap; }
.status { font-weight: bold; }
.charts { display: flex; flex-wrap: wrap; gap: 1rem; }
svg.chart, svg.confusion { background: #fff; border: 1px solid #e2e8f0; }
.tracenn table { border-collapse: collapse; font-family: ui-monospace, "DejaVu Sans Mono", monospace;
                 font-size: 0.8rem; background: #fff; }
.tracenn th, .tracenn td { padding: 0.1rem 0.5rem; border-bottom: 1px solid #edf2f7; }
"""


def _x(summary, batches: int | None) -> float:
    """Where a summary sits on the epoch axis: the untrained network at 0, an epoch at its
    number, a summary within an epoch at its share of the batches."""
    if summary.kind in ("start", "epoch") or not batches:
        return float(summary.epoch)
    return summary.epoch - 1 + summary.batch / batches


def _per_layer(summaries, xs, field: str, scale: float = 1.0) -> list[Series]:
    names = summaries[-1].names if summaries else []
    out = []
    for i, name in enumerate(names):
        points = []
        for s, x in zip(summaries, xs):
            layers = s.layers
            value = getattr(layers[i], field) if i < len(layers) else None
            points.append((x, None if value is None or not math.isfinite(value) else value * scale))
        if any(y is not None for _, y in points):
            out.append(Series(name, points))
    return out


def over_time(summaries) -> tuple[list, str]:
    """The summaries a chart draws, and what one point is: the --every windows when there are
    any (an epoch's summary averages over a longer span, so mixing them would draw steps that
    are not there), else the epochs; the untrained network first either way."""
    windows = [s for s in summaries if s.kind in ("start", "every")]
    if len(windows) > 1:
        return windows, "a point per --every window of batches"
    return [s for s in summaries if s.kind in ("start", "epoch", "partial")], "a point per epoch"


def charts(summaries) -> list[str]:
    """One SVG chart per statistic."""
    batches = max((s.batch for s in summaries if s.kind == "epoch"), default=None) or \
        max((s.batch for s in summaries), default=None)
    xs = [_x(s, batches) for s in summaries]

    def series(name, values, colour):
        return Series(name, [(x, v) for x, v in zip(xs, values)], colour)

    def pct(v):
        return None if v is None or not math.isfinite(v) else 100 * v

    out = [Chart("loss (mean over the summary's batches)",
                 [series("loss", [s.loss for s in summaries], "#2b6cb0")], x_label="epoch"),
           Chart("accuracy, %", [series("train", [pct(s.train_accuracy) for s in summaries],
                                        "#2b6cb0"),
                                 series("test", [pct(s.test_accuracy) for s in summaries],
                                        "#dd6b20")], x_label="epoch"),
           Chart("‖∂E/∂W‖ per weight (log scale)", _per_layer(summaries, xs, "grad_rms"),
                 log=True, x_label="epoch"),
           Chart("update ratio ‖ΔW‖/‖W‖ (log scale)", _per_layer(summaries, xs, "update_ratio"),
                 log=True, x_label="epoch")]
    inactive = [s for s in _per_layer(summaries, xs, "inactive_fraction", 100.0)]
    if inactive:
        kinds = sorted({layer.inactive_kind for layer in summaries[-1].layers if layer.inactive_kind})
        out.append(Chart(f"{' or '.join(kinds)} units, %", inactive, x_label="epoch"))
    return [c.svg() for c in out if any(p[1] is not None for s in c.series for p in s.points)]


def confusion_svg(matrix) -> str:
    """The confusion matrix as a heat map: a cell per (true, predicted) digit with its count;
    the diagonal in blue by its share of the row, the errors in orange by their share of the
    largest error."""
    cell, left, top = 34, 40, 40
    size = left + 10 * cell + 10
    rows = [[int(v) for v in row] for row in matrix]
    worst = max((v for i, row in enumerate(rows) for j, v in enumerate(row) if i != j), default=0)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
           f'viewBox="0 0 {size} {size}" font-family="{FONT_FAMILY}" font-size="10" '
           'class="confusion">',
           f'<text x="{left}" y="14" font-size="11" font-weight="bold">predicted digit →</text>',
           f'<text x="12" y="{top + 5 * cell}" font-size="11" font-weight="bold" '
           f'transform="rotate(-90 12 {top + 5 * cell})" text-anchor="middle">true digit</text>']
    for d in range(10):
        out.append(f'<text x="{left + d * cell + cell / 2}" y="{top - 6}" text-anchor="middle">{d}</text>')
        out.append(f'<text x="{left - 6}" y="{top + d * cell + cell / 2 + 3}" text-anchor="end">{d}</text>')
    for i, row in enumerate(rows):
        total = sum(row) or 1
        for j, v in enumerate(row):
            share = v / total if i == j else (v / worst if worst else 0.0)
            r, g, b = (43, 108, 176) if i == j else (221, 107, 32)
            mix = [round(255 + (c - 255) * share) for c in (r, g, b)]
            ink = "#ffffff" if share > 0.55 else "#1a202c"
            x, y = left + j * cell, top + i * cell
            out.append(f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" '
                       f'fill="rgb({mix[0]},{mix[1]},{mix[2]})" stroke="#e2e8f0" '
                       f'data-true="{i}" data-predicted="{j}"/>')
            out.append(f'<text x="{x + cell / 2}" y="{y + cell / 2 + 3}" text-anchor="middle" '
                       f'fill="{ink}">{v}</text>')
    out.append("</svg>")
    return "\n".join(out)


def mnist_report(summaries, *, about: str = "", epochs: int | None = None, confusion=None,
                 test_accuracy: float | None = None, interrupted: bool = False,
                 finished: bool = False) -> str:
    """The page for the summaries so far; with `confusion` (the end of training) also the
    confusion matrix."""
    if finished:
        status = ("Interrupted: the figures cover the batches done." if interrupted else
                  "Training finished.")
        if test_accuracy is not None:
            status += f" Test accuracy {100 * test_accuracy:.2f}%."
    else:
        status = (f"Training: {len(summaries)} summar{'y' if len(summaries) == 1 else 'ies'} so "
                  "far (this page is rewritten as training goes on; reload it).")
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             "<title>tracenn mnist report</title>", f"<style>{CSS}</style></head><body>",
             "<h1>tracenn mnist: how each layer learns</h1>",
             f'<pre class="about">{escape(about.strip())}</pre>',
             f'<p class="status">{escape(status)}</p>']
    if summaries:
        drawn, point = over_time(summaries)
        parts += [f"<h2>Over training ({point})</h2>", '<div class="charts">', *charts(drawn),
                  "</div>",
                  "<h2>The latest summary</h2>",
                  tables_html([mnist_summary_table(summaries[-1], epochs or summaries[-1].epoch)])]
    if confusion is not None:
        parts += ["<h2>Confusion matrix of the test set</h2>", confusion_svg(confusion)]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
