"""`hessian` and `jacobian`: matrices of second derivatives (forward over reverse) and
of first derivatives of vector-valued expressions, in every mode.
"""
from __future__ import annotations

from .. import arrays, table
from ..arrays import is_array, zero_like
from ..core.graph import Node
from ..core.problem import build
from ..core.tape import Tape
from ..errors import DiffiTypeError
from ..modes import forward, numeric, reverse, symbolic
from .context import (NUMERIC_MAX_ELEMENTS, Context, _require_scalar, check_numeric_size,
                      formula_function, mode_of, numeric_estimate, unit_seeds)


def hessian(ev, ast, scope):
    """The matrix of second derivatives, forward over reverse."""
    problem = build(ev, ast, scope)
    mode, options = mode_of(ev, ast, scope)
    if problem.values is not None and any(is_array(v) for v in problem.values.values()):
        return _tensor_hessian(Context(ev, ast), problem)
    inputs, output = problem.trace()
    xs = problem.variable_nodes(inputs)
    _require_scalar(output, ast)
    tape = Tape([output], xs)
    b = symbolic.Builder()
    leaves = {x.id: x for x in xs}
    rebuilt = symbolic.rebuild(tape, b, leaves)
    adj = symbolic.reverse_derivatives(tape, rebuilt, b)
    grads = [adj.get(x.id, b.const(0.0)) for x in xs]
    n = len(xs)
    if problem.symbolic or mode == "symbolic":
        entries = [_symbolic_partial(g, x, xs, b) for g in grads for x in xs]
        if problem.symbolic:
            return formula_function(problem, inputs, entries, vector=False, matrix=n)
        return arrays.np().array([e.value for e in entries], dtype=float).reshape(n, n)
    if mode == "numeric":
        return _numeric_hessian(problem, options)
    gtape = Tape(grads, xs)
    matrix = arrays.np().zeros((n, n))
    for j, x in enumerate(xs):
        tangent = forward.tangents(gtape, {x.id: 1.0})
        for i, g in enumerate(grads):
            matrix[i, j] = float(tangent.get(g.id, 0.0))
    return matrix


def _tensor_hessian(ctx, problem):
    """Second derivatives by tensor variables: central differences of the exact
    reverse-mode gradient along each element (error about 1e-10 relative), since the
    tensor operations' reverse rules are numeric (not graphs that forward mode can
    differentiate again)."""
    np = arrays.np()
    names = problem.variables
    flat = np.concatenate([np.ravel(problem.values[v]) for v in names])
    if flat.size > NUMERIC_MAX_ELEMENTS:
        raise DiffiTypeError(f"hessian by {flat.size} elements is too large "
                             f"(at most {NUMERIC_MAX_ELEMENTS})", ctx.ast.span)

    def gradient_at(point):
        values, offset = dict(problem.values), 0
        for v in names:
            size = np.size(problem.values[v])
            piece = point[offset:offset + size]
            values[v] = piece.reshape(np.shape(problem.values[v])) if \
                is_array(problem.values[v]) else float(piece[0])
            offset += size
        inputs, output = problem.trace(values)
        xs = problem.variable_nodes(inputs)
        adj = reverse.adjoints(Tape([output], xs), output, 1.0)
        return np.concatenate([np.ravel(_get(adj, x)) for x in xs])

    matrix = np.zeros((flat.size, flat.size))
    for j in range(flat.size):
        h = numeric.default_step(flat[j], "central")
        up, down = flat.copy(), flat.copy()
        up[j] += h
        down[j] -= h
        matrix[:, j] = (gradient_at(up) - gradient_at(down)) / (2 * h)
    return (matrix + matrix.T) / 2


def _symbolic_partial(g: Node, x: Node, xs, b) -> Node:
    tape = Tape([g], xs)
    rebuilt = symbolic.rebuild(tape, b, {v.id: v for v in xs}, keep_inactive=True)
    return symbolic.forward_derivative(tape, rebuilt, x, b)


def _numeric_hessian(problem, options):
    np = arrays.np()
    n = len(problem.variables)
    matrix = np.zeros((n, n))
    for i, vi in enumerate(problem.variables):
        for j, vj in enumerate(problem.variables):
            if i == j:
                matrix[i, i] = numeric_estimate(problem, vi, 2, options).value
                continue
            xi, xj = problem.values[vi], problem.values[vj]
            hi = numeric.default_step(xi, "central", 2)
            hj = numeric.default_step(xj, "central", 2)

            def f(di, dj):
                values = dict(problem.values)
                values[vi], values[vj] = xi + di, xj + dj
                return problem.output_at(values)
            matrix[i, j] = (f(hi, hj) - f(hi, -hj) - f(-hi, hj) + f(-hi, -hj)) / (4 * hi * hj)
    return matrix


def jacobian(ev, ast, scope):
    """The matrix of first derivatives of a vector-valued expression: one row per output
    element, one column per element of each variable (in wrt order, row-major)."""
    problem = build(ev, ast, scope)
    mode, options = mode_of(ev, ast, scope)
    if problem.symbolic:
        raise DiffiTypeError("jacobian needs a point: give one with at", ast.span)
    np = arrays.np()
    inputs, output = problem.trace()
    xs = problem.variable_nodes(inputs)
    outputs = _components(output)
    m = sum(np.size(o.value) for o in outputs)
    n = sum(np.size(x.value) for x in xs)
    if m == 0 or n == 0:  # an empty output or variable: an empty matrix, nothing to run
        return np.zeros((m, n))
    if mode == "numeric":
        return _numeric_jacobian(problem, options)
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


def _numeric_jacobian(problem, options):
    """Finite differences of the whole output along each input element, by the method
    and step that numeric mode was given."""
    np = arrays.np()
    method, step = options.get("method", "central"), options.get("step")
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
                return np.ravel(np.asarray(problem.output_at(problem.with_variable(var, x)),
                                           dtype=float))
            start = x0 if index is None else float(x0[index])
            columns.append(numeric.derivative(f, start, 1, method, step).value)
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
