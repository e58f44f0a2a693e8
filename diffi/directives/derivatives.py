"""The derivative directives of SPEC §4: d/dx (and dn/dxn), grad and backprop. Each
builds a Problem (what to differentiate, at which point) and hands its tape to a mode
(forward, reverse, numeric, symbolic), or runs a function's compiled tape.
"""
from __future__ import annotations

from .. import arrays
from ..arrays import finite, is_array, zero_like
from ..core.graph import Node
from ..core.problem import Problem, build
from ..core.tape import Tape
from ..core.values import UserFunction
from ..errors import DiffiTypeError
from ..modes import forward, reverse, symbolic
from .context import (NUMERIC_MAX_ELEMENTS, Context, Formula, Report, _require_scalar,
                      formula_function, mode_of, note_unused, numeric_estimate, pack,
                      pack_nodes, unit_seeds)
from .tables import backprop_table


# d/dx -------------------------------------------------------------------------------

def derivative(ev, ast, scope):
    """d/dx E, dn/dxn E: a number (or tensor), or a formula when x has no value."""
    problem = build(ev, ast, scope)
    note_unused(problem)
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


def grad(ev, ast, scope):
    """grad E wrt x, y / grad f: the gradient, or its formula without a point."""
    problem = build(ev, ast, scope)
    note_unused(problem)
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
