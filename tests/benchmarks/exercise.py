"""Exercise benchmark: whole-process time of `tracenn exercise mazur --students 30 --seed 1 -o DIR`
(the issue's target: under 5 s) and of grading the 30 answer files it leaves, filled in from
each student's trace, with `tracenn grade DIR`.

    python3 tests/benchmarks/exercise.py [--rounds N] [--students N]

Reports the median and the range over the rounds of the wall-clock time and of the CPU time
(user + system, which a busy machine does not inflate).  Not part of the test run.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def tracenn(args: list[str]) -> list[str]:
    exe = shutil.which("tracenn")
    return [exe, *args] if exe else [sys.executable, "-m", "tracenn", *args]


def seconds(cmd: list[str]) -> tuple[float, float]:
    """(wall-clock seconds, CPU seconds: user + system) of running `cmd`.  On a busy machine the
    wall clock also counts the time the process waited for a core."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def fill(folder: Path) -> None:
    """Every student's answers.csv from that student's trace, at the worksheet's decimals."""
    import json

    import tracenn

    asked = json.loads((folder / "exercise.json").read_text())["asked"]
    for student in sorted(folder.glob("student-*")):
        step = tracenn.step(str(folder / "key" / f"{student.name}.toml"))
        rows = "".join(f"{name},{step[name]:.4f}\n" for name in asked)
        (student / "answers.csv").write_text("name,value\n" + rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--students", type=int, default=30)
    args = parser.parse_args()
    made, graded = [], []
    load = os.getloadavg()[0]
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "ex"
            made.append(seconds(tracenn(["exercise", "mazur", "--students", str(args.students),
                                         "--seed", "1", "-o", str(folder)])))
            fill(folder)
            graded.append(seconds(tracenn(["grade", str(folder), "--summary"])))
    print(f"load average before: {load:.1f} on {os.cpu_count()} cores")
    for what, runs in (("exercise", made), ("grade", graded)):
        for kind, times in (("wall", [w for w, _ in runs]), ("CPU", [c for _, c in runs])):
            print(f"{what:9} {args.students} students, {kind:4}: median "
                  f"{statistics.median(times):.2f} s (range {min(times):.2f}–{max(times):.2f} s, "
                  f"{args.rounds} rounds)")


if __name__ == "__main__":
    main()
