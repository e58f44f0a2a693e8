"""Formulas as a textbook writes them (diffi/modes/canonical.py, diffi/directives/steps.py):
exact printed forms, and a property: every printed formula evaluates to the values the
derivative has (forward mode), on random expressions full of commuted products, shared
parts and quotients.
"""
from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import diffi
from diffi import table
from diffi.core.graph import Node
from diffi.modes import canonical, symbolic


def printed(source: str) -> str:
    return str(diffi.Interpreter().eval(source))


@pytest.mark.parametrize("source, formula", [
    ("d/dx sin(x)^2 + cos(x)^2", "0"),                      # 2*t1*t2 - 2*t2*t1
    ("d/dx 0.1*x + 0.2*x", "0.3"),                          # 15 digits, as values print
    ("d/dx x^2*sin(x)", "2*x*sin(x) + x^2*cos(x)"),         # the product rule's order
    ("d/dw -log(sigmoid(w*x))", "-x*sigmoid(-w*x)"),        # t2*…/t2 cancels
    ("d/dx x*x*x", "3*x^2"),
    ("d/dx x^3/3 - x^2/2 + x", "x^2 - x + 1"),              # falling degree, constant last
    ("d/dx x^4 + x*y + x^2*y^2", "4*x^3 + 2*x*y^2 + y"),
    ("d/dx sqrt(x)", "1/(2*sqrt(x))"),                      # a coefficient 1/2 divides
    ("d/dx x/3", "0.333333333333333"),                      # a number prints as values do
    ("d/dx 1.5*x^2", "3*x"),
    ("d/dx x^2/3", "2*x/3"),
    ("d/dx 1/x", "-1/x^2"),
    ("d/dx log(log(x))", "1/(x*log(x))"),
    ("d/dx asin(x)", "1/sqrt(1 - x^2)"),                    # the positive part first
    ("d/dx atan2(y, x)", "-y/(x^2 + y^2)"),
    ("d/dx cos(x)*sin(x)", "cos(x)^2 - sin(x)^2"),
    ("d/dx (x + 1)^2", "2*(x + 1)"),                        # 2 stays out of the sum
    ("d/dx sqrt(x^2 + 1)", "x/sqrt(x^2 + 1)"),              # 0.5*(2*x) is x
    ("d2/dx2 exp(x)*sin(x)", "2*exp(x)*cos(x)"),            # like terms meet
    ("d/dx 2*x/(3*x)", "0"),
    ("d/dx 2^x", "0.693147180559945*2^x"),
    ("d/dx x^0.5", "1/(2*x^0.5)"),
    ("d/dw sigmoid(w*x)", "{ t1 = w*x; x*sigmoid(t1)*sigmoid(-t1) }"),
    ("d/dx exp(x)*x", "{ t1 = exp(x); t1 + x*t1 }"),
    ("d/dx x^2/(x^2 + 1)", "{ t1 = x^2 + 1; 2*x/t1 - 2*x^3/t1^2 }"),
    ("grad x*y + sin(x) wrt x, y", "[y + cos(x), x]"),
    ("hessian x^2*y^3 wrt x, y", "{ t1 = 6*x*y^2; [[2*y^3, t1], [t1, 6*x^2*y]] }"),
])
def test_formulas_print_as_a_textbook_writes_them(source, formula):
    assert printed(source) == formula


def test_a_printed_constant_reads_back_to_the_number_the_formula_holds():
    it = diffi.Interpreter()
    df = it.eval("df = d/dx 0.1*x + 0.2*x; df")
    assert str(df) == "0.3" and df(5.0) == 0.3  # (not 0.30000000000000004)


@pytest.mark.parametrize("source, shape", [
    ("x - x", "0"), ("x + y - y", "x"), ("2*x*y - 2*y*x", "0"), ("x*y/y", "x"),
    ("-(a - b)", "b - a"), ("-(a + b)", "-(a + b)"), ("0.5*(2*a + 2*b)", "a + b"),
    ("a*b*a", "a^2*b"), ("(2*a)^2", "4*a^2"), ("a^2*a^-2", "1"), ("a/(b/a)", "a^2/b"),
    ("1 + a + 2", "a + 3"), ("3 - a", "3 - a"), ("-a + b", "b - a"), ("x/4", "0.25*x"),
])
def test_the_builder_puts_sums_and_products_in_one_form(source, shape):
    it = diffi.Interpreter()
    assert str(it.eval(f"d/dt t*({source})")) == shape


def test_truth_values_and_tensors_keep_the_plain_rules():
    b = symbolic.Builder(canonical=True)
    x = Node(table.CONST, (), None, name="x")
    test = b.ap(table.LT, x, 2.0)
    assert b.ap(table.MUL, 1.0, test).op is table.MUL  # 1*(x < 2) stays a number
    assert canonical.build(b, table.ADD, (test, x)) is None


def test_a_sum_grows_only_to_its_bound():
    b = symbolic.Builder(canonical=True)
    names = [Node(table.CONST, (), None, name=f"x{i}") for i in range(canonical.MAX_PARTS + 5)]
    total = names[0]
    for count, name in enumerate(names[1:], start=2):
        total = b.ap(table.ADD, total, name)
        assert (total.id in b.sums) == (count <= canonical.MAX_PARTS or count > 41)
    # past the bound the 41-term sum became one opaque term of the sums after it
    assert max(len(form[1]) for form in b.sums.values()) == canonical.MAX_PARTS


# Every printed formula evaluates to the derivative's values --------------------------------

LEAVES = st.sampled_from(["x", "y", "x", "y", "2", "0.5", "3"])
UNARY = ["sin({u})", "cos({u})", "exp(0.5*sin({u}))", "sigmoid({u})", "tanh({u})",
         "-({u})", "({u})^2", "({u})^3", "sqrt(1 + ({u})^2)", "log(2 + sin({u}))",
         "1/(2 + cos({u}))"]
BINARY = ["({u}) + ({v})", "({u}) - ({v})", "({u})*({v})", "({v})*({u})",
          "({u})/(2 + sin({v}))", "({u})*({v})/({u}^2 + 1)", "({u})*({u}) - ({v})*({u})",
          "({u})^2 + ({v})^2 - ({u} + {v})^2"]


def _extend(children):
    unary = st.builds(lambda t, u: t.format(u=u), st.sampled_from(UNARY), children)
    binary = st.builds(lambda t, u, v: t.format(u=u, v=v), st.sampled_from(BINARY),
                       children, children)
    return unary | binary


EXPRESSIONS = st.recursive(LEAVES, _extend, max_leaves=7).filter(lambda e: "x" in e)
POINTS = st.floats(min_value=-2.0, max_value=2.0, allow_nan=False).map(lambda v: round(v, 2))


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-8, abs_tol=1e-8)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          derandomize=True, database=None)
@given(expr=EXPRESSIONS, a=POINTS, b=POINTS)
def test_printed_formulas_evaluate_to_the_derivatives_values(expr, a, b):
    it = diffi.Interpreter(warn=lambda message, span: None)
    for head in ("d/dx", "d2/dx2"):
        text = str(it.eval(f"{head} {expr}"))
        try:
            exact = it.eval(f"{head} {expr} at x = {a!r}, y = {b!r}")
        except diffi.DiffiError:  # (no derivative there, e.g. a constant denominator of 0)
            continue
        warned = []
        again = diffi.Interpreter(warn=lambda message, span: warned.append(message))
        again["x"], again["y"] = a, b
        value = again.eval(text)
        if warned and not math.isfinite(value):
            continue  # (the formula overflows inside, cosh(729)^3, and says so: not silent)
        if math.isfinite(exact) and abs(exact) < 1e6:
            assert _close(value, exact), (head, expr, text, value, exact)
