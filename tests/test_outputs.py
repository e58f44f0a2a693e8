"""tests/outputs.py: what counts as the same output."""
from __future__ import annotations

from outputs import same_output  # (tests/ is on the path: pytest puts it there)


def test_outputs_match_in_text_and_in_numbers_to_12_digits():
    line = "[0.338192989504946, -0.28]\nlargest relative difference: 1.3e-14 (a vs b)"
    assert same_output(line.replace("946", "947").replace("1.3e-14", "1.4e-14"), line)
    assert not same_output(line.replace("504946", "514946").replace("1.3e-14", "1.4e-14"), line)
    assert not same_output(line.replace("a vs b", "b vs a"), line)
    assert not same_output(line.replace("1.3e-14", "1.3e-09"), line)
    assert not same_output(line.replace("-0.28", "-0.28, 1"), line)
    assert not same_output("1.1e-25", "0")
