"""The TOML spec format: one way to describe a small network exactly, so that a textbook's worked
example can be typed in and traced.  `load_spec` reads and validates a file and builds the
network and its data; every mistake in the file is reported as a `SpecError` naming the file, the
key and what was expected.

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
    mode = "online"             or "batch"
    [data]
    inputs = [[...], ...]       one row per sample
    targets = [[...], ...]
"""

from __future__ import annotations

import difflib
import math
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from .functions import ACTIVATIONS, LOSSES, names_allowed, resolve_loss
from .network import INIT_SCHEMES, ArrayData, Network, init_layers
from .trace import Labels

PRESETS = ("mazur", "xor", "softmax")

KEYS = {
    "": {"meta", "network", "layer", "training", "data"},
    "meta": {"title", "source", "note"},
    "network": {"sizes", "activations", "loss", "input_names", "init", "init_scale", "seed",
                "shared_bias", "train_bias"},
    "layer": {"weights", "biases", "shared_bias", "train_bias", "neuron_names", "weight_names",
              "bias_names"},
    "training": {"learning_rate", "steps", "epochs", "mode"},
    "data": {"inputs", "targets"},
}


class SpecError(ValueError):
    """A spec file is wrong: names the file, the key and what was expected."""

    def __init__(self, source: str, key: str, message: str):
        where = f"{source}: {key}: " if key else f"{source}: "
        super().__init__(where + message)
        self.source, self.key = source, key


@dataclass
class Spec:
    """A loaded spec: the network with its initial weights, the data, and training settings."""

    source: str
    network: Network
    data: ArrayData
    learning_rate: float
    steps: int | None
    epochs: int | None
    mode: str  # "online" or "batch"
    title: str = ""
    note: str = ""
    seed: int | None = None

    @property
    def batch_size(self) -> int:
        return 1 if self.mode == "online" else len(self.data)

    def train_biases(self) -> None:
        """Make every bias trainable (the --update-biases option)."""
        for layer in self.network.layers:
            layer.bias_trainable = True


def preset_text(name: str) -> str:
    return resources.files("tracenn.presets").joinpath(f"{name}.toml").read_text(encoding="utf-8")


def load_spec(path_or_preset: str, *, seed: int | None = None) -> Spec:
    """Load a preset by name (mazur, xor, softmax) or a spec file by path.

    `seed` overrides the spec's seed for layers initialised at random.  Raises SpecError.
    """
    if path_or_preset in PRESETS:
        return parse_spec(preset_text(path_or_preset), f"preset {path_or_preset}", seed=seed)
    path = Path(path_or_preset)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(str(path), "", "no such file (give a .toml spec, or one of the "
                        f"presets: {', '.join(PRESETS)})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(str(path), "", f"cannot be read: {getattr(exc, 'strerror', None) or exc}") from None
    return parse_spec(text, str(path), seed=seed)


def parse_spec(text: str, source: str, *, seed: int | None = None) -> Spec:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(source, "", f"not valid TOML: {exc}") from None
    return _Reader(source).build(doc, seed)


class _Reader:
    """Validates a parsed TOML document key by key; every failure names its key."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, key: str, message: str):
        raise SpecError(self.source, key, message)

    # --- generic checks ------------------------------------------------------------------

    def check_keys(self, table: dict, section: str, where: str) -> None:
        allowed = KEYS[section]
        for key in table:
            if key not in allowed:
                hint = difflib.get_close_matches(key, allowed, n=1)
                did = f" (did you mean {hint[0]!r}?)" if hint else ""
                name = f"{where}.{key}" if where else key
                self.fail(name, f"unknown key{did}; allowed here: {', '.join(sorted(allowed))}")

    def table(self, doc: dict, key: str, required: bool) -> dict:
        value = doc.get(key)
        if value is None:
            if required:
                self.fail(f"[{key}]", "this table is required")
            return {}
        if not isinstance(value, dict):
            self.fail(key, "expected a table")
        return value

    def number(self, value, key: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(key, f"expected a number, got {value!r}")
        if not math.isfinite(value):
            self.fail(key, f"expected a finite number, got {value!r}")
        return float(value)

    def integer(self, value, key: str, minimum: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(key, f"expected a whole number, got {value!r}")
        if value < minimum:
            self.fail(key, f"expected a whole number ≥ {minimum}, got {value}")
        return value

    def boolean(self, value, key: str) -> bool:
        if not isinstance(value, bool):
            self.fail(key, f"expected true or false, got {value!r}")
        return value

    def string(self, value, key: str) -> str:
        if not isinstance(value, str):
            self.fail(key, f"expected a string, got {value!r}")
        return value

    def vector(self, value, key: str, length: int | None = None) -> list[float]:
        if not isinstance(value, list):
            self.fail(key, f"expected a list of numbers, got {value!r}")
        if length is not None and len(value) != length:
            self.fail(key, f"expected {length} number(s), got {len(value)}")
        return [self.number(v, f"{key}[{i}]") for i, v in enumerate(value)]

    def matrix(self, value, key: str, rows: int | None, cols: int, what: str) -> np.ndarray:
        if not isinstance(value, list) or not all(isinstance(r, list) for r in value):
            self.fail(key, f"expected a list of rows (lists of numbers), {what}")
        if rows is not None and len(value) != rows:
            self.fail(key, f"expected {rows} row(s) ({what}), got {len(value)}")
        for i, row in enumerate(value):
            if len(row) != cols:
                self.fail(f"{key}[{i}]", f"expected {cols} number(s) ({what}), got {len(row)}")
        out = [[self.number(v, f"{key}[{i}][{k}]") for k, v in enumerate(r)] for i, r in enumerate(value)]
        return np.array(out, dtype=np.float64).reshape(len(out), cols)

    def names(self, value, key: str, length: int) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.fail(key, "expected a list of non-empty strings")
        if len(value) != length:
            self.fail(key, f"expected {length} name(s), got {len(value)}")
        return list(value)

    def per_layer_bool(self, value, key: str, n_layers: int) -> list[bool]:
        if isinstance(value, list):
            if len(value) != n_layers:
                self.fail(key, f"expected {n_layers} value(s), one per layer after the input")
            return [self.boolean(v, f"{key}[{i}]") for i, v in enumerate(value)]
        return [self.boolean(value, key)] * n_layers

    # --- the document --------------------------------------------------------------------

    def build(self, doc: dict, seed_override: int | None) -> Spec:
        self.check_keys(doc, "", "")
        meta = self.table(doc, "meta", False)
        self.check_keys(meta, "meta", "meta")
        net_t = self.table(doc, "network", True)
        self.check_keys(net_t, "network", "network")
        training = self.table(doc, "training", False)
        self.check_keys(training, "training", "training")
        data_t = self.table(doc, "data", True)
        self.check_keys(data_t, "data", "data")

        sizes = net_t.get("sizes")
        if not isinstance(sizes, list) or len(sizes) < 2:
            self.fail("network.sizes", "expected a list of at least two layer sizes, input first")
        sizes = [self.integer(s, f"network.sizes[{i}]", 1) for i, s in enumerate(sizes)]
        L = len(sizes) - 1

        acts_raw = net_t.get("activations")
        if isinstance(acts_raw, str):
            acts_raw = [acts_raw] * L
        if not isinstance(acts_raw, list) or len(acts_raw) != L:
            self.fail("network.activations", f"expected {L} activation name(s), one per layer "
                      f"after the input; allowed: {names_allowed(ACTIVATIONS)}")
        activations = []
        for i, name in enumerate(acts_raw):
            key = f"network.activations[{i}]"
            act = ACTIVATIONS.get(self.string(name, key))
            if act is None:
                self.fail(key, f"unknown activation {name!r}; allowed: {names_allowed(ACTIVATIONS)}")
            if act.name == "softmax" and i != L - 1:
                self.fail(key, "softmax is allowed only in the last layer")
            if act.name == "softmax" and sizes[-1] < 2:
                self.fail(key, "softmax needs at least two outputs")
            activations.append(act)

        loss_name = self.string(net_t.get("loss", ""), "network.loss")
        if loss_name not in LOSSES:
            self.fail("network.loss", f"unknown loss {loss_name!r}; allowed: {names_allowed(LOSSES)}")
        try:
            loss = resolve_loss(loss_name, activations[-1])
        except ValueError as exc:
            self.fail("network.loss", str(exc))

        shared = self.per_layer_bool(net_t.get("shared_bias", False), "network.shared_bias", L)
        trainable = self.per_layer_bool(net_t.get("train_bias", True), "network.train_bias", L)
        init = self.string(net_t.get("init", "xavier"), "network.init")
        if init not in INIT_SCHEMES:
            self.fail("network.init", f"unknown scheme {init!r}; allowed: {', '.join(INIT_SCHEMES)}")
        scale = self.number(net_t.get("init_scale", 1.0), "network.init_scale")
        if scale <= 0:
            self.fail("network.init_scale", f"expected a number > 0, got {scale}")
        seed = self.integer(net_t.get("seed", 0), "network.seed", 0)
        if seed_override is not None:
            seed = seed_override

        layer_tables = doc.get("layer", [])
        if not isinstance(layer_tables, list) or not all(isinstance(t, dict) for t in layer_tables):
            self.fail("layer", "expected [[layer]] tables")
        if layer_tables and len(layer_tables) != L:
            self.fail("layer", f"expected {L} [[layer]] table(s), one per layer after the input "
                      f"(network.sizes = {sizes}), got {len(layer_tables)}")
        for i, t in enumerate(layer_tables):
            self.check_keys(t, "layer", f"layer[{i + 1}]")
            if "shared_bias" in t:
                shared[i] = self.boolean(t["shared_bias"], f"layer[{i + 1}].shared_bias")
            if "train_bias" in t:
                trainable[i] = self.boolean(t["train_bias"], f"layer[{i + 1}].train_bias")

        rng = np.random.default_rng(seed)
        layers = init_layers(sizes, activations, rng, init, scale, shared, trainable)
        labels = Labels.indexed(sizes)
        if "input_names" in net_t:
            labels.inputs = self.names(net_t["input_names"], "network.input_names", sizes[0])
        named_layers = 0
        for i, t in enumerate(layer_tables):
            key = f"layer[{i + 1}]"
            n_in, n_out = sizes[i], sizes[i + 1]
            if "weights" in t:
                layers[i].W = self.matrix(t["weights"], f"{key}.weights", n_out, n_in,
                                          f"{n_out} neuron(s) × {n_in} input(s)")
            n_b = 1 if shared[i] else n_out
            if "biases" in t:
                b = t["biases"]
                if shared[i] and not isinstance(b, list):
                    b = [b]
                layers[i].b = np.array(self.vector(b, f"{key}.biases", n_b))
            elif layers[i].b.shape[0] != n_b:
                layers[i].b = np.zeros(n_b)
            if "neuron_names" in t:
                labels.neurons[i] = self.names(t["neuron_names"], f"{key}.neuron_names", n_out)
                named_layers += 1
            if "weight_names" in t:
                rows = t["weight_names"]
                if not isinstance(rows, list) or len(rows) != n_out:
                    self.fail(f"{key}.weight_names", f"expected {n_out} row(s) of {n_in} name(s)")
                labels.weights[i] = [self.names(r, f"{key}.weight_names[{j}]", n_in)
                                     for j, r in enumerate(rows)]
            if "bias_names" in t:
                labels.biases[i] = self.names(t["bias_names"], f"{key}.bias_names", n_b)
            elif shared[i]:
                labels.biases[i] = [f"b{i + 1}"]
        if not layer_tables:
            for i in range(L):
                if shared[i]:
                    labels.biases[i] = [f"b{i + 1}"]
        labels.blog = named_layers == L and L > 0
        self.check_unique_names(labels)

        # data
        if "inputs" not in data_t or "targets" not in data_t:
            self.fail("data", "expected both inputs and targets")
        X = self.matrix(data_t["inputs"], "data.inputs", None, sizes[0],
                        f"one row per sample, {sizes[0]} input(s) each")
        T = self.matrix(data_t["targets"], "data.targets", None, sizes[-1],
                        f"one row per sample, {sizes[-1]} target(s) each")
        if X.shape[0] == 0:
            self.fail("data.inputs", "expected at least one sample")
        if X.shape[0] != T.shape[0]:
            self.fail("data.targets", f"expected {X.shape[0]} row(s), one per input row, got {T.shape[0]}")
        if loss.name in ("cross-entropy", "binary-cross-entropy"):
            bad = np.argwhere((T < 0) | (T > 1))
            if bad.size:
                i, k = bad[0]
                self.fail(f"data.targets[{i}][{k}]",
                          f"{loss.name} targets must lie in [0, 1], got {T[i, k]}")
            if loss.name == "cross-entropy":
                sums = T.sum(axis=1)
                bad = np.flatnonzero(np.abs(sums - 1) > 1e-9)
                if bad.size:
                    self.fail(f"data.targets[{bad[0]}]", "cross-entropy after softmax needs targets "
                              f"that sum to 1 (a probability distribution), got sum {sums[bad[0]]}")

        # training
        eta = self.number(training.get("learning_rate", 0.1), "training.learning_rate")
        if eta <= 0:
            self.fail("training.learning_rate", f"expected a number > 0, got {eta}")
        if "steps" in training and "epochs" in training:
            self.fail("training", "give steps or epochs, not both")
        steps = epochs = None
        if "epochs" in training:
            epochs = self.integer(training["epochs"], "training.epochs", 1)
        else:
            steps = self.integer(training.get("steps", 1), "training.steps", 1)
        mode = self.string(training.get("mode", "online"), "training.mode")
        if mode not in ("online", "batch"):
            self.fail("training.mode", f"expected \"online\" or \"batch\", got {mode!r}")

        net = Network(layers, loss, labels)
        note = self.string(meta.get("note", ""), "meta.note")
        title = self.string(meta.get("title", ""), "meta.title")
        return Spec(self.source, net, ArrayData(X, T), eta, steps, epochs, mode, title, note.strip(), seed)

    def check_unique_names(self, labels: Labels) -> None:
        seen: set[str] = set()
        for name in labels.inputs + [n for layer in labels.neurons for n in layer] + labels.parameter_names():
            if name in seen:
                self.fail("names", f"the name {name!r} is used twice")
            seen.add(name)
