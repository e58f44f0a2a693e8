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

from .. import arrays, calls, table
from ..core.graph import Node
from ..core.tape import Tape
from ..modes import forward, symbolic
from ..table import reader
from ..table import series as T
from .writers import Call, NotCompilable, mark_read

MAX_TAYLOR_ORDER = 20  # (above it the code is long and Taylor mode's own cost is order²)


class Taylor:
    """What a directive asks of a compiled tape: d^order/dx^order along the inputs that
    `moving` marks (every input that is the variable), or None where the interpreter must
    answer (a spread of the two scales above `max_spread` warns; too little time left
    raises): the interpreter then says so."""

    __slots__ = ("order", "moving", "max_spread")

    def __init__(self, order: int, moving: tuple, max_spread: float):
        self.order, self.moving, self.max_spread = order, moving, max_spread


class Hessian:
    """What a directive asks of a compiled tape: the matrix of second derivatives by every
    input (each one a variable)."""

    __slots__ = ()


class Check:
    """What `check` asks of a compiled tape: every exact mode's gradient by every input
    (each one a variable) and the scale of the chain rule's terms; refused (Retrace) at
    a point where an operation is not differentiable."""

    __slots__ = ()


class Symbolic:
    """What symbolic mode asks of a compiled tape at a point: the values of the
    gradient's formulas by every input (compiled as for hessian and check)."""

    __slots__ = ()


def symbolic_values(compiled, args: tuple):
    """(value, the gradient formulas' values): the tape's value first, whose guards say
    whether every `if` takes the branch the formulas were made on."""
    value = compiled.value(*args)
    parts = list(compiled.gradient_values()(*args))
    if type(value) is not float or not all(type(p) is float for p in parts):
        raise NotCompilable("a part that is not a number")
    return value, parts


def check(compiled, args: tuple):
    """(value, (forward, reverse, symbolic, terms)): forward mode by one compiled tangent
    sweep per variable, reverse mode by the compiled gradient, symbolic mode's values by
    the gradient's formulas compiled (as hessian), and per variable the sum of the
    magnitudes of the terms its adjoint adds up (a reverse sweep)."""
    value = compiled.value(*args)  # (its guards: every `if` takes the branch traced)
    if type(value) is not float:
        raise NotCompilable("a check of a truth value")
    seeds = [0.0] * len(args)
    forward_parts = []
    for k in range(len(args)):
        seeds[k] = 1.0
        forward_parts.append(compiled.value_and_tangent(*args, *seeds)[1])
        seeds[k] = 0.0
    reverse_parts = list(compiled.value_and_grad(*args)[1])
    symbolic_parts = list(compiled.gradient_values()(*args))
    terms = list(compiled.term_scale()(*args))
    parts = forward_parts + reverse_parts + symbolic_parts + terms
    if not all(type(p) is float for p in parts):
        raise NotCompilable("a part that is not a number")
    return value, (forward_parts, reverse_parts, symbolic_parts, terms)


class Jacobian:
    """What a directive asks of a compiled tape with an output per component: the matrix
    of their first derivatives by the inputs at `positions` (its variables)."""

    __slots__ = ("positions",)

    def __init__(self, positions: tuple):
        self.positions = positions


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
    value = compiled.value(*args)  # (its guards: every `if` takes the branch traced)
    if type(value) is not float:
        return None  # (a truth value: the interpreter says what it says)
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
    b = symbolic.Builder()
    symbols = [Node(table.CONST, (), x.value, name=x.name or "x") for x in tape.inputs]
    rebuilt = symbolic.rebuild(tape, b, {x.id: s for x, s in zip(tape.inputs, symbols)},
                               keep_inactive=True)
    adjoint = symbolic.reverse_derivatives(tape, rebuilt, b)
    return Tape([adjoint.get(x.id) or b.zeros(rebuilt[x.id]) for x in tape.inputs], symbols)


def hessian(compiled, args: tuple):
    """(value, the matrix) at args: n compiled tangent sweeps of the gradient's code."""
    np = arrays.np()
    value = compiled.value(*args)  # (its guards: every `if` takes the branch traced)
    if type(value) is not float:
        raise NotCompilable("a hessian of a truth value")
    sweep = compiled.gradient_tangents()
    n = len(args)
    seeds = [0.0] * n
    columns = []
    for k in range(n):
        seeds[k] = 1.0
        columns.append(sweep(*args, *seeds))
        seeds[k] = 0.0
    matrix = np.array(columns, dtype=float).T if columns else np.zeros((0, 0))
    return value, matrix


def jacobian(compiled, args: tuple, ask: Jacobian):
    """(the first component's value, the matrix): one compiled tangent sweep of every
    component per variable (forward mode: the interpreter, with more components than
    variables, sweeps back instead; the sums then differ in order only)."""
    np = arrays.np()
    value = compiled.value(*args)  # (its guards: every `if` takes the branch traced)
    sweep = compiled.tangents()
    seeds = [0.0] * len(args)
    columns = []
    for k in ask.positions:
        seeds[k] = 1.0
        columns.append(sweep(*args, *seeds))
        seeds[k] = 0.0
    return value, np.array(columns, dtype=float).T
