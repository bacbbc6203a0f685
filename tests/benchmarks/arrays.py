"""Arrays benchmark: a learner's 784-30-10 NumPy loop (course layout, 10 samples a step) checked
over 20 steps with tracenn.checker (the issue's target: well under a second); from_arrays of a
784-128-64-10 network; load of its spec written with its first layer's weights in an .npy file.

    python3 tests/benchmarks/arrays.py [--rounds N]

Reports the median and range of the CPU time (process time, which a busy machine does not
inflate) and of the wall clock.  Not part of the test run.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

import tracenn
from tracenn.spec.writer import spec_to_toml


def sig(x):
    return 1 / (1 + np.exp(-x))


def learner_run(spec, steps):
    """The arrays of a correct course-style loop (samples in columns) for `steps` steps."""
    X, Y = spec.data.X.T, spec.data.T.T
    (W1, b1), (W2, b2) = [(l.W.copy(), l.b[:, None].copy()) for l in spec.network.layers]
    m, eta, out = X.shape[1], spec.learning_rate, []
    for _ in range(steps):
        Z1 = W1 @ X + b1; A1 = sig(Z1); Z2 = W2 @ A1 + b2; A2 = sig(Z2)
        dZ2 = (A2 - Y) * A2 * (1 - A2)
        dW2 = dZ2 @ A1.T / m; db2 = dZ2.sum(axis=1, keepdims=True) / m
        dZ1 = (W2.T @ dZ2) * A1 * (1 - A1)
        dW1 = dZ1 @ X.T / m; db1 = dZ1.sum(axis=1, keepdims=True) / m
        out.append(dict(Z1=Z1, A1=A1, Z2=Z2, A2=A2, dZ2=dZ2, dW2=dW2, db2=db2, dZ1=dZ1, dW1=dW1,
                        db1=db1))
        W1, b1, W2, b2 = W1 - eta * dW1, b1 - eta * db1, W2 - eta * dW2, b2 - eta * db2
    return out


def learner_mini_batches(spec, order, size):
    """The arrays of a correct course-style loop over mini-batches of `size` in `order`."""
    X, Y = spec.data.X.T, spec.data.T.T
    (W1, b1), (W2, b2) = [(l.W.copy(), l.b[:, None].copy()) for l in spec.network.layers]
    eta, out = spec.learning_rate, []
    for start in range(0, len(order), size):
        idx = order[start:start + size]
        x, y, m = X[:, idx], Y[:, idx], len(idx)
        Z1 = W1 @ x + b1; A1 = sig(Z1); Z2 = W2 @ A1 + b2; A2 = sig(Z2)
        dZ2 = (A2 - y) * A2 * (1 - A2)
        dW2 = dZ2 @ A1.T / m; db2 = dZ2.sum(axis=1, keepdims=True) / m
        dZ1 = (W2.T @ dZ2) * A1 * (1 - A1)
        dW1 = dZ1 @ x.T / m; db1 = dZ1.sum(axis=1, keepdims=True) / m
        out.append(dict(Z1=Z1, A1=A1, Z2=Z2, A2=A2, dZ2=dZ2, dW2=dW2, db2=db2, dZ1=dZ1, dW1=dW1,
                        db1=db1))
        W1, b1, W2, b2 = W1 - eta * dW1, b1 - eta * db1, W2 - eta * dW2, b2 - eta * db2
    return out


def timed(fn, rounds):
    cpu, wall = [], []
    for _ in range(rounds):
        c, w = time.process_time(), time.perf_counter()
        fn()
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    return cpu, wall


def spec_784(sizes, n=10, steps=20):
    rng = np.random.default_rng(0)
    Ws = [rng.normal(0, 0.1, (a, b)) for a, b in zip(sizes[1:], sizes)]
    bs = [np.zeros(b) for b in sizes[1:]]
    X = rng.random((n, sizes[0]))
    T = np.eye(sizes[-1])[rng.integers(0, sizes[-1], n)]
    return Ws, bs, X, T


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    Ws, bs, X, T = spec_784([784, 30, 10])
    spec = tracenn.from_arrays(Ws, bs, activations="sigmoid", loss="half-sse", inputs=X,
                               targets=T, lr=0.5, mode="batch", steps=20)
    arrays = learner_run(spec, 20)

    def check():
        chk = tracenn.checker(spec)
        for a in arrays:
            chk.step(**a)
        assert chk.report().ok

    results = {"check 20 steps 784-30-10": timed(check, rounds)}
    # the case: 20 mini-batch steps (batches of 10 of 200 samples, the learner's order)
    Ws, bs, X, T = spec_784([784, 30, 10], n=200)
    order = np.random.default_rng(1).permutation(200)
    mini = tracenn.from_arrays(Ws, bs, activations="sigmoid", loss="half-sse", inputs=X,
                               targets=T, lr=0.5, steps=20).with_mini_batches(10, order=[order])
    mini_arrays = learner_mini_batches(mini, order, 10)

    def check_mini():
        chk = tracenn.checker(mini)
        for a in mini_arrays:
            chk.step(**a)
        assert chk.report().ok

    results["check 20 mini-batch steps 784-30-10"] = timed(check_mini, rounds)
    Ws, bs, X, T = spec_784([784, 128, 64, 10], n=32)
    results["from_arrays 784-128-64-10"] = timed(lambda: tracenn.from_arrays(
        [W.T for W in Ws], [b[:, None] for b in bs], activations=["sigmoid", "sigmoid", "softmax"],
        loss="cross-entropy", inputs=X.T, targets=T.T), rounds)
    big = tracenn.from_arrays(Ws, bs, activations=["sigmoid", "sigmoid", "softmax"],
                              loss="cross-entropy", inputs=X, targets=T)
    with tempfile.TemporaryDirectory() as d:
        np.save(Path(d) / "w1.npy", big.network.layers[0].W)
        path = Path(d) / "big.toml"
        path.write_text(spec_to_toml(big, weight_files={0: "w1.npy"}), encoding="utf-8")
        results["load 784-128-64-10 (.npy W1)"] = timed(lambda: tracenn.load(str(path)), rounds)
    for what, (cpu, wall) in results.items():
        print(f"{what}: CPU median {statistics.median(cpu):.3f} s ({min(cpu):.3f}–{max(cpu):.3f}), "
              f"wall median {statistics.median(wall):.3f} s")


if __name__ == "__main__":
    main()
