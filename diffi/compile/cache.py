"""Compiled tapes per function: a function is compiled on its second call, and its
tapes are used while they hold (see scalar.py); otherwise the caller traces.
"""
from __future__ import annotations

import math
import weakref

from ..core.tape import Tape
from .scalar import Compiled, compile_function, reads_hold
from .writers import NotCompilable, Retrace


class Cache:
    """Compiled tapes per function; a function is compiled on its second call."""

    MAX_VARIANTS = 8  # tapes per function (one per pattern of `if` branches)

    def __init__(self):
        # fn -> [fn, calls, [Compiled, ...]]; weak, so that a function no longer reachable
        # (a closure made by a call) takes its tapes with it
        self.entries = weakref.WeakKeyDictionary()
        self.pending: dict[int, Compiled] = {}  # id(fn) -> its first call's tape
        self.used: Compiled | None = None  # the tape of the last result run gave

    def remember(self, fn, inputs, output, reads) -> None:
        """Keep the graph of a first call, so that the second call need not trace again."""
        entry = self.entries.get(fn)
        if entry is not None and entry[1] == 1 and not entry[2] \
                and type(output.value) is float:
            self.pending = {id(fn): (Tape([output], inputs), reads)}

    def run(self, ev, fn, args: tuple, gradient, compile: bool = True):
        """fn's value at args by compiled code, or None to trace instead.

        gradient: False (the value), True (value and gradient), or a tuple of seeds
        (value and the tangent along them: forward mode). With compile=False only a
        tape compiled already is tried (nothing is traced, the call is not counted).
        """
        if ev.point is not None or fn.scope is not None \
                or not all(type(a) is float for a in args):
            return None  # (a closure's captured names are not guarded: never compiled)
        entry = self.entries.get(fn)
        if entry is None:
            if not compile:
                return None
            entry = self.entries[fn] = [None, 0, []]
        entry[1] += compile
        entry[2] = [c for c in entry[2] if c.valid(ev.globals.vars)]
        for compiled in entry[2]:
            result = _attempt(compiled, args, gradient)
            if result is not None:
                self.used = compiled
                return result
        if not compile or entry[1] < 2 or len(entry[2]) >= self.MAX_VARIANTS:
            return None
        try:
            pending = self.pending.pop(id(fn), None)
            compiled = Compiled(*pending) if pending and reads_hold(pending[1], ev.globals.vars) \
                else None
            compiled = compiled or compile_function(ev, fn, args)
        except (NotCompilable, RecursionError):
            entry[2], entry[1] = [], -10**9  # never worth trying again
            return None
        entry[2].append(compiled)
        self.used = compiled
        return _attempt(compiled, args, gradient)


def _attempt(compiled: Compiled, args: tuple, gradient: bool):
    """The compiled result, or None when a guard fails or a float exception (or a
    non-finite result, which the interpreter must warn about) happens."""
    try:
        if gradient is True:
            result = compiled.value_and_grad(*args)
            total = result[0] + math.fsum(result[1])
        elif gradient:
            result = compiled.value_and_tangent(*args, *gradient)
            total = result[0] + result[1]
        else:
            result = total = compiled.value(*args)
    except (Retrace, ArithmeticError, ValueError, NotCompilable):
        return None
    if type(total) is not float or total - total != 0:  # non-finite: the interpreter warns
        return None
    return result
