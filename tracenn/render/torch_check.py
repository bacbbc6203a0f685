"""check_torch's report: how the learner's PyTorch step was read (model, loss, optimizer, what
PyTorch does not record), then each step's comparison as `tracenn compare` reports it."""

from __future__ import annotations

import html
import textwrap

from ..notation import DEFAULT_PRECISION
from .results import render_comparison

WIDTH = 96


def _field(label: str, text: str) -> str:
    """One line of the header, wrapped under its own start."""
    head = f"  {label:<11}"
    return textwrap.fill(text, WIDTH, initial_indent=head, subsequent_indent=" " * len(head),
                         break_on_hyphens=False)


def torch_check_text(check, precision: int = DEFAULT_PRECISION) -> str:
    lines = [f"Your PyTorch training step against tracenn's, in {check.dtype} "
             f"(tolerance {check.tolerance:g})",
             _field("model:", check.model), _field("loss:", check.loss),
             _field("optimizer:", check.optimizer),
             _field("not given:", "PyTorch does not record " + "; ".join(check.not_recorded))]
    for comparison in check.comparisons:
        lines += ["", render_comparison(comparison, precision)]
    steps = len(check.comparisons)
    if check.ok:
        lines += ["", f"All equal: every number PyTorch recorded matches tracenn's, in "
                  f"{'each of the ' + str(steps) + ' steps' if steps > 1 else 'the step'} checked."]
    return "\n".join(lines)


def torch_check_html(check, precision: int = DEFAULT_PRECISION) -> str:
    verdict = "All equal." if check.ok else f"First difference at step {check.step}: " \
        f"{check.first.name}" + (f" ({', '.join(d.name for d in check.mistakes)})"
                                 if check.mistakes else "")
    return (f"<div class=\"tracenn\"><p><strong>{html.escape(verdict)}</strong></p>"
            f"<pre>{html.escape(torch_check_text(check, precision))}</pre></div>")
