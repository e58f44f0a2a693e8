"""Values that are not numbers (functions), and how every value prints (SPEC §7)."""
from __future__ import annotations

import unicodedata

from ..arrays import as_value, is_array, np
from ..language import syntax as S


class Function:
    """Base of diffi's callable values."""

    name = "function"


class UserFunction(Function):
    """A function defined in diffi: `f(x, y) = x*y + sin(x)`."""

    def __init__(self, name: str, params: list[str], body, scope=None, source=None):
        self.name = name
        self.params = params
        self.body = body      # syntax node
        self.scope = scope    # the enclosing block's scope; None: the globals at call time
        self.source = source  # (text, name) of the source that defined it: errors in
        #                       its body are drawn against it

    def definition(self) -> str:
        params = ", ".join(self.params)
        return f"{self.name}({params}) = {S.unparse(self.body)}"

    __str__ = definition


class Builtin(Function):
    """A built-in function; `primitive` when it is one graph operation."""

    def __init__(self, name: str, signature: str, doc: str, primitive=None,
                 call=None, min_args: int = 0, max_args: int = 0):
        self.name = name
        self.signature = signature
        self.doc = doc
        self.primitive = primitive
        self.call = call          # call(evaluator, args, keywords, span) for the others
        self.min_args = min_args
        self.max_args = max_args

    def __str__(self) -> str:
        return self.name


class Nothing:
    """The value of print(…): shows nothing, and is no number to compute with."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "nothing"


NOTHING = Nothing()


def kind_of(value) -> str:
    """A word for the type of a value, for messages and :vars."""
    if type(value) is float:
        return "number"
    if type(value) is bool:
        return "boolean"
    if isinstance(value, tuple):
        return "tuple"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Function):
        return "function"
    if value is None or value is NOTHING:
        return "nothing"
    if is_array(value):
        return "vector" if value.ndim == 1 else "matrix" if value.ndim == 2 else "tensor"
    return type(value).__name__


PRECISION = 15  # significant digits a number prints with until `:precision` changes it


def format_number(value: float, digits: int = PRECISION) -> str:
    """Up to `digits` significant digits, trailing zeros dropped: 6, 0.5, inf, nan."""
    if value != value:
        return "nan"
    if value == 0:
        return "0"  # -0 too: it equals 0, and a calculator shows 0
    text = f"{value:.{digits}g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text


def format_value(value, digits: int = PRECISION) -> str:
    """A value as diffi prints it: numbers, booleans, tensors, tuples, functions, strings."""
    kind = type(value)
    if kind is float:
        return format_number(value, digits)
    if kind is bool:
        return "true" if value else "false"
    if kind is tuple:
        items = [format_value(v, digits) for v in value]
        return f"({items[0]},)" if len(items) == 1 else "(" + ", ".join(items) + ")"
    if kind is str:
        return S.unparse(S.Str(value))
    if isinstance(value, Function):
        return str(value)
    if is_array(value):
        return format_array(value, digits)
    return repr(value)


SUMMARY = 1000  # elements: a larger tensor prints the first and last EDGE along each axis
EDGE = 3


def format_array(array, digits: int = PRECISION) -> str:
    """Vectors on one line `[1, 2.5, 3]`; matrices one row per line, columns aligned.
    A tensor of more than SUMMARY elements is summarised as NumPy does: its first and
    last three rows and columns, with … between (so printing is quick at any size)."""
    if array.ndim == 0:
        return format_value(as_value(array), digits)
    cut = [array.size > SUMMARY and n > 2 * EDGE for n in array.shape]
    for axis, short in enumerate(cut):
        if short:
            array = np().concatenate([array.take(range(EDGE), axis),
                                      array.take(range(-EDGE, 0), axis)], axis)
    cells = [format_value(as_value(x), digits) for x in array.reshape(-1)]
    width = max((len(c) for c in cells), default=0)
    if array.ndim > 1:
        cells = [c.rjust(width) for c in cells]
    return _nest(cells, array.shape, 1, cut)


def _nest(cells: list[str], shape: tuple, depth: int, cut: list) -> str:
    if len(shape) == 1:
        items = cells[:EDGE] + ["…"] + cells[EDGE:] if cut[0] else cells
        return "[" + ", ".join(items) + "]"
    step = len(cells) // shape[0] if shape[0] else 0
    rows = [_nest(cells[i * step:(i + 1) * step], shape[1:], depth + 1, cut[1:])
            for i in range(shape[0])]
    if cut[0]:
        rows = rows[:EDGE] + ["…"] + rows[EDGE:]
    separator = "," + "\n" * (len(shape) - 1) + " " * depth
    return "[" + separator.join(rows) + "]"


def display_width(text: str) -> int:
    """Columns a line takes: combining marks (the bar of x̄, the dot of ẋ) take none."""
    return sum(1 for c in text if not unicodedata.combining(c))
