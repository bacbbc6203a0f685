"""Trace benchmark: memory stays flat however many steps a trace runs, and the first step is
printed at once.

    python3 tests/benchmarks/trace.py [--max-steps N]

Peak resident memory of whole `tracenn mazur` processes (--json, every step in full, and with
--every 10000) at 10⁴, 10⁵ and 10⁶ steps (goal ≤ 60 MB each, flat), and the seconds from start
to the first byte of output of `tracenn mazur --steps 1000000 --json` (goal < 0.5 s).  Output is
read and thrown away as it comes, as a pipe to another program would.  Not part of the tests.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import time


def command(*args: str) -> list[str]:
    exe = shutil.which("tracenn")
    return [exe, *args] if exe else [sys.executable, "-m", "tracenn", *args]


def peak_mb(args: list[str]) -> tuple[float, float]:
    """(peak RSS in MB, seconds) of one process whose stdout is drained."""
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # the child: stdout to /dev/null, as fast as a pipe reader
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.execvp(args[0], args)
    _, status, usage = os.wait4(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, args
    return usage.ru_maxrss / 1024, time.perf_counter() - start


def first_output_seconds(args: list[str]) -> float:
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    proc.stdout.read(1)
    took = time.perf_counter() - start
    proc.kill()
    proc.wait()
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-steps", type=int, default=1_000_000)
    top = parser.parse_args().max_steps
    sizes = [n for n in (10_000, 100_000, 1_000_000) if n <= top]
    print(f"{'command':52} {'peak MB':>8} {'seconds':>8}")
    for n in sizes:
        for extra in (["--json"], ["--every", "10000"]):
            args = command("mazur", "--steps", str(n), *extra)
            mb, s = peak_mb(args)
            print(f"{' '.join(['tracenn', *args[1:]])[:52]:52} {mb:8.1f} {s:8.1f}")
    times = sorted(first_output_seconds(command("mazur", "--steps", "1000000", "--json"))
                   for _ in range(5))
    print(f"first output of tracenn mazur --steps 1000000 --json: median {times[2]:.3f} s "
          f"(range {times[0]:.3f}–{times[-1]:.3f})")
    floor = sorted(first_output_seconds([sys.executable, "-c", "import numpy, click, tabulate; "
                                         "print(1)"]) for _ in range(5))
    print(f"for comparison, python -c 'import numpy, click, tabulate; print(1)': median "
          f"{floor[2]:.3f} s")


if __name__ == "__main__":
    main()
