"""`latex E`: an expression, or a directive's result, written as LaTeX.

An expression prints as it is written (`latex x^2/(1 + x^2)`); a directive prints its
result (`latex d/dx x^2*sin(x)` prints the derivative's formula, `latex grad f at (1, 2)`
the vector); a name prints what it is bound to (a function as its definition, a number
or a tensor as its value), and an unbound name as itself. The result is the LaTeX
text, a string: it prints without quotes and can be given to `print`.
"""
from __future__ import annotations

from ..arrays import as_value, is_array
from ..core.values import Builtin, UserFunction
from ..language import syntax as S
from ..language.latex import name, number, to_latex
from .context import Formula, Report


def latex(ev, ast, scope) -> Report:
    """latex E: E (or the result of the directive E) as LaTeX."""
    text = expression_latex(ev, ast.expr, scope)
    return Report(text, text)


def expression_latex(ev, expr, scope) -> str:
    if isinstance(expr, S.Directive):
        return value_latex(ev.eval_directive(expr, scope).value)
    if isinstance(expr, S.Name):
        binding = scope.lookup(expr.id)
        if binding is not None and binding.node.value is not None:
            return value_latex(binding.node.value)
    return to_latex(expr)


def value_latex(value) -> str:
    """A value as LaTeX: numbers as diffi prints them, tensors as matrices, a formula
    as its formula, a function as its definition."""
    kind = type(value)
    if kind is float:
        return number(value)
    if kind is bool:
        return "\\text{true}" if value else "\\text{false}"
    if kind is tuple:
        return "\\left(" + ", ".join(value_latex(v) for v in value) + "\\right)"
    if kind is str:
        return f"\\text{{{S.unparse(S.Str(value))}}}"
    if isinstance(value, Formula):
        return to_latex(value.body)
    if isinstance(value, UserFunction):
        params = ", ".join(name(p) for p in value.params)
        return f"{name(value.name)}{{\\left({params} \\right)}} = {to_latex(value.body)}"
    if isinstance(value, Builtin):
        return f"\\operatorname{{{value.name}}}"
    if is_array(value):
        return _array_latex(value)
    return f"\\text{{{value!r}}}"


def _array_latex(array) -> str:
    """A vector as a row, a matrix as a matrix (SymPy's bracketed matrix); higher ranks
    as nested rows."""
    if array.ndim == 0:
        return value_latex(as_value(array))
    if array.ndim == 1:
        body = " & ".join(number(float(v)) for v in array)
    elif array.ndim == 2:
        body = " \\\\ ".join(" & ".join(number(float(v)) for v in row) for row in array)
    else:
        body = " & ".join(_array_latex(part) for part in array)
    return f"\\left[\\begin{{matrix}}{body}\\end{{matrix}}\\right]"
