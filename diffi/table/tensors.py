"""Tensor operations, each an entry of the primitive table with its rule.

Their rules are written with `ap(primitive, *args, params=…)` like the scalar ones, so
that forward, reverse and symbolic mode (and nested derivatives) run the same rule;
`params` holds what is not differentiated (an axis, a shape). Where speed matters the
same rule is also given on NumPy arrays directly (`fast_jvp`, `fast_vjp`), and the table
test holds the two equal. Some entries exist only for rules to be written with: a
cotangent broadcast back over a reduced axis, summed back to a broadcast input's shape,
scattered back to an index. The built-ins that call these entries are in
diffi/core/tensor_calls.py.
"""
from __future__ import annotations

from ..arrays import as_value, np, sum_to_shape
from .primitives import _ufunc, define, structural
from .rules import ZERO, custom, linear
from .scalars import ADD, DIV, MUL, SUB
from .structure import INDEX


def _array(value):
    return np().asarray(value, dtype=float)


def _shape_of(value):
    return value.shape if type(value) is np().ndarray else np().shape(value)


def _count(value) -> int:
    return value.size if type(value) is np().ndarray else np().size(value)


def _size(shape) -> int:
    count = 1
    for n in shape:
        count *= n
    return count


# Helpers of rules: broadcasting and its transpose ------------------------------------

def _expand(g, params):
    """A reduced cotangent broadcast back to the shape of the reduced input."""
    axis, shape = params
    numpy = np()
    g = numpy.asarray(g, dtype=float)
    if axis is not None:  # as numpy.expand_dims(g, axis), without its generality
        axis %= g.ndim + 1
        g = g.reshape(g.shape[:axis] + (1,) + g.shape[axis:])
    out = numpy.empty(shape)  # filled in C: cheaper than broadcast_to's layers
    out[...] = g
    return as_value(out)


def _broadcast(x, shape):
    out = np().empty(shape)
    out[...] = x
    return as_value(out)


# EXPAND(g, (axis, shape)): g, reduced along axis (or all axes), broadcast back to shape.
EXPAND = structural("expand", 1, lambda v, p: _expand(v[0], p),
                    rule=linear(lambda ap, g, x, y, p, needs: (
                        ap(SUM, g, params=p[0]),)))
# BROADCAST(x, shape) and SUM_TO(x, shape): a value broadcast to a shape, and a
# broadcast value summed back to its own shape; each is the other's transpose.
BROADCAST = structural("broadcast", 1, lambda v, shape: _broadcast(v[0], shape),
                       rule=linear(lambda ap, g, x, y, shape, needs: (
                           ap(SUM_TO, g, params=ap.shape(x[0])),)))
SUM_TO = structural("sum_to", 1, lambda v, shape: sum_to_shape(as_value(_array(v[0])), shape)
                    if _shape_of(v[0]) != shape else v[0],
                    rule=linear(lambda ap, g, x, y, shape, needs: (
                        ap(BROADCAST, g, params=ap.shape(x[0])),)))


# Reductions ----------------------------------------------------------------------
# add.reduce is what numpy.sum and numpy.mean run (mean then divides by the count),
# called directly: the same numbers without their Python layers.

def _sum(x, axis):
    return as_value(np().add.reduce(_array(x), axis=axis))


def _mean(x, axis):
    x = _array(x)
    total = np().add.reduce(x, axis=axis)
    return as_value(total / (x.size // max(total.size, 1) if x.size else 0))


def _mean_scale(ap, x, y) -> float:
    """size(y)/size(x): what a mean's cotangent is scaled by before it is broadcast."""
    return _size(ap.shape(y)) / max(_size(ap.shape(x)), 1)


def _spread_text(shape, axis) -> str:
    """{g} spread back over a reduced tensor of this shape, as diffi source: times ones
    of the shape (all axes), or a column or row of ones for one axis of a matrix."""
    dims = ", ".join(str(d) for d in shape)
    if axis is None:
        return f"{{g}}·ones({dims})" if shape else "{g}"
    if len(shape) == 2 and axis in (0, -2):
        return f"ones({shape[0]}, 1)·{{g}}"
    if len(shape) == 2 and axis in (1, -1):
        return f"transpose([{{g}}])·ones(1, {shape[1]})"
    return "broadcast({g})" if axis else "{g}"


def _sum_texts(axis, a) -> tuple:
    return (_spread_text(np().shape(a), axis),)


def _mean_texts(axis, a) -> tuple:
    shape = np().shape(a)
    count = _size(shape) if axis is None else shape[axis] if shape else 1
    return (f"{_spread_text(shape, axis)}/{count}",)


SUM = structural("sum", 1, lambda v, axis: _sum(v[0], axis),
                 rule=linear(lambda ap, g, x, y, axis, needs: (
                     ap(EXPAND, g, params=(axis, ap.shape(x[0]))),),
                     _sum_texts,
                     fast_transpose=lambda g, x, y, axis, needs: (
                         _expand(g, (axis, _shape_of(x[0]))),)))
# (the factor scales the reduced cotangent, before it is broadcast: fewer products)
MEAN = structural("mean", 1, lambda v, axis: _mean(v[0], axis),
                  rule=linear(lambda ap, g, x, y, axis, needs: (
                      ap(EXPAND, ap(MUL, g, _mean_scale(ap, x[0], y)),
                         params=(axis, ap.shape(x[0]))),),
                      _mean_texts,
                      fast_transpose=lambda g, x, y, axis, needs: (
                          _expand(np().multiply(g, _count(y) / max(_count(x[0]), 1)),
                                  (axis, _shape_of(x[0]))),)))


def _extremum_weights(values, axis):
    """1/k on the k elements that attain the max (or min): ties share the derivative."""
    numpy = np()
    x, y = _array(values[0]), values[1]
    hit = (x == (numpy.expand_dims(y, axis) if axis is not None else y)).astype(float)
    count = hit.sum(axis=axis, keepdims=axis is not None)
    return hit / count


# WEIGHTS(x, y, axis): where a max or min reduction took its value (piecewise constant).
WEIGHTS = structural("weights", 2, lambda v, axis: _extremum_weights(v, axis), rule=ZERO)


def _reduction(name, fn, words):
    def weights(ap, x, y, axis):
        return ap(WEIGHTS, x, y, params=axis)
    return structural(
        name, 1, lambda v, axis: as_value(getattr(np(), fn)(_array(v[0]), axis=axis)),
        display=fn,
        rule=custom(
            lambda ap, t, x, y, axis: ap(SUM, ap(MUL, t[0], weights(ap, x[0], y, axis)),
                                         params=axis),
            lambda ap, g, x, y, axis, needs: (ap(MUL, ap(EXPAND, g, params=(
                axis, ap.shape(x[0]))), weights(ap, x[0], y, axis)),),
            adjoint_texts=lambda axis, a: (
                (f"{{g}}·({{a}} == {fn}({{a}}))/sum({{a}} == {fn}({{a}}))",)  # ties share
                if axis is None else (words,))))


# "max" and "min" in the table are elementwise (max(a, b)); these reduce a tensor and
# show the built-in's name in messages.
MAXIMUM = _reduction("max_of", "max", "{g} at the largest elements of {a}")
MINIMUM = _reduction("min_of", "min", "{g} at the smallest elements of {a}")


def _at_zero(ap, y) -> bool:
    """norm's kink: y is 0 (in a formula without a point its value is unknown: None)."""
    value = ap.value(y)
    return value is not None and not value


def _norm_jvp(ap, t, x, y, p):
    if _at_zero(ap, y):
        return ap.zeros(y)
    return ap(DIV, ap(SUM, ap(MUL, x[0], t[0])), y)


def _norm_vjp(ap, g, x, y, p, needs):
    if _at_zero(ap, y):
        return (ap.zeros(x[0]),)
    return (ap(DIV, ap(MUL, g, x[0]), y),)


NORM = structural("norm", 1, lambda v, p: float(np().linalg.norm(_array(v[0]))),
                  rule=custom(_norm_jvp, _norm_vjp, adjoint_texts=("{g}·{a}/{y}",)))

# Spacing ------------------------------------------------------------------------------

def _linspace(values, count):
    return as_value(np().linspace(values[0], values[1], count))


def _linspace_transpose(ap, g, x, y, count, needs):
    """linspace(a, b, n) = a·(1 − t) + b·t with t = linspace(0, 1, n): a gets
    sum(g·(1 − t)) and b gets sum(g·t), the weights themselves spaced by linspace."""
    def weighted(start, stop):
        return ap(SUM, ap(MUL, g, ap(LINSPACE, start, stop, params=count)))
    return (weighted(1.0, 0.0) if needs[0] else None), \
        (weighted(0.0, 1.0) if needs[1] else None)


# LINSPACE(a, b, n): n evenly spaced numbers from a to b, NumPy's own; linear in a and b
# (n, the count, is a parameter: not differentiated).
LINSPACE = structural("linspace", 2, _linspace,
                      rule=linear(_linspace_transpose, ("sum({g}·linspace(1, 0, {p}))",
                                                        "sum({g}·linspace(0, 1, {p}))")))


# Shape --------------------------------------------------------------------------------


def _transpose(x, axes):
    return as_value(np().transpose(_array(x), axes))


def _inverse(axes):
    if axes is None:
        return None
    out = [0] * len(axes)
    for i, a in enumerate(axes):
        out[a] = i
    return tuple(out)


# TRANSPOSE(x, axes): axes reversed (None, as transpose(A) does) or permuted.
TRANSPOSE = structural("transpose", 1, lambda v, axes: _transpose(v[0], axes),
                       rule=linear(lambda ap, g, x, y, axes, needs: (
                           ap(TRANSPOSE, g, params=_inverse(axes)),), ("transpose({g})",)))
RESHAPE = structural("reshape", 1, lambda v, shape: as_value(np().reshape(_array(v[0]), shape)),
                     rule=linear(lambda ap, g, x, y, shape, needs: (
                         ap(RESHAPE, g, params=ap.shape(x[0])),),
                         ("reshape({g}, shape({a}))",)))


def _concat(values, axis):
    return as_value(np().concatenate([np().atleast_1d(_array(v)) for v in values], axis=axis))


def _concat_transpose(ap, g, xs, y, axis, needs):
    """The cotangent of each concatenated part: its slice of g, in its own shape."""
    out, start, ndim = [], 0, len(ap.shape(y))
    for x, needed in zip(xs, needs):
        shape = ap.shape(x)
        width = shape[axis] if shape else 1
        key = (slice(None),) * (axis % ndim) + (slice(start, start + width),)
        start += width
        out.append(ap(RESHAPE, ap(INDEX, g, params=key), params=shape) if needed else None)
    return tuple(out)


CONCAT = structural("concat", -1, lambda v, axis: _concat(v, axis),
                    rule=linear(_concat_transpose, ("part {k} of {g}",)))


# Products -------------------------------------------------------------------------------

def _product_tangent(ap, op, t, x):
    """(a·b)' = a'·b + a·b' for a product `op` that is linear in each input."""
    out = None
    if t[0] is not None:
        out = ap(op, t[0], x[1])
    if t[1] is not None:
        term = ap(op, x[0], t[1])
        out = term if out is None else ap(ADD, out, term)
    return out


def _swap(ap, x):
    """x with its last two axes swapped (the matrix transpose of a stack of matrices)."""
    n = len(ap.shape(x))
    return ap(TRANSPOSE, x, params=tuple(range(n - 2)) + (n - 1, n - 2))


def _column(ap, v):
    return ap(RESHAPE, v, params=ap.shape(v) + (1,))


def _matmul_vjp(ap, g, x, y, p, needs):
    """Cotangents of A @ B: g·Bᵀ and Aᵀ·g (each only if needed), with vectors as rows or
    columns as NumPy takes them."""
    a, b = x
    na, nb = len(ap.shape(a)), len(ap.shape(b))
    if na == 1 and nb == 1:
        da, db = (lambda: ap(MUL, g, b)), (lambda: ap(MUL, g, a))
    elif na == 1:  # a (k) @ b (…, k, n) = g (…, n)
        da, db = (lambda: ap(MATMUL, b, g)), (lambda: ap(MUL, _column(ap, a), g))
    elif nb == 1:  # a (…, m, k) @ b (k) = g (…, m)
        da, db = (lambda: ap(MUL, _column(ap, g), b)), (lambda: ap(MATMUL, _swap(ap, a), g))
    else:
        da, db = (lambda: ap(MATMUL, g, _swap(ap, b))), (lambda: ap(MATMUL, _swap(ap, a), g))
    return (da() if needs[0] else None), (db() if needs[1] else None)


def _fast_matmul_jvp(t, x, y, p):
    (a, b), (da, db) = x, t
    out = None
    if da is not None:
        out = np().matmul(da, b)
    if db is not None:
        term = np().matmul(a, db)
        out = term if out is None else out + term
    return out


def _fast_matmul_vjp(g, x, y, p, needs):
    """The same cotangents on arrays; matrices, the common case, without closures."""
    numpy = np()
    a, b = numpy.asarray(x[0]), numpy.asarray(x[1])
    g = numpy.asarray(g)
    if a.ndim == 2 and b.ndim == 2:
        return (as_value(g @ b.T) if needs[0] else None), \
            (as_value(a.T @ g) if needs[1] else None)
    if a.ndim == 1 and b.ndim == 1:
        da, db = (lambda: g * b), (lambda: g * a)
    elif a.ndim == 1:
        da, db = (lambda: b @ g), (lambda: numpy.outer(a, g))
    elif b.ndim == 1:
        da, db = (lambda: numpy.outer(g, b)), (lambda: a.T @ g)
    else:
        da, db = (lambda: g @ numpy.swapaxes(b, -1, -2)), (lambda: numpy.swapaxes(a, -1, -2) @ g)
    return (as_value(da()) if needs[0] else None), (as_value(db()) if needs[1] else None)


_PRODUCT_TEXTS = ("{g} @ transpose({b})", "transpose({a}) @ {g}")


def _product_texts(params, a, b) -> tuple:
    """backprop's words for the adjoints of A @ B (or dot), by the operands' ranks: where
    a vector meets a matrix, one adjoint is an outer product, written as a column times
    a row (transpose([u]) @ [v]) so that the row still evaluates in diffi."""
    ranks = (np().ndim(a), np().ndim(b))
    if ranks == (1, 1):
        return ("{g}·{b}", "{g}·{a}")
    if ranks[1] == 1:   # A @ b: Ā = outer(ḡ, b), b̄ = Aᵀ ḡ
        return ("transpose([{g}]) @ [{b}]", "transpose({a}) @ {g}")
    if ranks[0] == 1:   # a @ B: ā = B ḡ, B̄ = outer(a, ḡ)
        return ("{b} @ {g}", "transpose([{a}]) @ [{g}]")
    return _PRODUCT_TEXTS

MATMUL = define("matmul", 2, None, _ufunc("matmul"), "A @ B", "matrix product", symbol="@",
                rule=custom(lambda ap, t, x, y, p: _product_tangent(ap, MATMUL, t, x),
                            _matmul_vjp,
                            taylor=lambda y, a, b: [as_value(sum(np().matmul(a[j], b[k - j])
                                                                 for j in range(k + 1)))
                                                    for k in range(len(a))],
                            adjoint_texts=_product_texts,
                            fast_jvp=_fast_matmul_jvp, fast_vjp=_fast_matmul_vjp))
DOT = structural("dot", 2, lambda v, p: as_value(np().dot(_array(v[0]), _array(v[1]))),
                 rule=custom(lambda ap, t, x, y, p: _product_tangent(ap, DOT, t, x),
                             _matmul_vjp, adjoint_texts=_product_texts,
                             fast_jvp=lambda t, x, y, p: _fast_matmul_jvp(
                                 t, [_array(v) for v in x], y, p),
                             fast_vjp=lambda g, x, y, p, needs: _fast_matmul_vjp(
                                 g, [_array(v) for v in x], y, p, needs)))

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


def _last_axis_sum(ap, v):
    """Σ v along the last axis, that axis kept (so that it broadcasts against v)."""
    shape = ap.shape(v)
    total = ap(SUM, v, params=-1)
    return ap(RESHAPE, total, params=shape[:-1] + (1,)) if len(shape) > 1 else total


def _softmax_product(ap, y, t):
    """y ⊙ (t − Σ y·t): the Jacobian of softmax applied to t (it is symmetric)."""
    return ap(MUL, y, ap(SUB, t, _last_axis_sum(ap, ap(MUL, y, t))))


def _fast_softmax_product(y, t):
    t = _array(t)
    return as_value(y * (t - np().sum(y * t, axis=-1, keepdims=True)))


SOFTMAX = structural("softmax", 1, lambda v, p: as_value(_softmax(v[0])),
                     rule=custom(lambda ap, t, x, y, p: _softmax_product(ap, y, t[0]),
                                 lambda ap, g, x, y, p, needs: (_softmax_product(ap, y, g),),
                                 adjoint_texts=("{y}·({g} − sum({g}·{y}, −1))",),
                                 fast_jvp=lambda t, x, y, p: _fast_softmax_product(
                                     _array(y), t[0]),
                                 fast_vjp=lambda g, x, y, p, needs: (
                                     _fast_softmax_product(_array(y), g),)))


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


def _logsumexp_jvp(ap, t, x, y, p):
    if not ap.shape(x[0]):
        return t[0]
    return ap(SUM, ap(MUL, t[0], ap(SOFTMAX, x[0])), params=-1)


def _logsumexp_vjp(ap, g, x, y, p, needs):
    if not ap.shape(x[0]):
        return (g,)
    g = _column(ap, g) if ap.shape(g) else g
    return (ap(MUL, g, ap(SOFTMAX, x[0])),)


# The gradient is softmax(U), computed afresh: exp(U − logsumexp(U)) would be cheaper
# but cancels catastrophically when U is large (1e16).
LOGSUMEXP = structural("logsumexp", 1, lambda v, p: _logsumexp(v[0]),
                       rule=custom(_logsumexp_jvp, _logsumexp_vjp,
                                   adjoint_texts=("{g}·softmax({a})",),
                                   fast_jvp=lambda t, x, y, p: as_value(
                                       np().sum(_array(t[0]) * _softmax(x[0]), axis=-1)),
                                   fast_vjp=lambda g, x, y, p, needs:
                                       _logsumexp_vjp_residual(g, _softmax(x[0]), p)),
                       residual=_logsumexp_residual,
                       vjp_residual=_logsumexp_vjp_residual)
