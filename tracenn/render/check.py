"""The text of a check of a learner's arrays (comparison/checking.py): the Read line, then the
first step and number that go wrong, the mistake it matches and what follows from it."""

from __future__ import annotations

from ..notation import num as fmt


def check_text(report, precision: int = 9) -> str:
    steps = report.steps
    span = f"step {steps[0]}" if len(steps) == 1 else f"steps {steps[0]}–{steps[-1]}" \
        if steps == list(range(steps[0], steps[-1] + 1)) else f"{len(steps)} steps"
    lines = [f"Read: {report.read}."]
    if report.unknown:
        lines.append(f"Not arrays of this network (ignored): {', '.join(report.unknown)}")
    if report.ok:
        lines.append(f"All match: {report.checked} numbers of {span}, each within "
                     f"{report.tolerance:g} relative to max(1, |right value|).")
        return "\n".join(lines)
    w = report.first
    lines.append(f"First wrong: step {w.step}, {w.name} ({w.given}): yours "
                 f"{fmt(w.yours, precision)}, right {fmt(w.right, precision)}.")
    if report.comparison is not None and report.comparison.first is not None:
        c = report.comparison.first
        lines += [f"  {c.formula}", f"  {c.substituted}"]
    if report.mistakes:
        lines.append(f"Matches the mistake {report.mistakes[0]}"
                     + (f" (also: {', '.join(report.mistakes[1:])})" if report.mistakes[1:] else "")
                     + ".")
    else:
        lines.append("No catalogued mistake reproduces it.")
    if report.follows:
        lines.append(f"Later steps: {report.follows}.")
    return "\n".join(lines)
