"""Suggestions as you type (diffi/frontends/completion.py): completions, the help line, indentation."""
from __future__ import annotations


import pytest

from diffi import Interpreter
from diffi.frontends.completion import (candidates, command_candidates, enclosing_call, hint,
                                        last_directive, open_brackets, word_at, word_before)


@pytest.fixture
def it():
    interpreter = Interpreter()
    interpreter.run("x = 3; xs = [1, 2]; f(a, b) = a*b + sin(a); sine_wave = 1")
    return interpreter


def texts(found) -> list[str]:
    return [c.text for c in found]


def test_names_then_builtins_then_keywords(it):
    found = texts(candidates(it, "si"))
    assert found[0] == "sine_wave" and "sin" in found and found[1:] == sorted(found[1:])
    assert texts(candidates(it, "i")) == ["inf", "if"]


def test_builtins_show_their_signature(it):
    sin = next(c for c in candidates(it, "si") if c.text == "sin")
    assert sin.meta == "sin(x)  sine (radians)"
    hypot = candidates(it, "hyp")[0]
    assert hypot.meta.startswith("hypot(x, y)")


def test_variables_and_functions_show_what_they_hold(it):
    notes = {c.text: c.meta for c in candidates(it, "x")}
    assert notes["x"] == "3" and notes["xs"] == "vector 2"
    assert candidates(it, "f")[0].meta == "f(a, b) = a*b + sin(a)"


def test_directives_and_keywords(it):
    assert texts(candidates(it, "gr")) == ["grad", "graph"]
    assert candidates(it, "gr")[0].group == "directive"
    assert texts(candidates(it, "wr")) == ["wrt"]


def test_derivative_completes_with_each_variable(it):
    assert texts(candidates(it, "d/d")) == ["d/dsine_wave", "d/dx", "d/dxs"]
    assert texts(candidates(it, "y = d2/dx")) == ["d2/dx", "d2/dxs"]


def test_the_boards_derivatives_complete_too(it):
    assert texts(candidates(it, "∂/∂")) == ["∂/∂sine_wave", "∂/∂x", "∂/∂xs"]
    assert texts(candidates(it, "d^2/dx")) == ["d^2/dx", "d^2/dxs"]


def test_the_boards_names_are_builtins(it):
    assert "ln" in texts(candidates(it, "l"))
    assert candidates(it, "arc")[2].text == "arctan"
    assert candidates(it, "arc")[2].meta == "arctan(x)  inverse tangent (another name for atan)"


def test_modes_after_using(it):
    assert texts(candidates(it, "d/dx x^2 using n")) == ["numeric"]
    assert "reverse" in texts(candidates(it, "grad f using "))
    assert texts(candidates(it, "minimize f(x) wrt x using a")) == ["adam"]


def test_a_whole_word_offers_nothing(it):
    assert candidates(it, "xs") == [] and candidates(it, "hypot") == []
    assert candidates(it, "3 + ") == []


def test_completion_offers_every_one_of_a_thousand_names():
    # (its speed, a keystroke to completion with 1,000 names, is measured by
    # bench/repl.py as a ratio: tests assert no absolute times)
    interpreter = Interpreter()
    interpreter.run("".join(f"value_{i:04d} = {i}\n" for i in range(1000)))
    found = [t for t in texts(candidates(interpreter, "v")) if t.startswith("value_")]
    assert found == [f"value_{i:04d}" for i in range(1000)]


def test_command_completion():
    word, found = command_candidates(":lo")
    assert word == ":lo" and texts(found) == [":load"]
    word, found = command_candidates(":help gr")
    assert word == "gr" and texts(found) == ["grad", "graph"]


@pytest.mark.parametrize("text, cursor, word", [
    ("y = sin(x)", 5, "sin"), ("y = sin(x)", 4, "sin"), ("y = sin(x)", 7, "sin"),
    ("d/dx x^2", 2, "d/dx"), ("2 + 3", 2, ""),
])
def test_word_at(text, cursor, word):
    assert word_at(text, cursor) == word


def test_word_before_ignores_numbers_and_inner_words():
    assert word_before("2 + x1") == "x1" and word_before("12") == ""


def test_enclosing_call_and_directive():
    assert enclosing_call("hypot(3, ") == "hypot"
    assert enclosing_call("f(g(1), ") == "f"
    assert enclosing_call("[1, ") == ""
    assert last_directive("y = grad f wrt x at ") == "grad"
    assert last_directive("d2/dx2 sin(x) at x = ") == "d2/dx2"
    assert last_directive("grad f; 1 + ") == ""


def test_hint_for_what_the_cursor_is_on(it):
    assert hint(it, "hypot(3, ", 9) == ("hypot(x, y)", "sqrt(x^2 + y^2) without overflow")
    assert hint(it, "f(1, 2)", 1) == ("f(a, b) = a*b + sin(a)", "function defined in this session")
    assert hint(it, "x + 1", 1) == ("x = 3", "number")
    assert hint(it, "grad f wrt x at ", 16)[0].startswith("grad E wrt x, y")
    assert hint(it, "d3/dx3 x^5", 2)[0].startswith("d/dx E")
    assert hint(it, ":precision 3", 3)[0] == ":precision [N]"
    assert hint(it, "1 + 2", 3) is None


def test_open_brackets_skip_strings_and_comments():
    assert open_brackets("f(x) = {") == 1
    assert open_brackets("[[1, 2],") == 1
    assert open_brackets('print("(((", x') == 1
    assert open_brackets("g(x) # (((\n") == 0
