"""Showing the work: trace tables (backprop's forward and backward passes, forward
mode's tangents), formulas of rows, and the non-differentiable points met.

Trace rows use the user's names (generated v1, v2, … for unnamed nodes); formulas
are built with the table's rules over symbols and printed like diffi source, with
`·` for products and `−` for minus as in the lecture tables.
"""
from __future__ import annotations

import re

from .. import arrays, calls, table
from ..arrays import is_array
from ..core.graph import Node, ancestors
from ..core.tape import Tape
from ..core.values import display_width, format_value, pad, value_data
from ..language import syntax as S
from ..modes import symbolic
from ..table import reader

BAR, DOT = "\u0304", "\u0307"


# Row names and formulas -------------------------------------------------------------

def row_names(nodes: list[Node], labels: dict | None = None) -> dict[int, str]:
    """A unique display name for every node that gets a row (`labels`: node id → the
    name a variable's node goes by, when the node has none of its own)."""
    names, used, count = {}, set(), 0
    labels = labels or {}
    for node in nodes:
        label = node.name or labels.get(node.id)
        if label is None and _is_literal(node):
            continue
        name = label
        if name is None or name in used:
            while True:
                count += 1
                candidate = f"v{count}"
                if candidate not in used:
                    break
            name = candidate if label is None else f"{label}_{count}"
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
    """A formula leaf for each row (named, with the row's value, so that rules on
    tensors know its shape) and each literal (its number)."""
    b = symbolic.Builder()
    out = {}
    for node in nodes:
        if node.id in names:
            out[node.id] = _symbol(names[node.id], node.value)
        else:
            out[node.id] = b.const(node.value)
    return out


def _symbol(name: str, value=None) -> Node:
    return Node(table.CONST, (), value, name=name)


def _leaf_syntax(symbol: Node):
    return S.Name(symbol.name) if symbol.name else symbolic._node_syntax(symbol, {})


def operation_text(node: Node, symbols: dict, names: dict) -> str:
    """The node's operation in terms of earlier rows: `w1*x`, `cos(a5)`."""
    syntax = {i.id: _leaf_syntax(symbols[i.id]) for i in node.inputs}
    return S.unparse(symbolic._node_syntax(node, syntax))


def _print(expr: Node) -> str:
    names = {n.id: n.name for n in ancestors(expr) if n.op is table.CONST and n.name}
    _, [syntax] = symbolic.to_syntax([expr], names, share=False)
    return pretty(S.unparse(syntax))


def _table(rows: list[tuple[str, str, str]]) -> list[str]:
    """Aligned `name = formula = value` lines."""
    left = max((display_width(a) for a, _, _ in rows), default=0)
    mid = max((display_width(b) for _, b, _ in rows), default=0)
    lines = []
    for a, b, c in rows:
        text = f"  {pad(a, left)} = "
        if b:
            text += f"{pad(b, mid)} = {c}"
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

    def to_data(self) -> dict:
        return {"name": self.name, "formula": self.formula, "value": value_data(self.value),
                "text": self.text}


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

    def to_data(self) -> dict:
        """The rows as JSON-ready data (`diffi --json`)."""
        return {"forward": [r.to_data() for r in self.forward],
                "backward_title": self.backward_title,
                "backward": [r.to_data() for r in self.backward],
                "gradient": None if self.gradient is None else value_data(self.gradient)}


def forward_rows(tape: Tape, names: dict, symbols: dict, precision: int) -> list[Row]:
    rows = []
    inputs = {n.id for n in tape.inputs}
    for node in calls.checked(tape.nodes, 1024):
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
                   gradient=None, labels: dict | None = None) -> Trace:
    """Forward values, then backward adjoints with the rule that made each."""
    names = row_names(tape.nodes, labels)
    symbols = _symbols(tape.nodes, names)
    bars = {i: _symbol(accent(n, BAR)) for i, n in names.items()}
    consumers = _consumers(tape)
    inputs = {x.id for x in xs}
    output = tape.outputs[0]
    rows = []
    for node in calls.checked(reversed(tape.nodes), 1024):
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
    b = symbolic.Builder(fold_calls=False)
    total, texts = None, []
    for consumer, k in consumers.get(node.id, []):
        shown = reader.adjoint_texts(consumer.op, [i.value for i in consumer.inputs],
                                     consumer.params)
        if shown:  # a tensor rule: shown in words from the table
            texts.append(_adjoint_text(consumer, k, shown, symbols, bars))
            continue
        needs = [j == k for j in range(len(consumer.inputs))]
        term = reader.cotangents(consumer, b, bars[consumer.id],
                                 [symbols[i.id] for i in consumer.inputs],
                                 symbols[consumer.id], needs)[k]
        if term is None:
            continue
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
                           a=inputs[0], b=inputs[1] if len(inputs) > 1 else "",
                           p=consumer.params)


def tangent_table(tape: Tape, tangent: dict, x: Node, precision: int,
                  labels: dict | None = None) -> Trace:
    """The forward pass with each node's tangent ẏ = Σ ∂y/∂u · u̇."""
    names = row_names(tape.nodes, labels)
    symbols = _symbols(tape.nodes, names)
    dots = {i: _symbol(accent(n, DOT)) for i, n in names.items()}
    rows = []
    for node in calls.checked(tape.nodes, 1024):
        if node.id not in names or node.id not in tape.active:
            continue
        if node is x:
            formula = ""
        else:
            formula = _tangent_formula(node, symbols, dots, tape)
        value = tangent.get(node.id, 0.0)
        rows.append(Row(accent(names[node.id], DOT), formula, value, _short(value, precision)))
    return Trace(forward_rows(tape, names, symbols, precision), rows, None, precision,
                 f"tangents (d/d{names.get(x.id, 'x')})")


def _tangent_formula(node, symbols, dots, tape) -> str:
    moving = [dots[i.id] if i.id in tape.active else None for i in node.inputs]
    total = reader.tangent(node, symbolic.Builder(fold_calls=False),
                           [symbols[i.id] for i in node.inputs],
                           symbols[node.id], moving)
    return "0" if total is None else _print(total)


# Kinks ----------------------------------------------------------------------------------

def kinks(tape: Tape) -> list[tuple[Node, str]]:
    """Active operations evaluated exactly at a point where they are not differentiable."""
    found = []
    for node in tape.nodes:
        if node.id not in tape.active:
            continue
        kink = node.op.kink
        args = [i.value for i in node.inputs]
        if kink is not None and _all_scalar(args) and kink.test(*args):
            where = format_value(args[0] if len(args) == 1 else tuple(args))
            found.append((node, f"{node.op.label} at {where}: {kink.convention}"))
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
