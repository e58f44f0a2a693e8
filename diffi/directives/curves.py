"""Functions of one variable read as a calculus course writes them: `f'(x)` and
`f''(x)` (prime notation), `taylor E at x = a order n` (the Taylor polynomial) and
`tangent f at a` (the tangent line). Each is built from the directives diffi already
has: a prime is `d/dt f(t)` at the argument, a Taylor polynomial is made of the series
forward mode computes, and a tangent line is the Taylor polynomial of order 1.
"""
from __future__ import annotations

from ..arrays import is_array
from ..core.library import BUILTINS
from ..core.problem import build, parameters
from ..core.values import Function
from ..errors import DiffiError, DiffiNameError, DiffiTypeError
from ..language import syntax as S
from ..modes import forward
from ..modes.symbolic import printed
from .context import Formula, Report
from .derivatives import derivative

MAX_ORDER = 100  # a Taylor polynomial's order: more terms would not print readably


def prime(ev, ast, scope):
    """f'(E): the derivative of order (the primes) of f, at E; a formula in x when E is
    a name x with no value."""
    fn, param = _one_variable(ev, ast.expr, scope, "prime notation")
    args = ast.point.positional.items
    if len(args) != 1:
        raise DiffiTypeError(f"{ast.expr.id}{chr(39) * ast.order}(…) takes one argument, "
                             f"not {len(args)}", ast.span)
    arg = args[0]
    call = S.Call(ast.expr, [S.Name(param, ast.span)], [], ast.span)
    if isinstance(arg, S.Name) and scope.lookup(arg.id) is None:
        call = S.Call(ast.expr, [arg], [], ast.span)  # f'(x), x free: the formula in x
        return derivative(ev, S.Directive("d", call, var=arg.id, order=ast.order,
                                          span=ast.span), scope)
    point = S.Point([S.Keyword(param, arg, ast.span)], None, ast.span)
    return derivative(ev, S.Directive("d", call, var=param, order=ast.order, point=point,
                                      span=ast.span), scope)


def taylor(ev, ast, scope) -> Report:
    """taylor E at x = a order n: the polynomial sum of f^(k)(a)/k!·(x - a)^k."""
    var, expr = _variable_and_expression(ev, ast, scope)
    order = _order(ev, ast.extent[0], scope)
    return _polynomial(ev, ast, scope, var, expr, order, "taylor")


def tangent(ev, ast, scope) -> Report:
    """tangent f at a (or tangent E at x = a): the line f(a) + f'(a)·(x - a)."""
    var, expr = _variable_and_expression(ev, ast, scope)
    return _polynomial(ev, ast, scope, var, expr, 1, "tangent")


def _require_bound(problem, var: str, expr) -> None:
    """A polynomial in var needs every other name the expression reads to have a value
    (else its coefficients are formulas): the first that has none is not defined."""
    others = [n for n in problem.names if n != var]
    if not others:
        return
    stack = [expr]
    while stack:  # (the name's first use, for its position)
        node = stack.pop()
        if isinstance(node, S.Name) and node.id in others:
            raise DiffiNameError(f"name '{node.id}' is not defined", node.span)
        if isinstance(node, S.Syntax):
            for f in reversed(node.__slots__):
                value = getattr(node, f)
                stack.extend(reversed(value) if isinstance(value, list) else [value])
    raise DiffiNameError(f"name '{others[0]}' is not defined", problem.ast.span)


def _polynomial(ev, ast, scope, var: str, expr, order: int, kind: str) -> Report:
    point = S.Point([S.Keyword(var, ast.point.named[0].value if ast.point.named
                               else ast.point.positional, ast.span)], None, ast.span)
    problem = build(ev, S.Directive("d", expr, var=var, point=point, span=ast.span), scope)
    traced = problem.tape()
    x = traced.xs[0]
    _require_bound(problem, var, expr)
    if is_array(x.value) or is_array(traced.output.value):
        raise DiffiTypeError(f"{kind} takes a function of one number to a number", ast.span)
    series = forward.taylor(traced.tape, x, order)
    coefficients = [float(c) for c in series.get(traced.output.id,
                                                 [traced.output.value] + [0.0] * order)]
    body = polynomial_syntax(coefficients, float(x.value), var)
    formula = Formula([var], body)
    listed = ", ".join(S.number_literal(printed(c)) for c in coefficients)
    power = f"{var}^k" if x.value == 0 else f"({S.unparse(_base(float(x.value), var))})^k"
    return Report(formula, f"{formula}\ncoefficients of {power}, k = 0 … {order}: [{listed}]")


def polynomial_syntax(coefficients: list[float], a: float, var: str) -> S.Syntax:
    """c0 + c1*(x - a) + c2*(x - a)^2 + …, leaving out zero terms; (x - a) is x at a = 0."""
    base = _base(a, var)
    terms = []
    for k, c in enumerate(coefficients):
        c = printed(c)
        if c == 0:
            continue
        power = None if k == 0 else base if k == 1 else S.Binary("^", base, S.Num(float(k)))
        terms.append((c, power))
    if not terms:
        return S.Num(0.0)
    result = None
    for c, power in terms:
        size = abs(c)
        term = S.Num(size) if power is None else power if size == 1 else \
            S.Binary("*", S.Num(size), power)
        if result is None:
            result = S.Unary("-", term) if c < 0 else term
        else:
            result = S.Binary("-" if c < 0 else "+", result, term)
    return result


def _base(a: float, var: str) -> S.Syntax:
    """x - a (x + 2 for a = -2), or x at a = 0."""
    if a == 0:
        return S.Name(var)
    return S.Binary("-" if a > 0 else "+", S.Name(var), S.Num(printed(abs(a))))


def _variable_and_expression(ev, ast, scope):
    """The variable and the expression: `f at a` (a function of one variable) or
    `E at x = a` (an expression in x)."""
    point = ast.point
    if point.positional is not None:
        if not isinstance(ast.expr, S.Name):
            raise DiffiTypeError(f"{ast.kind} of an expression needs its variable: "
                                 f"write {ast.kind} E at x = 1", ast.span)
        _, param = _one_variable(ev, ast.expr, scope, ast.kind)
        return param, S.Call(ast.expr, [S.Name(param, ast.span)], [], ast.span)
    if len(point.named) != 1:
        raise DiffiTypeError(f"{ast.kind} is taken in one variable: give one, "
                             f"as in at x = 0", point.span or ast.span)
    return point.named[0].name, ast.expr


def _one_variable(ev, name, scope, what: str):
    """The function a name is bound to, and its one parameter."""
    if not isinstance(name, S.Name):
        raise DiffiTypeError(f"{what} needs a function's name", ast_span(name))
    binding = scope.lookup(name.id)
    node = binding.node if binding is not None else BUILTINS.get(name.id)
    fn = node.value if node is not None else None
    if not isinstance(fn, Function):
        raise DiffiTypeError(f"{what} needs a function of one variable; "
                             f"'{name.id}' is not a function", name.span)
    params = parameters(fn)
    if len(params) != 1:
        raise DiffiTypeError(f"{what} needs a function of one variable; '{name.id}' takes "
                             f"{len(params)}", name.span)
    return fn, params[0]


def ast_span(node):
    return getattr(node, "span", None)


def _order(ev, expr, scope) -> int:
    value = ev.eval(expr, scope).value
    if type(value) is not float or value != int(value) or not 0 <= value <= MAX_ORDER:
        raise DiffiError(f"a Taylor polynomial's order is a whole number from 0 to "
                         f"{MAX_ORDER}", ast_span(expr))
    return int(value)

