"""The REPL's `:` commands, shared by every front end: `:help`, `:vars`, `:load`, …

A command writes through the session's console (`console.result`) and reports a
mistake as a DiffiError, so that it is shown like any other error.
"""
from __future__ import annotations

import os
import shutil
import tempfile

from ..core.values import Function, display_width, kind_of, pad
from ..errors import DiffiError, format_warning
from ..interpreter import Interpreter
from . import topics
from .completion import is_command, shape_of, short
from .console import read_script

PROMPT = "diffi> "
PREVIEW = 12  # tensor elements shown by :vars


class Quit(Exception):
    """Raised by :quit."""


def terminal_width() -> int:
    """Columns of the terminal (80 when there is none)."""
    return shutil.get_terminal_size((80, 24)).columns


def run_command(line: str, interpreter, console, run_file, width: int | None = None) -> None:
    """Carry out one `:` command line; errors are reported as DiffiError."""
    name, _, argument = line.strip().partition(" ")
    action = ACTIONS.get(topics.canonical(name))
    if action is None:
        raise DiffiError(f"unknown command '{name}'; try :help")
    action(argument.strip(), interpreter, console, run_file, width or terminal_width())


def _quit(argument, interpreter, console, run_file, width) -> None:
    raise Quit


def _vars(argument, interpreter, console, run_file, width) -> None:
    for row in vars_table(interpreter, width):
        console.result(row)


def _reset(argument, interpreter, console, run_file, width) -> None:
    interpreter.reset()


def _precision(argument, interpreter, console, run_file, width) -> None:
    if not argument:
        console.result(f"precision: {interpreter.precision} significant digits")
        return
    if not argument.isdigit() or not 1 <= int(argument) <= 17:
        raise DiffiError(":precision takes a whole number from 1 to 17")
    interpreter.precision = int(argument)


def _format(argument, interpreter, console, run_file, width) -> None:
    if not argument:
        console.result(f"format: {interpreter.style}")
        return
    if argument not in STYLES:
        raise DiffiError(f":format takes {' or '.join(STYLES)}")
    interpreter.style = argument


STYLES = ("text", "latex")  # how :format shows results: as diffi prints them, or LaTeX


def _threshold(argument, interpreter, console, run_file, width) -> None:
    if not argument:
        setting = interpreter.threshold
        console.result("threshold: " + ("off (tensors print whole)" if setting is None else
                                        f"tensors of more than {setting} elements print "
                                        "summarised"))
        return
    if argument == "off":
        interpreter.threshold = None
    elif argument.isdigit() and len(argument) <= 12:
        interpreter.threshold = int(argument)
    else:
        raise DiffiError(":threshold takes a whole number of elements, or off")


def _load(argument, interpreter, console, run_file, width) -> None:
    path = argument.strip("\"'")
    if not path:
        raise DiffiError(":load takes a file name: :load model.dfi")
    run_file(os.path.expanduser(path))


def _help(argument, interpreter, console, run_file, width) -> None:
    console.result(help_text(argument, width))


ACTIONS = {":quit": _quit, ":vars": _vars, ":reset": _reset, ":precision": _precision,
           ":threshold": _threshold, ":load": _load, ":help": _help, ":format": _format}


# :vars ---------------------------------------------------------------------------------

def vars_table(interpreter, width: int = 80) -> list[str]:
    """One aligned row per defined name: name, kind, shape, value (cut to the width)."""
    rows = [(name, kind_of(b.node.value), shape_of(b.node.value), b.node.value)
            for name, b in interpreter.globals.items()]
    if not rows:
        return ["(no names defined)"]
    rows.insert(0, ("name", "kind", "shape", None))
    widths = [max(display_width(r[i]) for r in rows) for i in range(3)]
    lines = []
    for name, kind, shape, value in rows:
        head = f"{pad(name, widths[0])}  {pad(kind, widths[1])}  {pad(shape, widths[2])}  "
        text = "value" if value is None else preview(interpreter, value)
        lines.append((head + short(text, max(10, width - display_width(head) - 1))).rstrip())
    return lines


def preview(interpreter, value) -> str:
    """A value on one line; a big tensor by its first elements."""
    if isinstance(value, Function):
        return str(value)
    size = getattr(value, "size", 0)
    if size > PREVIEW:
        head = interpreter.format(value.reshape(-1)[:PREVIEW])
        return head[:-1] + ", …]"
    return " ".join(interpreter.format(value).split())


# :help ---------------------------------------------------------------------------------

def help_text(name: str, width: int = 80) -> str:
    """The overview, or one topic with its example and the example's real output."""
    if not name:
        return topics.overview(width)
    topic = topics.lookup(name)
    if topic is None:
        near = topics.suggestions(name)
        hint = f"; did you mean {' or '.join(near)}?" if near else "; :help lists the topics"
        raise DiffiError(f"no help on '{name}'{hint}")
    lines = [topic.signature, f"  {topic.summary}"]
    if topic.details:
        lines += [""] + [f"  {line}" for line in topic.details.splitlines()]
    transcript, error = run_example(topic)
    if transcript:
        lines += [""]
        for file, text in topic.files:
            lines += [f"{file} holds:"] + [f"  {line}" for line in text.splitlines()]
        lines += ["example:"] + [f"  {line}".rstrip() for line in transcript]
    return "\n".join(lines)


class Capture:
    """A console that keeps what a help example prints, in order."""

    def __init__(self):
        self.lines: list[str] = []

    def result(self, text: str) -> None:
        self.lines.extend(text.splitlines() or [""])

    def warning(self, message: str, span) -> None:
        self.lines.append(f"warning: {format_warning(message, span)}")  # (as Console does)

    def error(self, error: DiffiError) -> None:
        self.lines.extend(error.render().splitlines())


def run_example(topic: topics.Topic) -> tuple[list[str], DiffiError | None]:
    """Run a topic's example in a fresh interpreter: (transcript, the error that stopped it)."""
    console = Capture()
    with tempfile.TemporaryDirectory(prefix="diffi-help-") as folder:
        for name, text in topic.files:
            with open(os.path.join(folder, name), "w", encoding="utf-8") as handle:
                handle.write(text)
        # files only in the example's own folder; time as in the REPL
        interpreter = Interpreter(output=console.result, warn=console.warning, files=folder,
                                  timeout=None, run_timeout=None, max_memory=None)
        try:
            for line in topic.example:
                console.lines.append(PROMPT + line)
                _example_line(line, interpreter, console, folder)
        except Quit:
            pass
        except DiffiError as error:
            console.error(error)
            return console.lines, error
    return console.lines, None


def _example_line(line: str, interpreter, console, folder: str) -> None:
    def run_file(path: str) -> None:
        interpreter.execute(read_script(os.path.join(folder, path)), path, interpreter.show)

    if is_command(line):
        run_command(line, interpreter, console, run_file)
    else:
        interpreter.execute(line, "<example>", interpreter.show)
