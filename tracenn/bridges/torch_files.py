"""A PyTorch model saved with torch.save, read back safely, and arrays given on the command line.

Models are loaded with `weights_only=True`, PyTorch's loader that builds tensors and allowed
classes only and never runs code from the file.  A whole module (`torch.save(model)`) is
accepted when every class it names is one of torch.nn's own modules (which the model reader
then accepts or refuses by name); one that names a class of the learner's own (`__main__.Net`)
is refused, because unpickling it would import and run that code.  A state dict
(`torch.save(model.state_dict())`, also inside a checkpoint dict under "state_dict",
"model_state_dict" or "model") holds weights only: its Linear layers are taken in the order it
lists them, and the activation after each must be named.  A TorchScript archive is refused.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..engine.functions import ACTIVATIONS
from ..errors import DataError, OptionError, UnsupportedError

MODULES = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU, "identity": None,
           "softmax": lambda: nn.Softmax(dim=1), "log-softmax": lambda: nn.LogSoftmax(dim=1)}
CHECKPOINT_KEYS = ("state_dict", "model_state_dict", "model")


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _torch_classes(path: str) -> list:
    """The torch.nn module classes the file names; refuses any other class or function."""
    try:
        names = torch.serialization.get_unsafe_globals_in_checkpoint(path)
    except Exception as exc:
        if "torchscript" in str(exc).lower():
            raise DataError(path, "is a TorchScript archive; save the model with torch.save("
                            "model) or torch.save(model.state_dict())") from None
        raise DataError(path, f"is not a file written by torch.save ({_first_line(exc)})") from None
    classes, refused = [], []
    for name in names:
        module, _, attr = name.rpartition(".")
        cls = None
        if module.startswith("torch.nn.modules."):
            cls = getattr(importlib.import_module(module), attr, None)
        if isinstance(cls, type) and issubclass(cls, nn.Module):
            classes.append(cls)
        else:
            refused.append(name)
    if refused:
        raise UnsupportedError(
            f"{path}: loading it would run code from {', '.join(sorted(refused))} (tracenn loads "
            "with weights_only=True, which allows torch.nn's own modules only); save the state "
            "dict instead, torch.save(model.state_dict(), …), and name the activations")
    return classes


def load_model(path, activations=None) -> nn.Module:
    """The model in `path`: a whole module as saved, or an nn.Sequential built from a state
    dict and `activations` (one per Linear layer, tracenn's names)."""
    path = str(path)
    if not Path(path).is_file():
        raise DataError(path, "no such file")
    classes = _torch_classes(path)
    try:
        with torch.serialization.safe_globals(classes):
            obj = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as exc:
        raise DataError(path, f"cannot be loaded: {_first_line(exc)}") from None
    if isinstance(obj, nn.Module):
        if activations is not None:
            raise OptionError(f"{path} holds a whole module, which names its activations; "
                              "activations are given for a state dict only")
        return obj
    return from_state_dict(_state_dict(obj, path), activations, path)


def _state_dict(obj, path: str) -> dict:
    def tensors(d):
        return isinstance(d, dict) and d and all(isinstance(v, torch.Tensor) for v in d.values())

    if tensors(obj):
        return obj
    if isinstance(obj, dict):
        for key in CHECKPOINT_KEYS:
            if tensors(obj.get(key)):
                return obj[key]
        raise DataError(path, f"holds a dict with keys {', '.join(map(str, list(obj)[:6]))}; "
                        "expected a model's state dict, alone or under one of "
                        f"{', '.join(CHECKPOINT_KEYS)}")
    raise DataError(path, f"holds a {type(obj).__name__}, not a model or a state dict")


def _linear_layers(state: dict, path: str) -> list[tuple[str, torch.Tensor, torch.Tensor | None]]:
    layers = []
    for key, value in state.items():
        prefix, _, leaf = key.rpartition(".")
        if leaf == "weight" and value.dim() == 2:
            layers.append([prefix, value, None])
        elif leaf == "bias" and layers and layers[-1][0] == prefix and layers[-1][2] is None:
            layers[-1][2] = value
        else:
            raise UnsupportedError(f"{path}: {key} (shape {tuple(value.shape)}) is not a Linear "
                                   "layer's weight or bias; tracenn reads Linear layers only")
    for (p0, W0, _), (p1, W1, b1) in zip(layers, layers[1:]):
        if W1.shape[1] != W0.shape[0]:
            raise UnsupportedError(f"{path}: {p1}.weight takes {W1.shape[1]} input(s), but "
                                   f"{p0}.weight gives {W0.shape[0]}")
    for prefix, W, b in layers:
        if b is not None and tuple(b.shape) != (W.shape[0],):
            raise UnsupportedError(f"{path}: {prefix}.bias has shape {tuple(b.shape)}, its "
                                   f"weight {tuple(W.shape)}")
    return [tuple(layer) for layer in layers]


def from_state_dict(state: dict, activations, path: str = "state dict") -> nn.Sequential:
    """An nn.Sequential of the state dict's Linear layers, each followed by its activation."""
    layers = _linear_layers(state, path)
    if not layers:
        raise DataError(path, "holds no Linear layer's weight")
    if activations is None:
        raise OptionError(f"{path} holds a state dict (weights only) of {len(layers)} Linear "
                          "layer(s): name the activation after each (e.g. --activations "
                          + ",".join(["sigmoid"] * (len(layers) - 1) + ["identity"]) + ")")
    names = activations.split(",") if isinstance(activations, str) else list(activations)
    if len(names) != len(layers):
        raise OptionError(f"activations: expected {len(layers)}, one per Linear layer of "
                          f"{path}, got {len(names)}")
    modules = []
    for (prefix, W, b), name in zip(layers, names):
        name = ACTIVATIONS[name].name if name in ACTIVATIONS else name.strip()
        if name not in MODULES:
            raise OptionError(f"activations: unknown {name!r}; allowed: {', '.join(MODULES)}")
        linear = nn.Linear(W.shape[1], W.shape[0], bias=b is not None, dtype=W.dtype)
        with torch.no_grad():
            linear.weight.copy_(W)
            if b is not None:
                linear.bias.copy_(b)
        modules.append(linear)
        if MODULES[name] is not None:
            modules.append(MODULES[name]())
    return nn.Sequential(*modules)


def read_array(value: str, what: str) -> np.ndarray:
    """Rows of numbers from the command line: a file (.csv or whitespace-separated text, .json,
    .npy, or a tensor saved with torch.save as .pt) or JSON text such as [[0.05, 0.1]]."""
    path = Path(value)
    if path.is_file():
        suffix = path.suffix.lower()
        try:
            if suffix == ".npy":
                return np.load(path, allow_pickle=False)
            if suffix in (".pt", ".pth"):
                tensor = torch.load(path, weights_only=True, map_location="cpu")
                if not isinstance(tensor, torch.Tensor):
                    raise DataError(value, f"holds a {type(tensor).__name__}, not a tensor")
                return tensor.numpy()
            text = path.read_text(encoding="utf-8")
            if suffix == ".json" or text.lstrip().startswith("["):
                return np.asarray(json.loads(text))
            return np.loadtxt(path, delimiter="," if "," in text else None, ndmin=2)
        except DataError:
            raise
        except Exception as exc:
            raise DataError(value, f"cannot be read as {what}: {_first_line(exc)}") from None
    try:
        return np.asarray(json.loads(value))
    except (json.JSONDecodeError, ValueError):
        raise OptionError(f"{what}: {value!r} is neither a file nor JSON rows such as "
                          "[[0.05, 0.1]]") from None
