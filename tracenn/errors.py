"""The errors tracenn raises: one base class, `TracennError`, and a kind for each source of bad
input.  Every message is one line that names what was wrong and what is allowed, so the command
line can print it as it is (and exit with status 2); a notebook shows the same line.

The kinds also derive from the built-in exception a Python caller would expect (a bad spec is a
ValueError, a divergence an ArithmeticError), so `except ValueError` keeps working.
"""

from __future__ import annotations


class TracennError(Exception):
    """Base of every error tracenn raises on bad input or a failed run."""


class SpecError(TracennError, ValueError):
    """A spec (file, preset or TOML text) is wrong: names the source, the key and what was
    expected."""

    def __init__(self, source: str, key: str, message: str):
        where = f"{source}: {key}: " if key else f"{source}: "
        super().__init__(where + message)
        self.source, self.key = source, key


class ValuesError(TracennError, ValueError):
    """A learner's values (a file or a dict) cannot be used: names the file and what is wrong."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}")
        self.path = str(path)


class DataError(TracennError, ValueError):
    """A data file (MNIST) that cannot be used; the message names the file."""

    def __init__(self, path, message: str):
        super().__init__(f"{path}: {message}")
        self.path = str(path)


class TrainingDiverged(TracennError, ArithmeticError):
    """A value became NaN or infinite: says at which step, in which layer and which quantity."""

    FORWARD = ("z of", "a of", "the loss at")  # what the forward pass of a step computes

    def __init__(self, step: int, where: str, first: int | None = None):
        """`first`: the divergence was found by a check made every few steps, and happened
        in one of steps `first` to `step`."""
        if step == 1 and where.startswith(self.FORWARD) and "after the update" not in where:
            # nothing has been updated yet: the learning rate cannot be the cause
            hint = ("before any update: the initial weights or the inputs are too large for "
                    "float64; try smaller ones")
        else:
            hint = "try a smaller learning rate"
        at = f"step {step}" if first is None or first >= step else f"steps {first}–{step}"
        super().__init__(f"training diverged at {at}: {where} is no longer finite "
                         f"(NaN or overflow); {hint}")
        self.step = step
        self.first = step if first is None else first
        self.where = where


class OptionError(TracennError, ValueError):
    """An argument of an API call (or a command-line option) has a value that is not allowed:
    names the option, the value and what is allowed."""


class UnsupportedError(TracennError, ValueError):
    """Something tracenn cannot do for this input (a PyTorch module it does not know, a mistake
    that does not apply to the chosen optimizer, a network too large for the task)."""


class OutputError(TracennError, OSError):
    """Writing a result failed (a full disk, a closed pipe, a folder that cannot be written)."""


class CircuitError(TracennError, ValueError):
    """A circuit (`tracenn graph`) cannot be traced: a construct outside the allowed grammar
    (named with its line:column), a missing or unknown input value, a value outside a gate's
    domain."""
