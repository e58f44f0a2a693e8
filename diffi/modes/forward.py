"""Forward mode: tangents (dual numbers) and truncated Taylor series along a tape.

Both ask the table's rule reader, node by node along the tape's steps: a tangent for
first order, a series for any order. Higher derivatives come from one sweep of series
of length n + 1, so the cost is polynomial in the order (n^2 per operation), not
exponential.
"""
from __future__ import annotations

import math
from contextlib import nullcontext

from .. import arrays
from ..arrays import is_array
from ..core.tape import Tape
from ..table import reader
from ..table import series as T
from ..table.reader import NUMBERS


def tangents(tape: Tape, seeds: dict, on_partial=None) -> dict:
    """The tangent of every active node that has one (by node id), given the tangents
    of inputs; a node whose tangent is 0 has no entry.

    on_partial(node, input_index, partial, args) is called for each partial used
    (for warnings about non-finite derivatives).
    """
    tangent = dict(seeds)
    get = tangent.get
    for node in tape.steps:
        if node.id in tangent:
            continue
        inputs = node.inputs
        moving = [get(i.id) for i in inputs]
        if all(t is None for t in moving):
            continue
        value = reader.tangent(node, NUMBERS, [i.value for i in inputs], node.value, moving,
                               on_partial)
        if value is not None:
            tangent[node.id] = value
    return tangent


def taylor(tape: Tape, variable, order: int) -> dict:
    """Taylor series (normalised coefficients) of every active node in one variable."""
    series = {variable.id: T.variable(variable.value, order)}
    for node in tape.steps:
        if node.id in series:
            continue
        args = [series[i.id] if i.id in series else T.constant(_value(i), order)
                for i in node.inputs]
        with quiet(node.value):
            series[node.id] = reader.series(node, args, order)
    return series


def quiet(value):
    """IEEE results on tensors, as evaluation gives (no NumPy warnings); nothing to do
    for numbers, which do not load NumPy."""
    return arrays.np().errstate(all="ignore") if is_array(value) else nullcontext()


def _value(node):
    value = node.value
    return float(value) if type(value) is bool else value


def nth_derivative(coefficients: list, order: int):
    """f^(n) from the normalised Taylor coefficient c_n = f^(n)/n!."""
    return coefficients[order] * math.factorial(order)
