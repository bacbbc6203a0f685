"""Notebook display: the HTML that Jupyter shows for a run, a step, a verification, a
comparison and an MNIST summary (their `_repr_html_` hooks call these).  The same tables as the
terminal, in tabulate's HTML format, with each title as a heading; a step also shows its
picture, a comparison the picture `compare --draw` draws (its first wrong number marked),
and a spec the picture of its network (`_repr_svg_`).  No IPython import needed."""

from __future__ import annotations

import html

from ..notation import DEFAULT_PRECISION, PICTURE_PRECISION
from .tables import Table, format_tables


def tables_html(tables: list[Table]) -> str:
    return "<div class=\"tracenn\">" + format_tables(tables, "html") + "</div>"


def step_svg(step, view: str = "forward", precision: int = PICTURE_PRECISION) -> str | None:
    """The picture of a step (None for a network too large to draw: Jupyter then shows the
    next representation)."""
    from ..errors import UnsupportedError
    from .figure import Shape, step_figure
    from .svg import figure_svg

    try:
        return figure_svg(Shape.of_step(step), step_figure(step, view, precision))[0]
    except UnsupportedError:
        return None


def spec_svg(spec, precision: int = PICTURE_PRECISION) -> str | None:
    """The picture of a spec's network before training: names, weights and biases."""
    from ..errors import UnsupportedError
    from .figure import Shape, network_figure
    from .svg import figure_svg

    try:
        return figure_svg(Shape.of_spec(spec), network_figure(spec, precision))[0]
    except UnsupportedError:
        return None


def step_html(step, precision: int = DEFAULT_PRECISION) -> str:
    """The step's picture above its tables."""
    from .steps import step_tables

    svg = step_svg(step)
    return (f"<div>{svg}</div>" if svg else "") + tables_html(step_tables(step, precision))


def run_html(run, precision: int = DEFAULT_PRECISION, limit: int = 5) -> str:
    """The first `limit` full steps (a run may hold thousands), and a line for the rest."""
    from .steps import render_summary

    steps = run.steps
    parts = [step_html(s, precision) for s in steps[:limit]]
    rest = len(run.entries) - len(parts)
    if rest > 0:
        last = run.entries[-1]
        tail = render_summary(last, run.labels, precision)
        parts.append(f"<p>… and {rest} more entries; the last: {html.escape(tail)}</p>")
    return "\n".join(parts)


def verification_html(result, precision: int = DEFAULT_PRECISION) -> str:
    from .text import verification_tables, verification_verdict

    verdict = verification_verdict(result)
    return (tables_html(verification_tables(result, precision))
            + f"<p><strong>{html.escape(verdict)}</strong></p>")


def comparison_svg(result, precision: int = PICTURE_PRECISION) -> str | None:
    """The picture `compare --draw` draws: the step compared, in the view of the first wrong
    number, marked.  None when every value matched (nothing to mark; the text says so, and a
    plain picture of a right step is `draw`'s) or the network is too large to draw."""
    from ..errors import UnsupportedError
    from .marks import comparison_svg as marked_svg

    if result.first is None or result.right is None:
        return None
    try:
        return marked_svg(result, precision, result.title, result.loss)[0]
    except UnsupportedError:
        return None


def comparison_html(result, precision: int = DEFAULT_PRECISION) -> str:
    """The marked picture (when a number is wrong) above the report compare prints."""
    from .results import render_comparison

    svg = comparison_svg(result)
    return ((f"<div class=\"tracenn\">{svg}</div>" if svg else "")
            + f"<pre>{html.escape(render_comparison(result, precision))}</pre>")


def summary_html(summary, epochs: int | None = None) -> str:
    from .results import mnist_summary_table

    return tables_html([mnist_summary_table(summary, epochs or summary.epoch)])


def circuit_html(trace, precision: int = DEFAULT_PRECISION) -> str:
    """A circuit (tracenn.graph): its picture in the backward view (values and gradients)
    above the forward, backward and gradient tables."""
    from ..circuits.text import circuit_html as circuit_tables
    from .circuit_svg import circuit_svg

    return (f"<div class=\"tracenn\">{circuit_svg(trace, 'backward')}</div>"
            + circuit_tables(trace, precision))
