"""The `diffi` command (SPEC §8): scripts, -c, -i, piped input and the REPL.

Running a script imports nothing of the REPL (prompt_toolkit loads only for the REPL, or
for the progress bar of a `minimize` whose stderr is a terminal).
"""
from __future__ import annotations

import argparse
import os
import sys

from .. import __version__
from ..errors import DiffiError, format_warning
from ..interpreter import Interpreter

USAGE_ERROR = 2


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="diffi",
        description="diffi: a math language that differentiates its programs "
                    "(forward, reverse, numeric and symbolic).",
        epilog="With no FILE and no -c, diffi starts the REPL "
               "(or runs standard input as a script when it is not a terminal).")
    parser.add_argument("file", nargs="?", metavar="FILE", help="a .dfi script to run")
    parser.add_argument("-c", dest="source", metavar="SOURCE", help="run SOURCE and exit")
    parser.add_argument("-i", dest="interactive", action="store_true",
                        help="run FILE, then stay in the REPL with its variables")
    parser.add_argument("--version", action="version", version=f"diffi {__version__}")
    return parser


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


def make_interpreter(console: Console) -> Interpreter:
    return Interpreter(output=console.result, warn=console.warning,
                       progress=make_progress(console))


def make_progress(console: Console):
    """minimize's progress: a bar on a terminal, else a line every tenth of the run."""
    from .progress import LineProgress
    if getattr(console.stderr, "isatty", lambda: False)():
        from .progress import TerminalProgress  # prompt_toolkit, only on a terminal
        return TerminalProgress(console.stderr)

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


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `diffi` command; returns the exit status."""
    try:
        return _main(argv)
    except BrokenPipeError:  # diffi … | head: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def entry() -> None:
    """The `diffi` command and `python -m diffi`: main, then a quick exit.

    A script's graph can hold millions of objects, and tearing them down one by one
    at exit can take longer than running the script did, so once the output is
    flushed the process ends without that teardown (as mypy's command does).
    """
    status = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:  # (None when the descriptor was closed: diffi >&-)
                stream.flush()
        except BrokenPipeError:  # the reader left: nothing more can be said
            status = status or 1
        except (OSError, ValueError):
            pass
    os._exit(status)


def _main(argv: list[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "-c" in argv:  # like python -c: the next word is the source, even if it starts with -
        i = argv.index("-c")
        if i + 1 < len(argv):
            argv[i:i + 2] = ["-c" + argv[i + 1]] if argv[i + 1] else ["-c", ""]
    args = make_parser().parse_args(argv)
    console = Console()
    interpreter = make_interpreter(console)
    if args.source is not None:
        if args.file:
            print("diffi: error: give either FILE or -c SOURCE, not both", file=sys.stderr)
            return USAGE_ERROR
        status = run_source(interpreter, console, args.source, "<string>")
        return repl(interpreter, console) if args.interactive else status
    if args.file:
        status = run_file(args.file, console, interpreter)
        if status == USAGE_ERROR:
            return status
        return repl(interpreter, console) if args.interactive else status
    return repl(interpreter, console)


def repl(interpreter: Interpreter, console: Console) -> int:
    """The REPL on a terminal; standard input runs as a script when it is not one."""
    if not sys.stdin.isatty():
        return run_source(interpreter, console, sys.stdin.read(), "<stdin>")
    from .session import start  # prompt_toolkit loads here, never for a script
    return start(interpreter, console)
