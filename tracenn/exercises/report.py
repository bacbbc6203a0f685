"""A class's grades as tables (any tabulate format), as a gradebook CSV, and in words: a table
per student (each asked quantity: the student's value, the right one, the verdict) with the
first wrong number, its formula and the mistake under it; then the class: every student's score,
the distribution of scores, the mistakes and the first wrong numbers, with who made them."""

from __future__ import annotations

import csv
import io

from ..comparison import FOLLOWS, RIGHT, WRONG
from ..engine.mistakes import MISTAKES
from ..notation import num
from ..render.tables import Table
from .grade import GRADED, MISSING, UNREADABLE, ClassGrades, StudentGrade

VERDICTS = {RIGHT: "right", FOLLOWS: "follows from your earlier error", WRONG: "wrong",
            MISSING: "not answered", UNREADABLE: "not a number"}


def _written(x: float | None) -> str:
    """A student's number as written (its own decimals), or — for none."""
    if x is None:
        return "—"
    decimals = getattr(x, "decimals", None)
    return f"{float(x):.{decimals}f}" if decimals is not None else f"{float(x):g}"


def score(s: StudentGrade) -> str:
    if s.status != GRADED:
        return s.status
    return f"{s.points}/{s.out_of} ({s.percent:.0f}%)"


def student_lines(s: StudentGrade, precision: int) -> list[str]:
    """What is said under a student's table: the convention, the first wrong number with its
    formula, the mistake, and what reading the file found."""
    lines = []
    if s.convention is not None:
        lines.append(s.convention.describe())
    m = s.first
    if m is not None:
        answer = next(a for a in s.answers if a.name == m.name)
        lines.append(f"First wrong number: {m.name} (question {answer.number}): yours "
                     f"{_written(m.yours)}, right {num(m.right, precision)}.")
        lines.append(f"  {m.formula} {m.substituted}")
        if m.inputs:
            lines.append("  its inputs: " + ", ".join(f"{n} {status}" for n, status in m.inputs))
    follows = [a for a in s.answers if a.status == FOLLOWS]
    if follows:
        lines.append(f"{len(follows)} later value(s) follow from an earlier error and get "
                     "credit: " + ", ".join(a.name for a in follows) + ".")
    for d in s.mistakes:
        if not d.conflicts:
            about = getattr(d, "description", None) or MISTAKES[d.name]  # a circuit's own
            lines.append(f"Your numbers match a known mistake: {d.name} — {about}.")
    lines += [f"Note: {p}" for p in s.problems]
    return [line if line.startswith("  ") else f"- {line}" for line in lines]


def student_table(s: StudentGrade, precision: int) -> Table:
    rows = [[str(a.number), a.name, _written(a.yours), num(a.right, precision),
             VERDICTS[a.status]] for a in s.answers]
    note = "\n".join(student_lines(s, precision))
    who = f"{s.id} ({s.name})" if s.name else s.id
    return Table(f"{who} · {score(s)}", ["#", "quantity", "yours", "right", "verdict"], rows,
                 note, key=f"student:{s.id}")


def class_tables(c: ClassGrades) -> list[Table]:
    rows = []
    for s in c.students:
        first = f"{s.first.name}" if s.first else ""
        notes = "; ".join(([s.convention.name + " convention"] if s.convention else [])
                          + (s.problems if s.status != GRADED else
                             [f"{len(s.problems)} note(s) on the file"] if s.problems else []))
        fits = [f"fits {s.fits}'s variant better"] if s.fits else []
        notes = "; ".join(fits + ([notes] if notes else []))
        rows.append([f"{s.id} ({s.name})" if s.name else s.id, score(s), first, s.mistake or "",
                     notes])
    summary = c.summary()
    mean = "" if summary["mean_percent"] is None else (
        f"; mean {summary['mean_percent']:.0f}%, median {summary['median_percent']:.0f}%")
    total = Table(f"Class: {c.title}", ["student", "score", "first wrong number", "mistake",
                                        "notes"], rows,
                  f"{summary['graded']} of {summary['students']} students graded{mean}. "
                  f"A value counts as right when {c.tolerance.describe()}; a value that follows "
                  "from an earlier error gets credit.", key="class")
    if c.notes:
        total.note += "\n" + "\n".join(f"- {n}" for n in c.notes)
    dist = Table("Scores", ["score", "students", ""],
                 [[band, str(n), "█" * n] for band, n in c.distribution()], key="distribution")
    mistakes = Table("Mistakes from the catalogue", ["mistake", "students", "who"],
                     [[name, str(len(ids)), ", ".join(ids)]
                      for name, ids in sorted(c.mistake_counts().items(), key=lambda x: -len(x[1]))]
                     or [["(none)", "0", ""]], key="mistakes")
    firsts = Table("First wrong numbers", ["quantity", "students", "who"],
                   [[name, str(len(ids)), ", ".join(ids)]
                    for name, ids in sorted(c.first_wrong_counts().items(),
                                            key=lambda x: (-len(x[1]), c.asked.index(x[0])))]
                   or [["(none)", "0", ""]], key="first-wrong")
    return [total, dist, mistakes, firsts]


def gradebook_csv(c: ClassGrades) -> str:
    """One row per student, for a spreadsheet: score, first wrong number, mistake, notes."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["student", "name", "status", "points", "out_of", "percent", "first_wrong",
                     "mistake", "follows", "convention", "fits_better", "notes"])
    for s in c.students:
        graded = s.status == GRADED
        writer.writerow([s.id, s.name, s.status, s.points if graded else "", s.out_of,
                         f"{s.percent:.1f}" if graded else "", s.first.name if s.first else "",
                         s.mistake or "", sum(a.status == FOLLOWS for a in s.answers),
                         s.convention.name if s.convention else "", s.fits or "",
                         "; ".join(s.problems)])
    return out.getvalue()
