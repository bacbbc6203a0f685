"""MNIST benchmark: tracenn's engine against PyTorch (if installed) on the same data, same run.

    python3 tests/benchmarks/mnist.py --data DIR [--epochs N] [--only NAME]

DIR holds the full MNIST (../shared/tools/get-mnist DIR writes it).  Not part of the test run:
it takes minutes and reports figures rather than asserting them.  Configurations:

  default  784-128-64-10, ReLU, softmax + cross-entropy, batch 64, momentum 0.9: seconds per
           epoch with per-layer summaries off and on, the same network in PyTorch, and test
           accuracy after 10 epochs with tracenn's defaults.
  nielsen  Nielsen's network.py: [784, 30, 10], sigmoid, quadratic cost, mini-batch 10, η = 3.0,
           on the first 50,000 training images: seconds per epoch and accuracy after N epochs.
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
from tracenn.mnist.train import MnistConfig, run


def tracenn_epochs(data, cfg: MnistConfig, layer_stats: bool) -> tuple[list[float], float]:
    """Wall seconds of each epoch and the final test accuracy.  Every epoch ends with its
    summary line (loss, train and test accuracy); `layer_stats` adds the per-layer statistics,
    gathered after every batch."""
    marks = [time.perf_counter()]
    epochs_seen = [1]

    def progress(epoch, n):
        if epoch != epochs_seen[-1]:
            epochs_seen.append(epoch)
            marks.append(time.perf_counter())

    result = run(data, cfg, layer_stats=layer_stats, progress=progress)
    marks.append(marks[0] + result.seconds)
    return [b - a for a, b in zip(marks, marks[1:])], result.test_accuracy


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="folder (or file) with the full MNIST")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--only", choices=["default", "nielsen", "memory"], default=None)
    args = ap.parse_args()
    data = load(args.data)
    print(f"data: {len(data.train_images)} training, {len(data.test_images)} test images; "
          f"numpy {np.__version__}")

    if args.only in (None, "default"):
        # Per-layer statistics off and on, one epoch each, alternated so that both see the same
        # machine; then a full default run for the accuracy.
        off, on = [], []
        for rep in range(5):
            for stats, times in ((False, off), (True, on)):
                times += tracenn_epochs(data, MnistConfig(epochs=1, seed=rep), stats)[0]
        print(f"default, tracenn, per-layer summaries off: {best(off)[1]:.3f} s/epoch median "
              f"({best(off)[0]:.3f} best), 5 epochs")
        print(f"default, tracenn, per-layer summaries on:  {best(on)[1]:.3f} s/epoch median "
              f"({best(on)[0]:.3f} best), 5 epochs; they add "
              f"{100 * (best(on)[1] / best(off)[1] - 1):.1f}% (medians)")
        cfg = MnistConfig(epochs=args.epochs)
        times, acc = tracenn_epochs(data, cfg, layer_stats=True)
        print(f"default, tracenn, {cfg.epochs} epochs with summaries: test accuracy {acc:.4f}, "
              f"{best(times)[1]:.3f} s/epoch median")
        t = torch_epochs(data, cfg.layers, 3, cfg.batch_size, cfg.eta, cfg.momentum)
        if t is None:
            print("default, PyTorch: not installed (pip install torch==2.13.0)")
        else:
            print(f"default, PyTorch {cfg.layers}: {best(t[0])[1]:.3f} s/epoch median "
                  f"({best(t[0])[0]:.3f} best), 3 epochs; tracenn with summaries / PyTorch = "
                  f"{best(on)[1] / best(t[0])[1]:.2f}")

    if args.only in (None, "nielsen"):
        d50 = data.limit(50000)
        cfg = MnistConfig(layers=[784, 30, 10], activation="sigmoid", output="sigmoid",
                          loss="half-sse", optimizer="sgd", lr=3.0, batch_size=10,
                          epochs=args.epochs)
        on, acc = tracenn_epochs(d50, cfg, layer_stats=True)
        off, _ = tracenn_epochs(d50, MnistConfig(**{**cfg.__dict__, "epochs": 2}), layer_stats=False)
        print(f"nielsen [784,30,10], tracenn: {best(off)[1]:.3f} s/epoch summaries off, "
              f"{best(on)[1]:.3f} on (medians); accuracy after {cfg.epochs} epochs {acc:.4f}; "
              f"network.py was measured at 2.6 s/epoch: {2.6 / best(on)[1]:.1f}x faster")

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
