"""The classic mistakes of backprop on a circuit, each one object that makes its mistake in the
backward pass (backward.run_backward(trace, mistake)) — so `tracenn graph --mistake NAME` can
show the wrong gradients it produces and `compare` can recognise them in a learner's numbers.

The four are the ones CS231n's notes on backprop warn about ("Patterns in backward flow",
"Gradients add up at forks") and micrograd's lecture shows going wrong:
  fork-overwritten   a value used twice: its gradient is overwritten by the last use instead of
                     added up (micrograd's `self.grad = …` instead of `self.grad += …`)
  mul-not-swapped    a mul gate gives each input its own value as local derivative, not the
                     other input's (∂(u·v)/∂u taken as u instead of v)
  max-to-both        a max (or min) gate sends the gradient to both inputs instead of routing it
                     to the larger (smaller) one only
  no-upstream        the local derivative is sent on as the gradient, not multiplied by the
                     gradient arriving from above (the chain rule's upstream factor left out)
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from ..errors import CircuitError


@dataclass(frozen=True)
class CircuitMistake:
    """One classic mistake: how it changes a gate's local derivatives, whether the upstream
    gradient still multiplies them (`upstream`) and whether a fork adds (`adds`)."""

    name: str
    title: str
    explanation: str
    swaps: tuple[str, ...] = ()  # ops whose two local derivatives are exchanged
    routes_both: tuple[str, ...] = ()  # ops whose local derivatives become 1 and 1
    upstream: bool = True
    adds: bool = True

    def local(self, op: str, values: list[float], right: tuple) -> tuple:
        """The local derivatives this mistake uses at a gate `op` with inputs `values`."""
        if op in self.swaps:
            return tuple(reversed(right))
        if op in self.routes_both:
            return (1.0, 1.0)
        return tuple(right)

    def formulas(self, op: str, labels: list[str], right: list[str]) -> list[str]:
        """The local derivatives' formulas as this mistake writes them."""
        if op in self.swaps:
            return list(reversed(right))
        if op in self.routes_both:
            return ["1", "1"]
        return list(right)


MISTAKES = {m.name: m for m in (
    CircuitMistake(
        "fork-overwritten", "gradient not accumulated at a fork",
        "a value read by more than one gate (or twice by one, as x*x) gets the sum of the "
        "gradients every use sends back; here each new one overwrote the one before",
        adds=False),
    CircuitMistake(
        "mul-not-swapped", "mul gate's inputs not swapped",
        "∂(u·v)/∂u = v: a mul gate sends each input the upstream gradient times the OTHER "
        "input's value; here each input got its own value", swaps=("mul",)),
    CircuitMistake(
        "max-to-both", "max gate's gradient sent to both inputs",
        "a max (min) gate routes the whole gradient to the input that won, and 0 to the "
        "other; here both inputs got it", routes_both=("max", "min")),
    CircuitMistake(
        "no-upstream", "local derivative used without the upstream factor",
        "the chain rule: downstream = local derivative × upstream gradient; here the local "
        "derivative was passed on alone", upstream=False),
)}


def mistake_named(name: str) -> CircuitMistake:
    """The mistake of this name, or a CircuitError listing the names there are."""
    try:
        return MISTAKES[name]
    except KeyError:
        raise CircuitError(f"no circuit mistake named {name!r}; the mistakes are: "
                           + ", ".join(MISTAKES)) from None


def with_mistake(trace, mistake: CircuitMistake):
    """A copy of a traced circuit whose backward pass makes `mistake` on purpose (its check
    dropped: the gradients are meant to be wrong)."""
    from .backward import run_backward

    wrong = copy.deepcopy(trace)
    wrong.check, wrong.bridge = None, None
    wrong.notes = [f"This backward pass makes a mistake on purpose — {mistake.title}: "
                   f"{mistake.explanation}."]
    wrong.source = f"{trace.source} with the mistake {mistake.name}"
    if not mistake.upstream:
        wrong.rule = "local (upstream not multiplied)"
    return run_backward(wrong, mistake)


def mistaken_grads(trace, mistake: CircuitMistake) -> dict[str, float]:
    """Every node's gradient (by id) as the mistake computes it."""
    wrong = with_mistake(trace, mistake)
    return {n.id: n.grad for n in (*wrong.inputs, *wrong.gates)}
