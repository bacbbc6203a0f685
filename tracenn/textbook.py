"""What a walkthrough explains: one step of a spec with every quantity and its formula, and what
each catalogued mistake would have changed (the engine run again with it switched on).  Plain
data; render/markdown.py writes the document."""

from __future__ import annotations

from dataclasses import dataclass, field

from .comparison import compare
from .errors import TrainingDiverged
from .maths.quantities import StepQuantities
from .record.trace import Step
from .runs import (description, each_mistake, iter_trace, mistakes_for, mistakes_not_for,
                   trace_one_step)
from .spec import Spec

# The walkthroughs kept under walkthroughs/ in the repository (tests/regenerate.py writes them
# and the golden tests check them): file name → the command that makes it.
SHIPPED = {
    "mazur": "tracenn walkthrough mazur",
    "xor": "tracenn walkthrough xor",
    "softmax": "tracenn walkthrough softmax",
    "adam": "tracenn walkthrough mazur --steps 3 --lr 0.01 --optimizer adam",
}
FLAGS = {"seed": "--seed", "lr": "--lr", "optimizer": "--optimizer", "momentum": "--momentum",
         "beta1": "--beta1", "beta2": "--beta2", "epsilon": "--eps", "alpha": "--alpha",
         "weight_decay": "--weight-decay"}


def flags(*, step: int = 1, steps: int | None = None, update_biases: bool = False,
          **options) -> str:
    """The command-line flags that give these tracing options, in one fixed order
    (" --steps 3 --lr 0.01 --optimizer adam"): how a document says how it was made."""
    out = [f"--steps {steps}"] if steps else ([f"--step {step}"] if step != 1 else [])
    out += ["--update-biases"] if update_biases else []
    for key, flag in FLAGS.items():
        value = options.get(key)
        if value is not None:
            out.append(f"{flag} {value if isinstance(value, str) else format(value, 'g')}")
    return "".join(f" {f}" for f in out)


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
    step: Step  # the step explained (the last, when several are)
    quantities: StepQuantities
    mistakes: list[MistakeEffect]
    earlier: list[StepQuantities] = field(default_factory=list)  # steps before it, shown too
    options: dict = field(default_factory=dict)  # the tracing options (lr, optimizer, …)
    command: str = ""  # the flags that made it, after the target (" --steps 3 --lr 0.01 …")
    cannot: list[tuple[str, str]] = field(default_factory=list)  # (mistake, why it changes nothing)

    @property
    def all_steps(self) -> list[StepQuantities]:
        return self.earlier + [self.quantities]

    @property
    def shipped(self) -> bool:
        """Whether this is one of the walkthroughs kept (and tested) in the repository."""
        return f"tracenn walkthrough {self.target}{self.command}" in SHIPPED.values()


def collect(spec: Spec, target: str, step_no: int = 1, *, steps: int | None = None,
            **options) -> Walkthrough:
    """Step `step_no` of `spec` (or steps 1..`steps`, each shown) and the effect of each
    catalogued mistake on the last one.  `options` are the tracing options (lr=, optimizer=,
    …).  Raises TrainingDiverged."""
    earlier = []
    if steps:
        shown = list(iter_trace(spec, steps=steps, **options))
        earlier = [StepQuantities(s, spec.network.loss) for s in shown[:-1]]
        step_no = steps
    step = trace_one_step(spec, step_no, **options)
    right = StepQuantities(step, spec.network.loss)
    cannot = mistakes_not_for(spec, step_no, walkthrough=True, **options)
    if earlier:
        effects = _effects_over_steps(spec, earlier + [right], **options)
        return Walkthrough(target, spec, step, right, effects, earlier, options, cannot=cannot)
    effects = []
    for name, wrong_step in each_mistake(spec, step_no, names=mistakes_for(
            spec, step_no, walkthrough=True, **options), **options):
        if isinstance(wrong_step, TrainingDiverged):
            effects.append(MistakeEffect(name, description(name, spec), None, None, None,
                                         None, str(wrong_step)))
            continue
        first = compare(right, wrong_step.values(), [], 1e-12).first
        effects.append(MistakeEffect(
            name, _described(name, spec, wrong_step.loss_after), first.name if first else None,
            first.yours if first else None, first.right if first else None, wrong_step.loss_after))
    return Walkthrough(target, spec, step, right, effects, earlier, options, cannot=cannot)


# Mazur's blog: E_total after the first update as its early script computed it, with w5..w8
# already updated when the hidden deltas were formed
BLOG_UPDATED_ERROR = 0.291027924


def _described(name: str, spec: Spec, loss_after_wrong: float | None) -> str:
    """The mistake in this network's terms; the blog's number named only where it comes out."""
    text = description(name, spec)
    if (name == "updated-weights" and loss_after_wrong is not None
            and round(loss_after_wrong, 9) == BLOG_UPDATED_ERROR):
        text += f" (the order that gives the blog's {BLOG_UPDATED_ERROR})"
    return text


def _effects_over_steps(spec: Spec, right: list[StepQuantities], **options) -> list[MistakeEffect]:
    """For a walkthrough of several steps: each mistake run over the same steps, and the first
    number that changes, step by step (a mistake in step 1 changes every step after it)."""
    steps = len(right)
    effects = []
    for name in mistakes_for(spec, steps, walkthrough=True, **options):
        try:
            wrong = list(iter_trace(spec, steps=steps, mistakes=(name,), **options))
        except TrainingDiverged as exc:
            effects.append(MistakeEffect(name, description(name, spec), None, None, None, None,
                                         str(exc)))
            continue
        first = None
        for qs, wrong_step in zip(right, wrong):
            found = compare(qs, StepQuantities(wrong_step, spec.network.loss).values(), [],
                            1e-12).first
            if found:
                first = found
                found.name = f"{found.name} (step {qs.step.step})"
                break
        effects.append(MistakeEffect(
            name, _described(name, spec, wrong[-1].loss_after), first.name if first else None,
            first.yours if first else None, first.right if first else None, wrong[-1].loss_after))
    return effects
