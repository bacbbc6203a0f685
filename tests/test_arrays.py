"""A learner's own NumPy arrays checked: every naming style and layout round-trips (tracenn's trace
turned into the learner's arrays and read back matches), bugs planted in learner-style NumPy code
written here are found at the right number, and specs come from arrays and .npy files."""

from __future__ import annotations

import numpy as np
import pytest

import tracenn
from tracenn.spec.writer import spec_to_toml

SPEC = """
[network]
sizes = [2, 3, 2]
activations = ["sigmoid", "sigmoid"]
loss = "half-sse"
[[layer]]
weights = [[0.1, -0.2], [0.4, 0.3], [-0.5, 0.2]]
biases = [0.0, 0.2, -0.1]
[[layer]]
weights = [[0.3, -0.1, 0.2], [-0.2, 0.4, 0.1]]
biases = [0.1, 0.0]
[training]
learning_rate = 0.5
steps = 3
mode = "{mode}"
[data]
inputs = [[0.5, -1.0], [1.0, 0.5], [-0.5, 0.5], [0.0, 1.0]]
targets = [[1, 0], [0, 1], [1, 1], [0, 0]]
"""


def spec(mode="batch"):
    return tracenn.load(SPEC.replace("{mode}", mode))


def trace(s, steps=3):
    return tracenn.trace(s, steps=steps).steps


# --- tracenn's trace in each learner's layout ----------------------------------------------------

def course(step, scaled=False):
    """deeplearning.ai: samples in columns, W n_out×n_in, b a column, 1-based."""
    m, out = len(step.samples), {}
    for l, lt in enumerate(step.layers, start=1):
        out.update({f"Z{l}": lt.z.T, f"A{l}": lt.a.T, f"dZ{l}": lt.delta.T / (m if scaled else 1),
                    f"dW{l}": lt.grad_W, f"db{l}": lt.grad_b[:, None], f"W{l}": lt.W,
                    f"b{l}": lt.b[:, None], f"W{l}_new": lt.W_new, f"b{l}_new": lt.b_new[:, None]})
    out["A0"] = step.x.T
    return out


def rows_transposed(step):
    """Samples in rows, W as n_in×n_out (x @ W + b), b flat."""
    out = {}
    for l, lt in enumerate(step.layers, start=1):
        out.update({f"Z{l}": lt.z, f"A{l}": lt.a, f"dZ{l}": lt.delta, f"dW{l}": lt.grad_W.T,
                    f"db{l}": lt.grad_b, f"W{l}_new": lt.W_new.T})
    return out


def nielsen(step):
    """network.py: per-sample column vectors, lists 0-based, activations[0] the input,
    nabla_w summed over the mini-batch."""
    m = len(step.samples)
    return {"zs": [lt.z.T for lt in step.layers],
            "activations": [step.x.T] + [lt.a.T for lt in step.layers],
            "deltas": [lt.delta.T for lt in step.layers],
            "nabla_w": [lt.grad_W * m for lt in step.layers],
            "nabla_b": [lt.grad_b[:, None] * m for lt in step.layers]}


def own(step):
    return {k: [getattr(lt, k) for lt in step.layers]
            for k in ("z", "a", "delta", "grad_W", "grad_b", "W_new", "b_new")}


@pytest.mark.parametrize("layout, mode, read", [
    (course, "batch", "samples in columns, W as n_out×n_in"),
    (course, "online", "samples in columns, W as n_out×n_in"),
    (rows_transposed, "batch", "samples in rows, W as n_in×n_out, transposed"),
    (nielsen, "batch", "nabla_w, nabla_b summed over the batch, divided by m"),
    (nielsen, "online", "Nielsen's network.py layout"),
    (own, "batch", "samples in rows, W as n_out×n_in"),
])
def test_each_style_round_trips(layout, mode, read):
    s = spec(mode)
    chk = tracenn.checker(s)
    for step in trace(s):
        chk.step(**layout(step))
    report = chk.report()
    assert report.ok, str(report)
    assert read in report.read
    assert str(report).startswith("Read: ") and "All match" in str(report)
    assert report.checked > 40


def test_course_dz_scaled_by_one_over_m_is_read_and_said():
    s = spec()
    report = tracenn.check_arrays(s, 1, **course(trace(s, 1)[0], scaled=True))
    assert report.ok and "dZ as δ/m" in report.read


def test_a_perturbed_array_value_is_named():
    s = spec()
    steps = trace(s)
    chk = tracenn.checker(s)
    for step in steps:
        arrays = course(step)
        if step.step == 2:
            arrays["dW1"] = arrays["dW1"].copy()
            arrays["dW1"][2, 1] += 1e-6
        chk.step(**arrays)
    report = chk.report()
    assert report.first.step == 2 and report.first.name == "dE/dW1[3,2]"
    assert report.first.given == "dW1[2, 1]"
    assert report.first.right == pytest.approx(steps[1].layers[0].grad_W[2, 1], abs=0)


def test_square_weights_are_decided_by_the_values():
    s = tracenn.load(SPEC.replace("{mode}", "batch").replace(
        "sizes = [2, 3, 2]", "sizes = [2, 2, 2]").replace(
        "[[0.1, -0.2], [0.4, 0.3], [-0.5, 0.2]]", "[[0.1, -0.2], [0.4, 0.3]]").replace(
        "[0.0, 0.2, -0.1]", "[0.0, 0.2]").replace("[[0.3, -0.1, 0.2], [-0.2, 0.4, 0.1]]",
                                                  "[[0.3, -0.1], [-0.2, 0.4]]"))
    step = trace(s, 1)[0]
    report = tracenn.check_arrays(s, 1, dW1=step.layers[0].grad_W.T, dW2=step.layers[1].grad_W.T)
    assert report.ok
    assert "W as n_in×n_out, transposed (by the values: the shapes fit both ways)" in report.read


def test_a_shape_that_fits_no_layout_names_the_array_and_the_shapes():
    with pytest.raises(tracenn.ValuesError, match=r"dW2 has shape \(3, 3\).*\(2, 3\) or \(3, 2\)"):
        tracenn.check_arrays(spec(), 1, dW2=np.zeros((3, 3)))


# --- a learner's own loop with a planted bug ------------------------------------------------------

def sig(x):
    return 1 / (1 + np.exp(-x))


def learner_loop(steps, bug=None):
    """A course-style 2-3-2 network written as a learner writes it."""
    X = np.array([[0.5, -1.0], [1.0, 0.5], [-0.5, 0.5], [0.0, 1.0]]).T
    Y = np.array([[1, 0], [0, 1], [1, 1], [0, 0]], dtype=float).T
    W1 = np.array([[0.1, -0.2], [0.4, 0.3], [-0.5, 0.2]]); b1 = np.array([[0.0], [0.2], [-0.1]])
    W2 = np.array([[0.3, -0.1, 0.2], [-0.2, 0.4, 0.1]]); b2 = np.array([[0.1], [0.0]])
    m, out = 4, []
    for _ in range(steps):
        Z1 = W1 @ X + b1; A1 = sig(Z1); Z2 = W2 @ A1 + b2; A2 = sig(Z2)
        dsig2 = sig(A2) * (1 - sig(A2)) if bug == "sigma" else A2 * (1 - A2)
        dZ2 = (A2 - Y) * dsig2
        dW2 = dZ2 @ A1.T / m
        db2 = np.sum(dZ2) / m if bug == "no-axis" else np.sum(dZ2, axis=1, keepdims=True) / m
        dsig1 = sig(A1) * (1 - sig(A1)) if bug == "sigma" else A1 * (1 - A1)
        dZ1 = (W2.T @ dZ2) * dsig1
        dW1 = dZ1 @ X.T / m; db1 = np.sum(dZ1, axis=1, keepdims=True) / m
        out.append(dict(Z1=Z1, A1=A1, Z2=Z2, A2=A2, dZ2=dZ2, dW2=dW2, db2=db2, dZ1=dZ1, dW1=dW1,
                        db1=db1, W1=W1, b1=b1))
        W1, b1, W2, b2 = W1 - 0.5 * dW1, b1 - 0.5 * db1, W2 - 0.5 * dW2, b2 - 0.5 * db2
    return out


def check_loop(arrays):
    chk = tracenn.checker(spec())
    for a in arrays:
        chk.step(**a)  # a scalar db2 (np.sum without an axis) is read as NumPy broadcasts it
    return chk.report()


def test_the_right_loop_matches_every_step():
    report = check_loop(learner_loop(3))
    assert report.ok and report.steps == [1, 2, 3]


def test_sigma_prime_of_a_is_found_at_the_first_delta_and_named():
    report = check_loop(learner_loop(3, bug="sigma"))
    assert (report.first.step, report.first.name) == (1, "delta2[1]@1")
    right = trace(spec(), 1)[0].layers[1].delta[0, 0]
    assert report.first.right == pytest.approx(right, abs=0)
    assert report.mistakes[0] == "sigma-prime-of-a"
    assert ("every later step (2–3) follows from it: it matches tracenn's run with "
            "sigma-prime-of-a") in report.follows
    assert "delta2[1]@1 = dE/da2[1]@1" in str(report)  # the formula, for a small network


def test_a_bias_gradient_summed_without_an_axis_is_found_at_db2():
    report = check_loop(learner_loop(2, bug="no-axis"))
    assert (report.first.step, report.first.name, report.first.given) == (1, "dE/db2[1]", "db2[0]")
    assert report.wrong_steps[0] == 1


# --- the command ---------------------------------------------------------------------------------

def test_check_command_reads_stacked_npz(run, tmp_path):
    path = tmp_path / "spec.toml"
    path.write_text(SPEC.replace("{mode}", "batch"), encoding="utf-8")
    loop = learner_loop(3, bug="sigma")
    np.savez(tmp_path / "run.npz", **{k: np.stack([a[k] for a in loop]) for k in loop[0]})
    result = run("check", path, "--values", tmp_path / "run.npz")
    assert result.exit_code == 1, result.output
    assert result.output.splitlines()[0].startswith("Read: samples in columns")
    assert "First wrong: step 1, delta2[1]@1 (dZ2[0, 0])" in result.output
    assert "sigma-prime-of-a" in result.output
    np.savez(tmp_path / "one.npz", **learner_loop(2)[1])
    result = run("check", path, "--values", tmp_path / "one.npz", "--step", 2)
    assert result.exit_code == 0 and "All match" in result.output


def test_check_command_bad_shape_is_one_line_exit_2(run, tmp_path):
    path = tmp_path / "spec.toml"
    path.write_text(SPEC.replace("{mode}", "batch"), encoding="utf-8")
    np.savez(tmp_path / "bad.npz", Z1=np.zeros((5, 5)))
    result = run("check", path, "--values", tmp_path / "bad.npz")
    assert result.exit_code == 2
    assert "Z1 has shape (5, 5)" in result.output and "Traceback" not in result.output


# --- specs from arrays ---------------------------------------------------------------------------

def test_from_arrays_finds_the_layout_and_equals_the_toml_spec():
    s = spec()
    W = [lt.W for lt in s.network.layers]
    b = [lt.b for lt in s.network.layers]
    for weights, biases, X, T in ((W, b, s.data.X, s.data.T),
                                  ([w.T for w in W], [v[:, None] for v in b], s.data.X.T, s.data.T.T)):
        got = tracenn.from_arrays(weights, biases, activations="sigmoid", loss="half-sse",
                                  inputs=X, targets=T, lr=0.5, mode="batch", steps=3)
        assert got.network.sizes == [2, 3, 2]
        for a, c in zip(got.network.layers, s.network.layers):
            assert np.array_equal(a.W, c.W) and np.array_equal(a.b, c.b)
        assert np.array_equal(got.data.X, s.data.X)
        assert tracenn.trace(got, steps=3).steps[-1].loss == trace(s)[-1].loss
    assert "W as n_in×n_out, transposed" in got.source and "samples in columns" in got.source


def test_a_written_spec_leaves_out_the_names_the_reader_gives_anyway():
    """A 10-64-10 net from arrays: its names are the indexed W2[3,7], so the TOML need not
    list them (they were most of its text), and it reads back to the same names and numbers."""
    from tracenn.spec import parse_spec

    rng = np.random.default_rng(0)
    Ws, bs = [rng.normal(size=(64, 10)), rng.normal(size=(10, 64))], [np.zeros(64), np.zeros(10)]
    got = tracenn.from_arrays(Ws, bs, activations=["sigmoid", "softmax"], loss="cross-entropy",
                              inputs=rng.random((3, 10)), targets=np.eye(10)[:3], lr=0.1,
                              mode="batch")
    text = spec_to_toml(got)
    assert "weight_names" not in text and "bias_names" not in text
    back = parse_spec(text)
    assert back.labels == got.labels and back.labels.weights[1][2][6] == "W2[3,7]"
    assert all(np.array_equal(a.W, c.W) for a, c in zip(back.network.layers, got.network.layers))
    # a name of one's own is kept
    got.labels.weights[0][0][0] = "w_first"
    back = parse_spec(spec_to_toml(got))
    assert back.labels.weights[0][0][0] == "w_first" and back.labels == got.labels
    # the blog's names stay written out beside their neurons
    assert 'weight_names = [["w5", "w6"], ["w7", "w8"]]' in spec_to_toml(tracenn.load("mazur"))


def test_npy_weights_and_data_file_beside_the_spec(tmp_path):
    s = spec()
    np.save(tmp_path / "w1.npy", s.network.layers[0].W)
    np.savez(tmp_path / "data.npz", X=s.data.X, Y=s.data.T)
    text = spec_to_toml(s, weight_files={0: "w1.npy"}, data_file="data.npz")
    assert 'weights = "w1.npy"' in text and 'file = "data.npz"' in text
    (tmp_path / "s.toml").write_text(text, encoding="utf-8")
    back = tracenn.load(str(tmp_path / "s.toml"))
    assert np.array_equal(back.network.layers[0].W, s.network.layers[0].W)
    assert np.array_equal(back.data.T, s.data.T)
    (tmp_path / "w1.npy").unlink()
    with pytest.raises(tracenn.SpecError, match="no such array file"):
        tracenn.load(str(tmp_path / "s.toml"))


def test_spec_from_npz_command(run, tmp_path):
    rng = np.random.default_rng(1)
    W1, W2 = rng.normal(size=(200, 60)), rng.normal(size=(3, 200))  # W1: 12000 weights, wide
    np.savez(tmp_path / "net.npz", W1=W1, b1=np.zeros((200, 1)), W2=W2, b2=np.zeros((3, 1)),
             X=rng.random((60, 5)), Y=np.eye(3)[[0, 1, 2, 0, 1]].T)
    out = tmp_path / "net.toml"
    result = run("spec", "--from-npz", tmp_path / "net.npz", "--activations", "tanh,softmax",
                 "--loss", "cross-entropy", "-o", out)
    assert result.exit_code == 0, result.output
    assert 'weights = "net.w1.npy"' in out.read_text(encoding="utf-8")
    back = tracenn.load(str(out))
    assert np.array_equal(back.network.layers[0].W, W1) and back.data.X.shape == (5, 60)
    assert back.mode == "batch"


def test_the_readme_example_prints_what_the_readme_shows():
    import re
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    text = (root / "README.md").read_text(encoding="utf-8")
    section = text.split("## Check your own NumPy network", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```(\w*)\n(.*?)```", section, re.S)
    code = next(body for lang, body in blocks if lang == "python")
    shown = next(body for lang, body in blocks if lang == "text")
    assert "sigmoid_prime" in code  # the planted bug
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == shown
    assert "First wrong: step 1, delta2[1]@1" in shown and "sigma-prime-of-a" in shown


def test_exact_zeros_get_no_slack():
    """xor's first sample is (0, 0): ∂E/∂W1 is exactly 0.0 there; 0.03 in its place is wrong."""
    s = tracenn.load("xor")
    step = trace(s, 1)[0]
    grad = step.layers[0].grad_W.copy()
    assert grad[0, 0] == 0.0
    assert tracenn.check_arrays(s, 1, dW1=grad).ok
    grad[0, 0] = 0.03
    report = tracenn.check_arrays(s, 1, dW1=grad)
    assert not report.ok and report.first.right == 0.0 and report.first.yours == 0.03


def test_check_json_and_compare_files_pass_through(run, tmp_path):
    import json

    path = tmp_path / "spec.toml"
    path.write_text(SPEC.replace("{mode}", "batch"), encoding="utf-8")
    np.savez(tmp_path / "run.npz", **learner_loop(1, bug="sigma")[0])
    result = run("check", path, "--values", tmp_path / "run.npz", "--json")
    doc = json.loads(result.output)
    assert result.exit_code == 1 and doc["kind"] == "check" and not doc["match"]
    assert doc["first_mismatch"]["name"] == "delta2[1]@1" and doc["mistakes"] == ["sigma-prime-of-a"]
    (tmp_path / "v.json").write_text(json.dumps({"E": 0.123}), encoding="utf-8")
    result = run("check", path, "--values", tmp_path / "v.json")
    assert result.exit_code == 1 and "E" in result.output


def test_inputs_of_other_samples_are_said_first():
    s = spec()
    arrays = course(trace(s, 1)[0])
    arrays["A0"] = arrays["A0"][:, ::-1]  # the samples in another order
    report = tracenn.check_arrays(s, 1, **arrays)
    assert report.first.name.startswith("x1@1 (an input")


def test_the_checker_follows_a_mini_batch_loop_in_the_learners_order():
    """A course-style loop over mini-batches of 2 in its own shuffled order (written here in
    NumPy, independently of tracenn) matches step by step; a change of one number in step 3 is
    named there and nowhere earlier."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent / "benchmarks"))
    from arrays import learner_mini_batches, spec_784

    Ws, bs, X, T = spec_784([4, 3, 2], n=8)
    order = np.random.default_rng(3).permutation(8)
    spec = tracenn.from_arrays(Ws, bs, activations="sigmoid", loss="half-sse", inputs=X,
                               targets=T, lr=0.5, steps=4).with_mini_batches(2, order=[order])
    arrays = learner_mini_batches(spec, order, 2)
    assert len(arrays) == 4
    chk = tracenn.checker(spec)
    for a in arrays:
        chk.step(**a)
    assert chk.report().ok
    arrays[2]["dW1"][1, 0] += 1e-3
    chk = tracenn.checker(spec)
    for a in arrays:
        chk.step(**a)
    text = str(chk.report())
    assert "step 3, dE/dW1[2,1]" in text, text
