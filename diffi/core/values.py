"""Values that are not numbers (functions), and how every value prints."""
from __future__ import annotations

import contextvars
import unicodedata
from contextlib import contextmanager

from ..arrays import as_value, finite, is_array
from ..language import syntax as S


class Function:
    """Base of diffi's callable values."""

    name = "function"


class UserFunction(Function):
    """A function defined in diffi: `f(x, y) = x*y + sin(x)`."""

    def __init__(self, name: str, params: list[str], body, scope=None):
        self.name = name
        self.params = params
        self.body = body      # syntax node
        self.scope = scope    # the enclosing block's scope; None: the globals at call time

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


SUMMARY_THRESHOLD = 1000  # a tensor of more elements prints summarised (NumPy's default)
EDGE_ITEMS = 3  # elements a summary keeps at each end of a long axis (NumPy's default)
GAP = "\u2026"  # …: it stands where elements are left out, and diffi does not read it

# The threshold of the statement running now. The interpreter sets it around each
# statement, so that every text a statement makes (a result, print, a trace, an error
# message) follows the session's setting without handing it through every caller.
_threshold: contextvars.ContextVar = contextvars.ContextVar("threshold",
                                                            default=SUMMARY_THRESHOLD)
_CURRENT = object()


@contextmanager
def summarising(threshold: int | None):
    """Summarise tensors of more than `threshold` elements (None: never) inside the block."""
    token = _threshold.set(threshold)
    try:
        yield
    finally:
        _threshold.reset(token)


def summary_indices(count: int) -> list[int | None]:
    """The positions a summary of `count` items keeps, None where the gap goes (all of
    them when the statement's threshold does not cut): for a table with a column per
    element, like check's."""
    threshold = _threshold.get()
    if threshold is None or count <= threshold or count <= 2 * EDGE_ITEMS:
        return list(range(count))
    return [*range(EDGE_ITEMS), None, *range(count - EDGE_ITEMS, count)]


def format_value(value, digits: int = PRECISION, threshold=_CURRENT) -> str:
    """A value as diffi prints it: numbers, booleans, tensors, tuples, functions, strings.

    A tensor of more than `threshold` elements is summarised (None: never; by default the
    setting of the statement running now)."""
    kind = type(value)
    if kind is float:
        return format_number(value, digits)
    if kind is bool:
        return "true" if value else "false"
    if kind is tuple:
        items = [format_value(v, digits, threshold) for v in value]
        return f"({items[0]},)" if len(items) == 1 else "(" + ", ".join(items) + ")"
    if kind is str:
        return S.unparse(S.Str(value))
    if isinstance(value, Function):
        return str(value)
    if is_array(value):
        return format_array(value, digits, threshold)
    return repr(value)


def format_array(array, digits: int = PRECISION, threshold=_CURRENT) -> str:
    """Vectors on one line `[1, 2.5, 3]`; matrices one row per line, columns aligned.

    Above the threshold, as NumPy does, only the first and last EDGE_ITEMS of each long
    axis are formatted, with `…` between them: printing a 3000 × 3000 matrix formats 36
    numbers, not nine million."""
    if array.ndim == 0:
        return format_value(as_value(array), digits)
    if threshold is _CURRENT:
        threshold = _threshold.get()
    cut = tuple(threshold is not None and array.size > threshold and n > 2 * EDGE_ITEMS
                for n in array.shape)
    shown = _corners(array, cut) if any(cut) else array
    cells = [format_value(x, digits) for x in shown.reshape(-1).tolist()]
    width = max((len(c) for c in cells), default=0)
    if array.ndim > 1:
        cells = [c.rjust(width) for c in cells]
    return _nest(cells, shown.shape, cut, 1)


def _corners(array, cut: tuple):
    """The elements a summary shows: the first and last EDGE_ITEMS along each cut axis."""
    for axis, is_cut in enumerate(cut):
        if is_cut:
            n = array.shape[axis]
            keep = list(range(EDGE_ITEMS)) + list(range(n - EDGE_ITEMS, n))
            array = array.take(keep, axis=axis)
    return array


def _nest(cells: list[str], shape: tuple, cut: tuple, depth: int) -> str:
    rows = cells if len(shape) == 1 else _rows(cells, shape, cut, depth)
    if cut[0]:
        rows = rows[:EDGE_ITEMS] + [GAP] + rows[EDGE_ITEMS:]
    if len(shape) == 1:
        return "[" + ", ".join(rows) + "]"
    separator = "," + "\n" * (len(shape) - 1) + " " * depth
    return "[" + separator.join(rows) + "]"


def _rows(cells: list[str], shape: tuple, cut: tuple, depth: int) -> list[str]:
    step = len(cells) // shape[0] if shape[0] else 0
    return [_nest(cells[i * step:(i + 1) * step], shape[1:], cut[1:], depth + 1)
            for i in range(shape[0])]


def display_width(text: str) -> int:
    """Columns a line takes on a terminal: combining marks (the bar of x̄, the dot of ẋ)
    take none, East Asian wide characters two (wcwidth, loaded for non-ASCII text)."""
    if text.isascii():
        return len(text)
    from wcwidth import wcswidth  # lazily: (installed with prompt_toolkit) only when needed
    width = wcswidth(text)
    return width if width >= 0 else sum(1 for c in text if not unicodedata.combining(c))


def pad(text: str, width: int) -> str:
    """text followed by spaces up to `width` columns (display_width, not len)."""
    return text + " " * (width - display_width(text))


# Values as data: what `diffi --json` and `graph … to "g.json"` write ------------------------

def value_data(value) -> dict:
    """A value as JSON-ready data: {"type": …} with the value's own fields.

    Numbers are JSON numbers, except inf, -inf and nan, which JSON has no numbers for:
    they are the strings "inf", "-inf" and "nan". A tensor is nested lists with its
    shape; a function or formula is its text, as diffi prints it."""
    kind = type(value)
    if kind is float:
        return {"type": "number", "value": number_data(value)}
    if kind is bool:
        return {"type": "boolean", "value": value}
    if is_array(value):
        return {"type": "tensor", "shape": list(value.shape), "value": tensor_data(value)}
    if kind is tuple:
        return {"type": "tuple", "items": [value_data(v) for v in value]}
    if kind is str:
        return {"type": "string", "value": value}
    if isinstance(value, UserFunction):
        text = str(value)
        if text != value.definition():  # a formula (a symbolic result) prints alone
            return {"type": "formula", "params": list(value.params), "text": text}
        return {"type": "function", "name": value.name, "params": list(value.params),
                "text": text}
    if isinstance(value, Function):
        return {"type": "function", "name": value.name, "text": str(value)}
    return {"type": kind_of(value)}


def number_data(x: float):
    """A float for JSON: itself when finite, else "inf", "-inf" or "nan"."""
    if x - x == 0:
        return x
    return "nan" if x != x else ("inf" if x > 0 else "-inf")


def tensor_data(array) -> list:
    """A tensor as nested lists (non-finite elements as strings, as number_data)."""
    data = array.tolist()
    if array.dtype.kind != "b" and not _finite(array):
        data = _replace_nonfinite(data)
    return data


def _finite(array) -> bool:
    # A small tensor is checked in Python: a NumPy call costs more than a few elements.
    if array.size <= 64:
        return all(x - x == 0 for x in array.ravel().tolist())
    return finite(array)


def _replace_nonfinite(data):
    if isinstance(data, list):
        return [_replace_nonfinite(item) for item in data]
    return number_data(data)
