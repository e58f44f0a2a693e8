"""Compiled higher orders: Taylor sweeps for dn/dxn, and tangents of the gradient for
`hessian`, written from a compiled tape (scalar.Compiled) by the same writers.

A Taylor sweep is straight-line code: the value's lines (with the tape's `if` guards),
then one line per step that moves with the variable, calling that step's series rule
(the table's, as the rule reader gives it) on its inputs' coefficient lists; a step
that does not move gives its rule a constant's series. The rules run on the same
numbers in the same order as Taylor mode's sweep (diffi.modes.forward.taylor), so the
coefficients are the interpreter's, bit for bit, without its per-node dispatch.

A hessian is forward over reverse, as the interpreter computes it: the gradient's
formulas (symbolic mode's reverse sweep over the tape, on symbols for its inputs), as
one tape with a gradient component per output, compiled once; then one compiled
tangent sweep through them per variable. Its formulas have no `if` (symbolic mode keeps
the branch taken), so the tape's own compiled value runs first: its guards say whether
the branches still hold.
"""
from __future__ import annotations

import math
from itertools import chain

from .. import arrays, calls, table
from ..core.tape import Tape
from ..modes import forward, symbolic
from ..table import reader
from ..table import series as T
from .writers import Call, NotCompilable, mark_read

MAX_TAYLOR_ORDER = 20  # (above it the code is long and Taylor mode's own cost is order²)


class Ask:
    """What a directive asks of a compiled tape besides a value, a gradient or a tangent:
    answer(compiled, args) gives (the result, a number that is finite when every part
    of it is), or None where the interpreter must answer."""

    __slots__ = ()

    def answer(self, compiled, args: tuple):
        raise NotImplementedError


class Taylor(Ask):
    """What a directive asks of a compiled tape: d^order/dx^order along the inputs that
    `moving` marks (every input that is the variable), or None where the interpreter must
    answer (a spread of the two scales above `max_spread` warns; too little time left
    raises): the interpreter then says so."""

    __slots__ = ("order", "moving", "max_spread")

    def __init__(self, order: int, moving: tuple, max_spread: float):
        self.order, self.moving, self.max_spread = order, moving, max_spread

    def answer(self, compiled, args: tuple):
        result = taylor_derivative(compiled, args, self)
        return None if result is None else (result, result[0] + result[1])


class Hessian(Ask):
    """What a directive asks of a compiled tape: the matrix of second derivatives by every
    input (each one a variable)."""

    __slots__ = ()

    def answer(self, compiled, args: tuple):
        return _matrix(hessian(compiled, args))


class Check(Ask):
    """What `check` asks of a compiled tape: every exact mode's gradient by every input
    (each one a variable) and the scale of the chain rule's terms; refused (Retrace) at
    a point where an operation is not differentiable."""

    __slots__ = ()

    def answer(self, compiled, args: tuple):
        result = check(compiled, args)
        return result, result[0] + math.fsum(chain(*result[1]))


class Symbolic(Ask):
    """What symbolic mode asks of a compiled tape at a point: the values of the
    gradient's formulas by every input (compiled as for hessian and check)."""

    __slots__ = ()

    def answer(self, compiled, args: tuple):
        result = symbolic_values(compiled, args)
        return result, result[0] + math.fsum(result[1])


def _matrix(result):
    """(value, matrix) with its check number."""
    return result, result[0] + math.fsum(result[1].ravel())


def _value(compiled, args: tuple) -> float:
    """The tape's value at args, run first: its guards say whether every `if` takes the
    branch traced (the gradient's formulas, which keep that branch, have none)."""
    value = compiled.value(*args)
    if type(value) is not float:
        raise NotCompilable("a truth value")
    return value


def _numbers(parts) -> list:
    parts = list(parts)
    if not all(type(p) is float for p in parts):
        raise NotCompilable("a part that is not a number")
    return parts


def _along_each(sweep, args: tuple, positions) -> list:
    """sweep(*args, *seeds) along each input at `positions` in turn (a unit seed)."""
    seeds = [0.0] * len(args)
    found = []
    for k in positions:
        seeds[k] = 1.0
        found.append(sweep(*args, *seeds))
        seeds[k] = 0.0
    return found


def symbolic_values(compiled, args: tuple):
    """(value, the gradient formulas' values)."""
    value = _value(compiled, args)
    return value, _numbers(compiled.gradient_values()(*args))


def check(compiled, args: tuple):
    """(value, (forward, reverse, symbolic, terms)): forward mode by one compiled tangent
    sweep per variable, reverse mode by the compiled gradient, symbolic mode's values by
    the gradient's formulas compiled (as hessian), and per variable the sum of the
    magnitudes of the terms its adjoint adds up (a reverse sweep)."""
    value = _value(compiled, args)
    forward_parts = _numbers(result[1] for result in _along_each(
        compiled.value_and_tangent, args, range(len(args))))
    reverse_parts = _numbers(compiled.value_and_grad(*args)[1])
    symbolic_parts = _numbers(compiled.gradient_values()(*args))
    terms = _numbers(compiled.term_scale()(*args))
    return value, (forward_parts, reverse_parts, symbolic_parts, terms)


class Jacobian(Ask):
    """What a directive asks of a compiled tape with an output per component: the matrix
    of their first derivatives by the inputs at `positions` (its variables)."""

    __slots__ = ("positions",)

    def __init__(self, positions: tuple):
        self.positions = positions

    def answer(self, compiled, args: tuple):
        return _matrix(jacobian(compiled, args, self))


def components_tape(traced) -> Tape:
    """A vector literal's tape with one output per element, over every input, for a
    jacobian (NotCompilable unless each element is a number)."""
    output = traced.output
    parts = list(output.inputs) if output.op is table.VECTOR else []
    if not parts or not all(type(p.value) is float for p in parts):
        raise NotCompilable("a jacobian of something other than a vector of numbers")
    return Tape(parts, traced.inputs)


def taylor_derivative(compiled, args: tuple, ask: Taylor):
    """(value, derivative) at args by the compiled Taylor sweep, as Taylor mode's
    derivative_of_order computes it (two scales); None where the interpreter must
    answer."""
    order = ask.order
    tape = compiled.tape
    steps = compiled.moving_steps(ask.moving)
    if steps * (order + 1) ** 2 / calls.PYTHON_RATE > calls.current().left():
        return None  # (Taylor mode refuses it at once, and says so)
    value = _value(compiled, args)  # (a truth value: the interpreter says what it says)
    sweep = compiled.taylor_code(ask.moving, order)
    try:
        derivative, spread = forward.derivative_of_order(
            tape, None, tape.outputs[0], order, sweep=lambda scale: sweep(*args, scale))
    except (forward.OrderTooHigh, ZeroDivisionError):
        return None
    if spread > ask.max_spread:
        return None
    return value, derivative


def taylor_lines(compiled, writer, moving: tuple, order: int) -> tuple[list, str | None]:
    """The lines of the Taylor sweep of f(x0 + scale·t) (`_scale` its parameter), and
    the output's series' name (None: the output does not move with the variable)."""
    tape, names = compiled.tape, compiled.names
    if order > MAX_TAYLOR_ORDER:
        raise NotCompilable(f"a Taylor series of order {order}")
    variable = Call("variable", lambda value, scale: T.variable(value, order, scale))
    constant = Call("constant", lambda value: T.constant(
        float(value) if type(value) is bool else value, order))
    series: dict[int, str] = {}
    lines = []
    for node, is_moving in zip(tape.inputs, moving):
        if is_moving:
            series[node.id] = "s" + names[node.id][1:]
            lines.append(writer.assign(series[node.id],
                                       writer.ap(variable, names[node.id], "_scale")))
    for node in _moving_steps(tape, moving, series):
        if not reader.has_series(node.op):
            raise NotCompilable(f"{node.op.name} has no series")
        rule = Call(f"t{node.id}", reader.series_rule(node, order))
        args = [names[node.id]]
        for i in node.inputs:
            name = series.get(i.id)
            if name is None:
                value = names.get(i.id)
                name = writer.ap(constant, value if value is not None
                                 else writer.literal(i.value))
                mark_read(writer, [value])
            args.append(name)
        mark_read(writer, [names[node.id]])
        series[node.id] = "s" + names[node.id][1:]
        lines.append(writer.assign(series[node.id], writer.ap(rule, *args)))
    return lines, series.get(tape.outputs[0].id)


def moving_steps(tape: Tape, moving: tuple) -> int:
    """How many steps move with the variable (what Taylor mode's sweep computes)."""
    return sum(1 for _ in _moving_steps(tape, moving))


def _moving_steps(tape: Tape, moving: tuple, series: dict | None = None):
    """The steps that move with the variable, in order (series: the moving ids so far,
    which the walk extends)."""
    series = {} if series is None else series
    ids = set(series) | {n.id for n, m in zip(tape.inputs, moving) if m}
    for node in tape.steps:
        if any(i.id in ids for i in node.inputs):
            ids.add(node.id)
            yield node


def gradient_tape(tape: Tape) -> Tape:
    """The gradient's formulas by each input, as the interpreter's hessian builds them
    (diffi.directives.matrices): one output per input, over symbols for the inputs."""
    b, rebuilt, symbols = symbolic.over_symbols(tape)
    return Tape(symbolic.gradient_formulas(tape, rebuilt, b), symbols)


def hessian(compiled, args: tuple):
    """(value, the matrix) at args: n compiled tangent sweeps of the gradient's code."""
    np = arrays.np()
    value = _value(compiled, args)
    columns = _along_each(compiled.gradient_tangents(), args, range(len(args)))
    return value, np.array(columns, dtype=float).T if columns else np.zeros((0, 0))


def jacobian(compiled, args: tuple, ask: Jacobian):
    """(the first component's value, the matrix): one compiled tangent sweep of every
    component per variable (forward mode: the interpreter, with more components than
    variables, sweeps back instead; the sums then differ in order only)."""
    value = compiled.value(*args)  # (its guards: every `if` takes the branch traced)
    columns = _along_each(compiled.tangents(), args, ask.positions)
    return value, arrays.np().array(columns, dtype=float).T
