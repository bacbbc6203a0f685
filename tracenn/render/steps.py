"""The tables of one training step: the forward pass, the error, each layer's backward pass
(output layer first, as backprop runs) and the error before and after the update.

Renderers only look values up and format them: every number shown was computed by the engine
and stored in the trace.
"""

from __future__ import annotations

from ..notation import num
from ..record.labels import Labels
from ..record.trace import LayerTrace, Step, StepSummary
from .tables import Table, format_tables


def step_tables(step: Step, precision: int, checks: dict | None = None) -> list[Table]:
    """The tables of one step.  With `checks` (parameter name → maths.verify.GradientRow), the
    backward tables get a PASS/FAIL column."""
    tables = [forward_table(step, precision), error_table(step, precision)]
    for l in range(len(step.layers), 0, -1):
        tables.append(backward_table(step, l, precision, checks))
    tables.append(before_after_table(step, precision))
    return tables


def _prefix(step: Step, s: int) -> list[str]:
    """The sample column's cell, for a step of several samples."""
    return [str(step.samples[s] + 1)] if len(step.samples) > 1 else []


def _sample_header(step: Step) -> list[str]:
    return ["sample"] if len(step.samples) > 1 else []


def net_formula(labels: Labels, l: int, j: int, n_in: int, shared: bool) -> str:
    """net = w·in + … + b in display names, for layers of at most four inputs."""
    if n_in > 4:
        return ""
    terms = [f"{labels.weights[l - 1][j][k]}·{labels.out(l - 1, k)}" for k in range(n_in)]
    bias = labels.biases[l - 1][0 if shared else j]
    return " + ".join(terms + [bias])


def forward_table(step: Step, p: int) -> Table:
    labels = step.labels
    show_formula = all(layer.W.shape[1] <= 4 for layer in step.layers)
    headers = _sample_header(step) + ["neuron", "net", "out"] + (["net ="] if show_formula else [])
    rows = []
    for s in range(len(step.samples)):
        pre = _prefix(step, s)
        for k, name in enumerate(labels.inputs):
            rows.append(pre + [name, "", num(step.x[s, k], p)] + ([""] if show_formula else []))
        for l, layer in enumerate(step.layers, start=1):
            for j, name in enumerate(labels.neurons[l - 1]):
                row = pre + [name, num(layer.z[s, j], p), num(layer.a[s, j], p)]
                if show_formula:
                    row.append(net_formula(labels, l, j, layer.W.shape[1], layer.shared_bias))
                rows.append(row)
    acts = ", ".join(f"{l.name}: {l.activation}" for l in step.layers)
    return Table(f"Step {step.step} · forward pass ({acts})", headers, rows, key="forward")


def error_table(step: Step, p: int) -> Table:
    labels = step.labels
    headers = _sample_header(step) + ["output", "target", "out", "E"]
    out = step.layers[-1]
    rows = []
    for s in range(len(step.samples)):
        pre = _prefix(step, s)
        for k, name in enumerate(labels.neurons[-1]):
            rows.append(pre + [f"{name} ({labels.error(k)})", num(step.t[s, k], p),
                               num(out.a[s, k], p), num(step.losses[s, k], p)])
    total = labels.total + (" (mean over samples)" if len(step.samples) > 1 else "")
    rows.append(([""] if len(step.samples) > 1 else []) + [total, "", "", num(step.loss, p)])
    return Table(f"Step {step.step} · error", headers, rows, key="error")


class _BackwardRows:
    """The rows of one layer's backward table: per parameter, one row per sample with the
    chain-rule factors ∂E/∂out · ∂out/∂net · ∂net/∂w, and the gradient (the mean over the
    samples) and the new value on its last row."""

    def __init__(self, step: Step, layer: LayerTrace, p: int, checks: dict | None):
        self.step, self.layer, self.p, self.checks = step, layer, p, checks
        self.n = len(step.samples)
        self.elementwise = layer.da_dz is not None and layer.da_dz.ndim == 2
        self.rows: list[list[str]] = []

    def factors(self, s: int, j: int) -> list[str]:
        layer, p = self.layer, self.p
        dadz = num(layer.da_dz[s, j], p) if self.elementwise else "(Jacobian)"
        return [num(layer.dE_da[s, j], p), dadz, num(layer.delta[s, j], p)]

    def check(self, param: str, last: bool) -> list[str]:
        if self.checks is None:
            return []
        return ["PASS" if self.checks[param].ok else "FAIL"] if last else [""]

    def add(self, param: str, label: str, j: int, dnet, grad: float, new: str, last_j=True):
        """Rows of parameter `param` into neuron j; dnet(s) is ∂net/∂param for sample s."""
        for s in range(self.n):
            last = last_j and s == self.n - 1
            self.rows.append([label if s == 0 else ""] + _prefix(self.step, s) + self.factors(s, j)
                             + [dnet(s), num(grad, self.p) if last else "", new if last else ""]
                             + self.check(param, last))


def backward_table(step: Step, l: int, p: int, checks: dict | None = None) -> Table:
    """Backward pass through layer l: one row per weight (and bias) with its chain-rule factors.
    For a batch, the factors are shown per sample and the gradient (their mean) on the
    parameter's last row."""
    labels, layer = step.labels, step.layers[l - 1]
    b = _BackwardRows(step, layer, p, checks)
    neurons = labels.neurons[l - 1]
    for j in range(layer.W.shape[0]):
        for k in range(layer.W.shape[1]):
            param = labels.weights[l - 1][j][k]
            b.add(param, f"{param} ({labels.source(l, k)}→{neurons[j]})", j,
                  lambda s, k=k: num(layer.a_in[s, k], p), layer.grad_W[j, k], num(layer.W_new[j, k], p))
    frozen = "" if layer.bias_trainable else " (frozen)"
    if layer.shared_bias:
        # One bias feeds every neuron of the layer: a row per neuron, the gradient (the sum of
        # their δ) and the new value on the last row.
        bias = labels.biases[l - 1][0]
        for j, neuron in enumerate(neurons):
            b.add(bias, f"{bias} (→{neuron})", j, lambda s: "1", layer.grad_b[0],
                  num(layer.b_new[0], p) + frozen, last_j=j == len(neurons) - 1)
    else:
        for j, bias in enumerate(labels.biases[l - 1]):
            b.add(bias, f"{bias} (→{neurons[j]})", j, lambda s: "1", layer.grad_b[j],
                  num(layer.b_new[j], p) + frozen)
    headers = ["weight"] + _sample_header(step) + ["∂E/∂out", "∂out/∂net", "δ = ∂E/∂net",
                                                   "∂net/∂w", "∂E/∂w", "new value"]
    return Table(f"Step {step.step} · backward pass, {_backward_what(step, l)}",
                 headers + (["check"] if checks is not None else []), b.rows, key=f"backward:{l}")


def _backward_what(step: Step, l: int) -> str:
    layer, n = step.layers[l - 1], len(step.samples)
    if l == len(step.layers):
        what = f"output layer ({layer.activation})"
    else:
        what = f"hidden layer {l} ({layer.activation}); ∂E/∂out = Σ over layer {l + 1} of δ·w"
    if n > 1:
        what += f"; factors per sample, ∂E/∂w the mean over the {n} samples"
    return what


def before_after_table(step: Step, p: int) -> Table:
    rows = [[name, num(b, p), num(a, p), num(c, p)] for name, b, a, c in step.errors()]
    return Table(f"Step {step.step} · error before and after the update (η = {step.eta:g})",
                 ["error", "before", "after", "change"], rows, key="before-after")


def render_step(step: Step, fmt: str, precision: int, checks: dict | None = None) -> str:
    text = format_tables(step_tables(step, precision, checks), fmt)
    if step.mistakes:
        text += "\n\nMistake switched on: " + ", ".join(step.mistakes)
    return text


def render_summary(entry: StepSummary, labels: Labels, precision: int) -> str:
    return (f"step {entry.step}: {labels.total} {num(entry.loss, precision)} before the update, "
            f"{num(entry.loss_after, precision)} after")
