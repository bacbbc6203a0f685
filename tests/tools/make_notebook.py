"""Write walkthroughs/notebook.ipynb, Mazur's example through the Python API (run once, then
edit the notebook itself; tests/test_notebook.py executes it)."""

import json
import sys
from pathlib import Path

CELLS = [
    ("markdown", """# Mazur's example, number by number, in Python

[Matt Mazur's step-by-step backpropagation example](https://mattmazur.com/2015/03/17/a-step-by-step-backpropagation-example/)
through tracenn's Python API: every value of the first training step, checked three ways, and a
classic mistake found in a learner's numbers. Each cell asserts the blog's published figures, so
this notebook is also a test (`tests/test_notebook.py` runs it)."""),
    ("code", """import tracenn

spec = tracenn.load("mazur")  # a preset; also a path to a TOML spec, or TOML text
spec.network.sizes, spec.labels.inputs, spec.labels.neurons"""),
    ("markdown", """## One training step

`tracenn.trace` trains a copy of the network and returns the run; a step shows itself as its
picture (the network with the step's numbers) above the same tables the command line prints."""),
    ("code", """run = tracenn.trace(spec, steps=1)
step = run.steps[0]
step"""),
    ("markdown", """Every quantity has the name the blog gives it, and every layer its arrays
(samples in rows, `W[j][k]` connecting input k to neuron j)."""),
    ("code", """for name, blog in [("out_h1", 0.593269992), ("out_o1", 0.75136507), ("E_total", 0.298371109),
                   ("dE/dw5", 0.082167041), ("w5+", 0.35891648), ("w1+", 0.149780716)]:
    assert abs(step[name] - blog) < 1e-8, name
    print(f"{name:8} {step[name]:.9f}   blog: {blog}")
step.layers[1].delta"""),
    ("markdown", """## Three independent checks

SymPy differentiates the loss written as an expression, the engine's backprop gives its value,
and a central finite difference measures the slope."""),
    ("code", """result = tracenn.verify(spec)
assert result.ok
result"""),
    ("markdown", """## Where did my backprop go wrong?

A learner who computed the hidden deltas with the *already updated* w5..w8 gets the blog's
0.291027924 for the error after the update. `compare` finds the first wrong number and names the
mistake."""),
    ("code", """mine = tracenn.trace(spec, mistakes=["updated-weights"])  # numbers with the mistake in them
comparison = tracenn.compare(spec, mine)
assert comparison.first.name == "dE/dout_h1"  # Σ δ·w with the new w5..w8
assert [m.name for m in comparison.mistakes] == ["updated-weights"]
comparison"""),
    ("markdown", """## 10,000 steps, streamed

`iter_trace` hands out each shown step as it is computed and keeps none; with `every` only every
K-th step is recorded in full."""),
    ("code", """last = list(tracenn.iter_trace(spec, 10000, every=10000))[-1]
assert abs(last.loss - 0.0000351085) < 1e-10  # the blog's final figure: the error after 9,999 updates
last.step, last.loss, last.loss_after"""),
]


def cell(i: int, kind: str, text: str) -> dict:
    body = {"cell_type": kind, "id": f"cell-{i}", "metadata": {},
            "source": text.splitlines(keepends=True)}
    if kind == "code":
        body.update(execution_count=None, outputs=[])
    return body


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "walkthroughs/notebook.ipynb")
    notebook = {"cells": [cell(i, k, t) for i, (k, t) in enumerate(CELLS, 1)],
                "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                            "name": "python3"},
                             "language_info": {"name": "python"}},
                "nbformat": 4, "nbformat_minor": 5}
    out.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
