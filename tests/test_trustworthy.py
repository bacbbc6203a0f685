"""Verdicts that cannot be fooled by how a number is written: an exact zero printed `0.0` (as
repr, str and json write it) earns no hand-rounding slack, and a file of machine-written numbers
(17 digits) is judged to machine precision — so a wrong value beside them is always caught."""

from __future__ import annotations

import json

import pytest

import tracenn
from tracenn.comparison.reading import Answers, _judge_precision, parse_number
from tracenn.comparison.tolerance import Tolerance

# A 2-3-2 net whose third hidden ReLU is dead on this sample (z = −0.5 − 0.4 − 0.3 < 0): its
# bias gradient, its incoming weights' gradients and its δ are exact zeros.
DEAD_RELU = """
[network]
sizes = [2, 3, 2]
activations = ["relu", "sigmoid"]
loss = "half-sse"
[[layer]]
weights = [[0.3, -0.2], [0.25, 0.4], [-0.5, -0.4]]
biases = [0.1, -0.1, -0.3]
[[layer]]
weights = [[0.2, -0.3, 0.5], [0.4, 0.1, -0.6]]
biases = [0.05, -0.05]
[training]
learning_rate = 0.5
steps = 1
[data]
inputs = [[1.0, 1.0]]
targets = [[1.0, 0.0]]
"""


@pytest.fixture()
def spec(tmp_path):
    path = tmp_path / "dead.toml"
    path.write_text(DEAD_RELU, encoding="utf-8")
    return str(path)


def machine_values(spec) -> dict[str, float]:
    return dict(tracenn.trace(spec).steps[0].values())


def write(tmp_path, values, name="mine.json"):
    path = tmp_path / name
    path.write_text(json.dumps(values), encoding="utf-8")
    return str(path)


def test_the_dead_units_bias_gradient_is_an_exact_zero(spec):
    # hand computation: z = −0.5·1 − 0.4·1 − 0.3 = −1.2 < 0, so relu′ = 0 and ∂E/∂b = 0
    values = machine_values(spec)
    assert values["dE/db1[3]"] == 0.0


def test_a_wrong_value_beside_an_exact_zero_written_0_0_is_caught(spec, tmp_path):
    values = machine_values(spec)
    values["dE/db1[3]"] = 0.03
    text = json.dumps(values)
    assert '0.0,' in text or '0.0}' in text  # zeros are written 0.0, as json writes them
    result = tracenn.compare(spec, write(tmp_path, values))
    assert not result.ok and result.first.name == "dE/db1[3]"
    assert any("machine precision" in note for note in result.notes)


@pytest.mark.parametrize("written, right", [("0.0", 0.03), ("0", 0.03), ("0.5", 0.47),
                                            ("1.0", 1.04), ("-2.0", -2.04)])
def test_a_value_whose_precision_cannot_be_told_gets_no_slack(written, right):
    """As rounded by hand, "0.0" would stand for anything in ± 0.05 and pass against 0.03;
    written the way a program writes an exact value, it gets no slack."""
    value, _ = parse_number(written)
    answers = Answers(values={"x": value})
    _judge_precision(answers)
    assert not Tolerance().close(answers.values["x"], right)
    assert Tolerance().close(answers.values["x"], float(written))


@pytest.mark.parametrize("written, right", [("0.3", 0.27), ("0.68", 0.680267), ("2.5", 2.46)])
def test_values_rounded_by_hand_keep_their_slack_at_the_unit(written, right):
    value, _ = parse_number(written)
    answers = Answers(values={"x": value})
    _judge_precision(answers)
    assert Tolerance().close(answers.values["x"], right) == (written != "2.5")


def test_hand_rounded_values_keep_their_slack(spec, tmp_path):
    right = machine_values(spec)
    path = tmp_path / "hand.csv"
    names = [n for n in right if right[n] != 0][:6]
    path.write_text("".join(f"{n},{right[n]:.4f}\n" for n in names), encoding="utf-8")
    assert tracenn.compare(spec, str(path)).ok


def test_a_perturbation_sweep_over_the_machine_written_values(spec, tmp_path):
    """Every single-value change of a full-precision file is named as the first wrong number;
    the unchanged file matches."""
    values = machine_values(spec)
    assert tracenn.compare(spec, write(tmp_path, values)).ok
    changes = 0
    for name, value in values.items():
        for delta in ((1e-6 * abs(value) or 1e-6), (0.03 if value == 0 else 0.01 * abs(value))):
            changed = dict(values)
            changed[name] = value + delta
            result = tracenn.compare(spec, write(tmp_path, changed, "sweep.json"))
            assert not result.ok and result.first.name == name, (name, value, delta)
            changes += 1
    assert changes >= 100


def _own_trace(tmp_path, edit):
    """tracenn's own JSON Lines trace of Mazur's step 1, with `edit` applied to its first step."""
    from click.testing import CliRunner

    from tracenn.cli import cli as main

    lines = CliRunner().invoke(main, ["trace", "mazur", "--json"]).output.splitlines()
    first = json.loads(lines[0])
    edit(first)
    path = tmp_path / "own.jsonl"
    path.write_text("\n".join([json.dumps(first)] + lines[1:]) + "\n", encoding="utf-8")
    return str(path)


def test_the_json_lines_reader_takes_the_per_layer_arrays(tmp_path):
    """A wrong gradient in layers[].grad_W (W[j][k]: input k to neuron j, so [0][0] is w5 of
    the output layer) is caught where the file gives it only there."""
    def wrong_grad_w(step):
        step["layers"][1]["grad_W"][0][0] += 0.01
        del step["grads"]
    result = tracenn.compare("mazur", _own_trace(tmp_path, wrong_grad_w))
    assert not result.ok and result.first.name == "dE/dw5"
    # the blog's value of ∂E/∂w5 is 0.082167041; the file says 0.092167041
    assert abs(result.first.right - 0.082167041) < 1e-9

    def wrong_w_new(step):
        step["layers"][0]["W_new"][1][0] -= 0.001
        del step["params"]
    result = tracenn.compare("mazur", _own_trace(tmp_path, wrong_w_new))
    assert not result.ok and result.first.name == "w3+"


def test_two_values_for_one_number_in_a_trace_are_refused(tmp_path):
    from click.testing import CliRunner

    from tracenn.cli import cli as main

    path = _own_trace(tmp_path, lambda s: s["layers"][1]["grad_b"].__setitem__(0, 0.2))
    result = CliRunner().invoke(main, ["compare", "mazur", "--values", path])
    assert result.exit_code == 2
    assert "two values for one number" in result.output and "grad_b[0]" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    assert tracenn.compare("mazur", _own_trace(tmp_path, lambda s: None)).ok


def test_every_independent_wrong_value_is_listed(spec):
    """The first wrong value in full, then the later ones that are wrong even given the
    learner's own earlier numbers ("also wrong, not following from it"), in text, JSON and the
    notebook view; a value that follows from the first is not among them."""
    values = machine_values(spec)
    values["dE/dW2[1,1]"] += 0.01   # wrong on its own
    values["dE/db1[1]"] += 0.002    # wrong on its own, later in the walk
    values["dE/db1[3]"] = 0.03      # the dead unit's exact zero
    result = tracenn.compare(spec, values)
    assert result.first.name == "dE/dW2[1,1]"
    assert sorted(n for n, _, _ in result.also_wrong) == ["dE/db1[1]", "dE/db1[3]"]
    yours = {n: y for n, y, _ in result.also_wrong}
    assert yours["dE/db1[3]"] == 0.03
    assert {n: r for n, _, r in result.also_wrong}["dE/db1[3]"] == 0.0
    text = str(result)
    assert "also wrong, not following from it: 2 values" in text and "dE/db1[3]" in text
    assert [d["name"] for d in result.to_json()["also_wrong"]] == [n for n, _, _ in
                                                                   result.also_wrong]
    assert "also wrong, not following from it" in result._repr_html_()
    assert not tracenn.compare(spec, machine_values(spec)).also_wrong
