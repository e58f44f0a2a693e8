"""Forward mode: tangents (dual numbers) and truncated Taylor series along a tape.

Both ask the table's rule reader, node by node along the tape's steps: a tangent for
first order, a series for any order. Higher derivatives come from one sweep of series
of length n + 1, so the cost is polynomial in the order (n^2 per operation), not
exponential.
"""
from __future__ import annotations

import math
from contextlib import nullcontext

from .. import arrays, calls
from ..arrays import is_array, zero_like
from ..errors import DiffiError, DiffiTypeError
from ..core.tape import Tape
from ..table import reader
from ..table import series as T
from ..table.reader import NUMBERS


def tangents(tape: Tape, seeds: dict, on_partial=None) -> dict:
    """The tangent of every active node that has one (by node id), given the tangents
    of inputs; a node whose tangent is 0 has no entry.

    on_partial(node, input_index, partial, args) is called for each partial used
    (for warnings about non-finite derivatives).
    """
    tangent = dict(seeds)
    get = tangent.get
    for node in calls.checked(tape.steps):
        if node.id in tangent:
            continue
        inputs = node.inputs
        moving = [get(i.id) for i in inputs]
        if all(t is None for t in moving):
            continue
        value = reader.tangent(node, NUMBERS, [i.value for i in inputs], node.value, moving,
                               on_partial)
        if value is not None:
            tangent[node.id] = value
    return tangent


def taylor(tape: Tape, variable, order: int, scale: float = 1.0) -> dict:
    """Taylor series (normalised coefficients) of every active node in one variable:
    of f(x0 + scale·t) in t, so that the k-th coefficient is f^(k)(x0)·scale^k/k!."""
    # an operation on series costs about order² steps: refused at once if the sweep
    # cannot finish in the time left, and the time checked at each operation
    budget = calls.current()
    budget.afford(len(tape.steps) * (order + 1) ** 2 / calls.PYTHON_RATE,
                  f"a Taylor series of order {order} through {len(tape.steps)} operations",
                  tape.outputs[0].span if tape.outputs else None)
    series = {variable.id: T.variable(variable.value, order, scale)}
    for node in tape.steps:
        if node.id in series:
            continue
        budget.check(node.span)
        args = [series[i.id] if i.id in series else T.constant(_value(i), order)
                for i in node.inputs]
        with quiet(node.value):
            try:
                series[node.id] = reader.series(node, args, order)
            except ZeroDivisionError:  # (a series through a pole, such as log at 0)
                raise DiffiTypeError(f"no derivative of order {order} here: "
                                     f"'{node.op.name}' has no Taylor series at this point",
                                     node.span) from None
    return series


def quiet(value):
    """IEEE results on tensors, as evaluation gives (no NumPy warnings); nothing to do
    for numbers, which do not load NumPy."""
    return arrays.np().errstate(all="ignore") if is_array(value) else nullcontext()


def _value(node):
    value = node.value
    return float(value) if type(value) is bool else value


MAX_ORDER = 10_000  # Taylor mode costs order^2 per operation


def derivative_of_order(tape: Tape, variable, output, order: int, sweep=None):
    """(f^(n)(x0), its relative spread) by Taylor mode, for any n whose result float64
    holds.

    The series of f(x0 + t) has coefficients f^(k)/k!, which underflow to 0 (or
    overflow) long before f^(n) does: exp(2x) at order 1000 has c_1000 = 2^1000/1000!,
    about 1e-2266. When c_n is 0 or not finite while lower coefficients are not, the
    series is taken of f(x0 + r·t) instead, with r chosen from the growth of the
    coefficients so that c_n·r^n is about 1; f^(n) = c_n·r^n · n!/r^n, scaled exactly.
    A genuine 0 (d1000/dx1000 x) stays 0 at any scale.

    Sums of high-order coefficients can cancel (sin(x)·exp(x) loses about n/2 bits at
    order n), so the series is taken at a second scale too, whose rounding falls
    differently: the spread between the two says how many digits are left.

    sweep(scale): the output's series at a scale, or None when it does not move (compiled
    code gives it; by default a Taylor sweep along the tape)."""
    if sweep is None:
        def sweep(scale):
            return taylor(tape, variable, order, scale).get(output.id)
    coefficients = sweep(1.0)
    if coefficients is None:
        return zero_like(output.value), 0.0
    scale = 1.0
    if not _usable(coefficients[order]) and _finite_below(coefficients, order):
        scale = _scale(coefficients, order)
    first = _at_scale(sweep, order, scale, coefficients)
    second = _at_scale(sweep, order, scale * SECOND_SCALE)
    return first, _spread(first, second)


SECOND_SCALE = 1.1875  # (not a power of 2: its products round differently)


def _at_scale(sweep, order, scale, coefficients=None):
    if coefficients is None or scale != 1.0:
        coefficients = sweep(scale)
    top = coefficients[order]
    if not _all_finite(top) and _all_finite(coefficients[0]):
        raise OrderTooHigh(order)  # (a function that is nan or inf gives nan, as IEEE does)
    return scaled_factorial(top, order, scale)


def _spread(a, b) -> float:
    """The largest relative difference between two estimates of the same derivative."""
    np = arrays.np()
    with np.errstate(all="ignore"):
        size = np.maximum(np.abs(a), np.abs(b))
        gap = np.where(size > 0, np.abs(np.subtract(a, b)) / np.where(size > 0, size, 1), 0)
    return float(np.max(np.nan_to_num(gap, nan=0.0), initial=0.0))  # (empty tensors: 0)


class OrderTooHigh(DiffiError):
    """The coefficients of a Taylor series under- or overflow at this order."""

    def __init__(self, order: int):
        super().__init__(f"a derivative of order {order} does not fit in float64 here: "
                         "its Taylor coefficients under- or overflow")


def scaled_factorial(c, n: int, scale: float):
    """c·n!/scale^n without forming n! or scale^n in floating point (both overflow)."""
    np = arrays.np()
    log_factor = math.lgamma(n + 1) - n * math.log(scale)
    exponent = int(log_factor / math.log(2))
    mantissa = _factor_mantissa(n, scale, exponent)
    with np.errstate(all="ignore"):
        value = np.ldexp(np.multiply(c, mantissa), exponent) if is_array(c) else \
            _ldexp(c * mantissa, exponent)
    return value


def _factor_mantissa(n: int, scale: float, exponent: int) -> float:
    """n!/scale^n / 2^exponent, computed as a product of n terms kept near 1."""
    product, shift, step = 1.0, exponent, 2.0 ** 64
    for k in range(1, n + 1):
        product *= k / scale
        while product > step:
            product, shift = product / step, shift - 64
        while product < 1.0 / step:
            product, shift = product * step, shift + 64
    return math.ldexp(product, -shift)


def _ldexp(x: float, exponent: int) -> float:
    try:
        return math.ldexp(x, exponent)
    except OverflowError:
        return math.copysign(math.inf, x)


def _usable(c) -> bool:
    """A coefficient that is neither 0 nor a result of under- or overflow."""
    return _all_finite(c) and (arrays.np().all(c != 0) if is_array(c) else c != 0)


def _all_finite(c) -> bool:
    return bool(arrays.np().all(arrays.np().isfinite(c))) if is_array(c) else \
        c - c == 0


def _finite_below(coefficients: list, order: int) -> bool:
    """Whether some coefficient below `order` is finite and not 0 (so that a 0 at the
    order may be an underflow)."""
    return any(_usable(c) for c in coefficients[1:order])


def _scale(coefficients: list, order: int) -> float:
    """r with c_n·r^n about 1, from the growth a ≈ |k!·c_k|^(1/k) of the highest
    usable coefficient: r = n/(a·e)."""
    for k in range(order - 1, 0, -1):
        c = coefficients[k]
        if _usable(c):
            size = float(arrays.np().max(arrays.np().abs(c))) if is_array(c) else abs(c)
            try:
                growth = math.exp((math.lgamma(k + 1) + math.log(size)) / k)
            except OverflowError:
                return 1.0
            scale = order / (growth * math.e)
            # (coefficients near the float64 range give no scale that float64 holds)
            return scale if 0 < scale < math.inf else 1.0
    return 1.0
