"""The derivative directives: d/dx (and dn/dxn), grad and backprop. Each builds a Problem
(what to differentiate, at which point), computes its value at the point in the mode
asked for (forward, reverse, numeric, symbolic — or a function's compiled tape), and
settles it as part of the graph (diffi.directives.derived), so that the same directive
means the same thing at top level, in a function body, in a block and nested in another.
"""
from __future__ import annotations

import math

from .. import arrays, table
from ..arrays import finite, is_array, zero_like
from ..core.problem import Problem, Traced, build
from ..core.tape import Tape
from ..core.values import UserFunction, kind_of
from ..errors import DiffiTypeError, LimitError
from ..language import syntax as S
from ..modes import forward, reverse, symbolic
from ..table import reader
from .context import (NUMERIC_MAX_ELEMENTS, Context, Formula, Report, _require_scalar,
                      formula_seed,
                      check_numeric_size, formula_function, mode_of, note_unused,
                      numeric_along, numeric_estimate, pack, unit_seeds)
from .compiled import (reads_no_variable, compiled_request, literal_point, run_compiled,
                       settled)
from .derived import formula, over_trace, settle_trace
from .tables import backprop_table


# d/dx -------------------------------------------------------------------------------

def derivative(ev, ast, scope):
    """d/dx E, dn/dxn E: a number (or tensor), or a formula when x has no value."""
    problem = build(ev, ast, scope)
    note_unused(problem)
    mode, options = mode_of(ev, ast, scope)
    if problem.symbolic:
        _symbolic_only(mode, ast)
        return symbolic_derivative_function(problem, ast.order)
    make = derivative_graph(ast.order)
    if problem.formula:
        traced = problem.tape()
        return over_trace(problem, traced, make)
    fast = compiled_derivative(ev, problem, mode, ast.order)
    if fast is None:
        fast = compiled_expression(ev, problem, mode, ast.order)
    if fast is None and mode == "numeric":
        fast = compiled_numeric(ev, problem, lambda: numeric_estimate(
            problem, problem.variables[0], ast.order, options).value, make)
    if fast is not None:
        return fast
    traced = problem.tape()
    value = derivative_value(Context(ev, ast), problem, mode, options, ast.order, traced)
    return settle_trace(ev, problem, traced, value, make)


def _symbolic_only(mode, ast):
    if mode not in (None, "symbolic"):
        raise DiffiTypeError(f"mode {mode} needs a point: give one with at "
                             f"(for example at {ast.var if ast.var else 'x'} = 1)", ast.span)


def derivative_value(ctx, problem: Problem, mode: str | None, options: dict, order: int,
                     traced: Traced | None = None):
    """The value of d^order/dx^order at the problem's point in the given mode (None: the
    default): a number, or a tensor of shape(E) + shape(x)."""
    traced = traced or problem.tape()
    x = traced.xs[0]
    if is_array(x.value):
        return _by_tensor(ctx, problem, traced, mode, options, order)
    mode = mode or "forward"
    if mode == "numeric":
        return numeric_estimate(problem, problem.variables[0], order, options).value
    if mode == "symbolic":
        result = formula(traced.tape, derivative_graph(order))[0].value
        if order == 1 and not finite(result):  # say which rule did it
            forward.tangents(traced.tape, {x.id: 1.0}, ctx.on_partial)
        return result
    if order > 1:
        if mode == "reverse":
            raise DiffiTypeError("reverse mode gives first derivatives; higher orders use "
                                 "forward (Taylor) mode", ctx.ast.span)
        return _taylor_derivative(ctx, traced, order)
    if mode == "reverse":
        return _reverse_derivative(ctx, traced)
    tangent = forward.tangents(traced.tape, {x.id: 1.0}, ctx.on_partial).get(traced.output.id)
    return zero_like(traced.output.value) if tangent is None else tangent


def _taylor_derivative(ctx, traced: Traced, order: int):
    """By Taylor series when every step has a series rule (with a warning when rounding
    left few digits); else by differentiating the derivative's formula again (rules
    written with the table's operations)."""
    tape, x, output = traced.tape, traced.xs[0], traced.output
    if type(output.value) is tuple or not all(reader.has_series(step.op)
                                               for step in tape.steps):
        # (a tuple: each part's, as the formula gives them, as for first derivatives)
        return formula(tape, derivative_graph(order))[0].value
    if order > forward.MAX_ORDER:
        raise LimitError(f"derivatives of order above {forward.MAX_ORDER} are not computed "
                         f"(Taylor mode costs order^2 per operation)")
    try:
        value, spread = forward.derivative_of_order(tape, x, output, order)
    except forward.OrderTooHigh as error:
        raise DiffiTypeError(error.message) from None
    if spread > ROUNDING_WARNING:
        digits = max(0, int(-math.log10(spread)) - 1)  # (the spread runs low)
        ctx.ev.warn(f"d{order}/d{x.name or 'x'}{order} kept only about {digits} significant "
                    f"digits: its Taylor coefficients cancel in floating point", ctx.ast.span)
    return value


ROUNDING_WARNING = 1e-12  # (a Taylor derivative whose two scales differ more: say so)


def _reverse_derivative(ctx, traced: Traced):
    """dE/dx by reverse mode: one sweep, or one per element of a tensor E; for a tuple E,
    the sweeps of each part (seeded there, zeros in the other parts), as a tuple."""
    x, output = traced.xs[0], traced.output

    def sweeps(value, place):
        if type(value) is tuple:
            return tuple(sweeps(v, place + (k,)) for k, v in enumerate(value))
        answers = [reverse.adjoints(traced.tape, output, _seed_at(output.value, place, seed),
                                    ctx.on_partial).get(x.id, 0.0)
                   for seed in unit_seeds(value)]
        if not is_array(value):
            return answers[0]
        return arrays.np().array(answers, dtype=float).reshape(value.shape)
    return sweeps(output.value, ())


def _seed_at(value, place: tuple, seed):
    """A cotangent for value: seed at the place (a path of tuple positions), 0 elsewhere."""
    if not place:
        return seed
    return tuple(_seed_at(v, place[1:], seed) if k == place[0] else zero_like(v)
                 for k, v in enumerate(value))


def _by_tensor(ctx, problem, traced: Traced, mode, options, order):
    """d/dx E for a tensor x: every partial, of shape shape(E) + shape(x) (a scalar E
    gives the shape of x). The default mode is forward, one pass per element of x, or
    reverse, one pass per element of E, whichever takes fewer."""
    np = arrays.np()
    x, output = traced.xs[0], traced.output
    if order > 1:
        raise DiffiTypeError(f"derivatives of order {order} by a tensor are not supported; "
                             "for second derivatives use hessian", ctx.ast.span)
    if not (is_array(output.value) or type(output.value) in (float, bool)):
        raise DiffiTypeError(f"d/d{x.name or 'x'} by a tensor needs a number or a tensor, "
                             f"not a {kind_of(output.value)}", ctx.ast.span)
    out_shape = np.shape(output.value)
    if x.value.size == 0 or np.size(output.value) == 0:  # nothing to differentiate
        return np.zeros(out_shape + x.value.shape)
    if mode is None:
        mode = "reverse" if np.size(output.value) < x.value.size else "forward"
    if mode == "symbolic":
        return formula(traced.tape, derivative_graph(1))[0].value
    if mode == "numeric":
        columns = _numeric_columns(problem, problem.variables[0], options)
    elif mode == "forward":
        _check_passes(ctx, x.value.size, "forward mode takes one pass per element of " +
                      (x.name or "x"))
        columns = [forward.tangents(traced.tape, {x.id: seed}, ctx.on_partial).get(
            output.id, zero_like(output.value)) for seed in unit_seeds(x.value)]
    else:
        rows = [reverse.adjoints(traced.tape, output, seed, ctx.on_partial).get(
            x.id, zero_like(x.value)) for seed in unit_seeds(output.value)]
        return np.array(rows, dtype=float).reshape(out_shape + x.value.shape)
    stacked = np.stack([np.broadcast_to(c, out_shape) for c in columns], axis=-1)
    return stacked.reshape(out_shape + x.value.shape)


def _check_passes(ctx, passes: int, what: str) -> None:
    if passes > NUMERIC_MAX_ELEMENTS:
        raise DiffiTypeError(f"{what}: {passes} passes, more than {NUMERIC_MAX_ELEMENTS}; "
                             "use reverse mode", ctx.ast.span)


def _numeric_columns(problem, var: str, options: dict) -> list:
    """Numeric derivatives of the whole output along each element of a tensor var."""
    np = arrays.np()
    check_numeric_size(problem, var)
    x0 = problem.values[var]
    columns = []
    for index in np.ndindex(*x0.shape):
        def f(t, index=index):
            x = x0.copy()
            x[index] = t
            return np.asarray(problem.output_at(problem.with_variable(var, x)), dtype=float)
        columns.append(numeric_along(problem, var, f, float(x0[index]), options))
    return columns


def derivative_graph(order: int):
    """The formula of d^order/dx^order E over a symbol for x (see derived.formula)."""
    def make(b, tape, rebuilt, symbols):
        x = tape.inputs[0]
        if is_array(x.value):
            return jacobian_node(b, tape, rebuilt, x)
        result = symbolic.forward_derivative(tape, rebuilt, x, b)
        symbol = symbols[0]
        for _ in range(order - 1):
            step = Tape([result], [symbol])
            again = symbolic.rebuild(step, b, {symbol.id: symbol}, keep_inactive=True)
            result = symbolic.forward_derivative(step, again, symbol, b)
        return result
    return make


def jacobian_node(b, tape, rebuilt, x):
    """Every partial of the tape's output by the tensor input x as one formula, of shape
    shape(E) + shape(x): reverse mode over formulas, once per element of E."""
    np = arrays.np()
    output = tape.outputs[0]
    value = output.value
    if isinstance(value, tuple):  # (a tuple of numbers is a vector here, as jacobian reads it)
        value = np.asarray(value, dtype=float)
    out_shape = np.shape(value)
    if not out_shape:
        adjoint = symbolic.reverse_derivatives(tape, rebuilt, b)
        return adjoint.get(x.id) or b.zeros(rebuilt[x.id])
    rows = []
    for seed in unit_seeds(value):
        adjoint = symbolic.reverse_derivatives(tape, rebuilt, b, seed=seed)
        rows.append(adjoint.get(x.id) or b.zeros(rebuilt[x.id]))
    return b.ap(table.RESHAPE, b.ap(table.VECTOR, *rows),
                params=out_shape + np.shape(x.value))


def symbolic_derivative_function(problem: Problem, order: int) -> Formula:
    """d^n/dx^n E as a formula in the problem's inputs."""
    traced = problem.tape(every_input=True)
    inputs, x = traced.inputs, traced.xs[0]
    b = symbolic.Builder(canonical=True)
    leaves = {n.id: n for n in inputs}
    result = symbolic.rebuild(traced.tape, b, leaves,
                              shapes=problem.ev.shape_of)[traced.output.id]
    for _ in range(order):
        tape = Tape([result], inputs)
        rebuilt = symbolic.rebuild(tape, b, leaves, keep_inactive=True)
        result = symbolic.forward_derivative(tape, rebuilt, x, b)
    return formula_function(problem, inputs, [result], vector=False)


# The compiled fast path ------------------------------------------------------------------

def compiled_derivative(ev, problem: Problem, mode: str | None, order: int):
    """d/dx of a user function at a point of literal numbers by its compiled tape (as
    `d/dx f` or `d/dx f(x, y)` writes it), when the function reads no variable (its
    result then depends on nothing outside); else None, and the directive traces."""
    if order != 1 or mode not in (None, "forward", "reverse"):
        return None
    call = _compiled_call(problem)
    if call is None:
        return None
    fn, names = call
    args = tuple(problem.values[n] for n in names)
    var = problem.variables[0]
    if mode == "reverse":
        result = ev.compiled.run(ev, fn, args, gradient=True)
        part = None if result is None else math.fsum(
            g for n, g in zip(names, result[1]) if n == var)
    else:
        seeds = tuple(1.0 if n == var else 0.0 for n in names)
        result = ev.compiled.run(ev, fn, args, gradient=seeds)
        part = None if result is None else result[1]
    return part if part is not None and reads_no_variable(ev) else None


def compiled_gradient(ev, problem: Problem, mode: str = "reverse"):
    """The gradient of a user function by its compiled tape, on the same terms as
    compiled_derivative: one reverse sweep, or in forward mode one compiled tangent
    sweep per variable; else None."""
    call = _compiled_call(problem)
    if call is None:
        return None
    fn, names = call
    args = tuple(problem.values[n] for n in names)
    grads = {}
    if mode == "forward":
        for var in problem.variables:
            seeds = tuple(1.0 if n == var else 0.0 for n in names)
            result = ev.compiled.run(ev, fn, args, gradient=seeds)
            if result is None or not reads_no_variable(ev):
                return None
            grads[var] = result[1]
    else:
        result = ev.compiled.run(ev, fn, args, gradient=True)
        if result is None or not reads_no_variable(ev):
            return None
        for var in problem.variables:
            grads[var] = math.fsum(g for n, g in zip(names, result[1]) if n == var)
    return pack([grads[v] for v in problem.variables], problem)


def compiled_expression(ev, problem: Problem, mode: str | None, order: int,
                        gradient: bool = False):
    """d/dx, dn/dxn (or with `gradient`, grad) of an expression at a point of numbers
    (`d/dt t^2*sin(t) at t = 0.5`, or `d/dx c(x)` by a global x, asked again; for a
    reverse-mode grad, tensors too: `grad L(W, V) wrt W, V`) by a compiled tape of the
    expression, on the terms of compile.cache.Cache.expression; else None. A tape that
    reads a variable (`d/dx c(x)^2 + y at x = 0.5`) gives the directive's result as part
    of the graph, as derived.settle makes it."""
    if mode not in (None, "forward", "reverse", "symbolic") \
            or (order > 1 and mode in ("reverse", "symbolic")):
        return None
    request = compiled_request(ev, problem, ("d", gradient, order),
                               expression_only=mode != "symbolic",  # (functions: Cache.run)
                               tensors=gradient and mode in (None, "reverse"))
    if request is None:
        return None
    names = problem.names
    parts = []
    if mode == "symbolic":
        result = run_compiled(ev, problem, request, ev.compiled.Symbolic())
        if result is None:
            return None
        parts = [result[1][names.index(v)] for v in problem.variables]
    elif order > 1:
        moving = tuple(n == problem.variables[0] for n in names)
        result = run_compiled(ev, problem, request,
                              ev.compiled.Taylor(order, moving, ROUNDING_WARNING))
        if result is None:
            return None
        parts = [result[1]]
    elif mode == "reverse" or (gradient and mode is None):
        result = run_compiled(ev, problem, request, True)
        if result is None:
            return None
        parts = [result[1][names.index(v)] for v in problem.variables]
    else:
        for var in problem.variables:
            seeds = tuple(1.0 if n == var else 0.0 for n in names)
            result = run_compiled(ev, problem, request, seeds)
            if result is None:
                return None
            parts.append(result[1])
    value = pack(parts, problem) if gradient else parts[0]
    return settled(ev, problem, value, gradient_graph if gradient else derivative_graph(order))


def _compiled_call(problem: Problem):
    """(the user function, the problem's input name each of its parameters takes) when
    the problem is a user function at a point whose values are literal numbers: `f` at
    a point, or an expression that is only a call of one on the problem's names, each
    variable among them (`d/dx f(x) at x = 0.5`); else None."""
    if not literal_point(problem):
        return None
    fn = problem.function
    if fn is not None:
        names = problem.names
    else:
        fn, names = _called(problem)
        if fn is None or not set(problem.variables) <= set(names):
            return None
    if not isinstance(fn, UserFunction) or isinstance(fn, Formula):
        return None
    return fn, names


def _called(problem: Problem):
    """The function and argument names of an expression `f(a, b, …)` whose arguments are
    the problem's input names (f a global user function), else (None, None)."""
    expr = problem.ast.expr
    if not isinstance(expr, S.Call) or not isinstance(expr.func, S.Name) or expr.keywords \
            or expr.func.id in problem.names:
        return None, None
    inputs = set(problem.names)
    if not all(isinstance(a, S.Name) and a.id in inputs for a in expr.args):
        return None, None
    binding = problem.scope.lookup(expr.func.id)
    fn = binding.node.value if binding is not None else None
    if not isinstance(fn, UserFunction) or fn.scope is not None \
            or len(expr.args) != len(fn.params):
        return None, None
    return fn, [a.id for a in expr.args]


def compiled_numeric(ev, problem: Problem, compute, make):
    """Numeric mode over an expression at a point of numbers, without a trace of its own:
    compute() gives the estimate (its evaluations reach the expression's compiled values,
    compiled.compiled_values), and the result joins the graph through the compiled tape
    (settled), as the other modes' compiled results do; None when no compiled tape
    serves the point itself (the directive then traces)."""
    if problem.numbers is None:
        return None
    request = compiled_request(ev, problem, "value")
    if request is None or run_compiled(ev, problem, request, False) is None:
        return None
    value = compute()
    if run_compiled(ev, problem, request, False) is not None:  # (the tape `settled` reads)
        return settled(ev, problem, value, make)
    traced = problem.tape()
    return settle_trace(ev, problem, traced, value, make)


# grad and backprop ---------------------------------------------------------------------

def grad(ev, ast, scope):
    """grad E wrt x, y / grad f: the gradient, or its formula without a point."""
    problem = build(ev, ast, scope)
    note_unused(problem)
    mode, options = mode_of(ev, ast, scope)
    if problem.symbolic:
        _symbolic_only(mode, ast)
        return symbolic_gradient_function(problem)
    if problem.formula:
        traced = problem.tape()
        return over_trace(problem, traced, gradient_graph)
    if mode in (None, "reverse", "forward", "symbolic"):
        fast = compiled_gradient(ev, problem, mode or "reverse") if mode != "symbolic" else None
        if fast is None:
            fast = compiled_expression(ev, problem, mode, 1, gradient=True)
        if fast is not None:
            return fast
    elif mode == "numeric":
        fast = compiled_numeric(ev, problem, lambda: gradient(
            Context(ev, ast), problem, mode, options), gradient_graph)
        if fast is not None:
            return fast
    traced = problem.tape()
    value = gradient(Context(ev, ast), problem, mode or "reverse", options, traced)
    return settle_trace(ev, problem, traced, value, gradient_graph)


def gradient(ctx, problem: Problem, mode: str, options: dict, traced: Traced | None = None):
    """The gradient at the problem's point: a vector for scalar variables, else a tuple."""
    if mode == "numeric":
        parts = [numeric_estimate(problem, v, 1, options).value for v in problem.variables]
        return pack(parts, problem)
    traced = traced or problem.tape()
    _require_scalar(traced.output, ctx.ast)
    if mode == "symbolic":
        return formula(traced.tape, gradient_graph)[0].value
    if mode == "forward":
        return pack([_forward_partial(ctx, traced, x) for x in traced.xs], problem)
    adj = reverse.adjoints(traced.tape, traced.output, 1.0, ctx.on_partial)
    ctx.ev.last_gradient = adj
    return pack([adj.get(x.id, zero_like(x.value)) for x in traced.xs], problem)


def gradient_graph(b, tape, rebuilt, symbols):
    """The gradient's formula: reverse mode over formulas, packed as `grad` packs."""
    return pack_node(b, symbolic.gradient_formulas(tape, rebuilt, b))


def pack_node(b, parts: list):
    """Partials as one formula node, packed as `pack` packs values."""
    values = [p.value for p in parts]
    if all(v is None or type(v) in (float, bool) for v in values):
        return b.ap(table.VECTOR, *parts)
    if len(parts) == 1:
        return parts[0]
    return b.ap(table.TUPLE, *parts)


def _forward_partial(ctx, traced: Traced, x):
    """∂output/∂x by forward mode: one pass, or one pass per element of a tensor x."""
    output = traced.output
    if not is_array(x.value):
        return _scalar(forward.tangents(traced.tape, {x.id: 1.0}, ctx.on_partial), output)
    _check_passes(ctx, x.value.size, f"forward mode takes one pass per element of {x.name}")
    tangents = [_scalar(forward.tangents(traced.tape, {x.id: seed}, ctx.on_partial), output)
                for seed in unit_seeds(x.value)]
    return arrays.np().array(tangents).reshape(x.value.shape)


def _scalar(tangent: dict, output):
    value = tangent.get(output.id, 0.0)
    return float(arrays.np().sum(value)) if is_array(value) else value


def symbolic_gradient_function(problem: Problem) -> Formula:
    traced = problem.tape(every_input=True)
    inputs, xs, tape = traced.inputs, traced.xs, traced.tape
    b = symbolic.Builder(canonical=True)
    rebuilt = symbolic.rebuild(tape, b, {n.id: n for n in inputs},
                               shapes=problem.ev.shape_of)
    seed = formula_seed(problem.ev, traced.output, problem.ast)
    adj = symbolic.reverse_derivatives(tape, rebuilt, b, seed=seed)
    parts = [adj.get(x.id, b.const(0.0)) for x in xs]
    if seed is not None:  # (a one-element output: each partial is a number, as at a point)
        parts = [b.ap(table.SUM, part) for part in parts]
    return formula_function(problem, inputs, parts, vector=True)


def backprop(ev, ast, scope):
    """The gradient with the full trace: forward values, then backward adjoints."""
    problem = build(ev, ast, scope)
    mode, options = mode_of(ev, ast, scope)
    if problem.symbolic or problem.formula:
        raise DiffiTypeError("backprop needs values: give a point with at", ast.span)
    if mode not in (None, "reverse"):
        raise DiffiTypeError("backprop is reverse mode; use grad … using " + mode, ast.span)
    traced = problem.tape()
    adj, value = reverse_pass(Context(ev, ast), problem, traced)
    trace = backprop_table(traced.tape, adj, traced.xs, ev.precision, value,
                           labels=traced.labels)
    value = settle_trace(ev, problem, traced, value, gradient_graph)
    return Report(value, str(trace), detail=trace)


def reverse_pass(ctx, problem: Problem, traced: Traced):
    """Sweep back along a trace: (adjoints, the gradient)."""
    _require_scalar(traced.output, ctx.ast)
    adj = reverse.adjoints(traced.tape, traced.output, 1.0, ctx.on_partial)
    ctx.ev.last_gradient = adj  # graph labels these nodes with their gradients
    return adj, pack([adj.get(x.id, zero_like(x.value)) for x in traced.xs], problem)
