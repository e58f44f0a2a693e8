"""Structure: graph operations that are not built-in functions (constants, names,
branches, `and`/`or`, tuples, vectors, indexing, a directive's report).

`compute(values, params)` evaluates them; their rules pass derivatives through.
"""
from __future__ import annotations

from ..arrays import as_value, np, truth, zero_like
from .primitives import _flat, structural


CONST = structural("const", 0, lambda values, params: params)
ALIAS = structural("alias", 1, lambda values, params: values[0],
                   partials=lambda ap, x, y: (1.0,), taylor=lambda y, x: list(x))
# if C then A else B, as recorded: (condition, branch taken); params: "then" or "else".
SELECT = structural("select", 2, lambda values, params: values[1],
                    partials=lambda ap, c, b, y: (None, 1.0),
                    taylor=lambda y, c, b: list(b),
                    decision=lambda values, params: (
                        None if truth(values[0]) == (params == "then") else "if"))
# if C then A else B with both branches (symbolic formulas, whose condition is unknown).
IFELSE = structural("ifelse", 3,
                    lambda values, params: values[1] if truth(values[0]) else values[2],
                    partials=lambda ap, c, a, b, y: (None, ap(IFELSE, c, 1.0, 0.0),
                                                     ap(IFELSE, c, 0.0, 1.0)),
                    taylor=lambda y, c, a, b: list(a) if truth(c[0]) else list(b))
# With one input, `and`/`or` was decided by its left side (the right was not evaluated).
LOGIC = structural("logic", -1, lambda values, params: (
    any(truth(v) for v in values) if params == "or" else all(truth(v) for v in values)),
    taylor=_flat,
    decision=lambda values, params: (
        None if len(values) == 2 or truth(values[0]) == (params == "or") else params))
TUPLE = structural("tuple", -1, lambda values, params: tuple(values))
VECTOR = structural("vector", -1, lambda values, params: np().array(values, dtype=float))
INDEX = structural("index", 1, lambda values, params: as_value(values[0][params]))


def _vector_jvp(tangents, values, params, y):
    return np().array([zero_like(v) if t is None else t for t, v in zip(tangents, values)],
                      dtype=float)


def _index_vjp(g, values, params, y):
    out = np().zeros_like(values[0], dtype=float)
    np().add.at(out, params, g)
    return (out,)


# jvp(tangents, values, params, output) and vjp(cotangent, values, params, output):
# the rules of operations whose derivative is not elementwise.
VECTOR.jvp = _vector_jvp
VECTOR.vjp = lambda g, values, params, y: tuple(as_value(g[i]) for i in range(len(values)))
VECTOR.taylor = lambda y, *series: [np().array([s[k] for s in series], dtype=float)
                                    for k in range(len(series[0]))]
TUPLE.jvp = lambda tangents, values, params, y: tuple(
    zero_like(v) if t is None else t for t, v in zip(tangents, values))
TUPLE.vjp = lambda g, values, params, y: tuple(g)
INDEX.jvp = lambda tangents, values, params, y: as_value(np().asarray(tangents[0])[params])
INDEX.vjp = _index_vjp


# A directive's result shown with its work (params: a diffi.directives.context.Report).
REPORT = structural("report", 1, lambda values, params: values[0],
                    partials=lambda ap, x, y: (1.0,), taylor=lambda y, x: list(x))


LOGIC.boolean = True  # gives true/false (as comparisons do): arithmetic identities must keep it
