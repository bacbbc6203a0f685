"""tracenn exercise graph and its grading: variants drawn from the seed (the same bytes twice),
worksheets without answers, and answers written by hand in the test graded — right, a circuit
mistake named, a later value credited as following from an earlier error, messy files
reported per student."""

import json

import pytest

CIRCUIT = "(x + y) * z"  # g1 = x + y, f = g1 · z


def make(run, tmp_path, program=CIRCUIT, students=3, seed=5, name="class"):
    folder = tmp_path / name
    out = run("exercise", "graph", program, "--students", students, "--seed", seed, "-o", folder)
    assert out.exit_code == 0, out.output
    return folder


def files_of(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def values_of(folder):
    manifest = json.loads((folder / "exercise.json").read_text(encoding="utf-8"))
    return {s["id"]: s["values"] for s in manifest["students"]}


def hand_in(folder, sid, rows):
    text = "name,value\nstudent," + sid + "\n" + "".join(f"{k},{v}\n" for k, v in rows.items())
    (folder / sid / "answers.csv").write_text(text, encoding="utf-8")


def by_hand(v):
    """(x + y)·z worked by hand: the add gate passes the gradient on, the mul gate swaps."""
    g1 = v["x"] + v["y"]
    return {"g1": g1, "f": g1 * v["z"], "dz": g1, "dg1": v["z"], "dx": v["z"], "dy": v["z"]}


def four(answers):
    return {k: f"{x:.4f}" for k, x in answers.items()}


def test_same_seed_same_bytes_other_seed_other_values(run, tmp_path):
    a, b = make(run, tmp_path, name="a"), make(run, tmp_path, name="b")
    assert files_of(a) == files_of(b)
    c = make(run, tmp_path, seed=6, name="c")
    assert values_of(a) != values_of(c)
    for values in values_of(a).values():
        assert set(values) == {"x", "y", "z"}
        assert all(-5 <= x <= 5 and round(x, 2) == x for x in values.values())


def test_worksheet_holds_no_answer_and_key_holds_them(run, tmp_path):
    folder = make(run, tmp_path)
    v = values_of(folder)["student-01"]
    right = four(by_hand(v))
    sheet = (folder / "student-01" / "worksheet.md").read_text(encoding="utf-8")
    key = (folder / "key" / "student-01.md").read_text(encoding="utf-8")
    assert f"x = {v['x']:.2f}" in sheet
    assert all(f"| {r} |" not in sheet for r in right.values())
    assert all(f"| {q} | {r} |" in key for q, r in right.items())
    rows = (folder / "student-01" / "answers.csv").read_text(encoding="utf-8").splitlines()
    assert rows == ["name,value", "student,student-01", "g1,", "f,", "dz,", "dg1,", "dx,", "dy,"]


def grades(run, folder):
    out = run("grade", folder, "--json")
    assert out.exit_code == 0, out.output
    return {s["student"]: s for s in json.loads(out.output)["students"]}


def test_grade_right_mistake_follows_and_messy(run, tmp_path):
    folder = make(run, tmp_path, students=4)
    v = values_of(folder)
    hand_in(folder, "student-01", four(by_hand(v["student-01"])))
    # mul gate not swapped: each input of f = g1·z gets its own value, the add gate passes g1 on
    s2 = v["student-02"]
    g1 = s2["x"] + s2["y"]
    hand_in(folder, "student-02", four({"g1": g1, "f": g1 * s2["z"], "dz": s2["z"],
                                        "dg1": g1, "dx": g1, "dy": g1}))
    # dg1 off by one; dx and dy = 1 × that wrong dg1: they follow from it and get credit
    s3 = dict(by_hand(v["student-03"]))
    s3["dg1"] = s3["dx"] = s3["dy"] = v["student-03"]["z"] + 1
    hand_in(folder, "student-03", four(s3))
    # messy: a word for a number, a decimal comma; the rest graded all the same
    s4 = four(by_hand(v["student-04"]))
    s4["dx"], s4["dz"] = "minus four", s4["dz"].replace(".", ",")
    hand_in(folder, "student-04", {k: f'"{x}"' for k, x in s4.items()})
    g = grades(run, folder)
    assert (g["student-01"]["points"], g["student-01"]["out_of"]) == (6, 6)
    assert g["student-01"]["first_wrong"] is None and g["student-01"]["mistakes"] == []
    assert g["student-02"]["first_wrong"]["name"] == "dz"
    assert [m["name"] for m in g["student-02"]["mistakes"]] == ["mul-not-swapped"]
    assert g["student-02"]["mistakes"][0]["conflicts"] == []
    assert g["student-03"]["first_wrong"]["name"] == "dg1"
    assert {a["name"]: a["status"] for a in g["student-03"]["answers"]}["dx"] == "follows"
    assert g["student-03"]["points"] == 5
    assert g["student-04"]["points"] == 5
    assert {a["name"]: a["status"] for a in g["student-04"]["answers"]}["dx"] == "unreadable"
    assert any("minus four" in p for p in g["student-04"]["problems"])


def test_grade_names_a_fork_mistake_and_says_it_in_the_table(run, tmp_path):
    folder = make(run, tmp_path, program="b = a*a\nc = b + a", students=1)
    a = values_of(folder)["student-01"]["a"]
    # right: da = 2a + 1; overwritten at the fork: the last share a·1 replaced the rest
    hand_in(folder, "student-01", four({"b": a * a, "c": a * a + a, "db": 1.0, "da": a}))
    g = grades(run, folder)["student-01"]
    assert g["points"] == 3 and g["first_wrong"]["name"] == "da"
    assert [m["name"] for m in g["mistakes"]] == ["fork-overwritten"]
    out = run("grade", folder)
    assert "fork-overwritten" in out.output and "gradient not accumulated at a fork" in out.output


def test_max_variants_have_no_tie(run, tmp_path):
    folder = make(run, tmp_path, program="max(x, y) * z", students=5, seed=1)
    for v in values_of(folder).values():
        assert v["x"] != v["y"]


@pytest.mark.parametrize("args,says", [
    (["graph"], "tracenn exercise graph"),
    (["graph", "(x + y) * z", "--inputs", "3:1"], "LOW ≤ HIGH"),
    (["graph", "__import__('os')"], "not allowed"),
])
def test_bad_input_one_line(run, tmp_path, args, says):
    out = run("exercise", *args, "-o", tmp_path / "x")
    assert out.exit_code == 2 and says in out.output, out.output


def test_a_variant_whose_gradients_all_vanish_is_drawn_again(run, tmp_path):
    folder = make(run, tmp_path, program="relu(x * y)", students=6, seed=2)
    for v in values_of(folder).values():
        assert v["x"] * v["y"] > 0  # the relu is on: dx = y, dy = x


def test_a_primed_name_typed_with_an_apostrophe(run, tmp_path):
    folder = make(run, tmp_path, program="c = a + b\nc += c * a", students=1)
    v = values_of(folder)["student-01"]
    a, b = v["a"], v["b"]
    c = a + b
    # the output c′ = c + g2, g2 = c·a: dg2 = 1, dc = 1 + a, da = dc + c, db = dc
    hand_in(folder, "student-01", four({"c": c, "g2": c * a, "c'": c + c * a,
                                        "dg2": 1, "dc": 1 + a, "da": 1 + a + c, "db": 1 + a}))
    g = grades(run, folder)["student-01"]
    assert (g["points"], g["out_of"]) == (7, 7), g
    assert not g["problems"], g["problems"]


def test_answers_copied_from_another_variant_are_said_so(run, tmp_path):
    folder = make(run, tmp_path, students=2)
    v = values_of(folder)
    hand_in(folder, "student-02", four(by_hand(v["student-01"])))  # student-01's numbers
    g = grades(run, folder)["student-02"]
    assert g["fits_better"] == "student-01"
    assert any("fit student-01's variant better" in p for p in g["problems"])
