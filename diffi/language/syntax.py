"""The abstract syntax tree of diffi programs, and its printer (`unparse`).

Every node carries a `span` (diffi.errors.Span) so that errors can point at it.
Binary and unary operators keep the span of their operator token.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, fields

from ..errors import Span

RESERVED = frozenset(
    "at wrt using if then else and or not grad backprop hessian jacobian "
    "check graph explain minimize to".split())

# Precedence tiers (docs/language.md, low → high); a directive sits below them all.
DIRECTIVE, IF, OR, AND, NOT, COMPARE, ADD, MUL, UNARY, POW, POSTFIX, ATOM = range(12)
BINARY_PRECEDENCE = {"+": ADD, "-": ADD, "*": MUL, "/": MUL, "@": MUL, "^": POW,
                     "<": COMPARE, "<=": COMPARE, ">": COMPARE, ">=": COMPARE,
                     "==": COMPARE, "!=": COMPARE, "and": AND, "or": OR}
SPACED = {"+", "-", "@", "<", "<=", ">", ">=", "==", "!=", "and", "or"}


def _node(cls):
    return dataclass(eq=False, repr=False, slots=True)(cls)


class Node:
    """Base of every syntax node."""

    __slots__ = ()

    def __repr__(self) -> str:
        return unparse(self)


@_node
class Num(Node):
    value: float
    span: Span | None = None


@_node
class Name(Node):
    id: str
    span: Span | None = None


@_node
class Str(Node):
    value: str
    span: Span | None = None


@_node
class Literal(Node):
    """A value given from Python (the API's points); never produced by the parser."""

    value: object
    span: Span | None = None


@_node
class Unary(Node):
    op: str  # '-', '+', 'not'
    operand: Node
    span: Span | None = None


@_node
class Binary(Node):
    op: str  # arithmetic, '@', '^' and comparisons
    left: Node
    right: Node
    span: Span | None = None


@_node
class Logic(Node):
    op: str  # 'and', 'or' (short-circuit)
    left: Node
    right: Node
    span: Span | None = None


@_node
class IfElse(Node):
    cond: Node
    then: Node
    other: Node
    span: Span | None = None


@_node
class Keyword(Node):
    name: str
    value: Node
    span: Span | None = None


@_node
class Call(Node):
    func: Node
    args: list
    keywords: list = field(default_factory=list)  # list[Keyword]
    span: Span | None = None


@_node
class Slice(Node):
    start: Node | None
    stop: Node | None
    step: Node | None
    span: Span | None = None


@_node
class Index(Node):
    target: Node
    items: list  # Node or Slice
    span: Span | None = None


@_node
class Vector(Node):
    items: list
    span: Span | None = None


@_node
class TupleLit(Node):
    items: list
    span: Span | None = None


@_node
class Block(Node):
    body: list  # statements before the result
    result: Node
    span: Span | None = None


@_node
class Point(Node):
    """`at x = 3, y = 0` (named) or `at (3, 0)` (positional)."""

    named: list  # list[Keyword]
    positional: Node | None = None
    span: Span | None = None


@_node
class Mode(Node):
    """`using numeric(step = 1e-6)`."""

    name: str
    args: list = field(default_factory=list)
    keywords: list = field(default_factory=list)
    span: Span | None = None


@_node
class Directive(Node):
    """d/dx, grad, backprop, hessian, jacobian, check, explain, graph, minimize."""

    kind: str
    expr: Node | None
    var: str | None = None        # d/dx: the variable
    order: int = 1                # d2/dx2: the order
    wrt: list | None = None       # list[Name]
    point: Point | None = None
    mode: Mode | None = None
    file: Str | None = None       # graph … to "file"
    inner: "Directive | None" = None  # explain D
    span: Span | None = None


@_node
class Assign(Node):
    target: Name
    value: Node
    span: Span | None = None


@_node
class FuncDef(Node):
    name: Name
    params: list  # list[Name]
    body: Node
    span: Span | None = None


@_node
class Destructure(Node):
    targets: list  # list[Name]
    value: Node
    span: Span | None = None


@_node
class ExprStmt(Node):
    expr: Node
    silent: bool = False
    span: Span | None = None


STATEMENTS = (Assign, FuncDef, Destructure, ExprStmt)


def dump(node):
    """The tree as nested tuples without spans, for comparing trees."""
    if isinstance(node, list):
        return tuple(dump(n) for n in node)
    if not isinstance(node, Node):
        return node
    return (type(node).__name__,) + tuple(
        dump(getattr(node, f.name)) for f in fields(node)
        if f.name not in ("span", "silent"))


# ----------------------------------------------------------------------------
# Printing: every printed formula is valid diffi source for the same value.

def format_number(value: float) -> str:
    """A float as the shortest diffi literal that reads back exactly."""
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == int(value) and abs(value) < 1e16:
        return str(int(value)) if value or math.copysign(1, value) > 0 else "-0"
    return repr(value)


def precedence(node) -> int:
    """The tier a node prints at; parentheses are added below their context."""
    kind = type(node)
    if kind in (Binary, Logic):
        return BINARY_PRECEDENCE[node.op]
    if kind is Unary:
        return NOT if node.op == "not" else UNARY
    if kind is Num:
        return UNARY if math.copysign(1.0, node.value) < 0 else ATOM
    if kind is IfElse:
        return IF
    if kind is Directive:
        return DIRECTIVE
    if kind in (Call, Index):
        return POSTFIX
    return ATOM


def unparse(node, context: int = DIRECTIVE) -> str:
    """diffi source for a syntax node, parenthesised as its context needs."""
    text = _PRINTERS[type(node)](node)
    return f"({text})" if precedence(node) < context else text


def _binary(node) -> str:
    prec = BINARY_PRECEDENCE[node.op]
    if node.op == "^":
        left, right = unparse(node.left, POSTFIX), unparse(node.right, UNARY)
    elif prec == COMPARE:
        left, right = unparse(node.left, ADD), unparse(node.right, ADD)
    else:
        left, right = unparse(node.left, prec), unparse(node.right, prec + 1)
    if node.op == "and":
        right = unparse(node.right, NOT)
    if node.op in SPACED or node.op == "/" and _reads_as_derivative(left, right):
        return f"{left} {node.op} {right}"
    return f"{left}{node.op}{right}"


def _reads_as_derivative(left: str, right: str) -> bool:
    """`d/dx` written tight would read back as a derivative, not a division."""
    return bool(re.search(r"(?<![\w])d\d*$", left)) and right[:1] == "d"


def _unary(node) -> str:
    if node.op == "not":
        return f"not {unparse(node.operand, NOT)}"
    operand = unparse(node.operand, UNARY)
    if isinstance(node.operand, Unary) or operand.startswith(("-", "+")):
        operand = f"({operand})"
    return f"{node.op}{operand}"


def _args(args, keywords) -> str:
    parts = [unparse(a, IF) for a in args]
    parts += [f"{k.name} = {unparse(k.value, IF)}" for k in keywords]
    return ", ".join(parts)


def _slice(node) -> str:
    parts = ["" if p is None else unparse(p, IF) for p in (node.start, node.stop)]
    text = ":".join(parts)
    return text if node.step is None else f"{text}:{unparse(node.step, IF)}"


def _tuple(node) -> str:
    items = ", ".join(unparse(i, IF) for i in node.items)
    return f"({items},)" if len(node.items) == 1 else f"({items})"


def _block(node) -> str:
    parts = [unparse_statement(s, in_block=True) for s in node.body]
    parts.append(unparse(node.result, DIRECTIVE))
    return "{ " + "; ".join(parts) + " }"


def deriv_head(order: int, var: str) -> str:
    """`d/dx`, `d2/dx2`, or `d2/dx1^2` for a name that ends in a digit."""
    if order == 1:
        return f"d/d{var}"
    if var[-1].isdigit():
        return f"d{order}/d{var}^{order}"
    return f"d{order}/d{var}{order}"


def _directive(node) -> str:
    if node.kind == "explain":
        return f"explain {unparse(node.inner)}"
    head = deriv_head(node.order, node.var) if node.kind == "d" else node.kind
    parts = [head, unparse(node.expr, IF)]
    if node.wrt:
        parts.append("wrt " + ", ".join(n.id for n in node.wrt))
    if node.file is not None:
        parts.append("to " + _string(node.file))
    if node.point is not None:
        parts.append(_point(node.point))
    if node.mode is not None:
        parts.append(_mode(node.mode))
    return " ".join(parts)


def _point(point) -> str:
    if point.positional is not None:
        return f"at {unparse(point.positional, IF)}"
    return "at " + ", ".join(f"{k.name} = {unparse(k.value, IF)}" for k in point.named)


def _mode(mode) -> str:
    if not mode.args and not mode.keywords:
        return f"using {mode.name}"
    return f"using {mode.name}({_args(mode.args, mode.keywords)})"


def _string(node) -> str:
    escaped = (node.value.replace("\\", "\\\\").replace('"', '\\"')
               .replace("\n", "\\n").replace("\t", "\\t"))
    return f'"{escaped}"'


def _literal(value) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join(_literal(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format_number(value)
    if hasattr(value, "tolist"):
        return _literal_list(value.tolist())
    return str(value)


def _literal_list(items) -> str:
    if isinstance(items, list):
        return "[" + ", ".join(_literal_list(i) for i in items) + "]"
    return format_number(float(items))


_PRINTERS = {
    Literal: lambda n: _literal(n.value),
    Num: lambda n: format_number(n.value),
    Name: lambda n: n.id,
    Str: _string,
    Unary: _unary,
    Binary: _binary,
    Logic: _binary,
    IfElse: lambda n: (f"if {unparse(n.cond, IF)} then {unparse(n.then, IF)} "
                       f"else {unparse(n.other, IF)}"),
    Call: lambda n: f"{unparse(n.func, POSTFIX)}({_args(n.args, n.keywords)})",
    Index: lambda n: (f"{unparse(n.target, POSTFIX)}["
                      + ", ".join(_slice(i) if isinstance(i, Slice) else unparse(i, IF)
                                  for i in n.items) + "]"),
    Vector: lambda n: "[" + ", ".join(unparse(i, IF) for i in n.items) + "]",
    TupleLit: _tuple,
    Block: _block,
    Directive: _directive,
}


def unparse_statement(stmt, in_block: bool = False) -> str:
    """diffi source for one statement."""
    kind = type(stmt)
    if kind is Assign:
        return f"{stmt.target.id} = {unparse(stmt.value)}"
    if kind is FuncDef:
        params = ", ".join(p.id for p in stmt.params)
        return f"{stmt.name.id}({params}) = {unparse(stmt.body)}"
    if kind is Destructure:
        return ", ".join(t.id for t in stmt.targets) + f" = {unparse(stmt.value)}"
    text = unparse(stmt.expr)
    return text + ";" if stmt.silent and not in_block else text
