"""JSON, in one place: the format version, every record kind as a JSON object, one object per
line (JSON Lines), and a step object read back as named values.

Every object carries "format" (FORMAT_VERSION) and "kind".  Floats are written at full
precision (Python's shortest round-trip form); NaN and infinity are never written: `dumps`
refuses them, and the engine stops a run before one reaches a record.

Format history:
  1 — first version: kinds step, summary, result (xor), verify, compare, mnist-summary.
      Later additions to version 1, each a new key that readers of the first version may
      ignore: "dE_dx" of a step (the gradient at the inputs, per sample); "optimizer" of a step
      (name, title, settings, t, formula, and for optimizers with state "state",
      "state_before" and "terms" per parameter display name); "saturated" in an xor result;
      "follows", "convention", "notes" and "tolerance" of a compare result; the kinds
      "check-torch" (tracenn.check_torch's report, see bridges/torch_check.py), exercise (an
      exercise's exercise.json) and grades (tracenn grade --json); null for a ∂E/∂a that
      is ±∞ (an output that rounded to 0 or 1 after a sigmoid or softmax), with
      "dE_da_note" in its layer.
"""

from __future__ import annotations

import json
import math

import numpy as np

from .labels import Labels
from .trace import LayerTrace, Step, StepSummary

FORMAT_VERSION = 1
STEP_TERMS = ("g", "m_hat", "v_hat")  # the optimizer terms that are quantities of a step


def envelope(kind: str, **fields) -> dict:
    """A JSON object of this kind: {"format": 1, "kind": kind, **fields}."""
    return {"format": FORMAT_VERSION, "kind": kind, **fields}


def dumps(obj) -> str:
    """One JSON object on one line.  Records are encoded first; NaN or infinity raises
    ValueError (they are not JSON)."""
    return json.dumps(encode(obj), ensure_ascii=False, allow_nan=False)


def encode(obj):
    """The JSON form of a record: a Step, StepSummary or LayerTrace here, or any object with
    `to_json()` (results of verify, compare, xor, MNIST summaries); dicts pass through."""
    if isinstance(obj, Step):
        return _step(obj)
    if isinstance(obj, StepSummary):
        return envelope("summary", step=obj.step, epoch=obj.epoch, loss=obj.loss,
                        loss_after=obj.loss_after)
    if isinstance(obj, LayerTrace):
        return _layer(obj)
    if isinstance(obj, dict):
        return obj
    return obj.to_json()


DE_DA_NOTE = ("null: ∂E/∂a is ±∞ where the output rounded to 0 or 1; δ = a − t, the loss "
              "and the step are finite")


def _layer(layer: LayerTrace) -> dict:
    dE_da = layer.dE_da.tolist()
    infinite = not np.all(np.isfinite(layer.dE_da))
    if infinite:
        dE_da = [[v if math.isfinite(v) else None for v in row] for row in dE_da]
    return {
        "name": layer.name, "activation": layer.activation,
        "W": layer.W.tolist(), "b": layer.b.tolist(), "z": layer.z.tolist(), "a": layer.a.tolist(),
        "delta": layer.delta.tolist(), "dE_da": dE_da,
        **({"dE_da_note": DE_DA_NOTE} if infinite else {}),
        "da_dz": None if layer.da_dz is None else layer.da_dz.tolist(),
        "grad_W": layer.grad_W.tolist(), "grad_b": layer.grad_b.tolist(),
        "W_new": layer.W_new.tolist(), "b_new": layer.b_new.tolist(),
    }


def _losses(step: Step, losses) -> dict[str, float]:
    named = {step.labels.error(k): float(v) for k, v in enumerate(losses.mean(axis=0))}
    named[step.labels.total] = float(losses.sum(axis=1).mean())
    return named


def _step(step: Step) -> dict:
    return envelope(
        "step", step=step.step, epoch=step.epoch, loss=step.loss, loss_after=step.loss_after,
        samples=list(step.samples), inputs=step.x.tolist(), targets=step.t.tolist(),
        eta=step.eta, mistakes=list(step.mistakes), losses=_losses(step, step.losses),
        losses_after=_losses(step, step.losses_after),
        layers=[_layer(layer) for layer in step.layers], params=step.params(), grads=step.grads(),
        **({} if step.dE_dx is None else {"dE_dx": step.dE_dx.tolist()}),
        **({} if step.optimizer is None else {"optimizer": _optimizer(step)}),
    )


def _optimizer(step: Step) -> dict:
    """The optimizer of a step: its settings and, when it has state, per parameter the state
    before and after the update and every intermediate (g, m_hat, v_hat, step, …)."""
    info = step.optimizer
    opt = step.optimizer_object()
    out = {"name": info.name, "title": info.title, "settings": dict(info.settings), "t": info.t,
           "formula": opt.FORMULA}
    if not any(step.optimizer_quantities().values()):
        return out
    parts: dict[str, dict] = {"state": {}, "state_before": {}, "terms": {}}
    for name, _, _, trace, at in step.updates():
        for key, source in (("state", trace.after), ("state_before", trace.before),
                            ("terms", trace.terms)):
            parts[key][name] = {s: float(a[at]) for s, a in source.items()}
    return {**out, **parts}


# --------------------------------------------------------------------------------------------
# Reading a step object back
# --------------------------------------------------------------------------------------------


def step_values(obj: dict, labels: Labels) -> dict[str, object]:
    """A step object (format 1) as {quantity name: value} under `labels`' names: net, out, δ and
    ∂E/∂out per sample, ∂E/∂x per sample, E per output (one sample only: with several, the JSON holds means),
    the loss before and after, gradients (dE/dw5) and parameters after the update (w5+).
    Values are returned as found; the caller checks that they are numbers."""
    out: dict[str, object] = {}
    n = len(obj["samples"]) if isinstance(obj.get("samples"), list) else 1
    layers = _list(obj.get("layers"), "layers")
    check_network(obj, labels)
    for l, layer in enumerate(layers, start=1):
        for key, namer in (("z", labels.net), ("a", labels.out), ("delta", labels.delta),
                           ("dE_da", lambda l, j: labels.grad(labels.out(l, j)))):
            for s, row in enumerate(_list(layer.get(key), f"layers[{l - 1}].{key}")):
                for j, v in enumerate(_list(row, f"layers[{l - 1}].{key}[{s}]")):
                    if v is not None or key != "dE_da":  # null: a ∂E/∂a of ±∞, not a number
                        out[labels.sample(namer(l, j), s, n)] = v
    for s, row in enumerate(_list(obj.get("dE_dx"), "dE_dx")):
        for k, v in enumerate(_list(row, f"dE_dx[{s}]")):
            out[labels.sample(labels.grad(labels.inputs[k]), s, n)] = v
    if n == 1:
        out.update(_dict(obj.get("losses"), "losses"))
    if "loss" in obj:
        out[labels.total] = obj["loss"]
    if "loss_after" in obj:
        out[labels.after] = obj["loss_after"]
    optimizer = _dict(obj.get("optimizer"), "optimizer")
    for key in ("state", "terms"):
        for param, values in _dict(optimizer.get(key), f"optimizer.{key}").items():
            for name, v in _dict(values, f"optimizer.{key}.{param}").items():
                if key == "state" or name in STEP_TERMS:
                    out[labels.state(name, param)] = v
    out.update({labels.grad(k): v for k, v in _dict(obj.get("grads"), "grads").items()})
    out.update({labels.new(k): v for k, v in _dict(obj.get("params"), "params").items()})
    for name, where, v in _layer_arrays(layers, labels):
        if name in out and out[name] != v:
            raise ValueError(f"{where} = {v} but the same quantity {name} is {out[name]} "
                             "elsewhere in the step: it gives two values for one number")
        out[name] = v
    return out


def _layer_arrays(layers: list, labels: Labels):
    """(name, where, value) of each entry of the per-layer arrays grad_W, grad_b, W_new, b_new
    (W[j][k]: input k to neuron j), under the parameter names of `labels`."""
    for l, layer in enumerate(layers, start=1):
        w_names, b_names = labels.weights[l - 1], labels.biases[l - 1]
        for key, rename in (("grad_W", labels.grad), ("W_new", labels.new)):
            if key not in layer:
                continue
            rows = _list(layer[key], f"layers[{l - 1}].{key}")
            if len(rows) != len(w_names):
                raise ValueError(f"layers[{l - 1}].{key} has {len(rows)} rows; this network's "
                                 f"layer {l} has {len(w_names)} neurons")
            for j, (row, names) in enumerate(zip(rows, w_names)):
                row = _list(row, f"layers[{l - 1}].{key}[{j}]")
                if len(row) != len(names):
                    raise ValueError(f"layers[{l - 1}].{key}[{j}] has {len(row)} entries; "
                                     f"layer {l} has {len(names)} inputs")
                for k, v in enumerate(row):
                    yield rename(names[k]), f"layers[{l - 1}].{key}[{j}][{k}]", v
        for key, rename in (("grad_b", labels.grad), ("b_new", labels.new)):
            if key not in layer:
                continue
            values = _list(layer[key], f"layers[{l - 1}].{key}")
            if len(values) != len(b_names):
                raise ValueError(f"layers[{l - 1}].{key} has {len(values)} entries; layer {l} "
                                 f"has {len(b_names)} biases")
            for j, v in enumerate(values):
                yield rename(b_names[j]), f"layers[{l - 1}].{key}[{j}]", v


def check_network(obj: dict, labels: Labels) -> None:
    """Raise ValueError, saying what differs, unless the step object is of a network with these
    layer sizes and parameter names."""
    sizes = [len(labels.inputs)] + [len(n) for n in labels.neurons]
    layers = _list(obj.get("layers"), "layers")
    got = []
    for l, layer in enumerate(layers, start=1):
        if not isinstance(layer, dict):
            raise ValueError(f"layers[{l - 1}] is not an object, it is {type(layer).__name__}")
        W = _list(layer.get("W"), f"layers[{l - 1}].W")
        if not W or not all(isinstance(row, list) for row in W):
            raise ValueError(f"layers[{l - 1}].W is not a list of rows")
        got.append((len(W[0]), len(W)))
    shape = [got[0][0]] + [rows for _, rows in got] if got else []
    if shape != sizes:
        raise ValueError(f"the trace is of a network of sizes {shape or '(no layers)'}, this "
                         f"network's sizes are {sizes}")
    names = set(_dict(obj.get("params"), "params")) | set(_dict(obj.get("grads"), "grads"))
    unknown = sorted(names - set(labels.parameter_names()))
    if unknown:
        raise ValueError(f"the trace names parameters this network does not have "
                         f"({', '.join(unknown[:4])}{', …' if len(unknown) > 4 else ''}); this "
                         f"network's are {', '.join(labels.parameter_names()[:6])}, …")


def _list(value, key: str = "value") -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"{key}: expected a list, got {type(value).__name__} {value!r:.40}")
    return value


def _dict(value, key: str = "value") -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"{key}: expected an object, got {type(value).__name__} {value!r:.40}")
    return value
