"""Truncated Taylor series arithmetic, for higher derivatives in time polynomial in the order.

A series is a list [c0, c1, …, cn] of normalised coefficients (c_k = f^(k)/k!) of
floats or NumPy arrays (elementwise). Every function here costs O(n^2) at most.
The primitive table's `taylor` rules are written with these.
"""
from __future__ import annotations

import math

from ..arrays import np


def constant(value, n: int) -> list:
    """The series of a constant."""
    return [value] + [0.0 * value] * n


def variable(value, n: int, scale: float = 1.0) -> list:
    """The series of the variable itself, x0 + scale·t (a scale other than 1 keeps the
    coefficients of high orders within float64: see diffi.modes.forward)."""
    out = constant(value, n)
    if n >= 1:
        out[1] = out[1] + scale
    return out


def add(a: list, b: list) -> list:
    return [x + y for x, y in zip(a, b)]


def sub(a: list, b: list) -> list:
    return [x - y for x, y in zip(a, b)]


def neg(a: list) -> list:
    return [-x for x in a]


def scale(a: list, factor) -> list:
    return [x * factor for x in a]


def mul(a: list, b: list) -> list:
    """Cauchy product."""
    n = len(a)
    return [sum(a[j] * b[k - j] for j in range(k + 1)) for k in range(n)]


def div(a: list, b: list) -> list:
    """a / b, by y_k = (a_k - sum_{j>=1} b_j y_{k-j}) / b_0."""
    y: list = []
    for k in range(len(a)):
        y.append((a[k] - sum(b[j] * y[k - j] for j in range(1, k + 1))) / b[0])
    return y


def derivative(a: list) -> list:
    """The series of the derivative d/dt (one order shorter, padded with 0)."""
    return [(k + 1) * a[k + 1] for k in range(len(a) - 1)] + [0.0 * a[0]]


def integrate(d: list, start) -> list:
    """The series whose derivative is d and whose value is `start`."""
    return [start] + [d[k - 1] / k for k in range(1, len(d))]


def from_derivative(x: list, value, dfdx: list) -> list:
    """Series of f(x) given f(x0) and the series of f'(x): y' = f'(x)·x'."""
    return integrate(mul(dfdx, derivative(x)), value)


def exp(x: list, value) -> list:
    """y = exp(x): y_k = (1/k) sum_j j x_j y_{k-j}."""
    y = [value]
    for k in range(1, len(x)):
        y.append(sum(j * x[j] * y[k - j] for j in range(1, k + 1)) / k)
    return y


def log(x: list, value) -> list:
    """y = log(x): y_k = (x_k - (1/k) sum_{j<k} j y_j x_{k-j}) / x_0."""
    y = [value]
    for k in range(1, len(x)):
        y.append((x[k] - sum(j * y[j] * x[k - j] for j in range(1, k)) / k) / x[0])
    return y


def sin_cos(x: list, s0, c0) -> tuple[list, list]:
    """sin(x) and cos(x) together: s' = c·x', c' = -s·x'."""
    s, c = [s0], [c0]
    for k in range(1, len(x)):
        s.append(sum(j * x[j] * c[k - j] for j in range(1, k + 1)) / k)
        c.append(-sum(j * x[j] * s[k - j] for j in range(1, k + 1)) / k)
    return s, c


def sinh_cosh(x: list, s0, c0) -> tuple[list, list]:
    """sinh(x) and cosh(x) together: s' = c·x', c' = s·x'."""
    s, c = [s0], [c0]
    for k in range(1, len(x)):
        s.append(sum(j * x[j] * c[k - j] for j in range(1, k + 1)) / k)
        c.append(sum(j * x[j] * s[k - j] for j in range(1, k + 1)) / k)
    return s, c


def riccati(x: list, value, sign: float) -> list:
    """y with y' = (1 + sign·y²)·x': tan (sign +1) and tanh (sign -1)."""
    y, z = [value], [1.0 + sign * value * value]
    for k in range(1, len(x)):
        y.append(sum(j * x[j] * z[k - j] for j in range(1, k + 1)) / k)
        z.append(sign * sum(y[i] * y[k - i] for i in range(k + 1)))
    return y


def logistic(x: list, value) -> list:
    """y = sigmoid(x): y' = (y - y²)·x'."""
    y, z = [value], [value - value * value]
    for k in range(1, len(x)):
        y.append(sum(j * x[j] * z[k - j] for j in range(1, k + 1)) / k)
        z.append(y[k] - sum(y[i] * y[k - i] for i in range(k + 1)))
    return y


def power(x: list, p: float, value) -> list:
    """y = x^p for a constant p: y_k = (1/(k x_0)) sum_j (p·j - (k - j)) x_j y_{k-j}."""
    n = len(x)
    if _has_zero(x[0]):
        if type(p) is float and p == int(p) and p >= 0:  # exact, elementwise too
            return _whole_power(x, int(p))
        if not hasattr(x[0], "shape"):  # a number at 0: the recurrence would divide by it
            if not hasattr(p, "shape"):
                return [value] + [math.nan] * (n - 1)
            spread = np().zeros(np().shape(p))  # (to tensor powers: element by element)
            x = [c + spread for c in x]
    y = [value]
    if hasattr(p, "shape") and _has_zero(x[0]):  # (tensors: 0 where x0 = 0, fixed below)
        with np().errstate(divide="ignore", invalid="ignore"):
            _power_recurrence(x, p, y)
        return _whole_powers_at_zero(x, p, y)
    _power_recurrence(x, p, y)
    return y


def _power_recurrence(x: list, p, y: list) -> None:
    for k in range(1, len(x)):
        y.append(sum((p * j - (k - j)) * x[j] * y[k - j] for j in range(1, k + 1)) / (k * x[0]))


def _whole_powers_at_zero(x: list, p, y: list) -> list:
    """Where a tensor base is 0 and its exponent whole and >= 0, the exact series by
    products instead of the recurrence's division by 0 (elsewhere at 0: inf/nan)."""
    numpy = np()
    at_zero = (x[0] == 0) & (p == numpy.floor(p)) & (p >= 0)
    for q in numpy.unique(numpy.broadcast_to(p, at_zero.shape)[at_zero]):
        exact = _whole_power(x, int(q))
        y = [numpy.where(at_zero & (p == q), e, c) for e, c in zip(exact, y)]
    return y


SQUARING = 64  # whole powers above this are taken by squaring


def _whole_power(x: list, p: int) -> list:
    """x^p for a whole p >= 0 by repeated products (exact where x0 = 0): one by one up
    to SQUARING, else by squaring (x^1e20 took 1e20 products)."""
    out = constant(1.0 + 0.0 * x[0], len(x) - 1)
    if p <= SQUARING:
        for _ in range(p):
            out = mul(out, x)
        return out
    while p:
        if p & 1:
            out = mul(out, x)
        p >>= 1
        if p:
            x = mul(x, x)
    return out


def sqrt(x: list, value) -> list:
    """y = sqrt(x): y_k = (x_k - sum_{0<j<k} y_j y_{k-j}) / (2 y_0)."""
    y = [value]
    for k in range(1, len(x)):
        y.append((x[k] - sum(y[j] * y[k - j] for j in range(1, k))) / (2.0 * y[0]))
    return y


def is_zero(v) -> bool:
    """Whether v is 0 (for a tensor: every element of it)."""
    zero = v == 0
    return bool(zero.all()) if hasattr(zero, "all") else zero


def _has_zero(v) -> bool:
    """Whether v is 0 (for a tensor: any element of it)."""
    zero = v == 0
    return bool(zero.any()) if hasattr(zero, "any") else zero
