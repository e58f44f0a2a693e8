"""Tensor operations (docs/tensors.md), each an entry of the primitive table with its rules.

Operations whose derivative is not elementwise give `jvp(tangents, values, params, y)`
and `vjp(cotangent, values, params, y)`; `params` holds what is not differentiated (an
axis, a shape). The built-ins that call them are in diffi/core/tensor_calls.py.
"""
from __future__ import annotations

from ..arrays import as_value, np
from .primitives import structural
from .scalars import MATMUL
from .structure import INDEX, TUPLE, VECTOR


def _array(value):
    return np().asarray(value, dtype=float)


def _expand(g, params, like):
    """A reduced cotangent broadcast back to the shape of the reduced input."""
    numpy = np()
    g = numpy.asarray(g, dtype=float)
    axis = params
    if axis is not None:  # as numpy.expand_dims(g, axis), without its generality
        axis %= g.ndim + 1
        g = g.reshape(g.shape[:axis] + (1,) + g.shape[axis:])
    out = numpy.empty(_shape_of(like))  # filled in C: cheaper than broadcast_to's layers
    out[...] = g
    return out


def _shape_of(value):
    return value.shape if type(value) is np().ndarray else np().shape(value)


def _count(value) -> int:
    return value.size if type(value) is np().ndarray else np().size(value)


# Reductions ----------------------------------------------------------------------
# add.reduce is what numpy.sum and numpy.mean run (mean then divides by the count),
# called directly: the same numbers without their Python layers.

def _sum(x, axis):
    return as_value(np().add.reduce(_array(x), axis=axis))


def _mean(x, axis):
    x = _array(x)
    total = np().add.reduce(x, axis=axis)
    return as_value(total / (x.size // max(total.size, 1) if x.size else 0))


SUM = structural("sum", 1, lambda v, axis: _sum(v[0], axis))
SUM.jvp = lambda t, v, axis, y: _sum(t[0], axis)
SUM.vjp = lambda g, v, axis, y: (as_value(_expand(g, axis, v[0])),)

MEAN = structural("mean", 1, lambda v, axis: _mean(v[0], axis))
MEAN.jvp = lambda t, v, axis, y: _mean(t[0], axis)
# (the factor scales the reduced cotangent, before it is broadcast: fewer products)
MEAN.vjp = lambda g, v, axis, y: (as_value(
    _expand(np().multiply(g, _count(y) / max(_count(v[0]), 1)), axis, v[0])),)


def _extremum_weights(values, axis, y):
    """1/k on the k elements that attain the max (or min): ties share the derivative."""
    numpy = np()
    x = _array(values[0])
    hit = (x == (numpy.expand_dims(y, axis) if axis is not None else y)).astype(float)
    count = hit.sum(axis=axis, keepdims=axis is not None)
    return hit / count


def _reduction(name, fn):
    prim = structural(name, 1, lambda v, axis: as_value(getattr(np(), fn)(_array(v[0]), axis=axis)))
    prim.jvp = lambda t, v, axis, y: as_value(
        np().sum(_array(t[0]) * _extremum_weights(v, axis, y), axis=axis))
    prim.vjp = lambda g, v, axis, y: (as_value(_expand(g, axis, v[0]) * _extremum_weights(v, axis, y)),)
    prim.kinks = True
    return prim


# "max" and "min" in the table are elementwise (max(a, b)); these reduce a tensor and
# show the built-in's name in messages.
MAXIMUM = _reduction("max_of", "max")
MINIMUM = _reduction("min_of", "min")
MAXIMUM.display, MINIMUM.display = "max", "min"  # (Primitive.label reads it)

NORM = structural("norm", 1, lambda v, p: float(np().linalg.norm(_array(v[0]))))
NORM.jvp = lambda t, v, p, y: float(np().sum(_array(v[0]) * _array(t[0])) / y) if y else 0.0
NORM.vjp = lambda g, v, p, y: (as_value(g * _array(v[0]) / y) if y else
                               as_value(np().zeros_like(_array(v[0]))),)

# Shape --------------------------------------------------------------------------------

TRANSPOSE = structural("transpose", 1, lambda v, p: as_value(np().transpose(_array(v[0]))))
TRANSPOSE.jvp = lambda t, v, p, y: as_value(np().transpose(_array(t[0])))
TRANSPOSE.vjp = lambda g, v, p, y: (as_value(np().transpose(_array(g))),)

RESHAPE = structural("reshape", 1, lambda v, shape: as_value(np().reshape(_array(v[0]), shape)))
RESHAPE.jvp = lambda t, v, shape, y: as_value(np().reshape(_array(t[0]), shape))
RESHAPE.vjp = lambda g, v, shape, y: (as_value(np().reshape(_array(g), np().shape(v[0]))),)


def _concat(values, axis):
    return as_value(np().concatenate([np().atleast_1d(_array(v)) for v in values], axis=axis))


def _split(g, values, axis):
    numpy = np()
    sizes = [numpy.atleast_1d(_array(v)).shape[axis] for v in values]
    parts = numpy.split(_array(g), numpy.cumsum(sizes)[:-1], axis=axis)
    return tuple(as_value(p.reshape(numpy.shape(v))) for p, v in zip(parts, values))


CONCAT = structural("concat", -1, lambda v, axis: _concat(v, axis))
CONCAT.jvp = lambda t, v, axis, y: _concat(
    [np().zeros_like(_array(x)) if d is None else d for d, x in zip(t, v)], axis)
CONCAT.vjp = lambda g, v, axis, y: _split(g, v, axis)

DOT = structural("dot", 2, lambda v, p: as_value(np().dot(_array(v[0]), _array(v[1]))))
DOT.jvp = lambda t, v, p, y: MATMUL.jvp(t, [_array(x) for x in v], p, y)
DOT.vjp = lambda g, v, p, y, needs=(True, True): MATMUL.vjp(
    g, [_array(x) for x in v], p, y, needs)
DOT.vjp_needs = True

# Softmax and log-sum-exp along the last axis, stable for large inputs ------------------


def _softmax(u):
    _, z, total = _shifted_exp(_array(u))
    return z / total


def _shifted_exp(u):
    """m = the maximum along the last axis, z = exp(u − m) and Σ z (axes kept): the
    stable pieces of softmax and logsumexp."""
    numpy = np()
    m = numpy.maximum.reduce(u, axis=-1, keepdims=True)  # numpy.max without its layers
    z = numpy.exp(u - m)
    return m, z, numpy.add.reduce(z, axis=-1, keepdims=True)


def _logsumexp(u):
    u = _array(u)
    number = u.ndim == 0  # a number is its own last axis: logsumexp(3) = 3
    m, _, total = _shifted_exp(u.reshape(1) if number else u)
    return as_value(m[..., 0] + np().log(total[..., 0]))


def _softmax_product(y, t):
    """y ⊙ (t − Σ y·t): the Jacobian of softmax applied to t (it is symmetric)."""
    t = _array(t)
    return as_value(y * (t - np().sum(y * t, axis=-1, keepdims=True)))


SOFTMAX = structural("softmax", 1, lambda v, p: as_value(_softmax(v[0])))
SOFTMAX.jvp = lambda t, v, p, y: _softmax_product(_array(y), t[0])
SOFTMAX.vjp = lambda g, v, p, y: (_softmax_product(_array(y), g),)


def _logsumexp_residual(values, params):
    """logsumexp(U) and softmax(U), its gradient, from the same exp(U − max)."""
    u = _array(values[0])
    number = u.ndim == 0
    m, z, total = _shifted_exp(u.reshape(1) if number else u)
    softmax = z / total
    return as_value(m[..., 0] + np().log(total[..., 0])), \
        softmax.reshape(()) if number else softmax


def _logsumexp_vjp_residual(g, softmax, params):
    g = _array(g)
    return (as_value((g[..., None] if softmax.ndim > g.ndim else g) * softmax),)


LOGSUMEXP = structural("logsumexp", 1, lambda v, p: _logsumexp(v[0]),
                       residual=_logsumexp_residual,
                       vjp_residual=_logsumexp_vjp_residual)
# The gradient is softmax(U), computed afresh: exp(U − logsumexp(U)) would be cheaper
# but cancels catastrophically when U is large (1e16).
LOGSUMEXP.jvp = lambda t, v, p, y: as_value(np().sum(_array(t[0]) * _softmax(v[0]), axis=-1))
LOGSUMEXP.vjp = lambda g, v, p, y: _logsumexp_vjp_residual(g, _softmax(v[0]), p)

# How backprop's table shows each adjoint contribution (g: the output's adjoint, a and b:
# the inputs, y: the output, k: the input's position): the rule above, in words.
for _prim, _texts in [
        (SUM, ["broadcast({g})"]),
        (MEAN, ["broadcast({g})·size({y})/size({a})"]),
        (MAXIMUM, ["{g} at the largest elements of {a}"]),
        (MINIMUM, ["{g} at the smallest elements of {a}"]),
        (NORM, ["{g}·{a}/{y}"]),
        (TRANSPOSE, ["transpose({g})"]),
        (RESHAPE, ["reshape({g}, shape({a}))"]),
        (CONCAT, ["part {k} of {g}"]),
        (DOT, ["{g} @ transpose({b})", "transpose({a}) @ {g}"]),
        (MATMUL, ["{g} @ transpose({b})", "transpose({a}) @ {g}"]),
        (SOFTMAX, ["{y}·({g} − sum({g}·{y}, −1))"]),
        (LOGSUMEXP, ["{g}·softmax({a})"]),
        (VECTOR, ["{g}[{k}]"]),
        (TUPLE, ["{g}[{k}]"]),
        (INDEX, ["{g} placed at the index in {a}"])]:
    _prim.adjoint_text = _texts
