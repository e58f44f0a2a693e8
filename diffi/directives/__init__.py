"""The differentiation directives (docs/differentiation.md): d/dx, grad, backprop, hessian,
jacobian, check, explain, graph and minimize. Each builds a Problem (what to
differentiate, at which point) and hands its tape to a mode (forward, reverse, numeric,
symbolic); `run` dispatches a directive to its handler by the one table below.

Inside the package, imports go one way: context.py (what every directive shares) <-
tables.py (the traces they show) <- derivatives.py (d/dx, grad, backprop) <- explain.py,
check.py, matrices.py (hessian, jacobian), graphs.py <- this dispatch; training.py
(minimize, with the compiler) loads only when a program trains.
"""
from __future__ import annotations

from .. import table
from ..core.graph import Node
from ..errors import DiffiError
from . import check, derivatives, explain, graphs, matrices
from .context import Report


def run(ev, ast, scope) -> Node:
    """Evaluate a directive; its result as a graph node."""
    handler = HANDLERS[ast.kind]
    try:
        result = handler(ev, ast, scope)
    except DiffiError as error:  # an error found in an earlier statement's graph
        if error.span is None:
            error.span = ast.span
        raise
    if isinstance(result, Node):
        return result
    if isinstance(result, Report):
        value = result.value
        leaf = value if isinstance(value, Node) else _leaf(ev, value, ast)
        result.value = leaf.value
        return ev.record(table.REPORT, (leaf,), leaf.value, ast.span, params=result)
    return _leaf(ev, result, ast)


def _leaf(ev, value, ast) -> Node:
    return ev.record(table.CONST, (), value, ast.span)


def _minimize(ev, ast, scope):
    from .training import minimize  # lazily: training loads the compiler, only when used
    return minimize(ev, ast, scope)


# The one dispatch table: a directive's kind -> its handler(ev, ast, scope).
HANDLERS: dict = {"d": derivatives.derivative, "grad": derivatives.grad,
                  "backprop": derivatives.backprop, "minimize": _minimize,
                  "hessian": matrices.hessian, "jacobian": matrices.jacobian,
                  "check": check.check, "explain": explain.explain, "graph": graphs.graph}
