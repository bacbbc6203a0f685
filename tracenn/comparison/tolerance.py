"""When a learner's number counts as the right one.

Published worked examples print their numbers with few decimals (Han, Kamber & Pei: 0.332;
Mitchell: 0.1; Mazur's blog: 0.593269992), and a learner copies them as printed.  One global
tolerance cannot serve them all: tight, it stops at 0.68 against 0.680267, a value that is only
rounded; wide, it hides a real mistake among values given to five decimals.  So by default
each value is judged by the decimals it is written with: 0.68 means 0.68 ± 0.005, 0.099071
means ± 5e-7 — and never tighter than DEFAULT_TOLERANCE.  A grader asks instead for "equal when
rounded to the worksheet's decimals, or within a relative error": numbers carried through a
hand calculation drift in their last digit.  A fixed tolerance (compare's --tolerance)
replaces every other rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

# Tight enough to tell the blog's 0.291027924 from 0.291027774, loose enough for numbers a
# learner rounded to 8 or more decimals; float32 implementations want --tolerance 1e-5.
DEFAULT_TOLERANCE = 1e-8

# A boundary case such as 0.685 against 0.68 is a difference of 0.005 in decimal but a hair
# more in binary floating point; this much slack (relative to max(1, |right|)) absorbs it.
_SLACK = 1e-12


def written_decimals(text: str) -> int | None:
    """The decimals a number is written to: digits after the point, less the exponent
    (0.68 → 2, 6.8e-1 → 2, 5e-3 → 3); None for a whole number written without a point or an
    exponent (such a number reads as exact)."""
    text = text.strip().lower()
    mantissa, e, exponent = text.partition("e")
    if "." not in mantissa and not e:
        return None
    decimals = len(mantissa.partition(".")[2])
    return decimals - (int(exponent) if e else 0)


def _rounded(x: float, decimals: int) -> Decimal:
    # Decimal of the shortest repr: 0.125 rounds up as it is written, not as its binary value
    return Decimal(repr(float(x))).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Tolerance:
    """The rules under which `yours` matches `right`; any rule that holds is enough.

    fixed     |yours − right| ≤ fixed · max(1, |right|), and no other rule (a global --tolerance)
    written   ± half a unit in the last decimal of `yours` as written (its `decimals`)
    decimals  equal when both are rounded to this many decimals (a worksheet's precision)
    relative  |yours − right| ≤ relative · |right|
    floor     |yours − right| ≤ floor · max(1, |right|): numbers written with many decimals
    """

    fixed: float | None = None
    written: bool = True
    decimals: int | None = None
    relative: float | None = None
    floor: float = DEFAULT_TOLERANCE

    def close(self, yours: float, right: float) -> bool:
        diff, scale = abs(float(yours) - float(right)), max(1.0, abs(float(right)))
        if self.fixed is not None:
            return diff <= self.fixed * scale
        if diff <= self.floor * scale:
            return True
        written = getattr(yours, "decimals", None)
        if self.written and written is not None and diff <= 0.5 * 10.0 ** -written + _SLACK * scale:
            return True
        if self.decimals is not None and _rounded(yours, self.decimals) == _rounded(right, self.decimals):
            return True
        return self.relative is not None and diff <= self.relative * abs(float(right))

    def rounding(self, yours: float) -> float:
        """How far `yours` may lie from the number it stands for because it was rounded: half a
        unit of its last written decimal (of `decimals` when the written ones do not count);
        0 with a fixed tolerance, which says how exact every number is."""
        if self.fixed is not None:
            return 0.0
        written = getattr(yours, "decimals", None)
        if self.written and written is not None:
            return 0.5 * 10.0 ** -written
        return 0.0 if self.decimals is None else 0.5 * 10.0 ** -self.decimals

    def describe(self) -> str:
        """The rules in one line, as the reports state them."""
        if self.fixed is not None:
            return f"within {self.fixed:g} relative to max(1, |right value|)"
        rules = []
        if self.decimals is not None:
            rules.append(f"equal when rounded to {self.decimals} decimals")
        if self.relative is not None:
            rules.append(f"within a relative {self.relative:g} of the right value")
        if self.written:
            rules.append("within half a unit of the last decimal written (e.g. 0.68: ± 0.005)")
        if self.floor:
            rules.append(f"within {self.floor:g} relative to max(1, |right value|)")
        return ", or ".join(rules) if rules else "equal"


def close(a: float, b: float, tolerance: float) -> bool:
    """|a − b| ≤ tolerance · max(1, |b|): a fixed tolerance, for comparing two programs' numbers."""
    return Tolerance(fixed=tolerance).close(a, b)


def as_tolerance(tolerance) -> Tolerance:
    """A Tolerance from None (the default: decimals as written), a number (a fixed tolerance)
    or a Tolerance."""
    if tolerance is None:
        return Tolerance()
    if isinstance(tolerance, Tolerance):
        return tolerance
    return Tolerance(fixed=float(tolerance))
