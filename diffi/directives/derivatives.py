"""The differentiation directives of SPEC §4: d/dx, grad, backprop, hessian, jacobian,
check, explain and graph. Each builds a Problem (what to differentiate, at which
point) and hands its tape to a mode (forward, reverse, numeric, symbolic).
"""
from __future__ import annotations

import math

from .. import arrays, table
from ..arrays import finite, is_array, single_number, zero_like
from ..core.evaluator import nonfinite_message
from ..core.graph import Node
from ..core.problem import Problem, build
from ..core.tape import Tape
from ..core.values import UserFunction, kind_of
from ..errors import DiffiError, DiffiTypeError
from ..language import syntax as S
from ..modes import forward, numeric, reverse, symbolic

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


# d/dx -------------------------------------------------------------------------------

def derivative(ev, ast, scope):
    """d/dx E, dn/dxn E: a number (or tensor), or a formula when x has no value."""
    problem = build(ev, ast, scope)
    mode, options = mode_of(ev, ast, scope)
    ctx = Context(ev, ast)
    if problem.symbolic:
        _symbolic_only(mode, ast)
        return symbolic_derivative_function(problem, ast.order)
    mode = mode or "forward"
    return derivative_value(ctx, problem, mode, options, ast.order)


def _symbolic_only(mode, ast):
    if mode not in (None, "symbolic"):
        raise DiffiTypeError(f"mode {mode} needs a point: give one with at "
                             f"(for example at {ast.var if ast.var else 'x'} = 1)", ast.span)


def derivative_value(ctx, problem: Problem, mode: str, options: dict, order: int):
    """The value of d^order/dx^order at the problem's point in the given mode."""
    var = problem.variables[0]
    if mode == "numeric":
        estimate = numeric_estimate(problem, var, order, options)
        return estimate.value
    if order == 1 and mode in ("forward", "reverse") and not ctx.nested:
        fast = compiled_derivative(ctx.ev, problem, var, mode)
        if fast is not None:
            return fast
    inputs, output = problem.trace()
    x = problem.variable_nodes(inputs)[0]
    tape = Tape([output], [x])
    if mode == "symbolic" or ctx.nested and order == 1:
        result = symbolic_at_point(tape, x, order, keep_graph=ctx.nested)
        if order == 1 and not ctx.nested and not finite(result):  # say which rule did it
            forward.tangents(tape, {x.id: _one_like(x.value)}, ctx.on_partial)
        return result
    if order > 1:
        if mode == "reverse":
            raise DiffiTypeError("reverse mode gives first derivatives; higher orders use "
                                 "forward (Taylor) mode", ctx.ast.span)
        coefficients = forward.taylor(tape, x, order).get(output.id)
        return zero_like(output.value) if coefficients is None else \
            forward.nth_derivative(coefficients, order)
    if mode == "reverse":
        adj = reverse.adjoints(tape, output, 1.0, ctx.on_partial)
        return adj.get(x.id, zero_like(x.value))
    tangent = forward.tangents(tape, {x.id: _one_like(x.value)}, ctx.on_partial)
    return tangent.get(output.id, zero_like(output.value))


NUMERIC_MAX_ELEMENTS = 10_000  # numeric mode evaluates the program twice per element


def numeric_estimate(problem: Problem, var: str, order: int, options: dict):
    """A numeric derivative by one variable; a tensor variable element by element."""
    method = options.get("method", "central")
    x0 = problem.values[var]
    if is_array(x0):
        return _numeric_elements(problem, var, order, method, options.get("step"))
    return numeric.derivative(lambda t: problem.output_at(problem.with_variable(var, t)),
                              x0, order, method, options.get("step"))


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
            return _scalar_output(problem.output_at(problem.with_variable(var, x)), problem)
        estimate = numeric.derivative(f, float(x0[index]), order, method, step)
        out[index] = estimate.value
        estimates.append(estimate)
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


def _one_like(value):
    return 1.0 if not is_array(value) else arrays.np().ones_like(value, dtype=float)


def symbolic_at_point(tape: Tape, x: Node, order: int, keep_graph: bool = False):
    """A derivative by building its formula graph at the point; a node if keep_graph."""
    b = symbolic.Builder()
    rebuilt = symbolic.rebuild(tape, b, {x.id: x}, keep_inactive=keep_graph)
    result = rebuilt[tape.outputs[0].id]
    for _ in range(order):
        step_tape = Tape([result], [x])
        rebuilt = symbolic.rebuild(step_tape, b, {x.id: x}, keep_inactive=True)
        result = symbolic.forward_derivative(step_tape, rebuilt, x, b)
    return result if keep_graph else result.value


def symbolic_derivative_function(problem: Problem, order: int) -> Formula:
    """d^n/dx^n E as a formula in the problem's inputs."""
    inputs, output = problem.trace()
    x = problem.variable_nodes(inputs)[0]
    b = symbolic.Builder()
    leaves = {n.id: n for n in inputs}
    result = symbolic.rebuild(Tape([output], inputs), b, leaves)[output.id]
    for _ in range(order):
        tape = Tape([result], inputs)
        rebuilt = symbolic.rebuild(tape, b, leaves, keep_inactive=True)
        result = symbolic.forward_derivative(tape, rebuilt, x, b)
    return formula_function(problem, inputs, [result], vector=False)


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


# grad and backprop ---------------------------------------------------------------------

def gradient(ctx, problem: Problem, mode: str, options: dict):
    """The gradient at the problem's point: a vector for scalar variables, else a tuple."""
    if mode == "numeric":
        parts = [numeric_estimate(problem, v, 1, options).value for v in problem.variables]
        return pack(parts, problem)
    if mode == "reverse" and not ctx.nested:
        fast = compiled_gradient(ctx.ev, problem)
        if fast is not None:
            return fast
    inputs, output = problem.trace()
    xs = problem.variable_nodes(inputs)
    _require_scalar(output, ctx.ast)
    tape = Tape([output], xs)
    if mode == "symbolic" or ctx.nested:
        b = symbolic.Builder()
        rebuilt = symbolic.rebuild(tape, b, {x.id: x for x in xs}, keep_inactive=ctx.nested)
        adj = symbolic.reverse_derivatives(tape, rebuilt, b)
        parts = [adj.get(x.id, b.const(zero_like(x.value))) for x in xs]
        if ctx.nested:
            return pack_nodes(ctx, parts, problem)
        return pack([p.value for p in parts], problem)
    if mode == "forward":
        parts = [_forward_partial(ctx, tape, output, x) for x in xs]
        return pack(parts, problem)
    adj = reverse.adjoints(tape, output, 1.0, ctx.on_partial)
    ctx.ev.last_gradient = adj
    return pack([adj.get(x.id, zero_like(x.value)) for x in xs], problem)


def compiled_derivative(ev, problem: Problem, var: str, mode: str):
    """d/dvar of a user function by its compiled tape (forward or reverse), or None."""
    fn = problem.function
    if not isinstance(fn, UserFunction) or isinstance(fn, Formula):
        return None
    args = tuple(problem.values[n] for n in problem.names)
    if mode == "reverse":
        result = ev.compiled.run(ev, fn, args, gradient=True)
        return None if result is None else result[1][problem.names.index(var)]
    seeds = tuple(1.0 if n == var else 0.0 for n in problem.names)
    result = ev.compiled.run(ev, fn, args, gradient=seeds)
    return None if result is None else result[1]


def compiled_gradient(ev, problem: Problem):
    """The gradient of a user function by its compiled tape, or None (then: trace)."""
    fn = problem.function
    if not isinstance(fn, UserFunction) or isinstance(fn, Formula):
        return None
    args = tuple(problem.values[n] for n in problem.names)
    result = ev.compiled.run(ev, fn, args, gradient=True)
    if result is None:
        return None
    grads = dict(zip(problem.names, result[1]))
    return pack([grads[v] for v in problem.variables], problem)


def _forward_partial(ctx, tape, output, x):
    """∂output/∂x by forward mode: one pass, or one pass per element of a tensor x."""
    if not is_array(x.value):
        return _scalar_tangent(forward.tangents(tape, {x.id: 1.0}, ctx.on_partial), output)
    np = arrays.np()
    if x.value.size > NUMERIC_MAX_ELEMENTS:
        raise DiffiTypeError(f"forward mode takes one pass per element: {x.name} has "
                             f"{x.value.size}; use reverse mode", ctx.ast.span)
    tangents = [_scalar_tangent(forward.tangents(tape, {x.id: seed}, ctx.on_partial), output)
                for seed in unit_seeds(x.value)]
    return np.array(tangents).reshape(x.value.shape)


def _scalar_tangent(tangent: dict, output):
    value = tangent.get(output.id, 0.0)
    return float(arrays.np().sum(value)) if is_array(value) else value


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


def grad(ev, ast, scope):
    """grad E wrt x, y / grad f: the gradient, or its formula without a point."""
    problem = build(ev, ast, scope)
    mode, options = mode_of(ev, ast, scope)
    if problem.symbolic:
        _symbolic_only(mode, ast)
        return symbolic_gradient_function(problem)
    return gradient(Context(ev, ast), problem, mode or "reverse", options)


def symbolic_gradient_function(problem: Problem) -> Formula:
    inputs, output = problem.trace()
    xs = problem.variable_nodes(inputs)
    b = symbolic.Builder()
    tape = Tape([output], inputs)
    rebuilt = symbolic.rebuild(tape, b, {n.id: n for n in inputs})
    adj = symbolic.reverse_derivatives(tape, rebuilt, b)
    parts = [adj.get(x.id, b.const(0.0)) for x in xs]
    return formula_function(problem, inputs, parts, vector=True)


def backprop(ev, ast, scope):
    """The gradient with the full trace: forward values, then backward adjoints."""
    from .tables import backprop_table
    problem = build(ev, ast, scope)
    mode, options = mode_of(ev, ast, scope)
    if problem.symbolic:
        raise DiffiTypeError("backprop needs values: give a point with at", ast.span)
    if mode not in (None, "reverse"):
        raise DiffiTypeError("backprop is reverse mode; use grad … using " + mode, ast.span)
    tape, adj, xs, value = reverse_pass(Context(ev, ast), problem)
    trace = backprop_table(tape, adj, xs, ev.precision, value)
    return Report(value, str(trace), detail=trace)


def reverse_pass(ctx, problem: Problem):
    """Trace at the point and sweep back: (tape, adjoints, variable nodes, gradient)."""
    inputs, output = problem.trace()
    xs = problem.variable_nodes(inputs)
    _require_scalar(output, ctx.ast)
    tape = Tape([output], xs)
    adj = reverse.adjoints(tape, output, 1.0, ctx.on_partial)
    ctx.ev.last_gradient = adj  # graph labels these nodes with their gradients
    return tape, adj, xs, pack([adj.get(x.id, zero_like(x.value)) for x in xs], problem)


# Dispatch ------------------------------------------------------------------------------

def run(ev, ast, scope) -> Node:
    """Evaluate a directive; its result as a graph node."""
    handler = _handler(ast.kind)
    try:
        result = handler(ev, ast, scope)
    except DiffiError as error:  # an error found in an earlier statement's graph
        if error.span is None:
            error.span = ast.span
        raise
    if isinstance(result, Node):
        return result
    if isinstance(result, Report):
        return ev.record(table.REPORT, (_leaf(ev, result.value, ast),), result.value, ast.span,
                         params=result)
    return _leaf(ev, result, ast)


def _leaf(ev, value, ast) -> Node:
    return ev.record(table.CONST, (), value, ast.span)


HANDLERS: dict = {}


def _minimize(ev, ast, scope):
    from .training import minimize  # (with the compiler: loaded only when training)
    return minimize(ev, ast, scope)


def _handler(kind: str):
    if not HANDLERS:  # tables imports this module, so its handlers join on first use
        from . import tables
        HANDLERS.update({"d": derivative, "grad": grad, "backprop": backprop,
                         "minimize": _minimize,
                         "hessian": tables.hessian, "jacobian": tables.jacobian,
                         "check": tables.check, "explain": tables.explain,
                         "graph": tables.graph})
    return HANDLERS[kind]
