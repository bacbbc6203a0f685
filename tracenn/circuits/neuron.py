"""One neuron of a network's step written as a circuit — the bridge from gates to layers.

For neuron j of layer l the circuit computes, for each sample of the step, the products
w_jk·a_k, their sum, the bias, the activation, and then:
- for an output neuron, the loss terms it feeds: its own E_k (element-wise activations) or
  every term (softmax, whose outputs all depend on z_j, the other neurons' z fed in as
  numbers); with n samples, E = (1/n) Σ_s E_s, the batch mean the engine uses;
- for a hidden neuron, E′ = (1/n) Σ_s g_s·out_s, where g_s = ∂E/∂out of that sample is fed in
  from the network's trace (the gradient arriving from the layer above): E′ has the same
  gradient as E with respect to everything below the neuron's output.

The circuit's gradients are then set beside the trace's: δ_j = n·∂E/∂net (δ is per sample in
the trace), ∂E/∂w_jk and ∂E/∂b_j (a bias shared by the layer collects every neuron's share, so
the circuit shows only this neuron's).  Names are the spec's display names made into Python
names (W2[1,2] → W2_1_2); with several samples, per-sample names end in _s1, _s2, ….
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from ..errors import CircuitError, UnsupportedError
from .build import trace_circuit
from .trace import CircuitTrace

TOLERANCE = 1e-12
ACTIVATION_CALL = {"sigmoid": "sigmoid({})", "tanh": "tanh({})", "relu": "relu({})",
                   "identity": "{}"}
LOSS_TERM = {  # E_k written with the target t and the output a
    "half-sse": "0.5 * ({t} - {a})**2", "sse": "({t} - {a})**2",
    "mse": "({t} - {a})**2 / {K}", "cross-entropy": "-({t} * log({a}))",
    "binary-cross-entropy": "-({t} * log({a}) + (1 - {t}) * log(1 - {a}))",
}


@dataclass
class BridgeRow:
    quantity: str  # the network trace's display name: delta_o1, dE/dw5, net_o1
    circuit: str  # how the circuit gets it: "∂E/∂net_o1", "value of out_o1"
    circuit_value: float
    trace_value: float
    ok: bool


@dataclass
class NeuronBridge:
    neuron: str
    layer: int
    step: int
    samples: int
    rows: list[BridgeRow] = field(default_factory=list)
    tolerance: float = TOLERANCE

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    def to_json(self) -> dict:
        return {**asdict(self), "ok": self.ok}


def ident(name: str) -> str:
    """A display name as a Python name: W2[1,2] → W2_1_2, dE/dout_h1 → dE_dout_h1."""
    text = re.sub(r"\W+", "_", name).strip("_")
    return text if text and not text[0].isdigit() else f"q_{text}"


def find_neuron(labels, name: str) -> tuple[int, int]:
    """(layer l = 1..L, index j) of the neuron called `name`."""
    for l, names in enumerate(labels.neurons, start=1):
        if name in names:
            return l, names.index(name)
    every = ", ".join(n for names in labels.neurons for n in names)
    raise CircuitError(f"--neuron {name}: no such neuron; the network's neurons are {every}")


class _Writer:
    """The program's lines and its input values, written sample by sample."""

    def __init__(self, step, l: int, j: int):
        self.step, self.l, self.j = step, l, j
        self.labels, self.layer = step.labels, step.layers[l - 1]
        self.n = self.layer.a_in.shape[0]
        self.lines: list[str] = []
        self.values: dict[str, float] = {}

    def s(self, name: str, s: int) -> str:
        return ident(name) + (f"_s{s + 1}" if self.n > 1 else "")

    def given(self, name: str, value) -> str:
        self.values[name] = float(value)
        return name

    def net(self, s: int, j: int) -> str:
        """Writes net_j of sample s from its weights, inputs and bias; returns its name."""
        lab, layer, l = self.labels, self.layer, self.l
        terms = []
        for k, w_name in enumerate(lab.weights[l - 1][j]):
            w = self.given(ident(w_name), layer.W[j, k])
            a = self.given(self.s(lab.out(l - 1, k), s), layer.a_in[s, k])
            terms.append(f"{w} * {a}")
        b_names = lab.biases[l - 1]
        shared = len(b_names) == 1 and len(lab.weights[l - 1]) > 1
        b = self.given(ident(b_names[0 if shared else j]), layer.b[0 if shared else j])
        net = self.s(lab.net(l, j), s)
        self.lines.append(f"{net} = {' + '.join(terms)} + {b}")
        return net

    def activation(self, s: int, net: str) -> str:
        name = self.layer.activation
        if name not in ACTIVATION_CALL:
            raise UnsupportedError(f"--neuron: a {name} layer is not written as a circuit; "
                                   f"the activations it writes are {', '.join(ACTIVATION_CALL)}"
                                   " and softmax (output layer)")
        out = self.s(self.labels.out(self.l, self.j), s)
        self.lines.append(f"{out} = {ACTIVATION_CALL[name].format(net)}")
        return out


def neuron_program(step, l: int, j: int, loss: str) -> tuple[str, dict[str, float], list[str]]:
    """The neuron's circuit as a program, the values of its inputs, and notes."""
    w = _Writer(step, l, j)
    output_layer = l == len(step.layers)
    if w.layer.activation == "softmax" and not output_layer:
        raise UnsupportedError("--neuron: a softmax hidden layer is not written as a circuit")
    if output_layer and loss not in LOSS_TERM:
        raise UnsupportedError(f"--neuron: the loss {loss} is not written as a circuit; the "
                               f"losses it writes are {', '.join(LOSS_TERM)}")
    terms = []
    for s in range(w.n):
        net = w.net(s, j)
        if not output_layer:
            out = w.activation(s, net)
            g = w.given(w.s(f"dE/d{w.labels.out(l, j)}", s), w.layer.dE_da[s, j])
            terms.append(f"{g} * {out}")
        else:
            terms.append(_loss_terms(w, s, net, loss))
    total = " + ".join(terms) if len(terms) == 1 else f"({' + '.join(terms)}) / {w.n}"
    if not re.fullmatch(r"\w+", total):  # one loss term alone is the output already
        w.lines.append(f"{'E' if output_layer else 'E_seen'} = {total}")
    return "\n".join(w.lines) + "\n", w.values, _notes(w, output_layer, loss)


def _loss_terms(w: _Writer, s: int, net: str, loss: str) -> str:
    """Writes the output activation and the loss terms that depend on neuron j."""
    lab, layer, K = w.labels, w.layer, w.layer.W.shape[0]
    if layer.activation == "softmax":
        exps = []
        for k in range(K):
            z = net if k == w.j else w.given(w.s(lab.net(w.l, k), s), layer.z[s, k])
            e = w.s("exp_" + lab.neurons[w.l - 1][k], s)
            w.lines.append(f"{e} = exp({z})")
            exps.append(e)
        total = w.s("sum_exp", s)
        w.lines.append(f"{total} = {' + '.join(exps)}")
        outs = []
        for k in range(K):
            outs.append(w.s(lab.out(w.l, k), s))
            w.lines.append(f"{outs[-1]} = {exps[k]} / {total}")
        ks = range(K)
    else:
        outs = {w.j: w.activation(s, net)}
        ks = [w.j]
    parts = []
    for k in ks:
        t = w.given(w.s("t_" + lab.neurons[-1][k], s), w.step.t[s, k])
        term = w.s(lab.error(k), s)
        w.lines.append(f"{term} = " + LOSS_TERM[loss].format(t=t, a=outs[k], K=K))
        parts.append(term)
    return " + ".join(parts)


def _notes(w: _Writer, output_layer: bool, loss: str) -> list[str]:
    lab, l, j = w.labels, w.l, w.j
    name = lab.neurons[l - 1][j]
    notes = []
    if not output_layer:
        notes.append(f"{name} is a hidden neuron: ∂E/∂{lab.out(l, j)} is fed in from the "
                     f"network's trace (Σ_k δ_k·w_k{name} from the layer above), and the "
                     f"circuit's output E_seen = ∂E/∂{lab.out(l, j)}·{lab.out(l, j)} has E's "
                     "gradient with respect to everything below the neuron's output")
    elif w.layer.activation != "softmax" and w.layer.W.shape[0] > 1:
        notes.append(f"only the loss term of {name} is written: the other outputs' terms do not "
                     f"depend on {name}'s weights")
    if w.n > 1:
        notes.append(f"the step has {w.n} samples: E is their mean, the weights are read by "
                     "every sample (their gradients accumulate), and δ = n·∂E/∂net per sample")
    return notes


def neuron_circuit(spec, neuron: str, step: int = 1, *, verify: bool = True) -> CircuitTrace:
    """The circuit of `neuron` at step `step` of the spec's trace, traced, checked and set
    beside the network trace's δ and ∂E/∂w (`trace.bridge`)."""
    from ..runs import trace_one_step

    traced = trace_one_step(spec, step)
    l, j = find_neuron(traced.labels, neuron)
    text, values, notes = neuron_program(traced, l, j, spec.network.loss.name)
    name = spec.source.removeprefix("preset ")
    trace = trace_circuit(text, values, source=f"{name} --neuron {neuron} --step {step}",
                          verify=verify)
    trace.notes += notes
    trace.bridge = bridge(trace, traced, l, j)
    return trace


def bridge(trace: CircuitTrace, step, l: int, j: int) -> NeuronBridge:
    """The circuit's gradients beside the network trace's, each within TOLERANCE (relative to
    max(1, |value|))."""
    lab, layer = step.labels, step.layers[l - 1]
    n = layer.a_in.shape[0]
    suffix = (lambda s: f"_s{s + 1}") if n > 1 else (lambda s: "")
    at = (lambda name, s: lab.sample(name, s, n))
    out = NeuronBridge(lab.neurons[l - 1][j], l, step.step, n)

    def row(quantity, circuit, circuit_value, trace_value):
        ok = bool(abs(circuit_value - trace_value) <= TOLERANCE * max(1.0, abs(trace_value)))
        out.rows.append(BridgeRow(quantity, circuit, circuit_value, float(trace_value), ok))

    for s in range(n):
        net = trace.labelled(ident(lab.net(l, j)) + suffix(s))
        outs = trace.labelled(ident(lab.out(l, j)) + suffix(s))
        row(at(lab.net(l, j), s), f"value of {net.label}", net.value, layer.z[s, j])
        row(at(lab.out(l, j), s), f"value of {outs.label}", outs.value, layer.a[s, j])
        row(at(lab.delta(l, j), s), f"{n}·∂E/∂{net.label}" if n > 1 else f"∂E/∂{net.label}",
            n * net.grad, layer.delta[s, j])
    for k, w_name in enumerate(lab.weights[l - 1][j]):
        row(lab.grad(w_name), f"∂E/∂{ident(w_name)}", trace.grads[ident(w_name)],
            layer.grad_W[j, k])
    b_names = lab.biases[l - 1]
    if len(b_names) == len(lab.weights[l - 1]):  # a bias of its own: its gradient is δ's mean
        row(lab.grad(b_names[j]), f"∂E/∂{ident(b_names[j])}", trace.grads[ident(b_names[j])],
            layer.grad_b[j])
    else:
        trace.notes.append(f"{b_names[0]} is shared by the layer: ∂E/∂{b_names[0]} in the "
                           f"trace sums every neuron's share; the circuit shows "
                           f"{out.neuron}'s, {trace.grads[ident(b_names[0])]:.9f}")
    return out
