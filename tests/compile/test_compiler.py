"""Compiled tapes (diffi/compile/): same values and derivatives as the interpreter,
guards on `if` branches and globals, and the interpreter's IEEE rules on exceptions,
with the bytecode writer and with the source writer."""
from __future__ import annotations

import dis
import math
import sys

import pytest

import diffi
from diffi import table
from diffi.table import reader
from diffi.compile import scalar, writers
from diffi.compile.cache import Cache
from diffi.compile.scalar import Compiled, compile_function
from diffi.compile.writers import NotCompilable

SOURCE = "f(x, y) = x*y + sin(x) / (1 + y^2) + exp(-x^2) * atan2(y, x)"


pytestmark = pytest.mark.usefixtures("writer")  # (each writer: conftest.py)


@pytest.fixture()
def it():
    interpreter = diffi.Interpreter()
    interpreter.run(SOURCE)
    return interpreter


def compiled_of(it, name, args) -> Compiled:
    fn = it.globals[name].node.value
    it.evaluator.begin_statement()
    return compile_function(it.evaluator, fn, args)


@pytest.mark.parametrize("point", [(3.0, 0.5), (-1.2, 2.0), (0.1, -0.3)])
def test_value_gradient_and_tangent_match_the_interpreter(it, point):
    compiled = compiled_of(it, "f", point)
    value, grads = compiled.value_and_grad(*point)
    at = {"x": point[0], "y": point[1]}
    assert value == pytest.approx(it.eval(f"f({point[0]!r}, {point[1]!r})"), rel=1e-15)
    expected = it.grad("f(x, y)", wrt=["x", "y"], at=at)  # traced, not compiled
    assert grads == pytest.approx(tuple(expected), rel=1e-13)
    _, tangent = compiled.value_and_tangent(*point, 1.0, 0.0)
    assert tangent == pytest.approx(expected[0], rel=1e-13)


def test_the_second_call_compiles_and_then_gradients_come_from_the_tape(it):
    f = it["f"]
    assert it.evaluator.compiled.entries == {}
    f(1.0, 2.0)
    assert all(not entry.variants for entry in it.evaluator.compiled.entries.values())
    f(1.0, 2.0)
    (entry,) = it.evaluator.compiled.entries.values()
    assert len(entry.variants) == 1
    grad = it.grad("f", at=(1.0, 2.0))
    traced = it.grad("f(x, y)", wrt=["x", "y"], at={"x": 1.0, "y": 2.0})
    assert list(grad) == pytest.approx(list(traced), rel=1e-13)


def test_an_if_on_the_other_branch_makes_a_second_variant():
    it = diffi.Interpreter()
    it.run("h(x) = if x > 0 then x^2 else -3*x")
    h = it["h"]
    assert [h(2.0), h(2.0), h(-1.0), h(-1.0), h(3.0)] == [4.0, 4.0, 3.0, 3.0, 9.0]
    (entry,) = it.evaluator.compiled.entries.values()
    assert len(entry.variants) == 2  # one tape per branch pattern
    assert list(it.grad("h", at=(-1.0,))) == [-3.0]
    assert list(it.grad("h", at=(2.0,))) == [4.0]


def test_rebinding_a_global_the_function_reads_invalidates_the_tape():
    it = diffi.Interpreter()
    it.run("scale = 2\ng(t) = scale * t^2")
    g = it["g"]
    assert g(3.0) == 18.0 and g(3.0) == 18.0
    it.run("scale = 5")
    assert g(3.0) == 45.0
    assert list(it.grad("g", at=(3.0,))) == [30.0]


def test_shadowing_a_builtin_the_function_used_invalidates_the_tape():
    it = diffi.Interpreter()
    it.run("k(t) = sin(t)")
    k = it["k"]
    assert k(1.0) == k(1.0) == math.sin(1.0)
    it.run("sin(t) = 2*t")
    assert k(1.0) == 2.0


def test_float_exceptions_fall_back_to_the_interpreter_with_its_warning():
    seen = []
    it = diffi.Interpreter(warn=lambda message, span: seen.append(message))
    it.run("lg(t) = log(t)")
    lg = it["lg"]
    assert lg(1.0) == 0.0 and lg(1.0) == 0.0  # compiled now
    assert lg(0.0) == -math.inf
    assert seen == ["value of log is infinite at 0"]


def test_non_finite_gradients_come_from_the_interpreter_with_their_warning():
    seen = []
    it = diffi.Interpreter(warn=lambda message, span: seen.append(message))
    it.run("r(t) = sqrt(t)")
    it.grad("r", at=(4.0,)), it.grad("r", at=(4.0,))
    assert list(it.grad("r", at=(0.0,))) == [math.inf]
    assert seen == ["derivative of sqrt is infinite at 0"]


def test_tapes_with_tensors_are_not_compiled():
    it = diffi.Interpreter()
    it.run("v(t) = [t, 2*t]")
    fn = it.globals["v"].node.value
    it.evaluator.begin_statement()
    with pytest.raises(NotCompilable):
        compile_function(it.evaluator, fn, (1.0,))
    v = it["v"]
    assert [list(v(1.0)), list(v(1.0))] == [[1.0, 2.0], [1.0, 2.0]]


def test_a_recursive_function_compiles_for_its_depth_and_retraces_for_another():
    it = diffi.Interpreter()
    it.run("fact(n) = if n <= 1 then 1 else n * fact(n - 1)")
    fact = it["fact"]
    assert [fact(5.0), fact(5.0), fact(6.0), fact(3.0)] == [120.0, 120.0, 720.0, 6.0]


def test_a_cache_entry_is_per_function_object():
    it = diffi.Interpreter()
    cache = Cache()
    it.run("p(t) = t + 1")
    first = it.globals["p"].node.value
    it.evaluator.begin_statement()
    cache.run(it.evaluator, first, (1.0,), False)
    assert cache.run(it.evaluator, first, (1.0,), False) == 2.0
    it.run("p(t) = t + 2")
    second = it.globals["p"].node.value
    cache.run(it.evaluator, second, (1.0,), False)
    assert cache.run(it.evaluator, second, (1.0,), False) == 3.0


def test_the_second_call_compiles_the_first_calls_graph_without_tracing_again(monkeypatch):
    import diffi.compile.cache as caching  # (Cache.run compiles by its compile_function)
    it = diffi.Interpreter()
    it.run("q(t) = if t > 0 then t^3 else -t")
    traced = []
    monkeypatch.setattr(caching, "compile_function",
                        lambda *a: traced.append(a) or pytest.fail("traced again"))
    q = it["q"]
    assert q(2.0) == 8.0
    assert q(3.0) == 27.0  # compiled from q(2)'s graph: its guard holds at 3
    assert traced == []


def test_fused_value_code_keeps_every_if_guard():
    it = diffi.Interpreter()
    it.run("s(t) = 2 * (if t > 0 then t else 0) + 1")
    s = it["s"]
    assert [s(1.0), s(1.0), s(-1.0), s(-1.0)] == [3.0, 3.0, 1.0, 1.0]


def test_an_uncompilable_function_keeps_working_through_the_interpreter():
    it = diffi.Interpreter()
    it.run("f(x) = sum([x, x])")
    f = it["f"]
    assert [f(2.0), f(2.0), f(3.0)] == [4.0, 4.0, 6.0]
    assert list(it.grad("f", at=(2.0,))) == list(it.grad("f", at=(2.0,))) == [2.0]


def test_a_closure_is_not_compiled_so_its_captured_names_stay_live():
    it = diffi.Interpreter()
    assert list(it.eval("{ a = 1; g(x) = x*a; u = grad g at 1; v = grad g at 1; a = 5; "
                        "grad g at 1 }")) == [5.0]


def test_arithmetic_on_a_truth_value_is_left_to_the_interpreter():
    # the interpreter negates 0.0 to -0.0; Python's -False is the integer 0
    it = diffi.Interpreter()
    it.run("f(x, y) = atan2(-(x > 1), -1) + y")
    f = it["f"]
    assert [f(0.5, 3.0), f(0.5, 3.0)] == [3.0 - math.pi] * 2
    fn = it.globals["f"].node.value
    it.evaluator.begin_statement()
    with pytest.raises(NotCompilable, match="truth value"):
        compile_function(it.evaluator, fn, (0.5, 3.0))


def test_a_comparison_of_truth_values_still_compiles(it):
    it.run("c(x) = if (x > 1) == (x > 2) then x^2 else -x")
    fn = it.globals["c"].node.value
    it.evaluator.begin_statement()
    compiled = compile_function(it.evaluator, fn, (0.5,))
    assert compiled.value_and_grad(0.5) == (0.25, (1.0,))


def test_forward_mode_skips_partials_the_output_does_not_depend_on():
    # hypot's partials divide by hypot(0, 0) = 0, but ceil's derivative is zero anyway
    it = diffi.Interpreter()
    it.run("f(x, y) = x + ceil(hypot(0, y - y))")
    fn = it.globals["f"].node.value
    it.evaluator.begin_statement()
    compiled = compile_function(it.evaluator, fn, (1.0, 2.0))
    assert compiled.value_and_tangent(1.0, 2.0, 1.0, 1.0) == (1.0, 1.0)
    assert compiled.value_and_grad(1.0, 2.0) == (1.0, (1.0, 0.0))


RULED = [p for p in table.TABLE.values()
         if p.rule.kind == "partials" and (p.scalar is not None or p in writers.TEMPLATES)]


@pytest.mark.parametrize("prim", RULED, ids=lambda p: p.name)
def test_a_rule_written_once_as_a_template_computes_what_the_rule_does(prim):
    # each input's seed · partial, filled with a local and a constant, against the rule
    # run on numbers; and the writer knows which locals the filled code reads
    operands = ["a", 0.375][:prim.arity]
    at = {"a": 0.625, "seed": 1.25}
    values = [at.get(o, o) for o in operands]
    at["y"] = prim.scalar(*values) if prim.scalar else values[-1]  # (select: its branch)
    numbers = reader.elementwise_partials(prim, reader.NUMBERS, *values, at["y"])
    writer = scalar.scalar_writer(["a", "y", "seed"])
    rules = scalar._rules(writer)
    for k, (term, part) in enumerate(zip(rules[prim], numbers)):
        if part is None or term is writers.ONE:
            assert (term, part) in ((None, None), (writers.ONE, 1.0))
            continue
        line = writer.assign("r", term(*operands, "y", "seed"))
        f = writer.function("f", ["a", "y", "seed"], [line], "r")
        assert f(at["a"], at["y"], at["seed"]) == at["seed"] * part, (prim.name, k)
        # the same template in a writer where only the seed is a parameter
        alone = scalar.scalar_writer(["seed"])
        line = alone.assign("r", scalar._rules(alone)[prim][k](*operands, "y", "seed"))
        loaded = {ins.argval for ins in dis.get_instructions(
            alone.function("f", ["seed"], [line], "r"))
            if ins.opname in ("LOAD_FAST", "LOAD_GLOBAL")}
        assert {n for n in ("a", "y") if n in alone.used} == loaded & {"a", "y"}


def test_a_contribution_to_a_shared_adjoint_reaches_none_of_the_nodes_still_reading_it():
    # (a + m) + k: a, m, k and the output share one adjoint variable; k's contribution
    # to a must not reach m, which reads the variable later
    it = diffi.Interpreter()
    it.run("S(x) = { a = sin(x); m = cos(x); k = a*2; (a + m) + k }")
    _, (gradient,) = compiled_of(it, "S", (0.7,)).value_and_grad(0.7)
    assert gradient == pytest.approx(3 * math.cos(0.7) - math.sin(0.7), rel=1e-15)


def test_the_operands_of_sums_share_the_adjoint_and_write_no_line():
    # x + y + z: every adjoint is the output's; the backward sweep is `g_out = 1.0`
    it = diffi.Interpreter()
    it.run("Q(x, y, z) = x + y + z")
    compiled = compiled_of(it, "Q", (1.0, 2.0, 3.0))
    writer = compiled.writer()
    lines, grads = scalar._backward_lines(compiled._tape, compiled._names, writer)
    assert len(lines) == 1 and grads == ["g_out"] * 3
    assert compiled.value_and_grad(1.0, 2.0, 3.0) == (6.0, (1.0, 1.0, 1.0))


def test_a_contribution_to_an_adjoint_the_node_still_reads_goes_to_a_new_variable():
    # (x + y) + x: x's second contribution must not reach the variable that the inner
    # sum still reads for y
    it = diffi.Interpreter()
    it.run("T(x, y) = x + y + x")
    assert compiled_of(it, "T", (0.5, 0.25)).value_and_grad(0.5, 0.25) == (1.25, (2.0, 1.0))


def _backward_sweep_work(depth: int) -> int:
    """Lines of diffi/compile/scalar.py run by the backward sweep of x + z1 + … + zN,
    zi = sin(z(i-1)): every zi shares the output's adjoint until its own term splits it
    off, so a sweep that scans the sharers per split does work quadratic in N."""
    it = diffi.Interpreter()
    chain = "; ".join(f"z{i} = sin(z{i - 1})" for i in range(1, depth + 1))
    total = " + ".join(f"z{i}" for i in range(1, depth + 1))
    it.run(f"F(x) = {{ z0 = x; {chain}; x + {total} }}")
    compiled = compiled_of(it, "F", (0.3,))
    tape, names, writer = compiled._tape, compiled._names, compiled.writer()
    count = 0

    def trace(frame, event, arg):
        nonlocal count
        if frame.f_code.co_filename == scalar.__file__:
            count += event == "line"
            return trace
        return None

    before = sys.gettrace()  # (a debugger's or coverage's, put back after)
    sys.settrace(trace)
    try:
        scalar._backward_lines(tape, names, writer)
    finally:
        sys.settrace(before)
    return count


def test_the_backward_sweep_does_work_linear_in_the_graph_when_sums_share_adjoints():
    small, large = _backward_sweep_work(200), _backward_sweep_work(800)
    assert large / small < 4.5  # 4 when linear; scanning the sharers gave 13
