"""Circuits benchmark: a 200-gate program of micrograd-style assignments (a chain of neurons
with reuse, so gradients accumulate) traced, verified (SymPy's derivative of the composed
expression and a central difference per input) and drawn, when a circuit picture exists.
The issue's target: under 2 s for all three.

    python3 tests/benchmarks/circuits.py [--rounds N] [--gates N]

Reports the median and range of the CPU time and of the wall clock.  Not part of the test run.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time

import tracenn


def program(gates: int) -> tuple[str, dict[str, float]]:
    """Assignments that make about `gates` gates: h = tanh(w*h + b*x) + relu(h - x)*0.5,
    repeated, each line reading the previous h (a fork) and the inputs x, b again."""
    lines, k = ["h = x * w0"], 1
    while k < gates:
        i = len(lines)
        lines.append(f"h = tanh(w{i % 5} * h + b * x) + relu(h - x) * 0.5")
        k += 8  # mul, mul, add, tanh, sub, relu, mul, add
    text = "\n".join(lines) + "\n"
    values = {"x": 0.3, "b": -0.2, **{f"w{i}": 0.5 + 0.1 * i for i in range(5)}}
    return text, {k: v for k, v in values.items() if re.search(r"\b" + k + r"\b", text)}


def draw(trace):
    """The circuit's picture if tracenn can draw one (None otherwise)."""
    try:
        from tracenn.render.circuit_svg import circuit_svg  # noqa: PLC0415
    except ImportError:
        return None
    return circuit_svg(trace)


def timed(fn, rounds):
    cpu, wall = [], []
    for _ in range(rounds):
        c, w = time.process_time(), time.perf_counter()
        fn()
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    return cpu, wall


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--gates", type=int, default=200)
    args = parser.parse_args()
    text, values = program(args.gates)
    trace = tracenn.graph(text, values)
    print(f"{len(trace.gates)} gates, {len(trace.inputs)} inputs, check ok: {trace.check.ok}")
    drawn = []

    def everything():
        t = tracenn.graph(text, values)
        assert t.check.ok
        drawn.append(draw(t) is not None)

    rows = {"trace + verify": timed(lambda: tracenn.graph(text, values), args.rounds),
            "trace without verify": timed(lambda: tracenn.graph(text, values, verify=False),
                                          args.rounds),
            "trace + verify + draw": timed(everything, args.rounds)}
    if not drawn[-1]:
        print("(no circuit picture in this checkout: the last row does not draw)")
    for name, (cpu, wall) in rows.items():
        print(f"{name:24s} cpu median {statistics.median(cpu):.3f} s "
              f"[{min(cpu):.3f}–{max(cpu):.3f}]  wall median {statistics.median(wall):.3f} s")


if __name__ == "__main__":
    main()
