"""LaTeX views: verify's chain-rule formulas with their values as one align* block."""

from __future__ import annotations

from ..notation import num


def latex_block(rows, precision: int) -> str:
    """The chain-rule formulas with their values, as one align* environment."""
    lines = [rf"  {r.latex.replace(' = ', ' &= ', 1)} = {num(r.backprop, precision)} \\" for r in rows]
    if lines:
        lines[-1] = lines[-1][: -len(r" \\")]
    return "\n".join([r"\begin{align*}", *lines, r"\end{align*}"])
