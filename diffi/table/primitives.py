"""The table's common ground: the Primitive entry, the TABLE that holds every one, and
what the rules of all entries share (applying a primitive to numbers, `compute`).

An entry gives the name, arity, a fast float implementation (`scalar`) and a NumPy
implementation (`tensor`). IEEE semantics throughout: no entry raises on a bad
number (`1/0` is inf, `log(-1)` is nan). NumPy is imported only when a tensor
or a float exception needs it, so scalar scripts start fast.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..arrays import as_value, is_array, np
from . import series as T


@dataclass(eq=False)
class Primitive:
    """One operation of the graph: how to evaluate it on floats and on tensors."""

    name: str
    arity: int
    scalar: Callable | None
    tensor: Callable | None
    signature: str = ""
    doc: str = ""
    symbol: str | None = None       # infix or prefix operator, for printing
    kinks: bool = False             # has points where it is not differentiable
    numeric: bool = True            # takes and gives numbers (else: structure ops)
    # partials(ap, *inputs, output) -> one partial derivative per input (None: zero),
    # written with `ap(primitive, *args)` so that every mode can run it: on numbers,
    # on graph nodes (to differentiate again, or print symbolically), or as code.
    partials: Callable | None = None
    # taylor(output_value, *input_series) -> the output's truncated Taylor series.
    taylor: Callable | None = None
    # For compiled NumPy gradients (minimize): residual(values, params) -> (output, kept)
    # computes the output on tensors as `tensor`/`compute` does and keeps what the
    # backward sweep needs, and vjp_residual(cotangent, kept, params) -> one cotangent
    # per input, equal to what `partials`/`vjp` give, without recomputing the forward.
    residual: Callable | None = None
    vjp_residual: Callable | None = None
    # vjp(…, needs) takes one flag per input and skips the cotangents not needed (the
    # adjoint of a constant matrix in A @ x costs as much as the product itself).
    vjp_needs: bool = False
    # decision(values, params) -> None while a decision the evaluator recorded (an `if`
    # branch, a short-circuit of `and`/`or`) still holds at new input values, else the
    # word that decided ('if', 'and', 'or'): replaying the graph elsewhere must stop.
    decision: Callable | None = None
    display: str | None = None       # the built-in's name, where the table's differs
    # adjoint_text: how backprop's table writes each input's adjoint (tensor rules)
    adjoint_text: list | None = None

    def evaluate(self, *values):
        """The value of this operation on input values (floats, bools or arrays)."""
        if self.scalar is None:
            return as_value(self._numpy(values))
        for v in values:
            if type(v) is not float:
                return self._general(values)
        try:
            return self.scalar(*values)
        except (ValueError, OverflowError, ZeroDivisionError):
            return as_value(self._numpy(values))

    def _general(self, values):
        values = [float(v) if type(v) is bool or type(v) is int else v for v in values]
        if all(type(v) is float for v in values):
            return self.evaluate(*values)
        return as_value(self._numpy(values))

    def _numpy(self, values):
        numpy = np()
        with numpy.errstate(all="ignore"):
            args = [numpy.asarray(v, dtype=float) if not is_array(v) else v for v in values]
            return self.tensor(*args)

    @property
    def label(self) -> str:
        """How messages and traces name the operation: its operator, else its name."""
        return self.symbol or self.display or self.name

    def __repr__(self):
        return f"<primitive {self.name}>"


TABLE: dict[str, Primitive] = {}


def define(name, arity, scalar, tensor, signature="", doc="", **extra) -> Primitive:
    """Declare a primitive in the table."""
    prim = Primitive(name, arity, scalar, tensor, signature or f"{name}(x)", doc, **extra)
    TABLE[name] = prim
    return prim


def _ufunc(name):
    """NumPy's function `name`, looked up when first called (NumPy loads lazily);
    compiled code calls numpy.<ufunc_name> directly."""
    def call(*args):
        return getattr(np(), name)(*args)
    call.ufunc_name = name
    return call


def _steps(n):
    """The order n of a series (its length minus one)."""
    return len(n) - 1


def _flat(y, *series):
    """Taylor rule of a piecewise-constant operation: its value, then zeros."""
    return T.constant(y, _steps(series[0]))


def ap_value(prim, *args):
    """Apply a primitive to numbers: the numeric backend of the rules."""
    fn = getattr(prim, "compute", None)
    if fn is not None:
        return fn(args, None)
    return prim.evaluate(*args)


def structural(name, arity, compute, **rules) -> Primitive:
    """Declare an operation of the graph's structure (not callable by name)."""
    prim = define(name, arity, None, None, numeric=False, **rules)
    prim.compute = compute
    return prim


def compute(op: Primitive, values, params=None):
    """The value of any graph operation on input values."""
    fn = getattr(op, "compute", None)
    return fn(values, params) if fn is not None else op.evaluate(*values)
