"""tracenn mazur, tracenn trace, tracenn xor: a training run, step by step, as it is computed."""

from __future__ import annotations

import click

from .. import api
from ..notation import ordinal
from ..record.jsonl import dumps
from ..record.trace import Step
from ..render.text import entry_text, xor_result_text
from ..runs import own_run_note
from ..spec import load_preset
from .options import (TARGET, check_option, lr_option, mistake_option, optimizer_options,
                      output_options, seed_option, steps_options, update_biases_option)
from .output import Progress, echo


def print_entries(entries, labels, *, loss, check: bool, fmt: str, precision: int,
                  as_json: bool, note: str = "") -> int:
    """Print each entry as soon as it comes (tables or one JSON line); 1 if a --check failed."""
    failed, limited = False, False
    for entry in entries:
        checks = None
        if check and isinstance(entry, Step):
            from ..maths.verify import check_gradients

            if not limited:  # refuse up front what would take minutes, as verify does
                _check_limits(entry, loss)
                limited = True
            checks = {row.name: row for row in check_gradients(entry, loss)}
            failed |= not all(row.ok for row in checks.values())
        if as_json:
            obj = entry.to_json()
            if checks is not None:
                obj["checks"] = {name: row.to_json() for name, row in checks.items()}
            echo(dumps(obj))
        else:
            echo(entry_text(entry, labels, fmt, precision, checks, note))
    return 1 if failed else 0


AUTO_FULL = 20  # a run of the spec's own length beyond this many steps shows about ten in full


def auto_every(spec, steps: int) -> int:
    """About ten full steps for a long run, each at the end of an epoch."""
    if steps <= AUTO_FULL:
        return 1
    per_epoch = spec.steps_per_epoch
    return -(-max(1, steps // 10) // per_epoch) * per_epoch


def _check_limits(step: Step, loss) -> None:
    from ..errors import UnsupportedError
    from ..maths import VERIFY_MAX_PARAMETERS, VERIFY_MAX_SIZE, check_verify_limit
    from ..maths.verify import check_size

    try:
        check_verify_limit(step.labels, VERIFY_MAX_PARAMETERS)
        check_size(step, loss, VERIFY_MAX_SIZE)
    except UnsupportedError as exc:
        raise UnsupportedError(f"--check: {exc}; --check keeps to verify's default limits: "
                               "for this network use tracenn verify with the options it "
                               "names") from None


def _trace(target, *, steps, every, lr, update_biases, mistakes, check, fmt, precision, as_json,
           seed=None, **optimizer) -> int:
    spec = target if not isinstance(target, str) else api.load(target, seed=seed)
    from_spec = steps is None
    steps = steps or spec.total_steps
    if every is None:
        every = auto_every(spec, steps) if from_spec else 1
    with Progress(click.get_current_context().info_name or "trace", "training") as progress:
        entries = api.iter_trace(spec, steps, every=every, lr=lr, mistakes=mistakes,
                                 update_biases=update_biases,
                                 progress=lambda step: progress("step", step, steps), **optimizer)
        status = print_entries(entries, spec.labels, loss=spec.network.loss, check=check,
                               fmt=fmt, precision=precision, as_json=as_json,
                               note=own_run_note(spec, mistakes=mistakes, lr=lr,
                                                 update_biases=update_biases, **optimizer))
    if from_spec and not as_json:
        echo(f"Ran {steps} step{'s' * (steps != 1)}: {_length(spec)}"
             + (f"; every {ordinal(every)} step in full (--every 1 shows each)" if every > 1 else "") + ".")
    return status


def _length(spec) -> str:
    """How the spec sets the run's length, in words."""
    if spec.epochs is None:
        return f"the spec's steps = {spec.steps}"
    per = spec.steps_per_epoch
    mode = {"batch": "full-batch", "mini-batch": "mini-batch"}.get(spec.mode, "online")
    return f"the spec's epochs = {spec.epochs}, {per} {mode} step{'s' * (per != 1)} per epoch"


@click.command()
@steps_options(1)
@lr_option("0.5, the blog's")
@update_biases_option("Update b1 and b2 too (the blog leaves them fixed).")
@optimizer_options
@mistake_option
@check_option
@output_options
def mazur(steps, every, lr, update_biases, mistakes, check, fmt, precision, as_json, **optimizer):
    """Matt Mazur's 2-2-2 step-by-step backpropagation example, with the blog's names.

    Prints, for each shown step, the forward pass (net, out), the error, the backward pass of
    the output and hidden layers (∂E/∂out · ∂out/∂net · ∂net/∂w = ∂E/∂w, new value) and the error
    before and after the update.
    """
    return _trace(load_preset("mazur"), steps=steps, every=every or 1, lr=lr,
                  update_biases=update_biases, mistakes=mistakes, check=check, fmt=fmt,
                  precision=precision, as_json=as_json, **optimizer)


@click.command()
@click.argument("spec", metavar="SPEC.toml")
@steps_options(None, every_default=None)
@lr_option()
@seed_option()
@update_biases_option()
@optimizer_options
@mistake_option
@check_option
@output_options
def trace(spec, steps, every, lr, seed, update_biases, mistakes, check, fmt, precision, as_json,
          **optimizer):
    """Trace any network described by a TOML spec (or a preset: mazur, xor, softmax).

    The run is as long as the spec's [training] says (steps, or epochs × the steps of an
    epoch) unless --steps is given; a run of the spec's length beyond 20 steps shows about ten
    of them in full unless --every is given.  Names come from the spec; where it gives none,
    indexed names such as W2[1,2] (layer 2, neuron 1, input 2) are used.
    """
    return _trace(spec, steps=steps, every=every, lr=lr, update_biases=update_biases,
                  mistakes=mistakes, check=check, fmt=fmt, precision=precision, as_json=as_json,
                  seed=seed, **optimizer)


@click.command()
@seed_option("Seed of the random initial weights (default 0, which converges).")
@click.option("--epochs", type=click.IntRange(min=1), default=None,
              help="Passes over the four samples (default 2000).")
@click.option("--every", type=click.IntRange(min=1), default=None,
              help="Show the loss every K epochs (default: about ten lines).")
@lr_option("1.0")
@click.option("--batch", is_flag=True, help="Full-batch updates (one per epoch) instead of online.")
@optimizer_options
@mistake_option
@check_option
@output_options
def xor(seed, epochs, every, lr, batch, mistakes, check, fmt, precision, as_json, **optimizer):
    """Train a 2-2-1 logistic network on XOR and show how it learns.

    Shows the first epoch in full (each sample's forward values, deltas, gradients and updates),
    the loss at intervals, and the truth table at the end.  A seed that gets stuck in a local
    minimum is reported as such.
    """
    with Progress("xor", "training") as progress:
        run = api.xor(seed=seed, epochs=epochs, every=every, lr=lr, batch=batch,
                      mistakes=mistakes,
                      progress=lambda epoch, n: progress("training, epoch", epoch, n), **optimizer)
    spec = load_preset("xor")
    status = print_entries(run.first_epoch, run.labels, loss=spec.network.loss, check=check,
                           fmt=fmt, precision=precision, as_json=as_json)
    if as_json:
        echo(dumps(run))
    else:
        echo(xor_result_text(run, fmt, precision))
    return status


__all__ = ["mazur", "trace", "xor", "TARGET"]
