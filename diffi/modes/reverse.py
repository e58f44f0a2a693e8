"""Reverse mode: one backward sweep over the tape's steps, adjoints kept per node.

A node used twice gets the sum of both contributions; the table's rule reader gives
each contribution in its input's shape (a broadcast tensor's adjoint summed back). A
loop over the tape, never a recursion.
"""
from __future__ import annotations

from .. import arrays, calls
from ..arrays import is_array
from ..core.tape import Tape
from ..table import reader
from ..table.reader import NUMBERS


def adjoints(tape: Tape, output, seed=1.0, on_partial=None) -> dict:
    """The adjoint ∂output/∂node of every active node reached (by node id)."""
    if is_array(output.value) and not is_array(seed):  # a one-element tensor's seed
        seed = arrays.np().full(output.value.shape, float(seed))
    adjoint = {output.id: seed}
    active = tape.active
    for node in calls.checked(reversed(tape.steps)):
        g = adjoint.get(node.id)
        if g is None:
            continue
        inputs = node.inputs
        needs = [i.id in active for i in inputs]
        parts = reader.cotangents(node, NUMBERS, g, [i.value for i in inputs], node.value,
                                  needs, on_partial)
        for inp, part in zip(inputs, parts):
            if part is None:
                continue
            previous = adjoint.get(inp.id)
            adjoint[inp.id] = part if previous is None else previous + part
    return adjoint
