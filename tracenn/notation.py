"""How numbers, names and formulas are written, once for every view: the number format of the
tables, display names as LaTeX, and the one rule that turns a SymPy expression into text.

SymPy is imported only inside the functions that take an expression, so the tables (which
import this module) start without it.
"""

from __future__ import annotations

import re

DEFAULT_PRECISION = 9  # decimals, as in Mazur's blog


def num(x: float, precision: int) -> str:
    """Fixed-point with `precision` decimals; scientific for tiny non-zero values that would
    otherwise print as zeros, and for values of a billion or more."""
    x = float(x) + 0.0  # turns −0.0 (e.g. −t/a with t = 0) into 0.0
    if (x != 0 and abs(x) < 10.0 ** -min(precision, 4) and precision > 0) or abs(x) >= 1e9:
        return f"{x:.{max(precision - 1, 0)}e}"
    text = f"{x:.{precision}f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.") else text  # no "-0"


# --------------------------------------------------------------------------------------------
# Display names as LaTeX
# --------------------------------------------------------------------------------------------

_INDEXED = re.compile(r"^(W|b|z|a|delta|n)(\d+)\[([\d,]+)\]$")
_NAMED = re.compile(r"^(net|out|delta|E)_(.+)$")


def latex_name(name: str) -> str:
    """LaTeX for a display name: W2[1,2] → W^{(2)}_{1,2}, out_h1 → out_{h1}, w5 → w_{5},
    dE/dw5 → ∂E/∂w_5 as a fraction, w5+ → w_{5}^{+}."""
    if name == "η":
        return r"\eta"
    if name.startswith("dE/d"):
        return rf"\frac{{\partial E}}{{\partial {latex_name(name[4:])}}}"
    if name.endswith("+"):
        return f"{latex_name(name[:-1])}^{{+}}"
    m = _INDEXED.match(name)
    if m:
        base = r"\delta" if m.group(1) == "delta" else m.group(1)
        return f"{base}^{{({m.group(2)})}}_{{{m.group(3)}}}"
    m = _NAMED.match(name)
    if m:
        base = {"delta": r"\delta", "E": "E"}.get(m.group(1), rf"\mathrm{{{m.group(1)}}}")
        sub = r"\mathrm{total}" if m.group(2) == "total" else m.group(2)
        return f"{base}_{{{sub}}}"
    m = re.match(r"^([A-Za-z]+)(\d+)$", name)
    if m:
        return f"{m.group(1)}_{{{m.group(2)}}}"
    return name


def sample_latex(name: str) -> str:
    """The LaTeX of a per-sample display name (out_h1@2 → out_{h1}^{[2]})."""
    base, _, s = name.partition("@")
    return latex_name(base) + (rf"^{{[{s}]}}" if s else "")


# --------------------------------------------------------------------------------------------
# SymPy expressions as text
# --------------------------------------------------------------------------------------------


def expr_text(expr) -> str:
    """A SymPy expression as the tables and `compare` print it: terms in the order written,
    · for products, ² for squares, − for minus, δ for delta, e^(…) for exp(…)."""
    import sympy as sp

    text = sp.sstr(expr, order="none")
    return (text.replace("**2", "²").replace("*", "·").replace("-", "−")
            .replace("delta_", "δ_").replace("delta", "δ").replace("exp(", "e^("))


def factor_text(expr) -> str:
    """`expr_text` in parentheses when it is a sum, as one factor of a product."""
    import sympy as sp

    text = expr_text(expr)
    return f"({text})" if isinstance(expr, sp.Add) else text
