"""Pictures of a spec: the step traced by the engine and handed to the renderers (figure.py →
layout.py → svg.py), with compare's marks when a learner's numbers are drawn.  The step
player's run, with the network's output over the input plane after each step, is in
player.py.  Renderers never run the engine; this module does, through runs.py.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

from .errors import OptionError
from .notation import PICTURE_PRECISION
from .render.figure import VIEWS, Shape, step_figure
from .render.layout import MAX_EDGE_LABELS, check_size, too_wide
from .render.marks import mark, marked_view
from .render.svg import figure_svg
from .runs import trace_one_step
from .spec import Spec


class PictureNote(UserWarning):
    """Something the picture leaves out (edge labels of a wide layer); the command line prints
    it on stderr."""


@dataclass
class Drawing:
    """A picture: the SVG text and what it left out."""

    svg: str
    notes: list[str]


def check_view(view: str) -> str:
    if view not in VIEWS:
        raise OptionError(f"unknown view {view!r}; the views are {', '.join(VIEWS)}")
    return view


def check_step(step: int, steps: int) -> None:
    """Refuse a step outside the trace (1..steps)."""
    if step < 1:
        raise OptionError(f"step {step} is not a step; steps count the updates from 1")
    if step > steps:
        raise OptionError(f"step {step} is beyond the trace, which has {steps} step"
                          f"{'s' if steps != 1 else ''}; trace more (--steps N, or steps=N)")


def drawing(spec: Spec, step: int = 1, *, view: str = "forward",
            precision: int = PICTURE_PRECISION, sample: int = 1, steps: int | None = None,
            comparison=None, **tracing) -> Drawing:
    """Step `step` of `spec` drawn in `view`.  `steps` is the length of the trace (default: the
    spec's); `sample` picks the sample (1..n) whose values a batch step shows; with
    `comparison` (compare's result) the view is the one of the first wrong number, which is
    marked with the right value beside it, and the inputs of its formula that the learner had
    right are marked as right."""
    check_size(spec.network.sizes)
    if comparison is not None:
        step = comparison.step  # the marks belong to the step the learner's numbers are of
    if comparison is not None and comparison.first is not None:
        view, precision, sample = marked_view(comparison.first, precision, sample)
    check_view(view)
    if comparison is not None and comparison.right is not None:
        traced = comparison.right  # compare has traced the learner's step already
    else:
        if comparison is None:
            check_step(step, steps or spec.total_steps)
        traced = trace_one_step(spec, step, **tracing)
    n = len(traced.samples)
    if not 1 <= sample <= n:
        raise OptionError(f"sample {sample} is not in step {step}, which has {n} sample"
                          f"{'s' if n != 1 else ''} (1..{n})")
    fig = step_figure(traced, view, precision, sample - 1, spec.title, spec.network.loss.name)
    marks = mark(fig, comparison, precision) if comparison is not None else None
    svg, layout = figure_svg(Shape.of_step(traced), fig, marks)
    return Drawing(svg, unlabelled_notes(layout.unlabelled, spec.network.sizes))


def unlabelled_notes(layers: list[int], sizes: list[int]) -> list[str]:
    """Why the labels of each of `layers` (of a network of `sizes`) are written as a list under
    the picture instead of on the edges."""
    wide = too_wide(sizes)
    return [f"the edges into layer {l} are drawn without labels on them, their values listed "
            "under the picture: "
            + (f"more than {MAX_EDGE_LABELS} edges would leave no room for them"
               if l in wide else "their labels do not fit between the cards without overlapping"
               " or crossing another edge, or would make the picture too wide")
            for l in layers]


def warn_notes(notes: list[str]) -> None:
    for note in notes:
        warnings.warn(note, PictureNote, stacklevel=3)
