"""A student's worksheet, written twice from the same content: Markdown (worksheet.md) and a
standalone LaTeX document (worksheet.tex, for pdflatex), plus the answers.csv template.

The content: the network in words (layers, activation, loss, learning rate and the update
rule, each formula the text the engine's own function objects carry), the given values (inputs,
targets, every weight and bias with the connection it belongs to) and the numbered questions,
one per quantity asked, named exactly as answers.csv names them.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from ..engine.functions import ACTIVATIONS
from ..notation import sample_latex
from ..record.trace import Q, Step
from ..spec import Spec
from .asking import group_of
from .tex import document, escape, math

SECTIONS = {
    "forward": "The forward pass", "error": "The error",
    "output-deltas": "The backward pass: the output layer",
    "hidden-deltas": "The backward pass: the hidden layers",
    "input-gradients": "The gradient at the inputs", "gradients": "The gradients",
    "updates": "The updates", "error-after": "The error after the update",
}


@dataclass
class Question:
    number: int
    name: str  # as answers.csv names it
    section: str
    words: str  # what it is, in plain text
    math: str  # what it is, in LaTeX


def _what(step: Step, q: Q) -> tuple[str, str]:
    """A quantity in words, as text and as LaTeX."""
    lab = step.labels
    base, _, sample = q.name.partition("@")
    of_sample = f" (sample {sample})" if sample else ""
    if q.kind in ("net", "out", "delta", "dE_da"):
        neuron = lab.neurons[q.l - 1][q.j]
        text = {"net": f"the net input of {neuron}", "out": f"the output of {neuron}",
                "delta": f"δ of {neuron}, that is ∂E/∂net of {neuron}",
                "dE_da": f"∂E/∂out of {neuron}"}[q.kind]
    elif q.kind == "E":
        text = f"the error of output {lab.neurons[-1][q.j]}"
    elif q.kind == "E_total":
        text = "the total error"
    elif q.kind == "dE_dx":
        text = f"∂E/∂{lab.inputs[q.k]}, the gradient at input {lab.inputs[q.k]}"
    elif q.kind.startswith("grad_"):
        text = f"the gradient of the error by {base[4:]}"
    elif q.kind.startswith("new_"):
        text = f"{base[:-1]} after the update"
    else:
        return ("the total error after the update, on the same sample(s)",
                r"$E_{\mathrm{total}}$ after the update, on the same sample(s)")
    math = sample_latex(q.name)
    return text + of_sample, escape(text + of_sample) + f" (${math}$)"


def questions(step: Step, asked: list[str]) -> list[Question]:
    chosen = [q for q in step.quantities() if q.name in set(asked)]
    return [Question(i, q.name, group_of(step, q), *_what(step, q))
            for i, q in enumerate(chosen, start=1)]


def answers_template(asked: list[str], sid: str | None = None) -> str:
    """answers.csv: a header, the row that names its student (`student,student-03`, which grade
    checks), and one row per quantity asked, each with an empty value."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["name", "value"])
    if sid is not None:
        writer.writerow(["student", sid])
    writer.writerows([name, ""] for name in asked)
    return out.getvalue()


# --------------------------------------------------------------------------------------------
# What the network is, and what is given
# --------------------------------------------------------------------------------------------


def F(text: str) -> tuple[str, str]:
    """A formula in a sentence: plain text in Markdown, math in LaTeX."""
    return ("math", text)


def C(text: str) -> tuple[str, str]:
    """Text as typed into a file: code in Markdown and LaTeX."""
    return ("code", text)


def _rules(spec: Spec, step: Step) -> list[list]:
    """The network and its formulas, a sentence each (a list of text, F and C segments)."""
    lab, net = step.labels, spec.network
    layers = [f"inputs {', '.join(lab.inputs)}"]
    for l, layer in enumerate(step.layers, start=1):
        kind = "output layer" if l == len(step.layers) else f"hidden layer {l}"
        layers.append(f"{kind} {', '.join(lab.neurons[l - 1])} ({layer.activation})")
    out = [["Layers: " + " → ".join(layers) + "."],
           ["Each neuron adds its weighted inputs and its bias, ", F("net = Σ w·in + b"),
            ", and passes the sum through its activation, ", F("out = f(net)"), "."]]
    for name in dict.fromkeys(layer.activation for layer in step.layers):
        out.append([f"Activation {name}: ", F(ACTIVATIONS[name].formula), "."])
    batch = ", and for a batch is the mean over its samples" if len(step.samples) > 1 else ""
    out.append(["Loss: ", F(net.loss.formula), ", where ", F("a_k"), " is output k and ",
                F("t_k"), f" its target; {lab.total} adds the errors of the outputs{batch}."])
    out.append(["The delta of a neuron is ", F("δ = ∂E/∂net"), "; for a hidden neuron, ",
                F("∂E/∂out"), " adds ", F("δ·w"), " over the neurons it feeds, with the "
                "weights before the update."])
    if len(step.samples) > 1:
        out.append([f"The batch holds {len(step.samples)} samples: a name ending in @s belongs "
                    "to sample s; the gradients are the mean over the samples."])
    frozen = [name for l, layer in enumerate(step.layers, start=1) if not layer.bias_trainable
              for name in lab.biases[l - 1]]
    out.append(["Update: ", F("w⁺ = w − η·∂E/∂w"), " with ", F(f"η = {step.eta:g}"),
                f"; the biases {', '.join(frozen)} are not updated." if frozen else "."])
    return out


def _md(segments: list) -> str:
    return "".join(s if isinstance(s, str) else f"`{s[1]}`" if s[0] == "code" else s[1]
                   for s in segments)


def _tex(segments: list) -> str:
    return "".join(escape(s) if isinstance(s, str) else
                   rf"\texttt{{{escape(s[1])}}}" if s[0] == "code" else f"${math(s[1])}$"
                   for s in segments)


def _given(step: Step, decimals: int) -> tuple[list[list[str]], list[list[str]]]:
    """(the data rows: name, value) and (the parameter rows: name, connection, value)."""
    lab, n = step.labels, len(step.samples)
    data = []
    for s in range(n):
        data += [[lab.sample(x, s, n), f"{step.x[s, k]:.{decimals}f}"] for k, x in enumerate(lab.inputs)]
        data += [[lab.sample(lab.target(k), s, n) + f" (target of {o})", f"{step.t[s, k]:.{decimals}f}"]
                 for k, o in enumerate(lab.neurons[-1])]
    params = []
    before = step.params_before()
    for l, kind, j, k, name in lab.parameters():
        layer = step.layers[l - 1]
        if kind == "W":
            where = f"{lab.source(l, k)} → {lab.neurons[l - 1][j]}"
        elif layer.shared_bias:
            where = f"bias of {', '.join(lab.neurons[l - 1])} (shared)"
        else:
            where = f"bias of {lab.neurons[l - 1][j]}"
        params.append([name, where, f"{before[name]:.{decimals}f}"])
    return data, params


def made_up(decimals: int, answers: set[str]) -> str:
    """A number to show the form of an answer that is none of the `answers` (as written, at
    `decimals`): 0.1234, else 0.2345, … — a hand-out must not give an answer away, even by
    chance."""
    digits = "1234567890" * 3
    candidates = (f"0.{digits[start:start + decimals]}" for start in range(10))
    return next((c for c in candidates if c not in answers), f"0.{'9' * decimals}")


def intro(decimals: int, first: str, answers: set[str] = frozenset()) -> list:
    """What to do; the example row is the first question's name with a made-up value."""
    example = f"{first},{made_up(decimals, answers)}"
    return ["Compute one training step of this network by hand (a calculator is fine). Round "
            f"every answer to {decimals} decimals and write it into ", C("answers.csv"),
            " beside its name, in this form (the number made up): ", C(example), ". Work with "
            "the numbers you computed before, as you go. The row ", C("student"), " in ",
            C("answers.csv"), " names you: leave it as it is."]


# --------------------------------------------------------------------------------------------
# The two documents
# --------------------------------------------------------------------------------------------


def _answers(step: Step, asked: list[str], decimals: int) -> set[str]:
    values = step.values()
    return {f"{abs(values[name]):.{decimals}f}" for name in asked}


def markdown(title: str, spec: Spec, step: Step, asked: list[str], decimals: int,
             given_decimals: int, figure: str = "") -> str:
    data, params = _given(step, given_decimals)
    out = [f"# {title}", "", _md(intro(decimals, asked[0], _answers(step, asked, decimals))), "", "## The network", ""]
    out += [f"- {_md(line)}" for line in _rules(spec, step)] + [""]
    if figure:
        out += [figure, ""]
    out += ["## Given", "", "| name | value |", "|---|---:|"]
    out += [f"| {a} | {b} |" for a, b in data] + ["", "| parameter | connects | value |",
                                                    "|---|---|---:|"]
    out += [f"| {a} | {b} | {c} |" for a, b, c in params] + ["", "## Questions", ""]
    section = None
    for q in questions(step, asked):
        if q.section != section:
            out += [""] if section is not None else []
            section = q.section
            out += [f"### {SECTIONS[section]}", ""]
        out.append(f"{q.number}. `{q.name}`: {q.words} = ______")
    return "\n".join(out) + "\n"


def latex(title: str, spec: Spec, step: Step, asked: list[str], decimals: int,
          given_decimals: int, picture: str = "") -> str:
    data, params = _given(step, given_decimals)
    body = [rf"\section*{{{escape(title)}}}", _tex(intro(decimals, asked[0], _answers(step, asked, decimals))), "",
            r"\subsection*{The network}", r"\begin{itemize}\setlength{\itemsep}{0pt}"]
    body += [rf"  \item {_tex(line)}" for line in _rules(spec, step)] + [r"\end{itemize}"]
    if picture:
        body += [r"\begin{center}", picture, r"\end{center}"]
    given = [r"\subsection*{Given}", r"\begin{tabular}[t]{lr}",
             r"\toprule name & value \\ \midrule"]
    given += [rf"{escape(a)} & {b} \\" for a, b in data] + [r"\bottomrule", r"\end{tabular}\qquad"]
    given += [r"\begin{tabular}[t]{llr}", r"\toprule parameter & connects & value \\ \midrule"]
    given += [rf"\texttt{{{escape(a)}}} & {escape(b)} & {c} \\" for a, b, c in params]
    given += [r"\bottomrule", r"\end{tabular}", ""]
    body += _questions_tex(step, asked, bool(picture), given, max(len(data), len(params)))
    return document(body, tikz=bool(picture))


# the estimated height (cm) of a question's line, a section's heading, the least room to work
# under a section, a row of the Given tables, and a page's text (A4, 2 cm margins: 25.7 cm)
# less a margin of safety; a question page that holds more is overfull (test_exercises checks
# pdflatex's log for that)
CM_QUESTION, CM_HEADING, CM_WORK, CM_ROW, CM_PAGE = 0.62, 1.1, 2.5, 0.5, 24.0


def question_pages(sections: list[list[Question]], given_rows: int) -> list[list[list[Question]]]:
    """The questions, a section after another, on pages: each page a list of parts, each part
    with its least room to work.  A section that does not fit on the rest of a page begins the
    next; only one longer than a page is split.  The first page begins with the Given tables."""
    pages, used = [[]], CM_HEADING * 2 + CM_ROW * (given_rows + 4)

    def height(n: int) -> float:
        return CM_HEADING + CM_WORK + CM_QUESTION * n

    for qs in sections:
        while qs:
            fits = min(len(qs), int((CM_PAGE - used - height(0)) // CM_QUESTION))
            if fits < len(qs) and (height(len(qs)) <= CM_PAGE or fits < 3) and pages[-1]:
                pages.append([])  # a new page for the section (or for the rest of a long one)
                used = 0.0
                continue
            part, qs = qs[:max(fits, 1)], qs[max(fits, 1):]
            pages[-1].append(part)
            used += height(len(part))
    return pages


def _questions_tex(step: Step, asked: list[str], boxed: bool, given: list[str],
                   given_rows: int) -> list[str]:
    """The Given tables and the questions on pages of their own, each page filled: a part per
    section, its questions (each with a line for its answer) and under them room to work, the
    page's rest shared between its parts by their numbers of questions."""
    by_section: dict[str, list[Question]] = {}
    for q in questions(step, asked):
        by_section.setdefault(q.section, []).append(q)
    note = (" The boxes in the picture are numbered as these questions are." if boxed else "")
    intro_lines = [r"\subsection*{Questions}",
                   f"Write each answer on its line and into {_tex([C('answers.csv')])}; work in "
                   f"the room under each part.{escape(note)}"]
    body = []
    for n, page in enumerate(question_pages(list(by_section.values()), given_rows)):
        body += [r"\newpage", r"\noindent\begin{minipage}[t][\textheight][t]{\textwidth}"]
        body += given + intro_lines if n == 0 else []
        for part in page:
            more = " (continued)" if part[0] is not by_section[part[0].section][0] else ""
            body += [rf"\subsubsection*{{{SECTIONS[part[0].section]}{more}}}",
                     rf"\begin{{enumerate}}\setcounter{{enumi}}{{{part[0].number - 1}}}"
                     r"\setlength{\itemsep}{2pt}"]
            body += [rf"  \item \texttt{{{escape(q.name)}}}: {q.math} \hfill "
                     r"\rule{3.5cm}{0.4pt}" for q in part]
            body += [r"\end{enumerate}", r"\textcolor{black!25}{\rule{\textwidth}{0.4pt}}\\",
                     r"{\footnotesize\textcolor{black!45}{working}}\par",
                     rf"\vspace{{{CM_WORK - 0.5:.1f}cm plus {len(part)}fill}}"]
        body.append(r"\end{minipage}")
    return body
