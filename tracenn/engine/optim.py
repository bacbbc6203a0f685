"""Optimizers: how a parameter moves once its gradient is known, with the state they keep.

The conventions and defaults are PyTorch's torch.optim, so the state a learner sees here is the
state `optimizer.state[p]` shows them (the torch.optim name of each state is given below):

  sgd       g = ∂E/∂w + λw;                       w ← w − η g
  momentum  g = ∂E/∂w + λw;  v ← μ v + g;          w ← w − η v          (velocity: momentum_buffer)
  nesterov  g = ∂E/∂w + λw;  v ← μ v + g;          w ← w − η (g + μ v)
  rmsprop   g = ∂E/∂w + λw;  v ← α v + (1 − α) g²; w ← w − η g / (√v + ε)   (v: square_avg)
  adam      g = ∂E/∂w + λw;  m ← β1 m + (1 − β1) g;  v ← β2 v + (1 − β2) g²;
            m̂ = m / (1 − β1ᵗ);  v̂ = v / (1 − β2ᵗ);  w ← w − η m̂ / (√v̂ + ε)
                                                               (m: exp_avg, v: exp_avg_sq)
  adamw     as adam with g = ∂E/∂w, and the decay decoupled:   w ← w − η λ w − η m̂ / (√v̂ + ε)

Velocity and moments start at 0 (PyTorch's first momentum step v = g is μ·0 + g); t counts the
updates.  Weight decay λ applies to weights only: biases are not decayed, as Goodfellow, Bengio
& Courville (Deep Learning, §7.1) recommend; in PyTorch that is two parameter groups.

Every optimizer computes its step with one code path; with `detail` it also returns the state
before and after and each intermediate (an `UpdateTrace`), which the step record keeps.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .mistakes import NO_MISTAKES, Mistakes


@dataclass
class UpdateTrace:
    """What one parameter array's update computed: the state before and after (by state name,
    e.g. {"m": …, "v": …}) and the intermediates (g, m_hat, v_hat, step), each an array shaped
    like the parameter.  `step` is what was subtracted: new = old − step."""

    before: dict[str, np.ndarray] = field(default_factory=dict)
    after: dict[str, np.ndarray] = field(default_factory=dict)
    terms: dict[str, np.ndarray] = field(default_factory=dict)


# The symbols of the hyper-parameters, as textbooks write them.
SYMBOLS = {"lr": "η", "weight_decay": "λ", "momentum": "μ", "alpha": "α", "beta1": "β1",
           "beta2": "β2", "epsilon": "ε"}


class Optimizer:
    """Base class.  `state[key]` holds a parameter's state arrays by name; `t` counts updates.

    Subclasses define NAME, TITLE, STATE (state names), HYPER (hyper-parameter names with their
    PyTorch defaults), TERMS (the intermediates an update records, with the header a table gives
    them), FORMULA (the update rule as text), `_direction(key, g, param, terms)`, which advances
    the state and returns what η multiplies, and `symbolic`: the same rule written separately as
    SymPy expressions, which `tracenn verify` checks against the recorded numbers."""

    NAME = ""
    TITLE = ""
    STATE: tuple[str, ...] = ()
    TORCH_STATE: dict[str, str] = {}
    HYPER: dict[str, float] = {}
    TERMS: tuple[tuple[str, str], ...] = ()
    FORMULA = "w ← w − η g"
    STEP = "η g"  # what is subtracted, as the update table's header writes it
    SHOWN: tuple[str, ...] = ()  # state and terms that are quantities of a step (m_w5, mhat_w5)

    def __init__(self, lr: float, *, weight_decay: float = 0.0, mistakes: Mistakes = NO_MISTAKES,
                 **hyper):
        unknown = set(hyper) - set(self.HYPER)
        if unknown:
            raise ValueError(f"{self.NAME} takes no {', '.join(sorted(unknown))}; it takes "
                             f"{', '.join(['lr', 'weight_decay', *self.HYPER]) }")
        self.lr = float(lr)
        self.weight_decay = float(weight_decay)
        self.hyper = {**self.HYPER, **{k: float(v) for k, v in hyper.items()}}
        self.mistakes = mistakes
        self.state: dict = {}
        self.t = 0

    @property
    def settings(self) -> dict[str, float]:
        """Every hyper-parameter by its spec name: lr, weight_decay and the optimizer's own."""
        return {"lr": self.lr, "weight_decay": self.weight_decay, **self.hyper}

    def begin_step(self) -> None:
        self.t += 1

    def step(self, key, param: np.ndarray, grad: np.ndarray, *, bias: bool = False,
             detail: bool = False, out: np.ndarray | None = None,
             scratch: np.ndarray | None = None) -> tuple[np.ndarray, UpdateTrace | None]:
        """The array to subtract from `param` for gradient `grad`, and with `detail` the
        UpdateTrace of this update.  `key` names the parameter array, e.g. (layer, "W").
        The training hot path passes buffers shaped like `param`: the step is written into
        `out`, and g = ∂E/∂w + λw into `scratch` (the same operations in the same order, so
        the same numbers; `grad` itself is left as it is)."""
        m = self.mistakes
        before = {k: v.copy() for k, v in self.state.get(key, {}).items()} if detail else None
        decay = self.weight_decay and (not bias or m.decay_bias())
        g = grad
        if decay and not self._decoupled():
            if scratch is None:
                g = grad + self.weight_decay * param
            else:
                g = np.add(grad, np.multiply(self.weight_decay, param, out=scratch), out=scratch)
        lr = m.bias_lr(self.lr) if bias and m else self.lr
        terms: dict = {}
        direction = self._direction(key, g, param, terms)
        step = lr * direction if out is None else np.multiply(lr, direction, out=out)
        if decay and self._decoupled():
            terms["decay"] = lr * self.weight_decay * param
            step = step + terms["decay"] if out is None else np.add(step, terms["decay"], out=out)
        if not detail:
            return step, None
        trace = UpdateTrace(before, {k: v.copy() for k, v in self.state.get(key, {}).items()},
                            {"g": np.array(g, copy=True), **terms, "step": np.array(step, copy=True)})
        for name in self.STATE:
            trace.before.setdefault(name, np.zeros_like(param))
        return step, trace

    def _decoupled(self) -> bool:
        return False

    def _direction(self, key, g, param, terms: dict) -> np.ndarray:
        raise NotImplementedError

    @property
    def plain(self) -> bool:
        """Plain gradient descent: the update is η ∂E/∂w and there is nothing more to show."""
        return self.NAME == "sgd" and not self.weight_decay

    def gradient_formula(self, bias: bool = False) -> str:
        """g, the gradient the rule uses, for a weight (or a bias), as text."""
        added = self.decays(bias) and not self._decoupled()
        return "g = ∂E/∂w + λw" if added else ("g = ∂E/∂b" if bias else "g = ∂E/∂w")

    def decays(self, bias: bool) -> bool:
        """Whether weight decay applies to this kind of parameter (weights always, biases
        only with the mistake weight-decay-on-bias)."""
        return bool(self.weight_decay) and (not bias or self.mistakes.decay_bias())

    def symbolic(self, sym, t: int, *, bias: bool = False, named=()) -> dict:
        """The update of one parameter as SymPy expressions, in the order it is computed:
        "g" (the gradient used), each state after (by state name), each term of TERMS, "step"
        and "new".  `sym(name)` gives the symbol of "dE" (∂E/∂w), "w" (the parameter before),
        "<state> before", each hyper-parameter (lr, momentum, …) and each key in `named`: later
        formulas refer to those by symbol (one level, as a textbook writes m̂ = m / (1 − β1ᵗ));
        the others are written out.  With `named` empty everything is in the symbols of ∂E/∂w,
        w, the state before and the hyper-parameters.  t is the update count."""
        out = _Formulas(sym, set(named))
        decay = self.decays(bias)
        g = out.set("g", sym("dE") + sym("weight_decay") * sym("w")
                    if decay and not self._decoupled() else sym("dE"))
        step = sym("lr") * self._symbolic_direction(sym, g, t, out)
        if decay and self._decoupled():
            step = step + out.set("decay", sym("lr") * sym("weight_decay") * sym("w"))
        out.set("new", sym("w") - out.set("step", step))
        return dict(out)

    def _symbolic_direction(self, sym, g, t: int, out: "_Formulas"):
        raise NotImplementedError


class _Formulas(dict):
    """An update's expressions in order.  `set` records one and returns what later formulas
    refer to: the symbol of its name when it is named, else the expression itself."""

    def __init__(self, sym, named: set):
        super().__init__()
        self.sym, self.named = sym, named

    def set(self, key: str, expr):
        self[key] = expr
        if key not in self.named or getattr(expr, "is_Symbol", False):
            return expr
        return self.sym(key)


class SGD(Optimizer):
    NAME, TITLE = "sgd", "gradient descent"

    def _direction(self, key, g, param, terms):
        return g

    def _symbolic_direction(self, sym, g, t, out):
        return g


class Momentum(Optimizer):
    """SGD with momentum, dampening 0 (PyTorch's SGD(momentum=μ))."""

    NAME, TITLE = "momentum", "momentum"
    STATE = ("velocity",)
    TORCH_STATE = {"velocity": "momentum_buffer"}
    HYPER = {"momentum": 0.9}
    FORMULA = "v ← μ v + g;  w ← w − η v"
    STEP = "η v"
    SHOWN = ("velocity",)

    def _velocity(self, key, g):
        state = self.state.setdefault(key, {})
        v = state.get("velocity")
        if v is None or not self.mistakes.carry_velocity():
            v = np.array(g, copy=True)  # μ·0 + g
        else:
            v *= self.hyper["momentum"]
            v += g
        state["velocity"] = v
        return v

    def _direction(self, key, g, param, terms):
        return self._velocity(key, g)

    def _symbolic_direction(self, sym, g, t, out):
        return out.set("velocity", sym("momentum") * sym("velocity before") + g)


class Nesterov(Momentum):
    """Nesterov momentum as PyTorch's SGD(momentum=μ, nesterov=True): the step is g + μ v."""

    NAME, TITLE = "nesterov", "Nesterov momentum"
    TERMS = (("lookahead", "g + μ v"),)
    FORMULA = "v ← μ v + g;  w ← w − η (g + μ v)"
    STEP = "η (g + μ v)"

    def _direction(self, key, g, param, terms):
        v = self._velocity(key, g)
        terms["lookahead"] = g + self.hyper["momentum"] * v
        return terms["lookahead"]

    def _symbolic_direction(self, sym, g, t, out):
        v = out.set("velocity", sym("momentum") * sym("velocity before") + g)
        return out.set("lookahead", g + sym("momentum") * v)


class RMSProp(Optimizer):
    """PyTorch's RMSprop (not centered, no momentum): ε is added outside the root."""

    NAME, TITLE = "rmsprop", "RMSProp"
    STATE = ("v",)
    TORCH_STATE = {"v": "square_avg"}
    HYPER = {"alpha": 0.99, "epsilon": 1e-8}
    TERMS = (("denominator", "√v + ε"),)
    FORMULA = "v ← α v + (1 − α) g²;  w ← w − η g / (√v + ε)"
    STEP = "η g / (√v + ε)"
    SHOWN = ("v",)

    def _direction(self, key, g, param, terms):
        state = self.state.setdefault(key, {})
        alpha = self.hyper["alpha"]
        v = state.get("v")
        v = (1 - alpha) * g * g if v is None else alpha * v + (1 - alpha) * g * g
        state["v"] = v
        terms["denominator"] = np.sqrt(v) + self.hyper["epsilon"]
        return g / terms["denominator"]

    def _symbolic_direction(self, sym, g, t, out):
        import sympy as sp

        v = out.set("v", sym("alpha") * sym("v before") + (1 - sym("alpha")) * g**2)
        return g / out.set("denominator", sp.sqrt(v) + sym("epsilon"))


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with bias correction, PyTorch's defaults β = (0.9, 0.999),
    ε = 1e-8; weight decay, when given, is added to the gradient (L2)."""

    NAME, TITLE = "adam", "Adam"
    STATE = ("m", "v")
    TORCH_STATE = {"m": "exp_avg", "v": "exp_avg_sq"}
    HYPER = {"beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}
    TERMS = (("m_hat", "m̂ = m/(1 − β1ᵗ)"), ("v_hat", "v̂ = v/(1 − β2ᵗ)"),
             ("denominator", "√v̂ + ε"))
    FORMULA = ("m ← β1 m + (1 − β1) g;  v ← β2 v + (1 − β2) g²;  m̂ = m / (1 − β1ᵗ);  "
               "v̂ = v / (1 − β2ᵗ);  w ← w − η m̂ / (√v̂ + ε)")
    STEP = "η m̂ / (√v̂ + ε)"
    SHOWN = ("m", "v", "m_hat", "v_hat")

    def _direction(self, key, g, param, terms):
        state = self.state.setdefault(key, {})
        b1, b2, eps = self.hyper["beta1"], self.hyper["beta2"], self.hyper["epsilon"]
        m, v = state.get("m"), state.get("v")
        m = (1 - b1) * g if m is None else b1 * m + (1 - b1) * g
        v = (1 - b2) * g * g if v is None else b2 * v + (1 - b2) * g * g
        state["m"], state["v"] = m, v
        m_hat = m / self.mistakes.bias_correction(b1, self.t)
        v_hat = v / self.mistakes.bias_correction(b2, self.t)
        terms["m_hat"], terms["v_hat"] = m_hat, v_hat
        terms["denominator"] = self.mistakes.adam_denominator(v_hat, eps)
        return m_hat / terms["denominator"]

    def _symbolic_direction(self, sym, g, t, out):
        import sympy as sp

        b1, b2 = sym("beta1"), sym("beta2")
        m = out.set("m", b1 * sym("m before") + (1 - b1) * g)
        v = out.set("v", b2 * sym("v before") + (1 - b2) * g**2)
        m_hat = out.set("m_hat", m / (1 - b1**t))
        v_hat = out.set("v_hat", v / (1 - b2**t))
        return m_hat / out.set("denominator", sp.sqrt(v_hat) + sym("epsilon"))


class AdamW(Adam):
    """AdamW (Loshchilov & Hutter 2019): the decay is decoupled from the gradient, as in
    PyTorch's AdamW (whose default weight_decay is 0.01)."""

    NAME, TITLE = "adamw", "AdamW"
    TERMS = Adam.TERMS + (("decay", "η λ w"),)
    FORMULA = Adam.FORMULA.replace("w ← w − η m̂", "w ← w − η λ w − η m̂")
    STEP = "η m̂ / (√v̂ + ε) + η λ w"

    def _decoupled(self) -> bool:
        return self.mistakes.decoupled()


OPTIMIZERS: dict[str, type[Optimizer]] = {
    cls.NAME: cls for cls in (SGD, Momentum, Nesterov, RMSProp, Adam, AdamW)}
DEFAULT_WEIGHT_DECAY = {"adamw": 0.01}  # torch.optim.AdamW's; the others' is 0
# Every setting an optimizer may be given, besides the learning rate, in the spec's names.
SETTINGS = ("optimizer", *dict.fromkeys(k for cls in OPTIMIZERS.values() for k in cls.HYPER),
            "weight_decay")


def optimizer_of(name: str, settings: dict, mistakes: Mistakes = NO_MISTAKES) -> Optimizer:
    """The optimizer a record names, with its settings (lr, weight_decay, hyper-parameters)."""
    settings = dict(settings)
    return OPTIMIZERS[name](settings.pop("lr"), weight_decay=settings.pop("weight_decay", 0.0),
                            mistakes=mistakes, **settings)


def make_optimizer(name: str, lr: float, *, weight_decay: float | None = None,
                   mistakes: Mistakes = NO_MISTAKES, **hyper) -> Optimizer:
    """The optimizer called `name` (sgd, momentum, nesterov, rmsprop, adam, adamw).  Hyper-
    parameters left out (or None) take PyTorch's defaults."""
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; allowed: {', '.join(OPTIMIZERS)}")
    if weight_decay is None:
        weight_decay = DEFAULT_WEIGHT_DECAY.get(name, 0.0)
    hyper = {k: v for k, v in hyper.items() if v is not None}
    check_settings({"lr": lr, "weight_decay": weight_decay, **hyper})
    return OPTIMIZERS[name](lr, weight_decay=weight_decay, mistakes=mistakes, **hyper)


ALLOWED = {  # each setting's range, as `check_settings` enforces it
    "lr": ("a finite number > 0", lambda x: x > 0),
    "weight_decay": ("a number ≥ 0", lambda x: x >= 0),
    "epsilon": ("a number > 0", lambda x: x > 0),
}


def check_settings(settings: dict) -> None:
    """Raise ValueError naming the first setting outside its range: lr and epsilon > 0,
    weight_decay ≥ 0, momentum, beta1, beta2 and alpha in [0, 1), every one finite."""
    for key, value in settings.items():
        what, ok = ALLOWED.get(key, ("a number in [0, 1)", lambda x: 0 <= x < 1))
        try:
            x = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{key} = {value!r} is not a number; expected {what}") from None
        if not (x == x and abs(x) != float("inf")) or not ok(x):
            raise ValueError(f"{key} = {value!r} is not allowed; expected {what}")
