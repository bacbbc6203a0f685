"""What a walkthrough explains: one step of a spec with every quantity and its formula, and what
each catalogued mistake would have changed (the engine run again with it switched on).  Plain
data; render/markdown.py writes the document."""

from __future__ import annotations

from dataclasses import dataclass

from .comparison import compare
from .errors import TrainingDiverged
from .maths.quantities import StepQuantities
from .record.trace import Step
from .runs import description, each_mistake, trace_one_step
from .spec import PRESETS, Spec

SHIPPED = PRESETS  # the walkthroughs kept under walkthroughs/ in the repository


@dataclass
class MistakeEffect:
    name: str
    description: str
    first: str | None  # the first quantity that changes, or None when nothing changes
    wrong: float | None
    right: float | None
    loss_after_wrong: float | None  # None when the run diverges
    diverged: str = ""


@dataclass
class Walkthrough:
    target: str  # how the spec was named: a preset or a path
    spec: Spec
    step: Step
    quantities: StepQuantities
    mistakes: list[MistakeEffect]

    @property
    def shipped(self) -> bool:
        """Whether this is one of the walkthroughs kept (and tested) in the repository."""
        return self.target in SHIPPED


def collect(spec: Spec, target: str, step_no: int = 1, **options) -> Walkthrough:
    """Step `step_no` of `spec` and the effect of each catalogued mistake on it.  `options` are
    the tracing options (lr=, optimizer=, …).  Raises TrainingDiverged."""
    step = trace_one_step(spec, step_no, **options)
    right = StepQuantities(step, spec.network.loss)
    effects = []
    for name, wrong_step in each_mistake(spec, step_no, **options):
        if isinstance(wrong_step, TrainingDiverged):
            effects.append(MistakeEffect(name, description(name), None, None, None, None,
                                         str(wrong_step)))
            continue
        first = compare(right, wrong_step.values(), [], 1e-12).first
        effects.append(MistakeEffect(
            name, description(name), first.name if first else None, first.yours if first else None,
            first.right if first else None, wrong_step.loss_after))
    return Walkthrough(target, spec, step, right, effects)
