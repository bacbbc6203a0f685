"""Outside Jupyter a result reads as the command's report: `print(result)` writes what the
command prints for the same input, to the byte (both come from render/text.py)."""

import json

import pytest

import tracenn

ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent
TINY = ROOT / "tests" / "specs" / "tiny.toml"


def printed(value) -> str:
    """What print(value) writes."""
    return str(value) + "\n"


@pytest.mark.parametrize("target,args,options", [
    ("mazur", ["--steps", "2"], {"steps": 2}),
    ("softmax", ["--steps", "3", "--every", "2"], {"steps": 3, "every": 2}),
    (str(TINY), ["--steps", "2", "--optimizer", "adam"], {"steps": 2, "optimizer": "adam"}),
    ("mazur", ["--steps", "1", "--mistake", "sigma-prime-of-a"],
     {"steps": 1, "mistakes": ["sigma-prime-of-a"]})])
def test_a_run_prints_as_tracenn_trace(run, target, args, options):
    out = run("trace", target, *args)
    assert out.exit_code == 0, out.output
    assert printed(tracenn.trace(target, **options)) == out.stdout


def test_the_mazur_run_carries_the_blogs_note_after_step_1(run):
    text = str(tracenn.trace("mazur", 2))
    note = tracenn.load("mazur").note
    assert note and text.count(note) == 1
    assert printed(tracenn.trace("mazur", 1)) == run("mazur").stdout


def test_a_step_prints_its_tables_as_in_the_trace(run):
    step = tracenn.step("mazur")
    out = run("trace", "mazur", "--steps", "1").stdout
    assert out.startswith(str(step) + "\n\n")
    assert "0.298371109" in str(step)  # the blog's E_total, by hand in its post
    assert "dataclass" not in str(step) and not str(step).startswith("Step(")


def test_a_step_with_a_mistake_says_so():
    assert "Mistake switched on: sigma-prime-of-a" in str(
        tracenn.step("mazur", mistakes=["sigma-prime-of-a"]))


@pytest.mark.parametrize("target,args", [("mazur", []), ("softmax", ["--dps", "30"]),
                                         ("mazur", ["--optimizer", "momentum", "--step", "2"])])
def test_a_verification_prints_as_tracenn_verify(run, target, args):
    out = run("verify", target, *args)
    assert out.exit_code == 0, out.output
    options = {"dps": 30} if "--dps" in args else {}
    step = 1
    if "--optimizer" in args:
        options["optimizer"], step = "momentum", 2
    result = tracenn.verify(target, step, **options)
    assert printed(result) == out.stdout
    assert str(result).endswith("All checks pass.")


@pytest.mark.parametrize("values", [
    {"out_h1": 0.593269992, "out_o1": 0.75136507},  # right, the blog's numbers
    {"out_h1": 0.593269992, "delta_o1": 0.138498562, "dE/dw5": 0.082167041},  # wrong sign
    {"net_h1": 1.3769, "out_h1": 0.5933},  # off in the 4th decimal
])
def test_a_comparison_prints_as_tracenn_compare(run, tmp_path, values):
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(values), encoding="utf-8")
    out = run("compare", "mazur", "--values", path)
    result = tracenn.compare("mazur", values)
    assert out.exit_code == (0 if result.ok else 1)
    assert printed(result) == out.stdout
    assert str(result).startswith("Step 1: compared")


def test_an_xor_run_prints_as_tracenn_xor(run):
    out = run("xor", "--epochs", "30", "--seed", "1")
    assert out.exit_code == 0, out.output
    assert printed(tracenn.xor(epochs=30, seed=1)) == out.stdout


def test_a_walkthrough_is_the_document_the_command_prints(run):
    # a document, so it ends with its own newline (and -o writes the same text)
    assert tracenn.walkthrough("mazur") == run("walkthrough", "mazur").stdout
