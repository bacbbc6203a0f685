"""A circuit as plain, self-contained SVG, CS231n's way: inputs on the left, the output on the
right, each gate's symbol in its circle, the value above each wire (green) and, in the
backward view, the gradient below it (red).

Geometry and texts come from circuits/layout.py; this module only writes them down.  Every
element carries `data-key` (a wire "g2.0", a node "g1", a text "v:g2.0"), and every number
`data-number` (the trace's float), so a test — or the HTML page's script — finds each one.
"""

from __future__ import annotations

from html import escape

from ..circuits.layout import BOX_H, FONT, R, CircuitLayout, circuit_layout
from ..circuits.trace import CircuitTrace
from ..notation import PICTURE_PRECISION

VIEWS = ("forward", "backward")
FONT_FAMILY = "DejaVu Sans Mono, Menlo, Consolas, Liberation Mono, monospace"
VALUE, GRAD, INK, MUTED, WIRE = "#1e7b34", "#c00000", "#1a202c", "#4a5568", "#718096"
SHAPE = {
    "input": 'fill="#f7fafc" stroke="#4a5568"',
    "constant": 'fill="#fffff0" stroke="#718096" stroke-dasharray="4 3"',
    "gate": 'fill="#ffffff" stroke="#2d3748" stroke-width="1.5"',
}
TEXT = {
    "value": f'fill="{VALUE}"',
    "grad": f'fill="{GRAD}"',
    "name": f'fill="{MUTED}"',
    "symbol": 'font-weight="bold" font-size="14"',
}


def _f(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def circuit_svg(trace: CircuitTrace, view: str = "backward",
                precision: int = PICTURE_PRECISION, layout: CircuitLayout | None = None,
                every_label: bool = False) -> str:
    """The SVG of the circuit in `view`: "forward" (values) or "backward" (values and
    gradients).  With `every_label` the gradients are written whatever the view (the page
    shows and hides them)."""
    lay = layout or circuit_layout(trace, precision)
    out_label = trace.node(trace.output).label
    title = f"{trace.program} — {view} pass, {out_label} = {lay.label('v:out').text}"
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{_f(lay.width)}" '
           f'height="{_f(lay.height)}" viewBox="0 0 {_f(lay.width)} {_f(lay.height)}" '
           f'font-family="{FONT_FAMILY}" font-size="{_f(FONT)}" fill="{INK}" '
           f'class="tracenn-circuit" data-view="{view}" role="img">',
           f"<title>{escape(title)}</title>",
           f'<rect width="{_f(lay.width)}" height="{_f(lay.height)}" fill="#ffffff"/>']
    for w in lay.wires:
        pts = " ".join(f"{_f(x)},{_f(y)}" for x, y in w.points)
        out.append(f'<polyline data-key="{w.key}" points="{pts}" fill="none" stroke="{WIRE}" '
                   'stroke-width="1.5"/>')
    for p in lay.places:
        if p.kind == "gate":
            out.append(f'<circle data-key="{p.id}" cx="{_f(p.x)}" cy="{_f(p.y)}" r="{_f(R)}" '
                       f'{SHAPE["gate"]}/>')
        else:
            out.append(f'<rect data-key="{p.id}" x="{_f(p.x - p.w / 2)}" '
                       f'y="{_f(p.y - BOX_H / 2)}" width="{_f(p.w)}" height="{_f(BOX_H)}" '
                       f'rx="4" {SHAPE[p.kind]}/>')
    for lab in lay.labels:
        if lab.role == "grad" and view != "backward" and not every_label:
            continue
        number = f' data-number="{lab.number!r}"' if lab.number is not None else ""
        out.append(f'<text data-key="{lab.key}"{number} x="{_f(lab.x)}" y="{_f(lab.y)}" '
                   f'text-anchor="{lab.anchor}" {TEXT[lab.role]}>{escape(lab.text)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
