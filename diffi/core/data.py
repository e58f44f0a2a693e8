"""Data in and out: `load("file.csv")` reads a matrix of numbers, `save("file.csv", A)`
writes one.

Reading uses Python's csv module (quoted cells, `""` inside quotes). The first line is a
header when one of its cells holds text that is not a number: a header is detected,
never assumed, so a file of numbers keeps its first row. Every other row must hold as many numbers as the
first; an error names the file's line and column, and never quotes what the file holds.

`file_path` is the one place where a program's file names are decided on: whether it
may touch a file at all, and where a relative name starts (load, save, graph … to).
"""
from __future__ import annotations

import os
import re

from ..arrays import is_array, np
from ..errors import DiffiError, DiffiTypeError, LimitError
from .values import NOTHING, kind_of

NUMBER = re.compile(r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf|infinity|nan)",
                    re.IGNORECASE)


def file_path(evaluator, name, span, verb: str) -> str:
    """The path a program's file name means: relative names start from the script's
    folder (the working directory for -c, standard input and the REPL)."""
    if not isinstance(name, str):
        raise DiffiTypeError(f'{verb} takes a file name in quotes: {verb}("data.csv"'
                             + (', A)' if verb == "save" else ")"), span)
    if not evaluator.files:
        doing = "reading" if verb == "load" else "writing"  # save and graph … to both write
        raise DiffiError(f"{doing} files is switched off in this interpreter", span)
    if os.path.isabs(name):
        return name
    return os.path.join(evaluator.base_dir or os.getcwd(), name)


# load ------------------------------------------------------------------------------------

def load(evaluator, args, span):
    """load("file.csv"): the file's numbers as a matrix, one row per line."""
    name = args[0].value
    path = file_path(evaluator, name, span, "load")
    text = _read_text(path, name, span)
    rows = _numbers(text, name, span, evaluator.limits.max_elements)
    if not rows:
        raise DiffiError(f"{name} holds no rows of numbers (a first line that holds text "
                         "is its header)", span)
    return np().array(rows, dtype=float)


def _read_text(path: str, name: str, span) -> str:
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:  # (-sig: Excel's BOM)
            return handle.read()
    except UnicodeDecodeError:
        raise DiffiError(f"cannot read {name}: it is not a text file (UTF-8)", span) from None
    except OSError as error:
        raise DiffiError(f"cannot read {name}: {error.strerror or 'not readable'}",
                         span) from None


def _numbers(text: str, name: str, span, max_elements: int) -> list[list[float]]:
    """The rows of numbers, the header (if any) left out; errors name line and column."""
    import csv  # lazily: a script that loads no file does not pay for the csv module
    lines = text.splitlines(keepends=True)
    reader = csv.reader(lines)
    rows: list[list[float]] = []
    width = first = None
    count = 0
    try:
        for cells in reader:
            line = reader.line_num
            if not cells or all(not c.strip() for c in cells):
                continue  # a blank line
            numbers = [_number(c) for c in cells]
            if first is None:
                first = line
                if any(n is None and c.strip() for n, c in zip(numbers, cells)):
                    continue  # a header: a cell of the first line holds text
            _check_row(numbers, cells, width, lines[line - 1], name, line, span)
            width = len(numbers)
            count += width
            if count > max_elements:
                raise LimitError(f"{name} holds more than {max_elements} numbers "
                                 f"(max_elements)", span)
            rows.append(numbers)
    except csv.Error as error:
        raise DiffiError(f"{name}, line {reader.line_num}: not a CSV line ({error})",
                         span) from None
    return rows


def _number(cell: str) -> float | None:
    text = cell.strip()
    return float(text) if NUMBER.fullmatch(text) else None


def _check_row(numbers, cells, width, raw: str, name: str, line: int, span) -> None:
    for k, value in enumerate(numbers):
        if value is None:
            what = "is empty" if not cells[k].strip() else "is not a number"
            raise DiffiError(f"{name}, line {line}, column {_columns(raw)[k]}: cell {k + 1} "
                             f"{what}", span)
    if width is not None and len(numbers) != width:
        columns = _columns(raw)
        column = columns[width] if len(numbers) > width else len(raw.rstrip("\r\n")) + 1
        cells = f"{len(numbers)} cell{'s' if len(numbers) != 1 else ''}"
        raise DiffiError(f"{name}, line {line}, column {column}: {cells} where the rows "
                         f"before have {width}", span)


def _columns(raw: str) -> list[int]:
    """The 1-based column where each cell of a CSV line starts (commas in quotes skipped)."""
    starts, quoted = [1], False
    for i, char in enumerate(raw):
        if char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            starts.append(i + 2)
    return starts


# save ------------------------------------------------------------------------------------

def save(evaluator, args, span):
    """save("file.csv", A): a number, a vector (one number per line) or a matrix (one row
    per line), written so that load reads back the same numbers exactly."""
    name = args[0].value
    rows = _rows(args[1].value, span)
    path = file_path(evaluator, name, span, "save")
    text = "".join(",".join(_cell(x) for x in row) + "\n" for row in rows)
    try:
        with open(path, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    except OSError as error:
        raise DiffiError(f"cannot write {name}: {error.strerror or 'not writable'}",
                         span) from None
    return NOTHING


def _rows(value, span) -> list[list]:
    if type(value) in (float, bool):
        return [[value]]
    if not is_array(value):
        raise DiffiTypeError(f"save writes a number, a vector or a matrix, not a "
                             f"{kind_of(value)}", span)
    if value.ndim > 2:
        raise DiffiTypeError(f"save writes a vector or a matrix; this tensor has "
                             f"{value.ndim} dimensions: reshape it first", span)
    if value.ndim == 1:
        return [[x] for x in value.tolist()]
    return value.tolist()


def _cell(x) -> str:
    """A number as the shortest text that reads back as the same float: 1, 0.1, 1e-05."""
    if type(x) is bool:
        return "1" if x else "0"
    if x != x:
        return "nan"
    if x in (float("inf"), float("-inf")):
        return "inf" if x > 0 else "-inf"
    text = repr(float(x))
    return text[:-2] if text.endswith(".0") else text
