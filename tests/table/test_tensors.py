"""Tensors: the primitive table at tensor shapes, and the tensor built-ins.

The table below has one row per tensor operation and shape case. Each row's value is
checked against NumPy, and the gradient of a scalar objective sum(E ⊙ C) (C a fixed
random tensor of E's shape, so that every element of E's Jacobian counts) is computed
by reverse mode, forward mode and numeric differences (Richardson, element by
element), in a plain expression, through a user function, and by the NumPy code that
minimize compiles (compiler.compile_problem).
Then: the MLP loss against its hand-derived gradient, literals, indexing, shape
errors, stability of softmax and logsumexp, the constructors, load, limits and the
Python API with arrays.
"""
from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import diffi
from diffi import DiffiError, DiffiTypeError, Interpreter, ShapeError
from compile.test_tensor import compiled_loss_gradient  # (tests/ is on the path)
from diffi.table import reader
from diffi import table
from diffi.table import tensors

ROOT = Path(__file__).resolve().parents[2]

EXACT = 1e-13    # forward vs reverse: both exact up to rounding
NUMERIC = 1e-10  # Richardson differences vs reverse (about 1e-12 on smooth functions)


def _softmax(u):
    z = np.exp(u - u.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def _logsumexp(u):
    m = u.max(axis=-1, keepdims=True)
    return (m + np.log(np.exp(u - m).sum(axis=-1, keepdims=True)))[..., 0]


# (id, diffi expression, {variable: shape}, NumPy reference, the primitive it exercises)
# Variables take values in [0.5, 2] (so log, sqrt, ^ are smooth and max/min have no ties).
S = (3, 4)
CASES = [
    # reductions, whole and along each axis (also of a 3-d tensor, and axis -1)
    ("sum", "sum(A)", {"A": S}, lambda A: A.sum(), "sum"),
    ("sum-axis0", "sum(A, 0)", {"A": S}, lambda A: A.sum(0), "sum"),
    ("sum-axis1-keyword", "sum(A, axis = 1)", {"A": S}, lambda A: A.sum(1), "sum"),
    ("sum-axis-1", "sum(A, -1)", {"A": S}, lambda A: A.sum(-1), "sum"),
    ("sum-3d-axis0", "sum(T, 0)", {"T": (2, 3, 4)}, lambda T: T.sum(0), "sum"),
    ("sum-3d-axis1", "sum(T, 1)", {"T": (2, 3, 4)}, lambda T: T.sum(1), "sum"),
    ("sum-3d-axis2", "sum(T, axis = 2)", {"T": (2, 3, 4)}, lambda T: T.sum(2), "sum"),
    ("sum-vector", "sum(a)", {"a": (5,)}, lambda a: a.sum(), "sum"),
    ("mean", "mean(A)", {"A": S}, lambda A: A.mean(), "mean"),
    ("mean-axis0", "mean(A, 0)", {"A": S}, lambda A: A.mean(0), "mean"),
    ("mean-axis1", "mean(A, axis = 1)", {"A": S}, lambda A: A.mean(1), "mean"),
    ("mean-3d-axis1", "mean(T, 1)", {"T": (2, 3, 4)}, lambda T: T.mean(1), "mean"),
    ("max", "max(A)", {"A": S}, lambda A: A.max(), "max_of"),
    ("max-axis0", "max(A, axis = 0)", {"A": S}, lambda A: A.max(0), "max_of"),
    ("max-axis1", "max(A, axis = 1)", {"A": S}, lambda A: A.max(1), "max_of"),
    ("max-3d-axis2", "max(T, axis = 2)", {"T": (2, 3, 4)}, lambda T: T.max(2), "max_of"),
    ("min", "min(A)", {"A": S}, lambda A: A.min(), "min_of"),
    ("min-axis0", "min(A, axis = 0)", {"A": S}, lambda A: A.min(0), "min_of"),
    ("min-axis1", "min(A, axis = 1)", {"A": S}, lambda A: A.min(1), "min_of"),
    ("max-elementwise-broadcast", "max(A, b)", {"A": (3, 2), "b": (2,)},
     lambda A, b: np.maximum(A, b), "max"),
    ("min-elementwise-number", "min(A, 1.2)", {"A": S}, lambda A: np.minimum(A, 1.2), "min"),
    ("norm-vector", "norm(a)", {"a": (5,)}, lambda a: np.linalg.norm(a), "norm"),
    ("norm-matrix", "norm(A)", {"A": S}, lambda A: np.linalg.norm(A), "norm"),
    # shape
    ("transpose", "transpose(A)", {"A": S}, lambda A: A.T, "transpose"),
    ("reshape", "reshape(A, 4, 3)", {"A": S}, lambda A: A.reshape(4, 3), "reshape"),
    ("reshape-inferred", "reshape(A, 2, -1)", {"A": S}, lambda A: A.reshape(2, -1), "reshape"),
    ("reshape-flat", "reshape(A, 12)", {"A": S}, lambda A: A.reshape(12), "reshape"),
    ("concat-rows", "concat(A, B)", {"A": (2, 3), "B": (1, 3)},
     lambda A, B: np.concatenate([A, B]), "concat"),
    ("concat-axis1", "concat(A, B, axis = 1)", {"A": (3, 2), "B": (3, 1)},
     lambda A, B: np.concatenate([A, B], axis=1), "concat"),
    ("concat-vectors", "concat(a, b, c)", {"a": (2,), "b": (3,), "c": (1,)},
     lambda a, b, c: np.concatenate([a, b, c]), "concat"),
    ("hstack", "hstack(A, B)", {"A": (3, 2), "B": (3, 1)}, lambda A, B: np.hstack([A, B]),
     "concat"),
    ("vstack", "vstack(A, B)", {"A": (2, 3), "B": (1, 3)}, lambda A, B: np.vstack([A, B]),
     "concat"),
    ("linspace", "linspace(a, b, 5)", {"a": (), "b": ()}, lambda a, b: np.linspace(a, b, 5),
     "linspace"),
    # products
    ("dot-vectors", "dot(a, b)", {"a": (4,), "b": (4,)}, lambda a, b: np.dot(a, b), "dot"),
    ("dot-matrix-vector", "dot(A, b)", {"A": S, "b": (4,)}, lambda A, b: np.dot(A, b), "dot"),
    ("dot-matrices", "dot(A, B)", {"A": (2, 3), "B": (3, 4)}, lambda A, B: np.dot(A, B), "dot"),
    ("matmul", "A @ B", {"A": (2, 3), "B": (3, 4)}, lambda A, B: A @ B, "matmul"),
    ("matmul-matrix-vector", "A @ b", {"A": S, "b": (4,)}, lambda A, b: A @ b, "matmul"),
    ("matmul-vector-matrix", "a @ B", {"a": (3,), "B": S}, lambda a, B: a @ B, "matmul"),
    ("matmul-vectors", "a @ b", {"a": (4,), "b": (4,)}, lambda a, b: a @ b, "matmul"),
    # softmax and log-sum-exp, along the last axis
    ("softmax-vector", "softmax(a)", {"a": (5,)}, _softmax, "softmax"),
    ("softmax-rows", "softmax(A)", {"A": S}, _softmax, "softmax"),
    ("logsumexp-vector", "logsumexp(a)", {"a": (5,)}, _logsumexp, "logsumexp"),
    ("logsumexp-rows", "logsumexp(A)", {"A": S}, _logsumexp, "logsumexp"),
    # elementwise operators and functions, broadcasting as NumPy does
    ("add-row-broadcast", "A + b", {"A": (3, 2), "b": (2,)}, lambda A, b: A + b, "add"),
    ("mul-outer-broadcast", "a * b", {"a": (3, 1), "b": (1, 4)}, lambda a, b: a * b, "mul"),
    ("sub-column-vector", "a - b", {"a": (3, 1), "b": (4,)}, lambda a, b: a - b, "sub"),
    ("div-broadcast", "A / b", {"A": S, "b": (4,)}, lambda A, b: A / b, "div"),
    ("pow-broadcast", "A ^ b", {"A": (3, 2), "b": (2,)}, lambda A, b: A ** b, "pow"),
    ("scalar-times-tensor", "x * A - x", {"x": (), "A": S}, lambda x, A: x * A - x, "mul"),
    ("neg", "-A", {"A": S}, lambda A: -A, "neg"),
    ("functions", "sin(A) * exp(b) + log(A) - sqrt(b) / tanh(A)", {"A": S, "b": (4,)},
     lambda A, b: np.sin(A) * np.exp(b) + np.log(A) - np.sqrt(b) / np.tanh(A), "sin"),
    ("sigmoid-layer", "sigmoid(A @ B)", {"A": (2, 3), "B": (3, 4)},
     lambda A, B: 1 / (1 + np.exp(-(A @ B))), "sigmoid"),
    # indexing and slicing (0-based; negative indices count from the end)
    ("index-row", "A[1]", {"A": S}, lambda A: A[1], "index"),
    ("index-element-negative", "A[-1, -2]", {"A": S}, lambda A: A[-1, -2], "index"),
    ("slice-column", "A[:, 0]", {"A": S}, lambda A: A[:, 0], "index"),
    ("slice-rows", "A[1:3]", {"A": S}, lambda A: A[1:3], "index"),
    ("slice-both", "A[:2, 1:]", {"A": S}, lambda A: A[:2, 1:], "index"),
]
# every tensor rule in the table (the structure that builds vectors and tuples aside)
# (the entries that only rules are written with are walked by tests/table/test_scalars.py)
RULE_HELPERS = (table.VECTOR, table.TUPLE, table.EXPAND, table.BROADCAST, table.SUM_TO,
                table.SCATTER, table.PART)
TENSOR_PRIMITIVES = [p for p in table.TABLE.values() if p.rule.kind in ("linear", "custom")
                     and p not in RULE_HELPERS]


def _values(shapes: dict, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    return {name: (float(rng.uniform(0.5, 2.0)) if shape == () else
                   rng.uniform(0.5, 2.0, size=shape)) for name, shape in shapes.items()}


def _interpreter(values: dict) -> Interpreter:
    it = Interpreter(warn=lambda message, span: None)
    for name, value in values.items():
        it[name] = value
    return it


def _as_tuple(gradient, count):
    return gradient if count > 1 else (gradient,)


def _assert_close(actual, expected, tolerance, what):
    """Every element within tolerance·max(1, largest |expected|)."""
    for a, e, name in zip(actual, expected, what):
        a, e = np.asarray(a, dtype=float), np.asarray(e, dtype=float)
        assert a.shape == e.shape, (name, a.shape, e.shape)
        scale = max(1.0, float(np.max(np.abs(e), initial=0.0)))
        assert np.max(np.abs(a - e), initial=0.0) <= tolerance * scale, (name, a, e)


def test_the_table_covers_every_tensor_rule():
    # A new tensor primitive in table.TABLE must come with rows here.
    names = {p.name for p in TENSOR_PRIMITIVES}
    assert names >= {"sum", "mean", "max_of", "min_of", "norm", "transpose", "reshape",
                     "concat", "dot", "softmax", "logsumexp", "matmul", "index"}
    assert names <= {case[4] for case in CASES}
    for prim in TENSOR_PRIMITIVES:
        assert prim.rule.kind in ("linear", "custom"), prim.name


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_value_matches_numpy(case):
    _, expr, shapes, reference, _ = case
    values = _values(shapes, 1)
    got = _interpreter(values).eval(expr)
    expected = reference(*values.values())
    assert np.shape(got) == np.shape(expected)
    np.testing.assert_allclose(got, expected, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_gradient_reverse_forward_numeric_agree(case):
    _, expr, shapes, reference, _ = case
    values = _values(shapes, 2)
    names = list(values)
    it = _interpreter(values)
    weights = np.random.default_rng(3).standard_normal(np.shape(reference(*values.values())))
    it["C"] = weights
    objective = f"sum(({expr}) * C)"
    reverse = _as_tuple(it.grad(objective, wrt=names), len(names))
    forward = _as_tuple(it.grad(objective, wrt=names, mode="forward"), len(names))
    numeric = _as_tuple(it.grad(objective, wrt=names, mode="numeric", method="richardson"),
                        len(names))
    for name, g in zip(names, reverse):
        assert np.shape(g) == np.shape(values[name]), (name, np.shape(g))
    _assert_close(forward, reverse, EXACT, names)
    _assert_close(numeric, reverse, NUMERIC, names)
    # Through a user function, and by minimize's compiled NumPy code: the same.
    it.run(f"F({', '.join(names)}) = sum(({expr}) * C)")
    through = _as_tuple(it.eval(f"grad F({', '.join(names)}) wrt {', '.join(names)}"),
                        len(names))
    _assert_close(through, reverse, EXACT, names)
    loss, compiled = compiled_loss_gradient(it, objective, names)
    assert loss == pytest.approx(it.eval(objective), rel=1e-14)
    _assert_close(compiled, reverse, EXACT, names)


def test_scalar_variables_with_tensor_values_give_a_vector_of_partials():
    it = Interpreter()
    it.run("a = [1, 2, 3]")
    got = it.eval("grad sum(x * a + y^2 * a) wrt x, y at x = 2, y = 3")
    assert isinstance(got, np.ndarray)
    np.testing.assert_array_equal(got, [6.0, 36.0])


# Ties and kinks: max/min share the gradient evenly --------------------------------------

def test_max_ties_split_the_gradient():
    it = Interpreter()
    np.testing.assert_array_equal(it.eval("grad max(x) wrt x at x = [1, 3, 3]"), [0, 0.5, 0.5])
    np.testing.assert_array_equal(it.eval("grad min(x) wrt x at x = [2, 2, 2, 5]"),
                                  [1 / 3, 1 / 3, 1 / 3, 0])
    np.testing.assert_array_equal(
        it.eval("grad sum(max(x, axis = 1)) wrt x at x = [[1, 3, 3], [4, 0, 1]]"),
        [[0, 0.5, 0.5], [1, 0, 0]])
    np.testing.assert_array_equal(it.eval("grad sum(max(x, 2)) wrt x at x = [1, 2, 3]"),
                                  [0, 0.5, 1])
    np.testing.assert_array_equal(
        it.eval("grad sum(max(x, axis = 1)) wrt x at x = [[1, 3, 3], [4, 0, 1]] using forward"),
        [[0, 0.5, 0.5], [1, 0, 0]])


def test_max_with_two_arguments_is_elementwise_and_with_axis_reduces():
    it = Interpreter()
    np.testing.assert_array_equal(it.eval("max([1, 5, -2], 0)"), [1, 5, 0])
    np.testing.assert_array_equal(it.eval("max([[1, 5], [7, 2]], axis = 0)"), [7, 5])
    assert it.eval("max([[1, 5], [7, 2]])") == 7.0
    assert it.eval("min([[1, 5], [7, 2]])") == 1.0


# The MLP loss against its hand-derived gradient ------------------------------------------

MLP = "L(W, V) = { Z = sigmoid(X @ W); U = Z @ V; -mean(sum(U*Y, 1) - logsumexp(U)) }"


def _mlp(seed, n=20, d=3, m=5, c=3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    labels = rng.integers(0, c, n)
    Y = np.eye(c)[labels]
    W, V = rng.standard_normal((d, m)), rng.standard_normal((m, c))
    Z = 1 / (1 + np.exp(-(X @ W)))
    U = Z @ V
    Yhat = _softmax(U)
    loss = -np.mean(np.sum(U * Y, 1) - _logsumexp(U))
    dW = X.T @ ((Yhat - Y) @ V.T * Z * (1 - Z)) / n
    dV = Z.T @ (Yhat - Y) / n
    return X, labels, Y, W, V, loss, dW, dV


def _relative(actual, expected):
    return float(np.max(np.abs(np.asarray(actual) - expected)) / np.max(np.abs(expected)))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mlp_gradient_matches_the_hand_derived_formulas(seed):
    X, labels, Y, W, V, loss, dW, dV = _mlp(seed)
    it = Interpreter()
    it["X"], it["Y"], it["W"], it["V"] = X, Y, W, V
    it.run(MLP)
    assert abs(it.eval("L(W, V)") - loss) <= 1e-12 * abs(loss)
    for mode in ("reverse", "forward"):
        gW, gV = it.grad("L(W, V)", wrt=["W", "V"], mode=mode)
        assert _relative(gW, dW) <= 1e-12 and _relative(gV, dV) <= 1e-12, mode
    gW, gV = it.grad("L", at=(W, V))                      # grad f at (…)
    assert _relative(gW, dW) <= 1e-12 and _relative(gV, dV) <= 1e-12
    it.run("gW, gV = grad L(W, V) wrt W, V")              # destructuring in the language
    assert _relative(it["gW"], dW) <= 1e-12 and _relative(it["gV"], dV) <= 1e-12
    # The hand formulas written in diffi give the same numbers.
    it["N"] = float(len(X))
    it.run("Z = sigmoid(X @ W); Yhat = softmax(Z @ V)\n"
           "hW = transpose(X) @ ((Yhat - Y) @ transpose(V) * Z * (1 - Z)) / N\n"
           "hV = transpose(Z) @ (Yhat - Y) / N")
    assert _relative(it["hW"], dW) <= 1e-12 and _relative(it["hV"], dV) <= 1e-12


def test_mlp_gradient_by_numeric_differences():
    X, labels, Y, W, V, loss, dW, dV = _mlp(5, n=6, d=2, m=3, c=3)
    it = Interpreter()
    it["X"], it["Y"], it["W"], it["V"] = X, Y, W, V
    it.run(MLP)
    gW, gV = it.grad("L(W, V)", wrt=["W", "V"], mode="numeric", method="richardson")
    assert _relative(gW, dW) <= 1e-9 and _relative(gV, dV) <= 1e-9


def test_grad_of_one_tensor_is_its_gradient_and_of_several_a_tuple():
    it = Interpreter()
    it.run("W = [[1, 2], [3, 4]]\nV = [1, -1]")
    one = it.eval("grad sum(W^2) wrt W")
    assert isinstance(one, np.ndarray) and one.shape == (2, 2)
    np.testing.assert_array_equal(one, [[2, 4], [6, 8]])
    both = it.eval("grad sum((W @ V)^2) wrt W, V")
    assert isinstance(both, tuple) and len(both) == 2
    # W @ V = [-1, -1]; d/dW = 2(W@V) V' ; d/dV = 2 W'(W@V)
    np.testing.assert_array_equal(both[0], [[-2, 2], [-2, 2]])
    np.testing.assert_array_equal(both[1], [-8, -12])
    it.run("dW, dV = grad sum((W @ V)^2) wrt W, V")
    np.testing.assert_array_equal(it["dW"], both[0])
    np.testing.assert_array_equal(it["dV"], both[1])


def test_check_has_a_column_per_element():
    it = Interpreter()
    it.run("W = [[0.5, -1], [2, 0.25]]\nV = [1, 3]")
    report = it.check("sum(sin(W @ V))", wrt=["W", "V"])
    assert report.ok
    header = str(report).splitlines()[0].split()
    assert header == ["mode", "d/dW[0,", "0]", "d/dW[0,", "1]", "d/dW[1,", "0]",
                      "d/dW[1,", "1]", "d/dV[0]", "d/dV[1]"]
    lines = str(report).splitlines()
    assert lines[1].startswith("forward") and lines[2].startswith("reverse")
    assert lines[3].startswith("numeric (richardson)")
    assert "agree" in lines[-1]


# Literals ---------------------------------------------------------------------------------

def test_matrix_literals():
    it = Interpreter()
    A = it.eval("[[1, 2, 3], [4, 5, 6]]")
    assert A.dtype == np.float64 and A.shape == (2, 3)
    np.testing.assert_array_equal(A, [[1, 2, 3], [4, 5, 6]])
    x = it.eval("y = 2\n[y, y^2, -y]")
    np.testing.assert_array_equal(x, [2, 4, -2])
    T = it.eval("[[[1, 2], [3, 4]], [[5, 6], [7, 8]]]")
    assert T.shape == (2, 2, 2) and T[1, 0, 1] == 6


@pytest.mark.parametrize("source, shapes", [
    ("x = [[1, 2], [3]]", ("(2,)", "(1,)")),
    ("x = [[1, 2], 3]", ("(2,)", "()")),
    ("x = [[[1, 2], [3, 4]], [[1, 2]]]", ("(2, 2)", "(1, 2)")),
])
def test_a_ragged_literal_is_a_shape_error_naming_the_shapes(source, shapes):
    with pytest.raises(ShapeError) as caught:
        Interpreter().run(source)
    error = caught.value
    assert "same shape" in error.message
    for shape in shapes:
        assert shape in error.message
    assert (error.line, error.column) == (1, 5)


# Indexing and slicing ---------------------------------------------------------------------

@pytest.mark.parametrize("source, expected", [
    ("A[0]", [1, 2, 3]),
    ("A[1, 2]", 6),
    ("A[-1]", [7, 8, 9]),
    ("A[-1, -3]", 7),
    ("A[:, 0]", [1, 4, 7]),
    ("A[:, -1]", [3, 6, 9]),
    ("A[1:3]", [[4, 5, 6], [7, 8, 9]]),
    ("A[1:]", [[4, 5, 6], [7, 8, 9]]),
    ("A[:1]", [[1, 2, 3]]),
    ("A[0:2, 1:3]", [[2, 3], [5, 6]]),
    ("A[-2:, 0]", [4, 7]),
    ("v[0]", 10),
    ("v[-1]", 40),
    ("v[1:3]", [20, 30]),
    ("v[:-1]", [10, 20, 30]),
])
def test_indexing_is_zero_based_like_numpy(source, expected):
    it = Interpreter()
    it.run("A = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]\nv = [10, 20, 30, 40]")
    got = it.eval(source)
    if isinstance(expected, list):
        np.testing.assert_array_equal(got, expected)
    else:
        assert got == float(expected) and type(got) is float


@pytest.mark.parametrize("source, column", [
    ("A[3]", 1), ("A[-4]", 1), ("A[0, 0, 0]", 1), ("A[0.5]", 3),
])
def test_bad_indices_are_errors_at_the_index(source, column):
    it = Interpreter()
    it.run("A = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]")
    with pytest.raises(DiffiError) as caught:
        it.run(source)
    assert "index" in caught.value.message
    assert (caught.value.line, caught.value.column) == (1, column)


def test_gradient_through_indexing_scatters_into_the_shape():
    it = Interpreter()
    it.run("A = [[1, 2, 3], [4, 5, 6]]")
    np.testing.assert_array_equal(it.eval("grad sum(A[:, 1]^2) + A[-1, 0] wrt A"),
                                  [[0, 4, 0], [1, 10, 0]])


# Shape errors name both shapes and point at the operator ----------------------------------

@pytest.mark.parametrize("line, column, shapes, operator", [
    ("C = A + B", 7, ("(2, 2)", "(3,)"), "+"),
    ("C = A @ B", 7, ("(2, 2)", "(3,)"), "@"),
    ("C = B * A - 1", 7, ("(3,)", "(2, 2)"), "*"),
    ("C = A / ones(2, 3)", 7, ("(2, 2)", "(2, 3)"), "/"),
])
def test_shape_errors_name_both_shapes_and_point_at_the_operator(line, column, shapes,
                                                                operator):
    it = Interpreter()
    source = f"A = [[1, 2], [3, 4]]\nB = [1, 2, 3]\n{line}"
    with pytest.raises(ShapeError) as caught:
        it.run(source)
    error = caught.value
    for shape in shapes:
        assert shape in error.message
    assert operator in error.message
    assert (error.line, error.column) == (3, column)
    assert "C" not in it                                  # nothing half-made


def test_a_shape_error_inside_a_function_points_into_its_body():
    it = Interpreter()
    with pytest.raises(ShapeError) as caught:
        it.run("f(X, Y) = sum(X @ Y)\nf([[1, 2], [3, 4]], [1, 2, 3])")
    assert "(2, 2)" in caught.value.message and "(3,)" in caught.value.message
    assert (caught.value.line, caught.value.column) == (1, 17)


@pytest.mark.parametrize("source, column, words", [
    ("reshape([1, 2, 3], 2, 2)", 1, ("(3,)", "reshape")),
    ("concat([[1, 2]], [[1, 2, 3]])", 1, ("(1, 2)", "(1, 3)")),
    ("dot([1, 2], [1, 2, 3])", 1, ("(2,)", "(3,)")),
    ("x = 1; sum([1, 2], 1)", 8, ("axis 1", "(2,)")),
])
def test_built_in_shape_errors(source, column, words):
    with pytest.raises(ShapeError) as caught:
        Interpreter().run(source)
    for word in words:
        assert word in caught.value.message
    assert caught.value.column == column


# softmax and logsumexp: stable for large inputs ------------------------------------------

def test_softmax_and_logsumexp_are_stable_at_plus_and_minus_1000():
    it = Interpreter(warn=lambda message, span: pytest.fail(message))
    np.testing.assert_array_equal(it.eval("softmax([1000, 1000])"), [0.5, 0.5])
    np.testing.assert_array_equal(it.eval("softmax([-1000, -1000, -1000, -1000])"), [0.25] * 4)
    assert it.eval("logsumexp([1000, 1000])") == 1000 + math.log(2)
    assert it.eval("logsumexp([-1000, -1000])") == -1000 + math.log(2)
    np.testing.assert_allclose(it.eval("softmax([1000, 999, -1000])"),
                               [1 / (1 + math.exp(-1)), 1 / (1 + math.e), 0], rtol=1e-15)
    rows = it.eval("logsumexp([[1000, 0], [-1000, -1000], [0, 0]])")
    np.testing.assert_allclose(rows, [1000, -1000 + math.log(2), math.log(2)], rtol=1e-15)
    g = it.eval("grad logsumexp(u) wrt u at u = [1000, 1000, -1000]")
    np.testing.assert_allclose(g, [0.5, 0.5, 0], rtol=1e-13, atol=0)
    it["c"] = np.array([1.0, 2.0, 3.0])
    for mode in ("reverse", "forward"):
        g = it.grad("sum(softmax(u) * c)", wrt="u", at={"u": np.array([1000.0, 1000.0, -1000.0])},
                    mode=mode)
        assert np.all(np.isfinite(g))
        np.testing.assert_allclose(g, [-0.25, 0.25, 0], atol=1e-15)
    loss = it.eval("u = [[1000, -1000, 0]]\ny = [[0, 1, 0]]\n"
                   "-mean(sum(u*y, 1) - logsumexp(u))")
    assert loss == 2000.0                                   # a finite loss, not inf - inf


@pytest.mark.parametrize("big", ["1000", "1e10", "1e16"])
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_the_gradient_of_logsumexp_is_softmax_at_any_magnitude(big, mode):
    # ∂logsumexp(u)/∂u = softmax(u), which is [1/2, 1/2] here whatever the magnitude;
    # computing it as exp(u - logsumexp(u)) loses the digits that log 2 has below the
    # rounding of logsumexp(u) (at 1e16, all of them: it gives [1, 1]).
    it = Interpreter()
    g = it.eval(f"grad logsumexp(u) wrt u at u = [{big}, {big}] using {mode}")
    np.testing.assert_allclose(g, [0.5, 0.5], rtol=1e-15, atol=0)
    np.testing.assert_allclose(it.eval(f"softmax([{big}, {big}])"), [0.5, 0.5], rtol=1e-15)


# Constructors ------------------------------------------------------------------------------

def test_constructors():
    it = Interpreter()
    np.testing.assert_array_equal(it.eval("zeros(2, 3)"), np.zeros((2, 3)))
    np.testing.assert_array_equal(it.eval("ones(4)"), np.ones(4))
    np.testing.assert_array_equal(it.eval("eye(3)"), np.eye(3))
    np.testing.assert_allclose(it.eval("linspace(0, 1, 5)"), [0, 0.25, 0.5, 0.75, 1],
                               rtol=0, atol=0)
    assert it.eval("shape(zeros(2, 3, 4))") == (2.0, 3.0, 4.0)
    assert it.eval("size(zeros(2, 3, 4))") == 24.0
    assert it.eval("shape([1, 2])[0]") == 2.0


def test_randn_is_reproducible_with_seed_across_interpreters():
    first, second = Interpreter(), Interpreter()
    a = first.eval("seed(7)\nrandn(3, 4)")
    b = second.eval("seed(7)\nrandn(3, 4)")
    assert a.shape == (3, 4)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first.eval("randn(3, 4)"), a)         # the stream moves on
    assert not np.array_equal(second.eval("seed(8)\nrandn(3, 4)"), a)
    samples = first.eval("seed(1)\nrandn(100, 100)")
    assert abs(samples.mean()) < 0.05 and abs(samples.std() - 1) < 0.05


def test_each_interpreter_has_its_own_random_numbers():
    # Two sessions seeded alike draw alike, however their statements interleave.
    first, second = Interpreter(), Interpreter()
    first.run("seed(3)")
    second.run("seed(3)")
    a = first.eval("randn(5)")
    b = second.eval("randn(5)")
    np.testing.assert_array_equal(a, b)
    # A fresh, unseeded session starts from the same state every time, as a script does.
    np.testing.assert_array_equal(Interpreter().eval("randn(4)"), Interpreter().eval("randn(4)"))


def test_randn_weights_are_not_redrawn_by_a_derivative():
    it = Interpreter()
    x = it.eval("seed(2)\nX = randn(3)\nX")
    it.run("w = 2\ny = sum(X) * w")
    assert it.eval("d/dw y") == pytest.approx(x.sum(), rel=1e-15)
    np.testing.assert_array_equal(it["X"], x)


def test_onehot():
    it = Interpreter()
    np.testing.assert_array_equal(it.eval("onehot([0, 2, 1, 2], 3)"),
                                  [[1, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0, 1]])
    np.testing.assert_array_equal(it.eval("onehot([1], 4)"), [[0, 1, 0, 0]])
    np.testing.assert_array_equal(it.eval("onehot(1, 4)"), [0, 1, 0, 0])   # one label: a row
    assert it.eval("shape(onehot([[0, 1], [2, 0]], 3))") == (2.0, 2.0, 3.0)
    with pytest.raises(DiffiError) as caught:
        it.run("onehot([0, 3], 3)")
    assert "0 to 2" in caught.value.message and caught.value.column == 1
    with pytest.raises(DiffiError) as caught:          # not silently truncated to 0
        it.run("onehot([0.5, 1], 2)")
    assert "whole" in caught.value.message


def test_argmax():
    it = Interpreter()
    assert it.eval("argmax([3, 7, 1])") == 1.0
    assert it.eval("argmax([2, 9, 9])") == 1.0                      # ties: the first
    np.testing.assert_array_equal(it.eval("argmax([[1, 5, 2], [7, 0, 3]], 1)"), [1, 0])
    np.testing.assert_array_equal(it.eval("argmax([[1, 5, 2], [7, 0, 3]], 0)"), [1, 0, 1])
    # accuracy as in the examples: booleans average to a fraction
    assert it.eval("mean(argmax([[1, 5], [7, 0], [0, 1]], 1) == [1, 0, 0])") == 2 / 3


def test_argmax_takes_the_axis_as_a_keyword_like_the_reductions():
    # Calls take keyword arguments (sum(A, axis = 1)); docs/tensors.md writes
    # accuracy = mean(argmax(U, axis = 1) == labels).
    it = Interpreter()
    np.testing.assert_array_equal(it.eval("argmax([[1, 5, 2], [7, 0, 3]], axis = 1)"), [1, 0])


# load ----------------------------------------------------------------------------------------

CSV = "a,b,label\n1.5,2,0\n-3,4.25,1\n\n5,6e-1,2\n"
LOADED = [[1.5, 2, 0], [-3, 4.25, 1], [5, 0.6, 2]]


def test_load_reads_numbers_and_skips_the_header(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text(CSV, encoding="utf-8")
    it = Interpreter(files=True)
    np.testing.assert_array_equal(it.eval(f'load("{path.as_posix()}")'), LOADED)


def test_load_resolves_against_the_working_directory_outside_a_script(tmp_path, monkeypatch):
    (tmp_path / "data.csv").write_text(CSV, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    np.testing.assert_array_equal(Interpreter(files=True).eval('load("data.csv")'),
                                  LOADED)


def _run_diffi(cwd, *args):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "diffi", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_load_in_a_script_is_relative_to_the_script_folder(tmp_path):
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "data.csv").write_text(CSV, encoding="utf-8")
    (folder / "model.dfi").write_text('D = load("data.csv")\nsum(D[:, 2])\nshape(D)\n',
                                      encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = _run_diffi(elsewhere, str(folder / "model.dfi"))
    assert done.returncode == 0, done.stderr
    assert done.stdout == "3\n(3, 3)\n"
    # -c has no script: the working directory
    done = _run_diffi(folder, "-c", 'size(load("data.csv"))')
    assert (done.returncode, done.stdout) == (0, "9\n")
    done = _run_diffi(elsewhere, "-c", 'size(load("data.csv"))')
    assert done.returncode == 1 and "cannot read data.csv" in done.stderr


def test_load_errors(tmp_path):
    (tmp_path / "words.csv").write_text("x,y\n1,two\n", encoding="utf-8")
    it = Interpreter(files=True)
    it.base_dir = str(tmp_path)
    with pytest.raises(DiffiError) as caught:
        it.run('x = 1\nD = load("missing.csv")')
    assert "missing.csv" in caught.value.message
    assert (caught.value.line, caught.value.column) == (2, 5)
    with pytest.raises(DiffiError) as caught:
        it.run('load("words.csv")')
    assert caught.value.message == "words.csv, line 2, column 3: cell 2 is not a number"
    with pytest.raises(DiffiError) as caught:
        it.run("load(3)")
    assert "file name" in caught.value.message


def test_an_interpreter_without_files_refuses_load(tmp_path):
    (tmp_path / "data.csv").write_text(CSV, encoding="utf-8")
    it = Interpreter(files=False)
    it.base_dir = str(tmp_path)
    with pytest.raises(DiffiError) as caught:
        it.run('x = 2\nD = load("data.csv")')
    assert "switched off" in caught.value.message
    assert (caught.value.line, caught.value.column) == (2, 5)
    assert "D" not in it
    np.testing.assert_array_equal(
        Interpreter(files=True).eval(f'load("{tmp_path / "data.csv"}")'), LOADED)
    with pytest.raises(DiffiError, match="switched off"):  # the API's default
        Interpreter().eval(f'load("{tmp_path / "data.csv"}")')


# Limits --------------------------------------------------------------------------------------

def test_numeric_mode_refuses_tensors_over_10000_elements():
    it = Interpreter()
    with pytest.raises(DiffiError) as caught:
        it.run("B = ones(101, 100)\ngrad sum(B^2) wrt B using numeric")
    message = caught.value.message
    assert "10100" in message and "10000" in message and "B" in message
    assert (caught.value.line, caught.value.column) == (2, 1)
    with pytest.raises(DiffiError):
        it.grad("sum(B^2)", wrt="B", mode="numeric", method="richardson")
    assert it.grad("sum(B^2)", wrt="B").shape == (101, 100)        # reverse mode: no limit


def test_numeric_mode_takes_exactly_10000_elements():
    it = Interpreter()
    it["B"] = np.full((100, 100), 2.0)
    g = it.grad("sum(B)", wrt="B", mode="numeric")
    assert g.shape == (100, 100)
    np.testing.assert_allclose(g, 1.0, rtol=1e-6)     # central differences of a long sum


def test_max_elements_limits_constructors():
    it = Interpreter(max_elements=1000)
    with pytest.raises(diffi.LimitError) as caught:
        it.run("W = randn(100, 100)")
    assert "max_elements" in caught.value.message
    assert it.eval("size(zeros(10, 100))") == 1000.0


# The Python API with arrays -------------------------------------------------------------------

def test_tensors_round_trip_through_the_python_api():
    it = Interpreter()
    W = np.arange(6).reshape(2, 3)                        # integers become float64
    it["W"] = W
    got = it["W"]
    assert isinstance(got, np.ndarray) and got.dtype == np.float64 and got.shape == (2, 3)
    np.testing.assert_array_equal(got, W)
    got[0, 0] = 99.0                                      # copies both ways
    W[0, 1] = 99
    np.testing.assert_array_equal(it["W"], [[0, 1, 2], [3, 4, 5]])
    assert it.eval("sum(W)") == 15.0
    it["v"] = [1, 2]                                      # a list is a tensor too
    np.testing.assert_array_equal(it.eval("v @ W"), [6, 9, 12])
    assert it.eval("shape(W)") == (2.0, 3.0)


def test_api_grad_returns_arrays_of_the_variables_shapes():
    X, labels, Y, W, V, loss, dW, dV = _mlp(7, n=8, d=3, m=4, c=2)
    it = Interpreter()
    it["X"], it["Y"] = X, Y
    it.run(MLP)
    gW, gV = it.grad("L(W, V)", wrt=["W", "V"], at={"W": W, "V": V})
    assert gW.shape == W.shape and gV.shape == V.shape
    assert _relative(gW, dW) <= 1e-12 and _relative(gV, dV) <= 1e-12
    assert "W" not in it and "V" not in it                # the point binds nothing
    one = it.grad("L(W, V)", wrt="V", at={"W": W, "V": V})
    assert isinstance(one, np.ndarray) and one.shape == V.shape
    assert _relative(one, dV) <= 1e-12
    f = it["L"]
    assert abs(f(W, V) - loss) <= 1e-12 * loss


# jacobian and hessian by tensor variables ---------------------------------------------------

@pytest.mark.parametrize("mode", ["", " using forward", " using reverse"])
def test_jacobian_by_a_vector_has_a_column_per_element(mode):
    it = Interpreter()
    np.testing.assert_array_equal(it.eval(f"jacobian a^2 wrt a at a = [1, 2]{mode}"),
                                  [[2, 0], [0, 4]])
    np.testing.assert_array_equal(
        it.eval(f"jacobian [a[0]^2, a[0]*a[1]] wrt a at a = [1, 2]{mode}"), [[2, 0], [2, 1]])
    np.testing.assert_array_equal(
        it.eval(f"jacobian A @ v wrt v at A = [[1, 2], [3, 4], [5, 6]], v = [1, 1]{mode}"),
        [[1, 2], [3, 4], [5, 6]])


@pytest.mark.parametrize("mode", ["", " using forward", " using reverse", " using numeric"])
def test_jacobian_of_an_empty_output_or_by_an_empty_variable_is_an_empty_matrix(mode):
    it = Interpreter()
    assert it.eval(f"jacobian [] * x at x = 2{mode}").shape == (0, 1)
    assert it.eval(f"jacobian x^2 wrt x at x = []{mode}").shape == (0, 0)
    assert it.eval(f"jacobian [x, 2*x] wrt x, y at x = 1, y = []{mode}").shape == (2, 1)


def test_numeric_jacobian_takes_numeric_modes_method():
    it = Interpreter()
    got = it.eval('jacobian [sin(x), x*y] wrt x, y at x = 2, y = 3 '
                  'using numeric(method = "richardson")')
    np.testing.assert_allclose(got, [[math.cos(2), 0], [3, 2]], rtol=1e-12, atol=1e-13)


def test_a_nonfinite_axis_is_an_error_with_a_position():
    it = Interpreter(warn=lambda message, span: None)
    with pytest.raises(DiffiTypeError, match="whole number, not inf") as caught:
        it.eval("x = 1\nsum(ones(3), 1/0)")
    assert (caught.value.span.line, caught.value.span.column) == (2, 1)


def test_a_reduction_that_overflows_warns_like_arithmetic():
    seen = []
    it = Interpreter(warn=lambda message, span: seen.append(message))
    assert it.eval("sum([1e308, 1e308])") == math.inf
    assert seen == ["value of sum is infinite at a tensor of shape (2,)"]


def test_max_and_min_of_a_tensor_go_by_the_built_ins_names():
    assert (tensors.MAXIMUM.label, tensors.MINIMUM.label) == ("max", "min")
    it = Interpreter()
    it.run("W = [[1, 5], [3, 2]]")
    assert "max(W)" in str(it.backprop("max(W)", wrt=["W"]))


def test_numeric_jacobian_by_a_vector_differences_the_whole_output():
    it = Interpreter()
    got = it.eval("jacobian [x*y, x + y, sin(x)] at x = 1, y = 2 using numeric")
    np.testing.assert_allclose(got, [[2, 1], [1, 1], [np.cos(1), 0]], rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(it.eval("jacobian a^2 wrt a at a = [1, 2] using numeric"),
                               [[2, 0], [0, 4]], rtol=1e-8, atol=1e-9)


def test_hessian_by_tensors_is_symmetric_and_right():
    it = Interpreter()
    np.testing.assert_allclose(it.eval("hessian sum(w^3) wrt w at w = [1, 2]"),
                               [[6, 0], [0, 12]], rtol=1e-8, atol=1e-8)
    got = it.eval("hessian sum(w^2 * v) wrt w, v at w = [1, 2], v = 3")
    np.testing.assert_allclose(got, [[6, 0, 2], [0, 6, 4], [2, 4, 0]], rtol=1e-8, atol=1e-8)


def test_backprop_shows_tensor_rules_and_summarises_big_rows():
    it = Interpreter()
    it.run("seed(0)\nX = randn(50, 3); W = randn(3, 4) * 0.1; V = randn(4, 2) * 0.1\n"
           "L(W, V) = sum(sigmoid(X @ W) @ V)")
    text = str(it.backprop("L(W, V)", wrt=["W", "V"]))
    assert "V̄  = transpose(v2) @ v̄3" in text
    assert "W̄  = transpose(X) @ v̄" in text
    assert "(50, 3) [" in text and "norm" in text      # X summarised, not printed whole
    assert len(text) < 3000


# Residual rules: what compiled training keeps from the forward pass --------------------

def _residual_primitives():
    return [p for p in table.TABLE.values() if p.residual is not None]


def test_every_residual_rule_has_its_backward_rule():
    assert {p.name for p in _residual_primitives()} >= {"sigmoid", "logsumexp"}
    assert all(p.vjp_residual is not None for p in _residual_primitives())


TAILS = np.array([-1000.0, -745.5, -709.9, -709.0, -40.0, -1.0, -1e-9, 0.0, 1e-9, 0.5,
                  3.0, 40.0, 709.0, 709.9, 745.5, 1000.0])


def test_sigmoid_residual_gives_the_same_value_and_an_accurate_slope():
    with np.errstate(all="ignore"):  # as compiled training runs it
        y, slope = table.SIGMOID.residual([TAILS], None)
        assert np.array_equal(y, table.SIGMOID.tensor(TAILS))
        reference = y * table.SIGMOID.tensor(-TAILS)  # the table's partial, y·sigmoid(-x)
    np.testing.assert_allclose(slope, reference, rtol=4e-16, atol=0)
    assert slope[TAILS == 40.0][0] == pytest.approx(math.exp(-40.0), rel=1e-15)
    assert np.all(np.isfinite(slope)) and slope[0] == 0.0 and slope[-1] == 0.0
    (g,) = table.SIGMOID.vjp_residual(np.full(TAILS.shape, 2.0), slope, None)
    np.testing.assert_array_equal(g, 2.0 * slope)


@pytest.mark.parametrize("u", [
    np.array([[1.0, 2.0, 3.0], [-1000.0, 0.0, 1000.0]]),
    np.array([1e16, 1e16 + 4.0, -3.0]),
    np.array([[[0.5, -0.25], [2.0, 2.0]]]),
    np.array(3.0),  # a number is its own last axis
])
def test_logsumexp_residual_gives_the_same_value_and_vjp(u):
    y, kept = tensors.LOGSUMEXP.residual([u], None)
    value = tensors.LOGSUMEXP.compute([u], None)
    assert np.array_equal(np.asarray(y), np.asarray(value))
    g = np.linspace(-1.0, 2.0, np.size(y)).reshape(np.shape(y))
    (mine,) = tensors.LOGSUMEXP.vjp_residual(g, kept, None)
    (plain,) = reader.numeric_cotangents(tensors.LOGSUMEXP)(g, [u], value, None, (True,))
    np.testing.assert_array_equal(mine, plain)
    assert np.shape(mine) == np.shape(u)
    # and both are g times the softmax of u, computed here independently
    z = np.exp(u - np.max(u, axis=-1, keepdims=True)) if np.ndim(u) else np.array(1.0)
    softmax = z / np.sum(z, axis=-1, keepdims=True) if np.ndim(u) else z
    np.testing.assert_allclose(mine, (np.asarray(g)[..., None] if np.ndim(u) else g) * softmax,
                               rtol=1e-15, atol=1e-300)


@pytest.mark.parametrize("expr", ["sum(tanh(W @ x))", "dot(W, x)"])
def test_reverse_mode_asks_a_product_only_for_the_cotangents_it_needs(monkeypatch, expr):
    # W is a constant here: its cotangent (as large as W) must not be computed
    seen = []
    original = reader.cotangents

    def spy(node, ap, g, inputs, output, needs, on_partial=None):
        if node.op in (table.MATMUL, table.DOT):
            seen.append(tuple(needs))
        return original(node, ap, g, inputs, output, needs, on_partial)

    monkeypatch.setattr(reader, "cotangents", spy)
    it = Interpreter()
    it.run("W = [[1, 2], [3, 4]]")
    expr = expr if "sum" in expr else f"sum({expr})"
    grad = it.run(f"grad {expr} wrt x at x = [0.5, -1]")[0]
    assert seen == [(False, True)]
    W, x = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([0.5, -1.0])
    expected = W.T @ (1 - np.tanh(W @ x) ** 2) if "tanh" in expr else W.T @ np.ones(2)
    np.testing.assert_allclose(grad, expected, rtol=1e-14)
