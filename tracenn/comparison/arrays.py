"""A learner's own NumPy arrays read as tracenn's quantities: the names their code uses, the
layout their arrays have, found from the shapes.

Names (each a style of code people write):
- course (deeplearning.ai and most course code): Z1, A1, dA1, dZ1, dW1, db1, W1, b1, 1-based;
  A0 is the input; W1_new, b1_new the parameters after the update.
- Nielsen's network.py: lists zs, activations (activations[0] is the input), delta or deltas,
  nabla_w, nabla_b, weights, biases, 0-based (index i is layer i + 1).
- tracenn's own trace: lists z, a, delta, grad_W, grad_b, W, b, W_new, b_new, 0-based.
A list may also come as separate arrays zs_0, zs_1 (or zs[0]), as an .npz file holds it.

Layouts: samples in rows (n, n_l) or in columns (n_l, n) — a single sample may also be a flat
vector; W as n_out×n_in (tracenn's W[j][k]: input k → neuron j) or n_in×n_out; b flat, (n, 1)
or (1, n).  When the shapes allow both, the values decide, and the Read line says so.

Conventions of scale: W and b (without _new) are the parameters the step's forward pass used,
before its update.  dW and db (course code's dW = dZ·Aᵀ/m) are the gradient of the batch mean
loss, tracenn's grad_W; Nielsen's nabla_w in update_mini_batch is summed over the mini-batch, so
it is divided by m.  dZ is ∂E/∂z of each sample's own loss (tracenn's δ) or, in code that scales
it early (dZ = (A − Y)/m, dW = dZ·Aᵀ), δ/m: the values decide, and the Read line says which.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from ..errors import ValuesError
from ..record.trace import Step

# kind -> (stage, order within the stage); stages run forward, delta, gradient, update
KINDS = {"z": ("forward", 0), "a": ("forward", 1), "dE_da": ("delta", 0), "delta": ("delta", 1),
         "grad_W": ("gradient", 0), "grad_b": ("gradient", 1), "W_new": ("update", 0),
         "b_new": ("update", 1), "W": ("given", 0), "b": ("given", 1)}
PER_SAMPLE = ("z", "a", "dE_da", "delta")
WEIGHTS = ("W", "grad_W", "W_new")
BIASES = ("b", "grad_b", "b_new")

_COURSE = re.compile(r"^(d?)(Z|A|W|b)(\d+)(_new)?$")
_COURSE_KIND = {("", "Z"): "z", ("", "A"): "a", ("d", "A"): "dE_da", ("d", "Z"): "delta",
                ("d", "W"): "grad_W", ("d", "b"): "grad_b", ("", "W"): "W", ("", "b"): "b"}
NIELSEN = {"zs": "z", "activations": "a", "deltas": "delta", "nabla_w": "grad_W",
           "nabla_b": "grad_b", "weights": "W", "biases": "b"}
TRACENN = {"z": "z", "a": "a", "delta": "delta", "grad_W": "grad_W", "grad_b": "grad_b",
           "W": "W", "b": "b", "W_new": "W_new", "b_new": "b_new", "dE_da": "dE_da"}
_LISTED = re.compile(r"^(.+?)(?:_(\d+)|\[(\d+)\])$")
LAYOUT_NAMES = {"course": "deeplearning.ai layout", "nielsen": "Nielsen's network.py layout",
                "tracenn": "tracenn's layout"}


@dataclass
class Entry:
    """One array of the learner's, placed: its name as given, the quantity kind, the layer."""

    given: str
    kind: str
    l: int
    array: np.ndarray


@dataclass
class Reading:
    """The learner's arrays in tracenn's layout: (kind, l) -> array with samples in rows and W
    as n_out×n_in, gradients as the batch mean; and the Read line that says how."""

    arrays: dict[tuple[str, int], np.ndarray]
    style: str
    read: str
    unknown: list[str] = field(default_factory=list)
    inputs: np.ndarray | None = None  # A0 / activations[0], when given
    given: dict[tuple[str, int], tuple[str, bool]] = field(default_factory=dict)  # name, transposed
    x_scale: float = 1.0  # 1/n: dA0 (∂E/∂x) given as the gradient of the batch mean

    def where(self, kind: str, l: int, index: tuple) -> str:
        """The learner's own name of one number: dZ1[2, 0] for delta1[1]@3 in columns."""
        name, transposed = self.given.get((kind, l), (f"{kind}{l}", False))
        index = index[::-1] if transposed else index
        return f"{name}[{', '.join(map(str, index))}]"


def _listed(arrays: dict) -> dict:
    """zs_0, zs_1 (or zs[0]) gathered into a list zs, as an .npz file holds a list."""
    out, parts = {}, {}
    for key, value in arrays.items():
        m = _LISTED.match(key)
        if m and (m.group(1) in NIELSEN or m.group(1) in TRACENN or m.group(1) == "delta"):
            parts.setdefault(m.group(1), {})[int(m.group(2) or m.group(3))] = value
        else:
            out[key] = value
    for name, items in parts.items():
        out[name] = [items[i] for i in sorted(items)]
    return out


def entries(arrays: dict, L: int) -> tuple[list[Entry], str, list[str]]:
    """Each array placed by its name; the naming style; the names that are no quantity."""
    arrays = _listed(arrays)
    found, styles, unknown = [], set(), []
    for key, value in arrays.items():
        m = _COURSE.match(key)
        if m and (m.group(1), m.group(2)) in _COURSE_KIND and not (m.group(4) and m.group(1)):
            kind = _COURSE_KIND[m.group(1), m.group(2)] + (m.group(4) or "")
            l = int(m.group(3))
            if kind in KINDS and (l <= L) and (l >= 1 or kind in ("a", "dE_da")):
                found.append(Entry(key, kind, l, np.asarray(value, dtype=float)))
                styles.add("course")
                continue
        if key in NIELSEN or key in TRACENN or key == "delta":
            kind = NIELSEN.get(key) or TRACENN.get(key) or "delta"
            style = "nielsen" if key in NIELSEN else "tracenn"
            items = list(value) if isinstance(value, (list, tuple)) else list(np.asarray(value))
            first = 0 if key == "activations" else 1  # activations[0] is the input
            for i, item in enumerate(items):
                found.append(Entry(f"{key}[{i}]", kind, i + first, np.asarray(item, dtype=float)))
            styles.add(style)
            continue
        unknown.append(key)
    if "nielsen" in styles and "tracenn" in styles and not (styles - {"nielsen", "tracenn"}):
        styles = {"nielsen"}  # delta, deltas: both Nielsen's
    style = "course" if "course" in styles else styles.pop() if styles else "tracenn"
    bad = [e.given for e in found if e.l > L or e.l < 0]
    if bad:
        raise ValuesError("values", f"{bad[0]} names layer beyond this network's {L} layer(s)")
    return found, style, unknown


def _fits(e: Entry, sizes: list[int], n: int, n_b: int) -> dict[str, np.ndarray]:
    """The layouts this array's shape fits, each with the array in tracenn's layout."""
    A, out = e.array, {}
    if e.kind in PER_SAMPLE or e.kind == "a":
        m = sizes[e.l]
        if A.shape == (n, m):
            out["rows"] = A
        if A.shape == (m, n):
            out["columns"] = A.T
        if n == 1 and A.shape == (m,):
            out["flat"] = A.reshape(1, m)
    elif e.kind in WEIGHTS:
        n_out, n_in = sizes[e.l], sizes[e.l - 1]
        if A.shape == (n_out, n_in):
            out["out_in"] = A
        if A.shape == (n_in, n_out):
            out["in_out"] = A.T
    else:
        if A.shape in ((n_b,), (n_b, 1), (1, n_b)):
            out["flat" if A.ndim < 2 else "columns" if A.shape[-1] == 1 else "rows"] = A.reshape(n_b)
        elif A.size == 1:  # one number, as np.sum(dZ) / m gives: NumPy broadcasts it to each
            out["flat"] = np.full(n_b, float(A.reshape(-1)[0]))
    return out


def _possible(e: Entry, sizes: list[int], n: int, n_b: int) -> str:
    if e.kind in PER_SAMPLE or e.kind == "a":
        m = sizes[e.l]
        shapes = [(n, m), (m, n)] + ([(m,)] if n == 1 else [])
    elif e.kind in WEIGHTS:
        shapes = [(sizes[e.l], sizes[e.l - 1]), (sizes[e.l - 1], sizes[e.l])]
    else:
        shapes = [(n_b,), (n_b, 1), (1, n_b)]
    return " or ".join(str(s) for s in dict.fromkeys(shapes))


def _choose(family: list[tuple[Entry, dict]], options: tuple[str, str], right: Step, scale):
    """The one layout of `options` every array of a family fits (arrays that fit both leave it
    open); when both remain, the one whose values match tracenn's better.  (layout, how)."""
    common, constrained = set(options), False
    for e, fits in family:
        shaped = set(fits) & set(options)
        if shaped:  # a flat vector (one sample) fits any layout
            common &= shaped
            constrained = True
        if not common:
            raise ValuesError("values", f"{e.given} has shape {e.array.shape}, in another layout "
                              "than the arrays before it (samples in rows and columns, or W both "
                              "ways round, mixed)")
    if not constrained:
        return None, ""
    if len(common) == 1:
        return common.pop(), "shapes"
    wrong = {o: sum(_misses(fits[o], _right(right, e), scale(e)) for e, fits in family
                    if o in fits) for o in options}
    if wrong[options[0]] == wrong[options[1]]:
        return options[0], "shapes: both fit and the values cannot tell"
    return min(options, key=lambda o: wrong[o]), "values: the shapes fit both ways"


def _misses(yours: np.ndarray, right: np.ndarray, scale: float = 1.0) -> int:
    right = right * scale
    return int(np.sum(np.abs(yours - right) > 1e-9 * np.maximum(1.0, np.abs(right))))


def _right(step: Step, e: Entry) -> np.ndarray:
    if e.kind == "a" and e.l == 0:
        return step.x
    return right_array(step, e.kind, e.l)


def right_array(step: Step, kind: str, l: int) -> np.ndarray:
    """tracenn's array of a kind and layer; ∂E/∂out of layer 0 is ∂E/∂x, the inputs'."""
    return step.dE_dx if kind == "dE_da" and l == 0 else getattr(step.layers[l - 1], kind)


def read_arrays(arrays: dict, right: Step) -> Reading:
    """The learner's arrays (names and layout as their code has them) in tracenn's layout,
    checked against the shapes of `right` (the step as tracenn computes it) and, where the
    shapes leave a choice, decided by its values.  Raises ValuesError for an array whose shape
    fits no layout of this network, naming the shapes possible."""
    sizes = [right.x.shape[1]] + [lt.W.shape[0] for lt in right.layers]
    n, L = len(right.samples), len(right.layers)
    found, style, unknown = entries(arrays, L)
    if not found:
        raise ValuesError("values", "none of its names is an array of a network (Z1, A1, dZ1, dW1, "
                          "db1 or zs, activations, nabla_w or z, a, delta, grad_W …)"
                          + (f"; it gives {', '.join(unknown[:5])}" if unknown else ""))
    placed = []
    for e in found:
        n_b = right.layers[e.l - 1].b.shape[0] if e.l >= 1 else 0
        fits = _fits(e, sizes, n, n_b)
        if not fits:
            raise ValuesError("values", f"{e.given} has shape {e.array.shape}; for this "
                              f"network ({'-'.join(map(str, sizes))}, {n} sample(s) a step) it "
                              f"can be {_possible(e, sizes, n, n_b)}")
        placed.append((e, fits))
    delta_scale = _delta_scale([p for p in placed if p[0].l >= 1], right, n, style)
    x_scale = _delta_scale([p for p in placed if p[0].kind == "dE_da" and p[0].l == 0], right,
                           n, style)
    scale = (lambda e: x_scale if e.l == 0 and e.kind == "dE_da" else
             delta_scale if e.kind in ("delta", "dE_da") else 1.0)
    samples = [(e, f) for e, f in placed if e.kind in PER_SAMPLE or e.kind == "a"]
    weights = [(e, f) for e, f in placed if e.kind in WEIGHTS]
    s_layout, s_how = _choose(samples, ("columns", "rows") if style != "tracenn"
                              else ("rows", "columns"), right, scale)
    w_layout, w_how = _choose(weights, ("out_in", "in_out"), right, scale)
    out, inputs, given = {}, None, {}
    grad_scale = 1.0 / n if style == "nielsen" else 1.0
    for e, fits in placed:
        if e.kind in PER_SAMPLE or e.kind == "a":
            A = fits.get(s_layout, fits.get("flat"))
            A = A / scale(e) if e.kind in ("delta", "dE_da") else A
        elif e.kind in WEIGHTS:
            A = fits[w_layout] * (grad_scale if e.kind == "grad_W" else 1.0)
        else:
            A = next(iter(fits.values())) * (grad_scale if e.kind == "grad_b" else 1.0)
        if e.kind == "a" and e.l == 0:
            inputs = A
        else:
            out[e.kind, e.l] = A
            flipped = s_layout == "columns" if e.kind in PER_SAMPLE else \
                w_layout == "in_out" if e.kind in WEIGHTS else False
            given[e.kind, e.l] = (e.given, flipped and e.array.ndim == 2)
    line = _read_line(style, s_layout, s_how, w_layout, w_how, delta_scale, grad_scale, n,
                      x_scale)
    return Reading(out, style, line, unknown, inputs, given, x_scale)


def _delta_scale(placed, right: Step, n: int, style: str) -> float:
    """1 when dZ is each sample's own δ, 1/n when the code scaled it by the batch mean early
    (or, given dA0 alone, when ∂E/∂x is the batch mean's gradient)."""
    deltas = [(e, f) for e, f in placed if e.kind in ("delta", "dE_da")]
    if n == 1 or not deltas:
        return 1.0
    misses = {s: sum(min(_misses(A, _right(right, e), s) for A in f.values()) for e, f in deltas)
              for s in (1.0, 1.0 / n)}
    return 1.0 / n if misses[1.0 / n] < misses[1.0] else 1.0


def _read_line(style, s_layout, s_how, w_layout, w_how, delta_scale, grad_scale, n,
               x_scale=1.0) -> str:
    parts = []
    if s_layout:
        parts.append(f"samples in {s_layout}" + (f" (by the {s_how})"
                                                 if s_how != "shapes" else ""))
    if w_layout:
        parts.append("W as " + ("n_out×n_in" if w_layout == "out_in" else "n_in×n_out, transposed")
                     + (f" (by the {w_how})" if w_how != "shapes" else ""))
    if n > 1:
        parts.append("dZ as δ/m (scaled by 1/m early), multiplied by m" if delta_scale != 1.0
                     else "dZ as each sample's own δ")
        parts.append("nabla_w, nabla_b summed over the batch, divided by m" if grad_scale != 1.0
                     else "dW, db as the batch-mean gradient (tracenn's batch mode)")
    if x_scale != 1.0:
        parts.append("dA0 as ∂E/∂x of the batch mean (1/n of tracenn's per-sample value), "
                     "multiplied by n")
    return f"{', '.join(parts)} ({LAYOUT_NAMES[style]})"


def named_values(reading: Reading, step: Step) -> dict[str, float]:
    """The learner's numbers under compare's names (z1[3]@2, dE/dW2[1,3], W2[1,1]+), every kind
    but the parameters before the update, which compare takes from the spec."""
    lab, n, out = step.labels, len(step.samples), {}
    names = {(l, kind, j, k): name for l, kind, j, k, name in lab.parameters()}
    for (kind, l), A in sorted(reading.arrays.items(), key=lambda kv: order(*kv[0])):
        if kind in PER_SAMPLE:
            name = {"z": lab.net, "a": lab.out, "delta": lab.delta, "dE_da": lab.out}[kind]
            for s in range(n):
                for j in range(A.shape[1]):
                    key = lab.sample(name(l, j), s, n)
                    out[lab.grad(key) if kind == "dE_da" else key] = float(A[s, j])
        elif kind in ("grad_W", "W_new"):
            for (j, k), v in np.ndenumerate(A):
                p = names[l, "W", j, k]
                out[lab.grad(p) if kind == "grad_W" else lab.new(p)] = float(v)
        elif kind in ("grad_b", "b_new"):
            for j, v in enumerate(A):
                p = names[l, "b", j, None]
                out[lab.grad(p) if kind == "grad_b" else lab.new(p)] = float(v)
    return out


def order(kind: str, l: int) -> tuple:
    """Computation order: forward by layer, then δ, gradients and updates from the output back."""
    stage, within = KINDS[kind]
    rank = ("given", "forward", "delta", "gradient", "update").index(stage)
    return rank, l if stage in ("forward", "given") else -l, within
