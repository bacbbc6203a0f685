"""The TOML spec format: one way to describe a small network exactly, so that a textbook's worked
example can be typed in and traced.  `load_spec` reads a preset, a file or TOML text, checks
every key and builds the network, its names and its data; every mistake in the file is a
`SpecError` naming the file, the key and what was expected.

    [meta]                      optional: title, source, note (printed after step 1)
    [network]
    sizes = [2, 2, 1]           input first
    activations = [...]         one per layer after the input (or one name for all)
    loss = "half-sse"
    input_names = ["i1", "i2"]  optional display names
    init = "xavier"             optional, when a [[layer]] gives no weights: xavier, he,
    init_scale = 1.0              lecun, uniform, normal, zeros; scale for uniform/normal
    seed = 0
    shared_bias = false         optional defaults for every layer (a [[layer]] may override)
    train_bias = true
    [[layer]]                   optional, one per layer after the input, in order
    weights = [[...], ...]      row j: the weights into neuron j (W[j][k]: input k -> neuron j)
    biases = [...]              one per neuron, or one number when shared_bias = true
    shared_bias, train_bias, neuron_names, weight_names, bias_names
    [training]
    learning_rate = 0.5
    steps = 1   or   epochs = 1000
    mode = "online"             or "batch", or "mini-batch" with
    batch_size = 2              samples per update (the last batch of an epoch may be smaller)
    shuffle = true, seed = 0    a new order each epoch (default false: the samples in order)
    order = [[2, 0, 3, 1], ...] or the learner's own permutation for each epoch
    batches = [[2, 0], [1, 3]]  or the learner's own batches, the same each epoch (alone)
    optimizer = "sgd"           or momentum, nesterov, rmsprop, adam, adamw, with momentum,
                                beta1, beta2, epsilon, alpha, weight_decay (torch.optim's defaults)
    [data]
    inputs = [[...], ...]       one row per sample
    targets = [[...], ...]
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

from ..errors import SpecError
from .model import Spec, Training
from .reader import Reader

PRESETS = ("mazur", "xor", "softmax")

__all__ = ["PRESETS", "Spec", "SpecError", "Training", "load_preset", "load_spec", "parse_spec",
           "preset_text"]


def preset_text(name: str) -> str:
    """The TOML text of a preset (mazur, xor, softmax)."""
    return resources.files("tracenn.spec.presets").joinpath(f"{name}.toml").read_text(encoding="utf-8")


def load_preset(name: str, *, seed: int | None = None) -> Spec:
    """A preset by name (mazur, xor, softmax), whatever files the current folder holds."""
    if name not in PRESETS:
        raise SpecError(name, "", f"no such preset; the presets are {', '.join(PRESETS)}")
    return parse_spec(preset_text(name), f"preset {name}", seed=seed)


def load_spec(path_or_preset: str | Path, *, seed: int | None = None) -> Spec:
    """Load a preset by name (mazur, xor, softmax) or a spec file by path.

    `seed` overrides the spec's seed for layers initialised at random.  Raises SpecError.
    """
    name = str(path_or_preset)
    if name in PRESETS:
        if Path(name).is_file():
            raise SpecError(name, "", f"is both a preset and a file in this folder; write "
                            f"./{name} for the file, or run where no file of that name is")
        return load_preset(name, seed=seed)
    path = Path(path_or_preset)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(str(path), "", "no such file (give a .toml spec, or one of the "
                        f"presets: {', '.join(PRESETS)})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(str(path), "", f"cannot be read: {getattr(exc, 'strerror', None) or exc}") from None
    return parse_spec(text, str(path), seed=seed)


def parse_spec(text: str, source: str = "spec", *, seed: int | None = None) -> Spec:
    """A spec from TOML text; `source` names it in error messages.  Raises SpecError."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(source, "", f"not valid TOML: {exc}") from None
    except RecursionError:
        raise SpecError(source, "", "nested too deeply to read (lists or tables inside each "
                        "other thousands of times); a spec nests lists two levels deep") from None
    return Reader(source).build(doc, seed)
