"""∂E/∂x given as the gradient of the batch mean (autograd's x.grad after loss.mean().backward())
is recognised and named; any other scale (1/(2n)) is still wrong.  The batch-mean values come
from PyTorch, not from tracenn."""

from __future__ import annotations

import json

import numpy as np
import pytest

import tracenn

SPEC = """
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
N = 3


def torch_batch_mean_dx(spec):
    """x.grad of the batch mean of Σ_k ½ (t_k − a_k)², by PyTorch's autograd (float64)."""
    torch = pytest.importorskip("torch")
    layers = spec.network.layers
    x = torch.tensor(np.asarray(spec.data.X, dtype=float), requires_grad=True)
    t = torch.tensor(np.asarray(spec.data.T, dtype=float))
    h = torch.tanh(x @ torch.tensor(layers[0].W).T + torch.tensor(layers[0].b))
    a = torch.sigmoid(h @ torch.tensor(layers[1].W).T + torch.tensor(layers[1].b))
    (0.5 * (t - a) ** 2).sum(dim=1).mean().backward()
    return x.grad.numpy()


def trace_with_dx(run, tmp_path, dx):
    path = tmp_path / "net.toml"
    path.write_text(SPEC)
    result = run("trace", path, "--json")
    assert result.exit_code == 0, result.stderr
    step = json.loads(result.stdout)
    assert np.allclose(np.asarray(step["dE_dx"]) / N, dx, atol=1e-15)  # the premise
    step["dE_dx"] = dx.tolist()
    values = tmp_path / "values.json"
    values.write_text(json.dumps(step))
    return path, values


def test_autograd_batch_mean_is_recognised_and_named(run, tmp_path):
    spec = tracenn.load(SPEC)
    path, values = trace_with_dx(run, tmp_path, torch_batch_mean_dx(spec))
    result = run("compare", path, "--values", values, "--json")
    assert result.exit_code == 0, result.stdout
    data = json.loads(result.stdout)
    assert data["match"] is True
    assert data["batch_mean"]["scale"] == "1/3" and data["batch_mean"]["n"] == 3
    assert len(data["batch_mean"]["names"]) == 6  # 3 samples × 2 inputs
    text = run("compare", path, "--values", values).stdout
    assert "Your ∂E/∂x is the gradient of the batch mean: 1/n of tracenn's per-sample value" in text
    assert "Every value you gave matches." in text


def test_half_the_batch_mean_is_wrong(run, tmp_path):
    spec = tracenn.load(SPEC)
    path, values = trace_with_dx(run, tmp_path, torch_batch_mean_dx(spec))
    step = json.loads(values.read_text())
    step["dE_dx"] = (np.asarray(step["dE_dx"]) / 2).tolist()  # 1/(2n)
    values.write_text(json.dumps(step))
    result = run("compare", path, "--values", values, "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["batch_mean"] is None
    assert data["first_mismatch"]["name"].startswith("dE/dx")


def test_per_sample_dx_needs_no_note(run, tmp_path):
    path = tmp_path / "net.toml"
    path.write_text(SPEC)
    values = tmp_path / "values.jsonl"
    values.write_text(run("trace", path, "--json").stdout)
    data = json.loads(run("compare", path, "--values", values, "--json").stdout)
    assert data["match"] is True and data["batch_mean"] is None


def test_one_wrong_dx_among_batch_mean_ones_is_wrong(run, tmp_path):
    spec = tracenn.load(SPEC)
    dx = torch_batch_mean_dx(spec)
    dx[1, 0] += 0.01
    path, values = trace_with_dx(run, tmp_path, torch_batch_mean_dx(spec))
    step = json.loads(values.read_text())
    step["dE_dx"] = dx.tolist()
    values.write_text(json.dumps(step))
    data = json.loads(run("compare", path, "--values", values, "--json").stdout)
    assert data["match"] is False and data["batch_mean"] is None


def learner_arrays(spec, dx_scale):
    """The course-layout arrays of one batch step (samples in columns), dA0 = W1ᵀ·dZ1 · scale."""
    (W1, b1), (W2, b2) = [(l.W, l.b[:, None]) for l in spec.network.layers]
    X, Y = np.asarray(spec.data.X, dtype=float).T, np.asarray(spec.data.T, dtype=float).T
    Z1 = W1 @ X + b1
    A1 = np.tanh(Z1)
    Z2 = W2 @ A1 + b2
    A2 = 1 / (1 + np.exp(-Z2))
    dZ2 = (A2 - Y) * A2 * (1 - A2)
    dZ1 = (W2.T @ dZ2) * (1 - A1**2)
    return dict(Z1=Z1, A1=A1, Z2=Z2, A2=A2, dZ2=dZ2, dZ1=dZ1, dA0=W1.T @ dZ1 * dx_scale)


def test_the_checker_reads_da0_of_the_batch_mean():
    spec = tracenn.load(SPEC)
    mean = learner_arrays(spec, 1 / N)
    assert np.allclose(mean["dA0"].T, torch_batch_mean_dx(spec), atol=1e-15)  # autograd's
    report = tracenn.check_arrays(spec, 1, **mean)
    assert report.ok and "dA0 as ∂E/∂x of the batch mean" in report.read
    assert report.to_json()["batch_mean"]["scale"] == "1/3"
    report = tracenn.check_arrays(spec, 1, **learner_arrays(spec, 1.0))
    assert report.ok and report.batch_mean is None and "dA0" not in report.read
    report = tracenn.check_arrays(spec, 1, **learner_arrays(spec, 1 / (2 * N)))
    assert not report.ok and report.first.name == "dE/dx1@1" and report.batch_mean is None
