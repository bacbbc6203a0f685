"""tracenn verify benchmark: whole-process time and peak memory of `tracenn verify`, the networks
of issue 13 and more sizes, and the share of SymPy's import.

    python3 tests/benchmarks/verify.py [--rounds N] [--only NAME,NAME] [--dps N] [--phases]

Not part of the test run: it reports figures rather than asserting them.  Every case runs
`python -m tracenn verify SPEC --json` in a child process `--rounds` times (default 3) and
reports the least wall time (the machine's other work only ever adds to it), the CPU time of
that run (user + system, from the child's rusage: less disturbed by a busy machine) and the
largest peak resident memory.  The specs are written to a temporary folder: random weights
N(0, 0.5²) from seed 1, inputs U(−1, 1), one-hot targets, softmax + cross-entropy outputs.

  issue    the table of issue 13: mazur; 4-8-3 sigmoid, 5 samples; 3-5-5-2 tanh/sigmoid,
           2 samples; 4-8-8-8-3 tanh/tanh/relu, 2 samples
  width    4-h-h-3 (tanh, tanh): about 50, 100, 200 and 400 parameters, 1 and 4 samples
  depth    4-8-…-8-3 (tanh): 1 to 4 hidden layers of 8 (67 to 283 parameters), 1 and 4 samples
  limit    a network beyond the default limits, refused before any differentiation
  import   `python -c pass`, `import sympy`, `import tracenn.cli`: SymPy's share of a verify
  --phases also each part of a verify in one process (trace, SymPy's derivatives, the gradient
           rows, the update, the identity table), for the presets and the issue's networks
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def spec_text(sizes: list[int], activations: list[str], samples: int, seed: int = 1) -> str:
    """A spec of random weights for these layer sizes and activations (the last is softmax)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (samples, sizes[0])).round(3).tolist()
    t = np.eye(sizes[-1], dtype=int)[rng.integers(0, sizes[-1], samples)].tolist()
    acts = ", ".join(f'"{a}"' for a in activations)
    return (f"[network]\nsizes = {sizes}\nactivations = [{acts}]\nloss = \"cross-entropy\"\n"
            f"init = \"normal\"\ninit_scale = 0.5\nseed = {seed}\n"
            "[training]\nlearning_rate = 0.1\nsteps = 1\nmode = \"batch\"\n"
            f"[data]\ninputs = {x}\ntargets = {t}\n")


def cases() -> dict[str, list[tuple[str, object]]]:
    """Groups of (name, spec): a preset name or (sizes, activations, samples)."""
    width = [(f"4-{h}-{h}-3 x{n}", ([4, h, h, 3], ["tanh", "tanh", "softmax"], n))
             for h in (4, 7, 11, 16) for n in (1, 4)]
    depth = [(f"4-{'8-' * d}3 x{n}", ([4] + [8] * d + [3], ["tanh"] * d + ["softmax"], n))
             for d in (1, 2, 3, 4) for n in (1, 4)]
    return {
        "issue": [("mazur", "mazur"),
                  ("4-8-3 x5", ([4, 8, 3], ["sigmoid", "softmax"], 5)),
                  ("3-5-5-2 x2", ([3, 5, 5, 2], ["tanh", "sigmoid", "softmax"], 2)),
                  ("4-8-8-8-3 x2", ([4, 8, 8, 8, 3], ["tanh", "tanh", "relu", "softmax"], 2))],
        "width": width,
        "depth": depth,
        "limit": [("4-8-8-8-8-8-8-3 x1", ([4] + [8] * 6 + [3], ["tanh"] * 6 + ["softmax"], 1))],
    }


def target(spec, folder: Path, name: str) -> str:
    if isinstance(spec, str):
        return spec
    path = folder / (name.replace(" ", "_") + ".toml")
    path.write_text(spec_text(*spec))
    return str(path)


def child(args: list[str]) -> tuple[float, float, int, int]:
    """(wall s, CPU s, peak RSS MB, exit status) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.stderr.close()
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024, \
        os.waitstatus_to_exitcode(status)


def measure(args: list[str], rounds: int) -> tuple[float, float, int, int]:
    """The least wall time of `rounds` runs, that run's CPU time, the largest peak RSS."""
    runs = [child(args) for _ in range(rounds)]
    best = min(runs)
    return best[0], best[1], max(r[2] for r in runs), best[3]


def parameters(spec) -> int:
    if isinstance(spec, str):
        import tracenn

        return len(tracenn.load(spec).labels.parameter_names())
    sizes = spec[0]
    return sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))


def run_cases(groups, rounds: int, dps: int | None, folder: Path) -> dict:
    extra = ["--dps", str(dps)] if dps else []
    results = {}
    for group, items in groups.items():
        print(f"\n## {group}\n")
        print("| network | parameters | wall s | CPU s | peak MB | exit |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for name, spec in items:
            args = [sys.executable, "-m", "tracenn", "verify", target(spec, folder, name),
                    "--json", *extra]
            wall, cpu, rss, code = measure(args, rounds)
            results[name] = (parameters(spec), wall, cpu)
            print(f"| {name} | {parameters(spec)} | {wall:.2f} | {cpu:.2f} | {rss} | {code} |",
                  flush=True)
    return results


def growth(results: dict) -> None:
    print("\n## growth from about 100 to about 400 parameters\n")
    print("| from | to | parameters × | parameters × depth × | wall × | CPU × |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for a, b in (("4-7-7-3 x1", "4-16-16-3 x1"), ("4-7-7-3 x4", "4-16-16-3 x4"),
                 ("4-8-3 x1", "4-8-8-8-8-3 x1"), ("4-8-3 x4", "4-8-8-8-8-3 x4")):
        if a in results and b in results:
            (pa, wa, ca), (pb, wb, cb) = results[a], results[b]
            da, db = a.count("-"), b.count("-")
            print(f"| {a} | {b} | {pb / pa:.1f} | {pb * db / (pa * da):.1f} | {wb / wa:.1f} | "
                  f"{cb / ca:.1f} |")


def imports(rounds: int, results: dict) -> None:
    print("\n## imports (whole process)\n")
    print("| command | wall s | CPU s |")
    print("| --- | ---: | ---: |")
    times = {}
    for code in ("pass", "import sympy", "import tracenn.cli", "import tracenn.cli, sympy"):
        wall, cpu, _, _ = measure([sys.executable, "-c", code], rounds)
        times[code] = wall, cpu
        print(f"| python -c \"{code}\" | {wall:.2f} | {cpu:.2f} |")
    wall, cpu = (times["import sympy"][i] - times["pass"][i] for i in (0, 1))
    for name in ("mazur", "4-8-3 x5", "4-8-8-8-3 x2"):
        if name in results:
            _, v_wall, v_cpu = results[name]
            print(f"\nSymPy's import ({wall:.2f} s wall, {cpu:.2f} s CPU) is {100 * wall / v_wall:.0f}% "
                  f"of `tracenn verify {name}`'s wall time, {100 * cpu / v_cpu:.0f}% of its CPU time.")


PHASES = r"""
import sys, time
t0 = time.perf_counter()
import tracenn, sympy
from tracenn.maths import identities, partials, updates, verify
from tracenn.runs import trace_one_step
t1 = time.perf_counter()
spec = tracenn.load(sys.argv[1])
step = trace_one_step(spec, 1)
loss = spec.network.loss
t2 = time.perf_counter()
values = partials.partial_derivatives(step, loss)
t3 = time.perf_counter()
verify.gradient_rows(step, loss, values, 1e-6)
t4 = time.perf_counter()
updates.check_update(step)
t5 = time.perf_counter()
identities.check_identities([lt.activation for lt in step.layers], loss.name)
t6 = time.perf_counter()
print(" | ".join(f"{t:.2f}" for t in (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5)))
"""


def phases(rounds: int, folder: Path) -> None:
    print("\n## the parts of one verify (seconds, least of the rounds)\n")
    print("| network | imports | trace | SymPy's derivatives | gradient rows | update | "
          "identities |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    items = [("xor", "xor"), ("softmax", "softmax")] + cases()["issue"]
    for name, spec in items:
        runs = [subprocess.run([sys.executable, "-c", PHASES, target(spec, folder, name)],
                               capture_output=True, text=True, check=True).stdout.split(" | ")
                for _ in range(rounds)]
        best = [min(float(r[i]) for r in runs) for i in range(6)]
        print(f"| {name} | " + " | ".join(f"{b:.2f}" for b in best) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", default="", help="groups: issue,width,depth,limit,import")
    parser.add_argument("--dps", type=int, default=None, help="run every verify with --dps N")
    parser.add_argument("--phases", action="store_true")
    args = parser.parse_args()
    only = set(filter(None, args.only.split(",")))
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.2f}, rounds {args.rounds}" + (f", --dps {args.dps}" if args.dps else ""))
    with tempfile.TemporaryDirectory() as tmp:
        groups = {k: v for k, v in cases().items() if not only or k in only}
        results = run_cases(groups, args.rounds, args.dps, Path(tmp))
        growth(results)
        if not only or "import" in only:
            imports(args.rounds, results)
        if args.phases:
            phases(args.rounds, Path(tmp))


if __name__ == "__main__":
    main()
