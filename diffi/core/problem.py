"""What a directive differentiates: a function of named inputs, at a point or symbolic.

`Problem.trace(values)` evaluates the directive's expression (or calls its function)
with the inputs set to `values`, recording a fresh graph. Bound names that depend on
an input are re-evaluated along their graph (diffi.core.tape.Overrides); `if` is decided
at the point, so numeric mode sees the branch taken at every perturbed point.
"""
from __future__ import annotations

import functools
import re

from .. import calls, table
from ..arrays import is_array
from ..errors import ArityError, DiffiNameError, DiffiTypeError
from ..language import syntax as S
from .graph import Binding, Node, Scope
from .library import BUILTINS
from .tape import Overrides, Tape, is_variable
from .values import Builtin, Function, UserFunction, kind_of


class Traced:
    """One trace of a problem: the tape from its variables to its output, every input
    node (in the problem's `names` order), the variable nodes and the output."""

    __slots__ = ("tape", "inputs", "xs", "output", "labels")

    def __init__(self, tape: Tape, inputs: list[Node], xs: list[Node], variables=()):
        self.tape, self.inputs, self.xs = tape, inputs, xs
        self.output = tape.outputs[0]
        # what tables call each variable's node: its variable's name (the node itself
        # may be an argument's unnamed literal, in a function's body)
        self.labels = {x.id: name for x, name in zip(xs, variables)}


class Problem:
    """Inputs (names, values), the variables to differentiate by, and how to trace."""

    def __init__(self, ev, ast, scope, function: Function | None, names: list[str],
                 variables: list[str], values: dict | None, direct: list | None = None,
                 points: dict | None = None):
        self.ev = ev
        self.ast = ast
        self.scope = scope
        self.function = function
        self.names = names            # every input, in order (parameters for a function)
        self.variables = variables    # the ones to differentiate by (a subset, in order)
        self.values = values          # name -> value; None: symbolic (no point)
        self.direct = direct          # existing nodes to differentiate by, if no re-trace
        self.points = points or {}    # name -> the node whose value the point gave it
        self.memo: dict = {}          # what the layers above work out once per problem

    @property
    def symbolic(self) -> bool:
        return self.values is None

    @functools.cached_property
    def numbers(self) -> tuple | None:
        """The point's values in `names` order when every one is a number (what compiled
        code can be called with), else None; worked out once (a numeric gradient asks
        for it once per variable)."""
        if self.values is None:
            return None
        args = tuple(self.values.get(n) for n in self.names)
        return args if all(type(a) is float for a in args) else None

    @property
    def formula(self) -> bool:
        """Inside a formula (an enclosing directive without a point): the inputs are
        nodes without values, so the result can only be a formula graph."""
        return self.values is not None and any(v is None for v in self.values.values())

    def tape(self, values: dict | None = None, every_input: bool = False) -> Traced:
        """Trace at `values` (the point by default): the one way every directive gets
        its tape, variable nodes and output. The tape starts at the variables, or at
        every input (a formula names them all)."""
        inputs, output = self.trace(values)
        xs = self.variable_nodes(inputs)
        return Traced(Tape([output], inputs if every_input else xs), inputs, xs,
                      self.variables)

    def actual(self, xs: list[Node]) -> list[Node]:
        """The node each variable stands for: the point's expression, else itself."""
        return [self.points.get(v, x) for v, x in zip(self.variables, xs)]

    def others(self, inputs: list[Node], every: bool = False) -> dict:
        """The inputs (of a trace, in `names` order) that the point set to an expression
        that can change — a parameter, a variable — other than the variables: input
        node id -> that expression's node. A result that reads such an input depends on
        the expression (`d/dx x*y at x = p, y = q` in a function's body depends on q).
        With `every`, literal numbers' too: a compiled tape's inputs hold the values it
        was traced at, not this point's."""
        found = {}
        for name, node in zip(self.names, inputs):
            point = self.points.get(name)
            if point is not None and name not in self.variables \
                    and (every or is_variable(point)):
                found[node.id] = point
        return found

    def variable_nodes(self, inputs: list[Node]) -> list[Node]:
        by_name = dict(zip(self.names, inputs))
        return [by_name[v] for v in self.variables]

    def trace(self, values: dict | None = None):
        """(input nodes in `names` order, output node) for the inputs set to values."""
        if values is None and self.direct is not None:
            return self.direct, self.ev.eval(self.ast.expr, self.scope)
        values = self.values if values is None else values
        span = self.ast.span
        if values is None:  # a formula: the point's names (if any) keep their values
            values = {n: p.value for n, p in self.points.items()}
        inputs = [Node(table.CONST, (), values.get(n), span, n) for n in self.names]
        if self.function is not None:
            return inputs, self.ev.call(self.function, inputs, {}, span)
        local, replaced = {}, {}
        for name, node in zip(self.names, inputs):
            binding = self.scope.lookup(name)
            if binding is None:
                local[name] = Binding(name, node)
            else:
                replaced[binding] = node
        saved = self.ev.point
        self.ev.point = Overrides(replaced, saved)
        try:
            return inputs, self.ev.eval(self.ast.expr, _scope(local, self.scope))
        finally:
            self.ev.point = saved

    def output_at(self, values: dict):
        """The output's value with the inputs set to values (for numeric mode)."""
        return self.trace(values)[1].value

    def with_variable(self, name: str, value) -> dict:
        values = dict(self.values)
        values[name] = value
        return values


def _scope(local, parent):
    return Scope(local, parent) if local else parent


def parameters(fn: Function) -> list[str]:
    """A function's parameter names (built-ins: from their signature)."""
    if isinstance(fn, UserFunction):
        return list(fn.params)
    match = re.search(r"\((.*)\)", fn.signature or "")
    names = [p.strip() for p in match.group(1).split(",")] if match else []
    names = [n for n in names if n.isidentifier()]
    return names[: fn.max_args] if fn.max_args >= 0 else names


def build(ev, ast, scope) -> Problem:
    """The Problem of a directive: its function or expression, variables and point."""
    fn = _function_of(ev, ast.expr, scope)
    if fn is not None:
        return _function_problem(ev, ast, scope, fn)
    return _expression_problem(ev, ast, scope)


def _function_of(ev, expr, scope):
    """The function a directive differentiates: a function's name, or the derivative
    of one without a point, which is itself a function (`d/dx (d/dx f)`)."""
    if isinstance(expr, S.Directive) and expr.kind in ("d", "grad") \
            and expr.point is None and _function_of(ev, expr.expr, scope) is not None:
        value = ev.eval(expr, scope).value  # (a derivative of a function is a function)
        return value if isinstance(value, Function) else None
    if isinstance(expr, S.Name):
        binding = scope.lookup(expr.id)
        node = binding.node if binding is not None else None
        if node is None:
            node = BUILTINS.get(expr.id)
        if node is not None and isinstance(node.value, Function):
            if isinstance(node.value, Builtin) and node.value.primitive is None:
                raise DiffiTypeError(f"'{expr.id}' cannot be differentiated", expr.span)
            return node.value
    return None


def _function_problem(ev, ast, scope, fn) -> Problem:
    params = parameters(fn)
    variables = _requested(ast) or params
    known = set(params)
    for v in variables:
        if v not in known:
            raise DiffiNameError(f"{fn.name} has no parameter '{v}' (its parameters: "
                                 f"{', '.join(params)})", ast.span)
    point = ast.point
    if point is None:
        return Problem(ev, ast, scope, fn, params, variables, None)
    if point.positional is not None:
        points = _by_position(ev, point, scope, params, f"parameter{{s}} of {fn.name}")
    else:
        points = _named(ev, point, scope)
        missing = [p for p in params if p not in points]
        if missing:
            raise DiffiTypeError(f"the point gives no value for {', '.join(missing)}",
                                 point.span)
    return Problem(ev, ast, scope, fn, params, variables, _values(points), points=points)


def _requested(ast) -> list[str]:
    if ast.kind == "d":
        return [ast.var]
    return [n.id for n in ast.wrt] if ast.wrt else []


def _expression_problem(ev, ast, scope) -> Problem:
    called: list = []
    _free_names(ast.expr, scope, called)
    for name in called:  # (an input is a value: a function no one defined is a slip)
        raise DiffiNameError(f"name '{name.id}' is not defined", name.span)
    point = ast.point
    named = _named(ev, point, scope) if point is not None and point.positional is None else {}
    variables = _requested(ast) or list(named) or _free_names(ast.expr, scope)
    if not variables:
        raise DiffiTypeError(f"say what to differentiate by: {ast.kind} E wrt x, y",
                             ast.span)
    names = list(named) + [v for v in variables if v not in named] if named else variables
    if point is not None and point.positional is not None:
        points = _by_position(ev, point, scope, variables, "variable{s}")
        return Problem(ev, ast, scope, None, names, variables, _values(points), points=points)
    values = _values(named)
    free = [n for n in _free_names(ast.expr, scope) if n not in names]
    for name in names:
        if name not in values and scope.lookup(name) is None:
            free.insert(0, name)
    if free:  # a formula: every unbound name it reads is an input
        free = [n for n in free if n not in named]
        named = dict(named, **_bound_values(ev, scope, names, named, ast.span))
        return Problem(ev, ast, scope, None, list(named) + [n for n in names if n not in named
                                                           and n not in free] + free,
                       variables, None, points=named)
    for name in names:
        if name not in values:
            values[name] = _number(resolve(ev, scope.lookup(name)).value, name, ast.span)
    direct = None
    if not named:
        direct = [resolve(ev, scope.lookup(n)) for n in names]
    return Problem(ev, ast, scope, None, names, variables, values, direct, points=named)


def _bound_values(ev, scope, names, named, span) -> dict:
    """The variables of a formula that have values where it stands (`x = 1; d/dx
    x^2*q` is 2*q): each is set at its value, as a point would set it. A variable bound
    to an enclosing formula's input (no value) stays a variable of the formula."""
    out = {}
    for name in names:
        binding = scope.lookup(name)
        if name not in named and binding is not None:
            node = resolve(ev, binding)
            if node.value is not None:
                _number(node.value, name, span)
                out[name] = node
    return out


def resolve(ev, binding) -> Node:
    return ev.point.resolve(binding) if ev.point is not None else binding.node


def _named(ev, point, scope) -> dict:
    """name -> the node of its value, for a point given by name."""
    out = {}
    for k in point.named:
        node = ev.eval(k.value, scope)
        _number(node.value, k.name, k.span)
        out[k.name] = node
    return out


def _counted(count: int, words: str) -> str:
    """`2 values`, `1 value`: words with {s} where a plural takes its s."""
    return f"{count} " + words.format(s="" if count == 1 else "s")


def _by_position(ev, point, scope, names: list, what: str) -> dict:
    """A point given by position, one value for each of `names` (`what` they are, for
    the message when the counts differ: `variable{s}`, `parameter{s} of f`)."""
    nodes = _positional(ev, point.positional, scope)
    if len(nodes) != len(names):
        raise ArityError(f"the point gives {_counted(len(nodes), 'value{s}')} for "
                         f"{_counted(len(names), what)} ({', '.join(names)})", point.span)
    return dict(zip(names, nodes))


def _positional(ev, expr, scope) -> list:
    """The nodes of a point given by position: a tuple's parts, or the one value."""
    node = ev.eval(expr, scope)
    if node.op is table.TUPLE:
        nodes = list(node.inputs)
    elif isinstance(node.value, tuple):
        nodes = [_constant(v, expr.span) for v in node.value]
    else:
        nodes = [node]
    for n in nodes:
        _number(n.value, None, expr.span)
    return nodes


def _constant(value, span) -> Node:
    return Node(table.CONST, (), value, span)


def _values(points: dict) -> dict:
    """name -> value (a number or tensor; booleans as numbers) of a point's nodes."""
    return {name: _number(node.value, name, None) for name, node in points.items()}


def _number(value, name, span):
    if type(value) is float or is_array(value) or value is None:
        return value
    if type(value) is bool:
        return float(value)
    what = f" for {name}" if name else ""
    raise DiffiTypeError(f"a point needs numbers{what}, not a {kind_of(value)}", span)


def _free_names(expr, scope, called: list | None = None) -> list[str]:
    """Unbound names an expression reads, in order of first appearance: not the names a
    block assigns, a function defined in it takes, or an inner directive's point gives.
    Those it calls as functions are added to `called` (their Name nodes), if given."""
    found: list[str] = []
    stack = [(expr, frozenset())]
    walked = 0
    while stack:
        node, bound = stack.pop()
        walked += 1
        if not walked & 255:  # (nested directives walk their inner ones again: a long walk)
            calls.check()
        if isinstance(node, S.Name):
            if node.id not in found and node.id not in bound \
                    and scope.lookup(node.id) is None and node.id not in BUILTINS:
                found.append(node.id)
        elif isinstance(node, S.Syntax):
            if called is not None and isinstance(node, S.Call) \
                    and isinstance(node.func, S.Name) and node.func.id not in bound \
                    and scope.lookup(node.func.id) is None and node.func.id not in BUILTINS:
                called.append(node.func)
            inner = bound | _binds(node)
            for value in reversed([getattr(node, f) for f in node.__slots__]):
                if isinstance(value, list):
                    stack.extend((v, inner) for v in reversed(value))
                elif isinstance(value, S.Syntax):
                    stack.append((value, inner))
    return found


def _binds(node) -> frozenset:
    """The names a syntax node binds for what it contains."""
    if isinstance(node, S.Block):
        names = set()
        for stmt in node.body:
            if isinstance(stmt, S.Assign):
                names.add(stmt.target.id)
            elif isinstance(stmt, S.FuncDef):
                names.add(stmt.name.id)
            elif isinstance(stmt, S.Destructure):
                names.update(t.id for t in stmt.targets)
        return frozenset(names)
    if isinstance(node, S.FuncDef):
        return frozenset([node.name.id] + [p.id for p in node.params])
    if isinstance(node, S.Assign):
        return frozenset([node.target.id])
    if isinstance(node, S.Directive) and node.point is not None:
        return frozenset(k.name for k in node.point.named)
    return frozenset()
