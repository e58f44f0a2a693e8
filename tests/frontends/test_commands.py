"""The `:` commands (diffi/frontends/commands.py), run against an interpreter and a console."""
from __future__ import annotations

import pytest

from diffi import DiffiError, Interpreter
from diffi.frontends.commands import Quit, run_command, vars_table


class Lines:
    """A console that keeps each result."""

    def __init__(self):
        self.lines: list[str] = []

    def result(self, text: str) -> None:
        self.lines.extend(text.splitlines())


def command(line: str, interpreter=None, run_file=None) -> list[str]:
    console = Lines()
    run_command(line, interpreter or Interpreter(), console, run_file or (lambda p: None), 80)
    return console.lines


def test_vars_shows_names_kinds_shapes_and_values():
    it = Interpreter()
    it.run("x = 3; M = [[1, 2, 3], [4, 5, 6]]; f(t) = t^2; p = (1, 2); ok = 1 < 2")
    assert command(":vars", it) == [
        "name  kind      shape  value",
        "x     number           3",
        "M     matrix    2×3    [[1, 2, 3], [4, 5, 6]]",
        "f     function         f(t) = t^2",
        "p     tuple            (1, 2)",
        "ok    boolean          true",
    ]


def test_vars_previews_a_big_tensor_and_fits_the_width():
    it = Interpreter()
    it.run("Z = zeros(1000, 1000)")
    rows = vars_table(it, 60)
    assert rows[1].startswith("Z     matrix  1000×1000  [0, 0, 0")
    assert rows[1].endswith("…") and len(rows[1]) <= 60


def test_vars_with_nothing_defined():
    assert command(":vars") == ["(no names defined)"]


def test_reset_forgets_every_name():
    it = Interpreter()
    it.run("x = 1; f(t) = t")
    command(":reset", it)
    assert it.names() == []


def test_precision_sets_and_shows_the_digits():
    it = Interpreter()
    command(":precision 4", it)
    assert it.run("pi") == [pytest.approx(3.14159265358979)]
    assert it.format(3.14159265358979) == "3.142"
    assert command(":precision", it) == ["precision: 4 significant digits"]


@pytest.mark.parametrize("argument", ["0", "18", "abc", "-3"])
def test_precision_rejects_bad_digits(argument):
    with pytest.raises(DiffiError, match="from 1 to 17"):
        command(f":precision {argument}")


def test_load_passes_the_file_name_on():
    loaded = []
    command(':load "~/models/a.dfi"', run_file=loaded.append)
    assert loaded and loaded[0].endswith("models/a.dfi") and "~" not in loaded[0]


def test_load_needs_a_file_name():
    with pytest.raises(DiffiError, match="takes a file name"):
        command(":load")


@pytest.mark.parametrize("line", [":quit", ":q", ":exit"])
def test_quit(line):
    with pytest.raises(Quit):
        command(line)


def test_unknown_command():
    with pytest.raises(DiffiError, match="unknown command ':frobnicate'; try :help"):
        command(":frobnicate")


def test_help_with_and_without_a_topic():
    assert command(":help")[0].startswith("diffi: a math language")
    assert command(":help hypot")[0] == "hypot(x, y)"
    with pytest.raises(DiffiError, match="did you mean grad"):
        command(":help gard")
    with pytest.raises(DiffiError, match=r"^no help on 'sigma'; did you mean sigmoid or "
                                         r"logistic or σ\?$"):
        command(":help sigma")


def test_threshold_sets_and_shows_when_tensors_summarise():
    it = Interpreter()
    assert command(":threshold", it) == [
        "threshold: tensors of more than 1000 elements print summarised"]
    command(":threshold 5", it)
    assert it.threshold == 5 and it.format(it.eval("linspace(1, 10, 10)")) == \
        "[1, 2, 3, …, 8, 9, 10]"
    command(":threshold off", it)
    assert it.threshold is None
    assert command(":threshold", it) == ["threshold: off (tensors print whole)"]


@pytest.mark.parametrize("argument", ["-1", "abc", "1.5", "1" * 13])
def test_threshold_rejects_a_bad_setting(argument):
    with pytest.raises(DiffiError, match="takes a whole number of elements, or off"):
        command(f":threshold {argument}")


def test_a_help_example_prints_a_warning_with_its_position_as_the_console_does():
    from diffi.errors import Span
    from diffi.frontends.commands import Capture
    capture = Capture()
    capture.warning("x is unused", Span(2, 5, 2, 6))
    assert capture.lines == ["warning: x is unused (line 2, column 5)"]
