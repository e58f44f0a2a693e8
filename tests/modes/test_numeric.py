"""Numeric mode's honesty (diffi/modes/numeric.py, and how check and explain use it):
steps that scale with |x| and stay inside the function's domain, Richardson judged
relative to the result, error estimates that cover the actual error, notes that say
when an estimate cannot be trusted, and check's verdicts on tiny derivatives.

Exact values are closed forms computed here in Python floats.
"""
from __future__ import annotations

import math
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import diffi
from directives.test_directives import Session  # (tests/ is on the path: pytest puts it there)
from diffi.directives import check as check_module
from diffi.modes import numeric
from diffi.frontends.session import make_session

ROOT = Path(__file__).resolve().parents[2]
EPS = 2.0 ** -52
TINY = -199 * math.exp(-100)  # d/dx x*exp(-x^2) at x = 10: (1 - 2x^2) exp(-x^2)
LOGISTIC = "c(n, x) = if n == 0 then x else c(n - 1, 3.7*x*(1 - x))"


def relative(value: float, exact: float) -> float:
    return abs(value - exact) / abs(exact)


def logistic_slope(n: int, x: float) -> float:
    """d/dx of n steps of x -> 3.7 x (1 - x), by the chain rule."""
    slope = 1.0
    for _ in range(n):
        slope *= 3.7 * (1 - 2 * x)
        x = 3.7 * x * (1 - x)
    return slope


class Collected(Session):
    """An interpreter whose warnings are kept as (message, span), and its reports."""

    def report(self, source) -> str:
        nodes = []
        self.it.execute(source, "<input>", nodes.append, echo_silent=True)
        return self.it.format_result(nodes[-1])

    @property
    def messages(self) -> list[str]:
        return [message for message, _ in self.warnings]


@pytest.fixture
def c():
    return Collected()


def run_diffi(tmp_path, source: str):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    return subprocess.run([sys.executable, "-m", "diffi", "-c", source], cwd=tmp_path,
                          env=env, text=True, input="", capture_output=True, timeout=120)


# Steps --------------------------------------------------------------------------------------

def test_the_central_step_scales_with_x_with_a_floor_near_0():
    cube_root = EPS ** (1 / 3)
    assert numeric.default_step(0.01, "central") == pytest.approx(cube_root * 0.01, rel=1e-15)
    assert numeric.default_step(-250.0, "central") == pytest.approx(cube_root * 250, rel=1e-15)
    assert numeric.default_step(0.0, "central") == pytest.approx(cube_root * numeric.FLOOR)
    assert numeric.default_step(1e-4, "forward") == pytest.approx(EPS ** 0.5 * numeric.FLOOR)
    assert numeric.default_step(0.01, "central", 2) == pytest.approx(EPS ** 0.25 * 0.01)


def test_a_step_never_takes_x_across_0():
    # the farthest point, x ± 2h (2h for the error estimate), stays within |x|/2 of x
    for x in (1e-9, -1e-9, 3e-12):
        assert 2 * numeric.default_step(x, "central") <= abs(x) / 2
        assert 2 * numeric.default_step(x, "forward") <= abs(x) / 2
        assert 2 * 2 * numeric.default_step(x, "central", 4) <= abs(x) / 2
    assert numeric.default_step(1e-9, "central") == pytest.approx(1e-9 / 4)


def test_the_step_is_rounded_so_that_both_points_are_the_same_distance_from_x():
    for x, h in ((1.0, 1e-7), (0.3, 6.1e-6), (1e8, 0.37)):
        step = numeric.exact_step(x, h)
        assert (x + step) - x == step and x - (x - step) == step
        assert abs(step - h) <= 2 * EPS * abs(x)


def test_log_near_0_by_central_differences(c):
    # ∛ε·max(1, |x|) was off by 1.2e-7 relative here; a step scaled by |x| is not
    assert relative(c.eval("d/dx log(x) at x = 0.01 using numeric"), 100.0) < 1e-9
    assert relative(c.eval("d/dx log(x) at x = 0.001 using numeric"), 1000.0) < 1e-9
    assert relative(c.eval("d/dx sqrt(x) at x = 1e-4 using numeric"), 50.0) < 1e-9
    assert c.warnings == []


def test_a_function_that_changes_slowly_near_0_gets_the_wider_step(c):
    # exp near 0 changes over a length of 1, not |x|: round-off swamps ∛ε·|x|, so the
    # step for a length of 1 is tried and kept
    text = c.report("explain d/dx exp(x) at x = 1e-4 using numeric")
    assert "step h = 6.06e-6 (and 2h" in text
    assert "(step 6.06e-9 was tried first: error about" in text and "mostly round-off" in text
    assert relative(c.eval("d/dx exp(x) at x = 1e-4 using numeric"), math.exp(1e-4)) < 1e-9


def test_a_function_that_changes_fast_gets_a_narrower_step(c):
    # x*exp(-x^2) at 10 changes over about 1/(2x) = 0.05, not |x| = 10
    assert relative(c.eval("d/dx x*exp(-x^2) at x = 10 using numeric"), TINY) < 1e-8
    text = c.report("explain d/dx x*exp(-x^2) at x = 10 using numeric")
    assert "mostly truncation" in text
    c.it.run(LOGISTIC)
    exact = logistic_slope(30, 0.3)
    assert relative(c.eval("d/dx c(30, x) at x = 0.3 using numeric"), exact) < 1e-5


# Richardson -----------------------------------------------------------------------------------

def test_richardson_is_judged_relative_to_a_tiny_result(c, tmp_path):
    source = 'd/dx x*exp(-x^2) at x = 10 using numeric(method = "richardson")'
    assert relative(c.eval(source), TINY) < 1e-12      # was 2.27e-37: sign and size wrong
    done = run_diffi(tmp_path, source)
    assert done.returncode == 0 and done.stderr == ""
    assert relative(float(done.stdout), TINY) < 1e-12


def test_richardson_starts_again_from_smaller_steps_until_it_is_accepted(c):
    c.it.run(LOGISTIC)
    value = c.eval('d/dx c(30, x) at x = 0.3 using numeric(method = "richardson")')
    assert relative(value, logistic_slope(30, 0.3)) < 1e-8   # was 0.339: from h = 0.1 only
    text = c.report('explain d/dx c(30, x) at x = 0.3 using numeric(method = "richardson")')
    first = float(re.search(r"steps from h = (\S+) down", text).group(1))
    assert first <= 1e-5


def test_an_estimate_that_no_step_makes_trustworthy_says_so(tmp_path):
    done = run_diffi(tmp_path, 'd/dx floor(x) at x = 1 using numeric(method = "richardson")')
    assert done.returncode == 0
    assert done.stderr == (
        "warning: d/dx: numeric derivative uncertain: richardson differences give 9.08333 "
        "with an error estimate of 4.1e+00 (f may have a kink, a jump or a fast wiggle "
        "near 1) (line 1, column 1)\n")


def test_richardson_stops_when_smaller_steps_could_only_be_worse():
    calls = []

    def jump(t):
        calls.append(t)
        return math.floor(t)
    estimate = numeric.derivative(jump, 1.0, 1, "richardson")
    assert estimate.error > 1.0 and estimate.notes
    assert len(calls) <= numeric.ATTEMPTS * 20


# Domains -----------------------------------------------------------------------------------------

def test_no_evaluation_outside_the_domain_goes_unsaid(tmp_path):
    for source in ("check log(x) wrt x at x = 0.05",
                   'd/dx log(x) at x = 0.05 using numeric(method = "richardson")',
                   "d/dx log(x) at x = 0.05 using numeric",
                   "explain d/dx log(x) at x = 0.05 using numeric"):
        done = run_diffi(tmp_path, source)
        assert done.returncode == 0 and done.stderr == "", (source, done.stderr)
    done = run_diffi(tmp_path, "check log(x) wrt x at x = 0.05")
    assert "numeric (richardson)  20.000000000000" in done.stdout


def test_derivatives_by_tensors_and_jacobians_probe_quietly_too(tmp_path):
    done = run_diffi(tmp_path, 'w = [0.05, 1]\n'
                     'd/dw sum(log(w)) using numeric(method = "richardson")\n'
                     'jacobian [log(x), x^2] wrt x at x = 0.05 using numeric(method = '
                     '"richardson")')
    assert done.returncode == 0 and done.stderr == ""
    lines = done.stdout.splitlines()
    first = [float(v) for v in lines[0].strip("[]").split(",")]
    assert relative(first[0], 20.0) < 1e-12 and relative(first[1], 1.0) < 1e-12
    assert relative(float(lines[1].strip("[], ")), 20.0) < 1e-12


def test_the_step_shrinks_to_stay_inside_the_domain():
    seen = []

    def sqrt_of_shifted(t):
        seen.append(t)
        return math.sqrt(t - 1) if t >= 1 else math.nan
    estimate = numeric.derivative(sqrt_of_shifted, 1.05, 1, "richardson")
    assert relative(estimate.value, 0.5 / math.sqrt(0.05)) < 1e-12
    assert estimate.notes == []
    used = [t for t in seen if t >= 1]
    assert min(used) > 1.0   # the probes below 1 were the domain search, then unused


def test_a_domain_it_cannot_stay_inside_is_a_note(tmp_path):
    done = run_diffi(tmp_path, "d/dx sqrt(x - 1) at x = 1 using numeric")
    assert done.stdout == "nan\n"
    assert done.stderr == (
        "warning: d/dx: numeric differences leave the function's domain: f is finite at "
        "x = 1 but not at x - h for any step down to 6.1e-13 (line 1, column 1)\n")


def test_a_step_the_user_chose_that_leaves_the_domain_is_a_note(tmp_path):
    done = run_diffi(tmp_path, "y = 2\nd/dx log(x) at x = 0.05 using numeric(step = 0.1)")
    assert done.stdout == "nan\n"
    assert done.stderr == (
        "warning: d/dx: numeric differences left the function's domain: with step 0.1, f "
        "is not finite at -0.05, though finite at x = 0.05 (line 2, column 1)\n")


def test_a_value_that_is_not_finite_at_the_point_itself_is_warned_about(tmp_path):
    done = run_diffi(tmp_path, "d/dx log(x) at x = -1 using numeric")
    assert done.stdout == "nan\n"
    assert done.stderr == "warning: value of log is nan at -1 (line 1, column 6)\n"


def test_the_explain_sweep_marks_steps_that_leave_the_domain(c):
    text = c.report("explain d/dx log(x) at x = 0.05 using numeric")
    assert "   1e-01   nan                    nan  (a point outside f's domain)" in text
    assert c.warnings == []


def test_domain_notes_in_a_repl_session():
    import io
    out = io.StringIO()
    session = make_session(None, out, out, width=lambda: 80)
    assert session.handle("x0 = 1")
    assert session.handle("d/dx sqrt(x - x0) at x = 1 using numeric")
    assert out.getvalue() == (
        "warning: d/dx: numeric differences leave the function's domain: f is finite at "
        "x = 1 but not at x - h for any step down to 6.1e-13 (line 1, column 1)\nnan\n")


# Error estimates ---------------------------------------------------------------------------

def test_explain_shows_the_estimate_its_error_and_its_round_off(c):
    text = c.report("explain d/dx exp(x) at x = 1 using numeric")
    lines = text.splitlines()
    assert lines[0] == "numeric d/dx by central differences, step h = 6.06e-6 (and 2h, for " \
                       "the error estimate)"
    points = [re.search(r"f\(x = (\S+)\)", line).group(1) for line in lines[1:5]]
    h = numeric.exact_step(1.0, EPS ** (1 / 3))
    assert points == [f"{t:.15g}" for t in (1 + h, 1 - h, 1 + 2 * h, 1 - 2 * h)]
    found = re.search(r"estimate (\S+), error about (\S+) \(round-off (\S+)\)", lines[5])
    value, error, noise = map(float, found.groups())
    assert abs(value - math.e) <= error and 0 < noise <= error < 1e-9


@pytest.mark.parametrize("expr, x, exact", [
    ("sin(100*x)", 1.0, 100 * math.cos(100)),
    ("exp(x)", 50.0, math.exp(50)),
    ("tanh(3*x)", 10.0, 3 / math.cosh(30) ** 2),   # tanh(30) rounds to 1: f is flat
    ("1/x", 0.001, -1e6),
    ("cos(x)", 1e-3, -math.sin(1e-3)),
    ("1/x", 1e-9, -1e18),                          # a pole closer than the first step
    ("exp(x)", 709.0, math.exp(709)),              # values next to float64's largest
    ("1/(x - 2)", 2.001, -1e6),                    # a pole beside the point, not at 0
])
@pytest.mark.parametrize("method", ["central", "richardson", "forward"])
def test_the_error_estimate_covers_the_actual_error(c, expr, x, exact, method):
    text = c.report(f'explain d/dx {expr} at x = {x!r} using numeric(method = "{method}")')
    found = re.search(r"estimate (\S+), error about (\S+)", text)
    value, error = float(found.group(1)), float(found.group(2))
    assert abs(value - exact) <= error, (value, exact, error)


# A property: Richardson on smooth compositions -----------------------------------------

def _smooth(depth: int):
    leaf = st.sampled_from(["x", "(x + 0.5)", "(0.3*x - 1)", "1.7"])
    if depth == 0:
        return leaf
    inner = _smooth(depth - 1)
    return st.one_of(
        leaf,
        inner.map(lambda u: f"exp({u}/4)"),
        inner.map(lambda u: f"sin({u})"),
        inner.map(lambda u: f"log(2 + {u}^2)"),
        inner.map(lambda u: f"({u}^2 - 0.5*{u} + 1)"),
        st.tuples(inner, inner).map(lambda p: f"({p[0]})*({p[1]})"),
        st.tuples(inner, inner).map(lambda p: f"({p[0]} + {p[1]})"),
    )


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(_smooth(3), st.floats(-2.0, 2.0, allow_nan=False).map(lambda v: round(v, 3)))
def test_richardson_agrees_with_forward_or_says_how_far_it_may_be(expr, x):
    it = diffi.Interpreter(warn=lambda message, span: None)
    exact = it.eval(f"d/dx {expr} at x = {x!r}")
    source = f'd/dx {expr} at x = {x!r} using numeric(method = "richardson")'
    value = it.eval(source)
    lines = []
    it.execute("explain " + source, "<input>", lambda node: lines.append(it.format_result(node)))
    error = float(re.search(r"error about (\S+)", lines[0]).group(1))
    actual = abs(value - exact)
    assert actual <= 1e-10 * abs(exact) or actual <= error, (expr, x, value, exact, error)


# check -------------------------------------------------------------------------------------------

def test_check_agrees_on_a_tiny_derivative_computed_right(c, tmp_path):
    done = run_diffi(tmp_path, "check x*exp(-x^2) wrt x at x = 10")
    assert done.returncode == 0
    lines = done.stdout.splitlines()
    assert lines[3].startswith("numeric (richardson)  -7.402951192281")
    assert re.fullmatch(r"largest relative difference: \d\.\de-1[45] \(numeric vs forward\): "
                        r"agree \(tolerance 1e-06\)", lines[5])


def test_check_sees_a_30000_fold_error_on_a_tiny_derivative(c, monkeypatch):
    # numeric mode as it was: 2.27e-37 for -7.40e-42. Relative to max(|a|, |b|, 1) that
    # was a difference of 2.3e-37, "agree"; relative to the values, it is 1.
    real = check_module.numeric_estimate

    def old_richardson(*args, **kwargs):
        estimate = real(*args, **kwargs)
        estimate.value = 2.27295971039606e-37
        return estimate
    monkeypatch.setattr(check_module, "numeric_estimate", old_richardson)
    lines = c.report("check x*exp(-x^2) wrt x at x = 10").splitlines()
    assert lines[-2] == ("largest relative difference: 1.0e+00 (numeric vs forward): "
                         "DISAGREE (tolerance 1e-06)")
    assert lines[-1] == ("likely cause: numeric differences stand apart: truncation or "
                         "round-off error (a step too large or too small)")
    assert c.it.failed_checks == 1


def test_check_names_numeric_when_the_exact_modes_agree(tmp_path):
    done = run_diffi(tmp_path, "check floor(x) wrt x at x = 1")
    assert done.returncode == 1
    assert done.stdout.splitlines()[-1] == (
        "likely cause: numeric differences stand apart: their own error estimate is "
        "4.1e+00: f may have a kink, a jump or a fast wiggle near the point, or values too "
        "large for the step")


def test_check_of_the_logistic_map_agrees_now(c):
    c.it.run(LOGISTIC)
    text = c.report("check c(30, x) wrt x at x = 0.3")
    assert ": agree (tolerance 1e-06)" in text and "likely cause" not in text


def test_check_names_a_kink_that_only_numeric_mode_straddles(c):
    c.it.run("h(x) = if x > 0 then x^2 else -x")
    last = c.report("check h(x) wrt x at x = 0").splitlines()[-1]
    assert last.startswith("likely cause: a non-differentiable point (> at (0, 0)")
    assert last.endswith("numeric differences see both sides of it, the other modes one")


@pytest.mark.parametrize("results, cause", [
    ({"forward": [1.0], "reverse": [2.0], "numeric": [2.0], "symbolic": [2.0]},
     "forward stands apart from the other modes: its derivative rule may be wrong "
     "(forward mode's rules)"),
    ({"forward": [2.0], "reverse": [1.0], "numeric": [2.0], "symbolic": [2.0]},
     "reverse stands apart from the other modes: its derivative rule may be wrong "
     "(reverse mode's rules)"),
    ({"forward": [2.0], "reverse": [2.0], "numeric": [2.0], "symbolic": [3.0]},
     "symbolic stands apart from the other modes: a symbolic rule or a simplification "
     "may be wrong"),
    ({"forward": [2.0], "reverse": [2.0], "numeric": [3.0], "symbolic": [3.0]},
     "the modes split (forward and reverse; numeric and symbolic): a derivative rule may "
     "be wrong"),
    ({"forward": [1.0], "reverse": [2.0], "numeric": [3.0], "symbolic": [4.0]},
     "no two modes agree: a derivative rule may be wrong"),
])
def test_the_likely_cause_names_the_mode_that_stands_apart(results, cause):
    floors = {"exact": [0.0], "numeric": [0.0]}
    assert check_module._likely_cause([], results, floors, []) == cause


def test_check_compares_a_cancelled_derivative_with_its_terms():
    # forward and reverse may round a sum that cancels differently: beside the terms
    # (about 1 here) the difference is round-off, not disagreement
    results = {"forward": [1e-17], "reverse": [-2e-17]}
    assert check_module._largest_difference(results, {"exact": [0.96], "numeric": [0.96]})[0] \
        < 1e-16
    assert check_module._largest_difference(results, {"exact": [0.0], "numeric": [0.0]})[0] \
        == pytest.approx(1.5)


def test_check_of_a_cancelling_sum_agrees(c):
    text = c.report("check sin(x)^2 + cos(x)^2 + x*1e-30 wrt x at x = 1.3")
    assert ": agree (tolerance 1e-06)" in text


@pytest.mark.parametrize("expr, x, exact", [
    ("1/x", 1e-9, -1e18),            # the first start (h = 0.1) reaches across the pole
    ("1/(x - 2)", 2.001, -1e6),
    ("exp(x)", 709.0, math.exp(709)),  # (a·F − b) of the tableau overflowed here)
    ("-exp(x)", 709.5, -math.exp(709.5)),
])
def test_richardson_is_right_beside_a_pole_and_near_overflow(c, expr, x, exact):
    source = f'd/dx {expr} at x = {x!r} using numeric(method = "richardson")'
    assert relative(c.eval(source), exact) < 1e-12   # 1/x was 296; exp(709) 2.8e-4 off
    assert c.messages == []
    text = c.report(f"check {expr} wrt x at x = {x!r}")
    assert ": agree (tolerance 1e-06)" in text and "about inf" not in text


def test_an_error_estimate_near_float64s_largest_value_is_finite():
    estimate = numeric.derivative(lambda t: float(np.exp(t)), 709.0, method="central")
    assert math.isfinite(estimate.error) and math.isfinite(estimate.noise)
    assert abs(estimate.value - math.exp(709)) <= estimate.error < 1e-6 * math.exp(709)


def test_check_says_when_numeric_mode_agrees_only_within_its_round_off(tmp_path):
    done = run_diffi(tmp_path, "check 1e10 + sin(x) wrt x at x = 1")
    assert done.returncode == 0
    lines = done.stdout.splitlines()
    assert ": agree (tolerance 1e-06)" in lines[-2]
    assert re.fullmatch(r"note: numeric differences agree only within their round-off "
                        r"\(about \d\.\de-0\d\): f's values are large beside the change the "
                        r"derivative measures", lines[-1])


def test_numeric_notes_reach_python_as_diffi_warnings():
    it = diffi.Interpreter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = it.derivative("sqrt(x - 1)", wrt="x", at={"x": 1}, mode="numeric")
    assert math.isnan(value)
    assert [str(w.message) for w in caught if w.category is diffi.DiffiWarning] == [
        "d/dx: numeric differences leave the function's domain: f is finite at x = 1 but "
        "not at x - h for any step down to 6.1e-13"]
