"""The one rule reader (diffi/table/reader.py), walked over EVERY entry of the table.

Each entry is taken at a point inside its domain and checked, through the reader only:
its tangent against central differences of its own values; its cotangents against its
tangent (⟨g, J·t⟩ = Σ ⟨J_kᵀ·g, t_k⟩); the same tangent and cotangents as formulas
(symbolic mode's backend) and through the general rule where a NumPy fast path exists;
its Taylor series to order 2 against second differences, where it has one; and result
types (Python floats, never NumPy scalars). Then: no module but the reader looks at a
rule's kind, and the probes that showed the seams between the old readers.
"""
from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

import diffi
from diffi import table
from diffi.core.graph import Node
from diffi.core.tensor_calls import Recompute
from diffi.modes import symbolic
from diffi.table import reader
from diffi.table import series as T
from diffi.table.reader import NUMBERS, Numbers

ROOT = Path(__file__).resolve().parents[2]
RNG = np.random.default_rng(7)


def _a(*shape):
    return RNG.uniform(0.2, 0.9, shape)


# name -> (inputs, params): a point inside the domain, differentiable there
POINTS = {
    "add": ((0.3, 0.7), None), "sub": ((0.3, 0.7), None), "mul": ((0.3, 0.7), None),
    "div": ((0.3, 0.7), None), "pow": ((0.3, 0.7), None), "neg": ((0.3,), None),
    "pos": ((0.3,), None), "atan2": ((0.3, 0.7), None), "hypot": ((0.3, 0.7), None),
    "max": ((0.3, 0.7), None), "min": ((0.3, 0.7), None),
    "alias": ((0.3,), None), "report": ((0.3,), None),
    "select": ((True, 0.3), "then"), "ifelse": ((True, 0.3, 0.7), None),
    "tuple": ((0.3, 0.7), None), "vector": ((0.3, 0.7), None),
    "index": ((_a(3),), 1), "scatter": ((0.4,), (1, (3,))), "part": (((0.3, 0.7),), 1),
    "sum": ((_a(2, 3),), 1), "mean": ((_a(2, 3),), 0),
    "max_of": ((np.array([[0.2, 0.9, 0.4], [0.8, 0.1, 0.3]]),), 1),
    "min_of": ((np.array([[0.2, 0.9, 0.4], [0.8, 0.1, 0.3]]),), None),
    "norm": ((_a(4),), None), "transpose": ((_a(2, 3),), None),
    "reshape": ((_a(2, 3),), (3, 2)), "concat": ((_a(2), _a(3)), 0),
    "dot": ((_a(3), _a(3)), None), "matmul": ((_a(2, 3), _a(3, 2)), None),
    "softmax": ((_a(2, 3),), None), "logsumexp": ((_a(2, 3),), None),
    "expand": ((_a(2),), (1, (2, 3))), "broadcast": ((_a(3),), (2, 3)),
    "sum_to": ((_a(2, 3),), (3,)), "linspace": ((0.3, 0.7), 4),
    # a built-in's value from its arguments' (argmax along axis 1): derivative 0
    "value": ((_a(2, 3),), Recompute("argmax", lambda values: np.argmax(
        values[0], axis=1).astype(float))),
}
# entries without a derivative to walk: constants, truth values, a directive's result
NOT_WALKED = {"const", "logic", "weights", "derived"}
# matmul's other shapes: vector·matrix, matrix·vector, batched
MATMUL_SHAPES = [((3,), (3, 2)), ((2, 3), (3,)), ((2, 2, 3), (3, 2))]


def _point(prim):
    """POINTS' entry; else (elementwise functions and zero rules) 0.3 and 0.7 by arity."""
    if prim.name not in POINTS and (prim.numeric or prim.rule.kind == "zero"):
        return (0.3, 0.7)[:max(prim.arity, 1)], None
    return POINTS[prim.name]


def _moving(value):
    """Which inputs carry a derivative (not a branch's condition)."""
    return type(value) is not bool


def _tangent_like(value):
    if isinstance(value, tuple):
        return tuple(_tangent_like(v) for v in value)
    return RNG.normal(size=np.shape(value)) if np.ndim(value) else float(RNG.normal())


def _plus(value, t, h):
    if isinstance(value, tuple):
        return tuple(_plus(v, d, h) for v, d in zip(value, t))
    return value + h * t


def _dot(a, b) -> float:
    if isinstance(a, tuple):
        return sum(_dot(x, y) for x, y in zip(a, b))
    return float(np.sum(np.asarray(a) * np.asarray(b)))


def _node(prim, inputs, params):
    nodes = tuple(Node(table.CONST, (), v) for v in inputs)
    return Node(prim, nodes, prim.compute(list(inputs), params), params=params)


ENTRIES = [p for p in table.TABLE.values() if p.name not in NOT_WALKED]


def test_every_entry_has_a_point():
    missing = [p.name for p in ENTRIES if p.name not in POINTS and not p.numeric
               and p.rule.kind != "zero"]
    assert missing == []


@pytest.mark.parametrize("prim", ENTRIES, ids=lambda p: p.name)
def test_tangent_matches_differences_and_cotangents_match_the_tangent(prim):
    inputs, params = _point(prim)
    node = _node(prim, inputs, params)
    tangents = [_tangent_like(v) if _moving(v) else None for v in inputs]
    tangent = reader.tangent(node, NUMBERS, list(inputs), node.value, tangents)
    if prim.rule.kind == "zero":
        assert tangent is None
        assert reader.cotangents(node, NUMBERS, 1.0, list(inputs), node.value,
                                 [True] * len(inputs)) == [None] * len(inputs)
        return
    h = 1e-6
    up = prim.compute([v if t is None else _plus(v, t, h) for v, t in zip(inputs, tangents)],
                      params)
    down = prim.compute([v if t is None else _plus(v, t, -h) for v, t in
                         zip(inputs, tangents)], params)
    if isinstance(node.value, tuple):
        expected = tuple((np.asarray(u) - np.asarray(d)) / (2 * h) for u, d in zip(up, down))
        for got, want in zip(tangent, expected):
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)
    else:
        np.testing.assert_allclose(tangent, (np.asarray(up) - np.asarray(down)) / (2 * h),
                                   rtol=1e-6, atol=1e-8)
    g = _tangent_like(node.value)
    cotangents = reader.cotangents(node, NUMBERS, g, list(inputs), node.value,
                                   [t is not None for t in tangents])
    pairs = [(c, t) for c, t in zip(cotangents, tangents) if t is not None]
    assert _dot(g, tangent) == pytest.approx(sum(_dot(c, t) for c, t in pairs if c is not None),
                                             rel=1e-12, abs=1e-12)
    for c, v, t in zip(cotangents, inputs, tangents):
        if t is not None and c is not None:
            assert np.shape(c) == np.shape(v)  # each in its input's shape
            assert type(c) in (float, np.ndarray, tuple), type(c)


class General(Numbers):
    """Numbers by the general rule (a backend other than NUMBERS skips the fast paths)."""


@pytest.mark.parametrize("prim", [p for p in ENTRIES if p.rule.kind in ("linear", "custom")],
                         ids=lambda p: p.name)
def test_the_same_rule_on_formulas_and_through_the_general_path(prim):
    inputs, params = _point(prim)
    node = _node(prim, inputs, params)
    tangents = [_tangent_like(v) if _moving(v) else None for v in inputs]
    g = _tangent_like(node.value)
    needs = [t is not None for t in tangents]
    fast_t = reader.tangent(node, NUMBERS, list(inputs), node.value, tangents)
    fast_c = reader.cotangents(node, NUMBERS, g, list(inputs), node.value, needs)
    general = General()
    slow_t = reader.tangent(node, general, list(inputs), node.value, tangents)
    slow_c = reader.cotangents(node, general, g, list(inputs), node.value, needs)
    b = symbolic.Builder()
    symbols = [Node(table.CONST, (), v, name=f"x{k}") for k, v in enumerate(inputs)]
    dots = [None if t is None else Node(table.CONST, (), t, name=f"t{k}")
            for k, t in enumerate(tangents)]
    y = b.ap(prim, *symbols, params=params)
    formula_t = reader.tangent(node, b, symbols, y, dots).value
    formula_c = [None if c is None else c.value for c in
                 reader.cotangents(node, b, b.const(g), symbols, y, needs)]
    _same(slow_t, fast_t)
    _same(formula_t, fast_t)
    for a, c, f in zip(fast_c, slow_c, formula_c):
        _same(c, a)
        _same(f, a)


def _same(got, want):
    if want is None:
        assert got is None or not np.any(got)
    elif isinstance(want, tuple):
        for a, b in zip(got, want):
            _same(a, b)
    else:
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul_cotangents_for_every_shape_numpy_takes(shapes):
    a, b = _a(*shapes[0]), _a(*shapes[1])
    node = _node(table.MATMUL, (a, b), None)
    g = _tangent_like(node.value)
    ta, tb = _tangent_like(a), _tangent_like(b)
    tangent = reader.tangent(node, NUMBERS, [a, b], node.value, [ta, tb])
    for backend in (NUMBERS, General()):
        ca, cb = reader.cotangents(node, backend, g, [a, b], node.value, [True, True])
        assert _dot(g, tangent) == pytest.approx(_dot(ca, ta) + _dot(cb, tb), rel=1e-12)
        assert ca.shape == a.shape and cb.shape == b.shape


# (a tuple's parts have their own series: PART is walked through them)
@pytest.mark.parametrize("prim", [p for p in ENTRIES if reader.has_series(p)
                                  and p.rule.kind != "zero" and p is not table.PART],
                         ids=lambda p: p.name)
def test_taylor_series_to_order_two_matches_second_differences(prim):
    inputs, params = _point(prim)
    node = _node(prim, inputs, params)
    tangents = [_tangent_like(v) if _moving(v) else None for v in inputs]
    series = [T.constant(v, 2) if t is None else [v, t, 0.0 * np.asarray(t)]
              for v, t in zip(inputs, tangents)]
    coefficients = reader.series(node, series, 2)
    h = 1e-4
    values = [prim.compute([v if t is None else _plus(v, t, s * h)
                            for v, t in zip(inputs, tangents)], params) for s in (-1, 0, 1)]
    second = (np.asarray(values[2]) - 2 * np.asarray(values[1]) + np.asarray(values[0])) / h**2
    np.testing.assert_allclose(2 * np.asarray(coefficients[2]), second, rtol=1e-4, atol=1e-5)


def test_a_missing_series_rule_is_one_error_naming_the_operation():
    node = _node(table.SOFTMAX, (_a(3),), None)
    with pytest.raises(reader.MissingRule, match=r"'softmax' has no rule for derivatives "
                                                 r"of order 2"):
        reader.series(node, [[node.inputs[0].value, _a(3), _a(3)]], 2)


def test_no_module_but_the_reader_reads_a_rules_kind_or_fields():
    allowed = {ROOT / "diffi/table/reader.py", ROOT / "diffi/table/rules.py"}
    pattern = re.compile(r"\.rule\b")  # (a Primitive has no other way to its rule)
    offenders = []
    for path in (ROOT / "diffi").rglob("*.py"):
        if path in allowed:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line.split("#")[0]):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_a_primitive_is_declared_once_with_nothing_attached_after():
    with pytest.raises((AttributeError, TypeError)):
        table.MATMUL.vjp = None
    for prim in table.TABLE.values():
        assert not hasattr(prim, "__dict__")
        assert not any(hasattr(prim, f) for f in ("partials", "jvp", "vjp", "taylor"))


# The seams the old readers left, now closed ---------------------------------------------

def _shown(source: str) -> list[str]:
    it, out = diffi.Interpreter(), []
    it.execute(source, "<test>", lambda node: out.append(it.format_result(node)))
    return out


def test_a_product_of_vectors_prints_as_a_number():
    assert _shown("d/dx [x, x] @ [3, 4] at x = 1") == ["7"]
    assert type(diffi.Interpreter().eval("d/dx [x, x] @ [3, 4] at x = 1")) is float


def test_a_vectors_tangent_is_a_vector_and_sums_tangent_is_a_sum():
    text = _shown("explain d/dx sum([x, 2*x]) at x = 1")[0]
    dot = "\u0307"  # (the tables mark a tangent with a combining dot)
    assert f"  v{dot}2 = [x{dot}, v{dot}1] = [1, 2]\n" in text
    assert f"  v{dot}3 = sum(v{dot}2) = 3\n" in text


def test_linspace_is_one_row_in_explain_and_backprop():
    dot, bar = "\u0307", "\u0304"  # (a tangent's and an adjoint's combining marks)
    [explained] = _shown("explain d/dx sum(linspace(0, x, 3)) at x = 0.7")
    assert explained.splitlines() == [
        "forward pass",
        "  x  = 0.7",
        "  v1 = linspace(0, x, 3) = [0, 0.35, 0.7]",
        "  v2 = sum(v1)           = 1.05",
        "tangents (d/dx)",
        f"  x{dot}  = 1",
        f"  v{dot}1 = linspace(0, x{dot}, 3) = [0, 0.5, 1]",
        f"  v{dot}2 = sum(v{dot}1)           = 1.5",
        "d/dx = 1.5"]
    [trace] = _shown("backprop sum(linspace(x, 2*x, 3)) at x = 0.7")
    assert trace.splitlines()[-4:] == [
        f"  v{bar}2 = v{bar}3·ones(3)                       = [1, 1, 1]",
        f"  v{bar}1 = sum(v{bar}2·linspace(0, 1, 3))        = 1.5",
        f"  x{bar}  = 2·v{bar}1 + sum(v{bar}2·linspace(1, 0, 3)) = 4.5",
        "gradient: [4.5]"]


def test_norms_tangent_is_its_rule():
    text = _shown("explain d/dx norm([x, 3]) at x = 4")[0]
    assert "  v\u03072 = sum(v1·v\u03071)/v2 = 0.8\n" in text


def test_a_linear_operation_has_its_symbolic_rule():
    assert _shown("d/dx [x, x^2]") == ["[1, 2*x]"]


def test_a_linear_operation_has_its_higher_derivatives():
    assert _shown("d2/dx2 sum([x, x^3]) at x = 1") == ["6"]


@pytest.mark.parametrize("source, at, exact", [
    ("norm([x, 3])", 4.0, 0.8),
    ("x*norm([x, 3])", 4.0, 5.0 + 16.0 / 5.0),
    ("norm([x, 3*x])", 2.0, math.sqrt(10.0)),
])
def test_norm_has_a_formula_without_a_point(source, at, exact):
    # (its kink is at norm 0: a formula, whose value is unknown, is not at the kink)
    it = diffi.Interpreter()
    formula = it.derivative(source, wrt="x")
    assert formula(at) == pytest.approx(exact, rel=1e-12)
    assert it.derivative(source, wrt="x", at={"x": at}, mode="symbolic") == \
        pytest.approx(exact, rel=1e-12)
