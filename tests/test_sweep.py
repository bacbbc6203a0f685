"""The command sweep (issue 21): every command × every optimizer × online and batch × its text,
JSON and Markdown/LaTeX outputs, on a small two-sample spec, must exit 0 with no traceback —
and where a command checks something (verify, compare of tracenn's own JSON, trace --check),
its verdict must be "right", since the numbers are tracenn's own.  Before the sweep,
`trace --every 2` of a batch AdamW run with weight decay stopped with KeyError: 'decay'."""

import json

import pytest

SPEC = """
[network]
sizes = [2, 2, 2]
activations = ["{hidden}", "{output}"]
loss = "{loss}"
[[layer]]
weights = [[0.15, -0.2], [0.25, 0.3]]
biases = [0.35, -0.1]
[[layer]]
weights = [[0.4, 0.45], [-0.5, 0.55]]
biases = [0.6, 0.2]
[training]
learning_rate = 0.5
steps = 3
mode = "{mode}"
[data]
inputs = [[0.05, 0.1], [1.0, 0.0]]
targets = [[0.0, 1.0], [1.0, 0.0]]
"""

OPTIMIZERS = {
    "sgd": [],
    "sgd-decay": ["--optimizer", "sgd", "--weight-decay", "0.1"],
    "momentum": ["--optimizer", "momentum", "--momentum", "0.9"],
    "nesterov": ["--optimizer", "nesterov", "--momentum", "0.9", "--weight-decay", "0.01"],
    "rmsprop": ["--optimizer", "rmsprop"],
    "adam": ["--optimizer", "adam", "--lr", "0.01"],
    "adamw": ["--optimizer", "adamw", "--lr", "0.01", "--weight-decay", "0.1"],
}
NETS = {"sigmoid-mse": ("sigmoid", "sigmoid", "mse"),
        "tanh-softmax": ("tanh", "softmax", "cross-entropy"),
        "relu-bce": ("relu", "sigmoid", "binary-cross-entropy")}


def _commands(spec, tmp_path, values):
    return {
        "trace": ["trace", spec, "--every", "2"],
        "trace --json": ["trace", spec, "--every", "2", "--json"],
        "trace --format github": ["trace", spec, "--every", "2", "--format", "github"],
        "trace --check": ["trace", spec, "--check"],
        "verify": ["verify", spec, "--step", "2"],
        "verify --json": ["verify", spec, "--step", "2", "--json"],
        "verify --latex": ["verify", spec, "--latex"],
        "compare": ["compare", spec, "--values", values, "--step", "2"],
        "compare --json": ["compare", spec, "--values", values, "--step", "2", "--json"],
        "walkthrough": ["walkthrough", spec, "--step", "2"],
        "draw": ["draw", spec, "--step", "2", "--view", "update", "-o", tmp_path / "n.svg"],
        "html": ["html", spec, "-o", tmp_path / "n.html"],
    }


@pytest.mark.parametrize("mode", ["online", "batch"])
@pytest.mark.parametrize("net", sorted(NETS))
@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_every_command_runs(run, tmp_path, optimizer, net, mode):
    hidden, output, loss = NETS[net]
    spec = tmp_path / "net.toml"
    spec.write_text(SPEC.format(hidden=hidden, output=output, loss=loss, mode=mode))
    options = OPTIMIZERS[optimizer]
    values = tmp_path / "own.jsonl"
    own = run("trace", spec, "--json", "--every", "1", *options)
    assert own.exit_code == 0, own.output
    values.write_text(own.stdout)
    for name, args in _commands(spec, tmp_path, values).items():
        result = run(*args, *options)
        where = f"{name} {' '.join(options)} ({net}, {mode})"
        assert result.exit_code == 0, f"{where}: exit {result.exit_code}\n{result.output[-2000:]}"
        assert "Traceback" not in result.output, where
        if name.endswith("--json"):
            for line in result.stdout.splitlines():
                json.loads(line)
        if name == "compare":
            assert "Every value you gave matches" in result.stdout, where
            assert "Unknown names" not in result.stdout, where
        if name.startswith("verify") and name != "verify --latex":
            assert "FAIL" not in result.stdout, where


# Mini-batches (issue 20): three samples in shuffled batches of two, so the steps swept hold a
# batch of two, a last batch of one and the first batch of a new epoch.
MINI_BATCH = SPEC.replace('mode = "{mode}"', 'mode = "mini-batch"\nbatch_size = 2\n'
                          'shuffle = true\nseed = 1').replace(
    "inputs = [[0.05, 0.1], [1.0, 0.0]]", "inputs = [[0.05, 0.1], [1.0, 0.0], [0.0, 0.0]]").replace(
    "targets = [[0.0, 1.0], [1.0, 0.0]]", "targets = [[0.0, 1.0], [1.0, 0.0], [1.0, 0.0]]")


@pytest.mark.parametrize("net", sorted(NETS))
@pytest.mark.parametrize("optimizer", ["sgd", "adamw", "nesterov"])
def test_every_command_runs_on_mini_batches(run, tmp_path, optimizer, net):
    hidden, output, loss = NETS[net]
    spec = tmp_path / "net.toml"
    spec.write_text(MINI_BATCH.format(hidden=hidden, output=output, loss=loss))
    options = OPTIMIZERS[optimizer]
    values = tmp_path / "own.jsonl"
    own = run("trace", spec, "--json", "--every", "1", *options)
    assert own.exit_code == 0, own.output
    assert [json.loads(l)["samples"] for l in own.stdout.splitlines()
            if '"samples"' in l][:2] in ([[0, 2], [1]], [[2, 0], [1]], [[1, 0], [2]],
                                         [[0, 1], [2]], [[1, 2], [0]], [[2, 1], [0]])
    values.write_text(own.stdout)
    for name, args in _commands(spec, tmp_path, values).items():
        result = run(*args, *options)
        where = f"{name} {' '.join(options)} ({net}, mini-batch)"
        assert result.exit_code == 0, f"{where}: exit {result.exit_code}\n{result.output[-2000:]}"
        assert "Traceback" not in result.output, where
        if name == "compare":
            assert "Every value you gave matches" in result.stdout, where
        if name.startswith("verify") and name != "verify --latex":
            assert "FAIL" not in result.stdout, where
