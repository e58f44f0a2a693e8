"""Random expressions through tensors, differentiated without a point (a formula) and at
points, for the property that a formula is the derivative everywhere or asks for a point.

Used by tests/test_derived.py (a short seeded run) and bench/formulas.py (a long one).
"""
from __future__ import annotations

import random

import numpy as np

import diffi

ATOMS = ["x", "y", "[x, 1]", "[y, x]", "[1, 2]", "[[x, 1], [2, y]]", "ones(2, 2)", "2", "[x]",
         "eye(2)"]
UNARY = ["sum({})", "mean({})", "max({})", "norm({})", "transpose({})", "softmax({})",
         "sin({})", "-{}", "{}[0]", "{}[0:1]", "reshape({}, 4)", "sum({}, axis = 0)",
         "mean({}, axis = 1)", "logsumexp({})", "exp({})", "sigmoid({})", "{}^2", "tanh({})"]
BINARY = ["{} + {}", "{} * {}", "{} @ {}", "dot({}, {})", "{} - {}", "max({}, {})",
          "concat({}, {})", "{}/(2 + {}^2)"]
DIRECTIVES = ["d/dx {}", "grad {} wrt x, y", "d2/dx2 {}"]
POINTS = [(0.7, -0.4), (1.3, 0.35)]


def expression(rng: random.Random, depth: int) -> str:
    if depth == 0:
        return rng.choice(ATOMS)
    if rng.random() < 0.5:
        return rng.choice(UNARY).format(expression(rng, depth - 1))
    form = rng.choice(BINARY)
    return form.format(*[expression(rng, depth - 1) for _ in range(form.count("{}"))])


def forms(seed: int, count: int):
    """count directives on sum(E) for random E (a scalar, so that grad applies)."""
    rng = random.Random(seed)
    for _ in range(count):
        expr = f"sum({expression(rng, rng.randint(1, 3))})"
        for directive in DIRECTIVES:
            yield directive.format(expr)


def outcome(source: str, points=POINTS, rtol: float = 1e-9) -> tuple[str, str]:
    """("formula" | "asks" | "error" | "wrong" | "internal", detail) for one directive:
    its formula must equal the directive at each point (x, y), and so must its printed
    source read back as a function, or it must be an error (the same directive at a
    point may then be anything: a value, or an error of its own)."""
    it = diffi.Interpreter(warn=lambda message, span: None)
    try:
        formula = it.eval(source)
    except diffi.DiffiError as error:
        kind = "internal" if "internal error" in error.message else \
            "asks" if "needs values: give a point with at" in error.message else "error"
        return kind, error.message
    params = formula.function.params if callable(formula) else ()
    for x, y in points:
        try:
            exact = it.eval(f"{source} at x = {x}, y = {y}")
        except diffi.DiffiError as error:
            return "wrong", f"a formula where the point is an error: {error.message}"
        given = {"x": x, "y": y}
        try:
            values = [formula, formula] if not params else [
                formula(**{p: given[p] for p in params}),
                it.run(f"f({', '.join(params)}) = {formula}\n"  # (the printed source)
                       f"f({', '.join(str(given[p]) for p in params)})")[-1]]
        except diffi.DiffiError as error:
            return "wrong", f"{formula} cannot be evaluated: {error.message}"
        for value in values:
            if not np.allclose(np.asarray(value, float), np.asarray(exact, float), rtol=rtol,
                               atol=1e-12, equal_nan=True):
                return "wrong", f"{formula} gives {value} at ({x}, {y}), the point {exact}"
    return "formula", str(formula)
