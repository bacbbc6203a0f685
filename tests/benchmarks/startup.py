"""Start-up benchmark: whole-process time of the quick commands against the floor of importing
their dependencies, measured in alternating rounds (a shared machine's speed drifts).

    python3 tests/benchmarks/startup.py [--rounds N]

Reports the median seconds of each command and its ratio to `python -c "import numpy, click,
tabulate"` (the issue's target for `tracenn mazur --steps 1`: within 1.3×), and whether SymPy was
imported (it must not be).  Not part of the test run.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time

FLOOR = [sys.executable, "-c", "import numpy, click, tabulate"]
COMMANDS = {
    "tracenn mazur --steps 1": ["mazur", "--steps", "1"],
    "tracenn xor": ["xor"],
    "tracenn --help": ["--help"],
}


def tracenn(args: list[str]) -> list[str]:
    exe = shutil.which("tracenn")
    return [exe, *args] if exe else [sys.executable, "-m", "tracenn", *args]


def seconds(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    rounds = parser.parse_args().rounds
    times: dict[str, list[float]] = {"floor": [], **{name: [] for name in COMMANDS}}
    ratios: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(rounds):
        floor = seconds(FLOOR)
        times["floor"].append(floor)
        for name, args in COMMANDS.items():
            t = seconds(tracenn(args))
            times[name].append(t)
            ratios[name].append(t / floor)
    print(f"floor (import numpy, click, tabulate): {statistics.median(times['floor']):.3f} s")
    for name in COMMANDS:
        r = sorted(ratios[name])
        print(f"{name}: {statistics.median(times[name]):.3f} s, {statistics.median(r):.2f}× the floor "
              f"(per-round range {r[0]:.2f}–{r[-1]:.2f})")
    probe = ("import sys; from tracenn.cli import main; sys.argv = ['tracenn', 'mazur']\n"
             "try:\n    main()\nexcept SystemExit:\n    pass\n"
             "print('sympy imported' if 'sympy' in sys.modules else 'sympy not imported', file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    print(f"tracenn mazur: {done.stderr.strip().splitlines()[-1]}")


if __name__ == "__main__":
    main()
