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


def graph(target, values: dict[str, float] | None = None, *, output: str | None = None,
          neuron: str | None = None, step: int = 1, verify: bool = True,
          **more_values: float) -> CircuitTrace:
    """A scalar expression, a program file (FILE.py) or, with `neuron`, one neuron of a spec's
    step, traced gate by gate: forward values, the backward pass with each local derivative,
    the gradient of every input, checked with SymPy and a central difference (`verify`).
    Input values as `values` and/or keywords: graph("(x + y) * z", x=-2, y=5, z=-4)."""
    from ..spec import PRESETS, Spec, load_spec

    values = {**(values or {}), **more_values}
    is_spec = isinstance(target, Spec) or str(target) in PRESETS or str(target).endswith(".toml")
    if neuron is not None:
        if not is_spec:
            raise CircuitError(f"--neuron {neuron}: give a spec (mazur, xor, softmax or a "
                               "SPEC.toml) whose neuron to write as a circuit")
        if values:
            raise CircuitError("--neuron takes its values from the network's trace; leave out "
                               "--at")
        from .neuron import neuron_circuit

        spec = target if isinstance(target, Spec) else load_spec(target)
        return neuron_circuit(spec, neuron, step, verify=verify)
    if is_spec:
        raise CircuitError(f"{getattr(target, 'source', target)} is a network: give --neuron "
                           "NAME to see one of its neurons as a circuit")
    if is_program_path(target):
        return trace_circuit(read_program(target), values, source=str(target), output=output,
                             verify=verify)
    return trace_circuit(str(target), values, output=output, verify=verify)
