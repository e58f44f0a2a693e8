"""The `diffi` command: scripts, -c, -, -i, --json, piped input and the REPL.

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

EXAMPLES = """\
examples:
  diffi                            start the REPL
  diffi examples/tour.dfi          run a script: each expression statement prints its value
  diffi -c "d/dx x^2 at x = 3"     run the source given (prints 6)
  diffi -i model.dfi               run a script, then stay in the REPL with its names
  diffi - < model.dfi              run standard input as a script
  diffi --json model.dfi           one JSON object per line: results, prints, warnings,
                                   errors (with positions) and check reports
"""

EPILOG = """\
With no FILE and no -c, diffi starts the REPL (or runs standard input as a script
when it is not a terminal). A relative file name in load, save and graph … to starts
from the script's folder (from the working directory for -c and -).

exit status:
  0    every statement ran and every check agreed
  1    an error stopped the program, or a check found the modes disagreeing
  2    bad usage, or a script that cannot be read
  130  interrupted by Ctrl-C

environment:
  XDG_STATE_HOME    the REPL keeps its history in $XDG_STATE_HOME/diffi/history
                    (~/.local/state/diffi/history when it is not set)
  TERM              TERM=dumb: the REPL reads plain lines (no colours, completion
                    or history file)
  NO_COLOR          when set, the REPL shows no colours
  PROMPT_TOOLKIT_COLOR_DEPTH
                    the REPL's colours: DEPTH_1_BIT (none) to DEPTH_24_BIT
  VISUAL, EDITOR    the editor that Ctrl-X Ctrl-E opens in the REPL
  COLUMNS           the width the REPL fits tables and :vars to, when the terminal
                    does not tell
"""


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="diffi", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="diffi: a math language that differentiates its programs\n"
                    "(forward, reverse, numeric and symbolic).\n\n" + EXAMPLES,
        epilog=EPILOG)
    parser.add_argument("file", nargs="?", metavar="FILE",
                        help="a .dfi script to run; - reads the script from standard input")
    parser.add_argument("-c", dest="source", metavar="SOURCE", help="run SOURCE and exit")
    parser.add_argument("-i", dest="interactive", action="store_true",
                        help="run FILE or SOURCE, then stay in the REPL with its names")
    parser.add_argument("--json", action="store_true",
                        help="write one JSON object per line (results, prints, warnings, "
                             "errors, check reports) instead of text; see docs/json.md")
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
    if args.source is not None and args.file:
        print("diffi: error: give either FILE or -c SOURCE, not both", file=sys.stderr)
        return USAGE_ERROR
    if args.json:
        return _json(args)
    console = Console()
    interpreter = make_interpreter(console)
    if args.source is not None:
        status = run_source(interpreter, console, args.source, "<string>")
    elif args.file == "-":
        status = run_source(interpreter, console, sys.stdin.read(), "<stdin>")
    elif args.file:
        status = run_file(args.file, console, interpreter)
        if status == USAGE_ERROR:
            return status
    else:
        return repl(interpreter, console)
    return repl(interpreter, console) if args.interactive else status


def _json(args) -> int:
    """--json: a script (FILE, -c or -) written as JSON Lines; never the REPL."""
    if args.interactive:
        print("diffi: error: --json runs a script; it does not go on to the REPL (-i)",
              file=sys.stderr)
        return USAGE_ERROR
    if args.source is None and not args.file and sys.stdin.isatty():
        print("diffi: error: --json runs a script: give FILE, -c SOURCE or - "
              "(standard input)", file=sys.stderr)
        return USAGE_ERROR
    # lazily: a plain script loads neither this module nor Python's json
    from .json_output import JsonConsole, make_json_interpreter, run_json, run_json_file
    console = JsonConsole()
    interpreter = make_json_interpreter(console)
    if args.source is not None:
        return run_json(interpreter, console, args.source, "<string>")
    if args.file and args.file != "-":
        return run_json_file(args.file, console, interpreter)
    return run_json(interpreter, console, sys.stdin.read(), "<stdin>")


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
