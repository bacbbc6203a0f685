"""A learner's numbers against a correct trace: the first one that is wrong, why, and which
classic mistake (engine/mistakes.py) produces exactly those numbers."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..engine.mistakes import MISTAKES
from ..errors import TrainingDiverged, ValuesError
from ..maths.quantities import StepQuantities
from ..record import jsonl
from ..record.trace import Run, Step
from ..runs import each_mistake, trace_one_step
from .convention import BatchMean, Convention, read_batch_mean, read_convention
from .reading import Answers, from_mapping, read_answers
from .tolerance import Tolerance, as_tolerance
from .walk import FOLLOWS, RIGHT, WRONG, Verdict, inputs_of


@dataclass
class Mismatch:
    """The first wrong number: the learner's value, the right one, its formula (with the right
    numbers substituted), and the status of each of its inputs."""

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
    follows: list[str] = field(default_factory=list)  # later values that follow from an error
    # later wrong values that do not follow from the first: (name, yours, right), in order
    also_wrong: list[tuple[str, float, float]] = field(default_factory=list)
    convention: Convention | None = None  # the (t − o) convention, when the numbers use it
    batch_mean: BatchMean | None = None  # ∂E/∂x given as the gradient of the batch mean
    notes: list[str] = field(default_factory=list)  # how a value in the file was read
    tolerance: str = ""  # the rule a value had to meet, in words
    verdicts: list[Verdict] = field(default_factory=list, repr=False)
    values: dict = field(default_factory=dict, repr=False)  # as compared (in their convention)
    right: Step | None = field(default=None, repr=False)  # the step as the engine computes it
    # the network's title and loss, for the picture of `right` in a notebook
    title: str = field(default="", repr=False)
    loss: str = field(default="", repr=False)

    @property
    def ok(self) -> bool:
        return self.first is None

    def to_json(self) -> dict:
        return jsonl.envelope(
            "compare", step=self.step, match=self.ok, checked=len(self.checked),
            not_given=self.not_given, unknown=self.unknown,
            first_mismatch=None if self.first is None else self.first.to_json(),
            mistakes=[d.to_json() for d in self.mistakes], follows=self.follows,
            also_wrong=[{"name": n, "yours": y, "right": r} for n, y, r in self.also_wrong],
            convention=None if self.convention is None else self.convention.to_json(),
            batch_mean=None if self.batch_mean is None else self.batch_mean.to_json(),
            notes=self.notes, tolerance=self.tolerance)

    def __str__(self) -> str:
        """The report `tracenn compare` prints."""
        from ..render.text import comparison_text

        return comparison_text(self)

    def _repr_html_(self) -> str:
        from ..render.notebook import comparison_html

        return comparison_html(self)


def mismatch(qs: StepQuantities, verdict: Verdict, statuses: dict[str, str],
             precision: int) -> Mismatch:
    """The report of a wrong number: its formula with the right numbers substituted, and which
    of its inputs the learner had right."""
    q = next(q for q in qs.items if q.name == verdict.name)
    formula, substituted = qs.as_text(q, qs.values(), precision)
    inputs = [(name, "given" if name in qs.given else statuses.get(name, "not given"))
              for name in inputs_of(qs, q)]
    return Mismatch(q.name, q.stage, verdict.yours, q.value, f"{q.name} = {formula}",
                    f"= {substituted}", inputs)


def compare(qs: StepQuantities, learner: dict[str, float], unknown: list[str],
            tolerance: Tolerance | float | None = None, precision: int = 9) -> Comparison:
    """Judge the learner's values in computation order (comparison/walk.py) and report the first
    that is wrong; values after it that follow from it are listed, not reported as new errors.
    `tolerance`: a Tolerance, a number (a fixed tolerance relative to max(1, |right|)), or None
    for the default (each value ± half a unit of its last written decimal, at least 1e-8)."""
    tol = as_tolerance(tolerance)
    values, verdicts, convention = read_convention(qs, learner, tol)
    values, verdicts, batch_mean = read_batch_mean(qs, values, verdicts, tol)
    statuses = {v.name: RIGHT if v.status == RIGHT else WRONG for v in verdicts}
    wrong = [v for v in verdicts if v.status == WRONG]
    first = mismatch(qs, wrong[0], statuses, precision) if wrong else None
    return Comparison(qs.step.step, [v.name for v in verdicts],
                      sum(1 for q in qs.items if q.name not in learner), unknown, first,
                      follows=[v.name for v in verdicts if v.status == FOLLOWS],
                      also_wrong=[(v.name, float(v.yours), float(v.right)) for v in wrong[1:]],
                      convention=convention, batch_mean=batch_mean, tolerance=tol.describe(),
                      verdicts=verdicts, values=values, right=qs.step)


@dataclass
class Diagnosis:
    """A catalogued mistake that reproduces every one of the learner's wrong values.  `conflicts`
    names values the learner has right that the mistake would also have changed (empty when the
    mistake explains all of the learner's numbers)."""

    name: str
    conflicts: list[str]

    def to_json(self) -> dict:
        return {"name": self.name, "description": MISTAKES[self.name], "conflicts": self.conflicts}


def diagnose(learner: dict[str, float], right, mistaken: dict, tolerance=None,
             wrong: list[str] | None = None) -> list[Diagnosis]:
    """The mistakes whose numbers reproduce every value the learner got wrong (`wrong`; by
    default those not within the tolerance of the right value); full matches (no conflicts)
    first.  `right` and each of `mistaken` (name: the step with that mistake) are anything with
    `values()`: a Step or StepQuantities."""
    tol = as_tolerance(tolerance)
    if wrong is None:
        right_values = right.values()
        wrong = [k for k in learner if k in right_values
                 and not tol.close(learner[k], right_values[k])]
    if not wrong:
        return []
    found = []
    for name, step in mistaken.items():
        values = step.values()
        if not all(k in values and tol.close(learner[k], values[k]) for k in wrong):
            continue
        conflicts = [k for k in learner if k in values and k not in wrong
                     and not tol.close(learner[k], values[k])]
        found.append(Diagnosis(name, conflicts))
    return sorted(found, key=lambda d: len(d.conflicts))


def explained(result: Comparison, right, mistaken: dict, tolerance=None) -> list[Diagnosis]:
    """The mistakes of `mistaken` (name: the step with that mistake) that reproduce the values
    `result` (compare's, against `right`) found wrong, as it read them (in their convention);
    none when every value matched."""
    wrong = [v.name for v in result.verdicts if v.status != RIGHT]
    return diagnose(result.values, right, mistaken, tolerance, wrong) if wrong else []


def mistaken_steps(spec, step: int, lr=None, **optimizer) -> dict[str, Step]:
    """Step `step` as the engine computes it with each applicable catalogued mistake."""
    return {name: s for name, s in each_mistake(spec, step, lr=lr, **optimizer)
            if not isinstance(s, TrainingDiverged)}


def compare_values(spec, values, step: int = 1, *, tolerance=None, precision: int = 9,
                   lr: float | None = None, **optimizer) -> Comparison:
    """`values` (a dict, a file path, a Run or a Step) against step `step` of `spec`; when a
    number is wrong, the catalogued mistakes whose numbers match are named.  Raises
    ValuesError for a file, or a row of it, that cannot be read."""
    right = StepQuantities(trace_one_step(spec, step, lr=lr, **optimizer), spec.network.loss)
    answers = learner_answers(values, step, right)
    where = str(values) if isinstance(values, (str, bytes)) or hasattr(values, "__fspath__") \
        else "values"
    if answers.problems:
        raise ValuesError(where, answers.problems[0])
    if not answers.values:
        unknown = ", ".join(answers.unknown[:5]) + (", …" if len(answers.unknown) > 5 else "")
        examples = ", ".join(q.name for q in right.items[:4])
        raise ValuesError(where, "none of its names is a quantity of this network"
                          + (f" (it gives {unknown})" if unknown else " (it gives none)")
                          + f"; this network's names look like {examples}, … (see compare --help)")
    result = compare(right, answers.values, answers.unknown, tolerance, precision)
    result.notes = answers.notes
    result.title, result.loss = spec.title, spec.network.loss.name
    if not result.ok:
        result.mistakes = explained(result, right, mistaken_steps(spec, step, lr, **optimizer),
                                    tolerance)
    return result


def learner_answers(values, step: int, qs: StepQuantities) -> Answers:
    """The learner's values by canonical name, from a dict, a path, a Run or a Step."""
    if isinstance(values, Run):
        chosen = [s for s in values.steps if s.step == step]
        if not chosen:
            raise ValuesError("run", f"holds no full trace of step {step}")
        values = chosen[0]
    if isinstance(values, Step):
        values = values.values()
    if isinstance(values, dict):
        return from_mapping(values, qs)
    return read_answers(str(values), step, qs)
