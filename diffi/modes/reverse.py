"""Reverse mode: one backward sweep over the tape, adjoints kept per node.

A node used twice gets the sum of both contributions. Broadcast tensors have their
adjoints summed back to their own shape. A loop over the tape, never a recursion.
"""
from __future__ import annotations

from .. import arrays, calls, table
from ..arrays import as_value, is_array
from ..core.tape import Tape
from .forward import MissingRule


def adjoints(tape: Tape, output, seed=1.0, on_partial=None) -> dict:
    """The adjoint ∂output/∂node of every active node (by node id)."""
    if is_array(output.value) and not is_array(seed):  # a one-element tensor's seed
        seed = arrays.np().full(output.value.shape, float(seed))
    adjoint = {output.id: seed}
    inputs = {n.id for n in tape.inputs}
    for node in calls.checked(reversed(tape.nodes)):
        g = adjoint.get(node.id)
        if g is None or node.id in inputs or node.id not in tape.active:
            continue
        for inp, contribution in contributions(node, g, on_partial, tape.active):
            if inp.id not in tape.active:
                continue
            contribution = unbroadcast(contribution, inp.value)
            previous = adjoint.get(inp.id)
            adjoint[inp.id] = contribution if previous is None else previous + contribution
    return adjoint


def contributions(node, g, on_partial=None, active=None):
    """(input, ḡ·∂node/∂input) for each input with a non-zero partial."""
    op = node.op
    args = [i.value for i in node.inputs]
    if op.partials is None:
        vjp = getattr(op, "vjp", None)
        if vjp is not None:
            if op.vjp_needs and active is not None:
                needs = tuple(i.id in active for i in node.inputs)
                return [(i, c) for i, c, needed in zip(
                    node.inputs, vjp(g, args, node.params, node.value, needs), needs) if needed]
            return list(zip(node.inputs, vjp(g, args, node.params, node.value)))
        if op.taylor is None:
            raise MissingRule(f"'{op.name}' has no derivative rule (reverse mode)", node.span)
        return []
    out = []
    parts = op.partials(table.ap_value, *args, node.value)
    for k, (inp, part) in enumerate(zip(node.inputs, parts)):
        if part is None or active is not None and inp.id not in active:
            continue
        if on_partial is not None:
            on_partial(node, k, part, args)
        out.append((inp, g * part))
    return out


def unbroadcast(value, like):
    """Sum a broadcast adjoint back to the shape of the value it belongs to."""
    return sum_to_shape(value, arrays.np().shape(like)) if is_array(value) else value


def sum_to_shape(value, shape: tuple):
    """Sum a broadcast adjoint back to `shape`."""
    if not is_array(value):
        return value
    if value.shape == shape:
        return value
    extra = value.ndim - len(shape)
    total = value.sum(axis=tuple(range(extra))) if extra > 0 else value
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and total.shape[i] != 1)
    if axes:
        total = total.sum(axis=axes, keepdims=True)
    return as_value(total.reshape(shape)) if shape else float(total)
