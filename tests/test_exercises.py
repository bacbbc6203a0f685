"""tracenn exercise and tracenn grade: 30 variants whose keys agree with the trace and with a hand
computation written here, byte-identical files for the same seed, worksheets that compile, and
grading of right answers, of --mistake runs, of an error carried over, and of the messy files
students hand in."""

import concurrent.futures
import csv
import json
import math
import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

import tracenn
from tracenn.exercises.variants import always_equal, degenerate
from tracenn.record.jsonl import step_values

STUDENTS = 30

# a network trained in batch mode: three samples in one step, names ending in @s
BATCH = """
[network]
sizes = [2, 2, 1]
activations = ["tanh", "sigmoid"]
loss = "half-sse"
[training]
learning_rate = 0.5
mode = "batch"
[data]
inputs = [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]]
targets = [[0.1], [0.5], [0.9]]
"""


@pytest.fixture(scope="module")
def runner():
    from click.testing import CliRunner

    from tracenn.cli import cli

    def invoke(*args):
        return CliRunner().invoke(cli, [str(a) for a in args], prog_name="tracenn")

    return invoke


@pytest.fixture(scope="module")
def klass(runner, tmp_path_factory):
    """`tracenn exercise mazur --students 30 --seed 1 -o DIR`, made once for the module."""
    folder = tmp_path_factory.mktemp("class") / "ex"
    result = runner("exercise", "mazur", "--students", STUDENTS, "--seed", 1, "-o", folder)
    assert result.exit_code == 0, result.stderr
    return folder


def students(folder):
    return sorted(p for p in folder.iterdir() if p.name.startswith("student-"))


def spec_of(p):
    """The variant of the student whose hand-out folder is `p`: in the teacher's key/."""
    return p.parent / "key" / f"{p.name}.toml"


def tree(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def asked(folder):
    return json.loads((folder / "exercise.json").read_text())["asked"]


# --------------------------------------------------------------------------------------------
# Mazur's 2-2-2 network computed by hand, independently of the engine
# --------------------------------------------------------------------------------------------


def by_hand(spec_path, slip=None, rounding=None, mistake=None):
    """Every quantity of the first step of a variant of Mazur's network, with the blog's
    formulas written out here.  `slip` replaces a value as soon as it is computed (a learner's
    arithmetic slip): every value after it is then computed from the slipped one.  With
    `rounding`, each value is rounded to so many decimals as soon as it is computed, as by hand.
    `mistake`: "sigma-prime-of-a" (σ′ taken at out: σ(out)(1 − σ(out)) in place of
    out(1 − out)) or "added-update" (w + η·∂E/∂w)."""
    doc = tomllib.loads(Path(spec_path).read_text())
    (w1, w2), (w3, w4) = doc["layer"][0]["weights"]
    (w5, w6), (w7, w8) = doc["layer"][1]["weights"]
    b1, b2 = doc["layer"][0]["biases"][0], doc["layer"][1]["biases"][0]
    (i1, i2), = doc["data"]["inputs"]
    (t1, t2), = doc["data"]["targets"]
    eta = doc["training"]["learning_rate"]
    slip, v = slip or {}, {}

    def put(name, value):
        v[name] = slip.get(name, value if rounding is None else round(value, rounding))
        return v[name]

    def sigma(x):
        return 1 / (1 + math.exp(-x))

    def forward(w):
        h1 = sigma(w[0] * i1 + w[1] * i2 + b1)
        h2 = sigma(w[2] * i1 + w[3] * i2 + b1)
        o1 = sigma(w[4] * h1 + w[5] * h2 + b2)
        o2 = sigma(w[6] * h1 + w[7] * h2 + b2)
        return 0.5 * (t1 - o1) ** 2 + 0.5 * (t2 - o2) ** 2

    h1 = put("out_h1", sigma(put("net_h1", w1 * i1 + w2 * i2 + b1)))
    h2 = put("out_h2", sigma(put("net_h2", w3 * i1 + w4 * i2 + b1)))
    o1 = put("out_o1", sigma(put("net_o1", w5 * h1 + w6 * h2 + b2)))
    o2 = put("out_o2", sigma(put("net_o2", w7 * h1 + w8 * h2 + b2)))
    put("E_total", put("E_o1", 0.5 * (t1 - o1) ** 2) + put("E_o2", 0.5 * (t2 - o2) ** 2))
    def prime(out):
        return sigma(out) * (1 - sigma(out)) if mistake == "sigma-prime-of-a" else out * (1 - out)

    d1 = put("delta_o1", put("dE/dout_o1", o1 - t1) * prime(o1))
    d2 = put("delta_o2", put("dE/dout_o2", o2 - t2) * prime(o2))
    dh1 = put("delta_h1", put("dE/dout_h1", d1 * w5 + d2 * w7) * prime(h1))
    dh2 = put("delta_h2", put("dE/dout_h2", d1 * w6 + d2 * w8) * prime(h2))
    grads = {"w5": d1 * h1, "w6": d1 * h2, "w7": d2 * h1, "w8": d2 * h2,
             "w1": dh1 * i1, "w2": dh1 * i2, "w3": dh2 * i1, "w4": dh2 * i2}
    old = dict(zip(["w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8"], [w1, w2, w3, w4, w5, w6, w7, w8]))
    for name in grads:
        sign = 1 if mistake == "added-update" else -1
        put(f"w{name[1]}+", old[name] + sign * eta * put(f"dE/d{name}", grads[name]))
    put("E_total after", forward([v[f"w{k}+"] for k in range(1, 9)]))
    return v


def fill(folder, sid, values, decimals=4, names=None, row=None, student=None, path=None):
    """Write a student's answers.csv from `values`, rounded as a student writes them; with
    `student`, the row that names the student first (as the template has it)."""
    names = names or asked(folder)
    row = row or (lambda name, text: f"{name},{text}")
    lines = ["name,value"] + ([f"student,{student}"] if student else [])
    lines += [row(n, f"{values[n]:.{decimals}f}") for n in names]
    (path or folder / sid / "answers.csv").write_text("\n".join(lines) + "\n")


def key_answers(folder, sid):
    text = (folder / "key" / f"{sid}.md").read_text()
    return dict(re.findall(r"^\| \d+ \| `([^`]+)` \| (\S+) \|$", text, re.M))


# --------------------------------------------------------------------------------------------
# tracenn exercise
# --------------------------------------------------------------------------------------------


def test_thirty_variants_with_every_file(klass):
    folders = students(klass)
    assert [p.name for p in folders] == [f"student-{n:02d}" for n in range(1, STUDENTS + 1)]
    for p in folders:
        assert sorted(f.name for f in p.iterdir()) == ["answers.csv", "network.svg",
                                                      "worksheet.md", "worksheet.tex"]
        assert (klass / "key" / f"{p.name}.md").is_file() and spec_of(p).is_file()
    roster = list(csv.reader((klass / "roster.csv").read_text().splitlines()))
    assert roster[0] == ["student", "seed", "name"] and len(roster) == STUDENTS + 1
    assert len({seed for _, seed, _ in roster[1:]}) == STUDENTS
    specs = {spec_of(p).read_text().split("[network]")[1] for p in folders}
    assert len(specs) == STUDENTS  # every student has numbers of their own


def test_the_same_seed_writes_the_same_bytes(runner, klass, tmp_path):
    again = tmp_path / "ex"
    assert runner("exercise", "mazur", "--students", STUDENTS, "--seed", 1, "-o", again).exit_code == 0
    assert tree(again) == tree(klass)
    other = tmp_path / "other"
    assert runner("exercise", "mazur", "--students", 2, "--seed", 2, "-o", other).exit_code == 0
    assert (other / "key/student-01.toml").read_text() != (klass / "key/student-01.toml").read_text()


def test_every_key_agrees_with_the_trace_and_a_hand_computation(runner, klass):
    names = asked(klass)
    for p in students(klass):
        key = key_answers(klass, p.name)
        assert list(key) == names
        result = runner("trace", spec_of(p), "--json")
        assert result.exit_code == 0, result.stderr
        step = json.loads(result.stdout)
        traced = step_values(step, tracenn.load(str(spec_of(p))).labels)
        hand = by_hand(spec_of(p))
        for name in names:
            assert key[name] == f"{traced[name]:.4f}" == f"{hand[name]:.4f}", (p.name, name)
            assert math.isclose(traced[name], hand[name], rel_tol=1e-9, abs_tol=1e-15), name


def test_the_hand_out_holds_no_answer(klass):
    """Every right number of each key, at the asked decimals, searched for in every file of that
    student's hand-out folder (and the spec, which would give them all away, is not there)."""
    for p in students(klass):
        answers = key_answers(klass, p.name)
        assert len(answers) == 36 and not (p / "spec.toml").exists()
        text = "\n".join(f.read_text() for f in p.iterdir())
        found = [(name, value) for name, value in answers.items()
                 if re.search(rf"(?<![\d.]){re.escape(value.lstrip('-'))}(?!\d)", text)]
        assert found == [], (p.name, found)
        assert "tracenn trace" not in text
    # the scan finds a number when it is there: the key holds them all
    key = (klass / "key" / "student-01.md").read_text()
    assert all(re.search(rf"(?<![\d.]){re.escape(v.lstrip('-'))}(?!\d)", key)
               for v in key_answers(klass, "student-01").values())


def test_variants_keep_the_network_and_draw_from_the_ranges(klass):
    for p in students(klass):
        doc = tomllib.loads(spec_of(p).read_text())
        assert doc["network"]["sizes"] == [2, 2, 2] and doc["training"]["learning_rate"] == 0.5
        assert doc["layer"][0]["weight_names"] == [["w1", "w2"], ["w3", "w4"]]
        assert doc["layer"][0]["train_bias"] is False  # as in the blog
        numbers = [x for layer in doc["layer"] for row in layer["weights"] for x in row]
        numbers += [b for layer in doc["layer"] for b in layer["biases"]]
        assert all(0.10 <= x <= 0.90 for x in numbers)
        data = doc["data"]["inputs"][0] + doc["data"]["targets"][0]
        assert all(0.01 <= x <= 0.99 for x in data)
        assert all(round(x, 2) == x for x in numbers + data)  # two decimals, like the blog
        step = tracenn.step(str(spec_of(p)))
        assert degenerate(step, asked(klass), 4) is None


def test_worksheets_ask_exactly_the_template_and_give_the_spec_numbers(klass):
    names = asked(klass)
    assert "b1+" not in names and "dE/db1" not in names  # frozen, as in the blog
    assert names[0] == "net_h1" and names[-1] == "E_total after" and len(names) == 36
    for p in students(klass)[:3]:
        rows = list(csv.reader((p / "answers.csv").read_text().splitlines()))
        assert rows[:2] == [["name", "value"], ["student", p.name]]
        assert rows[2:] == [[n, ""] for n in names]
        md = (p / "worksheet.md").read_text()
        assert re.findall(r"^\d+\. `([^`]+)`", md, re.M) == names
        doc = tomllib.loads(spec_of(p).read_text())
        w1 = doc["layer"][0]["weights"][0][0]
        assert f"| w1 | i1 → h1 | {w1:.2f} |" in md
        assert "the biases b1, b2 are not updated" in md
        tex = (p / "worksheet.tex").read_text()
        assert tex.startswith(r"\documentclass") and tex.rstrip().endswith(r"\end{document}")
        assert tex.count(r"\item \texttt") == len(names)
        # the network drawn: every weight on its edge, with the spec's value, in both pictures
        assert "![The network with its weights and biases](network.svg)" in md
        svg = (p / "network.svg").read_text()
        assert r"\begin{tikzpicture}" in tex
        for layer in doc["layer"]:
            for names_row, row in zip(layer["weight_names"], layer["weights"]):
                for name, w in zip(names_row, row):
                    assert f"{{{name} {w:.2f}}};" in tex and f">{name} {w:.2f}</text>" in svg


def pdflatex():
    found = shutil.which("pdflatex")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("pdflatex is missing in CI: .ci/run installs texlive-latex-base, "
                        "texlive-latex-recommended and texlive-pictures")
        pytest.skip("pdflatex not found: install TeX Live to compile the worksheets (Debian: "
                    "apt-get install texlive-latex-base texlive-latex-recommended "
                    "texlive-pictures)")
    return found


def compile_tex(tex: Path, workdir: Path) -> subprocess.CompletedProcess:
    workdir.mkdir(parents=True, exist_ok=True)
    shutil.copy(tex, workdir / "worksheet.tex")
    return subprocess.run([pdflatex(), "-interaction=nonstopmode", "-halt-on-error",
                           "worksheet.tex"], cwd=workdir, capture_output=True, text=True,
                          timeout=120)


def test_every_worksheet_compiles_with_pdflatex(klass, tmp_path):
    pdflatex()
    texs = [p / "worksheet.tex" for p in students(klass)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        done = list(pool.map(lambda t: compile_tex(t, tmp_path / t.parent.name), texs))
    for tex, result in zip(texs, done):
        assert result.returncode == 0, f"{tex.parent.name}: {result.stdout[-2000:]}"
        assert (tmp_path / tex.parent.name / "worksheet.pdf").stat().st_size > 10_000
        # the question pages (fixed height, their parts placed by estimate) never overflow
        assert "Overfull \\vbox" not in (tmp_path / tex.parent.name / "worksheet.log").read_text()
    key = compile_tex(klass / "key" / "student-01.tex", tmp_path / "key")  # the key's LaTeX
    assert key.returncode == 0, key.stdout[-2000:]


@pytest.mark.parametrize("target", ["xor", "softmax", "BATCH"])
def test_worksheets_of_other_networks_compile(runner, tmp_path, target):
    pdflatex()
    if target == "BATCH":
        target = tmp_path / "batch.toml"
        target.write_text(BATCH)
    folder = tmp_path / "ex"
    assert runner("exercise", target, "--update-biases", "-o", folder).exit_code == 0
    result = compile_tex(folder / "student-01" / "worksheet.tex", tmp_path / "pdf")
    assert result.returncode == 0, result.stdout[-2000:]


@pytest.mark.parametrize("target, names", [
    ("xor", ["net_h1", "out_y", "E_total", "delta_y", "dE/db3", "b3+", "E_total after"]),
    ("softmax", ["out_o3", "E_total", "dE/dout_o1", "delta_o3", "dE/dW1[1,2]", "W2[3,1]+",
                 "E_total after"]),
])
def test_other_presets(runner, tmp_path, target, names):
    folder = tmp_path / target
    result = runner("exercise", target, "--students", 3, "--seed", 5, "-o", folder)
    assert result.exit_code == 0, result.stderr
    got = asked(folder)
    assert all(n in got for n in names)
    for p in students(folder):
        assert key_answers(folder, p.name).keys() == set(got)
        step = tracenn.step(str(spec_of(p)))  # equalities allowed by its own targets
        assert degenerate(step, got, 4, always_equal(tracenn.load(str(spec_of(p))), got)) is None
    if target == "softmax":
        targets = [tomllib.loads(spec_of(p).read_text())["data"]["targets"][0]
                   for p in students(folder)]
        assert all(sorted(t) == [0, 0, 1] for t in targets)  # one class, one-hot


def test_ask_chooses_the_questions(runner, tmp_path):
    folder = tmp_path / "ask"
    result = runner("exercise", "mazur", "--ask", "forward,delta_h1,w5,input-gradients",
                    "-o", folder)
    assert result.exit_code == 0, result.stderr
    assert asked(folder) == ["net_h1", "net_h2", "out_h1", "out_h2", "net_o1", "net_o2",
                             "out_o1", "out_o2", "delta_h1", "dE/di1", "dE/di2", "w5+"]
    bad = runner("exercise", "mazur", "--ask", "forward,w9", "-o", tmp_path / "bad")
    assert bad.exit_code == 2 and "'w9' is neither a group" in bad.stderr
    assert not (tmp_path / "bad").exists()


def test_update_biases_asks_the_bias_updates(runner, tmp_path):
    folder = tmp_path / "biases"
    assert runner("exercise", "mazur", "--update-biases", "-o", folder).exit_code == 0
    assert {"dE/db1", "b1+", "dE/db2", "b2+"} <= set(asked(folder))
    assert tomllib.loads((folder / "key/student-01.toml").read_text())["layer"][0]["train_bias"]


@pytest.mark.parametrize("options, words", [
    (["--inputs", "0:0"], "no variant of preset mazur in 500 draws makes a good exercise"),
    (["--weights", "0.9:0.1"], "expected finite numbers with LOW ≤ HIGH"),
    (["--weights", "abc"], "is not LOW:HIGH"),
    (["--students", "0"], "0"),
])
def test_exercise_refuses_bad_options(runner, tmp_path, options, words):
    result = runner("exercise", "mazur", *options, "-o", tmp_path / "x")
    assert result.exit_code == 2, result.stdout
    assert words in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()


def test_exercise_never_overwrites_a_folder(runner, klass, tmp_path):
    before = tree(klass)
    result = runner("exercise", "mazur", "-o", klass)
    assert result.exit_code == 2 and "exists and is not an empty folder" in result.stderr
    assert tree(klass) == before
    assert not [p for p in klass.parent.iterdir() if p.name.endswith(".part")]
    nowhere = runner("exercise", "mazur", "-o", tmp_path / "no" / "such" / "ex")
    assert nowhere.exit_code == 2 and "does not exist" in nowhere.stderr


def test_an_optimizer_other_than_sgd_is_refused(runner, tmp_path):
    from tracenn.spec import preset_text

    spec = tmp_path / "adam.toml"
    spec.write_text(preset_text("mazur").replace('mode = "online"', 'mode = "online"\noptimizer = "adam"'))
    result = runner("exercise", spec, "-o", tmp_path / "x")
    assert result.exit_code == 2 and "plain gradient descent" in result.stderr


def test_degenerate_variants_are_named(tmp_path):
    from tracenn.spec import preset_text

    def step(**replace):
        text = preset_text("mazur")
        for old, new in replace.items():
            text = text.replace(old, new)
        path = tmp_path / "v.toml"
        path.write_text(text)
        return tracenn.step(str(path))

    names = [q.name for q in tracenn.step("mazur").quantities() if not q.name.startswith("b")]
    # the blog's own numbers make a good exercise at 6 decimals, not at 4: ∂E/∂w1 = 0.000438568
    assert degenerate(tracenn.step("mazur"), names, 6) is None
    assert degenerate(tracenn.step("mazur"), names, 4) == ("dE/dw1 = 0.0004 keeps a single "
                                                           "significant digit at 4 decimals")
    assert "saturated" in degenerate(step(**{"[0.40, 0.45]": "[4.0, 4.5]"}), names, 6)
    assert "rounds to zero" in degenerate(step(**{"[[0.05, 0.10]]": "[[0.00, 0.10]]"}), names, 6)
    assert "are both" in degenerate(step(**{"[[0.05, 0.10]]": "[[0.10, 0.10]]"}), names, 6)
    # outputs already close to their targets, and a step far too long: the loss goes up
    overshoot = step(**{"[[0.01, 0.99]]": "[[0.75, 0.77]]", "learning_rate = 0.5": "learning_rate = 1000"})
    assert "does not fall" in degenerate(overshoot, names, 6)
    # an update too small to show at 4 decimals: w1 would look right unchanged
    assert "rounds to the value before the update" in degenerate(tracenn.step("mazur"), ["w1+"], 3)


def test_only_formulas_may_make_two_answers_equal():
    def names(target):
        return [q.name for q in tracenn.step(target).quantities()]

    assert always_equal(tracenn.load("mazur"), names("mazur")) == set()
    xor = always_equal(tracenn.load("xor"), names("xor"))
    assert frozenset({"delta_h1", "dE/db1"}) in xor and frozenset({"delta_y", "dE/db3"}) in xor
    assert frozenset({"E_y", "E_total"}) in xor and len(xor) == 4  # one output: E_total is E_y
    softmax = always_equal(tracenn.load("softmax"), names("softmax"))
    # the one-hot target of sample 1 is class 1: ∂E/∂out of classes 2 and 3 are both 0
    assert frozenset({"dE/dout_o2", "dE/dout_o3"}) in softmax


SOFTMAX_332 = """
[network]
sizes = [3, 3, 2]
activations = ["sigmoid", "softmax"]
loss = "cross-entropy"
[training]
learning_rate = 0.5
mode = "online"
[data]
inputs = [[0.1, 0.2, 0.3]]
targets = [[1, 0]]
"""


@pytest.mark.parametrize("target", ["softmax", "SOFTMAX_332"])
def test_softmax_variants_draw_their_target_class_too(tmp_path, target):
    if target == "SOFTMAX_332":
        target = tmp_path / "332.toml"
        target.write_text(SOFTMAX_332)
    made = tracenn.exercise(str(target), STUDENTS, seed=1)
    classes = [int(s.spec.data.T[0].argmax()) for s in made.students]
    assert all(sorted(s.spec.data.T[0]) == [0.0] * (len(s.spec.data.T[0]) - 1) + [1.0]
               for s in made.students)  # one-hot
    assert len(set(classes)) >= 2, classes
    # each variant's zero ∂E/∂out are allowed to be equal by its own class, not by the template's
    for s in made.students:
        zeros = [q.name for q in s.step.quantities() if q.kind == "dE_da"
                 and q.l == len(s.step.layers) and s.step.values()[q.name] == 0]
        assert len(zeros) == len(s.spec.data.T[0]) - 1
        assert degenerate(s.step, made.asked, made.decimals,
                          always_equal(s.spec, made.asked)) is None


# --------------------------------------------------------------------------------------------
# tracenn grade
# --------------------------------------------------------------------------------------------


@pytest.fixture
def graded(klass, tmp_path):
    """A copy of the class, to fill in."""
    folder = tmp_path / "ex"
    shutil.copytree(klass, folder)
    return folder


def grade_json(runner, folder, *options):
    result = runner("grade", folder, "--json", *options)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    return {s["student"]: s for s in data["students"]}, data


def test_right_answers_score_full_marks(runner, graded):
    for p in students(graded):
        fill(graded, p.name, by_hand(spec_of(p)))
    grades, data = grade_json(runner, graded)
    assert all(g["points"] == g["out_of"] == 36 and g["status"] == "graded" for g in grades.values())
    assert data["summary"]["distribution"]["100%"] == STUDENTS
    assert all(a["status"] == "right" for g in grades.values() for a in g["answers"])


def test_rounding_as_you_go_is_right(runner, graded):
    for p in students(graded):
        fill(graded, p.name, by_hand(spec_of(p), rounding=4))
    grades, _ = grade_json(runner, graded)
    for sid, g in grades.items():
        wrong = [a["name"] for a in g["answers"] if a["status"] != "right"]
        assert wrong == [], (sid, wrong)


def test_the_tolerance_is_half_a_unit_of_the_asked_place(runner, graded):
    from tracenn.comparison import Tolerance
    from tracenn.exercises.marking import asked_place

    # the numbers: 13 units off in the asked 4th decimal, within a relative 1e-3
    assert Tolerance(written=False, decimals=4, relative=1e-3, floor=0.0).close(1.3769, 1.3756)
    assert not asked_place(4).close(1.3769, 1.3756)
    assert asked_place(4).close(1.3756, 1.37564) and asked_place(4).close(1.3755, 1.37554)
    assert not asked_place(4).close(1.3757, 1.37564)
    # a variant whose net_h1 is above 1: one slip of 13 units in its 4th decimal is wrong
    p = next(p for p in students(graded) if by_hand(spec_of(p))["net_h1"] > 1)
    values = by_hand(spec_of(p))
    values["net_h1"] = round(values["net_h1"], 4) + 0.0013
    fill(graded, p.name, values)
    grades, data = grade_json(runner, graded)
    answers = {a["name"]: a["status"] for a in grades[p.name]["answers"]}
    assert answers["net_h1"] == "wrong" and grades[p.name]["first_wrong"]["name"] == "net_h1"
    assert grades[p.name]["points"] == 35
    assert "within half a unit of decimal 4" in data["tolerance"]


MAZUR_MISTAKES = ["updated-weights", "sigma-prime-of-a", "dropped-half", "added-update",
                  "frozen-bias-updated"]


def test_mistake_runs_are_diagnosed_as_their_mistake(runner, graded):
    made = {}
    for p, mistake in zip(students(graded), MAZUR_MISTAKES * 2):
        result = runner("trace", spec_of(p), "--mistake", mistake, "--json")
        step = json.loads(result.stdout)
        values = {f"{k}+": v for k, v in step["params"].items()}
        values.update({f"dE/d{k}": v for k, v in step["grads"].items()})
        values.update(step["losses"], **{"E_total after": step["loss_after"]})
        values.update(step_values(step, tracenn.load(str(spec_of(p))).labels))
        fill(graded, p.name, values)
        made[p.name] = mistake
    grades, data = grade_json(runner, graded)
    for sid, mistake in made.items():
        g = grades[sid]
        full = [m["name"] for m in g["mistakes"] if not m["conflicts"]]
        assert full == [mistake], (sid, mistake, g["mistakes"])
        assert g["points"] < g["out_of"]
    counts = data["summary"]["mistakes"]
    assert {m: len(ids) for m, ids in counts.items()} == {m: 2 for m in MAZUR_MISTAKES}




@pytest.mark.parametrize("mistake", ["sigma-prime-of-a", "added-update"])
def test_mistakes_are_named_when_the_student_rounds_as_they_go(runner, graded, mistake):
    made, off = [], 0
    for p in students(graded):
        rounded = by_hand(spec_of(p), rounding=4, mistake=mistake)
        full = by_hand(spec_of(p), mistake=mistake)
        # the sheet is not the engine's mistaken numbers at 4 decimals: rounding moved some
        off += sum(f"{rounded[n]:.4f}" != f"{full[n]:.4f}" for n in rounded)
        fill(graded, p.name, rounded)
        made.append(p.name)
    assert off >= 10
    grades, data = grade_json(runner, graded)
    for sid in made:
        g = grades[sid]
        assert [m["name"] for m in g["mistakes"] if not m["conflicts"]] == [mistake], (sid, g)
    assert data["summary"]["mistakes"] == {mistake: made}
    text = runner("grade", graded, "--summary").stdout
    assert f"{mistake}  " in text and "(none)" not in text.split("Mistakes from the catalogue")[1].split("First wrong")[0]


@pytest.mark.parametrize("target, options, mistake", [
    ("mazur", ["--update-biases"], "bias-no-lr"),
    ("softmax", [], "extra-sigma-prime"),
    ("BATCH", [], "summed-batch"),
    ("BATCH", [], "sigma-prime-of-a"),
])
def test_the_other_mistakes_are_diagnosed_too(runner, tmp_path, target, options, mistake):
    if target == "BATCH":
        target = tmp_path / "batch.toml"
        target.write_text(BATCH)
    folder = tmp_path / "ex"
    assert runner("exercise", target, "--students", 2, "--seed", 3, *options, "-o", folder).exit_code == 0
    names = asked(folder)
    for p in students(folder):
        step = tracenn.step(str(spec_of(p)), mistakes=[mistake])
        fill(folder, p.name, {n: step[n] for n in names})
    grades, data = grade_json(runner, folder)
    for g in grades.values():
        assert [m["name"] for m in g["mistakes"] if not m["conflicts"]] == [mistake], g["mistakes"]
    assert data["summary"]["mistakes"] == {mistake: ["student-01", "student-02"]}


def test_an_early_wrong_number_is_followed_not_punished_twice(runner, graded):
    sid, p = "student-03", graded / "student-03"
    right = by_hand(spec_of(p))
    slipped = by_hand(spec_of(p), slip={"net_h1": right["net_h1"] + 0.1})
    fill(graded, sid, slipped)
    grades, _ = grade_json(runner, graded)
    answers = {a["name"]: a for a in grades[sid]["answers"]}
    assert answers["net_h1"]["status"] == "wrong"
    # h2 does not depend on h1: right; every value computed from out_h1 that the slip changes
    # visibly (written at 4 decimals, more than half a unit of the 4th from the right value)
    # follows from it, and gets credit
    for name in ("net_h2", "out_h2"):
        assert answers[name]["status"] == "right"
    changed = []
    for name, a in answers.items():
        if name != "net_h1":
            differs = abs(float(f"{slipped[name]:.4f}") - right[name]) > 0.5e-4
            assert a["status"] == ("follows" if differs else "right"), name
            changed += [name] if differs else []
    assert {"out_h1", "net_o1", "E_total", "delta_o1", "dE/dw5"} <= set(changed)
    assert len(changed) >= 15
    assert grades[sid]["points"] == 35
    first = grades[sid]["first_wrong"]
    assert first["name"] == "net_h1" and first["formula"] == "net_h1 = w1·i1 + w2·i2 + b1"
    assert grades[sid]["mistakes"] == []
    text = runner("grade", graded).stdout
    assert "First wrong number: net_h1 (question 1)" in text
    assert "follows from your earlier error" in text


def test_the_bad_files_students_hand_in(runner, graded):
    hand = {p.name: by_hand(spec_of(p)) for p in students(graded)}
    (graded / "student-01" / "answers.csv").unlink()  # not handed in
    names = asked(graded)
    fill(graded, "student-02", hand["student-02"], row=lambda n, t: f"{n}," if n == "delta_h1" else f"{n},{t}")
    fill(graded, "student-03", hand["student-03"], row=lambda n, t: f"{n},{t.replace('.', ',')}")
    fill(graded, "student-04", hand["student-04"], row=lambda n, t: f"  {n} ,   {t}  ")
    fill(graded, "student-05", hand["student-05"])
    with open(graded / "student-05" / "answers.csv", "a") as f:
        f.write("w9,0.5\n")
    (graded / "student-06" / "answers.csv").write_text("")
    fill(graded, "student-07", hand["student-07"], row=lambda n, t: f"{n},abc" if n == "w5+" else f"{n},{t}")
    fill(graded, "student-08", hand["student-08"], row=lambda n, t: f"{n};{t.replace('.', ',')}")
    (graded / "key" / "student-09.toml").write_text("not toml [")
    (graded / "student-10" / "answers.csv").write_text("name,value\nnet_h1,0.5\n", encoding="utf-16")
    fill(graded, "student-11", hand["student-11"])
    (graded / "key" / "student-11.toml").write_text((graded / "key" / "student-11.toml").read_text()
                                                    .replace('"h1"', '"n1"'))  # not the exercise's
    result = runner("grade", graded)
    assert result.exit_code == 0, result.stderr
    grades, _ = grade_json(runner, graded)
    assert grades["student-01"]["status"] == "not handed in"
    assert "answers.csv: missing" in grades["student-01"]["problems"][0]
    g2 = {a["name"]: a["status"] for a in grades["student-02"]["answers"]}
    assert g2["delta_h1"] == "missing" and grades["student-02"]["points"] == 35
    assert grades["student-03"]["points"] == 36
    assert any("a decimal comma" in p for p in grades["student-03"]["problems"])
    assert grades["student-04"]["points"] == 36
    assert grades["student-05"]["points"] == 36
    assert any("'w9' is no quantity" in p for p in grades["student-05"]["problems"])
    assert grades["student-06"]["status"] == "not filled in"
    assert any("is empty" in p for p in grades["student-06"]["problems"])
    g7 = {a["name"]: a["status"] for a in grades["student-07"]["answers"]}
    assert g7["w5+"] == "unreadable" and grades["student-07"]["points"] == 35
    assert any("not a number: 'abc'" in p for p in grades["student-07"]["problems"])
    assert grades["student-08"]["points"] == 36
    assert grades["student-09"]["status"] == "cannot be graded"
    assert "not valid TOML" in grades["student-09"]["problems"][0]
    assert grades["student-10"]["status"] == "cannot be graded"  # a spreadsheet's UTF-16
    assert "cannot be read" in grades["student-10"]["problems"][0]
    assert grades["student-11"]["status"] == "cannot be graded"
    assert "has none of net_h1, out_h1, dE/dout_h1" in grades["student-11"]["problems"][0]
    assert all(grades[f"student-{n:02d}"]["status"] == "not filled in" for n in range(12, 31))
    assert len(names) == 36


def test_the_t_minus_o_convention_gets_full_marks_and_a_note(runner, graded):
    p = graded / "student-04"
    values = by_hand(spec_of(p))
    for name in asked(graded):
        if name.startswith("delta") or name.startswith("dE/dw"):
            values[name] = -values[name]
    fill(graded, "student-04", values)
    grades, data = grade_json(runner, graded)
    g = grades["student-04"]
    assert g["points"] == 36 and g["convention"]["name"] == "t − o"
    assert g["convention"]["negated"] == ["deltas", "gradients"]
    assert data["summary"]["convention"] == ["student-04"]


def test_grade_outputs_a_gradebook_tables_and_a_summary(runner, graded):
    for p in students(graded)[:4]:
        fill(graded, p.name, by_hand(spec_of(p)))
    rows = list(csv.reader(runner("grade", graded, "--csv").stdout.splitlines()))
    assert rows[0][:6] == ["student", "name", "status", "points", "out_of", "percent"]
    assert rows[1][:6] == ["student-01", "", "graded", "36", "36", "100.0"]
    assert rows[5][:5] == ["student-05", "", "not filled in", "", "36"] and len(rows) == STUDENTS + 1
    md = runner("grade", graded, "--format", "github").stdout
    assert "**student-01 · 36/36 (100%)**" in md and "| student-05 | not filled in |" in md
    summary = runner("grade", graded, "--summary").stdout
    assert "student-01 · " not in summary and "4 of 30 students graded; mean 100%" in summary
    out = graded / "grades.csv"
    assert runner("grade", graded, "--csv", "-o", out).exit_code == 0
    assert out.read_text().startswith("student,name,status,points")


def test_answers_handed_in_for_another_student_are_reported(runner, graded):
    two, three = by_hand(graded / "key/student-02.toml"), by_hand(graded / "key/student-03.toml")
    fill(graded, "student-03", two, student="student-02")  # student 02's file in 03's folder
    fill(graded, "student-04", by_hand(graded / "key/student-05.toml"))  # no student row
    fill(graded, "student-05", by_hand(graded / "key/student-05.toml"), student="student-05")
    fill(graded, "student-06", three, student="Student 6")
    grades, data = grade_json(runner, graded)
    g3 = grades["student-03"]
    assert g3["fits_better"] == "student-02"
    assert any("says student student-02, but is graded as student-03's" in p for p in g3["problems"])
    assert any("fit student-02's variant better (36 of 36 right there" in p for p in g3["problems"])
    assert grades["student-04"]["fits_better"] == "student-05"
    assert not any("says student" in p for p in grades["student-04"]["problems"])
    assert grades["student-05"]["fits_better"] is None and grades["student-05"]["points"] == 36
    assert grades["student-05"]["problems"] == []  # its student row is no quantity, not a problem
    assert not any("says student" in p for p in grades["student-06"]["problems"])
    assert grades["student-06"]["fits_better"] == "student-03"
    text = runner("grade", graded, "--summary").stdout
    assert "fits student-02's variant better" in text


def test_a_flat_folder_of_returned_files_and_the_roster_names(runner, graded, tmp_path):
    roster = (graded / "roster.csv").read_text().splitlines()
    roster[3] = roster[3] + "Ada Lovelace"  # student-03
    roster[2] = roster[2] + "Alan Turing"  # student-02
    (graded / "roster.csv").write_text("\n".join(roster) + "\n")
    back = tmp_path / "returned"
    back.mkdir()
    hand = {n: by_hand(graded / f"key/student-{n:02d}.toml") for n in (1, 2, 3, 4)}
    fill(graded, None, hand[1], path=back / "student-01.csv", student="student-01")
    fill(graded, None, hand[2], path=back / "Student 2 answers.csv")
    fill(graded, None, hand[3], path=back / "ada_lovelace.csv")
    fill(graded, None, hand[4], path=back / "scan0001.csv", student="student-04")
    fill(graded, None, hand[4], path=back / "student-04 (again).csv")
    (back / "notes.txt").write_text("nothing")
    grades, data = grade_json(runner, graded, back)
    assert [grades[f"student-{n:02d}"]["points"] for n in (1, 2, 3, 4)] == [36] * 4
    assert grades["student-05"]["status"] == "not handed in"
    assert grades["student-03"]["name"] == "Ada Lovelace"
    notes = data["notes"]
    assert any(n.startswith("notes.txt: names no student") for n in notes)
    assert any("a second file of student-04" in n for n in notes)
    rows = list(csv.reader(runner("grade", graded, back, "--csv").stdout.splitlines()))
    assert rows[2][:3] == ["student-02", "Alan Turing", "graded"]
    assert rows[3][:3] == ["student-03", "Ada Lovelace", "graded"]
    text = runner("grade", graded, back).stdout
    assert "student-03 (Ada Lovelace) · 36/36 (100%)" in text
    result = runner("grade", graded, tmp_path / "nowhere")
    assert result.exit_code == 2 and "no such folder" in result.stderr


def test_names_go_into_the_roster_and_the_gradebook_not_the_hand_out(runner, tmp_path):
    names = tmp_path / "names.txt"
    names.write_text("Ada Lovelace\n\nAlan Turing\nGrace Hopper\n")
    folder = tmp_path / "ex"
    result = runner("exercise", "mazur", "--names", names, "--seed", 1, "-o", folder)
    assert result.exit_code == 0, result.stderr
    roster = list(csv.reader((folder / "roster.csv").read_text().splitlines()))
    assert [r[2] for r in roster[1:]] == ["Ada Lovelace", "Alan Turing", "Grace Hopper"]
    assert not any("Lovelace" in f.read_text() for p in students(folder) for f in p.iterdir())
    fill(folder, "student-02", by_hand(folder / "key/student-02.toml"), student="student-02")
    rows = list(csv.reader(runner("grade", folder, "--csv").stdout.splitlines()))
    assert rows[2][:4] == ["student-02", "Alan Turing", "graded", "36"]
    bad = runner("exercise", "mazur", "--names", names, "--students", 2, "-o", tmp_path / "x")
    assert bad.exit_code == 2 and "3 name(s) for 2 student(s)" in bad.stderr


def test_grade_api(graded):
    fill(graded, "student-01", by_hand(graded / "key" / "student-01.toml"))
    grades = tracenn.grade(graded)
    assert grades.students[0].points == 36 and grades.summary()["graded"] == 1
    assert "<table" in grades._repr_html_() and "student-01" in grades._repr_html_()
    made = tracenn.exercise("mazur", 2, seed=1)
    assert [s.id for s in made.students] == ["student-01", "student-02"]
    assert made.files()["key/student-01.toml"] == (graded / "key/student-01.toml").read_text()


@pytest.mark.parametrize("make, words", [
    (lambda d: None, "no such folder"),
    (lambda d: d.mkdir(), "holds no exercise.json"),
    (lambda d: (d.mkdir(), (d / "exercise.json").write_text("{")), "is not an exercise"),
])
def test_a_bad_folder_is_the_only_error(runner, tmp_path, make, words):
    folder = tmp_path / "nope"
    make(folder)
    result = runner("grade", folder)
    assert result.exit_code == 2 and result.stdout == ""
    assert words in result.stderr and len(result.stderr.strip().splitlines()) == 1
