"""A worksheet's picture of its network in TikZ: the geometry of render/layout.py and the texts
and edge values of render/figure.py (the network view: names, weights and biases), written down
for pdflatex as render/svg.py writes them down for a browser — with the same colours, so the
Markdown worksheet's SVG and the LaTeX worksheet's picture look alike.

The layout's unit is the SVG pixel, with y growing downwards; the picture maps it to points
(y = −1), scaled down to fit the page's text width.  The picture's own title is left out: the
worksheet has its heading.
"""

from __future__ import annotations

from ..render.figure import Figure
from ..render.layout import CHAR, FONT, Layout
from ..render.svg import INK, NEGATIVE, POSITIVE, ZERO, edge_scale, edge_style
from .picture import BOX_INK, Picture, box_rect
from .tex import escape

TEXT_WIDTH = 480.0  # pt: an A4 page with 2 cm margins is 483 pt wide
CARDS = {  # fill, line, dashed
    "input": ("F7FAFC", "4A5568", False), "neuron": ("FFFFFF", "2D3748", False),
    "bias": ("FFFFF0", "718096", True), "error": ("FAF5FF", "6B46C1", False),
    "total": ("FAF5FF", "6B46C1", False),
}
LINKS = {"bias": (ZERO, 1.0, True), "legend-bias": (ZERO, 1.0, True),
         "legend-pos": (POSITIVE, 3.0, False), "legend-neg": (NEGATIVE, 3.0, False),
         "error": ("#6b46c1", 1.0, False)}


def _c(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _colour(hex_colour: str) -> str:
    return "tn" + hex_colour.lstrip("#").upper()


def _path(points) -> str:
    return " -- ".join(f"({_c(x)},{_c(y)})" for x, y in points)


def _links(layout: Layout, fig: Figure, s: float, used: set[str]) -> list[str]:
    out, scale = [], edge_scale([fig])
    for link in layout.links:
        if link.cls == "weight":
            colour, width = edge_style(fig.edges.get(link.key, 0.0), scale)
            dashed = False
        elif link.cls in LINKS:
            colour, width, dashed = LINKS[link.cls]
        else:
            continue
        used.add(colour.lstrip("#").upper())
        style = f"draw={_colour(colour)}, line width={width * s:.2f}pt" + (", dashed" if dashed else "")
        out.append(rf"\draw[{style}] {_path(link.points)};")
    return out


def _cards(layout: Layout, s: float, used: set[str]) -> list[str]:
    out = []
    for card in layout.cards:
        fill, line, dashed = CARDS[card.cls]
        used.update((fill, line))
        style = (f"fill={_colour(fill)}, draw={_colour(line)}, rounded corners={6 * s:.1f}pt"
                 + (", dashed" if dashed else ""))
        out.append(rf"\draw[{style}] ({_c(card.x)},{_c(card.y)}) rectangle "
                   f"({_c(card.x + card.w)},{_c(card.y + card.h)});")
    return out


def _texts(layout: Layout, fig: Figure) -> list[str]:
    out = []
    for key, t in layout.texts.items():
        text = fig.texts.get(key, "")
        if not text or key.startswith("title:"):
            continue
        body = escape(text)
        if t.cls in ("head", "note"):
            body = rf"\textbf{{{body}}}"
        elif t.cls in ("caption", "foot"):
            body = rf"\textcolor{{tn4A5568}}{{{body}}}"
        anchor = "base" if t.anchor == "middle" else "base west"
        backing = ", fill=white, inner sep=0.6pt" if t.cls == "edge" else ", inner sep=0pt"
        out.append(rf"\node[anchor={anchor}{backing}] at ({_c(t.x)},{_c(t.y)}) {{{body}}};")
    return out


def _boxes(picture: Picture, filled: bool, used: set[str]) -> list[str]:
    """Each box's numbered label, the box (white, drawn over the card) and, in the key's
    picture, the answer in it, right-aligned and bold as in the SVG."""
    ink = BOX_INK.lstrip("#").upper()
    used.add(ink)
    out = []
    for slot, label, _, answer in picture.boxes:
        t = picture.layout.texts[slot]
        x0, y0, x1, y1 = box_rect(t, label)
        out.append(rf"\node[anchor=base west, inner sep=0pt] at ({_c(t.box()[0])},{_c(t.y)}) "
                   f"{{{escape(label.rstrip())}}};")
        out.append(rf"\draw[fill=white, draw=tn{ink}, rounded corners=1pt] "
                   f"({_c(x0)},{_c(y0)}) rectangle ({_c(x1)},{_c(y1)});")
        if filled:
            out.append(rf"\node[anchor=base east, inner sep=0pt] at "
                       rf"({_c(x1 - CHAR * t.size)},{_c(t.y)}) {{\textbf{{{answer}}}}};")
    return out


def _picture(layout: Layout, fig: Figure, extra=None) -> str:
    s = min(1.0, TEXT_WIDTH / layout.width)  # points per layout pixel
    used = {"4A5568", INK.lstrip("#").upper()}
    body = _links(layout, fig, s, used) + _cards(layout, s, used) + _texts(layout, fig)
    body += extra(used) if extra else []
    colours = [rf"\definecolor{{tn{c}}}{{HTML}}{{{c}}}" for c in sorted(used)]
    size = FONT * s
    return "\n".join([
        *colours,
        rf"\begin{{tikzpicture}}[x={s:.4f}pt, y=-{s:.4f}pt, text=tn{INK.lstrip('#').upper()}, "
        rf"font=\fontsize{{{size:.1f}}}{{{1.2 * size:.1f}}}\selectfont\ttfamily]",
        *body, r"\end{tikzpicture}"])


def worksheet_tikz(picture: Picture | None, filled: bool) -> str:
    """The worksheet's picture (exercises/picture.py) in TikZ: the inputs' values, and a
    numbered box per net, out and δ asked — empty for the student, holding the answers for the
    key — where the SVG draws them.  "" for no picture (a network too large to draw)."""
    if picture is None:
        return ""
    return _picture(picture.layout, picture.fig, lambda used: _boxes(picture, filled, used))
