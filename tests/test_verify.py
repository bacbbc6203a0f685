"""tracenn verify: SymPy's derivative, backprop and finite differences agree, and the check can
fail."""

import json
from dataclasses import replace

import numpy as np
import pytest

from tracenn.engine import functions
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
