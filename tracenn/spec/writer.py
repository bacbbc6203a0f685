"""A spec written back as TOML: every weight, bias, name and setting explicit, so that the text
reads back (`parse_spec`) to exactly the same network and training.  Floats are written in
Python's shortest round-trip form, so nothing is lost.  Names the reader would give anyway (the
indexed W2[1,3], b2[1]) are left out: they are most of a wide layer's text."""

from __future__ import annotations

import json
import math

from ..record.labels import Labels
from .model import Spec


def _value(v) -> str:
    """A TOML value: strings quoted, floats in their shortest exact form, lists recursively."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)  # a TOML basic string
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(f"{v!r} cannot be written in a spec")
        text = repr(v)
        return text if any(c in text for c in ".en") else text + ".0"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} {v!r} as TOML")


def _float_rows(array) -> list:
    return [[float(x) for x in row] for row in array]


def spec_to_toml(spec: Spec, *, comment: str = "", weight_files: dict[int, str] | None = None,
                 data_file: str | None = None) -> str:
    """The TOML text of `spec`; `comment` lines go at the top, each behind #.  `weight_files`
    (layer index from 0: file name) and `data_file` name .npy / .npz files, written by the
    caller beside the TOML, that hold a wide layer's weights and the data instead."""
    weight_files = weight_files or {}
    net, labels, t = spec.network, spec.labels, spec.training
    out = [f"# {line}".rstrip() for line in comment.splitlines()]
    meta = {k: v for k, v in (("title", spec.title), ("source", spec.cite), ("note", spec.note))
            if v}
    if meta:
        out += ["[meta]"] + [f"{k} = {_value(v)}" for k, v in meta.items()] + [""]
    out += ["[network]", f"sizes = {_value(net.sizes)}",
            f"activations = {_value([layer.activation.name for layer in net.layers])}",
            f"loss = {_value(net.loss.name)}", f"input_names = {_value(labels.inputs)}", ""]
    default = Labels.indexed(net.sizes, [layer.shared_bias for layer in net.layers])
    for l, layer in enumerate(net.layers):
        out += ["[[layer]]",
                f"weights = {_value(weight_files[l])}" if l in weight_files else
                f"weights = {_value(_float_rows(layer.W))}",
                f"biases = {_value([float(b) for b in layer.b])}",
                f"shared_bias = {_value(layer.shared_bias)}",
                f"train_bias = {_value(layer.bias_trainable)}"]
        if labels.blog:
            out.append(f"neuron_names = {_value(labels.neurons[l])}")
        if l not in weight_files:  # a wide layer's names are the indexed ones, W2[1,3]
            out += _names(labels, default, l)
        out.append("")
    out += ["[training]", f"learning_rate = {_value(float(t.learning_rate))}"]
    out.append(f"epochs = {t.epochs}" if t.epochs is not None else f"steps = {t.steps or 1}")
    out += [f"mode = {_value(t.mode)}", f"optimizer = {_value(t.optimizer)}"]
    if t.mode == "mini-batch":
        out += _mini_batch(t)
    out += [f"{k} = {_value(float(v))}" for k, v in t.hyper.items()]
    if t.weight_decay is not None:
        out.append(f"weight_decay = {_value(float(t.weight_decay))}")
    if data_file is not None:
        out += ["", "[data]", f"file = {_value(data_file)}"]
        return "\n".join(out) + "\n"
    out += ["", "[data]", f"inputs = {_value(_float_rows(spec.data.X))}",
            f"targets = {_value(_float_rows(spec.data.T))}"]
    return "\n".join(out) + "\n"


def _names(labels: Labels, default: Labels, l: int) -> list[str]:
    """Layer l's weight_names and bias_names lines: both for a net named the blog's way (a
    reader of the file sees w5 and b2 beside their neurons), otherwise each only if it is not
    what the reader would name them without it (`default`: Labels.indexed)."""
    if labels.blog:
        return [f"weight_names = {_value(labels.weights[l])}",
                f"bias_names = {_value(labels.biases[l])}"]
    out = []
    if labels.weights[l] != default.weights[l]:
        out.append(f"weight_names = {_value(labels.weights[l])}")
    if labels.biases[l] != default.biases[l]:
        out.append(f"bias_names = {_value(labels.biases[l])}")
    return out


def _mini_batch(t) -> list[str]:
    """The mini-batch keys of [training], as the reader takes them."""
    if t.batches is not None:
        return [f"batches = {_value([list(b) for b in t.batches])}"]
    out = [f"batch_size = {t.batch_size}", f"shuffle = {_value(t.shuffle)}"]
    if t.shuffle:
        out.append(f"seed = {t.seed}")
    if t.order is not None:
        out.append(f"order = {_value([list(o) for o in t.order])}")
    return out
