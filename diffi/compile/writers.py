"""What the two writers of compiled code share: the exceptions and constants of their
interface, the per-key memo they fill per primitive, and `CodeWriter`, which writes
Python source (`BytecodeWriter`, in bytecode.py, assembles CPython 3.11 bytecode).
"""
from __future__ import annotations

import math
import string
from functools import partial

from .. import table


class NotCompilable(Exception):
    """The tape has operations the compiler does not handle (tensors, structure)."""


class Retrace(Exception):
    """A guard failed: an `if` would take another branch at this point."""


# a rule term meaning "the partial is 1": the term is the seed itself
ONE = "the partial is 1"

# Python expressions for operations (templates), where an operator beats a call.
TEMPLATES = {table.ADD: "({0} + {1})", table.SUB: "({0} - {1})", table.MUL: "({0} * {1})",
             table.DIV: "({0} / {1})", table.NEG: "(-{0})", table.POS: "(+{0})",
             table.LT: "({0} < {1})", table.LE: "({0} <= {1})", table.GT: "({0} > {1})",
             table.GE: "({0} >= {1})", table.EQ: "({0} == {1})", table.NE: "({0} != {1})",
             table.NOT: "(not {0})", table.ALIAS: "{0}", table.SELECT: "{1}"}


class Call:
    """A function that code calls as the writers call a primitive's scalar function
    (`ap(Call(name, fn), *args)` writes `fn(*args)`): a series rule, a kink's test."""

    __slots__ = ("name", "scalar")

    def __init__(self, name: str, function):
        self.name, self.scalar = name, function


def mark_read(writer, names) -> None:
    """Tell a writer that code written so far reads these locals (so that the value's
    code keeps them, not fusing them away): CodeWriter keeps the set; BytecodeWriter
    knows every local its code loads already."""
    if isinstance(writer.used, set):
        writer.used.update(name for name in names if isinstance(name, str))


class PerKey(dict):
    """A dict that makes a missing value with `make(key)` (once per key)."""

    def __init__(self, make):
        super().__init__()
        self.make = make

    def __missing__(self, key):
        value = self[key] = self.make(key)
        return value


class CodeWriter:
    """Writes a tape's functions as Python source; `ap` is the rules' backend that
    writes expressions. `BytecodeWriter` (bytecode.py) has the same interface."""

    def __init__(self):
        self.namespace: dict = {"_Retrace": Retrace}
        self.functions: dict = {}
        self.used: set = set()  # the locals that templates' code reads (see BytecodeWriter)
        self.emitters = PerKey(lambda prim: partial(self.ap, prim))
        # a ** b (the value's code, for a whole-number constant b: see scalar._fused_lines)
        self.power = lambda a, b: f"({self.arg(a)} ** {self.arg(b)})"

    def literal(self, value) -> str:
        if type(value) is bool:
            return "True" if value else "False"
        value = float(value)
        if math.isfinite(value):
            return repr(value)
        name = f"_c{len(self.namespace)}"
        self.namespace[name] = value
        return name

    def arg(self, value) -> str:
        return value if isinstance(value, str) else self.literal(value)

    def ap(self, prim, *args) -> str:
        """The Python expression for prim(*args) (args: code strings or numbers)."""
        args = [self.arg(a) for a in args]
        template = TEMPLATES.get(prim)
        if template is not None:
            return template.format(*args)
        if prim.scalar is None:
            raise NotCompilable(prim.name)
        name = self.functions.get(prim.name)
        if name is None:
            name = self.functions[prim.name] = f"_f_{prim.name}"
            self.namespace[name] = prim.scalar
        return f"{name}({', '.join(args)})"

    def pack(self, *items) -> str:
        return f"({''.join(self.arg(i) + ', ' for i in items)})"

    def slots(self, count: int) -> list[str]:
        """Placeholders for `template`."""
        return [f"{{{k}}}" for k in range(count)]

    def template(self, expr):
        """`fill(*args)`: expr (written on `slots`) with slot k replaced by args[k], a
        local's name or a constant."""
        text = self.arg(expr)
        used = {int(field) for _, field, _, _ in string.Formatter().parse(text) if field}

        def fill(*args):
            args = [self.arg(a) for a in args]
            self.used.update(args[k] for k in used)
            return text.format(*args)
        return fill

    def assign(self, target: str, expr) -> str:
        return f"{target} = {self.arg(expr)}"

    def add_to(self, target: str, expr) -> str:
        return f"{target} += {self.arg(expr)}"

    def guard(self, test: str, raise_when: bool) -> str:
        return f"if {'' if raise_when else 'not '}{self.arg(test)}: raise _Retrace"

    def function(self, name: str, params: list[str], lines: list[str], result):
        body = "\n".join(f"    {line}" for line in lines + [f"return {self.arg(result)}"])
        source = f"def {name}({', '.join(params)}):\n{body}\n"
        exec(compile(source, "<diffi tape>", "exec"), self.namespace)
        return self.namespace[name]


def refuse_decided(tape) -> None:
    """NotCompilable when a directive's result in the tape took an `if` branch that its
    formula keeps no test of (core.tape.Tape.decided): code over it could not check it."""
    if tape.decided:
        raise NotCompilable("a directive inside took an if branch its result cannot test")
