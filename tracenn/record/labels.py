"""Display names of a network's quantities: one scheme, used by the tables, the JSON trace, the
step lookup (`step["delta_o1"]`), `compare`, the walkthrough and the drawings.

With neuron names on every layer (Mazur's style, `blog`), neuron h1 has net input `net_h1`,
output `out_h1`, delta `delta_h1` and error `E_h1`, and the loss is `E_total`.  Otherwise names
are indexed: inputs x1.., neurons n2[1] (layer 2, neuron 1), weights W2[1,2] (layer 2, neuron 1,
input 2), biases b2[1], and z2[1], a2[1], delta2[1], E[1], E.  Derived names:
`dE/d<name>` is a gradient (dE/dout_h1, dE/dw5), `<param>+` a parameter after the update,
`m_w5`, `v_w5`, `mhat_w5`, `vhat_w5`, `velocity_w5`, `g_w5` an optimizer's state or term of a
parameter (`m_w5 before`: from the step before), and with several samples in a step a
per-sample quantity ends in `@s` (out_h1@2).
"""

from __future__ import annotations

from dataclasses import dataclass

# How an optimizer's state and terms are named in a step: m_w5, mhat_w5, velocity_w5.
STATE_PREFIX = {"m_hat": "mhat", "v_hat": "vhat"}


@dataclass
class Labels:
    """Names of inputs, neurons, weights and biases, and the quantities derived from them."""

    inputs: list[str]
    neurons: list[list[str]]  # [layer l-1][j]
    weights: list[list[list[str]]]  # [layer l-1][j][k]
    biases: list[list[str]]  # [layer l-1][j], one name when the bias is shared
    blog: bool = False

    def net(self, l: int, j: int) -> str:
        return f"net_{self.neurons[l - 1][j]}" if self.blog else f"z{l}[{j + 1}]"

    def out(self, l: int, j: int) -> str:
        if l == 0:
            return self.inputs[j]
        return f"out_{self.neurons[l - 1][j]}" if self.blog else f"a{l}[{j + 1}]"

    def delta(self, l: int, j: int) -> str:
        return f"delta_{self.neurons[l - 1][j]}" if self.blog else f"delta{l}[{j + 1}]"

    def error(self, k: int) -> str:
        return f"E_{self.neurons[-1][k]}" if self.blog else f"E[{k + 1}]"

    @property
    def total(self) -> str:
        return "E_total" if self.blog else "E"

    @property
    def after(self) -> str:
        """The loss after the update, on the same samples."""
        return f"{self.total} after"

    @staticmethod
    def target(k: int) -> str:
        return f"t{k + 1}"

    @staticmethod
    def grad(name: str) -> str:
        """The gradient of the loss by a quantity or parameter: dE/dw5, dE/dout_h1."""
        return f"dE/d{name}"

    @staticmethod
    def new(param: str) -> str:
        """A parameter after the update: w5+."""
        return f"{param}+"

    @staticmethod
    def state(key: str, param: str, before: bool = False) -> str:
        """An optimizer's quantity of a parameter: m_w5, vhat_w5, velocity_w5, g_w5 (the
        gradient with weight decay); `before`: its value from the step before, "m_w5 before"."""
        name = f"{STATE_PREFIX.get(key, key)}_{param}"
        return f"{name} before" if before else name

    @staticmethod
    def sample(name: str, s: int, n: int) -> str:
        """`name` of sample s (0-based) in a step of n samples: out_h1@2, or out_h1 alone."""
        return f"{name}@{s + 1}" if n > 1 else name

    def parameters(self):
        """(l, kind, j, k, name) for every weight (kind "W") and bias (kind "b", k None), layer by
        layer (l = 1..L), weights then biases: the one walk over a network's parameters."""
        for l, (w_rows, b_names) in enumerate(zip(self.weights, self.biases), start=1):
            for j, row in enumerate(w_rows):
                for k, name in enumerate(row):
                    yield l, "W", j, k, name
            for j, name in enumerate(b_names):
                yield l, "b", j, None, name

    def parameter_names(self) -> list[str]:
        """All weight and bias names, in network order (layer by layer, weights then biases)."""
        return [p[-1] for p in self.parameters()]

    def source(self, l: int, k: int) -> str:
        """The unit that input k of layer l comes from, as an edge label shows it (i1, h1)."""
        return self.out(l - 1, k) if l == 1 else self.neurons[l - 2][k]

    @classmethod
    def indexed(cls, sizes: list[int], shared: list[bool] | None = None) -> "Labels":
        """Indexed names for a network of these sizes: x1.., n2[1].., W2[1,2], b2[1]; a bias
        shared by its layer's neurons (`shared[l-1]`) is b2.  These are the names a spec file
        gets when it gives none (spec/reader.py), and the ones its writer leaves out."""
        layers = range(1, len(sizes))
        shared = shared or [False] * (len(sizes) - 1)
        return cls(
            inputs=[f"x{k + 1}" for k in range(sizes[0])],
            neurons=[[f"n{l}[{j + 1}]" for j in range(sizes[l])] for l in layers],
            weights=[
                [[f"W{l}[{j + 1},{k + 1}]" for k in range(sizes[l - 1])] for j in range(sizes[l])]
                for l in layers
            ],
            biases=[[f"b{l}"] if shared[l - 1] else [f"b{l}[{j + 1}]" for j in range(sizes[l])]
                    for l in layers],
        )
