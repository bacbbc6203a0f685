"""The chain view of a step (CS231n's circuit figures, micrograd's nodes): on each wire the
value flowing forward (▸, the output of the neuron it leaves) and the gradient flowing back
(◂, ∂E/∂w = δ · value); on each neuron its out and its δ with the numbers of δ's formula —
∂E/∂out · σ′, or out − t where the loss fuses the derivative (softmax or sigmoid with
cross-entropy), or the Jacobian's product for a softmax whose loss does not fuse it.

Every number is looked up in the trace (the layer's a, dE_da, da_dz, delta, grad_W); none is
computed here.
"""

from __future__ import annotations

from ..engine.functions import LOSSES
from ..record.labels import Labels
from .figure import Figure, _bias_text, _error_texts, _frame, _titles, num

TITLE = "the chain: on each wire ▸ the value forward, ◂ ∂E/∂w = δ · value backward"


def chain_figure(step, precision: int, sample: int = 0, title: str = "",
                 loss: str = "") -> Figure:
    """The chain view of `step` for sample `sample` (0-based in the step's batch)."""
    fig = Figure("chain", edge_quantity="∂E/∂w")
    lab, p, n, s = step.labels, precision, len(step.samples), sample
    _titles(fig, step, "backward", title, sample)
    fig.texts["title:1"] = fig.texts["title:1"].replace(
        "backward pass: δ of every neuron, ∂E/∂w on every edge", TITLE)
    _frame(fig, [(layer.name, layer.activation, layer.shared_bias) for layer in step.layers],
           loss, p, errors=True)
    for k, name in enumerate(lab.inputs):
        fig.put(f"in:{k}:0", name)
        fig.put(f"in:{k}:1", num(step.x[s, k], p), lab.sample(name, s, n))
    for l, layer in enumerate(step.layers, start=1):
        fused = l == len(step.layers) and (layer.da_dz is None or _fuses(loss, layer.activation))
        for j, neuron in enumerate(lab.neurons[l - 1]):
            _neuron(fig, step, l, j, layer, fused, p, s)
            fig.put(f"mh:{l}:{j}", f"into {neuron}")
        fig.put(f"mcap:{l}", f"edges into {layer.name} (▸ value forward, ◂ ∂E/∂w backward), "
                             "by the neuron they feed:")
        if layer.shared_bias:
            name = lab.biases[l - 1][0]
            fig.put(f"bias:{l}:0", name)
            _bias_text(fig, f"bias:{l}:1", name, layer, 0, "backward", p, prefix=True)
    _error_texts(fig, step, "backward", p, s)
    return fig


def _fuses(loss: str, activation: str) -> bool:
    """Whether `loss` after `activation` gives the output δ as out − t (the loss's own
    record of its fused forms, engine/functions.py)."""
    return loss in LOSSES and activation in LOSSES[loss].fused


def _neuron(fig: Figure, step, l: int, j: int, layer, fused: bool, p: int, s: int) -> None:
    lab, n = step.labels, len(step.samples)
    out_sym = "out" if lab.blog else "a"
    key = f"n:{l}:{j}"
    out, delta = lab.sample(lab.out(l, j), s, n), lab.sample(lab.delta(l, j), s, n)
    fig.put(f"{key}:0", lab.neurons[l - 1][j])
    fig.put(f"{key}:1", f"{out_sym} {num(layer.a[s, j], p)}", out)
    d = num(layer.delta[s, j], p)
    if fused:
        fig.put(f"{key}:2", f"δ = {out_sym} − t")
        fig.put(f"{key}:5", f"δ {d} = {num(layer.a[s, j], p)} − {num(step.t[s, j], p)}",
                delta, out)
    elif layer.da_dz is not None and layer.da_dz.ndim == 2:
        fig.put(f"{key}:2", f"δ = ∂E/∂{out_sym} · σ′")
        fig.put(f"{key}:5", f"δ {d} = {num(layer.dE_da[s, j], p)} · "
                            f"{num(layer.da_dz[s, j], p)}", delta, lab.grad(out))
    else:  # a softmax's Jacobian: each δ mixes every ∂E/∂a of the layer
        fig.put(f"{key}:2", f"δ = Σ ∂E/∂{out_sym}·∂{out_sym}/∂z")
        fig.put(f"{key}:5", f"δ {d}", delta)
    if not layer.shared_bias:
        _bias_text(fig, f"{key}:3", lab.biases[l - 1][j], layer, j, "backward", p, prefix=True)
    for k, w in enumerate(lab.weights[l - 1][j]):
        source = lab.sample(lab.out(l - 1, k), s, n)
        value = step.x[s, k] if l == 1 else step.layers[l - 2].a[s, k]
        fig.put(f"w:{l}:{j}:{k}", f"▸ {num(value, p)} ◂ {num(layer.grad_W[j, k], p)}",
                source, Labels.grad(w))
        fig.edges[f"w:{l}:{j}:{k}"] = float(layer.grad_W[j, k])
