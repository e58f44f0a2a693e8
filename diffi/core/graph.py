"""The computation graph and its scopes: one Node per operation, in creation
(topological) order, and the names that Bindings in Scopes give to nodes.

A node's inputs are always created before it, so ordering nodes by `id` is a
topological order: every walk here is a loop, never a recursion, and a chain
of a million nodes is as easy as a chain of ten.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

from .. import calls
from ..errors import Span

_ids = itertools.count()


class Node:
    """An operation in the graph: its value, primitive, inputs, source span and name."""

    __slots__ = ("id", "op", "inputs", "value", "span", "name", "origin", "params")

    def __init__(self, op, inputs, value, span: Span | None = None, name: str | None = None,
                 origin: str | None = None, params=None):
        self.id = next(_ids)
        self.op = op            # a diffi.table.Primitive
        self.inputs = inputs    # tuple of Node
        self.value = value      # float, bool, numpy array, tuple, function or string
        self.span = span
        self.name = name        # the user's name for it, when it has one
        self.origin = origin    # the function whose call created it (inlined calls)
        self.params = params    # static parameters of the operation (an index, a branch)

    def __repr__(self) -> str:
        label = self.name or f"#{self.id}"
        return f"<node {label} = {self.op.name} {self.value!r}>"


@dataclass(eq=False)
class Binding:
    """A name bound to a node; it remembers the statement (the formula) that made it."""

    name: str
    node: Node
    formula: object = None  # the syntax node of the right-hand side, if any


class Scope:
    """Names bound in a block or a call, in front of an enclosing scope."""

    __slots__ = ("vars", "parent")

    def __init__(self, vars: dict, parent: "Scope | None" = None):
        self.vars = vars
        self.parent = parent

    def lookup(self, name: str):
        scope = self
        while scope is not None:
            binding = scope.vars.get(name)
            if binding is not None:
                return binding
            scope = scope.parent
        return None

    def names(self) -> set[str]:
        found, scope = set(), self
        while scope is not None:
            found.update(scope.vars)
            scope = scope.parent
        return found


def ancestors(*outputs: Node, stop=frozenset()) -> list[Node]:
    """Every node that the outputs depend on, in topological order (inputs first).

    The walk does not go past nodes in `stop` (they are treated as leaves).
    """
    seen: dict[int, Node] = {}
    stack = list(outputs)
    while stack:
        node = stack.pop()
        if node.id in seen:
            continue
        seen[node.id] = node
        if not len(seen) & 4095:
            calls.check()
        if node.id not in stop:
            stack.extend(node.inputs)
    return [seen[k] for k in sorted(seen)]
