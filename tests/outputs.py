"""Comparing a program's output with the one a test or a doc expects.

The text must be equal; a number may differ in its last printed digits (relative
1e-12), since the rounding of matrix products depends on the BLAS that NumPy ships;
and a relative difference that `check` reports at rounding level (below 1e-10)
matches any other such. Every number that means something is still checked to 12
digits.
"""
from __future__ import annotations

import math
import re

NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?")
ROUNDING_LEVEL = re.compile(r"largest relative difference: (\d\.\de-\d+)")


def same_output(actual: str, wanted: str) -> bool:
    """Equal text, numbers equal to 12 digits, and check's rounding-level differences."""
    actual, wanted = _rounding_level(actual), _rounding_level(wanted)
    if NUMBER.split(actual) != NUMBER.split(wanted):
        return False
    return all(math.isclose(float(a), float(w), rel_tol=1e-12, abs_tol=0.0)
               for a, w in zip(NUMBER.findall(actual), NUMBER.findall(wanted)))


def _rounding_level(text: str) -> str:
    return ROUNDING_LEVEL.sub(lambda m: m.group(0) if float(m.group(1)) >= 1e-10 else
                              "largest relative difference: (rounding)", text)
