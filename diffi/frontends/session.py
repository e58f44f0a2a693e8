"""A REPL session, whatever front end reads its lines: run input, keep state, show results.

The prompt_toolkit front end is repl.py; `plain_loop` here reads with input() when
the terminal cannot host it. Every input is kept in a transcript and run at its own line
numbers, so that an error inside a function defined three inputs ago still shows that
input's line with the caret under the culprit.
"""
from __future__ import annotations

import bisect
import os
import unicodedata
from dataclasses import dataclass

from .. import table
from ..core.values import display_width
from ..errors import DiffiError, Span, format_warning, render
from ..interpreter import Interpreter
from ..language.parser import is_incomplete
from .commands import PROMPT, Quit, run_command, terminal_width
from .completion import is_command
from .console import Console, make_progress, read_script

MORE = "  ...> "
# After `diffi -i FILE`, the file's spans use lines 1, 2, …; the session's inputs start
# far beyond them so that a span tells which source it belongs to.
FIRST_LINE_AFTER_SCRIPT = 10_001
MIN_FORMULA = 12  # a trace's formula column is never cut narrower than this


@dataclass(frozen=True, slots=True)
class Segment:
    """One input of the session (or a loaded file) and the line it starts at."""

    start: int
    source: str
    label: str

    @property
    def lines(self) -> int:
        return self.source.count("\n") + 1


class Transcript:
    """Every source the session ran, laid end to end: a line number names its input."""

    def __init__(self, first_line: int = 1):
        self.segments: list[Segment] = []
        self.next_line = first_line
        self.inputs = 0

    def add(self, source: str, label: str | None = None) -> tuple[str, str]:
        """Record a source; (the text to run, padded to its lines, and its label)."""
        if label is None:
            self.inputs += 1
            label = f"REPL[{self.inputs}]"
        segment = Segment(self.next_line, source, label)
        self.segments.append(segment)
        self.next_line += segment.lines
        return "\n" * (segment.start - 1) + source, label

    def locate(self, span: Span | None) -> tuple[Segment | None, Span | None]:
        """The input a span lies in, and the span counted from that input's first line."""
        if span is None:
            return None, None
        i = bisect.bisect_right([s.start for s in self.segments], span.line) - 1
        if i < 0 or span.line >= self.segments[i].start + self.segments[i].lines:
            return None, span
        shift = self.segments[i].start - 1
        return self.segments[i], Span(span.line - shift, span.column,
                                      span.end_line - shift, span.end_column)


def write_plain(stream, fragments) -> None:
    """Write styled fragments without their styles."""
    stream.write("".join(text for _, text in fragments) + "\n")
    stream.flush()


class ReplConsole(Console):
    """Results, warnings and errors of a session, in colour when `paint` can."""

    def __init__(self, transcript: Transcript, stdout=None, stderr=None, paint=None,
                 width=None):
        super().__init__(stdout, stderr)
        self.transcript = transcript
        self.paint = paint or write_plain
        self.width = width or terminal_width

    def result(self, text: str, report=None) -> None:
        self.paint(self.stdout, result_fragments(fit(text, self.width()), report))

    def warning(self, message: str, span) -> None:
        _, local = self.transcript.locate(span)
        self.stdout.flush()
        self.paint(self.stderr, [("class:warning", f"warning: {format_warning(message, local)}")])

    def error(self, error: DiffiError) -> None:
        self.stdout.flush()
        self.paint(self.stderr, error_fragments(self.render(error)))

    def note(self, text: str) -> None:
        self.stdout.flush()
        self.paint(self.stderr, [("class:note", text)])

    def render(self, error: DiffiError) -> str:
        """The error drawn against the input its span lies in."""
        if error.span is None:
            return f"error: {error.message}"
        segment, span = self.transcript.locate(error.span)
        if segment is None:
            return render("error", error.message, error.span, None, "<script>")
        return render("error", error.message, span, segment.source, segment.label)


class Session:
    """An interpreter, its console and its transcript: what `handle` needs to run input."""

    def __init__(self, interpreter: Interpreter, console: ReplConsole, transcript: Transcript):
        self.interpreter = interpreter
        self.console = console
        self.transcript = transcript

    def handle(self, text: str) -> bool:
        """Run one input (source or `:` command); False when the session should end."""
        if not text.strip():
            return True
        try:
            if is_command(text):
                self.command(text)
            else:
                self.run(text)
        except Quit:
            return False
        except KeyboardInterrupt:  # the statement left no trace: bindings happen at its end
            self.console.note("interrupted")
        return True

    def run(self, source: str, label: str | None = None) -> None:
        """Run source as a script would, showing results and the first error."""
        padded, label = self.transcript.add(source, label)
        try:
            self.interpreter.execute(padded, label, self.show)
        except DiffiError as error:
            self.console.error(error)

    def show(self, node) -> None:
        report = node.params if node.op is table.REPORT else None
        self.console.result(self.interpreter.format_result(node), report)

    def command(self, line: str) -> None:
        """Carry out a `:` command, showing its mistakes as errors."""
        try:
            run_command(line, self.interpreter, self.console, self.run_file,
                        self.console.width())
        except DiffiError as error:
            self.console.error(error)

    def run_file(self, path: str) -> None:
        """`:load`: run a script; its relative file names start from its folder."""
        source = read_script(path)
        interpreter = self.interpreter
        folder, interpreter.base_dir = interpreter.base_dir, os.path.dirname(os.path.abspath(path))
        try:
            self.run(source, path)
        finally:
            interpreter.base_dir = folder


def make_session(previous: Interpreter | None = None, stdout=None, stderr=None,
                 paint=None, width=None) -> Session:
    """A session with its own console; it takes over the names `previous` defined."""
    first = FIRST_LINE_AFTER_SCRIPT if previous is not None and previous.globals else 1
    transcript = Transcript(first)
    console = ReplConsole(transcript, stdout, stderr, paint, width)
    interpreter = Interpreter(output=console.result, warn=console.warning,
                              progress=make_progress(console))
    if previous is not None:
        interpreter.globals.update(previous.globals)
        interpreter.precision = previous.precision
        interpreter.threshold = previous.threshold
        interpreter.evaluator.random = previous.evaluator.random  # randn goes on, not anew
    return Session(interpreter, console, transcript)


def plain_loop(session: Session, read=input) -> int:
    """Read lines with input(), continuing while a bracket is open, until :quit or EOF."""
    buffer = ""
    while True:
        try:
            line = read(MORE if buffer else PROMPT)
        except EOFError:
            print()
            return 0
        except KeyboardInterrupt:
            print()
            buffer = ""
            continue
        buffer += line + "\n"
        if not is_command(buffer) and is_incomplete(buffer):
            continue
        text, buffer = buffer, ""
        if not session.handle(text):
            return 0


# How results look --------------------------------------------------------------------------

def cut(text: str, width: int) -> str:
    """The text in at most `width` columns, ending in '…' when it was longer."""
    if display_width(text) <= width:
        return text
    kept, used = [], 0
    for c in text:
        used += 0 if unicodedata.combining(c) else 1
        if used > width - 1:
            break
        kept.append(c)
    return "".join(kept) + "…"


def fit(text: str, width: int) -> str:
    """Narrow the formula column of trace tables (`  a5 = a4 + w0 = 7`) to the terminal."""
    lines = text.split("\n")
    if all(display_width(line) <= width for line in lines):
        return text
    out, block = [], []
    for line in lines + [None]:
        if line is not None and line.startswith("  ") and " = " in line:
            block.append(line)
            continue
        out += _fit_rows(block, width)
        block = []
        if line is not None:
            out.append(line)
    return "\n".join(out)


def _fit_rows(rows: list[str], width: int) -> list[str]:
    """Cut the middle column of one aligned table so that its rows fit, values intact."""
    parts = [row.split(" = ") for row in rows]
    formulas = [display_width(" = ".join(p[1:-1])) for p in parts if len(p) >= 3]
    excess = max((display_width(r) for r in rows), default=0) - width
    if excess <= 0 or not formulas:
        return rows
    room = max(MIN_FORMULA, max(formulas) - excess)
    fitted = []
    for row, p in zip(rows, parts):
        if len(p) < 3:
            fitted.append(row)
            continue
        formula = cut(" = ".join(p[1:-1]).rstrip(), room)
        fitted.append(" = ".join([p[0], formula + " " * (room - display_width(formula)), p[-1]]))
    return fitted


def result_fragments(text: str, report=None) -> list[tuple[str, str]]:
    """A result's lines with styles: a directive report's headings (its unindented
    lines) bold, and a check's verdict green or red; any other result plain."""
    lines = text.split("\n")
    fragments = []
    for i, line in enumerate(lines):
        style = ""
        if report is not None and i == report.verdict:
            style = "class:good" if report.ok else "class:bad"
        elif report is not None and len(lines) > 1 and line and not line[0].isspace() \
                and line[0] not in "[(":
            style = "class:heading"
        fragments.append((style, line + ("\n" if i < len(lines) - 1 else "")))
    return fragments


def error_fragments(text: str) -> list[tuple[str, str]]:
    """An error's lines with styles: the message and the caret red."""
    lines = text.split("\n")
    fragments = []
    for i, line in enumerate(lines):
        end = "\n" if i < len(lines) - 1 else ""
        gutter, bar, rest = line.partition("| ")
        if i == 0:
            fragments.append(("class:error", line + end))
        elif bar and rest.strip() and set(rest.strip()) == {"^"}:
            fragments += [("", gutter + bar), ("class:caret", rest + end)]
        else:
            fragments.append(("", line + end))
    return fragments
