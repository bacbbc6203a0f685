"""A spec from a learner's own arrays: their weights and biases as their code holds them (W as
n_out×n_in or n_in×n_out, b flat or a column), their samples (in rows or in columns), and the
settings — so a network of a NumPy script is traced without writing its numbers out by hand.

The layout is found from the shapes: the weights must chain (each layer's inputs are the last
one's outputs), the biases give each layer's outputs, the inputs the first layer's inputs; a
network whose shapes fit both ways (every W square) is read as n_out×n_in, and the source says
so.  The spec is built through the spec reader, so it is checked as a TOML file would be."""

from __future__ import annotations

import numpy as np

from ..errors import SpecError
from .model import Spec
from .reader import Reader


def _shapes_chain(Ws: list[np.ndarray], transposed: bool) -> bool:
    shapes = [W.T.shape if transposed else W.shape for W in Ws]
    return all(b[1] == a[0] for a, b in zip(shapes, shapes[1:]))


def weight_layout(Ws: list[np.ndarray], bs: list[np.ndarray], n_in: int | None) -> tuple[bool, str]:
    """(transposed, how it was told): whether the weights are n_in×n_out."""
    fits = []
    for transposed in (False, True):
        shapes = [W.T.shape if transposed else W.shape for W in Ws]
        if not _shapes_chain(Ws, transposed):
            continue
        if any(b.size not in (1, s[0]) for b, s in zip(bs, shapes)):
            continue
        if n_in is not None and shapes[0][1] != n_in:
            continue
        fits.append(transposed)
    if not fits:
        shapes = ", ".join(str(W.shape) for W in Ws)
        raise SpecError("arrays", "weights", f"shapes {shapes} chain neither as n_out×n_in nor as "
                        "n_in×n_out with the biases' lengths and the inputs given")
    if len(fits) == 2:
        return False, "W as n_out×n_in (the shapes fit both ways: every W is square)"
    return fits[0], "W as n_in×n_out, transposed" if fits[0] else "W as n_out×n_in"


def samples(A, n_units: int, what: str) -> tuple[np.ndarray, str]:
    """Samples in rows, from an array with samples in rows or columns (or one flat sample)."""
    A = np.asarray(A, dtype=float)
    if A.ndim == 1 and A.size == n_units:
        return A.reshape(1, n_units), "one sample"
    if A.ndim == 2 and A.shape[1] == n_units:
        return A, "samples in rows"
    if A.ndim == 2 and A.shape[0] == n_units:
        return A.T, "samples in columns"
    raise SpecError("arrays", what, f"shape {A.shape} fits neither (n, {n_units}) nor "
                    f"({n_units}, n)")


def from_arrays(weights, biases, *, activations, loss: str, inputs, targets, lr: float = 0.1,
                mode: str = "batch", steps: int = 1, optimizer: str = "sgd",
                title: str = "") -> Spec:
    """The spec of a network given as arrays: `weights` and `biases` one per layer (any layout
    of each, the same for all), `activations` one name per layer (or one for all but the last
    and the last, as a list), `loss` a tracenn loss name, `inputs`/`targets` with samples in rows
    or columns.  Its `source` says how the arrays were read."""
    Ws = [np.asarray(W, dtype=float) for W in weights]
    bs = [np.asarray(b, dtype=float).reshape(-1) for b in biases]
    if len(Ws) != len(bs) or not Ws:
        raise SpecError("arrays", "biases", f"expected one bias array per weight array "
                        f"({len(Ws)}), got {len(bs)}")
    if any(W.ndim != 2 for W in Ws):
        raise SpecError("arrays", "weights", "expected 2-D weight arrays")
    X0 = np.asarray(inputs, dtype=float)
    n_in = X0.shape[-1] if X0.ndim == 1 else None
    transposed, how = weight_layout(Ws, bs, n_in)
    Ws = [W.T if transposed else W for W in Ws]
    sizes = [Ws[0].shape[1]] + [W.shape[0] for W in Ws]
    X, x_how = samples(inputs, sizes[0], "inputs")
    T, _ = samples(targets, sizes[-1], "targets")
    if X.shape[0] != T.shape[0] and X.T.shape == (T.shape[0], sizes[0]):
        X = X.T
    if isinstance(activations, str):
        activations = [activations] * len(Ws)
    shared = [b.size == 1 and W.shape[0] > 1 for b, W in zip(bs, Ws)]
    doc = {
        "meta": {"title": title} if title else {},
        "network": {"sizes": sizes, "activations": list(activations), "loss": loss,
                    "shared_bias": shared},
        "layer": [{"weights": W, "biases": b.tolist()} for W, b in zip(Ws, bs)],
        "training": {"learning_rate": float(lr), "steps": int(steps), "mode": mode,
                     "optimizer": optimizer},
        "data": {"inputs": X, "targets": T},
    }
    return Reader(f"arrays ({x_how}, {how})").build(doc, None)


def arrays_of_npz(path: str) -> tuple[list, list, np.ndarray, np.ndarray]:
    """(weights, biases, inputs, targets) of an np.savez file: W1, b1, W2, … (or weights_0,
    biases_0, … as Nielsen's lists), and X or inputs, Y, T or targets."""
    try:
        with np.load(path, allow_pickle=False) as f:
            a = {k: f[k] for k in f.files}
    except FileNotFoundError:
        raise SpecError(path, "", "no such file") from None
    except (OSError, ValueError) as exc:
        raise SpecError(path, "", f"is no .npz file of arrays (np.savez): {exc}") from None
    for w, b, first in (("W{}", "b{}", 1), ("weights_{}", "biases_{}", 0), ("W_{}", "b_{}", 0)):
        Ws, bs, i = [], [], first
        while w.format(i) in a and b.format(i) in a:
            Ws.append(a[w.format(i)])
            bs.append(a[b.format(i)])
            i += 1
        if Ws:
            break
    else:
        raise SpecError(path, "", f"holds no weights W1, b1, … (or weights_0, biases_0, …); it "
                        f"has {', '.join(a) or 'no arrays'}")
    X = next((a[k] for k in ("X", "inputs", "x") if k in a), None)
    T = next((a[k] for k in ("Y", "T", "targets", "y") if k in a), None)
    if X is None or T is None:
        raise SpecError(path, "", "needs the samples too: arrays X (or inputs) and Y (or T, "
                        "targets)")
    return Ws, bs, X, T
