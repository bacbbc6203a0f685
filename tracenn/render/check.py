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
        lines += also_wrong_line(report.comparison)
    if report.mistakes:
        lines.append(f"Matches the mistake {report.mistakes[0]}"
                     + (f" (also: {', '.join(report.mistakes[1:])})" if report.mistakes[1:] else "")
                     + ".")
    else:
        lines.append("No catalogued mistake reproduces it.")
    if report.follows:
        lines.append(f"Later steps: {report.follows}.")
    return "\n".join(lines)


ALSO_NAMED = 5  # the later independent wrong values named in the text; the rest are counted


def also_wrong_line(comparison) -> list[str]:
    """The values wrong on their own after the first (compare's also_wrong), named."""
    names = [n for n, _, _ in comparison.also_wrong]
    if not names:
        return []
    more = f", and {len(names) - ALSO_NAMED} more" if len(names) > ALSO_NAMED else ""
    return [f"  also wrong, not following from it: {len(names)} value(s): "
            f"{', '.join(names[:ALSO_NAMED])}{more}"]


def check_html(report, precision: int = 9) -> str:
    """The notebook view of a check: the same verdict as check_text, the first wrong number as a
    table row, its formula, the mistake it matches and the later wrong values."""
    from html import escape

    parts = [f"<p>Read: {escape(report.read)}.</p>"]
    if report.unknown:
        parts.append(f"<p>Not arrays of this network (ignored): "
                     f"{escape(', '.join(report.unknown))}</p>")
    if report.ok:
        text = check_text(report, precision).splitlines()[-1]
        return _box(parts + [f"<p><strong>{escape(text)}</strong></p>"])
    w = report.first
    cells = [str(w.step), w.name, w.given, fmt(w.yours, precision), fmt(w.right, precision)]
    parts.append("<table><thead><tr>" + "".join(
        f"<th>{h}</th>" for h in ("step", "first wrong number", "your array", "yours", "right"))
        + "</tr></thead><tbody><tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells)
        + "</tr></tbody></table>")
    c = report.comparison
    if c is not None and c.first is not None:
        parts.append(f"<pre>{escape(c.first.formula)}\n{escape(c.first.substituted)}</pre>")
        if c.also_wrong:
            parts.append("<p>Also wrong, not following from it: " + escape(", ".join(
                n for n, _, _ in c.also_wrong)) + "</p>")
    if report.mistakes:
        from ..engine.mistakes import MISTAKES

        also = f" (also: {', '.join(report.mistakes[1:])})" if report.mistakes[1:] else ""
        parts.append(f"<p><strong>Matches the mistake {escape(report.mistakes[0])}</strong>"
                     f"{escape(also)}: {escape(MISTAKES[report.mistakes[0]])}.</p>")
    else:
        parts.append("<p><strong>No catalogued mistake reproduces it.</strong></p>")
    if report.follows:
        parts.append(f"<p>Later steps: {escape(report.follows)}.</p>")
    return _box(parts)


def _box(parts: list[str]) -> str:
    return "<div class=\"tracenn tracenn-check\">" + "".join(parts) + "</div>"
