"""The checker's notebook view (CheckReport._repr_html_): well-formed HTML that carries the same
verdict as the text — the first wrong number with the learner's and the right value, its formula,
the mistake named, the later wrong values — and escapes what it shows."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np

import tracenn

SPEC = """
[network]
sizes = [2, 3, 2]
activations = ["sigmoid", "sigmoid"]
loss = "half-sse"
[[layer]]
weights = [[0.1, -0.2], [0.4, 0.3], [-0.5, 0.2]]
biases = [0.0, 0.2, -0.1]
[[layer]]
weights = [[0.3, -0.1, 0.2], [-0.2, 0.4, 0.1]]
biases = [0.1, 0.0]
[training]
learning_rate = 0.5
steps = 1
mode = "batch"
[data]
inputs = [[0.5, -1.0], [1.0, 0.5], [-0.5, 0.5], [0.0, 1.0]]
targets = [[1, 0], [0, 1], [1, 1], [0, 0]]
"""


def learner_arrays(bias_bug: bool):
    """A learner's step in the course layout (samples in columns), written out here."""
    W1 = np.array([[0.1, -0.2], [0.4, 0.3], [-0.5, 0.2]])
    b1 = np.array([[0.0], [0.2], [-0.1]])
    W2 = np.array([[0.3, -0.1, 0.2], [-0.2, 0.4, 0.1]])
    b2 = np.array([[0.1], [0.0]])
    X = np.array([[0.5, -1.0], [1.0, 0.5], [-0.5, 0.5], [0.0, 1.0]]).T
    Y = np.array([[1, 0], [0, 1], [1, 1], [0, 0]], dtype=float).T
    m = X.shape[1]
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    Z1 = W1 @ X + b1
    A1 = sig(Z1)
    Z2 = W2 @ A1 + b2
    A2 = sig(Z2)
    dZ2 = (A2 - Y) * A2 * (1 - A2)
    dZ1 = (W2.T @ dZ2) * A1 * (1 - A1)
    db2 = np.sum(dZ2, axis=1, keepdims=True) / m
    db1 = np.sum(dZ1, axis=1, keepdims=True) / m
    if bias_bug:
        db2, db1 = np.sum(dZ2) / m + 0 * db2, np.sum(dZ1) / m + 0 * db1
    return dict(Z1=Z1, A1=A1, Z2=Z2, A2=A2, dZ2=dZ2, dZ1=dZ1, dW2=dZ2 @ A1.T / m,
                dW1=dZ1 @ X.T / m, db2=db2, db1=db1)


def parsed(report):
    html = report._repr_html_()
    root = ET.fromstring(html)  # well-formed: every tag closed, every text escaped
    return html, root, "".join(root.itertext())


def test_a_wrong_step_shows_the_number_the_formula_and_the_mistake():
    spec = tracenn.load(SPEC)
    report = tracenn.check_arrays(spec, 1, **learner_arrays(bias_bug=True))
    html, root, text = parsed(report)
    assert root.tag == "div" and "tracenn-check" in root.get("class")
    row = [td.text for td in root.iter("td")]
    assert row[0] == "1" and row[1] == report.first.name and row[2] == report.first.given
    # the row's numbers are the learner's own and the right one (computed here, not by tracenn)
    right = learner_arrays(bias_bug=False)
    yours = learner_arrays(bias_bug=True)
    kind, index = report.first.given.split("[")
    i = int(index.split(",")[0].rstrip("]"))
    assert abs(float(row[3]) - yours[kind][i, 0]) < 1e-8
    assert abs(float(row[4]) - right[kind][i, 0]) < 1e-8
    assert "Matches the mistake bias-summed-over-neurons" in text
    assert "np.sum(dZ) / m" in text  # its description
    assert report.comparison.first.formula in text
    also = report.comparison.also_wrong
    assert also and all(name in text for name, _, _ in also)
    assert "Read: samples in columns" in text and "'" not in html.split("Read:")[1].split("<")[0]


def test_a_right_step_says_all_match():
    spec = tracenn.load(SPEC)
    report = tracenn.check_arrays(spec, 1, **learner_arrays(bias_bug=False))
    _, root, text = parsed(report)
    assert report.ok and "All match: " in text and str(report).splitlines()[-1] in text
    assert root.find(".//table") is None


def test_jupyter_shows_the_html():
    spec = tracenn.load(SPEC)
    report = tracenn.check_arrays(spec, 1, **learner_arrays(bias_bug=True))
    try:
        from IPython.core.formatters import DisplayFormatter
    except ImportError:  # the display protocol itself: Jupyter calls _repr_html_
        assert callable(report._repr_html_)
        return
    data, _ = DisplayFormatter().format(report)
    assert data["text/html"] == report._repr_html_()


def test_the_later_independent_wrong_values_are_in_text_and_json():
    spec = tracenn.load(SPEC)
    report = tracenn.check_arrays(spec, 1, **learner_arrays(bias_bug=True))
    # db2[1] is wrong on its own: the bug gives every bias of a layer the same gradient
    also = report.to_json()["also_wrong"]
    names = [a["name"] for a in also]
    assert "dE/db2[2]" in names and report.first.name == "dE/db2[1]"
    right = learner_arrays(bias_bug=False)["db2"]
    got = next(a for a in also if a["name"] == "dE/db2[2]")
    assert abs(got["right"] - right[1, 0]) < 1e-12
    assert f"also wrong, not following from it: {len(also)} value(s): dE/db2[2]" in str(report)
