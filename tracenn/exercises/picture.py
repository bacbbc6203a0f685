"""A worksheet's picture of its network with room to work: the network view (names, weights and
biases) with the inputs' values, and on each neuron a box for every net, out and δ the
worksheet asks, labelled with its question's number; the answer key's picture is the same
picture with the answers written in the boxes.

Both pictures share one layout (render/layout.py), made for the key's texts, so a box is where
its answer will be and is as wide as it.  The boxes are drawn over the SVG that render/svg.py
writes for the network view.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from ..errors import UnsupportedError
from ..record.trace import Step
from ..render.figure import Figure, Shape, network_figure, num
from ..render.layout import CHAR, Layout, Text, build_layout
from ..render.svg import render_svg
from ..spec import Spec
from .variants import fixed
from .worksheet import questions

BOX_INK = "#4a5568"
LINES = {"net": 1, "out": 2, "delta": 5}  # the neuron card's line for each quantity


def boxes(step: Step, asked: list[str], decimals: int) -> list[tuple[str, str, str, str]]:
    """(slot, question label, quantity name, answer) for each net, out and δ asked of a step
    of one sample, in the order of the questions."""
    if len(step.samples) != 1:
        return []  # a batch's per-sample values: the picture shows no sample's boxes
    lab, values, slots = step.labels, step.values(), {}
    for l in range(1, len(step.layers) + 1):
        for j in range(len(lab.neurons[l - 1])):
            for kind, line in LINES.items():
                slots[getattr(lab, kind)(l, j)] = (f"n:{l}:{j}:{line}", kind)
    out = []
    for q in questions(step, asked):
        if q.name in slots:
            slot, kind = slots[q.name]
            sym = {"net": "net" if lab.blog else "z", "out": "out" if lab.blog else "a",
                   "delta": "δ"}[kind]
            out.append((slot, f"({q.number}) {sym}", q.name, fixed(values[q.name], decimals)))
    return out


@dataclass
class Picture:
    """The worksheet's picture, drawn by SVG and TikZ alike: the layout, the figure's texts
    (without the boxes' lines) and the boxes (slot, label, quantity name, answer)."""

    layout: Layout
    fig: Figure
    boxes: list[tuple[str, str, str, str]]


def worksheet_picture(spec: Spec, step: Step, asked: list[str], decimals: int,
                      given_decimals: int) -> Picture | None:
    """The picture's layout, texts and boxes, or None for a network too large to draw."""
    fig = network_figure(spec, given_decimals)
    if len(step.samples) == 1:
        for k, x in enumerate(step.x[0]):
            fig.put(f"in:{k}:1", num(x, given_decimals), step.labels.inputs[k])
    asked_boxes = boxes(step, asked, decimals)
    sized = network_figure(spec, given_decimals)
    sized.texts = dict(fig.texts)
    # every box line as long as the longest, so that a card's boxes line up (and the layout
    # leaves room for the box's margins)
    label_w = max((len(b[1]) for b in asked_boxes), default=0)
    answer_w = max((len(b[3]) for b in asked_boxes), default=0)
    asked_boxes = [(slot, label.ljust(label_w), name, answer)
                   for slot, label, name, answer in asked_boxes]
    for slot, label, _, answer in asked_boxes:
        sized.texts[slot] = f"{label} {answer.rjust(answer_w)}  "
    try:
        layout = build_layout(Shape.of_spec(spec), [sized])
    except UnsupportedError:
        return None
    return Picture(layout, fig, asked_boxes)


def box_rect(t: Text, label: str) -> tuple[float, float, float, float]:
    """The answer box of a line: from after its label to the line's end, 1 px above and below
    the line's text (layout pixels, y down)."""
    x0, y0, x1, y1 = t.box()
    return x0 + (len(label) + 0.5) * CHAR * t.size, y0 - 1, x1, y1 + 1


def worksheet_svgs(picture: Picture | None) -> tuple[str, str] | None:
    """The student's picture (empty boxes) and the key's (the answers in them)."""
    if picture is None:
        return None
    base = render_svg(picture.layout, picture.fig)
    return tuple(_with_boxes(base, picture.layout, picture.boxes, filled)
                 for filled in (False, True))


def _with_boxes(svg: str, layout, asked_boxes, filled: bool) -> str:
    out = ['<g class="worksheet-boxes">']
    for slot, label, name, answer in asked_boxes:
        t = layout.texts[slot]
        bx, by0, bx1, by1 = box_rect(t, label)
        x0, cw = t.box()[0], CHAR * t.size
        out.append(f'<text data-key="{slot}" x="{x0:.1f}" y="{t.y:.1f}">'
                   f'{escape(label.rstrip())}</text>')
        out.append(f'<rect class="answer-box" data-q="{escape(name)}" x="{bx:.1f}" '
                   f'y="{by0:.1f}" width="{bx1 - bx:.1f}" height="{by1 - by0:.1f}" rx="2" '
                   f'fill="#ffffff" stroke="{BOX_INK}"/>')
        if filled:
            out.append(f'<text class="answer" data-q="{escape(name)}" x="{bx1 - cw:.1f}" '
                       f'y="{t.y:.1f}" text-anchor="end" font-weight="bold">{answer}</text>')
    out.append("</g>")
    return svg.replace("</svg>", "\n".join(out) + "\n</svg>")

