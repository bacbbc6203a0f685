"""What a worksheet asks: groups of quantities (the forward pass, the error, the deltas, …) or
single quantities by name, always in the order backprop computes them.

Updates and gradients of a frozen bias (Mazur's b1, b2) are never asked by a group: the bias
keeps its value, and the blog computes neither.  ∂E/∂x at the inputs (CS231n asks for it) is a
group of its own, not part of a full step.
"""

from __future__ import annotations

import re

from ..errors import OptionError
from ..record.trace import Q, Step

GROUPS = {
    "forward": "the forward pass: every net input and output",
    "error": "the error of each output and the total",
    "output-deltas": "∂E/∂out and δ of the output layer",
    "hidden-deltas": "∂E/∂out and δ of the hidden layers",
    "input-gradients": "∂E/∂x, the gradient at each input",
    "gradients": "∂E/∂w and ∂E/∂b of every parameter that is updated",
    "updates": "every parameter after the update",
    "error-after": "the total error after the update",
}
FULL_STEP = ("forward", "error", "output-deltas", "hidden-deltas", "gradients", "updates",
             "error-after")

_ITEMS = re.compile(r",(?![^\[]*\])")  # commas that separate items, not those inside W2[1,2]


def group_of(step: Step, q: Q) -> str:
    """The --ask group a quantity belongs to."""
    if q.stage == "delta":
        if q.kind == "dE_dx":
            return "input-gradients"
        return "output-deltas" if q.l == len(step.layers) else "hidden-deltas"
    return {"forward": "forward", "loss": "error", "gradient": "gradients",
            "update": "updates", "after": "error-after"}[q.stage]


def frozen(step: Step, q: Q) -> bool:
    """A gradient or update of a bias that the step does not update."""
    return q.kind in ("grad_b", "new_b") and not step.layers[q.l - 1].bias_trainable


def split_ask(text: str) -> list[str]:
    """`forward,w5,delta_h1` as items (a comma inside W2[1,2] stays with its name)."""
    return [item.strip() for item in _ITEMS.split(text) if item.strip()]


def asked(step: Step, items, canonical) -> list[str]:
    """The names asked by `items` (groups and names), in computation order.  `canonical(name)`
    gives a quantity's name as the trace spells it, or None.  Raises OptionError."""
    groups, names = set(), set()
    for item in items:
        if item in GROUPS:
            groups.add(item)
            continue
        name = canonical(item)
        if name is None:
            examples = ", ".join(q.name for q in list(step.quantities())[:3])
            raise OptionError(f"--ask: {item!r} is neither a group ({', '.join(GROUPS)}) nor a "
                              f"quantity of this network (names look like {examples}, …)")
        names.add(name)
    out = [q.name for q in step.quantities()
           if q.name in names or (group_of(step, q) in groups and not frozen(step, q))]
    if not out:
        raise OptionError("--ask: nothing to ask (the groups given hold no quantity of this "
                          "network)")
    return out
