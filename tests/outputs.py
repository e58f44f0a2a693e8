"""Comparing a program's output with the one a test or a doc expects, and reading
the fenced blocks of Markdown that hold programs and their outputs.

The text must be equal, with two exceptions for the last bits of floating point,
which depend on the BLAS that NumPy ships: a number printed to full precision (12 to
15 significant digits, the same notation in both) may differ relative 1e-12; and a
relative difference that `check` reports at rounding level (below 1e-10), with the
pair of modes it names, matches any other such. A short number ('1', '0.5', '1e-06')
must be spelled the same, and so must one printed with more digits than diffi's
default 15: each means something exact.
"""
from __future__ import annotations

import math
import re
from pathlib import Path

from diffi.core.values import PRECISION

NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?")
ROUNDING_LEVEL = re.compile(r"largest relative difference: (\d\.\de[-+]\d+) \([a-z ]+\)")
FULL_PRECISION = range(12, PRECISION + 1)  # significant digits of a number printed in full
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```\s*$", re.S | re.M)


def blocks(path: Path) -> list[tuple[str, str, int]]:
    """(language, text, line number) of each fenced block in a Markdown file."""
    text = path.read_text(encoding="utf-8")
    return [(m.group(1), m.group(2), text.count("\n", 0, m.start()) + 1)
            for m in FENCE.finditer(text)]


def same_output(actual: str, wanted: str) -> bool:
    """Equal text, full-precision numbers equal to 12 digits, and check's
    rounding-level differences."""
    actual, wanted = _rounding_level(actual), _rounding_level(wanted)
    if NUMBER.split(actual) != NUMBER.split(wanted):
        return False
    return all(_same_number(a, w)
               for a, w in zip(NUMBER.findall(actual), NUMBER.findall(wanted)))


def _same_number(actual: str, wanted: str) -> bool:
    if actual == wanted:
        return True
    if _notation(actual) != _notation(wanted):
        return False
    if _significant(actual) not in FULL_PRECISION or _significant(wanted) not in FULL_PRECISION:
        return False
    return math.isclose(float(actual), float(wanted), rel_tol=1e-12, abs_tol=0.0)


def _notation(number: str) -> tuple:
    """How a number is written apart from its digits: its sign and its exponent's."""
    mantissa, e, exponent = number.partition("e")
    return _sign(mantissa), e, _sign(exponent)


def _sign(digits: str) -> str:
    return digits[:1] if digits[:1] in ("+", "-") else ""


def _significant(number: str) -> int:
    """The significant digits a number is written with, leading and trailing zeros
    aside: '0.0012030' has 4, and so has '1203000' (a whole number is exact)."""
    return len(number.split("e")[0].lstrip("+-").replace(".", "").strip("0"))


def _rounding_level(text: str) -> str:
    return ROUNDING_LEVEL.sub(lambda m: m.group(0) if float(m.group(1)) >= 1e-10 else
                              "largest relative difference: (rounding)", text)
