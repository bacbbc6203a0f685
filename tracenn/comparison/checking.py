"""A learner's own training loop checked step by step: `checker(spec)`, then `chk.step(Z1=Z1,
…)` inside their loop and `chk.report()` — the first step and the first number that go wrong,
the classic mistake it matches, and whether the later steps follow from that mistake.

The arrays are read as arrays.py reads them and compared with tracenn's trace in NumPy, all at
once, so a 784-wide network's steps check in milliseconds; the formula of the first wrong number
(compare's report) is added for networks small enough to write out.  Numbers from arrays are
machine numbers: they are judged within a fixed 1e-9 relative to max(1, |right value|) (give
`tolerance=1e-5` for float32 code)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import TracennError, ValuesError
from ..record.trace import Step
from ..spec import Spec
from ..runs import FULL, iter_trace, mistakes_for
from .arrays import PER_SAMPLE, Reading, order, read_arrays, right_array

MACHINE = 1e-9  # arrays hold machine numbers, 17 digits: no rounding slack
DETAILED = 400  # at most this many parameters: the first wrong number with its formula


@dataclass
class Wrong:
    """The first wrong number of a step: its name (compare's), the learner's and tracenn's."""

    step: int
    name: str
    given: str  # the learner's array and index: dZ1[2, 0]
    yours: float
    right: float


@dataclass
class CheckReport:
    """What `Checker.report` found; `ok` when every number of every step matched."""

    steps: list[int]
    checked: int
    read: str
    first: Wrong | None = None
    wrong_steps: list[int] = field(default_factory=list)
    mistakes: list[str] = field(default_factory=list)
    follows: str = ""  # whether the later steps follow from the mistake, in words
    comparison: object = None  # compare's Comparison of the first wrong step (small networks)
    unknown: list[str] = field(default_factory=list)
    tolerance: float = MACHINE
    batch_mean: object = None  # convention.BatchMean: dA0 given as the batch mean's ∂E/∂x

    @property
    def ok(self) -> bool:
        return self.first is None

    def __str__(self) -> str:
        from ..render.check import check_text

        return check_text(self)

    def _repr_html_(self) -> str:
        from ..render.check import check_html

        return check_html(self)

    def to_json(self) -> dict:
        from ..record import jsonl

        first = None if self.first is None else vars(self.first)
        also = [] if self.comparison is None else [
            {"name": n, "yours": y, "right": r} for n, y, r in self.comparison.also_wrong]
        return jsonl.envelope("check", match=self.ok, steps=self.steps, checked=self.checked,
                              read=self.read, first_mismatch=first, also_wrong=also,
                              wrong_steps=self.wrong_steps, mistakes=self.mistakes,
                              follows=self.follows, unknown=self.unknown,
                              batch_mean=None if self.batch_mean is None
                              else self.batch_mean.to_json())


class Checker:
    """Feed it the learner's arrays of each step (any subset of Z1, A1, dZ1, dW1, db1, W1, b1,
    W1_new …, or Nielsen's or tracenn's names), then ask for the report."""

    def __init__(self, spec: Spec, *, tolerance: float | None = None, lr: float | None = None,
                 **optimizer):
        self.spec = spec
        self.tolerance = MACHINE if tolerance is None else float(tolerance)
        self.options = dict(optimizer, **({} if lr is None else {"lr": lr}))
        self.given: dict[int, dict] = {}

    def step(self, step: int | None = None, **arrays) -> None:
        """The arrays of step `step` (default: the step after the last one given), copied."""
        if step is None:
            step = max(self.given, default=0) + 1
        if step < 1:
            raise ValuesError("values", f"step {step}: steps count from 1")
        self.given.setdefault(step, {}).update(
            {k: [np.array(x, dtype=float) for x in v] if isinstance(v, (list, tuple))
             else np.array(v, dtype=float) for k, v in arrays.items()})

    def report(self) -> CheckReport:
        if not self.given:
            raise ValuesError("values", "no step given: call chk.step(Z1=Z1, …) in your loop")
        last = max(self.given)
        right = self._run(())
        readings = {s: read_arrays(self.given[s], right[s]) for s in sorted(self.given)}
        first_reading = readings[min(readings)]
        out = CheckReport(sorted(readings), sum(sum(a.size for a in r.arrays.values())
                                                 for r in readings.values()),
                          first_reading.read, unknown=first_reading.unknown,
                          tolerance=self.tolerance)
        scaled = [s for s, r in readings.items() if r.x_scale != 1.0]
        if scaled:
            from .convention import BatchMean

            out.batch_mean = BatchMean(len(right[scaled[0]].samples),
                                       [readings[scaled[0]].given["dE_da", 0][0]])
        wrong = {s: first_wrong(r, right[s], self.tolerance) for s, r in
                 readings.items()}
        out.wrong_steps = [s for s, w in wrong.items() if w is not None]
        if not out.wrong_steps:
            return out
        k = out.wrong_steps[0]
        out.first = wrong[k]
        self._diagnose(out, readings, k, last)
        if sum(lt.W.size + lt.b.size for lt in right[k].layers) <= DETAILED:
            out.comparison = self._compare(readings[k], right[k], k)
        return out

    def _run(self, mistakes, steps: int | None = None) -> dict[int, Step]:
        steps = steps or max(self.given)
        needed = set(self.given)
        return {e.step: e for e in iter_trace(
            self.spec, steps=steps, show=lambda s: FULL if s in needed else 0,
            mistakes=mistakes, **self.options) if isinstance(e, Step)}

    def _diagnose(self, out: CheckReport, readings, k: int, last: int) -> None:
        """The catalogued mistakes whose run reproduces step k's numbers; whether the later
        steps follow from the first of them."""
        opts = {key: v for key, v in self.options.items() if key != "lr"}
        for name in mistakes_for(self.spec, k, **opts):
            try:
                run = self._run((name,))
            except TracennError:
                continue
            if first_wrong(readings[k], run[k], self.tolerance) is None:
                out.mistakes.append(name)
                later = [s for s in readings if s > k
                         and first_wrong(readings[s], run[s], self.tolerance) is not None]
                if len(out.mistakes) == 1:
                    span = f"step {last}" if last == k + 1 else f"every later step ({k + 1}–{last})"
                    out.follows = (f"{span} follows from it: it matches tracenn's run with {name}" if not later and last > k
                                   else "" if last == k else
                                   f"steps {', '.join(map(str, later[:5]))} differ even from "
                                   f"tracenn's run with {name}")
        if not out.mistakes and len(out.wrong_steps) > 1:
            out.follows = (f"{len(out.wrong_steps) - 1} later step(s) differ too (no catalogued "
                           "mistake reproduces them, so whether they follow cannot be told)")

    def _compare(self, reading: Reading, right: Step, k: int):
        from .arrays import named_values

        values = named_values(reading, right)
        return judge(self.spec, values, k, self.tolerance, self.options) if values else None


def judge(spec, values: dict, step: int, tolerance: float, options: dict):
    """The one place array values go into compare (machine numbers: a fixed tolerance)."""
    from .core import compare_values

    return compare_values(spec, values, step, tolerance=tolerance, **options)


def first_wrong(reading: Reading, right: Step, tolerance: float) -> Wrong | None:
    """The first of the learner's numbers (in computation order) that differs from `right`;
    the inputs (A0, activations[0]) first: other samples than the step's explain everything."""
    if reading.inputs is not None and reading.inputs.shape == right.x.shape:
        bad = np.abs(reading.inputs - right.x) > tolerance * np.maximum(1.0, np.abs(right.x))
        if bad.any():
            s, k = (int(i) for i in np.argwhere(bad)[0])
            lab, n = right.labels, len(right.samples)
            return Wrong(right.step, lab.sample(lab.inputs[k], s, n) + " (an input: not the "
                         "step's samples?)", "the input array", float(reading.inputs[s, k]),
                         float(right.x[s, k]))
    for kind, l in sorted(reading.arrays, key=lambda key: order(*key)):
        yours = reading.arrays[kind, l]
        mine = right_array(right, kind, l)
        if yours.shape != mine.shape:
            mine = mine.reshape(yours.shape)
        bad = np.abs(yours - mine) > tolerance * np.maximum(1.0, np.abs(mine))
        if bad.any():
            index = tuple(int(i) for i in np.argwhere(bad)[0])
            return Wrong(right.step, element_name(kind, l, index, right), reading.where(kind, l, index),
                         float(yours[index]), float(mine[index]))
    return None


def element_name(kind: str, l: int, index: tuple, step: Step) -> str:
    """compare's name of one number: z1[3]@2, dE/dW2[1,3], W2[1,1]+, W2[1,1] (before)."""
    lab, n = step.labels, len(step.samples)
    if kind in PER_SAMPLE:
        s, j = index
        name = {"z": lab.net, "a": lab.out, "delta": lab.delta, "dE_da": lab.out}[kind](l, j)
        key = lab.sample(name, s, n)
        return lab.grad(key) if kind == "dE_da" else key
    j, k = (index[0], index[1]) if kind in ("W", "grad_W", "W_new") else (index[0], None)
    p = _parameter(lab, l, kind, j, k)
    return {"grad_W": lab.grad(p), "grad_b": lab.grad(p), "W_new": lab.new(p),
            "b_new": lab.new(p)}.get(kind, f"{p} (before the update)")


def _parameter(lab, l: int, kind: str, j: int, k) -> str:
    return lab.weights[l - 1][j][k] if kind in ("W", "grad_W", "W_new") else lab.biases[l - 1][j]


def check_arrays(spec, step: int = 1, *, tolerance: float | None = None, **arrays) -> CheckReport:
    """The learner's arrays of one step (their names, their layout) against tracenn's."""
    chk = Checker(spec, tolerance=tolerance)
    chk.step(step, **arrays)
    return chk.report()


def read_npz(path: str, step: int | None = None) -> dict[int, dict]:
    """The arrays of an np.savez file, by step: one step (`step`, default 1), or, stacked per
    step along a first axis, every step — when the file holds a `steps` array of step numbers
    (or, without one, when its arrays are 3-D: Z1 of shape (steps, n1, m))."""
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except FileNotFoundError:
        raise ValuesError(path, "no such file") from None
    except (OSError, ValueError) as exc:
        raise ValuesError(path, f"is no .npz file of arrays (np.savez; lists saved as zs_0, "
                          f"zs_1, …): {exc}") from None
    numbers = arrays.pop("steps", None)
    if numbers is None and (step is not None or not any(a.ndim == 3 for a in arrays.values())):
        return {step or 1: arrays}
    numbers = list(range(1, 1 + len(next(iter(arrays.values()))))) if numbers is None \
        else [int(s) for s in np.ravel(numbers)]
    bad = [k for k, a in arrays.items() if a.ndim == 0 or len(a) != len(numbers)]
    if bad:
        raise ValuesError(path, f"{bad[0]} is not stacked per step: expected a first axis of "
                          f"{len(numbers)} (one per step), got shape {arrays[bad[0]].shape}")
    chosen = {s: {k: a[i] for k, a in arrays.items()} for i, s in enumerate(numbers)}
    if step is not None:
        if step not in chosen:
            raise ValuesError(path, f"holds no arrays of step {step} (it holds steps "
                              f"{numbers[0]}–{numbers[-1]})")
        return {step: chosen[step]}
    return chosen
