"""`diffi --json`: a script's output as JSON Lines, one object per line on stdout.

Every object has a "type": "result" (an expression statement's value, and a directive's
report), "print", "warning", "error", "progress" (minimize), "interrupted", and last
"done" with the exit status. docs/json.md describes each field; SCHEMA is its version,
raised only when a field changes meaning or goes away (new fields may appear).
Everything goes to stdout, in the order it happened, so that a reader needs one stream.
"""
from __future__ import annotations

import json
import os
from json.encoder import encode_basestring as encode_string  # a str as JSON (in C)

from .. import table
from ..core.values import number_data, value_data
from ..errors import DiffiError, Span, format_warning
from ..interpreter import Interpreter
from ..language import syntax as S
from .console import USAGE_ERROR, Console, read_script

SCHEMA = 1
# One encoder for every record (json.dumps with options builds a new one each call).
# allow_nan=False: a non-finite number must have become a string (number_data).
ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False)


class JsonConsole(Console):
    """Writes each result, print, warning and error as one JSON object per line."""

    def __init__(self, stdout=None, stderr=None):
        super().__init__(stdout, stderr)
        self.filename = "<input>"

    def emit(self, record: dict) -> None:
        self.stdout.write(ENCODER.encode(record) + "\n")

    def result(self, text: str) -> None:
        self.emit({"type": "output", "text": text})

    def printed(self, text: str, values: list, span: Span | None) -> None:
        """print(…): its line, and each argument (strings as they are, values as data)."""
        items = [v if isinstance(v, str) else value_data(v) for v in values]
        self.emit({"type": "print", **self.position(span), "text": text, "items": items})

    def warning(self, message: str, span: Span | None) -> None:
        self.emit({"type": "warning", **self.position(span), "message": message,
                   "text": f"warning: {format_warning(message, span)}"})

    def error(self, error: DiffiError) -> None:
        record = {"type": "error", "kind": error.kind,
                  **self.position(error.span, error.filename), "message": error.message}
        if error.span is not None:
            record["end_line"] = error.span.end_line
            record["end_column"] = error.span.end_column
        record["text"] = error.render()
        self.emit(record)

    def position(self, span: Span | None, filename: str | None = None) -> dict:
        """Where a record comes from: file, line and column (None when it has no place)."""
        return {"file": filename or self.filename, "line": span.line if span else None,
                "column": span.column if span else None}


class JsonProgress:
    """minimize's progress as records, every tenth of the run (as the plain lines)."""

    def __init__(self, console: JsonConsole):
        self.console = console
        self.steps = 0

    def start(self, steps: int) -> None:
        self.steps = steps

    def update(self, step: int, loss: float) -> None:
        if step * 10 // self.steps > (step - 1) * 10 // self.steps:
            self.console.emit({"type": "progress", "step": step, "steps": self.steps,
                               "loss": number_data(float(loss))})

    def finish(self, interrupted: bool) -> None:
        if interrupted:
            self.console.emit({"type": "progress", "interrupted": True,
                               "text": "interrupted: keeping the weights of the last "
                                       "completed step"})


def make_json_interpreter(console: JsonConsole) -> Interpreter:
    interpreter = Interpreter(output=console.result, warn=console.warning,
                              progress=JsonProgress(console))
    interpreter.evaluator.on_print = console.printed
    return interpreter


def result_record(interpreter: Interpreter, node, stmt, filename: str) -> dict:
    """A statement's result: where, its text as the script prints it, its value as data,
    and for a directive that shows its work, the report's data too."""
    span = stmt.span
    record = {"type": "result", "file": filename, "line": span.line if span else None,
              "column": span.column if span else None,
              "text": interpreter.format_result(node),
              "value": None if node.value is None else value_data(node.value)}
    if node.op is table.REPORT:
        record["directive"] = _directive_kind(stmt.expr)
        record["report"] = node.params.to_data()
    return record


def _directive_kind(expr) -> str | None:
    if isinstance(expr, S.Directive):
        return expr.kind if expr.kind != "explain" else f"explain {expr.inner.kind}"
    return None


def write_result(console: JsonConsole, interpreter: Interpreter, node, stmt,
                 filename: str) -> None:
    """Write a statement's result record. A finite number, most of a script's results,
    is written straight to text: the same line that encoding its record would give,
    for a third of the cost (which keeps --json within 10% of a plain run)."""
    value, span = node.value, stmt.span
    if type(value) is not float or value - value != 0 or span is None \
            or node.op is table.REPORT:
        console.emit(result_record(interpreter, node, stmt, filename))
        return
    text = encode_string(interpreter.format_result(node))
    console.stdout.write(f'{{"type": "result", "file": {encode_string(filename)}, '
                         f'"line": {span.line}, "column": {span.column}, "text": {text}, '
                         f'"value": {{"type": "number", "value": {float.__repr__(value)}}}}}\n')


def run_json(interpreter: Interpreter, console: JsonConsole, source: str,
             filename: str) -> int:
    """Run a program as a script, writing records; the exit status (as run_source)."""
    console.filename = filename

    def show(node, stmt):
        write_result(console, interpreter, node, stmt, filename)
    try:
        interpreter.execute(source, filename, show, with_statement=True)
        status = 1 if interpreter.failed_checks else 0
    except DiffiError as error:
        console.error(error)
        status = 1
    except KeyboardInterrupt:
        console.emit({"type": "interrupted"})
        status = 130
    return done(console, status, interpreter.failed_checks)


def run_json_file(path: str, console: JsonConsole, interpreter: Interpreter) -> int:
    """Run a script file as records; status 2 (with an error record) when it cannot be read."""
    try:
        source = read_script(path)
    except DiffiError as error:
        console.filename = path
        console.error(error)
        return done(console, USAGE_ERROR, 0)
    interpreter.base_dir = os.path.dirname(os.path.abspath(path))
    return run_json(interpreter, console, source, path)


def done(console: JsonConsole, status: int, failed_checks: int) -> int:
    console.emit({"type": "done", "status": status, "failed_checks": failed_checks,
                  "schema": SCHEMA})
    return status
