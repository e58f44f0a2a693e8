"""`plot E1, E2, … from a to b [to "file.png"]` and `plot losses`.

Each curve is a function of one variable: a function's name, an expression in one name
that has no value (`sin(x)`), or a directive whose result is a function (`d/dx f`,
`tangent f at 1`, `taylor sin(x) at x = 0 order 5`); a vector (`losses`) is drawn
against its index. In the terminal the curves are Unicode braille art (each character
a 2×4 grid of dots); to a .png or .svg file they are drawn by matplotlib (the plot
extra), imported only then.
"""
from __future__ import annotations

import math
import os

from ..arrays import is_array
from ..core import files
from ..core.library import BUILTINS, constant
from ..core.problem import _free_names, parameters
from ..core.values import NOTHING, Function, UserFunction
from ..errors import DiffiError, DiffiNameError, DiffiTypeError
from ..language import syntax as S
from .context import Report, quietly
from .explain import numeric_sweep  # explain's own sweep, drawn rather than listed

WIDTH, HEIGHT = 60, 15      # the terminal plot's characters: 120 × 60 dots
FILE_SAMPLES = 400          # points of a curve drawn to a file
FORMATS = (".png", ".svg")


class Curve:
    """A curve's label and its points."""

    def __init__(self, label: str, xs: list, ys: list):
        self.label, self.xs, self.ys = label, xs, ys


class Plot:
    """The curves of one plot statement, drawn as text or to a file."""

    def __init__(self, curves: list, span: tuple, log: bool = False):
        self.curves, self.span, self.log = curves, span, log  # log: log-log axes

    def to_text(self) -> str:
        if not self.log:
            return braille(self.curves, self.span)
        curves = [Curve(c.label, [_log(x) for x in c.xs], [_log(y) for y in c.ys])
                  for c in self.curves]
        return braille(curves, (_log(self.span[0]), _log(self.span[1])), powers=True)

    def figure(self):
        """A matplotlib Figure of the curves (matplotlib must be installed)."""
        from matplotlib.figure import Figure  # lazily: the plot extra, for files only
        figure = Figure(figsize=(6.4, 4.0), dpi=100)
        axes = figure.subplots()
        for curve in self.curves:
            axes.plot(curve.xs, curve.ys, label=curve.label, marker="o" if self.log else None)
        if self.log:
            axes.set_xscale("log")
            axes.set_yscale("log")
            axes.set_xlabel("step h")
            axes.set_ylabel("error")
        else:
            axes.axhline(0, color="0.6", linewidth=0.8)
        axes.grid(alpha=0.3)
        axes.legend()
        figure.tight_layout()
        return figure


def plot(ev, ast, scope) -> Report:
    items = ast.expr.items
    if any(_is_sweep(i) for i in items):
        shown = _sweep_plot(ev, ast, scope, items)
    else:
        span = _span(ev, ast, scope)
        samples = FILE_SAMPLES if ast.file is not None else 2 * WIDTH
        curves = [_curve(ev, item, scope, span, samples) for item in items]
        if span is None:
            span = (0.0, float(max(len(c.xs) for c in curves) - 1))
        shown = Plot(curves, span)
    if ast.file is None:
        return Report(NOTHING, shown.to_text(), detail=shown)
    return Report(NOTHING, write(ev, shown, ast.file), detail=shown)


def _is_sweep(item) -> bool:
    return isinstance(item, S.Directive) and item.kind == "explain"


def _sweep_plot(ev, ast, scope, items) -> Plot:
    """`plot explain d/dx E at x = a using numeric`: the difference quotient's error
    against its step h, on log-log axes (truncation falls as h shrinks, round-off grows)."""
    if len(items) != 1 or ast.extent is not None or items[0].inner.mode is None \
            or items[0].inner.mode.name != "numeric":
        raise DiffiTypeError("plot explain draws one numeric step-size sweep: plot explain "
                             "d/dx E at x = 1 using numeric", ast.span)
    rows = numeric_sweep(ev, items[0].inner, scope)
    hs = [h for h, _, _ in rows]
    curve = Curve("error of the central difference against h", hs,
                  [error if error > 0 else math.nan for _, _, error in rows])
    return Plot([curve], (min(hs), max(hs)), log=True)


def _log(value: float) -> float:
    return math.log10(value) if value > 0 else math.nan


def _span(ev, ast, scope):
    if ast.extent is None:
        return None
    start, stop = (ev.eval(e, scope).value for e in ast.extent)
    if type(start) is not float or type(stop) is not float or not start < stop \
            or not math.isfinite(stop - start):
        raise DiffiTypeError("plot … from a to b needs two numbers with a < b",
                             ast.extent[0].span)
    return start, stop


def _curve(ev, item, scope, span, samples: int) -> Curve:
    label = S.unparse(item)
    value = _value(ev, item, scope)
    if isinstance(value, Function):
        if span is None and isinstance(item, S.Name) and value.name == item.id \
                and isinstance(value, UserFunction) and value.body is item:
            hint = " (minimize binds losses)" if item.id == "losses" else ""
            raise DiffiNameError(f"name '{item.id}' is not defined{hint}", item.span)
        if span is None:
            raise DiffiTypeError(f"plot {label} needs its span: write "
                                 f"plot {label} from -3 to 3", getattr(item, "span", None))
        if len(parameters(value)) != 1:
            raise DiffiTypeError(f"plot draws functions of one variable; {label} takes "
                                 f"{len(parameters(value))}", getattr(item, "span", None))
        xs = [span[0] + (span[1] - span[0]) * i / (samples - 1) for i in range(samples)]
        at = quietly(ev, lambda t: ev.call(value, [constant(t)], {}, item.span).value)
        return Curve(label, xs, [_number(at, x) for x in xs])
    if is_array(value) and value.ndim == 1 and value.size > 0:
        ys = [float(v) for v in value]
        if span is None or len(ys) == 1:  # against its index, or spread over the span
            return Curve(label, [float(i) for i in range(len(ys))], ys)
        step = (span[1] - span[0]) / (len(ys) - 1)
        return Curve(label, [span[0] + i * step for i in range(len(ys))], ys)
    raise DiffiTypeError(f"plot draws functions of one variable and vectors; {label} is "
                         "neither", getattr(item, "span", None))


def _value(ev, item, scope):
    """A function or a vector: what the item is bound to or evaluates to, or the
    expression itself as a function of its one free name."""
    if isinstance(item, S.Name):
        binding = scope.lookup(item.id)
        node = binding.node if binding is not None else BUILTINS.get(item.id)
        if node is not None:
            return node.value
    if not isinstance(item, S.Directive):
        free = _free_names(item, scope)
        if len(free) > 1:
            raise DiffiTypeError(f"plot draws functions of one variable; "
                                 f"{S.unparse(item)} has {', '.join(free)}", item.span)
        if free:
            return UserFunction(S.unparse(item), free, item, scope)
    return ev.eval(item, scope).value


def _number(at, x: float) -> float:
    try:
        y = at(x)
    except DiffiError:  # outside the function's domain: a gap in the curve
        return math.nan
    return float(y) if type(y) is float else math.nan


# In the terminal --------------------------------------------------------------------------

# The dot bits of a braille character, by (column, row) in its 2×4 grid.
DOTS = {(0, 0): 0x01, (0, 1): 0x02, (0, 2): 0x04, (1, 0): 0x08, (1, 1): 0x10,
        (1, 2): 0x20, (0, 3): 0x40, (1, 3): 0x80}


def braille(curves: list, span: tuple, width: int = WIDTH, height: int = HEIGHT,
            powers: bool = False) -> str:
    """The curves on one canvas of braille dots, the y range on the left, the x range
    below and the curves' names under it (several curves numbered, each number also
    standing at its curve's last point). Consecutive points are joined by a vertical
    run of dots, so that a steep curve stays one line."""
    finite = [y for c in curves for y in c.ys if math.isfinite(y)]
    low, high = (min(finite), max(finite)) if finite else (-1.0, 1.0)
    if low == high:
        low, high = low - 1, high + 1
    columns, rows = 2 * width, 4 * height
    grid = [[0] * width for _ in range(height)]
    ends = {}  # with several curves, each is numbered at its last point, as in the legend
    for number, curve in enumerate(curves, 1):
        previous = None
        for x, y in zip(curve.xs, curve.ys):
            if not math.isfinite(y):
                previous = None
                continue
            point = ((x - span[0]) / (span[1] - span[0]) * (columns - 1),
                     (high - y) / (high - low) * (rows - 1))
            for col, row in _segment(previous or point, point):
                grid[row // 4][col // 2] |= DOTS[(col % 2, row % 4)]
            previous = point
            if len(curves) > 1:
                ends[number] = (round(point[1]) // 4, round(point[0]) // 2)
    marks = {cell: str(number) for number, cell in ends.items()}
    short = _power if powers else _short  # on log axes the labels are powers of 10
    top, bottom = short(high), short(low)
    margin = max(len(top), len(bottom))
    lines = []
    for i, cells in enumerate(grid):
        label = top if i == 0 else bottom if i == height - 1 else ""
        lines.append(f"{label:>{margin}} ┤" + "".join(
            marks.get((i, j), chr(0x2800 + c)) for j, c in enumerate(cells)))
    left, right = short(span[0]), short(span[1])
    lines.append(" " * margin + " └" + "─" * width)
    lines.append(" " * (margin + 2) + left + right.rjust(width - len(left)))
    names = [c.label if len(curves) == 1 else f"{n} {c.label}" for n, c in enumerate(curves, 1)]
    lines.append(" " * (margin + 2) + ", ".join(names))
    return "\n".join(lines)


def _segment(start: tuple, stop: tuple):
    """The dots of a line from one point to the next: in each column between them, the
    rows from where the line enters the column to where it leaves it."""
    (c0, r0), (c1, r1) = sorted((start, stop))  # left to right, whichever came first
    first, last = round(c0), round(c1)
    slope = (r1 - r0) / (c1 - c0) if c1 != c0 else 0.0
    for col in range(first, last + 1):
        enter = r0 + slope * (max(col - 0.5, c0) - c0)
        leave = r0 + slope * (min(col + 0.5, c1) - c0)
        if c1 == c0:
            enter, leave = r0, r1
        top, bottom = sorted((round(enter), round(leave)))
        for row in range(top, bottom + 1):
            yield col, row


def _power(exponent: float) -> str:
    return f"1e{round(exponent):+03d}" if abs(exponent - round(exponent)) < 1e-9 \
        else f"{10 ** exponent:.1e}"


def _short(value: float) -> str:
    text = f"{value:.4g}"
    return "0" if text == "-0" else text


# To a file --------------------------------------------------------------------------------

def write(ev, shown: Plot, file: S.Str) -> str:
    """Draw the plot to a .png or .svg file, through matplotlib."""
    path = _path(ev, file)
    extension = os.path.splitext(path)[1].lower()
    if extension not in FORMATS:
        raise DiffiError(f"cannot write a plot as '{extension}': use .png or .svg", file.span)
    try:
        figure = shown.figure()
    except ImportError:
        raise DiffiError("plotting to a file needs matplotlib: install the plot extra, "
                         "pip install 'diffi[plot]'", file.span) from None
    try:
        figure.savefig(path, format=extension[1:])
    except OSError as error:
        raise DiffiError(f"cannot write {file.value}: {error.strerror or error}",
                         file.span) from None
    return f"wrote the plot ({len(shown.curves)} curve{'s' * (len(shown.curves) != 1)}) " \
           f"to {file.value}"


def _path(ev, file: S.Str) -> str:
    """Where the file goes, under the interpreter's file policy (diffi.core.files)."""
    return files.resolve(ev, file.value, file.span, writing=True)
