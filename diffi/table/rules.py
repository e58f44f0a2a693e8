"""Derivative rules: what each primitive declares about its derivative.

A rule's kind is settled by the constructor it is made with, and nothing else:

- `partials(fn, taylor)`: an elementwise operation; `fn(ap, *inputs, output)` gives one
  partial derivative per input (None where it is 0), written with `ap(primitive, …)` so
  that it runs on numbers, on formula nodes and as code.
- `linear(transpose)`: the operation is linear in its inputs, so its tangent is the
  operation applied to the tangents and its Taylor series is the operation applied to
  each coefficient; `transpose(ap, g, inputs, output, params, needs)` gives the cotangents.
- `custom(jvp, vjp, taylor)`: anything else, with tangent and cotangents written with `ap`.
- `ZERO`: piecewise constant (comparisons, sign, floor, constants): derivative 0.
- `EXPANDS`: a node that stands for a graph built on demand (a directive's result):
  sweeps never see one, because a tape expands it into that graph first.

`jvp(ap, tangents, inputs, output, params)` gives the output's tangent (a tangent of
None is 0); `vjp(ap, g, inputs, output, params, needs)` one cotangent per input (None
for 0, and for inputs whose `needs` flag is off). `ap` is the backend: `ap(prim, *args,
params=…)` applies a primitive; `ap.shape(x)`, `ap.value(x)` and `ap.zeros(x)` read what
a rule on tensors must know.

Only `diffi.table.reader` reads a rule's fields; modes, the compiler and the trace
tables ask it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

PARTIALS, LINEAR, CUSTOM, ZERO_KIND = "partials", "linear", "custom", "zero"


@dataclass(frozen=True, slots=True)
class Rule:
    """How a primitive's derivative is computed; made by the constructors below."""

    kind: str
    partials: Callable | None = None   # partials(ap, *inputs, output) -> per input
    jvp: Callable | None = None        # jvp(ap, tangents, inputs, output, params)
    vjp: Callable | None = None        # vjp(ap, g, inputs, output, params, needs)
    taylor: Callable | None = None     # taylor(output, *series) -> the output's series
    # How backprop's table writes each input's adjoint, or a function of the input values
    # giving them (words that depend on ranks): {g} the output's adjoint, {y} the output,
    # {a} and {b} the inputs, {k} the input's position, {p} the parameters.
    adjoint_texts: tuple | Callable = ()
    # The same jvp and vjp specialised for numbers (NumPy without the `ap` layers), where
    # speed matters; tests/table/test_reader.py holds them equal to the general ones.
    fast_jvp: Callable | None = None
    fast_vjp: Callable | None = None


def partials(fn: Callable, taylor: Callable | None = None) -> Rule:
    """An elementwise rule: one partial derivative per input."""
    return Rule(PARTIALS, partials=fn, taylor=taylor)


def linear(transpose: Callable, adjoint_texts: tuple = (),
           fast_transpose: Callable | None = None) -> Rule:
    """A linear operation: tangents and series follow by applying it; `transpose`
    carries a cotangent back to its inputs."""
    return Rule(LINEAR, vjp=transpose, adjoint_texts=adjoint_texts,
                fast_vjp=fast_transpose)


def custom(jvp: Callable, vjp: Callable, taylor: Callable | None = None,
           adjoint_texts: tuple = (), fast_jvp: Callable | None = None,
           fast_vjp: Callable | None = None) -> Rule:
    """A rule given by its tangent and its cotangents."""
    return Rule(CUSTOM, jvp=jvp, vjp=vjp, taylor=taylor, adjoint_texts=adjoint_texts,
                fast_jvp=fast_jvp, fast_vjp=fast_vjp)


ZERO = Rule(ZERO_KIND)
EXPANDS = Rule("expands")
