"""When a student's number counts, for grading a worksheet: the asked decimal place sets the
tolerance, and a classic mistake is recognised on the student's own rounded numbers.

The worksheet asks for every answer rounded to, say, 4 decimals, and tells the student to work
on with the numbers written down.  So an answer is right within half a unit of the 4th decimal
(± 0.00005) of the right value — not within a relative error, which above 1 lets a slip in the
4th decimal pass (1.3769 for 1.3756 is within 0.1%) — or within that plus the rounding carried
from the student's own earlier numbers (the walk of comparison/walk.py works that out).

A mistake is recognised the same way: its chain of numbers is worked out again from the
student's own rounded numbers.  The engine gives the mistake's numbers at full precision; for
each quantity the mistake's own change to the formula is what the engine's mistaken value
differs from the right formula evaluated on the engine's mistaken inputs.  Added to the right
formula evaluated on the student's numbers, it gives the number the student would have written
with the mistake, rounding and all; the student's number matches it within half a unit of its
last decimal plus the spread that rounding the inputs allows.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..comparison import RIGHT, Diagnosis, Tolerance
from ..comparison.walk import inputs_of, loss_after
from ..maths.quantities import StepQuantities

_SLACK = 1e-12  # binary floating point's hair at a decimal boundary (0.68505 − 0.6850)


@dataclass(frozen=True)
class AskedPlace(Tolerance):
    """Right within half a unit of the asked decimal place (`place`), or — when `relative` is
    given — within that relative error of the right value."""

    place: int = 4

    @property
    def half_unit(self) -> float:
        return 0.5 * 10.0 ** -self.place

    def close(self, yours: float, right: float) -> bool:
        diff = abs(float(yours) - float(right))
        if diff <= self.half_unit + _SLACK * max(1.0, abs(float(right))):
            return True
        return self.relative is not None and diff <= self.relative * abs(float(right))

    def rounding(self, yours: float) -> float:
        """Half a unit of the last decimal written, when more decimals than asked are written;
        of the asked place otherwise (0.5 written for 0.5000 stands for 0.5000)."""
        written = getattr(yours, "decimals", None)
        return 0.5 * 10.0 ** -max(self.place, written if written is not None else self.place)

    def describe(self) -> str:
        text = (f"within half a unit of decimal {self.place} of the right value "
                f"(± {self.half_unit:.{self.place + 1}f})")
        if self.relative is not None:
            text += f", or within a relative {self.relative:g} of it"
        return text


def asked_place(decimals: int, relative: float | None = None) -> AskedPlace:
    """The tolerance of a worksheet that asks for `decimals` decimals."""
    return AskedPlace(written=False, decimals=None, relative=relative or None, floor=0.0,
                      place=decimals)


def _formula(qs: StepQuantities, q, values: dict) -> float | None:
    """`q`'s right formula on `values`; for the loss after the update, the engine's forward
    pass with the updated parameters in `values`."""
    return qs.evaluate(q, values) if q.expr is not None else loss_after(qs, values)


def _spread(qs: StepQuantities, q, values: dict, spread: dict, at: float) -> float:
    """How far rounding the inputs in `values` (each by its `spread`) can move `q`'s formula
    from `at`: the changes one input at a time, added up."""
    out = 0.0
    for name in inputs_of(qs, q):
        if spread.get(name):
            moved = _formula(qs, q, {**values, name: values[name] + spread[name]})
            out += abs(moved - at) if moved is not None else 0.0
    return out


def _drift(qs: StepQuantities, q, values: dict, engine: dict, at: float) -> float:
    """How much `q`'s formula moves between the learner's inputs and the engine's (one input
    at a time, added up).  The mistake's change to the formula is taken at the engine's
    inputs; at the learner's it may differ by up to about twice this (added-update: the
    gradient enters as +η where the right formula has −η), which the match allows."""
    out = 0.0
    for name in inputs_of(qs, q):
        if name in engine and name in values and engine[name] != values[name]:
            moved = _formula(qs, q, {**values, name: engine[name]})
            out += abs(moved - at) if moved is not None else 0.0
    return out


def mistaken_chain(qs: StepQuantities, learner: dict, mistaken: dict[str, float],
                   tol: Tolerance) -> dict[str, bool]:
    """For each of the learner's numbers: whether it is what the mistake (its numbers at full
    precision: `mistaken`) gives from the learner's own earlier, rounded numbers."""
    engine = {**qs.given, **mistaken}
    # what the mistake adds that the right step lacks (a frozen bias updated: b1+) is the engine's
    implied = {**qs.given, **{k: v for k, v in mistaken.items() if k not in qs.by_name}}
    spread: dict[str, float] = {}
    out = {}
    for q in qs.items:
        if q.name not in mistaken:
            continue
        at_engine, own = _formula(qs, q, engine), _formula(qs, q, implied)
        if at_engine is None or own is None:  # no formula to carry the rounding: the number
            predicted, slack = mistaken[q.name], 0.0
        else:  # the mistake's own change to this formula, on the learner's numbers
            predicted = own + mistaken[q.name] - at_engine
            slack = _spread(qs, q, implied, spread, own) + 2 * _drift(qs, q, implied, engine, own)
        if q.name in learner:
            yours = learner[q.name]
            out[q.name] = (tol.close(yours, mistaken[q.name])
                           or abs(float(yours) - predicted) <= slack + tol.rounding(yours) + 1e-15)
            implied[q.name], spread[q.name] = float(yours), tol.rounding(yours)
        else:
            implied[q.name], spread[q.name] = predicted, slack
    return out


def diagnose_rounded(qs: StepQuantities, learner: dict, verdicts, mistaken: dict,
                     tol: Tolerance) -> list[Diagnosis]:
    """The mistakes of `mistaken` (name: the step with that mistake) whose chain, worked out
    from the learner's own numbers, reproduces every number the walk did not find right
    (`verdicts`); those that also change a number the learner has right list it as a conflict.
    Full matches first."""
    wrong = [v.name for v in verdicts if v.status != RIGHT]
    if not wrong:
        return []
    found = []
    for name, step in mistaken.items():
        fits = mistaken_chain(qs, learner, step.values(), tol)
        if all(fits.get(k, False) for k in wrong):
            found.append(Diagnosis(name, [k for k in learner if k not in wrong
                                          and not fits.get(k, True)]))
    return sorted(found, key=lambda d: len(d.conflicts))
