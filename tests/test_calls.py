"""What a call runs with (diffi/calls.py): its budget, a thread with a deep stack, the
process-wide settings it borrows and gives back, Ctrl-C, and calls from several threads."""
from __future__ import annotations

import gc
import signal
import sys
import threading
import time

import numpy as np
import pytest

import diffi
from diffi import DiffiError, Interpreter, LimitError, calls


def quiet(**options) -> Interpreter:
    return Interpreter(warn=lambda message, span: None, **options)


# The budget ---------------------------------------------------------------------------------

def test_a_budget_without_limits_never_expires():
    budget = calls.Budget()
    budget.begin_statement()
    budget.check()
    assert budget.left() == float("inf")


def test_a_statement_deadline_lies_within_the_call_deadline():
    budget = calls.Budget(timeout=100.0, run_timeout=0.05)
    budget.begin_statement()
    assert budget.left() <= 0.05
    time.sleep(0.06)
    with pytest.raises(LimitError, match=r"the call ran longer than 0.05 s \(run_timeout\)"):
        budget.check()


def test_an_expired_statement_names_the_timeout():
    budget = calls.Budget(timeout=0.01)
    budget.begin_statement()
    time.sleep(0.02)
    with pytest.raises(LimitError, match=r"the statement ran longer than 0.01 s \(timeout\)"):
        budget.check()
    budget.begin_statement()  # the next statement has its own time
    budget.check()


def test_ctrl_c_is_one_keyboard_interrupt_at_the_next_check():
    budget = calls.Budget()
    budget.interrupted = True
    with pytest.raises(KeyboardInterrupt):
        budget.check()
    budget.check()  # consumed


def test_work_that_cannot_fit_in_the_time_left_is_refused_before_it_starts():
    budget = calls.Budget(timeout=1.0)
    budget.begin_statement()
    with pytest.raises(LimitError) as caught:
        budget.afford(5.0, "a product")
    message = caught.value.message
    assert message.startswith("a product would take about 5 s, more than the ")
    assert message.endswith(" s left (timeout)")
    budget.afford(0.001, "a small product")


def test_equal_looking_times_are_told_apart():
    budget = calls.Budget(timeout=0.5)
    budget.begin_statement()
    with pytest.raises(LimitError) as caught:
        budget.afford(0.5001, "a fill")
    need, have = caught.value.message.split("about ")[1].split(" s, more than the ")
    assert need != have.split(" s left")[0]


def test_checked_passes_every_item_and_stops_when_the_time_is_up():
    assert list(calls.checked(range(10_000))) == list(range(10_000))  # no budget: no limit
    budget = calls.Budget(timeout=0.01)
    budget.begin_statement()
    time.sleep(0.02)
    with calls.using(budget), pytest.raises(LimitError):
        list(calls.checked(range(10_000)))


# A deep stack, and the process-wide settings ---------------------------------------------

DEEP_TUPLE = "x = " + "(2, " * 20_000 + "1" + ")" * 20_000


def test_a_20000_deep_tuple_gives_a_value_and_the_recursion_limit_comes_back():
    before = sys.getrecursionlimit()
    it = quiet()
    assert it.run(DEEP_TUPLE) == []
    assert it.eval("x[1][1][1][0]") == 2.0
    assert sys.getrecursionlimit() == before


def test_deep_input_from_a_thread_with_a_small_stack_gives_a_value_or_a_limit_error():
    # The host's thread may have a small stack: the call runs on its own.
    results = []

    def host():
        try:
            results.append(quiet().run(DEEP_TUPLE + "\n[1, 2][0]"))
        except DiffiError as error:
            results.append(error)

    saved = threading.stack_size(256 * 1024)
    try:
        thread = threading.Thread(target=host)
        thread.start()
        thread.join()
    finally:  # (after the join: the call sets and restores it while it starts its thread)
        threading.stack_size(saved)
    assert results == [[1.0]]


def test_nesting_too_deep_for_the_stack_is_a_limit_error_with_a_position():
    before = sys.getrecursionlimit()
    depth = calls.RECURSION_LIMIT // 2  # (each level takes more than two frames)
    with pytest.raises(LimitError, match="nested too deeply") as caught:
        quiet(timeout=None).run("y = 1\nx = " + "(2, " * depth + "1" + ")" * depth)
    assert caught.value.line == 2
    assert sys.getrecursionlimit() == before


def test_the_limit_is_raised_during_a_call_only():
    seen = []
    it = Interpreter(output=lambda text: seen.append(sys.getrecursionlimit()))
    before = sys.getrecursionlimit()
    it.run('print("during")')
    assert seen == [max(before, calls.RECURSION_LIMIT)]
    assert sys.getrecursionlimit() == before


def test_the_stack_size_for_new_threads_comes_back():
    before = threading.stack_size()
    quiet().run("1 + 1")
    assert threading.stack_size() == before


def test_settings_come_back_when_the_last_of_two_concurrent_calls_ends():
    recursion, thresholds = sys.getrecursionlimit(), gc.get_threshold()
    started, release = threading.Event(), threading.Event()

    def slow_output(text):
        started.set()
        release.wait(10)

    first = Interpreter(output=slow_output)
    thread = threading.Thread(target=first.run, args=('print("waits")',))
    thread.start()
    started.wait(10)
    quiet().run("1 + 1")  # a second call starts and ends while the first still runs
    assert sys.getrecursionlimit() >= calls.RECURSION_LIMIT  # still the first call's
    release.set()
    thread.join()
    assert (sys.getrecursionlimit(), gc.get_threshold()) == (recursion, thresholds)


# Ctrl-C ----------------------------------------------------------------------------------------

def _ctrl_c_after(seconds: float):
    """Raise KeyboardInterrupt in the main thread after `seconds`, as Ctrl-C does."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt
    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    return previous


def _stop_alarm(previous) -> None:
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, previous)


def test_ctrl_c_stops_a_call_at_its_next_check_and_the_statement_changes_nothing():
    it = quiet(timeout=None)
    it.run("x = 1\nf(n) = if n <= 0 then 0 else f(n - 1) + f(n - 1)")
    previous = _ctrl_c_after(0.3)
    start = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            it.run("x = 2\nx = f(60)")
    finally:
        _stop_alarm(previous)
    assert time.monotonic() - start < 5
    assert it.eval("x") == 2.0  # the first statement committed; the second changed nothing
    assert it.eval("f(3)") == 0.0  # and the interpreter goes on


def test_ctrl_c_after_the_last_statement_committed_is_reported_as_done():
    # A statement commits before its result is shown: Ctrl-C while the last result is
    # being shown (as the REPL prints it) interrupts nothing, and is not reported.
    it = quiet(timeout=None)
    shown = []

    def show(node):
        time.sleep(0.5)
        shown.append(node.value)

    previous = _ctrl_c_after(0.1)
    try:
        it.execute("x = 5\nx + 1", "<input>", show)
    finally:
        _stop_alarm(previous)
    assert shown == [6.0] and it.eval("x") == 5.0


def test_ctrl_c_before_the_next_statement_interrupts_that_one():
    it = quiet(timeout=None)
    it.run("f(n) = if n <= 0 then 0 else f(n - 1) + f(n - 1)")
    shown = []
    previous = _ctrl_c_after(0.1)
    try:
        with pytest.raises(KeyboardInterrupt):
            it.execute("x = 5\nx + 1\ny = f(60)", "<input>",
                       lambda node: (time.sleep(0.5), shown.append(node.value)))
    finally:
        _stop_alarm(previous)
    assert shown == [6.0] and it.eval("x") == 5.0 and "y" not in it


# Threads -----------------------------------------------------------------------------------

def test_two_interpreters_in_two_threads_keep_their_own_limits():
    outcomes = {}

    def work(name, timeout, source):
        it = quiet(timeout=timeout)
        it.run("f(n) = if n <= 0 then 0 else f(n - 1) + f(n - 1)")
        try:
            outcomes[name] = it.eval(source)
        except LimitError as error:
            outcomes[name] = error.message

    threads = [threading.Thread(target=work, args=("short", 0.2, "f(40)")),
               threading.Thread(target=work, args=("long", 30.0, "f(10)"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes == {"short": "the statement ran longer than 0.2 s (timeout)",
                        "long": 0.0}


def test_one_interpreter_shared_by_two_threads_gives_each_call_its_own_budget():
    it = quiet(timeout=0.3)
    it.run("f(n) = if n <= 0 then 0 else f(n - 1) + f(n - 1)")
    outcomes = []

    def slow():
        try:
            it.eval("f(40)")
        except LimitError as error:
            outcomes.append(error.message)

    def quick():
        for _ in range(20):
            outcomes.append(it.eval("f(3)"))

    threads = [threading.Thread(target=slow), threading.Thread(target=quick)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count(0.0) == 20
    assert outcomes.count("the statement ran longer than 0.3 s (timeout)") == 1


def test_a_callback_cannot_run_code_on_its_own_busy_interpreter():
    errors = []
    it = None

    def output(text):
        try:
            it.eval("1 + 1")
        except DiffiError as error:
            errors.append(error.message)

    it = Interpreter(output=output)
    it.run('print("x")')
    assert errors and "busy" in errors[0]
    assert diffi.Interpreter(output=lambda t: None).eval("2") == 2.0  # others are free


# A timeout returns when it is due, not after freeing the failed statement ----------------

FIB_OF_TENSORS = "fibt(n) = if n < 2 then [n] else fibt(n-1) + fibt(n-2)\nfibt(40)"


def test_a_timed_out_statement_leaves_no_reference_cycle_holding_its_graph():
    """Its graph is freed as the LimitError returns, not at some later full collection
    (which walked a million nodes: seconds past the timeout)."""
    it = quiet(timeout=0.3)
    gc.collect()
    gc.disable()
    try:
        with pytest.raises(LimitError):
            it.run(FIB_OF_TENSORS)
        assert gc.collect() < 100
    finally:
        gc.enable()


def test_a_limit_error_holds_no_node_of_the_failed_statement():
    """The error's frames keep where they were, not their locals: the graph built so far
    is freed before the host's collector thresholds come back (else the first
    collection after the call walks it all)."""
    from diffi.core.graph import Node

    def nodes() -> int:
        return sum(type(o) is Node for o in gc.get_objects())

    it = quiet(timeout=0.3)
    before = nodes()
    with pytest.raises(LimitError) as caught:
        it.run(FIB_OF_TENSORS)
    assert nodes() - before < 100
    frames = []
    tb = caught.value.__traceback__
    while tb is not None:
        frames.append(tb.tb_frame.f_code.co_name)
        tb = tb.tb_next
    assert "_run" in frames and len(frames) > 20  # (where it happened is still there)


@pytest.mark.parametrize("source", [FIB_OF_TENSORS, "d40/dx40 sin(x)*exp(x)*log(x)"])
def test_the_limit_error_comes_soon_after_the_timeout(source):
    """In a child process (its own collector, no other test's garbage); the bound is
    generous (3x), as the machine may be busy: it fails when the statement's graph is
    walked or freed after the budget fires (that took 2 s or more)."""
    script = (
        "import sys, time, diffi\n"
        "it = diffi.Interpreter(timeout=1.0)\n"
        "start = time.monotonic()\n"
        "try:\n"
        "    it.run(sys.argv[1])\n"
        "except diffi.LimitError as error:\n"
        "    print(error.message)\n"
        "print(time.monotonic() - start)\n")
    import subprocess
    done = subprocess.run([sys.executable, "-c", script, source], capture_output=True,
                          text=True, timeout=60)
    message, seconds = done.stdout.strip().rsplit("\n", 1)
    assert message == "the statement ran longer than 1 s (timeout)"
    assert float(seconds) < 3.0


@pytest.mark.parametrize("source", ["ones(10, 10)", "randn(10, 10)", "eye(10)"])
def test_a_large_constructor_fills_its_tensor_in_chunks_checking_the_time(source, monkeypatch):
    """Writing 800 MB of ones can take seconds when the system hands out pages slowly,
    and no check reaches inside one NumPy call: the budget is checked between chunks."""
    from diffi.core import tensor_calls
    monkeypatch.setattr(tensor_calls, "FILL_CHUNK", 7)
    it = quiet()
    checks = []
    check = it.evaluator.check_deadline
    monkeypatch.setattr(it.evaluator, "check_deadline",
                        lambda span: (checks.append(span), check(span)))
    value = it.eval(source)
    assert value.shape == (10, 10) and len(checks) >= 15  # (100 elements, 7 at a time)
    if source.startswith("eye"):
        assert (value == np.eye(10)).all()


def test_randn_in_chunks_gives_the_numbers_of_one_draw(monkeypatch):
    from diffi.core import tensor_calls
    whole = quiet().eval("seed(5); randn(50, 3)")
    monkeypatch.setattr(tensor_calls, "FILL_CHUNK", 4)
    assert (quiet().eval("seed(5); randn(50, 3)") == whole).all()


def test_short_calls_reuse_a_deep_stack_thread_and_long_ones_do_not():
    """Starting a deep-stack thread costs as much as a short statement (it.run("1") took
    about 100 µs, nearly all of it the thread's start): a short call's thread waits for
    the next call. A long call's may have grown its stack, so it ends with its call."""
    def short():
        return threading.current_thread()

    def long():
        time.sleep(calls.SHORT_CALL * 5)
        return threading.current_thread()

    first = calls.run(short, calls.Budget())
    assert first is not threading.current_thread() and first.name == "diffi call"
    assert all(calls.run(short, calls.Budget()) is first for _ in range(5))
    assert calls.run(long, calls.Budget()) is first   # (the kept one takes it, then ends)
    first.join(timeout=5)
    assert not first.is_alive()
    after = calls.run(short, calls.Budget())
    assert after is not first and after.is_alive() and len(calls._idle) <= calls.IDLE_WORKERS
    assert quiet().run("f(n) = if n < 1 then 0 else 1 + f(n - 1)\nf(10)") == [10.0]



def test_with_no_room_for_the_deep_stack_a_call_runs_on_a_smaller_one(monkeypatch):
    """Under a cap on address space a host that grew may not fit a 256 MB stack: the call
    runs on a smaller one, with a recursion limit that stack holds (deep input is then a
    LimitError sooner, never a crash), and the host's limit comes back after. Only when
    not even that starts is the call refused."""
    real_start = threading.Thread.start

    def start(thread):
        if thread.name == "diffi call" and threading.stack_size() > calls.SMALL_STACK_BYTES:
            raise RuntimeError("can't start new thread")
        return real_start(thread)

    monkeypatch.setattr(threading.Thread, "start", start)
    with calls._idle_lock:  # (no kept thread: every call needs a new one)
        calls._idle.clear()
    host = sys.getrecursionlimit()
    seen = calls.run(lambda: (threading.current_thread(), sys.getrecursionlimit()),
                     calls.Budget())
    assert seen[0].name == "diffi call" and seen[1] <= calls.SMALL_STACK_BYTES // 1600
    assert sys.getrecursionlimit() == host and not calls._idle  # (its thread not kept)
    it = quiet(timeout=None)
    it.run("x = " + "(2, " * 2000 + "1" + ")" * 2000)
    assert it.eval("x[1][1][0]") == 2.0
    depth = calls.SMALL_STACK_BYTES // 1600  # (each level takes more than one frame)
    with pytest.raises(LimitError, match="nested too deeply") as info:
        it.run("y = " + "(2, " * depth + "1" + ")" * depth)
    assert info.value.line == 1 and sys.getrecursionlimit() == host
    assert "y" not in it

    def never(thread):
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", never)
    with pytest.raises(LimitError, match="no thread with a deep stack"):
        calls.run(lambda: 1, calls.Budget())
    assert sys.getrecursionlimit() == host
