"""The abstract syntax tree of diffi programs, and its printer (`unparse`).

Every node carries a `span` (diffi.errors.Span) so that errors can point at it.
Binary and unary operators keep the span of their operator token.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

from .. import calls
from ..errors import Span
from .vocabulary import RESERVED  # noqa: F401 (RESERVED: read here by many)

# Precedence tiers (docs/language.md, low → high); a directive sits below them all.
DIRECTIVE, IF, OR, AND, NOT, COMPARE, ADD, MUL, UNARY, POW, POSTFIX, ATOM = range(12)
BINARY_PRECEDENCE = {"+": ADD, "-": ADD, "*": MUL, "/": MUL, "@": MUL, "^": POW,
                     "<": COMPARE, "<=": COMPARE, ">": COMPARE, ">=": COMPARE,
                     "==": COMPARE, "!=": COMPARE, "and": AND, "or": OR}
SPACED = {"+", "-", "@", "<", "<=", ">", ">=", "==", "!=", "and", "or"}


def _node(cls):
    return dataclass(eq=False, repr=False, slots=True)(cls)


class Syntax:
    """Base of every syntax node."""

    __slots__ = ()

    def __repr__(self) -> str:
        return unparse(self)


@_node
class Num(Syntax):
    value: float
    span: Span | None = None


@_node
class Name(Syntax):
    id: str
    span: Span | None = None


@_node
class Str(Syntax):
    value: str
    span: Span | None = None


@_node
class Literal(Syntax):
    """A value given from Python (the API's points); never produced by the parser."""

    value: object
    span: Span | None = None


@_node
class Unary(Syntax):
    op: str  # '-', '+', 'not'
    operand: Syntax
    span: Span | None = None


@_node
class Binary(Syntax):
    op: str  # arithmetic, '@', '^' and comparisons
    left: Syntax
    right: Syntax
    span: Span | None = None


@_node
class Logic(Syntax):
    op: str  # 'and', 'or' (short-circuit)
    left: Syntax
    right: Syntax
    span: Span | None = None


@_node
class IfElse(Syntax):
    cond: Syntax
    then: Syntax
    other: Syntax
    span: Span | None = None


@_node
class Keyword(Syntax):
    name: str
    value: Syntax
    span: Span | None = None


@_node
class Call(Syntax):
    func: Syntax
    args: list
    keywords: list = field(default_factory=list)  # list[Keyword]
    span: Span | None = None


@_node
class Slice(Syntax):
    start: Syntax | None
    stop: Syntax | None
    step: Syntax | None
    span: Span | None = None


@_node
class Index(Syntax):
    target: Syntax
    items: list  # Syntax or Slice
    span: Span | None = None


@_node
class Vector(Syntax):
    items: list
    span: Span | None = None


@_node
class TupleLit(Syntax):
    items: list
    span: Span | None = None


@_node
class Block(Syntax):
    body: list  # statements before the result
    result: Syntax
    span: Span | None = None


@_node
class Point(Syntax):
    """`at x = 3, y = 0` (named) or `at (3, 0)` (positional)."""

    named: list  # list[Keyword]
    positional: Syntax | None = None
    span: Span | None = None
    strict: bool = False  # (from Python: a name the expression does not use is an error)


@_node
class Mode(Syntax):
    """`using numeric(step = 1e-6)`."""

    name: str
    args: list = field(default_factory=list)
    keywords: list = field(default_factory=list)
    span: Span | None = None


@_node
class Directive(Syntax):
    """d/dx, grad, backprop, hessian, jacobian, check, explain, graph, minimize."""

    kind: str
    expr: Syntax | None
    var: str | None = None        # d/dx: the variable
    order: int = 1                # d2/dx2: the order
    wrt: list | None = None       # list[Name]
    point: Point | None = None
    mode: Mode | None = None
    file: Str | None = None       # graph … to "file", plot … to "file"
    extent: list | None = None    # plot … from a to b: [a, b]; taylor … order n: [n]
    inner: "Directive | None" = None  # explain D
    span: Span | None = None


@_node
class Assign(Syntax):
    target: Name
    value: Syntax
    span: Span | None = None


@_node
class FuncDef(Syntax):
    name: Name
    params: list  # list[Name]
    body: Syntax
    span: Span | None = None


@_node
class Destructure(Syntax):
    targets: list  # list[Name]
    value: Syntax
    span: Span | None = None


@_node
class ExprStmt(Syntax):
    expr: Syntax
    silent: bool = False
    span: Span | None = None


STATEMENTS = (Assign, FuncDef, Destructure, ExprStmt)


def dump(node):
    """The tree as nested tuples without spans, for comparing trees."""
    if isinstance(node, list):
        return tuple(dump(n) for n in node)
    if not isinstance(node, Syntax):
        return node
    return (type(node).__name__,) + tuple(
        dump(getattr(node, f.name)) for f in fields(node)
        if f.name not in ("span", "silent"))


# ----------------------------------------------------------------------------
# Printing: every printed formula is valid diffi source for the same value.

def number_literal(value: float) -> str:
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
        return ATOM if node.kind == "prime" else DIRECTIVE
    if kind in (Call, Index):
        return POSTFIX
    return ATOM


def unparse(node, context: int = DIRECTIVE) -> str:
    """diffi source for a syntax node, parenthesised as its context needs.

    Written without recursion and in time linear in the text: a formula as deep or as
    long as a program can make (a product of 100,000 factors, 20,000 nested calls)
    prints, and the timeout of the call printing it holds (diffi.calls).
    """
    return _write([(node, context)])


def unparse_statement(stmt, in_block: bool = False) -> str:
    """diffi source for one statement."""
    return _write(_statement_parts(stmt, in_block))


def _write(parts: list) -> str:
    """Expand parts (strings, and (node, context) pairs) left to right into text."""
    out: list[str] = []
    stack = list(reversed(parts))
    expanded = 0
    while stack:
        item = stack.pop()
        if type(item) is str:
            out.append(item)
            continue
        node, context = item
        inner = _PARTS[type(node)](node)
        if precedence(node) < context:
            inner = ["(", *inner, ")"]
        stack.extend(reversed(inner))
        expanded += 1
        if not expanded & 4095:
            calls.check()
    return "".join(out)


def _binary_contexts(node) -> tuple[int, int]:
    """The contexts of a binary operator's operands (right-associative ^, the
    non-associative comparisons, and `and`, whose right side may be a `not`)."""
    prec = BINARY_PRECEDENCE[node.op]
    if node.op == "^":
        left, right = POSTFIX, UNARY
    elif prec == COMPARE:
        left, right = ADD, ADD
    else:
        left, right = prec, prec + 1
    return left, NOT if node.op == "and" else right


def _binary(node) -> list:
    left, right = _binary_contexts(node)
    if node.op in SPACED or node.op == "/" and _reads_as_derivative(node, left, right):
        return [(node.left, left), f" {node.op} ", (node.right, right)]
    return [(node.left, left), node.op, (node.right, right)]


def _reads_as_derivative(node, left: int, right: int) -> bool:
    """`d/dx`, `d^2/dx^2` or `dy/dx` written tight would read back as a derivative, not
    a division: the left side ends in a word that starts with d (d, d2, dy, d^2) and the
    right side starts with d."""
    return _first_character(node.right, right) == "d" and _ends_in_d_word(node.left, left)


def _first_character(node, context: int) -> str:
    """The first character of unparse(node, context), found without printing it."""
    while True:
        if precedence(node) < context:
            return "("
        kind = type(node)
        if kind in (Binary, Logic):
            node, context = node.left, _binary_contexts(node)[0]
        elif kind in (Call, Index):
            node, context = (node.func if kind is Call else node.target), POSTFIX
        elif kind is Unary:
            return "n" if node.op == "not" else node.op
        else:
            text = _FIRST.get(kind)
            return text(node)[:1] if callable(text) else text


def _ends_in_d_word(node, context: int) -> bool:
    """Whether unparse(node, context) ends in a word starting with d: a name like d, d2
    or dy, or a power of one (d^2) whose exponent is a plain name or whole number."""
    while type(node) is Binary and node.op == "^" and precedence(node) >= context \
            and _plain_word(node.right):
        last = _last_name(node.right, UNARY)
        if last is not None and last.startswith("d"):
            return True
        node, context = node.left, POSTFIX
    last = _last_name(node, context)
    return last is not None and last.startswith("d")


def _plain_word(node) -> bool:
    """A name or a whole number: its text is one word, which a ^ before it joins."""
    return type(node) is Name or type(node) is Num and number_literal(node.value).isdigit()


def _last_name(node, context: int):
    """The name unparse(node, context) ends with, if it ends with a name."""
    while True:
        if precedence(node) < context:
            return None
        kind = type(node)
        if kind is Name:
            return node.id
        if kind in (Binary, Logic):
            node, context = node.right, _binary_contexts(node)[1]
        elif kind is Unary:
            if node.op != "not" and _wrapped(node.operand):
                return None
            node, context = node.operand, NOT if node.op == "not" else UNARY
        elif kind is IfElse:
            node, context = node.other, IF
        elif kind is Directive and node.kind != "explain" and node.mode is None \
                and node.point is None and node.file is None:
            if node.wrt:
                return node.wrt[-1].id
            node, context = node.expr, IF
        else:
            return None


def _wrapped(operand) -> bool:
    """Whether `-operand` puts the operand in parentheses: another sign, or a text
    that starts with one (-(-x), -(-2))."""
    return isinstance(operand, Unary) or _first_character(operand, UNARY) in ("-", "+")


def _unary(node) -> list:
    if node.op == "not":
        return ["not ", (node.operand, NOT)]
    if _wrapped(node.operand):
        return [node.op, "(", (node.operand, UNARY), ")"]
    return [node.op, (node.operand, UNARY)]


def _separated(items: list, separator: str = ", ") -> list:
    """Parts of items (each a list of parts) joined by a separator."""
    out: list = []
    for i, item in enumerate(items):
        if i:
            out.append(separator)
        out.extend(item)
    return out


def _args(args, keywords) -> list:
    items = [[(a, IF)] for a in args]
    items += [[f"{k.name} = ", (k.value, IF)] for k in keywords]
    return _separated(items)


def _slice(node) -> list:
    parts: list = []
    for i, p in enumerate((node.start, node.stop)):
        if i:
            parts.append(":")
        if p is not None:
            parts.append((p, IF))
    if node.step is not None:
        parts += [":", (node.step, IF)]
    return parts


def _index(node) -> list:
    items = [_slice(i) if isinstance(i, Slice) else [(i, IF)] for i in node.items]
    return [(node.target, POSTFIX), "[", *_separated(items), "]"]


def _tuple(node) -> list:
    items = _separated([[(i, IF)] for i in node.items])
    return ["(", *items, ",)" if len(node.items) == 1 else ")"]


def _block(node) -> list:
    items = [_statement_parts(s, in_block=True) for s in node.body]
    items.append([(node.result, DIRECTIVE)])
    return ["{ ", *_separated(items, "; "), " }"]


def deriv_head(order: int, var: str) -> str:
    """`d/dx`, `d2/dx2`, or `d2/dx1^2` for a name that ends in a digit."""
    if order == 1:
        return f"d/d{var}"
    if var[-1].isdigit():
        return f"d{order}/d{var}^{order}"
    return f"d{order}/d{var}{order}"


def _directive(node) -> list:
    if node.kind == "explain":
        return ["explain ", (node.inner, DIRECTIVE)]
    if node.kind == "prime":
        return [node.expr.id + "'" * node.order, "(",
                *_args(node.point.positional.items, []), ")"]
    if node.kind == "taylor":
        return ["taylor ", (node.expr, IF), " ", *_point(node.point), " order ",
                (node.extent[0], IF)]
    if node.kind == "plot":
        parts = ["plot ", *_separated([[(c, IF)] for c in node.expr.items])]
        if node.extent is not None:
            parts += [" from ", (node.extent[0], IF), " to ", (node.extent[1], IF)]
        if node.file is not None:
            parts.append(" to " + _string(node.file))
        return parts
    head = deriv_head(node.order, node.var) if node.kind == "d" else node.kind
    parts = [head, " ", (node.expr, IF)]
    if node.wrt:
        parts.append(" wrt " + ", ".join(n.id for n in node.wrt))
    if node.file is not None:
        parts.append(" to " + _string(node.file))
    if node.point is not None:
        parts += [" ", *_point(node.point)]
    if node.mode is not None:
        parts += [" ", *_mode(node.mode)]
    return parts


def _point(point) -> list:
    if point.positional is not None:
        return ["at ", (point.positional, IF)]
    return ["at ", *_separated([[f"{k.name} = ", (k.value, IF)] for k in point.named])]


def _mode(mode) -> list:
    if not mode.args and not mode.keywords:
        return [f"using {mode.name}"]
    return [f"using {mode.name}(", *_args(mode.args, mode.keywords), ")"]


def _statement_parts(stmt, in_block: bool = False) -> list:
    kind = type(stmt)
    if kind is Assign:
        return [f"{stmt.target.id} = ", (stmt.value, DIRECTIVE)]
    if kind is FuncDef:
        params = ", ".join(p.id for p in stmt.params)
        return [f"{stmt.name.id}({params}) = ", (stmt.body, DIRECTIVE)]
    if kind is Destructure:
        return [", ".join(t.id for t in stmt.targets) + " = ", (stmt.value, DIRECTIVE)]
    parts = [(stmt.expr, DIRECTIVE)]
    return parts + [";"] if stmt.silent and not in_block else parts


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
        return number_literal(value)
    if hasattr(value, "tolist"):
        return _literal_list(value.tolist())
    return str(value)


def _literal_list(items) -> str:
    if isinstance(items, list):
        return "[" + ", ".join(_literal_list(i) for i in items) + "]"
    return number_literal(float(items))


# The parts each kind of node prints as: strings, and (child, context) pairs.
_PARTS = {
    Literal: lambda n: [_literal(n.value)],
    Num: lambda n: [number_literal(n.value)],
    Name: lambda n: [n.id],
    Str: lambda n: [_string(n)],
    Unary: _unary,
    Binary: _binary,
    Logic: _binary,
    IfElse: lambda n: ["if ", (n.cond, IF), " then ", (n.then, IF), " else ", (n.other, IF)],
    Call: lambda n: [(n.func, POSTFIX), "(", *_args(n.args, n.keywords), ")"],
    Index: _index,
    Vector: lambda n: ["[", *_separated([[(i, IF)] for i in n.items]), "]"],
    TupleLit: _tuple,
    Block: _block,
    Directive: _directive,
}

# The first character of each kind of node that does not start with another node.
_FIRST = {
    Literal: lambda n: _literal(n.value),
    Num: lambda n: number_literal(n.value),
    Name: lambda n: n.id,
    Str: '"', IfElse: "i", Vector: "[", TupleLit: "(", Block: "{",
    Directive: lambda n: n.expr.id if n.kind == "prime" else
    deriv_head(n.order, n.var) if n.kind == "d" else n.kind,
}
