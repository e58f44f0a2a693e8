"""The primitive table: every operator and built-in function, declared once.

An entry gives the name, arity, a fast float implementation (`scalar`) and a NumPy
implementation (`tensor`). IEEE semantics throughout: no entry raises on a bad
number (`1/0` is inf, `log(-1)` is nan). NumPy is imported only when a tensor
or a float exception needs it, so scalar scripts start fast.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

_numpy = None


def np():
    """NumPy, imported on first use."""
    global _numpy
    if _numpy is None:
        import numpy
        _numpy = numpy
    return _numpy


@dataclass(eq=False)
class Primitive:
    """One operation of the graph: how to evaluate it on floats and on tensors."""

    name: str
    arity: int
    scalar: Callable | None
    tensor: Callable | None
    signature: str = ""
    doc: str = ""
    symbol: str | None = None       # infix or prefix operator, for printing
    kinks: bool = False             # has points where it is not differentiable
    numeric: bool = True            # takes and gives numbers (else: structure ops)
    rules: dict = field(default_factory=dict)  # derivative rules, filled by the modes' table

    def evaluate(self, *values):
        """The value of this operation on input values (floats, bools or arrays)."""
        for v in values:
            if type(v) is not float:
                return self._general(values)
        try:
            return self.scalar(*values)
        except (ValueError, OverflowError, ZeroDivisionError):
            return as_value(self._numpy(values))

    def _general(self, values):
        values = [float(v) if type(v) is bool or type(v) is int else v for v in values]
        if all(type(v) is float for v in values):
            return self.evaluate(*values)
        return as_value(self._numpy(values))

    def _numpy(self, values):
        numpy = np()
        with numpy.errstate(all="ignore"):
            args = [numpy.asarray(v, dtype=float) if not _is_array(v) else v for v in values]
            return self.tensor(*args)

    def __repr__(self):
        return f"<primitive {self.name}>"


def _is_array(v) -> bool:
    return _numpy is not None and isinstance(v, _numpy.ndarray)


def as_value(result):
    """Normalise a NumPy result: 0-d arrays and NumPy scalars become Python floats/bools."""
    numpy = np()
    if isinstance(result, numpy.ndarray):
        if result.ndim == 0:
            return _scalar(result[()])
        if result.dtype != bool and result.dtype != numpy.float64:
            return result.astype(numpy.float64)
        return result
    return _scalar(result)


def _scalar(x):
    if isinstance(x, (bool, np().bool_)):
        return bool(x)
    return float(x)


TABLE: dict[str, Primitive] = {}


def define(name, arity, scalar, tensor, signature="", doc="", **extra) -> Primitive:
    """Declare a primitive in the table."""
    prim = Primitive(name, arity, scalar, tensor, signature or f"{name}(x)", doc, **extra)
    TABLE[name] = prim
    return prim


def _ufunc(name):
    return lambda *args: getattr(np(), name)(*args)


# Scalar helpers with IEEE edge cases -------------------------------------------

def _sigmoid(x):
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def _sigmoid_t(x):
    numpy = np()
    z = numpy.exp(-numpy.abs(x))
    return numpy.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))


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


def _pow(a, b):
    return math.pow(a, b)


def _div(a, b):
    return a / b


def _erf_t(x):
    return np().vectorize(math.erf, otypes=[float])(x)


# Operators ---------------------------------------------------------------------

ADD = define("add", 2, lambda a, b: a + b, _ufunc("add"), "a + b", "sum", symbol="+")
SUB = define("sub", 2, lambda a, b: a - b, _ufunc("subtract"), "a - b", "difference", symbol="-")
MUL = define("mul", 2, lambda a, b: a * b, _ufunc("multiply"), "a * b", "product", symbol="*")
DIV = define("div", 2, _div, _ufunc("divide"), "a / b", "quotient", symbol="/")
POW = define("pow", 2, _pow, _ufunc("power"), "a ^ b", "power (also a ** b)", symbol="^")
MATMUL = define("matmul", 2, None, _ufunc("matmul"), "A @ B", "matrix product", symbol="@")
NEG = define("neg", 1, lambda a: -a, _ufunc("negative"), "-a", "negation", symbol="-")
POS = define("pos", 1, lambda a: +a, _ufunc("positive"), "+a", "identity", symbol="+")

LT = define("lt", 2, lambda a, b: a < b, _ufunc("less"), "a < b", symbol="<")
LE = define("le", 2, lambda a, b: a <= b, _ufunc("less_equal"), "a <= b", symbol="<=")
GT = define("gt", 2, lambda a, b: a > b, _ufunc("greater"), "a > b", symbol=">")
GE = define("ge", 2, lambda a, b: a >= b, _ufunc("greater_equal"), "a >= b", symbol=">=")
EQ = define("eq", 2, lambda a, b: a == b, _ufunc("equal"), "a == b", symbol="==")
NE = define("ne", 2, lambda a, b: a != b, _ufunc("not_equal"), "a != b", symbol="!=")
NOT = define("not", 1, lambda a: not a, _ufunc("logical_not"), "not a", symbol="not")

BINARY = {"+": ADD, "-": SUB, "*": MUL, "/": DIV, "^": POW, "@": MATMUL,
          "<": LT, "<=": LE, ">": GT, ">=": GE, "==": EQ, "!=": NE}
UNARY = {"-": NEG, "+": POS, "not": NOT}

# Scalar functions (SPEC §5) ------------------------------------------------------

for _name, _doc in [
        ("sin", "sine (radians)"), ("cos", "cosine (radians)"), ("tan", "tangent (radians)"),
        ("asin", "inverse sine"), ("acos", "inverse cosine"), ("atan", "inverse tangent"),
        ("sinh", "hyperbolic sine"), ("cosh", "hyperbolic cosine"),
        ("tanh", "hyperbolic tangent"), ("exp", "exponential e^x"),
        ("log", "natural logarithm"), ("log2", "base-2 logarithm"),
        ("log10", "base-10 logarithm"), ("sqrt", "square root"), ("cbrt", "cube root"),
        ("log1p", "log(1 + x), accurate near 0"), ("expm1", "exp(x) - 1, accurate near 0"),
        ("erf", "error function")]:
    _np_name = {"asin": "arcsin", "acos": "arccos", "atan": "arctan"}.get(_name, _name)
    define(_name, 1, getattr(math, _name),
           _erf_t if _name == "erf" else _ufunc(_np_name), doc=_doc)

define("abs", 1, abs, _ufunc("abs"), doc="absolute value (abs'(0) = 0)", kinks=True)
define("sign", 1, _sign, _ufunc("sign"), doc="sign: -1, 0 or 1 (derivative 0)")
define("floor", 1, lambda x: float(math.floor(x)) if math.isfinite(x) else x,
       _ufunc("floor"), doc="round down (derivative 0)")
define("ceil", 1, lambda x: float(math.ceil(x)) if math.isfinite(x) else x,
       _ufunc("ceil"), doc="round up (derivative 0)")
define("atan2", 2, math.atan2, _ufunc("arctan2"), "atan2(y, x)", "angle of the point (x, y)")
define("hypot", 2, math.hypot, _ufunc("hypot"), "hypot(x, y)", "sqrt(x^2 + y^2) without overflow")
define("sigmoid", 1, _sigmoid, _sigmoid_t, doc="logistic function 1/(1 + exp(-x))")
define("relu", 1, _relu, lambda x: np().maximum(x, 0.0), doc="max(x, 0) (relu'(0) = 0)", kinks=True)
define("softplus", 1, _softplus, lambda x: np().logaddexp(0.0, x), doc="log(1 + exp(x)), stable")
define("max", 2, _max2, _ufunc("maximum"), "max(a, b)", "larger of a and b (ties split the derivative)", kinks=True)
define("min", 2, _min2, _ufunc("minimum"), "min(a, b)", "smaller of a and b (ties split the derivative)", kinks=True)

ALIASES = {"logistic": "sigmoid"}
SCALAR_FUNCTIONS = sorted(n for n, p in TABLE.items()
                          if p.symbol is None and p.numeric) + sorted(ALIASES)
