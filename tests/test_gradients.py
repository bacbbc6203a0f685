"""The engine's gradients against central finite differences, for random small networks of every
activation/loss combination (hypothesis)."""

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tracenn.engine.backprop import train_step
from tracenn.engine.functions import ACTIVATIONS, LOSSES, SOFTMAX, resolve_loss
from tracenn.engine.network import Network, init_layers
from tracenn.engine.optim import SGD

HIDDEN = ["sigmoid", "tanh", "relu", "identity"]
OUTPUT = ["sigmoid", "tanh", "relu", "identity", "softmax"]
LOSS_NAMES = ["half-sse", "sse", "mse", "cross-entropy"]


def combos():
    for out in OUTPUT:
        for loss in LOSS_NAMES:
            if loss == "cross-entropy" and out not in ("softmax", "sigmoid"):
                continue
            yield out, loss


@st.composite
def networks(draw):
    out_name, loss_name = draw(st.sampled_from(list(combos())))
    depth = draw(st.integers(1, 3))
    sizes = [draw(st.integers(1, 3))] + [draw(st.integers(1, 3)) for _ in range(depth - 1)]
    sizes.append(draw(st.integers(2 if out_name == "softmax" else 1, 3)))
    acts = [ACTIVATIONS[draw(st.sampled_from(HIDDEN))] for _ in range(depth - 1)]
    acts.append(ACTIVATIONS[out_name])
    seed = draw(st.integers(0, 2**32 - 1))
    shared = [draw(st.booleans()) for _ in range(depth)]
    n = draw(st.integers(1, 3))
    return sizes, acts, loss_name, seed, shared, n


def targets(rng, loss_name, out, n, K):
    if loss_name == "cross-entropy" and out is SOFTMAX:
        return np.eye(K)[rng.integers(0, K, n)]
    if loss_name == "cross-entropy":
        return rng.uniform(0, 1, (n, K))
    return rng.normal(0, 1, (n, K))


def build(case):
    """The network, inputs and targets a drawn case describes, away from ReLU's kink."""
    sizes, acts, loss_name, seed, shared, n = case
    rng = np.random.default_rng(seed)
    loss = resolve_loss(loss_name, acts[-1])
    net = Network(init_layers(sizes, acts, rng, "normal", 0.8, shared), loss)
    X = rng.normal(0, 1, (n, sizes[0]))
    T = targets(rng, loss_name, acts[-1], n, sizes[-1])
    # ReLU's derivative jumps at 0: keep away from the kink, where differences are meaningless.
    zs, _ = net.forward(X)
    for z, act in zip(zs, acts):
        if act.name == "relu":
            assume(np.min(np.abs(z)) > 1e-3)
    return net, X, T


@settings(max_examples=150, deadline=None)
@given(networks())
def test_backprop_equals_central_differences(case):
    net, X, T = build(case)
    probe = net.copy()
    rec = train_step(probe, X, T, SGD(0.1))
    analytic = np.concatenate([np.concatenate([gW.ravel(), gb]) for gW, gb in
                               zip(rec.grads_W, rec.grads_b)])

    h = 1e-6
    numeric = []
    for layer in net.layers:
        for param in (layer.W, layer.b):
            flat = param.reshape(-1)
            for i in range(flat.size):
                old = flat[i]
                flat[i] = old + h
                up = net.mean_loss(X, T)
                flat[i] = old - h
                down = net.mean_loss(X, T)
                flat[i] = old
                numeric.append((up - down) / (2 * h))
    numeric = np.array(numeric)
    # A central difference with h = 1e-6 is good to about ε·|E|/h ≈ 1e-10 per component, so
    # the comparison is relative to the gradients' size with that absolute floor: tiny gradients
    # (1e-6, as hypothesis finds with softmax and half-sse) are judged by the floor.
    scale = np.linalg.norm(analytic) + np.linalg.norm(numeric)
    assert np.linalg.norm(analytic - numeric) < 1e-6 * scale + 1e-8, (analytic, numeric)


def test_finite_difference_check_can_fail():
    """A wrong derivative (σ′ taken as σ) is caught by the same comparison."""
    from dataclasses import replace

    from tracenn.engine.functions import HALF_SSE, SIGMOID

    wrong = replace(SIGMOID, prime=lambda z, a, ops: a)
    rng = np.random.default_rng(1)
    net = Network(init_layers([2, 2, 1], [wrong, wrong], rng, "normal", 1.0), HALF_SSE)
    X, T = rng.normal(size=(2, 2)), rng.uniform(size=(2, 1))
    rec = train_step(net.copy(), X, T, SGD(0.1))
    h = 1e-6
    W = net.layers[1].W
    W[0, 0] += h
    up = net.mean_loss(X, T)
    W[0, 0] -= 2 * h
    down = net.mean_loss(X, T)
    assert abs(rec.grads_W[1][0, 0] - (up - down) / (2 * h)) > 1e-4


def test_batch_gradient_is_the_mean_of_the_sample_gradients():
    from tracenn.engine.functions import HALF_SSE, SIGMOID

    rng = np.random.default_rng(3)
    net = Network(init_layers([2, 3, 2], [SIGMOID, SIGMOID], rng), HALF_SSE)
    X, T = rng.normal(size=(4, 2)), rng.uniform(size=(4, 2))
    whole = train_step(net.copy(), X, T, SGD(0.1))
    singles = [train_step(net.copy(), X[i:i + 1], T[i:i + 1], SGD(0.1)) for i in range(4)]
    for l in range(2):
        mean = sum(s.grads_W[l] for s in singles) / 4
        np.testing.assert_allclose(whole.grads_W[l], mean, rtol=1e-12)


def test_loss_formulas_by_hand():
    a = np.array([[0.2, 0.8]])
    t = np.array([[0.0, 1.0]])
    assert np.isclose(LOSSES["half-sse"](a, t).sum(), 0.5 * (0.2**2 + 0.2**2))
    assert np.isclose(LOSSES["sse"](a, t).sum(), 0.2**2 + 0.2**2)
    assert np.isclose(LOSSES["mse"](a, t).sum(), (0.2**2 + 0.2**2) / 2)
    assert np.isclose(LOSSES["cross-entropy"](a, t).sum(), -np.log(0.8))
    bce = resolve_loss("cross-entropy", ACTIVATIONS["sigmoid"])
    assert np.isclose(bce(a, t).sum(), -np.log(0.8) - np.log(0.8))


@settings(max_examples=40, deadline=None)
@given(networks())
def test_gradient_at_the_inputs_equals_central_differences(case):
    """∂E/∂x (the gradient with respect to the inputs, CS231n's dx) against a central
    difference of each sample's own loss in each input."""
    net, X, T = build(case)
    rec = train_step(net.copy(), X, T, SGD(0.1), detail=True)
    h = 1e-6
    for s in range(X.shape[0]):
        for k in range(X.shape[1]):
            x = X[s:s + 1].copy()
            x[0, k] += h
            up = net.losses(x, T[s:s + 1]).sum()
            x[0, k] -= 2 * h
            down = net.losses(x, T[s:s + 1]).sum()
            assert abs(rec.dE_dx[s, k] - (up - down) / (2 * h)) < 1e-6 * max(1, abs(rec.dE_dx[s, k]))
