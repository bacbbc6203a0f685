"""Decision maps of a network with two inputs (XOR's picture, as TensorFlow Playground draws it):
the activation of every hidden unit and of the output over the input square, after a step's
update, with the line where each unit switches — the level its activation has at z = 0 (0.5 for
a sigmoid, 0 for tanh), so a hidden unit's line is its own w·x + b = 0 and a sigmoid output's
is the 0.5 contour that separates the classes (a softmax output's: where its class's
probability is 0.5).

Everything here is computed by the engine's network (Step.network with the updated weights);
the SVG (render/heatmap.py) only draws it.  The contour is found by marching squares on the
grid and each of its points then moved, by bisection along its grid edge, onto the level, so a
point of the line is a point where the unit's activation equals the level to 1e-9.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import OptionError
from .record.trace import Step
from .runs import trace_one_step
from .spec import Spec

MAP_SIZE = 41  # grid points per side
MAP_PAD = 0.15  # the square reaches this fraction of the data's span beyond the data
BISECTIONS = 40


@dataclass
class UnitMap:
    """One unit's activation on the grid, (size, size) with row 0 at the top (x2 largest), the
    range its colour scale spans, the level of its line and the line as segments
    ((x, y), (x, y)) in input coordinates."""

    name: str  # the unit's display name, as the tables write it
    layer: int
    index: int
    values: np.ndarray
    lo: float
    hi: float
    level: float
    segments: list[tuple[tuple[float, float], tuple[float, float]]] = field(default_factory=list)


@dataclass
class DecisionMaps:
    """The maps of every hidden unit and of each output, the square they cover and the training
    points with their targets."""

    title: str
    step: int
    x: tuple[float, float]
    y: tuple[float, float]
    maps: list[UnitMap]
    points: list[tuple[float, float, tuple]]  # x1, x2 and the targets
    inputs: tuple[str, str] = ("x1", "x2")  # the inputs' display names


def decision_maps(spec: Spec, step: int | None = None, size: int = MAP_SIZE,
                  **tracing) -> DecisionMaps:
    """The maps of `spec`'s network after update `step` (default: the spec's last step)."""
    X = spec.data.X
    if X.shape[1] != 2:
        raise OptionError(f"decision maps need a network with two inputs; this one has "
                          f"{X.shape[1]}")
    if (X.max(axis=0) <= X.min(axis=0)).any():
        raise OptionError("decision maps need training points that differ in both inputs (xor's "
                          "four corners); this spec's samples do not span a square")
    step = step or spec.total_steps
    traced = trace_one_step(spec, step, **tracing)
    return maps_of_step(traced, spec, step, size)


def maps_of_step(traced: Step, spec: Spec, step: int, size: int = MAP_SIZE) -> DecisionMaps:
    X, T = spec.data.X, spec.data.T
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = np.where(hi > lo, (hi - lo) * MAP_PAD, 1.0)
    x, y = (float(lo[0] - pad[0]), float(hi[0] + pad[0])), (float(lo[1] - pad[1]),
                                                            float(hi[1] + pad[1]))
    net = traced.network(spec.network.loss, after=True)
    xs, ys = np.linspace(x[0], x[1], size), np.linspace(y[1], y[0], size)
    gx, gy = np.meshgrid(xs, ys)
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    with np.errstate(over="ignore", under="ignore"):
        activations = net.forward(grid)[1]
    maps = []
    for l, layer in enumerate(net.layers, start=1):
        level = 0.5 if layer.activation.name == "softmax" else \
            float(layer.activation.fn(np.zeros((1, layer.W.shape[0])))[0, 0])
        for j in range(layer.W.shape[0]):
            values = activations[l][:, j].reshape(size, size)
            lo_, hi_ = _range(layer.activation.name, values)
            unit = UnitMap(traced.labels.neurons[l - 1][j], l, j, values, lo_, hi_, level)
            unit.segments = _contour(net, l, j, xs, ys, values, level)
            maps.append(unit)
    points = [(float(a), float(b), tuple(float(v) for v in t)) for (a, b), t in zip(X, T)]
    return DecisionMaps(spec.title, step, x, y, maps, points, tuple(traced.labels.inputs))


def _range(activation: str, values: np.ndarray) -> tuple[float, float]:
    """The colour scale of a unit: its activation's whole range where it is bounded."""
    if activation in ("sigmoid", "softmax"):
        return 0.0, 1.0
    if activation == "tanh":
        return -1.0, 1.0
    lo, hi = float(values.min()), float(values.max())
    return (lo, hi) if hi > lo else (lo, lo + 1.0)


def unit_value(net, l: int, j: int, point: np.ndarray) -> float:
    """Activation j of layer l at one input point, by the engine's forward pass."""
    with np.errstate(over="ignore", under="ignore"):
        return float(net.forward(point.reshape(1, 2))[1][l][0, j])


def _contour(net, l, j, xs, ys, values, level):
    """Marching squares: in each grid cell, the points where the level crosses the cell's
    edges, joined in pairs (a saddle cell by its centre's side), each point moved onto the
    level by bisection along its edge."""
    above = values >= level
    segments = []
    for r in range(len(ys) - 1):
        for c in range(len(xs) - 1):
            corners = [(r, c), (r, c + 1), (r + 1, c + 1), (r + 1, c)]
            sides = [above[p] for p in corners]
            if all(sides) or not any(sides):
                continue
            cuts = []
            for e in range(4):
                p, q = corners[e], corners[(e + 1) % 4]
                if above[p] != above[q]:
                    cuts.append(_crossing(net, l, j, level, (xs[p[1]], ys[p[0]]),
                                          (xs[q[1]], ys[q[0]]), above[p]))
            if len(cuts) == 4 and (values[r:r + 2, c:c + 2].mean() >= level) != sides[0]:
                cuts = [cuts[3], cuts[0], cuts[1], cuts[2]]  # corner 0 is cut off alone
            segments += [(cuts[i], cuts[i + 1]) for i in range(0, len(cuts) - 1, 2)]
    return segments


def _crossing(net, l, j, level, p, q, p_above):
    """The point between grid points p and q where the unit's activation is the level."""
    a, b = np.array(p, dtype=float), np.array(q, dtype=float)
    for _ in range(BISECTIONS):
        m = (a + b) / 2
        if (unit_value(net, l, j, m) >= level) == p_above:
            a = m
        else:
            b = m
    m = (a + b) / 2
    return float(m[0]), float(m[1])
