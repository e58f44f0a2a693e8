"""Built-in names: the table's functions as values, constants, and procedures like print."""
from __future__ import annotations

import math

from .. import table
from ..errors import DiffiTypeError
from .graph import Node
from .tensor_calls import builtin_functions
from .values import NOTHING, Builtin, format_value

def constant(value, name: str | None = None, span=None) -> Node:
    """A leaf node holding a value."""
    return Node(table.CONST, (), value, span, name)


def _print(evaluator, args, keywords, span):
    threshold = None if _full(keywords, span) else evaluator.threshold
    parts = [a.value if isinstance(a.value, str) else
             format_value(a.value, evaluator.precision, threshold) for a in args]
    if evaluator.on_print is not None:  # (diffi --json: the values too, and where)
        evaluator.on_print(" ".join(parts), [a.value for a in args], span)
    else:
        evaluator.output(" ".join(parts))
    return constant(NOTHING, span=span)


def _full(keywords, span) -> bool:
    """print's one option: full = true prints a big tensor whole, not summarised."""
    for name, node in keywords.items():
        if name != "full":
            raise DiffiTypeError(f"print takes no keyword argument '{name}' (only full)", span)
        if type(node.value) is not bool:
            raise DiffiTypeError("full is true or false: print(A, full = true)", span)
    return keywords["full"].value if keywords else False


def _from_table(name: str, prim: table.Primitive) -> Builtin:
    return Builtin(name, prim.signature.replace(prim.name, name, 1), prim.doc, primitive=prim,
                   min_args=prim.arity, max_args=prim.arity)


def make_builtins() -> dict[str, Node]:
    """The built-in scope: one constant node per name."""
    functions = {}
    for name, prim in table.TABLE.items():
        if prim.symbol is None and prim.numeric:
            functions[name] = _from_table(name, prim)
    for alias, target in table.ALIASES.items():
        functions[alias] = _from_table(alias, table.TABLE[target])
    functions.update(builtin_functions())
    functions["print"] = Builtin("print", "print(a, b, …, full = false)",
                                 "print values and strings separated by spaces "
                                 "(full = true: big tensors whole, not summarised)",
                                 call=_print, min_args=0, max_args=-1)
    scope = {name: constant(fn, name) for name, fn in functions.items()}
    for name, value in [("pi", math.pi), ("π", math.pi), ("e", math.e), ("inf", math.inf),
                        ("nan", math.nan), ("true", True), ("false", False)]:
        scope[name] = constant(value, name)
    return scope


BUILTINS = make_builtins()
