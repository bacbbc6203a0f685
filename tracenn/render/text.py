"""The terminal's text of each result: what the command prints, and what `str()` (so `print`)
of the result gives outside Jupyter — one function each, which the CLI and the results'
`__str__` hooks both call, so the two cannot drift apart."""

from __future__ import annotations

from ..notation import DEFAULT_PRECISION
from ..record.trace import Step
from .results import (gradient_table, identity_table, precision_table, render_comparison,
                      update_check_table, xor_tables, xor_verdict)
from .steps import render_step, render_summary
from .tables import format_tables, markup

FORMAT = "simple"  # the CLI's default --format


def step_text(step, fmt: str = FORMAT, precision: int = DEFAULT_PRECISION) -> str:
    """A full step's tables (and the mistakes switched on)."""
    return render_step(step, fmt, precision)


def entry_text(entry, labels, fmt: str = FORMAT, precision: int = DEFAULT_PRECISION,
               checks: dict | None = None, note: str = "") -> str:
    """One shown entry of a run: a full step's tables (with the spec's note after step 1, and
    a blank line to part it from the next), or a summary's one line; the lines of text in the
    format's markup (escaped for LaTeX)."""
    if not isinstance(entry, Step):
        return markup(render_summary(entry, labels, precision), fmt)
    text = render_step(entry, fmt, precision, checks)
    if entry.step == 1 and note:
        text += "\n\n" + markup(note, fmt)
    return text + "\n"


def run_text(run, fmt: str = FORMAT, precision: int = DEFAULT_PRECISION) -> str:
    """Every entry of a traced run, as `tracenn trace SPEC --steps N` prints them."""
    return "\n".join(entry_text(e, run.labels, fmt, precision, note=run.note)
                     for e in run.entries)


def xor_result_text(run, fmt: str = FORMAT, precision: int = DEFAULT_PRECISION) -> str:
    """What `tracenn xor` prints after the first epoch: the loss curve, the truth table and
    the verdict."""
    return format_tables(xor_tables(run, precision), fmt) + "\n\n" + markup(xor_verdict(run), fmt)


def xor_text(run, fmt: str = FORMAT, precision: int = DEFAULT_PRECISION) -> str:
    """All of `tracenn xor`: the first epoch step by step, then the result."""
    steps = [entry_text(s, run.labels, fmt, precision) for s in run.first_epoch]
    return "\n".join(steps + [xor_result_text(run, fmt, precision)])


def verification_tables(result, precision: int = DEFAULT_PRECISION) -> list:
    """verify's tables: the gradients three ways, the update rule, the identities and, with
    dps, the high-precision recomputation."""
    tables = [gradient_table(result.step, result.gradients, precision)]
    if result.updates:
        tables.append(update_check_table(result.step, result.updates, precision))
    tables.append(identity_table(result.identities))
    if result.precision is not None:
        tables.append(precision_table(result.precision, result.dps))
    return tables


def verification_verdict(result) -> str:
    return "All checks pass." if result.ok else f"FAILED: {', '.join(result.failed)}"


def verification_text(result, fmt: str = FORMAT, precision: int = DEFAULT_PRECISION) -> str:
    """All of `tracenn verify`: its tables and the verdict."""
    return (format_tables(verification_tables(result, precision), fmt) + "\n\n"
            + markup(verification_verdict(result), fmt))


def comparison_text(result, precision: int = DEFAULT_PRECISION) -> str:
    """All of `tracenn compare`'s report."""
    return render_comparison(result, precision)
