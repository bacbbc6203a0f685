"""Tables in a LaTeX format compile with plain pdflatex: the Unicode of the formulas (∂, δ, η,
m̂, g², ←, −, …) is written as LaTeX commands, the titles, notes and verdicts are escaped.
Compiled when pdflatex exists (it does on the CI image); the ASCII check runs everywhere."""

import shutil
import subprocess

import pytest

from tracenn.render.tables import latex_unicode

PREAMBLE = "\\documentclass{article}\n\\usepackage{booktabs}\n\\usepackage{longtable}\n" \
           "\\begin{document}\n"
COMMANDS = [
    ["mazur", "--format", "latex"],  # the blog's note after step 1, with its "--mistake"
    ["mazur", "--format", "latex", "--check"],
    ["mazur", "--format", "latex", "--optimizer", "adam", "--steps", "2"],  # m̂, v̂, β1ᵗ, √, ←
    ["mazur", "--format", "latex_booktabs", "--optimizer", "rmsprop", "--weight-decay", "0.1"],
    ["mazur", "--format", "latex", "--mistake", "sigma-prime-of-a"],
    ["trace", "softmax", "--format", "latex", "--steps", "3", "--every", "2"],  # a summary line
    ["trace", "tests/specs/net-3-4-4-2.toml", "--format", "latex_longtable", "--steps", "1"],
    ["xor", "--format", "latex", "--epochs", "5"],
    ["verify", "mazur", "--format", "latex", "--dps", "30"],
    ["verify", "softmax", "--format", "latex", "--optimizer", "adam", "--step", "2"],
]


def latex_output(run, args) -> str:
    out = run(*args)
    assert out.exit_code == 0, out.output
    return out.stdout


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a))
def test_latex_tables_are_ascii(run, args, monkeypatch):
    monkeypatch.chdir(__import__("pathlib").Path(__file__).resolve().parent.parent)
    text = latex_output(run, args)
    assert text.isascii(), sorted({c for c in text if not c.isascii()})
    assert "\\ensuremath{\\partial}E" in text or args[0] == "xor"


def test_the_unicode_of_the_formulas_becomes_latex():
    assert latex_unicode("∂E/∂w") == r"\ensuremath{\partial}E/\ensuremath{\partial}w"
    assert latex_unicode("m̂ = m/(1 − β1ᵗ)") == (
        r"\ensuremath{\hat{m}} = m/(1 \ensuremath{-} \ensuremath{\beta}1\textsuperscript{t})")
    assert latex_unicode("g²") == r"g\textsuperscript{2}"
    assert latex_unicode("w5 0.4") == "w5 0.4"  # ASCII stays as it is


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="needs pdflatex")
def test_latex_tables_compile_with_pdflatex(run, tmp_path, monkeypatch):
    monkeypatch.chdir(__import__("pathlib").Path(__file__).resolve().parent.parent)
    body = "\n\n".join(latex_output(run, args) for args in COMMANDS)
    (tmp_path / "tables.tex").write_text(PREAMBLE + body + "\n\\end{document}\n",
                                         encoding="utf-8")
    done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error",
                           "tables.tex"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    errors = [line for line in done.stdout.splitlines() if line.startswith("!")]
    assert done.returncode == 0 and not errors, errors or done.stdout[-2000:]
    assert (tmp_path / "tables.pdf").stat().st_size > 10_000


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="needs pdflatex")
def test_tracenn_mazur_format_latex_compiles_alone(run, tmp_path):
    """The issue's own command, by itself in a document."""
    text = latex_output(run, ["mazur", "--format", "latex"])
    (tmp_path / "mazur.tex").write_text(PREAMBLE + text + "\\end{document}\n", encoding="utf-8")
    done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "mazur.tex"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:]
