"""Right at the edges (issue 21): losses evaluated from z where a has rounded to 0 or 1, no
false divergence, and verify at the same places.  Every expected value is written here from
the closed forms, log σ(z) = −log(1 + e^−z) and log softmax(z)_k = z_k − log Σ_j e^(z_j), with
math.log1p, not from the engine."""

import json
import math

import pytest

import tracenn

SIGMOID_SPEC = """
[network]
sizes = [1, 1]
activations = ["sigmoid"]
loss = "cross-entropy"
[[layer]]
weights = [[{w}]]
biases = [0.0]
[training]
learning_rate = 0.1
steps = 1
[data]
inputs = [[1.0]]
targets = [[{t}]]
"""

# two outputs, z = (0, −750): e^−750 underflows in float64, so a2 = 0 although t2 = 0.5
SOFTMAX_SPEC = """
[network]
sizes = [1, 2]
activations = ["softmax"]
loss = "cross-entropy"
[[layer]]
weights = [[0.0], [-750.0]]
biases = [0.0, 0.0]
[training]
learning_rate = 0.1
steps = 1
[data]
inputs = [[1.0]]
targets = [[0.5, 0.5]]
"""


def bce(z: float, t: float) -> float:
    """−t log σ(z) − (1 − t) log(1 − σ(z)) for z > 0, from log1p: every digit kept."""
    return t * math.log1p(math.exp(-z)) + (1 - t) * (z + math.log1p(math.exp(-z)))


def _spec(w, t):
    return tracenn.load(SIGMOID_SPEC.format(w=w, t=t))


def test_the_issue_spec_at_z_10_is_exact_and_verifies():
    step = tracenn.step(_spec(10.0, 0.0))
    assert step.loss == pytest.approx(10 + math.log1p(math.exp(-10)), rel=1e-12)
    result = tracenn.verify(_spec(10.0, 0.0))
    assert result.ok, result.failed
    sigma = 1 / (1 + math.exp(-10))  # ∂E/∂w = σ(z) − t, x = 1
    for row in result.gradients:
        assert row.sympy == pytest.approx(sigma, rel=1e-12)
        assert row.finite_difference == pytest.approx(sigma, rel=1e-8)


@pytest.mark.parametrize("dps", [None, 30])
def test_verify_ok_where_the_output_rounded_to_1(dps):
    result = tracenn.verify(_spec(40.0, 0.25), dps=dps)
    assert result.ok, result.failed


@pytest.mark.parametrize("t", [0.0, 0.25, 1.0])
@pytest.mark.parametrize("z", [10.0, 17.0, 20.0, 25.0, 30.0, 36.0, 37.0, 38.0, 40.0])
def test_binary_cross_entropy_from_the_logit(z, t):
    step = tracenn.step(_spec(z, t))
    assert step.loss == pytest.approx(bce(z, t), rel=1e-12)
    assert step.layers[0].delta[0, 0] == pytest.approx(1 / (1 + math.exp(-z)) - t, rel=1e-15)


def test_the_printed_loss_at_z_20_and_30():
    # the issue's numbers: at the default 9 decimals, 14.999999975 and 22.500765 were printed
    assert tracenn.step(_spec(20.0, 0.25)).loss == pytest.approx(15.000000002061153, rel=1e-15)
    assert tracenn.step(_spec(30.0, 0.25)).loss == pytest.approx(22.5, rel=1e-15)


def test_an_output_that_rounded_to_1_is_no_divergence():
    spec_run = tracenn.trace(_spec(40.0, 0.25))  # raised TrainingDiverged before
    step = spec_run.steps[-1]
    assert step.loss == 30.0  # torch: BCEWithLogitsLoss 30, dE/dz 0.75
    assert step.layers[0].delta[0, 0] == 0.75
    assert step.layers[0].W_new[0, 0] == pytest.approx(40 - 0.1 * 0.75, rel=1e-15)
    assert math.isinf(step.layers[0].dE_da[0, 0])


def test_infinite_dE_da_is_shown_with_its_reason(run, tmp_path):
    path = tmp_path / "saturated.toml"
    path.write_text(SIGMOID_SPEC.format(w=40.0, t=0.25))
    text = run("trace", path)
    assert text.exit_code == 0, text.output
    assert "∞ (δ = a − t is finite)" in text.stdout
    assert "diverged" not in text.output
    lines = run("trace", path, "--json")
    assert lines.exit_code == 0, lines.output
    obj = json.loads(lines.stdout.splitlines()[0])
    layer = obj["layers"][0]
    assert layer["dE_da"] == [[None]] and "δ = a − t" in layer["dE_da_note"]
    assert layer["delta"] == [[0.75]] and obj["loss"] == 30.0


def test_softmax_with_an_underflowed_probability():
    spec = tracenn.load(SOFTMAX_SPEC)
    step = tracenn.trace(spec).steps[-1]
    lse = math.log1p(math.exp(-750))  # log(e^0 + e^−750)
    assert step.layers[0].a[0, 1] == 0.0
    assert step.loss == pytest.approx(0.5 * lse + 0.5 * (750 + lse), rel=1e-12)  # 375, not 354
    assert list(step.layers[0].delta[0]) == [0.5, -0.5]
    assert step.layers[0].dE_da[0, 1] == -math.inf
    result = tracenn.verify(spec)
    assert result.ok, result.failed


@pytest.mark.parametrize("every", [None, 1])
def test_many_steps_past_the_edge_train_on(every):
    # the update added (a classic mistake) drives the logit up by 2·η·0.75 a step, past
    # z ≈ 37 where σ(z) = 1 and ∂E/∂a = ∞: training goes on, in full and on the hot path
    run = tracenn.trace(_spec(30.0, 0.25), steps=10, every=every, lr=1.0,
                        mistakes=("added-update",))
    last = run.entries[-1]
    assert last.step == 10 and last.loss == pytest.approx(bce(30 + 9 * 1.5, 0.25), rel=1e-12)


@pytest.mark.parametrize("z", [10.0, 17.0, 20.0, 30.0, 40.0])
def test_check_torch_agrees_with_bce_with_logits(z):
    torch = pytest.importorskip("torch")
    from torch import nn

    model = nn.Sequential(nn.Linear(1, 1))
    with torch.no_grad():
        model[0].weight.fill_(z)
        model[0].bias.fill_(0.0)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x, t = torch.tensor([[1.0]]), torch.tensor([[0.25]])
    # before: "First mismatch: E" from z = 17 on, "training diverged" at 40
    result = tracenn.check_torch(model, optimizer, nn.BCEWithLogitsLoss(), x, t)
    assert result.ok, str(result)


KINK_SPEC = """
[network]
sizes = [2, 2, 1]
activations = ["relu", "sigmoid"]
loss = "half-sse"
[[layer]]
weights = [[0.5, -0.5], [0.5, 0.5]]
biases = [0.0, 0.0]
[[layer]]
weights = [[0.7, -0.6]]
biases = [0.1]
[training]
learning_rate = 0.5
mode = "{batch}"
steps = 1
[data]
inputs = {inputs}
targets = [[0.0], [1.0], [0.5]]
"""

# (1, 1) puts z1[1] on the kink (W1[1,2] moves it up), (1, −1) puts z1[2] there (W1[2,2] moves
# it down), (0, 0) both, through their biases
KINK_INPUTS = "[[1.0, 1.0], [1.0, -1.0], [0.0, 0.0]]"


@pytest.mark.parametrize("batch", ["online", "batch"])
def test_verify_ok_at_the_relu_kink(batch):
    spec = tracenn.load(KINK_SPEC.format(batch=batch, inputs=KINK_INPUTS))
    result = tracenn.verify(spec)
    assert result.ok, result.failed
    rows = {r.name: r for r in result.gradients}
    if batch == "online":  # the first sample alone: z1 = (0, 1), unit 1 off at its kink
        for name in ("W1[1,1]", "W1[1,2]", "b1[1]"):
            assert rows[name].sympy == rows[name].backprop == 0.0
            assert abs(rows[name].finite_difference) < 1e-9
    assert any(r.name == "relu derivative" and r.holds for r in result.identities)


def test_the_one_sided_difference_still_catches_relu_prime_of_0_taken_as_1(monkeypatch):
    from dataclasses import replace

    from tracenn.engine import functions

    # relu′(0) = 1: z ≥ 0 counted as on, the other convention, now a mistake
    wrong = replace(functions.RELU, prime=lambda z, a, ops: 1 - ops.step(-z))
    monkeypatch.setitem(functions.ACTIVATIONS, "relu", wrong)
    spec = tracenn.load(KINK_SPEC.format(batch="batch", inputs=KINK_INPUTS))
    failed = set(tracenn.verify(spec).failed)
    assert {"W1[1,1]", "W1[1,2]", "b1[1]", "b1[2]"} <= failed


# the update mistakes of the catalogue, each on a step where it changes a number: verify's
# update check uses the spec's own rule, not the rule the step was made with
UPDATE_MISTAKES = [
    ("weight-decay-on-bias", "sgd", True, 1, {"b1+", "step_b1", "g_b1"}),
    ("weight-decay-on-bias", "adamw", True, 1, {"b1+", "step_b1"}),
    ("frozen-bias-updated", "sgd", False, 1, {"b1+", "b2+"}),
    ("frozen-bias-updated", "adam", False, 1, {"b1+", "b2+"}),
    ("l2-instead-of-decoupled", "adamw", True, 1, {"w1+", "g_w1", "m_w1"}),
    ("added-update", "sgd", False, 1, {"w1+"}),
    ("bias-no-lr", "sgd", True, 1, {"b1+"}),
    ("adam-no-bias-correction", "adam", False, 1, {"w1+"}),
    ("adam-eps-inside-sqrt", "adam", False, 1, {"w1+"}),
    ("momentum-reset", "momentum", False, 2, {"w1+"}),
]


@pytest.mark.parametrize("mistake, optimizer, trained, step, rows", UPDATE_MISTAKES)
def test_each_update_mistake_fails_verify(mistake, optimizer, trained, step, rows):
    from tracenn.maths.verify import verify_step

    spec = tracenn.load("mazur")
    spec = spec.with_biases_trained() if trained else spec
    made = tracenn.step(spec, step, mistakes=(mistake,), optimizer=optimizer, weight_decay=0.1)
    result = verify_step(made, spec.network.loss)
    failed = {u.name for u in result.updates if not u.ok}
    assert rows <= failed, failed
    right = verify_step(tracenn.step(spec, step, optimizer=optimizer, weight_decay=0.1),
                        spec.network.loss)
    assert right.ok, right.failed


def test_frozen_biases_have_their_own_rows():
    result = tracenn.verify("mazur")
    frozen = {u.name: u for u in result.updates if u.formula.endswith("(frozen)")}
    assert set(frozen) == {"b1+", "b2+"}
    assert frozen["b1+"].sympy == frozen["b1+"].engine == 0.35  # Mazur's b1


# --- the small ones (item 5) -------------------------------------------------------------------

def test_softmax_targets_must_sum_to_1_to_rounding(run, tmp_path):
    """The fused δ = a − t is ∂E/∂z_k = a_k Σ_j t_j − t_k only where Σ t = 1: a sum of 1 + 9e-10
    (accepted before, δ then off by 9e-10 · a_k) is refused; a hand-written distribution whose
    float sum is 1 only to rounding is taken, and δ is a_k Σt − t_k, from softmax's closed form."""
    spec = tmp_path / "s.toml"
    spec.write_text(SOFTMAX_SPEC.replace("[[0.5, 0.5]]", f"[[0.3, {0.7 + 9e-10!r}]]"))
    result = run("trace", spec)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "data.targets[0]" in result.output and "need targets that sum to 1" in \
        result.output.replace("needs targets", "need targets")
    t = [0.6, 0.3, 0.1]  # sums to 0.9999999999999999 in float64
    assert sum(t) != 1
    three = SOFTMAX_SPEC.replace("sizes = [1, 2]", "sizes = [1, 3]") \
        .replace("[[0.0], [-750.0]]", "[[0.0], [0.5], [-1.0]]").replace("[0.0, 0.0]", "[0.0, 0.0, 0.0]") \
        .replace("[[0.5, 0.5]]", f"[{t!r}]")
    z = [0.0, 0.5, -1.0]
    a = [math.exp(v) / sum(math.exp(u) for u in z) for v in z]
    delta = tracenn.step(tracenn.load(three)).layers[-1].delta[0]
    for k in range(3):
        assert delta[k] == pytest.approx(a[k] * sum(t) - t[k], rel=1e-14, abs=0)


def test_categorical_cross_entropy_needs_a_softmax_output(run, tmp_path):
    """The alias used to become binary cross-entropy silently after a sigmoid output."""
    spec = tmp_path / "s.toml"
    spec.write_text(SIGMOID_SPEC.format(w=1.0, t=0.0).replace('"cross-entropy"',
                                                               '"categorical-cross-entropy"'))
    result = run("trace", spec)
    assert result.exit_code == 2
    assert "categorical-cross-entropy needs a softmax output, not sigmoid" in result.output
    assert "binary-cross-entropy" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("n, written", [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"),
                                        (11, "11th"), (12, "12th"), (13, "13th"), (21, "21st"),
                                        (102, "102nd"), (800, "800th")])
def test_every_kth_step_is_written_in_english(n, written):
    from tracenn.notation import ordinal
    assert ordinal(n) == written


def test_the_trace_says_every_2nd_step(run, tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text(SIGMOID_SPEC.format(w=1.0, t=0.0).replace("steps = 1", "steps = 4"))
    result = run("trace", spec, "--every", "2")
    assert result.exit_code == 0
    assert "every 2nd step in full" in result.stdout
