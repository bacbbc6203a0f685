"""The gates a circuit is made of: each one object holding its float function, its local
derivatives in float and its SymPy form ("one formula, one object", as engine/functions.py).

`fn(*x, p)` computes the gate's value from its inputs' values (`p` is the fixed exponent of a
power gate, None otherwise); `local(*x, out, p)` gives ∂out/∂x_i for each input, in float;
`symbolic(*s, p)` writes the operation in SymPy, and SymPy's derivative of it is the local
derivative's formula that the trace prints — and that check.py evaluates against `local`.

At a kink the derivative is taken as the engine and micrograd take it: relu′(0) = 0 (the SymPy
form is a Piecewise whose derivative is 0 at 0).  A max or min gate whose inputs tie sends half
the gradient to each (SymPy's Heaviside(0) = ½); the trace says so.  abs′(0) = 0 (sign).
SymPy is imported only inside the `symbolic` callables.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

from ..errors import CircuitError


def _sp():
    import sympy

    return sympy


def _sigmoid(x: float) -> float:
    # written so that neither branch overflows
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _route(u: float, v: float, larger: bool) -> tuple[float, float]:
    if u == v:
        return 0.5, 0.5
    return (1.0, 0.0) if (u > v) == larger else (0.0, 1.0)


def _check_domain(name: str, x: float, ok: bool, allowed: str) -> None:
    if not ok:
        raise CircuitError(f"{name}({x!r}) is not defined: {name} takes {allowed}")


def _log(x: float) -> float:
    _check_domain("log", x, x > 0, "a number > 0")
    return math.log(x)


def _sqrt(x: float) -> float:
    _check_domain("sqrt", x, x >= 0, "a number ≥ 0")
    return math.sqrt(x)


def _div(u: float, v: float) -> float:
    if v == 0:
        raise CircuitError(f"division by zero: {u!r} / 0")
    return u / v


def _pow(u: float, p: float) -> float:
    try:
        out = u ** p
    except ZeroDivisionError:
        out = complex(0)
    if isinstance(out, complex):
        raise CircuitError(f"{u!r} ** {p!r} is not a real number")
    return float(out)


@dataclass(frozen=True)
class Op:
    """One kind of gate."""

    name: str  # add, mul, relu, …
    symbol: str  # what a picture writes in the node: +, ×, relu, …
    arity: int
    fn: Callable
    local: Callable  # (*x, out, p) -> tuple of ∂out/∂x_i
    symbolic: Callable  # (*sympy symbols, p) -> SymPy expression

    def text(self, names: list[str], p=None) -> str:
        """The operation written with its inputs' names: "x + y", "relu(c)", "b**3"."""
        if self.name == "pow":
            return f"{_wrap(names[0])}**{_number(p)}"
        if self.name == "neg":
            return f"-{_wrap(names[0])}"
        if self.arity == 2 and self.name in INFIX:
            return f"{_wrap(names[0])} {INFIX[self.name]} {_wrap(names[1])}"
        return f"{self.name}({', '.join(names)})"


INFIX = {"add": "+", "sub": "-", "mul": "*", "div": "/"}


def _wrap(name: str) -> str:
    return f"({name})" if name.startswith("-") else name


def _number(p) -> str:
    return str(int(p)) if float(p).is_integer() else repr(float(p))


def _ops() -> dict[str, Op]:
    def relu_sym(u, p):
        sp = _sp()
        return sp.Piecewise((0, u <= 0), (u, True))

    def sqrt_local(u, out, p):
        return (math.inf if out == 0 else 0.5 / out,)

    table = [
        Op("add", "+", 2, lambda u, v, p: u + v, lambda u, v, o, p: (1.0, 1.0),
           lambda u, v, p: u + v),
        Op("sub", "−", 2, lambda u, v, p: u - v, lambda u, v, o, p: (1.0, -1.0),
           lambda u, v, p: u - v),
        Op("mul", "×", 2, lambda u, v, p: u * v, lambda u, v, o, p: (v, u),
           lambda u, v, p: u * v),
        Op("div", "÷", 2, lambda u, v, p: _div(u, v), lambda u, v, o, p: (1.0 / v, -u / (v * v)),
           lambda u, v, p: u / v),
        Op("pow", "^", 1, lambda u, p: _pow(u, p),
           lambda u, o, p: (0.0 if p == 0 else p * _pow(u, p - 1),),
           lambda u, p: u ** _sp().nsimplify(p)),
        Op("neg", "−", 1, lambda u, p: -u, lambda u, o, p: (-1.0,), lambda u, p: -u),
        Op("exp", "exp", 1, lambda u, p: math.exp(u), lambda u, o, p: (o,),
           lambda u, p: _sp().exp(u)),
        Op("log", "log", 1, lambda u, p: _log(u), lambda u, o, p: (1.0 / u,),
           lambda u, p: _sp().log(u)),
        Op("tanh", "tanh", 1, lambda u, p: math.tanh(u), lambda u, o, p: (1.0 - o * o,),
           lambda u, p: _sp().tanh(u)),
        Op("sigmoid", "σ", 1, lambda u, p: _sigmoid(u), lambda u, o, p: (o * (1.0 - o),),
           lambda u, p: 1 / (1 + _sp().exp(-u))),
        Op("relu", "relu", 1, lambda u, p: max(u, 0.0), lambda u, o, p: (1.0 if u > 0 else 0.0,),
           relu_sym),
        Op("abs", "|·|", 1, lambda u, p: abs(u),
           lambda u, o, p: (float((u > 0) - (u < 0)),), lambda u, p: _sp().Abs(u)),
        Op("sqrt", "√", 1, lambda u, p: _sqrt(u), sqrt_local, lambda u, p: _sp().sqrt(u)),
        Op("max", "max", 2, lambda u, v, p: max(u, v), lambda u, v, o, p: _route(u, v, True),
           lambda u, v, p: _sp().Max(u, v)),
        Op("min", "min", 2, lambda u, v, p: min(u, v), lambda u, v, o, p: _route(u, v, False),
           lambda u, v, p: _sp().Min(u, v)),
    ]
    return {op.name: op for op in table}


OPS = _ops()
FUNCTIONS = ("exp", "log", "tanh", "sigmoid", "relu", "max", "min", "abs", "sqrt")
METHODS = ("relu", "tanh", "exp", "log")
