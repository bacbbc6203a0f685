"""An exercise for a class: one variant of a network per student, drawn from its own seed, with
a worksheet (Markdown and LaTeX), an answers.csv template and an answer key each.

The folder it writes:
    exercise.json          what grade needs: the quantities asked, the decimals, the students
    roster.csv             student id, the seed of the student's variant
    README.md              what the files are and how to grade
    student-NN/            the hand-out, which holds no answer: worksheet.md, worksheet.tex,
                           answers.csv, network.svg (the picture of the network with its
                           weights, which worksheet.md shows and worksheet.tex draws with TikZ)
    key/student-NN.md      the answer key: the walkthrough of that variant
    key/student-NN.tex     the key for pdflatex: the worksheet's picture with the answers in
                           its boxes, and the table of the answers
    key/student-NN.toml    the variant (tracenn trace key/student-NN.toml shows every number):
                           for the teacher only, since it gives every answer away

Every file is a function of the command's arguments alone (no dates, no paths but the ones
given), so the same command with the same seed writes the same bytes.  Each student's seed is
derived from the class's seed and the student's number (numpy's SeedSequence), so classes with
neighbouring seeds share no variants.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from ..errors import TrainingDiverged, UnsupportedError
from ..comparison import canonical_name
from ..maths.quantities import StepQuantities
from ..record.jsonl import envelope
from ..record.trace import Step
from ..runs import optimizer_for, trace_one_step
from ..spec import Spec, parse_spec
from ..spec.writer import spec_to_toml
from ..textbook import collect
from .asking import FULL_STEP, asked as asked_names
from .key import answer_key, key_latex, spec_path
from .picture import worksheet_picture, worksheet_svgs
from .tikz import worksheet_tikz
from .returned import roster_csv, roster_row
from .variants import Ranges, always_equal, degenerate, draw
from .worksheet import answers_template, latex, markdown

MAX_DRAWS = 500


@dataclass
class Student:
    id: str  # student-01
    seed: int  # of the variant's random numbers
    spec: Spec  # the variant, read back from `toml`
    toml: str
    step: Step  # its step 1
    draws: int  # variants drawn until one was not degenerate


@dataclass
class Exercise:
    target: str  # the network as named on the command line
    title: str
    seed: int
    asked: list[str]
    decimals: int  # of the answers
    ranges: Ranges
    students: list[Student] = field(default_factory=list)
    names: list[str] = field(default_factory=list)  # real names, in roster.csv only

    def files(self, progress=None) -> dict[str, str]:
        """Every file of the exercise by path relative to its folder (see exercise_files)."""
        return exercise_files(self, progress)

    def __repr__(self) -> str:
        return (f"Exercise({self.target}: {len(self.students)} students, seed {self.seed}, "
                f"{len(self.asked)} quantities asked to {self.decimals} decimals)")

    def _repr_html_(self) -> str:
        import html

        rows = "".join(f"<tr><td>{s.id}</td><td>{s.seed}</td><td>{s.draws}</td></tr>"
                       for s in self.students)
        return (f"<p><strong>{html.escape(repr(self))}</strong></p><table><tr><th>student</th>"
                f"<th>variant seed</th><th>variants drawn</th></tr>{rows}</table>")

    def manifest(self) -> dict:
        return envelope("exercise", target=self.target, title=self.title, seed=self.seed,
                        decimals=self.decimals, asked=self.asked, ranges=self.ranges.to_json(),
                        students=[{"id": s.id, "seed": s.seed} for s in self.students])


def student_seed(seed: int, number: int) -> int:
    """The seed of student `number`'s variant in a class made with `seed`."""
    return int(np.random.SeedSequence([seed, number]).generate_state(1)[0])


def _sgd_only(spec: Spec) -> None:
    opt = optimizer_for(spec)
    if opt.NAME != "sgd" or opt.weight_decay:
        raise UnsupportedError(f"{spec.source}: exercises are written for plain gradient "
                               f"descent (w⁺ = w − η·∂E/∂w), and this spec trains with "
                               f"{opt.NAME}" + (" with weight decay" if opt.weight_decay else "")
                               + "; set optimizer = \"sgd\" in its [training]")


def draw_student(spec: Spec, sid: str, seed: int, asked: list[str], decimals: int,
                 ranges: Ranges, title: str, comment: str) -> Student:
    """Student `sid`'s variant: drawn again until it is not degenerate.  Which asked quantities
    may be equal is worked out for each variant, from its own targets (a one-hot class makes
    ∂E/∂out of the other classes 0, whichever class it is).  Raises UnsupportedError when
    MAX_DRAWS draws are all degenerate."""
    rng = np.random.default_rng(seed)
    why = ""
    for draws in range(1, MAX_DRAWS + 1):
        variant = draw(spec, rng, ranges, f"{title}, variant of {sid}")
        try:
            why = degenerate(trace_one_step(variant, 1), asked, decimals,
                             always_equal(variant, asked))
        except TrainingDiverged as exc:  # a variant whose numbers overflow: draw again
            why = str(exc)
        if why is None:
            path = spec_path(sid)
            toml = spec_to_toml(variant, comment=f"{comment}: {sid}, variant seed {seed}\n"
                                f"Every number of its first step: tracenn trace {path}")
            read = parse_spec(toml, path)
            return Student(sid, seed, read, toml, trace_one_step(read, 1), draws)
    raise UnsupportedError(f"no variant of {spec.source} in {MAX_DRAWS} draws makes a good "
                           f"exercise (the last: {why}); widen the ranges (--weights, --inputs, "
                           "…), ask fewer quantities or change --decimals")


def make_exercise(spec: Spec, target: str, students: int, seed: int, ask=FULL_STEP,
                  decimals: int = 4, ranges: Ranges = Ranges(), progress=None) -> Exercise:
    """Draw every student's variant.  `ask`: groups and quantity names (exercises/asking.py).
    `progress(done, total)` is called after each student.  Raises OptionError for a bad `ask`
    or range, UnsupportedError for a spec an exercise cannot be made of."""
    _sgd_only(spec)
    ranges.check()
    qs = StepQuantities(trace_one_step(spec, 1), spec.network.loss)
    asked = asked_names(qs.step, ask, lambda name: canonical_name(name, qs))
    title = spec.title or target
    ex = Exercise(target, title, seed, asked, decimals, ranges)
    width = max(2, len(str(students)))
    for n in range(1, students + 1):
        sid = f"student-{n:0{width}d}"
        ex.students.append(draw_student(spec, sid, student_seed(seed, n), asked, decimals,
                                        ranges, title, f"tracenn exercise {target} --seed {seed}"))
        if progress:
            progress(n, students)
    return ex


def student_files(ex: Exercise, s: Student, given_decimals: int) -> dict[str, str]:
    """The files of one student, by path relative to the exercise's folder."""
    title = f"Backpropagation by hand: {ex.title} ({s.id})"
    walk = collect(s.spec, spec_path(s.id), 1)
    # the picture with a box per net, out and δ asked, and the key's with the answers in them
    picture = worksheet_picture(s.spec, s.step, ex.asked, ex.decimals, given_decimals)
    svgs = worksheet_svgs(picture)
    figure = ("![The network with its weights and biases](network.svg)" if svgs else "")
    files = {f"{s.id}/network.svg": svgs[0], f"key/{s.id}.svg": svgs[1]} if svgs else {}
    return files | {
        spec_path(s.id): s.toml,
        f"{s.id}/worksheet.md": markdown(title, s.spec, s.step, ex.asked, ex.decimals,
                                         given_decimals, figure),
        f"{s.id}/worksheet.tex": latex(title, s.spec, s.step, ex.asked, ex.decimals,
                                       given_decimals, worksheet_tikz(picture, filled=False)),
        f"{s.id}/answers.csv": answers_template(ex.asked, s.id),
        f"key/{s.id}.md": answer_key(
            walk, ex.asked, ex.decimals, f"{ex.title} ({s.id})", spec_path(s.id),
            f"![The worksheet's picture with the answers in its boxes]({s.id}.svg)" if svgs
            else ""),
        f"key/{s.id}.tex": key_latex(f"{ex.title} ({s.id})", s.step, ex.asked, ex.decimals,
                                     worksheet_tikz(picture, filled=True)),
    }


def exercise_files(ex: Exercise, progress=None) -> dict[str, str]:
    """Every file of the exercise, by path relative to its folder.  `progress(done, total)` is
    called after each student's files."""
    return folder_files(ex, readme(ex), lambda s: student_files(ex, s, ex.ranges.decimals),
                        progress)


def folder_files(ex, readme_text: str, per_student, progress=None) -> dict[str, str]:
    """An exercise folder (a network's or a circuit's): exercise.json, roster.csv, README.md
    and `per_student(student)`'s files for each student."""
    files = {"exercise.json": json.dumps(ex.manifest(), ensure_ascii=False, indent=1) + "\n",
             "roster.csv": roster_csv([roster_row(s.id, s.seed, name) for s, name in
                                       zip(ex.students, ex.names or [""] * len(ex.students))]),
             "README.md": readme_text}
    for n, s in enumerate(ex.students, start=1):
        files.update(per_student(s))
        if progress:
            progress(n, len(ex.students))
    return files


def readme(ex: Exercise) -> str:
    first = ex.students[0].id if ex.students else "student-01"
    return "\n".join([
        f"# Exercise: {ex.title}", "",
        f"Made by `tracenn exercise {ex.target} --students {len(ex.students)} --seed {ex.seed}`: "
        f"{len(ex.students)} variants, {len(ex.asked)} quantities asked, answers to "
        f"{ex.decimals} decimals.", "",
        f"- `{first}/`: hand out this folder: `worksheet.md` or `worksheet.tex` (pdflatex), "
        "`network.svg` and `answers.csv` to fill in. It holds no answer.",
        f"- `key/`: the answer keys, one per student, and each student's network "
        f"(`key/{first}.toml`: `tracenn trace` prints every answer of it). Keep them.",
        "- `roster.csv`: each student's variant seed, and a column for their real name (fill it "
        "in: grade carries it into the gradebook); `exercise.json`: what grading needs.", "",
        "Each `answers.csv` names its student in its `student,…` row. Put each filled-in "
        "`answers.csv` back into its student's folder and run `tracenn grade .` here, or "
        "collect them in one folder, each named by its student (`student-03.csv`, or the "
        "name in `roster.csv`), and run `tracenn grade . FOLDER` (`--csv` for a gradebook).",
        ""])
