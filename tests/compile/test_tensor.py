"""The compiled training step against the interpreter: the code that `minimize` writes
(diffi/compile/tensor.py) gives the interpreter's loss and reverse-mode gradient for
losses that exercise each way it writes a cotangent, and whole runs of gd and Adam
follow the interpreted (traced) step's losses and weights over several steps.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from diffi import Interpreter
from diffi.compile import tensor
from diffi.compile.writers import NotCompilable
from diffi.core.problem import Problem
from diffi.directives import training
from diffi.language.parser import parse
from diffi.table import tensors

ROOT = Path(__file__).resolve().parents[2]
DATA = ("seed(3); X = randn(7, 3); Y = onehot([0, 1, 2, 1, 0, 2, 2], 3); "
        "W = randn(3, 4); V = randn(4, 3); c = randn(4); b = 0.7")
WEIGHTS = ["W", "V", "c", "b"]


def compiled_loss_gradient(it, loss: str, names: list):
    """The loss and its gradients by the code compile_problem writes, and the code."""
    ev = it.evaluator
    ev.begin_statement()
    (stmt,) = parse(f"minimize {loss} wrt {', '.join(names)} using gd(steps = 1)")
    values = {n: it[n] for n in names}
    problem = Problem(ev, stmt.expr, ev.globals, None, names, names, values)
    compiled = tensor.compile_problem(problem, values)
    return compiled.value_and_grad(*values.values())


@pytest.mark.parametrize("loss", [
    # the Iris network: residual rules, a mean's and a sum's constant cotangents
    "{ Z = sigmoid(X @ W); U = Z @ V; -mean(sum(U*Y, 1) - logsumexp(U)) }",
    # a constant cotangent into a residual rule and through a broadcast input
    "sum(sigmoid(X @ W)) + mean(X @ W + c)",
    # a scalar weight times a tensor, both ways; a sum along an axis, then a product
    "sum((X @ W) * b) + mean(sum(W, 0) * c) + b^2",
    "sum(W / b) - mean(mean(X @ W, 1) * b)",
    # linear operations: transpose, reshape, an index, concat
    "sum(transpose(X @ W) @ X) + sum(reshape(W, 2, 6)[1, :]^2) + sum(concat(c, c) * 2)",
    "mean((X @ W)[:, 1:3]) + sum(hstack(W, W))",
    # custom rules written as code (vectors, dot, softmax) and read on numbers (norm, max)
    "dot(c, c) + sum(W @ c) + sum(softmax(X @ W @ V) * Y)",
    "norm(X @ W) + max(W @ V) + mean(max(X @ W, 1))",
    "sum(exp(X @ W * 0.1)) + sum(log(abs(V) + 1)) + mean(tanh(X @ W) @ V)",
    # relu beside tanh, softmax through an index; a saturated sigmoid's residual
    "{ Z = tanh(X @ W) + relu(X @ W - 0.1); sum(softmax(Z @ V) * Y) + mean(Z, 0) @ V[:, 0] }",
    "{ s = sigmoid(X @ W * 40); sum(s^2) + logsumexp(sum(s, 1)) }",
])
def test_the_compiled_gradient_is_reverse_modes(loss):
    it = Interpreter()
    it.run(DATA)
    it.run(f"L(W, V, c, b) = {loss}")
    value, grads = compiled_loss_gradient(it, "L(W, V, c, b)", WEIGHTS)
    assert float(value) == pytest.approx(it.eval("L(W, V, c, b)"), rel=1e-13)
    for name, g in zip(WEIGHTS, grads):
        expected = it.grad("L(W, V, c, b)", wrt=[name])
        if np.ndim(expected) and not np.ndim(g):  # a constant gradient may be a number
            g = np.full(np.shape(expected), g)
        assert np.shape(g) == np.shape(expected)
        np.testing.assert_allclose(g, expected, rtol=1e-12, atol=1e-14)


def test_the_iris_step_makes_as_few_numpy_calls_as_a_hand_would():
    # bench/training.py's hand-written step: the forward pass (sigmoid in 4 calls,
    # softmax and logsumexp in 8), then G = (P − Y)/N and three products, in 8 calls
    it = Interpreter()
    it.run(DATA)
    it.run("L(W, V) = { Z = sigmoid(X @ W); U = Z @ V; -mean(sum(U*Y, 1) - logsumexp(U)) }")
    lines = _source(it, "L(W, V)", ["W", "V"]).splitlines()
    forward, backward = lines[:9], lines[9:]
    assert [line.split(" = ")[0] for line in forward] == \
        ["v2", "v3, r3", "v4", "v5", "v6", "v7, r7", "v8", "v9", "v10"]
    # the constant cotangents of the mean and the sum stayed numbers: −Y/N is a
    # constant, P/N one call (the softmax kept by logsumexp, times 1/N), then one sum
    assert backward[0] == "c7 = _vr_logsumexp(0.14285714285714285, r7, None)"
    assert backward[1:3] == ["gv4 = c7[0]", f"gv4 += {backward[2].split()[-1]}"]
    assert backward[2].split()[-1].startswith("_k")  # −Y/N: a constant, added in place
    text = "\n".join(backward)
    assert text.count("_t_matmul(") == 3 and text.count("_vr_sigmoid(") == 1
    assert len(backward) == 8
    assert not any(word in text for word in ("_full", "_vjp_", "_c_", "_unb"))


def _source(it, loss, names):
    """The source value_and_grad was compiled from (as the writer's lines)."""
    lines = []
    original = tensor.ArrayWriter.function

    def spy(self, name, params, body, result):
        lines.extend(body)
        return original(self, name, params, body, result)
    tensor.ArrayWriter.function = spy
    try:
        compiled_loss_gradient(it, loss, names)
    finally:
        tensor.ArrayWriter.function = original
    return "\n".join(lines)


def _interpreted(monkeypatch):
    """Make minimize trace every step (its compiled step unavailable)."""
    def refuse(problem, values):
        raise NotCompilable("the test traces every step")
    monkeypatch.setattr(training, "compile_problem", refuse)


@pytest.mark.parametrize("optimizer", ["gd(rate = 0.1, steps = 12)",
                                       "adam(rate = 0.05, steps = 12)"])
@pytest.mark.parametrize("loss", [
    "{ Z = sigmoid(X @ W); U = Z @ V; -mean(sum(U*Y, 1) - logsumexp(U)) }",
    "{ Z = tanh(X @ W + c) * b; mean(logsumexp(Z @ V) - sum((Z @ V) * Y, 1)) + b^2 }",
])
def test_compiled_runs_follow_the_interpreted_steps(monkeypatch, optimizer, loss):
    runs = []
    for traced in (False, True):
        if traced:
            _interpreted(monkeypatch)
        it = Interpreter()
        it.run(DATA)
        it.run(f"L(W, V, c, b) = {loss}")
        final = it.eval(f"minimize L(W, V, c, b) wrt W, V, c, b using {optimizer}")
        runs.append((final, it.losses, [it[n] for n in WEIGHTS]))
    (final, losses, weights), (final_t, losses_t, weights_t) = runs
    assert len(losses) == 12 and losses[-1] < losses[0]
    np.testing.assert_allclose(losses, losses_t, rtol=1e-12)
    assert final == pytest.approx(final_t, rel=1e-12)
    for w, w_t in zip(weights, weights_t):
        np.testing.assert_allclose(w, w_t, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("ufunc", [np.add, np.maximum])
@pytest.mark.parametrize("classes", [1, 2, 3, 5, 7, 8, 12])
def test_a_short_last_axis_reduces_to_the_same_numbers_by_columns(ufunc, classes):
    # the kernels' chain of calls must give NumPy's reduction bit for bit
    rng = np.random.default_rng(classes)
    x = rng.standard_normal((40, classes)) * 10.0 ** rng.integers(-8, 8, (40, classes))
    x[3, 0] = np.nan
    expected = ufunc.reduce(x, axis=-1)
    np.testing.assert_array_equal(tensors._rows_reduce(ufunc, x), expected)
    np.testing.assert_array_equal(tensors.SUM.kernel(1)(x), np.add.reduce(x, axis=1))
    y, softmax = tensors.LOGSUMEXP.residual([x], None)
    np.testing.assert_array_equal(y, tensors.LOGSUMEXP.compute([x], None))


def test_the_iris_run_follows_hand_derived_gradient_descent():
    # bench/training.py's network and its hand-written NumPy step: 20 steps of each
    it = Interpreter(files=str(ROOT))
    it.base_dir = str(ROOT)
    it.run('data = load("examples/data/iris.csv"); X = hstack(data[:, 2:4], ones(150, 1)); '
           'Y = onehot(data[:, 4], 3); seed(0); W = randn(3, 16) * 0.01; '
           'V = randn(16, 3) * 0.01\n'
           'L(W, V) = { Z = sigmoid(X @ W); U = Z @ V; -mean(sum(U*Y, 1) - logsumexp(U)) }')
    X, Y, W, V = it["X"], it["Y"], it["W"], it["V"]
    it.run("minimize L(W, V) wrt W, V using gd(rate = 0.1, steps = 20)")
    losses = []
    for _ in range(20):
        Z = 1 / (1 + np.exp(-(X @ W)))
        U = Z @ V
        m = U.max(axis=1, keepdims=True)
        E = np.exp(U - m)
        losses.append(-np.mean(np.sum(U * Y, 1) - (m[:, 0] + np.log(E.sum(axis=1)))))
        G = (E / E.sum(axis=1, keepdims=True) - Y) / len(X)
        W, V = W - 0.1 * (X.T @ ((G @ V.T) * Z * (1 - Z))), V - 0.1 * (Z.T @ G)
    np.testing.assert_allclose(it.losses, losses, rtol=1e-13)
    np.testing.assert_allclose(it["W"], W, rtol=1e-12)
    np.testing.assert_allclose(it["V"], V, rtol=1e-12)


def test_the_training_code_is_kept_for_the_next_minimize_statement(monkeypatch):
    """`minimize … steps 1` in a loop compiled its loss every statement (1.2 ms against a
    40 µs step): the code is kept while the weights keep their shapes and the globals the
    loss read stay bound; rebinding one (X), a weight of another shape, or a branch that
    changes compiles again, and every run follows the traced one."""
    made = []
    original = training.compile_problem
    monkeypatch.setattr(training, "compile_problem",
                        lambda problem, values: made.append(1) or original(problem, values))
    program = [DATA, "L(W, V, c, b) = if sum(W) > -100 then "
               "{ Z = tanh(X @ W + c) * b; mean(logsumexp(Z @ V) - sum((Z @ V) * Y, 1)) } "
               "else sum(W^2) + sum(V) + sum(c) + b"]
    step = "minimize L(W, V, c, b) wrt W, V, c, b using gd(rate = 0.05, steps = 2)"
    script = [step] * 3 + ["X = X * 2"] + [step] * 2 + ["W = W - 1000"] + [step] * 2 + [
        "W = randn(3, 4)", "c = randn(4)"] + [step] * 2

    def run(compiled: bool):
        it = Interpreter()
        for line in program:
            it.run(line)
        finals = []
        for line in script:
            if not compiled:
                it.evaluator.compiled.training.clear()
                monkeypatch.setattr(training, "compile_problem", _refuse)
            value = it.run(line)
            finals += value
            if line == step:
                finals += list(it.losses)
        return finals, [it[n] for n in WEIGHTS]

    finals, weights = run(True)
    # compiled at the first statement, after X was rebound, after the branch changed
    # (its first step falls back to tracing and forgets the code), and for new shapes
    # (W's and c's), once each
    assert len(made) == 4, made
    monkeypatch.setattr(training, "compile_problem", _refuse)
    finals_t, weights_t = run(False)
    np.testing.assert_allclose(finals, finals_t, rtol=1e-12)
    for w, w_t in zip(weights, weights_t):
        np.testing.assert_allclose(w, w_t, rtol=1e-12, atol=1e-15)


def _refuse(problem, values):
    raise NotCompilable("the test traces every step")
