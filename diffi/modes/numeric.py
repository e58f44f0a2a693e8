"""Numeric mode: finite differences of a function re-evaluated at perturbed points.

Methods: "central" (default; step ∛ε·max(1, |x|), error O(h²) + O(ε/h)), "forward"
(step √ε·max(1, |x|)), and "richardson" (Ridders' extrapolation of central
differences, about 1e-12 relative on smooth functions, with an error estimate).
Higher orders use central differences of order n with step ε^(1/(n+2)).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..arrays import np

EPS = 2.0 ** -52
METHODS = ("central", "forward", "richardson")


@dataclass
class Estimate:
    """A numeric derivative with its error estimate and the evaluations it used."""

    value: object
    error: float
    step: float
    method: str
    evaluations: list = field(default_factory=list)  # (point, f(point))


def default_step(x: float, method: str, order: int = 1) -> float:
    """The step that balances truncation and round-off error for float64."""
    scale = max(1.0, abs(x))
    if method == "forward":
        return math.sqrt(EPS) * scale
    if method == "richardson":
        return 0.1 * scale
    return EPS ** (1.0 / (order + 2)) * scale


def derivative(f, x: float, order: int = 1, method: str = "central",
               step: float | None = None) -> Estimate:
    """The order-th derivative of f at x by finite differences."""
    h = step if step is not None else default_step(x, method, order)
    if method == "richardson":
        return richardson(f, x, order, h, retry=step is None)
    evaluations: list = []

    def g(t):
        value = f(t)
        evaluations.append((t, value))
        return value

    if method == "forward":
        value = _forward_difference(g, x, order, h)
    else:
        value = _central_difference(g, x, order, h)
    fx = abs(_magnitude(evaluations[len(evaluations) // 2][1])) if evaluations else 0.0
    error = (h ** 2 if method == "central" else h) * max(1.0, abs(_magnitude(value))) \
        + EPS * max(fx, 1e-300) / h ** order
    return Estimate(value, error, h, method, evaluations)


def _magnitude(value) -> float:
    """|value|, or the largest |element| of a tensor."""
    try:
        return abs(float(value))
    except (TypeError, ValueError):
        numpy = np()
        magnitudes = numpy.abs(value)
        return float(numpy.max(magnitudes)) if magnitudes.size else 0.0


def _central_difference(f, x, order, h):
    """(f(x + h) - f(x - h)) / 2h for n = 1; Σ (-1)^k C(n, k) f(x + (n/2 - k)h) / h^n
    for higher orders (points h apart, centred on x)."""
    if order == 1:
        return (f(x + h) - f(x - h)) / (2 * h)
    total = 0.0
    for k in range(order + 1):
        total = total + (-1) ** k * math.comb(order, k) * f(x + (order / 2 - k) * h)
    return total / h ** order


def _forward_difference(f, x, order, h):
    total = 0.0
    for k in range(order + 1):
        total = total + (-1) ** (order - k) * math.comb(order, k) * f(x + k * h)
    return total / h ** order


def richardson(f, x: float, order: int, h: float, retry: bool = True) -> Estimate:
    """Ridders' method from step h; when its own error estimate is poor, again from
    h/4 and h/16, keeping the estimate with the smallest error."""
    best = ridders(f, x, order, h)
    for _ in range(2 if retry else 0):
        if best.error <= 1e-12 * max(1.0, _magnitude(best.value)):
            break
        h /= 4
        attempt = ridders(f, x, order, h)
        attempt.evaluations = best.evaluations + attempt.evaluations
        best = attempt if attempt.error < best.error else best
    return best


def ridders(f, x: float, order: int, h: float, shrink: float = 1.4, levels: int = 10) -> Estimate:
    """Ridders' method: Richardson extrapolation of central differences of shrinking step.

    The Estimate's step is the first (largest) step h; the steps then shrink by 1.4.
    """
    evaluations: list = []
    first = h

    def g(t):
        value = f(t)
        evaluations.append((t, value))
        return value

    tableau = [[_central_difference(g, x, order, h)]]
    best, error = tableau[0][0], math.inf
    for i in range(1, levels):
        h /= shrink
        row = [_central_difference(g, x, order, h)]
        factor = shrink ** 2
        for j in range(1, i + 1):
            row.append((row[j - 1] * factor - tableau[i - 1][j - 1]) / (factor - 1.0))
            factor *= shrink ** 2
            step_error = max(_magnitude(row[j] - row[j - 1]),
                             _magnitude(row[j] - tableau[i - 1][j - 1]))
            if step_error <= error:
                error, best = step_error, row[j]
        tableau.append(row)
        if _magnitude(row[i] - tableau[i - 1][i - 1]) >= 2 * error:
            break
    return Estimate(best, error, first, "richardson", evaluations)


def sweep(f, x: float, exact, method: str = "central", steps=None) -> list:
    """(h, difference quotient, error against `exact`) for h = 1e-1 … 1e-15."""
    rows = []
    difference = _forward_difference if method == "forward" else _central_difference
    for h in steps or [10.0 ** -k for k in range(1, 16)]:
        value = difference(f, x, 1, h)
        rows.append((h, value, _magnitude(value - exact)))
    return rows
