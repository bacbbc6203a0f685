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
