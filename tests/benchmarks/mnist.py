"""MNIST benchmark: tracenn's engine against PyTorch (if installed) on the same data, same run.

    python3 tests/benchmarks/mnist.py --data DIR [--epochs N] [--nielsen-epochs N] [--only NAME]

DIR holds the full MNIST (../shared/tools/get-mnist DIR writes it).  Not part of the test run:
it takes minutes and reports figures rather than asserting them.  Configurations:

  default  784-128-64-10, ReLU, softmax + cross-entropy, batch 64, momentum 0.9: seconds per
           epoch with per-layer statistics off and on and of the same network in PyTorch, in
           rounds; the statistics' cost timed inside the run; test accuracy after --epochs
           epochs with tracenn's defaults.
  nielsen  Nielsen's network.py: [784, 30, 10], sigmoid, quadratic cost, mini-batch 10, η = 3.0,
           on the first 50,000 training images: seconds per epoch with and without per-layer
           statistics and of the same arithmetic as a bare NumPy loop, in rounds; network.py's
           algorithm written out one sample at a time, as a same-run reference; accuracy after
           --nielsen-epochs epochs (30, as in the book).
  memory   peak resident memory of a whole `tracenn mnist` process (10 epochs, defaults).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

import numpy as np

from tracenn.mnist.data import load
from tracenn.mnist.observer import SummaryObserver
from tracenn.mnist.training import MnistConfig, run


def tracenn_epochs(data, cfg: MnistConfig, layer_stats: bool) -> tuple[list[float], float]:
    """Wall seconds of each epoch (its summary's: every batch, then the summary line with the test
    accuracy) and the final test accuracy.  `layer_stats` adds the per-layer statistics."""
    seen = []
    result = run(data, cfg, layer_stats=layer_stats, emit=seen.append, start_summary=False)
    return [s.seconds for s in seen if s.kind == "epoch"], result.test_accuracy


def statistics_cost(data, cfg: MnistConfig, reps: int) -> tuple[float, float]:
    """Seconds per epoch spent in the summary observer with per-layer statistics on and off
    (the least of `reps` one-epoch runs, alternated: the work is the same in every run, so the
    least is the one the machine disturbed least), timed inside the run: the difference is what
    the statistics cost, without the run-to-run noise of comparing whole epochs."""
    spent = {False: [], True: []}
    clock = [0.0]
    original = {name: getattr(SummaryObserver, name) for name in ("on_step", "on_epoch")}

    def timed(f):
        def call(*args):
            t = time.perf_counter()
            f(*args)
            clock[0] += time.perf_counter() - t
        return call

    for name, f in original.items():
        setattr(SummaryObserver, name, timed(f))
    try:
        for rep in range(reps):
            for stats in (False, True):
                clock[0] = 0.0
                run(data, MnistConfig(**{**cfg.__dict__, "epochs": 1, "seed": rep}),
                    layer_stats=stats, start_summary=False)
                spent[stats].append(clock[0])
    finally:
        for name, f in original.items():
            setattr(SummaryObserver, name, f)
    return min(spent[True]), min(spent[False])


def numpy_floor_epochs(data, epochs: int) -> list[float]:
    """Seconds per epoch of the least a NumPy program can do for Nielsen's network: the same
    float32 arithmetic as tracenn (sigmoid, quadratic cost, batch 10, η = 3.0, images converted
    256 at a time) written out as one loop, with no observers, records or loss.  It is the
    yardstick for the 10× target: tracenn's engine cannot be faster than this."""
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
        times.append(time.perf_counter() - start)
    return times


def per_sample_epochs(data, epochs: int) -> list[float]:
    """Seconds per epoch of the algorithm of Nielsen's network.py as his book describes it
    (chapters 1 and 2), written here for a same-run reference: float64 weights drawn from
    N(0, 1); inputs as 784×1 float32 columns; each mini-batch of 10 backpropagated one sample at
    a time and the gradients summed in Python lists; after each epoch the test set classified
    one image at a time.  Not network.py itself (that is not ours to copy): a check on whether
    the issue's 2.6 s is what such a program takes on this machine today."""
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


def torch_epochs(data, layers, epochs: int, batch: int, lr: float, momentum: float,
                 activation: str = "relu", loss: str = "ce") -> tuple[list[float], float] | None:
    try:
        import torch
    except ImportError:
        return None
    torch.manual_seed(0)
    act = {"relu": torch.nn.ReLU, "sigmoid": torch.nn.Sigmoid}[activation]
    mods = []
    for i in range(len(layers) - 1):
        mods.append(torch.nn.Linear(layers[i], layers[i + 1]))
        if i < len(layers) - 2:
            mods.append(act())
    if loss == "mse":
        mods.append(torch.nn.Sigmoid())
    model = torch.nn.Sequential(*mods)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    X = torch.from_numpy(data.train_images.copy())  # uint8, converted per batch as tracenn does
    Y = torch.from_numpy(data.train_labels.astype(np.int64))
    times = []
    for _ in range(epochs):
        t = time.perf_counter()
        perm = torch.randperm(len(X))
        for start in range(0, len(X), batch):
            idx = perm[start:start + batch]
            x = X[idx].float() / 255
            y = Y[idx]
            out = model(x)
            if loss == "ce":
                err = torch.nn.functional.cross_entropy(out, y)
            else:
                err = 0.5 * ((out - torch.nn.functional.one_hot(y, 10).float()) ** 2).sum(1).mean()
            opt.zero_grad()
            err.backward()
            opt.step()
        times.append(time.perf_counter() - t)
    with torch.no_grad():
        pred = model(torch.from_numpy(data.test_images).float() / 255).argmax(1).numpy()
    return times, float((pred == data.test_labels).mean())


def best(times):
    return min(times), statistics.median(times)


def ratios(a, b) -> str:
    """Median and range of the per-round ratios a[i] / b[i]."""
    r = sorted(x / y for x, y in zip(a, b))
    return f"{statistics.median(r):.2f} (from {r[0]:.2f} to {r[-1]:.2f})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="folder (or file) with the full MNIST")
    ap.add_argument("--epochs", type=int, default=10, help="epochs of the default network's run")
    ap.add_argument("--nielsen-epochs", type=int, default=30,
                    help="epochs of Nielsen's network (network.py's own example runs 30)")
    ap.add_argument("--only", choices=["default", "nielsen", "memory"], default=None)
    args = ap.parse_args()
    data = load(args.data)
    print(f"data: {len(data.train_images)} training, {len(data.test_images)} test images; "
          f"numpy {np.__version__}")

    # This machine's speed drifts by tens of percent within minutes, so every comparison below
    # is made in rounds: one epoch of each contender per round, and the ratio of each round.
    if args.only in (None, "default"):
        cfg = MnistConfig(epochs=1)
        off, on, ref = [], [], []
        for rep in range(7):
            off += tracenn_epochs(data, MnistConfig(epochs=1, seed=rep), False)[0]
            on += tracenn_epochs(data, MnistConfig(epochs=1, seed=rep), True)[0]
            t = torch_epochs(data, cfg.layers, 1, cfg.batch_size, cfg.eta, cfg.momentum)
            if t is not None:
                ref += t[0]
        print(f"default, tracenn, per-layer summaries off: {best(off)[1]:.3f} s/epoch median "
              f"({best(off)[0]:.3f} best), 7 rounds")
        print(f"default, tracenn, per-layer summaries on:  {best(on)[1]:.3f} s/epoch median "
              f"({best(on)[0]:.3f} best); on/off per round: {ratios(on, off)}")
        if ref:
            print(f"default, PyTorch {cfg.layers}: {best(ref)[1]:.3f} s/epoch median "
                  f"({best(ref)[0]:.3f} best); tracenn with summaries / PyTorch per round: "
                  f"{ratios(on, ref)}")
        else:
            print("default, PyTorch: not installed (pip install torch==2.13.0)")
        with_stats, without = statistics_cost(data, MnistConfig(), 7)
        print(f"default, per-layer statistics timed inside the run: the observer takes "
              f"{1e3 * with_stats:.1f} ms/epoch with them, {1e3 * without:.1f} ms without: they add "
              f"{1e3 * (with_stats - without):.1f} ms = "
              f"{100 * (with_stats - without) / best(off)[0]:.1f}% of the best epoch without them")
        long = MnistConfig(epochs=args.epochs)
        times, acc = tracenn_epochs(data, long, layer_stats=True)
        print(f"default, tracenn, {long.epochs} epochs with summaries: test accuracy {acc:.4f}, "
              f"{best(times)[1]:.3f} s/epoch median")

    if args.only in (None, "nielsen"):
        d50 = data.limit(50000)
        cfg = MnistConfig(layers=[784, 30, 10], activation="sigmoid", output="sigmoid",
                          loss="half-sse", optimizer="sgd", lr=3.0, batch_size=10, epochs=1)
        off, on, floor = [], [], []
        for rep in range(5):
            off += tracenn_epochs(d50, MnistConfig(**{**cfg.__dict__, "seed": rep}), False)[0]
            on += tracenn_epochs(d50, MnistConfig(**{**cfg.__dict__, "seed": rep}), True)[0]
            floor += numpy_floor_epochs(d50, 1)
        print(f"nielsen [784,30,10], tracenn: {best(off)[1]:.3f} s/epoch without per-layer "
              f"statistics ({best(off)[0]:.3f} best), {best(on)[1]:.3f} with them "
              f"({best(on)[0]:.3f} best), 5 rounds")
        print(f"nielsen, the same arithmetic as one bare NumPy loop: {best(floor)[1]:.3f} s/epoch "
              f"({best(floor)[0]:.3f} best); tracenn / bare loop per round: without statistics "
              f"{ratios(off, floor)}, with {ratios(on, floor)}")
        reference = per_sample_epochs(d50, 2)
        print(f"nielsen, network.py's algorithm written out per sample (same run, after the "
              f"rounds): {best(reference)[1]:.2f} s/epoch; tracenn {best(reference)[1] / best(off)[1]:.1f}x "
              f"faster without per-layer statistics, {best(reference)[1] / best(on)[1]:.1f}x with them")
        print(f"nielsen, against network.py's 2.6 s/epoch: tracenn {2.6 / best(off)[1]:.1f}x "
              f"faster without per-layer statistics, {2.6 / best(on)[1]:.1f}x with them, the bare "
              f"loop {2.6 / best(floor)[1]:.1f}x (medians)")
        with_stats, without = statistics_cost(d50, cfg, 3)
        print(f"nielsen, per-layer statistics timed inside the run: "
              f"{1e3 * (with_stats - without):.1f} ms/epoch")
        _, acc = tracenn_epochs(d50, MnistConfig(**{**cfg.__dict__, "epochs": args.nielsen_epochs}),
                                True)
        print(f"nielsen: test accuracy after {args.nielsen_epochs} epochs {acc:.4f}")

    if args.only in (None, "memory"):
        # Measured by GNU time in the child itself: getrusage(RUSAGE_CHILDREN) would count the
        # memory this process (with PyTorch loaded) had when it forked the child.
        cmd = [sys.executable, "-m", "tracenn", "mnist", "--data", args.data, "--quiet"]
        done = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], check=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        peak = int(done.stderr.strip().splitlines()[-1]) / 1024
        print(f"memory: peak resident size of `tracenn mnist --data DIR --quiet` (10 epochs): "
              f"{peak:.0f} MB")


if __name__ == "__main__":
    main()
