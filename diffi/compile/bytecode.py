"""Writing a compiled tape as CPython 3.11 bytecode, without Python's compiler.

`compile()` costs about 10 µs per operation of source, so the gradient of a
100,000-operation function took seconds to compile. `BytecodeWriter` has the interface
of the compiler's source writer (`ap`, `arg`, `literal`, `assign`, `add_to`, `guard`,
`pack`, `function`; `slots` and `template` for rules written once per primitive;
`emitters`, per primitive the function behind `ap`; `used`), but an expression is a
fragment of finished bytecode with the stack depth it needs:
`ap` concatenates its arguments' fragments and appends one instruction, so a
function is assembled in one pass, in time linear in its operations.

The instruction set changes with every Python minor version (3.12 dropped PRECALL,
for one), so `SUPPORTED` is true only on 3.11; elsewhere the compiler writes source.
Opcodes and inline-cache sizes are read from the `opcode` module, not written here.
"""
from __future__ import annotations

import opcode
import sys
import types

from .. import table
from .writers import NotCompilable, PerKey

SUPPORTED = sys.version_info[:2] == (3, 11) and sys.implementation.name == "cpython"

_OP = opcode.opmap
_CACHES = getattr(opcode, "_inline_cache_entries", None)  # (read only where SUPPORTED)
_BINARY = {table.ADD: "NB_ADD", table.SUB: "NB_SUBTRACT", table.MUL: "NB_MULTIPLY",
           table.DIV: "NB_TRUE_DIVIDE"}
_NB = {name: k for k, (name, _) in enumerate(getattr(opcode, "_nb_ops", ()))}
_COMPARE = {table.LT: "<", table.LE: "<=", table.GT: ">", table.GE: ">=", table.EQ: "==",
            table.NE: "!="}
_UNARY = {table.NEG: "UNARY_NEGATIVE", table.POS: "UNARY_POSITIVE", table.NOT: "UNARY_NOT"}
_CO_OPTIMIZED_NEWLOCALS = 0x3
_BYTE = [bytes((k,)) for k in range(256)]
_EXTENDED = _BYTE[_OP["EXTENDED_ARG"]]
_SLOT = 255  # no instruction has this opcode: it marks a template's slots


def instruction(name: str, arg: int = 0) -> bytes:
    """One instruction: EXTENDED_ARG prefixes for a large argument, then the opcode and
    the zeroed inline cache that the interpreter specialises into."""
    code = _OP[name]
    prefix = b""
    for shift in (24, 16, 8):
        if arg >> shift:
            prefix += bytes((_OP["EXTENDED_ARG"], (arg >> shift) & 0xFF))
    return prefix + bytes((code, arg & 0xFF)) + b"\0\0" * _CACHES[code]


def _line_table(units: int) -> bytes:
    """Locations for `units` code units: every instruction on the function's first line
    (entries of up to 8 units; code 13, 'no column', with a line delta of 0)."""
    whole, rest = divmod(units, 8)
    locations = b"\xef\x00" * whole
    return locations + bytes((0xE8 | (rest - 1), 0)) if rest else locations


class BytecodeWriter:
    """Writes a tape's functions as bytecode; an expression is (code, stack depth).

    Every instruction a tape needs is made once and kept (loads and stores per local,
    one emitter per primitive), so writing a node is a few dict lookups and one
    concatenation of bytes."""

    def __init__(self, params: list[str], namespace: dict):
        self.namespace = namespace  # the functions' globals: `guard` needs `_Retrace`
        self.consts: list = []
        self.names: dict[str, int] = {}
        self._loads: dict[str, tuple] = {}
        # `used`, in both writers: at least every local that the code written so far
        # reads (more is safe: the compiler only declines to fuse those values away)
        self.used = self._loads
        self._stores: dict[str, bytes] = {}
        self._prefixes: dict[int, tuple] = {}  # index >> 8 -> (load, store) but the low byte
        self._literals: dict = {}
        self.emitters = PerKey(self._emitter)  # per primitive, the function writing it
        self._add_to = instruction("BINARY_OP", _NB["NB_INPLACE_ADD"])
        # a ** b (the value's code, for a whole-number constant b: see scalar._fused_lines)
        self.power = _binary(instruction("BINARY_OP", _NB["NB_POWER"]), self._convert)
        for name in params:
            self.arg(name)

    # expressions ------------------------------------------------------------------
    # (no comprehensions on these paths: in Python 3.11 each one is a function call)
    def literal(self, value) -> tuple:
        # the key keeps 0.0 and -0.0, and 1.0 and True, apart (every nan is one
        # constant: a non-finite result is recomputed by the interpreter anyway)
        key = value if type(value) is float and value and value == value \
            else (type(value), repr(value))
        fragment = self._literals.get(key)
        if fragment is None:
            value = value if type(value) is bool else float(value)
            fragment = self._literals[key] = (
                instruction("LOAD_CONST", len(self.consts)), 1)
            self.consts.append(value)
        return fragment

    def arg(self, value) -> tuple:
        """The fragment for a fragment, a local's name or a number."""
        if type(value) is tuple:
            return value
        if type(value) is str:
            return self._loads.get(value) or self._local(value)
        return self.literal(value)

    def _convert(self, value) -> tuple:
        """`arg` for a name or a number (the emitters' path)."""
        return self._loads.get(value) or self.arg(value)

    def _local(self, name: str) -> tuple:
        index = len(self._loads)  # locals are numbered in the order they are met
        high, low = self._prefixes.get(index >> 8), _BYTE[index & 0xFF]
        if high is None:  # once per 256 locals (LOAD_FAST and STORE_FAST have no caches)
            high = self._prefixes[index >> 8] = tuple(
                instruction(op, index)[:-1] for op in ("LOAD_FAST", "STORE_FAST"))
        self._stores[name] = high[1] + low
        fragment = self._loads[name] = (high[0] + low, 1)
        return fragment

    def ap(self, prim, *args) -> tuple:
        """The fragment computing prim(*args) (args: fragments, local names or numbers)."""
        return self.emitters[prim](*args)

    def _emitter(self, prim):
        arg = self._convert
        if prim is table.ALIAS:
            emit = _pick(0, arg)
        elif prim is table.SELECT:
            emit = _pick(1, arg)
        elif prim in _BINARY:
            emit = _binary(instruction("BINARY_OP", _NB[_BINARY[prim]]), arg)
        elif prim in _COMPARE:
            emit = _binary(instruction("COMPARE_OP", opcode.cmp_op.index(_COMPARE[prim])), arg)
        elif prim in _UNARY:
            emit = _unary(instruction(_UNARY[prim]), arg)
        elif prim.scalar is not None:
            name = f"_f_{prim.name}"
            self.namespace[name] = prim.scalar
            emit = _call(instruction("LOAD_GLOBAL", self.name(name) << 1 | 1), arg)
        else:
            raise NotCompilable(prim.name)
        return emit

    def name(self, name: str) -> int:
        return self.names.setdefault(name, len(self.names))

    # templates: an expression written once, filled per node ------------------------
    def slots(self, count: int) -> list:
        """Placeholders for `template`: each is the unused opcode _SLOT and its number."""
        return [(_BYTE[_SLOT] + _BYTE[k], 1) for k in range(count)]

    def template(self, expr):
        """`fill(*args)`: expr (written on `slots`) with slot k replaced by args[k], a
        local's name or a constant; only the slots expr uses are converted."""
        code, depth = self.arg(expr)
        pieces, start = [], 0
        for at in range(0, len(code), 2):  # opcodes are at even offsets
            if code[at] == _SLOT:
                pieces += [code[start:at], code[at + 1]]
                start = at + 2
        pieces.append(code[start:])
        return _filler(pieces, depth, self._loads.get, self.arg)

    def pack(self, *items) -> tuple:
        """A tuple of the items' values."""
        items = [self.arg(i) for i in items]
        depth = max([1] + [k + d for k, (_, d) in enumerate(items)])
        return b"".join(c for c, _ in items) + instruction("BUILD_TUPLE", len(items)), depth

    # statements -------------------------------------------------------------------
    def assign(self, target: str, expr) -> tuple:
        code, depth = expr if type(expr) is tuple else self._convert(expr)
        store = self._stores.get(target)
        if store is None:
            self._local(target)
            store = self._stores[target]
        return code + store, depth

    def add_to(self, target: str, expr) -> tuple:
        load, _ = self.arg(target)
        code, depth = expr if type(expr) is tuple else self.arg(expr)
        return load + code + self._add_to + self._stores[target], depth + 1

    def guard(self, test: str, raise_when: bool) -> tuple:
        """`if test: raise _Retrace` (`if not test`, when raise_when is False); the
        namespace binds `_Retrace`."""
        body = instruction("LOAD_GLOBAL", self.name("_Retrace") << 1) \
            + instruction("RAISE_VARARGS", 1)
        jump = "POP_JUMP_FORWARD_IF_FALSE" if raise_when else "POP_JUMP_FORWARD_IF_TRUE"
        code, depth = self.arg(test)
        return code + instruction(jump, len(body) // 2) + body, depth

    def function(self, name: str, params: list[str], lines: list[tuple], result):
        """The Python function running `lines`, then returning `result`."""
        result, depth = self.arg(result)
        code = b"".join([instruction("RESUME")] + [c for c, _ in lines]
                        + [result, instruction("RETURN_VALUE")])
        stack = max([depth] + [d for _, d in lines])
        varnames = tuple(self._loads)  # one numbering for every function of a tape
        assert varnames[:len(params)] == tuple(params), "parameters come first"
        template = _TEMPLATE.__code__.replace(
            co_argcount=len(params), co_posonlyargcount=0, co_kwonlyargcount=0,
            co_nlocals=len(varnames), co_stacksize=stack,
            co_flags=_CO_OPTIMIZED_NEWLOCALS, co_code=code, co_consts=tuple(self.consts),
            co_names=tuple(self.names), co_varnames=varnames, co_filename="<diffi tape>",
            co_name=name, co_qualname=name, co_firstlineno=1,
            co_linetable=_line_table(len(code) // 2), co_exceptiontable=b"")
        return types.FunctionType(template, self.namespace, name)


# Emitters: arguments in (fragments, names or numbers; `arg` makes them fragments),
# fragment out; its depth is the most that the stack holds while it runs.
def _pick(k: int, arg):
    def emit(*args):
        return arg(args[k])
    return emit


def _binary(suffix: bytes, arg):
    def emit(a, b):
        if type(a) is not tuple:
            a = arg(a)
        if type(b) is not tuple:
            b = arg(b)
        return a[0] + b[0] + suffix, (a[1] if a[1] > b[1] else b[1] + 1)
    return emit


def _unary(suffix: bytes, arg):
    def emit(a):
        if type(a) is not tuple:
            a = arg(a)
        return a[0] + suffix, a[1]
    return emit


def _call(load: bytes, arg):
    """NULL and the function, then each argument, then PRECALL and CALL."""
    one = instruction("PRECALL", 1) + instruction("CALL", 1)

    def emit(*args):
        if len(args) == 1:
            a = args[0]
            if type(a) is not tuple:
                a = arg(a)
            return load + a[0] + one, a[1] + 2
        code, depth = [load], 2
        for k, a in enumerate(args):
            a = arg(a)
            code.append(a[0])
            depth = max(depth, 2 + k + a[1])
        n = len(args)
        code.append(instruction("PRECALL", n) + instruction("CALL", n))
        return b"".join(code), depth
    return emit


def _filler(pieces: list, depth: int, load, arg):
    """The function filling a template's pieces (code, slot, code, …, code), given
    `load` (a local's fragment, or None) and `arg`. Its depth is the template's, since
    each slot's code, like the placeholder's, pushes one value."""
    if len(pieces) == 3:
        head, k, tail = pieces
        return lambda *args: (head + (load(args[k]) or arg(args[k]))[0] + tail, depth)
    if len(pieces) == 5:
        head, k, middle, m, tail = pieces
        return lambda *args: (head + (load(args[k]) or arg(args[k]))[0] + middle
                              + (load(args[m]) or arg(args[m]))[0] + tail, depth)

    def fill(*args):
        return b"".join([p if type(p) is bytes else arg(args[p])[0] for p in pieces]), depth
    return fill


def _TEMPLATE():
    """A function whose code object the assembled ones are made from (`replace`)."""

