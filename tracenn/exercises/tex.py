"""Plain text as LaTeX for pdflatex, and the standalone document a worksheet is.

tracenn's texts carry Unicode (σ, Σ, ½, ², −, ∂, δ, η, →); the preamble maps each one that
occurs to its LaTeX with \\DeclareUnicodeCharacter, so the same sentence serves Markdown and
LaTeX.  Needs only the packages of Debian's texlive-latex-base, texlive-latex-recommended and
texlive-pictures (TikZ, for the network's picture); xcolor for the frames to work in.
"""

from __future__ import annotations

import re

# Unicode in tracenn's texts -> what LaTeX prints for it (math in \ensuremath)
UNICODE = {
    "σ": r"\ensuremath{\sigma}", "Σ": r"\ensuremath{\Sigma}", "δ": r"\ensuremath{\delta}",
    "η": r"\ensuremath{\eta}", "θ": r"\ensuremath{\theta}", "∂": r"\ensuremath{\partial}",
    "−": r"\ensuremath{-}", "·": r"\ensuremath{\cdot}", "×": r"\ensuremath{\times}",
    "½": r"\ensuremath{\tfrac{1}{2}}", "²": r"\ensuremath{^{2}}", "⁺": r"\ensuremath{^{+}}",
    "′": r"\ensuremath{'}", "→": r"\ensuremath{\rightarrow}", "≤": r"\ensuremath{\leq}",
    "√": r"\ensuremath{\surd}", "ε": r"\ensuremath{\varepsilon}", "λ": r"\ensuremath{\lambda}",
    "β": r"\ensuremath{\beta}", "∑": r"\ensuremath{\sum}", "…": r"\ldots{}",
    "∝": r"\ensuremath{\propto}",
}
_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "_": r"\_", "^": r"\^{}",
            "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "~": r"\~{}"}


def escape(text: str) -> str:
    """Plain text as LaTeX: special characters escaped; Unicode that neither pdflatex's utf8
    input nor UNICODE knows becomes '?' rather than an error."""
    out = []
    for c in text:
        if c in _SPECIAL:
            out.append(_SPECIAL[c])
        elif ord(c) < 0x180 or c in UNICODE or c in "–—‘’“”":
            out.append(c)
        else:
            out.append("?")
    return "".join(out)


def document(body: list[str], tikz: bool = False) -> str:
    """A complete article for pdflatex around `body` (lines of LaTeX)."""
    text = "\n".join(body)
    declared = [rf"\DeclareUnicodeCharacter{{{ord(c):04X}}}{{{latex}}}"
                for c, latex in UNICODE.items() if c in text]
    preamble = [r"\documentclass[11pt,a4paper]{article}", r"\usepackage[T1]{fontenc}",
                r"\usepackage[utf8]{inputenc}", r"\usepackage{lmodern}",
                r"\usepackage[margin=2cm]{geometry}", r"\usepackage{amsmath}",
                r"\usepackage{booktabs}", r"\usepackage{xcolor}"]
    if tikz:
        preamble.append(r"\usepackage{tikz}")
    preamble += declared + [r"\setlength{\parindent}{0pt}", r"\setlength{\parskip}{0.6em}",
                            r"\pagestyle{empty}"]
    return "\n".join(preamble + [r"\begin{document}", text, r"\end{document}"]) + "\n"


_FUNCTIONS = re.compile(r"\b(tanh|log|max)\b")
_WORDS = re.compile(r"\b(softmax|relu|net|out|in)\b")
_MATH = {"½": r"\tfrac{1}{2}", "σ": r"\sigma ", "Σ": r"\sum ", "−": "-", "²": "^{2}",
         "·": r"\cdot ", "δ": r"\delta ", "η": r"\eta ", "∂": r"\partial ", "⁺": "^{+}",
         "′": "'", "→": r"\to "}


def math(formula: str) -> str:
    """One of tracenn's formulas written as text (σ(z) = 1 / (1 + e^(−z)), E = Σ_k ½ (t_k −
    a_k)², w⁺ = w − η·∂E/∂w) as LaTeX math, without the $ signs."""
    s = re.sub(r"e\^\(((?:[^()]|\([^()]*\))*)\)", r"e^{\1}", formula)  # e^(−z), e^(z_k)
    s = re.sub(r"\^(\w)", r"^{\1}", s)  # e^z
    s = re.sub(r"_(\w+)", r"_{\1}", s)  # t_k, net_h1
    s = _FUNCTIONS.sub(r"\\\1", s)
    s = _WORDS.sub(r"\\mathrm{\1}", s)
    return "".join(_MATH.get(c, c) for c in s).replace("  ", " ").strip()
