"""Showing the work: backprop and tangent tables, explain, check, hessian, jacobian, graph.

Trace rows use the user's names (generated v1, v2, … for unnamed nodes); formulas
are built with the table's rules over symbols and printed like diffi source, with
`·` for products and `−` for minus as in the lecture tables.
"""
from __future__ import annotations

import math
import os
import re
import shutil
import subprocess

from .. import arrays, table
from ..arrays import is_array, zero_like
from ..core.graph import Node, ancestors
from ..core.tape import Tape
from ..core.values import display_width, format_value
from ..errors import DiffiError, DiffiTypeError
from ..language import syntax as S
from ..modes import forward, numeric, reverse, symbolic
from .derivatives import (NUMERIC_MAX_ELEMENTS, Context, Report, _require_scalar, build,
                          check_numeric_size, derivative_value, formula_function, gradient,
                          mode_of, numeric_estimate, pack, reverse_pass, unit_seeds)

BAR, DOT = "\u0304", "\u0307"
TOLERANCE = 1e-6
TIE = 0.1  # check: differences this close (relatively) to the largest are one finding


# Row names and formulas -------------------------------------------------------------

def row_names(nodes: list[Node]) -> dict[int, str]:
    """A unique display name for every node that gets a row."""
    names, used, count = {}, set(), 0
    for node in nodes:
        if _is_literal(node):
            continue
        name = node.name
        if name is None or name in used:
            while True:
                count += 1
                candidate = f"v{count}"
                if candidate not in used:
                    break
            name = candidate if node.name is None else f"{node.name}_{count}"
        used.add(name)
        names[node.id] = name
    return names


def _is_literal(node: Node) -> bool:
    return node.op is table.CONST and node.name is None


def accent(name: str, mark: str) -> str:
    """ā5 from a5: the mark on the name's first letter."""
    return name[0] + mark + name[1:]


def pretty(text: str) -> str:
    """Lecture notation: · for products, − for minus (not the e-5 of a number)."""
    return re.sub(r"(?<![eE])-", "−", text.replace("*", "·"))


def _symbols(nodes, names) -> dict[int, Node]:
    """A formula leaf for each row (named) and each literal (its number)."""
    b = symbolic.Builder()
    out = {}
    for node in nodes:
        if node.id in names:
            out[node.id] = Node(table.CONST, (), None, name=names[node.id])
        else:
            out[node.id] = b.const(node.value)
    return out


def operation_text(node: Node, symbols: dict, names: dict) -> str:
    """The node's operation in terms of earlier rows: `w1*x`, `cos(a5)`."""
    syntax = {i.id: symbolic._node_syntax(symbols[i.id], {}) for i in node.inputs}
    return S.unparse(symbolic._node_syntax(node, syntax))


def _print(expr: Node) -> str:
    names = {}
    for n in ancestors(expr):
        if n.op is table.CONST and n.value is None:
            names[n.id] = n.name
    _, [syntax] = symbolic.to_syntax([expr], names, share=False)
    return pretty(S.unparse(syntax))


def _table(rows: list[tuple[str, str, str]]) -> list[str]:
    """Aligned `name = formula = value` lines."""
    left = max((display_width(a) for a, _, _ in rows), default=0)
    mid = max((display_width(b) for _, b, _ in rows), default=0)
    lines = []
    for a, b, c in rows:
        text = f"  {a}{' ' * (left - display_width(a))} = "
        if b:
            text += f"{b}{' ' * (mid - display_width(b))} = {c}"
        else:
            text += c
        lines.append(text.rstrip())
    return lines


class Row:
    """One line of a trace: `name = formula = value`."""

    __slots__ = ("name", "formula", "value", "text")

    def __init__(self, name: str, formula: str, value, text: str):
        self.name, self.formula, self.value, self.text = name, formula, value, text

    def __iter__(self):
        return iter((self.name, self.formula, self.text))

    def __repr__(self) -> str:
        return f"Row({self.name!r}, {self.formula!r}, {self.text!r})"


class Trace:
    """The forward and backward passes of a backprop, row by row, and the gradient."""

    def __init__(self, forward: list[Row], backward: list[Row], gradient, precision: int,
                 backward_title: str = "backward pass"):
        self.forward = forward
        self.backward = backward
        self.gradient = gradient
        self.precision = precision
        self.backward_title = backward_title

    @property
    def rows(self) -> list[Row]:
        return self.forward + self.backward

    def __str__(self) -> str:
        lines = ["forward pass", *_table(self.forward), self.backward_title,
                 *_table(self.backward)]
        if self.gradient is not None:
            lines.append(f"gradient: {format_value(self.gradient, self.precision)}")
        return "\n".join(lines)


def forward_rows(tape: Tape, names: dict, symbols: dict, precision: int) -> list[Row]:
    rows = []
    inputs = {n.id for n in tape.inputs}
    for node in tape.nodes:
        if node.id not in names:
            continue
        leaf = not node.inputs or node.id in inputs
        formula = "" if leaf else pretty(operation_text(node, symbols, names))
        rows.append(Row(names[node.id], formula, node.value, _short(node.value, precision)))
    return rows


def _short(value, precision: int) -> str:
    """A value for a table row: tensors summarised by shape, first values and norm."""
    if is_array(value) and value.size > 6:
        np = arrays.np()
        head = ", ".join(format_value(float(v), 6) for v in value.reshape(-1)[:3])
        return f"{value.shape} [{head}, …] norm {format_value(float(np.linalg.norm(value)), 6)}"
    return " ".join(format_value(value, precision).split())


# backprop and the forward tangent table ------------------------------------------------

def backprop_table(tape: Tape, adjoint: dict, xs: list[Node], precision: int,
                   gradient=None) -> Trace:
    """Forward values, then backward adjoints with the rule that made each."""
    names = row_names(tape.nodes)
    symbols = _symbols(tape.nodes, names)
    bars = {i: Node(table.CONST, (), None, name=accent(n, BAR)) for i, n in names.items()}
    consumers = _consumers(tape)
    inputs = {x.id for x in xs}
    output = tape.outputs[0]
    rows = []
    for node in reversed(tape.nodes):
        if node.id not in adjoint or node.id not in names:
            continue
        if node is output:
            formula = ""
        else:
            formula = _adjoint_formula(node, consumers, symbols, bars, inputs)
        rows.append(Row(accent(names[node.id], BAR), formula, adjoint[node.id],
                        _short(adjoint[node.id], precision)))
    return Trace(forward_rows(tape, names, symbols, precision), rows, gradient, precision)


def _consumers(tape: Tape) -> dict[int, list]:
    out: dict[int, list] = {}
    inputs = {x.id for x in tape.inputs}
    for node in tape.nodes:
        if node.id not in tape.active or node.id in inputs:
            continue
        for k, inp in enumerate(node.inputs):
            if inp.id in tape.active:
                out.setdefault(inp.id, []).append((node, k))
    return out


def _adjoint_formula(node, consumers, symbols, bars, inputs) -> str:
    b = symbolic.Builder()
    total, texts = None, []
    for consumer, k in consumers.get(node.id, []):
        shown = consumer.op.adjoint_text
        if shown is not None:  # a tensor rule: shown in words from the table
            texts.append(_adjoint_text(consumer, k, shown, symbols, bars))
            continue
        part = _partial(consumer, k, symbols, b)
        if part is None:
            continue
        term = b.ap(table.MUL, bars[consumer.id], part)
        total = term if total is None else b.ap(table.ADD, total, term)
    parts = ([] if total is None else [_print(total)]) + texts
    return " + ".join(parts) if parts else "0"


def _adjoint_text(consumer, k, texts, symbols, bars) -> str:
    def name(node):
        symbol = symbols[node.id]
        return symbol.name if symbol.name else format_value(symbol.value)
    inputs = [name(i) for i in consumer.inputs]
    template = texts[min(k, len(texts) - 1)]
    return template.format(g=bars[consumer.id].name, y=name(consumer), k=k,
                           a=inputs[0], b=inputs[1] if len(inputs) > 1 else "")


def _partial(node, k, symbols, b):
    op = node.op
    if op.partials is None:
        return None if getattr(op, "vjp", None) is None else b.const(1.0)
    args = [symbols[i.id] for i in node.inputs]
    return op.partials(b.ap, *args, symbols[node.id])[k]


def tangent_table(tape: Tape, tangent: dict, x: Node, precision: int) -> str:
    """The forward pass with each node's tangent ẏ = Σ ∂y/∂u · u̇."""
    names = row_names(tape.nodes)
    symbols = _symbols(tape.nodes, names)
    dots = {i: Node(table.CONST, (), None, name=accent(n, DOT)) for i, n in names.items()}
    rows = []
    for node in tape.nodes:
        if node.id not in names or node.id not in tape.active:
            continue
        if node is x:
            formula = ""
        else:
            formula = _tangent_formula(node, symbols, dots, tape)
        value = tangent.get(node.id, 0.0)
        rows.append(Row(accent(names[node.id], DOT), formula, value, _short(value, precision)))
    return str(Trace(forward_rows(tape, names, symbols, precision), rows, None, precision,
                     f"tangents (d/d{names.get(x.id, 'x')})"))


def _tangent_formula(node, symbols, dots, tape) -> str:
    b = symbolic.Builder()
    total = None
    for k, inp in enumerate(node.inputs):
        if inp.id not in tape.active:
            continue
        part = _partial(node, k, symbols, b)
        if part is None:
            continue
        term = b.ap(table.MUL, part, dots[inp.id])
        total = term if total is None else b.ap(table.ADD, total, term)
    return "0" if total is None else _print(total)


# Kinks ----------------------------------------------------------------------------------

def kinks(tape: Tape) -> list[tuple[Node, str]]:
    """Active operations evaluated exactly at a point where they are not differentiable."""
    found = []
    for node in tape.nodes:
        if node.id not in tape.active:
            continue
        test = getattr(node.op, "at_kink", None)
        args = [i.value for i in node.inputs]
        if test is not None and _all_scalar(args) and test(*args):
            where = format_value(args[0] if len(args) == 1 else tuple(args))
            found.append((node, f"{node.op.label} at {where}: {node.op.kink_convention}"))
    return found


def _all_scalar(values) -> bool:
    return all(type(v) in (float, bool) for v in values)


def one_sided(problem, var: str) -> tuple[float, float]:
    """Left and right derivatives by second-order one-sided differences."""
    x0 = problem.values[var]
    h = 1e-6 * max(1.0, abs(x0))

    def f(t):
        return problem.output_at(problem.with_variable(var, t))
    f0 = f(x0)
    right = (-3 * f0 + 4 * f(x0 + h) - f(x0 + 2 * h)) / (2 * h)
    left = (3 * f0 - 4 * f(x0 - h) + f(x0 - 2 * h)) / (2 * h)
    return left, right


def kink_lines(problem, tape: Tape, ev) -> list[str]:
    lines = []
    for node, text in kinks(tape):
        where = f" (line {node.span.line}, column {node.span.column})" if node.span else ""
        lines.append(f"warning: non-differentiable point: {text}{where}")
    if lines and problem.values is not None:
        for var in problem.variables:
            if type(problem.values[var]) is float:
                left, right = one_sided(problem, var)
                lines.append(f"  d/d{var}: left derivative {format_value(_round(left))}, "
                             f"right derivative {format_value(_round(right))}")
    return lines


def _round(value: float) -> float:
    """A one-sided difference to the digits it can be trusted with (about 8)."""
    return round(value, 8) + 0.0


# explain ------------------------------------------------------------------------------

def explain(ev, ast, scope):
    """A directive's result with its step-by-step trace."""
    inner = ast.inner
    if inner.kind in ("check", "graph", "explain"):
        from .derivatives import run
        node = run(ev, inner, scope)
        return node
    if inner.kind in ("grad", "backprop"):
        return _explain_reverse(ev, inner, scope)
    if inner.kind == "d":
        return _explain_derivative(ev, inner, scope)
    from .derivatives import run
    node = run(ev, inner, scope)
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
    tape, adj, xs, value = reverse_pass(Context(ev, ast), problem)
    lines = [str(backprop_table(tape, adj, xs, ev.precision)), *kink_lines(problem, tape, ev),
             f"gradient: {format_value(value, ev.precision)}"]
    return Report(value, "\n".join(lines))


def _explain_derivative(ev, ast, scope):
    problem, mode, options, report = _explain_other_modes(ev, ast, scope, ast.order)
    if report is not None:
        return report
    ctx = Context(ev, ast)
    inputs, output = problem.trace()
    x = problem.variable_nodes(inputs)[0]
    tape = Tape([output], [x])
    if ast.order > 1:
        coefficients = forward.taylor(tape, x, ast.order)
        lines = [f"Taylor mode: series to order {ast.order} in {x.name} "
                 f"(c_k = f^(k)/k! at {format_value(x.value)})"]
        names = row_names(tape.nodes)
        for node in tape.nodes:
            if node.id in coefficients and node.id in names:
                c = coefficients[node.id]
                lines.append(f"  {names[node.id]}: " + ", ".join(
                    format_value(v, 6) for v in c[: min(len(c), 6)]) +
                    (", …" if len(c) > 6 else ""))
        value = derivative_value(ctx, problem, mode or "forward", options, ast.order)
        lines.append(f"d{ast.order}/d{x.name}{ast.order} = {format_value(value, ev.precision)}")
        return Report(value, "\n".join(lines))
    if mode == "reverse":
        adj = reverse.adjoints(tape, output, 1.0, ctx.on_partial)
        value = adj.get(x.id, zero_like(x.value))
        text = str(backprop_table(tape, adj, [x], ev.precision))
    else:
        tangent = forward.tangents(tape, {x.id: 1.0}, ctx.on_partial)
        value = tangent.get(output.id, zero_like(output.value))
        text = tangent_table(tape, tangent, x, ev.precision)
    lines = [text, *kink_lines(problem, tape, ev),
             f"d/d{x.name} = {format_value(value, ev.precision)}"]
    return Report(value, "\n".join(lines))


def _explain_numeric(ev, ast, problem, options, order):
    lines, values = [], []
    for var in problem.variables:
        estimate = numeric_estimate(problem, var, order, options)
        values.append(estimate.value)
        first = " (first step; then shrinking by 1.4)" if estimate.method == "richardson" else ""
        lines.append(f"numeric d/d{var} by {estimate.method} differences, "
                     f"step h = {format_value(estimate.step, 3)}{first}")
        for point, value in estimate.evaluations[:12]:
            lines.append(f"  f({var} = {format_value(point)}) = {format_value(value, ev.precision)}")
        if len(estimate.evaluations) > 12:
            lines.append(f"  … {len(estimate.evaluations) - 12} more evaluations")
        lines.append(f"  estimate {format_value(estimate.value, ev.precision)}, error about "
                     f"{format_value(estimate.error, 2)}")
        if order == 1 and type(problem.values[var]) is float:
            lines += _sweep_lines(ev, ast, problem, var,
                                  "forward" if estimate.method == "forward" else "central")
    value = values[0] if ast.kind == "d" else pack(values, problem)
    return Report(value, "\n".join(lines))


def _sweep_lines(ev, ast, problem, var, method: str) -> list[str]:
    """Differences for h = 1e-1 … 1e-15 against the exact (forward-mode) value."""
    ctx = Context(ev, ast)
    exact_problem = problem
    exact = derivative_value(ctx, _single(exact_problem, var), "forward", {}, 1)
    f = lambda t: problem.output_at(problem.with_variable(var, t))  # noqa: E731
    lines = [f"  step size sweep ({method} differences; error against forward mode "
             f"{format_value(exact, ev.precision)}):",
             "       h   estimate               error"]
    for h, value, error in numeric.sweep(f, problem.values[var], exact, method):
        lines.append(f"  {h:6.0e}   {format_value(value, 15):<21}  {error:.1e}")
    power = "h^2" if method == "central" else "h"
    lines.append(f"  (truncation error falls like {power} as h shrinks; round-off error "
                 "grows like eps/h)")
    return lines


def _single(problem, var):
    from ..core.problem import Problem
    return Problem(problem.ev, problem.ast, problem.scope, problem.function, problem.names,
                   [var], problem.values)


def _explain_symbolic(ev, ast, problem):
    inputs, output = problem.trace()
    tape = Tape([output], inputs)
    b = symbolic.Builder()
    leaves = {n.id: Node(table.CONST, (), None, name=n.name) for n in inputs}
    formula = symbolic.rebuild(tape, b, leaves)[output.id]
    lines = ["rules applied (u' is the derivative of u):"]
    for expr in ancestors(formula):
        if not expr.inputs or expr.op.partials is None:
            continue
        parts = expr.op.partials(b.ap, *expr.inputs, expr)
        terms = [f"({_print(b.node(part))})·({_print(arg)})'"
                 for arg, part in zip(expr.inputs, parts)
                 if part is not None and _depends(arg, leaves)]
        if terms:
            lines.append(f"  ({_print(expr)})' = " + " + ".join(terms))
    from .derivatives import grad as grad_directive, derivative as d_directive
    result = (d_directive if ast.kind == "d" else grad_directive)(ev, ast, problem.scope)
    lines.append(f"result: {format_value(result, ev.precision)}")
    return Report(result, "\n".join(lines))


def _depends(node: Node, leaves: dict) -> bool:
    return any(n.op is table.CONST and n.value is None for n in ancestors(node))


# check ----------------------------------------------------------------------------------

def check(ev, ast, scope):
    """Every mode side by side, with the largest relative difference."""
    problem = build(ev, ast, scope)
    if problem.symbolic:
        raise DiffiTypeError("check needs a point: give one with at", ast.span)
    ctx = Context(ev, ast)
    results = {}
    for mode, options in (("forward", {}), ("reverse", {}),
                          ("numeric", {"method": "richardson"}), ("symbolic", {})):
        try:
            results[mode] = _flat(gradient(ctx, problem, mode, options))
        except DiffiError as error:
            results[mode] = error
    inputs, output = problem.trace()
    tape = Tape([output], problem.variable_nodes(inputs))
    worst, pair = _largest_difference(results)
    ok = worst <= TOLERANCE
    lines = _check_table(problem, results, ev.precision)
    verdict = "agree" if ok else "DISAGREE"
    lines.append(f"largest relative difference: {worst:.1e} ({pair}): {verdict} "
                 f"(tolerance {TOLERANCE:g})")
    verdict_line = len(lines) - 1
    found = kinks(tape)
    if not ok:
        lines.append("likely cause: " + _likely_cause(found, results))
    elif found:
        lines.append("note: a non-differentiable point was met: " + found[0][1])
    if not ok:
        ev.failed_checks += 1
    return Report(worst, "\n".join(lines), ok, verdict=verdict_line)


def _flat(value) -> list[float]:
    if is_array(value):
        return [float(v) for v in value.reshape(-1)]
    if isinstance(value, tuple):
        out = []
        for v in value:
            out += _flat(v)
        return out
    return [float(value)]


def _largest_difference(results) -> tuple[float, str]:
    """The largest relative difference between two modes, and the pair it names: the
    first in table order within TIE of the largest, so that the last bits of two
    modes that agree (forward and reverse) do not decide which one is named."""
    modes = [m for m, r in results.items() if not isinstance(r, Exception)]
    pairs = []
    for i, a in enumerate(modes):
        for b in modes[i + 1:]:
            pairs.append((max([_relative(x, y) for x, y in zip(results[a], results[b])],
                              default=0.0), f"{b} vs {a}"))
    worst = max([d for d, _ in pairs], default=0.0)
    if worst == 0.0:
        return 0.0, "all modes"
    return worst, next(pair for d, pair in pairs if d >= worst * (1 - TIE))


def _relative(x: float, y: float) -> float:
    if x == y or (math.isnan(x) and math.isnan(y)):
        return 0.0
    if not (math.isfinite(x) and math.isfinite(y)):
        return math.inf
    return abs(x - y) / max(abs(x), abs(y), 1.0)


def _check_table(problem, results, precision) -> list[str]:
    header = ["mode"] + [label for v in problem.variables
                         for label in _element_labels(v, problem.values[v])]
    results = {("numeric (richardson)" if m == "numeric" else m): r for m, r in results.items()}
    rows = [header]
    for mode, values in results.items():
        if isinstance(values, Exception):
            rows.append([mode, f"(not available: {values.message})"])
        else:
            rows.append([mode] + [format_value(v, precision) for v in values])
    full = [r for r in rows if len(r) == len(header)]  # a note spans the row: no width
    widths = [max(len(r[i]) for r in full) for i in range(len(header))]
    widths[0] = max(len(r[0]) for r in rows)
    return ["  ".join(c.ljust(widths[i]) if i < len(widths) else c
                      for i, c in enumerate(r)).rstrip() for r in rows]


def _element_labels(var: str, value) -> list[str]:
    """d/dx for a scalar; d/dW[0, 1], … for the elements of a tensor."""
    if not is_array(value):
        return [f"d/d{var}"]
    return [f"d/d{var}[{', '.join(map(str, index))}]"
            for index in arrays.np().ndindex(*value.shape)]


def _likely_cause(found, results) -> str:
    if found:
        return f"a non-differentiable point ({found[0][1]}): the modes see different sides"
    exact = [r for m, r in results.items() if m != "numeric" and not isinstance(r, Exception)]
    numeric_values = results.get("numeric")
    if exact and not isinstance(numeric_values, Exception):
        if all(_relative(a, b) <= 1e-12 for a, b in zip(exact[0], exact[-1])):
            big = max(abs(v) for v in exact[0]) if exact[0] else 0.0
            if big > 1e8:
                return "round-off in the numeric differences (large values)"
            return "numeric truncation or round-off error (a step too large or too small)"
    return "forward and reverse differ: a derivative rule may be wrong"


# hessian and jacobian ------------------------------------------------------------------

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


# graph ----------------------------------------------------------------------------------

class Graph:
    """A computation graph to show: as text, or as Graphviz DOT."""

    def __init__(self, nodes: list[Node], ev):
        self.nodes = nodes
        self._ev = ev

    def to_text(self) -> str:
        return graph_text(self.nodes, self._ev)

    def to_dot(self) -> str:
        return to_dot(self.nodes, self._ev)

    __str__ = to_text


def graph(ev, ast, scope):
    """The computation graph of E: text, or Graphviz DOT / SVG / PNG in a file.

    Names E uses that have no value become inputs of the graph (shown with value ?).
    """
    from ..core.graph import Scope
    from ..core.graph import Binding
    from ..core.problem import _free_names
    free = {n: Binding(n, Node(table.CONST, (), None, ast.span, n))
            for n in _free_names(ast.expr, scope)}
    node = ev.eval(ast.expr, Scope(free, scope) if free else scope)
    shown = Graph(ancestors(node), ev)
    if ast.file is None:
        return Report(node.value, shown.to_text(), detail=shown)
    return Report(node.value, write_graph(shown.nodes, ev, ast.file), detail=shown)


def graph_text(nodes: list[Node], ev) -> str:
    names = row_names(nodes)
    symbols = _symbols(nodes, names)
    gradients = getattr(ev, "last_gradient", {})
    rows = []
    for node in nodes:
        if node.id not in names:
            continue
        formula = pretty(operation_text(node, symbols, names)) if node.inputs else ""
        value = "?" if node.value is None else _short(node.value, ev.precision)
        if is_array(node.value) and node.value.size <= 6:
            value += f"   (shape {node.value.shape})"
        if node.id in gradients:
            value += f"   (gradient {_short(gradients[node.id], ev.precision)})"
        rows.append((names[node.id], formula, value))
    return "\n".join([f"graph ({len(names)} nodes)", *_table(rows)])


def to_dot(nodes: list[Node], ev) -> str:
    """Graphviz DOT: nodes labelled by operation, name and value (and gradient)."""
    names = row_names(nodes)
    gradients = getattr(ev, "last_gradient", {})
    lines = ["digraph diffi {", "  rankdir=LR;", '  node [shape=box, fontname="Helvetica"];']
    number = {node.id: k for k, node in enumerate(nodes)}  # stable names: n0, n1, …
    for node in nodes:
        label = [names.get(node.id, "")] if node.id in names and node.name else []
        label.append(node.op.label if node.inputs else "input"
                     if node.name else "const")
        if is_array(node.value):
            label.append(f"shape {node.value.shape}")
        if node.value is not None and not callable(getattr(node.value, "call", None)):
            label.append(_short(node.value, 6))
        if node.id in gradients:
            label.append(f"grad {_short(gradients[node.id], 6)}")
        text = "\\n".join(x.replace('"', '\\"') for x in label if x)
        lines.append(f'  n{number[node.id]} [label="{text}"];')
    for node in nodes:
        for inp in node.inputs:
            lines.append(f"  n{number[inp.id]} -> n{number[node.id]};")
    lines.append("}")
    return "\n".join(lines)


def write_graph(nodes, ev, file: S.Str) -> str:
    if not ev.files:
        raise DiffiError("writing files is switched off in this interpreter", file.span)
    path = file.value
    if not os.path.isabs(path):
        path = os.path.join(ev.base_dir or os.getcwd(), path)
    dot = to_dot(nodes, ev)
    extension = os.path.splitext(path)[1].lower()
    if extension in ("", ".dot", ".gv"):
        _write(path, dot, file)
        return f"wrote the graph ({len(nodes)} nodes) to {file.value}"
    if extension not in (".svg", ".png", ".pdf"):
        raise DiffiError(f"cannot write a graph as '{extension}': use .dot, .svg or .png",
                         file.span)
    if shutil.which("dot") is None:
        raise DiffiError(f"rendering {extension} needs Graphviz's 'dot' program: install "
                         "Graphviz (apt-get install graphviz, brew install graphviz), "
                         "or write a .dot file", file.span)
    done = subprocess.run(["dot", f"-T{extension[1:]}", "-o", path], input=dot, text=True,
                          capture_output=True, timeout=60)
    if done.returncode != 0:
        raise DiffiError(f"dot failed: {done.stderr.strip()}", file.span)
    return f"wrote the graph ({len(nodes)} nodes) to {file.value}"


def _write(path, text, file):
    try:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
    except OSError as error:
        raise DiffiError(f"cannot write {file.value}: {error.strerror}", file.span) from None
