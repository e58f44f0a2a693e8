"""`check`: every mode side by side on the same gradient, with the largest relative
difference between them, a verdict, and a likely cause when they disagree.
"""
from __future__ import annotations

import math

from .. import arrays
from ..arrays import is_array
from ..core.problem import build
from ..core.tape import Tape
from ..core.values import format_value
from ..errors import DiffiError, DiffiTypeError, LimitError
from .context import Context, Report
from .derivatives import gradient
from .tables import kinks

TOLERANCE = 1e-6
REQUIRED = ("forward", "reverse", "numeric")  # the modes a check cannot agree without
TIE = 0.1  # check: differences this close (relatively) to the largest are one finding


def check(ev, ast, scope):
    """Every mode side by side, with the largest relative difference."""
    problem = build(ev, ast, scope)
    if problem.symbolic:
        raise DiffiTypeError("check needs a point: give one with at", ast.span)
    ctx = Context(ev, ast)
    # (traced first: once a limit stops a mode, the report needs no more work to say so)
    inputs, output = problem.trace()
    tape = Tape([output], problem.variable_nodes(inputs))
    results = {}
    for mode, options in (("forward", {}), ("reverse", {}),
                          ("numeric", {"method": "richardson"}), ("symbolic", {})):
        try:
            results[mode] = _flat(gradient(ctx, problem, mode, options))
        except DiffiError as error:
            results[mode] = error
    if all(isinstance(results[m], DiffiError) for m in REQUIRED):
        raise results["forward"]  # nothing to compare: the reason, as an error
    worst, pair = _largest_difference(results)
    missing = _missing(results)
    ok = worst <= TOLERANCE and not missing
    lines = _check_table(problem, results, ev.precision)
    verdict = "agree" if ok else "DISAGREE" if not missing else \
        f"INCOMPLETE, {' and '.join(missing)} did not run"
    lines.append(f"largest relative difference: {worst:.1e} ({pair}): {verdict} "
                 f"(tolerance {TOLERANCE:g})")
    verdict_line = len(lines) - 1
    found = kinks(tape)
    if not ok and not missing:
        lines.append("likely cause: " + _likely_cause(found, results))
    elif found:
        lines.append("note: a non-differentiable point was met: " + found[0][1])
    if not ok:
        ev.count_failed_check()
    return Report(worst, "\n".join(lines), ok, verdict=verdict_line)


def _missing(results) -> list[str]:
    """The modes whose absence makes the comparison incomplete: forward, reverse or
    numeric, for any reason; symbolic only when a limit stopped it (where it has no
    rule, it is simply not available)."""
    return [("numeric (richardson)" if mode == "numeric" else mode)
            for mode, result in results.items()
            if isinstance(result, DiffiError)
            and (mode in REQUIRED or isinstance(result, LimitError))]


def _flat(value) -> list[float]:
    if is_array(value):
        return [float(v) for v in value.reshape(-1)]
    if isinstance(value, tuple):
        out = []
        for v in value:
            out += _flat(v)
        return out
    return [float(value)]


def _largest_difference(results) -> tuple[float, str]:
    """The largest relative difference between two modes, and the pair it names: the
    first in table order within TIE of the largest, so that the last bits of two
    modes that agree (forward and reverse) do not decide which one is named."""
    modes = [m for m, r in results.items() if not isinstance(r, Exception)]
    pairs = []
    for i, a in enumerate(modes):
        for b in modes[i + 1:]:
            pairs.append((max([_relative(x, y) for x, y in zip(results[a], results[b])],
                              default=0.0), f"{b} vs {a}"))
    worst = max([d for d, _ in pairs], default=0.0)
    if worst == 0.0:
        return 0.0, "all modes"
    return worst, next(pair for d, pair in pairs if d >= worst * (1 - TIE))


def _relative(x: float, y: float) -> float:
    if x == y or (math.isnan(x) and math.isnan(y)):
        return 0.0
    if not (math.isfinite(x) and math.isfinite(y)):
        return math.inf
    return abs(x - y) / max(abs(x), abs(y), 1.0)


def _check_table(problem, results, precision) -> list[str]:
    header = ["mode"] + [label for v in problem.variables
                         for label in _element_labels(v, problem.values[v])]
    results = {("numeric (richardson)" if m == "numeric" else m): r for m, r in results.items()}
    rows = [header]
    for mode, values in results.items():
        if isinstance(values, Exception):
            rows.append([mode, f"(not available: {values.message})"])
        else:
            rows.append([mode] + [format_value(v, precision) for v in values])
    full = [r for r in rows if len(r) == len(header)]  # a note spans the row: no width
    widths = [max(len(r[i]) for r in full) for i in range(len(header))]
    widths[0] = max(len(r[0]) for r in rows)
    return ["  ".join(c.ljust(widths[i]) if i < len(widths) else c
                      for i, c in enumerate(r)).rstrip() for r in rows]


def _element_labels(var: str, value) -> list[str]:
    """d/dx for a scalar; d/dW[0, 1], … for the elements of a tensor."""
    if not is_array(value):
        return [f"d/d{var}"]
    return [f"d/d{var}[{', '.join(map(str, index))}]"
            for index in arrays.np().ndindex(*value.shape)]


def _likely_cause(found, results) -> str:
    if found:
        return f"a non-differentiable point ({found[0][1]}): the modes see different sides"
    exact = [r for m, r in results.items() if m != "numeric" and not isinstance(r, Exception)]
    numeric_values = results.get("numeric")
    if exact and not isinstance(numeric_values, Exception):
        if all(_relative(a, b) <= 1e-12 for a, b in zip(exact[0], exact[-1])):
            big = max(abs(v) for v in exact[0]) if exact[0] else 0.0
            if big > 1e8:
                return "round-off in the numeric differences (large values)"
            return "numeric truncation or round-off error (a step too large or too small)"
    return "forward and reverse differ: a derivative rule may be wrong"
