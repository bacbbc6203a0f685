"""Bad input ends in one line naming what was wrong, exit status 2, and no traceback."""

import pytest

from tracenn.spec import parse_spec, SpecError

GOOD = """
[network]
sizes = [1, 2, 1]
activations = ["sigmoid", "identity"]
loss = "sse"

[[layer]]
weights = [[-0.27], [-0.41]]
biases = [-0.48, -0.13]

[[layer]]
weights = [[0.09, -0.17]]
biases = [0.48]

[training]
learning_rate = 0.1
steps = 1
mode = "online"

[data]
inputs = [[1.0]]
targets = [[1.7071067811865475]]
"""


def one_error_line(result):
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


@pytest.mark.parametrize("args, words", [
    (["mazur", "--steps", "0"], ["--steps", "x>=1"]),
    (["mazur", "--steps", "-3"], ["--steps"]),
    (["mazur", "--lr", "0"], ["--lr", "> 0"]),
    (["mazur", "--lr", "-1"], ["--lr", "> 0"]),
    (["mazur", "--lr", "nan"], ["--lr", "finite"]),
    (["mazur", "--lr", "inf"], ["--lr", "finite"]),
    (["mazur", "--lr", "abc"], ["--lr", "not a number"]),
    (["mazur", "--format", "nope"], ["--format", "github"]),
    (["mazur", "--precision", "18"], ["--precision", "0<=x<=17"]),
    (["mazur", "--precision", "-1"], ["--precision"]),
    (["mazur", "--every", "0"], ["--every"]),
    (["mazur", "--bogus"], ["--bogus"]),
    (["xor", "--epochs", "0"], ["--epochs"]),
    (["xor", "--lr", "-2"], ["--lr"]),
    (["trace", "missing.toml"], ["missing.toml", "no such file"]),
    (["trace"], ["SPEC"]),
])
def test_bad_options(run, args, words):
    line = one_error_line(run(*args))
    for word in words:
        assert word in line


def test_unreadable_spec_is_a_directory(run, tmp_path):
    line = one_error_line(run("trace", tmp_path))
    assert str(tmp_path) in line and "cannot be read" in line


SPEC_ERRORS = [
    # (change to the good spec, key named, words in the message)
    (("learning_rate = 0.1", "learning_rat = 0.1"), "training.learning_rat", "did you mean 'learning_rate'"),
    (("[[layer]]\nweights = [[-0.27], [-0.41]]", "[[layer]]\nweights = [[-0.27, 1], [-0.41]]"),
     "layer[1].weights[0]", "expected 1 number"),
    (("weights = [[-0.27], [-0.41]]", "weights = [[-0.27]]"), "layer[1].weights", "expected 2 row"),
    (("biases = [0.48]", "biases = [nan]"), "layer[2].biases[0]", "finite"),
    (("biases = [0.48]", "biases = [inf]"), "layer[2].biases[0]", "finite"),
    (('activations = ["sigmoid", "identity"]', 'activations = ["softmax", "identity"]'),
     "network.activations[0]", "only in the last layer"),
    (('activations = ["sigmoid", "identity"]', 'activations = ["sigmoid", "swish"]'),
     "network.activations[1]", "allowed: sigmoid, tanh, relu, identity, softmax"),
    (('loss = "sse"', 'loss = "hinge"'), "network.loss", "allowed"),
    (('inputs = [[1.0]]', 'inputs = [[1.0, 2.0]]'), "data.inputs[0]", "expected 1 number"),
    (('targets = [[1.7071067811865475]]', 'targets = [[1.7], [2.0]]'), "data.targets",
     "expected 1 row"),
    (('targets = [[1.7071067811865475]]', 'targets = [[1.7, 1.0]]'), "data.targets[0]",
     "expected 1 number"),
    (('learning_rate = 0.1', 'learning_rate = -0.1'), "training.learning_rate", "> 0"),
    (('steps = 1', 'steps = 0'), "training.steps", "≥ 1"),
    (('mode = "online"', 'mode = "minibatch"'), "training.mode", '"online" or "batch"'),
    (('sizes = [1, 2, 1]', 'sizes = [1, 2, 1, 1]'), "network.activations", "expected 3"),
    (('[data]', '[dat]'), "dat", "unknown key"),
    (('sizes = [1, 2, 1]', 'sizes = [1, 2, 1'), "", "not valid TOML"),
]


@pytest.mark.parametrize("change, key, words", SPEC_ERRORS)
def test_bad_spec_names_file_key_and_expectation(run, tmp_path, change, key, words):
    old, new = change
    assert old in GOOD
    path = tmp_path / "bad.toml"
    path.write_text(GOOD.replace(old, new, 1))
    line = one_error_line(run("trace", path))
    assert str(path) in line
    assert f": {key}: " in line or not key
    assert words in line


def test_cross_entropy_targets_outside_0_1(run, tmp_path):
    path = tmp_path / "ce.toml"
    path.write_text(GOOD.replace('"identity"]', '"sigmoid"]').replace('"sse"', '"cross-entropy"'))
    line = one_error_line(run("trace", path))
    assert "data.targets[0][0]" in line and "[0, 1]" in line


def test_cross_entropy_needs_sigmoid_or_softmax_outputs():
    with pytest.raises(SpecError, match="network.loss: .*softmax or sigmoid"):
        parse_spec(GOOD.replace('"sse"', '"cross-entropy"'), "x.toml")


def test_good_spec_traces(run, tmp_path):
    path = tmp_path / "good.toml"
    path.write_text(GOOD)
    result = run("trace", path)
    assert result.exit_code == 0
    assert "W2[1,2] (n1[2]→n2[1])" in result.stdout


def test_divergence_names_step_and_layer(run, tmp_path):
    path = tmp_path / "good.toml"
    path.write_text(GOOD)
    line = one_error_line(run("trace", path, "--lr", "1e200", "--steps", "5"))
    assert "diverged at step" in line and "layer" in line and "learning rate" in line

