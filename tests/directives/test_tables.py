"""The trace tables (diffi/directives/tables.py): every row of a backprop or tangent
table, read as a formula over the rows above it, evaluates to the value it prints."""
from __future__ import annotations

import math
import re

import pytest

import diffi

PROGRAMS = [
    ("cos(w1*x + w0)", {"w1": 2.0, "x": 3.0, "w0": 1.0}),
    ("{ a = x^2; b = 5*a; c = log(a); -b*c }", {"x": 2.0}),
    ("sin(x)*exp(-x/y) + x^y", {"x": 0.7, "y": 1.3}),
    ("sigmoid(w*x) - log(1 + x^2)/w", {"w": -0.4, "x": 1.5}),
    ("max(x, y)*tanh(x - y) + sqrt(x*y)", {"x": 2.0, "y": 0.5}),
    ("2^x*sin(3) + 3^(x*y)", {"x": 0.7, "y": 1.3}),
]


def test_a_constant_function_of_a_literal_stays_written_as_a_call():
    # (the partial of 2^x was printed as 0.693147180559945·v1·ẋ: a student reads log(2))
    it, shown = diffi.Interpreter(), []
    it.execute("explain d/dx 2^x at x = 1", "<test>",
               lambda node: shown.append(it.format_result(node)))
    row = [r for r in _rows(shown[0]) if r[0] == "v\u03071"][0]
    assert row[1] == "v1·log(2)·x\u0307" and row[2] == pytest.approx(2 * math.log(2), 1e-14)
    backward = {row.name: row.formula for row in
                it.backprop("2^x*x", wrt=["x"], at={"x": 1.0}).backward}
    assert "log(2)" in backward["x\u0304"]
MARKS = {"\u0304": "_bar", "\u0307": "_dot"}


def _identifier(name: str) -> str:
    for mark, word in MARKS.items():
        name = name.replace(mark, word)
    return name


def _evaluate(formula: str, env: dict) -> float:
    """A table's formula (with the lecture's · and −) evaluated by diffi at env."""
    source = formula.replace("·", "*").replace("−", "-")
    for name in sorted(env, key=len, reverse=True):
        source = re.sub(rf"(?<![\w\u0304\u0307]){re.escape(name)}(?![\w\u0304\u0307])",
                        _identifier(name), source)
    it = diffi.Interpreter()
    for name, value in env.items():
        it[_identifier(name)] = value
    return it.eval(source)


@pytest.mark.parametrize("expr, point", PROGRAMS, ids=[p[0] for p in PROGRAMS])
def test_every_backprop_row_evaluates_to_its_value(expr, point):
    it = diffi.Interpreter()
    trace = it.backprop(expr, wrt=list(point), at=point)
    env = {}
    for row in trace.forward + trace.backward:
        if row.formula:
            assert _evaluate(row.formula, env) == pytest.approx(row.value, rel=1e-12), row
        env[row.name] = row.value
    assert len(trace.backward) >= len(point)


def _rows(text: str):
    for line in text.splitlines():
        parts = [p.strip() for p in line.split(" = ")]
        if line.startswith("  ") and len(parts) in (2, 3):
            yield parts[0], parts[1] if len(parts) == 3 else "", float(parts[-1])


@pytest.mark.parametrize("expr, point", PROGRAMS, ids=[p[0] for p in PROGRAMS])
def test_every_tangent_row_evaluates_to_its_printed_value(expr, point):
    var = next(iter(point))
    at = ", ".join(f"{k} = {v}" for k, v in point.items())
    it, shown = diffi.Interpreter(), []
    it.execute(f"explain d/d{var} {expr} at {at}", "<test>",
               lambda node: shown.append(it.format_result(node)))
    env, checked = {}, 0
    for name, formula, value in _rows(shown[0]):
        if formula:
            assert _evaluate(formula, env) == pytest.approx(value, rel=1e-12, abs=1e-14)
            checked += 1
        env[name] = value
    assert checked >= 3


def test_tables_align_with_wide_and_combining_characters():
    from diffi.core.values import display_width
    assert display_width("x̄") == 1 and display_width("重量") == 4 and display_width("w1") == 2
    it, shown = diffi.Interpreter(), []
    it.execute("重量 = 2; x = 3; backprop 重量*x wrt 重量, x", "<test>",
               lambda node: shown.append(it.format_result(node)))
    forward, backward = shown[0].split("backward pass")
    for section in (forward, backward):
        rows = [line for line in section.splitlines() if line.startswith("  ")]
        # in each pass, every row's first "=" stands in the same terminal column
        assert len({display_width(line[:line.index(" = ")]) for line in rows}) == 1
    assert "  重量 = 2\n  x    = 3\n" in shown[0]


TENSOR_PROGRAMS = [
    ("sum(W @ v)", {"W": [[1.0, 2.0], [3.0, 4.0]], "v": [5.0, 6.0]}),
    ("sum(v @ W)", {"W": [[1.0, 2.0], [3.0, 4.0]], "v": [5.0, -6.0]}),
    ("sum((W @ M)^2)", {"W": [[1.0, 2.0], [3.0, 4.0]], "M": [[0.5, 1.0], [2.0, -1.0]]}),
    ("dot(v, u) + v @ u", {"v": [5.0, 6.0], "u": [0.5, -2.0]}),
    ("norm(v)*sum(v^2)", {"v": [3.0, 4.0]}),
    ("sum(tanh(W @ v + v))", {"W": [[0.1, 0.2], [0.3, 0.4]], "v": [0.5, -0.6]}),
    ("sum(sum(W, axis = 0)^2) + sum(mean(W, axis = 1)^2) + mean(W)",
     {"W": [[1.0, 2.0, 3.0], [3.0, 4.0, 5.0]]}),
    ("max(v) + min(v^2)*max(v)", {"v": [1.0, 3.0, -3.0, 2.0]}),   # (a tie in min(v^2))
    ("logsumexp(v) + softmax(v) @ v", {"v": [0.1, 0.7, -0.4]}),
]


@pytest.mark.parametrize("expr, point", TENSOR_PROGRAMS, ids=[p[0] for p in TENSOR_PROGRAMS])
def test_every_tensor_backprop_row_evaluates_to_its_value(expr, point):
    # (W̄ = v̄1 @ transpose(v) for W @ v printed [[5, 6], [5, 6]] but evaluated to 11:
    # a vector's adjoint by a matrix is an outer product)
    import numpy as np
    it = diffi.Interpreter()
    point = {name: np.array(value) for name, value in point.items()}
    trace = it.backprop(expr, wrt=list(point), at=point)
    env = {}
    for row in trace.forward + trace.backward:
        if row.formula:
            value = _evaluate(row.formula, env)
            assert np.allclose(value, row.value, rtol=1e-12, atol=0), row
        env[row.name] = row.value
