"""Grading a circuit's exercise (written by exercises/circuit.py): each student's answers.csv
against the circuit at that student's input values, into the same StudentGrade as a network's
exercise, so grade's tables, gradebook and JSON serve both.

A forward value is right or wrong; a gradient is judged as `tracenn compare graph` judges it
(circuits/compare.py): right, "follows" from the student's own wrong gradients above it (the
right local derivatives times them: credited), or wrong; and the student's gradients are
matched against the classic circuit mistakes (circuits/mistakes.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..circuits.build import trace_circuit
from ..circuits.compare import compare_gradients, contributions
from ..circuits.ops import OPS
from ..circuits.trace import CircuitTrace
from ..comparison import FOLLOWS, RIGHT, WRONG, Mismatch
from ..comparison.reading import csv_entries, parse_number
from ..errors import TracennError
from ..notation import num
from .grade import (FAILED, GRADED, MISSING, NOT_FILLED_IN, NOT_HANDED_IN, UNREADABLE, Answer,
                    StudentGrade)
from .returned import ID_ROW, same_student, written_id


@dataclass
class CircuitDiagnosis:
    """A circuit mistake that gives the student's numbers (`conflicts` empty when it gives all
    of them, else what it does not explain)."""

    name: str
    description: str
    conflicts: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"name": self.name, "description": self.description, "conflicts": self.conflicts}


def student_trace(manifest: dict, sid: str) -> CircuitTrace:
    circuit = manifest["circuit"]
    values = next(s["values"] for s in manifest["students"] if s["id"] == sid)
    return trace_circuit(circuit["program"], values, source=f"{sid}'s circuit",
                         output=circuit.get("output"), verify=False)


def read_circuit_answers(path: Path, asked: list[str]):
    """(answers by name, unreadable names, problems) of an answers.csv as students write it."""
    label, known = path.name, set(asked) | {ID_ROW}
    values, unreadable, problems = {}, [], []
    def prime(name):  # c' typed for c′, a variable assigned again
        return name if name is None else name.replace("'", "′")

    text = path.read_text(encoding="utf-8-sig")
    for where, name, value in csv_entries(text, lambda n: prime(n) in known):
        name = prime(name)
        if name is None:
            problems.append(f"{label} {where}: {value}")
        elif name.lower() == ID_ROW or value is None or not value.strip():
            continue
        elif name not in asked:
            problems.append(f"{label} {where}: {name!r} is not a question of this circuit "
                            "(ignored)")
        else:
            try:
                values[name], note = parse_number(value)
            except ValueError as exc:
                unreadable.append(name)
                problems.append(f"{label} {where}: {name} {exc}")
                continue
            if note:
                problems.append(f"{label} {where}: {note}")
    return values, unreadable, problems


def grade_circuit_student(manifest: dict, folder: Path, sid: str, asked: list[str], tol,
                          precision: int, answers: Path | None = None) -> StudentGrade:
    """One student's answers; never raises for a bad file: the grade says what was wrong."""
    path = answers or folder / sid / "answers.csv"
    if not path.is_file():
        where = f"{sid}/answers.csv" if path.parent.name == sid else path.name
        return StudentGrade(sid, NOT_HANDED_IN, len(asked), problems=[f"{where}: missing"])
    try:
        trace = student_trace(manifest, sid)
        values, unreadable, problems = read_circuit_answers(path, asked)
    except (TracennError, OSError, UnicodeDecodeError, KeyError, StopIteration) as exc:
        return StudentGrade(sid, FAILED, len(asked), problems=[f"{path.name}: {exc}"])
    written = written_id(path)
    if written and not same_student(written, sid):
        problems.insert(0, f"{path.name}: says {ID_ROW} {written}, but is graded as {sid}'s")
    if not values and not unreadable:
        return StudentGrade(sid, NOT_FILLED_IN, len(asked), problems=problems)
    return _judge(trace, asked, values, unreadable, tol, precision,
                  StudentGrade(sid, GRADED, len(asked), problems=problems))


def _judge(trace, asked, values, unreadable, tol, precision, out: StudentGrade) -> StudentGrade:
    by_label = {n.label: n for n in (*trace.inputs, *trace.gates)}
    grads = {by_label[q[1:]].id: v for q, v in values.items() if q.startswith("d")
             and q[1:] in by_label and q not in by_label}
    compared = compare_gradients(trace, grads, tol)
    verdicts = {f"d{r.label}": r for r in compared.rows}
    for number, q in enumerate(asked, start=1):
        yours = values.get(q)
        if q in verdicts:
            r = verdicts[q]
            right, own = r.right, r.own
            status = r.verdict if yours is not None else MISSING
        else:
            right, own = by_label[q].value, None
            status = MISSING if yours is None else RIGHT if tol.close(yours, right) else WRONG
        if yours is None and q in unreadable:
            status = UNREADABLE
        out.answers.append(Answer(number, q, yours, right, own, status))
    wrong = next((a for a in out.answers if a.status == WRONG), None)
    if wrong is not None:
        out.first = mismatch(trace, wrong, verdicts, precision)
    if compared.mistake is not None:
        m = compared.mistake
        out.mistakes = [CircuitDiagnosis(m["name"], f"{m['title']}: {m['explanation']}",
                                         [] if m["explains"] == "all" else ["other numbers"])]
    return out


def mismatch(trace: CircuitTrace, a: Answer, verdicts: dict, precision: int) -> Mismatch:
    """The first wrong number with its formula and the right numbers in it."""
    n = trace.labelled(a.name[1:] if a.name in verdicts else a.name)
    if a.name not in verdicts:
        shown = OPS[n.op].text([num(trace.node(x).value, precision) for x in n.args], n.param)
        return Mismatch(a.name, "forward", a.yours, a.right, f"{n.label} = {n.text}",
                        f"= {shown} = {num(n.value, precision)}", [])
    out = trace.node(trace.output).label
    sent = contributions(trace).get(n.id, [])
    terms = " + ".join(f"{num(d, precision)} × {num(trace.node(g).grad, precision)}"
                       for g, d in sent) or "1"
    inputs = [(f"d{trace.node(g).label}", verdicts[f"d{trace.node(g).label}"].verdict)
              for g in dict.fromkeys(g for g, _ in sent) if f"d{trace.node(g).label}" in verdicts]
    return Mismatch(a.name, "backward", a.yours, a.right,
                    f"∂{out}/∂{n.label} = Σ over the gates reading {n.label}: local × upstream",
                    f"= {terms} = {num(n.grad, precision)}", inputs)


def circuit_variants(manifest: dict) -> dict[str, dict[str, float]]:
    """Every student's right answers by name, to tell answers copied from another variant."""
    from .circuit import answers_of

    out = {}
    for s in manifest.get("students", []):
        try:
            out[s["id"]] = answers_of(student_trace(manifest, s["id"]))
        except (TracennError, KeyError, TypeError, StopIteration):
            continue
    return out
