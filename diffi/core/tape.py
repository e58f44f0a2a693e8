"""Tapes: the slice of the graph between a directive's inputs and its output.

A Tape lists the nodes an output depends on, in topological order, and marks the
"active" ones (those that depend on an input): only they carry derivatives, and only
they are recomputed when the graph is re-evaluated at another point. Everything here
is a loop over the list, never a recursion.

A directive's result that depends on the graph outside it is one node (the table's
DERIVED) that stands for the graph computing it; a tape that reaches one through its
inputs, and a replay that must recompute one, first put that graph in its place.
"""
from __future__ import annotations

import functools

from .. import calls, table
from ..arrays import is_array
from ..errors import DiffiError
from .graph import Node, ancestors


class BranchChanged(DiffiError):
    """Re-evaluating a recorded graph at another point would take another `if` branch."""


class Tape:
    """Nodes from inputs to outputs in topological order, with the active ones marked."""

    def __init__(self, outputs: list[Node], inputs: list[Node]):
        self.inputs = inputs
        input_ids = {n.id for n in inputs}
        # whether a directive's result it expanded took an `if` branch its formula keeps
        # no test of (compiled code over this tape could not check it: not compiled)
        decided = False
        while True:
            self.nodes = ancestors(*outputs, *inputs, stop=input_ids)
            active = set(input_ids)
            steps = []  # the active nodes that are not inputs: the ones a sweep computes
            expanded: dict[int, Node] = {}
            for node in calls.checked(self.nodes):
                if node.id in input_ids:
                    continue
                for i in node.inputs:
                    if i.id in active:
                        active.add(node.id)
                        steps.append(node)
                        if node.op is table.DERIVED:
                            expanded[node.id] = node.params.expand(node)
                            decided = decided or getattr(node.params, "decided", False)
                        break
            if not expanded:
                break
            memo: dict[int, Node] = {}  # a directive's result is read: its graph instead
            for key in sorted(expanded):  # (an expansion reads earlier ones: nested calls)
                expanded[key] = replay(expanded[key], expanded, memo)
            outputs = [replay(o, expanded, memo) for o in outputs]
        self.outputs = outputs
        self.active = active
        self.steps = steps
        self.decided = decided

    @functools.cached_property
    def branched(self) -> bool:
        """Whether the trace took a branch: an `if` or an and/or among its steps, or
        inside a directive's result it expanded (worked out once per tape)."""
        return self.decided or any(step.op is table.SELECT or step.op is table.LOGIC
                                   for step in self.steps)


_NUMERIC_TYPES = (float, bool, tuple)


def is_variable(node: Node) -> bool:
    """Whether a node's value can change under an enclosing derivative: anything but a
    literal constant, a function or a string."""
    if node.op is table.CONST and node.name is None:
        return False
    value = node.value
    return value is None or type(value) in _NUMERIC_TYPES or is_array(value)


def outside(tape: Tape) -> list[Node]:
    """The variable nodes outside the tape's active part that its active steps read (a
    global variable a function uses, say): what a result computed along the tape
    depends on besides its inputs, in graph order."""
    found: dict[int, Node] = {}
    active = tape.active
    for step in tape.steps:
        for i in step.inputs:
            if i.id not in active and i.id not in found and is_variable(i):
                found[i.id] = i
    return [found[k] for k in sorted(found)]


def check_branch(node: Node, args) -> None:
    """Refuse to re-use a recorded decision (the table's `decision`: an `if` branch, an
    `and`/`or` short-circuit) that goes the other way at the new point."""
    changed = node.op.decision and node.op.decision(args, node.params)
    if changed:
        line = f" at line {node.span.line}" if node.span else ""
        raise BranchChanged(
            f"at this point the '{changed}'{line} takes the other branch than the one "
            f"recorded when its value was computed; define a function to re-evaluate it")


def replay(node: Node, substitute: dict[int, Node], memo: dict[int, Node]) -> Node:
    """A copy of the graph of `node` with some nodes replaced, values recomputed.

    Nodes that depend on no substituted node are shared, not copied. `memo` maps
    node ids to their copies and is shared between calls for the same point.
    """
    for old in calls.checked(_unvisited(node, substitute, memo)):
        if old.id in substitute:
            memo[old.id] = substitute[old.id]
            continue
        inputs = tuple(memo.get(i.id, i) for i in old.inputs)
        if all(a is b for a, b in zip(inputs, old.inputs)):
            memo[old.id] = old
            continue
        if old.op is table.DERIVED:  # a directive's result: its graph, at the new point
            guard = getattr(old.params, "guard", None)
            if guard is not None:  # (the branches its trace took must hold there too)
                replay(guard(), substitute, memo)
            memo[old.id] = replay(old.params.expand(old), substitute, memo)
            continue
        args = [i.value for i in inputs]
        if any(a is None for a in args):
            value = None
        else:
            check_branch(old, args)
            value = table.compute(old.op, args, old.params)
        memo[old.id] = Node(old.op, inputs, value, old.span, old.name, old.origin, old.params)
    return memo[node.id]


def _unvisited(node: Node, substitute, memo) -> list[Node]:
    """The ancestors of node not yet in memo, in topological order (not past substitutes)."""
    seen: dict[int, Node] = {}
    stack = [node]
    while stack:
        current = stack.pop()
        if current.id in seen or current.id in memo:
            continue
        seen[current.id] = current
        if current.id not in substitute:
            stack.extend(current.inputs)
    return [seen[k] for k in sorted(seen)]


class Overrides:
    """Name resolution at a point: some bindings replaced by input nodes.

    The evaluator asks `resolve(binding)` for every name it reads; a binding that
    depends on a replaced one is replayed with the new inputs (bound names are
    "re-evaluated along the graph", docs/differentiation.md).
    """

    def __init__(self, replaced: dict, parent: "Overrides | None" = None):
        self.replaced = replaced                        # Binding -> input Node
        self.parent = parent                            # an enclosing point, if any
        self.substitute = {b.node.id: n for b, n in replaced.items()}
        self.memo: dict[int, Node] = {}

    def resolve(self, binding) -> Node:
        node = self.replaced.get(binding)
        if node is not None:
            return node
        node = self.parent.resolve(binding) if self.parent is not None else binding.node
        return replay(node, self.substitute, self.memo) if self.substitute else node
