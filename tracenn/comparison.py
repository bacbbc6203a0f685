"""A learner's numbers against a correct trace: the first one that is wrong, why, and which
classic mistake (engine/mistakes.py) produces exactly those numbers.

The learner's file is JSON (tracenn's JSON Lines trace, or one flat object keyed by display
names such as out_h1, delta_o1, w5) or CSV (name,value rows).  Names follow the quantities
module: net_h1, out_h1, E_o1, E_total, dE/dout_h1, delta_h1, dE/dw5 (also dE_dw5, grad_w5,
∂E/∂w5), w5+ (also w5, w5_new: the value after the update), "E_total after".
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from .engine.mistakes import MISTAKES
from .errors import TrainingDiverged, ValuesError
from .maths.quantities import StepQuantities
from .record import jsonl
from .record.trace import Run, Step
from .runs import each_mistake, trace_one_step

# Tight enough to tell the blog's 0.291027924 from 0.291027774, loose enough for numbers a
# learner rounded to 8 or more decimals; float32 implementations want --tolerance 1e-5.
DEFAULT_TOLERANCE = 1e-8


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


def read_values(path: str, step: int, qs: StepQuantities) -> tuple[dict[str, float], list[str]]:
    """The learner's values in a file, by canonical quantity name, and the names that are not
    quantities of this network.  Raises ValuesError."""
    return name_values(read_file(path, step, qs), qs)


def name_values(raw: dict[str, float], qs: StepQuantities) -> tuple[dict[str, float], list[str]]:
    """`raw` (name: value, as a learner writes names) by canonical quantity name, and the names
    that are not quantities of this network."""
    values, unknown = {}, []
    for key, value in raw.items():
        name = canonical_name(key, qs)
        if name is None:
            unknown.append(key)
        else:
            values[name] = value
    return values, unknown


def read_file(path: str, step: int, qs: StepQuantities) -> dict[str, float]:
    """The name: value pairs of a learner's file, as written.  Raises ValuesError."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValuesError(path, "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValuesError(path, f"cannot be read: {getattr(exc, 'strerror', None) or exc}") from None
    stripped = text.strip()
    if not stripped:
        raise ValuesError(path, "is empty; expected JSON (a trace or a flat object) or CSV "
                          "name,value rows")
    if stripped[0] in "{[":
        return _read_json(path, stripped, step, qs)
    return _read_csv(path, stripped)


def _number(path: str, where: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValuesError(path, f"{where}: expected a number, got {value!r}")
    if not math.isfinite(value):
        raise ValuesError(path, f"{where}: expected a finite number, got {value!r}")
    return float(value)


def _read_json(path: str, text: str, step: int, qs: StepQuantities) -> dict[str, float]:
    objects = []
    try:
        objects = [json.loads(text)]
    except json.JSONDecodeError:
        try:  # JSON Lines
            objects = [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError as exc:
            raise ValuesError(path, f"not valid JSON (line {exc.lineno}: {exc.msg}); expected "
                              "JSON or CSV name,value rows") from None
    if len(objects) == 1 and isinstance(objects[0], dict) and "layers" not in objects[0]:
        flat = objects[0]
        return {str(k): _number(path, f"key {k!r}", v) for k, v in flat.items()}
    steps = [o for o in objects if isinstance(o, dict) and o.get("kind", "step") == "step"
             and "layers" in o]
    if not steps:
        raise ValuesError(path, "expected a flat JSON object of name: value, or tracenn's JSON "
                          "Lines trace (objects with \"format\": 1 and \"layers\")")
    chosen = [o for o in steps if o.get("step") == step] or (steps[:1] if step == 1 else [])
    if not chosen:
        raise ValuesError(path, f"holds no trace of step {step}")
    try:
        flat = jsonl.step_values(chosen[0], qs.step.labels)
    except (ValueError, IndexError, TypeError) as exc:
        raise ValuesError(path, f"does not hold a trace of this network: {exc}") from None
    return {k: _number(path, f"value of {k}", v) for k, v in flat.items()}


def _read_csv(path: str, text: str) -> dict[str, float]:
    out = {}
    rows = list(csv.reader(io.StringIO(text)))
    for i, row in enumerate(rows, start=1):
        if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
            continue
        if len(row) != 2:
            raise ValuesError(path, f"row {i}: expected name,value, got {len(row)} field(s)")
        name, value = row[0].strip(), row[1].strip()
        if i == 1 and name.lower() == "name":
            continue  # header
        try:
            number = float(value)
        except ValueError:
            raise ValuesError(path, f"row {i}: the value of {name} is not a number: {value!r}") from None
        out[name] = _number(path, f"row {i} ({name})", number)
    if not out:
        raise ValuesError(path, "holds no name,value rows")
    return out


# torch.optim's names of optimizer state, as a learner copying optimizer.state[p] writes them
TORCH_STATE_NAMES = (("exp_avg_sq_", "v_"), ("exp_avg_", "m_"), ("momentum_buffer_", "velocity_"),
                     ("square_avg_", "v_"), ("m_hat_", "mhat_"), ("v_hat_", "vhat_"))


def canonical_name(key: str, qs: StepQuantities) -> str | None:
    """The quantity a learner's key names, or None.  Plain parameter names (w5) mean the value
    after the update, as in the JSON trace's "params"."""
    names = qs.by_name
    k = key.strip()
    if k in names:
        return k
    for old, new in (("∂E/∂", "dE/d"), ("dE_d", "dE/d"), ("grad_", "dE/d"), ("δ_", "delta_"),
                     ("δ", "delta"), *TORCH_STATE_NAMES):
        if k.startswith(old) and k.replace(old, new, 1) in names:
            return k.replace(old, new, 1)
    for suffix in ("_new", "_updated", "⁺"):
        if k.endswith(suffix) and qs.new_name(k[: -len(suffix)]) in names:
            return qs.new_name(k[: -len(suffix)])
    if k.startswith("new_") and qs.new_name(k[4:]) in names:
        return qs.new_name(k[4:])
    if qs.new_name(k) in names:
        return qs.new_name(k)
    total, after = qs.step.labels.total, qs.step.labels.after
    aliases = {"loss": total, "loss_after": after, f"{total}_after": after, f"{total}+": after}
    return aliases.get(k)


# --------------------------------------------------------------------------------------------
# Comparing
# --------------------------------------------------------------------------------------------


def close(a: float, b: float, tolerance: float) -> bool:
    return abs(a - b) <= tolerance * max(1.0, abs(b))


@dataclass
class Mismatch:
    name: str
    stage: str
    yours: float
    right: float
    formula: str
    substituted: str
    inputs: list[tuple[str, str]]  # (name, "right" | "wrong" | "given" | "not given")

    def to_json(self) -> dict:
        return {"name": self.name, "stage": self.stage, "yours": self.yours, "right": self.right,
                "formula": self.formula, "with_numbers": self.substituted,
                "inputs": {name: status for name, status in self.inputs}}


@dataclass
class Comparison:
    step: int
    checked: list[str]
    not_given: int
    unknown: list[str]
    first: Mismatch | None
    mistakes: list = field(default_factory=list)  # Diagnosis objects

    @property
    def ok(self) -> bool:
        return self.first is None

    def to_json(self) -> dict:
        return jsonl.envelope(
            "compare", step=self.step, match=self.ok, checked=len(self.checked),
            not_given=self.not_given, unknown=self.unknown,
            first_mismatch=None if self.first is None else self.first.to_json(),
            mistakes=[d.to_json() for d in self.mistakes])

    def _repr_html_(self) -> str:
        from .render.notebook import comparison_html

        return comparison_html(self)


def compare(qs: StepQuantities, learner: dict[str, float], unknown: list[str],
            tolerance: float = DEFAULT_TOLERANCE, precision: int = 9) -> Comparison:
    """Walk the quantities in computation order; stop at the first of the learner's values that
    differs from the right one beyond `tolerance` (relative to max(1, |right|))."""
    checked = []
    right = qs.values()
    for q in qs.items:
        if q.name not in learner:
            continue
        checked.append(q.name)
        if close(learner[q.name], q.value, tolerance):
            continue
        formula, substituted = qs.as_text(q, right, precision)
        inputs = []
        for name in q.inputs:
            if name in qs.given:
                status = "given"
            elif name in learner:
                status = "right" if close(learner[name], right[name], tolerance) else "wrong"
            else:
                status = "not given"
            inputs.append((name, status))
        mismatch = Mismatch(q.name, q.stage, learner[q.name], q.value, f"{q.name} = {formula}",
                            f"= {substituted}", inputs)
        return Comparison(qs.step.step, checked, _not_given(qs, learner), unknown, mismatch)
    return Comparison(qs.step.step, checked, _not_given(qs, learner), unknown, None)


def _not_given(qs: StepQuantities, learner: dict[str, float]) -> int:
    return sum(1 for q in qs.items if q.name not in learner)


@dataclass
class Diagnosis:
    """A catalogued mistake that reproduces every one of the learner's wrong values.  `conflicts`
    names values the learner has right that the mistake would also have changed (empty when the
    mistake explains all of the learner's numbers)."""

    name: str
    conflicts: list[str]

    def to_json(self) -> dict:
        return {"name": self.name, "description": MISTAKES[self.name], "conflicts": self.conflicts}


def diagnose(learner: dict[str, float], right: StepQuantities, mistaken: dict[str, StepQuantities],
             tolerance: float = DEFAULT_TOLERANCE) -> list[Diagnosis]:
    """The mistakes whose numbers reproduce every value the learner got wrong; full matches
    (no conflicts) first."""
    right_values = right.values()
    wrong = [k for k in learner if k in right_values and not close(learner[k], right_values[k], tolerance)]
    if not wrong:
        return []
    found = []
    for name, qs in mistaken.items():
        values = qs.values()
        if not all(k in values and close(learner[k], values[k], tolerance) for k in wrong):
            continue
        conflicts = [k for k in learner if k in values and k not in wrong
                     and not close(learner[k], values[k], tolerance)]
        found.append(Diagnosis(name, conflicts))
    return sorted(found, key=lambda d: len(d.conflicts))


def compare_values(spec, values, step: int = 1, *, tolerance: float | None = None,
                   precision: int = 9, lr: float | None = None, **optimizer) -> Comparison:
    """`values` (a dict, a file path, a Run or a Step) against step `step` of `spec`; when a
    number is wrong, the catalogued mistakes whose numbers match are named."""
    tolerance = DEFAULT_TOLERANCE if tolerance is None else tolerance
    right = StepQuantities(trace_one_step(spec, step, lr=lr, **optimizer), spec.network.loss)
    learner, unknown = learner_values(values, step, right)
    result = compare(right, learner, unknown, tolerance, precision)
    if not result.ok:
        mistaken = {name: StepQuantities(s, spec.network.loss)
                    for name, s in each_mistake(spec, step, lr=lr, **optimizer)
                    if not isinstance(s, TrainingDiverged)}
        result.mistakes = diagnose(learner, right, mistaken, tolerance)
    return result


def learner_values(values, step: int, qs: StepQuantities) -> tuple[dict[str, float], list[str]]:
    """The learner's values by canonical name, from a dict, a path, a Run or a Step."""
    if isinstance(values, Run):
        chosen = [s for s in values.steps if s.step == step]
        if not chosen:
            raise ValuesError("run", f"holds no full trace of step {step}")
        values = chosen[0]
    if isinstance(values, Step):
        values = values.values()
    if isinstance(values, dict):
        raw = {str(k): _number("values", f"key {k!r}", v) for k, v in values.items()}
        return name_values(raw, qs)
    return read_values(str(values), step, qs)
