"""Optimizers traced step by step: the recurrences written out by hand for two steps, the
limits that must hold, the state in tables and JSON, every optimizer mistake diagnosed as
itself, and (when PyTorch is installed) agreement with torch.optim in float64."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

import tracenn

TINY = (Path(__file__).parent / "specs" / "tiny.toml").read_text(encoding="utf-8")
W, B = "W1[1,1]", "b1[1]"


def two_steps(optimizer, **hyper):
    return tracenn.trace(TINY, 2, optimizer=optimizer, **hyper).steps


def test_momentum_by_hand():
    s1, s2 = two_steps("momentum", momentum=0.9)
    w, b, lr, mu = 2.0, 0.5, 0.1, 0.9
    g1 = w + b - 1                      # 1.5
    v1 = g1                             # μ·0 + g
    w1, b1 = w - lr * v1, b - lr * v1   # both parameters see the same gradient here
    g2 = w1 + b1 - 1
    v2 = mu * v1 + g2
    assert s1[f"velocity_{W}"] == pytest.approx(v1) and s1[f"{W}+"] == pytest.approx(w1)
    assert s2[f"velocity_{W}"] == pytest.approx(v2) and s2[f"{W}+"] == pytest.approx(w1 - lr * v2)
    assert s2[f"velocity_{B}"] == pytest.approx(v2)


def test_nesterov_by_hand():
    s1, s2 = two_steps("nesterov", momentum=0.5)
    lr, mu = 0.1, 0.5
    g1 = 1.5
    w1 = 2.0 - lr * (g1 + mu * g1)
    b1 = 0.5 - lr * (g1 + mu * g1)
    g2 = w1 + b1 - 1
    v2 = mu * g1 + g2
    assert s1[f"{W}+"] == pytest.approx(w1)
    assert s2[f"{W}+"] == pytest.approx(w1 - lr * (g2 + mu * v2))


def test_rmsprop_by_hand():
    s1, s2 = two_steps("rmsprop", alpha=0.9, epsilon=1e-8)
    lr, a, eps = 0.1, 0.9, 1e-8
    g1 = 1.5
    v1 = (1 - a) * g1**2
    w1, b1 = 2.0 - lr * g1 / (math.sqrt(v1) + eps), 0.5 - lr * g1 / (math.sqrt(v1) + eps)
    g2 = w1 + b1 - 1
    v2 = a * v1 + (1 - a) * g2**2
    assert s1[f"v_{W}"] == pytest.approx(v1) and s1[f"{W}+"] == pytest.approx(w1)
    assert s2[f"v_{W}"] == pytest.approx(v2)
    assert s2[f"{W}+"] == pytest.approx(w1 - lr * g2 / (math.sqrt(v2) + eps))


@pytest.mark.parametrize("optimizer, decay", [("adam", 0.0), ("adam", 0.1), ("adamw", 0.1)])
def test_adam_and_adamw_by_hand(optimizer, decay):
    s1, s2 = two_steps(optimizer, beta1=0.8, beta2=0.9, epsilon=1e-8, weight_decay=decay)
    lr, b1_, b2_, eps = 0.1, 0.8, 0.9, 1e-8
    w, b, m, v, mb, vb = 2.0, 0.5, 0.0, 0.0, 0.0, 0.0
    for t, s in ((1, s1), (2, s2)):
        dE = w + b - 1
        g = dE + (decay * w if optimizer == "adam" else 0.0)  # L2 on the weight only
        m, v = b1_ * m + (1 - b1_) * g, b2_ * v + (1 - b2_) * g * g
        m_hat, v_hat = m / (1 - b1_**t), v / (1 - b2_**t)
        w_new = w - lr * m_hat / (math.sqrt(v_hat) + eps)
        if optimizer == "adamw":
            w_new -= lr * decay * w
        mb, vb = b1_ * mb + (1 - b1_) * dE, b2_ * vb + (1 - b2_) * dE * dE  # the bias: no decay
        b_new = b - lr * (mb / (1 - b1_**t)) / (math.sqrt(vb / (1 - b2_**t)) + eps)
        assert s[f"m_{W}"] == pytest.approx(m, rel=1e-12)
        assert s[f"vhat_{W}"] == pytest.approx(v_hat, rel=1e-12)
        assert s[f"mhat_{W}"] == pytest.approx(m_hat, rel=1e-12)
        assert s[f"{W}+"] == pytest.approx(w_new, rel=1e-12)
        assert s[f"{B}+"] == pytest.approx(b_new, rel=1e-12)
        w, b = w_new, b_new


def test_adam_with_no_memory_takes_sign_steps():
    # β1 = 0 and β2 = 0: m̂ = g and v̂ = g², so the step is η g / (|g| + ε) ≈ η sign(g)
    for s in tracenn.trace("mazur", steps=3, optimizer="adam", lr=0.01, beta1=0.0, beta2=0.0).steps:
        before, after, grads = s.params_before(), s.params(), s.grads()
        for name in ("w1", "w5", "w8"):
            assert after[name] - before[name] == pytest.approx(-0.01 * np.sign(grads[name]),
                                                               rel=1e-4)


def test_momentum_zero_is_gradient_descent_with_identical_tables(run):
    sgd = run("mazur", "--steps", "3").stdout
    zero = run("mazur", "--steps", "3", "--optimizer", "momentum", "--momentum", "0").stdout
    # the blog's note speaks of the spec's own run, so a run with --optimizer leaves it out
    blocks = lambda text: [b for b in text.split("\n\n") if "· update," not in b
                           and "error before and after" not in b
                           and not b.startswith("Note on the blog's figures")]
    assert blocks(zero) == blocks(sgd)  # every forward, error and backward table, byte for byte
    assert "update, momentum (t = 3; η = 0.5, λ = 0, μ = 0)" in zero


@pytest.mark.parametrize("command", [["mazur"], ["trace", "mazur"], ["xor", "--epochs", "1"]])
def test_every_tracing_command_takes_the_optimizer_options(run, command):
    out = run(*command, "--optimizer", "adam", "--lr", "0.01", "--beta1", "0.8").stdout
    assert "· update, Adam (t = 1; η = 0.01, λ = 0, β1 = 0.8, β2 = 0.999, ε = 1e-08)" in out


def test_plain_gradient_descent_has_no_update_table(run):
    assert "· update," not in run("mazur").stdout
    assert "· update, gradient descent" in run("mazur", "--weight-decay", "0.1").stdout


def test_update_table_and_json_hold_the_state(run):
    out = run("mazur", "--steps", "2", "--every", "2", "--optimizer", "adam", "--lr", "0.01").stdout
    assert "Step 2 · update, Adam (t = 2; η = 0.01, λ = 0, β1 = 0.9, β2 = 0.999, ε = 1e-08)" in out
    for header in ("m before", "v before", "m̂ = m/(1 − β1ᵗ)", "√v̂ + ε", "step = η m̂ / (√v̂ + ε)",
                   "old value", "new value"):
        assert header in out
    (step,) = [json.loads(l) for l in run("mazur", "--steps", "2", "--every", "2", "--json",
                                          "--optimizer", "adam", "--lr", "0.01").stdout.splitlines()
               if json.loads(l)["kind"] == "step"]
    opt = step["optimizer"]
    assert opt["name"] == "adam" and opt["t"] == 2 and opt["settings"]["beta2"] == 0.999
    w5 = opt["state"]["w5"]
    assert set(w5) == {"m", "v"} and set(opt["terms"]["w5"]) >= {"g", "m_hat", "v_hat", "step"}
    assert w5["m"] == pytest.approx(0.9 * opt["state_before"]["w5"]["m"]
                                    + 0.1 * step["grads"]["w5"], rel=1e-12)
    assert "b1" not in opt["state"]  # Mazur's biases are frozen: no update, no state


def test_verify_checks_the_update_formulas(run):
    result = tracenn.verify("mazur", 2, optimizer="adamw", lr=0.01, update_biases=True)
    assert result.ok and {u.name for u in result.updates} >= {"m_w5", "vhat_w1", "w5+", "b2+"}
    out = run("verify", "mazur", "--optimizer", "rmsprop", "--lr", "0.01", "--step", "2").stdout
    assert "the update: SymPy's formulas of the optimizer against the engine" in out
    assert "All checks pass." in out


def test_verify_catches_a_wrong_update_in_the_engine(monkeypatch):
    from tracenn.engine import optim

    def no_bias_correction(self, key, g, param, terms):  # Adam's classic bug, planted
        state = self.state.setdefault(key, {})
        b1, b2 = self.hyper["beta1"], self.hyper["beta2"]
        m = (1 - b1) * g if state.get("m") is None else b1 * state["m"] + (1 - b1) * g
        v = (1 - b2) * g * g if state.get("v") is None else b2 * state["v"] + (1 - b2) * g * g
        state["m"], state["v"] = m, v
        terms["m_hat"], terms["v_hat"] = m, v
        terms["denominator"] = np.sqrt(v) + self.hyper["epsilon"]
        return m / terms["denominator"]

    monkeypatch.setattr(optim.Adam, "_direction", no_bias_correction)
    result = tracenn.verify("mazur", 2, optimizer="adam", lr=0.01)
    assert not result.ok
    failed = set(result.failed)
    assert {"mhat_w5", "vhat_w5", "w5+"} <= failed and "m_w5" not in failed  # m itself is right


# --- mistakes ----------------------------------------------------------------------------------

WHERE = {  # mistake: (options, step)
    "adam-no-bias-correction": (["--optimizer", "adam", "--lr", "0.01"], 1),
    "adam-eps-inside-sqrt": (["--optimizer", "adam", "--lr", "0.01"], 1),
    "momentum-reset": (["--optimizer", "momentum"], 2),
    "gradient-accumulated": ([], 2),
    "weight-decay-on-bias": (["--weight-decay", "0.1", "--update-biases"], 1),
    "l2-instead-of-decoupled": (["--optimizer", "adamw", "--lr", "0.01", "--weight-decay", "0.1"], 1),
}


def test_every_optimizer_mistake_is_covered():
    assert set(WHERE) | set(tracenn.engine.mistakes.applicable("sgd", 0.0, 1)) == set(tracenn.MISTAKES)


@pytest.mark.parametrize("mistake", sorted(WHERE))
def test_each_optimizer_mistake_is_diagnosed_as_itself(run, tmp_path, mistake):
    options, step = WHERE[mistake]
    trace = run("mazur", "--steps", str(step), "--json", "--mistake", mistake, *options)
    assert trace.exit_code == 0, trace.stderr
    values = tmp_path / "values.jsonl"
    values.write_text(trace.stdout)
    result = run("compare", "mazur", "--values", values, "--step", str(step), *options, "--json")
    assert result.exit_code == 1, result.stdout
    data = json.loads(result.stdout)
    assert [m["name"] for m in data["mistakes"]] == [mistake]
    assert data["mistakes"][0]["conflicts"] == []
    right = run("mazur", "--steps", str(step), "--json", *options)
    values.write_text(right.stdout)
    assert run("compare", "mazur", "--values", values, "--step", str(step), *options).exit_code == 0


@pytest.mark.parametrize("mistake, options", [
    ("adam-no-bias-correction", []), ("momentum-reset", ["--optimizer", "adam"]),
    ("l2-instead-of-decoupled", ["--optimizer", "adam", "--weight-decay", "0.1"]),
    ("weight-decay-on-bias", []),
])
def test_a_mistake_that_does_not_apply_is_refused(run, mistake, options):
    result = run("mazur", "--mistake", mistake, *options)
    assert result.exit_code == 2 and result.stdout == ""
    assert f"mistake {mistake} does not apply here" in result.stderr.strip()


# --- against PyTorch ---------------------------------------------------------------------------

TORCH_OPTIMIZERS = {
    "sgd": ("SGD", {}), "momentum": ("SGD", {"momentum": 0.9}),
    "nesterov": ("SGD", {"momentum": 0.9, "nesterov": True}), "rmsprop": ("RMSprop", {}),
    "adam": ("Adam", {}), "adamw": ("AdamW", {}),
}


def torch_run(spec, name: str, lr: float, decay: float, steps: int):
    """The spec's network trained by torch.optim in float64 (online, one sample a step, in
    order; biases in a group without weight decay, as tracenn's convention): W after each step."""
    torch = pytest.importorskip("torch")
    cls, kw = TORCH_OPTIMIZERS[name]
    Ws = [torch.tensor(l.W, dtype=torch.float64, requires_grad=True) for l in spec.network.layers]
    bs = [torch.tensor(l.b, dtype=torch.float64, requires_grad=l.bias_trainable)
          for l in spec.network.layers]
    groups = [{"params": Ws, "weight_decay": decay},
              {"params": [b for b in bs if b.requires_grad], "weight_decay": 0.0}]
    opt = getattr(torch.optim, cls)([g for g in groups if g["params"]], lr=lr, **kw)
    X = torch.tensor(spec.data.X, dtype=torch.float64)
    T = torch.tensor(spec.data.T, dtype=torch.float64)
    acts = [l.activation.name for l in spec.network.layers]
    history = []
    for step in range(steps):
        i = step % len(X)
        a = X[i:i + 1]
        for W_, b_, act in zip(Ws, bs, acts):
            z = a @ W_.T + b_
            a = {"sigmoid": torch.sigmoid, "tanh": torch.tanh,
                 "softmax": lambda u: torch.softmax(u, dim=1)}[act](z)
        if spec.network.loss.name == "half-sse":
            loss = 0.5 * ((T[i:i + 1] - a) ** 2).sum()
        else:
            loss = -(T[i:i + 1] * torch.log(a)).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        history.append([W_.detach().numpy().copy() for W_ in Ws])
    return history


@pytest.mark.parametrize("target", ["mazur", "softmax"])
@pytest.mark.parametrize("name", sorted(TORCH_OPTIMIZERS))
@pytest.mark.parametrize("decay", [0.0, 0.01])
def test_agrees_with_torch_optim_for_20_steps(target, name, decay):
    spec = tracenn.load(target)
    lr = 0.5 if name in ("sgd", "momentum", "nesterov") else 0.01
    ours = tracenn.trace(spec, 20, optimizer=name, lr=lr, weight_decay=decay).steps
    theirs = torch_run(spec, name, lr, decay, 20)
    worst = 0.0
    for step, Ws in zip(ours, theirs):
        for layer, W_ in zip(step.layers, Ws):
            worst = max(worst, float(np.max(np.abs(layer.W_new - W_) / np.maximum(1, np.abs(W_)))))
    assert worst < 1e-12, worst


@pytest.mark.parametrize("name", sorted(TORCH_OPTIMIZERS))
def test_steps_not_kept_in_full_compute_the_same_numbers(name):
    """The hot path (steps not recorded in full, updated in place) and the recorded path
    agree to the last bit: step 6 is the same whether steps 1-5 were kept or not."""
    options = dict(optimizer=name, lr=0.05, weight_decay=0.01, update_biases=True)
    kept = tracenn.trace("softmax", 6, **options).steps[-1]
    skipped = tracenn.trace("softmax", 6, every=6, **options).steps[-1]
    assert kept.values() == skipped.values()
