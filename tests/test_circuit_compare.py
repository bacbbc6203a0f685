"""tracenn compare on a circuit: each classic mistake, computed by hand in the test, is produced
by its mistake object (tracenn graph --mistake) and named by the diagnosis; a right answer is
reported right; messy files end in one line, exit 2."""

import json

import pytest

import tracenn
from tracenn.circuits.compare import compare_circuit, read_gradients
from tracenn.circuits.mistakes import MISTAKES, mistaken_grads
from tracenn.errors import CircuitError

CS231N = ("(x + y) * z", dict(x=-2, y=5, z=-4))  # q = x + y = 3, f = q·z = −12
FORK = ("b = a*a\nc = b + a", dict(a=3))  # dc/da = 2a + 1 = 7
MAX = ("m = max(x, y)\nf = m * z", dict(x=1, y=2, z=3))  # y wins: dx = 0, dy = z = 3

# (circuit, mistake, the learner's wrong gradients worked out by hand)
BY_HAND = [
    # mul not swapped: ∂f/∂q taken as q = 3 and ∂f/∂z as z = −4; the add gate passes 3 on
    (CS231N, "mul-not-swapped", {"z": -4.0, "x": 3.0, "y": 3.0}),
    # no upstream: ∂f/∂q = z = −4 and ∂f/∂z = q = 3 (upstream 1 at the output), then the add
    # gate sends its local derivative 1 to x and to y, not 1 × (−4)
    (CS231N, "no-upstream", {"z": 3.0, "x": 1.0, "y": 1.0}),
    # overwritten: c sends 1 to a, then b = a*a sends a·1 = 3 twice, each replacing the last
    (FORK, "fork-overwritten", {"a": 3.0}),
    # max to both: dm = z = 3 reaches x as well as y
    (MAX, "max-to-both", {"z": 2.0, "x": 3.0, "y": 3.0}),
]
RIGHT = [(CS231N, {"x": -4.0, "y": -4.0, "z": 3.0}), (FORK, {"a": 7.0}),
         (MAX, {"z": 2.0, "x": 0.0, "y": 3.0})]


def trace_of(circuit):
    text, values = circuit
    return tracenn.graph(text, values)


@pytest.mark.parametrize("circuit,name,wrong", BY_HAND, ids=[b[1] for b in BY_HAND])
def test_each_mistake_produces_the_hand_numbers(circuit, name, wrong):
    trace = trace_of(circuit)
    grads = mistaken_grads(trace, MISTAKES[name])
    assert {label: grads[trace.labelled(label).id] for label in wrong} == wrong


@pytest.mark.parametrize("circuit,name,wrong", BY_HAND, ids=[b[1] for b in BY_HAND])
def test_compare_names_each_mistake(circuit, name, wrong):
    result = compare_circuit(trace_of(circuit), {"d" + k: v for k, v in wrong.items()})
    assert not result.ok
    assert result.mistake["name"] == name
    assert result.mistake["explains"] == "all"


def test_every_mistake_is_covered_by_hand():
    assert {b[1] for b in BY_HAND} == set(MISTAKES)


@pytest.mark.parametrize("circuit,right", RIGHT, ids=["cs231n", "fork", "max"])
def test_a_right_answer_is_right(circuit, right):
    result = compare_circuit(trace_of(circuit), right)
    assert result.ok and result.first_wrong is None and result.mistake is None


def test_first_wrong_is_in_backward_order_and_later_ones_follow():
    # dq wrong (−5 for −4); x and y are then right from the learner's own dq: 1 × (−5)
    result = compare_circuit(tracenn.graph("q = x + y\nf = q * z", x=-2, y=5, z=-4),
                             {"dz": 3, "dq": -5, "dx": -5, "dy": -5})
    assert result.first_wrong == "q"
    assert [(r.label, r.verdict) for r in result.rows] == [
        ("f", "not given"), ("z", "right"), ("q", "wrong"), ("x", "follows"), ("y", "follows")]


def test_a_fork_that_kept_one_share_is_named():
    # 6 = the two shares of b = a*a (3 + 3), the 1 from c forgotten
    result = compare_circuit(trace_of(FORK), {"da": 6})
    assert result.mistake["name"] == "fork-overwritten"
    assert "from b" in result.mistake["explanation"]


def test_written_decimals_set_the_tolerance():
    sigmoid = tracenn.graph("sigmoid(w0*x0 + w1*x1 + w2)", w0=2, x0=-1, w1=-3, x1=-2, w2=-3)
    # CS231n prints ∂f/∂w ≈ [−0.2, −0.39, 0.2] and ∂f/∂x ≈ [0.39, −0.59]
    given = {"w0": "-0.20", "w1": "-0.39", "w2": "0.20", "x0": "0.39", "x1": "-0.59"}
    assert compare_circuit(sigmoid, given).ok  # each ± 0.005
    assert not compare_circuit(sigmoid, {**given, "x1": "-0.5900"}).ok  # −0.5898…: ± 0.00005


@pytest.mark.parametrize("name", ["x", "dx", "df/dx", "∂f/∂x", "grad_x", "x.grad"])
def test_learners_names(name):
    trace = trace_of(CS231N)
    assert read_gradients({name: -4}, trace) == {trace.labelled("x").id: -4.0}


def test_cli_lines_and_json(run, tmp_path):
    lines = tmp_path / "mine.txt"
    lines.write_text("# by hand\n∂f/∂x = 3\ndy = 3\ndz = −4\n", encoding="utf-8")
    out = run("compare", "graph", "(x + y) * z", "--at", "x=-2,y=5,z=-4", "--values", lines)
    assert out.exit_code == 1, out.output
    assert "First wrong gradient: ∂/∂z" in out.output and "mul-not-swapped" in out.output
    assert out.output.startswith("Your gradients on (x + y) * z, in backward order")
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"x": -4, "y": -4, "z": 3}), encoding="utf-8")
    out = run("compare", "graph", "(x + y) * z", "--at", "x=-2,y=5,z=-4", "--values", good,
              "--json")
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["ok"] is True


@pytest.mark.parametrize("text,says", [
    ("dx -4\n", "is not NAME = NUMBER"),
    ("dx = -4\nw = 1\n", "'w' names no variable"),
    ("dx = -4\nx = -4\n", "given twice"),
    ("dx = four\n", "'four' is not a number"),
    ("", "holds no gradients"),
    ('{"x": [1, 2]}', "one flat JSON object"),
    ('{"x": -4,', "not valid JSON"),
])
def test_messy_files_are_refused_in_one_line(run, tmp_path, text, says):
    path = tmp_path / "mine.txt"
    path.write_text(text, encoding="utf-8")
    out = run("compare", "graph", "(x + y) * z", "--at", "x=-2,y=5,z=-4", "--values", path)
    assert out.exit_code == 2
    assert says in out.output and len(out.output.strip().splitlines()) == 1, out.output
    with pytest.raises(CircuitError):
        compare_circuit(trace_of(CS231N), path)


def test_graph_shows_a_mistake(run):
    out = run("graph", "b = a*a\nc = b + a", "--at", "a=3", "--mistake", "fork-overwritten",
              "--json")
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["grads"] == {"a": 3.0}
    out = run("graph", "(x + y) * z", "--at", "x=-2,y=5,z=-4", "--mistake", "nope")
    assert out.exit_code == 2 and "mul-not-swapped" in out.output


def test_without_upstream_the_table_does_not_claim_local_times_upstream(run):
    """The header says how the shown downstream numbers were made: with the mistake the add
    gate's 1.0000 for x is the local derivative alone, not 1 × (−4)."""
    out = run("graph", "(x + y) * z", "--at", "x=-2,y=5,z=-4", "--mistake", "no-upstream")
    assert out.exit_code == 0, out.output
    assert "downstream = local (upstream not multiplied)" in out.output
    assert "local × upstream" not in out.output
    right = run("graph", "(x + y) * z", "--at", "x=-2,y=5,z=-4")
    assert "downstream = local × upstream" in right.output


def test_the_api_compares_a_trace():
    trace = tracenn.graph("(x + y) * z", x=-2, y=5, z=-4)
    assert trace.compare({"dx": -4, "dy": -4, "dz": 3}).ok
    assert trace.compare({"dx": 1, "dy": 1, "dz": 3}).mistake["name"] == "no-upstream"


def test_cli_program_file(run, tmp_path):
    program = tmp_path / "fork.py"
    program.write_text("b = a*a\nc = b + a\n", encoding="utf-8")
    mine = tmp_path / "mine.txt"
    mine.write_text("da = 6\n", encoding="utf-8")  # 2a·1 from b, the 1 from c forgotten
    out = run("compare", "graph", program, "--at", "a=3", "--values", mine)
    assert out.exit_code == 1 and "fork-overwritten" in out.output and "from b" in out.output
    out = run("compare", "graph", program, "--at", "a=3", "--values", mine, "--draw", "x.svg")
    assert out.exit_code == 2


def test_csv_rows_name_value_are_read_as_lines_are(run, tmp_path):
    # as a learner copies answers.csv's habit: f = (x + y)·z at -2, 5, -4, mul gate not swapped
    path = tmp_path / "mine.csv"
    path.write_text("name,value\ndx,3\ndy,3\ndz,-4\n")
    result = run("compare", "graph", "(x + y) * z", "--at", "x=-2,y=5,z=-4", "--values", path)
    assert result.exit_code == 1 and "mul-not-swapped" in result.stdout
    path.write_text("dx,-4\ndy,-4\ndz,3\n")
    result = run("compare", "graph", "(x + y) * z", "--at", "x=-2,y=5,z=-4", "--values", path)
    assert result.exit_code == 0, result.output
    path.write_text("dx,-4,5\n")
    result = run("compare", "graph", "(x + y) * z", "--at", "x=-2,y=5,z=-4", "--values", path)
    assert result.exit_code == 2 and "line 1" in result.stderr
