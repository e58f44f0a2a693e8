"""An interpreter's limits (diffi/core/limits.py): checked as they are given, held before
the work (sizes known before allocating, costs before computing), and the tensor data
held at once (max_memory)."""
from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import diffi
from diffi import DiffiError, DiffiTypeError, Interpreter, LimitError, ShapeError, calls
from diffi.core.limits import broadcast_shape, matmul_shape

ROOT = Path(__file__).resolve().parents[2]


def quiet(**options) -> Interpreter:
    return Interpreter(warn=lambda message, span: None, **options)


# Limits are checked as they are given -------------------------------------------------------

@pytest.mark.parametrize("options, message", [
    ({"timeout": "1"}, "timeout must be a positive number of seconds, or None for no "
                       "limit; got '1'"),
    ({"timeout": 0}, "timeout must be a positive number of seconds, or None for no limit; "
                     "got 0"),
    ({"timeout": -1}, "got -1"),
    ({"timeout": float("nan")}, "got nan"),
    ({"timeout": True}, "got True"),
    ({"run_timeout": [1]}, "run_timeout must be a positive number of seconds"),
    ({"max_depth": "a"}, "max_depth must be a whole number of at least 0, or None for no "
                         "limit; got 'a'"),
    ({"max_depth": -5}, "got -5"),
    ({"max_nodes": 0}, "max_nodes must be a whole number of at least 1"),
    ({"max_elements": 1.5}, "got 1.5"),
    ({"max_memory": "2 GB"}, "max_memory must be a whole number"),
    ({"files": "no such folder"}, "files=no such folder is not a folder"),
    ({"files": 3}, "files must be False, True or a folder's path, not int"),
    ({"precision": "a"}, "precision is a whole number of digits (1 to 17), not 'a'"),
    ({"output": 3}, "output must be a function (or None), not int"),
    ({"warn": "print"}, "warn must be a function (or None), not str"),
    ({"progress": 3}, "progress must have start(steps), update(step, loss) and "
                      "finish(interrupted) methods"),
])
def test_a_bad_setting_is_a_diffi_error(options, message):
    with pytest.raises(DiffiTypeError) as caught:
        Interpreter(**options)
    assert message in caught.value.message
    with pytest.raises(DiffiTypeError):
        diffi.evaluate("1", **options)


@pytest.mark.parametrize("options", [
    {"timeout": None, "run_timeout": None, "max_memory": None, "max_depth": None,
     "max_nodes": None, "max_elements": None},
    {"timeout": 10**400},      # as good as none
    {"max_nodes": 10**400, "max_elements": 1e8, "timeout": 1},
])
def test_none_and_huge_numbers_switch_a_limit_off(options):
    assert Interpreter(**options).eval("2^10") == 1024.0


def test_precision_is_clamped_to_what_a_float_holds():
    assert Interpreter(precision=10**400).precision == 17
    assert Interpreter(precision=0).precision == 1


# Python values -------------------------------------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda it: it.__setitem__("x", 10**400),
    lambda it: it.__setitem__("x", object()),
    lambda it: it.__setitem__("x", 1j),
    lambda it: it.__setitem__("x", [[1, 2], [3]]),
    lambda it: it.__setitem__("x", np.array(["a", "b"])),
    lambda it: it.__setitem__("1x", 1),
    lambda it: it.__setitem__(3, 1),
    lambda it: it.__setitem__("if", 1),
    lambda it: it.__getitem__(None),
    lambda it: it.__delitem__(3),
    lambda it: it.derivative("x^2", wrt="1x"),
    lambda it: it.derivative("x^2", wrt="x", at={"x": 10**400}),
    lambda it: it.derivative("x^2", wrt="x", at={3: 1}),
    lambda it: it.derivative("x^2", wrt="x", at=1, order=True),
    lambda it: it.derivative("x^2", wrt="x", at=1, mode=3),
    lambda it: it.derivative("x^2", wrt="x", at=1, mode="numeric", step=10**400),
    lambda it: it.grad("x*y", wrt=3, at={"x": 1, "y": 2}),
    lambda it: it.grad("x*y", wrt=["x", "x"], at={"x": 1, "y": 2}),
    lambda it: it.grad("x*y", wrt=[None], at={"x": 1, "y": 2}),
    lambda it: it.run(None),
    lambda it: it.run("1", filename=None),
    lambda it: it.eval(b"1"),
    lambda it: it.graph(3),
])
def test_a_bad_python_argument_is_a_diffi_error(call):
    with pytest.raises(DiffiError) as caught:
        call(quiet())
    assert (caught.value.line, caught.value.column) == (1, 1)
    assert "internal error" not in caught.value.message


def test_a_huge_number_from_python_says_why():
    with pytest.raises(DiffiTypeError, match="too large for a number"):
        quiet()["x"] = 10**400


# Sizes known before allocating ---------------------------------------------------------------

def test_shapes_of_products_and_broadcasts_are_numpys():
    for a, b in [((3, 4), (4, 5)), ((4,), (4, 5)), ((3, 4), (4,)), ((4,), (4,)),
                 ((2, 3, 4), (4, 5)), ((7, 1, 3, 4), (2, 4, 5))]:
        assert matmul_shape(a, b)[0] == np.matmul(np.ones(a), np.ones(b)).shape
    assert matmul_shape((3, 4), (4, 5))[1] == 4
    with pytest.raises(ValueError):
        matmul_shape((3, 4), (5, 6))
    for shapes in [[(3, 1), (1, 4)], [(), (2, 3)], [(5,), (2, 1)], [(0,), (1,)],
                   [(2, 0), (2, 1)]]:
        assert broadcast_shape(shapes) == np.broadcast_shapes(*shapes)
    with pytest.raises(ValueError):
        broadcast_shape([(2,), (3,)])


def _peak_of(source: str, **options) -> tuple[str, int]:
    """The error a fresh process gets for `source`, and how far it raised the process's
    peak memory, in MB (Linux hands a child its parent's peak: a large test process
    would otherwise hide what the statement took)."""
    script = textwrap.dedent(f"""
        import resource, diffi, numpy
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            diffi.Interpreter(**{options!r}).run({source!r})
            print("no error")
        except diffi.DiffiError as error:
            print(type(error).__name__, error.message)
        print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    message, peak = done.stdout.strip().rsplit("\n", 1)
    return message, int(peak)


@pytest.mark.parametrize("source, message", [
    ("x = eye(20000);", "LimitError a tensor of 400,000,000 elements is larger than "
                        "100,000,000 (max_elements)"),
    ("x = zeros(20000, 20000);", "LimitError a tensor of 400,000,000 elements"),
    ("x = onehot([0, 1], 1e9);", "LimitError a tensor of 2,000,000,000 elements"),
    ("x = linspace(0, 1, 1e9);", "LimitError a tensor of 1,000,000,000 elements"),
    ("x = randn(1e5, 1e5);", "LimitError a tensor of 10,000,000,000 elements"),
    ("x = ones(100000, 1) + ones(1, 100000);", "LimitError the result of '+' of "
                                               "10,000,000,000 elements"),
    ("x = ones(20000, 1) @ ones(1, 20000);", "LimitError the result of '@' of "
                                             "400,000,000 elements"),
])
def test_a_tensor_too_large_is_refused_before_it_is_allocated(source, message):
    said, peak = _peak_of(source)
    assert said.startswith(message)
    assert peak < 300  # megabytes: the tensor was never made


def test_max_memory_counts_the_tensor_data_held_at_once():
    it = quiet(max_memory=20_000_000)            # 20 MB
    it.run("a = zeros(1000, 1000)")                # 8 MB
    with pytest.raises(LimitError) as caught:
        it.run("b = zeros(1000, 1000); c = zeros(1000, 1000)")
    assert caught.value.message == ("a tensor of 8 MB would bring the tensor data held "
                                    "to 24 MB, more than 20 MB (max_memory)")
    assert caught.value.line == 1 and caught.value.column == 28
    assert "b" in it and "c" not in it
    it.run("a = 1; b = 2")                         # forgotten tensors no longer count
    it.run("c = zeros(1000, 1000); d = zeros(1000, 1000)")


def test_max_memory_counts_tensors_given_from_python():
    it = quiet(max_memory=10_000_000)
    it["w"] = np.zeros(1_000_000)                  # 8 MB
    with pytest.raises(LimitError, match="max_memory"):
        it["v"] = np.zeros(1_000_000)
    with pytest.raises(LimitError, match="max_memory"):
        it.run("v = w + 1")


def test_a_view_of_a_tensor_costs_nothing_more():
    it = quiet(max_memory=10_000_000)
    it.run("a = zeros(1000, 1000); b = reshape(a, 100, 10000); c = transpose(a)")
    assert it.evaluator.memory.held <= 16_000_000  # a and transpose's copy, not a view twice


def test_a_result_too_large_to_copy_comes_back_read_only():
    it = quiet(max_memory=12_000_000)
    big = it.eval("zeros(1000, 1000)")             # 8 MB held: a copy would be 16
    assert big.shape == (1000, 1000) and not big.flags.writeable
    small = it.eval("zeros(10, 10)")
    assert small.flags.writeable


def test_address_space_limit_is_respected_before_numpy_runs_out():
    # Under `ulimit -v` a tensor that cannot fit is refused with a LimitError, not an
    # allocation failure.
    script = textwrap.dedent("""
        import resource, diffi
        resource.setrlimit(resource.RLIMIT_AS, (1024**3, 1024**3))
        try:
            diffi.Interpreter(max_memory=None).run("x = zeros(100000000);")
        except diffi.LimitError as error:
            print(error.message)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.stdout.startswith("a tensor of 800 MB does not fit in the memory this "
                                  "process may still take"), done.stdout + done.stderr


# Costs known before computing ------------------------------------------------------------------

def test_a_product_that_cannot_finish_in_the_time_left_is_refused_at_once(monkeypatch):
    monkeypatch.setattr(calls, "_seen", {"product": 1e9})  # a machine this slow
    it = quiet(timeout=0.5)
    it.run("A = ones(1000, 1000)")
    with pytest.raises(LimitError) as caught:
        it.run("B = A @ A")                        # 10**9 multiply-adds: about 1 s
    assert caught.value.message.startswith("'@' on a result of 1,000,000 elements would "
                                           "take about 1 s, more than the 0.")
    assert caught.value.message.endswith(" s left (timeout)")
    assert "B" not in it
    assert it.run("C = A[0:10, :] @ A[:, 0:10]; size(C)") == [100.0]  # small enough


def test_a_taylor_series_of_a_huge_order_is_refused_at_once():
    with pytest.raises(LimitError) as caught:
        quiet(timeout=1.0).derivative("sin(x)*exp(x)", wrt="x", at=1, order=10**4)
    assert caught.value.message.startswith(
        "a Taylor series of order 10000 through 3 operations would take about 6 s, more "
        "than the ")


def test_a_timeout_holds_in_symbolic_differentiation():
    with pytest.raises(LimitError, match=r"ran longer than 0.5 s \(timeout\)"):
        quiet(timeout=0.5).run("d30/dx30 sin(x)*exp(x)*log(x)")


def test_a_timeout_holds_while_parsing():
    with pytest.raises(LimitError, match="timeout") as caught:
        quiet(timeout=0.05).run("x = 1" + " + 1" * 1_000_000)
    assert caught.value.line == 1 and caught.value.column > 1


def test_a_whole_call_has_its_own_bound():
    it = quiet(timeout=5.0, run_timeout=0.3)
    it.run("f(n) = if n <= 0 then 0 else f(n - 1) + f(n - 1)")
    with pytest.raises(LimitError, match=r"the call ran longer than 0.3 s \(run_timeout\)"):
        it.run("a = f(18)\n" * 200)  # (compiled recursion: each some 0.1 s)


def test_learned_speeds_only_grow(monkeypatch):
    monkeypatch.setattr(calls, "_seen", {})
    before = calls.rate("element")
    calls.observe("element", 10**7, 10.0)           # a slow one teaches nothing
    assert calls.rate("element") == before
    calls.observe("element", 10**10, 1.0)           # a fast one raises the estimate
    assert calls.rate("element") == 1e10
    calls.observe("element", 10**5, 1e-9)           # too small to tell anything
    assert calls.rate("element") == 1e10


def test_shape_errors_come_before_any_work():
    with pytest.raises(ShapeError, match=r"shapes \(3, 4\) and \(5, 6\) do not fit '@'"):
        quiet().run("ones(3, 4) @ ones(5, 6)")


def test_nested_directives_stop_at_the_timeout():
    # each directive once walked all those inside it, without looking at the clock
    source = "(d/dx " * 1000 + "x^2" + " at x = 1)" * 1000
    start = time.monotonic()
    with pytest.raises(LimitError, match=r"ran longer than 0.5 s \(timeout\)"):
        quiet(timeout=0.5).eval(source)
    assert time.monotonic() - start < 3
