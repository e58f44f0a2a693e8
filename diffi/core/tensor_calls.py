"""The tensor built-ins as the interpreter calls them: argument checks and parameters,
then one recorded node of the table's tensor entries (diffi.table.tensors).
Constructors (zeros, randn, onehot, load, …) make constants; save writes a file.
"""
from __future__ import annotations

from .. import table
from ..arrays import as_value, is_array, np
from ..errors import DiffiTypeError, LimitError, ShapeError, needs_point
from ..table.tensors import _array
from . import data
from .graph import Node
from .limits import elements_of
from .values import NOTHING, Builtin, format_value, kind_of


# Calls: argument checks and parameters, then one recorded node ---------------------------

def _axis(args, keywords, span, shape=None):
    """The axis of a reduction: sum(A, 1) or sum(A, axis = 1); None for all. (`shape`:
    A's, when A is a formula's tensor whose value is not known.)"""
    node = keywords.pop("axis", None)
    if node is None and len(args) > 1:
        node = args[1]
    if keywords:
        raise DiffiTypeError(f"unknown keyword argument '{next(iter(keywords))}'", span)
    if node is None:
        return None
    axis = _whole(node, span, negative=True)
    value = args[0].value
    if value is not None and type(value) not in (float, bool) and not is_array(value):
        return axis  # (not a tensor: the operation refuses it, saying what it is)
    if value is not None:
        shape = np().shape(value)
    elif shape is None:  # (a formula's tensor of a shape not known here)
        return axis
    if not -len(shape) <= axis < max(len(shape), 1):
        raise ShapeError(f"axis {axis} is out of range for a tensor of shape {shape}", span)
    return axis


def record(evaluator, prim, inputs, params, span):
    """Compute a tensor operation and record its node (shape errors point at the call)."""
    values = [n.value for n in inputs]
    for v in values:  # (None: a symbolic input, whose value is not known)
        if v is not None and type(v) not in (float, bool) and not is_array(v):
            raise DiffiTypeError(f"{prim.label} needs numbers or tensors, not "
                                 f"{describe(v)}", span)
    if any(v is None for v in values):
        return evaluator.formula_node(prim, inputs, span, params,
                                      compute=lambda probes: prim.compute(probes, params),
                                      misfit=lambda probes, error: _misfit(prim, probes, error))
    cost = evaluator.before_operation(prim, values, span, params)
    try:
        with np().errstate(all="ignore"):
            value = prim.compute(values, params) if cost is None else \
                evaluator.timed(cost, prim, values, params, prim.compute)
    except (ValueError, IndexError) as error:
        raise ShapeError(_misfit(prim, values, error), span) from None
    node = evaluator.record(prim, tuple(inputs), value, span, params=params)
    evaluator.check_finite(prim, value, values, span)
    return node


def _misfit(prim, values, error) -> str:
    shapes = ", ".join(str(np().shape(v)) for v in values)
    return f"{prim.label} cannot take shapes {shapes}: {error}"


def reduction_call(prim, name):
    def call(evaluator, args, keywords, span):
        axis = _axis(args, dict(keywords), span, evaluator.shape_of(args[0]))
        return record(evaluator, prim, args[:1], axis, span)
    call.__name__ = name
    return call


def extremum_call(reduce_prim, pair_prim):
    """max(A) / max(A, axis = k) reduce; max(a, b) is elementwise (as Python's max)."""
    def call(evaluator, args, keywords, span):
        if len(args) == 2 and not keywords:
            return evaluator.apply(pair_prim, args, span)
        if len(args) == 1 and not keywords and args[0].value is not None \
                and not is_array(args[0].value):
            return args[0]  # (the max of a number; a formula's value may be a tensor)
        axis = _axis(args[:1], dict(keywords), span, evaluator.shape_of(args[0]))
        return record(evaluator, reduce_prim, args[:1], axis, span)
    return call


def simple_call(prim):
    def call(evaluator, args, keywords, span):
        _no_keywords(keywords, prim.name, span)
        return record(evaluator, prim, args, None, span)
    return call


def dot_call(evaluator, args, keywords, span):
    """dot(a, b); with a number for a or b, their product (as NumPy's dot has it), so
    that its derivative is a product's too."""
    _no_keywords(keywords, "dot", span)
    if any(evaluator.shape_of(a) == () for a in args):
        return evaluator.apply(table.MUL, args, span)
    return record(evaluator, table.DOT, args, None, span)


def _no_keywords(keywords, name, span):
    if keywords:
        raise DiffiTypeError(f"{name} takes no keyword argument '{next(iter(keywords))}'", span)


def reshape_call(evaluator, args, keywords, span):
    _no_keywords(keywords, "reshape", span)
    shape = tuple(_whole(a, span, allow_minus_one=True) for a in args[1:])
    return record(evaluator, table.RESHAPE, args[:1], shape, span)


def concat_call(axis_default):
    def call(evaluator, args, keywords, span):
        keywords = dict(keywords)
        node = keywords.pop("axis", None)
        _no_keywords(keywords, "concat", span)
        axis = axis_default if node is None else _whole(node, span, negative=True)
        if not -32 <= axis < 32:  # (tensors have at most 32 dimensions)
            raise ShapeError("an axis is a whole number from -32 to 31: tensors have at "
                             "most 32 dimensions", span)
        return record(evaluator, table.CONCAT, args, axis, span)
    return call


def _whole(node, span, allow_minus_one=False, negative=False) -> int:
    value = node.value
    ok = type(value) is float and value - value == 0 and value == int(value) and (
        value >= 0 or negative or allow_minus_one and value == -1)
    if not ok:
        raise DiffiTypeError(f"expected a whole number, not {describe(value)}", span)
    return int(value)


def describe(value) -> str:
    """A value as a message shows it: a number as it prints, anything else by its kind."""
    if type(value) is float:
        return format_value(value)
    if isinstance(value, str):
        return "a string"
    return f"a {kind_of(value)}"


def _number(node, span, what: str) -> float:
    value = node.value
    if type(value) is float or type(value) is bool:
        return float(value)
    if is_array(value) and value.size == 1:
        return float(value.reshape(-1)[0])
    raise DiffiTypeError(f"{what} must be a number, not {describe(value)}", span)


def _numbers(node, span, name: str):
    """A number or a tensor of numbers, as a float array (a string or a tuple refused)."""
    value = node.value
    if type(value) is float or type(value) is bool or is_array(value):
        return _array(value)
    raise DiffiTypeError(f"{name} needs numbers or tensors, not {describe(value)}", span)


# Constructors: constants that depend on no input ----------------------------------------

def _dims(evaluator, args, span) -> tuple:
    dims = tuple(_whole(a, span) for a in args)
    if len(dims) > 32:
        raise ShapeError("tensors have at most 32 dimensions", span)
    evaluator.reserve(elements_of(dims), span)
    if any(d >= 2 ** 62 for d in dims):  # (an empty tensor's other sides too)
        raise LimitError(f"a side of {max(dims)} is more than a tensor can have", span)
    return dims


FILL_CHUNK = 1 << 22  # elements filled between two looks at the clock (32 MB)


def _filled(evaluator, args, span, fill):
    """A new tensor of the sides args give, its elements written by fill(part) a chunk at
    a time, with the statement's budget checked between chunks: writing 800 MB may
    take seconds (the pages come from the system as they are first touched), and no
    check reaches inside one NumPy call."""
    out = np().empty(_dims(evaluator, args, span))
    flat = out.reshape(-1)
    for start in range(0, flat.size, FILL_CHUNK):
        fill(flat[start:start + FILL_CHUNK])
        evaluator.check_deadline(span)
    return out


def _ones(evaluator, args, span):
    return _filled(evaluator, args, span, lambda part: part.fill(1.0))


def constant_call(make, name, pure: bool = False):
    """A built-in whose value is made from its arguments' values, with no derivative.
    A pure one (its value decided by them alone) is a VALUE node over its arguments,
    made again from their values where the graph is evaluated at another point (the
    others — randn, seed, load, save — are constants)."""
    def call(evaluator, args, keywords, span):
        _no_keywords(keywords, name, span)
        needs_values(name, args, span)
        value = make(evaluator, args, span)
        if not pure or not args:
            return evaluator.record(table.CONST, (), value, span)
        return evaluator.record(table.VALUE, tuple(args), value, span, params=Recompute(
            name, lambda values: make(evaluator, [Node(table.CONST, (), v) for v in values],
                                      span)))
    return call


class Recompute:
    """A VALUE node's params: the built-in's name, and how its value is made from its
    arguments' values."""

    __slots__ = ("name", "make")

    def __init__(self, name: str, make):
        self.name, self.make = name, make

    def compute(self, values):
        return self.make(values)

    def __repr__(self) -> str:
        return self.name


def needs_values(name: str, args, span) -> None:
    """A built-in whose result depends on its arguments' values (a shape, an index, a
    count) cannot be part of a formula whose variables have none: it asks for a point."""
    if any(a.value is None for a in args):
        raise needs_point(name, span)


def _generator(evaluator, seed=None):
    """The interpreter's own random numbers (PCG64: the same on every platform)."""
    evaluator.save_random()  # (a statement that fails leaves the generator as it was)
    if evaluator.random is None or seed is not None:
        evaluator.random = np().random.Generator(np().random.PCG64(seed or 0))
    return evaluator.random


def _seed(evaluator, args, span):
    _generator(evaluator, _whole(args[0], span))
    return NOTHING


def _randn(evaluator, args, span):
    generator = _generator(evaluator)
    if not args:
        _dims(evaluator, args, span)
        return float(generator.standard_normal())
    # (in chunks, the same numbers as one call: the generator's stream runs on)
    return _filled(evaluator, args, span, lambda part: generator.standard_normal(out=part))


def _eye(evaluator, args, span):
    n = _whole(args[0], span)
    evaluator.reserve(n * n, span)
    out = _filled(evaluator, (args[0], args[0]), span, lambda part: part.fill(0.0))
    np().fill_diagonal(out, 1.0)
    return out


def _end(node, evaluator, span, what: str):
    """An end of linspace as a number node: a one-element tensor reshaped to its number
    (so a derivative still passes), a truth value as a constant; a formula's variable
    (no value yet) as it is."""
    value = node.value
    if value is None or type(value) is float:
        return node
    number = _number(node, span, what)
    if is_array(value):
        return evaluator.record(table.RESHAPE, (node,), number, span, params=())
    return evaluator.record(table.CONST, (), number, span)


def linspace_call(evaluator, args, keywords, span):
    """linspace(a, b, n): NumPy's numbers as one LINSPACE node, differentiable in a and
    b; n sets the shape, so it must be known even in a formula."""
    _no_keywords(keywords, "linspace", span)
    needs_values("linspace", args[2:], span)  # (a formula's count has no value)
    start = _end(args[0], evaluator, span, "linspace's start")
    stop = _end(args[1], evaluator, span, "linspace's end")
    count = _whole(args[2], span) if len(args) > 2 else 50
    evaluator.reserve(count, span)
    return record(evaluator, table.LINSPACE, (start, stop), count, span)


def _onehot(evaluator, args, span):
    # (one label gives one row, of shape (classes,); labels of shape s give s + (classes,),
    # as NumPy's eye(classes)[labels] and JAX's one_hot do)
    values = np().asarray(_numbers(args[0], span, "onehot"))
    classes = _whole(args[1], span)
    if values.size and (not (values == np().round(values)).all()
                        or values.min() < 0 or values.max() >= classes):
        raise DiffiTypeError(f"labels must be whole numbers from 0 to {classes - 1}", span)
    evaluator.reserve(values.size * classes, span)
    out = np().zeros(values.shape + (classes,))
    np().put_along_axis(out, values.astype(np().intp)[..., None], 1.0, axis=-1)
    return out


def _argmax(evaluator, args, keywords, span):
    needs_values("argmax", args, span)
    x = _numbers(args[0], span, "argmax")
    if x.size == 0:
        raise ShapeError("argmax of an empty tensor", span)
    axis = _axis(args, dict(keywords), span)
    return evaluator.record(table.VALUE, (args[0],), _argmax_of(x, axis), span,
                            params=Recompute("argmax", lambda values: _argmax_of(
                                _numbers(Node(table.CONST, (), values[0]), span, "argmax"),
                                axis)))


def _argmax_of(x, axis):
    return as_value(np().argmax(x, axis=axis).astype(float))


def _measured(node, span, name: str):
    """The value shape or size measures: a number or a tensor (not a tuple, string or
    function, which have no shape), or None in a formula."""
    return None if node.value is None else _numbers(node, span, name)


def _shape(evaluator, args, span):
    return tuple(float(d) for d in np().shape(_measured(args[0], span, "shape")))


def _size(evaluator, args, span):
    return float(np().size(_measured(args[0], span, "size")))


def builtin_functions():
    """The tensor built-ins as Builtin values (name → Builtin)."""
    specs = [
        ("sum", "sum(A, axis)", "sum of all elements, or along an axis",
         reduction_call(table.SUM, "sum"), 1, 2),
        ("mean", "mean(A, axis)", "mean of all elements, or along an axis",
         reduction_call(table.MEAN, "mean"), 1, 2),
        ("max", "max(A) | max(A, axis = k) | max(a, b)",
         "largest element (along an axis), or the elementwise larger of two",
         extremum_call(table.MAXIMUM, table.MAX), 1, 2),
        ("min", "min(A) | min(A, axis = k) | min(a, b)",
         "smallest element (along an axis), or the elementwise smaller of two",
         extremum_call(table.MINIMUM, table.MIN), 1, 2),
        ("norm", "norm(x)", "Euclidean (Frobenius) norm", simple_call(table.NORM), 1, 1),
        ("transpose", "transpose(A)", "transpose", simple_call(table.TRANSPOSE), 1, 1),
        ("reshape", "reshape(A, m, n)", "the same elements in a new shape (-1: inferred)",
         reshape_call, 2, -1),
        ("dot", "dot(a, b)", "dot product (matrix product for matrices)",
         dot_call, 2, 2),
        ("softmax", "softmax(U)", "softmax along the last axis, stable",
         simple_call(table.SOFTMAX), 1, 1),
        ("logsumexp", "logsumexp(U)", "log(sum(exp(U))) along the last axis, stable",
         simple_call(table.LOGSUMEXP), 1, 1),
        ("concat", "concat(a, b, …, axis = 0)", "join tensors along an axis",
         concat_call(0), 1, -1),
        ("vstack", "vstack(a, b, …)", "join rows (axis 0)", concat_call(0), 1, -1),
        ("hstack", "hstack(a, b, …)", "join columns (the last axis)", concat_call(-1), 1, -1),
        ("zeros", "zeros(m, n)", "a tensor of zeros",
         constant_call(lambda ev, a, s: np().zeros(_dims(ev, a, s)), "zeros", pure=True),
         1, -1),
        ("ones", "ones(m, n)", "a tensor of ones",
         constant_call(_ones, "ones", pure=True), 1, -1),
        ("eye", "eye(n)", "the n × n identity matrix",
         constant_call(_eye, "eye", pure=True), 1, 1),
        ("linspace", "linspace(a, b, n)", "n evenly spaced numbers from a to b",
         linspace_call, 2, 3),
        ("randn", "randn(m, n)", "standard normal samples (reproducible: seed(k))",
         constant_call(_randn, "randn"), 0, -1),
        ("seed", "seed(k)", "restart the random numbers of randn at seed k",
         constant_call(_seed, "seed"), 1, 1),
        ("argmax", "argmax(A, axis)", "index of the largest element (along an axis)",
         _argmax, 1, 2),
        ("onehot", "onehot(labels, classes)", "rows of the identity picked by labels",
         constant_call(_onehot, "onehot", pure=True), 2, 2),
        ("shape", "shape(A)", "the shape of A as a tuple",
         constant_call(_shape, "shape", pure=True), 1, 1),
        ("size", "size(A)", "the number of elements of A",
         constant_call(_size, "size", pure=True), 1, 1),
        ("load", "load(\"file.csv\")",
         "the numbers of a CSV file as a matrix (a header line is detected and left out)",
         constant_call(data.load, "load"), 1, 1),
        ("save", "save(\"file.csv\", A)",
         "write a number, a vector (one per line) or a matrix to a CSV file",
         constant_call(data.save, "save"), 2, 2),
    ]
    return {name: Builtin(name, signature, doc, call=call, min_args=low, max_args=high)
            for name, signature, doc, call, low, high in specs}
