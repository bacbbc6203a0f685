"""An exercise on a circuit for a class (`tracenn exercise graph "EXPR"`): the same expression or
program for everyone, each student's input values drawn within a range from the student's own
seed, and the questions: each gate's value (forward), then the gradient of each gate and input
in the order the backward pass completes them, named as learners write them (dq, dx).

The folder (grade reads exercise.json; its "circuit" entry says the exercise is on a circuit):
    exercise.json          the program, its output, the questions, the decimals, every
                           student's seed and input values
    roster.csv, README.md  as for a network's exercise
    student-NN/            worksheet.md (the circuit, the inputs' values, the questions) and
                           answers.csv (name,value rows, values empty): no answer in it
    key/student-NN.md      the answer key: tracenn graph's forward and backward tables
Every byte is a function of the arguments (no dates, no paths): the same seed, the same files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from ..circuits.build import trace_circuit
from ..circuits.compare import backward_order
from ..circuits.parse import input_names
from ..circuits.text import circuit_text
from ..circuits.trace import CircuitTrace
from ..errors import CircuitError, OptionError, UnsupportedError
from ..record.jsonl import envelope
from .generate import folder_files, student_seed
from .variants import fixed
from .worksheet import answers_template

MAX_DRAWS = 500


@dataclass
class CircuitStudent:
    id: str
    seed: int
    values: dict[str, float]  # the inputs' values, as written on the worksheet
    trace: CircuitTrace
    draws: int


@dataclass
class CircuitExercise:
    program: str
    output: str | None
    source: str  # the expression or FILE.py as given
    seed: int
    decimals: int
    given_decimals: int
    inputs: tuple[float, float]
    asked: list[str] = field(default_factory=list)
    students: list[CircuitStudent] = field(default_factory=list)
    names: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return "backprop on the circuit " + "; ".join(self.source.strip().splitlines())

    def manifest(self) -> dict:
        return envelope("exercise", target="graph", title=self.title, seed=self.seed,
                        decimals=self.decimals, asked=self.asked,
                        circuit={"program": self.program, "output": self.output,
                                 "source": self.source, "inputs": list(self.inputs),
                                 "given_decimals": self.given_decimals},
                        students=[{"id": s.id, "seed": s.seed, "values": s.values}
                                  for s in self.students])

    def files(self, progress=None) -> dict[str, str]:
        return circuit_files(self, progress)


def questions(trace: CircuitTrace) -> list[str]:
    """The names asked: each gate's value in topological order, then d<name> of every gate
    (but the output, whose gradient is 1) and input in backward order."""
    grads = [f"d{n.label}" for n in backward_order(trace) if n.id != trace.output]
    return [g.label for g in trace.gates] + grads


def answers_of(trace: CircuitTrace) -> dict[str, float]:
    """The right answer to every question by name."""
    out = {g.label: g.value for g in trace.gates}
    out.update({f"d{n.label}": n.grad for n in (*trace.inputs, *trace.gates)})
    return out


def _degenerate(trace: CircuitTrace, decimals: int) -> str | None:
    """Why a variant makes a poor exercise: a tie at a max/min gate, an input at a kink, or no
    input's gradient that is not 0 at the asked decimals (a relu that is off at the output)."""
    if all(round(n.grad, decimals) == 0 for n in trace.inputs):
        return "every input's gradient is 0"
    for g in trace.gates:
        xs = [trace.node(a).value for a in g.args]
        if g.op in ("max", "min") and xs[0] == xs[1]:
            return f"a tie at {g.label}"
        if g.op in ("relu", "abs") and round(xs[0], decimals) == 0:
            return f"{g.label} at its kink"
    return None


def draw_values(names: list[str], rng, bounds, given_decimals: int) -> dict[str, float]:
    lo, hi = bounds
    return {name: float(fixed(rng.uniform(lo, hi), given_decimals)) for name in names}


def draw_circuit_student(program: str, output, sid: str, seed: int, bounds,
                         given_decimals: int, decimals: int, names: list[str]
                         ) -> CircuitStudent:
    """A student's input values, drawn again while the circuit is undefined there (log of a
    negative number, division by 0) or degenerate."""
    rng = np.random.default_rng(seed)
    why = ""
    for draws in range(1, MAX_DRAWS + 1):
        values = draw_values(names, rng, bounds, given_decimals)
        try:
            trace = trace_circuit(program, values, source=f"{sid}'s circuit", output=output,
                                  verify=False)
        except CircuitError as exc:
            why = str(exc)
            continue
        why = _degenerate(trace, decimals)
        if why is None:
            return CircuitStudent(sid, seed, values, trace, draws)
    raise UnsupportedError(f"no input values in {bounds[0]:g}:{bounds[1]:g} make a good "
                           f"exercise of this circuit in {MAX_DRAWS} draws (the last: {why}); "
                           "widen --inputs or change --given-decimals")


def make_circuit_exercise(program: str, source: str, students: int, seed: int, *,
                          output: str | None = None, decimals: int = 4,
                          given_decimals: int = 2, inputs=(-5.0, 5.0), names=(),
                          progress=None) -> CircuitExercise:
    """Every student's variant of the circuit `program` (an expression or a program of
    assignments), input values drawn uniformly from `inputs` at `given_decimals`."""
    lo, hi = (float(b) for b in inputs)
    if not lo <= hi:
        raise OptionError(f"--inputs {lo:g}:{hi:g}: expected LOW ≤ HIGH")
    reads = input_names(program)
    ex = CircuitExercise(program, output, source, seed, decimals, given_decimals, (lo, hi),
                         names=list(names))
    width = max(2, len(str(students)))
    for n in range(1, students + 1):
        sid = f"student-{n:0{width}d}"
        ex.students.append(draw_circuit_student(program, output, sid, student_seed(seed, n),
                                                (lo, hi), given_decimals, decimals, reads))
        if progress:
            progress(n, students)
    ex.asked = questions(ex.students[0].trace)
    return ex


def worksheet(ex: CircuitExercise, s: CircuitStudent) -> str:
    """The hand-out: the circuit, the student's input values and the questions; no answer."""
    t = s.trace
    gates = "\n".join(f"| {g.label} | {g.label} = {g.text} |" for g in t.gates)
    values = ", ".join(f"{name} = {fixed(v, ex.given_decimals)}" for name, v in s.values.items())
    out = t.node(t.output).label
    forward = [g.label for g in t.gates]
    backward = [q for q in ex.asked if q not in forward]
    return "\n".join([
        f"# Backprop on a circuit ({s.id})", "",
        "The circuit:", "", "```", ex.program.strip(), "```", "",
        f"Your inputs: {values}.", "",
        "Its gates, in the order the forward pass computes them:", "",
        "| gate | operation |", "|---|---|", gates, "",
        f"1. Forward pass: the value of each gate ({', '.join(forward)}).",
        f"2. Backward pass: the gradient of {out} with respect to each gate and input, in the "
        f"order backprop completes them ({', '.join(backward)}; d{out} = 1). Where a value is "
        "used more than once, add up what each use sends back.", "",
        f"Give every answer to {ex.decimals} decimals in answers.csv (one name,value row "
        "each: dx,-4.0000).", ""])


def answer_key(ex: CircuitExercise, s: CircuitStudent) -> str:
    """The key: the student's values, every answer, and tracenn graph's tables."""
    right = answers_of(s.trace)
    rows = "\n".join(f"| {i} | {q} | {fixed(right[q], ex.decimals)} |"
                     for i, q in enumerate(ex.asked, 1))
    at = ",".join(f"{k}={fixed(v, ex.given_decimals)}" for k, v in s.values.items())
    return "\n".join([
        f"# Answer key: {s.id}", "", f"Inputs: {at.replace(',', ', ')}.", "",
        "| # | question | answer |", "|---|---|---|", rows, "",
        f"Every number: `tracenn graph {json.dumps(ex.source)} --at {at}`.", "",
        circuit_text(s.trace, "github", ex.decimals), ""])


def circuit_files(ex: CircuitExercise, progress=None) -> dict[str, str]:
    """Every file of the exercise, by path relative to its folder."""
    return folder_files(ex, readme(ex), lambda s: {
        f"{s.id}/worksheet.md": worksheet(ex, s),
        f"{s.id}/answers.csv": answers_template(ex.asked, s.id),
        f"key/{s.id}.md": answer_key(ex, s)}, progress)


def readme(ex: CircuitExercise) -> str:
    first = ex.students[0].id if ex.students else "student-01"
    return "\n".join([
        f"# Exercise: {ex.title}", "",
        f"Made by `tracenn exercise graph {json.dumps(ex.source)} --students "
        f"{len(ex.students)} --seed {ex.seed}`: {len(ex.students)} variants (inputs drawn "
        f"from {ex.inputs[0]:g}:{ex.inputs[1]:g}), {len(ex.asked)} questions, answers to "
        f"{ex.decimals} decimals.", "",
        f"- `{first}/`: hand out this folder (`worksheet.md`, `answers.csv`); no answer in it.",
        "- `key/`: the answer keys, one per student. Keep them.",
        "- `roster.csv`: each student's seed and a column for their name; `exercise.json`: "
        "what grading needs.", "",
        "Put each filled-in `answers.csv` back into its student's folder and run "
        "`tracenn grade .` here.", ""])
