"""Decision maps as plain SVG (standard library only): a panel per unit of a network with two
inputs — each hidden unit, then the output — its activation over the input square as a heat
map, the line where it switches (maps.py found it), the training points and a colour bar with
the unit's range and the line's level marked.

The panels are laid out here once (`maps_layout`), every line of text with its box, so a test
can check that no two labels overlap; `render_maps` only writes the layout down.  The maps
are computed by maps.py, never here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

from .layout import CHAR, FONT, TITLE_FONT, Text
from .svg import FONT_FAMILY, INK

PANEL = 180.0  # px, the side of a heat map
BAR = 12.0  # px, the colour bar's width
BAR_GAP = 8.0
GAP = 28.0  # between panels
MARGIN = 16.0
COLUMNS = 3  # panels per row
LOW, MID, HIGH = (221, 107, 32), (247, 247, 247), (43, 108, 176)  # orange → white → blue
LINE_INK = "#1a202c"


@dataclass
class Panel:
    x: float  # the heat map's top left
    y: float
    unit: object  # maps.UnitMap


@dataclass
class MapsLayout:
    width: float
    height: float
    panels: list[Panel] = field(default_factory=list)
    texts: list[Text] = field(default_factory=list)
    strings: dict[str, str] = field(default_factory=dict)  # each text's words, by key


def num(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".") if x == x else "nan"


def _text(out: list, key, x, y, chars, *, size=FONT, anchor="start", cls=""):
    out.append(Text(key, x, y, size, anchor, chars, cls))


def maps_layout(maps, columns: int = COLUMNS) -> MapsLayout:
    """Where each panel, its title, ticks and colour bar labels go."""
    n = len(maps.maps)
    cols = max(1, min(columns, n))
    tick_chars = max(len(num(v)) for u in maps.maps for v in (u.lo, u.level, u.hi))
    gutter = max(len(maps.inputs[1]), 4) * CHAR * FONT + 6  # x2's name and ticks
    panel_w = gutter + PANEL + BAR_GAP + BAR + 4 + tick_chars * CHAR * FONT + GAP
    titles = _titles(maps)
    width = 2 * MARGIN + max(cols * panel_w - GAP,
                             max(len(t) for t in titles) * CHAR * TITLE_FONT)
    lay = MapsLayout(width, 0.0)
    for k, title in enumerate(titles):
        lay.strings[f"title:{k}"] = title
        lay.texts.append(Text(f"title:{k}", MARGIN, MARGIN + TITLE_FONT * (1 + 1.35 * k),
                              TITLE_FONT, "start", len(title), "title"))
    top = MARGIN + TITLE_FONT * 1.35 * len(titles) + 8
    row_h = TITLE_FONT * 1.35 + PANEL + FONT * 1.35 * 2 + GAP
    for i, unit in enumerate(maps.maps):
        r, c = divmod(i, cols)
        px, py = MARGIN + gutter + c * panel_w, top + r * row_h + TITLE_FONT * 1.35
        lay.panels.append(Panel(px, py, unit))
        _panel_texts(lay, i, px, py, unit, maps, gutter)
    rows = -(-n // cols)
    foot_y = top + rows * row_h
    for k, line in enumerate(_foot(maps, width - 2 * MARGIN)):
        lay.strings[f"foot:{k}"] = line
        lay.texts.append(Text(f"foot:{k}", MARGIN, foot_y + k * FONT * 1.35, FONT, "start",
                              len(line), "foot"))
    lay.height = foot_y + len(_foot(maps, width - 2 * MARGIN)) * FONT * 1.35 + MARGIN
    return lay


def _panel_texts(lay: MapsLayout, i: int, px: float, py: float, unit, maps,
                 gutter: float) -> None:
    out, put = lay.texts, lay.strings.__setitem__
    name = _unit_title(unit, maps)
    put(f"name:{i}", name)
    _text(out, f"name:{i}", px, py - 6, len(name), size=TITLE_FONT * 0.9, cls="head")
    below = py + PANEL + FONT * 1.2
    (x0, x1), (y0, y1) = maps.x, maps.y
    lo_x, hi_x = min(p[0] for p in maps.points), max(p[0] for p in maps.points)
    lo_y, hi_y = min(p[1] for p in maps.points), max(p[1] for p in maps.points)
    for key, v in (("xlo", lo_x), ("xhi", hi_x)):
        put(f"{key}:{i}", num(v))
        _text(out, f"{key}:{i}", px + (v - x0) / (x1 - x0) * PANEL, below, len(num(v)),
              anchor="middle", cls="tick")
    put(f"x1:{i}", maps.inputs[0])
    put(f"x2:{i}", maps.inputs[1])
    _text(out, f"x1:{i}", px + PANEL / 2, below + FONT * 1.2, len(maps.inputs[0]),
          anchor="middle", cls="axis")
    _text(out, f"x2:{i}", px - gutter + 2, py + PANEL / 2 + FONT * 0.35, len(maps.inputs[1]),
          cls="axis")
    for key, v in (("ylo", lo_y), ("yhi", hi_y)):
        y = py + (y1 - v) / (y1 - y0) * PANEL
        put(f"{key}:{i}", num(v))
        _text(out, f"{key}:{i}", px - gutter + 2, y + FONT * 0.35, len(num(v)), cls="tick")
    bar_x = px + PANEL + BAR_GAP + BAR + 4
    for key, v in (("hi", unit.hi), ("level", unit.level), ("lo", unit.lo)):
        put(f"bar-{key}:{i}", num(v))
        y = py + (unit.hi - v) / (unit.hi - unit.lo) * PANEL
        _text(out, f"bar-{key}:{i}", bar_x, min(max(y + FONT * 0.35, py + FONT * 0.75),
                                               py + PANEL + FONT * 0.25),
              len(num(v)), cls="tick")


def _titles(maps) -> list[str]:
    return [maps.title, f"each unit over its inputs, step {maps.step}"]


def _unit_title(unit, maps) -> str:
    last = max(u.layer for u in maps.maps)
    return f"{unit.name} ({'output' if unit.layer == last else f'hidden, layer {unit.layer}'})"


def _foot(maps, width: float) -> list[str]:
    several = len(maps.points[0][2]) > 1
    words = ("Colour: the unit's activation on the scale of its bar, orange low → white → blue "
             "high. Line: where the unit switches, marked on its bar: a hidden unit's z = 0 "
             "(σ 0.5, tanh 0), an output's 0.5. Dots: the training points, filled = target 1 "
             f"{'for that output' if several else ''}, open = target 0"
             f"{' (grey on a hidden unit)' if several else ''}.").replace(" ,", ",").split()
    lines, line = [], ""
    for w in words:
        if line and len(line) + 1 + len(w) > width / (CHAR * FONT):
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    return lines + [line]


def colour(v: float, lo: float, hi: float) -> str:
    """orange at lo, white half way, blue at hi."""
    t = min(max((v - lo) / (hi - lo), 0.0), 1.0) if v == v else 0.5
    a, b, s = (LOW, MID, 2 * t) if t < 0.5 else (MID, HIGH, 2 * t - 1)
    return "#" + "".join(f"{round(p + (q - p) * s):02x}" for p, q in zip(a, b))


def _f(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def render_maps(maps, columns: int = COLUMNS) -> str:
    """The SVG of `maps` (maps.DecisionMaps)."""
    lay = maps_layout(maps, columns)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{_f(lay.width)}" '
           f'height="{_f(lay.height)}" viewBox="0 0 {_f(lay.width)} {_f(lay.height)}" '
           f'font-family="{FONT_FAMILY}" font-size="{_f(FONT)}" fill="{INK}" '
           'class="tracenn-maps" role="img">',
           f"<title>{escape(lay.strings['title:0'] + ': ' + lay.strings['title:1'])}</title>",
           f'<rect width="{_f(lay.width)}" height="{_f(lay.height)}" fill="#ffffff"/>']
    for i, panel in enumerate(lay.panels):
        out += _panel(i, panel, maps)
    for t in lay.texts:
        anchor = f' text-anchor="{t.anchor}"' if t.anchor != "start" else ""
        size = f' font-size="{_f(t.size)}"' if t.size != FONT else ""
        weight = ' font-weight="bold"' if t.cls in ("title", "head") else ""
        ink = ' fill="#4a5568"' if t.cls in ("foot", "tick") else ""
        out.append(f'<text data-key="{t.key}" x="{_f(t.x)}" y="{_f(t.y)}"{anchor}{size}'
                   f'{weight}{ink}>{escape(lay.strings[t.key])}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _panel(i: int, panel: Panel, maps) -> list[str]:
    unit, px, py = panel.unit, panel.x, panel.y
    n = unit.values.shape[0]
    cell = PANEL / (n - 1)  # grid points sit on the square's corners; cells centred on them
    (x0, x1), (y0, y1) = maps.x, maps.y

    def at(x: float, y: float) -> tuple[float, float]:
        return px + (x - x0) / (x1 - x0) * PANEL, py + (y1 - y) / (y1 - y0) * PANEL

    out = [f'<g data-unit="{escape(unit.name)}" data-level="{unit.level}">',
           f'<clipPath id="map-clip-{i}"><rect x="{_f(px)}" y="{_f(py)}" width="{_f(PANEL)}" '
           f'height="{_f(PANEL)}"/></clipPath>',
           f'<g clip-path="url(#map-clip-{i})" shape-rendering="crispEdges">']
    for r in range(n):
        for c in range(n):
            out.append(f'<rect x="{px + (c - 0.5) * cell:.1f}" y="{py + (r - 0.5) * cell:.1f}" '
                       f'width="{cell + 0.3:.2f}" height="{cell + 0.3:.2f}" '
                       f'fill="{colour(unit.values[r, c], unit.lo, unit.hi)}"/>')
    out.append('<g shape-rendering="auto">')
    path = " ".join("M{:.2f},{:.2f}L{:.2f},{:.2f}".format(*at(*a), *at(*b))
                    for a, b in unit.segments)
    out.append(f'<path class="contour" d="{path}" fill="none" stroke="#ffffff" '
               'stroke-width="4" stroke-linecap="round"/>')
    out.append(f'<path class="contour" data-level="{unit.level}" d="{path}" fill="none" '
               f'stroke="{LINE_INK}" stroke-width="2" stroke-linecap="round"/>')
    out.append("</g></g>")
    last = max(u.layer for u in maps.maps)
    for x, y, targets in maps.points:
        cx, cy = at(x, y)
        # an output's panel fills the points whose target for it is 1; a hidden unit's, those
        # of class 1 when there is one output (with several, their classes are on the outputs)
        t = targets[unit.index] if unit.layer == last else targets[0]
        fill = LINE_INK if t >= 0.5 else "#ffffff"
        if unit.layer != last and len(targets) > 1:
            fill = "#a0aec0"
        out.append(f'<circle class="point" cx="{cx:.1f}" cy="{cy:.1f}" r="5" fill="{fill}" '
                   f'stroke="{LINE_INK}" stroke-width="1.5" data-target="{t}"/>')
    out.append(f'<rect x="{_f(px)}" y="{_f(py)}" width="{_f(PANEL)}" height="{_f(PANEL)}" '
               'fill="none" stroke="#4a5568"/>')
    out += _bar(i, px + PANEL + BAR_GAP, py, unit)
    out.append("</g>")
    return out


def _bar(i: int, bx: float, py: float, unit) -> list[str]:
    span = unit.hi - unit.lo
    stops = "".join(f'<stop offset="{s:.2f}" '
                    f'stop-color="{colour(unit.hi - s * span, unit.lo, unit.hi)}"/>'
                    for s in (0.0, 0.25, 0.5, 0.75, 1.0))
    ly = py + (unit.hi - unit.level) / (unit.hi - unit.lo) * PANEL
    return [f'<linearGradient id="map-bar-{i}" x1="0" y1="0" x2="0" y2="1">{stops}'
            '</linearGradient>',
            f'<rect class="bar" x="{_f(bx)}" y="{_f(py)}" width="{_f(BAR)}" height="{_f(PANEL)}" '
            f'fill="url(#map-bar-{i})" stroke="#4a5568"/>',
            f'<line x1="{_f(bx - 3)}" y1="{ly:.1f}" x2="{_f(bx + BAR + 3)}" y2="{ly:.1f}" '
            f'stroke="{LINE_INK}" stroke-width="2"/>']
