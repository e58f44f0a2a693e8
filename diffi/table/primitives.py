"""The table's common ground: the Primitive entry, the TABLE that holds every one, and
how any entry is applied to numbers.

An entry gives the name, arity, a fast float implementation (`scalar`) and a NumPy
implementation (`tensor`) — or, for the graph's own operations, `structure(values,
params)` — and the rule that differentiates it (diffi.table.rules). IEEE semantics
throughout: no entry raises on a bad number (`1/0` is inf, `log(-1)` is nan). NumPy is
imported only when a tensor or a float exception needs it, so scalar scripts start fast.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..arrays import as_value, is_array, np
from . import series as T
from .rules import Rule


@dataclass(frozen=True, slots=True)
class Kink:
    """Where an operation is not differentiable, and the convention diffi uses there."""

    test: Callable       # test(*input values) -> True at a kink
    convention: str      # what the derivative is taken to be there, in words


@dataclass(frozen=True, slots=True, eq=False)
class Primitive:
    """One operation of the graph, declared once: evaluation, derivative rule, display."""

    name: str
    arity: int                        # -1: any number of inputs
    rule: Rule
    scalar: Callable | None = None    # scalar(*floats) -> float
    tensor: Callable | None = None    # tensor(*arrays) -> array (NumPy)
    structure: Callable | None = None  # structure(values, params): the graph's own ops
    signature: str = ""
    doc: str = ""
    symbol: str | None = None         # infix or prefix operator, for printing
    display: str | None = None        # the built-in's name, where the table's differs
    kink: Kink | None = None          # where it is not differentiable
    boolean: bool = False             # gives true/false: arithmetic identities keep it
    # decision(values, params) -> None while a decision the evaluator recorded (an `if`
    # branch, a short-circuit of `and`/`or`) still holds at new input values, else the
    # word that decided ('if', 'and', 'or'): replaying the graph elsewhere must stop.
    decision: Callable | None = None
    # For compiled NumPy gradients (minimize): residual(values, params) -> (output, kept)
    # computes the output on tensors as `compute` does and keeps what the backward sweep
    # needs, and vjp_residual(cotangent, kept, params) -> one cotangent per input, equal
    # to what the rule gives, without recomputing the forward; the cotangent may be a
    # float standing for a constant tensor of the output's shape (the compiled step keeps
    # such cotangents as floats), and the cotangents are new arrays (the compiled step
    # adds to them in place).
    residual: Callable | None = None
    vjp_residual: Callable | None = None
    # kernel(params) -> fn(*inputs): the value of a structural operation on float64
    # arrays and floats, as `compute` gives it but without its checks and conversions
    # (a reduction to one number may be a NumPy scalar): what compiled NumPy code calls.
    kernel: Callable | None = None

    @property
    def numeric(self) -> bool:
        """Takes and gives numbers elementwise (a built-in function or operator)."""
        return self.structure is None

    def compute(self, values, params=None):
        """The value of this operation on input values."""
        if self.structure is not None:
            return self.structure(values, params)
        return self.evaluate(*values)

    def evaluate(self, *values):
        """The value of an elementwise operation on floats, bools or arrays."""
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


def define(name, arity, scalar, tensor, signature="", doc="", *, rule: Rule,
           **fields) -> Primitive:
    """Declare a primitive in the table, with the rule that differentiates it."""
    prim = Primitive(name, arity, rule, scalar, tensor, signature=signature or f"{name}(x)",
                     doc=doc, **fields)
    TABLE[name] = prim
    return prim


def structural(name, arity, structure, *, rule: Rule, **fields) -> Primitive:
    """Declare an operation of the graph's structure (not callable by name)."""
    return define(name, arity, None, None, rule=rule, structure=structure, **fields)


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


def compute(op: Primitive, values, params=None):
    """The value of any graph operation on input values."""
    return op.compute(values, params)


def ap_value(prim, *args, params=None):
    """Apply a primitive to numbers: the numeric backend of the rules."""
    return prim.compute(args, params)
