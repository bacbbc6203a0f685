"""Reading a learner's numbers as people write them: tracenn's JSON Lines trace, one flat JSON
object keyed by names, or CSV name,value rows — typed by hand, saved by a spreadsheet, filled
into a worksheet's answers.csv.

What hand-written files hold, and how it is read:
- extra spaces around names and values (and inside a number: "0. 5") are ignored;
- a decimal comma ("0,5", or 0,5 unquoted so that the row has three fields) reads as 0.5,
  and rows separated by ";" (a spreadsheet's CSV where the comma is the decimal mark) work;
- "−" (the minus sign) reads as "-";
- a name without a value, or with an empty one, is "not given";
- names are matched to quantities loosely (dE_dw5, grad_w5, ∂E/∂w5, δ_h1, w5 for w5+);
  a name that is no quantity of the network is listed, not fatal.
Every guess is a note, every row that cannot be read a problem: `compare` stops at the first
problem, `grade` reports each for its student and carries on.

Each number keeps the decimals it was written with (`Written.decimals`), which the default
tolerance reads (tolerance.py).
"""

from __future__ import annotations

import csv
import io
import json
import math
import numbers
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ValuesError
from ..maths.quantities import StepQuantities
from ..record import jsonl
from .tolerance import written_decimals


class Written(float):
    """A number as a learner wrote it: a float that remembers its decimals (None when written
    as a whole number, or when it came from a program rather than from text)."""

    __slots__ = ("decimals",)

    def __new__(cls, value: float, decimals: int | None = None):
        out = super().__new__(cls, value)
        out.decimals = decimals
        return out

    def negated(self) -> "Written":
        return Written(-float(self), self.decimals)


@dataclass
class Answers:
    """A learner's numbers by canonical quantity name, and what reading them found."""

    values: dict[str, float] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)  # keys that name no quantity
    empty: list[str] = field(default_factory=list)  # quantities named without a value
    notes: list[str] = field(default_factory=list)  # how a value was read when it took a guess
    problems: list[str] = field(default_factory=list)  # rows that could not be read
    unreadable: list[str] = field(default_factory=list)  # quantities whose value is no number


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def parse_number(text: str) -> tuple[Written, str]:
    """A number written by hand, and a note when reading it took a guess ("" otherwise).
    Raises ValueError naming what is wrong."""
    shown = text.strip()
    s = "".join(text.split()).replace("\u2212", "-")
    note = f"{shown!r} read as {s} (spaces inside a number ignored)" if s != shown else ""
    if "," in s:
        if s.count(",") > 1 or "." in s:
            raise ValueError(f"is not a number: {shown!r}")
        s = s.replace(",", ".")
        note = f"{shown!r} read as {s} (a decimal comma)"
    if not _NUMBER.fullmatch(s):
        if s.lstrip("+-").lower() in ("nan", "inf", "infinity"):
            raise ValueError(f"is not a finite number: {shown!r}")
        raise ValueError(f"is not a number: {shown!r}")
    return Written(float(s), written_decimals(s)), note


# torch.optim's names of optimizer state, as a learner copying optimizer.state[p] writes them
TORCH_STATE_NAMES = (("exp_avg_sq_", "v_"), ("exp_avg_", "m_"), ("momentum_buffer_", "velocity_"),
                     ("square_avg_", "v_"), ("m_hat_", "mhat_"), ("v_hat_", "vhat_"))


def canonical_name(key: str, qs: StepQuantities) -> str | None:
    """The quantity a learner's key names, or None.  Plain parameter names (w5) mean the value
    after the update, as in the JSON trace's "params"."""
    names = qs.by_name
    k = " ".join(key.split())
    if k in names:
        return k
    # g_w (the gradient the optimizer is given, in tracenn's JSON) is ∂E/∂w wherever no weight
    # decay is added to it; where one is, g_w is a quantity of its own and matched above.
    for old, new in (("∂E/∂", "dE/d"), ("dE_d", "dE/d"), ("grad_", "dE/d"), ("g_", "dE/d"),
                     ("δ_", "delta_"),
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
# Files
# --------------------------------------------------------------------------------------------


def read_answers(path: str, step: int, qs: StepQuantities) -> Answers:
    """The learner's numbers in a file.  Raises ValuesError only for a file that cannot be read
    at all (missing, not text, empty, broken JSON); a row that cannot be read is a problem of
    the result."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")  # a spreadsheet may write a BOM
    except FileNotFoundError:
        raise ValuesError(path, "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValuesError(path, f"cannot be read: {getattr(exc, 'strerror', None) or exc}") from None
    stripped = text.strip()
    if not stripped:
        raise ValuesError(path, "is empty; expected JSON (a trace or a flat object) or CSV "
                          "name,value rows")
    if stripped[0] in "{[":
        return named(_read_json(path, stripped, step, qs), qs)
    return named(csv_entries(stripped, lambda key: canonical_name(key, qs) is not None), qs)


def named(entries: list[tuple[str, str | None, object]], qs: StepQuantities) -> Answers:
    """Answers from (where, key, value) entries: a value is a number, a text to parse, or None
    (not given); a key of None marks a row that is not name,value, and its value says why."""
    out, seen = Answers(), {}
    for where, key, raw in entries:
        if key is None:  # a row that is not name,value: raw says why
            out.problems.append(f"{where}: {raw}")
            continue
        name = canonical_name(key, qs)
        if name is None:
            out.unknown.append(key)
            continue
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            out.empty.append(name)
            continue
        if isinstance(raw, str):
            try:
                value, note = parse_number(raw)
            except ValueError as exc:
                out.problems.append(f"{where}: the value of {key} {exc}")
                out.unreadable.append(name)
                continue
            if note:
                out.notes.append(f"{where} ({key}): {note}")
        else:
            value = raw
        if name in seen:
            out.notes.append(f"{where}: {name} given again ({seen[name]}); this value is used")
        seen[name] = where
        out.values[name] = value
    out.notes = _collapsed(out.notes)
    _judge_precision(out)
    return out


# A file whose values mostly carry this many significant digits was written by a program
MACHINE_DIGITS = 12


def _significant(value) -> int:
    """The significant digits a Written value carries (0 for an exact zero or a whole number)."""
    decimals = getattr(value, "decimals", None)
    if decimals is None or float(value) == 0.0:
        return 0
    return decimals + math.floor(math.log10(abs(float(value)))) + 1


def _untold(value) -> bool:
    """Whether the written precision of a value cannot be told: 0.0, 1.0, 0.5, -2.0 — a whole
    number or a half with at most one decimal is how a program prints an exact value (repr,
    str and json write 0 as 0.0), so it earns no hand-rounding slack."""
    decimals = getattr(value, "decimals", None)
    return decimals is not None and decimals <= 1 and float(2 * float(value)).is_integer()


def _judge_precision(out: Answers) -> None:
    """No rounding slack where the written precision cannot be told; every value of a file
    whose values mostly carry 12+ significant digits judged as machine precision."""
    written = [v for v in out.values.values() if getattr(v, "decimals", None) is not None]
    machine = sum(_significant(v) >= MACHINE_DIGITS for v in written)
    if machine >= 2 and 2 * machine >= len(written):
        out.values = {k: _exact(v) for k, v in out.values.items()}
        out.notes.append(f"{machine} of {len(written)} values carry {MACHINE_DIGITS} or more "
                         "significant digits (written by a program): every value is judged "
                         "to machine precision, none as rounded by hand")
        return
    out.values = {k: _exact(v) if _untold(v) else v for k, v in out.values.items()}


def _exact(value):
    return Written(float(value), None) if isinstance(value, Written) else value


GUESSES = {"(a decimal comma)": "written with a decimal comma, read with a point",
           "(spaces inside a number ignored)": "written with spaces inside, read without them"}


def _collapsed(notes: list[str]) -> list[str]:
    """The same guess made in many rows, said once: "36 values written with a decimal comma, …
    (the first: row 2 (net_h1): '0,4488' read as 0.4488)"."""
    out = list(notes)
    for ending, what in GUESSES.items():
        same = [n for n in out if n.endswith(ending)]
        if len(same) > 3:
            out = [f"{len(same)} values {what} (the first: {same[0]})"] + \
                  [n for n in out if not n.endswith(ending)]
    return out


def csv_entries(text: str, known) -> list[tuple[str, str | None, str | None]]:
    """(row N, name, value text) for each row of name,value CSV; `known(name)` says whether a
    name is a quantity, to put back together a name with a comma (W2[1,2]) that was not quoted.
    Blank rows, rows starting with # and a first row "name,value" are skipped."""
    out, first = [], True
    for i, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        delimiter = ";" if ";" in line else "\t" if "\t" in line else ","
        fields = [f.strip() for f in next(csv.reader(io.StringIO(line), delimiter=delimiter))]
        while len(fields) > 2 and not fields[-1]:
            fields.pop()  # a spreadsheet's empty trailing columns
        if first and fields[0].lower() == "name":
            first = False
            continue
        first = False
        out.append(_split(f"row {i}", fields, known))
    return out


def _split(where: str, fields: list[str], known) -> tuple[str, str | None, str | None]:
    if len(fields) == 2:
        return where, fields[0], fields[1]
    if len(fields) == 1 and known(fields[0]):
        return where, fields[0], None
    # a name with a comma (W2[1,2]) or a decimal comma (w5,0,5) written without quotes
    for cut in range(len(fields) - 1, 0, -1):
        name = ",".join(fields[:cut])
        if known(name) and len(fields) - cut <= 2:
            return where, name, ",".join(fields[cut:])
    # an indexed name of another network (W2[1,2] unquoted): its brackets say where it ends
    cut = next((i + 1 for i, f in enumerate(fields) if "]" in f), 0)
    if "[" in fields[0] and 0 < cut < len(fields) and len(fields) - cut <= 2:
        return where, ",".join(fields[:cut]), ",".join(fields[cut:])
    return where, None, f"expected name,value, got {len(fields)} field(s)"


def _number(path: str, where: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValuesError(path, f"{where}: expected a number, got {value!r}")
    if not math.isfinite(value):
        raise ValuesError(path, f"{where}: expected a finite number, got {value!r}")
    return value if isinstance(value, Written) else Written(value)


class _Pairs(dict):
    """A JSON object that remembers every key: value pair in order, repeated keys too."""

    def __init__(self, pairs):
        super().__init__(pairs)
        self.pairs = pairs


def _read_json(path: str, text: str, step: int, qs: StepQuantities) -> list[tuple]:
    def load(s):
        return json.loads(s, parse_float=lambda t: Written(float(t), written_decimals(t)),
                          object_pairs_hook=_Pairs)

    try:
        objects = [load(text)]
    except json.JSONDecodeError:
        try:  # JSON Lines
            objects = [load(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError as exc:
            raise ValuesError(path, f"not valid JSON (line {exc.lineno}: {exc.msg}); expected "
                              "JSON or CSV name,value rows") from None
    if len(objects) == 1 and isinstance(objects[0], dict) and "layers" not in objects[0]:
        pairs = getattr(objects[0], "pairs", list(objects[0].items()))
        return [(f"key {k!r}", str(k), _number(path, f"key {k!r}", v)) for k, v in pairs]
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
    return [(k, k, _number(path, f"value of {k}", v)) for k, v in flat.items()]


def from_mapping(values: dict, qs: StepQuantities) -> Answers:
    """Answers from a dict {name: number} given in Python: each number as precise as it is
    written (0.5933 has four decimals, as in a file), numpy scalars included."""
    return named([(f"key {k!r}", str(k), _python_number(f"key {k!r}", v))
                  for k, v in values.items()], qs)


def _python_number(where: str, value) -> float:
    if isinstance(value, Written):
        return value
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        # str() of a float, and of a numpy float32 or float64, is its shortest exact form
        return _number("values", where, Written(float(value), written_decimals(str(value))))
    return _number("values", where, value)
