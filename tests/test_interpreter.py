"""The Python API (docs/python.md): evaluate, Interpreter.run/eval/[], functions from Python,
errors, and the safety properties (only DiffiError escapes; failures change nothing)."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import diffi
from diffi import (ArityError, DiffiError, DiffiFunction, DiffiNameError, DiffiSyntaxError,
                   DiffiTypeError, DiffiWarning, Interpreter, LimitError, ShapeError)


def quiet(**options) -> Interpreter:
    return Interpreter(warn=lambda message, span: None, **options)


# evaluate, run, eval ------------------------------------------------------------------------

def test_evaluate():
    assert diffi.evaluate("1 + 2") == 3.0
    assert type(diffi.evaluate("1 + 2")) is float
    assert diffi.evaluate("f(x) = x^2; f(3)") == 9.0
    assert diffi.evaluate("x = 1") is None
    assert diffi.evaluate("sin(3)") == 0.1411200080598672


def test_evaluate_takes_interpreter_options():
    with pytest.raises(LimitError, match="max_depth"):
        diffi.evaluate("f(n) = f(n); f(1)", max_depth=5)


def test_evaluate_raises_diffi_errors():
    with pytest.raises(DiffiNameError):
        diffi.evaluate("x")


def test_run_returns_what_would_print():
    it = quiet()
    assert it.run("f(x, y) = x*y + sin(x)") == []
    assert it.run("x = 2\nx * 3\n1; 2\n3;\n(1, 2.5)\n1 < 2") == [6.0, 2.0, (1.0, 2.5), True]
    results = it.run("f(3, 0)")
    assert results == [0.1411200080598672] and type(results[0]) is float


def test_run_returns_python_types():
    it = quiet()
    number, boolean, pair, vector = it.run("2\nfalse\n(1, (2, 3))\n[1, 2]")
    assert type(number) is float and boolean is False
    assert pair == (1.0, (2.0, 3.0)) and type(pair) is tuple and type(pair[1]) is tuple
    assert isinstance(vector, np.ndarray) and vector.tolist() == [1.0, 2.0]


def test_run_returns_functions_as_callables():
    it = quiet()
    it.run("f(x, y) = x*y + sin(x)")
    (f,) = it.run("f")
    assert str(f) == "f(x, y) = x*y + sin(x)"
    assert callable(f)
    assert f(3.0, 0.0) == 0.1411200080598672


def test_eval_returns_the_last_expression_value():
    it = quiet()
    assert it.eval("f(x, y) = x*y + sin(x)") is None
    assert it.eval("f(3, 0)") == 0.1411200080598672
    assert it.eval("1\n2\nx = 5") == 2.0
    assert it.eval("x = 2; x * 3;") == 6.0      # a ';' only silences printing
    assert it.eval("# nothing") is None
    assert it.eval("") is None


def test_eval_returns_functions_as_callables():
    it = quiet()
    it.run("g(t) = 2*t")
    g = it.eval("g")
    assert str(g) == "g(t) = 2*t"
    assert g(4) == 8.0


def test_run_reports_output_through_the_callable():
    lines = []
    it = Interpreter(output=lines.append)
    assert it.run('print("accuracy:", 0.5, (1, 2), true)\n1') == [1.0]
    assert lines == ["accuracy: 0.5 (1, 2) true"]


def test_statements_before_a_syntax_error_run():
    it = quiet()
    with pytest.raises(DiffiSyntaxError) as info:
        it.run("x = 1\ny = 2\nz = (")
    assert (info.value.line, info.value.column) == (3, 5)
    assert (it["x"], it["y"]) == (1.0, 2.0)
    assert "z" not in it


def test_statements_before_a_runtime_error_keep_their_effects():
    it = quiet()
    with pytest.raises(DiffiNameError):
        it.run("x = 1\ny = x + nope\nz = 3")
    assert it["x"] == 1.0 and "y" not in it and "z" not in it


def test_default_warning_is_a_python_warning():
    it = Interpreter()
    with pytest.warns(DiffiWarning, match=r"value of log is nan at -1 \(line 1, column 1\)"):
        assert math.isnan(it.eval("log(-1)"))


def test_session_state():
    it = quiet()
    it.run("a = 1\nf(x) = x\nb = 2")
    assert it.names() == ["a", "f", "b"]
    assert "a" in it and "zzz" not in it
    del it["a"]
    assert "a" not in it
    it.reset()
    assert it.names() == []
    assert it.eval("pi") == math.pi


# ans --------------------------------------------------------------------------------------

def test_ans_is_the_last_expression_statement():
    it = quiet()
    it.run("x = 3\nx^2\ny = 7")
    assert it["ans"] == 9.0
    assert it.run("ans + 1\nans * 2") == [10.0, 20.0]


def test_a_silenced_statement_sets_ans_and_print_does_not():
    it = quiet()
    it.run("5 * 5;\nprint(1)\nseed(3)")
    assert it["ans"] == 25.0


def test_a_failing_statement_leaves_ans_as_it_was():
    it = quiet()
    it.run("2 + 2")
    with pytest.raises(DiffiNameError):
        it.run("ans + nope")
    assert it["ans"] == 4.0


def test_ans_after_a_directive_is_its_value():
    it = quiet()
    it.run("x = 3\nbackprop x^2 wrt x\n")
    assert list(it["ans"]) == [6.0]
    it.run("check x^2 wrt x")
    assert it["ans"] == pytest.approx(0.0, abs=1e-12)  # the largest difference
    it.run("d/dt t^3")
    assert it.eval("ans(2)") == 12.0


def test_ans_is_a_node_of_the_graph_and_a_block_or_a_body_does_not_set_it():
    it = quiet()
    it.run("x = 3\nx^2")
    assert it.eval("d/dx ans") == 6.0  # ans = x^2, as if assigned
    it.run("f(t) = { t + 100; t * 2 }\nf(1)\n{ 7; 8 }")
    assert it["ans"] == 8.0


# [] get and set ----------------------------------------------------------------------------

def test_set_and_get_numbers():
    it = quiet()
    it["w"] = 3
    assert it["w"] == 3.0 and type(it["w"]) is float
    assert it.eval("w * 2") == 6.0
    it["flag"] = True
    assert it.eval("if flag then 1 else 2") == 1.0
    it["pair"] = (1, 2.5)
    assert it.eval("pair[1]") == 2.5


def test_set_and_get_arrays():
    it = quiet()
    weights = np.ones((2, 3))
    it["w"] = weights
    weights[0, 0] = 99.0                       # the session holds its own copy
    got = it["w"]
    assert isinstance(got, np.ndarray) and got.dtype == np.float64
    np.testing.assert_array_equal(got, np.ones((2, 3)))
    got[1, 1] = -5.0                           # and hands out copies
    np.testing.assert_array_equal(it["w"], np.ones((2, 3)))
    np.testing.assert_array_equal(it.eval("w * 2"), np.full((2, 3), 2.0))
    it["v"] = [1, 2, 3]
    np.testing.assert_array_equal(it["v"], np.array([1.0, 2.0, 3.0]))
    it["i"] = np.arange(3)                     # integers become float64
    assert it["i"].dtype == np.float64


def test_get_builtins_and_constants():
    it = quiet()
    assert it["pi"] == math.pi
    assert it["sin"](0.5) == math.sin(0.5)


def test_get_undefined_name_is_a_name_error():
    with pytest.raises(DiffiNameError, match="'nope' is not defined"):
        quiet()["nope"]


@pytest.mark.parametrize("name", ["if", "not", "2x", "a b", ""])
def test_set_rejects_invalid_names(name):
    it = quiet()
    with pytest.raises(DiffiTypeError, match="not a valid diffi name"):
        it[name] = 1.0
    assert it.names() == []


@pytest.mark.parametrize("value", [{}, object(), None, [[1, 2], [3]], {1}])
def test_set_rejects_non_diffi_values(value):
    it = quiet()
    with pytest.raises(DiffiTypeError):
        it["v"] = value
    assert "v" not in it


# Functions from Python ----------------------------------------------------------------------

def test_diffi_function_from_python():
    it = quiet()
    it.run("f(x, y) = x*y + sin(x)")
    f = it["f"]
    assert isinstance(f, DiffiFunction)
    assert str(f) == "f(x, y) = x*y + sin(x)"
    assert f(3.0, 0.0) == 0.1411200080598672
    assert f(3, 0) == 0.1411200080598672 and type(f(3, 0)) is float
    np.testing.assert_allclose(f(np.array([1.0, 2.0]), 2.0),
                               [2 + math.sin(1), 4 + math.sin(2)], rtol=1e-15)


def test_diffi_function_returns_tuples_and_reads_globals():
    it = quiet()
    it.run("k = 10\ng(x) = (x, x * k)")
    assert it["g"](2) == (2.0, 20.0)
    it["k"] = 100
    assert it["g"](2) == (2.0, 200.0)


def test_diffi_function_passed_back_in():
    it = quiet()
    it.run("twice(h, v) = h(h(v))\nsq(t) = t * t")
    assert it["twice"](it["sq"], 3) == 81.0
    it["p"] = it["sq"]
    assert it.eval("p(4)") == 16.0


@pytest.mark.parametrize("args, error, words", [
    ((1.0,), ArityError, "missing y"),
    ((1.0, 2.0, 3.0), ArityError, "got 3"),
    (("a", 1.0), DiffiTypeError, "needs numbers"),
    ((object(), 1.0), DiffiTypeError, "not a diffi value"),
])
def test_diffi_function_errors(args, error, words):
    it = quiet()
    it.run("f(x, y) = x*y + sin(x)")
    with pytest.raises(error, match=words):
        it["f"](*args)


def test_diffi_function_recursion_limit():
    it = quiet(max_depth=20)
    it.run("down(n) = if n <= 1 then 1 else down(n - 1)")
    assert it["down"](20) == 1.0
    with pytest.raises(LimitError, match="max_depth"):
        it["down"](21)


# Errors ---------------------------------------------------------------------------------------

def test_error_hierarchy():
    for cls in (DiffiSyntaxError, DiffiNameError, DiffiTypeError, ArityError, ShapeError,
                LimitError):
        assert issubclass(cls, DiffiError)
    assert issubclass(ArityError, DiffiTypeError) and issubclass(ShapeError, DiffiTypeError)
    assert issubclass(DiffiError, Exception)


@pytest.mark.parametrize("source, error, line, column, words", [
    ("x = 1 +* 2", DiffiSyntaxError, 1, 8, "unexpected '*'"),
    ("x = 1\n2x", DiffiSyntaxError, 2, 2, "2*x"),
    ("\n\nz = x + y", DiffiNameError, 3, 5, "name 'x' is not defined"),
    ("x = 1\ny = (1, 2) + 1", DiffiTypeError, 2, 12, "needs numbers"),
    ("x = 1\n  sin(1, 2)", ArityError, 2, 3, "sin takes 1 argument"),
    ("x = [1, 2] + [1, 2, 3]", ShapeError, 1, 12, "shapes"),
    ("f(n) = f(n)\nf(1)", LimitError, 1, 8, "max_depth"),
    ("x = (1, 2", DiffiSyntaxError, 1, 5, "never closed"),
])
def test_errors_have_kind_position_and_message(source, error, line, column, words):
    it = quiet()
    with pytest.raises(error) as info:
        it.run(source)
    e = info.value
    assert type(e) is error
    assert (e.line, e.column) == (line, column)
    assert words in e.message
    assert str(e) == f"{e.message} (line {line}, column {column})"


def test_error_renders_with_caret():
    it = quiet()
    with pytest.raises(DiffiNameError) as info:
        it.run("x = 1\nw = 2\nz = x + y", "model.dfi")
    assert info.value.render() == (
        "error: name 'y' is not defined\n"
        " --> model.dfi:3:9\n"
        "  |\n"
        "3 | z = x + y\n"
        "  |         ^")


@pytest.mark.parametrize("source, error", [
    ("max()", ArityError),                       # a call with no arguments parses
    ("sin()", ArityError),
    ("[1, 2, 3][::0]", DiffiTypeError),          # NumPy's ValueError for a zero step
    ("[1, 2, 3][0:2:0]", DiffiTypeError),
    ("[" * 70 + "1" + "]" * 70, DiffiError),      # NumPy allows at most 64 dimensions
])
def test_bad_input_gets_a_proper_error_not_an_internal_one(source, error):
    with pytest.raises(error) as info:
        quiet().run(source)
    assert not info.value.message.startswith("internal error"), info.value.message
    assert info.value.line == 1


def test_non_string_source_is_a_diffi_error():
    with pytest.raises(DiffiTypeError, match="string"):
        quiet().run(42)


# Properties: only DiffiError escapes, and a failing statement changes nothing ---------------

NAMES = ["x", "y", "f", "g", "t", "sin", "max", "print", "pi", "e", "true", "false",
         "inf", "nan", "π", "σ", "_a1"]
TOKENS = NAMES + [
    "0", "1", "2.5", ".5", "1e-3", "2.5E+4", "1e400", "0.0",
    "+", "-", "*", "/", "^", "**", "@", "<", "<=", ">", ">=", "==", "!=",
    "(", ")", "[", "]", "{", "}", ",", "=", ":", ";", "\n", "#", "\"s\"", "\"",
    "if", "then", "else", "and", "or", "not", "at", "wrt", "using", "to",
    "d/dx", "d2/dx2", "grad", "backprop", "hessian", "jacobian", "check", "graph",
    "explain", "minimize", "forward", "numeric",
]
SETUP = "x = 2\ny = -1\nt = (1, 2)\nf(a, b) = a * b + sin(a)\ng(u) = if u > 0 then g(u - 1) else u"

soups = st.lists(st.sampled_from(TOKENS), max_size=30).map(" ".join)
tight_soups = st.lists(st.sampled_from(TOKENS), max_size=30).map("".join)

# Programs that mostly parse, so that the evaluator is exercised too.
ATOMS = ["x", "y", "t", "f", "g", "sin", "max", "atan2", "print", "pi", "true", "nan",
         "inf", "0", "1", "-2", "2.5", "1e400", '"s"', "q"]
names = st.sampled_from(["x", "y", "z", "f", "g", "q"])


@st.composite
def expressions(draw, depth: int = 3) -> str:
    """An expression of the language, nested up to `depth` deep (it may not type-check)."""
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        return draw(st.sampled_from(ATOMS))
    sub = expressions(depth - 1)
    form = draw(st.integers(0, 9))
    if form == 0:
        return draw(st.sampled_from(["-", "+", "not "])) + draw(sub)
    if form == 1:
        op = draw(st.sampled_from(["+", "-", "*", "/", "^", "@", "<", "==", "and", "or"]))
        return f"{draw(sub)} {op} {draw(sub)}"
    if form == 2:
        return f"{draw(sub)}({', '.join(draw(st.lists(sub, max_size=3)))})"
    if form == 3:
        return f"{draw(sub)}({draw(names)} = {draw(sub)})"
    if form == 4:
        part = st.one_of(st.just(""), sub)
        item = st.one_of(sub, st.tuples(part, part, part).map(":".join))
        return f"{draw(sub)}[{', '.join(draw(st.lists(item, min_size=1, max_size=3)))}]"
    if form == 5:
        return f"[{', '.join(draw(st.lists(sub, max_size=4)))}]"
    if form == 6:
        return f"({', '.join(draw(st.lists(sub, min_size=2, max_size=3)))})"
    if form == 7:
        return f"({draw(sub)})"
    if form == 8:
        return f"if {draw(sub)} then {draw(sub)} else {draw(sub)}"
    return f"{{ {draw(names)} = {draw(sub)}; {draw(sub)} }}"


statements = st.one_of(
    expressions(),
    st.tuples(names, expressions()).map(lambda p: f"{p[0]} = {p[1]}"),
    st.tuples(names, st.lists(st.sampled_from(["a", "b", "x"]), max_size=2, unique=True),
              expressions()).map(lambda p: f"{p[0]}({', '.join(p[1])}) = {p[2]}"),
    st.tuples(names, names, expressions()).map(lambda p: f"{p[0]}, {p[1]} = {p[2]}"),
)
programs = st.lists(statements, min_size=1, max_size=4).map("\n".join)
PROPERTY = settings(max_examples=300, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


def fresh() -> Interpreter:
    it = Interpreter(warn=lambda message, span: None, output=lambda text: None,
                     max_nodes=100_000, timeout=2)
    it.run(SETUP)
    return it


def run_only_diffi_errors(it: Interpreter, text: str) -> None:
    try:
        it.run(text)
    except DiffiError as error:
        # A DiffiError is the contract; an "internal error" is diffi wrapping its own bug.
        assert not error.message.startswith("internal error"), (text, error.message)
        assert isinstance(error.line, int) and isinstance(error.column, int)
        assert error.line >= 1 and error.column >= 1


@PROPERTY
@given(st.text())
def test_arbitrary_text_raises_only_diffi_errors(text):
    run_only_diffi_errors(fresh(), text)


@PROPERTY
@given(st.one_of(soups, tight_soups))
def test_token_soup_raises_only_diffi_errors(text):
    run_only_diffi_errors(fresh(), text)


@PROPERTY
@given(programs)
def test_generated_programs_raise_only_diffi_errors(text):
    run_only_diffi_errors(fresh(), text)


def snapshot(it: Interpreter) -> dict:
    """Each name's binding, node, node label and printed value."""
    return {name: (id(b), id(b.node), b.node.name, it.format(b.node))
            for name, b in it.globals.items()}


def _same(before: dict, after: dict) -> bool:
    return before == after


one_statement = st.lists(st.sampled_from([t for t in TOKENS if t not in (";", "\n")]),
                         min_size=1, max_size=25).map(" ".join)


@PROPERTY
@given(st.sampled_from(["x", "y", "t", "f", "fresh_name"]), one_statement)
def test_failing_assignment_leaves_bindings_as_they_were(target, soup):
    it = fresh()
    before = snapshot(it)
    try:
        it.run(f"{target} = {soup}")
    except DiffiError:
        assert _same(before, snapshot(it)), soup
    else:
        assert target in it


@PROPERTY
@given(st.lists(st.sampled_from(["x", "y", "z"]), min_size=2, max_size=3, unique=True),
       one_statement)
def test_failing_destructuring_leaves_bindings_as_they_were(targets, soup):
    it = fresh()
    before = snapshot(it)
    try:
        it.run(f"{', '.join(targets)} = {soup}")
    except DiffiError:
        assert _same(before, snapshot(it)), soup


@pytest.mark.parametrize("statement", [
    "x = x + nope", "x = (1, 2) * 3", "x = f(1)", "x = g(1, 2)", "x, y = (y, x, 1)",
    "x, y = 5", "x = { x = 1; y = 2; zz }", "x = max(1, 2, 3)", "y = 1 +",
    'x = d/dx x^2 at x = "a"', "t = t[7]", "f(a) = ", "x = grad sin at (1, 2)",
])
def test_failing_statement_changes_nothing(statement):
    it = fresh()
    before = snapshot(it)
    with pytest.raises(DiffiError):
        it.run(statement)
    assert _same(before, snapshot(it))
    assert it.eval("x") == 2.0 and it.eval("y") == -1.0


# Process-wide settings ------------------------------------------------------------------------

def test_a_run_relaxes_the_collector_and_gives_the_callers_thresholds_back():
    import gc
    before = gc.get_threshold()
    seen = []
    it = Interpreter(output=lambda text: seen.append(gc.get_threshold()))
    try:
        gc.set_threshold(700, 10, 10)
        it.run('print("during")')
        assert seen == [(50_000, 50, 100)]
        assert gc.get_threshold() == (700, 10, 10)
        with pytest.raises(DiffiNameError):
            it.run('print("again"); nope')
        assert seen[-1] == (50_000, 50, 100) and gc.get_threshold() == (700, 10, 10)
        gc.set_threshold(100_000, 5, 500)  # the caller's larger figures are kept
        it.run('print("larger")')
        assert seen[-1] == (100_000, 50, 500) and gc.get_threshold() == (100_000, 5, 500)
        seen.clear()
        assert it.derivative('{ print("derivative"); x^2 }', "x", at=3.0) == 6.0
        assert seen and seen[-1] == (100_000, 50, 500)  # API directives relax it too
        assert gc.get_threshold() == (100_000, 5, 500)
        gc.set_threshold(0)  # collection turned off stays off
        it.run('print("off")')
        assert seen[-1][0] == 0 and gc.get_threshold()[0] == 0
    finally:
        gc.set_threshold(*before)


def test_grad_of_a_function_at_whole_numbers_takes_the_compiled_path(monkeypatch):
    it = quiet()
    it.run("f(x, y) = x*y + x")
    it.grad("f", at=(3.0, 2.0)), it.grad("f", at=(3.0, 2.0))  # traced, then compiled
    monkeypatch.setattr(it, "_directive", lambda *a, **k: pytest.fail("not the fast path"))
    assert list(it.grad("f", at=(3, 2))) == [3.0, 3.0]


def test_a_bug_under_the_compiled_gradient_is_an_internal_diffi_error(monkeypatch):
    from diffi.compile.cache import Cache

    def broken(self, *args, **keywords):
        raise KeyError("oops")
    it = quiet()
    it.run("f(x) = x^2")
    monkeypatch.setattr(Cache, "run", broken)
    with pytest.raises(DiffiError, match=r"internal error \(KeyError: 'oops'\)"):
        it.grad("f", at=(1.0,))
    with pytest.raises(DiffiError, match=r"internal error \(KeyError: 'oops'\)"):
        it["f"](1.0)


# Positions are drawn against the source that made them --------------------------------------

def test_an_error_in_a_function_from_an_earlier_run_is_drawn_against_that_run():
    it = quiet()
    it.run("x = 1\n\n\n\nf(t) = t + nope", "lib.dfi")
    with pytest.raises(DiffiNameError) as caught:
        it.run("y = f(2)", "main.dfi")
    error = caught.value
    assert (error.line, error.column, error.filename) == (5, 12, "lib.dfi")
    assert error.render() == ("error: name 'nope' is not defined\n"
                              " --> lib.dfi:5:12\n"
                              "  |\n"
                              "5 | f(t) = t + nope\n"
                              "  |            ^^^^")
    assert "y" not in it


def test_an_error_at_the_call_itself_stays_in_the_calling_source():
    it = quiet()
    it.run("f(t) = t", "lib.dfi")
    with pytest.raises(diffi.ArityError) as caught:
        it.run("\ny = f(1, 2)", "main.dfi")
    assert (caught.value.line, caught.value.filename) == (2, "main.dfi")


def test_a_warning_in_a_function_from_an_earlier_run_names_its_source():
    seen = []
    it = Interpreter(warn=lambda message, span: seen.append(
        diffi.errors.format_warning(message, span)))
    it.run("\n\nf(t) = log(t)", "lib.dfi")
    it.run("f(0)")
    it.run("log(0)")
    assert seen == ["value of log is infinite at 0 (line 3, column 8 of lib.dfi)",
                    "value of log is infinite at 0 (line 1, column 1)"]


@pytest.mark.parametrize("source, line, column", [
    ("x = 1;\fy = 2\nz = nope", 2, 5),     # a form feed is a space, not a line break
    ("x = 1;\ry = 2\nz = nope", 2, 5),     # and so is a lone carriage return
    ("x = 1\fy = 2", 1, 7),                # (so y follows 1 on the same line)
    ("x = 1\r\nz = nope", 2, 5),
    ("x = 1\x85\nz = nope", 1, 6),         # NEL: a character the lexer refuses, on line 1
    ("x = 1\u2028\nz = nope", 1, 6),
])
def test_lines_end_at_new_lines_alone(source, line, column):
    with pytest.raises(DiffiError) as caught:
        quiet().run(source)
    error = caught.value
    assert (error.line, error.column) == (line, column)
    drawn = error.render().split("\n")[3]
    assert drawn == f"{line} | " + source.split("\n")[line - 1].rstrip("\r")


# A failing statement changes nothing, minimize and randomness included ----------------------

def test_minimize_commits_with_its_statement():
    it = quiet()
    it.run("w = 5; L(v) = (v - 1)^2")
    with pytest.raises(DiffiNameError):
        it.run("y = { minimize L(w) wrt w using gd(rate = 0.1, steps = 5); nope }")
    assert it["w"] == 5.0 and it.losses is None and "y" not in it
    it.run("y = { minimize L(w) wrt w using gd(rate = 0.1, steps = 5); 1 }")
    assert it["w"] < 5.0 and it.losses.shape == (5,)


def test_a_failing_statement_leaves_the_random_numbers_where_they_were():
    it = quiet()
    it.run("seed(3); a = randn(2)")
    expected = it.eval("randn(3)")
    it.run("seed(3); a = randn(2)")
    with pytest.raises(DiffiNameError):
        it.run("b = randn(5) + nope")
    np.testing.assert_array_equal(it.eval("randn(3)"), expected)
    with pytest.raises(DiffiNameError):
        it.run("c = { seed(9); nope }")
    it.run("seed(3); a = randn(2)")
    np.testing.assert_array_equal(it.eval("randn(3)"), expected)


def test_a_failing_statement_does_not_count_its_checks():
    it = quiet()
    with pytest.raises(DiffiNameError):
        it.run("y = { c = (check abs(x) at x = 0); nope }")
    assert it.failed_checks == 0
# Formulas: functions of what they contain (issue 13, item 6) -------------------------------

def test_a_formulas_parameters_are_its_variable_then_the_names_it_contains():
    it = quiet()
    slope = it.derivative("a*x^2 + b", wrt="x")   # b drops out of the derivative
    assert str(slope) == "2*a*x" and slope.function.params == ["x", "a"]
    assert slope(2, 3) == 12.0 and slope(x=2, a=3) == 12.0 and slope(2, a=3) == 12.0
    assert it.derivative("3*x", wrt="x").function.params == ["x"]   # d/dx: a function of x
    assert it.grad("a*x^2 + b*y", wrt=["x", "y"]).function.params == ["x", "y", "a", "b"]
    at_c = it.eval("d/dx c*x^2 + q*c at c = 2")   # the point's names take its values
    assert str(at_c) == "4*x" and at_c.function.params == ["x"]
    it.run("f(x, y) = x*y + sin(x)")
    assert it.eval("d/dx f").function.params == ["x", "y"]   # a function's own parameters


def test_the_same_formula_in_the_language_takes_the_same_arguments():
    it = quiet()
    it.run("g = d/dx a*x^2 + b")
    assert it.eval("g(2, 3)") == 12.0 and it.eval("g(a = 3, x = 2)") == 12.0
    with pytest.raises(ArityError, match=r"formula takes 2 arguments, got 3"):
        it.eval("g(2, 3, 4)")


@pytest.mark.parametrize("call, error, message", [
    (lambda f: f(x=1, a=2, b=3), DiffiTypeError,
     "the formula 2*a*x has no parameter 'b' (its parameters: x, a)"),
    (lambda f: f(2, x=3), DiffiTypeError, "the formula 2*a*x got two values for 'x'"),
    (lambda f: f(a=1), ArityError, "the formula 2*a*x takes 2 arguments (x, a), missing x"),
    (lambda f: f(1, 2, 3), ArityError, "the formula 2*a*x takes 2 arguments (x, a), got 3"),
    (lambda f: f(1, a="two"), DiffiTypeError, "needs numbers, got a string"),
])
def test_bad_arguments_to_a_formula_are_diffi_errors(call, error, message):
    slope = quiet().derivative("a*x^2 + b", wrt="x")
    with pytest.raises(error) as info:
        call(slope)
    assert message in info.value.message


def test_keyword_arguments_reach_user_functions_and_built_ins():
    it = quiet()
    it.run("g(u, v) = u - v")
    assert it["g"](v=1, u=5) == 4.0
    assert list(it["sum"]([[1, 2], [3, 4]], axis=1)) == [3.0, 7.0]
    with pytest.raises(DiffiTypeError, match="g has no parameter 'w'"):
        it["g"](1, w=2)


@pytest.mark.parametrize("wrt, message", [
    ("at", "wrt takes variable names: 'at' is a reserved word"),
    ("grad", "wrt takes variable names: 'grad' is a reserved word"),
    ("1x", "wrt takes variable names, not '1x'"),
    ("x y", "wrt takes variable names, not 'x y'"),
    ("", "wrt takes variable names, not ''"),
])
def test_wrt_must_be_a_name(wrt, message):
    it = quiet()
    for call in (lambda: it.derivative("x^2", wrt=wrt), lambda: it.grad("x^2", wrt=[wrt])):
        with pytest.raises(DiffiTypeError) as info:
            call()
        assert info.value.message == message


def test_a_derivative_by_a_name_the_expression_lacks_is_0_with_a_warning():
    it = Interpreter()
    with pytest.warns(DiffiWarning) as caught:
        zero = it.derivative("x^2", wrt="z")
    assert str(zero) == "0" and zero(5) == 0.0
    assert [str(w.message) for w in caught] == [
        "x^2 does not depend on z, so its derivative by z is 0"]



def test_a_point_naming_a_name_the_expression_does_not_use_is_a_name_error():
    """From Python such a name is a slip (a program's `at y = 1` only warns); a name
    wrt asks for, or one the expression uses through the graph, is fine."""
    it = Interpreter()
    it.run("z = 1\ny = 2*z\ng(x) = x*z")
    for call in (lambda: it.derivative("x^2", wrt="x", at={"x": 3, "yy": 1}),
                 lambda: it.grad("x^2", wrt="x", at={"x": 3, "yy": 1}),
                 lambda: it.grad("x^2", at={"x": 3, "yy": 1})):
        with pytest.raises(DiffiNameError) as info:
            call()
        assert info.value.message == "at gives yy a value, but x^2 does not depend on yy"
    assert it.derivative("y", wrt="z", at={"z": 3}) == 2.0           # through y
    assert it.derivative("g(x)", wrt="x", at={"x": 1, "z": 5}) == 5.0  # through g
    with pytest.warns(DiffiWarning):  # (by yy: 0)
        assert it.grad("x^2", wrt=["x", "yy"], at={"x": 3, "yy": 1}).tolist() == [6.0, 0.0]
    with pytest.warns(DiffiWarning):  # (a program's point only warns)
        assert it.run("d/dx x^2 at x = 3, yy = 1") == [6.0]


def test_names_used_through_the_graph_or_in_the_expression_get_no_warning():
    seen = []
    it = Interpreter(warn=lambda message, span: seen.append(message))
    it.run("z = 1\ny = 2*z")
    assert it.eval("d/dz y") == 2.0               # y depends on z along the graph
    assert str(it.eval("d/dq (q - q)")) == "0"    # q is written: a true 0
    it.run("f(x) = x^2")
    assert it.eval("grad f at 2")[0] == 4.0       # a function's parameters: no notes
    assert seen == []


def test_unused_names_are_noted_in_scripts_with_their_position(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent
    env = dict(os.environ, PYTHONPATH=str(root))
    done = subprocess.run([sys.executable, "-m", "diffi", "-c",
                           "d/dz x^2\nd/dx x^2 at y = 3\ngrad x^2 wrt x, w at x = 1, w = 2"],
                          cwd=tmp_path, env=env, text=True, input="", capture_output=True,
                          timeout=120)
    assert done.returncode == 0
    assert done.stdout == "0\n2*x\n[2, 0]\n"
    assert done.stderr == (
        "warning: x^2 does not depend on z, so its derivative by z is 0 (line 1, column 1)\n"
        "warning: the point gives y a value, but x^2 does not depend on y (line 2, column 13)\n"
        "warning: x^2 does not depend on w, so its derivative by w is 0 (line 3, column 1)\n")


def test_a_note_in_a_function_body_is_given_once_a_statement():
    seen = []
    it = Interpreter(warn=lambda message, span: seen.append(message))
    it.run("k(t) = d/dq t^2 at q = 1")
    assert it.eval("k(1) + k(2) + k(3)") == 0.0
    assert seen == ["t^2 does not depend on q, so its derivative by q is 0"]
