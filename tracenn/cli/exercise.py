"""tracenn exercise and tracenn grade: a class's backprop exercise, one variant per student, and
the grading of what comes back."""

from __future__ import annotations

import math

import click

from .. import api
from ..record.jsonl import dumps
from ..render.tables import format_tables
from .files import write_output
from .output import Progress
from .options import TARGET, Interval, format_option, lr_option, update_biases_option

ASK_HELP = ("What the worksheet asks, comma-separated: groups (forward, error, output-deltas, "
            "hidden-deltas, input-gradients, gradients, updates, error-after) and quantity "
            "names (w5, delta_h1, dE/dw5). Default: a full step (every group but "
            "input-gradients).")


class Bounds(click.ParamType):
    """LOW:HIGH, two finite numbers with LOW ≤ HIGH: where a variant's numbers are drawn from."""

    name = "LOW:HIGH"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        try:
            lo, hi = (float(v) for v in str(value).split(":"))
        except ValueError:
            self.fail(f"{value!r} is not LOW:HIGH, e.g. 0.10:0.90 or -1:1", param, ctx)
        if not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi:
            self.fail(f"{value!r}: expected finite numbers with LOW ≤ HIGH", param, ctx)
        return lo, hi


def _range(name: str, default: str, what: str):
    return click.option(f"--{name}", type=Bounds(), default=default, show_default=True,
                        help=f"Range the {what} are drawn from, uniformly, at --given-decimals.")


@click.command()
@click.argument("target", metavar=TARGET + "|graph")
@click.argument("circuit", metavar='["EXPR"|FILE.py]', required=False, default=None)
@click.option("--students", type=click.IntRange(1, 999), default=None,
              help="Number of students: one variant each (default: one per name of --names, "
              "else 1).")
@click.option("--names", "names_file", type=click.File("r", encoding="utf-8-sig"), default=None,
              metavar="FILE", help="The students' real names, one a line, for roster.csv "
              "(grade carries them into the gradebook; the hand-outs name only the id).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Seed of the class: the same seed writes the same files, byte for byte.")
@click.option("-o", "--output", "directory", required=True, metavar="DIR",
              help="The folder to write (new, or empty).")
@click.option("--ask", default=None, metavar="WHAT", help=ASK_HELP)
@click.option("--decimals", type=click.IntRange(1, 9), default=4, show_default=True,
              help="Decimals of the answers (the worksheet asks for them, grade checks them).")
@click.option("--given-decimals", type=click.IntRange(0, 6), default=2, show_default=True,
              help="Decimals of the given numbers (Mazur's example: 2).")
@_range("weights", "0.10:0.90", "weights")
@_range("biases", "0.10:0.90", "biases")
@_range("inputs", "0.01:0.99", "inputs")
@_range("targets", "0.01:0.99", "targets (one class, one-hot, for softmax with cross-entropy)")
@lr_option()
@update_biases_option("Update every bias too, and ask for their gradients and updates.")
@click.pass_context
def exercise(ctx, target, circuit, students, names_file, seed, directory, ask, decimals,
             given_decimals, weights, biases, inputs, targets, lr, update_biases):
    """Write a backprop-by-hand exercise for a class: one variant of the network per student.

    Each variant keeps the network's shape, names, activations, loss and learning rate and draws
    new weights, biases, inputs and targets from the ranges below (one training step, on one
    sample when the network trains online).  A variant is drawn again when it would make a
    poor exercise: a saturated unit (∂out/∂net below a fifth of its largest value), a gradient
    asked that rounds to zero or keeps a single significant digit at --decimals, an update that
    rounds to the old value, two asked quantities equal at --decimals, or a loss that does not
    fall.

    DIR gets, per student, the hand-out student-NN/, which holds no answer: worksheet.md,
    worksheet.tex (pdflatex; the network drawn with TikZ), network.svg (the picture
    worksheet.md shows) and answers.csv (a name,value row per question, values empty); for the
    teacher, key/student-NN.md (the answer key: formula, numbers substituted, result) and
    key/student-NN.toml (the variant: tracenn trace it); roster.csv (each student's seed);
    exercise.json (for tracenn grade).

    tracenn exercise graph "EXPR"|FILE.py: an exercise on a circuit. Every student gets the same
    circuit with input values drawn from --inputs (default -5:5 for a circuit) at
    --given-decimals, and is asked each gate's value, then the gradient of each gate and input
    (dq, dx) in backward order; DIR gets student-NN/worksheet.md and answers.csv,
    key/student-NN.md, roster.csv and exercise.json, and tracenn grade grades it, naming the
    circuit mistakes (fork-overwritten, mul-not-swapped, max-to-both, no-upstream).
    """
    if target == "graph" or circuit is not None:
        default = ctx.get_parameter_source("inputs") == click.core.ParameterSource.DEFAULT
        return _circuit_exercise(target, circuit, students, names_file, seed, directory,
                                 decimals, given_decimals, (-5.0, 5.0) if default else inputs)
    with Progress("exercise", "writing the variants") as progress:
        names = None if names_file is None else [n.strip() for n in names_file if n.strip()]
        made = api.exercise(target, students, seed=seed, names=names, ask=ask, decimals=decimals,
                            given_decimals=given_decimals, weights=weights, biases=biases,
                            inputs=inputs, targets=targets, lr=lr, update_biases=update_biases,
                            output=directory,
                            progress=lambda done, total: progress("writing the variants", done,
                                                                  total))
    redrawn = sum(s.draws - 1 for s in made.students)
    first, last = made.students[0].id, made.students[-1].id
    click.echo(f"{directory}: {len(made.students)} variant(s) of {made.title}, "
               f"{len(made.asked)} quantities asked, answers to {decimals} decimals "
               f"({redrawn} degenerate draw(s) rejected). Hand out {first}/"
               + ("" if first == last else f" … {last}/") + "; the keys are in key/; grade "
               f"with tracenn grade {directory}.")


def _circuit_exercise(target, circuit, students, names_file, seed, directory, decimals,
                      given_decimals, inputs) -> None:
    from ..circuits.build import is_program_path, read_program
    from ..exercises.circuit import make_circuit_exercise
    from ..files import write_folder

    if target != "graph" or circuit is None:
        raise click.UsageError('an exercise on a circuit is made as: tracenn exercise graph '
                               '"EXPR" --students N -o DIR')
    program = read_program(circuit) if is_program_path(circuit) else circuit
    names = None if names_file is None else [n.strip() for n in names_file if n.strip()]
    made = make_circuit_exercise(program, circuit, students or len(names or []) or 1, seed,
                                 decimals=decimals, given_decimals=given_decimals,
                                 inputs=inputs, names=names or [])
    write_folder(made.files(), directory)
    click.echo(f"{directory}: {len(made.students)} variant(s) of {made.title}, "
               f"{len(made.asked)} questions, answers to {decimals} decimals; the keys are in "
               f"key/; grade with tracenn grade {directory}.")


@click.command()
@click.argument("directory", metavar="DIR")
@click.argument("returned", metavar="[RETURNED]", required=False, default=None)
@click.option("--decimals", type=click.IntRange(0, 12), default=None,
              help="A value is right within half a unit of this decimal place of the right one "
              "(plus the rounding carried from the student's own numbers; default: the "
              "worksheet's decimals) …")
@click.option("--relative", type=Interval(0.0), default=0.0, show_default=True,
              help="… or within this relative error of it (0: off).")
@format_option
@click.option("--precision", type=click.IntRange(0, 17), default=None,
              help="Decimals shown (default: the worksheet's).")
@click.option("--json", "as_json", is_flag=True, help="Print every grade as one JSON object.")
@click.option("--csv", "as_csv", is_flag=True, help="Print a gradebook: one CSV row per student.")
@click.option("--summary", "summary_only", is_flag=True,
              help="Print only the class summary, not each student's table.")
@click.option("-o", "--output", metavar="FILE", default=None,
              help="Write the result to FILE (replaced only once complete) instead of printing it.")
def grade(directory, returned, decimals, relative, fmt, precision, as_json, as_csv,
          summary_only, output):
    """Grade the answers.csv files of an exercise written by tracenn exercise: each in its
    student's folder DIR/student-NN/, or all in one flat folder RETURNED, each file named by
    its student's id (student-03.csv) or real name (from roster.csv).

    For each student: the score, every asked quantity right or wrong, the first wrong number
    with its formula, the classic mistake the numbers match, and the values that follow from
    an earlier error (what their formula gives from the student's own numbers): those get
    credit.  Then the class: scores, their distribution, and who made which mistake.  Files are
    read as students write them (decimal commas, ';' rows, spaces); a file that is missing or
    empty, a value that is no number, a name that is no quantity, each is reported for its
    student, and the others are graded all the same; so is a file whose student row names
    another student, or whose numbers fit another student's variant better.  Exit status 0
    when grading ran, 2 only when DIR is not an exercise's folder (or RETURNED no folder).
    """
    from ..exercises.report import class_tables, gradebook_csv, student_table

    if as_json and as_csv:
        raise click.UsageError("give --json or --csv, not both")
    with Progress("grade", "grading") as progress:
        grades = api.grade(directory, decimals=decimals, relative=relative, returned=returned,
                           progress=lambda done, total: progress("grading", done, total))
    shown = grades.decimals if precision is None else precision
    if as_json:
        text = dumps(grades) + "\n"
    elif as_csv:
        text = gradebook_csv(grades)
    else:
        tables = [] if summary_only else [student_table(s, shown) for s in grades.students
                                          if s.answers]
        text = format_tables(tables + class_tables(grades), fmt) + "\n"
    write_output(output, text)
