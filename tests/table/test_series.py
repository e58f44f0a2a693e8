"""diffi/table/series.py: the Taylor series arithmetic of the table's `taylor` rules."""
from __future__ import annotations

import math
import time

import pytest

import diffi


def test_a_huge_whole_power_at_zero_is_squared_not_multiplied_one_by_one():
    """x^1e20 at x = 0 took 1e20 series products (a hang without a timeout); squaring
    gives the exact zeros in a few dozen, and small powers stay one by one."""
    it = diffi.Interpreter(timeout=None)
    start = time.perf_counter()
    assert it.run("d2/dx2 x^1e20 at x = 0") == [0.0]
    assert time.perf_counter() - start < 5
    assert it.run("d3/dx3 x^3 at x = 0") == [6.0]
    assert it.run("d20/dx20 x^20 at x = 0")[0] == pytest.approx(math.factorial(20), rel=1e-12)
    assert it.run("d2/dx2 x^[100, 2] at x = 0")[0].tolist() == [0.0, 2.0]
