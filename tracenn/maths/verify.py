"""Each gradient of a traced step three independent ways: SymPy's derivative of the loss
expression, the engine's backprop value from the trace, and a central finite difference of the
engine's forward pass."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..engine.functions import ACTIVATIONS
from ..engine.network import Layer, Network
from ..record.trace import Step
from .symbolic import symbolic_network

DEFAULT_TOLERANCE = 1e-6
FD_STEP = 1e-6


@dataclass
class GradientRow:
    name: str
    chain: str  # textbook chain-rule form
    latex: str
    sympy: float
    backprop: float
    finite_difference: float
    tolerance: float

    @property
    def diff(self) -> float:
        return max(abs(self.sympy - self.backprop), abs(self.finite_difference - self.backprop))

    @property
    def ok(self) -> bool:
        return self.diff <= self.tolerance * max(1.0, abs(self.sympy))

    def to_json(self) -> dict:
        return {"name": self.name, "chain_rule": self.chain, "latex": self.latex,
                "sympy": self.sympy, "backprop": self.backprop,
                "finite_difference": self.finite_difference, "max_abs_diff": self.diff,
                "pass": self.ok}


def network_before(step: Step, loss) -> Network:
    """The network as it was before the step's update, rebuilt from the trace."""
    layers = [Layer(lt.W.copy(), lt.b.copy(), ACTIVATIONS[lt.activation], lt.bias_trainable)
              for lt in step.layers]
    return Network(layers, loss)


def check_gradients(step: Step, loss, tolerance: float = DEFAULT_TOLERANCE) -> list[GradientRow]:
    """One row per parameter: SymPy's derivative, the engine's value, a central difference."""
    sym = symbolic_network(step, loss.name)
    f = sym.gradient_function()
    before = step.params_before()
    theta = [before[p.name] for p in sym.params]
    n = step.x.shape[0]
    sym_vals = np.zeros(len(theta))
    for s in range(n):
        sym_vals += np.array(f(*step.x[s], *step.t[s], *theta), dtype=float)
    sym_vals /= n  # the batch loss is the mean of the samples' losses
    fd = _finite_differences(network_before(step, loss), step)
    grads = step.grads()
    rows = []
    for i, p in enumerate(sym.params):
        chain, tex = sym.chain_rule(p.name)
        rows.append(GradientRow(p.name, chain, tex, float(sym_vals[i]), grads[p.name],
                                fd[p.name], tolerance))
    return rows


def _finite_differences(net: Network, step: Step) -> dict[str, float]:
    out = {}
    x, t = step.x, step.t
    for layer, w_names, b_names in zip(net.layers, step.labels.weights, step.labels.biases):
        for param, names in ((layer.W, [n for row in w_names for n in row]), (layer.b, b_names)):
            flat = param.reshape(-1)
            for i, name in enumerate(names):
                old = flat[i]
                flat[i] = old + FD_STEP
                up = net.mean_loss(x, t)
                flat[i] = old - FD_STEP
                down = net.mean_loss(x, t)
                flat[i] = old
                out[name] = (up - down) / (2 * FD_STEP)
    return out


@dataclass
class Verification:
    """What `tracenn verify` found for one step: a row per parameter (SymPy, backprop, finite
    differences), the identities, and with --dps the high-precision recomputation."""

    step: int
    gradients: list[GradientRow]
    identities: list
    precision: list | None = None
    dps: int | None = None
    updates: list = field(default_factory=list)  # maths.updates.UpdateRow: the optimizer's update

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.gradients) and all(i.holds for i in self.identities) \
            and all(u.ok for u in self.updates)

    @property
    def failed(self) -> list[str]:
        return [r.name for r in self.gradients if not r.ok] + \
            [i.name for i in self.identities if not i.holds] + \
            [u.name for u in self.updates if not u.ok]

    def to_json(self) -> dict:
        from ..record.jsonl import envelope

        out = envelope("verify", step=self.step, **{"pass": self.ok},
                       gradients=[r.to_json() for r in self.gradients],
                       identities=[i.to_json() for i in self.identities],
                       updates=[u.to_json() for u in self.updates])
        if self.precision is not None:
            out["precision"] = [r.to_json() for r in self.precision]
        return out

    def _repr_html_(self) -> str:
        from ..render.notebook import verification_html

        return verification_html(self)


def verify_step(step: Step, loss, *, tolerance: float = DEFAULT_TOLERANCE,
                dps: int | None = None) -> Verification:
    """Every gradient of `step` three ways, the identities, and with `dps` the step recomputed
    with that many significant digits."""
    from .identities import check_identities
    from .precision import high_precision
    from .updates import check_update

    rows = check_gradients(step, loss, tolerance)
    hp = high_precision(step, loss, dps) if dps else None
    return Verification(step.step, rows, check_identities(), hp, dps, check_update(step))
