"""`hessian` and `jacobian`: matrices of second derivatives (forward over reverse) and
of first derivatives of vector-valued expressions, in every mode.
"""
from __future__ import annotations

from .. import arrays, table
from ..arrays import is_array, single_number, zero_like
from ..core.graph import Node
from ..core.problem import build
from ..core.tape import Tape
from ..core.values import kind_of
from ..errors import DiffiTypeError
from ..modes import forward, numeric, reverse, symbolic
from .context import (NUMERIC_MAX_ELEMENTS, Context, _numeric_output, _require_scalar,
                      check_numeric_size, formula_function, mode_of, numeric_along,
                      numeric_estimate, unit_seeds)
from .compiled import compiled_request, run_compiled, settled
from .derivatives import jacobian_node
from .derived import formula, over_trace, settle_trace


def hessian(ev, ast, scope):
    """The matrix of second derivatives, forward over reverse."""
    problem = build(ev, ast, scope)
    mode, options = mode_of(ev, ast, scope)
    if problem.symbolic:
        return _symbolic_hessian_function(problem)
    if mode in (None, "forward", "reverse") and not problem.formula:
        fast = compiled_hessian(ev, problem)
        if fast is not None:
            return fast
    traced = problem.tape()
    _require_scalar(traced.output, ast)
    if problem.formula:
        return over_trace(problem, traced, hessian_graph)
    if mode == "symbolic":
        value = formula(traced.tape, hessian_graph)[0].value
    elif mode == "numeric":
        value = _numeric_hessian(problem, options)
    else:
        value = _forward_over_reverse(Context(ev, ast), traced)
    return settle_trace(ev, problem, traced, value, hessian_graph)


def compiled_hessian(ev, problem):
    """The hessian at a point of literal numbers by compiled code, asked again (its
    expression's tape compiled, then one compiled tangent sweep of the gradient's code per
    variable: compile/orders.py), when every input is a variable; else None."""
    request = compiled_request(ev, problem, "hessian", every_input_a_variable=True)
    if request is None:
        return None
    result = run_compiled(ev, problem, request, ev.compiled.Hessian())
    return None if result is None else settled(ev, problem, result[1], hessian_graph)


def _forward_over_reverse(ctx, traced):
    """The gradient's formulas (reverse mode over symbols), then one forward pass through
    them per variable, or per element of a tensor variable: an n × n matrix over every
    element of the variables in order (row-major)."""
    np = arrays.np()

    def make(b, tape, rebuilt, symbols):
        adjoint = symbolic.reverse_derivatives(tape, rebuilt, b)
        return [adjoint.get(x.id) or b.zeros(rebuilt[x.id]) for x in tape.inputs]
    grads, symbols = formula(traced.tape, make)
    gtape = Tape(grads, symbols)
    n = sum(int(np.size(s.value)) for s in symbols)
    if n > NUMERIC_MAX_ELEMENTS:
        raise DiffiTypeError(f"hessian by {n} elements is too large "
                             f"(at most {NUMERIC_MAX_ELEMENTS})", ctx.ast.span)
    columns = []
    for s in symbols:
        for seed in unit_seeds(s.value):
            tangent = forward.tangents(gtape, {s.id: seed})
            columns.append(np.concatenate([np.ravel(_get(tangent, g)) for g in gtape.outputs]))
    return np.column_stack(columns) if columns else np.zeros((0, 0))


def hessian_graph(b, tape, rebuilt, symbols):
    """The matrix of second derivatives as one formula (scalar variables)."""
    if any(is_array(x.value) for x in tape.inputs):
        raise DiffiTypeError("a hessian by tensors cannot be differentiated again")
    rows = [b.ap(table.VECTOR, *[_symbolic_partial(g, s, symbols, b) for s in symbols])
            for g in symbolic.gradient_formulas(tape, rebuilt, b)]
    return b.ap(table.VECTOR, *rows)


def _symbolic_hessian_function(problem):
    """The hessian's formula in the problem's inputs (no point)."""
    traced = problem.tape()
    inputs, xs, tape = traced.inputs, traced.xs, traced.tape
    b = symbolic.Builder(canonical=True)
    rebuilt = symbolic.rebuild(tape, b, {x.id: x for x in xs}, shapes=problem.ev.shape_of)
    adjoint = symbolic.reverse_derivatives(tape, rebuilt, b)
    grads = [adjoint.get(x.id, b.const(0.0)) for x in xs]
    entries = [_symbolic_partial(g, x, xs, b) for g in grads for x in xs]
    return formula_function(problem, inputs, entries, vector=False, matrix=len(xs))


def _symbolic_partial(g: Node, x: Node, xs, b) -> Node:
    tape = Tape([g], xs)
    rebuilt = symbolic.rebuild(tape, b, {v.id: v for v in xs}, keep_inactive=True)
    return symbolic.forward_derivative(tape, rebuilt, x, b)


def _numeric_hessian(problem, options):
    np = arrays.np()
    n = len(problem.variables)
    matrix = np.zeros((n, n))
    for var in problem.variables:
        if is_array(problem.values[var]):
            raise DiffiTypeError(f"numeric mode differences a hessian by numbers; {var} is "
                                 f"a tensor: use forward or reverse mode", problem.ast.span)
    for i, vi in enumerate(problem.variables):
        for j, vj in enumerate(problem.variables):
            if i == j:
                matrix[i, i] = _number(numeric_estimate(problem, vi, 2, options).value,
                                       problem)
                continue
            xi, xj = problem.values[vi], problem.values[vj]
            hi = numeric.default_step(xi, "central", 2, floor=1.0)
            hj = numeric.default_step(xj, "central", 2, floor=1.0)
            if not 4 * hi * hj > 0:  # (steps near a subnormal point underflow)
                raise DiffiTypeError(f"numeric differences cannot mix {vi} and {vj} here: "
                                     f"their steps underflow; use forward or reverse mode",
                                     problem.ast.span)

            def f(di, dj):
                values = dict(problem.values)
                values[vi], values[vj] = xi + di, xj + dj
                return _number(problem.output_at(values), problem)
            matrix[i, j] = (f(hi, hj) - f(hi, -hj) - f(-hi, hj) + f(-hi, -hj)) / (4 * hi * hj)
    return matrix


def jacobian(ev, ast, scope):
    """The matrix of first derivatives of a vector-valued expression: one row per output
    element, one column per element of each variable (in wrt order, row-major)."""
    problem = build(ev, ast, scope)
    mode, options = mode_of(ev, ast, scope)
    if problem.symbolic:
        raise DiffiTypeError("jacobian needs a point: give one with at", ast.span)
    if mode in (None, "forward", "reverse") and not problem.formula:
        fast = compiled_jacobian(ev, problem)
        if fast is not None:
            return fast
    traced = problem.tape()
    if problem.formula:
        return over_trace(problem, traced, jacobian_graph)
    value = _jacobian_value(ast, problem, traced, mode, options)
    return settle_trace(ev, problem, traced, value, jacobian_graph)


def compiled_jacobian(ev, problem):
    """The jacobian of a vector of numbers at a point of literal numbers by compiled code,
    asked again: one compiled tangent sweep of every element per variable; else None."""
    request = compiled_request(ev, problem, "jacobian", expression_only=True)
    if request is None:
        return None
    ask = ev.compiled.Jacobian(tuple(problem.names.index(v) for v in problem.variables))
    result = run_compiled(ev, problem, request, ask)
    return None if result is None else settled(ev, problem, result[1], jacobian_graph)


def _jacobian_value(ast, problem, traced, mode, options):
    np = arrays.np()
    xs = traced.xs
    outputs = _components(traced.output)
    for o in outputs:
        if not (is_array(o.value) or type(o.value) in (float, bool)):
            raise DiffiTypeError(f"jacobian needs numbers or tensors, not a "
                                 f"{kind_of(o.value)}", ast.span)
    m = sum(np.size(o.value) for o in outputs)
    n = sum(np.size(x.value) for x in xs)
    if m == 0 or n == 0:  # an empty output or variable: an empty matrix, nothing to run
        return np.zeros((m, n))
    if mode == "numeric":
        return _numeric_jacobian(problem, options)
    if mode == "symbolic":
        return formula(traced.tape, jacobian_graph)[0].value
    tape = Tape(outputs, xs)
    if mode == "forward" or (mode is None and n < m):
        if n > NUMERIC_MAX_ELEMENTS:
            raise DiffiTypeError(f"forward mode takes one pass per input element "
                                 f"({n}); use reverse", ast.span)
        columns = [_flatten([_get(forward.tangents(tape, {x.id: seed}), o) for o in outputs],
                            outputs) for x in xs for seed in unit_seeds(x.value)]
        return np.column_stack(columns)
    rows = []
    for node in outputs:
        for seed in unit_seeds(node.value):
            adj = reverse.adjoints(Tape([node], xs), node, seed)
            rows.append(np.concatenate([np.ravel(_get(adj, x)) for x in xs]))
    return np.vstack(rows)


def jacobian_graph(b, tape, rebuilt, symbols):
    """The jacobian as one formula: a block of columns per variable."""
    np = arrays.np()
    output = tape.outputs[0]
    m = max(int(np.size(output.value)), 1)
    blocks = []
    for x, s in zip(tape.inputs, symbols):
        if is_array(x.value):
            part = jacobian_node(b, tape, rebuilt, x)
        else:
            part = symbolic.forward_derivative(tape, rebuilt, x, b)
        blocks.append(b.ap(table.RESHAPE, part, params=(m, int(np.size(x.value)))))
    return blocks[0] if len(blocks) == 1 else b.ap(table.CONCAT, *blocks, params=1)


def _number(value, problem) -> float:
    """A second derivative as one number (a one-element tensor's too)."""
    single = single_number(value)
    if single is None:
        raise DiffiTypeError(f"hessian needs a scalar expression, not a "
                             f"{kind_of(value)}", problem.ast.span)
    return single


def _numeric_jacobian(problem, options):
    """Finite differences of the whole output along each input element, by the method
    and step that numeric mode was given."""
    np = arrays.np()
    columns = []
    for var in problem.variables:
        check_numeric_size(problem, var)
        x0 = problem.values[var]
        for index in np.ndindex(*x0.shape) if is_array(x0) else [None]:
            def f(t, index=index):
                x = t
                if index is not None:
                    x = x0.copy()
                    x[index] = t
                return np.ravel(np.asarray(_numeric_output(problem,
                                                           problem.with_variable(var, x)),
                                           dtype=float))
            start = x0 if index is None else float(x0[index])
            columns.append(numeric_along(problem, var, f, start, options))
    return np.column_stack(columns)


def _get(derivatives: dict, node):
    """node's entry in a tangent or adjoint map; zero in its shape when it has none."""
    return derivatives[node.id] if node.id in derivatives else zero_like(node.value)


def _flatten(values, outputs):
    np = arrays.np()
    return np.concatenate([np.ravel(np.broadcast_to(v, np.shape(o.value)))
                           for v, o in zip(values, outputs)])


def _components(output: Node) -> list[Node]:
    """The outputs of a vector-valued expression: a literal's elements, or the tensor."""
    if output.op in (table.VECTOR, table.TUPLE) and all(
            type(i.value) in (float, bool) for i in output.inputs):
        return list(output.inputs)
    return [output]
