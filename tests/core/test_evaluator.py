"""The evaluator (diffi/core/evaluator.py) through the Interpreter: semantics, the graph, limits.

Expressions, statements and the graph, non-finite warnings and
§9 (limits). Directives and tensor built-ins are not covered here.
"""
from __future__ import annotations

import math
import time

import pytest

from diffi import (ArityError, DiffiNameError, DiffiSyntaxError, DiffiTypeError,
                   Interpreter, LimitError)
from diffi import table
from diffi.core.graph import ancestors


def quiet(**options) -> Interpreter:
    """An interpreter that collects its warnings instead of issuing them."""
    warnings = []
    it = Interpreter(warn=lambda message, span: warnings.append((message, span)), **options)
    it.warnings = warnings
    return it


@pytest.fixture
def it():
    return quiet()


def node(it, name):
    return it.globals[name].node


# Arithmetic and precedence -------------------------------------------------------------

@pytest.mark.parametrize("source, expected", [
    ("1 + 2 * 3", 7.0), ("(1 + 2) * 3", 9.0), ("10 - 4 - 3", 3.0), ("100 / 10 / 5", 2.0),
    ("8 / 2 * 4", 16.0), ("2 ^ 3 ^ 2", 512.0), ("2 ** 3 ** 2", 512.0), ("(2 ^ 3) ^ 2", 64.0),
    ("-2 ^ 2", -4.0), ("(-2) ^ 2", 4.0), ("2 ^ -1", 0.5), ("-2 ^ -2", -0.25),
    ("2 * 3 ^ 2", 18.0), ("2 ^ 3 * 2", 16.0), ("-3 * 2", -6.0), ("2 * -3", -6.0),
    ("- -3", 3.0), ("+3", 3.0), ("1 - -1", 2.0), ("2 ^ 2 ^ -1", 2 ** 0.5),
    ("1 + 2 < 4", True), ("2 * 3 == 6", True), ("not 1 > 2", True),
    ("not true == false", True), ("1 < 2 and 3 < 2", False), ("true or false and false", True),
    ("(true or false) and false", False), ("not false and false", False),
    ("if 1 < 2 then 3 else 4 + 10", 3.0), ("if 1 > 2 then 3 else 4 + 10", 14.0),
    ("(if 1 > 2 then 3 else 4) + 10", 14.0), ("if 0 then 1 else 2", 2.0),
    ("if 0.5 then 1 else 2", 1.0), ("if true then if false then 1 else 2 else 3", 2.0),
    ("sin(pi / 2) + cos(0)", 2.0), ("pi", math.pi), ("π", math.pi), ("e", math.e),
    ("1 # a comment", 1.0), ("1e-3 * 1000", 1.0),
])
def test_expression_values(source, expected, it):
    got = it.eval(source)
    assert type(got) is type(expected)
    assert got == expected


@pytest.mark.parametrize("source", ["inf", "-inf", "nan"])
def test_predefined_non_finite_constants(source, it):
    got = it.eval(source)
    assert type(got) is float
    assert repr(got) == source


def test_true_and_false_are_predefined_booleans(it):
    assert it.eval("true") is True
    assert it.eval("false") is False
    assert it.run("true\nfalse\n1 < 2") == [True, False, True]


@pytest.mark.parametrize("source, expected", [
    ("false and undefined_name", False), ("true or undefined_name", True),
    ("0 and undefined_name", False), ("1 or undefined_name", True),
    ("false and 1/0 > 0", False), ("true and 2", True), ("false or 0", False),
])
def test_and_or_short_circuit(source, expected, it):
    assert it.eval(source) is expected
    assert it.warnings == []


def test_and_evaluates_its_right_side_when_needed(it):
    with pytest.raises(DiffiNameError, match="undefined_name"):
        it.eval("true and undefined_name")
    with pytest.raises(DiffiNameError, match="undefined_name"):
        it.eval("false or undefined_name")


def test_if_evaluates_only_the_branch_taken(it):
    assert it.eval("if 1 < 2 then 5 else undefined_name") == 5.0
    assert it.eval("if 1 > 2 then undefined_name else 6") == 6.0


def test_condition_must_be_boolean_or_number(it):
    with pytest.raises(DiffiTypeError, match="condition") as info:
        it.eval("if (1, 2) then 1 else 2")
    assert (info.value.line, info.value.column) == (1, 4)


def test_no_implicit_multiplication(it):
    with pytest.raises(DiffiSyntaxError, match=r"2\*x"):
        it.run("x = 1\n2x")


def test_chained_comparison_is_an_error(it):
    with pytest.raises(DiffiSyntaxError, match="chained"):
        it.eval("1 < 2 < 3")


# Assignment, blocks and scope --------------------------------------------------------------

def test_assignment_prints_nothing_and_binds(it):
    assert it.run("x = 3") == []
    assert it.eval("x") == 3.0


def test_assignment_binds_a_new_node_later_formulas_keep_the_old(it):
    it.run("x = 3\ny = 2 * x")
    old_x = node(it, "x")
    it.run("x = 10")
    assert it.eval("y") == 6.0
    assert node(it, "y").inputs[1] is old_x
    assert node(it, "x") is not old_x and node(it, "x").value == 10.0
    assert it.eval("2 * x") == 20.0


def test_block_value_and_local_names(it):
    assert it.eval("{ a = 2; b = a * 3; b + 1 }") == 7.0
    assert "a" not in it.globals and "b" not in it.globals
    with pytest.raises(DiffiNameError, match="'a' is not defined"):
        it.eval("a")


def test_block_shadows_without_leaking(it):
    it.run("a = 100")
    assert it.eval("{ a = 1; a + 1 }") == 2.0
    assert it.eval("a") == 100.0


def test_block_reads_enclosing_names_and_spans_lines(it):
    it.run("k = 4")
    assert it.eval("{\n  t = k * 2\n  t + 1\n}") == 9.0


def test_block_local_names_label_the_graph(it):
    it.run("w = 3\nr = { a = 2 * w; a + 1 }")
    r = node(it, "r")
    assert r.op is table.ADD and r.name == "r"
    assert r.inputs[0].name == "a" and r.inputs[0].op is table.MUL
    assert r.inputs[0].inputs[1] is node(it, "w")


def test_alias_of_a_named_node(it):
    it.run("a = 5\nb = a")
    b = node(it, "b")
    assert b.name == "b" and b.value == 5.0
    assert b.inputs == (node(it, "a"),)
    assert node(it, "a").name == "a"


# The graph of a lecture ----------------------------------------------------------------------

def test_graph_of_the_spec_example(it):
    it.run("w0 = 1; w1 = 2; x = 3\na4 = w1 * x\na5 = a4 + w0\ny2 = cos(a5)")
    y2, a5, a4 = node(it, "y2"), node(it, "a5"), node(it, "a4")
    w0, w1, x = node(it, "w0"), node(it, "w1"), node(it, "x")
    assert y2.op is table.TABLE["cos"] and y2.inputs == (a5,)
    assert a5.op is table.ADD and a5.inputs == (a4, w0)
    assert a4.op is table.MUL and a4.inputs == (w1, x)
    assert [n.name for n in (y2, a5, a4, w0, w1, x)] == ["y2", "a5", "a4", "w0", "w1", "x"]
    assert (a4.value, a5.value, y2.value) == (6.0, 7.0, math.cos(7.0))
    assert it.globals["a5"].formula is not None


def test_ancestors_walk_in_topological_order(it):
    it.run("w0 = 1; w1 = 2; x = 3\na4 = w1 * x\na5 = a4 + w0\ny2 = cos(a5)")
    order = ancestors(node(it, "y2"))
    assert {n.name for n in order} == {"w0", "w1", "x", "a4", "a5", "y2"}
    position = {n.name: i for i, n in enumerate(order)}
    assert position["a4"] > max(position["w1"], position["x"])
    assert position["a5"] > max(position["a4"], position["w0"])
    assert order[-1].name == "y2"


def test_operation_nodes_carry_source_spans(it):
    it.run("x = 3\ny = 1 + x * 2")
    y = node(it, "y")
    assert (y.span.line, y.span.column) == (2, 7)             # the '+'
    assert (y.inputs[1].span.line, y.inputs[1].span.column) == (2, 11)  # the '*'


# Functions ------------------------------------------------------------------------------------

def test_function_definition_and_call(it):
    assert it.run("f(x, y) = x*y + sin(x)") == []
    assert it.eval("f(3, 0)") == math.sin(3)
    assert it.eval("f(2, 5)") == 10 + math.sin(2)
    assert it.eval("f(y = 2, x = 1)") == 2 + math.sin(1)


def test_functions_without_parameters(it):
    assert it.run("answer() = 42") == []
    assert it.eval("answer()") == 42.0
    assert str(it["answer"]) == "answer() = 42"


def test_print_with_no_arguments_prints_an_empty_line():
    lines = []
    it = Interpreter(output=lines.append)
    assert it.run('print()\nprint("a", 1)') == []
    assert lines == ["", "a 1"]


def test_a_large_tensor_prints_summarised_as_numpy_does(it):
    assert it.format(it.eval("linspace(1, 2000, 2000)")) == "[1, 2, 3, …, 1998, 1999, 2000]"
    assert it.format(it.eval("reshape(linspace(1, 1200, 1200), 40, 30)")) == (
        "[[   1,    2,    3, …,   28,   29,   30],\n"
        " [  31,   32,   33, …,   58,   59,   60],\n"
        " [  61,   62,   63, …,   88,   89,   90],\n"
        " …,\n"
        " [1111, 1112, 1113, …, 1138, 1139, 1140],\n"
        " [1141, 1142, 1143, …, 1168, 1169, 1170],\n"
        " [1171, 1172, 1173, …, 1198, 1199, 1200]]")
    # up to 1,000 elements, every one
    assert it.format(it.eval("linspace(1, 1000, 1000)")).count(", ") == 999


def test_function_value_prints_as_its_definition(it):
    it.run("f(x, y) = x*y + sin(x)\nloss(x) = { a = x^2; b = 5*a; c = log(a); -b*c }")
    assert str(it.eval("f")) == "f(x, y) = x*y + sin(x)"
    assert it.format(it.eval("f")) == "f(x, y) = x*y + sin(x)"
    assert str(it["loss"]) == "loss(x) = { a = x^2; b = 5*a; c = log(a); -b*c }"
    a = 3.0 ** 2
    assert it.eval("loss(3)") == -(5 * a) * math.log(a)


def test_function_parameters_are_local(it):
    it.run("x = 100\nf(x) = x + 1")
    assert it.eval("f(1)") == 2.0
    assert it.eval("x") == 100.0


def test_top_level_function_reads_globals_at_call_time(it):
    it.run("h(a) = a + zz")
    with pytest.raises(DiffiNameError, match="zz"):
        it.eval("h(1)")
    it.run("zz = 5")
    assert it.eval("h(1)") == 6.0
    it.run("zz = 7")
    assert it.eval("h(1)") == 8.0


def test_function_defined_in_a_block_sees_the_block(it):
    assert it.eval("{ g(t) = t + kk; kk = 5; g(1) }") == 6.0
    assert "g" not in it.globals and "kk" not in it.globals


@pytest.mark.parametrize("source, error, words", [
    ("f(1)", ArityError, "missing y"),
    ("f(1, 2, 3)", ArityError, "takes 2 arguments, got 3"),
    ("f(1, z = 2)", DiffiTypeError, "no parameter 'z'"),
    ("f(1, x = 2)", DiffiTypeError, "two values for 'x'"),
    ("sin(1, 2)", ArityError, "sin takes 1 argument, got 2"),
    ("3(2)", DiffiTypeError, "not a function"),
])
def test_call_errors(source, error, words, it):
    it.run("f(x, y) = x + y")
    with pytest.raises(error, match=words) as info:
        it.eval(source)
    assert (info.value.line, info.value.column) == (1, 1)


def test_functions_are_values(it):
    it.run("sq(t) = t * t\ntwice(g, v) = g(g(v))\nh = sq")
    assert it.eval("twice(sq, 3)") == 81.0
    assert it.eval("h(5)") == 25.0
    assert it.eval("twice(sin, 1)") == math.sin(math.sin(1))


def test_recursion(it):
    it.run("fact(n) = if n <= 1 then 1 else n * fact(n - 1)")
    assert it.eval("fact(10)") == 3628800.0
    it.run("fib(n) = if n < 2 then n else fib(n - 1) + fib(n - 2)")
    assert it.eval("fib(15)") == 610.0


def test_recursion_up_to_the_default_depth(it):
    # User recursion 1,000 deep by default; count(n) makes n nested calls.
    it.run("count(n) = if n <= 1 then 1 else 1 + count(n - 1)")
    assert it.eval("count(1000)") == 1000.0
    with pytest.raises(LimitError, match="max_depth") as info:
        it.eval("count(1001)")
    assert "1000" in str(info.value)
    assert it.eval("count(5)") == 5.0        # the session goes on


@pytest.mark.parametrize("depth", [1, 10, 50])
def test_recursion_limit_is_max_depth(depth):
    it = quiet(max_depth=depth)
    it.run("count(n) = if n <= 1 then 1 else 1 + count(n - 1)")
    assert it.eval(f"count({depth})") == float(depth)
    with pytest.raises(LimitError, match="max_depth"):
        it.eval(f"count({depth + 1})")


def test_infinite_recursion_is_a_limit_error(it):
    it.run("g(n) = g(n + 1)")
    with pytest.raises(LimitError, match=r"max_depth.*\bg\b|\bg\b.*max_depth"):
        it.eval("g(0)")


def test_calls_are_inlined_with_their_origin(it):
    it.run("w = 2\nsq(t) = t * t + 1\nz = sq(w)\nouter(u) = sq(u) * 3\nq = outer(w) - 1")
    z = node(it, "z")
    assert z.op is table.ADD and z.origin == "sq" and z.name == "z"
    mul = z.inputs[0]
    assert mul.op is table.MUL and mul.origin == "sq"
    assert mul.inputs == (node(it, "w"), node(it, "w"))   # the argument node itself
    q = node(it, "q")
    assert q.op is table.SUB and q.origin is None
    times3 = q.inputs[0]
    assert times3.op is table.MUL and times3.origin == "outer"
    # sq's second call ran its compiled code: one node, over the argument, standing for
    # the graph the interpreter records, which derivatives and `graph` see in its place
    call = times3.inputs[0]
    assert call.op is table.DERIVED and call.inputs == (node(it, "w"),)
    inlined = call.params.expand(call)
    assert inlined.origin == "sq" and inlined.op is table.ADD and inlined.value == call.value
    assert inlined.inputs[0].inputs == (node(it, "w"), node(it, "w"))
    assert q.value == (2 * 2 + 1) * 3 - 1


# Tuples and destructuring ----------------------------------------------------------------------

def test_tuples(it):
    assert it.eval("(1, 2.5)") == (1.0, 2.5)
    assert it.eval("((1, 2), 3)") == ((1.0, 2.0), 3.0)
    assert it.eval("(1, 2)[1]") == 2.0
    assert it.eval("(1, 2)[-1]") == 2.0
    assert it.format(it.eval("(1, 2.5)")) == "(1, 2.5)"


def test_destructuring(it):
    it.run("p, q = (1, 2)\ng(x) = (x, x^2)\nu, v = g(3)")
    assert (it.eval("p"), it.eval("q"), it.eval("u"), it.eval("v")) == (1.0, 2.0, 3.0, 9.0)
    assert node(it, "u").name == "u" and node(it, "v").name == "v"
    assert node(it, "v").op is table.POW


def test_destructuring_swaps(it):
    it.run("a = 1; b = 2\na, b = (b, a)")
    assert (it.eval("a"), it.eval("b")) == (2.0, 1.0)


@pytest.mark.parametrize("source, words", [
    ("a, b = (1, 2, 3)", "cannot unpack 3 values into 2 names"),
    ("a, b = 5", "cannot unpack a number into 2 names"),
])
def test_destructuring_errors_bind_nothing(source, words, it):
    it.run("a = 10")
    with pytest.raises(DiffiTypeError, match=words):
        it.run(source)
    assert it.eval("a") == 10.0 and "b" not in it.globals


def test_tuple_index_out_of_range(it):
    with pytest.raises(DiffiTypeError, match="out of range") as info:
        it.eval("(1, 2)[5]")
    assert (info.value.line, info.value.column) == (1, 8)


# Errors ---------------------------------------------------------------------------------------

def test_undefined_name_has_position_and_suggestion(it):
    it.run("alpha = 1")
    suggestion = "'alpah' is not defined; did you mean 'alpha'"
    with pytest.raises(DiffiNameError, match=suggestion) as info:
        it.run("x = 2\ny = 1 + alpah")
    assert (info.value.line, info.value.column) == (2, 9)


def test_arithmetic_on_a_tuple_is_a_type_error(it):
    with pytest.raises(DiffiTypeError, match="needs numbers, got a tuple") as info:
        it.run("x = 1\ny = (1, 2) + 1")
    assert (info.value.line, info.value.column) == (2, 12)


def test_reserved_word_cannot_be_assigned(it):
    with pytest.raises(DiffiSyntaxError, match="reserved"):
        it.run("if = 3")


def test_minimize_updates_the_variable_in_place(it):
    final = it.eval("w = 3\nminimize (w - 1)^2 wrt w using gd(rate = 0.25, steps = 20)")
    # each step halves w - 1: after 20 steps, w - 1 = 2 * 0.5^20
    assert it["w"] == pytest.approx(1 + 2 * 0.5 ** 20, rel=1e-12)
    assert final == pytest.approx((2 * 0.5 ** 20) ** 2, rel=1e-9)
    assert list(it.losses[:2]) == [4.0, 1.0]


# Deep and long programs: no RecursionError (STYLE: walks are loops) ---------------------------

def _iterate(f, x, n):
    for _ in range(n):
        x = f(x)
    return x


@pytest.mark.parametrize("source, expected", [
    ("sin(" * 10_000 + "1" + ")" * 10_000, _iterate(math.sin, 1.0, 10_000)),
    ("-(" * 10_000 + "1" + ")" * 10_000, 1.0),
    ("-" * 10_001 + "1", -1.0),
    ("(" * 10_000 + "1" + ")" * 10_000, 1.0),
    ("not " * 10_001 + "true", False),
    ("{" * 10_000 + "1" + "}" * 10_000, 1.0),
    ("1^" * 10_000 + "2", 1.0),
])
def test_nested_ten_thousand_deep(source, expected, it):
    assert it.eval(source) == expected


def test_ten_thousand_nested_calls_of_a_user_function():
    it = quiet(max_depth=10_000)
    it.run("inc(t) = t + 1")
    assert it.eval("inc(" * 10_000 + "0" + ")" * 10_000) == 10_000.0


def test_long_sum_in_one_statement(it):
    it.run("x = 1")
    assert it.eval("x" + " + 1" * 100_000) == 100_001.0


@pytest.mark.slow
def test_chain_of_a_million_operations():
    it = quiet(timeout=None, run_timeout=None)  # (size, not time: the machine may be slow)
    it.run("x = 1.0000001")
    it.run("y = x" + " * x" * 1_000_000)
    y = node(it, "y")
    expected = math.exp(1_000_001 * math.log1p(1e-7))
    assert math.isclose(y.value, expected, rel_tol=1e-8)
    count, walk = 0, y
    while walk.op is table.MUL:
        assert walk.inputs[1] is node(it, "x")
        walk, count = walk.inputs[0], count + 1
    assert count == 1_000_000 and walk is node(it, "x")
    assert len(ancestors(y)) == 1_000_001


# Limits -------------------------------------------------------------------------------------

def test_max_nodes():
    it = quiet(max_nodes=100)
    it.run("x = 1\ny = 2")
    with pytest.raises(LimitError, match="max_nodes") as info:
        it.run("y = " + " + ".join(["x"] * 200))
    assert "100" in str(info.value) and info.value.line == 1
    assert it.eval("y") == 2.0          # nothing half-made


def test_max_nodes_counts_per_statement():
    it = quiet(max_nodes=10)
    assert it.run("x = 1\n" + "x = x + 1\n" * 300 + "x") == [301.0]


def test_timeout():
    it = quiet(timeout=0.2)
    it.run("f(n) = if n <= 0 then 0 else f(n - 1) + f(n - 1)")
    start = time.monotonic()
    with pytest.raises(LimitError, match="timeout"):
        it.run("r = f(40)")
    assert time.monotonic() - start < 5
    assert "r" not in it.globals
    assert it.eval("f(3)") == 0.0        # the next statement has its own budget


def test_default_limits_are_generous():
    it = Interpreter()
    assert it.limits.max_depth >= 1000
    assert it.limits.max_nodes >= 10**7
    assert it.limits.max_elements >= 10**8
    # the API bounds time and memory by default (docs/embedding.md); the command does not
    assert it.limits.timeout == 10.0 and it.limits.max_memory == 2 * 1024 ** 3


# Non-finite warnings -----------------------------------------------------------------------

def test_warning_names_the_first_operation_and_its_position(it):
    assert it.run("a = 1\nb = log(a - 2) + sqrt(-1) + 1/0") == []
    assert len(it.warnings) == 1
    message, span = it.warnings[0]
    assert message == "value of log is nan at -1"
    assert (span.line, span.column) == (2, 5)
    assert math.isnan(it.eval("b"))


@pytest.mark.parametrize("source, message, column", [
    ("1/0", "value of / is infinite at (1, 0)", 2),
    ("x = 0^-1", "value of ^ is infinite at (0, -1)", 6),
    ("exp(1000)", "value of exp is infinite at 1000", 1),
    ("  sqrt(-4)", "value of sqrt is nan at -4", 3),
    ("0/0 + 1", "value of / is nan at (0, 0)", 2),
])
def test_warning_messages(source, message, column, it):
    it.run(source)
    assert [(m, s.line, s.column) for m, s in it.warnings] == [(message, 1, column)]


def test_no_warning_from_non_finite_inputs(it):
    it.run("a = inf + 1\nb = nan * 2\nc = log(inf)\nd = 1 / inf")
    assert it.warnings == []


def test_one_warning_per_statement(it):
    assert it.run("1/0\n2 * log(0)") == [math.inf, -math.inf]
    assert [(m, s.line, s.column) for m, s in it.warnings] == [
        ("value of / is infinite at (1, 0)", 1, 2),
        ("value of log is infinite at 0", 2, 5)]


def test_warning_inside_a_function_points_into_its_body(it):
    it.run("ff(x) = 2 * log(x)")
    assert math.isnan(it.eval("ff(-3)"))
    assert [(m, s.line, s.column) for m, s in it.warnings] == [("value of log is nan at -3", 1, 13)]
