"""Training: `minimize L wrt W, V using gd(…) | adam(…)`.

Known optima and exact iterates of gradient descent, Adam's update, in-place weights,
the statement's value, the `losses` history, the progress protocol (Python API) and
its lines on stderr (a script run as a subprocess), Ctrl-C, and option errors.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from diffi import LimitError, DiffiError, Interpreter
from diffi.directives import training

ROOT = Path(__file__).resolve().parents[2]
QUADRATIC = "t = [1, -2, 3]\nw = [0, 0, 0]\nL(w) = sum((w - t)^2)"
T = np.array([1.0, -2.0, 3.0])


class Recorder:
    """A progress object that records its calls (and can interrupt at a step)."""

    def __init__(self, interrupt_at=None):
        self.calls = []
        self.interrupt_at = interrupt_at

    def start(self, steps):
        self.calls.append(("start", steps))

    def update(self, step, loss):
        self.calls.append(("update", step, loss))
        if step == self.interrupt_at:
            raise KeyboardInterrupt

    def finish(self, interrupted):
        self.calls.append(("finish", interrupted))


# Gradient descent: exact iterates and known optima -----------------------------------------

def test_gd_follows_its_exact_iterates():
    # ∇L = 2(w − t), so w_k − t = (1 − 2·rate)^k (w_0 − t) and L(w_k) = 0.64^k·|t|².
    it = Interpreter()
    it.run(QUADRATIC)
    final = it.eval("minimize L(w) wrt w using gd(rate = 0.1, steps = 20)")
    w = it["w"]
    np.testing.assert_allclose(w, T * (1 - 0.8 ** 20), rtol=1e-13)
    assert final == pytest.approx(0.64 ** 20 * 14, rel=1e-12)
    np.testing.assert_allclose(it.losses, [0.64 ** k * 14 for k in range(20)], rtol=1e-12)


def test_gd_updates_all_variables_from_the_same_point():
    # One step on a·b: a ← a − r·b and b ← b − r·a, both with the old values.
    it = Interpreter()
    it.run("a = 2\nb = 5")
    it.run("minimize a*b wrt a, b using gd(rate = 0.1, steps = 1)")
    assert it["a"] == pytest.approx(2 - 0.1 * 5, rel=1e-15)
    assert it["b"] == pytest.approx(5 - 0.1 * 2, rel=1e-15)
    assert type(it["a"]) is float


def test_gd_solves_least_squares():
    rng = np.random.default_rng(4)
    X = np.linalg.qr(rng.standard_normal((40, 3)))[0] * np.sqrt(40)   # well conditioned
    w_true = np.array([0.5, -1.5, 2.0])
    it = Interpreter()
    it["X"], it["y"] = X, X @ w_true + 0.25
    it.run("w = zeros(3)\nb = 0")
    final = it.eval("minimize mean((X @ w + b - y)^2) wrt w, b using gd(rate = 0.2, "
                    "steps = 200)")
    np.testing.assert_allclose(it["w"], w_true, atol=1e-10)
    assert it["b"] == pytest.approx(0.25, abs=1e-10)
    assert final < 1e-20


def test_adam_reaches_the_optimum_of_a_matrix_and_a_number():
    it = Interpreter()
    it.run("T = [[1, -2], [3, 0.5]]\nW = zeros(2, 2)\nb = 0")
    final = it.eval("minimize sum((W - T)^2) + (b - 2)^2 wrt W, b using "
                    "adam(rate = 0.05, steps = 500)")
    np.testing.assert_allclose(it["W"], [[1, -2], [3, 0.5]], atol=1e-6)
    assert it["b"] == pytest.approx(2, abs=1e-6)
    assert it["W"].shape == (2, 2)
    assert final < 1e-10


def test_adams_first_step_is_rate_times_the_gradients_sign():
    # m̂ = g and v̂ = g² after one step, so the step is rate·g/(|g| + eps).
    it = Interpreter()
    it.run(QUADRATIC + "\nb = 0")
    it.run("minimize L(w) + (b - 2)^2 wrt w, b using adam(rate = 0.1, steps = 1)")
    np.testing.assert_allclose(it["w"], [0.1, -0.1, 0.1], rtol=1e-7)
    assert it["b"] == pytest.approx(0.1, rel=1e-7)
    it.run("w = [0, 0, 0]\nb = 0")
    it.run("minimize L(w) + (b - 2)^2 wrt w, b using adam(rate = 0.1, steps = 1, "
           "beta1 = 0.5, beta2 = 0.9, eps = 1)")
    g = 2 * (np.zeros(3) - T)                                   # [-2, 4, -6]
    np.testing.assert_allclose(it["w"], -0.1 * g / (np.abs(g) + 1), rtol=1e-14)
    assert it["b"] == pytest.approx(0.1 * 4 / 5, rel=1e-14)


def test_an_mlp_learns_a_separable_problem():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 2))
    labels = (X[:, 0] + X[:, 1] > 0).astype(float)
    it = Interpreter()
    it["X"] = np.hstack([X, np.ones((60, 1))])
    it["labels"] = labels
    it.run("Y = onehot(labels, 2)\nseed(0)\nW = randn(3, 4) * 0.5\nV = randn(4, 2) * 0.5\n"
           "L(W, V) = { U = sigmoid(X @ W) @ V; -mean(sum(U*Y, 1) - logsumexp(U)) }")
    before = it.eval("L(W, V)")
    it.run("minimize L(W, V) wrt W, V using adam(rate = 0.05, steps = 300)")
    assert it.eval("L(W, V)") < before / 4
    assert it.eval("mean(argmax(sigmoid(X @ W) @ V, 1) == labels)") >= 0.95
    assert it["W"].shape == (3, 4) and it["V"].shape == (4, 2)


# Compiled steps -----------------------------------------------------------------------------------

@pytest.fixture()
def steppers(monkeypatch):
    """The Stepper of every minimize run, to see whether its steps were compiled."""
    made = []

    class Recording(training.Stepper):
        def __init__(self, *args):
            super().__init__(*args)
            made.append(self)
    monkeypatch.setattr(training, "Stepper", Recording)
    return made


def test_the_mlp_trains_by_its_compiled_step_throughout(steppers):
    it = Interpreter()
    it.run("seed(1); X = randn(20, 3); Y = onehot(randn(20) > 0, 2); W = randn(3, 4); "
           "V = randn(4, 2)\nL(W, V) = { U = sigmoid(X @ W) @ V; "
           "-mean(sum(U*Y, 1) - logsumexp(U)) }")
    it.run("minimize L(W, V) wrt W, V using adam(rate = 0.05, steps = 20)")
    (stepper,) = steppers
    assert stepper.compiled is not None and stepper.fallbacks == 0 and not stepper.failed


def test_a_one_element_loss_is_compiled_too(steppers):
    it = Interpreter()
    it.run("seed(2); X = randn(3, 5); y = randn(1, 5); W = zeros(1, 3)")
    it.run("minimize sum((W @ X - y)^2, 1) wrt W using gd(rate = 0.01, steps = 5)")
    (stepper,) = steppers
    assert stepper.compiled is not None and stepper.fallbacks == 0
    assert it.losses[-1] < it.losses[0]


def test_a_step_that_takes_the_other_branch_is_traced_and_counted(steppers):
    it = Interpreter()
    it.run("w = 4\nL(w) = if w > 2 then (w - 2)^2 + 2*w else w^2")
    it.run("minimize L(w) wrt w using gd(rate = 0.4, steps = 3)")
    # w: 4 -> 4 - 0.4*(4 + 2) = 1.6 (the compiled branch), then the other branch
    assert it.losses[:2].tolist() == [12.0, pytest.approx(1.6 ** 2)]
    assert steppers[0].fallbacks >= 1


def test_a_loss_that_does_not_depend_on_the_weights_leaves_them(steppers):
    it = Interpreter()
    it.run("W = ones(2, 3); X = ones(3, 2)")
    assert it.run("minimize sum(X) wrt W using gd(steps = 3)") == [6.0]
    np.testing.assert_array_equal(it["W"], np.ones((2, 3)))


def test_the_node_budget_is_per_step_when_every_step_is_traced(steppers):
    it = Interpreter(max_nodes=2000)  # and/or has no compiled guard: each step is traced
    it.run("w = 0.5\nL(w) = if w > 0 and w < 10 then (w - 3)^2 else w^2")
    it.run("minimize L(w) wrt w using gd(rate = 0.1, steps = 500)")
    assert it["w"] == pytest.approx(3.0, rel=1e-9)
    assert steppers[0].compiled is None


# The statement: weights in place, its value, `losses` ------------------------------------------

def test_minimize_updates_the_weights_in_place_and_returns_the_final_loss():
    it = Interpreter()
    it.run(QUADRATIC + "\nf(x) = sum(x * w)")                # f reads the global w
    results = it.run("minimize L(w) wrt w using gd(rate = 0.25, steps = 3)")
    assert len(results) == 1                                  # the statement prints its value
    final = results[0]
    assert type(final) is float
    assert final == it.eval("L(w)")                           # the loss at the new weights
    np.testing.assert_allclose(it["w"], T * (1 - 0.5 ** 3), rtol=1e-15)
    assert it.eval("f([1, 1, 1])") == pytest.approx(2 * (1 - 0.5 ** 3), rel=1e-15)
    assert it.run("minimize L(w) wrt w using gd(rate = 0.25, steps = 3);") == []  # silenced


def test_losses_has_one_entry_per_step():
    it = Interpreter()
    assert it.losses is None
    it.run(QUADRATIC)
    it.run("minimize L(w) wrt w using gd(rate = 0.1, steps = 7)")
    assert isinstance(it.losses, np.ndarray) and it.losses.shape == (7,)
    assert it.losses[0] == 14.0                               # the loss before the first update
    np.testing.assert_array_equal(it["losses"], it.losses)
    assert it.eval("size(losses)") == 7.0
    assert it.eval("losses[0]") == 14.0
    it.run("minimize L(w) wrt w using adam(rate = 0.1, steps = 4)")
    assert it.losses.shape == (4,)                            # the last minimize's history
    it.run("minimize L(w) wrt w using gd(steps = 0)")
    assert it.losses.shape == (0,)


def test_defaults_are_documented_values():
    # gd: rate 0.01, steps 100 (training.OPTIMIZERS)
    it = Interpreter()
    it.run("w = 1")
    it.run("minimize (w - 3)^2 wrt w using gd")
    assert it["w"] == pytest.approx(3 - 2 * 0.98 ** 100, rel=1e-12)
    assert it.losses.shape == (100,)
    # adam: rate 0.001, steps 100; while the gradient keeps its sign, every step is a
    # little under `rate` (bias-corrected moments of a slowly shrinking gradient)
    it.run("w = 1")
    it.run("minimize (w - 3)^2 wrt w using adam")
    assert it.losses.shape == (100,)
    assert 1 + 100 * 0.00099 < it["w"] < 1 + 100 * 0.001


# Progress ------------------------------------------------------------------------------------

def test_the_progress_object_sees_start_every_update_and_finish():
    recorder = Recorder()
    it = Interpreter(progress=recorder)
    it.run(QUADRATIC)
    it.run("minimize L(w) wrt w using gd(rate = 0.1, steps = 6)")
    assert recorder.calls[0] == ("start", 6)
    updates = recorder.calls[1:-1]
    assert [c[1] for c in updates] == [1, 2, 3, 4, 5, 6]
    assert all(c[0] == "update" for c in updates)
    np.testing.assert_allclose([c[2] for c in updates], it.losses, rtol=0, atol=0)
    assert recorder.calls[-1] == ("finish", False)


def test_progress_finishes_even_with_zero_steps():
    recorder = Recorder()
    it = Interpreter(progress=recorder)
    it.run("w = 1\nminimize w^2 wrt w using gd(steps = 0)")
    assert recorder.calls == [("start", 0), ("finish", False)]


def _run_diffi(tmp_path, *args):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "diffi", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)


def test_a_script_prints_ten_progress_lines_on_stderr(tmp_path):
    (tmp_path / "train.dfi").write_text(
        "t = [1, -2, 3]\nw = [0, 0, 0]\n"
        "minimize sum((w - t)^2) wrt w using gd(rate = 0.01, steps = 200)\nw\n",
        encoding="utf-8")
    done = _run_diffi(tmp_path, "train.dfi")
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 10, done.stderr
    losses = []
    for k, line in enumerate(lines, start=1):
        match = re.fullmatch(r"step (\d+)/200  loss (\S+)", line)
        assert match, line
        assert int(match.group(1)) == 20 * k
        losses.append(float(match.group(2)))
    # the loss of step k (before its update), to the 6 digits shown: 14·0.98^(2(k−1))
    expected = [14 * 0.98 ** (2 * (20 * k - 1)) for k in range(1, 11)]
    np.testing.assert_allclose(losses, expected, rtol=1e-5)
    out = done.stdout.splitlines()
    assert len(out) == 2                                      # the final loss, then w
    assert float(out[0]) == pytest.approx(14 * 0.98 ** 400, rel=1e-12)
    assert "s/" not in done.stderr and "it/s" not in done.stderr   # no timings


def test_a_short_run_prints_a_line_per_step(tmp_path):
    (tmp_path / "short.dfi").write_text("w = 1\nminimize w^2 wrt w using gd(steps = 3);\n",
                                        encoding="utf-8")
    done = _run_diffi(tmp_path, "short.dfi")
    assert done.returncode == 0 and done.stdout == ""
    assert done.stderr == "step 1/3  loss 1\nstep 2/3  loss 0.9604\nstep 3/3  loss 0.922368\n"


# Ctrl-C ----------------------------------------------------------------------------------------

def _after_steps(k):
    return T * (1 - 0.8 ** k)


def test_ctrl_c_keeps_the_weights_of_the_last_completed_step():
    # a step's weights are the current ones before the step is reported, so a Ctrl-C
    # inside update(5, …) keeps the weights of step 5.
    recorder = Recorder(interrupt_at=5)
    it = Interpreter(progress=recorder)
    it.run(QUADRATIC + "\nb = 1")
    results = it.run("minimize L(w) + b^2 wrt w, b using gd(rate = 0.1, steps = 100)\n"
                     "after = 1")                             # the script goes on
    assert len(results) == 1
    np.testing.assert_allclose(it["w"], _after_steps(5), rtol=1e-14)
    assert it["b"] == pytest.approx(0.8 ** 5, rel=1e-14)      # the same step for b
    assert results[0] == pytest.approx(it.eval("L(w) + b^2"), rel=1e-15)
    assert it.losses.shape == (5,)
    assert recorder.calls[-1] == ("finish", True)
    assert [c[1] for c in recorder.calls if c[0] == "update"] == [1, 2, 3, 4, 5]
    assert it["after"] == 1.0


def test_ctrl_c_during_a_step_keeps_the_previous_step(monkeypatch):
    # An interrupt while step 3 is being computed: the weights of step 2.
    original = training.GradientDescent.step
    calls = {"n": 0}

    def step(self, values, grads):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return original(self, values, grads)

    monkeypatch.setattr(training.GradientDescent, "step", step)
    recorder = Recorder()
    it = Interpreter(progress=recorder)
    it.run(QUADRATIC + "\nb = 1")
    final = it.eval("minimize L(w) + b^2 wrt w, b using gd(rate = 0.1, steps = 100)")
    np.testing.assert_allclose(it["w"], _after_steps(2), rtol=1e-14)
    assert it["b"] == pytest.approx(0.8 ** 2, rel=1e-14)
    assert final == pytest.approx(float(np.sum((_after_steps(2) - T) ** 2)) + 0.8 ** 4,
                                  rel=1e-13)
    assert it.losses.shape == (2,)
    assert recorder.calls[-1] == ("finish", True)


def test_a_second_ctrl_c_while_the_progress_finishes_still_keeps_the_weights():
    class TwiceInterrupted(Recorder):
        def finish(self, interrupted):
            super().finish(interrupted)
            raise KeyboardInterrupt  # the user pressed Ctrl-C again

    it = Interpreter(progress=TwiceInterrupted(interrupt_at=3))
    it.run(QUADRATIC)
    with pytest.raises(KeyboardInterrupt):
        it.run("minimize L(w) wrt w using gd(rate = 0.1, steps = 100)")
    np.testing.assert_allclose(it["w"], _after_steps(3), rtol=1e-14)


def test_no_step_done_leaves_the_bindings_and_their_formulas_alone():
    it = Interpreter()
    it.run("U = 1; W = U + 1")
    it.run("minimize (W - 3)^2 wrt W using gd(rate = 0.1, steps = 0)")
    assert it.eval("d/dU W at U = 5") == 1.0  # W still depends on U


def test_logsumexp_of_a_number_trains():
    it = Interpreter()
    it.run("w = 2; minimize (logsumexp(w) - 1)^2 wrt w using gd(rate = 0.1, steps = 200)")
    assert it["w"] == pytest.approx(1.0, abs=1e-12)


# Errors -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("statement, words, column", [
    ("minimize (w - 1)^2 wrt w using sgd(rate = 0.1)", ("sgd", "gd", "adam"), 32),
    ("minimize (w - 1)^2 wrt w using gd(rat = 0.1)", ("rat", "rate", "steps"), 35),
    ("minimize (w - 1)^2 wrt w using adam(rate = 0.1, momentum = 2)", ("momentum",), 49),
    ("minimize (w - 1)^2 wrt w using gd(rate = -0.1)", ("rate", ">= 0"), 35),
    ("minimize (w - 1)^2 wrt w using gd(rate = inf)", ("rate",), 35),
    ("minimize (w - 1)^2 wrt w using gd(rate = \"fast\")", ("rate",), 35),
    ("minimize (w - 1)^2 wrt w using gd(steps = 2.5)", ("steps", "whole"), None),
    ("minimize (w - 1)^2 wrt w using gd(0.1)", ("named",), None),
    ("minimize (q - 1)^2 wrt q using gd(steps = 2)", ("q", "no value"), 1),
    ("minimize (w - 1)^2 wrt w using forward", ("gd", "adam"), 32),
])
def test_option_errors_are_diffi_errors_with_positions(statement, words, column):
    recorder = Recorder()
    it = Interpreter(progress=recorder)
    it.run("w = 3")
    with pytest.raises(DiffiError) as caught:
        it.run("x = 1\n" + statement)
    error = caught.value
    for word in words:
        assert word in error.message, error.message
    assert error.line == 2
    if column is not None:
        assert error.column == column, error.message
    assert it["w"] == 3.0 and it.losses is None and recorder.calls == []


def test_the_loss_must_be_a_number():
    it = Interpreter()
    it.run("w = 3")
    with pytest.raises(DiffiError) as caught:
        it.run("minimize [w, w^2] wrt w using gd(steps = 2)")
    assert "scalar" in caught.value.message and "internal" not in caught.value.message
    assert caught.value.line == 1
    assert it["w"] == 3.0


def test_only_numbers_and_tensors_are_trained():
    it = Interpreter()
    it.run("f(x) = x")
    with pytest.raises(DiffiError) as caught:
        it.run("minimize f(1) wrt f using gd(steps = 2)")
    assert "'f'" in caught.value.message


def test_minimize_stops_at_the_timeout_and_restores_the_weights():
    it = Interpreter(timeout=0.5)
    it.run("x = 5")
    with pytest.raises(LimitError, match="timeout"):
        it.run("minimize x^2 wrt x using gd(rate = 0.001, steps = 1e12)")
    assert it["x"] == 5.0  # an error (not Ctrl-C) leaves the statement without effect
