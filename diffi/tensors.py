"""Tensor built-ins (SPEC §5), each an entry of the primitive table with its rules.

Operations whose derivative is not elementwise give `jvp(tangents, values, params, y)`
and `vjp(cotangent, values, params, y)`; `params` holds what is not differentiated (an
axis, a shape). Constructors (zeros, randn, onehot, load, …) make constants.
"""
from __future__ import annotations

import os

from . import ops
from .arrays import as_value, is_array, np
from .errors import DiffiError, DiffiTypeError, ShapeError
from .ops import structural


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
DOT.jvp = lambda t, v, p, y: ops.MATMUL.jvp(t, [_array(x) for x in v], p, y)
DOT.vjp = lambda g, v, p, y, needs=(True, True): ops.MATMUL.vjp(
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
        (ops.MATMUL, ["{g} @ transpose({b})", "transpose({a}) @ {g}"]),
        (SOFTMAX, ["{y}·({g} − sum({g}·{y}, −1))"]),
        (LOGSUMEXP, ["{g}·softmax({a})"]),
        (ops.VECTOR, ["{g}[{k}]"]),
        (ops.TUPLE, ["{g}[{k}]"]),
        (ops.INDEX, ["{g} placed at the index in {a}"])]:
    _prim.adjoint_text = _texts


# Calls: argument checks and parameters, then one recorded node ---------------------------

def _axis(args, keywords, span):
    """The axis of a reduction: sum(A, 1) or sum(A, axis = 1); None for all."""
    node = keywords.pop("axis", None)
    if node is None and len(args) > 1:
        node = args[1]
    if keywords:
        raise DiffiTypeError(f"unknown keyword argument '{next(iter(keywords))}'", span)
    if node is None:
        return None
    axis = _whole(node, span, negative=True)
    ndim = np().ndim(args[0].value)
    if not -ndim <= axis < max(ndim, 1):
        raise ShapeError(f"axis {axis} is out of range for a tensor of shape "
                         f"{np().shape(args[0].value)}", span)
    return axis


def record(evaluator, prim, inputs, params, span):
    """Compute a tensor operation and record its node (shape errors point at the call)."""
    values = [n.value for n in inputs]
    if any(v is None for v in values):
        return evaluator.record(prim, tuple(inputs), None, span, params=params)
    for v in values:
        if type(v) not in (float, bool) and not is_array(v):
            raise DiffiTypeError(f"{prim.label} needs numbers or tensors", span)
    try:
        with np().errstate(all="ignore"):
            value = prim.compute(values, params)
    except (ValueError, IndexError) as error:
        shapes = ", ".join(str(np().shape(v)) for v in values)
        raise ShapeError(f"{prim.label} cannot take shapes {shapes}: {error}", span) from None
    node = evaluator.record(prim, tuple(inputs), value, span, params=params)
    evaluator.check_finite(prim, value, values, span)
    return node


def reduction_call(prim, name):
    def call(evaluator, args, keywords, span):
        return record(evaluator, prim, args[:1], _axis(args, dict(keywords), span), span)
    call.__name__ = name
    return call


def extremum_call(reduce_prim, pair_prim):
    """max(A) / max(A, axis = k) reduce; max(a, b) is elementwise (as Python's max)."""
    def call(evaluator, args, keywords, span):
        if len(args) == 2 and not keywords:
            return evaluator.apply(pair_prim, args, span)
        if len(args) == 1 and not keywords and not is_array(args[0].value):
            return args[0]
        axis = _axis(args[:1], dict(keywords), span)
        return record(evaluator, reduce_prim, args[:1], axis, span)
    return call


def simple_call(prim):
    def call(evaluator, args, keywords, span):
        _no_keywords(keywords, prim.name, span)
        return record(evaluator, prim, args, None, span)
    return call


def _no_keywords(keywords, name, span):
    if keywords:
        raise DiffiTypeError(f"{name} takes no keyword argument '{next(iter(keywords))}'", span)


def reshape_call(evaluator, args, keywords, span):
    _no_keywords(keywords, "reshape", span)
    shape = tuple(_whole(a, span, allow_minus_one=True) for a in args[1:])
    return record(evaluator, RESHAPE, args[:1], shape, span)


def concat_call(axis_default):
    def call(evaluator, args, keywords, span):
        keywords = dict(keywords)
        node = keywords.pop("axis", None)
        _no_keywords(keywords, "concat", span)
        axis = axis_default if node is None else _whole(node, span, negative=True)
        return record(evaluator, CONCAT, args, axis, span)
    return call


def _whole(node, span, allow_minus_one=False, negative=False) -> int:
    value = node.value
    ok = type(value) is float and value - value == 0 and value == int(value) and (
        value >= 0 or negative or allow_minus_one and value == -1)
    if not ok:
        raise DiffiTypeError(f"expected a whole number, not {value!r}", span)
    return int(value)


# Constructors: constants that depend on no input ----------------------------------------

def _dims(evaluator, args, span) -> tuple:
    dims = tuple(_whole(a, span) for a in args)
    size = 1
    for d in dims:
        size *= d
    if size > evaluator.limits.max_elements:
        from .errors import LimitError
        raise LimitError(f"a tensor of {size} elements is larger than "
                         f"{evaluator.limits.max_elements} (max_elements)", span)
    return dims


def constant_call(make, name):
    def call(evaluator, args, keywords, span):
        _no_keywords(keywords, name, span)
        return evaluator.record(ops.CONST, (), make(evaluator, args, span), span)
    return call


def _generator(evaluator, seed=None):
    """The interpreter's own random numbers (PCG64: the same on every platform)."""
    if evaluator.random is None or seed is not None:
        evaluator.random = np().random.Generator(np().random.PCG64(seed or 0))
    return evaluator.random


def _seed(evaluator, args, span):
    from .values import NOTHING
    _generator(evaluator, _whole(args[0], span))
    return NOTHING


def _randn(evaluator, args, span):
    dims = _dims(evaluator, args, span)
    value = _generator(evaluator).standard_normal(dims)
    return as_value(value) if dims else float(value)


def _linspace(evaluator, args, span):
    start, stop = (float(a.value) for a in args[:2])
    count = _whole(args[2], span) if len(args) > 2 else 50
    return np().linspace(start, stop, count)


def _onehot(evaluator, args, span):
    values = np().atleast_1d(_array(args[0].value))
    classes = _whole(args[1], span)
    if values.size and (not (values == np().round(values)).all()
                        or values.min() < 0 or values.max() >= classes):
        raise DiffiTypeError(f"labels must be whole numbers from 0 to {classes - 1}", span)
    return np().eye(classes)[values.astype(int)]


def _argmax(evaluator, args, keywords, span):
    x = _array(args[0].value)
    if x.size == 0:
        raise ShapeError("argmax of an empty tensor", span)
    axis = _axis(args, dict(keywords), span)
    return evaluator.record(ops.CONST, (), as_value(np().argmax(x, axis=axis).astype(float)),
                            span)


def _shape(evaluator, args, span):
    return tuple(float(d) for d in np().shape(args[0].value))


def _size(evaluator, args, span):
    return float(np().size(args[0].value))


def _load(evaluator, args, span):
    name = args[0].value
    if not isinstance(name, str):
        raise DiffiTypeError("load takes a file name in quotes: load(\"data.csv\")", span)
    if not evaluator.files:
        raise DiffiError("reading files is switched off in this interpreter", span)
    path = name if os.path.isabs(name) else os.path.join(evaluator.base_dir or os.getcwd(), name)
    try:
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except OSError as error:
        raise DiffiError(f"cannot read {name}: {error.strerror}", span) from None
    rows = [line.split(",") for line in lines[1:] if line.strip()]
    try:
        return np().array([[float(c) for c in row] for row in rows], dtype=float)
    except ValueError as error:
        raise DiffiError(f"{name} must hold numbers only (after its header line): {error}",
                         span) from None


def builtin_functions():
    """The tensor built-ins as Builtin values (name → Builtin)."""
    from .values import Builtin
    specs = [
        ("sum", "sum(A, axis)", "sum of all elements, or along an axis",
         reduction_call(SUM, "sum"), 1, 2),
        ("mean", "mean(A, axis)", "mean of all elements, or along an axis",
         reduction_call(MEAN, "mean"), 1, 2),
        ("max", "max(A) | max(A, axis = k) | max(a, b)",
         "largest element (along an axis), or the elementwise larger of two",
         extremum_call(MAXIMUM, ops.MAX), 1, 2),
        ("min", "min(A) | min(A, axis = k) | min(a, b)",
         "smallest element (along an axis), or the elementwise smaller of two",
         extremum_call(MINIMUM, ops.MIN), 1, 2),
        ("norm", "norm(x)", "Euclidean (Frobenius) norm", simple_call(NORM), 1, 1),
        ("transpose", "transpose(A)", "transpose", simple_call(TRANSPOSE), 1, 1),
        ("reshape", "reshape(A, m, n)", "the same elements in a new shape (-1: inferred)",
         reshape_call, 2, -1),
        ("dot", "dot(a, b)", "dot product (matrix product for matrices)", simple_call(DOT), 2, 2),
        ("softmax", "softmax(U)", "softmax along the last axis, stable", simple_call(SOFTMAX), 1, 1),
        ("logsumexp", "logsumexp(U)", "log(sum(exp(U))) along the last axis, stable",
         simple_call(LOGSUMEXP), 1, 1),
        ("concat", "concat(a, b, …, axis = 0)", "join tensors along an axis",
         concat_call(0), 1, -1),
        ("vstack", "vstack(a, b, …)", "join rows (axis 0)", concat_call(0), 1, -1),
        ("hstack", "hstack(a, b, …)", "join columns (the last axis)", concat_call(-1), 1, -1),
        ("zeros", "zeros(m, n)", "a tensor of zeros",
         constant_call(lambda ev, a, s: np().zeros(_dims(ev, a, s)), "zeros"), 1, -1),
        ("ones", "ones(m, n)", "a tensor of ones",
         constant_call(lambda ev, a, s: np().ones(_dims(ev, a, s)), "ones"), 1, -1),
        ("eye", "eye(n)", "the n × n identity matrix",
         constant_call(lambda ev, a, s: np().eye(_dims(ev, a, s)[0]), "eye"), 1, 1),
        ("linspace", "linspace(a, b, n)", "n evenly spaced numbers from a to b",
         constant_call(_linspace, "linspace"), 2, 3),
        ("randn", "randn(m, n)", "standard normal samples (reproducible: seed(k))",
         constant_call(_randn, "randn"), 0, -1),
        ("seed", "seed(k)", "restart the random numbers of randn at seed k",
         constant_call(_seed, "seed"), 1, 1),
        ("argmax", "argmax(A, axis)", "index of the largest element (along an axis)",
         _argmax, 1, 2),
        ("onehot", "onehot(labels, classes)", "rows of the identity picked by labels",
         constant_call(_onehot, "onehot"), 2, 2),
        ("shape", "shape(A)", "the shape of A as a tuple", constant_call(_shape, "shape"), 1, 1),
        ("size", "size(A)", "the number of elements of A", constant_call(_size, "size"), 1, 1),
        ("load", "load(\"file.csv\")", "numbers from a CSV file (its header line skipped)",
         constant_call(_load, "load"), 1, 1),
    ]
    return {name: Builtin(name, signature, doc, call=call, min_args=low, max_args=high)
            for name, signature, doc, call, low, high in specs}
