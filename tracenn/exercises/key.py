"""A student's answer key: the walkthrough of that student's variant (tracenn walkthrough),
explaining only the quantities the worksheet asks — each formula, the formula with the numbers
substituted, and the result at the worksheet's decimals — after a table of the answers as a
student should write them.  The student's variant (its spec) is kept beside the key, not in
the hand-out: with it, tracenn trace prints every answer."""

from __future__ import annotations

from dataclasses import replace

from ..render.markdown import to_markdown
from ..textbook import Walkthrough
from .tex import document, escape
from .variants import fixed
from .worksheet import questions


def spec_path(sid: str) -> str:
    """Where a student's variant is written, in the teacher's key/ (not in the hand-out: the
    spec gives every answer away to tracenn trace)."""
    return f"key/{sid}.toml"


class _Asked:
    """A walkthrough's quantities with only the asked ones to explain; every value (for the
    numbers substituted into a formula) still comes from all of them."""

    def __init__(self, quantities, asked: list[str]):
        self._all = quantities
        self.items = [q for q in quantities.items if q.name in set(asked)]

    def __getattr__(self, name):
        return getattr(self._all, name)


def answer_key(walk: Walkthrough, asked: list[str], decimals: int, title: str,
               spec_path: str, figure: str = "") -> str:
    """The key as Markdown.  The walkthrough's own title and introduction give way to the key's;
    everything from its first section on is the walkthrough's.  `figure` is the Markdown of the
    worksheet's picture with the answers in its boxes (or "")."""
    text = to_markdown(replace(walk, quantities=_Asked(walk.quantities, asked)), decimals)
    body = text[text.index("\n## ") + 1:]
    values = walk.step.values()
    rows = [f"| {q.number} | `{q.name}` | {fixed(values[q.name], decimals)} |"
            for q in questions(walk.step, asked)]
    header = [f"# Answer key: {title}", "",
              f"The {len(rows)} answers of the worksheet, rounded to {decimals} decimals, then "
              "each one's formula, the formula with the numbers substituted, and the result. "
              "Every number is computed by tracenn's engine at full precision and only then "
              f"rounded; `tracenn trace {spec_path}` prints them all.", "",
              "## Answers", "", *([figure, ""] if figure else []),
              "| # | quantity | answer |", "|---:|---|---:|", *rows, ""]
    return "\n".join(header) + "\n" + body


def key_latex(title: str, step, asked: list[str], decimals: int, picture: str = "") -> str:
    """The key as a LaTeX document: the worksheet's picture with the answers in its boxes (the
    TikZ `picture`, or none) and the table of every answer, numbered as the questions are."""
    values = step.values()
    rows = [rf"{q.number} & \texttt{{{escape(q.name)}}} & {fixed(values[q.name], decimals)} \\"
            for q in questions(step, asked)]
    body = [rf"\section*{{Answer key: {escape(title)}}}",
            f"The {len(rows)} answers of the worksheet, rounded to {decimals} decimals"
            + ("; in the picture each box holds the answer of the question of its number."
               if picture else "."), ""]
    if picture:
        body += [r"\begin{center}", picture, r"\end{center}"]
    body += [r"\begin{center}", r"\begin{tabular}{rlr}",
             r"\toprule \# & quantity & answer \\ \midrule", *rows, r"\bottomrule",
             r"\end{tabular}", r"\end{center}"]
    return document(body, tikz=bool(picture))
