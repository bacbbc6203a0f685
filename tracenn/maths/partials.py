"""∂E/∂θ for every parameter θ of a traced step: SymPy's derivative of the loss written as an
expression in θ, every other parameter, input and target standing for its number.

A parameter θ of layer l enters the loss through one net input, z = θ·α + q (α the input it
multiplies, 1 for a bias; q the rest of that net input), or through every net input of layer l
for a shared bias.  From layer l+1 on, the loss is the same function of that net input for
every parameter of layer l and every sample; only numbers differ.  So one expression, a
*template*, serves them all: the loss from θ to E, written with the layer's activation, the
later layers' activations and the loss (their `symbolic` forms, none of the engine's derivative
code), in θ and in symbols that stand for numbers: α and q, the next layer's weights from that
neuron (ω) and the rest of its net inputs (r), the weights and biases of the layers after, the
targets.  SymPy differentiates each template once by θ; the derivative, lambdified, is evaluated
for every parameter and sample at that step's numbers.  Putting a number for a symbol commutes
with differentiating by θ, so each value is SymPy's ∂E/∂θ of the whole loss.

The output layer's template puts θ's neuron first and the others after it (softmax and the
losses treat outputs alike), so one serves every neuron of that layer too.

Cost: SymPy's differentiation and lambdify walk a template written out as a tree, one copy of
each shared part per path through it, so their time follows that size (`template_size`, counted
beforehand), which multiplies with the width of every later layer: a few layers of 8 stay small
(4-8-8-8-3: 12,000 operations in all), a fifth hidden layer of 8 makes it eight times larger.
Differentiating the whole network's loss by each parameter, as verify did before, cost that for
every parameter.  maths/verify.py refuses templates beyond VERIFY_MAX_SIZE.

The numbers are recomputed here from the inputs and the parameters before the update, through
the activations' SymPy forms in mpmath, not taken from the engine's forward pass: the check
stays independent of the engine.  With `dps` every value is exact to that many significant
digits (mpmath carries GUARD_DIGITS more); without it the derivatives are evaluated in float64.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from ..engine.functions import ACTIVATIONS, LOSSES
from ..errors import UnsupportedError
from ..record.trace import Step
from .symbolic import SYMPY_OPS, _obj

# Digits carried beyond the requested ones: a template's derivative takes a few hundred
# operations, each rounding in the last digit, and softmax differences can cancel a few more.
GUARD_DIGITS = 10
# Precision of the forward pass behind float64 evaluation: exact enough that converting to
# float64 is the only rounding, and immune to exp overflow (mpmath has no float range).
FORWARD_DPS = 30


def _syms(prefix: str, n: int) -> list[sp.Symbol]:
    return [sp.Symbol(f"{prefix}_{i}", real=True) for i in range(n)]


@dataclass
class Template:
    """The loss as an expression in θ and in symbols standing for numbers (`args`, θ first),
    for the parameters of layer `l` of one kind: "one" (a weight or bias of one neuron) or
    "all" (a bias shared by every neuron of the layer).  `compressed`: the next layer is written
    as ω·a + r, which holds for a hidden (element-wise) layer's "one"."""

    l: int
    kind: str
    compressed: bool
    args: list
    derivative: sp.Expr
    formulas: tuple = field(default=(), repr=False)  # the objects it was built from, kept alive
    _fns: dict = field(default_factory=dict, repr=False)

    def function(self, modules: str):
        """The derivative as a Python function of `args` ("math" or "mpmath")."""
        if modules not in self._fns:
            self._fns[modules] = sp.lambdify(self.args, self.derivative, modules=modules, cse=True)
        return self._fns[modules]


def build_template(acts: list, loss, sizes: list[int], l: int, kind: str) -> Template:
    """Template for layer l (1..L) of a network with these activations (objects, one per
    layer), loss and sizes [n0, n1, …, nL]."""
    args, E, compressed = _template_loss(acts, loss, sizes, l, kind)
    return Template(l, kind, compressed, args, sp.diff(E, args[0]), (tuple(acts), loss))


def template_size(acts: list, loss, sizes: list[int], l: int, kind: str) -> int:
    """How many operations the template's loss has written out as a tree: what SymPy's
    differentiation and lambdify walk, so their cost follows it (tests/benchmarks/verify.py).
    Counted layer by layer, each layer on symbols standing for the one before, so counting
    costs what one layer costs, however large the tree."""
    tree = _TreeSize()
    return tree.size(_template_loss(acts, loss, sizes, l, kind, tree)[1])


class _TreeSize:
    def __init__(self):
        self.leaves: dict = {}  # stand-in symbol -> the size of what it stands for

    def size(self, expr) -> int:
        memo: dict = {}

        def count(e) -> int:
            if e not in memo:
                memo[e] = self.leaves.get(e, 1) + sum(count(arg) for arg in e.args)
            return memo[e]

        return count(expr)

    def stand_in(self, values: list) -> list:
        out = []
        for v in values:
            symbol = sp.Dummy(real=True)
            self.leaves[symbol] = self.size(v)
            out.append(symbol)
        return out


def _template_loss(acts: list, loss, sizes: list[int], l: int, kind: str, tree=None):
    """(args, E, compressed): the template's symbols (θ first) and its loss.  With `tree`, each
    layer's outputs are replaced by stand-ins that carry their sizes."""
    L = len(acts)
    if l < L and not acts[l - 1].elementwise:  # the spec reader allows softmax only last
        raise UnsupportedError(f"layer {l}: a hidden {acts[l - 1].name} layer cannot be verified")
    theta = sp.Symbol("theta", real=True)
    args = [theta]
    compressed = kind == "one" and l < L
    if kind == "all":  # a shared bias: θ + q_i in every net input of the layer
        qs = _syms("q", sizes[l])
        args += qs
        z = [theta + q for q in qs]
    else:
        alpha, q = sp.Symbol("alpha", real=True), sp.Symbol("q", real=True)
        args += [alpha, q]
        z = [theta * alpha + q]
        if not compressed:  # the output layer: θ's neuron first, then the others' net inputs
            zeta = _syms("zeta", sizes[l] - 1)
            args += zeta
            z += zeta
    a = acts[l - 1].symbolic(z)
    start = l + 1
    if compressed:
        omega, r = _syms("omega", sizes[l + 1]), _syms("r", sizes[l + 1])
        args += omega + r
        z = [w * a[0] + rm for w, rm in zip(omega, r)]
        a = acts[l].symbolic(z)
        start = l + 2
    for m in range(start, L + 1):
        W = [_syms(f"W{m}_{j}", sizes[m - 1]) for j in range(sizes[m])]
        b = _syms(f"b{m}", sizes[m])
        args += [w for row in W for w in row] + b
        if tree is not None:
            a = tree.stand_in(a)
        z = [sp.Add(*[w * ai for w, ai in zip(row, a)], bj) for row, bj in zip(W, b)]
        a = acts[m - 1].symbolic(z)
    t = _syms("t", sizes[L])
    args += t
    if tree is not None:
        z, a = tree.stand_in(z), tree.stand_in(a)
    # the loss in the output layer's z where it has that form (Loss.at): its float64 value and
    # derivative then keep their digits where σ(z) or softmax(z) has rounded towards 0 or 1
    E = loss.at(acts[L - 1], _obj(z), _obj(a), _obj(t), SYMPY_OPS)[0]
    return args, sp.Add(*E), compressed


# Keyed by the formula objects' ids, so that a swapped-in activation is never served stale;
# each entry keeps its objects alive, so that no id is reused while it is cached.
_TEMPLATES: dict = {}


def _structure(step: Step, loss_name: str) -> tuple:
    return (tuple([step.layers[0].W.shape[1]] + [lt.W.shape[0] for lt in step.layers]),
            tuple(id(ACTIVATIONS[lt.activation]) for lt in step.layers), id(LOSSES[loss_name]))


def _needed(step: Step) -> list[tuple[int, str]]:
    """(layer, kind) of the templates a step's parameters need."""
    return [(l, kind) for l, lt in enumerate(step.layers, start=1)
            for kind in (("one", "all") if lt.shared_bias else ("one",))]


def _formulas(step: Step, loss_name: str) -> tuple[list, object, list[int]]:
    acts = [ACTIVATIONS[lt.activation] for lt in step.layers]
    sizes = [step.layers[0].W.shape[1]] + [lt.W.shape[0] for lt in step.layers]
    return acts, LOSSES[loss_name], sizes


def template_sizes(step: Step, loss_name: str) -> dict[tuple[int, str], int]:
    """The written-out size of each template the step needs, by (layer, kind)."""
    acts, loss, sizes = _formulas(step, loss_name)
    return {(l, kind): template_size(acts, loss, sizes, l, kind) for l, kind in _needed(step)}


def templates(step: Step, loss_name: str, progress=None) -> dict[tuple[int, str], Template]:
    """The templates a step's parameters need, by (layer, kind), built once per network shape
    and formula objects.  `progress(done, total)` is called before each is differentiated and
    when all are."""
    acts, loss, sizes = _formulas(step, loss_name)
    needed = _needed(step)
    key = _structure(step, loss_name)
    out = {}
    for i, (l, kind) in enumerate(needed):
        if progress:
            progress(i, len(needed))
        if (key, l, kind) not in _TEMPLATES:
            _TEMPLATES[key, l, kind] = build_template(acts, loss, sizes, l, kind)
        out[l, kind] = _TEMPLATES[key, l, kind]
    if progress:
        progress(len(needed), len(needed))
    return out


class Numbers:
    """The step's numbers in one arithmetic: float64 (dps None) or mpmath with `dps` digits.
    Weights, biases (a shared bias repeated for every neuron), targets, and every sample's net
    inputs and activations from a forward pass through the activations' SymPy forms."""

    def __init__(self, step: Step, dps: int | None):
        import mpmath

        self.dps = dps
        self.work_dps = FORWARD_DPS if dps is None else dps + GUARD_DIGITS
        cast = float if dps is None else (lambda v: v)
        mpf = mpmath.mpf
        with mpmath.workdps(self.work_dps):
            W = [[[mpf(float(w)) for w in row] for row in lt.W] for lt in step.layers]
            b = [[mpf(float(lt.b[0 if lt.shared_bias else j])) for j in range(lt.W.shape[0])]
                 for lt in step.layers]
            zs, acts = [], []
            for s in range(step.x.shape[0]):
                a = [mpf(float(v)) for v in step.x[s]]
                z_s, a_s = [], [a]
                for lt, Wl, bl in zip(step.layers, W, b):
                    z = [mpmath.fsum(w * ai for w, ai in zip(row, a)) + bj for row, bj in zip(Wl, bl)]
                    a = list(_activation(lt.activation, len(z), "mpmath")(*z))
                    z_s.append(z)
                    a_s.append(a)
                zs.append(z_s)
                acts.append(a_s)
        self.W = [[[cast(w) for w in row] for row in Wl] for Wl in W]
        self.b = [[cast(v) for v in bl] for bl in b]
        self.z = [[[cast(v) for v in z] for z in z_s] for z_s in zs]  # [s][l-1][j]
        self.a = [[[cast(v) for v in a] for a in a_s] for a_s in acts]  # [s][l][j], a[s][0] = x
        self.t = [[cast(mpf(float(v))) for v in row] for row in step.t]
        self._tails: dict = {}

    def tail(self, start: int) -> list:
        """The weights (row by row) and biases of layers start..L, one list."""
        if start not in self._tails:
            self._tails[start] = [v for Wm, bm in zip(self.W[start - 1:], self.b[start - 1:])
                                  for v in [w for r in Wm for w in r] + bm]
        return self._tails[start]

    def sum(self, values):
        import mpmath

        return sum(values) if self.dps is None else mpmath.fsum(values)


_ACTIVATION_FNS: dict = {}


def _activation(name: str, width: int, modules: str):
    """An activation's SymPy form as a function of its layer's net inputs."""
    act = ACTIVATIONS[name]
    key = (id(act), width, modules)
    if key not in _ACTIVATION_FNS:  # (cached with the object, like _TEMPLATES)
        z = _syms("z", width)
        _ACTIVATION_FNS[key] = (sp.lambdify(z, act.symbolic(z), modules=modules), act)
    return _ACTIVATION_FNS[key][0]


def partial_derivatives(step: Step, loss, dps: int | None = None, progress=None,
                        numbers: Numbers | None = None) -> dict:
    """SymPy's ∂E/∂θ of the step's batch loss (the mean over its samples) for every parameter,
    by display name: floats, or with `dps` mpmath numbers exact to that many digits (`numbers`,
    when given, is the step's `Numbers` and decides the digits).  `progress(done, total)`
    follows the differentiation (the part that takes time)."""
    import mpmath

    tpls = templates(step, loss.name, progress)
    nums = numbers or Numbers(step, dps)
    dps = nums.dps
    n = step.x.shape[0]
    modules = "math" if dps is None else "mpmath"
    before = step.params_before()
    out, cache = {}, {}
    with mpmath.workdps(nums.work_dps):
        for l, kind, j, k, name in step.labels.parameters():
            shared = kind == "b" and step.layers[l - 1].shared_bias
            tpl = tpls[l, "all" if shared else "one"]
            value = before[name] if dps is None else mpmath.mpf(before[name])
            terms = [_evaluate(tpl, modules, _arguments(tpl, nums, s, j, k, value, cache))
                     for s in range(n)]
            out[name] = nums.sum(terms) / n
    return out


def _evaluate(tpl: Template, modules: str, args: list):
    try:
        return tpl.function(modules)(*args)
    except (ArithmeticError, ValueError):
        # float64 met an exp overflow or a log of an underflowed 0: mpmath has neither
        if modules != "math":
            raise
        import mpmath

        with mpmath.workdps(FORWARD_DPS):
            return float(tpl.function("mpmath")(*[mpmath.mpf(v) for v in args]))


def _arguments(tpl: Template, nums: Numbers, s: int, j: int, k: int | None, value,
               cache: dict) -> list:
    """The numbers for `tpl.args` of parameter (neuron j, input k; k None for a bias) of layer
    tpl.l with value `value`, for sample s.  What depends only on the neuron and the sample is
    kept in `cache`."""
    l, W, b, a_in = tpl.l, nums.W, nums.b, nums.a[s][tpl.l - 1]
    if tpl.kind == "all":
        head = [nums.sum(w * ai for w, ai in zip(row, a_in)) for row in W[l - 1]]
        j = 0
    elif k is None:
        head = [1, nums.sum(w * ai for w, ai in zip(W[l - 1][j], a_in))]
    else:
        rest = [w * ai for i, (w, ai) in enumerate(zip(W[l - 1][j], a_in)) if i != k]
        head = [a_in[k], nums.sum(rest) + b[l - 1][j]]
    key = (l, tpl.kind, j, s)
    if key not in cache:
        cache[key] = _neuron_arguments(tpl, nums, s, j)
    return [value] + head + cache[key]


def _neuron_arguments(tpl: Template, nums: Numbers, s: int, j: int) -> list:
    """The numbers after θ, α and q: the next layer's ω and r (compressed), or the output
    layer's other net inputs; then the later layers' weights and biases, and the targets (in the
    template's order)."""
    l, W, b, a = tpl.l, nums.W, nums.b, nums.a[s]
    args, start, order = [], l + 1, None
    if tpl.kind == "one" and tpl.compressed:
        args += [r[j] for r in W[l]]
        args += [nums.sum(w * ai for i, (w, ai) in enumerate(zip(r, a[l])) if i != j) + bm
                 for r, bm in zip(W[l], b[l])]
        start = l + 2
    elif tpl.kind == "one":  # the output layer: θ's neuron first, then the others
        order = [j] + [i for i in range(len(a[l])) if i != j]
        args += [nums.z[s][l - 1][i] for i in order[1:]]
    args += nums.tail(start)
    t = nums.t[s]
    return args + ([t[i] for i in order] if order is not None else t)
