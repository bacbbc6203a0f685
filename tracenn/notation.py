"""How numbers, names and formulas are written, once for every view: the number format of the
tables, display names as LaTeX, and the one rule that turns a SymPy expression into text.

SymPy is imported only inside the functions that take an expression, so the tables (which
import this module) start without it.
"""

from __future__ import annotations

import math
import re

DEFAULT_PRECISION = 9  # decimals, as in Mazur's blog
PICTURE_PRECISION = 4  # decimals on a picture and the step player's page


def layer_name(l: int, L: int) -> str:
    """The name of layer l+1 of L (counted from 0 here) in messages and tables: "hidden 1", …,
    "output"."""
    return "output" if l == L - 1 else f"hidden {l + 1}"


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, …, 11th, 12th, 13th, 21st, 22nd."""
    if n % 100 in (11, 12, 13):
        return f"{n}th"
    return f"{n}" + {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


def num(x: float, precision: int) -> str:
    """Fixed-point with `precision` decimals; scientific for tiny non-zero values that would
    otherwise print as zeros, and for values of a billion or more."""
    x = float(x) + 0.0  # turns −0.0 (e.g. −t/a with t = 0) into 0.0
    if math.isinf(x):  # only ∂E/∂a can be: where a rounded to 0 or 1 (engine/loop.py)
        return "∞" if x > 0 else "−∞"
    if (x != 0 and abs(x) < 10.0 ** -min(precision, 4) and precision > 0) or abs(x) >= 1e9:
        return f"{x:.{max(precision - 1, 0)}e}"
    text = f"{x:.{precision}f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.") else text  # no "-0"


def dE_da_text(x: float, precision: int) -> str:
    """∂E/∂a as a table shows it: a number, or ±∞ with why the step is still finite (after a
    sigmoid or softmax that rounded a to 1 or 0, the loss's fused δ = a − t is used)."""
    text = num(x, precision)
    return f"{text} (δ = a − t is finite)" if math.isinf(float(x)) else text


# --------------------------------------------------------------------------------------------
# Display names as LaTeX
# --------------------------------------------------------------------------------------------

_INDEXED = re.compile(r"^(W|b|z|a|delta|n)(\d+)\[([\d,]+)\]$")
_STATE = re.compile(r"^(m|v|mhat|vhat|velocity|g|lookahead)_(.+?)( before)?$")
_STATE_BASE = {"m": "m", "v": "v", "mhat": r"\hat{m}", "vhat": r"\hat{v}", "velocity": "v",
               "g": "g", "lookahead": r"\tilde{g}"}
_GREEK = {"η": r"\eta", "μ": r"\mu", "α": r"\alpha", "ε": r"\epsilon", "λ": r"\lambda",
          "β1": r"\beta_{1}", "β2": r"\beta_{2}"}
_NAMED = re.compile(r"^(net|out|delta|E)_(.+)$")


def _latex_parts(name: str) -> tuple[str, str, str]:
    """(base, subscript, superscript) of a plain display name: W2[1,2] → (W, "1,2", "(2)")."""
    m = _INDEXED.match(name)
    if m:
        base = r"\delta" if m.group(1) == "delta" else m.group(1)
        return base, m.group(3), f"({m.group(2)})"
    m = _NAMED.match(name)
    if m:
        base = {"delta": r"\delta", "E": "E"}.get(m.group(1), rf"\mathrm{{{m.group(1)}}}")
        return base, r"\mathrm{total}" if m.group(2) == "total" else m.group(2), ""
    m = re.match(r"^([A-Za-z]+)(\d+)$", name)
    if m:
        return m.group(1), m.group(2), ""
    return name, "", ""


def latex_name(name: str, sample: str = "") -> str:
    """LaTeX for a display name: W2[1,2] → W_{1,2}^{(2)}, out_h1 → out_{h1}, w5 → w_{5},
    dE/dw5 → ∂E/∂w_5 as a fraction, w5+ → w_{5}^{+}; `sample` (of a batch) joins the
    superscript: z2[1] of sample 3 → z_{1}^{(2)[3]}.  Every name has at most one subscript and
    one superscript, which MathJax and KaTeX both require (no "double exponent")."""
    if name in _GREEK:
        return _GREEK[name]
    m = _STATE.match(name)
    if m:  # an optimizer's state of a parameter: m_{w_{5}}, its value before: m_{w_{5}}^{(t-1)}
        return (f"{_STATE_BASE[m.group(1)]}_{{{latex_name(m.group(2))}}}"
                + (r"^{(t-1)}" if m.group(3) else ""))
    if name.startswith("dE/d"):
        return rf"\frac{{\partial E}}{{\partial {latex_name(name[4:], sample)}}}"
    plus = name.endswith("+")
    base, sub, sup = _latex_parts(name[:-1] if plus else name)
    sup += (f"[{sample}]" if sample else "") + ("+" if plus else "")
    return base + (f"_{{{sub}}}" if sub else "") + (f"^{{{sup}}}" if sup else "")


def sample_latex(name: str) -> str:
    """The LaTeX of a per-sample display name (out_h1@2 → out_{h1}^{[2]})."""
    base, _, s = name.partition("@")
    return latex_name(base, s)


def latex_number(text: str) -> str:
    """A number as LaTeX: 1e-08 → 1 \\times 10^{-8}; (−2.5e-06) keeps its parentheses."""
    inner = text.strip("()")
    if "e" not in inner:
        return text
    mantissa, exponent = inner.split("e")
    tex = rf"{mantissa} \times 10^{{{int(exponent)}}}"
    return f"({tex})" if text.startswith("(") else tex


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
