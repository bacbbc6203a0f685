"""The mistakes of learners' own NumPy networks (issue 20): each one planted in a NumPy step
written here the way course code writes it (samples in columns, W as n_out×n_in), on two
networks; the checker must name it from those arrays alone, and `tracenn compare` must name it
from `tracenn trace --mistake` (whose numbers the checker has just matched to the NumPy code)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import tracenn

NUMPY_MISTAKES = ("softmax-diagonal", "bias-summed-over-neurons", "w-transposed", "mean-twice",
                  "targets-one-hot-off")

# name -> (sizes, activations, loss, samples); both end in softmax with a squared error (so the
# softmax Jacobian is taken), have one-hot targets, a bias per neuron and a square W
NETWORKS = {
    "2-3-3": ((2, 3, 3), ("tanh", "softmax"), "half-sse", 4),
    "3-4-4-3": ((3, 4, 4, 3), ("sigmoid", "tanh", "softmax"), "mse", 5),
}
LR = 0.5

F = {"tanh": np.tanh, "sigmoid": lambda z: 1 / (1 + np.exp(-z))}
F_PRIME = {"tanh": lambda a: 1 - a**2, "sigmoid": lambda a: a * (1 - a)}


def softmax(Z):
    e = np.exp(Z - Z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def make(name):
    """The network's parameters and data (course layout) and its spec."""
    sizes, acts, loss, m = NETWORKS[name]
    rng = np.random.default_rng(len(sizes) * 7 + m)
    Ws = [rng.normal(0, 0.8, (n_out, n_in)) for n_in, n_out in zip(sizes, sizes[1:])]
    bs = [rng.normal(0, 0.3, (n_out, 1)) for n_out in sizes[1:]]
    X = rng.normal(0, 1, (sizes[0], m))
    labels = np.arange(m) % sizes[-1]
    Y = np.eye(sizes[-1])[labels].T
    spec = tracenn.from_arrays([W.copy() for W in Ws], [b.ravel().copy() for b in bs],
                               activations=list(acts), loss=loss, inputs=X.T.copy(),
                               targets=Y.T.copy(), lr=LR, mode="batch")
    return spec, Ws, bs, X, Y, labels


def learner_step(name, mistake=None):
    """One full-batch step as a learner writes it, with `mistake` planted in the line it names."""
    spec, Ws, bs, X, Y, labels = make(name)
    _, acts, loss, m = NETWORKS[name]
    K = Y.shape[0]
    if mistake == "targets-one-hot-off":
        Y = np.eye(K)[labels - 1].T  # the labels count from 0, the code from 1
    A, Z = [X], []
    for W, b, f in zip(Ws, bs, acts):
        Z.append(W @ A[-1] + b)
        A.append(softmax(Z[-1]) if f == "softmax" else F[f](Z[-1]))
    out = A[-1]
    dA = out - Y if loss == "half-sse" else 2 * (out - Y) / K
    if mistake == "softmax-diagonal":
        dZ = dA * out * (1 - out)  # softmax' "like sigmoid's"
    else:
        dZ = out * (dA - np.sum(dA * out, axis=0, keepdims=True))
    arrays = {}
    for l in range(len(Ws), 0, -1):
        W, A_prev = Ws[l - 1], A[l - 1]
        if l < len(Ws):
            dZ = (Ws[l].T @ dZ) * F_PRIME[acts[l - 1]](A[l])
        dW = dZ @ A_prev.T / m
        db = np.sum(dZ, axis=1, keepdims=True) / m
        if mistake == "w-transposed" and W.shape[0] == W.shape[1]:
            dW = A_prev @ dZ.T / m  # fits only because W is square
        if mistake == "bias-summed-over-neurons":
            db = np.sum(dZ) / m + np.zeros_like(db)  # no axis=1
        if mistake == "mean-twice":
            dW, db = dW / m, db / m  # dW = dZ·Aᵀ/m, then averaged over the batch again
        arrays.update({f"Z{l}": Z[l - 1], f"A{l}": A[l], f"dZ{l}": dZ, f"dW{l}": dW,
                       f"db{l}": db, f"W{l}_new": W - LR * dW, f"b{l}_new": bs[l - 1] - LR * db})
    return spec, arrays


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_the_learner_code_without_a_mistake_matches(name):
    spec, arrays = learner_step(name)
    report = tracenn.check_arrays(spec, 1, **arrays)
    assert report.ok, str(report)
    assert "samples in columns" in report.read


@pytest.mark.parametrize("name", sorted(NETWORKS))
@pytest.mark.parametrize("mistake", NUMPY_MISTAKES)
def test_the_checker_names_the_mistake(name, mistake):
    spec, arrays = learner_step(name, mistake)
    report = tracenn.check_arrays(spec, 1, **arrays)
    assert not report.ok
    assert report.mistakes == [mistake], str(report)


@pytest.mark.parametrize("name", sorted(NETWORKS))
@pytest.mark.parametrize("mistake", NUMPY_MISTAKES)
def test_compare_names_the_mistake(run, tmp_path, name, mistake):
    spec, _ = learner_step(name)
    path = tmp_path / "net.toml"
    path.write_text(_toml(spec))
    result = run("trace", path, "--mistake", mistake, "--json")
    assert result.exit_code == 0, result.stderr
    values = tmp_path / "values.jsonl"
    values.write_text(result.stdout)
    result = run("compare", path, "--values", values, "--json")
    assert result.exit_code == 1, result.stdout
    data = json.loads(result.stdout)
    assert [d["name"] for d in data["mistakes"]] == [mistake]
    assert data["mistakes"][0]["conflicts"] == []


def _toml(spec):
    from tracenn.spec.writer import spec_to_toml

    return spec_to_toml(spec)


def test_no_mean_is_summed_batch(run, tmp_path):
    spec, _ = learner_step("2-3-3")
    path = tmp_path / "net.toml"
    path.write_text(_toml(spec))
    result = run("trace", path, "--mistake", "no-mean", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[0])["mistakes"] == ["summed-batch"]


def test_a_mistake_that_cannot_apply_is_refused_in_one_line(run):
    result = run("trace", "softmax", "--mistake", "softmax-diagonal")
    assert result.exit_code == 2
    assert "a − t and softmax′ is never taken" in result.stderr
    result = run("trace", "mazur", "--mistake", "bias-summed-over-neurons")
    assert result.exit_code == 2 and "no layer has a bias of its own" in result.stderr


def test_the_readme_catalogue_documents_every_mistake():
    from pathlib import Path

    from tracenn.engine.mistakes import CATALOGUE
    from tracenn.engine.mistakes_numpy import ALIASES

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip(" `"): line for line in readme.splitlines()
            if line.startswith("| `")}
    for name in [*CATALOGUE, *ALIASES]:
        assert name in rows, name
    for name in NUMPY_MISTAKES:
        assert CATALOGUE[name].symptom and len(rows[name].split("|")) == 5  # with its symptom


@pytest.mark.parametrize("name", sorted(NETWORKS))
@pytest.mark.parametrize("mistake", NUMPY_MISTAKES)
def test_tracenn_check_names_the_mistake_from_an_npz(run, tmp_path, name, mistake):
    spec, arrays = learner_step(name, mistake)
    path = tmp_path / "net.toml"
    path.write_text(_toml(spec))
    np.savez(tmp_path / "mine.npz", **arrays)
    result = run("check", path, "--values", tmp_path / "mine.npz", "--json")
    assert result.exit_code == 1, result.stdout
    data = json.loads(result.stdout)
    assert data["match"] is False and data["mistakes"] == [mistake]


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_mean_twice_written_with_dz_scaled_early(name):
    # dZ = (A − Y)/m, then dW = dZ·Aᵀ/m again: the deltas are δ/m, read as such
    spec, arrays = learner_step(name, "mean-twice")
    m = NETWORKS[name][3]
    arrays = {k: v / m if k.startswith("dZ") else v for k, v in arrays.items()}
    report = tracenn.check_arrays(spec, 1, **arrays)
    assert "dZ as δ/m" in report.read and report.mistakes == ["mean-twice"]


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_no_mean_is_named_summed_batch_by_the_checker(name):
    spec, arrays = learner_step(name)
    m = NETWORKS[name][3]
    _, Ws, bs, *_ = make(name)
    for l in range(1, len(Ws) + 1):  # dW = dZ·Aᵀ and db = Σ dZ, never divided by m
        arrays[f"dW{l}"] = arrays[f"dW{l}"] * m
        arrays[f"db{l}"] = arrays[f"db{l}"] * m
        arrays[f"W{l}_new"] = Ws[l - 1] - LR * arrays[f"dW{l}"]
        arrays[f"b{l}_new"] = bs[l - 1] - LR * arrays[f"db{l}"]
    report = tracenn.check_arrays(spec, 1, **arrays)
    assert report.mistakes == ["summed-batch"], str(report)
