"""A network picture as plain, self-contained SVG: no script, no external font, image or style
sheet, so GitHub shows it in Markdown and a notebook or a slide shows it as it is.

Geometry comes from layout.py, texts and edge values from figure.py; this module only writes
them down.  Colours are presentation attributes (not a style sheet), so the same elements look
the same inline in the step player's page.  Every element carries `data-key` (its slot), and
every text that shows quantities `data-q` (their display names in order, separated by |), so a test — or the
player's script — finds each number.
"""

from __future__ import annotations

from html import escape

from .figure import Figure, Shape
from .layout import FONT, Layout, build_layout

FONT_FAMILY = "DejaVu Sans Mono, Menlo, Consolas, Liberation Mono, monospace"
POSITIVE, NEGATIVE, ZERO = "#2b6cb0", "#dd6b20", "#a0aec0"
WRONG, RIGHT = "#c00000", "#1e7b34"
INK, MUTED = "#1a202c", "#a0aec0"
CHAIN_FORWARD, CHAIN_BACKWARD = "#22568c", "#9c2f2f"  # the chain view: value ▸, gradient ◂
CARD_STYLE = {
    "input": 'fill="#f7fafc" stroke="#4a5568"',
    "neuron": 'fill="#ffffff" stroke="#2d3748"',
    "bias": 'fill="#fffff0" stroke="#718096" stroke-dasharray="4 3"',
    "error": 'fill="#faf5ff" stroke="#6b46c1"',
    "total": 'fill="#faf5ff" stroke="#6b46c1" stroke-width="2"',
}
TEXT_STYLE = {
    "head": 'font-weight="bold"',
    "title": 'font-weight="bold"',
    "caption": 'fill="#4a5568" font-style="italic"',
    "foot": 'fill="#4a5568"',
    "note": 'font-weight="bold"',
}
LINK_STYLE = {
    "bias": f'stroke="{ZERO}" stroke-width="1" stroke-dasharray="4 3"',
    "error": 'stroke="#6b46c1" stroke-width="1"',
    "legend-pos": f'stroke="{POSITIVE}" stroke-width="3"',
    "legend-neg": f'stroke="{NEGATIVE}" stroke-width="3"',
    "legend-bias": f'stroke="{ZERO}" stroke-width="1" stroke-dasharray="4 3"',
}


def edge_style(value: float, scale: float) -> tuple[str, float]:
    """The colour (by sign) and width (by magnitude, relative to `scale`, the largest
    magnitude shown) of an edge."""
    colour = POSITIVE if value > 0 else NEGATIVE if value < 0 else ZERO
    width = 0.8 + 4.2 * (abs(value) / scale if scale > 0 else 0.0)
    return colour, round(width, 2)


def edge_scale(figures: list[Figure]) -> float:
    return max((abs(v) for fig in figures for v in fig.edges.values()), default=0.0)


def _f(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def render_svg(layout: Layout, fig: Figure, *, scale: float | None = None,
               marks: dict[str, str] | None = None, every_slot: bool = False,
               css_class: str = "") -> str:
    """The SVG of `fig` drawn on `layout`.  `marks` maps slots to "wrong" or "right" (compare
    --draw); with `every_slot`, empty texts are written too (the player fills them)."""
    marks = marks or {}
    scale = edge_scale([fig]) if scale is None else scale
    title = escape(" · ".join(t for t in (fig.texts.get("title:0"), fig.texts.get("title:1")) if t))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{layout.width}" '
           f'height="{layout.height}" viewBox="0 0 {layout.width} {layout.height}" '
           f'font-family="{FONT_FAMILY}" font-size="{_f(FONT)}" fill="{INK}" '
           f'class="tracenn-figure{" " + css_class if css_class else ""}" data-view="{fig.view}" '
           'role="img">',
           f"<title>{title}</title>",
           f'<rect width="{layout.width}" height="{layout.height}" fill="#ffffff"/>']
    out += _links(layout, fig, scale)
    out += _cards(layout, marks)
    out += _texts(layout, fig, marks, every_slot, scale)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _links(layout: Layout, fig: Figure, scale: float) -> list[str]:
    out = ["<g>"]
    for link in layout.links:
        points = " ".join(f"{_f(x)},{_f(y)}" for x, y in link.points)
        if link.cls == "weight":
            colour, width = edge_style(fig.edges.get(link.key, 0.0), scale)
            style = f'stroke="{colour}" stroke-width="{width}" stroke-opacity="0.85"'
        else:
            style = LINK_STYLE[link.cls]
        out.append(f'<polyline data-key="{link.key}" class="{link.cls}" points="{points}" '
                   f'fill="none" {style}/>')
    for link in layout.links:  # the direction of the flow, drawn over the edges' ends
        if link.cls in ("weight", "bias"):
            colour = edge_style(fig.edges.get(link.key, 0.0), scale)[0] \
                if link.cls == "weight" else ZERO
            head = " ".join(f"{_f(x)},{_f(y)}" for x, y in link.head())
            out.append(f'<polygon class="arrow" data-key="{link.key}" points="{head}" '
                       f'fill="{colour}"/>')
    out.append("</g>")
    return out


def _cards(layout: Layout, marks: dict[str, str]) -> list[str]:
    out = ["<g>"]
    marked = {key.rsplit(":", 1)[0]: how for key, how in marks.items()}
    for c in layout.cards:
        style = CARD_STYLE[c.cls]
        if marked.get(c.key) == "wrong":
            style = f'fill="#fff5f5" stroke="{WRONG}" stroke-width="2.5"'
        out.append(f'<rect data-key="{c.key}" class="{c.cls}" x="{_f(c.x)}" y="{_f(c.y)}" '
                   f'width="{_f(c.w)}" height="{_f(c.h)}" rx="6" {style}/>')
    out.append("</g>")
    return out


def _texts(layout: Layout, fig: Figure, marks: dict[str, str], every_slot: bool,
           scale: float) -> list[str]:
    out = ["<g>"]
    for key, t in layout.texts.items():
        text = fig.texts.get(key, "")
        if not text and not (every_slot and t.chars):
            continue
        attrs = [f'data-key="{key}"']
        if key in fig.names:
            attrs.append(f'data-q="{escape("|".join(fig.names[key]))}"')
        attrs += [f'x="{_f(t.x)}"', f'y="{_f(t.y)}"']
        if t.anchor != "start":
            attrs.append(f'text-anchor="{t.anchor}"')
        if t.size != FONT:
            attrs.append(f'font-size="{_f(t.size)}"')
        style = TEXT_STYLE.get(t.cls, "")
        if marks.get(key) == "wrong":
            style += f' fill="{WRONG}" font-weight="bold"'
        elif marks.get(key) == "right":
            style += f' fill="{RIGHT}" font-weight="bold"'
        elif key in fig.muted:
            style += f' fill="{MUTED}"'
        elif t.cls in ("edge", "cell"):  # a label wears its edge's colour
            style += f' fill="{_label_colour(fig.edges.get(key, 0.0))}"'
        if t.cls == "edge":  # a backing so that the edges behind the label do not strike it
            x0, y0, x1, y1 = t.box(1.5)
            out.append(f'<rect data-key="{key}" class="label" x="{_f(x0)}" y="{_f(y0)}" '
                       f'width="{_f(x1 - x0)}" height="{_f(y1 - y0)}" rx="3" fill="#ffffff" '
                       'fill-opacity="0.9"/>')
        body = escape(text)
        if fig.view == "chain" and " ◂ " in text and not marks.get(key):
            forward, backward = text.split(" ◂ ", 1)  # two colours: value ▸, gradient ◂
            body = (f'<tspan fill="{CHAIN_FORWARD}">{escape(forward)}</tspan>'
                    f'<tspan fill="{CHAIN_BACKWARD}"> ◂ {escape(backward)}</tspan>')
        out.append(f'<text {" ".join(attrs)} {style}>{body}</text>'.replace(" >", ">"))
    out.append("</g>")
    return out


def _label_colour(value: float) -> str:
    """An edge's colour, darkened so that a label of a thin grey edge stays legible."""
    colour = edge_style(value, 1.0)[0]
    return {POSITIVE: "#22568c", NEGATIVE: "#b5541a", ZERO: "#4a5568"}[colour]


def figure_svg(shape: Shape, fig: Figure, marks: dict[str, str] | None = None) -> tuple[str, Layout]:
    """The SVG of one figure, on a layout made for it; the layout says which layers lost
    their edge labels."""
    layout = build_layout(shape, [fig])
    return render_svg(layout, fig, marks=marks), layout
