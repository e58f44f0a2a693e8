"""The primitive table (diffi/table/scalars.py): every scalar built-in, one table.

Each built-in is checked against Python's `math` (or an obvious formula) at several
points, on its float path (`Primitive.evaluate` on floats), on its NumPy path
(elementwise on an array) and through the language (`Interpreter.eval`); then the
IEEE edge cases (`1/0` is inf, `log(-1)` is nan, nothing raises).
"""
from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest

from diffi import Interpreter
from diffi import table

REL = 1e-15  # relative tolerance against Python's math


def _sign(x):
    return 1.0 if x > 0 else -1.0 if x < 0 else 0.0


def _sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


# name: (reference, points). Points are inside the domain, so the reference never raises.
GENERAL = [-2.5, -1.0, -0.3, 0.0, 0.7, 1.0, 2.0, 10.0]
POSITIVE = [1e-300, 0.01, 0.5, 1.0, 2.0, 3.7, 1000.0, 1e300]
UNIT = [-1.0, -0.5, -0.1, 0.0, 0.3, 0.9, 1.0]
UNARY = {
    "sin": (math.sin, GENERAL + [1e6]),
    "cos": (math.cos, GENERAL + [1e6]),
    "tan": (math.tan, GENERAL),
    "asin": (math.asin, UNIT),
    "acos": (math.acos, UNIT),
    "atan": (math.atan, GENERAL + [1e300]),
    "sinh": (math.sinh, GENERAL + [700.0]),
    "cosh": (math.cosh, GENERAL + [-700.0]),
    "tanh": (math.tanh, GENERAL + [30.0]),
    "exp": (math.exp, GENERAL + [-700.0, 700.0]),
    "log": (math.log, POSITIVE),
    "log2": (math.log2, POSITIVE + [1024.0]),
    "log10": (math.log10, POSITIVE + [1e-5]),
    "sqrt": (math.sqrt, POSITIVE + [0.0]),
    "cbrt": (math.cbrt, GENERAL + [-8.0, 27.0, 1e300]),
    "abs": (abs, GENERAL + [-1e300]),
    "sign": (_sign, GENERAL + [-1e-300]),
    "floor": (lambda x: float(math.floor(x)), GENERAL + [-0.5, 2.5, 1e20]),
    "ceil": (lambda x: float(math.ceil(x)), GENERAL + [-0.5, 2.5, 1e20]),
    "sigmoid": (_sigmoid, GENERAL + [-30.0, 30.0]),
    "logistic": (_sigmoid, GENERAL + [-30.0, 30.0]),
    "relu": (lambda x: max(x, 0.0), GENERAL + [-1e300, 1e300]),
    "softplus": (lambda x: math.log1p(math.exp(x)), GENERAL + [-30.0, 30.0]),
    "log1p": (math.log1p, [-0.5, -1e-10, 0.0, 1e-10, 1e-20, 0.5, 2.0, 1e10]),
    "expm1": (math.expm1, GENERAL + [1e-10, -1e-20, 700.0]),
    "erf": (math.erf, GENERAL + [-5.0, 5.0, 1e-8]),
}
PAIRS = [(3.0, 4.0), (-1.0, 2.0), (0.5, -0.25), (-2.0, -7.0), (0.0, 1.0), (1e300, 1e300),
         (1.0, 1.0), (-0.0, 5.0)]
BINARY = {
    "min": (min, PAIRS),
    "max": (max, PAIRS),
    "hypot": (math.hypot, PAIRS + [(1e-300, 1e-300)]),
    "atan2": (math.atan2, PAIRS + [(0.0, -1.0), (-1.0, -1.0), (1.0, 0.0)]),
}
# The documented list of scalar functions (docs/language.md), to the letter.
DOCUMENTED_SCALARS = ("sin cos tan asin acos atan atan2 sinh cosh tanh exp log log2 log10 "
                "sqrt cbrt abs sign floor ceil min max hypot sigmoid logistic relu "
                "softplus log1p expm1 erf").split()


def _prim(name):
    return table.TABLE[table.ALIASES.get(name, name)]


def _close(actual, expected, rel=REL):
    if math.isnan(expected):
        return math.isnan(actual)
    if math.isinf(expected) or expected == 0:
        return actual == expected
    return math.isclose(actual, expected, rel_tol=rel, abs_tol=0.0)


def _source(x: float) -> str:
    """A diffi literal for x (repr gives `1e-300`, `-2.5`, `inf`, `nan`)."""
    return f"({x!r})"


@pytest.fixture(scope="module")
def it():
    return Interpreter(warn=lambda message, span: None)


def test_operators_and_scalars_have_float_implementations():
    for name in DOCUMENTED_SCALARS + "add sub mul div pow neg pos lt le gt ge eq ne not".split():
        prim = _prim(name)
        assert prim.numeric and prim.scalar is not None and prim.tensor is not None, name


def test_every_spec_scalar_is_in_this_table():
    assert set(DOCUMENTED_SCALARS) == set(UNARY) | set(BINARY)


def test_table_declares_every_spec_scalar_and_nothing_untested():
    # A new scalar built-in must come with a row here (the table-driven rule of STYLE).
    assert set(table.SCALAR_FUNCTIONS) == set(DOCUMENTED_SCALARS)
    assert table.ALIASES["logistic"] == "sigmoid"


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_float_path_matches_math(name):
    reference, points = UNARY[name]
    prim = _prim(name)
    assert prim.arity == 1
    for x in points:
        got = prim.evaluate(x)
        assert type(got) is float, (name, x, type(got))
        assert _close(got, reference(x)), (name, x, got, reference(x))


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_float_path_matches_math(name):
    reference, pairs = BINARY[name]
    prim = _prim(name)
    assert prim.arity == 2
    for a, b in pairs:
        got = prim.evaluate(a, b)
        assert type(got) is float, (name, a, b, type(got))
        assert _close(got, reference(a, b)), (name, a, b, got, reference(a, b))


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_through_the_language(name, it):
    reference, points = UNARY[name]
    for x in points:
        got = it.eval(f"{name}{_source(x)}")
        assert type(got) is float
        assert _close(got, reference(x)), (name, x, got)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_through_the_language(name, it):
    reference, pairs = BINARY[name]
    for a, b in pairs:
        got = it.eval(f"{name}({a!r}, {b!r})")
        assert type(got) is float
        assert _close(got, reference(a, b)), (name, a, b, got)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_numpy_path_agrees_with_float_path(name):
    _, points = UNARY[name]
    points = points + [0.0, -0.0, math.inf, -math.inf, math.nan]
    prim = _prim(name)
    got = prim.evaluate(np.array(points))
    assert isinstance(got, np.ndarray) and got.dtype == np.float64
    for x, value in zip(points, got):
        assert _close(float(value), prim.evaluate(x), rel=4 * REL), (name, x, value)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_numpy_path_agrees_with_float_path(name):
    _, pairs = BINARY[name]
    pairs = pairs + [(math.nan, 1.0), (1.0, math.nan), (math.inf, -math.inf)]
    prim = _prim(name)
    got = prim.evaluate(np.array([a for a, _ in pairs]), np.array([b for _, b in pairs]))
    for (a, b), value in zip(pairs, got):
        assert _close(float(value), prim.evaluate(a, b)), (name, a, b, value)


# IEEE edge cases: (source, expected). Nothing raises.
INF, NAN = math.inf, math.nan
EDGES = [
    ("log(0)", -INF), ("log(-1)", NAN), ("log2(0)", -INF), ("log10(-1)", NAN),
    ("log1p(-1)", -INF), ("log1p(-2)", NAN), ("sqrt(-1)", NAN), ("sqrt(inf)", INF),
    ("asin(2)", NAN), ("acos(-1.5)", NAN),
    ("exp(1000)", INF), ("exp(-1000)", 0.0), ("expm1(1000)", INF), ("expm1(-1000)", -1.0),
    ("sinh(1000)", INF), ("sinh(-1000)", -INF), ("cosh(1000)", INF), ("tanh(1000)", 1.0),
    ("1/0", INF), ("-1/0", -INF), ("0/0", NAN), ("1/inf", 0.0),
    ("0^-1", INF), ("(-8)^(1/3)", NAN), ("2^10000", INF), ("0^0", 1.0), ("(-2)^3", -8.0),
    ("inf - inf", NAN), ("inf * 0", NAN), ("1e308 * 10", INF),
    ("sigmoid(-1000)", 0.0), ("sigmoid(1000)", 1.0), ("logistic(-1000)", 0.0),
    ("sigmoid(inf)", 1.0), ("sigmoid(-inf)", 0.0),
    ("softplus(1000)", 1000.0), ("softplus(-1000)", 0.0), ("softplus(inf)", INF),
    ("cbrt(-8)", -2.0), ("erf(inf)", 1.0), ("erf(-inf)", -1.0), ("atan(inf)", math.pi / 2),
    ("abs(-inf)", INF), ("sign(-inf)", -1.0), ("sign(nan)", NAN), ("sign(0)", 0.0),
    ("floor(-inf)", -INF), ("ceil(nan)", NAN), ("floor(inf)", INF),
    ("relu(nan)", NAN), ("relu(-inf)", 0.0),
    ("max(nan, 1)", NAN), ("min(1, nan)", NAN), ("max(-inf, 3)", 3.0),
    ("hypot(inf, nan)", INF), ("hypot(1e308, 1e308)", math.hypot(1e308, 1e308)),
    ("atan2(0, -1)", math.pi), ("atan2(0, 0)", 0.0), ("atan2(inf, inf)", math.pi / 4),
]


@pytest.mark.parametrize("source, expected", EDGES, ids=[s for s, _ in EDGES])
def test_ieee_edge_cases(source, expected):
    got = Interpreter(warn=lambda message, span: None).eval(source)
    assert type(got) is float
    assert _close(got, expected), (source, got, expected)


@pytest.mark.parametrize("source, expected", [
    ("sigmoid(-1000)", 0.0), ("sigmoid(1000)", 1.0), ("softplus(1000)", 1000.0),
    ("softplus(-1000)", 0.0), ("sigmoid(-800)", 0.0)])
def test_stable_functions_do_not_overflow(source, expected):
    # Finite in, finite out: no intermediate overflow, so no non-finite warning either.
    warned = []
    assert Interpreter(warn=lambda m, s: warned.append(m)).eval(source) == expected
    assert warned == []


def test_sigmoid_keeps_precision_in_both_tails():
    sigmoid = table.TABLE["sigmoid"]
    assert math.isclose(sigmoid.evaluate(-40.0), math.exp(-40.0) / (1 + math.exp(-40.0)),
                        rel_tol=REL)
    assert sigmoid.evaluate(-720.0) == math.exp(-720.0)  # not 1/(1 + inf) = 0
    assert sigmoid.evaluate(40.0) == 1.0 / (1.0 + math.exp(-40.0))


def test_softplus_is_log1p_exp_and_accurate_in_the_tails():
    softplus = table.TABLE["softplus"]
    assert math.isclose(softplus.evaluate(-40.0), math.exp(-40.0), rel_tol=REL)
    assert softplus.evaluate(40.0) == 40.0 + math.log1p(math.exp(-40.0))
    assert softplus.evaluate(0.0) == math.log(2.0)


SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, -2.0, 1000.0, -1000.0, 1e308, -1e308, 5e-324,
           math.inf, -math.inf, math.nan]


@pytest.mark.filterwarnings("error")  # not even a NumPy RuntimeWarning may leak
@pytest.mark.parametrize("name", sorted(n for n, p in table.TABLE.items()
                                         if p.numeric and p.scalar is not None))
def test_nothing_raises_on_special_values(name):
    prim = table.TABLE[name]
    for args in itertools.product(SPECIAL, repeat=prim.arity):
        got = prim.evaluate(*args)
        assert type(got) in (float, bool), (name, args, got)


@pytest.mark.parametrize("name, args, expected", [
    ("pow", (0.0, -1.0), INF), ("pow", (-0.0, -1.0), -INF), ("pow", (-8.0, 1 / 3), NAN),
    ("pow", (2.0, 10000.0), INF), ("pow", (2.0, -10000.0), 0.0), ("pow", (-2.0, 0.5), NAN),
    ("div", (1.0, 0.0), INF), ("div", (-1.0, 0.0), -INF), ("div", (0.0, 0.0), NAN),
    ("div", (1.0, -0.0), -INF), ("log", (0.0,), -INF), ("log", (-1.0,), NAN),
    ("sqrt", (-1.0,), NAN), ("exp", (1000.0,), INF), ("acos", (2.0,), NAN),
    ("log1p", (-1.0,), -INF), ("expm1", (1000.0,), INF), ("cosh", (-1000.0,), INF),
    ("floor", (NAN,), NAN), ("ceil", (INF,), INF),
])
def test_primitive_edge_values(name, args, expected):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = table.TABLE[name].evaluate(*args)
    assert type(got) is float
    if math.isnan(expected):
        assert math.isnan(got)
    else:
        assert got == expected and math.copysign(1, got) == math.copysign(1, expected)


@pytest.mark.parametrize("source, expected", [
    ("1 + 2", 3.0), ("7 - 10", -3.0), ("6 * 7", 42.0), ("1 / 4", 0.25), ("2 ^ 10", 1024.0),
    ("2 ** 0.5", math.sqrt(2)), ("-(3)", -3.0), ("+(3)", 3.0),
    ("0.1 + 0.2", 0.1 + 0.2), ("1e-3", 0.001), ("2.5E+4", 25000.0), (".5", 0.5),
])
def test_operators(source, expected, it):
    assert it.eval(source) == expected


@pytest.mark.parametrize("source, expected", [
    ("1 < 2", True), ("2 <= 2", True), ("3 > 4", False), ("3 >= 4", False),
    ("1 == 1", True), ("1 != 1", False), ("nan == nan", False), ("nan != nan", True),
    ("-inf < inf", True), ("not 0", True), ("not 2", False),
])
def test_comparisons_give_booleans(source, expected, it):
    got = it.eval(source)
    assert type(got) is bool and got is expected
