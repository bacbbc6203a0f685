"""Activations and losses: each one object holding its numpy function, its derivative, its SymPy
expression and its textbook formula as text.

The engine (engine/backprop.py), the tables (render/) and the symbolic verifier (maths/) all read
these same objects, so a wrong derivative here shows up as a failing row in `tracenn verify`.

Arrays are laid out with samples in rows: z and a have shape (n_samples, n_neurons).
At a kink the derivative is taken from the left, as PyTorch and micrograd take it: relu′(0) = 0
(so a unit with z = 0 counts as off).  The engine's `ops.step`, the SymPy form (a Piecewise
whose derivative is 0 at 0, where Max(0, z) would give Heaviside(0) = ½) and verify's finite
differences (one-sided at a kink, on the side where the unit stays off) all follow it.
The derivative functions are written with plain arithmetic (and `ops.step` for ReLU) so that they
work unchanged on numpy arrays and on SymPy expressions; `ops` is `NUMPY_OPS` for the engine and
`maths.symbolic.SYMPY_OPS` for the verifier.  SymPy itself is imported only inside the `symbolic`
callables, never at import time, so `tracenn mazur` starts without it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, Callable

import numpy as np


# Operations the derivative formulas need beyond arithmetic: a Heaviside step (ReLU) and log.
def _safe_log(a):
    # log clipped at the smallest normal number: a softmax output that underflowed to 0 then
    # gives a large finite loss (about 708 in float64) instead of −t·log 0 = NaN when t = 0.
    return np.log(np.maximum(a, np.finfo(a.dtype).tiny))


def _zero_over(num, den):
    # num / den, and exactly 0 where num is 0: a term whose coefficient is zero contributes
    # nothing to ∂E/∂a, even where its denominator has underflowed (−t/a with t = 0 and a = 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(num == 0, 0.0, np.divide(num, den))


def _logsumexp(z):
    # log Σ_j e^(z_j) of each row (n, 1), shifted by the row's max so that no e^z overflows
    m = z.max(axis=1, keepdims=True)
    return m + np.log(np.exp(z - m).sum(axis=1, keepdims=True))


NUMPY_OPS = SimpleNamespace(
    step=lambda z: (z > 0).astype(z.dtype),
    log=_safe_log,
    div=_zero_over,
    softplus=lambda z: np.logaddexp(0, z),  # log(1 + e^z) without overflow or lost digits
    logsumexp=_logsumexp,
)


# --------------------------------------------------------------------------------------------
# Activations
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Activation:
    """One activation function a = f(z), applied to a layer's net inputs.

    `fn(z)` maps z (n, K) to a (n, K); `fn(z, out=arr)` writes a into arr, shaped like z (the
    training hot path's window, engine/window.py), with the same operations.  For element-wise
    activations `prime(z, a, ops)` is f'(z) written in terms of z and a = f(z) (sigmoid:
    a (1 − a)), so that the same formula serves numpy and SymPy.  Softmax is not element-wise:
    its `prime` is None and `backprop` applies the Jacobian ∂a_k/∂z_j = a_k (δ_kj − a_j) instead.
    """

    name: str
    formula: str  # textbook form of f
    prime_formula: str  # textbook form of f'
    fn: Callable[[np.ndarray], np.ndarray]
    prime: Callable[[Any, Any, Any], Any] | None
    symbolic: Callable[[list], list]  # z symbols of one layer -> expressions for a
    aliases: tuple[str, ...] = ()
    kink: float | None = None  # where f′ jumps (relu: 0); f′ there is the left derivative

    @property
    def elementwise(self) -> bool:
        return self.prime is not None

    def da_dz(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        """∂a/∂z: (n, K) for element-wise activations, the Jacobian (n, K, K) for softmax."""
        if self.prime is not None:
            return self.prime(z, a, NUMPY_OPS)
        # softmax: J[s, k, j] = a_k (δ_kj − a_j)
        return a[:, :, None] * (np.eye(a.shape[1], dtype=a.dtype)[None] - a[:, None, :])

    def backprop(self, dE_da: np.ndarray, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        """δ = ∂E/∂z from ∂E/∂a, through this activation's (diagonal or full) Jacobian."""
        if self.prime is not None:
            return dE_da * self.prime(z, a, NUMPY_OPS)
        # softmax: δ_j = Σ_k ∂E/∂a_k · a_k (δ_kj − a_j) = a_j (∂E/∂a_j − Σ_k ∂E/∂a_k a_k)
        return a * (dE_da - np.sum(dE_da * a, axis=1, keepdims=True))


def _sigmoid(z, out=None):
    # 1 / (1 + e^−z), computed in one new array (or `out`); for very negative z, e^−z overflows
    # to inf and the result is exactly 0, the right limit (the training loop silences that warning).
    e = np.negative(z, out=out)
    np.exp(e, out=e)
    e += 1
    return np.reciprocal(e, out=e)


def _softmax(z, out=None):
    e = np.exp(z - z.max(axis=1, keepdims=True))  # shifting by the max leaves softmax unchanged
    return np.divide(e, e.sum(axis=1, keepdims=True), out=out)


def _identity(z, out=None):
    # a = z itself; into `out`, a copy
    if out is None:
        return z
    np.copyto(out, z)
    return out


def _sym_sigmoid(zs):
    import sympy as sp

    return [1 / (1 + sp.exp(-z)) for z in zs]


def _sym_tanh(zs):
    import sympy as sp

    return [sp.tanh(z) for z in zs]


def _sym_relu(zs):
    import sympy as sp

    # z where z > 0, else 0: the derivative SymPy takes is then 0 at z = 0 (see above)
    return [sp.Piecewise((z, z > 0), (0, True)) for z in zs]


def _sym_identity(zs):
    return list(zs)


def _sym_softmax(zs):
    import sympy as sp

    total = sum(sp.exp(z) for z in zs)
    return [sp.exp(z) / total for z in zs]


SIGMOID = Activation(
    "sigmoid",
    "σ(z) = 1 / (1 + e^(−z))",
    "σ′(z) = σ(z)(1 − σ(z))",
    _sigmoid,
    lambda z, a, ops: a * (1 - a),
    _sym_sigmoid,
    aliases=("logistic", "logsig"),
)
TANH = Activation(
    "tanh",
    "tanh(z) = (e^z − e^(−z)) / (e^z + e^(−z))",
    "tanh′(z) = 1 − tanh²(z)",
    lambda z, out=None: np.tanh(z, out=out),
    lambda z, a, ops: 1 - a * a,
    _sym_tanh,
)
RELU = Activation(
    "relu",
    "relu(z) = max(0, z)",
    "relu′(z) = 1 if z > 0 else 0",
    lambda z, out=None: np.maximum(z, 0, out=out),
    lambda z, a, ops: ops.step(z),
    _sym_relu,
    kink=0.0,
)
IDENTITY = Activation(
    "identity",
    "f(z) = z",
    "f′(z) = 1",
    _identity,
    lambda z, a, ops: 1 + 0 * z,  # written with z so numpy returns an array of ones
    _sym_identity,
    aliases=("linear", "purelin"),
)
SOFTMAX = Activation(
    "softmax",
    "softmax(z)_k = e^(z_k) / Σ_j e^(z_j)",
    "∂a_k/∂z_j = a_k (δ_kj − a_j)",
    _softmax,
    None,
    _sym_softmax,
)

ACTIVATIONS: dict[str, Activation] = {}
for _act in (SIGMOID, TANH, RELU, IDENTITY, SOFTMAX):
    for _name in (_act.name, *_act.aliases):
        ACTIVATIONS[_name] = _act


# --------------------------------------------------------------------------------------------
# Losses
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Loss:
    """A per-sample loss E = Σ_k E_k(a_k, t_k), written as its per-output terms.

    `terms(a, t, ops)` gives E_k for every output (n, K); a sample's loss is their sum and a
    batch's loss is the mean over its samples.  `dE_da(a, t, ops)` is ∂E/∂a_k for one sample
    (`ops` as for `terms`; the engine's `ops.div` keeps a zero term zero where its denominator
    underflowed).
    `fused` maps an output activation's name to the simplified output delta δ = ∂E/∂z that a
    textbook derives for that pair (softmax + cross-entropy: δ = a − t for targets summing to 1);
    the engine uses it because it stays finite where the chain rule would divide by a ≈ 0.
    `from_z` maps an output activation's name to the same terms E_k written in the output
    layer's net input z (`from_z[name](z, t, ops)`): after a sigmoid, log σ(z) = −softplus(−z)
    and log(1 − σ(z)) = −softplus(z); after a softmax, log a_k = z_k − log Σ_j e^(z_j).  Those
    keep every digit where a has rounded towards 0 or 1 (at z = 20, 1 − σ(z) has lost half its
    digits; from z ≈ 37 it is 0), so the engine, verify's SymPy form and its finite differences
    all evaluate the loss that way (`at`).
    """

    name: str
    formula: str
    dE_da_formula: str
    terms: Callable[[Any, Any, Any], Any]
    dE_da: Callable[..., Any]
    fused: dict[str, Callable[[Any, Any], Any]] = field(default_factory=dict)
    fused_formula: dict[str, str] = field(default_factory=dict)
    from_z: dict[str, Callable[[Any, Any, Any], Any]] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()

    def __call__(self, a: np.ndarray, t: np.ndarray) -> np.ndarray:
        """E_k for each sample and output from a, shape (n, K)."""
        return self.terms(a, t, NUMPY_OPS)

    def at(self, output: Activation, z, a, t, ops=NUMPY_OPS):
        """E_k (n, K) of an output layer with this activation, net inputs z and outputs a: from
        z where the loss has a form in z for that activation (`from_z`), else from a.  `ops`
        as for `terms` (SYMPY_OPS on (1, K) arrays of expressions)."""
        in_z = self.from_z.get(output.name)
        return in_z(z, t, ops) if in_z is not None else self.terms(a, t, ops)


HALF_SSE = Loss(
    "half-sse",
    "E = Σ_k ½ (t_k − a_k)²",
    "∂E/∂a_k = a_k − t_k",
    lambda a, t, ops: (t - a) ** 2 / 2,
    lambda a, t, ops=NUMPY_OPS: a - t,
    aliases=("half_sse", "quadratic"),
)
SSE = Loss(
    "sse",
    "E = Σ_k (t_k − a_k)²",
    "∂E/∂a_k = 2 (a_k − t_k)",
    lambda a, t, ops: (t - a) ** 2,
    lambda a, t, ops=NUMPY_OPS: 2 * (a - t),
)


def _mse_terms(a, t, ops):
    return (t - a) ** 2 / _width(a)


def _width(a):
    # K, the number of outputs: numpy arrays are (n, K); SymPy term lists are passed as (1, K).
    return a.shape[-1]


MSE = Loss(
    "mse",
    "E = (1/K) Σ_k (t_k − a_k)²",
    "∂E/∂a_k = (2/K) (a_k − t_k)",
    _mse_terms,
    lambda a, t, ops=NUMPY_OPS: 2 * (a - t) / _width(a),
)
CROSS_ENTROPY = Loss(
    "cross-entropy",
    "E = −Σ_k t_k log a_k",
    "∂E/∂a_k = −t_k / a_k",
    lambda a, t, ops: -t * ops.log(a),
    lambda a, t, ops=NUMPY_OPS: ops.div(-t, a),
    # ∂E/∂z_k = a_k Σ_j t_j − t_k, which is a − t for targets that sum to 1 (one-hot or a
    # distribution); the spec loader allows a sum off 1 only by float rounding (SUM_ROUNDING).
    fused={"softmax": lambda a, t: a - t},
    fused_formula={"softmax": "δ_k = a_k − t_k"},
    from_z={"softmax": lambda z, t, ops: t * (ops.logsumexp(z) - z)},  # −t_k log softmax(z)_k
    aliases=("cross_entropy", "categorical-cross-entropy"),
)
BINARY_CROSS_ENTROPY = Loss(
    "binary-cross-entropy",
    "E = −Σ_k [t_k log a_k + (1 − t_k) log(1 − a_k)]",
    "∂E/∂a_k = −t_k / a_k + (1 − t_k) / (1 − a_k)",
    lambda a, t, ops: -(t * ops.log(a) + (1 - t) * ops.log(1 - a)),
    lambda a, t, ops=NUMPY_OPS: ops.div(-t, a) + ops.div(1 - t, 1 - a),
    fused={"sigmoid": lambda a, t: a - t},
    fused_formula={"sigmoid": "δ_k = a_k − t_k"},
    from_z={"sigmoid": lambda z, t, ops: t * ops.softplus(-z) + (1 - t) * ops.softplus(z)},
    aliases=("binary_cross_entropy", "bce"),
)

LOSSES: dict[str, Loss] = {}
for _loss in (HALF_SSE, SSE, MSE, CROSS_ENTROPY, BINARY_CROSS_ENTROPY):
    for _name in (_loss.name, *_loss.aliases):
        LOSSES[_name] = _loss


def resolve_loss(name: str, output: Activation) -> Loss:
    """The loss object for `name` given the output activation.

    "cross-entropy" means the categorical form after softmax and the binary form after sigmoid
    outputs (the two forms a textbook pairs with those units).  Raises KeyError or ValueError.
    """
    loss = LOSSES[name]
    if name == "categorical-cross-entropy" and output.name != "softmax":
        raise ValueError(f"{name} needs a softmax output, not {output.name}; after a sigmoid "
                         "output use binary-cross-entropy")
    if loss is CROSS_ENTROPY and output.name == "sigmoid":
        return BINARY_CROSS_ENTROPY
    if loss in (CROSS_ENTROPY, BINARY_CROSS_ENTROPY) and output.name not in loss.fused:
        raise ValueError(
            f"{name} needs softmax or sigmoid outputs (outputs must lie in (0, 1)), "
            f"not {output.name}"
        )
    return loss


def names_allowed(table: dict) -> str:
    """'a, b, c' listing the canonical names of a table, for error messages."""
    return ", ".join(dict.fromkeys(obj.name for obj in table.values()))
