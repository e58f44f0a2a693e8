"""What a value is, with NumPy imported lazily: the foundation every module builds on.

A diffi value is a float, a bool, a NumPy array (float64 or bool), a tuple, a string or
a function. NumPy is imported only when a tensor or a float exception needs it, so
scalar scripts start fast: `np()` loads it on first use, and `is_array` answers False
without loading it.
"""
from __future__ import annotations

_numpy = None


def np():
    """NumPy, imported on first use."""
    global _numpy
    if _numpy is None:
        import numpy  # lazily: a script without tensors never loads NumPy
        _numpy = numpy
    return _numpy


def is_array(v) -> bool:
    return _numpy is not None and isinstance(v, _numpy.ndarray)


def single_number(value) -> float | None:
    """A number, or the element of a one-element tensor, as a float; else None."""
    if type(value) is float:
        return value
    if is_array(value) and value.size == 1:
        return float(value.reshape(-1)[0])
    return None


def as_value(result):
    """Normalise a NumPy result: 0-d arrays and NumPy scalars become Python floats/bools."""
    numpy = np()
    if isinstance(result, numpy.ndarray):
        if result.ndim == 0:
            return _scalar(result[()])
        kind = result.dtype
        if kind.char not in "d?" or not kind.isnative:  # float64 and bool stay as they are
            return result.astype(numpy.float64)
        return result
    return _scalar(result)


def _scalar(x):
    if isinstance(x, (bool, np().bool_)):
        return bool(x)
    return float(x)


def is_float_tensor(value) -> bool:
    """A float64 NumPy array (what compiled tensor code takes and gives)."""
    return _numpy is not None and type(value) is _numpy.ndarray and value.dtype.char == "d"


def zero_like(value):
    """0 in the shape of a value: 0.0 for numbers (and formulas), zeros for a tensor, a
    tuple of its parts' zeros for a tuple."""
    if type(value) is tuple:
        return tuple(zero_like(v) for v in value)
    return np().zeros_like(value, dtype=float) if is_array(value) else 0.0


def finite(value) -> bool:
    if type(value) is float:
        return value - value == 0
    if is_array(value) and value.dtype != bool:
        return bool(np().isfinite(value).all())
    return True


def truth(value) -> bool:
    if type(value) is bool or type(value) is float:
        return bool(value)
    return bool(np().asarray(value).reshape(-1)[0])


def sum_to_shape(value, shape: tuple):
    """A broadcast value summed back to `shape` (a cotangent, to its input's shape)."""
    if not is_array(value) or value.shape == shape:
        return value
    extra = value.ndim - len(shape)
    total = value.sum(axis=tuple(range(extra))) if extra > 0 else value
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and total.shape[i] != 1)
    if axes:
        total = total.sum(axis=axes, keepdims=True)
    return as_value(total.reshape(shape)) if shape else float(total)
