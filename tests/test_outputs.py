"""tests/outputs.py: what counts as the same output."""
from __future__ import annotations

import pytest

from outputs import _significant, same_output  # (tests/ is on the path: pytest puts it there)

LINE = "[0.338192989504946, -0.28]\nlargest relative difference: 1.3e-14 (a vs b)"


def test_full_precision_numbers_match_to_12_digits():
    assert same_output(LINE.replace("946", "947"), LINE)
    assert not same_output(LINE.replace("504946", "514946"), LINE)
    assert same_output("x = 2.00000000000001", "x = 2.00000000000002")
    assert same_output("-1.23456789012345e-20", "-1.23456789012346e-20")


def test_check_differences_at_rounding_level_match_whatever_pair_they_name():
    assert same_output(LINE.replace("1.3e-14 (a vs b)", "1.4e-14 (b vs a)"), LINE)
    assert same_output("largest relative difference: 0.0e+00 (all modes): agree",
                       "largest relative difference: 1.1e-16 (reverse vs forward): agree")
    assert not same_output(LINE.replace("1.3e-14", "1.3e-09"), LINE)
    assert not same_output(LINE.replace("1.3e-14 (a vs b)", "1.3e-09 (b vs a)"),
                           LINE.replace("1.3e-14", "1.3e-09"))


@pytest.mark.parametrize("actual, wanted", [
    ("1", "1.0"), ("1e-06", "0.000001"), ("0.5", "0.500000000000001"), ("v01", "v1"),
    ("1.1e-25", "0"), ("0", "5.55e-17"),
    ("0.33819298950494601", "0.338192989504946"),  # 17 digits: more than diffi prints
    ("3.38192989504946e-01", "0.338192989504946"),  # another notation
    ("1000000000000", "999999999999"),  # whole numbers are exact
    ("+0.338192989504946", "0.338192989504947"), ("1.23456789012345e+20", "1.23456789012345e20"),
])
def test_numbers_not_in_full_precision_must_be_spelled_the_same(actual, wanted):
    assert not same_output(actual, wanted)
    assert not same_output(wanted, actual)


def test_text_around_the_numbers_must_be_equal():
    assert not same_output(LINE.replace("-0.28", "-0.28, 1"), LINE)
    assert not same_output(LINE.replace("]", ")"), LINE)


@pytest.mark.parametrize("number, digits", [
    ("0.0012030", 4), ("-1.50e+03", 2), ("1203000", 4), ("0", 0), ("0.338192989504946", 15)])
def test_significant_digits_are_counted_without_leading_or_trailing_zeros(number, digits):
    assert _significant(number) == digits
