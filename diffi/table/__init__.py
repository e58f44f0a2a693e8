"""The primitive table: every operator and built-in function, declared once, with the
rule that differentiates it. Consumers import the package (`from .. import table`) and
read its entries by name: `table.ADD`, `table.MATMUL`, `table.TABLE[name]`.

Imports only the foundation (diffi.arrays, diffi.errors) and nothing of the modes: the
rules are written with `ap(primitive, *args)` so that every mode can run them with its
own backend (numbers, graph nodes, code), and `reader` is the one module that reads a
rule's kind for them. The modules, in the order they fill TABLE: primitives (the
Primitive entry), rules (how a derivative is declared), scalars (operators and scalar
functions), structure (the graph's own operations), tensors (tensor operations); series
holds the Taylor series arithmetic of the `taylor` rules.
"""
from .primitives import TABLE, Kink, Primitive, ap_value, compute, define, structural
from .scalars import (ABS, ACOS, ADD, ALIASES, ASIN, ATAN, ATAN2, CBRT, CEIL, COS, COSH,
                      DIV, EQ, ERF, EXP, EXPM1, FLOOR, GE, GT, HYPOT, LE, LOG, LOG1P, LOG2,
                      LOG10, LT, MAX, MIN, MUL, NE, NEG, NOT, POS, POW, RELU,
                      SCALAR_FUNCTIONS, SIGMOID, SIGN, SIN, SINH, SOFTPLUS, SQRT, SUB, TAN,
                      TANH)
from .structure import (ALIAS, CONST, DERIVED, IFELSE, INDEX, LOGIC, PART, REPORT, SCATTER,
                        SELECT, TUPLE, VALUE, VECTOR)
from .tensors import (BROADCAST, CONCAT, DOT, EXPAND, LINSPACE, LOGSUMEXP, MATMUL, MAXIMUM,
                      MEAN, MINIMUM, NORM, RESHAPE, SOFTMAX, SUM, SUM_TO, TRANSPOSE, WEIGHTS)

BINARY = {"+": ADD, "-": SUB, "*": MUL, "/": DIV, "^": POW, "@": MATMUL,
          "<": LT, "<=": LE, ">": GT, ">=": GE, "==": EQ, "!=": NE}
UNARY = {"-": NEG, "+": POS, "not": NOT}

__all__ = ["TABLE", "Kink", "Primitive", "ap_value", "compute", "define", "structural",
           "BINARY", "UNARY",
           "ABS", "ACOS", "ADD", "ALIASES", "ASIN", "ATAN", "ATAN2", "CBRT", "CEIL", "COS",
           "COSH", "DIV", "EQ", "ERF", "EXP", "EXPM1", "FLOOR", "GE", "GT", "HYPOT", "LE",
           "LOG", "LOG1P", "LOG2", "LOG10", "LT", "MAX", "MIN", "MUL", "NE", "NEG", "NOT",
           "POS", "POW", "RELU", "SCALAR_FUNCTIONS", "SIGMOID", "SIGN", "SIN", "SINH",
           "SOFTPLUS", "SQRT", "SUB", "TAN", "TANH",
           "ALIAS", "CONST", "DERIVED", "IFELSE", "INDEX", "LOGIC", "PART", "REPORT",
           "SCATTER", "SELECT", "TUPLE", "VALUE", "VECTOR",
           "BROADCAST", "CONCAT", "DOT", "EXPAND", "LINSPACE", "LOGSUMEXP", "MATMUL", "MAXIMUM",
           "MEAN", "MINIMUM", "NORM", "RESHAPE", "SOFTMAX", "SUM", "SUM_TO", "TRANSPOSE",
           "WEIGHTS"]
