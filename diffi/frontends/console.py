"""What the front ends share to run programs: the Console that results, warnings and
errors go to, an interpreter wired to it (with minimize's progress), and a program or a
file run as a script.
"""
from __future__ import annotations

import os
import sys

from ..errors import DiffiError, format_warning
from ..interpreter import Interpreter
from .progress import LineProgress, TerminalProgress

USAGE_ERROR = 2


class Console:
    """Where results, warnings and errors go: stdout for results, stderr for the rest."""

    def __init__(self, stdout=None, stderr=None):
        # a closed descriptor (diffi >&-) leaves sys.stdout None: its output is dropped
        self.stdout = stdout or sys.stdout or open(os.devnull, "w", encoding="utf-8")
        self.stderr = stderr or sys.stderr or open(os.devnull, "w", encoding="utf-8")

    def result(self, text: str) -> None:
        print(text, file=self.stdout)

    def warning(self, message: str, span) -> None:
        self.stdout.flush()
        print(f"warning: {format_warning(message, span)}", file=self.stderr)
        self.stderr.flush()

    def error(self, error: DiffiError) -> None:
        self.stdout.flush()
        print(error.render(), file=self.stderr)
        self.stderr.flush()


# The command and the REPL are the user's own tools: files on, no timeout (Ctrl-C stops
# a statement) and no bound on the tensor data held; the other limits as in the API.
COMMAND_LIMITS = dict(files=True, timeout=None, run_timeout=None, max_memory=None)


def make_interpreter(console: Console) -> Interpreter:
    return Interpreter(output=console.result, warn=console.warning,
                       progress=make_progress(console), **COMMAND_LIMITS)


def make_progress(console: Console):
    """minimize's progress: a bar on a terminal, else a line every tenth of the run."""
    if getattr(console.stderr, "isatty", lambda: False)():
        return TerminalProgress(console.stderr)  # (prompt_toolkit loads when it starts)

    def write(text: str) -> None:
        console.stdout.flush()
        print(text, file=console.stderr)
    return LineProgress(write)


def run_source(interpreter: Interpreter, console: Console, source: str, filename: str) -> int:
    """Run a whole program as a script; the exit status (0 or 1)."""
    try:
        interpreter.execute(source, filename, interpreter.show)
    except DiffiError as error:
        console.error(error)
        return 1
    except KeyboardInterrupt:
        console.stdout.flush()
        print("interrupted", file=console.stderr)
        return 130
    return 1 if interpreter.failed_checks else 0


def read_script(path: str) -> str:
    """A script's text; a DiffiError saying why when it cannot be read."""
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError) as error:
        raise DiffiError(f"cannot read {path}: "
                         f"{getattr(error, 'strerror', None) or error}") from None


def run_file(path: str, console: Console, interpreter: Interpreter | None = None) -> int:
    """Run a script file; the exit status (2 when it cannot be read)."""
    interpreter = interpreter or make_interpreter(console)
    try:
        source = read_script(path)
    except DiffiError as error:
        print(f"diffi: {error.render()}", file=console.stderr)
        return USAGE_ERROR
    interpreter.base_dir = os.path.dirname(os.path.abspath(path))
    return run_source(interpreter, console, source, path)
