"""Grading what a class hands back: every DIR/student-NN/answers.csv against that student's
variant, with credit for errors carried over.

Each asked quantity is judged in the order backprop computes it (comparison/walk.py): right
(within the tolerance, or exactly what its formula gives from the student's own earlier numbers
when those are right: rounding carried along), "follows from your earlier error" (wrong, but
what its formula gives from the student's own earlier numbers, one of which is wrong: credited,
as teachers do), wrong, not answered, or not a number.  The first wrong number is reported with
its formula, and the numbers are matched against the catalogue of classic mistakes.

The tolerance suits hand calculation (marking.py): within half a unit of the asked decimal place
of the right value, plus the rounding carried from the student's own earlier numbers.  What a student hands in is read as people write
it (comparison/reading.py); every file that cannot be read, every row that cannot, every name
invented is reported for that student, and the others are graded all the same.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from ..comparison import (FOLLOWS, RIGHT, Convention, Diagnosis, Mismatch, Tolerance,
                          compare, explained, mistaken_steps, read_answers)
from ..errors import TracennError, ValuesError
from ..maths.quantities import StepQuantities
from ..record.jsonl import envelope
from ..runs import trace_one_step
from ..spec import load_spec
from .key import spec_path
from .marking import asked_place, diagnose_rounded
from .returned import ID_ROW, better_fit, returned_files, roster_names, same_student, written_id

MISSING, UNREADABLE = "missing", "unreadable"
GRADED, NOT_HANDED_IN, NOT_FILLED_IN, FAILED = ("graded", "not handed in", "not filled in",
                                                "cannot be graded")


@dataclass
class Answer:
    number: int  # the question's number on the worksheet
    name: str
    yours: float | None
    right: float
    own: float | None  # its formula with the student's own earlier numbers
    status: str  # RIGHT, FOLLOWS, WRONG, MISSING or UNREADABLE

    @property
    def credit(self) -> bool:
        return self.status in (RIGHT, FOLLOWS)

    def to_json(self) -> dict:
        return {"number": self.number, "name": self.name, "yours": self.yours,
                "right": self.right, "from_your_numbers": self.own, "status": self.status}


@dataclass
class StudentGrade:
    id: str
    status: str  # GRADED, NOT_HANDED_IN, NOT_FILLED_IN or FAILED
    out_of: int
    answers: list[Answer] = field(default_factory=list)
    first: Mismatch | None = None  # the first wrong number, with its formula
    mistakes: list[Diagnosis] = field(default_factory=list)
    convention: Convention | None = None
    problems: list[str] = field(default_factory=list)  # what reading the files found
    name: str = ""  # the real name, from roster.csv
    fits: str | None = None  # another student whose variant the answers fit better

    @property
    def points(self) -> int:
        return sum(a.credit for a in self.answers)

    @property
    def percent(self) -> float:
        return 100.0 * self.points / self.out_of if self.out_of else 0.0

    @property
    def mistake(self) -> str | None:
        """The catalogued mistake that explains every wrong number, when exactly one does."""
        full = [d.name for d in self.mistakes if not d.conflicts]
        return full[0] if len(full) == 1 else None

    def to_json(self) -> dict:
        return {"student": self.id, "name": self.name, "status": self.status,
                "points": self.points,
                "out_of": self.out_of, "percent": round(self.percent, 2),
                "answers": [a.to_json() for a in self.answers],
                "first_wrong": None if self.first is None else self.first.to_json(),
                "mistakes": [d.to_json() for d in self.mistakes],
                "convention": None if self.convention is None else self.convention.to_json(),
                "problems": self.problems, "fits_better": self.fits}


@dataclass
class ClassGrades:
    directory: str
    title: str
    asked: list[str]
    decimals: int
    tolerance: Tolerance
    students: list[StudentGrade]
    notes: list[str] = field(default_factory=list)  # what sorting the returned files found

    def graded(self) -> list[StudentGrade]:
        return [s for s in self.students if s.status == GRADED]

    def distribution(self) -> list[tuple[str, int]]:
        """Students per band of score: 100%, 90–99%, …, 0–9%, and those not graded."""
        bands = [("100%", 0)] + [(f"{10 * b}–{10 * b + 9}%", 0) for b in range(9, -1, -1)]
        counts = dict(bands)
        for s in self.graded():
            label = "100%" if s.points == s.out_of else bands[10 - int(s.percent // 10)][0]
            counts[label] += 1
        return list(counts.items()) + [("not graded", len(self.students) - len(self.graded()))]

    def mistake_counts(self) -> dict[str, list[str]]:
        """For each catalogued mistake, the students whose wrong numbers it explains alone."""
        out: dict[str, list[str]] = {}
        for s in self.graded():
            if s.mistake:
                out.setdefault(s.mistake, []).append(s.id)
        return out

    def first_wrong_counts(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for s in self.graded():
            if s.first is not None:
                out.setdefault(s.first.name, []).append(s.id)
        return out

    def summary(self) -> dict:
        scores = [s.percent for s in self.graded()]
        return {"students": len(self.students), "graded": len(scores),
                "mean_percent": round(statistics.fmean(scores), 2) if scores else None,
                "median_percent": round(statistics.median(scores), 2) if scores else None,
                "distribution": dict(self.distribution()), "mistakes": self.mistake_counts(),
                "first_wrong": self.first_wrong_counts(),
                "convention": [s.id for s in self.graded() if s.convention is not None]}

    def to_json(self) -> dict:
        return envelope("grades", directory=self.directory, title=self.title,
                        decimals=self.decimals, tolerance=self.tolerance.describe(),
                        asked=self.asked, students=[s.to_json() for s in self.students],
                        summary=self.summary(), notes=self.notes)

    def _repr_html_(self) -> str:
        from ..render.notebook import tables_html
        from .report import class_tables

        return tables_html(class_tables(self))


def read_manifest(directory: str) -> dict:
    """The exercise.json of an exercise's folder.  Raises ValuesError naming what is wrong."""
    folder = Path(directory)
    if not folder.is_dir():
        raise ValuesError(directory, "no such folder" if not folder.exists() else "is not a folder")
    path = folder / "exercise.json"
    why = "holds no exercise.json: give a folder written by tracenn exercise"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        students = [s["id"] for s in manifest["students"]]
        ok = (manifest.get("kind") == "exercise" and isinstance(manifest["decimals"], int)
              and all(isinstance(n, str) for n in manifest["asked"])
              and all(isinstance(s, str) and "/" not in s and s not in ("", ".", "..")
                      for s in students))
    except FileNotFoundError:
        raise ValuesError(directory, why) from None
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise ValuesError(str(path), f"is not an exercise tracenn can read ({exc})") from None
    if not ok:
        raise ValuesError(str(path), "is not an exercise tracenn can read")
    return manifest


def variant_path(directory: Path, sid: str) -> Path:
    """A student's variant: key/student-NN.toml (student-NN/spec.toml in a folder written
    before the hand-out stopped carrying it)."""
    path = directory / spec_path(sid)
    old = directory / sid / "spec.toml"
    return old if not path.exists() and old.exists() else path


def grade_student(folder: Path, sid: str, asked: list[str], tol: Tolerance, precision: int,
                  answers: Path | None = None) -> StudentGrade:
    """One student's answers (`answers`, by default student-NN/answers.csv) against that
    student's variant (key/student-NN.toml); never raises for a bad file: it is the student's
    grade that says so."""
    try:
        return _grade(folder, sid, asked, tol, precision, answers or folder / sid / "answers.csv")
    except TracennError as exc:
        return StudentGrade(sid, FAILED, len(asked), problems=[str(exc)])
    except OSError as exc:  # a file that cannot be read (permissions, a folder in its place)
        return StudentGrade(sid, FAILED, len(asked),
                            problems=[f"{exc.filename or sid}: cannot be read: {exc.strerror}"])


def _grade(directory: Path, sid: str, asked: list[str], tol: Tolerance, precision: int,
           answers_path: Path):
    if not answers_path.is_file():
        where = f"{sid}/answers.csv" if answers_path.parent.name == sid else answers_path.name
        return StudentGrade(sid, NOT_HANDED_IN, len(asked), problems=[f"{where}: missing"])
    variant = variant_path(directory, sid)
    spec = load_spec(variant)
    qs = StepQuantities(trace_one_step(spec, 1), spec.network.loss)
    foreign = [name for name in asked if name not in qs.by_name]
    if foreign:
        return StudentGrade(sid, FAILED, len(asked), problems=[
            f"{variant.relative_to(directory)} has none of {', '.join(foreign[:3])}{', …' if len(foreign) > 3 else ''}"
            " that the exercise asks: it is not the spec tracenn exercise wrote"])
    try:
        read = read_answers(str(answers_path), 1, qs)
    except ValuesError as exc:  # an empty file, or one that is not text
        empty = not answers_path.read_bytes().strip()
        return StudentGrade(sid, NOT_FILLED_IN if empty else FAILED, len(asked),
                            problems=[str(exc)])
    asked_set, label = set(asked), answers_path.name
    problems = [f"{label}: {p}" for p in read.problems + read.notes]
    problems += [f"{label}: {k!r} is no quantity of this network (ignored)" for k in read.unknown
                 if k.lower().rstrip(":") not in (ID_ROW, "student id", "id")]
    problems += [f"{label}: {n} was not asked (ignored)" for n in read.values if n not in asked_set]
    written = written_id(answers_path)
    if written and not same_student(written, sid):
        problems.insert(0, f"{label}: says {ID_ROW} {written}, but is graded as {sid}'s")
    learner = {n: v for n, v in read.values.items() if n in asked_set}
    if not learner and not read.unreadable:
        return StudentGrade(sid, NOT_FILLED_IN, len(asked), problems=problems)
    result = compare(qs, learner, [], tol, precision)
    judged = {v.name: v for v in result.verdicts}
    out = StudentGrade(sid, GRADED, len(asked), convention=result.convention, problems=problems)
    for number, name in enumerate(asked, start=1):
        v = judged.get(name)
        status = v.status if v else UNREADABLE if name in read.unreadable else MISSING
        out.answers.append(Answer(number, name, v.yours if v else None, qs.by_name[name].value,
                                  v.own if v else None, status))
    out.first = result.first
    if not result.ok:
        out.mistakes = diagnose_rounded(qs, result.values, result.verdicts,
                                        mistaken_steps(spec, 1), tol)
    return out


def grade_directory(directory: str, *, decimals: int | None = None,
                    relative: float | None = None, precision: int | None = None,
                    returned: str | None = None, progress=None) -> ClassGrades:
    """Grade every student of the exercise in `directory`: student-NN/answers.csv, or with
    `returned` the files of that flat folder, each named by its student's id (student-03.csv)
    or real name from roster.csv.  `decimals` (default: the worksheet's) is the decimal place
    whose half unit is the tolerance, `relative` (default: none) a relative error also
    accepted; `progress(done, total)` is called after each student.  Raises ValuesError only
    when `directory` is not an exercise's folder (or `returned` no folder)."""
    manifest = read_manifest(directory)
    decimals = manifest["decimals"] if decimals is None else decimals
    tol = asked_place(decimals, relative)
    folder, ids = Path(directory), [s["id"] for s in manifest["students"]]
    names = roster_names(folder)
    files, notes = _returned(returned, ids, names)
    grades, grading, variants = [], grade_student, None
    if "circuit" in manifest:  # an exercise on a circuit (exercises/circuit.py)
        from functools import partial

        from .circuit_grade import circuit_variants, grade_circuit_student
        grading, variants = partial(grade_circuit_student, manifest), circuit_variants(manifest)
    for n, sid in enumerate(ids, start=1):
        given = None if files is None else files.get(sid, Path(returned) / f"{sid}.csv")
        grade = grading(folder, sid, manifest["asked"], tol,
                        decimals if precision is None else precision, given)
        grade.name = names.get(sid, "")
        grades.append(grade)
        if progress:
            progress(n, len(ids))
    _check_fits(folder, grades, tol, variants)
    return ClassGrades(str(directory), manifest.get("title", ""), manifest["asked"], decimals,
                       tol, grades, notes)


def _returned(returned: str | None, ids: list[str], names: dict) -> tuple[dict | None, list]:
    if returned is None:
        return None, []
    if not Path(returned).is_dir():
        raise ValuesError(str(returned), "no such folder" if not Path(returned).exists()
                          else "is not a folder: give the folder of the returned answer files")
    return returned_files(Path(returned), ids, names)


def _check_fits(folder: Path, grades: list[StudentGrade], tol, variants=None) -> None:
    """Say so for each student whose answers are rather the right numbers of another variant
    (`variants`: each student's right numbers by name; by default from their specs)."""
    if variants is None:
        variants = {}
        for g in grades:
            try:
                variants[g.id] = trace_one_step(load_spec(variant_path(folder, g.id)),
                                                1).values()
            except (TracennError, OSError):
                continue
    for g in grades:
        yours = {a.name: a.yours for a in g.answers if a.yours is not None}
        fit = better_fit(yours, g.id, variants, tol.close) if g.status == GRADED else None
        if fit:
            g.fits = fit[0]
            g.problems.insert(0, f"these answers fit {fit[0]}'s variant better ({fit[1]} of "
                              f"{len(yours)} right there, {fit[2]} here): handed in under the "
                              "wrong name, or copied?")
