"""Errors and warnings with source spans, and the one renderer that draws them."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class Span:
    """A stretch of source text: 1-based line and column of its start, and its end."""

    line: int
    column: int
    end_line: int
    end_column: int  # exclusive

@dataclass(slots=True)
class NamedSpan(Span):
    """A span in another source than the statement running: a warning raised inside a
    function defined by an earlier run names the source it is in."""

    name: str = ""
class DiffiError(Exception):
    """Any error in a diffi program or in a call of the Python API."""

    kind = "error"

    def __init__(self, message: str, span: Span | None = None):
        super().__init__(message)
        self.message = message
        self.span = span
        self.source: str | None = None
        self.filename: str | None = None

    @property
    def line(self) -> int:
        return self.span.line if self.span else 1

    @property
    def column(self) -> int:
        return self.span.column if self.span else 1

    def locate(self, source: str, filename: str) -> "DiffiError":
        """Attach the source the error happened in (once: the innermost wins)."""
        if self.source is None:
            self.source, self.filename = source, filename
        return self

    def render(self) -> str:
        """The message as the command line shows it: header, location, line and caret."""
        return render("error", self.message, self.span, self.source, self.filename)

    def __str__(self) -> str:
        if self.span is None:
            return self.message
        return f"{self.message} (line {self.span.line}, column {self.span.column})"


class DiffiSyntaxError(DiffiError):
    """The source does not parse."""

    kind = "syntax"
    incomplete = False  # True when more input could complete it (an open bracket)


class DiffiNameError(DiffiError):
    """A name is not defined, or cannot be assigned."""

    kind = "name"


class DiffiTypeError(DiffiError):
    """A value of the wrong type or shape for an operation."""

    kind = "type"



def needs_point(what: str, span: Span | None = None) -> DiffiTypeError:
    """The one error for a derivative formula that cannot be written without values
    (a shape, an index, where a max took its value): it asks for a point."""
    return DiffiTypeError(f"a derivative through {what} needs values: give a point "
                          f"with at", span)

class ArityError(DiffiTypeError):
    """A call with the wrong number of arguments."""

    kind = "arity"


class ShapeError(DiffiTypeError):
    """Tensor shapes that do not fit together."""

    kind = "shape"


class LimitError(DiffiError):
    """A resource limit (depth, nodes, elements, time) was reached."""

    kind = "limit"


class DiffiWarning(UserWarning):
    """A warning from diffi (non-finite values, non-differentiable points)."""


def render(level: str, message: str, span: Span | None, source: str | None,
           filename: str | None) -> str:
    """Draw `level: message`, then ` --> file:line:col` and the line with a caret."""
    head = f"{level}: {message}"
    if span is None:
        return head
    where = f" --> {filename or '<input>'}:{span.line}:{span.column}"
    lines = source_lines(source or "")
    if not 1 <= span.line <= len(lines):
        return f"{head}\n{where}"
    text = lines[span.line - 1]
    number = str(span.line)
    pad = " " * len(number)
    width = span.end_column - span.column if span.end_line == span.line else 1
    width = max(1, min(width, len(text) - span.column + 1))
    # Keep tabs so that the caret lines up under the culprit.
    lead = "".join(c if c == "\t" else " " for c in text[: span.column - 1])
    return "\n".join([head, where, f"{pad} |", f"{number} | {text}",
                      f"{pad} | {lead}{'^' * width}"])


def source_lines(source: str) -> list[str]:
    """A source's lines as diffi counts them: a line ends at \\n (or \\r\\n). No other
    character ends one: a lone \\r and a form feed are spaces to the lexer, and \\v,
    \\x85 or \\u2028 are characters it refuses, on the line they stand on. (Carriage
    returns at a line's end are not shown.)"""
    return [line.rstrip("\r") for line in source.split("\n")]


def format_warning(message: str, span: Span | None) -> str:
    """The one-line form of a warning: `message (line L, column C)`, and `of NAME`
    when the span is in another source than the statement that ran."""
    if span is None:
        return message
    name = getattr(span, "name", "")
    where = f" of {name}" if name else ""
    return f"{message} (line {span.line}, column {span.column}{where})"
