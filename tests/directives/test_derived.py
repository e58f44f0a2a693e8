"""A derivative means the same thing wherever it is written (diffi/directives/derived.py):
in a function body, in a block, in recursion, in a function passed to another, nested
in another directive, re-evaluated along the graph — in every mode, by numbers and by
tensors — and d/dw by a tensor gives every partial."""
from __future__ import annotations

import io
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import diffi
import formula_forms  # (tests/ is on the path: its conftest.py puts it there)
from diffi.frontends.session import make_session

ROOT = Path(__file__).resolve().parents[2]


def last(source: str):
    """The last value source prints (warnings, such as a derivative by a name a random
    expression lacks, are other tests' subject)."""
    return diffi.Interpreter(warn=lambda message, span: None).run(source)[-1]


# The forms that were wrong, with the exact answers --------------------------------------

NEWTON = "f(x) = x^2\nnewton(x) = x - (d/dx f(x)) / (d2/dx2 f(x))\nnewton(3)"
HESSIAN = "f(x, y) = x*y + sin(x)\nhf(x, y) = hessian f(x, y) wrt x, y\nhf(3, 0)"

FORMS = [
    ("g(t) = d/dt t^2\ng(3)", 6.0),
    (NEWTON, 0.0),
    (HESSIAN, [[-math.sin(3), 1.0], [1.0, 0.0]]),
    ("f(x) = x^3\nd/dx (d/dx f) at x = 2", 12.0),
    ("d/dx (d/dx x^3) at x = 2", 12.0),
    ("d/dy (d/dx x^2*y^3) at x = 1, y = 2", 24.0),
    ("f(x, y) = x^2*y^3\ngrad (d/dx f(x, y)) wrt x, y at x = 1, y = 2",
     [2 * 8.0, 2 * 1 * 3 * 4.0]),
    ("g(t) = d/dt t^3\nd/dx g(x) at x = 2", 12.0),
    ("g(t) = d/dt t^3\nd2/dx2 g(x) at x = 2", 6.0),
    ("x = 2\ny = d/dx x^3\nd/dx y", 12.0),
    ("a = 3\ny = d/dx x^2*a at x = 1\nd/da y", 2.0),
    ("d/dy (d/dx x^2 at x = y) at y = 5", 2.0),
    ("(d/dx a*x^2 at a = 2)(3)", 12.0),
    ("w = [1, 2, 3]\nd/dw sum(w^2)", [2.0, 4.0, 6.0]),
    ("L(w) = mean(w^2)\nstep(w) = w - 0.5*(grad L(w) wrt w)\nstep([1, 2])", [0.5, 1.0]),
    ("h(a) = { b = a^2; d/db b*a }\nh(2)", 2.0),
    ("apply(f, x) = f(x)\ng(t) = d/dt t^3\napply(g, 2)", 12.0),
    ("g(t) = { u = t^2; d/dt u*t }\ng(2)", 12.0),
]


@pytest.mark.parametrize("source, expected", FORMS, ids=[f[0].splitlines()[-1] for f in FORMS])
def test_each_form_gives_the_exact_derivative_through_the_api(source, expected):
    np.testing.assert_allclose(last(source), expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("source", ["f(x) = x^3\nd/dx (d/dx f)", "d/dx (d/dx x^3)"])
def test_nested_derivatives_without_a_point_are_formulas(source):
    assert str(last(source)) == "6*x"


def test_a_gradient_of_a_derivative_is_a_formula_in_both_variables():
    assert str(last("f(x, y) = x^2*y\ngrad (d/dx f(x, y)) wrt x, y")) == "[2*y, 2*x]"


def test_the_forms_through_the_command_line():
    # each source's last value, printed as diffi prints it
    sources = ["g(t) = d/dt t^2\ng(3)", NEWTON, HESSIAN, "f(x) = x^3\nd/dx (d/dx f)",
               "w = [1, 2, 3]\nd/dw sum(w^2)"]
    outputs = []
    for source in sources:
        done = subprocess.run([sys.executable, "-m", "diffi", "-c", source], cwd=ROOT,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    matrix = "[[-0.141120008059867,                  1],\n [                 1,                  0]]\n"
    assert outputs == ["6\n", "0\n", matrix, "6*x\n", "[2, 4, 6]\n"]


def test_the_forms_in_a_repl_session():
    out = io.StringIO()
    session = make_session(None, out, out, width=lambda: 80)
    for line in ["g(t) = d/dt t^2", "g(3)", "f(x) = x^2",
                 "newton(x) = x - (d/dx f(x)) / (d2/dx2 f(x))", "newton(3)",
                 "w = [1, 2, 3]", "d/dw sum(w^2)"]:
        assert session.handle(line)
    assert out.getvalue() == "6\n0\n[2, 4, 6]\n"


# Every directive, every position, every mode --------------------------------------------

# (directive written with the variable t, the same directive at top level with a point)
DIRECTIVES = {
    "d": ("d/dt t^2*sin(t)", "d/dt t^2*sin(t) at t = 1.3"),
    "d3": ("d3/dt3 t^2*sin(t)", "d3/dt3 t^2*sin(t) at t = 1.3"),
    "grad": ("grad t^2*sin(t) wrt t", "grad t^2*sin(t) wrt t at t = 1.3"),
    "hessian": ("hessian t^2*sin(t) wrt t", "hessian t^2*sin(t) wrt t at t = 1.3"),
    "jacobian": ("jacobian [t^2, sin(t)] wrt t", "jacobian [t^2, sin(t)] wrt t at t = 1.3"),
}
MODES = ["", " using forward", " using reverse", " using numeric", " using symbolic"]
# where the directive stands: each gives the directive's value at t = 1.3
POSITIONS = {
    "function body": "g(t) = {D}\ng(1.3)",
    "block": "t = 1.3\n{{ u = 2; {D} }}",
    "block in a body": "g(t) = {{ s = t; {D} }}\ng(1.3)",
    "recursion": "g(n, t) = if n == 0 then ({D}) else g(n - 1, t)\ng(3, 1.3)",
    "passed to a function": "g(t) = {D}\napply(f, a) = f(a)\napply(g, 1.3)",
    "nested call": "g(t) = {D}\nh(s) = g(s)\nh(1.3)",
    "top level": "t = 1.3\n{D}",
}


def _allowed(kind: str, mode: str) -> bool:
    if kind == "d3" and "reverse" in mode:
        return False  # reverse mode gives first derivatives (an error, tested elsewhere)
    return not (kind == "hessian" and "forward" in mode or "reverse" in mode and kind == "hessian")


CASES = [(kind, mode, where) for kind in DIRECTIVES for mode in MODES for where in POSITIONS
         if _allowed(kind, mode)]


@pytest.mark.parametrize("kind, mode, where", CASES)
def test_a_directive_means_the_same_wherever_it_is_written(kind, mode, where):
    inside, top = DIRECTIVES[kind]
    expected = last(top + mode)
    got = last(POSITIONS[where].format(D=inside + mode))
    if "numeric" in mode:
        np.testing.assert_allclose(got, expected, rtol=1e-8)
    else:
        np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("mode", MODES)
def test_a_derivative_inside_a_function_is_differentiable_again(mode):
    # d/dx of g(x) = d/dt t^2*sin(t): the second derivative, exact whatever mode g used
    second = last("d2/dt2 t^2*sin(t) at t = 1.3")
    got = last(f"g(t) = d/dt t^2*sin(t){mode}\nd/dx g(x) at x = 1.3")
    assert got == pytest.approx(second, rel=1e-12)


# A directive nested inside a body, by the function's own parameter: the argument's node
# (a literal, g(2)) is the variable of both directives, so the inner one's result must
# stay a function of it.
NESTED_IN_BODIES = [
    ("g(x) = d/dx (d/dx x^4{m})\ng(2)", 48.0),
    ("f1(x) = d/dx x^4{m}\nk(x) = d/dx f1(x){m}\nk(2)", 48.0),
    ("R(x) = d/dx x*(d/dx x^2{m}){m}\nR(3)", 12.0),
    ("f1(x) = d/dx x^4{m}\nn(x) = d/dx (f1(x)*x){m}\nn(2)", 128.0),
    ("f1(x) = d/dx x^4{m}\nq(x) = hessian x^4 + f1(x) wrt x{m}\nq(2)", [[96.0]]),
    ("f1(x) = d/dx x^4{m}\nq(x) = grad f1(x) wrt x{m}\nq(2)", [48.0]),
    ("nest(k, t) = d/dt (d/dt k(t){m}){m}\nnest(sin, 1)", -math.sin(1)),
    ("h(x) = {{ y = d/dx x^4{m}; d/dx y{m} }}\nh(2)", 48.0),
    ("c(n, x) = if n == 0 then x^4 else (d/dx c(n - 1, x){m})\nc(2, 2)", 48.0),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("source, expected", NESTED_IN_BODIES,
                         ids=[f[0].splitlines()[-1] for f in NESTED_IN_BODIES])
def test_a_nested_directive_in_a_body_keeps_the_parameter(source, expected, mode):
    # (numeric differences of numeric differences: about the square root of their error)
    tolerance = 1e-4 if "numeric" in mode else 1e-12
    np.testing.assert_allclose(last(source.format(m=mode)), expected, rtol=tolerance)


# Derivatives by tensors -----------------------------------------------------------------

TENSOR_CASES = [
    ("sum(w^2)", [1.0, 2.0, 3.0], lambda w: 2 * w),
    ("w^2", [1.0, 2.0], lambda w: np.diag(2 * w)),
    ("[[1, 2], [3, 4]] @ w", [1.0, 1.0], lambda w: np.array([[1.0, 2.0], [3.0, 4.0]])),
    ("sin(w) * 2", [[0.5, 1.0], [1.5, 2.0]],
     lambda w: np.einsum("ij,ik,jl->ijkl", 2 * np.cos(w), np.eye(2), np.eye(2))),
    ("w[0]*w[1]", [2.0, 3.0], lambda w: np.array([w[1], w[0]])),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("expr, w, exact", TENSOR_CASES, ids=[c[0] for c in TENSOR_CASES])
def test_the_derivative_by_a_tensor_has_every_partial(expr, w, exact, mode):
    w = np.array(w)
    value = last(f"d/dw {expr} at w = {w.tolist()}{mode}")
    expected = exact(w)
    it = diffi.Interpreter()
    it["w"] = w
    assert np.shape(value) == np.shape(it.eval(expr)) + w.shape == expected.shape
    np.testing.assert_allclose(value, expected, rtol=1e-8 if "numeric" in mode else 1e-13,
                               atol=1e-12)


def test_explain_shows_a_derivative_by_a_tensor():
    it, shown = diffi.Interpreter(), []
    it.execute("explain d/dw [w[0]*w[1], w[1]] at w = [1, 2]", "<test>",
               lambda node: shown.append(it.format_result(node)))
    text = shown[0]
    assert text.startswith("forward mode: one pass per element of w (2), each seeding")
    assert "  v̇3 = v2·v̇1 + v1·v̇2 = 2\n" in text
    assert text.endswith("d/dw: every partial, shape (2, 2) = shape of the result + shape "
                         "of w\n[[2, 1],\n [0, 1]]")


def test_a_higher_derivative_by_a_tensor_names_hessian():
    with pytest.raises(diffi.DiffiTypeError, match="for second derivatives use hessian"):
        last("d2/dw2 sum(w^3) at w = [1, 2]")


# Gradient descent written by hand, as on the board ------------------------------------

GD = """X = [[1, 0.5], [1, 1.5], [1, -0.5], [1, -1.5]]
y = [1, 1, 0, 0]
L(w) = mean(softplus(X @ w) - y * (X @ w))
step(w) = w - 1*(grad L(w) wrt w)
train(w, k) = if k == 0 then w else train(step(w), k - 1)
"""


def test_hand_written_gradient_descent_matches_minimize():
    by_hand = last(GD + "train([0, 0], 100)")
    it = diffi.Interpreter()
    it.run(GD + "w = [0, 0]\nminimize L(w) wrt w using gd(rate = 1, steps = 100);")
    np.testing.assert_allclose(by_hand, it["w"], rtol=1e-12, atol=1e-15)


# The property: inside a body, the same as at top level -----------------------------------

UNARY = ["sin", "cos", "exp", "tanh", "sigmoid", "softplus"]


@st.composite
def expressions(draw, depth=3):
    if depth == 0 or draw(st.booleans()):
        return draw(st.sampled_from(["x", "y", "x", "2", "0.5"]))
    kind = draw(st.sampled_from(["unary", "+", "*", "-", "^"]))
    if kind == "unary":
        return f"{draw(st.sampled_from(UNARY))}({draw(expressions(depth - 1))})"
    left, right = draw(expressions(depth - 1)), draw(expressions(depth - 1))
    if kind == "^":
        return f"({left})^2"
    return f"({left}) {kind} ({right})"


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(expressions(), st.sampled_from(["d", "grad", "hessian"]),
       st.sampled_from(MODES), st.sampled_from([0.7, -1.2]))
def test_a_directive_in_a_body_is_the_directive_at_its_point(expr, kind, mode, a):
    if kind == "hessian" and ("forward" in mode or "reverse" in mode):
        mode = ""
    directive = {"d": f"d/dx {expr}", "grad": f"grad {expr} wrt x, y",
                 "hessian": f"hessian {expr} wrt x, y"}[kind]
    top = last(f"{directive} at x = {a}, y = 0.4{mode}")
    body = last(f"g(x, y) = {directive}{mode}\ng({a}, 0.4)")
    nested = last(f"g(x, y) = {directive}{mode}\nh(u) = {{ v = u; g(v, 0.4) }}\nh({a})")
    tolerance = 1e-7 if "numeric" in mode else 1e-12
    np.testing.assert_allclose(body, top, rtol=tolerance, atol=1e-12)
    np.testing.assert_allclose(nested, top, rtol=tolerance, atol=1e-12)


@pytest.mark.parametrize("source, formula", [
    ("d/dx a*x^2 at a = 2", "4*x"),
    ("grad a*x^2*y at a = 2", "[x^2*y]"),
    ("d/dx x*y at y = 3", "3"),
])
def test_a_point_that_gives_some_names_leaves_a_formula_in_the_others(source, formula):
    assert str(last(source)) == formula


@pytest.mark.parametrize("mode", MODES)
def test_linspace_is_differentiable_in_its_ends(mode):
    # sum(linspace(a, b, 3)) = 1.5*(a + b): by b, 1.5 (linspace was once a constant: 0)
    tolerance = 1e-6 if "numeric" in mode else 1e-12
    assert last(f"d/dx sum(linspace(0, x, 3)) at x = 0.7{mode}") == \
        pytest.approx(1.5, rel=tolerance)
    assert last(f"g(x) = d/dx sum(linspace(x, 2*x, 3)){mode}\ng(2)") == \
        pytest.approx(4.5, rel=tolerance)
    # a tangent for each element: ȧ·(1 − t) + ḃ·t with ȧ = 1, ḃ = 2x = 4, t = 0, ½, 1
    np.testing.assert_allclose(last(f"d/dx linspace(x, x^2, 3) at x = 2{mode}"),
                               [1, 2.5, 4], rtol=tolerance)
    assert last("linspace(0, 1, 5)").tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]


@pytest.mark.parametrize("mode", MODES)
def test_linspace_gives_each_end_its_weighted_sum(mode):
    # a gets sum(w·(1 − t)) = 1 + 2·⅔ + 3·⅓ = 10/3, b gets sum(w·t) = 2·⅓ + 3·⅔ + 4 = 20/3
    tolerance = 1e-6 if "numeric" in mode else 1e-12
    gradient = last(f"grad sum(linspace(a, b, 4)*[1, 2, 3, 4]) at a = 0.5, b = 3{mode}")
    np.testing.assert_allclose(gradient, [10 / 3, 20 / 3], rtol=tolerance)


@pytest.mark.parametrize("source, exact", [
    ("d2/dx2 sum(linspace(x, x^3, 3)) at x = 2", 18.0),   # 1.5·(x + x³)'' = 9x
    ("d2/dx2 linspace(x^2, x^3, 3) at x = 2", [2.0, 7.0, 12.0]),
    ("d3/dx3 linspace(x^2, x^3, 3) at x = 2", [0.0, 3.0, 6.0]),
    ("d2/dx2 linspace(x^2, x^3, 3) at x = 2 using symbolic", [2.0, 7.0, 12.0]),
])
def test_linspace_has_taylor_series(source, exact):
    np.testing.assert_allclose(last(source), exact, rtol=1e-12)


def test_linspace_in_a_formula_gives_a_formula_when_its_count_is_known():
    assert str(last("d/dx sum(linspace(0, x^2, 3))")) == "sum(linspace(0, 2*x, 3))"
    assert last("f = d/dx sum(linspace(0, x^2, 3))\nf(2)") == 6.0
    assert str(last("d/dx linspace(x, 3*x, 3)")) == "[1, 2, 3]"


def test_linspace_by_its_count_is_zero_and_a_one_element_end_still_moves():
    np.testing.assert_allclose(last("d/dn linspace(0, 2, n) at n = 3"), [0, 0, 0])
    assert last("d/dx sum(linspace([x], 1, 3)) at x = 1") == 1.5
    assert last("d/dx sum(linspace(true, x, 3)) at x = 1") == 1.5


def test_linspace_in_a_formula_asks_for_a_point_when_its_count_is_unknown():
    with pytest.raises(diffi.DiffiError, match=r"a derivative through linspace needs values: "
                                               r"give a point with at") as error:
        last("d/dx sum(linspace(0, x, x))")
    assert (error.value.span.line, error.value.span.column) == (1, 10)


def test_a_formula_through_misfit_shapes_is_a_shape_error():
    # (without a point the trace has no values: the misfit shows in the derivative)
    for source in ("d/dx [x, 1] @ [[1, 2, 3]]", "d/dx [x, 1] @ [[1, 2, 3]] at x = 1"):
        with pytest.raises(diffi.ShapeError, match=r"shapes \(2,\) and \(1, 3\) do not fit '@'") \
                as caught:
            last(source)
        assert (caught.value.line, caught.value.column) == (1, 13)   # at '@', with a point or not


def test_trace_tables_in_a_body_name_the_parameter():
    # (the argument's literal has no name: the table's variable is the parameter's)
    from diffi.frontends.console import Console, make_interpreter, run_source
    out = io.StringIO()
    console = Console(stdout=out, stderr=io.StringIO())
    program = "f(x) = explain d/dx x^2\nf(3)\nh(x) = backprop x^2*sin(x) wrt x\nh(1)"
    assert run_source(make_interpreter(console), console, program, "<test>") == 0
    from diffi.directives.tables import BAR, DOT, accent
    lines = out.getvalue().splitlines()
    assert lines[:7] == ["forward pass", "  x  = 3", "  v1 = x^2 = 9", "tangents (d/dx)",
                         f"  {accent('x', DOT)}  = 1",
                         f"  {accent('v1', DOT)} = 2·x·{accent('x', DOT)} = 6", "d/dx = 6"]
    assert f"  {accent('x', BAR)}  = 2·{accent('v1', BAR)}·x + {accent('v2', BAR)}·cos(x) " \
           f"= 2.22324427548393" in lines


@pytest.mark.parametrize("program, rows", [
    ("h(x) = graph x^2 + 1\nh(3)", ["  x  = 3", "  v1 = x^2    = 9", "  v2 = v1 + 1 = 10"]),
    ("k(x, y) = graph x*y + x\nk(2, 5)",
     ["  x  = 2", "  y  = 5", "  v1 = x·y    = 10", "  v2 = v1 + x = 12"]),
    ("k(x) = { t = 2*x; graph t + x }\nk(4)",
     ["  x  = 4", "  t  = 2·x   = 8", "  v1 = t + x = 12"]),
])
def test_graph_in_a_body_names_the_parameter(program, rows):
    # (the parameter's node is the argument's literal: the graph shows it by name, as
    # the same graph at top level does, with the literal 3 nowhere in a formula)
    from diffi.frontends.console import Console, make_interpreter, run_source
    out = io.StringIO()
    console = Console(stdout=out, stderr=io.StringIO())
    assert run_source(make_interpreter(console), console, program, "<test>") == 0
    assert out.getvalue().splitlines()[1:] == rows


def test_graph_files_in_a_body_mark_the_parameter_an_input(tmp_path):
    it = diffi.Interpreter(files=str(tmp_path))
    it.run('h(x) = graph x^2 + 1 to "g.json"\nh(3)\nd(x) = graph x^2 + 1 to "g.dot"\nd(3)')
    data = json.loads((tmp_path / "g.json").read_text())
    assert [(n["name"], n["op"], n["value"]) for n in data["nodes"]][0] == \
        ("x", "input", {"type": "number", "value": 3.0})
    assert 'n0 [label="x\\ninput\\n3"];' in (tmp_path / "g.dot").read_text()


# A formula through tensors is the derivative at every point, or asks for one ---------------

TENSOR_FORMULAS = [
    "max([x, x^2, 0.1])", "min([x, 3])", "max([[x, 1], [2, x^2]], axis = 0)",
    "mean([[x, 2*x], [3*x, x^2]], axis = 0)", "sum([[x, 1], [2, x^3]], axis = 1)",
    "mean([x, x^2])", "reshape([x, x^2, 1, 2], 2, 2)", "concat([[x]], [[x^2]], axis = 1)",
    "[x, x^2][1]", "[x, x^2, x^3][0:2]", "[[x, 1], [2, x^2]][1, 1]", "size([x, x])*x",
    "shape([x])", "argmax([x, 2])*x", "norm([x, 3])", "dot([x, 1], [x, 2])",
    "[x, 1] @ [[x, 1], [2, 3]]", "transpose([[x, x^2]])", "softmax([x, 2*x])",
    "logsumexp([x, 2*x])", "sum([x, x^2]^2)", "onehot(1, 3)*x", "sum(linspace(0, x, 3))",
    "x*ones(2)", "[1, 2][x]", "max(x, 3)",
]


@pytest.mark.parametrize("source", [f"d/dx {e}" for e in TENSOR_FORMULAS])
def test_a_formula_through_tensors_is_the_derivative_or_asks_for_a_point(source):
    # (a formula's trace has no values: an operation whose derivative needs them — where
    # a max took its value, a shape, an index — must say so, never print a wrong formula:
    # max([x, x^2, 0.1]) printed [1, 2*x, 0], mean(…, axis = 0) lost its axis)
    kind, detail = formula_forms.outcome(source, [(0.7, 0), (1.9, 0), (-1.3, 0)], 1e-12)
    assert kind in ("formula", "asks"), (source, detail)


# Bound names keep their values in a formula --------------------------------------------

@pytest.mark.parametrize("expr", ["x^2 + q", "x^2*q", "sin(x*q) + x", "exp(x)/q"])
@pytest.mark.parametrize("order", [1, 2])
@pytest.mark.parametrize("where", ["top", "block", "body"])
def test_a_bound_variable_keeps_its_value_beside_a_free_name(expr, order, where):
    # (`x = 1; d/dx x^2 + q` printed 2*x: x's value was dropped because q has none)
    d = "d/dx" if order == 1 else "d2/dx2"
    source = {"top": f"x = 1.5\n{d} {expr}",
              "block": f"{{ x = 1.5; {d} {expr} }}",
              "body": f"g(x) = {d} {expr}\ng(1.5)"}[where]
    it = diffi.Interpreter(warn=lambda message, span: None)
    formula = it.run(source)[-1]
    for q in (0.5, 2.0):
        exact = it.eval(f"{d} {expr} at x = 1.5, q = {q}")
        value = formula(q) if callable(formula) else formula
        assert math.isclose(value, exact, rel_tol=1e-12), (source, q, value, exact)
    if callable(formula):
        assert "x" not in str(formula)   # a formula in q alone


def test_a_bound_variable_by_another_name_of_the_formula():
    it = diffi.Interpreter()
    by_q = it.run("x = 2\nd/dq x^2*q")[-1]   # (by an unbound q: a function of q)
    assert str(by_q) == "4" and by_q(7.0) == 4.0
    gradient = it.run("x = 2\ngrad x^2*q wrt x, q")[-1]
    assert str(gradient) == "[4*q, 4]" and list(gradient(3.0)) == [12.0, 4.0]


MISFITS = [
    "sum([x, 1] + [1, 2, 3])", "sum(sin(x)*[1, 2] + [1, 2, 3])", "[x, 1] @ [[1, 2, 3]]",
    "sum([[x, 1], [x]])", "[x, x^2][5]", "dot([x, 1], [1, 2, 3])",
    "sum(reshape([x, 1, 2], 2, 2))", "sum(x*ones(2, 3) @ ones(2))", "x[0]",
    "sum(mean([[x, 1], [2, 3]], axis = 1) + [1, 2, 3])", "sum(concat([[x]], [1, 2]))",
]


@pytest.mark.parametrize("expr", MISFITS)
def test_a_misfit_in_a_formula_is_the_same_error_as_at_a_point(expr):
    # (a formula's trace has no values, but its shapes are known: `d/dx sum([x, 1] +
    # [1, 2, 3])` printed 1 where the same derivative at a point is a ShapeError)
    def error(source):
        with pytest.raises(diffi.DiffiError) as caught:
            last(source)
        return type(caught.value), caught.value.message, caught.value.line, caught.value.column
    assert error(f"d/dx {expr}") == error(f"d/dx {expr} at x = 0.5")


GRADIENT_FORMULAS = [
    "sum([x, y]^2)", "sum(mean([[x, y], [1, x*y]], axis = 0)^2)", "norm([x, y])",
    "sum(softmax([x, y])*[1, 2])", "logsumexp([x, y, x*y])", "sum([[x, y], [y, 1]] @ [x, 2])",
    "([x^2] + [y, 2])[1]", "sum(reshape([x*y, 1, 2, y], 2, 2) @ [x, y])",
    "sum(softmax([[x, y], [y, x]])*[[1, 2], [3, 4]])", "sum(sum([[x, y], [x*y, 2]], axis = 1)^2)",
    "max([x, y, 0.5])", "dot([x, y], [y, x])", "sum(x + [1, y])", "sum([x, y]*[[1], [2]])",
]


@pytest.mark.parametrize("source", [f"grad {e} wrt x, y" for e in GRADIENT_FORMULAS])
def test_a_gradient_formula_through_tensors_is_the_gradient_or_asks_for_a_point(source):
    # (a formula's shapes are known, so reverse rules that need one — a sum's, a mean's,
    # a broadcast's — give formulas; what needs values asks for a point)
    kind, detail = formula_forms.outcome(source, [(0.7, -0.4), (1.9, 0.3)], 1e-12)
    assert kind in ("formula", "asks"), (source, detail)


def test_random_formulas_through_tensors_are_the_derivative_or_ask_for_a_point():
    # (a short seeded run of bench/formulas.py: d/dx, grad and d2/dx2 of random tensor
    # expressions without a point; `d/dx sum(x + [1, 2]) at x = 1` was 1 and
    # max([x, x^2, 0.1]) printed [1, 2*x, 0] before this held)
    seen = {}
    for source in formula_forms.forms(seed=3, count=60):
        kind, detail = formula_forms.outcome(source)
        seen[kind] = seen.get(kind, 0) + 1
        assert kind not in ("wrong", "internal"), (source, detail)
    assert seen.get("formula", 0) >= 60   # (most forms do give formulas)


@pytest.mark.parametrize("mode", ["", " using forward", " using reverse", " using symbolic",
                                  " using numeric"])
@pytest.mark.parametrize("expr, exact", [
    ("sum(x + [1, 2])", 2.0), ("sum(eye(2) - x)", -4.0), ("sum(exp(x) + [1, 2])", 2.0),
    ("([x] + [1, 2])[1]", 1.0), ("sum(reshape([x] + [1, 2, 3, 4], 2, 2) @ [1, 2])", 6.0),
    ("sum(concat([x] + eye(2), eye(2)))", 4.0), ("sum(dot(x, ones(2, 3)))", 6.0),
])
def test_a_tangent_through_broadcasting_has_its_outputs_shape(expr, exact, mode):
    # (the tangent of x + [1, 2] by x was the number 1, not [1, 1]: forward mode gave
    # d/dx sum(x + [1, 2]) = 1, and an index, reshape or concat after it failed)
    assert last(f"d/dx {expr} at x = 0{mode}") == pytest.approx(exact, rel=1e-9)


@pytest.mark.parametrize("directive", [
    "d/dt (if t > 0 then t^2 else -t^3) at t = x",
    "(grad (if t > 0 and s > 0 then t^2*s else -t^3) wrt t at t = x, s = 1)[0]",
    "d2/dt2 (if t > 0 then t^3 else -t^4) at t = x using symbolic",
])
def test_a_directive_result_re_evaluated_where_its_branch_flips_says_so(directive):
    """A directive's result is a formula of the branch its trace took; re-evaluated at a
    point where that branch no longer holds, it says so, as a bound `if` does (it gave
    the other branch's derivative: d/dx z at x = -1 was 2, exactly 6)."""
    it = diffi.Interpreter(warn=lambda message, span: None)
    it.run(f"x = 0.5\nz = {directive}")
    same_side = it.run("d/dx z at x = 2")[0]
    near = it.run("d/dx z at x = 2.001")[0]
    assert same_side == pytest.approx(near, rel=1e-2)
    with pytest.raises(diffi.DiffiError, match="takes the other branch"):
        it.run("d/dx z at x = -1")
    assert it.run("d/dx z at x = 2")[0] == same_side  # (nothing changed)


@pytest.mark.parametrize("program, expected", [
    # the point sets y to q, and the result reads y through y^3 (a step of its own
    # trace): it depends on q (it gave 0, and said "does not depend on q")
    (["q = 2", "r = d/dx x^2*y^3 at x = 0.7, y = q", "d/dq r"], 16.8),
    (["d/ds (d/dx x^2*y^3 at x = 0.7, y = s) at s = 2"], 16.8),
    (["q = 2", "d/dq (grad x^2*y^3 wrt x at x = 0.7, y = q)[0]"], 16.8),
    (["q = 2", "d/dq (d2/dx2 x^3*exp(y) at x = 0.5, y = q)"], 3 * math.exp(2)),
    (["b(p, q) = d/dx x^2*y^3 at x = p, y = q", "b(1, 1)", "b(1, 1)", "b(1, 1)",
      "d/ds b(0.7, s) at s = 2"], 16.8),
])
def test_a_result_depends_on_a_point_expression_it_reads_through_any_step(program, expected):
    it = diffi.Interpreter(warn=lambda message, span: pytest.fail(message))
    for line in program[:-1]:
        it.run(line)
    assert it.run(program[-1])[0] == pytest.approx(expected, rel=1e-12)
