"""Compare's marks on a picture of the step it checked: the view that shows the first wrong
number, the decimals that tell it from the right one, and which labels are marked wrong (red,
with the right value beside it) or right (green: the inputs of its formula the learner had
right).  Used by `draw(..., comparison=…)` (pictures.py) and by a comparison's notebook view
(notebook.py), so that both show the same picture.  Formatting only: the step is compare's."""

from __future__ import annotations

from ..notation import num
from .figure import Figure, Shape, step_figure
from .svg import figure_svg

# the view that shows a quantity of each of compare's stages
STAGE_VIEWS = {"forward": "forward", "loss": "forward", "delta": "backward",
               "gradient": "backward", "update": "update", "after": "update"}


def telling(yours: float, right: float, precision: int) -> int:
    """The decimals that show a wrong number as different from the right one (at least
    `precision`)."""
    while precision < 17 and num(yours, precision) == num(right, precision):
        precision += 1
    return precision


def marked_view(first, precision: int, sample: int = 1) -> tuple[str, int, int]:
    """(view, decimals, sample 1..n) of a picture that shows `first`, compare's first wrong
    number: its stage's view, enough decimals to tell it from the right value, and the sample
    it belongs to when it is one sample's number of a batch (its name ends in @n)."""
    if "@" in first.name:
        sample = int(first.name.rsplit("@", 1)[1])
    return STAGE_VIEWS[first.stage], telling(first.yours, first.right, precision), sample


def mark(fig: Figure, comparison, precision: int) -> dict[str, str]:
    """Compare's marks on `fig`: the first wrong number in red with the right value beside it,
    the inputs of its formula the learner had right in green; a note under the picture says
    the same in words (with the inputs the view does not show)."""
    m, p = comparison.first, precision
    marks: dict[str, str] = {}
    if m is None:
        fig.put("note:0", f"every one of the {len(comparison.checked)} values you gave matches")
        return marks
    slots = {name: key for key, names in fig.names.items() for name in names}
    key = slots.get(m.name)
    if key is not None:
        text, right = fig.texts[key], num(m.right, p)
        i = text.rfind(right)
        if i >= 0:  # the label shows the right value: put the learner's beside it
            fig.texts[key] = f"{text[:i]}{num(m.yours, p)} ✗ (right {right}){text[i + len(right):]}"
            marks[key] = "wrong"
    for name, status in m.inputs:
        if status == "right" and name in slots:
            marks.setdefault(slots[name], "right")
            fig.texts[slots[name]] += " ✓"
    fig.put("note:0", f"✗ first wrong number: {m.name}, yours {num(m.yours, p)}, right "
                      f"{num(m.right, p)} · {m.formula}")
    inputs = [f"{name} {status}" for name, status in m.inputs]
    if inputs:
        fig.put("note:1", "its inputs: " + ", ".join(inputs))
    return marks


def comparison_svg(comparison, precision: int, title: str = "", loss: str = ""):
    """The SVG of the step compare checked (`comparison.right`) with its first wrong number
    marked, and the layout (which says what lost its labels).  Raises UnsupportedError for a
    network too large to draw."""
    step, m = comparison.right, comparison.first
    view, sample = "forward", 1
    if m is not None:
        view, precision, sample = marked_view(m, precision)
    fig = step_figure(step, view, precision, sample - 1, title, loss)
    return figure_svg(Shape.of_step(step), fig, mark(fig, comparison, precision))
