"""Reading a spec document: every key checked, every failure a `SpecError` naming the source,
the key and what was expected.  One method per section of the file, in the order the network
is built: network, layers (weights and names), data, training."""

from __future__ import annotations

import difflib
import math

import numpy as np

from ..engine.functions import ACTIVATIONS, LOSSES, names_allowed, resolve_loss
from ..engine.loop import ArrayData
from ..engine.network import INIT_SCHEMES, Network, init_layers
from ..engine.optim import OPTIMIZERS, SETTINGS
from ..errors import SpecError
from ..record.labels import Labels
from .arrayfiles import DATA_NAMES, ArrayFiles
from .batches import read_mini_batch
from .model import Spec, Training

OPTIMIZER_KEYS = set(SETTINGS)
MINI_BATCH_KEYS = {"batch_size", "shuffle", "seed", "batches", "order"}
MODES = ("online", "batch", "mini-batch")
KEYS = {
    "": {"meta", "network", "layer", "training", "data"},
    "meta": {"title", "source", "note"},
    "network": {"sizes", "activations", "loss", "input_names", "init", "init_scale", "seed",
                "shared_bias", "train_bias"},
    "layer": {"weights", "biases", "shared_bias", "train_bias", "neuron_names", "weight_names",
              "bias_names"},
    "training": {"learning_rate", "steps", "epochs", "mode"} | OPTIMIZER_KEYS | MINI_BATCH_KEYS,
    "data": {"inputs", "targets", "file"},
}
COPIES = 8  # arrays the size of the weights a traced step holds (W, W_new, ∂E/∂W, records, …)
# how far from 1 a sum of K targets may be by float rounding alone: a few ulps per target
SUM_ROUNDING = 4 * 2.0 ** -52


def available_memory() -> int:
    """Bytes of memory available now (MemAvailable in /proc/meminfo; 4 GiB where unknown)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 4 << 30


# Which hyper-parameters each optimizer takes (besides learning_rate and weight_decay).
OPTIMIZER_HYPER = {name: set(cls.HYPER) for name, cls in OPTIMIZERS.items()}


class Checks(ArrayFiles):
    """Typed reads of single values; every failure names its key."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, key: str, message: str):
        raise SpecError(self.source, key, message)

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
        self.check_keys(value, key, key)
        return value

    def number(self, value, key: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(key, f"expected a number, got {value!r}")
        if not math.isfinite(value):
            self.fail(key, f"expected a finite number, got {value!r}")
        return float(value)

    def positive(self, value, key: str) -> float:
        x = self.number(value, key)
        if x <= 0:
            self.fail(key, f"expected a number > 0, got {x:g}")
        return x

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

    def choice(self, value, key: str, allowed) -> str:
        value = self.string(value, key)
        if value not in allowed:
            self.fail(key, f"unknown value {value!r}; allowed: {', '.join(allowed)}")
        return value

    def vector(self, value, key: str, length: int | None = None) -> list[float]:
        if not isinstance(value, list):
            self.fail(key, f"expected a list of numbers, got {value!r}")
        if length is not None and len(value) != length:
            self.fail(key, f"expected {length} number(s), got {len(value)}")
        return [self.number(v, f"{key}[{i}]") for i, v in enumerate(value)]

    def matrix(self, value, key: str, rows: int | None, cols: int, what: str) -> np.ndarray:
        if isinstance(value, str):  # weights = "w1.npy": an array file beside the spec
            value = self.array_file(value, key)
        if isinstance(value, np.ndarray):
            return self.checked_array(value, key, rows, cols, what)
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


class Reader(Checks):
    """Builds a Spec from a parsed TOML document."""

    def build(self, doc: dict, seed_override: int | None) -> Spec:
        self.check_keys(doc, "", "")
        meta = self.table(doc, "meta", False)
        net_t = self.table(doc, "network", True)
        training = self.table(doc, "training", False)
        data_t = self.table(doc, "data", True)
        sizes, activations, loss = self.read_network(net_t)
        layer_tables = self.read_layer_tables(doc, sizes)
        shared, trainable = self.read_bias_flags(net_t, layer_tables, len(sizes) - 1)
        seed = self.integer(net_t.get("seed", 0), "network.seed", 0)
        if seed_override is not None:
            seed = seed_override
        init = self.choice(net_t.get("init", "xavier"), "network.init", INIT_SCHEMES)
        scale = self.positive(net_t.get("init_scale", 1.0), "network.init_scale")
        layers = init_layers(sizes, activations, np.random.default_rng(seed), init, scale,
                             shared, trainable)
        labels = self.read_layers(net_t, layer_tables, layers, sizes, shared)
        X, T = self.read_data(data_t, sizes, loss.name)
        return Spec(
            source=self.source, network=Network(layers, loss), labels=labels,
            data=ArrayData(X, T), training=self.read_training(training, X.shape[0]),
            title=self.string(meta.get("title", ""), "meta.title"),
            note=self.string(meta.get("note", ""), "meta.note").strip(), seed=seed,
            cite=self.string(meta.get("source", ""), "meta.source"),
        )

    def read_network(self, net_t: dict):
        sizes = net_t.get("sizes")
        if not isinstance(sizes, list) or len(sizes) < 2:
            self.fail("network.sizes", "expected a list of at least two layer sizes, input first")
        sizes = [self.integer(s, f"network.sizes[{i}]", 1) for i, s in enumerate(sizes)]
        self.check_size(sizes)
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
        return sizes, activations, loss

    def check_size(self, sizes: list[int]) -> None:
        """Refuse up front a network whose trace cannot fit in memory, with the estimate."""
        params = sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))
        need, have = params * 8 * COPIES, available_memory()
        if need > 0.8 * have:
            self.fail("network.sizes", f"a network of {params:,} parameters needs about "
                      f"{need / 2**30:.1f} GiB to trace ({COPIES} float64 arrays of its weights); "
                      f"{have / 2**30:.1f} GiB of memory is available; tracenn traces networks "
                      "small enough to follow by hand (tracenn mnist trains larger ones)")

    def read_layer_tables(self, doc: dict, sizes: list[int]) -> list[dict]:
        tables, L = doc.get("layer", []), len(sizes) - 1
        if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
            self.fail("layer", "expected [[layer]] tables")
        if tables and len(tables) != L:
            self.fail("layer", f"expected {L} [[layer]] table(s), one per layer after the input "
                      f"(network.sizes = {sizes}), got {len(tables)}")
        for i, t in enumerate(tables):
            self.check_keys(t, "layer", f"layer[{i + 1}]")
        return tables

    def read_bias_flags(self, net_t: dict, layer_tables: list[dict], L: int):
        shared = self.per_layer_bool(net_t.get("shared_bias", False), "network.shared_bias", L)
        trainable = self.per_layer_bool(net_t.get("train_bias", True), "network.train_bias", L)
        for i, t in enumerate(layer_tables):
            if "shared_bias" in t:
                shared[i] = self.boolean(t["shared_bias"], f"layer[{i + 1}].shared_bias")
            if "train_bias" in t:
                trainable[i] = self.boolean(t["train_bias"], f"layer[{i + 1}].train_bias")
        return shared, trainable

    def read_layers(self, net_t, layer_tables, layers, sizes, shared) -> Labels:
        """Given weights and biases into `layers`; the display names, returned as Labels."""
        labels = Labels.indexed(sizes, shared)
        if "input_names" in net_t:
            labels.inputs = self.names(net_t["input_names"], "network.input_names", sizes[0])
        for i in range(len(sizes) - 1):
            if layers[i].b.shape[0] != (1 if shared[i] else sizes[i + 1]):
                layers[i].b = np.zeros(1 if shared[i] else sizes[i + 1])
        named = 0
        for i, t in enumerate(layer_tables):
            named += self.read_layer(t, i, layers[i], labels, sizes[i], sizes[i + 1], shared[i])
        labels.blog = named == len(sizes) - 1
        self.check_unique_names(labels)
        return labels

    def read_layer(self, t: dict, i: int, layer, labels: Labels, n_in: int, n_out: int,
                   shared: bool) -> bool:
        """One [[layer]] table; True when it names its neurons."""
        key = f"layer[{i + 1}]"
        if "weights" in t:
            layer.W = self.matrix(t["weights"], f"{key}.weights", n_out, n_in,
                                  f"{n_out} neuron(s) × {n_in} input(s)")
        n_b = 1 if shared else n_out
        if "biases" in t:
            b = t["biases"]
            layer.b = np.array(self.vector(b if isinstance(b, list) or not shared else [b],
                                           f"{key}.biases", n_b))
        if "neuron_names" in t:
            labels.neurons[i] = self.names(t["neuron_names"], f"{key}.neuron_names", n_out)
        if "weight_names" in t:
            rows = t["weight_names"]
            if not isinstance(rows, list) or len(rows) != n_out:
                self.fail(f"{key}.weight_names", f"expected {n_out} row(s) of {n_in} name(s)")
            labels.weights[i] = [self.names(r, f"{key}.weight_names[{j}]", n_in)
                                 for j, r in enumerate(rows)]
        if "bias_names" in t:
            labels.biases[i] = self.names(t["bias_names"], f"{key}.bias_names", n_b)
        return "neuron_names" in t

    def check_unique_names(self, labels: Labels) -> None:
        seen: set[str] = set()
        for name in labels.inputs + [n for layer in labels.neurons for n in layer] + labels.parameter_names():
            if name in seen:
                self.fail("names", f"the name {name!r} is used twice")
            seen.add(name)

    def read_data(self, data_t: dict, sizes: list[int], loss: str):
        if "file" in data_t:  # [data] file = "data.npz": inputs and targets in one .npz
            name = self.string(data_t["file"], "data.file")
            data_t = {**{k: self.array_file(name, "data.file", k) for k in DATA_NAMES},
                      **{k: v for k, v in data_t.items() if k != "file"}}
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
        if loss in ("cross-entropy", "binary-cross-entropy"):
            bad = np.argwhere((T < 0) | (T > 1))
            if bad.size:
                i, k = bad[0]
                self.fail(f"data.targets[{i}][{k}]", f"{loss} targets must lie in [0, 1], got {T[i, k]}")
        if loss == "cross-entropy":
            sums = T.sum(axis=1)
            # a sum off 1 by more than rounding would make the fused δ = a − t wrong by a·(Σt − 1)
            bad = np.flatnonzero(np.abs(sums - 1) > SUM_ROUNDING * T.shape[1])
            if bad.size:
                self.fail(f"data.targets[{bad[0]}]", "cross-entropy after softmax needs targets "
                          f"that sum to 1 (a probability distribution), got sum {sums[bad[0]]!r}")
        return X, T

    def read_training(self, training: dict, n_samples: int) -> Training:
        eta = self.positive(training.get("learning_rate", 0.1), "training.learning_rate")
        if "steps" in training and "epochs" in training:
            self.fail("training", "give steps or epochs, not both")
        steps = epochs = None
        if "epochs" in training:
            epochs = self.integer(training["epochs"], "training.epochs", 1)
        else:
            steps = self.integer(training.get("steps", 1), "training.steps", 1)
        mode = self.string(training.get("mode", "online"), "training.mode")
        if mode not in MODES:
            self.fail("training.mode", "expected \"online\" or \"batch\", or \"mini-batch\" with "
                      f"batch_size or batches, got {mode!r}")
        optimizer = self.choice(training.get("optimizer", "sgd"), "training.optimizer", list(OPTIMIZERS))
        hyper = {}
        for key in sorted(OPTIMIZER_KEYS - {"optimizer", "weight_decay"}):
            if key in training:
                if key not in OPTIMIZER_HYPER[optimizer]:
                    takes = ", ".join(sorted(OPTIMIZER_HYPER[optimizer])) or "no other keys"
                    self.fail(f"training.{key}", f"{optimizer} does not use {key} (it takes "
                              f"learning_rate, weight_decay and {takes})")
                hyper[key] = self.read_hyper(training[key], f"training.{key}")
        decay = None
        if "weight_decay" in training:
            decay = self.number(training["weight_decay"], "training.weight_decay")
            if decay < 0:
                self.fail("training.weight_decay", f"expected a number ≥ 0, got {decay:g}")
        out = Training(eta, steps, epochs, mode, optimizer, hyper, decay)
        read_mini_batch(self, training, out, n_samples)
        return out

    def read_hyper(self, value, key: str) -> float:
        x = self.number(value, key)
        if key.endswith("epsilon"):
            ok, allowed = x > 0, "> 0"
        else:  # momentum, beta1, beta2, alpha
            ok, allowed = 0 <= x < 1, "in [0, 1)"
        if not ok:
            self.fail(key, f"expected a number {allowed}, got {x:g}")
        return x
