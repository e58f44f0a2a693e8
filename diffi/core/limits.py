"""An interpreter's resource limits, checked as they are given, and the tensor data it
holds (`max_memory`), counted as tensors are made and forgotten.

Every limit is checked before the work it bounds: a tensor's size is known before it
is allocated (`Memory.reserve`), so `eye(20000)` is refused without taking 3 GB first.
"""
from __future__ import annotations

import collections
import gc
import math
import os
import weakref

try:
    import resource  # (POSIX only: elsewhere no address-space limit is read)
except ImportError:
    resource = None

from .. import table
from ..arrays import is_array
from ..errors import DiffiTypeError, LimitError

GIGABYTE = 1024 ** 3


class Limits:
    """Resource limits of an interpreter; None switches one off."""

    def __init__(self, max_depth=1000, max_nodes=20_000_000, max_elements=100_000_000,
                 timeout=None, max_memory=None, run_timeout=None):
        self.max_depth = whole("max_depth", max_depth, smallest=0)
        self.max_nodes = whole("max_nodes", max_nodes, smallest=1)
        self.max_elements = whole("max_elements", max_elements, smallest=0)
        self.max_memory = whole("max_memory", max_memory, smallest=0)
        self.timeout = seconds("timeout", timeout)
        self.run_timeout = seconds("run_timeout", run_timeout)


def whole(name: str, value, smallest: int):
    """A count limit: a whole number >= smallest (None: no limit)."""
    if value is None:
        return math.inf
    if isinstance(value, float) and math.isfinite(value) and value == int(value):
        value = int(value)
    if type(value) is not int or value < smallest:
        raise DiffiTypeError(f"{name} must be a whole number of at least {smallest}, or "
                             f"None for no limit; got {_shown(value)}")
    return value


def seconds(name: str, value):
    """A time limit: a positive number of seconds (None: no limit; 0 is no time at all,
    not 'off', so it is refused)."""
    if value is None:
        return None
    number = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
    if number is None or not number > 0 or number != number:
        raise DiffiTypeError(f"{name} must be a positive number of seconds, or None for "
                             f"no limit; got {_shown(value)}")
    return None if number == math.inf else number


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def size_text(count: float) -> str:
    """Bytes in words: 800 MB, 3.2 GB."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= scale:
            return f"{count / scale:.3g} {unit}"
    return f"{int(count)} bytes"


class Memory:
    """The tensor data an interpreter holds: every tensor recorded in its graph is
    counted until it is garbage (a weak reference tells), by the buffer it owns, so a
    view (a reshape, a slice) costs nothing more."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.held = 0
        self._owners: dict[int, int] = {}     # id of a buffer's owner -> its bytes
        self._freed = collections.deque()     # ids forgotten (appended by finalizers)

    def reserve(self, elements, span, what: str = "a tensor") -> None:
        """Refuse, before it is allocated, a tensor larger than the limits allow."""
        limits = self.limits
        if elements > limits.max_elements:
            raise LimitError(f"{what} of {_count(elements)} elements is larger than "
                             f"{_count(limits.max_elements)} (max_elements)", span)
        self.reserve_bytes(elements * 8, span, what)

    def reserve_bytes(self, size, span, what: str = "a tensor") -> None:
        if not self.fits(size):
            gc.collect()  # a failed statement's tensors may wait in reference cycles
            self._collect()
        limit = self.limits.max_memory
        if self.held + size > limit:
            raise LimitError(f"{what} of {size_text(size)} would bring the tensor data "
                             f"held to {size_text(self.held + size)}, more than "
                             f"{size_text(limit)} (max_memory)", span)
        if size >= BIG and size + MARGIN > address_space_left():
            raise LimitError(f"{what} of {size_text(size)} does not fit in the memory "
                             f"this process may still take (its address-space limit)", span)

    def fits(self, size) -> bool:
        """Whether `size` more bytes fit under max_memory and the process's limit."""
        self._collect()
        return self.held + size <= self.limits.max_memory and (
            size < BIG or size + MARGIN <= address_space_left())

    def track(self, value) -> None:
        """Count a tensor the graph now holds (once per buffer)."""
        owner = value
        while is_array(owner.base):
            owner = owner.base
        self._collect()  # (an id freed before is free for a new owner)
        key = id(owner)
        if key in self._owners:
            return
        try:
            weakref.finalize(owner, self._freed.append, key)
        except TypeError:  # not weakly referable: counted as long as the session lasts
            pass
        self._owners[key] = owner.nbytes
        self.held += owner.nbytes

    def _collect(self) -> None:
        freed = self._freed
        while freed:
            self.held -= self._owners.pop(freed.popleft(), 0)


# A process may run under an address-space limit (ulimit -v, RLIMIT_AS): there a large
# tensor is refused before NumPy fails to allocate it, with room left for the work
# around it. (Checked for tensors of BIG bytes or more: reading the process's size
# costs a system call.)
BIG = 16 * 1024 * 1024
MARGIN = 128 * 1024 * 1024


def address_space_left() -> float:
    """Bytes this process may still map under its address-space limit (inf if none)."""
    if resource is None:
        return math.inf
    try:
        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft == resource.RLIM_INFINITY or soft < 0:
            return math.inf
        with open("/proc/self/statm", encoding="ascii") as statm:
            pages = int(statm.read().split()[0])
        return soft - pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):
        return math.inf


def _count(n) -> str:
    return f"{n:,}" if isinstance(n, int) else f"{n:.3g}"


def elements_of(shape) -> int:
    """The number of elements of a shape (a Python int: no overflow)."""
    count = 1
    for d in shape:
        count *= int(d)
    return count


# What an operation will make, known before it runs ----------------------------------------

def matmul_shape(a: tuple, b: tuple) -> tuple[tuple, int]:
    """The shape of a @ b (NumPy's rules: vectors as rows or columns, stacks broadcast)
    and its inner dimension; ValueError if they do not fit."""
    if not a or not b:
        raise ValueError("matmul takes tensors of at least one dimension")
    left = (1,) + a if len(a) == 1 else a
    right = b + (1,) if len(b) == 1 else b
    if left[-1] != right[-2]:
        raise ValueError(f"inner dimensions {left[-1]} and {right[-2]} differ")
    batch = tuple(_broadcast(left[:-2], right[:-2]))
    shape = batch + left[-2:-1] * (len(a) > 1) + right[-1:] * (len(b) > 1)
    return shape, left[-1]


def _broadcast(a: tuple, b: tuple) -> list:
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    out = []
    for x, y in zip(a, b):
        if x != y and x != 1 and y != 1:
            raise ValueError(f"dimensions {x} and {y} do not broadcast")
        out.append(y if x == 1 else x)
    return out


def broadcast_shape(shapes) -> tuple:
    """The shape elementwise operands broadcast to; ValueError if they do not."""
    out: tuple = ()
    for shape in shapes:
        out = tuple(_broadcast(out, tuple(shape)))
    return out


def operation_size(prim, shapes: list, params=None):
    """(elements of the result, multiply-adds or element steps it takes, is it a
    product) for a tensor operation, from its operands' shapes alone; None when the
    result is no larger than an operand (a reduction, a reshape, an index).
    ValueError when the shapes do not fit."""
    if prim is table.MATMUL:
        shape, inner = matmul_shape(*shapes)
        return elements_of(shape), elements_of(shape) * inner, True
    if prim is table.DOT:
        a, b = shapes
        if len(a) <= 2 and len(b) <= 2 and a and b:
            shape, inner = matmul_shape(a, b)
        elif a and b:
            if a[-1] != b[-2 if len(b) > 1 else -1]:
                raise ValueError("the dimensions to sum over differ")
            shape, inner = a[:-1] + b[:-2] + b[-1:], a[-1]
        else:
            shape, inner = broadcast_shape(shapes), 1
        return elements_of(shape), elements_of(shape) * inner, True
    if prim is table.CONCAT:
        count = sum(max(1, elements_of(s)) for s in shapes)
        return count, count, False
    if prim.scalar is not None:  # elementwise: the operands broadcast
        count = elements_of(broadcast_shape(shapes))
        return count, count * len(shapes), False
    return None
