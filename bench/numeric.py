"""Accuracy of numeric mode (issue 13): the relative error of central differences and of
Richardson extrapolation against closed-form derivatives, on smooth functions, near
the edge of a domain, near 0, and where the derivative is tiny beside the function's
values. Also the error estimate that each method reports, and whether it covers the
actual error, and how many evaluations Richardson spent.

Targets: richardson within about 1e-12 relative (judged relative to the result, so a
derivative of 1e-42 must be right to about 1e-54); central within about 1e-8; every
reported error estimate at least the actual error; no warning about a value outside the
function's domain.
Run: python bench/numeric.py
"""
from __future__ import annotations

import math
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import diffi  # noqa: E402


def _logistic_map_slope(n: int, x: float) -> float:
    """d/dx of 30 steps of x -> 3.7 x (1 - x), by the chain rule in Python floats."""
    slope = 1.0
    for _ in range(n):
        slope *= 3.7 * (1 - 2 * x)
        x = 3.7 * x * (1 - x)
    return slope


# (expression, x, exact derivative at x)
CASES = [
    ("exp(x)", 1.0, math.e),
    ("sin(x)", 0.0, 1.0),
    ("exp(sin(x))", 1.0, math.cos(1) * math.exp(math.sin(1))),
    ("sin(100*x)", 1.0, 100 * math.cos(100)),
    ("log(x)", 0.01, 100.0),
    ("log(x)", 0.05, 20.0),
    ("sqrt(x)", 1e-4, 50.0),
    ("1/x", 0.001, -1e6),
    ("cos(x)", 1e-3, -math.sin(1e-3)),
    ("x^2", 1e8, 2e8),
    ("exp(x)", 50.0, math.exp(50)),
    ("exp(-x^2)", 5.0, -10 * math.exp(-25)),
    ("x*exp(-x^2)", 10.0, -199 * math.exp(-100)),
    ("tanh(3*x)", 10.0, 3 / math.cosh(30) ** 2),
    ("sigmoid(x)", 40.0, math.exp(-40) / (1 + math.exp(-40)) ** 2),
    ("c(30, x)", 0.3, _logistic_map_slope(30, 0.3)),
]
DEFINITIONS = "c(n, x) = if n == 0 then x else c(n - 1, 3.7*x*(1 - x))"


def estimate(it, expr: str, x: float, method: str) -> tuple[float, float | None, int]:
    """(value, reported error estimate or None, warnings) of one numeric derivative."""
    source = f'd/dx {expr} at x = {x!r} using numeric(method = "{method}")'
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = it.eval(source)
    text = _explain(it, source)
    found = [w for w in caught if issubclass(w.category, diffi.DiffiWarning)]
    return value, _error_about(text), len(found)


def _explain(it, source: str) -> str:
    lines = []
    explaining = diffi.Interpreter(output=lines.append, warn=lambda message, span: None)
    explaining.run(DEFINITIONS)
    explaining.execute(f"explain {source}", "<bench>", lambda node: lines.append(
        explaining.format_result(node)))
    return "\n".join(lines)


def _error_about(text: str) -> float | None:
    for line in text.splitlines():
        if line.strip().startswith("estimate ") and "error about" in line:
            return float(line.rsplit("error about", 1)[1].split()[0].rstrip(","))
    return None


def relative(value: float, exact: float) -> float:
    return abs(value - exact) / abs(exact) if exact else abs(value)


def main() -> None:
    it = diffi.Interpreter()
    it.run(DEFINITIONS)
    print("relative error of each method against the closed form, and the error estimate")
    print("it reports (relative); '!' marks an estimate below the actual error")
    print(f"{'f(x)':<13} {'x':>6}  {'exact':>10}  {'central':>9} {'estimate':>9}  "
          f"{'richardson':>10} {'estimate':>9}  notes")
    worst = {"central": 0.0, "richardson": 0.0}
    uncovered = 0
    for expr, x, exact in CASES:
        row = f"{expr:<13} {x:>6g}  {exact:>10.3e}"
        notes = 0
        for method in ("central", "richardson"):
            value, error, warned = estimate(it, expr, x, method)
            actual = relative(value, exact)
            claimed = math.nan if error is None else error / abs(exact)
            if claimed <= 1e-6:  # where the method claims six digits or more
                worst[method] = max(worst[method], actual)
            covered = claimed >= actual or actual <= 1e-10
            uncovered += not covered
            row += f"  {actual:>9.1e} {claimed:>9.1e}{' ' if covered else '!'}"
            notes += warned
        print(f"{row} {notes}")
    print(f"worst relative error where the estimate claims 1e-6 or better: central "
          f"{worst['central']:.1e}, richardson {worst['richardson']:.1e}")
    print(f"estimates below an actual error above 1e-10 (marked !): {uncovered}")


if __name__ == "__main__":
    main()
