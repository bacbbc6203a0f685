"""A table built once — a stable key, a title, headers, rows of text — and written in any
tabulate format, so the terminal, Markdown, LaTeX and HTML views share the same rows.

The key names what a table holds ("forward", "error", "backward:2", "before-after", …) so that a
view that picks tables (the walkthrough, the HTML player) never depends on their titles.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from tabulate import tabulate

MARKDOWN_FORMATS = ("github", "pipe")
HTML_FORMATS = ("html", "unsafehtml")
LATEX_FORMATS = ("latex", "latex_raw", "latex_booktabs", "latex_longtable")
LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                 "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
                 "^": r"\textasciicircum{}"}
# The Unicode of the tables' formulas, as LaTeX that pdflatex compiles without any package
# (\ensuremath works in text and in math alike): ∂E/∂w, δ, η, m̂, g², w ← w − η·g, …
_MATH = {"∂": r"\partial", "δ": r"\delta", "η": r"\eta", "Σ": r"\Sigma", "σ": r"\sigma",
         "α": r"\alpha", "β": r"\beta", "γ": r"\gamma", "ε": r"\varepsilon", "λ": r"\lambda",
         "μ": r"\mu", "θ": r"\theta", "τ": r"\tau", "π": r"\pi", "ρ": r"\rho", "Δ": r"\Delta",
         "∇": r"\nabla", "·": r"\cdot", "×": r"\times", "⊙": r"\odot", "−": "-", "±": r"\pm",
         "→": r"\to", "←": r"\leftarrow", "≤": r"\leq", "≥": r"\geq", "≠": r"\neq",
         "≈": r"\approx", "∞": r"\infty", "√": r"\surd", "′": r"^\prime", "″": r"^{\prime\prime}",
         "‖": r"\|", "∈": r"\in", "…": r"\ldots"}
_SUPERSCRIPT = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻ˡᵗᵀⁿ", "0123456789+-ltTn"))
_SUBSCRIPT = dict(zip("₀₁₂₃₄₅₆₇₈₉", "0123456789"))
LATEX_UNICODE = {**{c: rf"\ensuremath{{{m}}}" for c, m in _MATH.items()},
                 **{c: rf"\textsuperscript{{{s}}}" for c, s in _SUPERSCRIPT.items()},
                 **{c: rf"\ensuremath{{_{s}}}" for c, s in _SUBSCRIPT.items()},
                 "—": "---", "–": "--", "’": "'", "“": "``", "”": "''", "\u00a0": "~"}
_HAT = re.compile("(.)\u0302")  # a combining circumflex: m̂


def latex_unicode(text: str) -> str:
    """`text` with each Unicode character of tracenn's formulas written as LaTeX, so that a
    table in a LaTeX format compiles with plain pdflatex."""
    text = _HAT.sub(lambda m: rf"\ensuremath{{\hat{{{m.group(1)}}}}}", text)
    return "".join(LATEX_UNICODE.get(c, c) for c in text)


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[str]]
    note: str = ""  # a line under the table
    key: str = ""  # what the table holds, independent of its title


def format_tables(tables: list[Table], fmt: str) -> str:
    """Tables in a tabulate format.  Titles and notes are written in the format's own markup:
    in Markdown (github, pipe) a bold paragraph set apart by a blank line, so the table after
    it is not swallowed by the paragraph; in HTML a <p>; in LaTeX a paragraph with its special
    characters escaped; elsewhere a plain line."""
    markdown = fmt in MARKDOWN_FORMATS
    parts = []
    for table in tables:
        body = tabulate(table.rows, headers=table.headers, tablefmt=fmt, disable_numparse=True,
                        colalign=column_align(table))
        if table.note:  # in Markdown a line right under a table would become one of its rows
            body += ("\n\n" if markdown else "\n") + markup(table.note, fmt, bold=False)
        if not table.title:
            parts.append(body)
        elif markdown:
            parts.append(f"**{table.title.strip('*')}**\n\n{body}")
        else:
            parts.append(f"{markup(table.title, fmt, bold=True)}\n{body}")
    text = "\n\n".join(parts)
    return latex_unicode(text) if fmt in LATEX_FORMATS else text


def markup(text: str, fmt: str, bold: bool = False) -> str:
    """A line of text (a title or a note) in the markup of a table format."""
    if fmt in HTML_FORMATS:
        inner = html.escape(text)
        return f"<p><strong>{inner}</strong></p>" if bold else f"<p>{inner}</p>"
    if fmt in LATEX_FORMATS:
        inner = latex_unicode("".join(LATEX_SPECIAL.get(c, c) for c in text))
        return f"\\paragraph{{{inner}}}" if bold else f"{inner}\n"
    return text


def _numeric(cell: str) -> bool:
    try:
        float(cell.replace("(frozen)", "").strip() or "0")
        return True
    except ValueError:
        return False


def column_align(table: Table) -> list[str]:
    """A column is right-aligned when its cells look like numbers (or are empty)."""
    return ["right" if all(_numeric(r[i]) for r in table.rows) else "left"
            for i in range(len(table.headers))]
