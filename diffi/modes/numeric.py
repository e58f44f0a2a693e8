"""Numeric mode: finite differences of a function re-evaluated at perturbed points.

Methods: "central" (default; step ∛ε·max(|x|, FLOOR), error O(h²) + O(ε/h)), "forward"
(step √ε·max(|x|, FLOOR)), and "richardson" (Ridders' extrapolation of central
differences, started again from smaller steps until its error estimate is about 1e-12
of the result, or as small as round-off allows; starts are compared relative to their
results). Higher orders use central differences
of order n with step ε^(1/(n+2))·max(|x|, FLOOR). Central and forward differences
measure their error with a second quotient of step 2h, and try one more step when
that error is large: wider when it is round-off (if that can cut it WIDER-fold),
narrower when it is truncation.

Every Estimate carries an error estimate, and notes for the user when the step could
not stay inside the function's domain, or when no step gave a trustworthy estimate.
The function is evaluated at x itself only when a perturbed point gives a non-finite
value, to tell a domain's edge from a point where f itself is not finite.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..arrays import finite, np
from ..errors import DiffiTypeError
from ..language.vocabulary import NUMERIC_METHODS

EPS = 2.0 ** -52
METHODS = NUMERIC_METHODS  # (the words are the vocabulary's: help and messages read them)
FLOOR = 1e-3      # below |x| = FLOOR the step stops shrinking with x (a floor near 0)
RELATIVE = 1e-12  # richardson's target, relative to the result
NOISE = 10.0      # richardson's estimates may carry this many times the round-off
GOOD = 1e-9       # a central or forward estimate this accurate (relatively) is kept
UNCERTAIN = 1e-6  # an estimate less accurate than this (relatively) gets a note
DOMAIN_TRIES = 8  # steps tried, each 10 times smaller, to keep x ± h where f is finite
ATTEMPTS = 10     # richardson's starting steps, each 10 times smaller
WIDER = 4.0       # a wider step (which divides round-off by (how much wider)^order)
                  # is tried only when it can cut the error this much: less is not
                  # worth its evaluations (a gradient would take 6 per element, not 4)


@dataclass
class Estimate:
    """A numeric derivative with its error estimate and the evaluations it used."""

    value: object
    error: float
    step: float
    method: str
    evaluations: list = field(default_factory=list)  # (point, f(point))
    noise: float = 0.0  # the round-off part of the error: what no step can remove
    notes: list = field(default_factory=list)  # what the user should know (domain, doubt)
    first: float = 0.0  # richardson: the largest step of the tableau (step: the smallest)
    tried: list = field(default_factory=list)  # estimates not kept (other steps)


class Sampler:
    """f with every evaluation recorded once (by point), in the order they were made."""

    def __init__(self, f, x: float, center=None):
        self.f = f
        self.x = x
        self.center = center or f  # f at x itself (may warn: x is the user's own point)
        self.values: dict = {}
        self.evaluations: list = []

    def __call__(self, t: float):
        if t not in self.values:
            self.values[t] = self.f(t)
            self.evaluations.append((t, self.values[t]))
        return self.values[t]

    def at_x(self):
        if self.x not in self.values:
            self.values[self.x] = self.center(self.x)
            self.evaluations.append((self.x, self.values[self.x]))
        return self.values[self.x]


def scale(x: float) -> float:
    """The length over which f is assumed to change: |x|, or FLOOR near 0."""
    return max(abs(x), FLOOR)


def default_step(x: float, method: str, order: int = 1, floor: float = FLOOR) -> float:
    """The step that balances truncation and round-off error for float64 when f changes
    over a length |x| (or `floor` near 0); it never takes x ± h across 0, where log,
    sqrt, 1/x and abs change their nature."""
    if method == "richardson":
        return 0.1 * max(1.0, abs(x))  # large: extrapolation removes truncation
    power = 0.5 if method == "forward" else 1.0 / (order + 2)
    h = EPS ** power * max(abs(x), floor)
    reach = 2 * max(abs(k) for k in _offsets(method, order))  # (with 2h, for the error)
    return min(h, abs(x) / (2 * reach)) if x != 0 else h


def derivative(f, x: float, order: int = 1, method: str = "central",
               step: float | None = None, center=None) -> Estimate:
    """The order-th derivative of f at x by finite differences, with an error estimate.

    f(t) is evaluated at perturbed points; center(x), if given, evaluates f at x itself
    (a caller may let that one warn, and keep the perturbed ones quiet). Without a given
    step, the step scales with |x|; when round-off swamps that estimate (f changes over
    a longer length than |x|, as exp does near 0), the step for a length of 1 is tried
    too, and the estimate with the smaller error is kept."""
    sample = Sampler(f, x, center)
    if method == "richardson":
        h = step if step is not None else default_step(x, method, order)
        return richardson(sample, x, order, h, retry=step is None)
    notes: list = []
    if step is not None:
        estimate = difference(sample, x, order, method, step)
        left_domain(sample, x, step, notes)
    else:
        estimate = difference(sample, x, order, method, default_step(x, method, order), notes)
        other = _second_step(estimate, x, order, method)
        if other is not None:
            other = difference(sample, x, order, method, other, notes)
            if other.error < estimate.error:
                other.tried, estimate = [estimate], other
    estimate.evaluations, estimate.notes = sample.evaluations, notes
    if step is None:  # (a step the user chose is theirs to judge: explain shows it)
        doubt(estimate, sample, x)
    return estimate


def _second_step(estimate: Estimate, x: float, order: int, method: str) -> float | None:
    """Another step worth trying when the first estimate is not GOOD: wider when its
    error is mostly round-off (f changes over a longer length than |x|: the step for
    a length of 1), narrower when it is mostly truncation (f changes faster: the step
    where the estimate's own truncation and round-off figures balance)."""
    if estimate.error <= GOOD * _magnitude(estimate.value) or not math.isfinite(estimate.error):
        return None
    h, noise = estimate.step, estimate.noise
    if estimate.error <= 4 * noise:
        wide = default_step(x, method, order, floor=1.0)
        return wide if (wide / h) ** order >= WIDER else None  # (round-off ∝ h^-order)
    power = (2 if method == "central" else 1) + order  # truncation ∝ h^p, round-off ∝ h^-n
    return max(h * (noise / (estimate.error - noise)) ** (1.0 / power), h / 1000)


def difference(sample, x: float, order: int, method: str, h: float, notes=None) -> Estimate:
    """One difference quotient with step h (kept inside f's domain when notes are
    given) and its error estimate: the same quotient with step 2h differs from it by
    about 3 times its truncation error (central) or once (forward); round-off adds
    ε·|f|/h."""
    if notes is not None:
        near = _offsets(method, order)
        h = inside_domain(sample, x, h, near + [2 * k for k in near], notes)
    quotient = _forward_difference if method == "forward" else _central_difference
    require_usable(x, order, h)
    value = quotient(sample, x, order, h)
    gap = _magnitude(quotient(sample, x, order, 2 * h) - value)
    noise = _round_off(sample, x, h, order, method, value)
    return Estimate(value, gap + noise, h, method, [], noise)


def usable(x: float, order: int, h: float) -> bool:
    """Whether differences of step h at x can be computed: h^order neither overflows nor
    underflows, and x + h differs from x."""
    try:
        reach = h ** order
    except OverflowError:
        return False
    return 0 < reach < math.inf and x + h != x


def require_usable(x: float, order: int, h: float) -> None:
    """Refuse a point or a step that differences cannot use, saying which."""
    if type(x) is not float:  # (a tensor's elements are checked one by one)
        return
    if not math.isfinite(x):
        raise DiffiTypeError(f"numeric differences need a finite point, not {x:g}")
    if usable(x, order, h):
        return
    try:
        too_large = h ** order >= math.inf
    except OverflowError:
        too_large = True
    if too_large:
        raise DiffiTypeError(f"the step {h:g} is too large for order {order}: give a "
                             f"smaller step")
    raise DiffiTypeError(f"the step {h:g} is too small to change x = {x:g} at order "
                         f"{order}: give a larger step")


def _offsets(method: str, order: int) -> list[float]:
    """Where a difference of this method and order evaluates f, in steps from x."""
    if method == "forward":
        return [float(k) for k in range(1, order + 1)]
    if order == 1:
        return [1.0, -1.0]
    return [order / 2 - k for k in range(order + 1) if order / 2 - k]


def inside_domain(sample: Sampler, x: float, h: float, offsets, notes: list) -> float:
    """The largest step h/10^k for which f is finite at every x + offset·h, when f is
    finite at x itself: a step must not leave the domain the user sees. When none is
    found, a note says so (the result is then not finite either)."""
    for _ in range(DOMAIN_TRIES):
        h = exact_step(x, h)
        outside = [k for k in offsets if not finite(sample(x + k * h))]
        if not outside:
            return h
        if not finite(sample.at_x()):
            return h  # f is not finite at x itself: there is no domain to stay inside
        h /= 10
    side = "x - h" if outside[0] < 0 else "x + h"
    notes.append(f"numeric differences leave the function's domain: f is finite at "
                 f"x = {_number(x)} but not at {side} for any step down to {h * 10:.1e}")
    return h * 10


def left_domain(sample: Sampler, x: float, h: float, notes: list) -> None:
    """With a step the user chose: a note when it took f outside its domain."""
    outside = [t for t, value in sample.evaluations if not finite(value)]
    if outside and finite(sample.at_x()):
        notes.append(f"numeric differences left the function's domain: with step "
                     f"{_number(h)}, f is not finite at {_number(outside[0])}, though "
                     f"finite at x = {_number(x)}")


def exact_step(x: float, h: float) -> float:
    """h rounded to a distance float64 can step exactly from x, so that x + h and x - h
    lie exactly the same distance from x (else a central difference is the slope at a
    point beside x); h itself when x + h rounds back to x."""
    return ((x + h) - x) or h


def _magnitude(value) -> float:
    """|value|, or the largest |element| of a tensor."""
    try:
        return abs(float(value))
    except (TypeError, ValueError):
        numpy = np()
        magnitudes = numpy.abs(value)
        return float(numpy.max(magnitudes)) if magnitudes.size else 0.0


def _number(value: float) -> str:
    return f"{value:.6g}"


def _largest(sample: Sampler, points) -> float:
    """The largest finite |f| at the points (the scale of the values differenced)."""
    sizes = [_magnitude(sample.values[t]) for t in points if t in sample.values]
    return max([s for s in sizes if math.isfinite(s)], default=0.0)


def _round_off(sample: Sampler, x: float, h: float, order: int, method: str,
               slope=0.0) -> float:
    """The error that rounding puts into a difference: about ε·|f| per value, times the
    sum of the weights (2^order), over the divisor (h^order; 2h for a first central
    difference). For a first derivative, f's values may carry more than ε·|f|: an
    operation inside f that rounds a multiple of x (sin(100*x)) errs by about
    ε·|x·f'(x)|, so that is added."""
    h = exact_step(x, h) if order == 1 else h  # (as the quotients round it)
    points = [x + k * h for k in _offsets(method, order)] + [x]
    divisor = 2 * h if method == "central" and order == 1 else h ** order
    size = EPS * _largest(sample, points)  # (EPS first: |f| near 1e308 stays finite)
    if order == 1:
        size += EPS * abs(x) * _magnitude(slope)
    return size * (2 ** order / divisor)


def doubt(estimate: Estimate, sample: Sampler, x: float) -> None:
    """A note when the error estimate is large beside both the result and the function's
    own scale (its values near x over x's scale), with the likelier of two causes."""
    value = estimate.value
    if estimate.error <= UNCERTAIN * _size(estimate, sample, x) \
            or not math.isfinite(_magnitude(value)):
        return
    cause = ("round-off: f's values are large beside their change"
             if estimate.noise * 2 >= estimate.error else
             f"f may have a kink, a jump or a fast wiggle near {_number(x)}")
    result = _number(value) if type(value) is float else "a tensor"
    estimate.notes.append(f"numeric derivative uncertain: {estimate.method} differences "
                          f"give {result} with an error estimate of {estimate.error:.1e} "
                          f"({cause})")


def _size(estimate: Estimate, sample: Sampler, x: float) -> float:
    """What an error is small beside: the result, or f's values near x over x's scale."""
    return max(_magnitude(estimate.value), _largest(sample, sample.values) / scale(x))


def _central_difference(f, x, order, h):
    """(f(x + h) - f(x - h)) / 2h for n = 1 (h an exact_step); Σ (-1)^k C(n, k)
    f(x + (n/2 - k)h) / h^n for higher orders (points h apart, centred on x)."""
    if order == 1:
        h = exact_step(x, h)
        return (f(x + h) - f(x - h)) / (2 * h)
    total = 0.0
    for k in range(order + 1):
        total = total + (-1) ** k * math.comb(order, k) * f(x + (order / 2 - k) * h)
    return total / h ** order


def _forward_difference(f, x, order, h):
    if order == 1:
        h = exact_step(x, h)
        return (f(x + h) - f(x)) / h
    total = 0.0
    for k in range(order + 1):
        total = total + (-1) ** (order - k) * math.comb(order, k) * f(x + k * h)
    return total / h ** order


# Richardson ---------------------------------------------------------------------------

def richardson(sample, x: float, order: int, h: float, retry: bool = True) -> Estimate:
    """Ridders' method from step h; then, while its error estimate is large beside the
    result (RELATIVE) and beside its round-off (NOISE), again from steps 10 times
    smaller, keeping the estimate with the smallest error. It stops when a smaller
    start could only be worse: when the round-off of the last start (which grows as
    the step shrinks) already exceeds the best error."""
    if not isinstance(sample, Sampler):
        sample = Sampler(sample, x)
    notes: list = []
    offsets = _offsets("central", order)
    if retry:
        h = inside_domain(sample, x, h, offsets, notes)
    require_usable(x, order, h)
    require_usable(x, order, h / RIDDERS_SHRINK ** (RIDDERS_LEVELS - 1))  # (its last step)
    best = attempt = ridders(sample, x, order, h)
    for _ in range(ATTEMPTS - 1 if retry else 0):
        if accepted(best) or relative(attempt.noise, attempt) >= relative(best.error, best):
            break
        # The first start may reach across 0 (large steps suit smooth functions; one
        # across a kink or a pole at 0 shows a large error): the others never do.
        h = min(h / 10, abs(x) / 2) if x != 0 else h / 10
        h = inside_domain(sample, x, h, offsets, notes)
        if not usable(x, order, h / RIDDERS_SHRINK ** (RIDDERS_LEVELS - 1)):
            break  # (steps this small are lost in rounding: keep the best so far)
        attempt = ridders(sample, x, order, h)
        # (Only a clearly better start replaces the best: at a jump every start is as
        # bad relatively, and the larger step shows the smaller number.)
        if relative(attempt.error, attempt) < relative(best.error, best) / 2:
            best = attempt
    best.evaluations, best.notes = sample.evaluations, notes
    if not retry:
        left_domain(sample, x, h, notes)
    elif not accepted(best):
        doubt(best, sample, x)
    return best


def relative(error: float, estimate: Estimate) -> float:
    """An error beside its estimate's result: how starts are compared. (Compared
    absolutely, a start across a pole — 296 ± 196 for 1/x at 1e-9 — would beat the true
    −1e18 ± 1e6.) A result of 0 is judged by its error alone."""
    size = _magnitude(estimate.value)
    if size == 0 or not math.isfinite(size):
        return error if size == 0 else math.inf
    return error / size


def accepted(estimate: Estimate) -> bool:
    """Small beside the result (RELATIVE), or down to the round-off of f's values."""
    return estimate.error <= max(RELATIVE * _magnitude(estimate.value), NOISE * estimate.noise)


RIDDERS_SHRINK, RIDDERS_LEVELS = 1.4, 10  # each level's step is the last one's / 1.4


def ridders(f, x: float, order: int, h: float, shrink: float = RIDDERS_SHRINK,
            levels: int = RIDDERS_LEVELS) -> Estimate:
    """Ridders' method: Richardson extrapolation of central differences of shrinking step.

    The Estimate's step is the smallest step the tableau used; `first` is the largest.
    """
    tableau = [[_central_difference(f, x, order, h)]]
    best, error = tableau[0][0], math.inf
    for i in range(1, levels):
        h /= shrink
        row = [_central_difference(f, x, order, h)]
        factor = shrink ** 2
        for j in range(1, i + 1):
            # (a·F − b)/(F − 1) written as a + (a − b)/(F − 1): no overflow near 1e308
            row.append(row[j - 1] + (row[j - 1] - tableau[i - 1][j - 1]) / (factor - 1.0))
            factor *= shrink ** 2
            step_error = max(_magnitude(row[j] - row[j - 1]),
                             _magnitude(row[j] - tableau[i - 1][j - 1]))
            if step_error <= error:
                error, best = step_error, row[j]
        tableau.append(row)
        if _magnitude(row[i] - tableau[i - 1][i - 1]) >= 2 * error:
            break
    noise = _round_off(f, x, h, order, "central", best) if isinstance(f, Sampler) else 0.0
    if not math.isfinite(error):  # one level only, or no finite difference
        error = math.inf
    return Estimate(best, max(error, noise), h, "richardson", [], noise,
                    first=h * shrink ** (len(tableau) - 1))


def sweep(f, x: float, exact, method: str = "central", steps=None) -> list:
    """(h, difference quotient, error against `exact`) for h = 1e-1 … 1e-15: the
    textbook quotients, dividing by 2h (or h) as written, to show how the error falls
    and then rises again."""
    rows = []
    for h in steps or [10.0 ** -k for k in range(1, 16)]:
        if method == "forward":
            value = (f(x + h) - f(x)) / h
        else:
            value = (f(x + h) - f(x - h)) / (2 * h)
        rows.append((h, value, _magnitude(value - exact)))
    return rows
