"""The one reader of derivative rules: every mode, the compiler and the trace tables ask
it for a node's tangent, its inputs' cotangents, its Taylor series or its partials, and
it alone looks at a rule's kind.

A question is asked of one graph node (its operation, parameters and source span) with
the node's inputs and output as the asker holds them — numbers, formula nodes or code —
and a backend `ap` that applies primitives to those (`NUMBERS` for numbers). A tangent
or cotangent of None means 0. Results on numbers are normalised by the table's own
entries (floats and float64 arrays, never NumPy scalars).
"""
from __future__ import annotations

from functools import partial

from ..arrays import as_value, is_array, np, sum_to_shape, zero_like
from ..errors import DiffiError
from . import series as T
from .rules import CUSTOM, LINEAR, PARTIALS, ZERO_KIND
from .scalars import ADD, MUL
from .tensors import BROADCAST


class MissingRule(DiffiError):
    """An operation has no rule for what a mode asks of it."""


class Numbers:
    """The rules' backend on numbers and NumPy arrays."""

    def __call__(self, prim, *args, params=None):
        return prim.compute(args, params)

    @staticmethod
    def shape(x) -> tuple:
        return x.shape if is_array(x) else np().shape(x)

    @staticmethod
    def value(x):
        return x

    @staticmethod
    def known_shape(x):
        return x.shape if is_array(x) else np().shape(x)

    @staticmethod
    def zeros(x):
        return zero_like(x)

    @staticmethod
    def unbroadcast(term, like):
        """A cotangent summed back to the shape of the input it belongs to."""
        if not is_array(term):
            return term
        return sum_to_shape(term, like.shape if is_array(like) else np().shape(like))


NUMBERS = Numbers()


def _normal(value):
    """A NumPy scalar or 0-d array as a Python float or bool (other values as they are)."""
    if value is None or type(value) is float:
        return value
    if is_array(value) and value.ndim == 0 or isinstance(value, np().generic):
        return as_value(value)
    return value


def _is_one(part) -> bool:
    return type(part) is float and part == 1.0


def _times(ap, a, b):
    return a * b if ap is NUMBERS else ap(MUL, a, b)


def _plus(ap, a, b):
    return a + b if ap is NUMBERS else ap(ADD, a, b)


def missing(node, what: str) -> MissingRule:
    """The one error for an operation without the rule a mode needs."""
    return MissingRule(f"'{node.op.label}' has no rule for {what}", node.span)


# Tangents (forward mode) -------------------------------------------------------------

def tangent(node, ap, inputs, output, tangents, on_partial=None):
    """ẏ = the node's derivative along its inputs' tangents (None: 0); None when 0.

    on_partial(node, k, partial, inputs) sees each partial an elementwise rule uses
    (for warnings about non-finite derivatives).
    """
    rule = node.op.rule
    kind = rule.kind
    if kind is PARTIALS:
        total = None
        for k, (t, part) in enumerate(zip(tangents, rule.partials(ap, *inputs, output))):
            if t is None or part is None:
                continue
            if on_partial is not None:
                on_partial(node, k, part, inputs)
            term = t if _is_one(part) else _times(ap, part, t)
            total = term if total is None else _plus(ap, total, term)
        if type(output) is float:  # (the common case on numbers: nothing to spread)
            return total
        return _in_shape(ap, total, output)
    if kind is ZERO_KIND or all(t is None for t in tangents):
        return None
    if kind is LINEAR:
        args = [ap.zeros(x) if t is None else t for x, t in zip(inputs, tangents)]
        return ap(node.op, *args, params=node.params)
    if kind is CUSTOM:
        if ap is NUMBERS:
            jvp = rule.fast_jvp or partial(rule.jvp, ap)
            return _normal(jvp(tangents, inputs, output, node.params))
        return rule.jvp(ap, tangents, inputs, output, node.params)
    raise missing(node, "derivatives")


def _in_shape(ap, tangent, output):
    """A tangent in its output's shape. A partial's product keeps the shape of the
    operand it came through (the tangent of [x] + [1, 2] by x is [1]), and an index,
    reshape or concat after it needs the output's. (In a formula without values the
    shapes may not be known: the tangent is then left as it is.)"""
    if tangent is None:
        return None
    shape, have = ap.known_shape(output), ap.known_shape(tangent)
    if not shape or have is None or have == shape:
        return tangent
    if ap is NUMBERS:
        return np().broadcast_to(tangent, shape).copy()
    return ap(BROADCAST, tangent, params=shape)


# Cotangents (reverse mode) ------------------------------------------------------------

def cotangents(node, ap, g, inputs, output, needs, on_partial=None) -> list:
    """ḡ·∂y/∂xₖ for each input k whose `needs` flag is set (else None), each in its
    input's shape."""
    rule = node.op.rule
    kind = rule.kind
    if kind is PARTIALS:
        out = []
        for k, (x, part, needed) in enumerate(zip(inputs, rule.partials(ap, *inputs, output),
                                                   needs)):
            if part is None or not needed:
                out.append(None)
                continue
            if on_partial is not None:
                on_partial(node, k, part, inputs)
            term = g if _is_one(part) else _times(ap, g, part)
            out.append(ap.unbroadcast(term, x))
        return out
    if kind is ZERO_KIND:
        return [None] * len(inputs)
    if kind is LINEAR or kind is CUSTOM:
        if ap is NUMBERS and rule.fast_vjp is not None:
            parts = rule.fast_vjp(g, inputs, output, node.params, needs)
        else:
            parts = rule.vjp(ap, g, inputs, output, node.params, needs)
        if ap is NUMBERS:
            parts = [_normal(c) for c in parts]
        return [None if c is None or not needed else ap.unbroadcast(c, x)
                for c, x, needed in zip(parts, inputs, needs)]
    raise missing(node, "derivatives")


# Taylor series (higher orders) ---------------------------------------------------------

def series(node, inputs: list, order: int) -> list:
    """The node's Taylor series to `order` from its inputs' series (numbers)."""
    return series_rule(node, order)(node.value, *inputs)


def series_rule(node, order: int):
    """The node's series rule: a function of its value and its inputs' series (the
    interpreter's Taylor sweep runs it here; the compiled sweep at other points)."""
    rule, op, params = node.op.rule, node.op, node.params
    kind = rule.kind
    if kind is ZERO_KIND:
        return lambda value, *inputs: T.constant(value, order)
    if kind is LINEAR:
        compute, orders = op.compute, range(1, order + 1)
        return lambda value, *inputs: [value] + [compute([s[k] for s in inputs], params)
                                                 for k in orders]
    if rule.taylor is None or kind not in (PARTIALS, CUSTOM):
        raise missing(node, f"derivatives of order {order}")
    return rule.taylor


def has_series(prim) -> bool:
    """Whether Taylor mode can go through the operation (else: differentiate again)."""
    kind = prim.rule.kind
    return kind is ZERO_KIND or kind is LINEAR or prim.rule.taylor is not None


# What the compiler and the tables need -------------------------------------------------

def elementwise_partials(prim, ap, *slots):
    """The partials of an elementwise rule applied to `slots` (placeholders, for code):
    a list per input (None: 0); [] for a zero rule; None when the rule is not
    elementwise (the scalar compiler cannot write it)."""
    rule = prim.rule
    if rule.kind is PARTIALS:
        return list(rule.partials(ap, *slots))
    if rule.kind is ZERO_KIND:
        return []
    return None


def is_linear(prim) -> bool:
    """Whether the operation is linear: its cotangents are a fixed linear map of the
    output's cotangent, the same at every input (a compiler may compute it once)."""
    return prim.rule.kind is LINEAR


def differentiable(prim) -> bool:
    """Whether a derivative can pass through the operation (its rule is not zero)."""
    return prim.rule.kind is not ZERO_KIND


def adjoint_texts(prim, values=(), params=None) -> tuple:
    """How backprop's table writes each input's adjoint in words (tensor rules), for
    inputs of these values and the node's params (some words depend on shapes)."""
    texts = prim.rule.adjoint_texts
    return texts(params, *values) if callable(texts) else texts


def numeric_cotangents(prim):
    """cotangents(g, inputs, output, params, needs) on numbers, for code that calls the
    rule at run time (the compiled training step)."""
    rule = prim.rule
    if rule.kind is PARTIALS or rule.kind is ZERO_KIND:
        return None
    vjp = rule.fast_vjp
    if vjp is None:
        def vjp(g, inputs, output, params, needs):
            return rule.vjp(NUMBERS, g, inputs, output, params, needs)
    return vjp
