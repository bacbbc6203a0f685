"""The geometry of a network picture, computed once and shared by the SVG (svg.py) and the step
player (html.py): where each card (input, neuron, shared bias, error, E_total), each edge and
each line of text goes.

Inputs sit in the left column, then one column per layer, then the error column.  A bias
shared by a layer (Mazur's b1, b2) is one card below the previous column, with an edge to each
neuron it feeds; a per-neuron bias is a line of its neuron's card.  Every weight's label sits on
its edge, at a place chosen so that no two texts overlap and as few other edges as possible
cross it: text boxes are estimated from the font size and the number of characters (the
pictures use a monospaced font, whose characters are 0.6 em wide).  The layout reserves for
each slot the longest text any of the figures it serves puts there, so one layout serves every
view and every step of a player.

Each label sits near its own edge's end (the neuron the weight feeds), where no other edge
runs through its box, and is drawn in its edge's colour (svg.py).  A layer pair of more than
MAX_EDGE_LABELS edges, or one whose labels find no such place, or the layer pair whose labels
would make the picture wider than MAX_WIDTH, writes its labels instead as a list under the
picture, one block per neuron (`tabled` says which); layers of more than MAX_DRAWN are refused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..errors import UnsupportedError
from .figure import Figure, Shape

MAX_LABELLED = 12  # kept for callers that name it; the rule is MAX_EDGE_LABELS
MAX_EDGE_LABELS = 20  # edges of a layer pair that are still labelled on the edge
MAX_WIDTH = 1000.0  # px: a picture wider than this writes a layer pair's labels as a list
PREFERRED_T = 0.72  # where along its edge a label would rather sit (1 = the neuron it feeds)
MAX_DRAWN = 32  # neurons of a layer that can be drawn at all
FONT = 11.0  # px, every label
TITLE_FONT = 14.0
CHAR = 0.6  # em: the advance of a monospaced character
LINE = 1.35  # line height, in font sizes
PAD = 6.0  # inside a card
VGAP = 24.0  # between cards of a column
MARGIN = 16.0
MIN_GAP = 90.0  # between columns
TIGHT_GAP = 50.0  # between columns, in a picture too wide whose labels are all listed
ERROR_GAP = 44.0
LABEL_MARGIN = 3.0  # kept free around an edge label
MAX_TRIES = 12


@dataclass
class Text:
    """One line of text: baseline at (x, y), anchored at its start or middle, room for
    `chars` characters."""

    key: str
    x: float
    y: float
    size: float
    anchor: str
    chars: int
    cls: str = ""

    def box(self, margin: float = 0.0) -> tuple[float, float, float, float]:
        w = self.chars * CHAR * self.size
        x0 = self.x - w / 2 if self.anchor == "middle" else self.x
        return (x0 - margin, self.y - 0.75 * self.size - margin, x0 + w + margin,
                self.y + 0.25 * self.size + margin)


@dataclass
class Card:
    key: str
    x: float  # top left
    y: float
    w: float
    h: float
    cls: str

    @property
    def left(self) -> tuple[float, float]:
        return self.x, self.y + self.h / 2

    @property
    def right(self) -> tuple[float, float]:
        return self.x + self.w, self.y + self.h / 2


ARROW = (7.0, 3.0)  # px: an arrowhead's length and half width


@dataclass
class Link:
    key: str
    points: list[tuple[float, float]]
    cls: str  # weight, bias, error, legend-…

    def head(self) -> list[tuple[float, float]]:
        """The arrowhead at the link's end (the neuron it feeds), its tip on the card's edge:
        tip, then the two back corners."""
        (x0, y0), (x1, y1) = self.points[-2], self.points[-1]
        d = math.hypot(x1 - x0, y1 - y0) or 1.0
        ux, uy = (x1 - x0) / d, (y1 - y0) / d
        length, half = ARROW
        bx, by = x1 - ux * length, y1 - uy * length
        return [(x1, y1), (bx - uy * half, by + ux * half), (bx + uy * half, by - ux * half)]


@dataclass
class Layout:
    width: float
    height: float
    cards: list[Card] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    texts: dict[str, Text] = field(default_factory=dict)
    unlabelled: list[int] = field(default_factory=list)  # layers drawn without their labels: none
    tabled: list[int] = field(default_factory=list)  # layers whose labels are listed underneath


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def too_wide(sizes: list[int]) -> list[int]:
    """The layers whose edge labels are written as a list under the picture: more than
    MAX_EDGE_LABELS edges between them and the layer before."""
    return [l for l in range(1, len(sizes)) if sizes[l - 1] * sizes[l] > MAX_EDGE_LABELS]


def check_size(sizes: list[int]) -> None:
    """Refuse, in one line, a network too large to draw."""
    for l, n in enumerate(sizes):
        if n > MAX_DRAWN:
            what = "the input" if l == 0 else f"layer {l}"
            raise UnsupportedError(
                f"{what} has {n} units; pictures draw layers of at most {MAX_DRAWN} (for a "
                "network this size, use the per-layer summaries of tracenn mnist or the tables "
                "of tracenn trace)")


class _Builder:
    """Places cards column by column, then each gap's edge labels; widens a gap where a label
    finds no free place and starts again."""

    def __init__(self, shape: Shape, figures: list[Figure]):
        self.shape, self.figures = shape, figures
        self.chars = {}
        for fig in figures:
            for key, text in fig.texts.items():
                self.chars[key] = max(self.chars.get(key, 0), len(text))
        L = shape.L
        wide = too_wide(shape.sizes)
        # a layer pair whose labels take two lines (Adam's m̂ and v̂ above its update) is listed
        two_lines = {int(key.split(":")[1]) for key in self.chars if key.startswith("ws:")}
        self.labelled = [l not in wide and l not in two_lines for l in range(1, L + 1)]
        self.gaps = [self._first_gap(l) for l in range(1, L + 1)]

    def _width(self, key: str, size: float = FONT) -> float:
        return self.chars.get(key, 0) * CHAR * size

    def _first_gap(self, l: int) -> float:
        if not self.labelled[l - 1]:
            return MIN_GAP
        widths = [self._width(f"w:{l}:{j}:{k}") for j in range(self.shape.sizes[l])
                  for k in range(self.shape.sizes[l - 1])]
        return max(MIN_GAP, 1.9 * max(widths, default=0.0))

    # --- columns ------------------------------------------------------------------------------

    def columns(self) -> list[list[tuple[str, list[str], str]]]:
        """Per column, its cards as (key, text slots, class); a column's last card may be an
        extra (a shared bias, E_total) placed below the others."""
        s, L = self.shape, self.shape.L
        cols = [[(f"in:{k}", [f"in:{k}:0", f"in:{k}:1"], "input") for k in range(s.sizes[0])]]
        for l in range(1, L + 1):
            lines = [0, 1, 2, 5] + ([] if s.shared[l - 1] else [3, 4])
            cols.append([(f"n:{l}:{j}", [f"n:{l}:{j}:{i}" for i in lines], "neuron")
                         for j in range(s.sizes[l])])
        for l in range(1, L + 1):
            if s.shared[l - 1]:
                cols[l - 1].append((f"bias:{l}", [f"bias:{l}:0", f"bias:{l}:1", f"bias:{l}:2"],
                                    "bias"))
        if s.errors:
            cols.append([(f"err:{k}", [f"err:{k}:{i}" for i in range(3)], "error")
                         for k in range(s.sizes[-1])] + [("total", ["total:0", "total:1"], "total")])
        # lines no figure fills take no room (the network view has none but names)
        return [[(key, [slot for n, slot in enumerate(slots) if n == 0 or self.chars.get(slot)],
                  cls) for key, slots, cls in col] for col in cols]

    def _extra(self, c: int, cols) -> int:
        """1 when column c ends with a card placed below its main ones."""
        return int(bool(cols[c]) and cols[c][-1][2] in ("bias", "total"))

    def place_cards(self, lay: Layout, top: float) -> float:
        cols = self.columns()
        lh = LINE * FONT
        pitch = max(len(slots) for col in cols for _, slots, _ in col) * lh + 2 * PAD + VGAP
        rows = [len(col) - self._extra(c, cols) for c, col in enumerate(cols)]
        lowest = min(-(m - 1) / 2 for m in rows)
        widths = [max(4 * CHAR * FONT, max(self._width(slot) for _, slots, _ in col
                                           for slot in slots)) + 2 * PAD for col in cols]
        x = MARGIN
        for c, col in enumerate(cols):
            w = widths[c]
            for i, (key, slots, cls) in enumerate(col):
                h = len(slots) * lh + 2 * PAD
                cy = top + (-(rows[c] - 1) / 2 + i - lowest) * pitch + pitch / 2 - VGAP / 2
                card = Card(key, x, cy - h / 2, w, h, cls)
                lay.cards.append(card)
                for n, slot in enumerate(slots):
                    y = card.y + PAD + n * lh + (lh + 0.5 * FONT) / 2
                    lay.texts[slot] = Text(slot, x + w / 2, y, FONT, "middle",
                                           self.chars.get(slot, 0), "head" if n == 0 else "")
            if c + 1 < len(cols):
                gap = self.gaps[c] if c < len(self.gaps) else ERROR_GAP
                # column captions must not touch: centres at least half of each apart
                captions = (self._width(f"cap:{c}") + self._width(f"cap:{c + 1}")) / 2 + 30
                x += max(w + gap, captions - (widths[c + 1] - w) / 2)
        return max(card.y + card.h for card in lay.cards)

    # --- edges --------------------------------------------------------------------------------

    def links(self, lay: Layout) -> None:
        cards = {card.key: card for card in lay.cards}
        s = self.shape
        for l in range(1, s.L + 1):
            for j in range(s.sizes[l]):
                end = cards[f"n:{l}:{j}"].left
                for k in range(s.sizes[l - 1]):
                    src = cards[f"in:{k}" if l == 1 else f"n:{l - 1}:{k}"].right
                    lay.links.append(Link(f"w:{l}:{j}:{k}", [src, end], "weight"))
                if s.shared[l - 1]:
                    lay.links.append(Link(f"sb:{l}:{j}", [cards[f"bias:{l}"].right, end], "bias"))
        if not s.errors:
            return
        total = cards["total"]
        for k in range(s.sizes[-1]):
            err = cards[f"err:{k}"]
            lay.links.append(Link(f"ln:{k}", [cards[f"n:{s.L}:{k}"].right, err.left], "error"))
            bx = err.x + err.w + 10
            lay.links.append(Link(f"lt:{k}", [err.right, (bx, err.right[1]), (bx, total.right[1]),
                                              total.right], "error"))

    def place_labels(self, lay: Layout, l: int, taken: list) -> bool:
        """Put the labels of layer l's edges where they overlap nothing; False if one finds no
        place."""
        edges = [link for link in lay.links if link.key.startswith(f"w:{l}:")]
        others = [link for link in lay.links if link.cls in ("weight", "bias")]
        for link in edges:
            best = None
            for t in [i / 40 for i in range(4, 37)]:
                text = self._label_at(link, t)
                box = text.box(LABEL_MARGIN)
                if any(_overlap(box, other) for other in taken) or _crossings(box, others, link):
                    continue  # a foreign edge through the box would make the label look its
                cost = abs(t - PREFERRED_T)
                if best is None or cost < best[0]:
                    best = (cost, text, box)
            if best is None:
                return False
            lay.texts[link.key] = best[1]
            taken.append(best[2])
        return True

    def _label_at(self, link: Link, t: float) -> Text:
        (x1, y1), (x2, y2) = link.points
        x, y = x1 + t * (x2 - x1), y1 + t * (y2 - y1)
        return Text(link.key, x, y + 0.25 * FONT, FONT, "middle", self.chars.get(link.key, 0),
                    "edge")


def _crossings(box, edges: list[Link], own: Link) -> int:
    """How many other edges pass through `box` (edges are straight and run left to right)."""
    count = 0
    for link in edges:
        if link is own:
            continue
        (x1, y1), (x2, y2) = link.points
        lo, hi = max(box[0], x1), min(box[2], x2)
        if lo >= hi:
            continue
        ya = y1 + (lo - x1) / (x2 - x1) * (y2 - y1)
        yb = y1 + (hi - x1) / (x2 - x1) * (y2 - y1)
        if min(ya, yb) < box[3] and max(ya, yb) > box[1]:
            count += 1
    return count


def build_layout(shape: Shape, figures: list[Figure]) -> Layout:
    """The geometry for a network of `shape` that fits every text of `figures`: a layer whose
    edge labels do not fit gets a wider gap, MAX_TRIES times, and then writes its labels as a
    list; while the picture is wider than MAX_WIDTH, so does the labelled layer of the widest
    gap."""
    check_size(shape.sizes)
    b = _Builder(shape, figures)
    tries = 0
    while True:
        lay, bottom, failed = _attempt(b)
        if failed:
            tries += 1
            for l in failed:
                if tries < MAX_TRIES:
                    b.gaps[l - 1] *= 1.3
                else:
                    _table(b, l)
            continue
        lay.tabled = [l for l in range(1, shape.L + 1) if not b.labelled[l - 1]]
        _finish(b, lay, _place_lists(b, lay, bottom))
        labelled = [l for l in range(1, shape.L + 1) if b.labelled[l - 1]]
        if lay.width <= MAX_WIDTH:
            return lay
        if labelled:
            _table(b, max(labelled, key=lambda l: b.gaps[l - 1]))
        elif max(b.gaps) > TIGHT_GAP:  # no label left on an edge: the columns may close up
            b.gaps = [TIGHT_GAP] * len(b.gaps)
        else:
            return lay


def _table(b: "_Builder", l: int) -> None:
    b.labelled[l - 1] = False
    b.gaps[l - 1] = MIN_GAP


def _place_lists(b: "_Builder", lay: Layout, bottom: float) -> float:
    """The labels of each tabled layer pair under the picture: a caption, then one block per
    neuron (its name, then one line per incoming edge), blocks flowing left to right and
    wrapping at MAX_WIDTH; the new bottom."""
    lh = LINE * FONT
    y = bottom + 1.5 * FONT
    for l in [l for l in range(1, b.shape.L + 1) if not b.labelled[l - 1]]:
        n_in = b.shape.sizes[l - 1]
        cap = f"mcap:{l}"
        y += lh + 0.6 * FONT
        lay.texts[cap] = Text(cap, MARGIN, y, FONT, "start", b.chars.get(cap, 0), "caption")
        x, row_top = MARGIN, y + 4
        per = 2 if any(f"ws:{l}:0:{k}" in b.chars for k in range(n_in)) else 1
        for j in range(b.shape.sizes[l]):
            keys = [f"mh:{l}:{j}"] + [key for k in range(n_in) for key in
                                      ([f"ws:{l}:{j}:{k}"] if per == 2 else []) +
                                      [f"w:{l}:{j}:{k}"]]
            w = max(b.chars.get(key, 0) for key in keys) * CHAR * FONT + 2 * PAD + 8
            if x > MARGIN and x + w > MAX_WIDTH - MARGIN:
                x, row_top = MARGIN, row_top + (per * n_in + 1) * lh + PAD
            for i, key in enumerate(keys):
                lay.texts[key] = Text(key, x, row_top + (i + 1) * lh, FONT, "start",
                                      b.chars.get(key, 0), "head" if i == 0 else "cell")
            x += w
        y = row_top + (per * n_in + 1) * lh
    return y


def _attempt(b: _Builder) -> tuple[Layout, float, list[int]]:
    """Cards, edges and the labels of every labelled layer; the lowest card's bottom and the
    layers whose labels did not fit."""
    lay = Layout(0.0, 0.0)
    top = MARGIN + TITLE_FONT + LINE * FONT + 2.2 * FONT + 10
    bottom = b.place_cards(lay, top)
    b.links(lay)
    taken = [(c.x - 2, c.y - 2, c.x + c.w + 2, c.y + c.h + 2) for c in lay.cards]
    failed = [l for l in range(1, b.shape.L + 1) if b.labelled[l - 1]
              and not b.place_labels(lay, l, taken)]
    return lay, bottom, failed


def _finish(b: _Builder, lay: Layout, bottom: float) -> None:
    """Title above, column captions, legend and footnote below; the size of the picture."""
    lay.texts["title:0"] = Text("title:0", MARGIN, MARGIN + TITLE_FONT, TITLE_FONT, "start",
                                b.chars.get("title:0", 0), "title")
    lay.texts["title:1"] = Text("title:1", MARGIN, MARGIN + TITLE_FONT + LINE * FONT + 2, FONT,
                                "start", b.chars.get("title:1", 0), "subtitle")
    cap_y = min(card.y for card in lay.cards) - 10
    xs = sorted({card.x + card.w / 2 for card in lay.cards})
    for c, x in enumerate(xs):
        key = f"cap:{c}"
        if key in b.chars:
            lay.texts[key] = Text(key, x, cap_y, FONT, "middle", b.chars[key], "caption")
    y = bottom + 2.5 * FONT
    x = MARGIN
    for key, swatch in (("legend:pos", "legend-pos"), ("legend:neg", "legend-neg"),
                        ("legend:width", ""), ("legend:bias", "legend-bias")):
        if not b.chars.get(key):
            continue
        if swatch:
            lay.links.append(Link(key, [(x, y - 0.3 * FONT), (x + 24, y - 0.3 * FONT)], swatch))
            x += 30
        lay.texts[key] = Text(key, x, y, FONT, "start", b.chars[key], "legend")
        x += b.chars[key] * CHAR * FONT + 24
    for key in ("note:0", "note:1", "foot"):
        if key in b.chars:
            y += LINE * FONT + 4
            lay.texts[key] = Text(key, MARGIN, y, FONT, "start", b.chars[key],
                                  "foot" if key == "foot" else "note")
    right = max(max(t.box()[2] for t in lay.texts.values()),
                max(card.x + card.w for card in lay.cards) + 12)
    lay.width = math.ceil(right + MARGIN)
    lay.height = math.ceil(y + 0.25 * FONT + MARGIN)
