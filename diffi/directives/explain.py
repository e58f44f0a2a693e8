"""`explain`: a directive's result with its work shown step by step (trace tables,
Taylor coefficients, numeric differences and their step sweep, or the symbolic rules).
"""
from __future__ import annotations

from .. import arrays, table
from ..arrays import finite, is_array, zero_like
from ..core.graph import Node
from ..core.problem import Problem, build
from ..core.values import format_value
from ..errors import DiffiTypeError
from ..modes import forward, numeric, reverse, symbolic
from .context import (Context, Report, _numeric_output, mode_of, numeric_estimate, pack, quietly,
                      unit_seeds)
from .derivatives import (derivative as d_directive, derivative_value, grad as grad_directive,
                          reverse_pass)
from .steps import rule_lines
from .tables import backprop_table, kink_lines, row_names, tangent_table


def explain(ev, ast, scope):
    """A directive's result with its step-by-step trace."""
    inner = ast.inner
    if inner.kind in ("check", "graph", "explain"):
        node = ev.eval_directive(inner, scope)  # (by the dispatch, as any directive)
        return node
    if inner.kind in ("grad", "backprop"):
        return _explain_reverse(ev, inner, scope)
    if inner.kind == "d":
        return _explain_derivative(ev, inner, scope)
    node = ev.eval_directive(inner, scope)
    return Report(node.value, f"{inner.kind} (no step-by-step trace)\nresult: "
                              f"{format_value(node.value, ev.precision)}")


def _explain_other_modes(ev, ast, scope, order):
    """(problem, mode, options, report): the report when symbolic or numeric explains it."""
    problem = build(ev, ast, scope)
    mode, options = mode_of(ev, ast, scope)
    if problem.symbolic or mode == "symbolic":
        return problem, mode, options, _explain_symbolic(ev, ast, problem)
    if mode == "numeric":
        return problem, mode, options, _explain_numeric(ev, ast, problem, options, order)
    return problem, mode, options, None


def _explain_reverse(ev, ast, scope):
    problem, mode, options, report = _explain_other_modes(ev, ast, scope, 1)
    if report is not None:
        return report
    traced = problem.tape()
    adj, value = reverse_pass(Context(ev, ast), problem, traced)
    trace = backprop_table(traced.tape, adj, traced.xs, ev.precision,
                           labels=traced.labels)
    lines = [str(trace), *kink_lines(problem, traced.tape, ev),
             f"gradient: {format_value(value, ev.precision)}"]
    return Report(value, "\n".join(lines), detail=trace)


def _explain_derivative(ev, ast, scope):
    problem, mode, options, report = _explain_other_modes(ev, ast, scope, ast.order)
    if report is not None:
        return report
    ctx = Context(ev, ast)
    traced = problem.tape()
    tape, x, output = traced.tape, traced.xs[0], traced.output
    name = traced.labels.get(x.id) or x.name  # (a parameter bound to a literal)
    if is_array(x.value):
        return _explain_by_tensor(ctx, problem, traced, mode, options)
    if ast.order > 1:
        coefficients = forward.taylor(tape, x, ast.order)
        lines = [f"Taylor mode: series to order {ast.order} in {name} "
                 f"(c_k = f^(k)/k! at {format_value(x.value)})"]
        names = row_names(tape.nodes, traced.labels)
        for node in tape.nodes:
            if node.id in coefficients and node.id in names:
                c = coefficients[node.id]
                lines.append(f"  {names[node.id]}: " + ", ".join(
                    format_value(v, 6) for v in c[: min(len(c), 6)]) +
                    (", …" if len(c) > 6 else ""))
        value = derivative_value(ctx, problem, mode, options, ast.order, traced)
        lines.append(f"d{ast.order}/d{name}{ast.order} = {format_value(value, ev.precision)}")
        return Report(value, "\n".join(lines))
    if mode == "reverse":
        adj = reverse.adjoints(tape, output, 1.0, ctx.on_partial)
        value = adj.get(x.id, zero_like(x.value))
        trace = backprop_table(tape, adj, [x], ev.precision, labels=traced.labels)
    else:
        tangent = forward.tangents(tape, {x.id: 1.0}, ctx.on_partial)
        value = tangent.get(output.id, zero_like(output.value))
        trace = tangent_table(tape, tangent, x, ev.precision, labels=traced.labels)
    lines = [str(trace), *kink_lines(problem, tape, ev),
             f"d/d{name} = {format_value(value, ev.precision)}"]
    return Report(value, "\n".join(lines), detail=trace)


def _explain_by_tensor(ctx, problem, traced, mode, options):
    """d/dw for a tensor w: how many passes, the first one's table, every partial."""
    ev = ctx.ev
    tape, x, output = traced.tape, traced.xs[0], traced.output
    value = derivative_value(ctx, problem, mode, options, 1, traced)
    size_x, size_e = x.value.size, arrays.np().size(output.value)
    if size_x == 0 or size_e == 0:  # (no element to seed: no pass to show)
        raise DiffiTypeError(f"explain has no pass to show: {'the result' if size_e == 0 else x.name} "
                             f"is an empty tensor", ctx.ast.span)
    if mode == "reverse" or mode is None and size_e < size_x:
        adj = reverse.adjoints(tape, output, next(unit_seeds(output.value)), ctx.on_partial)
        head = (f"reverse mode: one backward pass gives the partials by every element of "
                f"{x.name}" + (":" if size_e == 1 else f", one pass per element of the result "
                               f"({size_e}); the first:"))
        text = str(backprop_table(tape, adj, [x], ev.precision, labels=traced.labels))
    else:
        tangent = forward.tangents(tape, {x.id: next(unit_seeds(x.value))}, ctx.on_partial)
        head = (f"forward mode: one pass per element of {x.name} ({size_x}), each seeding "
                f"that element's tangent with 1; the first ({x.name}[{', '.join(['0'] * x.value.ndim)}]):")
        text = str(tangent_table(tape, tangent, x, ev.precision, labels=traced.labels))
    shape = tuple(arrays.np().shape(value))
    lines = [head, text, f"d/d{x.name}: every partial, shape {shape} = shape of the result "
             f"+ shape of {x.name}", format_value(value, ev.precision)]
    return Report(value, "\n".join(lines))


def _explain_numeric(ev, ast, problem, options, order):
    lines, values = [], []
    for var in problem.variables:
        estimate = numeric_estimate(problem, var, order, options, notes=False)
        values.append(estimate.value)
        lines += _estimate_lines(ev, var, estimate, order)
        if order == 1 and type(problem.values[var]) is float:
            lines += _sweep_lines(ev, ast, problem, var,
                                  "forward" if estimate.method == "forward" else "central")
    value = values[0] if ast.kind == "d" else pack(values, problem)
    return Report(value, "\n".join(lines))


def _estimate_lines(ev, var: str, estimate, order: int) -> list[str]:
    """The step, the evaluations, the estimate with its error, and any notes."""
    name = f"d/d{var}" if order == 1 else f"d{order}/d{var}{order}"
    if estimate.method == "richardson":
        step = (f"steps from h = {format_value(estimate.first, 3)} down to "
                f"{format_value(estimate.step, 3)}, each 1.4 times smaller")
    else:
        step = f"step h = {format_value(estimate.step, 3)} (and 2h, for the error estimate)"
    lines = [f"numeric {name} by {estimate.method} differences, {step}"]
    for tried in estimate.tried:
        kind = "round-off" if tried.error <= 4 * tried.noise else "truncation"
        lines.append(f"  (step {format_value(tried.step, 3)} was tried first: error about "
                     f"{format_value(tried.error, 2)}, mostly {kind})")
    for point, value in estimate.evaluations[:12]:
        lines.append(f"  f({var} = {format_value(point)}) = {format_value(value, ev.precision)}")
    if len(estimate.evaluations) > 12:
        lines.append(f"  … {len(estimate.evaluations) - 12} more evaluations")
    lines.append(f"  estimate {format_value(estimate.value, ev.precision)}, error about "
                 f"{format_value(estimate.error, 2)} (round-off {format_value(estimate.noise, 2)})")
    lines += [f"  note: {note}" for note in estimate.notes]
    return lines


def _sweep_lines(ev, ast, problem, var, method: str) -> list[str]:
    """Differences for h = 1e-1 … 1e-15 against the exact (forward-mode) value."""
    rows, exact = _sweep(ev, ast, problem, var, method)
    lines = [f"  step size sweep ({method} differences; error against forward mode "
             f"{format_value(exact, ev.precision)}):",
             "       h   estimate               error"]
    for h, value, error in rows:
        outside = "  (a point outside f's domain)" if not finite(value) else ""
        lines.append(f"  {h:6.0e}   {format_value(value, 15):<21}  {error:.1e}{outside}")
    power = "h^2" if method == "central" else "h"
    lines.append(f"  (truncation error falls like {power} as h shrinks; round-off error "
                 "grows like eps/h)")
    return lines


def _sweep(ev, ast, problem, var, method: str):
    """The sweep's rows (h, estimate, error), and the exact value they are measured by."""
    exact = derivative_value(Context(ev, ast), _single(problem, var), "forward", {}, 1)
    f = quietly(ev, lambda t: _numeric_output(problem, problem.with_variable(var, t)))
    return numeric.sweep(f, problem.values[var], exact, method), exact


def numeric_sweep(ev, ast, scope) -> list:
    """The step-size sweep of `explain d/dx E at … using numeric` (central differences):
    rows (h, estimate, error), for `plot` to draw on log-log axes."""
    problem = build(ev, ast, scope)
    var = problem.variables[0] if problem.variables else None
    if ast.kind != "d" or ast.order != 1 or problem.values is None \
            or type(problem.values.get(var)) is not float:
        raise DiffiTypeError("plot draws the step-size sweep of a first derivative at a "
                             "point: plot explain d/dx E at x = 1 using numeric", ast.span)
    return _sweep(ev, ast, problem, var, "central")[0]


def _single(problem, var):
    return Problem(problem.ev, problem.ast, problem.scope, problem.function, problem.names,
                   [var], problem.values)


def _explain_symbolic(ev, ast, problem):
    """The rules that make the derivative, one line per operation, then the result."""
    traced = problem.tape(every_input=True)
    inputs, output, tape = traced.inputs, traced.output, traced.tape
    leaves = {n.id: Node(table.CONST, (), None, name=n.name) for n in inputs}
    formula = symbolic.rebuild(tape, symbolic.Builder(canonical=True), leaves)[output.id]
    variables = {leaves[n.id].id for n in traced.xs}
    lines = ["rules applied, inner parts first (u' is the derivative of u):",
             *rule_lines(formula, variables, single=len(variables) == 1)]
    result = (d_directive if ast.kind == "d" else grad_directive)(ev, ast, problem.scope)
    lines.append(f"result: {format_value(result, ev.precision)}")
    return Report(result, "\n".join(lines))
