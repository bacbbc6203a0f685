"""The (t − o) sign convention: numbers that are right, with the other sign.

tracenn, Nielsen and Mazur define δ = ∂E/∂net and update w − η ∂E/∂w.  Other books define the
error term with the opposite sign and add the update: Mitchell (Machine Learning, 1997, Table
4.2) writes δ_k = o_k(1 − o_k)(t_k − o_k) and w_ji ← w_ji + η δ_j x_ji; Han, Kamber & Pei
(Data Mining, 3rd ed., 2012, §9.2.3) write Err_j = O_j(1 − O_j)(T_j − O_j), Δw_ij = (l) Err_j O_i
and w_ij += Δw_ij.  Their error term is −δ, their Δw is −η ∂E/∂w, and their updated weights are
the same.  A learner who follows such a book is not wrong: when every delta given is the
negative of the right one, the deltas — and each group of numbers whose signs are all turned
(∂E/∂out, ∂E/∂x, gradients) — are read in that convention, and the report says so.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..maths.quantities import StepQuantities
from .tolerance import Tolerance
from .walk import RIGHT, kinds, walk

NAME = "t − o"
# the kinds of quantity (record.trace.Q.kind) whose sign the convention turns, by group
GROUPS = {"delta": "deltas", "dE_da": "∂E/∂out", "dE_dx": "∂E/∂x", "grad_W": "gradients",
          "grad_b": "gradients"}
_AS = {"deltas": "deltas are −δ", "∂E/∂out": "∂E/∂out are −∂E/∂out (t − o)",
       "∂E/∂x": "∂E/∂x are −∂E/∂x", "gradients": "gradients are −∂E/∂w"}


@dataclass
class Convention:
    """The learner's numbers follow the (t − o) convention: `negated` names the groups written
    with the other sign; `updates` says whether the learner's updated parameters agree with the
    right ones ("agree", "differ", or "not given")."""

    name: str
    negated: list[str]
    updates: str

    def describe(self) -> str:
        text = ("Your " + "; your ".join(_AS[g] for g in self.negated) + f": the ({self.name}) "
                "convention of Mitchell and of Han, Kamber & Pei, Err = o(1 − o)(t − o) = −δ; "
                "they are read in that convention")
        return text + {"agree": "; your updates agree.", "differ": "; your updates do not agree.",
                       "not given": "."}[self.updates]

    def to_json(self) -> dict:
        return {"name": self.name, "negated": self.negated, "updates": self.updates,
                "description": self.describe()}


def _negate(value: float) -> float:
    return value.negated() if hasattr(value, "negated") else -value


def _opposite(names: list[str], learner: dict, right: dict, tol: Tolerance) -> bool:
    """Every value of `names` the learner gave has the sign opposite to the right one (values
    that are zero within the tolerance aside), and there is at least one such value."""
    given = [n for n in names if n in learner and not tol.close(learner[n], right[n])]
    return bool(given) and all(float(learner[n]) * right[n] < 0 for n in given)


def read_convention(qs: StepQuantities, learner: dict[str, float], tol: Tolerance):
    """The learner's values read in their sign convention, their verdicts, and the convention
    when it is (t − o): every delta given is −δ (up to rounding carried from the learner's own
    numbers), which the plain reading would have called wrong."""
    direct = walk(qs, learner, tol)
    kind = kinds(qs)
    right = {q.name: q.value for q in qs.items}
    groups: dict[str, list[str]] = {}
    for name, k in kind.items():
        if k in GROUPS:
            groups.setdefault(GROUPS[k], []).append(name)
    deltas = set(groups.get("deltas", []))
    if all(v.status == RIGHT for v in direct if v.name in deltas) or \
            not _opposite(groups.get("deltas", []), learner, right, tol):
        return learner, direct, None
    negated = [g for g, names in groups.items() if _opposite(names, learner, right, tol)]
    flipped = dict(learner)
    for g in negated:
        flipped.update({n: _negate(learner[n]) for n in groups[g] if n in learner})
    verdicts = walk(qs, flipped, tol)
    if not all(v.status == RIGHT for v in verdicts if v.name in deltas):
        return learner, direct, None
    updates = [v for v in verdicts if kind[v.name].startswith("new_")]
    status = ("not given" if not updates else
              "agree" if all(v.status == RIGHT for v in updates) else "differ")
    return flipped, verdicts, Convention(NAME, negated, status)


# --------------------------------------------------------------------------------------------
# ∂E/∂x of the batch mean
# --------------------------------------------------------------------------------------------

BATCH_MEAN = ("Your ∂E/∂x is the gradient of the batch mean: 1/n of tracenn's per-sample value "
              "(n = {n}, as autograd computes ∂(mean E)/∂x); it is read as that.")


@dataclass
class BatchMean:
    """The learner's ∂E/∂x are ∂(mean E)/∂x, 1/n of tracenn's ∂E_s/∂x of each sample's own loss
    (autograd's x.grad after loss.mean().backward()); `names` are the values read so."""

    n: int
    names: list[str]

    def describe(self) -> str:
        return BATCH_MEAN.format(n=self.n)

    def to_json(self) -> dict:
        return {"scale": f"1/{self.n}", "n": self.n, "names": self.names,
                "description": self.describe()}


def _times(value: float, n: int) -> float:
    """n · value, its written decimals loosened by as many digits as n has (its slack ≥ n ×)."""
    decimals = getattr(value, "decimals", None)
    if decimals is None:
        return type(value)(float(value) * n) if hasattr(value, "negated") else float(value) * n
    return type(value)(float(value) * n, decimals - len(str(n)))


def read_batch_mean(qs: StepQuantities, values: dict, verdicts: list, tol: Tolerance):
    """The values and verdicts with ∂E/∂x read as the batch mean, and the BatchMean, when every
    ∂E/∂x given that is wrong is 1/n of the right one (n ≥ 2 samples in the step) and at least
    one is; otherwise all three unchanged (None).  A scale other than 1/n stays wrong."""
    n = len(qs.step.samples)
    kind = kinds(qs)
    given = [v for v in verdicts if kind[v.name] == "dE_dx"]
    wrong = [v for v in given if v.status != RIGHT]
    if n < 2 or not wrong or not all(tol.close(v.yours, v.right / n) for v in given):
        return values, verdicts, None
    names = [v.name for v in given]
    scaled = dict(values)
    scaled.update({name: _times(values[name], n) for name in names})
    verdicts = [replace(v, yours=float(scaled[v.name]), status=RIGHT) if v.name in names else v
                for v in verdicts]
    return scaled, verdicts, BatchMean(n, names)
