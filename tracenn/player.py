"""What the step player plays: a traced run, with every few steps in full and the loss of the
others, and — computed by the engine, not by the page — the network's output over the input
plane after each step kept in full, for a network with two inputs (XOR's picture of how the
plane is split), and the loss over the whole training set after it.

Renderers get this as plain data (render/html.py writes the page); the forward passes over the
plane go through engine.network.Network.output with the step's updated weights.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .engine.loop import FULL, NONE, SUMMARY
from .record.trace import Step, StepSummary
from .runs import iter_trace
from .spec import Spec

FULL_STEPS = 200  # pictures (a full step's samples) kept by default: a long run, a small page
CURVE_POINTS = 1000  # at most this many losses on the curve
PLANE_SIZE = 33  # points per side of the grid over the input plane
PLANE_PAD = 0.1  # the plane reaches this fraction of the data's span beyond it


@dataclass
class Plane:
    """The network's output on a size × size grid over x1 (left to right, `x`) and x2 (top to
    bottom, from y[1] down to y[0]), after each step kept in full: (size², n_outputs) arrays."""

    x: tuple[float, float]
    y: tuple[float, float]
    size: int
    outputs: dict[int, np.ndarray] = field(default_factory=dict)

    def grid(self) -> np.ndarray:
        """The grid's points, (size², 2), row by row from the top."""
        xs = np.linspace(self.x[0], self.x[1], self.size)
        ys = np.linspace(self.y[1], self.y[0], self.size)
        gx, gy = np.meshgrid(xs, ys)
        return np.column_stack([gx.ravel(), gy.ravel()])


@dataclass
class PlayerRun:
    spec: Spec
    entries: list[Step | StepSummary]  # in order of step, as the JSON trace has them
    total_steps: int
    every: int
    plane: Plane | None

    @property
    def steps(self) -> list[Step]:
        return [e for e in self.entries if isinstance(e, Step)]


def default_every(steps: int, batch: int = 1) -> int:
    """About FULL_STEPS pictures in all: a step of `batch` samples has one for each."""
    return max(1, -(-steps * batch // FULL_STEPS))


def policy(steps: int, every: int, per_epoch: int = 1):
    """Whole epochs of `per_epoch` steps: the first, the last and every `every`-th epoch in
    full, every sample of each (every `every`-th step would, in a fixed cycle, always hit the
    same samples); enough other whole epochs as summaries for a loss curve of at most
    CURVE_POINTS points.  With full batch an epoch is a step."""
    per = max(1, per_epoch)
    last = -(-steps // per)
    thin = max(1, -(-last * per // CURVE_POINTS))

    def show(step: int) -> int:
        epoch = (step - 1) // per + 1
        if epoch == 1 or epoch == last or epoch % every == 0:
            return FULL
        return SUMMARY if epoch % thin == 0 else NONE

    return show


def plane_for(spec: Spec, size: int = PLANE_SIZE) -> Plane | None:
    """The grid over the data's two inputs, for a network with two inputs trained on several
    samples whose output is one number or a softmax over classes (None otherwise)."""
    X, out = spec.data.X, spec.network.layers[-1]
    if X.shape[1] != 2 or len(X) < 2 or not (out.W.shape[0] == 1 or out.activation.name == "softmax"):
        return None
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = np.where(hi > lo, (hi - lo) * PLANE_PAD, 1.0)
    lo, hi = lo - pad, hi + pad
    return Plane((float(lo[0]), float(hi[0])), (float(lo[1]), float(hi[1])), size)


def play(spec: Spec, steps: int, *, every: int | None = None, lr: float | None = None,
         mistakes=(), progress=None, **optimizer) -> PlayerRun:
    """Train `spec` for `steps` updates and collect what the player shows; `progress(step)` is
    called for each step kept."""
    every = every or default_every(steps, spec.batch_size)
    plane = plane_for(spec)
    grid = plane.grid() if plane is not None else None
    loss = spec.network.loss
    entries = []
    for entry in iter_trace(spec, steps=steps, show=policy(steps, every, spec.steps_per_epoch),
                            lr=lr, mistakes=mistakes, **optimizer):
        entries.append(entry)
        if progress is not None:
            progress(entry.step)
        if isinstance(entry, Step) and plane is not None:
            plane.outputs[entry.step] = entry.network(loss, after=True).output(grid)
    return PlayerRun(spec, entries, steps, every, plane)
