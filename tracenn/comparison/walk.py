"""A learner's numbers judged one by one in the order backprop computes them, each against the
right value and against what its formula gives with the learner's own earlier numbers.

That second value is what tells three cases apart:
- right: the number is the right one, or is what the formula gives from the learner's earlier
  numbers when those are all right — rounding carried through a hand calculation (Han, Kamber &
  Pei print O_6 = 0.474 and then Err_6 = 0.1311, computed from the rounded 0.474);
- follows: the number is wrong, but it is what the formula gives from the learner's own
  earlier numbers, one of which is wrong — an error carried over, not a new one;
- wrong: neither.
A quantity the learner did not give takes, for the numbers after it, the value its formula gives
from the learner's numbers before it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..maths.quantities import StepQuantities
from .tolerance import Tolerance

RIGHT, FOLLOWS, WRONG = "right", "follows", "wrong"


@dataclass
class Verdict:
    """One of the learner's numbers judged: `own` is its formula evaluated with the learner's
    earlier numbers (None when that cannot be computed)."""

    name: str
    yours: float
    right: float
    own: float | None
    status: str  # RIGHT, FOLLOWS or WRONG


def kinds(qs: StepQuantities) -> dict[str, str]:
    """Each quantity's kind (record.trace.Q.kind: net, out, delta, grad_W, new_W, …) by name."""
    return {q.name: q.kind for q in qs.step.quantities()}


def inputs_of(qs: StepQuantities, q) -> list[str]:
    """The names a quantity is computed from; for the loss after the update, every update."""
    if not hasattr(qs, "evaluate"):  # values without formulas (the PyTorch bridge's)
        return list(getattr(q, "inputs", ()))
    if q.expr is None:
        return [p.name for p in qs.items if p.stage == "update"]
    return q.inputs


def loss_after(qs: StepQuantities, values: dict[str, float]) -> float | None:
    """The loss after the update, computed again by the engine with the updated parameters in
    `values` (those not in it keep their right value), on the step's own samples."""
    step, labels = qs.step, qs.step.labels
    net = step.network(qs.loss, after=True)
    for l, kind, j, k, name in labels.parameters():
        value = values.get(labels.new(name))
        if value is not None:
            if kind == "W":
                net.layers[l - 1].W[j, k] = value
            else:
                net.layers[l - 1].b[j] = value
    loss = net.mean_loss(step.x, step.t)
    return loss if np.isfinite(loss) else None


def _half_unit(value: float) -> float:
    """Half a unit of the last decimal a number was written with (0 when not known)."""
    decimals = getattr(value, "decimals", None)
    return 0.0 if decimals is None else 0.5 * 10.0 ** -decimals


def _own(qs: StepQuantities, q, implied: dict, spread: dict) -> tuple[float | None, float]:
    """`q`'s formula from the learner's numbers, and how far rounding those numbers can move
    it: the change when each rounded input moves by its own spread (half a unit of its last
    decimal, or what it inherited), added up."""
    def value(values):
        return qs.evaluate(q, values) if q.expr is not None else loss_after(qs, values)

    if not hasattr(qs, "evaluate"):  # values without formulas: nothing to evaluate
        return None, 0.0
    own = value(implied)
    if own is None:
        return None, 0.0
    slack = 0.0
    for name in inputs_of(qs, q):
        if spread.get(name):
            moved = value({**implied, name: implied[name] + spread[name]})
            slack += abs(moved - own) if moved is not None else 0.0
    return own, slack


def walk(qs: StepQuantities, learner: dict[str, float], tol: Tolerance) -> list[Verdict]:
    """A verdict for each quantity the learner gave, in computation order.  A number is what
    its formula gives from the learner's earlier numbers when it is within the tolerance of
    that value, or within the spread that rounding those numbers (and this one) allows.  `qs`
    may also hold values without formulas (no `evaluate`): then a number is right or wrong."""
    implied = dict(qs.given)  # the learner's numbers, and what follows from them
    spread: dict[str, float] = {}  # how far rounding may have moved each of them
    off: set[str] = set()  # names whose value in `implied` rests on a wrong number
    out = []
    for q in qs.items:
        own, slack = _own(qs, q, implied, spread)
        carried = any(name in off for name in inputs_of(qs, q))
        if q.name not in learner:
            implied[q.name] = q.value if own is None else own
            spread[q.name] = slack
            if carried:  # computed from a wrong number of the learner's
                off.add(q.name)
            continue
        yours = learner[q.name]
        consistent = own is not None and (
            tol.close(yours, own) or abs(float(yours) - own) <= slack + tol.rounding(yours) + 1e-15)
        if tol.close(yours, q.value):
            status = RIGHT
        elif consistent:
            status = FOLLOWS if carried else RIGHT
        else:
            status = WRONG
        implied[q.name] = yours
        spread[q.name] = 0.0 if tol.fixed is not None else _half_unit(yours)
        if status != RIGHT:
            off.add(q.name)
        out.append(Verdict(q.name, yours, q.value, own, status))
    return out
