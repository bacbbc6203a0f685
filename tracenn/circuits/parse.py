"""An expression or a short micrograd-style program, read with Python's `ast` into gates — the
text is never evaluated (no eval, no exec): every node of its syntax tree is either one of the
allowed constructs, turned into a gate, or refused with a CircuitError naming it and its
line:column.

Allowed: names, numbers, + - * /, ** with a number as exponent, unary minus, the functions
exp log tanh sigmoid relu abs sqrt (one argument) and max min (two), the methods .relu()
.tanh() .exp() .log(); statements `name = expr` and `name += expr` (also -=, *=, /=).
The inputs are the names read before they are assigned, in the order first read; the output
is the last variable assigned (or the expression itself), unless `output` names another.
"""

from __future__ import annotations

import ast

from ..errors import CircuitError
from .ops import FUNCTIONS, METHODS, OPS
from .trace import CircuitTrace, Node

ALLOWED = ("allowed: names, numbers, + - * /, ** with a number exponent, unary minus, "
           "exp log tanh sigmoid relu abs sqrt max min, the methods .relu() .tanh() .exp() "
           ".log(), and assignments name = … / name += …")
BINARY = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div"}
# what a refused construct is called in the message
CONSTRUCTS = {
    ast.Lambda: "a lambda", ast.ListComp: "a comprehension", ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension", ast.GeneratorExp: "a generator expression",
    ast.Subscript: "a subscript", ast.List: "a list", ast.Tuple: "a tuple", ast.Dict: "a dict",
    ast.Set: "a set", ast.Compare: "a comparison", ast.BoolOp: "and/or", ast.IfExp: "an if-else",
    ast.JoinedStr: "an f-string", ast.NamedExpr: "an assignment expression (:=)",
    ast.Await: "await", ast.Starred: "a starred expression", ast.Slice: "a slice",
    ast.Import: "an import", ast.ImportFrom: "an import", ast.FunctionDef: "a function definition",
    ast.ClassDef: "a class", ast.For: "a for loop", ast.While: "a while loop", ast.If: "an if",
    ast.With: "a with block", ast.Delete: "del", ast.Return: "return", ast.Global: "global",
    ast.Try: "a try block", ast.AnnAssign: "an annotated assignment", ast.Raise: "raise",
    ast.Assert: "assert", ast.Pass: "pass",
}
OPERATORS = {ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@", ast.BitAnd: "&",
             ast.BitOr: "|", ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>",
             ast.Not: "not", ast.Invert: "~", ast.Pow: "**"}


def refuse(node: ast.AST, what: str) -> CircuitError:
    where = f"line {node.lineno}:{node.col_offset + 1}" if hasattr(node, "lineno") else "here"
    return CircuitError(f"{where}: {what} is not allowed in a circuit; {ALLOWED}")


def describe(node: ast.AST) -> str:
    if isinstance(node, ast.Constant):
        return f"the constant {node.value!r}" if not isinstance(node.value, str) else "a string"
    return CONSTRUCTS.get(type(node), type(node).__name__)


class Builder:
    """Walks the syntax tree statement by statement, making one Node per input, number and
    operation."""

    def __init__(self, values: dict[str, float]):
        self.values = values
        self.inputs: list[Node] = []
        self.constants: list[Node] = []
        self.gates: list[Node] = []
        self.env: dict[str, str] = {}  # variable -> id of the node it holds now
        self.assigned: dict[str, int] = {}  # variable -> times assigned
        self.nodes: dict[str, Node] = {}
        self.missing: list[str] = []
        self.defined: list[str] = []  # inputs given their value in the program (a = -4.0)

    # ---- nodes ---------------------------------------------------------------------------
    def _add(self, node: Node, into: list) -> str:
        into.append(node)
        self.nodes[node.id] = node
        return node.id

    def name(self, node: ast.Name) -> str:
        if node.id in self.env:
            return self.env[node.id]
        if node.id in FUNCTIONS:
            raise refuse(node, f"the function name {node.id} without a call (write {node.id}(x))")
        value = self.values.get(node.id)
        if value is None:
            self.missing.append(node.id)
            value = float("nan")
        ident = self._add(Node(f"i{len(self.inputs) + 1}", "input", node.id, float(value)),
                          self.inputs)
        self.env[node.id] = ident
        return ident

    def constant(self, value: float) -> str:
        label = repr(value) if not float(value).is_integer() or isinstance(value, float) \
            else str(int(value))
        return self._add(Node(f"k{len(self.constants) + 1}", "constant", label, float(value)),
                         self.constants)

    def gate(self, op: str, args: list[str], line: int, param=None) -> str:
        o = OPS[op]
        ident = f"g{len(self.gates) + 1}"
        arg_nodes = [self.nodes[a] for a in args]
        value = o.fn(*[n.value for n in arg_nodes], param) if not self.missing else float("nan")
        node = Node(ident, "gate", ident, float(value), op=op, symbol=o.symbol, param=param,
                    args=tuple(args), line=line)
        for n in arg_nodes:
            n.uses.append(ident)
        return self._add(node, self.gates)

    # ---- expressions ---------------------------------------------------------------------
    def expr(self, node: ast.AST) -> str:
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            return self.constant(node.value)
        if isinstance(node, ast.BinOp):
            return self.binop(node)
        if isinstance(node, ast.UnaryOp):
            return self.unary(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.Attribute):
            raise refuse(node, f"the attribute .{node.attr}"
                         + (" without a call" if node.attr in METHODS else ""))
        raise refuse(node, describe(node))

    def binop(self, node: ast.BinOp) -> str:
        if isinstance(node.op, ast.Pow):
            exponent = number(node.right)
            if exponent is None:
                raise refuse(node.right, "a power whose exponent is not a number")
            return self.gate("pow", [self.expr(node.left)], node.lineno, float(exponent))
        if type(node.op) not in BINARY:
            raise refuse(node, f"the operator {OPERATORS.get(type(node.op), '?')}")
        left, right = self.expr(node.left), self.expr(node.right)
        return self.gate(BINARY[type(node.op)], [left, right], node.lineno)

    def unary(self, node: ast.UnaryOp) -> str:
        if isinstance(node.op, ast.UAdd):
            return self.expr(node.operand)
        if not isinstance(node.op, ast.USub):
            raise refuse(node, f"the operator {OPERATORS.get(type(node.op), '?')}")
        value = number(node)
        if value is not None:  # -2 is a number, not a gate
            return self.constant(value)
        return self.gate("neg", [self.expr(node.operand)], node.lineno)

    def call(self, node: ast.Call) -> str:
        if node.keywords:
            raise refuse(node.keywords[0].value, "a keyword argument")
        f = node.func
        if isinstance(f, ast.Attribute):
            if f.attr not in METHODS:
                raise refuse(f, f"the method .{f.attr}()" if True else "")
            if node.args:
                raise refuse(node.args[0], f"an argument to .{f.attr}()")
            return self.gate(f.attr, [self.expr(f.value)], node.lineno)
        if not isinstance(f, ast.Name) or f.id not in FUNCTIONS:
            called = f.id if isinstance(f, ast.Name) else describe(f)
            raise refuse(node, f"a call of {called}")
        arity = OPS[f.id].arity
        if len(node.args) != arity:
            raise refuse(node, f"{f.id}() with {len(node.args)} argument(s) (it takes {arity})")
        return self.gate(f.id, [self.expr(a) for a in node.args], node.lineno)

    # ---- statements ----------------------------------------------------------------------
    def statement(self, node: ast.stmt) -> str | None:
        """Returns the variable a statement assigns (None for a bare expression)."""
        if isinstance(node, ast.Assign):
            if len(node.targets) != 1 or not isinstance(node.targets[0], ast.Name):
                raise refuse(node.targets[-1], "an assignment to anything but one name")
            target = node.targets[0].id
            value = number(node.value)
            if value is not None and target not in self.env:  # `a = -4.0`: an input, named
                given = self.values.get(target, value)
                ident = self._add(Node(f"i{len(self.inputs) + 1}", "input", target,
                                       float(given)), self.inputs)
                self.defined.append(target)
            else:
                ident = self.expr(node.value)
        elif isinstance(node, ast.AugAssign):
            if not isinstance(node.target, ast.Name):
                raise refuse(node.target, "an assignment to anything but one name")
            if type(node.op) not in BINARY:
                raise refuse(node, f"the operator {OPERATORS.get(type(node.op), '?')}=")
            target = node.target.id
            current = self.name(ast.copy_location(ast.Name(target, ast.Load()), node.target))
            ident = self.gate(BINARY[type(node.op)], [current, self.expr(node.value)],
                              node.lineno)
        elif isinstance(node, ast.Expr):
            self.env["_"] = self.expr(node.value)
            return None
        else:
            raise refuse(node, describe(node))
        self.bind(target, ident)
        return target

    def bind(self, target: str, ident: str) -> None:
        if target in FUNCTIONS:
            raise CircuitError(f"{target} is a function of the grammar; choose another name")
        self.env[target] = ident
        node = self.nodes[ident]
        if node.kind == "gate" and node.label == node.id:  # name the gate by its variable
            times = self.assigned.get(target, 0)
            node.label = target + "′" * times
        self.assigned[target] = self.assigned.get(target, 0) + 1


def number(node: ast.AST) -> float | None:
    """The value of a number written as a literal, possibly with signs (-2, +3.5)."""
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        inner = number(node.operand)
        if inner is not None:
            return -inner if isinstance(node.op, ast.USub) else inner
    return None


def parse_circuit(text: str, values: dict[str, float], *, source: str = "expression",
                  output: str | None = None) -> CircuitTrace:
    """The forward pass of the circuit written in `text` at these input values: its inputs,
    constants and gates (values computed), the output chosen.  Raises CircuitError."""
    tree = _syntax(text)
    builder = Builder({k: float(v) for k, v in values.items()})
    last = None
    for statement in tree.body:
        last = builder.statement(statement) or last
    if isinstance(tree.body[-1], ast.Expr) if tree.body else False:
        last = "_"
    if not builder.gates:
        raise CircuitError(f"{source}: no operation to trace; write an expression such as "
                           "(x + y) * z, or assignments such as c = a * b")
    _check_values(builder, values)
    name = output if output is not None else last
    if name not in builder.env:
        assigned = ", ".join(v for v in builder.assigned) or "none"
        raise CircuitError(f"--output {name}: no variable {name} is assigned; the variables "
                           f"are {assigned}")
    out = builder.env[name]
    if builder.nodes[out].kind != "gate":
        raise CircuitError(f"the output {name} is not computed by any gate")
    if builder.nodes[out].label == out:
        taken = {n.label for n in builder.inputs} | set(builder.assigned)
        builder.nodes[out].label = name if name != "_" else "f" if "f" not in taken else "out"
    return _finish(builder, text, source, out)


def input_names(text: str) -> list[str]:
    """The names the circuit reads before assigning them, whose values must be given, in the
    order first read (an exercise draws them).  Raises CircuitError for a refused construct."""
    builder = Builder({})
    for statement in _syntax(text).body:
        builder.statement(statement)
    return [n.label for n in builder.inputs if n.label in builder.missing]


def _syntax(text: str) -> ast.Module:
    try:
        return ast.parse(text, mode="exec")
    except SyntaxError as exc:
        raise CircuitError(f"line {exc.lineno}:{exc.offset}: not Python syntax ({exc.msg}); "
                           f"{ALLOWED}") from None


def _check_values(builder: Builder, values: dict) -> None:
    names = [n.label for n in builder.inputs]
    if builder.missing:
        raise CircuitError(f"no value for the input(s) {', '.join(builder.missing)}; give every "
                           f"input a value: --at {','.join(f'{n}=…' for n in names)}")
    unknown = [k for k in values if k not in names]
    if unknown:
        raise CircuitError(f"--at {', '.join(unknown)}: no such input; the circuit's inputs "
                           f"are {', '.join(names)}")


def _finish(builder: Builder, text: str, source: str, out: str) -> CircuitTrace:
    """Keeps only what the output depends on, labels the unnamed gates and writes each gate's
    operation with its inputs' labels."""
    needed, stack = set(), [out]
    while stack:
        ident = stack.pop()
        if ident not in needed:
            needed.add(ident)
            stack.extend(builder.nodes[ident].args)
    notes = []
    unused = [n.label for n in (*builder.inputs, *builder.gates) if n.id not in needed]
    if unused:
        notes.append(f"left out, as the output does not depend on them: {', '.join(unused)}")
    keep = lambda nodes: [n for n in nodes if n.id in needed]
    inputs, constants, gates = keep(builder.inputs), keep(builder.constants), keep(builder.gates)
    taken = {n.label for n in (*inputs, *gates) if n.label != n.id}
    for n in (*inputs, *constants, *gates):
        n.uses = [u for u in n.uses if u in needed]
    for g in gates:
        if g.label == g.id and g.label in taken:
            g.label = f"_{g.id}"
        g.text = OPS[g.op].text([builder.nodes[a].label for a in g.args], g.param)
    return CircuitTrace(source, text, inputs, constants, gates, out, notes=notes)
