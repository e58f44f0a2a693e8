"""Operators and scalar functions: each an entry of the table with its derivative rule
(`partials` for first order with `taylor` for any order, or ZERO), and where they are
not differentiable.
"""
from __future__ import annotations

import math

from ..arrays import np
from . import series as T
from .primitives import TABLE, Kink, _steps, _ufunc, ap_value, define
from .rules import ZERO, partials


def _at_zero(x, *rest):
    return x == 0


def _tie(a, b, *rest):
    return a == b


# Where operations are not differentiable, and the convention diffi uses there.
TIE = Kink(_tie, "a tie: the derivative is split evenly")
BOUNDARY = Kink(_tie, "a comparison on its boundary (an 'if' there differentiates the "
                      "branch taken)")


def _sgn(v):
    """sign of a float or, elementwise, of an array (for Taylor rules at kinks)."""
    if type(v) is float or type(v) is bool:
        return float((v > 0) - (v < 0))
    return np().sign(v)


def _positive(v):
    """1 where v > 0, else 0 (a float, or an array elementwise)."""
    if type(v) is float or type(v) is bool:
        return 1.0 if v > 0 else 0.0
    return (np().asarray(v) > 0).astype(float)


def _weighted(a, b, w):
    """w·a + (1 - w)·b for series, with w a float or array of 0, 0.5 or 1."""
    return T.add(T.scale(a, w), T.scale(b, 1.0 - w))


# Scalar helpers with IEEE edge cases -------------------------------------------

def _sigmoid(x):
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def _sigmoid_t(x):
    # 1/(1 + e^-x) keeps full relative accuracy in float64 for every x; where e^-x
    # overflows (x < -709) it gives 0, the correctly rounded value (errors are ignored).
    numpy = np()
    return 1.0 / (1.0 + numpy.exp(-x))


def _sigmoid_residual(values, params):
    """sigmoid on a tensor and its slope y·sigmoid(-x) = 1/((1 + e)(1 + 1/e)), e = e^-x,
    from the forward pass's one exp: accurate in both tails, 0 where e over- or
    underflows (|x| > 709), as the slope is there."""
    numpy = np()
    x = values[0]
    if type(x) is not numpy.ndarray:
        e = numpy.exp(-x)
        return 1.0 / (1.0 + e), 1.0 / ((1.0 + e) * (1.0 + 1.0 / e))
    e = numpy.negative(x)
    numpy.exp(e, out=e)
    y = numpy.add(e, 1.0)
    numpy.divide(1.0, y, out=y)
    numpy.divide(1.0, e, out=e)  # e^x, then the slope y/(1 + e^x), both in place
    numpy.add(e, 1.0, out=e)
    return y, numpy.divide(y, e, out=e)


def _softplus(x):
    return max(x, 0.0) + math.log1p(math.exp(-abs(x))) if x == x else x


def _sign(x):
    return (x > 0) - (x < 0) + 0.0 if x == x else x


def _relu(x):
    return x if x > 0 or x != x else 0.0


def _max2(a, b):
    return a if a > b or a != a else b if b > a or b != b else a


def _min2(a, b):
    return a if a < b or a != a else b if b < a or b != b else a


def _div(a, b):
    return a / b


# Operators ---------------------------------------------------------------------
# Each entry: name, arity, float evaluation, NumPy evaluation, then its derivative rules.

ADD = define("add", 2, lambda a, b: a + b, _ufunc("add"), "a + b", "sum", symbol="+",
             rule=partials(lambda ap, a, b, y: (1.0, 1.0),
                           taylor=lambda y, a, b: T.add(a, b)))
SUB = define("sub", 2, lambda a, b: a - b, _ufunc("subtract"), "a - b", "difference",
             symbol="-",
             rule=partials(lambda ap, a, b, y: (1.0, -1.0),
                           taylor=lambda y, a, b: T.sub(a, b)))
MUL = define("mul", 2, lambda a, b: a * b, _ufunc("multiply"), "a * b", "product",
             symbol="*",
             rule=partials(lambda ap, a, b, y: (b, a),
                           taylor=lambda y, a, b: T.mul(a, b)))
DIV = define("div", 2, _div, _ufunc("divide"), "a / b", "quotient", symbol="/",
             rule=partials(lambda ap, a, b, y: (ap(DIV, 1.0, b), ap(NEG, ap(DIV, y, b))),
                           taylor=lambda y, a, b: [y] + T.div(a, b)[1:]))


def _pow_taylor(y, a, b):
    if all(T.is_zero(c) for c in b[1:]):
        return T.power(a, b[0], y)
    log_a = T.log(a, ap_value(LOG, a[0]))
    return T.exp(T.mul(b, log_a), y)


POW = define("pow", 2, math.pow, _ufunc("power"), "a ^ b", "power (also a ** b)", symbol="^",
             rule=partials(lambda ap, a, b, y: (ap(MUL, b, ap(POW, a, ap(SUB, b, 1.0))),
                                                ap(MUL, y, ap(LOG, a))),
                           taylor=_pow_taylor))
NEG = define("neg", 1, lambda a: -a, _ufunc("negative"), "-a", "negation", symbol="-",
             rule=partials(lambda ap, a, y: (-1.0,),
                           taylor=lambda y, a: T.neg(a)))
POS = define("pos", 1, lambda a: +a, _ufunc("positive"), "+a", "identity", symbol="+",
             rule=partials(lambda ap, a, y: (1.0,),
                           taylor=lambda y, a: list(a)))


def _comparison(name, scalar, ufunc, symbol, kink=None):
    return define(name, 2, scalar, _ufunc(ufunc), f"a {symbol} b", symbol=symbol,
                  rule=ZERO, boolean=True, kink=kink)


LT = _comparison("lt", lambda a, b: a < b, "less", "<", BOUNDARY)
LE = _comparison("le", lambda a, b: a <= b, "less_equal", "<=", BOUNDARY)
GT = _comparison("gt", lambda a, b: a > b, "greater", ">", BOUNDARY)
GE = _comparison("ge", lambda a, b: a >= b, "greater_equal", ">=", BOUNDARY)
EQ = _comparison("eq", lambda a, b: a == b, "equal", "==")
NE = _comparison("ne", lambda a, b: a != b, "not_equal", "!=")
NOT = define("not", 1, lambda a: not a, _ufunc("logical_not"), "not a", symbol="not",
             rule=ZERO, boolean=True)



# Scalar functions ----------------------------------------------------------------

SIN = define("sin", 1, math.sin, _ufunc("sin"), doc="sine (radians)",
             rule=partials(lambda ap, x, y: (ap(COS, x),),
                           taylor=lambda y, x: T.sin_cos(x, y, ap_value(COS, x[0]))[0]))
COS = define("cos", 1, math.cos, _ufunc("cos"), doc="cosine (radians)",
             rule=partials(lambda ap, x, y: (ap(NEG, ap(SIN, x)),),
                           taylor=lambda y, x: T.sin_cos(x, ap_value(SIN, x[0]), y)[1]))
TAN = define("tan", 1, math.tan, _ufunc("tan"), doc="tangent (radians)",
             rule=partials(lambda ap, x, y: (ap(ADD, 1.0, ap(POW, y, 2.0)),),
                           taylor=lambda y, x: T.riccati(x, y, 1.0)))


def _arcsin_slope(x):
    """The series of 1/sqrt(1 - x^2)."""
    u = T.sub(T.constant(1.0 + 0.0 * x[0], _steps(x)), T.mul(x, x))
    return T.power(u, -0.5, ap_value(POW, u[0], -0.5))


ASIN = define("asin", 1, math.asin, _ufunc("arcsin"), doc="inverse sine",
              rule=partials(lambda ap, x, y: (ap(DIV, 1.0, ap(SQRT, ap(SUB, 1.0, ap(POW, x, 2.0)))),),
                            taylor=lambda y, x: T.from_derivative(x, y, _arcsin_slope(x))))
ACOS = define("acos", 1, math.acos, _ufunc("arccos"), doc="inverse cosine",
              rule=partials(lambda ap, x, y: (ap(NEG, ap(DIV, 1.0, ap(SQRT, ap(SUB, 1.0, ap(POW, x, 2.0))))),),
                            taylor=lambda y, x: T.from_derivative(x, y, T.neg(_arcsin_slope(x)))))
ATAN = define("atan", 1, math.atan, _ufunc("arctan"), doc="inverse tangent",
              rule=partials(lambda ap, x, y: (ap(DIV, 1.0, ap(ADD, 1.0, ap(POW, x, 2.0))),),
                            taylor=lambda y, x: T.from_derivative(
                  x, y, T.div(T.constant(1.0 + 0.0 * x[0], _steps(x)),
                              T.add(T.constant(1.0 + 0.0 * x[0], _steps(x)), T.mul(x, x))))))
SINH = define("sinh", 1, math.sinh, _ufunc("sinh"), doc="hyperbolic sine",
              rule=partials(lambda ap, x, y: (ap(COSH, x),),
                            taylor=lambda y, x: T.sinh_cosh(x, y, ap_value(COSH, x[0]))[0]))
COSH = define("cosh", 1, math.cosh, _ufunc("cosh"), doc="hyperbolic cosine",
              rule=partials(lambda ap, x, y: (ap(SINH, x),),
                            taylor=lambda y, x: T.sinh_cosh(x, ap_value(SINH, x[0]), y)[1]))
# 1/cosh² rather than 1 - tanh²: the latter is 0 in floating point once tanh rounds to 1.
TANH = define("tanh", 1, math.tanh, _ufunc("tanh"), doc="hyperbolic tangent",
              rule=partials(lambda ap, x, y: (ap(DIV, 1.0, ap(POW, ap(COSH, x), 2.0)),),
                            taylor=lambda y, x: T.riccati(x, y, -1.0)))
EXP = define("exp", 1, math.exp, _ufunc("exp"), doc="exponential e^x",
             rule=partials(lambda ap, x, y: (y,),
                           taylor=lambda y, x: T.exp(x, y)))
LOG = define("log", 1, math.log, _ufunc("log"), doc="natural logarithm",
             rule=partials(lambda ap, x, y: (ap(DIV, 1.0, x),),
                           taylor=lambda y, x: T.log(x, y)))


def _log_base(x, y, base):
    return [y] + T.scale(T.log(x, 0.0 * y), 1.0 / math.log(base))[1:]


LOG2 = define("log2", 1, math.log2, _ufunc("log2"), doc="base-2 logarithm",
              rule=partials(lambda ap, x, y: (ap(DIV, 1.0, ap(MUL, x, ap(LOG, 2.0))),),
                            taylor=lambda y, x: _log_base(x, y, 2.0)))
LOG10 = define("log10", 1, math.log10, _ufunc("log10"), doc="base-10 logarithm",
               rule=partials(lambda ap, x, y: (ap(DIV, 1.0, ap(MUL, x, ap(LOG, 10.0))),),
                             taylor=lambda y, x: _log_base(x, y, 10.0)))
SQRT = define("sqrt", 1, math.sqrt, _ufunc("sqrt"), doc="square root",
              rule=partials(lambda ap, x, y: (ap(DIV, 0.5, y),),
                            taylor=lambda y, x: T.sqrt(x, y)))
CBRT = define("cbrt", 1, math.cbrt, _ufunc("cbrt"), doc="cube root",
              rule=partials(lambda ap, x, y: (ap(DIV, 1.0, ap(MUL, 3.0, ap(POW, y, 2.0))),),
                            taylor=lambda y, x: T.power(x, 1.0 / 3.0, y)))
LOG1P = define("log1p", 1, math.log1p, _ufunc("log1p"), doc="log(1 + x), accurate near 0",
               rule=partials(lambda ap, x, y: (ap(DIV, 1.0, ap(ADD, 1.0, x)),),
                             taylor=lambda y, x: T.log([x[0] + 1.0] + x[1:], y)))
EXPM1 = define("expm1", 1, math.expm1, _ufunc("expm1"), doc="exp(x) - 1, accurate near 0",
               rule=partials(lambda ap, x, y: (ap(ADD, y, 1.0),),
                             taylor=lambda y, x: [y] + T.exp(x, y + 1.0)[1:]))
_TWO_OVER_ROOT_PI = 2.0 / math.sqrt(math.pi)
ERF = define("erf", 1, math.erf, lambda x: np().vectorize(math.erf, otypes=[float])(x),
             doc="error function",
             rule=partials(lambda ap, x, y: (ap(MUL, _TWO_OVER_ROOT_PI,
                                           ap(EXP, ap(NEG, ap(POW, x, 2.0)))),),
                           taylor=lambda y, x: T.from_derivative(
                 x, y, T.scale(T.exp(T.neg(T.mul(x, x)), ap_value(EXP, -x[0] * x[0])),
                               _TWO_OVER_ROOT_PI))))

ABS = define("abs", 1, abs, _ufunc("abs"), doc="absolute value (abs'(0) = 0)",
             kink=Kink(_at_zero, "using abs'(0) = 0"),
             rule=partials(lambda ap, x, y: (ap(SIGN, x),),
                           taylor=lambda y, x: [y] + T.scale(x, _sgn(x[0]))[1:]))
SIGN = define("sign", 1, _sign, _ufunc("sign"), doc="sign: -1, 0 or 1 (derivative 0)",
              rule=ZERO)
FLOOR = define("floor", 1, lambda x: float(math.floor(x)) if math.isfinite(x) else x,
               _ufunc("floor"), doc="round down (derivative 0)", rule=ZERO)
CEIL = define("ceil", 1, lambda x: float(math.ceil(x)) if math.isfinite(x) else x,
              _ufunc("ceil"), doc="round up (derivative 0)", rule=ZERO)


def _atan2_taylor(y, a, b):
    slope = T.div(T.sub(T.mul(b, T.derivative(a)), T.mul(a, T.derivative(b))),
                  T.add(T.mul(a, a), T.mul(b, b)))
    return T.integrate(slope, y)


ATAN2 = define("atan2", 2, math.atan2, _ufunc("arctan2"), "atan2(y, x)",
               "angle of the point (x, y)",
               rule=partials(lambda ap, a, b, y: (
                   ap(DIV, b, ap(ADD, ap(POW, a, 2.0), ap(POW, b, 2.0))),
                   ap(NEG, ap(DIV, a, ap(ADD, ap(POW, a, 2.0), ap(POW, b, 2.0))))),
                             taylor=_atan2_taylor))
HYPOT = define("hypot", 2, math.hypot, _ufunc("hypot"), "hypot(x, y)",
               "sqrt(x^2 + y^2) without overflow",
               rule=partials(lambda ap, a, b, y: (ap(DIV, a, y), ap(DIV, b, y)),
                             taylor=lambda y, a, b: T.sqrt(T.add(T.mul(a, a), T.mul(b, b)), y)))
# sigmoid' = y·sigmoid(-x), which keeps its accuracy in the tails where 1 - y rounds to 0.
SIGMOID = define("sigmoid", 1, _sigmoid, _sigmoid_t, doc="logistic function 1/(1 + exp(-x))",
                 rule=partials(lambda ap, x, y: (ap(MUL, y, ap(SIGMOID, ap(NEG, x))),),
                               taylor=lambda y, x: T.logistic(x, y)),
                 residual=_sigmoid_residual, vjp_residual=lambda g, slope, p: (g * slope,))
# relu' = sign(relu(x)): 1 where x > 0 and 0 elsewhere, so relu'(0) = 0.
RELU = define("relu", 1, _relu, lambda x: np().maximum(x, 0.0),
              doc="max(x, 0) (relu'(0) = 0)",
              kink=Kink(_at_zero, "using relu'(0) = 0"),
              rule=partials(lambda ap, x, y: (ap(SIGN, y),),
                            taylor=lambda y, x: [y] + T.scale(x, _positive(x[0]))[1:]))
SOFTPLUS = define("softplus", 1, _softplus, lambda x: np().logaddexp(0.0, x),
                  doc="log(1 + exp(x)), stable",
                  rule=partials(lambda ap, x, y: (ap(SIGMOID, x),),
                                taylor=lambda y, x: T.from_derivative(
                      x, y, T.logistic(x, ap_value(SIGMOID, x[0])))))


def _tie_split(ap, a, b, sign):
    """(1 ± sign(a - b))/2: 1 for the larger (smaller), 0.5 each on a tie."""
    s = ap(SIGN, ap(SUB, a, b))
    return ap(DIV, ap(ADD, 1.0, s) if sign > 0 else ap(SUB, 1.0, s), 2.0)


MAX = define("max", 2, _max2, _ufunc("maximum"), "max(a, b)",
             "larger of a and b (ties split the derivative)", kink=TIE,
             rule=partials(lambda ap, a, b, y: (_tie_split(ap, a, b, 1), _tie_split(ap, a, b, -1)),
                           taylor=lambda y, a, b: [y] + _weighted(a, b, (1.0 + _sgn(a[0] - b[0])) / 2.0)[1:]))
MIN = define("min", 2, _min2, _ufunc("minimum"), "min(a, b)",
             "smaller of a and b (ties split the derivative)", kink=TIE,
             rule=partials(lambda ap, a, b, y: (_tie_split(ap, a, b, -1), _tie_split(ap, a, b, 1)),
                           taylor=lambda y, a, b: [y] + _weighted(a, b, (1.0 - _sgn(a[0] - b[0])) / 2.0)[1:]))

ALIASES = {"logistic": "sigmoid"}
SCALAR_FUNCTIONS = sorted(n for n, p in TABLE.items()
                          if p.symbol is None and p.numeric) + sorted(ALIASES)
