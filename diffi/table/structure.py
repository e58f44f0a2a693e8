"""Structure: graph operations that are not built-in functions (constants, names,
branches, `and`/`or`, tuples, vectors, indexing, a directive's report and result).

`structure(values, params)` evaluates them; their rules pass derivatives through.
"""
from __future__ import annotations

from ..arrays import as_value, np, truth
from .primitives import structural
from .rules import EXPANDS, ZERO, linear, partials

CONST = structural("const", 0, lambda values, params: params, rule=ZERO)
# A built-in's value that its arguments' values decide, with no derivative (argmax,
# onehot, size, shape, zeros(n), …): recomputed from them where the graph is evaluated
# at another point or compiled (params: an object with `name` and compute(values)).
VALUE = structural("value", -1, lambda values, params: params.compute(values), rule=ZERO)
ALIAS = structural("alias", 1, lambda values, params: values[0],
                   rule=partials(lambda ap, x, y: (1.0,), taylor=lambda y, x: list(x)))
# if C then A else B, as recorded: (condition, branch taken); params: "then" or "else".
SELECT = structural("select", 2, lambda values, params: values[1],
                    rule=partials(lambda ap, c, b, y: (None, 1.0),
                                  taylor=lambda y, c, b: list(b)),
                    decision=lambda values, params: (
                        None if truth(values[0]) == (params == "then") else "if"))
# if C then A else B with both branches (symbolic formulas, whose condition is unknown).
IFELSE = structural("ifelse", 3,
                    lambda values, params: values[1] if truth(values[0]) else values[2],
                    rule=partials(lambda ap, c, a, b, y: (None, ap(IFELSE, c, 1.0, 0.0),
                                                          ap(IFELSE, c, 0.0, 1.0)),
                                  taylor=lambda y, c, a, b: list(a) if truth(c[0]) else list(b)))
# With one input, `and`/`or` was decided by its left side (the right was not evaluated).
LOGIC = structural("logic", -1, lambda values, params: (
    any(truth(v) for v in values) if params == "or" else all(truth(v) for v in values)),
    rule=ZERO, boolean=True,
    decision=lambda values, params: (
        None if len(values) == 2 or truth(values[0]) == (params == "or") else params))

# Tuples, vectors and indexing: linear, so their tangents are themselves applied to the
# inputs' tangents; their transposes take a cotangent apart or put it in place.

TUPLE = structural("tuple", -1, lambda values, params: tuple(values),
                   rule=linear(lambda ap, g, xs, y, params, needs: tuple(
                       ap(PART, g, params=k) if needed else None
                       for k, needed in enumerate(needs)), ("{g}[{k}]",)))
VECTOR = structural("vector", -1, lambda values, params: np().array(values, dtype=float),
                    rule=linear(lambda ap, g, xs, y, params, needs: tuple(
                        ap(INDEX, g, params=k) if needed else None
                        for k, needed in enumerate(needs)), ("{g}[{k}]",)))
# INDEX(x, key): x[key], with key an index, a slice or a tuple of them.
INDEX = structural("index", 1, lambda values, key: as_value(values[0][key]),
                   rule=linear(lambda ap, g, x, y, key, needs: (
                       ap(SCATTER, g, params=(key, ap.shape(x[0]))),),
                       ("{g} placed at the index in {a}",)))


def _scatter(g, params):
    key, shape = params
    out = np().zeros(shape)
    np().add.at(out, key, g)
    return as_value(out)


# SCATTER(g, (key, shape)): zeros of shape with g added at the key (INDEX's transpose).
SCATTER = structural("scatter", 1, lambda values, params: _scatter(values[0], params),
                     rule=linear(lambda ap, g, x, y, params, needs: (
                         ap(INDEX, g, params=params[0]),)))


def _tuple_cotangent(ap, g, t, k):
    """A tuple's cotangent from one of its parts': g at position k, zeros elsewhere."""
    return ap(TUPLE, *[g if i == k else ap.zeros(v) for i, v in enumerate(ap.value(t))])


# PART(t, k): element k of a tuple (TUPLE's transpose).
PART = structural("part", 1, lambda values, k: values[0][k],
                  rule=linear(lambda ap, g, t, y, k, needs: (
                      _tuple_cotangent(ap, g, t[0], k),)))

# A directive's result shown with its work (params: a diffi.directives.context.Report).
REPORT = structural("report", 1, lambda values, params: values[0],
                    rule=partials(lambda ap, x, y: (1.0,), taylor=lambda y, x: list(x)))
# A directive's result that depends on the graph outside it (its inputs): its value is
# known, and the graph that computes it is built when a derivative or a re-evaluation
# needs it (params: an object whose expand(node) builds that graph over node.inputs).
DERIVED = structural("derived", -1, lambda values, params: params.recompute(values),
                     rule=EXPANDS)
