"""The rules a symbolic derivative applies, one line per operation, named as a lecture
names them: the sum, product, quotient, chain and power rules, a constant factor, and
the derivative of each built-in function.

Each line writes the rule for that operation with its own parts, `u'` standing for the
derivative of a part u (the derivative of a variable by itself is 1 and is left out):

    product rule    (x^2·sin(x))' = (x^2)'·sin(x) + x^2·(sin(x))'
"""
from __future__ import annotations

from .. import table
from ..core.graph import Node, ancestors
from ..language import syntax as S
from ..modes import symbolic
from ..table import reader
from .tables import pretty

_SUMS = (table.ADD, table.SUB, table.NEG, table.POS)


def rule_lines(formula: Node, variables: set[int], single: bool) -> list[str]:
    """`name  (E)' = …` for every operation of the formula that depends on a variable
    (`variables`: ids of their symbols; `single`: one variable, whose own derivative,
    1, is left out), inner operations first, names aligned."""
    moving = _moving(formula, variables)
    rows = []
    b = symbolic.Builder(canonical=True)
    for node in ancestors(formula):
        if node.inputs and node.id in moving:
            row = _row(b, node, moving, variables if single else set())
            if row is not None:
                rows.append(row)
    width = max((len(name) for name, _ in rows), default=0)
    return [f"  {name.ljust(width)}  {text}" for name, text in rows]


def _moving(formula: Node, variables: set[int]) -> set[int]:
    """Ids of the nodes that depend on a variable (a walk in graph order, no recursion)."""
    moving = set()
    for node in ancestors(formula):
        if node.id in variables or any(i.id in moving for i in node.inputs):
            moving.add(node.id)
    return moving


def _row(b, node: Node, moving: set[int], unit: set[int]):
    """(rule name, instantiated rule) for one operation; None when nothing moves it."""
    op, args = node.op, node.inputs
    prime = [_prime(a, moving, unit) for a in args]
    syntax = [_syntax(a) for a in args]
    lhs = f"({_text(_syntax(node))})'"
    if op in _SUMS:
        return "sum rule", f"{lhs} = {_text(_sum_of(op, prime))}"
    if op is table.MUL:
        return _product(lhs, syntax, prime)
    if op is table.DIV:
        return _quotient(lhs, syntax, prime)
    parts = reader.elementwise_partials(op, b, *args, node) if op.numeric else None
    if not parts:
        return None
    terms = [_times(_syntax(b.node(part)), d) for part, d in zip(parts, prime)
             if part is not None and d is not None]
    if not terms:
        return None
    rhs = _text(_joined(terms))
    if op is table.POW:
        return "power rule", f"{lhs} = {rhs}"
    if len(args) == 1 and _is_one(prime[0]):
        return f"derivative of {op.label}", f"{lhs} = {rhs}"
    return "chain rule", f"{lhs} = {rhs}"


def _product(lhs, syntax, prime):
    u, v = syntax
    du, dv = prime
    if du is None or dv is None:  # one factor is constant: c·u' (or u'·c)
        term = _times(u, dv) if du is None else _times(du, v)
        return "constant factor", f"{lhs} = {_text(term)}"
    return "product rule", f"{lhs} = {_text(S.Binary('+', _times(du, v), _times(u, dv)))}"


def _quotient(lhs, syntax, prime):
    u, v = syntax
    du, dv = prime
    if dv is None:  # (u/c)' = u'/c
        return "constant factor", f"{lhs} = {_text(S.Binary('/', du, v))}"
    square = S.Binary("^", v, S.Num(2.0))
    if du is None:  # (c/v)' = -c·v'/v^2
        top = S.Unary("-", _times(u, dv))
    else:
        top = S.Binary("-", _times(du, v), _times(u, dv))
    return "quotient rule", f"{lhs} = {_text(S.Binary('/', top, square))}"


def _sum_of(op, prime):
    """u' + v', u' - v', -u' (a constant's derivative left out)."""
    if op is table.NEG:
        return S.Unary("-", prime[0])
    if op is table.POS:
        return prime[0]
    du, dv = prime
    if dv is None:
        return du
    if du is None:
        return dv if op is table.ADD else S.Unary("-", dv)
    return S.Binary("+" if op is table.ADD else "-", du, dv)


def _prime(node: Node, moving: set[int], unit: set[int]):
    """u' as syntax: None for a constant, 1 for the variable itself (one variable)."""
    if node.id not in moving:
        return None
    if node.id in unit:
        return S.Num(1.0)
    return S.Name(f"({_text(_syntax(node))})'" if node.inputs else f"{node.name}'")


def _is_one(syntax) -> bool:
    return isinstance(syntax, S.Num) and syntax.value == 1


def _times(a, b):
    """a·b, a factor 1 left out."""
    if _is_one(b):
        return a
    if _is_one(a):
        return b
    return S.Binary("*", a, b)


def _joined(terms):
    result = terms[0]
    for term in terms[1:]:
        result = S.Binary("+", result, term)
    return result


def _syntax(node: Node):
    names = {n.id: n.name for n in ancestors(node) if n.op is table.CONST and n.name}
    _, [syntax] = symbolic.to_syntax([node], names, share=False)
    return syntax


def _text(syntax) -> str:
    return pretty(S.unparse(syntax))
