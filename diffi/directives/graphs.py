"""`graph`: the computation graph of an expression, as text rows, or written to a file as
Graphviz DOT (and, with Graphviz installed, SVG, PNG or PDF) or as JSON.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess

from .. import calls, table
from ..arrays import is_array
from ..core import files
from ..core.graph import Binding, Node, Scope, ancestors
from ..core.data import file_path
from ..core.problem import _free_names
from ..core.tape import replay
from ..core.values import value_data
from ..errors import DiffiError
from ..language import syntax as S
from .context import Report
from .tables import _short, _symbols, _table, operation_text, pretty, row_names


class Graph:
    """A computation graph to show: as text, or as Graphviz DOT."""

    def __init__(self, nodes: list[Node], ev, labels: dict | None = None):
        self.nodes = nodes
        self._ev = ev
        self.labels = labels or {}  # node id → a name the node itself does not carry

    def to_text(self) -> str:
        return graph_text(self.nodes, self._ev, self.labels)

    def to_dot(self) -> str:
        return to_dot(self.nodes, self._ev, self.labels)

    def to_data(self) -> dict:
        """Nodes and edges as JSON-ready data (what `graph E to "g.json"` writes)."""
        return graph_data(self.nodes, self._ev, self.labels)

    def to_json(self) -> str:
        return json.dumps(self.to_data(), ensure_ascii=False, indent=1)

    __str__ = to_text


def graph(ev, ast, scope):
    """The computation graph of E: text, or Graphviz DOT / SVG / PNG in a file.

    Names E uses that have no value become inputs of the graph (shown with value ?).
    """
    free = {n: Binding(n, Node(table.CONST, (), None, ast.span, n))
            for n in _free_names(ast.expr, scope)}
    node = ev.eval(ast.expr, Scope(free, scope) if free else scope)
    shown = Graph(ancestors(with_calls_inlined(node)), ev, scope_labels(scope))
    if ast.file is None:
        return Report(node.value, shown.to_text(), detail=shown)
    return Report(node.value, write_graph(shown, ev, ast.file), detail=shown)


def scope_labels(scope) -> dict:
    """node id → name, for names bound to nodes that carry no name of their own: in a
    function's body a parameter is bound to its argument's node (a literal, or the
    caller's expression), and the graph should call it by the parameter's name, as the
    tables of explain and backprop do. The innermost binding wins."""
    labels: dict = {}
    while scope is not None:
        for name, binding in scope.vars.items():
            node = getattr(binding, "node", None)
            if isinstance(node, Node) and not node.name and node.id not in labels:
                labels[node.id] = name
        scope = scope.parent
    return labels


def with_calls_inlined(node: Node) -> Node:
    """node, with each call that compiled code made (one node, diffi.compile.cache)
    replaced by the graph the interpreter records for it: the graph is shown as the
    program wrote it, however it was computed."""
    while True:
        calls = {n.id: n.params.expand(n) for n in ancestors(node)
                 if n.op is table.DERIVED and getattr(n.params, "is_call", False)}
        if not calls:
            return node
        node = replay(node, calls, {})


def graph_text(nodes: list[Node], ev, labels: dict | None = None) -> str:
    names = row_names(nodes, labels)
    symbols = _symbols(nodes, names)
    gradients = getattr(ev, "last_gradient", {})
    rows = []
    for node in calls.checked(nodes, 1024):
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


def to_dot(nodes: list[Node], ev, labels: dict | None = None) -> str:
    """Graphviz DOT: nodes labelled by operation, name and value (and gradient)."""
    labels = labels or {}
    names = row_names(nodes, labels)
    gradients = getattr(ev, "last_gradient", {})
    lines = ["digraph diffi {", "  rankdir=LR;", '  node [shape=box, fontname="Helvetica"];']
    number = {node.id: k for k, node in enumerate(nodes)}  # stable names: n0, n1, …
    for node in calls.checked(nodes, 1024):
        named = node.name or node.id in labels
        label = [names.get(node.id, "")] if node.id in names and named else []
        label.append(node.op.label if node.inputs else "input" if named else "const")
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


def graph_data(nodes: list[Node], ev, labels: dict | None = None) -> dict:
    """{"nodes": […], "edges": […]}: each node's id (n0, n1, … as in the DOT), its name
    as the text graph shows it (None for a literal number), operation, value and
    gradient (after a reverse pass); each edge from an input to the node that uses it."""
    labels = labels or {}
    names = row_names(nodes, labels)
    gradients = getattr(ev, "last_gradient", {})
    number = {node.id: f"n{k}" for k, node in enumerate(nodes)}
    out = []
    for node in nodes:
        item = {"id": number[node.id], "name": names.get(node.id),
                "op": node.op.label if node.inputs else "input"
                if node.name or node.id in labels else "const",
                "value": None if node.value is None else value_data(node.value)}
        if node.id in gradients:
            item["gradient"] = value_data(gradients[node.id])
        out.append(item)
    edges = [{"from": number[inp.id], "to": number[node.id]}
             for node in nodes for inp in node.inputs]
    return {"nodes": out, "edges": edges}


def write_graph(shown: Graph, ev, file: S.Str) -> str:
    nodes = shown.nodes
    path = file_path(ev, file.value, file.span, "graph … to")  # as load and save decide
    extension = os.path.splitext(path)[1].lower()
    if extension == ".json":
        files.write_text(path, file.value,
                         shown.to_json() + "\n", file.span)
        return f"wrote the graph ({len(nodes)} nodes) to {file.value}"
    dot = shown.to_dot()
    if extension in ("", ".dot", ".gv"):
        files.write_text(path, file.value, dot + "\n", file.span)
        return f"wrote the graph ({len(nodes)} nodes) to {file.value}"
    if extension not in (".svg", ".png", ".pdf"):
        raise DiffiError(f"cannot write a graph as '{extension[:20]}': use .dot, .json, "
                         ".svg or .png", file.span)
    if shutil.which("dot") is None:
        raise DiffiError(f"rendering {extension} needs Graphviz's 'dot' program: install "
                         "Graphviz (apt-get install graphviz, brew install graphviz), "
                         "or write a .dot file", file.span)
    files.write_text(path, file.value, "", file.span)  # (refused where a file may not go)
    done = subprocess.run(["dot", f"-T{extension[1:]}", "-o", path], input=dot, text=True,
                          capture_output=True, timeout=60)
    if done.returncode != 0:
        raise DiffiError(f"dot failed: {done.stderr.strip()[:300]}", file.span)
    return f"wrote the graph ({len(nodes)} nodes) to {file.value}"
