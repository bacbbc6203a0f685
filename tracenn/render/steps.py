"""The tables of one training step: the forward pass, the error, each layer's backward pass
(output layer first, as backprop runs) and the error before and after the update.

Renderers only look values up and format them: every number shown was computed by the engine
and stored in the trace.
"""

from __future__ import annotations

from ..engine.optim import SYMBOLS
from ..notation import dE_da_text, num
from ..record.labels import Labels
from ..record.trace import Step, StepSummary
from .tables import Table, format_tables, markup


def step_tables(step: Step, precision: int, checks: dict | None = None) -> list[Table]:
    """The tables of one step.  With `checks` (parameter name → maths.verify.GradientRow), the
    backward tables get a PASS/FAIL column."""
    tables = [forward_table(step, precision), error_table(step, precision)]
    for l in range(len(step.layers), 0, -1):
        tables.append(backward_table(step, l, precision, checks))
    if any(step.optimizer_quantities().values()):
        tables += [update_table(step, l, precision) for l in range(len(step.layers), 0, -1)]
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


def short(x: float, p: int) -> str:
    """A factor inside a written-out sum: `p` decimals without trailing zeros (two at least),
    negative numbers in parentheses with a minus sign: 0.40, (−0.038098237)."""
    text = num(x, p)
    if "." in text and "e" not in text and p > 2:
        text = text.rstrip("0")
        text += "0" * max(0, 2 - len(text.split(".")[1]))
    return f"(−{text[1:]})" if text.startswith("-") else text


def sum_terms(deltas, weights, p: int) -> str:
    """δ₁·w₁ + δ₂·w₂ + … written out: how ∂E/∂out of a unit collects what it passed on."""
    return " + ".join(f"{short(d, p)}·{short(w, p)}" for d, w in zip(deltas, weights))


MAX_TERMS = 4  # the Σ δ·w column is shown when the sum has at most this many terms


class _BackwardRows:
    """The rows of one layer's backward table: per parameter, one row per sample with the
    chain-rule factors ∂E/∂out · ∂out/∂net · ∂net/∂w, and the gradient (the mean over the
    samples), the old and the new value on its last row."""

    def __init__(self, step: Step, l: int, p: int, checks: dict | None):
        self.step, self.l, self.p, self.checks = step, l, p, checks
        self.layer = layer = step.layers[l - 1]
        self.n = len(step.samples)
        self.elementwise = layer.da_dz is not None and layer.da_dz.ndim == 2
        nxt = step.layers[l] if l < len(step.layers) else None
        self.next = nxt if nxt is not None and nxt.W.shape[0] <= MAX_TERMS else None
        self.inputs = l == 1 and step.dE_dx is not None  # rows for ∂E/∂x under the first layer
        self.terms = self.next is not None or (self.inputs and layer.W.shape[0] <= MAX_TERMS)
        self.rows: list[list[str]] = []

    def factors(self, s: int, j: int) -> list[str]:
        layer, p = self.layer, self.p
        dadz = num(layer.da_dz[s, j], p) if self.elementwise else "(Jacobian)"
        return [dE_da_text(layer.dE_da[s, j], p), dadz, num(layer.delta[s, j], p)]

    def sum_cell(self, s: int, j: int, first: bool) -> list[str]:
        """Σ δ·w of the next layer for neuron j, on the neuron's first row."""
        if not self.terms:
            return []
        if not first or self.next is None:
            return [""]
        return [sum_terms(self.next.delta[s], self.next.W[:, j], self.p)]

    def check(self, param: str, last: bool) -> list[str]:
        if self.checks is None:
            return []
        return ["PASS" if self.checks[param].ok else "FAIL"] if last else [""]

    def add(self, param: str, label: str, j: int, dnet, last: tuple | None, first=True):
        """Rows of parameter `param` into neuron j, one per sample; dnet(s) is ∂net/∂param;
        `last` = (∂E/∂param, old, new) goes on the last row (None: a row of a shared bias,
        whose sum comes on a row of its own)."""
        for s in range(self.n):
            end = last is not None and s == self.n - 1
            tail = [num(last[0], self.p), last[1], last[2]] if end else ["", "", ""]
            self.rows.append([label if s == 0 else ""] + _prefix(self.step, s) + self.factors(s, j)
                             + [dnet(s)] + tail + self.sum_cell(s, j, first)
                             + self.check(param, end))

    def add_sum(self, param: str, label: str, grad: float, old: str, new: str):
        """The row of a shared bias: its gradient, the sum over the layer's neurons."""
        self.rows.append([label] + [""] * (len(_prefix(self.step, 0)) + 4)
                         + [num(grad, self.p), old, new] + ([""] if self.terms else [])
                         + self.check(param, True))

    def add_inputs(self):
        """∂E/∂x of every input, = Σ_j δ_j w_jk over this (the first) layer."""
        step, layer, p = self.step, self.layer, self.p
        for k, name in enumerate(step.labels.inputs):
            for s in range(self.n):
                terms = [sum_terms(layer.delta[s], layer.W[:, k], p)] if self.terms else []
                self.rows.append([f"∂E/∂{name}" if s == 0 else ""] + _prefix(step, s)
                                 + [num(step.dE_dx[s, k], p)] + [""] * 6 + terms
                                 + ([""] if self.checks is not None else []))


def _parameter_rows(b: _BackwardRows, labels: Labels, l: int) -> None:
    layer, p = b.layer, b.p
    neurons = labels.neurons[l - 1]
    for j in range(layer.W.shape[0]):
        for k in range(layer.W.shape[1]):
            param = labels.weights[l - 1][j][k]
            b.add(param, f"{param} ({labels.source(l, k)}→{neurons[j]})", j,
                  lambda s, k=k: num(layer.a_in[s, k], p),
                  (layer.grad_W[j, k], num(layer.W[j, k], p), num(layer.W_new[j, k], p)), k == 0)
    frozen = "" if layer.bias_trainable else " (frozen)"
    if layer.shared_bias:
        # One bias feeds every neuron of the layer: a row per neuron with its factors, then the
        # bias's own row with the gradient (the sum of their δ), the old and the new value.
        bias = labels.biases[l - 1][0]
        for j, neuron in enumerate(neurons):
            b.add(bias, f"{bias} (→{neuron})", j, lambda s: "1", None, False)
        b.add_sum(bias, f"{bias} (Σ over {', '.join(neurons)})", layer.grad_b[0],
                  num(layer.b[0], p), num(layer.b_new[0], p) + frozen)
    else:
        for j, bias in enumerate(labels.biases[l - 1]):
            b.add(bias, f"{bias} (→{neurons[j]})", j, lambda s: "1",
                  (layer.grad_b[j], num(layer.b[j], p), num(layer.b_new[j], p) + frozen), False)


def backward_table(step: Step, l: int, p: int, checks: dict | None = None) -> Table:
    """Backward pass through layer l: one row per weight (and bias) with its chain-rule factors.
    For a batch, the factors are shown per sample and the gradient (their mean) on the
    parameter's last row.  Hidden layers show each neuron's ∂E/∂out written out as Σ δ·w; the
    first layer ends with ∂E/∂x, the gradient at the inputs."""
    b = _BackwardRows(step, l, p, checks)
    _parameter_rows(b, step.labels, l)
    if b.inputs:
        b.add_inputs()
    headers = ["weight"] + _sample_header(step) + ["∂E/∂out", "∂out/∂net", "δ = ∂E/∂net",
                                                   "∂net/∂w", "∂E/∂w", "old value", "new value"]
    headers += ["∂E/∂out = Σ δ·w"] if b.terms else []
    return Table(f"Step {step.step} · backward pass, {_backward_what(step, l)}",
                 headers + (["check"] if checks is not None else []), b.rows, key=f"backward:{l}")


def update_table(step: Step, l: int, p: int) -> Table:
    """The optimizer's update of layer l, one row per parameter: the gradient used, every
    state before and after, every intermediate, the step subtracted, the old and the new value
    (the columns this optimizer has)."""
    opt, layer = step.optimizer_object(), step.layers[l - 1]
    header = opt.gradient_formula()
    if opt.gradient_formula(bias=True) not in (header, "g = ∂E/∂b"):
        header += " (biases too)"
    elif header != "g = ∂E/∂w" and layer.update_b is not None:
        header += " (biases: ∂E/∂b)"
    cols = [("g", header)]
    cols += [(f"before:{s}", f"{s} before") for s in opt.STATE]
    cols += [(f"after:{s}", s) for s in opt.STATE] + list(opt.TERMS)
    cols += [("step", f"step = {opt.STEP}")]
    rows = []
    for name, kind, pl, trace, at in step.updates():
        if pl != l:
            continue
        old, new = (layer.W, layer.W_new) if kind == "W" else (layer.b, layer.b_new)
        cells = [_cell(_term(trace, key), at, p) for key, _ in cols]
        rows.append([name] + cells + [num(old[at], p), num(new[at], p)])
    settings = ", ".join(f"{SYMBOLS[k]} = {v:g}" for k, v in step.optimizer.settings.items())
    title = (f"Step {step.step} · update, {opt.TITLE} (t = {step.optimizer.t}; {settings}), "
             f"{'output layer' if l == len(step.layers) else f'hidden layer {l}'}: {opt.FORMULA}")
    return Table(title, ["parameter"] + [h for _, h in cols] + ["old value", "new value"], rows,
                 key=f"update:{l}")


def _term(trace, key: str):
    """A recorded quantity of an update, or None where this parameter's rule has none (AdamW's
    decay term for a bias, which is not decayed)."""
    if key.startswith("before:"):
        return trace.before.get(key[7:])
    if key.startswith("after:"):
        return trace.after.get(key[6:])
    return trace.terms.get(key)


def _cell(values, at, p: int) -> str:
    return "" if values is None else num(values[at], p)


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
    how = f"η = {step.eta:g}"
    if step.optimizer is not None and step.optimizer.name != "sgd":
        how = f"{step.optimizer.title}, {how}"
    return Table(f"Step {step.step} · error before and after the update ({how})",
                 ["error", "before", "after", "change"], rows, key="before-after")


def render_step(step: Step, fmt: str, precision: int, checks: dict | None = None) -> str:
    text = format_tables(step_tables(step, precision, checks), fmt)
    if step.mistakes:
        text += "\n\n" + markup("Mistake switched on: " + ", ".join(step.mistakes), fmt)
    return text


def render_summary(entry: StepSummary, labels: Labels, precision: int) -> str:
    return (f"step {entry.step}: {labels.total} {num(entry.loss, precision)} before the update, "
            f"{num(entry.loss_after, precision)} after")
