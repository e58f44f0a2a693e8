"""A directive's result as part of the graph: what makes a derivative mean the same thing
wherever it is written.

A directive computes its value at its point in the mode it was asked for. When that
value depends on the graph outside the directive — a variable it reads, a function's
parameter, the point's own expression, an enclosing directive's input — the result is
one DERIVED node whose inputs are those outside nodes (its frontier). The node stands
for the graph that computes the result from them: the derivative's formula, built by
symbolic mode from the same table rules over symbols for the variables, then set on the
nodes the variables stood for. The graph is built only when something needs it (an
enclosing derivative whose tape reaches the node, or a re-evaluation at another point:
diffi.core.tape), so a directive costs no more for being differentiable.

Inside a formula (an enclosing directive without a point, whose inputs have no
values), there is no value to compute: the graph is the result.
"""
from __future__ import annotations

from .. import table
from ..core.graph import Node
from ..core.tape import Tape, is_variable, outside, replay
from ..errors import DiffiError
from ..modes import symbolic


class Derived:
    """The params of a DERIVED node: how to build the graph it stands for (once)."""

    __slots__ = ("_build", "ast", "_graph", "guard")

    def __init__(self, build, ast, guard=None):
        self._build = build
        self.ast = ast        # the directive (its source, for tables and graphs)
        self._graph = None
        # when the directive's trace took an `if` branch (or decided an and/or), whose
        # test the graph, a formula of the branch taken, does not hold: guard() builds
        # the trace's own value over the same inputs, whose replay at another point
        # says whether every branch still holds there (core.tape.replay)
        self.guard = guard

    @property
    def decided(self) -> bool:
        """Whether the directive's trace took a branch (its graph cannot test it)."""
        return self.guard is not None

    def expand(self, node: Node) -> Node:
        """The graph that computes the node's value from its inputs."""
        if self._graph is None:
            self._graph = self._build()
        return self._graph

    def recompute(self, values):
        """(Replays expand a DERIVED node instead: the graph gives its value.)"""
        raise DiffiError("internal error: a directive's result was recomputed directly",
                         self.ast.span)


def frontier(tape: Tape, actual: list[Node], read=None, others=None) -> list[Node]:
    """The outside nodes a derivative along the tape depends on: the nodes the variables
    stand for, and the values the active steps read from outside the tape's active part
    (literal constants left out; `read`: those, when known already; an input the point
    set to an expression, the expression's node: `others`), in graph order."""
    # A variable's own node (no point given: the node its name is bound to, perhaps an
    # argument's literal inside a function body) is always part of it: an enclosing
    # directive may be differentiating by that very node.
    inputs = {node.id for node in tape.inputs}
    found = {node.id: node for node in actual if is_variable(node) or node.id in inputs}
    moving = [node for node in tape.nodes if node.id in others] if others else []
    if moving:
        # the point's other inputs the result reads (y = q in `d/dx x^2*y^3 at x = p,
        # y = q`): their expressions' nodes, and what is read outside the steps that
        # move with them too (y^3 is one such step, not a value from outside)
        for node in moving:
            point = others[node.id]
            found.setdefault(point.id, point)
        tape, read = Tape(tape.outputs, list(tape.inputs) + moving), None
    for node in outside(tape) if read is None else read:
        node = others.get(node.id, node) if others else node
        found.setdefault(node.id, node)
    return [found[k] for k in sorted(found)]


def formula(tape: Tape, make) -> tuple[Node, list[Node]]:
    """make(b, tape, rebuilt, symbols): a formula built over symbols that stand for the
    tape's inputs (`rebuilt` maps the tape's nodes to formulas over them); with the
    symbols, whose values are the inputs' (symbolic mode's value is the formula's)."""
    b, rebuilt, symbols = symbolic.over_symbols(tape)
    return make(b, tape, rebuilt, symbols), symbols


def over(tape: Tape, actual: list[Node], make, others=None) -> Node:
    """make's formula with each symbol replaced by the node its input stands for
    (`actual`: a point's expression, or the input itself), and each other input the
    point set to an expression by that expression's node (`others`, by input id, as
    Problem.others gives them): part of the graph."""
    result, symbols = formula(tape, make)
    substitute = dict(others) if others else {}
    substitute.update((s.id, a) for s, a in zip(symbols, actual))
    return replay(result, substitute, {})


def over_trace(problem, traced, make) -> Node:
    """over() for a directive's own trace (core.problem.Traced): its formula over the
    nodes its variables stand for and the point's other expressions."""
    return over(traced.tape, problem.actual(traced.xs), make, problem.others(traced.inputs))


def settle_trace(ev, problem, traced, value, make):
    """settle() for a directive's own trace, as over_trace() stands it over them."""
    return settle(ev, problem.ast, traced.tape, problem.actual(traced.xs), value, make,
                  others=problem.others(traced.inputs))


def settle(ev, ast, tape: Tape, actual: list[Node], value, make, read=None, others=None):
    """The directive's result: its value, as a DERIVED node over its frontier when it
    depends on the graph outside the directive (else the value alone). `read`: what
    the tape's steps read from outside it, when known (compiled code keeps it);
    `others`: as for over()."""
    outside = frontier(tape, actual, read, others)
    if not outside:
        return value
    guard = _guard(tape, actual, others) if tape.branched else None
    return ev.record(table.DERIVED, tuple(outside), value, ast.span,
                     params=Derived(lambda: over(tape, actual, make, others), ast, guard))


def _guard(tape: Tape, actual: list[Node], others):
    """What builds the trace's own value over the nodes the result stands over: its `if`
    steps, replayed at another point, say whether each branch still holds there."""
    def guard() -> Node:
        substitute = dict(others) if others else {}
        substitute.update((x.id, a) for x, a in zip(tape.inputs, actual))
        return replay(tape.outputs[0], substitute, {})
    return guard
