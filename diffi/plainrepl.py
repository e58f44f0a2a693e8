"""A line-reading REPL for terminals (input() with continuation lines while brackets are open)."""
from __future__ import annotations

from .commands import Quit, run_command
from .errors import DiffiError
from .parser import is_incomplete
from .values import format_value

PROMPT, MORE = "diffi> ", "  ...> "


def plain_repl(interpreter, console) -> int:
    """Read, evaluate, print until :quit or end of input."""
    def show(node):
        console.result(interpreter.format_result(node))

    def run(source: str, filename: str) -> None:
        try:
            interpreter.execute(source, filename, show)
        except DiffiError as error:
            console.error(error)
        except KeyboardInterrupt:
            console.result("interrupted")

    def run_file(path: str) -> None:
        with open(path, encoding="utf-8") as handle:
            run(handle.read(), path)

    buffer = ""
    while True:
        try:
            line = input(MORE if buffer else PROMPT)
        except EOFError:
            console.result("")
            return 0
        except KeyboardInterrupt:
            console.result("")
            buffer = ""
            continue
        if not buffer and line.strip().startswith(":"):
            try:
                run_command(line, interpreter, console, run_file)
            except Quit:
                return 0
            except (DiffiError, OSError) as error:
                console.error(error if isinstance(error, DiffiError) else DiffiError(str(error)))
            continue
        buffer += line + "\n"
        if is_incomplete(buffer):
            continue
        source, buffer = buffer, ""
        run(source, "<repl>")
