"""Each classic mistake computes what it says, checked against numbers written out here from
Mazur's published values (not against the engine's own mistaken run)."""

import math

import numpy as np
import pytest

import tracenn

# Mazur's blog, step 1: out_o1, out_o2, δ_o1, δ_o2, ∂E/∂w5, and the targets
OUT_O1, OUT_O2 = 0.75136507, 0.772928465
DELTA_O1, DELTA_O2 = 0.138498562, -0.038098237
GRAD_W5, T1, ETA = 0.082167041, 0.01, 0.5


def sigma(x):
    return 1 / (1 + math.exp(-x))


def mistaken(name, target="mazur", **options):
    return tracenn.step(target, mistakes=[name], **options)


def test_sigma_prime_of_a():
    # δ_o1 with σ′ taken at a: (a − t)·σ(a)(1 − σ(a)) instead of (a − t)·a(1 − a)
    assert mistaken("sigma-prime-of-a")["delta_o1"] == pytest.approx(
        (OUT_O1 - T1) * sigma(OUT_O1) * (1 - sigma(OUT_O1)), abs=1e-8)


def test_dropped_half():
    s = mistaken("dropped-half")
    assert s["dE/dout_o1"] == pytest.approx(2 * (OUT_O1 - T1), abs=1e-8)
    assert s["dE/dw5"] == pytest.approx(2 * GRAD_W5, abs=1e-8)


def test_added_update():
    assert mistaken("added-update")["w5+"] == pytest.approx(0.40 + ETA * GRAD_W5, abs=1e-8)


def test_frozen_bias_updated_and_bias_no_lr():
    # b2 is shared by o1 and o2: its gradient is δ_o1 + δ_o2
    assert mistaken("frozen-bias-updated")["b2+"] == pytest.approx(
        0.60 - ETA * (DELTA_O1 + DELTA_O2), abs=1e-8)
    assert mistaken("bias-no-lr", update_biases=True)["b2+"] == pytest.approx(
        0.60 - (DELTA_O1 + DELTA_O2), abs=1e-8)


def test_summed_batch_is_the_sum_of_the_samples_gradients():
    spec = tracenn.spec.preset_text("softmax").replace('mode = "online"', 'mode = "batch"')
    right, wrong = tracenn.step(spec), tracenn.step(spec, mistakes="summed-batch")
    n = len(right.samples)
    for name in ("dE/dW2[1,1]", "dE/db1[2]"):
        assert wrong[name] == pytest.approx(n * right[name], rel=1e-12)


def test_extra_sigma_prime_on_softmax():
    s = mistaken("extra-sigma-prime", "softmax")
    a, t = s["out_o1"], 1.0  # the first sample's target is class 1
    assert s["delta_o1"] == pytest.approx((a - t) * a * (1 - a), rel=1e-12)


def test_updated_weights_gives_the_blogs_figure():
    assert mistaken("updated-weights")["E_total after"] == pytest.approx(0.291027924, abs=1e-9)


def test_gradient_accumulated_adds_step_ones_gradient():
    right = tracenn.trace("mazur", 2).steps
    wrong = tracenn.step("mazur", 2, mistakes="gradient-accumulated")
    # step 2 of the mistaken run starts from the same weights as the right one (step 1 is
    # the same), and uses ∂E/∂w of step 1 plus that of step 2
    assert wrong["dE/dw5"] == pytest.approx(right[0]["dE/dw5"] + right[1]["dE/dw5"], rel=1e-12)
    assert np.isclose(wrong["w5"], right[1]["w5"])
