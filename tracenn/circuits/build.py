"""From what the user wrote to a checked circuit trace: an expression, a program file, or
(neuron.py) a network's neuron."""

from __future__ import annotations

from pathlib import Path

from ..errors import CircuitError
from .backward import run_backward
from .parse import parse_circuit
from .trace import CircuitTrace


def read_program(path: str | Path) -> str:
    """The text of a program file, or a CircuitError naming what went wrong."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CircuitError(f"{path}: cannot read it ({exc.__class__.__name__}: "
                           f"{getattr(exc, 'strerror', None) or exc})") from None


def trace_circuit(text: str, values: dict[str, float] | None = None, *,
                  source: str = "expression", output: str | None = None,
                  verify: bool = True) -> CircuitTrace:
    """Parse, run forward and backward, and (with `verify`) check with SymPy and a central
    difference."""
    trace = run_backward(parse_circuit(text, dict(values or {}), source=source, output=output))
    if verify:
        from .check import check_circuit

        trace.check = check_circuit(trace)
    return trace


def is_program_path(target: str) -> bool:
    """A target naming a program file: ends in .py (it must then exist)."""
    return str(target).endswith(".py") and "\n" not in str(target)
