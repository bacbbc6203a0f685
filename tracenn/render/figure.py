"""What a picture of a network shows: for a step and a view, the text of every label and the
value that colours each edge — looked up in the trace and formatted, never computed.

A view is one of VIEWS:
  forward   net and out on each neuron, each weight on its edge, the target and E per output,
            and E_total
  backward  ∂E/∂out and δ on each neuron, ∂E/∂w on each edge (and ∂E/∂b with its bias)
  update    old → new on each edge and bias (and the optimizer's state after the update, when
            it keeps one), E_total before → after
and "network" (a spec before training: its weights and biases only).

Texts are keyed by slot ("n:1:2:1" is line 1 of neuron 2 of layer 1; see layout.py), so the
geometry (layout.py), the SVG (svg.py) and the step player (html.py) share them.  Each text
that shows quantities names them (`names`), in the order its numbers appear, so a test or a
mark can find a quantity on the picture.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..notation import layer_name
from ..notation import num as _table_num
from ..record.labels import Labels
from ..record.trace import Step

VIEWS = ("forward", "backward", "update", "chain")
VIEW_TITLES = {
    "forward": "forward pass: net and out of every neuron, the error",
    "backward": "backward pass: δ of every neuron, ∂E/∂w on every edge",
    "update": "update: every weight old → new",
    "chain": "the chain: ▸ value forward and ◂ ∂E/∂w = δ · value backward on each wire",
    "network": "the network before training",
}


@dataclass
class Shape:
    """What the geometry depends on: layer sizes (input first), which layers share one bias,
    the display names, and whether the picture has an error column."""

    sizes: list[int]
    shared: list[bool]  # [layer l-1]
    labels: Labels
    errors: bool = True

    @classmethod
    def of_step(cls, step: Step) -> "Shape":
        sizes = [step.layers[0].W.shape[1]] + [layer.W.shape[0] for layer in step.layers]
        return cls(sizes, [layer.shared_bias for layer in step.layers], step.labels)

    @classmethod
    def of_spec(cls, spec) -> "Shape":
        layers = spec.network.layers
        return cls(spec.network.sizes, [layer.shared_bias for layer in layers], spec.labels,
                   errors=False)

    @property
    def L(self) -> int:
        return len(self.sizes) - 1


@dataclass
class Figure:
    """The texts of one picture by slot key, the quantities each shows, and the value behind
    each edge's colour and width (by edge key, "w:l:j:k")."""

    view: str
    texts: dict[str, str] = field(default_factory=dict)
    names: dict[str, list[str]] = field(default_factory=dict)
    edges: dict[str, float] = field(default_factory=dict)
    muted: set[str] = field(default_factory=set)  # slots shown as context, greyed
    edge_quantity: str = "w"  # what sets edge width: w or ∂E/∂w

    def put(self, key: str, text: str, *names: str) -> None:
        self.texts[key] = text
        if names:
            self.names[key] = list(names)


def num(x: float, precision: int) -> str:
    """A picture's one number format: fixed point at `precision` decimals throughout (no
    scientific notation beside 0.0000 — a value too small to show reads as 0.0000 like its
    neighbours; the tables keep every digit), except infinities and values of a billion or
    more, which keep the tables' form."""
    x = float(x) + 0.0
    if x != x or abs(x) >= 1e9:
        return _table_num(x, precision)
    text = f"{x:.{precision}f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.") else text


def _symbols(labels: Labels) -> tuple[str, str]:
    return ("net", "out") if labels.blog else ("z", "a")


def _arrow(old: float, new: float, p: int) -> str:
    return f"{num(old, p)} → {num(new, p)}"


def step_figure(step: Step, view: str, precision: int, sample: int = 0, title: str = "",
                loss: str = "") -> Figure:
    """The picture of `step` in `view`; per-sample values (net, out, δ, …) of sample `sample`
    (0-based position in the step's batch).  `title` names the network, `loss` its loss."""
    if view == "chain":
        from .chain import chain_figure

        return chain_figure(step, precision, sample, title, loss)
    fig = Figure(view, edge_quantity="∂E/∂w" if view == "backward" else "w")
    lab, p, n, s = step.labels, precision, len(step.samples), sample
    _titles(fig, step, view, title, sample)
    _frame(fig, [(layer.name, layer.activation, layer.shared_bias) for layer in step.layers],
           loss, p, errors=True)
    for k, name in enumerate(lab.inputs):
        fig.put(f"in:{k}:0", name)
        fig.put(f"in:{k}:1", num(step.x[s, k], p), lab.sample(name, s, n))
    for l, layer in enumerate(step.layers, start=1):
        _layer_texts(fig, step, l, layer, view, p, s)
    _error_texts(fig, step, view, p, s)
    return fig


def _frame(fig: Figure, layers, loss: str, p: int, errors: bool) -> None:
    """Column captions, the legend and the footnote.  `layers` are (name, activation, shared
    bias) per layer."""
    fig.put("cap:0", "inputs")
    for l, (name, activation, _) in enumerate(layers, start=1):
        fig.put(f"cap:{l}", f"{name} · {activation}")
    if errors:
        fig.put(f"cap:{len(layers) + 1}", "error" + (f" · {loss}" if loss else ""))
    q = fig.edge_quantity
    fig.put("legend:pos", f"{q} > 0")
    fig.put("legend:neg", f"{q} < 0")
    fig.put("legend:width", f"width ∝ |{q}|")
    if any(shared for _, _, shared in layers):
        fig.put("legend:bias", "bias shared by a layer")
    source = "every number as tracenn computes it" if errors else "the spec's values"
    fig.put("foot", f"{source}, at {p} decimals · W[j][k] connects input k to neuron j")


def _titles(fig: Figure, step: Step, view: str, title: str, sample: int) -> None:
    n = len(step.samples)
    line = f"step {step.step} · {VIEW_TITLES[view]}"
    if view == "update":
        opt = step.optimizer
        name = f"{opt.title}, " if opt is not None and opt.name != "sgd" else ""
        line = f"step {step.step} · update ({name}η = {step.eta:g}): every weight old → new"
    if n > 1:
        line += f" · sample {sample + 1} of {n}"
        if view != "forward":
            line += f", ∂E/∂w the mean over the {n}"
    fig.put("title:0", title or "network " + "-".join(map(str, Shape.of_step(step).sizes)))
    fig.put("title:1", line)


def _layer_texts(fig: Figure, step: Step, l: int, layer, view: str, p: int, s: int) -> None:
    lab, n = step.labels, len(step.samples)
    net_sym, out_sym = _symbols(lab)
    for j, neuron in enumerate(lab.neurons[l - 1]):
        key = f"n:{l}:{j}"
        fig.put(f"{key}:0", neuron)
        net, out = lab.sample(lab.net(l, j), s, n), lab.sample(lab.out(l, j), s, n)
        if view == "forward":
            fig.put(f"{key}:1", f"{net_sym} {num(layer.z[s, j], p)}", net)
            fig.put(f"{key}:2", f"{out_sym} {num(layer.a[s, j], p)}", out)
        else:
            fig.put(f"{key}:1", f"∂E/∂{out_sym} {num(layer.dE_da[s, j], p)}", lab.grad(out))
            fig.put(f"{key}:2", f"δ {num(layer.delta[s, j], p)}",
                    lab.sample(lab.delta(l, j), s, n))
            if view == "update":
                fig.muted |= {f"{key}:1", f"{key}:2"}
        if not layer.shared_bias:
            _bias_text(fig, f"{key}:3", lab.biases[l - 1][j], layer, j, view, p, prefix=True,
                       state_key=f"{key}:4")
        for k, w in enumerate(lab.weights[l - 1][j]):
            _weight_text(fig, f"w:{l}:{j}:{k}", w, layer, j, k, view, p)
            if view == "update" and _plain_sgd(step):
                _sgd_text(fig, f"w:{l}:{j}:{k}", w, layer, j, k, step.eta, p)
        fig.put(f"mh:{l}:{j}", f"into {neuron}")
    _list_caption(fig, l, layer.name, view)
    if layer.shared_bias:
        name = lab.biases[l - 1][0]
        fig.put(f"bias:{l}:0", name)
        _bias_text(fig, f"bias:{l}:1", name, layer, 0, view, p, prefix=view == "backward",
                   state_key=f"bias:{l}:2")


def _list_caption(fig: Figure, l: int, name: str, view: str) -> None:
    """The caption of a layer pair's labels when the layout writes them as a list."""
    what = {"forward": "weights", "backward": "∂E/∂w", "update": "weights old → new",
            "network": "weights"}[view]
    if any(key.startswith(f"ws:{l}:") for key in fig.texts):
        what = "Adam: m̂ · v̂, then w − η·m̂/(√v̂ + ε) = w⁺"
    fig.put(f"mcap:{l}", f"edges into {name} ({what}), by the neuron they feed:")


def _bias_text(fig: Figure, key: str, name: str, layer, j: int, view: str, p: int,
               prefix: bool, state_key: str = "") -> None:
    """The bias line of a card; in the update view the optimizer's state goes on the line
    `state_key` below it, so that a card stays narrow."""
    if view == "forward":
        fig.put(key, (f"{name} " if prefix else "") + num(layer.b[j], p), name)
    elif view == "backward":
        fig.put(key, f"∂E/∂{name} {num(layer.grad_b[j], p)}", Labels.grad(name))
    else:
        frozen = "" if layer.bias_trainable else " (frozen)"
        fig.put(key, (f"{name} " if prefix else "") + _arrow(layer.b[j], layer.b_new[j], p)
                + frozen, name, Labels.new(name))
        state = _state(layer.update_b, (j,), p)
        if state:
            fig.put(state_key, state.removeprefix(" · "))


def _weight_text(fig: Figure, key: str, name: str, layer, j: int, k: int, view: str,
                 p: int) -> None:
    if view == "forward":
        fig.put(key, f"{name} {num(layer.W[j, k], p)}", name)
        fig.edges[key] = float(layer.W[j, k])
    elif view == "backward":
        fig.put(key, f"∂E/∂{name} {num(layer.grad_W[j, k], p)}", Labels.grad(name))
        fig.edges[key] = float(layer.grad_W[j, k])
    elif _adam_terms(layer.update_W):
        # two lines: m̂ and v̂, then the update with its step η·m̂/(√v̂ + ε) (the list under the
        # picture writes them one below the other)
        terms = layer.update_W.terms
        fig.put(f"ws:{key[2:]}", f"m̂ {num(terms['m_hat'][j, k], p)} · "
                f"v̂ {num(terms['v_hat'][j, k], p)}", f"mhat_{name}", f"vhat_{name}")
        step = float(terms["step"][j, k])
        fig.put(key, f"{name} {num(layer.W[j, k], p)} {'−' if step >= 0 else '+'} "
                     f"{num(abs(step), p)} = {num(layer.W_new[j, k], p)}",
                name, f"step_{name}", Labels.new(name))
        fig.edges[key] = float(layer.W_new[j, k])
    else:
        fig.put(key, f"{name} {_arrow(layer.W[j, k], layer.W_new[j, k], p)}"
                + _state(layer.update_W, (j, k), p), name, Labels.new(name))
        fig.edges[key] = float(layer.W_new[j, k])


def _adam_terms(update) -> bool:
    """Whether an update recorded Adam's bias-corrected moments and its step."""
    return update is not None and {"m_hat", "v_hat", "step"} <= set(update.terms)


def _plain_sgd(step: Step) -> bool:
    """Whether the step's update is w − η·∂E/∂w exactly: plain SGD, no weight decay, no
    learner's mistake in the update."""
    opt = step.optimizer
    plain = opt is None or (opt.name == "sgd" and not opt.settings.get("weight_decay"))
    return plain and not step.mistakes


def _sgd_text(fig: Figure, key: str, name: str, layer, j: int, k: int, eta: float,
              p: int) -> None:
    """The update as the sum a learner checks by hand: w5 0.4000 − 0.5·0.0822 = 0.3589 (each
    number the trace's; "η" names the learning rate in the names of its numbers)."""
    rate = f"{eta:g}" + (".0" if f"{eta:g}".isdigit() else "")  # 1.0, so it reads as a number
    fig.put(key, f"{name} {num(layer.W[j, k], p)} − {rate}·{num(layer.grad_W[j, k], p)} = "
                 f"{num(layer.W_new[j, k], p)}", name, "η", Labels.grad(name), Labels.new(name))


def _state(update, index: tuple, p: int) -> str:
    """The optimizer's state after the update (momentum's velocity, Adam's m and v) for one
    parameter, when the optimizer keeps any: ' · v 0.0822'."""
    if update is None or not update.after:
        return ""
    return "".join(f" · {name} {num(value[index], p)}" for name, value in update.after.items())


def _error_texts(fig: Figure, step: Step, view: str, p: int, s: int) -> None:
    lab, n = step.labels, len(step.samples)
    for k in range(step.t.shape[1]):
        name = lab.error(k)
        target = lab.target(k)
        fig.put(f"err:{k}:0", name)
        fig.put(f"err:{k}:1", f"{target} {num(step.t[s, k], p)}", lab.sample(target, s, n))
        fig.put(f"err:{k}:2", num(step.losses[s, k], p), lab.sample(name, s, n))
    fig.put("total:0", lab.total + (f" (mean of {n})" if n > 1 else ""))
    if view == "update":
        fig.put("total:1", _arrow(step.loss, step.loss_after, p), lab.total, lab.after)
    else:
        fig.put("total:1", num(step.loss, p), lab.total)


def network_figure(spec, precision: int, title: str = "") -> Figure:
    """The picture of a spec before training: names, initial weights and biases."""
    fig = Figure("network")
    lab, p = spec.labels, precision
    L = len(spec.network.layers)
    _frame(fig, [(layer_name(l, L), layer.activation.name, layer.shared_bias)
                 for l, layer in enumerate(spec.network.layers)], "", p, errors=False)
    fig.put("title:0", title or spec.title or "network " + "-".join(map(str, spec.network.sizes)))
    fig.put("title:1", VIEW_TITLES["network"] + f" (η = {spec.learning_rate:g})")
    for k, name in enumerate(lab.inputs):
        fig.put(f"in:{k}:0", name)
    for l, layer in enumerate(spec.network.layers, start=1):
        for j, neuron in enumerate(lab.neurons[l - 1]):
            fig.put(f"n:{l}:{j}:0", neuron)
            if not layer.shared_bias:
                _bias_text(fig, f"n:{l}:{j}:3", lab.biases[l - 1][j], layer, j, "forward", p,
                           prefix=True)
            for k, w in enumerate(lab.weights[l - 1][j]):
                _weight_text(fig, f"w:{l}:{j}:{k}", w, layer, j, k, "forward", p)
            fig.put(f"mh:{l}:{j}", f"into {neuron}")
        _list_caption(fig, l, layer_name(l - 1, L), "network")
        if layer.shared_bias:
            bias = lab.biases[l - 1][0]
            fig.put(f"bias:{l}:0", bias)
            _bias_text(fig, f"bias:{l}:1", bias, layer, 0, "forward", p, prefix=False)
    return fig
