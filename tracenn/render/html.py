"""The step player: ONE self-contained HTML page that plays a training run step by step —
the picture of the current step with its phase lit (forward → error → backward → update), the
step's tables beside it, the loss curve with the step marked, and for a network with two
inputs the output over the input plane as a heat map with the training points.

Everything is inline (CSS, script, SVG) and the page requests nothing while it loads or plays.
The trace itself is embedded as JSON Lines objects in format 1 (`#tracenn-trace`, one object
per line, as `tracenn trace --json` prints them); what the page shows is embedded beside it
(`#tracenn-view`): every text already formatted by the same code as the terminal's tables and
the SVG pictures, every position already computed (layout.py, charts.py), every colour of the
heat map already looked up.  The script only switches between them.
"""

from __future__ import annotations

import base64
import json
import re
from html import escape
from importlib import resources

import numpy as np

from ..notation import PICTURE_PRECISION
from ..record.jsonl import dumps
from ..record.trace import Step
from .charts import PALETTE, Chart, Series
from .figure import Figure, Shape, step_figure

# the player's pictures: its backward phase shows the chain view (value forward and gradient
# backward on each wire, δ's formula with its numbers on each neuron)
VIEWS = ("forward", "chain", "update")
from .layout import build_layout
from .steps import step_tables
from .tables import column_align
from .svg import NEGATIVE, POSITIVE, ZERO, edge_scale, edge_style, render_svg

PHASES = ("forward", "error", "backward", "update")
COLOURS = (POSITIVE, NEGATIVE, ZERO)


def _resource(name: str) -> str:
    return resources.files("tracenn.render").joinpath(name).read_text(encoding="utf-8")


def _script_json(obj) -> str:
    """JSON safe inside a <script> element (no "</" can close it)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")


def _figures(run, precision: int) -> dict[str, list[Figure]]:
    """Per view the picture of each sample of each full step, in order (a step of several
    samples, a mini-batch or the full batch, has one for each: the page steps through them)."""
    spec = run.spec
    return {view: [step_figure(s, view, precision, i, spec.title, spec.network.loss.name)
                   for s in run.steps for i in range(len(s.samples))] for view in VIEWS}


def _view_texts(figures: list[Figure]) -> dict:
    """The slots whose text changes from step to step, and their texts per step (the others
    are written in the SVG once)."""
    keys = sorted({k for f in figures for k in f.texts})
    varying = [k for k in keys if len({f.texts.get(k, "") for f in figures}) > 1]
    return {"keys": varying, "texts": [[f.texts.get(k, "") for k in varying] for f in figures]}


def _edges(figures: list[Figure], keys: list[str]) -> list[list]:
    """Per step, colour index and width of every edge: [c0, w0, c1, w1, …]."""
    scale = edge_scale(figures)
    out = []
    for f in figures:
        flat = []
        for k in keys:
            colour, width = edge_style(f.edges.get(k, 0.0), scale)
            flat += [COLOURS.index(colour), width]
        out.append(flat)
    return out


# the tables beside the picture keep to the phase, so that what it is about is in sight without
# scrolling: the backward phase leaves out the backward tables' old and new values, the others
# the chain's factors (and Adam's moments before the step)
CHAIN_COLUMNS = ("∂E/∂out", "∂out/∂net", "∂net/∂w", "∂E/∂out = Σ δ·w", "m before", "v before",
                 "√v̂ + ε")
UPDATE_COLUMNS = ("old value", "new value")


def formula_template(head: list[str]) -> str:
    """What a table's row's numbers are, written with them: {i} stands for the row's i-th cell
    as the table formats it, {eta} for the step's η (the page fills them in; it is shown when
    the pointer is on the row, or on its number in the picture).  "" for tables without one."""
    c = {h: "{%d}" % i for i, h in enumerate(head)}
    if "net =" in c:
        return f"net = {c['net =']} = {c['net']}; out = f(net) = {c['out']}"
    if "∂out/∂net" in c and "δ = ∂E/∂net" in c:
        d = c["δ = ∂E/∂net"]
        parts = [f"δ = ∂E/∂out · ∂out/∂net = {c['∂E/∂out']} · {c['∂out/∂net']} = {d}"]
        if "sample" in c:  # a batch's ∂E/∂w is the mean over its samples, not this row's product
            return parts[0]
        parts.append(f"∂E/∂w = δ · ∂net/∂w = {d} · {c['∂net/∂w']} = {c['∂E/∂w']}")
        if "new value" in c:
            parts.append(f"new = old − η · ∂E/∂w = {c['old value']} − {{eta}} · {c['∂E/∂w']} = "
                         f"{c['new value']}")
        return "; ".join(parts)
    step = c.get("step = η m̂ / (√v̂ + ε)")
    if step and "new value" in c:
        return (f"step = η m̂ / (√v̂ + ε) = {step}; new = old − step = {c['old value']} − {step}"
                f" = {c['new value']}")
    return ""


def _tables(steps: list[Step], precision: int) -> dict:
    """Per step its tables ([key, title, rows, alignment]) and η; per table its headers, the
    formula of its rows and the columns the update phase leaves out."""
    headers, per_step = {}, []
    for s in steps:
        tables = step_tables(s, precision)
        for t in tables:
            headers.setdefault(t.key, t.headers)
        per_step.append([[t.key, t.title, t.rows, column_align(t)] for t in tables])
    return {"headers": headers, "steps": per_step, "eta": [f"{s.eta:g}" for s in steps],
            "formulas": {k: formula_template(hs) for k, hs in headers.items()},
            "update_hide": {k: [i for i, h in enumerate(hs) if h in CHAIN_COLUMNS]
                            for k, hs in headers.items()},
            "backward_hide": {k: [i for i, h in enumerate(hs) if h in UPDATE_COLUMNS]
                              for k, hs in headers.items() if k.startswith("backward:")}}


def _names(step: Step) -> dict[str, str]:
    """The picture's slot of each weight and neuron (w:l:j:k, n:l:j) and its name, as the
    tables' first column begins with it: the page lights one beside the other."""
    out = {f"w:{l}:{j}:{k}": name for l, kind, j, k, name in step.labels.parameters()
           if kind == "W"}
    for l, names in enumerate(step.labels.neurons, start=1):
        out.update({f"n:{l}:{j}": name for j, name in enumerate(names)})
    return out


MAX_SAMPLE_SERIES = 8  # more samples than this: the epoch mean only (a line each is a mesh)


def loss_series(run) -> dict[str, list]:
    """The loss curve's data, plain numbers keyed by series name: for each sample of a
    training set of at most MAX_SAMPLE_SERIES, its loss (Σ_k E_k, before the update) at every
    kept step that took it; the mean of each epoch's step losses, at the epoch's last step,
    for every epoch kept whole (in full or as summaries); for one sample, the loss of each step."""
    n, total = len(run.spec.data), run.spec.labels.total
    if n == 1:
        return {f"{total} of each step": [[e.step, e.loss] for e in run.entries]}
    out: dict[str, list] = {}
    if n <= MAX_SAMPLE_SERIES:
        per: dict[int, list] = {k: [] for k in range(n)}
        for s in run.steps:
            for i, k in enumerate(s.samples):
                per[k].append([s.step, float(s.losses[i].sum())])
        out.update({f"sample {k + 1}": pts for k, pts in per.items() if pts})
    per_epoch, epochs = run.spec.steps_per_epoch, {}
    for e in run.entries:
        epochs.setdefault(e.epoch, []).append(e)
    out[f"epoch mean {total}"] = [[es[-1].step, sum(e.loss for e in es) / len(es)]
                                  for es in epochs.values() if len(es) == per_epoch]
    return out


def _curve(run) -> tuple[str, list, dict]:
    """The loss curve (SVG), where its marker goes for each picture (each sample of each full
    step), and the curve's data."""
    data = loss_series(run)
    series = [Series(name, [tuple(p) for p in pts],
                     "#1a202c" if name.startswith("epoch mean") else PALETTE[i % len(PALETTE)],
                     dots=not name.startswith("epoch mean") and len(pts) > 60)
              for i, (name, pts) in enumerate(data.items())]
    chart = Chart(f"loss ({run.spec.labels.total}, before each update)", series, width=560,
                  height=240, x_label="step")
    each = any(name.startswith("sample ") for name in data)  # the marker on the sample's dot
    marks = [chart.point(s.step, float(s.losses[i].sum()) if each else s.loss)
             for s in run.steps for i in range(len(s.samples))]
    x, y = marks[0]
    marker = (f'<circle id="curve-mark" cx="{x}" cy="{y}" r="5" fill="none" stroke="#c00000" '
              'stroke-width="2"/>')
    return chart.svg(marker), marks, data


PLANE_COLOURS = PALETTE[:5] + PALETTE[6:]  # the charts' colours but grey, which reads as "unsure"


def _rgb(colour: str) -> np.ndarray:
    return np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])


def _palette(n_outputs: int) -> list[list[list[int]]]:
    """Colour by level 0..255: one output from orange (0) through white to blue (1), as
    TensorFlow Playground shows it; several outputs, each class its colour, paler where the
    winning probability is lower."""
    if n_outputs == 1:
        lo, mid, hi = _rgb(NEGATIVE), np.array([255, 255, 255]), _rgb(POSITIVE)
        t = np.linspace(0, 1, 256)[:, None]
        rgb = np.where(t < 0.5, lo + (mid - lo) * (t / 0.5), mid + (hi - mid) * ((t - 0.5) / 0.5))
        return [np.rint(rgb).astype(int).tolist()]
    base = [_rgb(c) for c in PLANE_COLOURS]
    t = np.linspace(0, 1, 256)[:, None]
    return [np.rint(255 + (base[k % len(base)] - 255) * t).astype(int).tolist()
            for k in range(n_outputs)]


def _plane(run) -> dict | None:
    plane = run.plane
    if plane is None:
        return None
    K = next(iter(plane.outputs.values())).shape[1]
    levels = []
    for s in run.steps:
        out = plane.outputs[s.step]  # (size², K)
        if K == 1:
            raw = np.clip(out[:, 0], 0.0, 1.0) * 255
            data = np.rint(raw).astype(np.uint8)
        else:
            winner = out.argmax(axis=1)
            share = (out.max(axis=1) - 1 / K) / (1 - 1 / K)  # 0 at a tie, 1 when sure
            data = np.column_stack([winner, np.rint(np.clip(share, 0, 1) * 255)]).astype(np.uint8)
        levels.append(base64.b64encode(data.tobytes()).decode("ascii"))
    X, T = run.spec.data.X, run.spec.data.T
    (x0, x1), (y0, y1) = plane.x, plane.y
    points = [[round((x[0] - x0) / (x1 - x0), 4), round((y1 - x[1]) / (y1 - y0), 4),
               int(t.argmax()) if K > 1 else int(t[0] >= 0.5)] for x, t in zip(X, T)]
    return {"size": plane.size, "outputs": K, "levels": levels, "palette": _palette(K),
            "points": points, "x": list(plane.x), "y": list(plane.y),
            "point_colours": [NEGATIVE, POSITIVE] if K == 1 else
            [f"rgb({','.join(map(str, p[-1]))})" for p in _palette(K)]}


def player_html(run, precision: int = PICTURE_PRECISION) -> str:
    """The page for a PlayerRun (tracenn/player.py)."""
    steps = run.steps
    figures = _figures(run, precision)
    # each phase's picture at its own size: a layout per view, made for that view's texts (the
    # update view's long sums do not widen the forward picture)
    shape = Shape.of_step(steps[0])
    layouts = {v: build_layout(shape, figures[v]) for v in VIEWS}
    edge_keys = [link.key for link in layouts["forward"].links if link.cls == "weight"]
    offsets = np.cumsum([0] + [len(s.samples) for s in steps])[:-1].tolist()
    firsts = {v: [figures[v][i] for i in offsets] for v in VIEWS}  # the edges are the step's
    svgs = [render_svg(layouts[v], figures[v][0], scale=edge_scale(firsts[v]), every_slot=True)
            for v in VIEWS]
    curve, marks, series = _curve(run)
    view = {
        "title": run.spec.title, "precision": precision, "total": run.total_steps,
        "every": run.every, "per_epoch": run.spec.steps_per_epoch,
        "steps": [s.step for s in steps],
        "views": {v: _view_texts(figures[v]) for v in VIEWS}, "edge_keys": edge_keys,
        "edges": {v: _edges(firsts[v], edge_keys) for v in VIEWS}, "offsets": offsets,
        "samples": [[k + 1 for k in s.samples] for s in steps], "colours": list(COLOURS),
        "tables": _tables(steps, precision), "marks": marks, "plane": _plane(run),
        "loss_series": series, "names": _names(steps[0]),
    }
    parts = {
        "title": escape(run.spec.title or "tracenn"), "css": _resource("player.css"),
        "figures": "\n".join(svgs), "curve": curve, "script": _resource("player.js"),
        "trace": "\n".join(dumps(e) for e in run.entries).replace("</", "<\\/"),
        "view": _script_json(view),
    }
    return fill(_resource("player.html"), parts)


def fill(template: str, parts: dict[str, str]) -> str:
    """The template with each {{name}} replaced, in one pass (so no inserted text is read as
    a placeholder)."""
    return re.sub(r"\{\{(\w+)\}\}", lambda m: parts[m.group(1)], template)
