"""The `diffi` command (SPEC §8): scripts, -c, -i, piped input and the REPL.

Running a script imports nothing of the REPL (prompt_toolkit loads only for the REPL, or
for the progress bar of a `minimize` whose stderr is a terminal).
"""
from __future__ import annotations

import argparse
import os
import sys

from .. import __version__
from ..interpreter import Interpreter
from .console import USAGE_ERROR, Console, make_interpreter, run_file, run_source


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
    return start(interpreter, console)


def start(previous: Interpreter, console: Console) -> int:
    """The REPL on this terminal: prompt_toolkit's, or input() when it cannot run here."""
    if console.stdout.isatty() and os.environ.get("TERM") != "dumb":
        from .repl import run_repl  # lazily: prompt_toolkit loads here, never for a script
        return run_repl(previous, console)
    from .session import make_session, plain_loop  # lazily: a script needs no session
    session = make_session(previous, console.stdout, console.stderr)
    return plain_loop(session, _reader(console))


def _reader(console: Console):
    """input() that writes its prompt to the console's stdout (sys.stdout may be gone)."""
    def read(prompt: str) -> str:
        console.stdout.write(prompt)
        console.stdout.flush()
        line = sys.stdin.readline()
        if not line:
            raise EOFError
        return line.rstrip("\n")
    return read
