"""tracenn compare: right numbers match, a perturbed number is found, every catalogued mistake is
recognised, and bad files end in one clear line."""

import json

import pytest


BATCH_SPEC = """
[network]
sizes = [2, 3, 2]
activations = ["tanh", "sigmoid"]
loss = "half-sse"
init = "normal"
init_scale = 0.8
seed = 3
[training]
learning_rate = 0.5
steps = 1
mode = "batch"
[data]
inputs = [[0.5, -0.2], [-0.3, 0.8], [0.9, 0.1]]
targets = [[1, 0], [0, 1], [1, 0]]
"""

# Each mistake on a network where it changes the numbers: (target, extra options)
WHERE = {
    "updated-weights": ("mazur", []),
    "sigma-prime-of-a": ("mazur", []),
    "dropped-half": ("mazur", []),
    "added-update": ("mazur", []),
    "bias-no-lr": ("mazur", ["--update-biases"]),
    "frozen-bias-updated": ("mazur", []),
    "summed-batch": ("BATCH", []),
    "extra-sigma-prime": ("softmax", []),
}


def test_catalogue_is_covered():
    from tracenn.engine.mistakes import applicable

    assert set(WHERE) == set(applicable("sgd", 0.0, step=1))


def target_path(target, tmp_path):
    if target == "BATCH":
        path = tmp_path / "batch.toml"
        path.write_text(BATCH_SPEC)
        return str(path)
    return target


def trace_json(run, target, options, tmp_path, *extra):
    cmd = "mazur" if target == "mazur" else "trace"
    args = [cmd] + ([] if target == "mazur" else [target]) + options + list(extra) + ["--json"]
    result = run(*args)
    assert result.exit_code == 0, result.stderr
    path = tmp_path / "values.jsonl"
    path.write_text(result.stdout)
    return path


@pytest.mark.parametrize("mistake", sorted(WHERE))
def test_each_mistake_is_diagnosed(run, tmp_path, mistake):
    target, options = WHERE[mistake]
    target = target_path(target, tmp_path)
    values = trace_json(run, target, options, tmp_path, "--mistake", mistake)
    result = run("compare", target, "--values", values, *options, "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["match"] is False
    assert [m["name"] for m in data["mistakes"]] == [mistake]
    assert data["mistakes"][0]["conflicts"] == []


@pytest.mark.parametrize("mistake", sorted(WHERE))
def test_right_numbers_match(run, tmp_path, mistake):
    target, options = WHERE[mistake]
    target = target_path(target, tmp_path)
    values = trace_json(run, target, options, tmp_path)
    result = run("compare", target, "--values", values, *options)
    assert result.exit_code == 0, result.stdout
    assert "Every value you gave matches." in result.stdout


def test_one_perturbed_number_is_the_first_mismatch(run, tmp_path):
    values = json.loads(trace_json(run, "mazur", [], tmp_path).read_text())
    values["layers"][0]["delta"][0][1] += 0.001  # delta_h2
    path = tmp_path / "perturbed.json"
    path.write_text(json.dumps(values))
    result = run("compare", "mazur", "--values", path)
    assert result.exit_code == 1
    out = result.stdout
    assert "First mismatch: delta_h2 (delta)" in out
    assert "yours:   0.010954255" in out and "right:   0.009954255" in out
    assert "delta_h2 = dE/dout_h2·(out_h2·(1 − out_h2))" in out
    assert "= 0.041370323·(0.596884378·(1 − 0.596884378))" in out
    assert "dE/dout_h2 right" in out and "out_h2 right" in out
    assert "known mistake" not in out


def test_flat_json_and_csv_with_blog_numbers(run, tmp_path):
    # values as printed in Mazur's blog (rounded to 8-9 decimals)
    flat = {"out_h1": 0.593269992, "out_o1": 0.75136507, "E_total": 0.298371109,
            "dE_dw5": 0.082167041, "w5": 0.35891648, "w1": 0.149780716}
    path = tmp_path / "blog.json"
    path.write_text(json.dumps(flat))
    result = run("compare", "mazur", "--values", path)
    assert result.exit_code == 0, result.stdout
    csv = tmp_path / "blog.csv"
    csv.write_text("name,value\n" + "\n".join(f"{k},{v}" for k, v in flat.items())
                   + "\nE_total_after,0.291027924\nmystery,1\n")
    result = run("compare", "mazur", "--values", csv)
    assert result.exit_code == 1
    assert "Unknown names (not quantities of this network, skipped): mystery" in result.stdout
    assert "First mismatch: E_total after" in result.stdout
    # the blog mixes its text (w1 from the original w5..w8) with its script's error figure
    assert ("Your wrong numbers match a known mistake: updated-weights" in result.stdout
            and "would also have changed w1+, which you have right" in result.stdout)


def test_missing_quantities_are_skipped(run, tmp_path):
    path = tmp_path / "few.csv"
    path.write_text("out_o2,0.772928465\n")
    result = run("compare", "mazur", "--values", path)
    assert result.exit_code == 0
    # 8 forward (net, out), 3 errors, 8 of the backward pass (∂E/∂out, δ), 2 ∂E/∂x, 10 gradients,
    # 10 updates and the error after: 42 quantities, one of them given
    assert "compared 1 of your values (41 quantities not given)" in result.stdout


@pytest.mark.parametrize("content, words", [
    ("this is not json or csv at all\n", "expected name,value"),
    ("{not json", "not valid JSON"),
    ('{"w5": "abc"}', "key 'w5': expected a number"),
    ('{"w5": NaN}', "key 'w5': expected a finite number"),
    ("w5,nan\n", "finite"),
    ("w5,abc\n", "row 1: the value of w5 is not a number"),
    ("w5,1,2,3\n", "row 1: expected name,value, got 4 field(s)"),
    ("w5,0.1,2\n", "row 1: the value of w5 is not a number: '0.1,2'"),
    ("", "is empty"),
    ("[1, 2]", "expected a flat JSON object"),
])
def test_bad_values_files(run, tmp_path, content, words):
    path = tmp_path / "bad.txt"
    path.write_text(content)
    result = run("compare", "mazur", "--values", path)
    assert result.exit_code == 2, result.stdout
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and words in lines[0]


def test_missing_values_file(run, tmp_path):
    result = run("compare", "mazur", "--values", tmp_path / "nope.json")
    assert result.exit_code == 2 and "no such file" in result.stderr


def test_mistake_option_changes_the_trace(run):
    out = run("mazur", "--mistake", "updated-weights").stdout
    assert "0.291027924" in out and "Mistake switched on: updated-weights" in out


def test_softmax_with_mse_goes_through_the_jacobian(run, tmp_path):
    from tracenn.spec import preset_text

    spec = tmp_path / "softmax-mse.toml"
    spec.write_text(preset_text("softmax").replace('loss = "cross-entropy"', 'loss = "mse"'))
    values = json.loads(run("trace", spec, "--json").stdout)
    path = tmp_path / "v.json"
    path.write_text(json.dumps(values))
    assert run("compare", spec, "--values", path).exit_code == 0
    values["layers"][1]["delta"][0][2] *= 2  # delta_o3
    path.write_text(json.dumps(values))
    result = run("compare", spec, "--values", path)
    assert result.exit_code == 1 and "First mismatch: delta_o3 (delta)" in result.stdout
