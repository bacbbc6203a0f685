"""MNIST benchmark: speed, memory and accuracy of `tracenn mnist` on the full data, each against
a reference measured in the same run (np.loadtxt, a bare NumPy loop, PyTorch).

    python3 tests/benchmarks/mnist.py --data DIR [--only SECTION ...] [--work DIR]
                                      [--rounds N] [--processes K]

DIR holds the full MNIST as the four IDX files (../shared/tools/get-mnist DIR writes them).  The
Kaggle-style CSV files (mnist_train.csv with the header "label,1x1,…,28x28", mnist_test.csv)
are made from them in --work (default: DIR/csv) the first time.  Not part of the test run: it
takes many minutes and reports figures rather than asserting them.

This machine's speed drifts by tens of percent within minutes, so every comparison is made in
rounds, one measurement of each contender per round, and a ratio is the median of the
per-round ratios (with their range).  One process's rounds share its memory layout, and the
medians of separate processes of the same code differ by a few percent (Nielsen's ratios by
±2%, as much as some targets' margins): with --processes K the sections run in K fresh
processes one after another, each printing its own figures, and issue 24's table is made
from all their rounds together, with the range of the processes' own medians.  Sections:

  csv        reading mnist_train.csv: tracenn's reader against np.loadtxt(dtype=uint8) of the
             same file; the same for the pair train + test.  Target: ≤ 1.3×.
  fullbatch  784-64-10, batch 60,000, sgd η = 1 (the seed projects' full-batch gradient
             descent): seconds per epoch stepped in chunks (the default) and whole.  Target:
             within 1.2× of whole.
  nielsen    Nielsen's network.py set-up: [784, 30, 10], sigmoid, quadratic cost, batch 10,
             η = 3.0, the first 50,000 images: tracenn without and with per-layer statistics
             against the same arithmetic as a bare NumPy loop.  Targets: ≤ 1.15× and ≤ 1.35×.
  default    the default run (tracenn's defaults; the same network, batch, optimizer and
             schedule in PyTorch): seconds per epoch without and with statistics, PyTorch's and
             a bare NumPy loop's of the same arithmetic (the floor under tracenn), and the
             statistics' cost timed inside the run.  Targets: ≤ 0.6× PyTorch, ≤ 5% (issue 24).
             The nielsen and default sections end with issue 24's table.
  accuracy   test accuracy after 10 epochs of the default run, seeds 0, 1 and 2.  Target: ≥ 98.0%.
  memory     peak resident memory of whole `tracenn mnist` processes: IDX default, CSV
             default, full batch (10 epochs each).  Targets: ≤ 200, ≤ 300, ≤ 400 MB.
"""

from __future__ import annotations

import argparse
import math
import statistics
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from tracenn.engine import backprop
from tracenn.mnist.csvdata import read_csv
from tracenn.mnist.data import load
from tracenn.mnist.observer import SummaryObserver
from tracenn.mnist.training import MnistConfig, run

SECTIONS = ("csv", "fullbatch", "nielsen", "default", "accuracy", "memory")
NIELSEN = dict(layers=[784, 30, 10], activation="sigmoid", output="sigmoid", loss="half-sse",
               optimizer="sgd", lr=3.0, batch_size=10, schedule="constant")
FULL_BATCH = dict(layers=[784, 64, 10], optimizer="sgd", lr=1.0, batch_size=60000,
                  schedule="constant")


def ratios(a, b) -> str:
    """Median and range of the per-round ratios a[i] / b[i]."""
    r = sorted(x / y for x, y in zip(a, b))
    return f"{statistics.median(r):.2f}× (rounds {r[0]:.2f}–{r[-1]:.2f})"


def median(times) -> float:
    return statistics.median(times)


def verdict(value: float, limit: float, above: bool = False) -> str:
    ok = value >= limit if above else value <= limit
    return f"target {'≥' if above else '≤'} {limit:g}: {'met' if ok else 'NOT met'}"


def median_ratio(a, b) -> float:
    return statistics.median(x / y for x, y in zip(a, b))


# --- the contenders ---------------------------------------------------------------------------


def tracenn_epochs(data, cfg: MnistConfig, layer_stats: bool, **options) -> tuple[list[float], float]:
    """Wall seconds of each epoch (its summary's: every batch, then the summary with the test
    accuracy) and the final test accuracy."""
    seen = []
    result = run(data, cfg, layer_stats=layer_stats, emit=seen.append, start_summary=False,
                 **options)
    return [s.seconds for s in seen if s.kind == "epoch"], result.test_accuracy


def statistics_cost(data, cfg: MnistConfig, reps: int) -> tuple[float, float]:
    """Seconds per epoch spent on the summary: in its observer, and in the engine's ‖∂E/∂W‖
    (a workspace with norms takes them there), with per-layer statistics on and off (the least
    of `reps` one-epoch runs, alternated), timed inside the run: the difference is what the
    statistics cost, without the run-to-run noise of comparing whole epochs.  A call inside
    another timed one is counted once."""
    spent = {False: [], True: []}
    clock, depth = [0.0], [0]
    places = [(SummaryObserver, name) for name in ("on_step", "on_epoch", "on_chunk")] + \
        [(backprop, "norm")]
    original = [(owner, name, getattr(owner, name)) for owner, name in places]

    def timed(f):
        def call(*args):
            depth[0] += 1
            t = time.perf_counter()
            try:
                return f(*args)
            finally:
                depth[0] -= 1
                if not depth[0]:
                    clock[0] += time.perf_counter() - t
        return call

    for owner, name, f in original:
        setattr(owner, name, timed(f))
    try:
        for rep in range(reps):
            for stats in (False, True):
                clock[0] = 0.0
                run(data, MnistConfig(**{**cfg.__dict__, "epochs": 1, "seed": rep}),
                    layer_stats=stats, start_summary=False)
                spent[stats].append(clock[0])
    finally:
        for owner, name, f in original:
            setattr(owner, name, f)
    return min(spent[True]), min(spent[False])


def numpy_floor_epochs(data, epochs: int) -> list[float]:
    """Seconds per epoch of the least a NumPy program can do for Nielsen's network: the same
    float32 arithmetic as tracenn (sigmoid, quadratic cost, batch 10, η = 3.0, images converted
    256 at a time) written out as one loop with no observers, records or loss, then the test
    set classified 2,000 images at a time, as tracenn's epoch ends with the test accuracy."""
    rng = np.random.default_rng(0)
    W1 = rng.normal(0, 1 / 28, (30, 784)).astype(np.float32)
    W2 = rng.normal(0, 1 / 5.5, (10, 30)).astype(np.float32)
    b1, b2 = np.zeros(30, np.float32), np.zeros(10, np.float32)
    eye, scale, eta = np.eye(10, dtype=np.float32), np.float32(1 / 255), np.float32(3.0 / 10)
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        order = rng.permutation(len(data.train_images))
        for c in range(0, len(order), 256):
            ids = order[c:c + 256]
            X = np.multiply(data.train_images[ids], scale, dtype=np.float32)
            T = eye[data.train_labels[ids]]
            for s in range(0, len(ids), 10):
                x, t = X[s:s + 10], T[s:s + 10]
                a1 = 1 / (1 + np.exp(-((W1 @ x.T).T + b1)))
                a2 = 1 / (1 + np.exp(-((W2 @ a1.T).T + b2)))
                d2 = (a2 - t) * a2 * (1 - a2)
                d1 = (d2 @ W2) * a1 * (1 - a1)
                W2 -= (eta * d2.T) @ a1
                b2 -= eta * d2.sum(0)
                W1 -= (eta * d1.T) @ x
                b1 -= eta * d1.sum(0)
        correct = 0
        for c in range(0, len(data.test_images), 2000):
            x = np.multiply(data.test_images[c:c + 2000], scale, dtype=np.float32)
            a1 = 1 / (1 + np.exp(-((W1 @ x.T).T + b1)))
            a2 = 1 / (1 + np.exp(-((W2 @ a1.T).T + b2)))
            correct += int((a2.argmax(1) == data.test_labels[c:c + 2000]).sum())
        times.append(time.perf_counter() - start)
    return times


def numpy_floor_default_epochs(data, cfg: MnistConfig, epochs: int,
                               seed: int = 0) -> tuple[list[float], float]:
    """Seconds per epoch of a bare NumPy loop doing the default run's arithmetic (cfg: layers,
    batch, η, momentum, weight decay, cosine schedule): float32 He-initialised weights, ReLU
    hidden layers, softmax with cross-entropy (δ = a − t), momentum v ← μ v + g with
    g = ∂E/∂W + λW on the weights only, w ← w − η v, images converted 256 at a time, and the test
    set classified after each epoch.  Written out as one loop with buffers reused, no
    observers, records or loss: what NumPy itself takes for this run, the floor under tracenn's
    default run and the measure of how far below PyTorch NumPy can go.  Returns the seconds of
    each epoch and the final test accuracy (a check that the loop learns as tracenn does)."""
    rng = np.random.default_rng(seed)
    sizes, n, mu, lam = cfg.layers, cfg.batch_size, cfg.momentum, cfg.decay
    Ws = [rng.normal(0, (2 / m) ** 0.5, (k, m)).astype(np.float32)
          for m, k in zip(sizes, sizes[1:])]
    bs = [np.zeros(k, np.float32) for k in sizes[1:]]
    vW, vb = [np.zeros_like(W) for W in Ws], [np.zeros_like(b) for b in bs]
    grads = [np.empty_like(W) for W in Ws]
    eye, scale, L = np.eye(10, dtype=np.float32), np.float32(1 / 255), len(Ws)
    N = len(data.train_images)
    total, step, times = epochs * -(-N // n), 0, []
    for _ in range(epochs):
        start = time.perf_counter()
        order = rng.permutation(N)
        per_chunk = max(1, 256 // n) * n
        for c in range(0, N, per_chunk):
            ids = order[c:c + per_chunk]
            X = np.multiply(data.train_images[ids], scale, dtype=np.float32)
            T = eye[data.train_labels[ids]]
            for s in range(0, len(ids), n):
                acts, zs = [X[s:s + n]], []
                for l in range(L):
                    z = (Ws[l] @ acts[-1].T).T + bs[l]
                    zs.append(z)
                    if l < L - 1:
                        acts.append(np.maximum(z, 0))
                    else:
                        e = np.exp(z - z.max(axis=1, keepdims=True))
                        acts.append(e / e.sum(axis=1, keepdims=True))
                delta = (acts[-1] - T[s:s + n]) / len(ids[s:s + n])
                eta = cfg.eta * 0.5 * (1 + math.cos(math.pi * step / total))
                step += 1
                for l in range(L - 1, -1, -1):
                    g = np.matmul(delta.T, acts[l], out=grads[l])
                    gb = delta.sum(axis=0)
                    if l:
                        delta = (delta @ Ws[l]) * (zs[l - 1] > 0)
                    g += lam * Ws[l]
                    vW[l] *= mu
                    vW[l] += g
                    vb[l] *= mu
                    vb[l] += gb
                for l in range(L):
                    Ws[l] -= eta * vW[l]
                    bs[l] -= eta * vb[l]
        correct = 0
        for c in range(0, len(data.test_images), 2000):
            a = np.multiply(data.test_images[c:c + 2000], scale, dtype=np.float32)
            for l in range(L):
                a = (Ws[l] @ a.T).T + bs[l]
                a = np.maximum(a, 0) if l < L - 1 else a
            correct += int((a.argmax(axis=1) == data.test_labels[c:c + 2000]).sum())
        times.append(time.perf_counter() - start)
    return times, correct / len(data.test_images)


def per_sample_epochs(data, epochs: int) -> list[float]:
    """Seconds per epoch of the algorithm of Nielsen's network.py as his book describes it
    (chapters 1 and 2), written here for a same-run reference: float64 weights drawn from
    N(0, 1); inputs as 784×1 float32 columns; each mini-batch of 10 backpropagated one sample at
    a time and the gradients summed in Python lists; after each epoch the test set classified
    one image at a time.  Not network.py itself (that is not ours to copy): a check on
    what such a program takes on this machine today."""
    rng = np.random.default_rng(0)
    sizes = [784, 30, 10]
    weights = [rng.standard_normal((n_out, n_in)) for n_in, n_out in zip(sizes, sizes[1:])]
    biases = [rng.standard_normal((n_out, 1)) for n_out in sizes[1:]]
    xs = [(img.astype(np.float32) / 255).reshape(784, 1) for img in data.train_images]
    ys = [np.eye(10)[label].reshape(10, 1) for label in data.train_labels]
    tests = [(img.astype(np.float32) / 255).reshape(784, 1) for img in data.test_images]

    def sigmoid(z):
        return 1.0 / (1.0 + np.exp(-z))

    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        order = rng.permutation(len(xs))
        for b in range(0, len(order), 10):
            sum_w = [np.zeros(w.shape) for w in weights]
            sum_b = [np.zeros(bb.shape) for bb in biases]
            for i in order[b:b + 10]:
                a, acts, zs = xs[i], [xs[i]], []
                for w, bb in zip(weights, biases):
                    z = np.dot(w, a) + bb
                    a = sigmoid(z)
                    zs.append(z)
                    acts.append(a)
                delta = (acts[-1] - ys[i]) * sigmoid(zs[-1]) * (1 - sigmoid(zs[-1]))
                grads_w, grads_b = [np.dot(delta, acts[-2].T)], [delta]
                for l in range(2, len(sizes)):
                    s = sigmoid(zs[-l])
                    delta = np.dot(weights[-l + 1].T, delta) * s * (1 - s)
                    grads_w.insert(0, np.dot(delta, acts[-l - 1].T))
                    grads_b.insert(0, delta)
                sum_w = [acc + g for acc, g in zip(sum_w, grads_w)]
                sum_b = [acc + g for acc, g in zip(sum_b, grads_b)]
            weights = [w - (3.0 / 10) * g for w, g in zip(weights, sum_w)]
            biases = [bb - (3.0 / 10) * g for bb, g in zip(biases, sum_b)]
        correct = 0
        for x, label in zip(tests, data.test_labels):
            a = x
            for w, bb in zip(weights, biases):
                a = sigmoid(np.dot(w, a) + bb)
            correct += int(np.argmax(a) == label)
        times.append(time.perf_counter() - start)
    return times


def torch_epochs(data, cfg: MnistConfig, epochs: int) -> tuple[list[float], float] | None:
    """PyTorch's seconds per epoch for cfg's network, batch, optimizer (momentum, nesterov or
    adam), weight decay and schedule, the images converted per batch as tracenn does, each
    epoch ending with the test set's accuracy as tracenn's does; None without torch."""
    try:
        import torch
    except ImportError:
        return None

    torch.manual_seed(0)
    mods = []
    for i in range(len(cfg.layers) - 1):
        mods.append(torch.nn.Linear(cfg.layers[i], cfg.layers[i + 1]))
        if i < len(cfg.layers) - 2:
            mods.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*mods)
    # weight decay on the weights only, as tracenn's (a parameter group without it for biases)
    groups = [{"params": [m.weight for m in mods if hasattr(m, "weight")],
               "weight_decay": cfg.decay},
              {"params": [m.bias for m in mods if hasattr(m, "bias")], "weight_decay": 0.0}]
    if cfg.optimizer == "adam":
        opt = torch.optim.Adam(groups, lr=cfg.eta)
    else:
        opt = torch.optim.SGD(groups, lr=cfg.eta, momentum=cfg.momentum,
                              nesterov=cfg.optimizer == "nesterov")
    X = torch.from_numpy(data.train_images.copy())
    Y = torch.from_numpy(data.train_labels.astype(np.int64))
    test = torch.from_numpy(data.test_images.copy())
    total, step, times = epochs * -(-len(X) // cfg.batch_size), 0, []
    for _ in range(epochs):
        t = time.perf_counter()
        perm = torch.randperm(len(X))
        for start in range(0, len(X), cfg.batch_size):
            idx = perm[start:start + cfg.batch_size]
            err = torch.nn.functional.cross_entropy(model(X[idx].float() / 255), Y[idx])
            opt.zero_grad()
            err.backward()
            opt.step()
            step += 1
            if cfg.schedule == "cosine":
                for group in opt.param_groups:
                    group["lr"] = cfg.eta * 0.5 * (1 + math.cos(math.pi * step / total))
        with torch.no_grad():  # the test accuracy, as every tracenn epoch ends with it
            pred = model(test.float() / 255).argmax(1).numpy()
        times.append(time.perf_counter() - t)
    return times, float((pred == data.test_labels).mean())


# --- sections ---------------------------------------------------------------------------------


def make_csv(data, folder: Path) -> Path:
    """Kaggle's "MNIST in CSV" from the IDX data: mnist_train.csv and mnist_test.csv."""
    folder.mkdir(parents=True, exist_ok=True)
    header = "label," + ",".join(f"{r}x{c}" for r in range(1, 29) for c in range(1, 29))
    for name, X, Y in (("mnist_train.csv", data.train_images, data.train_labels),
                       ("mnist_test.csv", data.test_images, data.test_labels)):
        path = folder / name
        if not path.is_file():
            table = np.concatenate([Y[:, None], X], axis=1)
            np.savetxt(path.with_suffix(".part"), table, fmt="%d", delimiter=",", header=header,
                       comments="")
            path.with_suffix(".part").replace(path)
    return folder / "mnist_train.csv"


def csv_section(train_csv: Path, rounds: int) -> None:
    test_csv = train_csv.with_name("mnist_test.csv")
    ref, ours, ref2, ours2 = [], [], [], []
    for _ in range(rounds):
        for times, f in ((ref, lambda: np.loadtxt(train_csv, delimiter=",", dtype=np.uint8,
                                                  skiprows=1)),
                         (ours, lambda: read_csv(train_csv)),
                         (ref2, lambda: [np.loadtxt(p, delimiter=",", dtype=np.uint8, skiprows=1)
                                         for p in (train_csv, test_csv)]),
                         (ours2, lambda: load(train_csv))):
            t = time.perf_counter()
            f()
            times.append(time.perf_counter() - t)
    size = train_csv.stat().st_size / 1e6
    print(f"csv: mnist_train.csv ({size:.0f} MB): np.loadtxt(dtype=uint8) {median(ref):.2f} s, "
          f"tracenn {median(ours):.2f} s (medians of {rounds}); tracenn / loadtxt "
          f"{ratios(ours, ref)}; {verdict(median_ratio(ours, ref), 1.3)}")
    print(f"csv: train + test (tracenn.mnist.load): {median(ours2):.2f} s against loadtxt of both "
          f"{median(ref2):.2f} s: {ratios(ours2, ref2)}")


def fullbatch_section(data, rounds: int) -> None:
    chunked, whole = [], []
    for rep in range(rounds):
        cfg = MnistConfig(**FULL_BATCH, epochs=2, seed=rep)
        chunked += tracenn_epochs(data, cfg, True)[0]
        whole += tracenn_epochs(data, cfg, True, chunk=None)[0]
    print(f"fullbatch 784-64-10, batch 60000: in chunks {median(chunked):.3f} s/epoch, whole "
          f"{median(whole):.3f} s/epoch ({2 * rounds} epochs each); chunks / whole "
          f"{ratios(chunked, whole)}; {verdict(median_ratio(chunked, whole), 1.2)}")


def nielsen_section(data, rounds: int, epochs: int) -> None:
    d50 = data.limit(50000)
    cfg = MnistConfig(**NIELSEN, epochs=1)
    off, on, floor = [], [], []
    for rep in range(rounds):
        off += tracenn_epochs(d50, MnistConfig(**{**cfg.__dict__, "seed": rep}), False)[0]
        on += tracenn_epochs(d50, MnistConfig(**{**cfg.__dict__, "seed": rep}), True)[0]
        floor += numpy_floor_epochs(d50, 1)
    print(f"nielsen [784,30,10], batch 10: bare NumPy loop {median(floor):.3f} s/epoch; tracenn "
          f"{median(off):.3f} without per-layer statistics, {median(on):.3f} with them "
          f"(medians of {rounds} rounds)")
    print(f"nielsen: tracenn / bare loop without statistics {ratios(off, floor)}, "
          f"{verdict(median_ratio(off, floor), 1.15)}; with them {ratios(on, floor)}, "
          f"{verdict(median_ratio(on, floor), 1.35)}")
    ROWS.append(("Nielsen [784,30,10], batch 10, no statistics", off, "bare NumPy loop", floor,
                 1.15))
    ROWS.append(("same, with per-layer statistics", on, "bare NumPy loop", floor, 1.35))
    reference = per_sample_epochs(d50, 2)
    print(f"nielsen: network.py's algorithm written out per sample (after the rounds): "
          f"{median(reference):.2f} s/epoch, {median(reference) / median(off):.1f}× tracenn's "
          f"time without per-layer statistics, {median(reference) / median(on):.1f}× with them")
    with_stats, without = statistics_cost(d50, cfg, 3)
    print(f"nielsen: per-layer statistics timed inside the run: {1e3 * (with_stats - without):.1f} "
          "ms/epoch")
    if epochs:
        _, acc = tracenn_epochs(d50, MnistConfig(**{**cfg.__dict__, "epochs": epochs}), True)
        print(f"nielsen: test accuracy after {epochs} epochs {100 * acc:.2f}%")


def default_section(data, rounds: int) -> None:
    cfg = MnistConfig()
    off, on, ref, floor, floor_acc = [], [], [], [], []
    for rep in range(rounds):
        off += tracenn_epochs(data, MnistConfig(epochs=1, seed=rep), False)[0]
        on += tracenn_epochs(data, MnistConfig(epochs=1, seed=rep), True)[0]
        seconds, acc = numpy_floor_default_epochs(data, MnistConfig(epochs=1), 1, seed=rep)
        floor += seconds
        floor_acc.append(acc)
        t = torch_epochs(data, MnistConfig(epochs=1), 1)
        if t is not None:
            ref += t[0]
    print(f"default {'-'.join(map(str, cfg.layers))}, batch {cfg.batch_size}, {cfg.optimizer} "
          f"η = {cfg.eta:g} ({cfg.schedule}): tracenn {median(off):.3f} s/epoch without per-layer "
          f"statistics, {median(on):.3f} with them (medians of {rounds} rounds)")
    print(f"default: a bare NumPy loop of the same arithmetic {median(floor):.3f} s/epoch (test "
          f"accuracy after its epoch {100 * median(floor_acc):.2f}%); tracenn / bare loop "
          f"{ratios(off, floor)} without statistics, {ratios(on, floor)} with them")
    if ref:
        print(f"default: PyTorch {median(ref):.3f} s/epoch; tracenn with statistics / PyTorch "
              f"{ratios(on, ref)}, {verdict(median_ratio(on, ref), 0.6)}; the bare NumPy loop / "
              f"PyTorch {ratios(floor, ref)}")
        ROWS.append(("default 784-128-64-10, with statistics", on, "PyTorch", ref, 0.6))
        ROWS.append(("(the bare NumPy loop of the default run)", floor, "PyTorch", ref, None))
    else:
        print("default: PyTorch is not installed (pip install torch==2.13.0)")
    ROWS.append(("default, with statistics", on, "bare NumPy loop", floor, None))
    with_stats, without = statistics_cost(data, cfg, rounds)
    share = (with_stats - without) / min(off)
    print(f"default: the summary (its observer and the engine's ‖∂E/∂W‖) takes "
          f"{1e3 * with_stats:.1f} ms/epoch with per-layer statistics, {1e3 * without:.1f} "
          f"without (timed inside the run, least of {rounds}): "
          f"they add {1e3 * (with_stats - without):.1f} ms = {100 * share:.1f}% of the best "
          f"epoch without them; {verdict(100 * share, 5)}")
    COST.append((1e3 * (with_stats - without), 100 * share))


ROWS: list = []  # (run, tracenn's seconds per round, reference, its seconds, target ratio)
COST: list = []  # (the statistics' ms per epoch, their share in %) of the default run


def table(rows=None, cost=None, per_process=None) -> None:
    """The rows of issue 24's table, from the sections run: medians of the rounds measured in
    this run, with the range of the per-round ratios.  From several processes (`per_process`:
    each one's ROWS and COST), the rounds of all of them, and the range of their medians."""
    rows, cost = (ROWS, COST) if rows is None else (rows, cost)
    if not rows and not cost:
        return
    spread = "" if per_process is None else " | processes' medians"
    print(f"\n| run | tracenn s/epoch | reference s/epoch | ratio (rounds) | target{spread} |")
    print("| --- | --- | --- | --- | --- |" + (" --- |" if spread else ""))
    for i, (name, ours, ref_name, ref, target) in enumerate(rows):
        r = median_ratio(ours, ref)
        aim = "—" if target is None else f"≤ {target:g}× {'met' if r <= target else 'NOT met'}"
        each = "" if per_process is None else " | " + _range(
            [median_ratio(p_rows[i][1], p_rows[i][3]) for p_rows, _ in per_process], "×")
        print(f"| {name} | {median(ours):.3f} | {ref_name} {median(ref):.3f} | "
              f"{ratios(ours, ref)} | {aim}{each} |")
    if cost:
        ms, share = median(c[0] for c in cost), median(c[1] for c in cost)
        each = "" if per_process is None else " | " + _range([c[1] for c in cost], "%")
        print(f"| statistics' cost in the default run | {ms:.1f} ms/epoch | — | {share:.1f}% | "
              f"≤ 5% {'met' if share <= 5 else 'NOT met'}{each} |")


def _range(values, unit: str) -> str:
    return f"{min(values):.2f}{unit}–{max(values):.2f}{unit}" if unit == "×" else \
        f"{min(values):.1f}{unit}–{max(values):.1f}{unit}"


def in_processes(argv: list[str], k: int) -> None:
    """Run this benchmark's sections (argv, without --processes) in k fresh processes, one
    after another, passing their output through; then issue 24's table of all their rounds."""
    per_process = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(k):
            out = Path(tmp) / f"rows{i}.json"
            print(f"--- process {i + 1} of {k}", flush=True)
            subprocess.run([sys.executable, __file__, *argv, "--rows-to", str(out)], check=True)
            if out.exists():
                saved = json.loads(out.read_text())
                per_process.append((saved["rows"], saved["cost"]))
    if not per_process:
        return
    rows = [[name, [t for p, _ in per_process for t in p[i][1]], ref_name,
             [t for p, _ in per_process for t in p[i][3]], target]
            for i, (name, _, ref_name, _, target) in enumerate(per_process[0][0])]
    cost = [c for _, p_cost in per_process for c in p_cost]
    print(f"\n--- issue 24's table from all {k} processes' rounds")
    table(rows, cost, per_process)


def accuracy_section(data) -> None:
    accs = []
    for seed in (0, 1, 2):
        _, acc = tracenn_epochs(data, MnistConfig(seed=seed), True)
        accs.append(100 * acc)
    print(f"accuracy: the default run, 10 epochs, seeds 0, 1, 2: "
          f"{', '.join(f'{a:.2f}%' for a in accs)}; {verdict(min(accs), 98.0, above=True)}")


def peak_mb(*args: str) -> float:
    """Peak resident memory of a `tracenn mnist` process, by GNU time in the child itself
    (getrusage(RUSAGE_CHILDREN) would count the memory this process had when it forked)."""
    cmd = [sys.executable, "-m", "tracenn", "mnist", "--quiet", *args]
    done = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], check=True,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return int(done.stderr.strip().splitlines()[-1]) / 1024


def memory_section(data_dir: str, train_csv: Path) -> None:
    runs = [("IDX default", 200, ["--data", data_dir]),
            ("CSV default", 300, ["--data", str(train_csv)]),
            ("full batch 784-64-10", 400, ["--data", data_dir, "--layers", "784,64,10",
                                           "--batch-size", "60000", "--optimizer", "sgd",
                                           "--lr", "1", "--schedule", "constant"])]
    for name, limit, args in runs:
        peak = peak_mb(*args)
        print(f"memory: {name} (`tracenn mnist {' '.join(args)}`, 10 epochs): peak "
              f"{peak:.0f} MB; {verdict(peak, limit)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="folder with the full MNIST as IDX files")
    ap.add_argument("--work", default=None, help="folder for the CSV files (default: DATA/csv)")
    ap.add_argument("--only", nargs="+", choices=SECTIONS, default=SECTIONS)
    ap.add_argument("--rounds", type=int, default=7, help="rounds of each comparison")
    ap.add_argument("--nielsen-epochs", type=int, default=0,
                    help="also report Nielsen's accuracy after N epochs (the book runs 30)")
    ap.add_argument("--processes", type=int, default=1,
                    help="run the sections in K fresh processes and pool their rounds")
    ap.add_argument("--rows-to", default=None, help=argparse.SUPPRESS)  # a child's table
    args = ap.parse_args()
    if args.processes < 1:
        ap.error(f"--processes must be at least 1, not {args.processes}")
    if args.processes > 1:
        argv, i = [], 1
        while i < len(sys.argv):  # this command line without --processes K
            arg = sys.argv[i]
            i += 2 if arg == "--processes" else 1
            if arg != "--processes" and not arg.startswith("--processes="):
                argv.append(arg)
        in_processes(argv, args.processes)
        return
    data = load(args.data)
    print(f"data: {len(data.train_images)} training, {len(data.test_images)} test images; "
          f"numpy {np.__version__}")
    train_csv = None
    if {"csv", "memory"} & set(args.only):
        train_csv = make_csv(data, Path(args.work) if args.work else Path(args.data) / "csv")
    sections = {
        "csv": lambda: csv_section(train_csv, args.rounds),
        "fullbatch": lambda: fullbatch_section(data, max(2, args.rounds // 2)),
        "nielsen": lambda: nielsen_section(data, args.rounds, args.nielsen_epochs),
        "default": lambda: default_section(data, args.rounds),
        "accuracy": lambda: accuracy_section(data),
        "memory": lambda: memory_section(args.data, train_csv),
    }
    for name in SECTIONS:
        if name in args.only:
            sections[name]()
    if args.rows_to:
        Path(args.rows_to).write_text(json.dumps({"rows": ROWS, "cost": COST}))
    table()


if __name__ == "__main__":
    main()
