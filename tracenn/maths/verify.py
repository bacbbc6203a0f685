"""Each gradient of a traced step three independent ways: SymPy's derivative of the loss
expression (maths/partials.py), the engine's backprop value from the trace, and a central
finite difference of the engine's forward pass."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..engine.network import Network
from ..errors import UnsupportedError
from . import VERIFY_MAX_PARAMETERS, VERIFY_MAX_SIZE, check_verify_limit
from ..record.trace import Step
from .partials import partial_derivatives, template_sizes
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


def check_gradients(step: Step, loss, tolerance: float = DEFAULT_TOLERANCE, *,
                    progress=None) -> list[GradientRow]:
    """One row per parameter: SymPy's derivative, the engine's value, a central difference.
    `progress(done, total)` follows SymPy's differentiation."""
    return gradient_rows(step, loss, partial_derivatives(step, loss, progress=progress), tolerance)


def gradient_rows(step: Step, loss, sympy_values: dict, tolerance: float) -> list[GradientRow]:
    """The rows for SymPy's values (by parameter name; floats or mpmath numbers)."""
    sym = symbolic_network(step, loss.name)
    fd = _finite_differences(step.network(loss), step)
    grads = step.grads()
    rows = []
    for p in sym.params:
        chain, tex = sym.chain_rule(p.name)
        rows.append(GradientRow(p.name, chain, tex, float(sympy_values[p.name]), grads[p.name],
                                fd[p.name], tolerance))
    return rows


def _finite_differences(net: Network, step: Step) -> dict[str, float]:
    """A central difference for each parameter; one-sided (second order) where the central
    one would straddle a kink of an activation, on the side where every unit keeps the side
    of its kink it has at the step, so z = 0 counts as off: relu′(0) = 0, the convention of
    engine/functions.py, not the average of the two slopes a central difference gives."""
    out = {}
    x, t = step.x, step.t
    for l, kind, j, k, name in step.labels.parameters():
        layer = net.layers[l - 1]
        param, index = (layer.W, (j, k)) if kind == "W" else (layer.b, (j,))
        old = param[index]

        def at(offset: float):
            param[index] = old + offset
            return _loss_and_sides(net, x, t)

        (up, up_sides), (down, down_sides) = at(FD_STEP), at(-FD_STEP)
        value = (up - down) / (2 * FD_STEP)
        if up_sides != down_sides:  # a unit crossed its kink
            here, sides = at(0.0)
            if sides == down_sides:
                value = (3 * here - 4 * down + at(-2 * FD_STEP)[0]) / (2 * FD_STEP)
            elif sides == up_sides:
                value = (-3 * here + 4 * up - at(2 * FD_STEP)[0]) / (2 * FD_STEP)
        param[index] = old
        out[name] = value
    return out


def _loss_and_sides(net: Network, x, t) -> tuple[float, tuple]:
    """The mean loss, and for each layer with a kinked activation which units are above it."""
    with np.errstate(all="ignore"):
        zs, acts = net.forward(x)
        loss = float(net.output_losses(zs[-1], acts[-1], t).sum(axis=1).mean())
    sides = tuple((z > layer.activation.kink).tobytes() for z, layer in zip(zs, net.layers)
                  if layer.activation.kink is not None)
    return loss, sides


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

    def checks(self):
        """(name, passed) for every row that can fail, group by group; another group of rows
        adds its own line here."""
        yield from ((r.name, r.ok) for r in self.gradients)
        yield from ((i.name, i.holds) for i in self.identities)
        yield from ((u.name, u.ok) for u in self.updates)

    @property
    def ok(self) -> bool:
        return all(passed for _, passed in self.checks())

    @property
    def failed(self) -> list[str]:
        return [name for name, passed in self.checks() if not passed]

    def to_json(self) -> dict:
        from ..record.jsonl import envelope

        out = envelope("verify", step=self.step, **{"pass": self.ok},
                       gradients=[r.to_json() for r in self.gradients],
                       identities=[i.to_json() for i in self.identities],
                       updates=[u.to_json() for u in self.updates])
        if self.precision is not None:
            out["precision"] = [r.to_json() for r in self.precision]
        return out

    def __str__(self) -> str:
        """The tables and verdict `tracenn verify` prints."""
        from ..render.text import verification_text

        return verification_text(self)

    def _repr_html_(self) -> str:
        from ..render.notebook import verification_html

        return verification_html(self)


def check_size(step: Step, loss, max_size: int | None) -> None:
    """Refuse a network whose loss, written out as an expression in one parameter, has more
    than `max_size` operations (None: no limit): SymPy's time follows that size, which
    multiplies with every layer.  Raises UnsupportedError."""
    if max_size is None:
        return
    (l, _), size = max(template_sizes(step, loss.name).items(), key=lambda item: item[1])
    if size > max_size:
        raise UnsupportedError(
            f"this network's loss, written out in a parameter of layer {l}, has {size:,} "
            f"operations, more than verify's limit of {max_size:,} (SymPy's time follows the "
            f"count, which multiplies with every layer's width; about 15 s at the default "
            f"{VERIFY_MAX_SIZE:,}); raise the limit with --max-size {size} "
            f"(max_size={size} in Python)")


def verify_step(step: Step, loss, *, tolerance: float = DEFAULT_TOLERANCE,
                dps: int | None = None, max_parameters: int | None = VERIFY_MAX_PARAMETERS,
                max_size: int | None = VERIFY_MAX_SIZE, progress=None) -> Verification:
    """Every gradient of `step` three ways, the identities of the formulas this network uses,
    and with `dps` the step recomputed with that many significant digits (the derivatives
    evaluated once, in those digits).  A network beyond `max_parameters` or `max_size` (see
    check_size) is refused with UnsupportedError before any differentiation.
    `progress(stage, done, total)` follows the slow parts."""
    from .identities import check_identities
    from .partials import Numbers
    from .precision import high_precision
    from .updates import check_update

    check_verify_limit(step.labels, max_parameters)
    check_size(step, loss, max_size)

    def stage(name: str):
        """Announce a part of the work; its (done, total) callback for `progress`."""
        if progress is None:
            return None
        progress(name, 0, 0)
        return lambda done, total: progress(name, done, total)

    numbers = Numbers(step, dps)
    sympy_values = partial_derivatives(step, loss, dps, stage("differentiating the loss"),
                                       numbers)
    stage("comparing with backprop and finite differences")
    rows = gradient_rows(step, loss, sympy_values, tolerance)
    hp = None
    if dps:
        stage(f"recomputing the step in {dps} digits")
        hp = high_precision(step, loss, numbers, sympy_values)
    stage("checking the update")
    updates = check_update(step)
    identities = check_identities([lt.activation for lt in step.layers], loss.name,
                                  stage("checking the identities"))
    return Verification(step.step, rows, identities, hp, dps, updates)
