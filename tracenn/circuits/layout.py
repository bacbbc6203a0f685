"""Where a circuit's picture puts everything, computed once and shared by the SVG and the
HTML page (which draws that SVG and lights it gate by gate): plain data, no drawing.

Inputs sit in the first column, each gate one column right of the deepest node it reads, a
constant just left of the gate that reads it; the output leaves the last gate to the right.
Every wire ends in a short horizontal lead into its gate's port; the wire's value is written
above that lead and its gradient below it, so two wires' labels never share a place.  Texts
are the trace's numbers formatted (num), never computed here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..notation import PICTURE_PRECISION, num
from .trace import CircuitTrace, Node

FONT = 11.0  # px, every label
CHAR = 0.6  # em: the advance of a monospaced character
R = 18.0  # a gate's circle
BOX_H = 22.0  # an input's or a constant's box
PORT_GAP = 34.0  # between two ports of one gate: a value and a gradient line each
ABOVE, BELOW = 4.0, 13.0  # baselines of a wire's value and gradient, from its lead
MARGIN, NODE_GAP = 16.0, 12.0


def text_width(text: str, size: float = FONT) -> float:
    return len(text) * CHAR * size


@dataclass
class Label:
    key: str  # "v:WIRE" a value, "d:WIRE" a gradient, "n:NODE" a name, "s:NODE" a symbol
    text: str
    x: float
    y: float  # baseline
    anchor: str  # "start" | "middle" | "end"
    role: str  # "value" | "grad" | "name" | "symbol"
    number: float | None = None  # the trace's number the text shows

    def box(self) -> tuple[float, float, float, float]:
        """(left, top, right, bottom) of the text, as a monospaced font draws it."""
        w = text_width(self.text)
        left = self.x - {"start": 0.0, "middle": w / 2, "end": w}[self.anchor]
        return left, self.y - 0.8 * FONT, left + w, self.y + 0.25 * FONT


@dataclass
class Place:
    id: str
    kind: str  # "input" | "constant" | "gate"
    x: float  # centre
    y: float
    w: float
    h: float


@dataclass
class Wire:
    key: str  # "GATE.I": argument I of GATE; "out": the output's lead
    source: str
    target: str  # "" for the output's lead
    points: list[tuple[float, float]]


@dataclass
class CircuitLayout:
    width: float
    height: float
    places: list[Place] = field(default_factory=list)
    wires: list[Wire] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)

    def label(self, key: str) -> Label:
        return next(lab for lab in self.labels if lab.key == key)


def depths(trace: CircuitTrace) -> dict[str, int]:
    """Column of every node: inputs 0, a gate one right of its deepest argument, a constant
    one left of the first gate that reads it."""
    col = {n.id: 0 for n in trace.inputs}
    for g in trace.gates:
        col[g.id] = 1 + max((col.get(a, 0) for a in g.args), default=0)
    for k in trace.constants:
        users = [col[u] for u in k.uses if u in col]
        col[k.id] = max(min(users, default=1) - 1, 0)
    return col


def _extent(node: Node) -> float:
    """Half the height a node needs in its column (its ports' labels included)."""
    if node.kind != "gate":
        return BOX_H / 2 + 4
    span = (len(node.args) - 1) * PORT_GAP / 2
    return max(R, span + BELOW + 2) + 2


def _rows(trace: CircuitTrace, col: dict[str, int]) -> dict[str, float]:
    """The y of every node: a gate level with the mean of what it reads, pushed down where its
    column is full; columns built left to right."""
    y: dict[str, float] = {}
    nodes = {n.id: n for n in (*trace.inputs, *trace.constants, *trace.gates)}
    for c in range(max(col.values(), default=0) + 1):
        members = [n for n in (*trace.inputs, *trace.constants, *trace.gates) if col[n.id] == c]
        wanted = {n.id: _wanted(n, nodes, y, i) for i, n in enumerate(members)
                  if n.kind != "constant"}
        wanted |= {n.id: _wanted(n, nodes, y | wanted, 0) for n in members
                   if n.kind == "constant"}
        members.sort(key=lambda n: wanted[n.id])
        last = None
        for n in members:
            at = wanted[n.id]
            if last is not None:
                at = max(at, y[last.id] + _extent(last) + NODE_GAP + _extent(n))
            y[n.id], last = at, n
    return y


def _wanted(n: Node, nodes, y, i: int) -> float:
    if n.kind == "input":
        return i * (BOX_H + 2 * NODE_GAP)
    if n.kind == "gate":
        known = [y[a] for a in n.args if a in y]
        return sum(known) / len(known) if known else 0.0
    user = next((nodes[u] for u in n.uses if u in nodes), None)
    if user is None:
        return 0.0
    known = [y[a] for a in user.args if a in y]
    side = user.args.index(n.id) - (len(user.args) - 1) / 2
    return (sum(known) / len(known) + 2 * side * PORT_GAP) if known else 0.0


def circuit_layout(trace: CircuitTrace, precision: int = PICTURE_PRECISION) -> CircuitLayout:
    col = depths(trace)
    y = _rows(trace, col)
    nodes = {n.id: n for n in (*trace.inputs, *trace.constants, *trace.gates)}
    wire_text = [num(nodes[a].value, precision) for g in trace.gates for a in g.args]
    wire_text += [num(s.downstream, precision) for b in trace.backward for s in b.locals]
    lead = max(map(text_width, wire_text), default=30.0) + 12
    names = [text_width(n.label) for n in nodes.values()]
    step = 2 * R + max(names, default=20.0) + 14 + lead
    first = max((text_width(n.label) + 12 for n in nodes.values() if n.kind != "gate"),
                default=30.0)
    top = min(y[i] - _extent(nodes[i]) for i in y) - MARGIN - FONT
    lay = CircuitLayout(0.0, 0.0)
    for n in nodes.values():
        w = 2 * R if n.kind == "gate" else text_width(n.label) + 12
        x = MARGIN + first + col[n.id] * step - (R if n.kind == "gate" else w / 2)
        lay.places.append(Place(n.id, n.kind, round(x, 1), round(y[n.id] - top, 1), w,
                                2 * R if n.kind == "gate" else BOX_H))
    _wires_and_labels(lay, trace, lead, precision)
    bottom = max(max(p.y + _extent(nodes[p.id]) for p in lay.places),
                 max(lab.box()[3] for lab in lay.labels))
    _legend(lay, bottom + MARGIN / 2 + 0.8 * FONT)
    lay.width = round(max(lab.box()[2] for lab in lay.labels) + MARGIN, 1)
    lay.height = round(max(lab.box()[3] for lab in lay.labels) + MARGIN, 1)
    return lay


LEGEND = ("value above each wire", "gradient below it")


def _legend(lay: CircuitLayout, y: float):
    """The key to the colours under the picture, so a picture cut out of its page still says
    which number is which: a value's colour, then a gradient's (hidden with the gradients)."""
    value, grad = LEGEND
    lay.labels.append(Label("l:value", value, MARGIN, round(y, 1), "start", "value"))
    lay.labels.append(Label("l:grad", grad, round(MARGIN + text_width(value + " · "), 1),
                            round(y, 1), "start", "grad"))


def _wires_and_labels(lay: CircuitLayout, trace: CircuitTrace, lead: float, precision: int):
    at = {p.id: p for p in lay.places}
    grads = {(b.gate, i): s for b in trace.backward for i, s in enumerate(b.locals)}
    for n in (*trace.inputs, *trace.constants, *trace.gates):
        p = at[n.id]
        if n.kind == "gate":
            symbol = (n.symbol or n.op) + (f"{n.param:g}" if n.param is not None else "")
            lay.labels.append(Label(f"s:{n.id}", symbol, p.x, p.y + 0.3 * FONT,
                                    "middle", "symbol"))
            if n.id != trace.output:
                lay.labels.append(Label(f"n:{n.id}", n.label, p.x + 0.7 * R, p.y - R + 2,
                                        "start", "name"))
        else:
            lay.labels.append(Label(f"n:{n.id}", n.label, p.x, p.y + 0.3 * FONT, "middle",
                                    "name"))
        # ports top to bottom in the order of their sources' heights, so wires do not cross
        rank = sorted(range(len(n.args)), key=lambda i: (at[n.args[i]].y, i))
        for i, a in enumerate(n.args):
            dy = (rank.index(i) - (len(n.args) - 1) / 2) * PORT_GAP
            src = at[a]
            start = (round(src.x + src.w / 2, 1), src.y)
            end_x = p.x - max(R * R - dy * dy, 0.0) ** 0.5
            key = f"{n.id}.{i}"
            lay.wires.append(Wire(key, a, n.id, [start, (round(p.x - R - lead, 1), p.y + dy),
                                                 (round(end_x, 1), p.y + dy)]))
            _wire_labels(lay, key, p.x - R - lead / 2, p.y + dy, trace.node(a).value,
                         grads.get((n.id, i)), precision)
    out = at[trace.output]
    x0 = out.x + R
    lay.wires.append(Wire("out", trace.output, "", [(x0, out.y), (round(x0 + lead, 1), out.y)]))
    _wire_labels(lay, "out", x0 + lead / 2, out.y, trace.value, None, precision,
                 trace.node(trace.output).grad)
    lay.labels.append(Label(f"n:{trace.output}", trace.node(trace.output).label,
                            x0 + lead + 6, out.y + 0.3 * FONT, "start", "name"))


def _wire_labels(lay, key, x, y, value, local, precision, grad=None):
    grad = local.downstream if local is not None else grad
    lay.labels.append(Label(f"v:{key}", num(value, precision), round(x, 1), round(y - ABOVE, 1),
                            "middle", "value", value))
    if grad is not None:
        lay.labels.append(Label(f"d:{key}", num(grad, precision), round(x, 1),
                                round(y + BELOW, 1), "middle", "grad", grad))
