"""Every path a user writes reaches compiled code where it can (diffi/compile/cache.py,
functions.py): statements that call a function, recursion, directives over such calls.
The answers, warnings and errors are the interpreter's, which each test takes from an
interpreter whose compiled code never serves (`reference`), with both code writers."""
from __future__ import annotations

import time

import numpy as np

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import diffi
from diffi import table
from diffi.compile import tensor
from diffi.core.graph import ancestors
from diffi.core.problem import Problem
from diffi.interpreter import to_python

FIB = "fib(n) = if n < 2 then n else fib(n - 1) + fib(n - 2)"


pytestmark = pytest.mark.usefixtures("writer")  # (each writer: conftest.py)


class Run:
    """An interpreter with its warnings and printed text collected."""

    def __init__(self, compiled: bool = True, **limits):
        self.warnings: list = []
        self.printed: list = []
        self.it = diffi.Interpreter(
            warn=lambda m, s: self.warnings.append((m, s and (s.line, s.column))),
            output=self.printed.append, **limits)
        if not compiled:  # the reference: every call and directive interpreted
            self.it.evaluator.compiled.run = lambda *args, **kwargs: None
            self.it.evaluator.compiled.expression = lambda *args, **kwargs: None

    def __call__(self, source: str):
        """The values the statements give (a report's text with its value), or the error."""
        results: list = []

        def result(node, *_):
            results.append(to_python(node.value, self.it))
            if node.op is table.REPORT:
                self.printed.append(str(node.params))

        try:
            self.it.execute(source, "<input>", result)
        except diffi.DiffiError as error:
            return f"{type(error).__name__}: {error}"
        return results


def counting_traces(monkeypatch) -> list:
    """A list that gets an item for each trace a directive makes from now on (a call of
    Problem.tape): empty while compiled code serves everything."""
    traces: list = []
    original = Problem.tape
    monkeypatch.setattr(Problem, "tape", lambda self, *a, **k: traces.append(1)
                        or original(self, *a, **k))
    return traces


def both(source: str, **limits) -> tuple[Run, Run]:
    compiled, reference = Run(True, **limits), Run(False, **limits)
    assert _same(compiled(source), reference(source))
    assert compiled.warnings == reference.warnings
    assert compiled.printed == reference.printed
    return compiled, reference


def test_a_statement_call_runs_compiled_code_and_records_one_node():
    run, _ = both("y = 0.3\nc(x) = sin(x)*y + x^2\nv = c(0.5)\nw = c(0.5)")
    w = run.it.globals["w"].node
    # one node over what the call depends on: its argument and the global y it read
    assert w.op is table.DERIVED
    assert [n.value for n in w.inputs] == [0.3, 0.5]
    assert run.it.globals["v"].node.op is not table.DERIVED  # the first call traced


def test_derivatives_through_compiled_calls_are_the_interpreted_ones():
    program = ("y = 0.3\nc(x) = sin(x)*y + x^2\nx = 0.5\nv = c(x)\nw = c(x)\n"
               "d/dx w\nd/dy w\nd/dx w at x = 0.25\ngrad w wrt x, y\n"
               "d/dx c(x)^2 + y at x = 0.5\nhessian w wrt x, y\nd2/dx2 w")
    run, reference = both(program)
    assert run("d/dx w") == [pytest.approx(0.3 * __import__("math").cos(0.5) + 1.0)]


def test_graph_shows_a_compiled_call_as_the_interpreter_records_it():
    run, reference = both("c(x) = x*x + 1\nc(2)\nv = c(3)\ngraph v")
    assert run.printed[-1] == "graph (2 nodes)\n  v1 = 3·3    = 9\n  v  = v1 + 1 = 10"


def test_plain_recursion_runs_as_python_and_records_one_node():
    run, _ = both(f"{FIB}\nv = fib(20)\nw = fib(20)")
    assert run("v") == [6765.0]
    # the first call of all runs one frame in the interpreter (the compiler loads at a
    # function's second call), whose two calls run compiled: a handful of nodes
    v = run.it.globals["v"].node
    graph = ancestors(v)
    assert len(graph) < 20 and sum(n.op is table.DERIVED for n in graph) == 2
    assert run.it.globals["w"].node.op is table.DERIVED
    assert run.it.evaluator.nodes < 10  # not the 20,000 calls' graph


def test_a_derivative_of_a_recursive_call_comes_from_its_graph():
    program = ("g(x) = if x < 1 then x else g(x - 1) * x\nx = 3.5\nv = g(x)\n"
               "d/dx v\nd/dx g(x) at x = 2.5\nd/dx v at x = 3.25")
    run, _ = both(program)
    assert run("d/dx v") == [pytest.approx(3.5 * 2.5 * 1.5 * 0.5 * (1 / 3.5 + 1 / 2.5 + 1 / 1.5
                                                                     + 1 / 0.5))]


def test_rebinding_a_name_a_recursive_function_reads_rebuilds_its_code():
    run, _ = both("k = 1\nf(n) = if n < 1 then k else f(n - 1) + k\nf(5)\nk = 2\nf(5)")
    assert run("f(5)") == [12.0]


def test_float_exceptions_in_compiled_calls_give_the_interpreters_warnings():
    run, _ = both("h(x) = 1/x\nh(0.0)\nh(0.0)\nh(0.0)\nr(n) = if n < 1 then 1/n else r(n - 1)\n"
                  "r(3)\nr(3)\nr(-1e-320)")
    assert run.warnings[0] == ("value of / is infinite at (1, 0)", (1, 9))


def test_an_infinity_inside_is_warned_about_after_numeric_mode_muted_its_probes():
    # numeric mode's probes run quietly; a tape compiled during them must still learn
    # that the call warns, or later calls would be served without the warning
    run, _ = both("a = 0.7\nf(x) = if x < a/0 then x*2 else 1\nf(0.3)\nf(0.3)\n"
                  "d/dx f(x) at x = 0.3 using numeric\nf(0.3)\nv = f(0.3)")
    assert len(run.warnings) == 5


def test_functions_with_effects_are_interpreted_every_call():
    run, _ = both("p(x) = {print(x); x*2}\np(1)\np(1)\np(1)\n"
                  "q(n) = if n < 1 then {print(n); n} else q(n - 1)\nq(2)\nq(2)")
    assert run.printed == ["1", "1", "1", "0", "0"]


def test_recursion_deeper_than_the_limit_is_the_interpreters_error():
    run, _ = both("f(n) = if n < 1 then 0 else f(n - 1) + 1\nf(50)\nf(5000)")
    assert run("f(5000)").startswith("LimitError: recursion deeper than 1000 calls")


def test_a_timeout_stops_compiled_recursion_promptly():
    run = Run(timeout=0.3)
    run(FIB)
    start = time.perf_counter()
    assert run("fib(40)") == "LimitError: the statement ran longer than 0.3 s (timeout)"
    assert time.perf_counter() - start < 1.5  # (a loaded machine; interpreted, the same)


def test_truth_valued_and_mutually_recursive_functions():
    both("even(n) = if n < 1 then true else odd(n - 1)\n"
         "odd(n) = if n < 1 then false else even(n - 1)\neven(10)\neven(7)\n"
         "count(n) = if even(n) then n else count(n - 1) + 1\ncount(9)\ncount(9)")


# Randomised: generated programs give the same answers compiled and interpreted ----------

UNARY = ["sin", "cos", "exp", "tanh", "sqrt", "log", "abs"]


@st.composite
def expressions(draw, depth=3):
    """A numeric expression in x and the global a (and calls of g, defined first)."""
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        return draw(st.sampled_from(["x", "a", "0.5", "2", "1.25"]))
    kind = draw(st.sampled_from(["bin", "bin", "un", "if", "call"]))
    left = draw(expressions(depth - 1))
    if kind == "un":
        return f"{draw(st.sampled_from(UNARY))}({left})"
    right = draw(expressions(depth - 1))
    if kind == "if":
        return f"(if {left} < {right} then {left} * 2 else {right} - {left})"
    if kind == "call":
        return f"g({left})"
    return f"({left} {draw(st.sampled_from(['+', '-', '*', '/', '^']))} {right})"


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=expressions(), point=st.sampled_from(["0.3", "1.7", "-0.8"]))
def test_generated_programs_agree_compiled_and_interpreted(body, point):
    program = "\n".join([
        "a = 0.7", "g(x) = x * a + sin(x)", f"f(x) = {body}",
        f"f({point})", f"f({point})", f"v = f({point})",
        f"d/dx f(x) at x = {point}", f"d/dx f(x) at x = {point} using reverse",
        f"d/dx f(x) at x = {point} using numeric", f"d2/dx2 f(x) at x = {point}",
        f"d/dx f(x) at x = {point} using forward", f"grad f(x) at x = {point}",
        f"d/dx {body} at x = {point}", f"d/dx {body} at x = {point}",
        f"d/dx {body} at x = {point} using reverse", f"d/dx {body} at x = 0.9 using reverse",
        f"d/dx {body} at x = {point}, a = 0.9", f"d/da {body} at x = {point}, a = 0.9",
        f"d/dx {body} at x = {point}, a = 0.25", f"grad {body} at x = {point}, a = 0.25",
        f"grad {body} at x = {point}, a = 0.25", f"grad {body} wrt a at x = 0.5, a = 0.25",
        f"grad {body} wrt a at x = 0.5, a = 0.25 using forward",
        f"x = {point}", "w = f(x)", "d/dx w", "d/da w", "d/dx f(x)", "d/da f(x)",
        "d/dx f(x) + a", f"d/dx g(f(x)) at x = {point}", f"d/da f(x) at x = {point}",
        "k(x, y) = f(x) * y", "y = 1.5", "grad k(x, y) at x = 0.2, y = 0.4",
        "grad k(x, y) wrt x at x = 0.2", "grad k(x, x) at x = 0.3 using forward",
        "h(x) = d/dx f(x)", f"h({point})", f"h({point})",
        "r(n, x) = if n < 1 then f(x) else r(n - 1, x) + f(x)", f"r(3, {point})",
        f"r(3, {point})", "d/dx r(2, x)"])
    compiled, reference = Run(True), Run(False)
    for line in program.splitlines():  # line by line: a failing one changes nothing
        got, expected = compiled(line), reference(line)
        assert _same(got, expected), (line, got, expected)
    assert compiled.warnings == reference.warnings


@settings(max_examples=20, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=expressions(), other=expressions(), point=st.sampled_from(["0.3", "1.7", "-0.8"]))
def test_generated_higher_orders_and_hessians_agree_compiled_and_interpreted(body, other,
                                                                             point):
    # each directive asked twice (its second run is the compiled one), then at another
    # point (the same code, or a branch the guards refuse), over expressions that read the
    # global a (their results are then part of the graph: d/da of them must agree too)
    two = f"({body}) * ({other.replace('x', 'z')})"
    lines = ["a = 0.7", "g(x) = x * a + sin(x)", f"f(x) = {body}",
             f"q(x, z) = {two}"]
    for at in (point, point, "1.1"):
        lines += [f"d{n}/dx{n} {body} at x = {at}" for n in range(1, 6)]
        lines += [f"d2/dx2 f(x) + a at x = {at}", f"v = d3/dx3 f(x)*a at x = {at}",
                  "d/da v", f"d/dx {body} + a at x = {at}",
                  f"w = d/dx f(x)^2 * a at x = {at}", "d/da w",
                  f"hessian {two} at x = {at}, z = 0.4", f"hessian q at ({at}, 0.4)",
                  f"h = hessian q(x, z) * a at x = {at}, z = 0.4", "d/da h",
                  f"grad {two} + a at x = {at}, z = 0.4",
                  f"jacobian [{two}, {body} * z, x] at x = {at}, z = 0.4",
                  f"jacobian [{two}, x - z] wrt z at x = {at}, z = 0.4",
                  f"check {body} wrt x at x = {at}", f"check q at ({at}, 0.4)",
                  # by the globals x and z, no point: their values are the code's arguments
                  f"x = {at}", "z = 0.4", f"d2/dx2 {body}", f"u = d/dx {body} * a", "d/da u",
                  f"hessian {two} wrt x, z", f"grad {two} wrt x, z", f"check {body} wrt x"]
    compiled, reference = Run(True), Run(False)
    for line in lines:  # line by line: a failing one changes nothing
        got, expected = compiled(line), reference(line)
        assert _same(got, expected), (line, got, expected)
    assert compiled.warnings == reference.warnings
    assert compiled.printed == reference.printed  # (check's reports, word for word)


def test_higher_orders_and_hessians_asked_again_trace_nothing(monkeypatch):
    run, reference = Run(True), Run(False)
    program = ["y = 0.5", "c(x) = sin(x)*x + exp(x/3)", "f(a, b) = sin(a*b) + c(a)*y + b^2"]
    asks = ["d3/dx3 c(x) at x = 0.5", "d5/dx5 c(x)*y at x = 0.5", "d2/dx2 c(x)^2 + y at x = 0.5",
            "hessian f at (0.5, 2)", "hessian f(a, b) * y at a = 0.5, b = 2",
            "jacobian [c(a)*b, a - b] at a = 0.5, b = 2", "check c(x) wrt x at x = 0.5",
            "check f(a, b) * y at a = 0.5, b = 2"]
    for source in program + asks + asks:
        assert _same(run(source), reference(source)), source
    traces = counting_traces(monkeypatch)
    for source in asks:
        got = run(source)
        assert traces == [], source  # the compiled code served it: no trace
        assert _same(got, reference(source)), source
        assert traces, source  # (the reference traces)
        traces[:] = []
    assert run.printed == reference.printed  # (check's reports, word for word)


def test_directives_by_globals_take_their_values_as_arguments(monkeypatch):
    # no point: the directive differentiates by the global x and z as they are bound now;
    # rebinding them does not retrace (the code takes them as arguments), and the results
    # are nodes over them, as interpreted (d/da, d/dx and d/dz of them agree)
    run, reference = Run(True), Run(False)
    asks = ["d/dx c(x)", "v = d/dx c(x)^2 + a", "d/da v", "d/dx v", "d3/dx3 c(x)*z",
            "w = grad c(x)*z wrt x, z", "d/dz w", "hessian c(x)*z wrt x, z",
            "h = hessian sin(x*z) wrt x, z", "d/dx h", "check c(x)*z wrt x, z",
            "jacobian [c(x)*z, x] wrt x, z", "j = jacobian [c(x)*z*a, x] wrt x", "d/da j",
            "grad c(x) wrt x using forward", "d/dx c(x) using reverse"]
    program = ["a = 0.7", "c(t) = sin(t)*a + t*x", "x = 0.5", "z = 0.3"] + asks * 2 \
        + ["x = 0.9"] + asks + ["x = 1.9", "a = 2"] + asks
    for source in program:
        assert _same(run(source), reference(source)), source
    traces = counting_traces(monkeypatch)
    assert _same(run("x = 1.25"), reference("x = 1.25"))  # (z, a constant to some, stays)
    for source in [s for s in asks if not s.startswith("d/d")]:
        got = run(source)
        assert traces == [], source  # served by the compiled code
        assert _same(got, reference(source)), source
        traces[:] = []  # (the reference's)
    assert run.warnings == reference.warnings and run.printed == reference.printed


def test_a_global_whose_graph_moves_with_the_variable_keeps_its_guard():
    # y = x*2 depends on the node x was bound to: after x = 0.9, d/dx x*y reads y as a
    # constant (its graph is the old x's), so code traced while y moved with x must not
    # take the new x as an argument
    asks = ["d/dx x*y", "d/dx c(x)", "d2/dx2 x*y*x", "hessian x*y*z wrt x, z",
            "check x*y wrt x"]
    both("\n".join(["x = 0.5", "y = x*2", "c(t) = t*y", "z = 1"] + asks * 3 + ["x = 0.9"]
                   + asks * 2 + ["y = x*3"] + asks * 2 + ["x = 2"] + asks))


def test_where_compiled_code_cannot_serve_the_interpreter_answers_and_warns():
    # asked three times each: an order above the compiled Taylor sweep's, a kink (abs at
    # 0, an `if` on its boundary), modes that disagree, values and derivatives that are
    # not finite: every answer, warning and report is the interpreter's
    asks = ["d25/dx25 c(x) at x = 1", "check abs(x) + x at x = 0", "check k(x) at x = 0",
            "check sqrt(x) at x = 0", "check floor(x)*x at x = 2", "d3/dx3 log(x) at x = 0",
            "d2/dx2 1/x at x = 0", "hessian 1/(x*y) at x = 0, y = 1",
            "jacobian [1/x, x] at x = 0"]
    program = ["c(x) = sin(x)*exp(x)", "k(x) = if x < 0 then -x else x"] + asks * 3
    run, reference = both("\n".join(program))
    assert run.warnings[0] == ("derivative of sqrt is infinite at 0", (6, 7))
    assert run.printed[-1].splitlines()[-1].startswith("likely cause: numeric differences")


def _same(got, expected) -> bool:
    """Equal, numbers within 1e-12 (forward and reverse mode sum in different orders),
    tensors element by element."""
    if hasattr(got, "tolist"):
        got = got.tolist()
    if hasattr(expected, "tolist"):
        expected = expected.tolist()
    if isinstance(got, (list, tuple)) and isinstance(expected, (list, tuple)):
        return len(got) == len(expected) and all(map(_same, got, expected))
    if type(got) is float and type(expected) is float:
        return got == expected or (got != got and expected != expected) \
            or abs(got - expected) <= 1e-12 * max(abs(expected), 1.0)
    return type(got) is type(expected) and str(got) == str(expected)


# Forward and numeric gradients by compiled code -----------------------------------------

SUM = "f(a, b, c) = sin(a*b) + sin(b*c) + a^2 + b^2 + c^2"


def test_a_forward_gradient_is_one_compiled_tangent_sweep_per_variable(monkeypatch):
    run, reference = both(f"{SUM}\nf(0.1, 0.2, 0.3)\nf(0.1, 0.2, 0.3)\n"
                          "grad f at (0.1, 0.2, 0.3) using forward")
    sweeps = []
    cache = run.it.evaluator.compiled
    original = cache.run
    monkeypatch.setattr(cache, "run", lambda ev, fn, args, gradient: sweeps.append(gradient)
                        or original(ev, fn, args, gradient))
    got = run("grad f at (0.1, 0.2, 0.3) using forward")[0]
    assert sweeps == [(1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)]
    assert list(got) == pytest.approx(list(run("grad f at (0.1, 0.2, 0.3)")[0]), rel=1e-15)
    assert run.it.evaluator.nodes < 20  # no trace of f


def test_a_numeric_gradient_evaluates_the_compiled_value_not_a_trace_per_point(monkeypatch):
    run, reference = both(f"{SUM}\nf(0.1, 0.2, 0.3)\nf(0.1, 0.2, 0.3)\n"
                          "grad f at (0.1, 0.2, 0.3) using numeric\n"
                          "d/db f(a, b, c) at a = 0.1, b = 0.2, c = 0.3 using numeric")
    traces = []
    original = Problem.output_at
    monkeypatch.setattr(Problem, "output_at",
                        lambda self, values: traces.append(1) or original(self, values))
    got = run("grad f at (0.1, 0.2, 0.3) using numeric")
    compiled_traces, traces[:] = len(traces), []
    assert _same(got, reference("grad f at (0.1, 0.2, 0.3) using numeric"))
    assert compiled_traces == 0 and len(traces) >= 6  # (two points a variable at least)


def test_a_directive_over_an_expression_asked_again_runs_its_compiled_tape(monkeypatch):
    run, reference = Run(True), Run(False)
    a_reads_a_variable = "d/dt t^2*a at t = 0.5"
    for _ in range(3):  # (it.run parses a source once: the same expression each time)
        for source in ("d/dt t^2*sin(t) at t = 0.5", "d/dt t^2*sin(t) at t = 0.25 using reverse",
                       "a = 2", a_reads_a_variable, "grad s*sin(t) at s = 0.5, t = 2",
                       "grad s*sin(t) wrt t at s = 0.5, t = 2 using forward"):
            assert _same(run(source), reference(source))
    traces = counting_traces(monkeypatch)
    assert run("d/dt t^2*sin(t) at t = 0.5") == reference("d/dt t^2*sin(t) at t = 0.5")
    assert run("d/dt t^2*sin(t) at t = 0.25 using reverse") \
        == reference("d/dt t^2*sin(t) at t = 0.25 using reverse")
    for source in ("grad s*sin(t) at s = 0.5, t = 2",
                   "grad s*sin(t) wrt t at s = 0.5, t = 2 using forward"):
        assert _same(run(source), reference(source))
    assert len(traces) == 4  # the reference's four: the compiled tapes served all
    traces[:] = []
    assert run(a_reads_a_variable) == reference(a_reads_a_variable)
    assert len(traces) == 1  # the reference's: a variable read is served compiled too
    for source in ("v = d/dt t^2*a at t = 0.5", "d/da v", "a = 3", "d/dt t^2*a at t = 0.5"):
        assert _same(run(source), reference(source))
    v = run.it.globals["v"].node
    assert v.op is table.DERIVED and [n.value for n in v.inputs] == [2.0]  # over a


def test_a_script_that_calls_no_function_twice_loads_no_compiler():
    import subprocess
    import sys
    from pathlib import Path
    code = ("import sys, diffi; it = diffi.Interpreter(); print(it.run(sys.argv[1])); "
            "print('diffi.compile.cache' in sys.modules)")
    root = Path(__file__).resolve().parents[2]
    once = subprocess.run([sys.executable, "-c", code, "f(x) = x^2\ng(x) = f(x) + 1\ng(3)"],
                          cwd=root, capture_output=True, text=True, timeout=60)
    assert once.stdout.split("\n")[:2] == ["[10.0]", "False"]
    twice = subprocess.run([sys.executable, "-c", code, "f(x) = x^2\nf(3) + f(4)"],
                           cwd=root, capture_output=True, text=True, timeout=60)
    assert twice.stdout.split("\n")[:2] == ["[25.0]", "True"]


# One meaning wherever a directive is written: top level, a block, a function's body, a
# block in a body. Each directive kind, asked at changing points and with the names
# around it changing, runs compiled code in every place from its second time (no trace),
# and every answer is the interpreter's; a tape that would keep a value of the scope
# around it (a parameter that is not one of its variables) is never kept.
_DIRECTIVES = {  # kind: (directive over x and y, by parameters p and q)
    "d/dx": "d/dx c(x)*y", "d2/dx2": "d2/dx2 c(x)*y", "grad": "grad c(x)*y wrt x, y",
    "grad forward": "grad c(x)*y wrt x, y using forward", "hessian": "hessian c(x)*y wrt x, y",
    "jacobian": "jacobian [c(x)*y, x - y] wrt x, y", "check": "check c(x)*y wrt x, y",
    "d/dx symbolic": "d/dx c(x)*y using symbolic",
    "grad symbolic": "grad c(x)*y wrt x, y using symbolic",
    "d/dx numeric": "d/dx c(x)*y using numeric",
    "grad numeric": "grad c(x)*y wrt x, y using numeric",
    "d/dx richardson": "d/dx c(x)*y using numeric(method = \"richardson\")",
}


def _placed(directive: str, where: str, k: int) -> tuple[list, list]:
    """(definitions, statements) asking the directive in one place, at changing points."""
    at = directive.split(" using ")
    point = "at x = {x}, y = {y}"
    text = f"{at[0]} {point}" + (f" using {at[1]}" if len(at) > 1 else "")
    points = [dict(x=0.5, y=2.0), dict(x=0.25, y=-1.5), dict(x=1.5, y=0.75)]
    if where == "top":
        return [], [text.format(**p) for p in points]
    if where == "block":
        return [], ["{ t = 1; " + text.format(**p) + " }" for p in points]
    body = text.format(x="p", y="q")
    if where == "body":
        return [f"b{k}(p, q) = {body}"], [f"b{k}({p['x']}, {p['y']})" for p in points]
    return ([f"b{k}(p, q) = {{ s = p; {body} }}"],  # (a block in a body)
            [f"b{k}({p['x']}, {p['y']})" for p in points])


@pytest.mark.parametrize("where", ["top", "block", "body", "block in body"])
def test_a_directive_runs_compiled_code_wherever_it_is_written(where, monkeypatch):
    run, reference = Run(True), Run(False)
    definitions = ["c(t) = sin(t)*t + exp(t/3)"]
    asks = []
    for k, directive in enumerate(_DIRECTIVES.values()):
        more, statements = _placed(directive, where, k)
        definitions += more
        asks += statements
    for source in definitions + asks * 2:
        assert _same(run(source), reference(source)), source
    traces = counting_traces(monkeypatch)
    for source in asks:
        got = run(source)
        assert traces == [], source  # served by compiled code
        assert _same(got, reference(source)), source
        traces[:] = []
    assert run.warnings == reference.warnings and run.printed == reference.printed


@pytest.mark.parametrize("body", [
    "b(p, q) = grad c(p)*q wrt p",             # q: a parameter the tape would keep
    "b(p, q) = { r = q*2; d/dp c(p)*r }",      # r: a block's name, made from q
    "b(p, q) = hessian c(p)*q*p wrt p",
    "b(p, q) = jacobian [c(p)*q, p] wrt p",
    "b(p, q) = check c(p)*q wrt p",
    # a point set to parameters: the result is over q too (a compiled b kept the q of
    # the call it was traced at: a silent wrong answer)
    "b(p, q) = d/dx c(x)*y at x = p, y = q",
    "b(p, q) = d2/dx2 c(x)*y at x = p, y = q",
    "b(p, q) = (grad c(x)*y*x wrt x at x = p, y = q)[0]",
    "b(p, q) = (hessian c(x)*y*x wrt x at x = p, y = q)[0][0]",
    "b(p, q) = (jacobian [c(x)*y, x] wrt x at x = p, y = -q)[0][0]",
])
def test_a_directive_never_keeps_a_value_of_the_scope_around_it(body):
    program = ["c(t) = sin(t)*t + exp(t/3)", body]
    program += [f"b({p}, {q})" for p, q in [(0.5, 2), (0.5, 3), (0.25, -1), (0.5, 2), (0.5, 7)]] * 2
    both("\n".join(program))


# grad over tensors (a loss by its weights) asked again runs its compiled NumPy code
_TENSOR_DATA = ["seed(3)", "X = randn(7, 3)", "Y = onehot([0, 1, 2, 1, 0, 2, 2], 3)",
                "W = randn(3, 4)", "V = randn(4, 3)", "c = randn(4)", "b = 0.7"]


@pytest.mark.parametrize("loss", [
    "{ Z = sigmoid(X @ W); U = Z @ V; -mean(sum(U*Y, 1) - logsumexp(U)) }",
    "sum((X @ W) * b) + mean(sum(W, 0) * c) + b^2 + sum(V)",
    "dot(c, c) + sum(W @ c) + sum(softmax(X @ W @ V) * Y) + b",
    "if sum(W) > 0 then sum(W^2) + sum(V*b) + sum(c) else sum(W^3) + sum(V) - sum(c*b)",
])
def test_grad_over_tensors_asked_again_runs_compiled_code(loss, monkeypatch):
    run, reference = Run(True), Run(False)
    asks = ["grad L(W, V, c, b) wrt W, V, c, b", "g(W, V) = grad L(W, V, c, b) wrt W, V",
            "g(W, V)", "grad L(W, V, c, b) wrt W at W = W * 2"]
    steps = ["W = W - 0.3", "W = -W", "W = W * 0.5"]  # (W: an input of every ask)
    program = _TENSOR_DATA + [f"L(W, V, c, b) = {loss}"]
    for source in program + asks * 2:
        assert _same(run(source), reference(source)), source
    traces = counting_traces(monkeypatch)
    for step in steps:
        assert _same(run(step), reference(step))
        for source in asks:
            traces[:] = []
            got = run(source)
            if not source.startswith("g(W, V) ="):  # (a definition: nothing to serve)
                assert len(traces) <= (1 if "if" in loss else 0), source
            assert _same(got, reference(source)), source
    for source in ["b = b + 1"] + asks * 2:  # (a global the tapes read: traced again)
        assert _same(run(source), reference(source)), source
    assert run.warnings == reference.warnings


def test_a_tensor_grad_keeps_to_the_shapes_and_results_it_was_compiled_for():
    # a weight that changes shape, a loss that overflows (the interpreter warns), and a
    # gradient that is the input itself (sum(W*W)/2 by W is W: a copy, never W's array)
    asks = ["grad sum(W*W)/2 wrt W", "grad sum(exp(W*k)) wrt W", "G = grad sum(W*W)/2 wrt W"]
    program = ["W = [[1, 2], [3, 4]]", "k = 1"] + asks * 2 + [
        "W = [1, 2, 3]"] + asks * 2 + ["k = 1000"] + asks * 2 + ["W = [[1, 2]]"] + asks + [
        "G", "W"]
    run, reference = both("\n".join(program))
    assert run.it["G"] is not run.it["W"]



def test_numeric_and_symbolic_results_over_a_variable_are_nodes_over_it():
    # compiled values serve numeric mode's evaluations and symbolic mode's formulas, and
    # the result still depends on the global it reads (d/da of it is not 0)
    asks = ["v = d/dx c(x) at x = 0.5 using numeric", "d/da v",
            "w = grad c(x)*x wrt x at x = 0.5 using symbolic", "d/da w",
            "u = grad f at (0.5, 2) using symbolic", "d/da u", "grad f at (0.5, 2) using numeric"]
    run, reference = both("\n".join(["a = 0.7", "c(t) = sin(t)*a + t^2",
                                      "f(p, q) = c(p)*q"] + asks * 3 + ["a = 2"] + asks * 2))
    assert run.it.globals["v"].node.op is table.DERIVED


def test_whole_number_powers_are_written_as_an_operator_with_the_interpreters_values():
    # x^2 is x ** 2.0 in the value's code (the same C pow() as math.pow, without a call);
    # negative bases, 0 to a negative power (the interpreter's warning), overflow, and
    # a fractional power (still math.pow) give the interpreter's values bit for bit
    program = ["p(x) = x^2 + x^3 - x^-1 + (x - 1)^4 + x^0 + x^-3", "q(x) = abs(x)^1.5 + x^2"]
    points = [0.3, -2.5, 7.25, -1e-3, 0, 1e103, -1e200, 3]
    calls = [f"{f}({x})" for x in points for f in ("p", "q")] * 3
    run, reference = both("\n".join(program + calls))
    for source in calls:
        got, expected = run(source), reference(source)
        assert len(got) == len(expected) == 1, source
        assert got[0] == expected[0] or got[0] != got[0] and expected[0] != expected[0], source


def test_calls_with_tensors_run_compiled_numpy_code_with_the_interpreters_results(
        monkeypatch):
    # a loss, a tensor-valued function, a derivative through a compiled tensor call, a
    # function called with numbers and with tensors, one whose tensor code cannot be
    # written (a tuple), rebinding a global it reads, a weight of another shape
    program = _TENSOR_DATA + [
        "L(W, V) = { Z = sigmoid(X @ W); U = Z @ V; -mean(sum(U*Y, 1) - logsumexp(U)) }",
        "F(W) = tanh(X @ W) * b", "s(x) = x^2 + b", "t(W) = (W, sum(W))"]
    calls = ["L(W, V)", "F(W)", "d/dW sum(F(W))", "s(W)", "s(1.5)", "t(W)", "t(2.5)",
             "G = F(W * 2)", "d/dW sum(G)"]
    steps = ["W = W - 0.3", "X = X * 2", "W = randn(3, 5)", "V = randn(5, 3)"]
    script = program + calls * 3
    for step in steps:
        script += [step] + calls * 2
    run, reference = both("\n".join(script))
    entries = run.it.evaluator.compiled.entries
    by_name = {fn.name: entry for fn, entry in entries.items()}
    assert any(isinstance(c, tensor.TensorTape) for c in by_name["L"].variants)
    assert any(isinstance(c, tensor.TensorTape) for c in by_name["s"].variants)
    assert any(not isinstance(c, tensor.TensorTape) for c in by_name["s"].variants)
    assert by_name["t"].no_tensors  # (its value is a tuple: no tensor code, interpreted)


def test_the_apis_grad_of_a_function_of_tensors_is_the_directives():
    program = _TENSOR_DATA + [
        "L(W, V, b) = { Z = sigmoid(X @ W); U = Z @ V; -mean(sum(U*Y, 1) - logsumexp(U)) * b }",
        "N(W) = sum(W*W) / 2"]
    compiled, reference = Run(True), Run(False)
    for run in (compiled, reference):
        for line in program:
            run.it.run(line)
    for _ in range(4):
        W, V = compiled.it["W"], compiled.it["V"]
        got = compiled.it.grad("L", at=(W, V, 2))
        expected = reference.it.grad("L", at=(W, V, 2))
        assert type(got) is tuple and len(got) == 3 and type(got[2]) is float
        assert _same(got, expected)
        alone = compiled.it.grad("N", at=(W,))
        assert alone.shape == W.shape and _same(alone, reference.it.grad("N", at=(W,)))
        assert alone is not W and not np.shares_memory(alone, W)
        for run in (compiled, reference):
            run.it.run("W = W - 0.1")


# A built-in whose value its arguments decide, with no derivative (argmax, onehot, size,
# shape, zeros(n), ones(n), eye(n)), was a constant in the graph: compiled code kept the
# value of the call it was traced at (f(2) of f(k) = sum(onehot(k, 3) * [10, 20, 30])
# gave 20), and a bound name re-evaluated at a point kept it too.
_VALUE_CALLS = {
    "argmax": ("g(x) = argmax([x, 1, 2]) + x", [(0.5, 2.5), (5, 5), (1.5, 3.5)]),
    "onehot": ("g(x) = sum(onehot(x, 3) * [10, 20, 30])", [(0, 10), (1, 20), (2, 30)]),
    "size": ("g(x) = size(zeros(x)) + x", [(2, 4), (3, 6), (4, 8)]),
    "shape": ("g(x) = shape(ones(x, 2))[0] * x", [(2, 4), (3, 9), (1, 1)]),
    "eye": ("g(x) = sum(eye(x)) - x", [(2, 0), (3, 0), (5, 0)]),
    "argmax of a tensor": ("g(x) = argmax([[x, 1], [2, 3]], axis = 1)[0] + x",
                           [(0.5, 1.5), (5, 5), (0.5, 1.5)]),
}


@pytest.mark.parametrize("name", list(_VALUE_CALLS))
def test_a_value_a_built_in_makes_from_its_arguments_is_made_again_at_every_call(name):
    definition, cases = _VALUE_CALLS[name]
    calls = [f"g({x})" for x, _ in cases] * 3
    run, _ = both("\n".join([definition] + calls))
    for x, expected in cases * 2:
        assert run(f"g({x})") == [expected]


@pytest.mark.parametrize("name, mode", [
    (name, mode) for name in _VALUE_CALLS for mode in ("forward", "reverse", "symbolic")
] + [(name, "numeric") for name in _VALUE_CALLS if name.startswith("argmax")])
def test_a_bound_name_re_evaluated_at_a_point_makes_the_value_again(name, mode):
    # y = g(x) bound at x = 1, then d/dx y*x at each a: y re-evaluated at a, so the
    # product rule gives g(a) + a·g'(a), as the directives on g itself say (numeric
    # mode where g takes any number: onehot, zeros and eye take whole numbers)
    definition, cases = _VALUE_CALLS[name]
    run, _ = both("\n".join([definition, "x = 1", "y = g(x)"] + [
        f"d/dx y*x at x = {a} using {mode}" for a, _ in cases] * 2))
    for a, value in cases:
        slope = run(f"d/dx g(x) at x = {a}")[0]
        got = run(f"d/dx y*x at x = {a} using {mode}")[0]
        assert got == pytest.approx(value + a * slope, rel=1e-6, abs=1e-6), (a, got)


# What a compiled directive's tape read, and what moved with its inputs, stays guarded
@pytest.mark.parametrize("program", [
    # a directive in a function's body, served by its tape while the function is
    # traced: the function's code must guard what the directive read (a, c)
    ["a = 2", "b(p) = d/dx a*x^2 at x = p"] + ["b(1)"] * 3 + ["a = 3", "b(1)", "b(2)"],
    ["c(t) = t^2", "b(p) = d/dx c(x) at x = p"] + ["b(1)"] * 3 + ["c(t) = t^3", "b(1)"],
    ["a = 2", "b(p) = d/dx a*sin(x) at x = p"] + ["b(1)"] * 3 + ["a = 3", "d/da b(1)"],
    ["a = 2", "b(p) = grad a*x^2*y wrt x, y at x = p, y = 1"] + ["b(1)"] * 3 + [
        "a = 5", "b(1)"],
    # a global that moved with a point's variable when traced (V = W*2 read at W = …)
    # does not once W is bound anew: the tape keeps W's guard
    ["W = [1, 2]", "V = W*2"] + ["grad sum(W*V) wrt W at W = [1, 1]"] * 3 + [
        "W = [3, 4]"] + ["grad sum(W*V) wrt W at W = [1, 1]"] * 2,
    ["x = 1", "y = x*2"] + ["d/dx x*y at x = 0.5"] * 3 + ["x = 3"] + ["d/dx x*y at x = 0.5"] * 2,
    # in a body that is not compiled itself (its directive took a branch), the result
    # of the directive's tape stands over this call's point, not the one it was traced
    # at (d/da b(0.7, 2) used y = 1 from b(1, 1): half the answer)
    ["a = 2", "b(p, q) = d/dx if x > 0 then x^3*y*a else -x*y^2 at x = p, y = q"] + [
        "b(1, 1)"] * 3 + ["d/da b(0.7, 2)", "r = b(0.7, 2)", "d/da r", "d/dq b(0.7, q) at q = 3"],
])
def test_a_compiled_directive_keeps_the_guards_of_what_it_read(program):
    both("\n".join(program))


def test_a_kept_training_code_keeps_the_guard_of_a_name_moving_with_a_weight(monkeypatch):
    # v = w*2 moves with w while minimize runs; after it, w is bound anew and v does not
    # move with it: the next minimize traces again, and each final loss is the one the
    # loss's expression then has (as the interpreter computes it)
    program = ["w = [1, 2]", "v = w * 2"] + [
        "minimize sum((w - v)^2) wrt w using gd(rate = 0.25, steps = 1)"] * 3 + ["w", "v"]
    compiled = Run(True)
    got = [compiled(line) for line in program]
    monkeypatch.setattr(__import__("diffi.directives.training", fromlist=["x"]),
                        "compile_problem", _no_training_code)
    reference = Run(False)
    expected = [reference(line) for line in program]
    assert all(_same(g, e) for g, e in zip(got, expected)), (got, expected)


def _no_training_code(problem, values):
    from diffi.compile.writers import NotCompilable
    raise NotCompilable("the reference traces every step")


@pytest.mark.parametrize("program", [
    # a directive in a body took an `if` branch: its result (a formula of the branch
    # taken) cannot test it, so the function is not compiled (it kept the branch)
    ["b(p) = d/dx if x > 0 then x else -x^3 at x = p"] + [
        f"b({p})" for p in (0.5, 0.6, -0.3, 0.5, -2)] * 2,
    ["b(p) = d/dx if x > 0 then x^2 else -x^3 at x = p"] + [
        f"d/dq b(q) at q = {q}" for q in (1, 1, 1, -1, 2, -1)],
    ["b(p) = grad (if x > 0 and y > 0 then x*y else x - y) wrt x, y at x = p, y = 1"] + [
        f"b({p})" for p in (1, 2, -1, 3, -2)] * 2,
    ["W = [1, -2]", "b(V) = sum(grad sum(if sum(W) > 0 then W*V else W^2*V) wrt W)"] + [
        f"b({v})" for v in (1, 2, 3)] + ["W = [2, 1]"] + [f"b({v})" for v in (1, 2, 3)],
])
def test_a_directive_that_took_a_branch_is_never_compiled_into_its_caller(program):
    both("\n".join(program))


@pytest.mark.parametrize("program", [
    # a directive by a global, inside a function's body: the function's code guards the
    # global (the directive's own tape takes it as an argument)
    ["x = 2", "b(p) = p * (d/dx x^3)"] + ["b(1)"] * 4 + ["x = 3", "b(1)", "b(2)"],
    ["x = 2", "b(p) = p * (d/dx x^3 using symbolic)"] + ["b(1)"] * 4 + ["x = 3", "b(1)"],
    ["x = 2", "y = 1", "b(p) = p * (grad x^3*y wrt x, y)[0]"] + ["b(1)"] * 4 + [
        "x = 3", "b(1)", "y = 2", "b(1)"],
])
def test_a_function_guards_the_globals_its_directive_differentiates_by(program):
    both("\n".join(program))


def test_the_apis_tensor_grad_at_a_new_shape_is_the_directives():
    # the API's compiled gradient misses at a new shape; the directive it falls back to
    # gets numbers only from the function cache (it summed tensors as numbers: an
    # internal error)
    compiled, reference = Run(True), Run(False)
    for run in (compiled, reference):
        run.it.run("g(W) = sum(W)^2")
    for shape in [(2,), (2,), (2,), (3,), (3,), (2, 2)]:
        W = np.arange(1.0, 1.0 + np.prod(shape)).reshape(shape)
        got, expected = compiled.it.grad("g", at=(W,)), reference.it.grad("g", at=(W,))
        assert got.shape == W.shape and _same(got, expected)


def test_numeric_mode_keeps_no_problem_and_traces_only_at_its_point(monkeypatch):
    import gc
    import weakref
    it = diffi.Interpreter(warn=lambda m, s: None)
    for _ in range(5):
        it.run("d/dx x^2*sin(x) at x = 0.5 using numeric")
    ref = weakref.ref(it)
    del it
    gc.collect()
    assert ref() is None  # (a module's cache kept the problem, and so the interpreter)
    run = Run(True)
    run("d/dx (if x > 1 then x^3 else x^2) at x = 1 using numeric")
    traces = counting_traces(monkeypatch)
    run("d/dx (if x > 1 then x^3 else x^2) at x = 1 using numeric")
    assert len(traces) <= 2  # (one at the point; none for each perturbed point)
    entries = run.it.evaluator.compiled.expressions.values()
    assert all(len(e.variants) <= 1 for e in entries)


# Every directive × mode × expression, asked at a point of global expressions at top
# level and at a point of parameters in a body, with the globals rebound between asks
# and derivatives of the results taken after: each value is the interpreter's.
_MATRIX_DIRECTIVES = [
    "d/dx {E} at x = {P}, y = {Q}{M}", "grad {E} wrt x, y at x = {P}, y = {Q}{M}",
    "grad {E} wrt x at x = {P}, y = {Q}{M}", "d2/dx2 {E} at x = {P}, y = {Q}",
    "d3/dx3 {E} at x = {P}, y = {Q}", "hessian {E} wrt x, y at x = {P}, y = {Q}",
    "jacobian [{E}, x*y, sin(x)*a] wrt x, y at x = {P}, y = {Q}",
    "check {E} wrt x, y at x = {P}, y = {Q}"]
_MATRIX_MODES = ["", " using reverse", " using forward", " using symbolic", " using numeric"]
_MATRIX_EXPRESSIONS = ["c(x)*y + a*x", "x^2*y^3 - a", "sin(x*y)*a + y^2",
                       "if x > 0 then x^3*y*a else -x*y^2"]


def _matrix_cases():
    for directive in _MATRIX_DIRECTIVES:
        for mode in _MATRIX_MODES if "{M}" in directive else [""]:
            yield directive.replace("{M}", mode)


@pytest.mark.parametrize("directive", list(_matrix_cases()))
def test_every_directive_and_mode_at_a_point_of_expressions_is_the_interpreters(directive):
    for expr in _MATRIX_EXPRESSIONS:
        d = directive.replace("{E}", expr)
        top = ["a = 2", "c(t) = sin(t)*a + t^2", "p = 0.5", "q = -1.5"]
        for step in ["", "a = 3", "q = 2\np = -0.3"]:
            top += ([step] if step else []) + ["r = " + d.format(P="p", Q="q"), "r",
                                               "d/da r", "d/dq r", "d/dp r"]
        top += ["r = " + d.format(P="-p", Q="q*2"), "d/da r", "d/dq r", "d/dp r"] * 3
        body = ["a = 2", "c(t) = sin(t)*a + t^2", "b(p, q) = " + d.format(P="p", Q="q"),
                "b(0.5, -1.5)", "b(0.5, 2)", "b(-0.3, 2)", "b(-0.3, 1.5)", "a = 3",
                "b(-0.3, 1.5)", "b(1, 1)", "d/ds b(s, 2) at s = 0.7",
                "d/ds b(0.7, s) at s = 2", "d/da b(0.7, 2)", "d/ds b(s, 2) at s = 0.7",
                "d/ds b(0.7, s) at s = 3"]
        for program in (top, body):
            compiled, reference = Run(True), Run(False)
            for line in program:
                got, expected = compiled(line), reference(line)
                assert _close(got, expected), (program, line, got, expected)


def _close(got, expected) -> bool:
    """Equal values to 1e-10 relative (the modes sum in different orders), NaN to NaN;
    errors word for word."""
    if isinstance(got, str) or isinstance(expected, str):
        return got == expected
    got, expected = np.asarray(got, dtype=object), np.asarray(expected, dtype=object)
    flat = [np.asarray(v, dtype=float).ravel() if not isinstance(v, str) else v
            for v in (got.tolist(), expected.tolist())]
    if any(isinstance(v, str) for v in flat):
        return str(got) == str(expected)
    a, b = flat
    return a.shape == b.shape and bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))
                                              | (np.abs(a - b) <= 1e-10 * np.maximum(
                                                  np.abs(b), 1.0))))
