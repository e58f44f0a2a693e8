"""The differentiation modes (diffi/modes/: forward, reverse, numeric, symbolic; diffi/table/series.py).

One table-driven test walks every differentiable primitive of `diffi.table.TABLE` and
checks each mode (forward, reverse, symbolic, Taylor mode for orders 2 and 3) against
Richardson differences of the primitive's own float evaluation. Then: a completeness
check of the table, random expressions on which all modes agree (hypothesis), accuracy
targets in the tails and at high order, and a million-operation chain (no recursion).
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import diffi
from diffi.modes import numeric
from diffi.table import reader
from diffi.table.rules import ZERO
from diffi.table import TABLE


def close(a, b, rel, floor=0.0) -> bool:
    """|a - b| within rel of the larger magnitude (or of `floor`, for values near 0)."""
    a, b = float(a), float(b)
    if a == b:
        return True
    return abs(a - b) <= rel * max(abs(a), abs(b), floor)


def richardson(f, x, order):
    return numeric.derivative(f, x, order, "richardson").value


# The table -----------------------------------------------------------------------------------

# Sample points inside each primitive's domain, away from kinks and poles:
# name -> [(position of x among the arguments, the other argument, points)].
DOMAINS = {
    "add": [(0, 0.7, [-1.3, 0.4, 2.5]), (1, 0.7, [-1.3, 2.5])],
    "sub": [(0, 0.7, [-1.3, 2.5]), (1, 0.7, [-1.3, 2.5])],
    "mul": [(0, 0.7, [-1.3, 2.5]), (1, -1.9, [-1.3, 2.5])],
    "div": [(0, 0.7, [-1.3, 2.5]), (1, 0.7, [-1.3, 0.5, 2.5])],
    "pow": [(0, 2.5, [0.5, 1.7, 3.0]), (0, 3.0, [-1.3, 0.8]), (0, -1.5, [0.6, 2.0]),
            (1, 0.7, [-1.3, 0.4, 2.5]), (1, 2.0, [-0.5, 1.5])],
    "neg": [(0, None, [-1.3, 2.5])],
    "pos": [(0, None, [-1.3, 2.5])],
    "sin": [(0, None, [-1.3, 0.4, 1.2])],
    "cos": [(0, None, [-1.3, 0.4, 1.2])],
    "tan": [(0, None, [-1.2, 0.4, 1.2])],
    "asin": [(0, None, [-0.7, 0.1, 0.6])],
    "acos": [(0, None, [-0.7, 0.1, 0.6])],
    "atan": [(0, None, [-2.0, 0.3, 5.0])],
    "sinh": [(0, None, [-1.5, 0.3, 2.0])],
    "cosh": [(0, None, [-1.5, 0.3, 2.0])],
    "tanh": [(0, None, [-1.5, 0.3, 2.0])],
    "exp": [(0, None, [-2.0, 0.5, 3.0])],
    "log": [(0, None, [0.3, 1.0, 4.5])],
    "log2": [(0, None, [0.3, 1.0, 4.5])],
    "log10": [(0, None, [0.3, 1.0, 4.5])],
    "sqrt": [(0, None, [0.3, 2.0, 9.0])],
    "cbrt": [(0, None, [-2.0, 0.3, 9.0])],
    "log1p": [(0, None, [-0.5, 0.2, 3.0])],
    "expm1": [(0, None, [-1.0, 0.2, 1.5])],
    "erf": [(0, None, [-1.0, 0.3, 1.5])],
    "abs": [(0, None, [-1.3, 0.8])],
    "atan2": [(0, 0.7, [-1.3, 0.4, 2.0]), (1, 0.7, [-1.3, 0.4, 2.0])],
    "hypot": [(0, 0.7, [-1.3, 0.4, 2.0]), (1, -0.9, [-1.3, 0.4, 2.0])],
    "sigmoid": [(0, None, [-3.0, 0.2, 4.0])],
    "relu": [(0, None, [-1.1, 0.7, 2.3])],
    "softplus": [(0, None, [-3.0, 0.2, 4.0])],
    "max": [(0, 0.7, [-1.3, 2.0]), (1, 0.7, [-1.3, 2.0])],
    "min": [(0, 0.7, [-1.3, 2.0]), (1, 0.7, [-1.3, 2.0])],
}

# Operations whose value is piecewise constant: derivative 0 wherever it exists.
PIECEWISE_CONSTANT = {"sign", "floor", "ceil", "lt", "le", "gt", "ge", "eq", "ne", "not"}


def differentiable(prim) -> bool:
    return prim.numeric and prim.rule.kind == "partials"


def _num(v) -> str:
    return f"({v!r})" if v < 0 else repr(v)


def source_of(prim, position: int, other) -> str:
    """The primitive applied to x (and a constant) in diffi syntax."""
    args = ["x" if i == position else _num(other) for i in range(prim.arity)]
    if prim.symbol is not None:
        if prim.arity == 1:
            return f"{prim.symbol}x"
        return f"({args[0]}) {prim.symbol} ({args[1]})"
    return f"{prim.name}({', '.join(args)})"


def primitive_cases():
    cases = []
    for name, prim in TABLE.items():
        if not differentiable(prim):
            continue
        for position, other, points in DOMAINS.get(name, [(0, None, [None])]):
            for x in points:
                cases.append(pytest.param(name, position, other, x,
                                          id=f"{name}-arg{position}-{other}-at-{x}"))
    return cases


@pytest.fixture(scope="module")
def it():
    return diffi.Interpreter(warn=lambda message, span: None)


@pytest.mark.parametrize("name, position, other, x", primitive_cases())
def test_every_primitive_in_every_mode(it, name, position, other, x):
    assert x is not None, f"no sample domain for primitive '{name}': add it to DOMAINS"
    prim = TABLE[name]
    expr = source_of(prim, position, other)

    def f(t):
        return prim.evaluate(*[t if i == position else other for i in range(prim.arity)])

    at = f"at x = {x!r}"
    fwd = it.eval(f"d/dx {expr} {at}")
    rev = it.eval(f"d/dx {expr} {at} using reverse")
    sym = it.eval(f"d/dx {expr} {at} using symbolic")
    second = it.eval(f"d2/dx2 {expr} {at}")
    third = it.eval(f"d3/dx3 {expr} {at}")
    for value in (fwd, rev, sym, second, third):
        assert type(value) is float, (expr, value)

    exact1 = richardson(f, x, 1)
    assert close(fwd, exact1, 1e-10, floor=1.0), (expr, fwd, exact1)
    assert close(fwd, rev, 1e-12), (expr, fwd, rev)
    assert close(sym, fwd, 1e-12), (expr, sym, fwd)
    assert close(second, richardson(f, x, 2), 1e-8, floor=1.0), (expr, second)
    # Taylor mode's third derivative against numeric (third differences, and the
    # derivative of the numeric second derivative): both far from round-off here.
    assert close(third, richardson(f, x, 3), 1e-6, floor=1.0), (expr, third)
    # Differentiating a numeric second derivative amplifies its ~1e-10 noise by
    # 1/h, so this cross-check holds to 1e-4 (the direct one above to 1e-6).
    nested = richardson(lambda t: richardson(f, t, 2), x, 1)
    assert close(third, nested, 1e-4, floor=1.0), (expr, third, nested)


def test_every_numeric_primitive_has_a_derivative_rule_or_is_piecewise_constant():
    missing = []
    for name, prim in TABLE.items():
        if not prim.numeric or name in PIECEWISE_CONSTANT:
            continue
        if prim.rule.kind not in ("partials", "linear", "custom") \
                or not reader.has_series(prim):
            missing.append(name)
    assert missing == [], f"primitives without derivative rules: {missing}"
    for name in PIECEWISE_CONSTANT:
        assert name in TABLE and TABLE[name].rule is ZERO


def test_every_differentiable_primitive_has_a_sample_domain():
    names = {n for n, p in TABLE.items() if differentiable(p)}
    assert names - set(DOMAINS) == set()


@pytest.mark.parametrize("expr, value", [
    ("sign(x)", 1.0), ("floor(x)", 1.0), ("ceil(x)", 2.0), ("(x < 2)", 1.0),
    ("(x <= 1)", 0.0), ("(x > 2)", 0.0), ("(x >= 1)", 1.0), ("(x == 1.5)", 1.0),
    ("(x != 1.5)", 0.0), ("(not (x < 2))", 0.0),
])
def test_piecewise_constant_primitives_have_derivative_zero_in_every_mode(it, expr, value):
    at = "at x = 1.5"
    for directive in (f"d/dx {expr} {at}", f"d/dx {expr} {at} using reverse",
                      f"d/dx {expr} {at} using symbolic", f"d2/dx2 {expr} {at}",
                      f"d2/dx2 {expr} {at} using symbolic"):
        result = it.eval(directive)
        assert type(result) is float and result == 0.0, (directive, result)
    assert it.eval(f"{{ x = 1.5; {expr} + 0 }}") == value


def test_a_comparison_factor_passes_through_a_derivative_as_a_number(it):
    """d/dx x*(x < 2) = (x < 2) as a number (1 or 0) in every mode, never a boolean."""
    found = {}
    for expr, value in [("(x < 2)", 1.0), ("(x > 2)", 0.0), ("(x == 1.5)", 1.0)]:
        for mode in ("forward", "reverse", "symbolic"):
            result = it.eval(f"d/dx x*{expr} at x = 1.5 using {mode}")
            if not (type(result) is float and result == value):
                found[(expr, mode)] = result
    assert found == {}


# Random expressions -----------------------------------------------------------------------------

# Smooth on the whole real line (the argument of exp is bounded, log sees 1 + u^2, …).
UNARY = ["sin({u})", "cos({u})", "atan({u})", "tanh({u})", "sigmoid({u})", "erf({u})",
         "softplus({u})", "exp(sin({u}))", "exp(tanh({u}))", "log(1 + ({u})^2)",
         "log1p(({u})^2)", "sqrt(1 + ({u})^2)", "cbrt(2 + sin({u}))", "log2(2 + cos({u}))",
         "log10(1 + ({u})^2)", "asin(0.5*sin({u}))", "acos(0.5*tanh({u}))",
         "tan(0.5*atan({u}))", "sinh(sin({u}))", "cosh(sin({u}))", "expm1(tanh({u}))",
         "hypot({u}, 1)", "-({u})", "({u})^2", "logistic({u})"]
BINARY = ["({u}) + ({v})", "({u}) - ({v})", "({u})*({v})", "({u})/(1 + ({v})^2)",
          "atan2({u}, 2 + cos({v}))", "hypot({u}, 1 + ({v})^2)",
          "(1 + ({u})^2)^sin({v})", "(1.5 + sin({u}))^tanh({v})"]
LEAVES = st.sampled_from(["x", "y", "x", "y", "0.5", "2", "1.25"])


def _extend(children):
    unary = st.builds(lambda t, u: t.format(u=u), st.sampled_from(UNARY), children)
    binary = st.builds(lambda t, u, v: t.format(u=u, v=v), st.sampled_from(BINARY),
                       children, children)
    return unary | binary


EXPRESSIONS = st.recursive(LEAVES, _extend, max_leaves=6).filter(
    lambda e: "x" in e and "y" in e)
COORDINATES = st.floats(min_value=-2.0, max_value=2.0, allow_nan=False).map(
    lambda v: round(v, 3))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(expr=EXPRESSIONS, a=COORDINATES, b=COORDINATES)
def test_modes_agree_on_random_expressions(expr, a, b):
    # (warnings are not the subject here; test_directives checks them)
    it = diffi.Interpreter(warn=lambda message, span: None)
    it.run(f"F(x, y) = {expr}")
    results = {mode: it.eval(f"grad F at ({a!r}, {b!r}) using {mode}")
               for mode in ("forward", "reverse", "symbolic")}
    richardson_result = it.eval(f'grad F at ({a!r}, {b!r}) using numeric(method = "richardson")')
    direct = [it.eval(f"d/d{v} {expr} at x = {a!r}, y = {b!r}") for v in ("x", "y")]
    reference = results["forward"]
    assert reference.shape == (2,)
    for k in range(2):
        for mode, value in results.items():
            assert close(value[k], reference[k], 1e-9, floor=1e-3), (expr, mode, k)
        assert close(direct[k], reference[k], 1e-9, floor=1e-3), (expr, "d/dx", k)
        assert close(richardson_result[k], reference[k], 1e-6, floor=1.0), (expr, "numeric", k)

    # The symbolic gradient prints as diffi source that evaluates to the same values.
    gradient = it.eval("grad F")
    text = str(gradient)
    again = diffi.Interpreter()
    again.run(f"G(x, y) = {text}")
    reparsed = again.eval(f"G({a!r}, {b!r})")
    for k in range(2):
        assert close(reparsed[k], results["symbolic"][k], 1e-9, floor=1e-3), (expr, text)
    dx_text = str(it.eval("d/dx F"))
    again.run(f"H(x, y) = {dx_text}")
    assert close(again.eval(f"H({a!r}, {b!r})"), reference[0], 1e-9, floor=1e-3), dx_text


# Accuracy targets ---------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["forward", "reverse", "symbolic"])
def test_tanh_derivative_in_the_tail(it, mode):
    exact = 3.0 / math.cosh(30.0) ** 2   # about 1.05e-25; 1 - tanh^2 would round to 0
    value = it.eval(f"d/dx tanh(3*x) at x = 10 using {mode}")
    assert close(value, exact, 1e-12), value


@pytest.mark.parametrize("mode", ["forward", "reverse", "symbolic"])
def test_sigmoid_derivative_in_the_tail(it, mode):
    exact = math.exp(-40.0) / (1.0 + math.exp(-40.0)) ** 2
    value = it.eval(f"d/dx sigmoid(x) at x = 40 using {mode}")
    assert close(value, exact, 1e-12), value


def test_sigmoid_derivative_in_the_left_tail(it):
    exact = math.exp(-40.0) / (1.0 + math.exp(-40.0)) ** 2
    assert close(it.eval("d/dx sigmoid(x) at x = -40"), exact, 1e-12)
    assert close(it.eval("d2/dx2 sigmoid(x) at x = -40"), exact, 1e-10)


def test_fortieth_derivative_of_sine(it):
    assert abs(it.eval("d40/dx40 sin(x) at x = 1") - math.sin(1.0)) <= 1e-10
    assert abs(it.eval("d41/dx41 sin(x) at x = 1") - math.cos(1.0)) <= 1e-10


def test_tenth_derivative_of_exp(it):
    assert it.eval("d10/dx10 exp(2*x) at x = 0") == pytest.approx(1024.0, rel=1e-13)
    assert it.eval("d10/dx10 exp(2*x) at x = 1") == pytest.approx(
        1024.0 * math.exp(2.0), rel=1e-12)


@pytest.mark.parametrize("source, exact", [
    ("d6/dx6 x^6 at x = 0.3", 720.0),
    ("d7/dx7 x^6 at x = 0.3", 0.0),
    ("d5/dx5 log(x) at x = 2", 24.0 / 2.0 ** 5),
    ("d8/dx8 1/(1 - x) at x = 0.5", math.factorial(8) * 2.0 ** 9),
    ("d4/dx4 sqrt(x) at x = 4", -15.0 / 16.0 * 4.0 ** -3.5),
    ("d3/dx3 x^x at x = 1", 3.0),
])
def test_higher_derivatives_against_closed_forms(it, source, exact):
    assert close(it.eval(source), exact, 1e-12, floor=1e-300)


def test_richardson_reaches_about_1e_12(it):
    exact = math.cos(1.0) * math.exp(math.sin(1.0))
    value = it.eval('d/dx exp(sin(x)) at x = 1 using numeric(method = "richardson")')
    assert close(value, exact, 1e-12)
    central = it.eval("d/dx exp(sin(x)) at x = 1 using numeric")
    assert close(central, exact, 1e-9) and not close(central, exact, 1e-14)


# A million-operation chain --------------------------------------------------------------------

def _doubling_script(levels: int) -> str:
    """g0 multiplies by x once; g_k applies g_{k-1} twice: g_levels(x) is 2^levels products."""
    lines = ["x = 1.0000001", "g0(t) = t*x"]
    lines += [f"g{k}(t) = g{k - 1}(g{k - 1}(t))" for k in range(1, levels + 1)]
    lines.append(f"y = g{levels}(x)")
    return "\n".join(lines)


def _check_chain(it, n):
    x = 1.0000001
    exact = (n + 1) * x ** n       # y = x^(n+1)
    assert close(it.eval("y"), x ** (n + 1), 1e-9)
    assert close(it.eval("d/dx y"), exact, 1e-8)
    assert close(it.eval("d/dx y using reverse"), exact, 1e-8)
    assert close(it.eval("grad y wrt x")[0], exact, 1e-8)


# (the Python API's default timeout of 10 s per statement bounds untrusted work; these
# measure size, not time, on a machine that may be slow)
UNTIMED = dict(timeout=None, run_timeout=None)


def test_long_chain_of_function_calls():
    it = diffi.Interpreter(**UNTIMED)
    it.run(_doubling_script(17))
    _check_chain(it, 2 ** 17)


@pytest.mark.slow
def test_million_operation_chain_of_function_calls():
    it = diffi.Interpreter(**UNTIMED)
    it.run(_doubling_script(20))
    _check_chain(it, 2 ** 20)


@pytest.mark.slow
def test_million_operation_expression():
    n = 1_000_000
    it = diffi.Interpreter(**UNTIMED)
    it.run("x = 1.0000001\ny = x" + " * x" * n)
    _check_chain(it, n)
    # re-evaluated along the graph at another point
    assert close(it.eval("d/dx y at x = 1.0000002"), (n + 1) * 1.0000002 ** n, 1e-8)


def test_deep_nesting_of_calls_differentiates():
    depth = 2000
    it = diffi.Interpreter()
    it.run("x = 0.5\ny = " + "sin(" * depth + "x" + ")" * depth)
    expected = it.eval("d/dx y using reverse")
    assert close(it.eval("d/dx y"), expected, 1e-12)
    value, slope = 0.5, 1.0
    for _ in range(depth):
        value, slope = math.sin(value), slope * math.cos(value)
    assert close(expected, slope, 1e-9)


@pytest.mark.parametrize("expr, expected", [
    ("(x*[0, 1])^3", [0.0, 6.0]),      # a base that is 0 in one element: exact products
    ("x^[2, 3]", [2.0, 12.0]),         # a tensor of constant exponents
    ("(x*[0, 1])^[2, 3]", [0.0, 6.0]),
])
def test_higher_order_powers_of_tensors(it, expr, expected):
    got = it.eval(f"d2/dx2 {expr} at x = {1 if '0, 1' in expr else 2}")
    np.testing.assert_allclose(got, expected, rtol=1e-15)


# Any order: Taylor mode for every n whose result float64 holds ---------------------------

@pytest.mark.parametrize("source, exact", [
    ("d1000/dx1000 x at x = 1", 0.0),
    ("d1000/dx1000 x^3 - 2*x at x = 0.5", 0.0),
    ("d171/dx171 exp(2*x) at x = 0", 2.0 ** 171),
    ("d1000/dx1000 exp(2*x) at x = 0", 2.0 ** 1000),
    ("d200/dx200 exp(-x) at x = 1", math.exp(-1.0)),
    ("d30/dx30 log(x) at x = 0.5", -math.factorial(29) / 0.5 ** 30),
    ("d60/dx60 sin(x) at x = 1", math.sin(1.0)),
])
def test_a_derivative_of_any_order_is_exact_where_float64_holds_it(source, exact):
    it = diffi.Interpreter()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no rounding warning either
        assert it.eval(source) == pytest.approx(exact, rel=1e-12, abs=0.0)


def test_an_order_whose_coefficients_cancel_says_how_many_digits_are_left():
    it = diffi.Interpreter()
    with pytest.warns(diffi.DiffiWarning, match=r"d100/dx100 kept only about \d significant "
                                                r"digits: its Taylor coefficients cancel"):
        it.eval("d100/dx100 sin(x)*exp(x) at x = 0.5")


def test_an_order_beyond_float64_is_a_clear_error_and_beyond_the_limit_a_limit_error():
    it = diffi.Interpreter()
    with pytest.raises(diffi.DiffiTypeError, match="a derivative of order 3000 does not fit "
                                                   "in float64 here"):
        it.eval("d3000/dx3000 exp(2*x) at x = 0")
    with pytest.raises(diffi.LimitError, match="derivatives of order above 10000"):
        it.eval("d20000/dx20000 x at x = 1")
