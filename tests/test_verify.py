"""tracenn verify: SymPy's derivative, backprop and finite differences agree, and the check can
fail."""

import json
import os
import re
import select
import signal
import subprocess
import sys
import time
from dataclasses import replace

import numpy as np
import pytest

import tracenn
from tracenn.engine import functions
from tracenn.errors import UnsupportedError
from tracenn.maths import verify as symbolic
from tracenn.runs import trace_one_step
from tracenn.spec import parse_spec


@pytest.mark.parametrize("target", ["mazur", "xor", "softmax"])
def test_verify_passes_on_presets(run, target):
    result = run("verify", target)
    assert result.exit_code == 0, result.stdout
    assert "All checks pass." in result.stdout
    assert "FAIL" not in result.stdout


def test_verify_mazur_rows_hold_the_blog_values(run):
    data = json.loads(run("verify", "mazur", "--json").stdout)
    assert data["pass"] is True
    rows = {r["name"]: r for r in data["gradients"]}
    assert set(rows) == {f"w{i}" for i in range(1, 9)} | {"b1", "b2"}
    # ∂E/∂w5 from the blog, three ways
    for key in ("sympy", "backprop", "finite_difference"):
        assert rows["w5"][key] == pytest.approx(0.082167041, abs=1e-9)
    assert rows["w5"]["chain_rule"] == "∂E/∂w5 = (out_o1 − t1) · out_o1·(1 − out_o1) · out_h1"


def test_latex_of_w5_gradient(run):
    out = run("verify", "mazur", "--latex").stdout
    expected = (r"\frac{\partial E_{\mathrm{total}}}{\partial w_{5}} &= "
                r"\left(\mathrm{out}_{o1} - t_{1}\right) \cdot \mathrm{out}_{o1} "
                r"\left(1 - \mathrm{out}_{o1}\right) \cdot \mathrm{out}_{h1} = 0.082167041")
    assert expected in out
    assert out.startswith(r"\begin{align*}") and out.rstrip().endswith(r"\end{align*}")


def _wrong_sigmoid(monkeypatch):
    # σ′ computed as σ(z): the classic slip of forgetting the (1 − σ) factor
    wrong = replace(functions.SIGMOID, prime=lambda z, a, ops: a)
    for name in ("sigmoid", "logistic", "logsig"):
        monkeypatch.setitem(functions.ACTIVATIONS, name, wrong)


def test_verify_fails_with_a_wrong_derivative_and_names_the_rows(run, monkeypatch):
    _wrong_sigmoid(monkeypatch)
    result = run("verify", "mazur")
    assert result.exit_code == 1
    failed = result.stdout.split("FAILED: ")[1]
    for name in ["w1", "w5", "w8", "sigmoid derivative", "half-sse + sigmoid output",
                 "hidden recurrence"]:
        assert name in failed
    # identities that do not involve the sigmoid still hold
    assert "tanh derivative" not in failed and "softmax Jacobian" not in failed


def test_check_column_fails_with_a_wrong_derivative(run, monkeypatch):
    assert run("mazur", "--check").exit_code == 0
    _wrong_sigmoid(monkeypatch)
    result = run("mazur", "--check")
    assert result.exit_code == 1
    assert "FAIL" in result.stdout


def test_check_in_json(run):
    (step,) = [json.loads(l) for l in run("mazur", "--check", "--json").stdout.splitlines()]
    assert step["checks"]["w5"]["pass"] is True
    assert step["checks"]["w5"]["sympy"] == pytest.approx(0.082167041, abs=1e-9)


def test_high_precision_recomputation(run):
    result = run("verify", "mazur", "--dps", "50", "--json")
    rows = {r["name"]: r for r in json.loads(result.stdout)["precision"]}
    assert rows["E_total"]["abs_difference"] < 1e-15
    assert rows["w5 (new)"]["high_precision"].startswith("0.358916479717884")
    assert len(rows["out_o1"]["high_precision"].replace("0.", "", 1)) >= 45


def test_verify_at_a_later_step(run):
    data = json.loads(run("verify", "mazur", "--step", "3", "--json").stdout)
    assert data["step"] == 3 and data["pass"]


def _spec(hidden: str, output: str, loss: str, K: int, seed: int) -> str:
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (2, 3)).round(3).tolist()
    if loss == "cross-entropy" and output == "softmax":
        T = np.eye(K)[[0, K - 1]].tolist()
    elif loss == "cross-entropy":
        T = rng.uniform(0, 1, (2, K)).round(3).tolist()
    else:
        T = rng.uniform(-1, 1, (2, K)).round(3).tolist()
    return f"""
[network]
sizes = [3, 3, {K}]
activations = ["{hidden}", "{output}"]
loss = "{loss}"
init = "normal"
init_scale = 0.8
seed = {seed}
shared_bias = [false, {str(seed % 2 == 0).lower()}]
[training]
learning_rate = 0.1
steps = 1
mode = "batch"
[data]
inputs = {X}
targets = {T}
"""


COMBOS = [(out, loss) for out in ["sigmoid", "tanh", "relu", "identity", "softmax"]
          for loss in ["half-sse", "sse", "mse", "cross-entropy"]
          if loss != "cross-entropy" or out in ("sigmoid", "softmax")]
HIDDEN = ["sigmoid", "tanh", "relu", "identity"]


@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize("output, loss", COMBOS)
def test_gradients_agree_on_random_small_specs(hidden, output, loss):
    seed = (HIDDEN.index(hidden) * 31 + COMBOS.index((output, loss))) % 97 + 1
    spec = parse_spec(_spec(hidden, output, loss, 2, seed), "random.toml")
    z = spec.network.forward(spec.data.X)[0]
    if "relu" in (hidden, output) and np.min(np.abs(np.concatenate([a.ravel() for a in z]))) < 1e-4:
        pytest.skip("a relu unit sits on its kink, where the derivative is undefined")
    step = trace_one_step(spec, 1)
    rows = symbolic.check_gradients(step, spec.network.loss)
    bad = [(r.name, r.sympy, r.backprop, r.finite_difference) for r in rows if not r.ok]
    assert not bad


# --- a textbook-size network (issue 13) --------------------------------------------------------

DEEP = """
[network]
sizes = [4, 8, 8, 8, 3]
activations = ["tanh", "tanh", "relu", "softmax"]
loss = "cross-entropy"
init = "normal"
init_scale = 0.6
seed = 1
[training]
learning_rate = 0.1
steps = 1
mode = "batch"
[data]
inputs = [[0.3, -0.8, 0.5, 0.1], [-0.6, 0.2, 0.9, -0.4]]
targets = [[1, 0, 0], [0, 0, 1]]
"""


def _deep_loss(Ws, bs, X, T):
    """The mean cross-entropy of the 4-8-8-8-3 network, written here with NumPy alone."""
    a = X
    for W, b, f in zip(Ws, bs, (np.tanh, np.tanh, lambda z: np.maximum(z, 0), None)):
        z = a @ W.T + b
        if f is None:
            e = np.exp(z - z.max(axis=1, keepdims=True))
            a = e / e.sum(axis=1, keepdims=True)
        else:
            a = f(z)
    return float(np.mean(-np.sum(T * np.log(a), axis=1)))


def _central_differences(spec) -> dict[str, float]:
    Ws = [layer.W.copy() for layer in spec.network.layers]
    bs = [layer.b.copy() for layer in spec.network.layers]
    X, T = spec.data.X, spec.data.T
    # relu's derivative jumps at 0: the difference means something only away from the kink
    z3 = np.tanh(np.tanh(X @ Ws[0].T + bs[0]) @ Ws[1].T + bs[1]) @ Ws[2].T + bs[2]
    assert np.abs(z3).min() > 0.1 and (z3 < 0).any() and (z3 > 0).any()
    h, out = 1e-6, {}
    for l, kind, j, k, name in spec.labels.parameters():
        P, at = (Ws[l - 1], (j, k)) if kind == "W" else (bs[l - 1], (j,))
        old = P[at]
        P[at] = old + h
        up = _deep_loss(Ws, bs, X, T)
        P[at] = old - h
        down = _deep_loss(Ws, bs, X, T)
        P[at] = old
        out[name] = (up - down) / (2 * h)
    return out


def test_a_4_8_8_8_3_network_agrees_with_a_central_difference_written_here():
    result = tracenn.verify(DEEP)
    assert result.ok, result.failed
    fd = _central_differences(tracenn.load(DEEP))
    assert len(result.gradients) == len(fd) == 211
    for row in result.gradients:
        assert row.sympy == pytest.approx(fd[row.name], abs=1e-8), row.name
        assert row.backprop == pytest.approx(fd[row.name], abs=1e-8), row.name


def test_a_wrong_derivative_in_the_deepest_hidden_layer_is_caught(monkeypatch):
    # relu′ taken as 1 everywhere, as if relu were the identity: wrong for the units that are off
    wrong = replace(functions.RELU, prime=lambda z, a, ops: 1 + 0 * z)
    monkeypatch.setitem(functions.ACTIVATIONS, "relu", wrong)
    result = tracenn.verify(DEEP)
    assert not result.ok
    failed = set(result.failed)
    assert {"relu derivative", "hidden recurrence"} <= failed
    assert {"tanh derivative", "softmax Jacobian", "softmax + cross-entropy"}.isdisjoint(failed)
    rows = {r.name: r for r in result.gradients}
    layer = {name: l for l, _, _, _, name in tracenn.load(DEEP).labels.parameters()}
    assert not any(layer[name] == 4 for name in failed if name in rows)  # after the relu: right
    assert sum(layer[name] == 1 for name in failed if name in rows) > 20  # far below it: wrong
    # SymPy's values come from the relu itself, not its derivative object: still right
    fd = _central_differences(tracenn.load(DEEP))
    for name in failed & set(rows):
        assert rows[name].sympy == pytest.approx(fd[name], abs=1e-8)
        assert rows[name].backprop != pytest.approx(fd[name], abs=1e-6)


def test_dps_digits_are_right_to_the_last(run):
    import mpmath

    data = json.loads(run("verify", "mazur", "--dps", "40", "--json").stdout)
    shown = {r["name"]: r["high_precision"] for r in data["precision"]}
    with mpmath.workdps(80):  # Mazur's network by hand, from the float64 values themselves
        f = lambda v: mpmath.mpf(v)  # noqa: E731
        i1, i2, t1, t2, b1, b2 = map(f, (0.05, 0.10, 0.01, 0.99, 0.35, 0.60))
        w1, w2, w3, w4, w5, w6, w7, w8 = map(f, (0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55))
        sig = lambda z: 1 / (1 + mpmath.exp(-z))  # noqa: E731
        h1, h2 = sig(w1 * i1 + w2 * i2 + b1), sig(w3 * i1 + w4 * i2 + b1)
        o1, o2 = sig(w5 * h1 + w6 * h2 + b2), sig(w7 * h1 + w8 * h2 + b2)
        d1, d2 = (o1 - t1) * o1 * (1 - o1), (o2 - t2) * o2 * (1 - o2)
        dw3 = (d1 * w6 + d2 * w8) * h2 * (1 - h2) * i1
        E = ((t1 - o1) ** 2 + (t2 - o2) ** 2) / 2
        assert shown["∂E/∂w3"] == mpmath.nstr(dw3, 40)
        assert shown["∂E/∂w5"] == mpmath.nstr(d1 * h1, 40)
        assert shown["E_total"] == mpmath.nstr(E, 40)


# --- which identities, the limits, progress and Ctrl-C -----------------------------------------


@pytest.mark.parametrize("target, expected", [
    ("mazur", ["sigmoid derivative", "half-sse + sigmoid output"]),
    ("xor", ["sigmoid derivative", "half-sse + sigmoid output"]),
    ("softmax", ["tanh derivative", "softmax Jacobian", "softmax + cross-entropy"]),
    (DEEP, ["tanh derivative", "relu derivative", "softmax Jacobian", "softmax + cross-entropy"]),
])
def test_the_identity_table_holds_the_formulas_the_network_uses(target, expected):
    rows = [r.name for r in tracenn.verify(target).identities]
    assert rows == expected + ["hidden recurrence", "weight gradient", "bias gradient"]


def test_sigmoid_outputs_with_cross_entropy_get_their_fused_delta_row():
    spec = parse_spec(_spec("tanh", "sigmoid", "cross-entropy", 2, 3), "bce.toml")
    assert "sigmoid + binary cross-entropy" in [r.name for r in tracenn.verify(spec).identities]


def test_every_identity_without_a_network():
    from tracenn.maths.identities import check_identities

    rows = check_identities()
    assert len(rows) == 11 and all(r.holds for r in rows)


DEEPER = DEEP.replace("[4, 8, 8, 8, 3]", "[4, 8, 8, 8, 8, 8, 8, 3]").replace(
    '["tanh", "tanh", "relu", "softmax"]', '["tanh", "tanh", "tanh", "tanh", "tanh", "relu", "softmax"]')


def test_a_network_too_deep_is_refused_before_any_differentiation(run, monkeypatch, tmp_path):
    from tracenn.maths import partials

    def never(*args):
        raise AssertionError("differentiated a network beyond the limit")

    monkeypatch.setattr(partials, "build_template", never)
    spec = tmp_path / "deeper.toml"
    spec.write_text(DEEPER)
    result = run("verify", spec)
    assert result.exit_code == 2 and result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    found = re.fullmatch(r"tracenn verify: error: this network's loss, written out in a "
                         r"parameter of layer 1, has ([\d,]+) operations, more than verify's "
                         r"limit of 200,000 \(.*\); raise the limit with --max-size (\d+) "
                         r"\(max_size=\2 in Python\)", line)
    assert found and int(found[1].replace(",", "")) == int(found[2]) > 5_000_000, line
    with pytest.raises(UnsupportedError, match="--max-size"):
        tracenn.verify(DEEPER)


def test_the_parameter_limit(run):
    refused = run("verify", "mazur", "--max-parameters", "9")
    assert refused.exit_code == 2
    assert "this network has 10 parameters, more than verify's limit of 9" in refused.stderr
    assert "--max-parameters 10" in refused.stderr
    assert run("verify", "mazur", "--max-parameters", "10").exit_code == 0


def test_the_parameter_limit_is_checked_before_sympy_is_imported():
    code = ("import sys, tracenn\n"
            "try:\n    tracenn.verify('mazur', max_parameters=1)\n"
            "except tracenn.UnsupportedError:\n    print('sympy' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False", done.stderr


def test_no_progress_line_when_stderr_is_not_a_terminal(tmp_path):
    spec = tmp_path / "deep.toml"
    spec.write_text(DEEP)
    done = subprocess.run([sys.executable, "-m", "tracenn", "verify", str(spec)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stderr == ""


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal (POSIX)")
def test_a_long_verify_shows_progress_on_a_terminal_and_ctrl_c_stops_it(tmp_path):
    spec = tmp_path / "long.toml"  # 96,309 operations: seconds of SymPy
    spec.write_text(DEEPER.replace("8, 8, 8, 8, 8, 8", "8, 8, 8, 8").replace(
        '"tanh", "tanh", "tanh", "tanh", "tanh", "relu"', '"tanh", "tanh", "tanh", "relu"'))
    master, terminal = os.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "tracenn", "verify", str(spec)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=terminal)
    os.close(terminal)
    seen = _read_until(master, b"differentiating the loss", timeout=120)
    assert b"tracenn verify: differentiating the loss" in seen
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 130
    seen += _read_until(master, None, timeout=10)
    os.close(master)
    assert proc.stdout.read() == b""
    # the progress line is erased, and the one line left says what happened
    assert seen.decode().split("\r\x1b[K")[-1].strip() == "tracenn: interrupted"


def _read_until(fd: int, marker: bytes | None, timeout: float) -> bytes:
    """What the terminal shows until `marker` appears (None: until the writer closes it)."""
    out, end = b"", time.monotonic() + timeout
    while time.monotonic() < end and (marker is None or marker not in out):
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # Linux: EIO once the child has closed the terminal
                break
            if not chunk:
                break
            out += chunk
    return out
