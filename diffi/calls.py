"""What one call of the interpreter runs with: its budget (deadlines and Ctrl-C), a
thread with a deep stack, and the process-wide settings it borrows and gives back.

A call (`run`, `eval`, a directive method, a diffi function called from Python) runs
on a thread of diffi's whose stack is large (STACK_BYTES; a short call's thread is
kept for the next call, _Worker), with Python's recursion
limit raised to RECURSION_LIMIT, which that stack holds whatever the frames are: so
input nested 20,000 deep gives a value or a LimitError, never a crash, on any thread
of the host (a host with no room for that stack gets a smaller one, SMALL_STACK_BYTES,
and the lower limit it holds while the call runs). The recursion limit and the
garbage collector's thresholds are
process-wide: they are changed when the first call starts and given back when the
last one running ends (calls on several threads share the change).

The Budget of the call running on a thread is `current()`. Long loops anywhere (the
parser, the modes, the printer) call `check()`, which raises LimitError once the
statement or the whole call has run out of time, and KeyboardInterrupt once Ctrl-C
was pressed: Ctrl-C in the caller's thread asks the call to stop at its next check,
a second Ctrl-C stops it at once.
"""
from __future__ import annotations

import gc
import math
import sys
import threading
import time
from contextlib import contextmanager

from . import arrays
from .errors import LimitError

# The stack of a call's thread, and the recursion limit it can hold: a frame that goes
# through C (a generator consumed by tuple(), a property) takes about 560 bytes of C
# stack in CPython 3.11, so 1,600 bytes a frame leaves a margin of three.
STACK_BYTES = 256 * 1024 * 1024
RECURSION_LIMIT = STACK_BYTES // 1600
SMALL_STACK_BYTES = 32 * 1024 * 1024  # (when the host has no room for STACK_BYTES)

# Speeds, to refuse work that cannot finish in the time left: an estimate errs on the
# fast side, so that no work that could finish is refused. Simple Python steps (one
# term of a Taylor series product) per second; elements per second of an elementwise
# operation, which writes fresh memory (an 800 MB result takes from 0.1 s to several
# on a loaded machine, beyond the reach of any check while NumPy works); a matrix
# product's multiply-adds per second, measured on this machine the first time a large
# product must be judged (about 20 ms), times OPTIMISM. Both become the best this
# machine was then seen doing (observe()).
PYTHON_RATE = 5e7
RATES = {"element": 2e8}
OPTIMISM = 3.0
_seen: dict = {}


def rate(kind: str) -> float:
    """Steps per second of a kind of tensor work ("product" or "element")."""
    if kind not in _seen:
        _seen[kind] = _measured_product_rate() if kind == "product" else RATES[kind]
    return _seen[kind]


def _measured_product_rate() -> float:
    a = arrays.np().ones((384, 384))  # (NumPy is loaded: a product of tensors asks)
    best = math.inf
    for _ in range(3):
        start = time.perf_counter()
        a @ a
        best = min(best, time.perf_counter() - start)
    return OPTIMISM * 384 ** 3 / max(best, 1e-9)


def observe(kind: str, steps: float, seconds: float) -> None:
    """Learn this machine's speed from a large operation that just ran."""
    if steps >= 10_000_000 and seconds > 0:
        _seen[kind] = max(rate(kind), steps / seconds)


class Budget:
    """The time a call may still take: its statement's deadline (`timeout`), the whole
    call's (`run_timeout`), and whether Ctrl-C asked it to stop."""

    __slots__ = ("timeout", "run_timeout", "deadline", "run_deadline", "interrupted",
                 "owner")

    def __init__(self, timeout: float | None = None, run_timeout: float | None = None,
                 owner=None):
        self.timeout = timeout
        self.run_timeout = run_timeout
        self.run_deadline = None if run_timeout is None else time.monotonic() + run_timeout
        self.deadline = self.run_deadline
        self.interrupted = False
        self.owner = owner  # the interpreter the call belongs to

    def begin_statement(self) -> None:
        """A statement starts: its own timeout, within what is left of the call's."""
        if self.timeout is None:
            self.deadline = self.run_deadline
            return
        deadline = time.monotonic() + self.timeout
        self.deadline = deadline if self.run_deadline is None else min(deadline,
                                                                       self.run_deadline)

    def check(self, span=None) -> None:
        """Raise KeyboardInterrupt after Ctrl-C, LimitError after the deadline."""
        if self.interrupted:
            self.interrupted = False  # one Ctrl-C, one KeyboardInterrupt
            raise KeyboardInterrupt
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise self.expired(span)

    def expired(self, span=None) -> LimitError:
        if self.run_deadline is not None and self.deadline == self.run_deadline:
            return LimitError(f"the call ran longer than {_seconds(self.run_timeout)} s "
                              f"(run_timeout)", span)
        return LimitError(f"the statement ran longer than {_seconds(self.timeout)} s "
                          f"(timeout)", span)

    def left(self) -> float:
        """Seconds left before the deadline (inf without one)."""
        return math.inf if self.deadline is None else self.deadline - time.monotonic()

    def afford(self, seconds: float, what: str, span=None) -> None:
        """Refuse, before it starts, work estimated to take longer than the time left."""
        self.check(span)
        left = self.left()
        if seconds > left:
            name = "run_timeout" if self.deadline == self.run_deadline else "timeout"
            need, have = _seconds(seconds), _seconds(max(0.0, left))
            digits = 3
            while need == have and digits < 12:  # (say 0.5003 s against 0.4998 s)
                digits += 1
                need, have = _seconds(seconds, digits), _seconds(max(0.0, left), digits)
            raise LimitError(f"{what} would take about {need} s, more than the {have} s "
                             f"left ({name})", span)


def _seconds(value: float, digits: int = 3) -> str:
    return f"{value:.{digits}g}"


UNLIMITED = Budget()  # what code run outside any call (a test, a tool) checks against

_local = threading.local()


def current() -> Budget:
    """The budget of the call running on this thread (UNLIMITED outside a call)."""
    return getattr(_local, "budget", None) or UNLIMITED


def check(span=None) -> None:
    """The check a long loop makes: out of time, or Ctrl-C (see Budget.check)."""
    budget = getattr(_local, "budget", None)
    if budget is not None:
        budget.check(span)


def checked(items, every: int = 4096):
    """The items, with the running call's check() before every `every`-th: the loops over
    a whole graph (a million nodes take seconds) stop when the time is up."""
    budget = current()
    for k, item in enumerate(items):
        if not k % every:
            budget.check()
        yield item


@contextmanager
def using(budget: Budget):
    """Make `budget` this thread's current one for the duration."""
    saved = getattr(_local, "budget", None)
    _local.budget = budget
    try:
        yield budget
    finally:
        _local.budget = saved


# Process-wide settings ---------------------------------------------------------------------

# While diffi runs a program, the cyclic garbage collector starts a pass every
# 50,000 allocations rather than every 700. Building a graph allocates objects that
# live as long as the session (nodes, spans, syntax), and with the default thresholds
# the full collections that this growth triggers cost more than parsing and evaluating
# together.
RELAXED_THRESHOLDS = (50_000, 50, 100)
_settings_lock = threading.Lock()
_running = {"calls": 0, "collecting": 0}
_saved: dict = {}


@contextmanager
def process_settings(relax_collector: bool = True):
    """The recursion limit raised (and the collector relaxed) while calls run; what the
    host had set comes back when the last call running ends, even when it fails."""
    _borrow(relax_collector)
    try:
        yield
    finally:
        _give_back(relax_collector)


def _borrow(relax_collector: bool) -> None:
    with _settings_lock:
        if _running["calls"] == 0:
            _saved["recursion"] = sys.getrecursionlimit()
            sys.setrecursionlimit(max(_saved["recursion"], RECURSION_LIMIT))
        _running["calls"] += 1
        if relax_collector:
            if _running["collecting"] == 0:
                _saved["collector"] = gc.get_threshold()
                if _saved["collector"][0] > 0:  # 0: the host turned collection off
                    gc.set_threshold(*(max(mine, theirs) for mine, theirs
                                       in zip(RELAXED_THRESHOLDS, _saved["collector"])))
            _running["collecting"] += 1


def _give_back(relax_collector: bool) -> None:
    with _settings_lock:
        if relax_collector:
            _running["collecting"] -= 1
            if _running["collecting"] == 0:
                gc.set_threshold(*_saved["collector"])
        _running["calls"] -= 1
        if _running["calls"] == 0:
            sys.setrecursionlimit(_saved["recursion"])


# Running a call on a deep stack ---------------------------------------------------------------

_thread_lock = threading.Lock()  # threading.stack_size is process-wide: set, start, restore


class _Call:
    """The work of one call on its thread, and what came of it."""

    def __init__(self, work, budget: Budget):
        self.work = work
        self.budget = budget
        self.value = None
        self.error: BaseException | None = None
        self.running = True
        self.worker: _Worker | None = None
        # released when the work is over; the caller's thread waits on it (not on
        # Thread.join, which a KeyboardInterrupt in 3.11 leaves believing it is done)
        self.done = threading.Lock()
        self.done.acquire()

    def _run(self, worker: "_Worker") -> None:
        _local.budget = self.budget
        started = time.perf_counter()
        try:
            self.value = self.work()
        except BaseException as error:  # handed to the caller's thread, which raises it
            self.error = error
        finally:
            self.work = None  # (its closure holds the interpreter that made the call)
            try:
                _local.budget = None
                worker.finished(self, time.perf_counter() - started)
            finally:
                self.done.release()


# Starting a thread with a deep stack costs about as much as a short statement (tens of
# microseconds): a thread whose call was short waits for the next call instead of
# ending. Only a short call's thread is kept: a long one may have grown its stack deep,
# and memory it touched would stay held by an idle thread.
SHORT_CALL = 0.002  # seconds
IDLE_WORKERS = 2
_idle: list = []
_idle_lock = threading.Lock()  # guards _idle, and a call's end against a forced Ctrl-C


class _Worker:
    """A thread with a deep stack that runs calls, one at a time, while they are short."""

    def __init__(self):
        self.calls: list = []
        self.ready = threading.Lock()
        self.ready.acquire()
        # it ends after its call: a forced Ctrl-C was sent to it, or its stack is the
        # smaller one (a thread kept idle holds the deep stack only)
        self.retired = False
        self.thread = threading.Thread(target=self._loop, name="diffi call", daemon=True)

    def give(self, call: _Call) -> None:
        call.worker = self
        self.calls.append(call)
        self.ready.release()

    def _loop(self) -> None:
        try:
            while True:
                self.ready.acquire()
                call = self.calls.pop()
                call._run(self)
                done = self.retired or call.worker is None
                call = None  # (an idle worker holds no call: its work holds its caller)
                if done:
                    return
        except KeyboardInterrupt:  # a forced Ctrl-C that came after the work was over
            return

    def finished(self, call: _Call, seconds: float) -> None:
        """The call's end, under the lock a forced Ctrl-C takes: a worker that may still
        receive one, or whose call was long, is not kept."""
        with _idle_lock:
            call.running = False
            if self.retired or seconds > SHORT_CALL or len(_idle) >= IDLE_WORKERS:
                call.worker = None  # (the loop ends after this call)
            else:
                _idle.append(self)


def run(work, budget: Budget, relax_collector: bool = True):
    """work() on a thread with a deep stack, as the call whose budget is `budget`: its
    value, or the exception it raised, re-raised here."""
    call = _Call(work, budget)
    with process_settings(relax_collector):
        thread = _start(call)
        _wait(thread, call)
        error, call.error = call.error, None
        if error is not None:
            _release_locals(error)
    if error is not None:
        try:
            raise error
        finally:
            # (a local naming the exception its traceback holds is a cycle: the failed
            # statement's frames and graph would wait for a full collection, seconds)
            del error
    return call.value


def _release_locals(error: BaseException) -> None:
    """Free what the frames of a failed call still hold (its graph: a million nodes after
    a timeout), keeping where each frame was. Done while the collector is relaxed:
    once the host's thresholds are back, the first collection would walk all of it,
    seconds after the LimitError was due."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        tb = error.__traceback__
        while tb is not None:
            try:
                tb.tb_frame.clear()
            except RuntimeError:  # (a frame still running: the call thread's last)
                pass
            tb = tb.tb_next
        error = error.__cause__ or error.__context__


def _start(call: _Call) -> threading.Thread:
    """The call handed to an idle worker, or to a new one on a new deep-stack thread."""
    with _idle_lock:
        worker = _idle.pop() if _idle else None
    if worker is not None:
        worker.give(call)
        return worker.thread
    worker = _Worker()
    if not _started(worker, STACK_BYTES):
        # (under a cap on address space a host that grew may have no room for the deep
        # stack: a smaller one, with the recursion limit it holds until the last call
        # running ends; its thread is not kept)
        if not _started(worker, SMALL_STACK_BYTES):
            raise LimitError("out of memory: no thread with a deep stack could be "
                             "started for the call")
        worker.retired = True
        with _settings_lock:
            sys.setrecursionlimit(min(sys.getrecursionlimit(), SMALL_STACK_BYTES // 1600))
    worker.give(call)
    return worker.thread


def _started(worker: _Worker, stack_bytes: int) -> bool:
    with _thread_lock:
        saved = threading.stack_size()
        try:
            threading.stack_size(stack_bytes)
            worker.thread.start()
            return True
        except (RuntimeError, ValueError, MemoryError):
            worker.thread = threading.Thread(target=worker._loop, name="diffi call",
                                             daemon=True)  # (a thread starts once)
            return False
        finally:
            threading.stack_size(saved)


def _wait(thread: threading.Thread, call: _Call) -> None:
    """Wait for the call's thread; Ctrl-C here asks it to stop, a second one forces it."""
    interrupts = 0
    while True:
        try:
            call.done.acquire()
            return
        except KeyboardInterrupt:
            interrupts += 1
            call.budget.interrupted = True
            if interrupts > 1:
                _raise_in(thread, call)


def _raise_in(thread: threading.Thread, call: _Call) -> None:
    """KeyboardInterrupt in `thread` at its next bytecode (CPython's async exception),
    while its call runs; the worker is retired, never given another call."""
    import ctypes  # only on a second Ctrl-C
    with _idle_lock:
        if not call.running:
            return
        call.worker.retired = True
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident),
                                                   ctypes.py_object(KeyboardInterrupt))
