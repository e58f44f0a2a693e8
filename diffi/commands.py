"""The REPL's `:` commands, shared by every front end: `:help`, `:vars`, `:load`, …"""
from __future__ import annotations

import os

from .errors import DiffiError

COMMANDS = {
    ":help": ":help [topic]  an overview, or help on a directive, built-in or command",
    ":vars": ":vars          the names defined so far, their kinds and values",
    ":load": ":load FILE     run a script in this session",
    ":reset": ":reset         forget every name defined",
    ":precision": ":precision N   print numbers with N significant digits (1–17)",
    ":quit": ":quit          leave (Ctrl-D too)",
}


class Quit(Exception):
    """Raised by :quit."""


def run_command(line: str, interpreter, console, run_file) -> None:
    """Carry out one `:` command line; errors are reported as DiffiError."""
    name, _, argument = line.strip().partition(" ")
    argument = argument.strip()
    if name == ":quit" or name == ":q":
        raise Quit
    if name == ":vars":
        rows = interpreter.variables()
        width = max((len(n) for n, _, _ in rows), default=0)
        for n, kind, text in rows:
            first = text.splitlines()[0] if text else ""
            console.result(f"{n.ljust(width)}  {kind:<8}  {first}")
        return
    if name == ":reset":
        interpreter.reset()
        return
    if name == ":precision":
        if not argument.isdigit() or not 1 <= int(argument) <= 17:
            raise DiffiError(":precision takes a whole number from 1 to 17")
        interpreter.precision = int(argument)
        return
    if name == ":load":
        if not argument:
            raise DiffiError(":load takes a file name")
        run_file(os.path.expanduser(argument))
        return
    if name == ":help":
        console.result("\n".join(COMMANDS.values()) if not argument else
                       COMMANDS.get(":" + argument.lstrip(":"), f"no help on '{argument}'"))
        return
    raise DiffiError(f"unknown command '{name}'; try :help")
