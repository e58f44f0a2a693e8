"""The bottom of the directives: what every directive shares. A directive's Context
(evaluator, warnings, nesting) and its Report, symbolic results as Formulas, modes and
their options, numeric estimates, and partials packed into a gradient.
"""
from __future__ import annotations

import math

from .. import arrays, calls, table
from ..arrays import finite, is_array, single_number
from ..core.evaluator import nonfinite_message
from ..core.problem import Problem
from ..core.values import UserFunction, kind_of
from ..errors import DiffiTypeError
from ..language import syntax as S
from ..modes import numeric, symbolic

MODES = ("forward", "reverse", "numeric", "symbolic")


class Formula(UserFunction):
    """A symbolic result: a function of its variables that prints as its formula alone."""

    def __init__(self, params, body):
        super().__init__("formula", params, body)

    def __str__(self) -> str:
        return S.unparse(self.body)


class Report:
    """A directive's value together with the text that shows its work."""

    def __init__(self, value, text: str, ok: bool = True, detail=None, verdict=None):
        self.value = value
        self.text = text
        self.ok = ok
        self.detail = detail  # a structured form (a Trace, a Graph), for the Python API
        self.verdict = verdict  # the index of the line that says ok or not (check's)

    def __str__(self) -> str:
        return self.text


# Modes and options -----------------------------------------------------------------

def mode_of(ev, ast, scope) -> tuple[str | None, dict]:
    """The mode named by `using …` (None: the directive's default) and its options."""
    if ast.mode is None:
        return None, {}
    name = ast.mode.name
    if name not in MODES:
        raise DiffiTypeError(f"unknown mode '{name}'; use one of {', '.join(MODES)}",
                             ast.mode.span)
    if ast.mode.args:
        raise DiffiTypeError("mode options are named: using numeric(step = 1e-6)",
                             ast.mode.span)
    options = {k.name: ev.eval(k.value, scope).value for k in ast.mode.keywords}
    allowed = {"step", "method"} if name == "numeric" else set()
    for key, value in options.items():
        if key not in allowed:
            raise DiffiTypeError(f"mode {name} takes no option '{key}'", ast.mode.span)
    if "method" in options and options["method"] not in numeric.METHODS:
        raise DiffiTypeError(f"method must be one of {', '.join(map(repr, numeric.METHODS))}",
                             ast.mode.span)
    step = options.get("step")
    if step is not None and not (type(step) is float and step > 0 and math.isfinite(step)):
        raise DiffiTypeError("step must be a positive number", ast.mode.span)
    return name, options


class Context:
    """One directive's run: the evaluator, warnings about derivatives, nesting."""

    def __init__(self, ev, ast):
        self.ev = ev
        self.ast = ast
        self.warned = False

    @property
    def nested(self) -> bool:
        """Inside another directive's trace or a function: results must stay graphs."""
        return self.ev.point is not None or self.ev.depth > 0

    def on_partial(self, node, index, part, args) -> None:
        """Warn once about the first non-finite derivative from finite inputs."""
        if self.warned or finite(part) or not all(finite(a) for a in args):
            return
        self.warned = True
        self.ev.warn(nonfinite_message("derivative", node.op, part, args), node.span)


NUMERIC_MAX_ELEMENTS = 10_000  # numeric mode evaluates the program twice per element


def numeric_estimate(problem: Problem, var: str, order: int, options: dict):
    """A numeric derivative by one variable; a tensor variable element by element."""
    method = options.get("method", "central")
    x0 = problem.values[var]
    if is_array(x0):
        return _numeric_elements(problem, var, order, method, options.get("step"))
    return numeric.derivative(lambda t: _numeric_output(problem, problem.with_variable(var, t)),
                              x0, order, method, options.get("step"))


def _numeric_output(problem, values):
    """The output at a perturbed point, which differences can subtract: a number or a
    tensor (a tuple, a string or a function is refused, at the directive)."""
    calls.check(problem.ast.span)  # (each evaluation may be short: the timeout holds)
    value = problem.output_at(values)
    if type(value) is float or is_array(value):
        return value
    if type(value) is bool:
        return float(value)
    raise DiffiTypeError(f"numeric mode differences numbers or tensors, not a "
                         f"{kind_of(value)}", problem.ast.span)


def check_numeric_size(problem, var: str) -> None:
    """Numeric mode evaluates the program twice per element: refuse a huge tensor."""
    x0 = problem.values[var]
    if is_array(x0) and x0.size > NUMERIC_MAX_ELEMENTS:
        raise DiffiTypeError(f"numeric mode perturbs every element: {var} has {x0.size}, "
                             f"more than {NUMERIC_MAX_ELEMENTS}; use forward or reverse "
                             f"mode", problem.ast.span)


def unit_seeds(value):
    """1 for a number; for a tensor, one one-hot tensor per element (made one at a time)."""
    if not is_array(value):
        yield 1.0
        return
    np = arrays.np()
    for index in np.ndindex(*value.shape):
        seed = np.zeros(value.shape)
        seed[index] = 1.0
        yield seed


def _numeric_elements(problem, var, order, method, step):
    np = arrays.np()
    x0 = problem.values[var]
    check_numeric_size(problem, var)
    out = np.zeros(x0.shape)
    estimates = []
    for index in np.ndindex(*x0.shape):
        def f(t, index=index):
            x = x0.copy()
            x[index] = t
            return _scalar_output(_numeric_output(problem, problem.with_variable(var, x)),
                                  problem)
        estimate = numeric.derivative(f, float(x0[index]), order, method, step)
        out[index] = estimate.value
        estimates.append(estimate)
    if not estimates:  # a tensor of no elements: no partial to estimate
        return numeric.Estimate(out, 0.0, 0.0, method, [])
    worst = max(estimates, key=lambda e: e.error)
    return numeric.Estimate(out, worst.error, worst.step, worst.method,
                            [e for est in estimates[:3] for e in est.evaluations])


def _scalar_output(value, problem):
    number = single_number(value)
    if number is not None:
        return number
    if type(value) is not bool:
        raise DiffiTypeError("numeric mode by a tensor element needs a scalar expression",
                             problem.ast.span)
    return value


def formula_function(problem, inputs, outputs, vector: bool, matrix: int = 0) -> Formula:
    names = {n.id: n.name for n in inputs}
    taken = set(problem.ev.globals.names())
    assignments, exprs = symbolic.to_syntax(outputs, names, taken)
    if matrix:
        rows = [S.Vector(exprs[i:i + matrix]) for i in range(0, len(exprs), matrix)]
        result = S.Vector(rows)
    else:
        result = S.Vector(exprs) if vector else exprs[0]
    body = S.Block(assignments, result) if assignments else result
    return Formula(list(problem.names), body)


def _require_scalar(output, ast):
    if output.value is not None and type(output.value) is not bool \
            and single_number(output.value) is None:
        raise DiffiTypeError(f"{ast.kind} needs a scalar expression, not a "
                             f"{kind_of(output.value)}; use jacobian", ast.span)


def pack(parts: list, problem: Problem):
    """Partials in wrt order: a vector when all are scalars; the gradient itself for
    one tensor variable; else a tuple of gradients, each of its variable's shape."""
    if all(type(p) in (float, bool) for p in parts):
        return arrays.np().array([float(p) for p in parts])
    if len(parts) == 1:
        return parts[0]
    return tuple(parts)


def pack_nodes(ctx, parts: list, problem: Problem):
    """Gradient nodes as one graph node (so that an outer directive can differentiate)."""
    values = [p.value for p in parts]
    if all(type(v) in (float, bool) for v in values):
        return ctx.ev.record(table.VECTOR, tuple(parts), arrays.np().array(values, dtype=float),
                             ctx.ast.span)
    return ctx.ev.record(table.TUPLE, tuple(parts), tuple(values), ctx.ast.span)
