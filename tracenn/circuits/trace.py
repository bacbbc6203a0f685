"""A circuit's trace as plain data: what `tracenn graph` prints, `--json` writes and a picture
draws.  Renderers read it; they never compute.

CircuitTrace (format 1) — field names are stable:
  format       1
  source       what was traced: "expression", a file's path, or "mazur --neuron o1 --step 1"
  program      the text that was parsed (the expression, or the program of assignments)
  inputs       [Node] the circuit's inputs (kind "input"), in the order first read
  constants    [Node] the numbers written in it (kind "constant"), in the order written
  gates        [Node] the gates (kind "gate") in topological order: a gate comes after every
               node it reads, so the last gate is the output
  output       the id of the output gate
  backward     [BackwardStep] one per gate, in reverse topological order (output first)
  grads        {input label: ∂output/∂input} — the gradient of every input
  notes        [str] what the reader should know: where gradients accumulate, max/min ties,
               gates left out because the output does not use them, the bridge to a network
  check        CircuitCheck or None (check.py): the whole gradient two independent ways
  bridge       NeuronBridge or None (neuron.py): a network neuron's δ and ∂E/∂w beside it

Node: one wire's source — an input, a constant or a gate.
  id       "i1", "k1", "g1", … (inputs, constants, gates); unique, never a user's name
  kind     "input" | "constant" | "gate"
  label    the name shown: the variable (x, q, c), c′ / c″ for a variable assigned again
           (`c += …`), the number for a constant (2.0), g3 for a gate no variable names
  value    its value in the forward pass (float)
  grad     ∂output/∂(this node): the sum of what every gate reading it sent back
  op       the gate's operation (ops.OPS: add sub mul div pow neg exp log tanh sigmoid relu
           abs sqrt max min); None for inputs and constants
  symbol   what a picture writes in the node (+, ×, σ, relu, …); "" for inputs and constants
  param    the fixed exponent of a pow gate; None otherwise
  args     ids of the nodes the gate reads, in order (the same id twice for x*x)
  text     the operation written with its inputs' labels: "x + y", "relu(c)", "b**3"
  line     the source line of the statement that made it (1-based), or None
  uses     ids of the gates that read this node

BackwardStep: what one gate does in the backward pass.
  gate      the gate's id
  upstream  ∂output/∂(the gate's value), the gradient arriving at the gate
  parts     [(gate id, amount)] the gates that sent `upstream` (empty for the output, which
            starts at 1); more than one means it was accumulated: upstream = Σ amounts
  locals    [Local] one per input of the gate
  note      "" or what happens here (a tie split ½/½, a gradient accumulating)

Local: the chain rule at one input of one gate.
  arg         id of the input node
  formula     SymPy's derivative of the gate's operation with respect to this input, written
              with the inputs' labels ("z", "1", "1 − tanh(c)²")
  local       its value (float, from the gate's own float formula in ops.py)
  downstream  local × upstream: the gradient this gate sends to that input
  total       that input's gradient after adding this one (so far, in backward order)
  accumulates True when the input had already received a gradient: total = before + downstream
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

FORMAT = 1


@dataclass
class Node:
    id: str
    kind: str
    label: str
    value: float
    grad: float = 0.0
    op: str | None = None
    symbol: str = ""
    param: float | None = None
    args: tuple[str, ...] = ()
    text: str = ""
    line: int | None = None
    uses: list[str] = field(default_factory=list)


@dataclass
class Local:
    arg: str
    formula: str
    local: float
    downstream: float
    total: float
    accumulates: bool = False


@dataclass
class BackwardStep:
    gate: str
    upstream: float
    parts: list[tuple[str, float]]
    locals: list[Local]
    note: str = ""


@dataclass
class CircuitTrace:
    source: str
    program: str
    inputs: list[Node]
    constants: list[Node]
    gates: list[Node]
    output: str
    backward: list[BackwardStep] = field(default_factory=list)
    grads: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    check: object | None = None  # check.CircuitCheck
    bridge: object | None = None  # neuron.NeuronBridge
    format: int = FORMAT
    rule: str = "local × upstream"  # how a downstream gradient was made (a mistake may drop
    #                                  a factor)

    def node(self, id: str) -> Node:
        """The node with this id (an input, a constant or a gate)."""
        return self._nodes()[id]

    def _nodes(self) -> dict[str, Node]:
        return {n.id: n for n in (*self.inputs, *self.constants, *self.gates)}

    def labelled(self, label: str) -> Node:
        """The node shown with this label (x, q, c′)."""
        for n in (*self.inputs, *self.gates):
            if n.label == label:
                return n
        raise KeyError(label)

    @property
    def value(self) -> float:
        """The output's value."""
        return self.node(self.output).value

    def compare(self, gradients, tolerance=None):
        """A learner's gradients — a dict {"dx": -4, …} or a file of `dx = -4` lines or JSON —
        against this trace: the first wrong one in backward order and the circuit mistake it
        matches (compare.py)."""
        from .compare import compare_circuit

        return compare_circuit(self, gradients, tolerance)

    def to_json(self) -> dict:
        data = asdict(self)
        data["check"] = self.check.to_json() if self.check is not None else None
        data["bridge"] = self.bridge.to_json() if self.bridge is not None else None
        return data

    def __str__(self) -> str:
        from .text import circuit_text

        return circuit_text(self)

    def _repr_html_(self) -> str:
        from ..render.notebook import circuit_html

        return circuit_html(self)
