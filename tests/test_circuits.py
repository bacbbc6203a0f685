"""`tracenn graph`: backprop on a circuit, checked against published numbers (CS231n's two worked
circuits, micrograd's README example), central differences written here, and the network
trace (the bridge from a neuron's circuit to the layer's δ and ∂E/∂w)."""

import json
import math

import pytest

import tracenn
from tracenn.circuits.neuron import ident
from tracenn.spec import load_spec

MICROGRAD = """\
c = a + b
d = a * b + b**3
c += c + 1
c += 1 + c + (-a)
d += d * 2 + (b + a).relu()
d += 3 * d + (b - a).relu()
e = c - d
f = e**2
g = f / 2.0
g += 10.0 / f
"""


def micrograd_by_hand(a, b):
    """micrograd's README program as plain floats (the relu written as max(0, ·))."""
    c = a + b
    d = a * b + b ** 3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + max(0.0, b + a)
    d += 3 * d + max(0.0, b - a)
    e = c - d
    f = e ** 2
    g = f / 2.0
    g += 10.0 / f
    return g


def central(f, x, h=1e-6):
    return (f(x + h) - f(x - h)) / (2 * h)


def test_cs231n_add_and_multiply_circuit():
    # CS231n "Backpropagation, Intuitions": f = (x + y) z at x = -2, y = 5, z = -4
    trace = tracenn.graph("(x + y) * z", x=-2, y=5, z=-4)
    assert trace.value == -12
    assert trace.grads == {"x": -4, "y": -4, "z": 3}
    assert trace.check.ok
    q = trace.labelled("g1")  # the add gate q = x + y
    assert q.value == 3 and q.grad == -4
    # the mul gate swaps its inputs: ∂f/∂q = z, ∂f/∂z = q
    mul = trace.backward[0]
    assert [loc.formula for loc in mul.locals] == ["z", "g1"]


def test_cs231n_sigmoid_neuron_circuit():
    # CS231n: w = [2, -3, -3], x = [-1, -2]; f ≈ 0.73, dw ≈ [-0.2, -0.39, 0.2], dx ≈ [0.39, -0.59]
    trace = tracenn.graph("1 / (1 + exp(-(w0*x0 + w1*x1 + w2)))",
                          w0=2, x0=-1, w1=-3, x1=-2, w2=-3)
    assert round(trace.value, 2) == 0.73
    g = trace.grads
    assert [round(g["w0"], 1), round(g["w1"], 2), round(g["w2"], 1)] == [-0.2, -0.39, 0.2]
    assert [round(g["x0"], 2), round(g["x1"], 2)] == [0.39, -0.59]
    # and exactly: the sigmoid's local derivative f(1 - f) times the input
    f = 1 / (1 + math.exp(-1.0))
    assert g["w0"] == pytest.approx(-1 * f * (1 - f), rel=1e-12)
    assert g["x1"] == pytest.approx(-3 * f * (1 - f), rel=1e-12)


def test_micrograd_program_with_reuse_and_relu(tmp_path):
    path = tmp_path / "micrograd.py"
    path.write_text(MICROGRAD)
    trace = tracenn.graph(str(path), a=-4, b=2)
    # micrograd's README prints g = 24.7041, dg/da = 138.8338, dg/db = 645.5773
    assert round(trace.value, 4) == 24.7041
    assert round(trace.grads["a"], 4) == 138.8338
    assert round(trace.grads["b"], 4) == 645.5773
    assert trace.value == pytest.approx(micrograd_by_hand(-4, 2), rel=1e-14)
    da = central(lambda a: micrograd_by_hand(a, 2.0), -4.0)
    db = central(lambda b: micrograd_by_hand(-4.0, b), 2.0)
    assert trace.grads["a"] == pytest.approx(da, rel=1e-7)
    assert trace.grads["b"] == pytest.approx(db, rel=1e-7)
    # `c += …` reads the old c: the trace says where the gradient accumulates
    assert any(loc.accumulates for step in trace.backward for loc in step.locals)
    assert any("accumulated" in note and "c" in note for note in trace.notes)
    assert [n.label for n in trace.gates if n.label.startswith("c")][:2] == ["c", "c′"]


def test_a_variable_used_twice_sums_its_gradients():
    # f = x*x + x: df/dx = 2x + 1 = 7 at x = 3, the sum of three shares
    trace = tracenn.graph("x*x + x", x=3)
    assert trace.grads["x"] == 7
    x = trace.labelled("x")
    shares = [loc.downstream for s in trace.backward for loc in s.locals if loc.arg == x.id]
    assert sorted(shares) == [1, 3, 3]


@pytest.mark.parametrize("preset", ["mazur", "xor", "softmax"])
def test_every_neuron_as_a_circuit_equals_the_network_trace(preset):
    spec = load_spec(preset)
    step = tracenn.step(preset, 1)
    labels = step.labels
    for l, names in enumerate(labels.neurons, start=1):
        for j, name in enumerate(names):
            trace = tracenn.graph(preset, neuron=name)
            assert trace.bridge.ok and trace.check.ok, (preset, name)
            layer = step.layers[l - 1]
            for k, w in enumerate(labels.weights[l - 1][j]):
                assert trace.grads[ident(w)] == pytest.approx(layer.grad_W[j, k], abs=1e-12)
    assert spec is not None


def test_mazur_neurons_carry_the_blogs_numbers():
    # Mazur, "A Step by Step Backpropagation Example": δ_o1 = 0.138498562, ∂E/∂w5 = 0.082167041,
    # ∂E/∂w1 = 0.000438568
    o1 = tracenn.graph("mazur", neuron="o1")
    assert round(o1.grads["w5"], 9) == 0.082167041
    assert round(o1.labelled("net_o1").grad, 9) == 0.138498562
    h1 = tracenn.graph("mazur", neuron="h1")
    assert round(h1.grads["w1"], 9) == 0.000438568


def test_the_cli_prints_the_tables_and_json(run):
    result = run("graph", "(x + y) * z", "--at", "x=-2,y=5,z=-4")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Forward pass" in out and "Backward pass" in out and "Verified" in out
    assert "∂f/∂g1 = z" in out
    result = run("graph", "(x + y) * z", "--at", "x=-2", "--at", "y=5,z=-4", "--json")
    data = json.loads(result.stdout)
    assert data["format"] == 1 and data["grads"] == {"x": -4.0, "y": -4.0, "z": 3.0}
    assert data["check"]["ok"] is True
    result = run("graph", "mazur", "--neuron", "o1")
    assert result.exit_code == 0
    table = result.stdout.split("Beside the network trace (o1, step 1", 1)[1]
    row = next(line for line in table.splitlines() if line.startswith("delta_o1"))
    assert row.split()[-3:] == ["0.138498562", "0.138498562", "ok"]  # Mazur's δ_o1
    assert "equal the network trace's (within 1e-12)" in result.stdout
    # Mazur's b2 is shared by o1 and o2: the note gives o1's share, δ_o1, at the table's digits
    assert "the circuit shows o1's, 0.138498562" in result.stdout
    result = run("graph", "mazur", "--neuron", "o1", "--json")
    data = json.loads(result.stdout)
    assert data["bridge"]["ok"] is True
    assert round(data["grads"]["w5"], 9) == 0.082167041


@pytest.mark.parametrize("text, what", [
    ("__import__('os')", "__import__"),
    ("x.real", ".real"),
    ("os.system('ls')", ".system"),
    ("lambda x: x", "lambda"),
    ("[x for x in y]", "comprehension"),
    ("x if y else x", "if-else"),
    ("x @ y", "@"),
    ("open('f')", "open"),
])
def test_the_parser_refuses_what_is_not_arithmetic(run, text, what):
    result = run("graph", text, "--at", "x=1,y=2")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output
    assert what in lines[0] and "line 1:" in lines[0] and "allowed" in lines[0]


@pytest.mark.parametrize("args, says", [
    (["(x + y) * z", "--at", "x=1,y=2"], "no value for the input(s) z"),
    (["x * 2", "--at", "x=1,q=2"], "no such input"),
    (["x * 2", "--at", "x=one"], "not a number"),
    (["x * 2", "--at", "x=nan"], "finite"),
    (["log(x)", "--at", "x=-1"], "log"),
    (["sqrt(x) * y", "--at", "x=0,y=2"], "infinite at x = 0.0"),
    (["mazur"], "--neuron"),
    (["mazur", "--neuron", "o9"], "no such neuron"),
    (["x +", "--at", "x=1"], "line 1"),
])
def test_bad_input_is_one_line_and_exit_2(run, args, says):
    result = run("graph", *args)
    assert result.exit_code == 2, result.output
    assert says in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_program_file_that_does_not_exist(run, tmp_path):
    result = run("graph", tmp_path / "missing.py", "--at", "a=1")
    assert result.exit_code == 2 and "missing.py" in result.stderr


def test_a_long_program_with_reuse_is_checked_without_sympys_diff():
    # each line reads h twice: as one expression the circuit is a tree of ~2^25 nodes
    lines = ["h = x * w"] + ["h = tanh(w * h + b * x) + relu(h - x) * 0.5"] * 25
    text = "\n".join(lines)

    def by_hand(x, w, b):
        h = x * w
        for _ in range(25):
            h = math.tanh(w * h + b * x) + max(0.0, h - x) * 0.5
        return h

    trace = tracenn.graph(text, x=0.3, w=0.7, b=-0.2)
    assert len(trace.gates) > 200 and trace.check.ok
    assert trace.check.method == "40-digit difference"
    assert trace.value == pytest.approx(by_hand(0.3, 0.7, -0.2), rel=1e-14)
    dw = central(lambda w: by_hand(0.3, w, -0.2), 0.7)
    assert trace.grads["w"] == pytest.approx(dw, rel=1e-7)


def test_the_readmes_circuit_example_prints_what_the_readme_shows(run):
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = text.split("## Circuits: backprop gate by gate", 1)[1].split("\n## ", 1)[0]
    command = re.search(r"```sh\ntracenn (.*?)\n```", section).group(1)
    shown = re.search(r"```text\n(.*?)```", section, re.S).group(1)
    args = ["graph", "(x + y) * z", "--at", "x=-2,y=5,z=-4", "--precision", "4"]
    assert command == 'graph "(x + y) * z" --at x=-2,y=5,z=-4 --precision 4'
    result = run(*args)
    assert result.exit_code == 0 and result.stdout == shown
    assert "-12.0000" in shown and "Verified" in shown


@pytest.mark.parametrize("command, option, args", [
    ("draw", "--svg", ["--view", "backward"]),
    ("html", "--html", []),
    ("walkthrough", "--walkthrough", []),
])
def test_draw_html_and_walkthrough_take_a_circuit_as_graph_does(run, tmp_path, command, option,
                                                                 args):
    at = ["--at", "x=-2,y=5,z=-4"]
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    mine, graphs = tmp_path / "a" / "out", tmp_path / "b" / "out"
    result = run(command, "graph", "(x + y) * z", *at, *args, "-o", mine)
    assert result.exit_code == 0, result.output
    assert run("graph", "(x + y) * z", *at, *args, option, graphs).exit_code == 0
    assert mine.read_text(encoding="utf-8") == graphs.read_text(encoding="utf-8")
    assert "-12" in mine.read_text(encoding="utf-8")


def test_a_circuit_command_without_its_expression_is_one_line(run):
    for args in (["draw", "graph"], ["html", "mazur", "--at", "x=1"],
                 ["walkthrough", "graph", "x*y"]):
        result = run(*args)
        assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1, args


@pytest.mark.parametrize("args, named", [
    (["draw", "graph", "x*y", "--mistake", "sigma-prime-of-a"], "--mistake"),
    (["html", "graph", "x*y", "--steps", "3", "--lr", "0.1"], "--steps, --lr"),
    (["walkthrough", "graph", "x*y", "--step", "2"], "--step"),
    (["compare", "graph", "x*y", "--values", "VALUES", "--step", "2"], "--step"),
])
def test_a_networks_option_on_a_circuit_is_refused_not_ignored(run, tmp_path, args, named):
    values = tmp_path / "mine.txt"
    values.write_text("dx = 2\ndy = 1\n")
    args = [values if a == "VALUES" else a for a in args]
    result = run(*args, "--at", "x=1,y=2")
    assert result.exit_code == 2, result.output
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1 and line.split("error: ")[1].startswith(named)
