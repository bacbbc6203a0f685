"""Mazur's published numbers, checked from the machine-readable trace (`--json`)."""

import json

import pytest

# Matt Mazur, "A Step by Step Backpropagation Example" (2015), values as printed in the blog.
BLOG_FORWARD = {
    "out_h1": 0.593269992, "out_h2": 0.596884378, "net_o1": 1.105905967,
    "out_o1": 0.75136507, "out_o2": 0.772928465, "E_total": 0.298371109,
}
BLOG_AFTER_STEP_1 = {
    "w5": 0.35891648, "w6": 0.408666186, "w7": 0.511301270, "w8": 0.561370121,
    "w1": 0.149780716, "w2": 0.19956143, "w3": 0.24975114, "w4": 0.29950229,
}


def lines(result):
    assert result.exit_code == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_forward_values_match_the_blog(run):
    (step,) = lines(run("mazur", "--json"))
    hidden, output = step["layers"]
    got = {
        "out_h1": hidden["a"][0][0], "out_h2": hidden["a"][0][1], "net_o1": output["z"][0][0],
        "out_o1": output["a"][0][0], "out_o2": output["a"][0][1], "E_total": step["loss"],
    }
    for name, value in BLOG_FORWARD.items():
        assert got[name] == pytest.approx(value, abs=1e-9), name


def test_gradient_and_updated_weights_match_the_blog(run):
    (step,) = lines(run("mazur", "--steps", "1", "--json"))
    assert step["grads"]["w5"] == pytest.approx(0.082167041, abs=1e-9)
    for name, value in BLOG_AFTER_STEP_1.items():
        assert step["params"][name] == pytest.approx(value, abs=1e-8), name
    # biases are not updated in the blog
    assert step["params"]["b1"] == 0.35 and step["params"]["b2"] == 0.60


def test_error_after_first_update_uses_the_weights_before_the_update(run):
    (step,) = lines(run("mazur", "--json"))
    assert step["step"] == 1
    assert step["loss_after"] == pytest.approx(0.29102777369, abs=1e-11)


def test_blog_figure_comes_from_hidden_deltas_with_updated_weights(run):
    (step,) = lines(run("mazur", "--json", "--mistake", "updated-weights"))
    assert step["loss_after"] == pytest.approx(0.291027924, abs=1e-9)


def test_error_after_9999_and_10000_updates(run):
    entries = lines(run("mazur", "--steps", "10000", "--every", "10000", "--json"))
    assert [e["kind"] for e in entries] == ["summary", "step"]
    last = entries[-1]
    assert last["step"] == 10000
    # the blog's final 0.0000351085 is the error after 9,999 updates ...
    assert last["loss"] == pytest.approx(0.0000351085, abs=1e-10)
    # ... after 10,000 it is 3.5101878e-05
    assert last["loss_after"] == pytest.approx(3.5101878e-05, abs=1e-12)


def test_shared_bias_gradient_is_the_sum_over_the_layer(run):
    (step,) = lines(run("mazur", "--json", "--update-biases"))
    output = step["layers"][1]
    assert output["grad_b"] == [pytest.approx(sum(output["delta"][0]))]
    assert step["params"]["b2"] == pytest.approx(0.60 - 0.5 * sum(output["delta"][0]))


def test_json_is_one_object_per_shown_step_with_the_documented_keys(run):
    entries = lines(run("mazur", "--steps", "3", "--json"))
    assert [e["step"] for e in entries] == [1, 2, 3]
    for e in entries:
        assert e["format"] == 1
        assert set(e["params"]) == {f"w{i}" for i in range(1, 9)} | {"b1", "b2"}
        for layer in e["layers"]:
            assert {"name", "W", "b", "z", "a", "delta", "grad_W", "grad_b", "W_new",
                    "b_new"} <= set(layer)
    # each step starts from the previous step's updated weights
    assert entries[1]["layers"][1]["W"] == entries[0]["layers"][1]["W_new"]
    assert entries[1]["loss"] == entries[0]["loss_after"]


def test_step_one_explains_the_blog_figures(run):
    out = run("mazur").stdout
    assert "0.291027924" in out and "0.291027774" in out and "9,999" in out


def test_mazur_starts_without_sympy():
    import subprocess
    import sys

    code = ("import sys; from tracenn.cli import main; sys.argv = ['tracenn', 'mazur'];\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "assert 'sympy' not in sys.modules, 'tracenn mazur imported SymPy'")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_the_readme_example_is_the_real_output(run):
    """Every line of README's abridged `tracenn mazur --steps 1` is a line of the output."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    block = readme.split("`tracenn mazur --steps 1` (abridged):\n\n```\n", 1)[1].split("```", 1)[0]
    output = run("mazur", "--steps", "1").stdout.splitlines()
    shown = [line for line in block.splitlines() if line != "…"]
    assert len(shown) > 10
    for line in shown:
        assert line in output, line
