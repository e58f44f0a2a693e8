"""The primitive table: every operator and built-in function, declared once, with the
rules that differentiate it. Consumers import the package (`from .. import table`) and
read its entries by name: `table.ADD`, `table.MATMUL`, `table.TABLE[name]`.

Imports only the foundation (diffi.arrays, diffi.errors) and nothing of the modes: the
rules are written with `ap(primitive, *args)` so that every mode can run them with its
own backend (numbers, graph nodes, code). The modules, in the order they fill TABLE:
primitives (the Primitive entry and what all rules share), scalars (operators and
scalar functions), structure (the graph's own operations), tensors (tensor built-ins);
series holds the Taylor series arithmetic of the `taylor` rules.
"""
from .primitives import TABLE, Primitive, ap_value, compute, define, structural
from .scalars import (ABS, ACOS, ADD, ALIASES, ASIN, ATAN, ATAN2, BINARY, CBRT, CEIL, COS,
                           COSH, DIV, EQ, ERF, EXP, EXPM1, FLOOR, GE, GT, HYPOT, LE, LOG,
                           LOG1P, LOG2, LOG10, LT, MATMUL, MAX, MIN, MUL, NE, NEG, NOT, POS,
                           POW, RELU, SCALAR_FUNCTIONS, SIGMOID, SIGN, SIN, SINH, SOFTPLUS,
                           SQRT, SUB, TAN, TANH, UNARY)
from .structure import ALIAS, CONST, IFELSE, INDEX, LOGIC, REPORT, SELECT, TUPLE, VECTOR
from .tensors import (CONCAT, DOT, LOGSUMEXP, MAXIMUM, MEAN, MINIMUM, NORM, RESHAPE,
                           SOFTMAX, SUM, TRANSPOSE)

__all__ = ["TABLE", "Primitive", "ap_value", "compute", "define", "structural",
           "ABS", "ACOS", "ADD", "ALIASES", "ASIN", "ATAN", "ATAN2", "BINARY", "CBRT",
           "CEIL", "COS", "COSH", "DIV", "EQ", "ERF", "EXP", "EXPM1", "FLOOR", "GE", "GT",
           "HYPOT", "LE", "LOG", "LOG1P", "LOG2", "LOG10", "LT", "MATMUL", "MAX", "MIN",
           "MUL", "NE", "NEG", "NOT", "POS", "POW", "RELU", "SCALAR_FUNCTIONS", "SIGMOID",
           "SIGN", "SIN", "SINH", "SOFTPLUS", "SQRT", "SUB", "TAN", "TANH", "UNARY",
           "ALIAS", "CONST", "IFELSE", "INDEX", "LOGIC", "REPORT", "SELECT", "TUPLE",
           "VECTOR",
           "CONCAT", "DOT", "LOGSUMEXP", "MAXIMUM", "MEAN", "MINIMUM", "NORM", "RESHAPE",
           "SOFTMAX", "SUM", "TRANSPOSE"]
