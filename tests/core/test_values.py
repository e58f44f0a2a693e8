"""How values print (diffi/core/values.py): big tensors summarised as NumPy does, the
session's threshold, the full value on request, and values as JSON-ready data."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from diffi import DiffiError, DiffiSyntaxError, DiffiTypeError, Interpreter, arrays
from diffi.core import values
from diffi.core.values import format_value, summarising, value_data

arrays.np()  # diffi loads NumPy lazily; until it has, it sees no tensors


def printed(source: str, interpreter: Interpreter | None = None) -> list[str]:
    lines: list[str] = []
    it = interpreter or Interpreter(output=lines.append)
    if interpreter is not None:
        it._output = it.evaluator.output = lines.append
    it.execute(source, "<test>", it.show)
    return lines


# Summaries -----------------------------------------------------------------------------

def test_a_long_vector_keeps_three_elements_at_each_end():
    assert format_value(np.arange(1.0, 1002.0)) == "[1, 2, 3, …, 999, 1000, 1001]"


def test_a_vector_at_the_threshold_prints_whole():
    text = format_value(np.arange(1000.0))
    assert "…" not in text and text.endswith("998, 999]")


def test_a_big_matrix_keeps_its_corners_with_columns_aligned():
    matrix = np.arange(1.0, 40_001.0).reshape(200, 200)
    assert format_value(matrix) == (
        "[[    1,     2,     3, …,   198,   199,   200],\n"
        " [  201,   202,   203, …,   398,   399,   400],\n"
        " [  401,   402,   403, …,   598,   599,   600],\n"
        " …,\n"
        " [39401, 39402, 39403, …, 39598, 39599, 39600],\n"
        " [39601, 39602, 39603, …, 39798, 39799, 39800],\n"
        " [39801, 39802, 39803, …, 39998, 39999, 40000]]")


def test_a_short_axis_of_a_big_tensor_is_not_cut():
    text = format_value(np.ones((2, 1000)) > 0)
    assert text == ("[[true, true, true, …, true, true, true],\n"
                    " [true, true, true, …, true, true, true]]")


def test_a_big_three_dimensional_tensor_cuts_its_long_axes():
    text = format_value(np.arange(2000.0).reshape(2, 10, 100))
    lines = text.split("\n")
    assert lines[0] == "[[[   0,    1,    2, …,   97,   98,   99],"
    assert lines[3] == "  …,"
    assert lines[7] == ""  # a blank line between the matrices, as NumPy prints
    assert lines[-1] == "  [1900, 1901, 1902, …, 1997, 1998, 1999]]]"


def test_a_tuple_summarises_its_tensors():
    assert format_value((1.0, np.linspace(0, 1, 1001))) == "(1, [0, 0.001, 0.002, …, 0.998, 0.999, 1])"


def test_threshold_none_prints_every_element():
    assert format_value(np.arange(2000.0), threshold=None).count(",") == 1999


def test_the_summary_formats_only_the_numbers_it_shows(monkeypatch):
    calls = []
    real = values.format_number
    monkeypatch.setattr(values, "format_number", lambda x, d=15: calls.append(x) or real(x, d))
    format_value(np.random.default_rng(0).standard_normal((3000, 3000)))
    assert len(calls) == 36


def test_summarising_sets_the_default_for_the_block():
    with summarising(5):
        assert format_value(np.arange(10.0)) == "[0, 1, 2, …, 7, 8, 9]"
    assert "…" not in format_value(np.arange(10.0))


# In the interpreter: results, print, the setting, errors ------------------------------

def test_results_and_print_summarise_a_big_tensor():
    assert printed("A = linspace(1, 2000, 2000); A\nprint(\"A:\", A)") == [
        "[1, 2, 3, …, 1998, 1999, 2000]", "A: [1, 2, 3, …, 1998, 1999, 2000]"]


def test_print_full_prints_every_element():
    [line] = printed("print(linspace(1, 2000, 2000), full = true)")
    assert line.count(",") == 1999 and "…" not in line


@pytest.mark.parametrize("source, message", [
    ("print(1, whole = true)", "print takes no keyword argument 'whole' (only full)"),
    ("print(1, full = 1)", "full is true or false: print(A, full = true)"),
])
def test_print_rejects_a_bad_option(source, message):
    with pytest.raises(DiffiTypeError) as caught:
        Interpreter().run(source)
    assert caught.value.message == message and caught.value.column == 1


def test_the_interpreter_threshold_changes_what_summarises():
    it = Interpreter()
    assert it.threshold == 1000
    it.threshold = 5
    assert printed("linspace(0, 1, 11)", it) == ["[0, 0.1, 0.2, …, 0.8, 0.9, 1]"]
    assert it.format(np.arange(10.0)) == "[0, 1, 2, …, 7, 8, 9]"
    assert it.format(np.arange(10.0), full=True) == "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]"
    it.threshold = None
    assert printed("linspace(0, 1, 11)", it)[0].count(",") == 10


@pytest.mark.parametrize("bad", [-1, 1.5, "10", True])
def test_a_bad_threshold_is_refused(bad):
    with pytest.raises(DiffiTypeError, match="threshold is a whole number"):
        Interpreter().threshold = bad


def test_an_error_message_summarises_a_big_value():
    it = Interpreter()
    it.threshold = 10
    with pytest.raises(DiffiError) as caught:
        it.run("v = [1, 2]; v[linspace(0, 1, 20)]")
    assert caught.value.message == (
        "an index must be a whole number, not "
        "[0, 0.0526315789473684, 0.105263157894737, …, 0.894736842105263, "
        "0.947368421052632, 1]")


@pytest.mark.parametrize("pasted", ["[1, 2, 3, …, 8, 9]", "[1, 2, 3, ..., 8, 9]"])
def test_a_pasted_summary_is_a_syntax_error_that_says_so(pasted):
    with pytest.raises(DiffiSyntaxError) as caught:
        Interpreter().run("x = " + pasted)
    assert caught.value.message.endswith(
        ": a summarised value cannot be read back; print(A, full = true) prints every element")
    assert (caught.value.line, caught.value.column) == (1, 15)


# Values as data ------------------------------------------------------------------------

@pytest.mark.parametrize("value, data", [
    (2.5, {"type": "number", "value": 2.5}),
    (math.inf, {"type": "number", "value": "inf"}),
    (-math.inf, {"type": "number", "value": "-inf"}),
    (math.nan, {"type": "number", "value": "nan"}),
    (True, {"type": "boolean", "value": True}),
    ("a.csv", {"type": "string", "value": "a.csv"}),
    (np.array([[1.0, np.nan], [np.inf, 4.0]]),
     {"type": "tensor", "shape": [2, 2], "value": [[1.0, "nan"], ["inf", 4.0]]}),
    (np.array([True, False]), {"type": "tensor", "shape": [2], "value": [True, False]}),
    ((1.0, np.zeros(0)), {"type": "tuple", "items": [
        {"type": "number", "value": 1.0}, {"type": "tensor", "shape": [0], "value": []}]}),
])
def test_value_data(value, data):
    assert value_data(value) == data
    json.dumps(value_data(value), allow_nan=False)  # strict JSON: no NaN or Infinity


def test_functions_and_formulas_as_data():
    it = Interpreter()
    it.run("f(x, y) = x*y + sin(x); df = d/dx f")
    assert value_data(it.globals["f"].node.value) == {
        "type": "function", "name": "f", "params": ["x", "y"], "text": "f(x, y) = x*y + sin(x)"}
    assert value_data(it.globals["df"].node.value) == {
        "type": "formula", "params": ["x", "y"], "text": "y + cos(x)"}
    assert value_data(it.globals["df"].node.value)["text"] == str(it["df"])
