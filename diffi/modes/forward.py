"""Forward mode: tangents (dual numbers) and truncated Taylor series along a tape.

Both read only the primitive table: `partials` for first order, `taylor` for any
order. Higher derivatives come from one sweep of series of length n + 1, so the
cost is polynomial in the order (n^2 per operation), not exponential.
"""
from __future__ import annotations

import math
from contextlib import nullcontext

from .. import arrays, calls, table
from ..arrays import is_array, zero_like
from ..core.tape import Tape
from ..errors import DiffiError
from ..table import series as T


class MissingRule(DiffiError):
    """A primitive has no rule for a mode."""


def tangents(tape: Tape, seeds: dict, on_partial=None) -> dict:
    """Tangent of every active node, given the tangents of inputs (by node id).

    on_partial(node, input_index, partial, args) is called for each partial used
    (for warnings about non-finite derivatives).
    """
    tangent = dict(seeds)
    inputs = {n.id for n in tape.inputs}
    for node in calls.checked(tape.nodes):
        if node.id in tangent or node.id in inputs or node.id not in tape.active:
            continue
        tangent[node.id] = node_tangent(node, tangent, on_partial)
    return tangent


def node_tangent(node, tangent: dict, on_partial=None):
    """ẏ = Σ ∂y/∂xᵢ · ẋᵢ for one node, from its inputs' tangents."""
    op = node.op
    args = [i.value for i in node.inputs]
    if op.partials is None:
        jvp = getattr(op, "jvp", None)
        if jvp is not None:
            inputs = [tangent.get(i.id) for i in node.inputs]
            if all(t is None for t in inputs):  # no input moves: neither does the output
                return zero_like(node.value)
            return jvp(inputs, args, node.params, node.value)
        if op.taylor is None:
            raise MissingRule(f"'{op.name}' has no derivative rule (forward mode)", node.span)
        return zero_like(node.value)
    parts = op.partials(table.ap_value, *args, node.value)
    total = None
    for k, (inp, part) in enumerate(zip(node.inputs, parts)):
        t = tangent.get(inp.id)
        if t is None or part is None:
            continue
        if on_partial is not None:
            on_partial(node, k, part, args)
        term = part * t
        total = term if total is None else total + term
    return zero_like(node.value) if total is None else total


def taylor(tape: Tape, variable, order: int) -> dict:
    """Taylor series (normalised coefficients) of every active node in one variable."""
    # an operation on series costs about order² steps: refused at once if the sweep
    # cannot finish in the time left, and the time checked at each operation
    budget = calls.current()
    budget.afford(len(tape.steps) * (order + 1) ** 2 / calls.PYTHON_RATE,
                  f"a Taylor series of order {order} through {len(tape.steps)} operations",
                  tape.outputs[0].span if tape.outputs else None)
    series = {variable.id: T.variable(variable.value, order)}
    inputs = {n.id for n in tape.inputs}
    for node in tape.nodes:
        if node.id in series or node.id in inputs or node.id not in tape.active:
            continue
        budget.check(node.span)
        rule = node.op.taylor
        if rule is None:
            raise MissingRule(f"'{node.op.name}' has no rule for derivatives of order "
                              f"{order}", node.span)
        args = [series[i.id] if i.id in series else T.constant(_value(i), order)
                for i in node.inputs]
        with quiet(node.value):
            series[node.id] = rule(node.value, *args)
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
