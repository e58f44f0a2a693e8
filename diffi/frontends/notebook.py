"""diffi in Jupyter and IPython: `%load_ext diffi`.

The extension registers `%%diffi` (a cell of diffi statements) and `%diffi` (one
statement, whose value comes back to Python), sharing one Interpreter per kernel that
Python cells reach as `diffi_interpreter`. Results show through IPython's display
protocol: a directive's tables as HTML tables with the program's names, a graph as SVG
(Graphviz when `dot` is installed, else a layout drawn here, so a notebook needs no
system package), a formula as LaTeX, a tensor as NumPy shows it, and an error or a
warning with its caret. IPython is imported only here, and this module only by IPython
(diffi/__init__.py's load_ipython_extension).
"""
from __future__ import annotations

import html
import io
import re
import shutil
import subprocess
import sys

from .. import table
from ..core.values import UserFunction
from ..errors import DiffiError, render
from ..interpreter import Interpreter, to_python
from .console import COMMAND_LIMITS

NAME = "diffi_interpreter"  # the kernel's interpreter, as Python cells see it
CELL = "<cell>"             # the file name errors and warnings give


def load(ipython) -> Interpreter:
    """Register the magics on an IPython shell; the interpreter they share."""
    cell = {"source": ""}  # the running cell's text, for a warning's caret

    def warn(message, span):
        print(render("warning", message, span, cell["source"], CELL), file=sys.stderr)

    # a kernel is its user's own session, as the REPL is: files on, the REPL's limits
    interpreter = Interpreter(output=print, warn=warn, **COMMAND_LIMITS)

    def diffi_magic(line, source=None):
        """%%diffi: run the cell's statements, showing each result; %diffi STATEMENT:
        its value, as a Python value."""
        if source is None:
            cell["source"] = line
            return _line(interpreter, line)
        cell["source"] = source
        _cell(interpreter, source)
        return None

    ipython.register_magic_function(diffi_magic, "line_cell", "diffi")
    ipython.push({NAME: interpreter})
    return interpreter


def _cell(interpreter: Interpreter, source: str) -> None:
    from IPython.display import display  # (loaded: this runs inside IPython)
    try:
        interpreter.execute(source, CELL, lambda node: display(Shown(node, interpreter)))
    except DiffiError as error:  # shown as the REPL shows it; the cells after still run
        display(Failed(error))


def _line(interpreter: Interpreter, source: str):
    from IPython.display import display  # (loaded: this runs inside IPython)
    results: list = []
    try:
        interpreter.execute(source, CELL, results.append, echo_silent=True)
        return to_python(results[-1].value, interpreter) if results else None
    except DiffiError as error:
        display(Failed(error))
        return None


class Shown:
    """A statement's result, for IPython's display protocol."""

    def __init__(self, node, interpreter: Interpreter):
        self.node = node
        self.interpreter = interpreter

    def __repr__(self) -> str:
        value = self.node.value
        if self.node.op is not table.REPORT and hasattr(value, "ndim") and value.ndim:
            return repr(value)  # a tensor as NumPy shows it
        return self.interpreter.format_result(self.node)

    def _repr_html_(self):
        if self.node.op is not table.REPORT:
            return None
        report = self.node.params
        if hasattr(report.detail, "figure"):  # a plot: drawn by matplotlib when present
            return plot_svg(report.detail, str(report))
        svg = graph_svg(report.detail) if hasattr(report.detail, "to_dot") else ""
        return svg + report_html(str(report))

    def _repr_latex_(self):
        value = self.node.value
        if self.node.op is table.REPORT or not isinstance(value, UserFunction):
            return None
        return f"$\\displaystyle {self.interpreter.latex(to_python(value, self.interpreter))}$"


# monospace, so that the caret stays under its column wherever the page sets fonts
ERROR_STYLE = "color: #b00; font-family: monospace; white-space: pre"


class Failed:
    """An error, drawn with its caret under the line it points at."""

    def __init__(self, error: DiffiError):
        self.error = error

    def __repr__(self) -> str:
        return self.error.render()

    def _repr_html_(self) -> str:
        return f'<pre style="{ERROR_STYLE}">{html.escape(self.error.render())}</pre>'


# A report's text as HTML -----------------------------------------------------------------

CELL_STYLE = 'style="text-align: left"'  # (notebooks right-align table cells)
CELLS = re.compile(r"\s{2,}")  # the report's columns are two or more spaces apart


def report_html(text: str) -> str:
    """Runs of lines with columns become tables; other lines, headings above them."""
    parts, rows = [], []
    for line in text.splitlines():
        cells = _cells(line)
        if len(cells) > 1:
            rows.append(cells)
            continue
        parts.append(_table(rows))
        rows = []
        parts.append(f"<div><b>{html.escape(line.strip())}</b></div>" if line.strip() else "")
    parts.append(_table(rows))
    return '<div class="diffi">' + "".join(parts) + "</div>"


def _cells(line: str) -> list[str]:
    """A trace row `  name = formula = value` as its three parts (the formula empty
    for an input); a line of columns two or more spaces apart as its columns."""
    if line.startswith("  ") and " = " in line:
        parts = [p.strip() for p in line.split(" = ")]
        return [parts[0], "", parts[1]] if len(parts) == 2 else \
            [parts[0], " = ".join(parts[1:-1]), parts[-1]]
    return CELLS.split(line.strip())


def _table(rows: list[list[str]]) -> str:
    if not rows:
        return ""
    body = "".join("<tr>" + "".join(f"<td {CELL_STYLE}>{html.escape(c)}</td>" for c in row)
                   + "</tr>" for row in rows)
    return f'<table style="font-family: monospace">{body}</table>'


# A plot as SVG --------------------------------------------------------------------------

def plot_svg(plot, text: str) -> str:
    """The plot drawn by matplotlib (the plot extra) as inline SVG; without it, the
    terminal's braille picture."""
    try:
        figure = plot.figure()
    except ImportError:
        return f"<pre>{html.escape(text)}</pre>"
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg")
    svg = buffer.getvalue()
    return svg[svg.find("<svg"):]


# A graph as SVG -------------------------------------------------------------------------

NODE = re.compile(r'^\s*(n\d+) \[label="(.*)"\];$', re.M)
EDGE = re.compile(r"^\s*(n\d+) -> (n\d+);$", re.M)
WIDTH, HEIGHT, GAP_X, GAP_Y = 90, 36, 40, 16  # a box and the space between boxes


def graph_svg(graph) -> str:
    """The graph drawn by Graphviz when it is installed, else by graph_layout."""
    dot = graph.to_dot()
    if shutil.which("dot"):
        done = subprocess.run(["dot", "-Tsvg"], input=dot, capture_output=True, text=True,
                              timeout=10)
        if done.returncode == 0:
            return done.stdout[done.stdout.find("<svg"):]
    return graph_layout(dot)


def graph_layout(dot: str) -> str:
    """Inputs on the left, each node one column right of its deepest input (the
    direction Graphviz draws with rankdir=LR), boxes joined by lines."""
    labels = {n: label.replace("\\n", " ") for n, label in NODE.findall(dot)}
    edges = EDGE.findall(dot)
    column: dict = {}
    for n in labels:  # the DOT lists nodes inputs first
        column[n] = max((column[a] + 1 for a, b in edges if b == n and a in column),
                        default=0)
    rows: dict = {}
    place = {}
    for n in labels:
        row = rows[column[n]] = rows.get(column[n], -1) + 1
        place[n] = (column[n] * (WIDTH + GAP_X) + 4, row * (HEIGHT + GAP_Y) + 4)
    width = (max(column.values(), default=0) + 1) * (WIDTH + GAP_X)
    height = (max(rows.values(), default=0) + 1) * (HEIGHT + GAP_Y)
    lines = [f'<line x1="{place[a][0] + WIDTH}" y1="{place[a][1] + HEIGHT // 2}" '
             f'x2="{place[b][0]}" y2="{place[b][1] + HEIGHT // 2}" stroke="#555"/>'
             for a, b in edges]
    boxes = [f'<rect x="{x}" y="{y}" width="{WIDTH}" height="{HEIGHT}" rx="4" fill="#fff" '
             f'stroke="#333"/><text x="{x + WIDTH // 2}" y="{y + HEIGHT // 2 + 5}" '
             f'text-anchor="middle" font-family="Helvetica" font-size="13">'
             f'{html.escape(labels[n])}</text>' for n, (x, y) in place.items()]
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">'
            + "".join(lines + boxes) + "</svg>")
