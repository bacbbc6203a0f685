"""The library through its public API only (`import tracenn`): what a notebook user calls.
Every check compares with an independent value: Mazur's published numbers, a hand computation
written here, or finite differences."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

import tracenn

# Matt Mazur, "A Step by Step Backpropagation Example" (2015), values as printed in the blog.
BLOG = {"out_h1": 0.593269992, "out_o1": 0.75136507, "E_total": 0.298371109,
        "dE/dw5": 0.082167041, "w5+": 0.35891648, "w1+": 0.149780716}

TINY = (Path(__file__).parent / "specs" / "tiny.toml").read_text(encoding="utf-8")


def test_public_names_are_listed():
    for name in ("load", "trace", "iter_trace", "step", "verify", "compare", "walkthrough", "xor",
                 "TracennError", "SpecError", "TrainingDiverged", "Run", "Step", "MISTAKES"):
        assert name in tracenn.__all__ and hasattr(tracenn, name)
    assert "W[j][k]" in tracenn.__doc__


def test_trace_exposes_every_quantity_by_name_and_by_layer():
    run = tracenn.trace("mazur", steps=1)
    (step,) = run.steps
    for name, value in BLOG.items():
        assert step[name] == pytest.approx(value, abs=1e-8), name
    assert step["w5"] == 0.40  # before the update
    hidden, output = step.layers
    assert output.delta.shape == (1, 2)
    assert output.delta[0, 0] == step["delta_o1"]
    # the hidden delta is (δ_o1 w5 + δ_o2 w7) σ′(net_h1), computed here by hand
    d_o1, d_o2 = output.delta[0]
    out_h1 = step["out_h1"]
    assert step["delta_h1"] == pytest.approx((d_o1 * 0.40 + d_o2 * 0.50) * out_h1 * (1 - out_h1),
                                             rel=1e-12)
    with pytest.raises(KeyError, match="not a quantity"):
        step["delta_x9"]


def test_a_spec_is_never_changed_by_tracing():
    spec = tracenn.load("mazur")
    first = tracenn.trace(spec, steps=2).steps[-1]["E_total after"]
    again = tracenn.trace(spec, steps=2).steps[-1]["E_total after"]
    assert first == again
    assert spec.network.layers[1].W[0, 0] == 0.40


def test_toml_text_and_hand_computed_gradient_descent():
    # E = ½(w·x + b − t)²: ∂E/∂w = (w x + b − t) x, ∂E/∂b = w x + b − t; w ← w − η ∂E/∂w
    run = tracenn.trace(TINY)
    assert [s.step for s in run.steps] == [1, 2, 3]
    w, b = 2.0, 0.5
    for s in run.steps:
        err = w * 1.0 + b - 1.0
        assert s["dE/dW1[1,1]"] == pytest.approx(err) and s["dE/db1[1]"] == pytest.approx(err)
        w, b = w - 0.1 * err, b - 0.1 * err
        assert s["W1[1,1]+"] == pytest.approx(w) and s["b1[1]+"] == pytest.approx(b)


def test_iter_trace_streams_and_every_gives_summaries():
    entries = list(tracenn.iter_trace("mazur", 5, every=2))
    assert [(type(e).__name__, e.step) for e in entries] == [
        ("StepSummary", 1), ("Step", 2), ("Step", 4), ("StepSummary", 5)]
    assert entries[1].loss == pytest.approx(entries[0].loss_after)


def test_to_json_is_the_json_lines_trace():
    lines = tracenn.trace("mazur", steps=2).to_json()
    assert [o["kind"] for o in lines] == ["step", "step"]
    assert json.loads(json.dumps(lines[0]))["params"]["w5"] == pytest.approx(0.35891648, abs=1e-8)


def test_one_step_and_options():
    s = tracenn.step("mazur", 1, lr=0.25)
    assert s["w5+"] == pytest.approx(0.40 - 0.25 * 0.082167041, abs=1e-9)
    assert tracenn.step("mazur", update_biases=True)["b2+"] != 0.60
    assert tracenn.step("mazur", mistakes=["updated-weights"])["E_total after"] == \
        pytest.approx(0.291027924, abs=1e-9)


def test_verify_returns_rows_that_agree_with_a_difference_written_here():
    result = tracenn.verify("mazur")
    assert result.ok
    rows = {r.name: r for r in result.gradients}
    spec = tracenn.load("mazur")
    net = spec.network.copy()
    h = 1e-6
    W = net.layers[1].W
    W[0, 0] += h
    up = net.mean_loss(spec.data.X, spec.data.T)
    W[0, 0] -= 2 * h
    down = net.mean_loss(spec.data.X, spec.data.T)
    assert rows["w5"].sympy == pytest.approx((up - down) / (2 * h), abs=1e-8)
    assert result.to_json()["pass"] is True


def test_compare_a_dict_and_a_run():
    right = tracenn.trace("mazur")
    assert tracenn.compare("mazur", right).ok
    wrong = tracenn.compare("mazur", {"out_h1": 0.593269992, "delta_h1": 0.0098})
    assert not wrong.ok and wrong.first.name == "delta_h1"
    assert wrong.first.right == pytest.approx(0.008771355, abs=1e-9)
    mistaken = tracenn.trace("mazur", mistakes=["sigma-prime-of-a"])
    result = tracenn.compare("mazur", mistaken)
    assert [m.name for m in result.mistakes] == ["sigma-prime-of-a"]


def test_walkthrough_is_markdown_with_the_blog_numbers():
    text = tracenn.walkthrough("mazur")
    assert text.startswith("# Walkthrough: Mazur's")
    assert "0.082167041" in text and "$$" in text


def test_xor_verdicts():
    assert tracenn.xor().verdict == "solved"
    # Full-batch gradient descent from the same weights: after 2,000 epochs it has not solved
    # XOR and is still creeping; by 20,000 it has settled in a local minimum with two outputs
    # at ½ (E = 4 · ½(½)² / 4 · ½ = 0.0625 for the two, mean over the four samples).
    assert tracenn.xor(batch=True).verdict == "unfinished"
    stuck = tracenn.xor(batch=True, epochs=20000)
    assert stuck.verdict == "stuck"
    assert sum(r.correct for r in stuck.table) == 2
    assert stuck.curve[-1][1] == pytest.approx(0.0625, abs=5e-4)


def test_errors_share_one_base_and_never_are_click_errors():
    with pytest.raises(tracenn.SpecError) as info:
        tracenn.load("no-such-spec.toml")
    assert isinstance(info.value, tracenn.TracennError) and "no such file" in str(info.value)
    with pytest.raises(tracenn.TracennError, match="unknown mistake"):
        tracenn.trace("mazur", mistakes=["nope"])
    with pytest.raises(tracenn.TrainingDiverged, match="diverged at step"):
        tracenn.trace(TINY, lr=1e200)
    with pytest.raises(tracenn.ValuesError):
        tracenn.compare("mazur", {"w5": "abc"})
    with pytest.raises(tracenn.TracennError, match="unknown option"):
        tracenn.trace("mazur", colour="red")


def test_mnist_train_yields_summaries_as_objects():
    summaries = list(tracenn.mnist.train(epochs=1, limit=500, layers=[784, 16, 10]))
    assert [s.kind for s in summaries] == ["start", "epoch"]
    start, epoch = summaries
    assert abs(start.loss - math.log(10)) < 0.3  # an untrained 10-way softmax: about ln 10
    assert epoch.loss < start.loss
    assert [layer.name for layer in epoch.layers] == ["hidden 1", "output"]
    assert np.isfinite(epoch.layers[0].grad_norm)


def test_notebook_display_is_html_tables():
    run = tracenn.trace("mazur")
    html = run._repr_html_()
    assert "<table>" in html and "0.593269992" in html
    assert "<table>" in run.steps[0]._repr_html_()
    assert "All checks pass." in tracenn.verify("mazur")._repr_html_()
    assert "delta_h1" in tracenn.compare("mazur", {"delta_h1": 1.0})._repr_html_()


@pytest.mark.parametrize("call", [
    lambda: tracenn.step("mazur", 0), lambda: tracenn.trace("mazur", -2),
    lambda: tracenn.trace("mazur", 3, every=0), lambda: tracenn.verify("mazur", 0),
    lambda: tracenn.compare("mazur", {"w5": 0.3}, step=0),
    lambda: tracenn.step(tracenn.load("mazur"), seed=7),
])
def test_bad_arguments_are_one_line_errors_not_tracebacks(call):
    with pytest.raises(tracenn.OptionError):
        call()


def test_a_mistake_may_be_named_alone_and_values_as_numpy_numbers():
    assert tracenn.step("mazur", mistakes="updated-weights")["E_total after"] == \
        pytest.approx(0.291027924, abs=1e-9)
    assert tracenn.compare("mazur", {"out_h1": np.float32(0.5933)}).ok  # four decimals written
    with pytest.raises(tracenn.ValuesError, match="none of its names is a quantity"):
        tracenn.compare("mazur", {"h1_out": 0.5933})
