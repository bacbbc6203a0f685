"""tracenn check: a learner's own NumPy arrays (an np.savez file) checked against the trace."""

from __future__ import annotations

import click

from .. import api
from ..record.jsonl import dumps
from ..render.results import render_comparison
from .options import PositiveFloat, TARGET, json_option, seed_option
from .output import echo


@click.command()
@click.argument("target", metavar=TARGET)
@click.option("--values", "values_file", required=True, metavar="FILE",
              help="Your arrays: an .npz file from np.savez with the names your code uses "
              "(Z1, A1, dZ1, dW1, db1, W1, b1; Nielsen's zs, activations, deltas, nabla_w, "
              "nabla_b saved as zs_0, zs_1, …; or tracenn's z, a, delta, grad_W, grad_b, W_new, "
              "b_new), in your layout. Stacked per step (a first axis of steps, or a 'steps' "
              "array of step numbers), every step is checked. A .json or .csv file is read as "
              "compare reads it.")
@click.option("--step", "step_no", type=click.IntRange(min=1), default=None,
              help="The step your arrays belong to (default 1; with stacked arrays, every step).")
@click.option("--tolerance", type=PositiveFloat(), default=None,
              help="Largest difference that still matches, relative to max(1, |right value|). "
              "Default 1e-9: arrays hold machine numbers (give 1e-5 for float32 code).")
@seed_option("Seed for layers the spec initialises at random.")
@json_option("Print the result as one JSON object.")
def check(target, values_file, step_no, tolerance, seed, as_json):
    """Check your own NumPy network: the first step and number that go wrong.

    Reads your arrays in the layout your code keeps them (samples in rows or columns, W as
    n_out×n_in or n_in×n_out: found from the shapes and said in a Read: line), compares every
    number with tracenn's trace of the same steps, and reports the first wrong one, the classic
    mistake it matches and whether the later steps follow from it. Exit status 0 when every
    number matches, 1 at a mismatch, 2 for a file that cannot be read.
    """
    spec = api.load(target, seed=seed)
    if not values_file.endswith(".npz"):
        result = api.compare(spec, values_file, step_no or 1, tolerance=tolerance)
        echo(dumps(result) if as_json else render_comparison(result, 9))
        return 0 if result.ok else 1
    from ..comparison.checking import read_npz

    chk = api.checker(spec, tolerance=tolerance)
    for s, arrays in read_npz(values_file, step_no).items():
        chk.step(s, **arrays)
    report = chk.report()
    echo(dumps(report) if as_json else str(report))
    return 0 if report.ok else 1
