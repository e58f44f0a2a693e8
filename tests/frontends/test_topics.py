"""Help topics (diffi/frontends/topics.py): one for every directive, built-in and command, each with
an example that runs."""
from __future__ import annotations

import pytest

from diffi.core.library import BUILTINS
from diffi.core.values import Builtin
from diffi.frontends import topics
from diffi.frontends.commands import ACTIONS, help_text, run_example

DIRECTIVES = ["d/dx", "grad", "backprop", "hessian", "jacobian", "check", "explain", "graph",
              "minimize"]


@pytest.mark.parametrize("name", list(topics.topics()))
def test_every_example_runs_in_a_fresh_interpreter(name):
    topic = topics.topics()[name]
    assert topic.example, f"{name} has no example"
    transcript, error = run_example(topic)
    assert error is None, "\n".join(transcript)
    assert all("error:" not in line for line in transcript), "\n".join(transcript)


def test_every_directive_builtin_and_command_has_a_topic():
    names = set(topics.topics())
    assert set(DIRECTIVES) <= names
    assert set(BUILTINS) <= names
    assert set(ACTIONS) <= names


@pytest.mark.parametrize("asked", ["d/dx", "derivative", "d2/dx2", "d/dy", "d3/dθ3",
                                   "d^2/dx^2", "d²/dx²", "∂/∂x", "∂²/∂x∂y", "∂f/∂x",
                                   "d²y/dx²", "df/dx"])
def test_derivative_topic_by_any_name(asked):
    assert topics.lookup(asked).name == "d/dx"


def test_the_boards_notation_has_a_guide():
    topic = topics.lookup("notation")
    assert topic.kind == "guide" and "∂/∂x" in topic.signature
    assert "guides      notation" in topics.overview()
    assert topics.lookup("ln").summary == "natural logarithm (another name for log)"


def test_commands_with_or_without_colon():
    assert topics.lookup("vars").name == ":vars"
    assert topics.lookup(":vars").name == ":vars"
    assert topics.lookup(":q").name == ":quit"


def test_a_builtin_wins_over_a_command_of_the_same_name():
    assert topics.lookup("load").kind == "built-in"
    assert topics.lookup(":load").kind == "command"


def test_builtin_topic_comes_from_the_table():
    sin = BUILTINS["sin"].value
    topic = topics.lookup("sin")
    assert (topic.signature, topic.summary) == (sin.signature, sin.doc)
    assert topic.example == ("sin(0.5)", "d/dx sin(x) at x = 0.5")


def test_a_new_builtin_gets_help_and_an_example():
    fn = Builtin("gauss", "gauss(x)", "exp(-x^2)", primitive=BUILTINS["exp"].value.primitive)
    topic = topics.builtin_topic("gauss", type("N", (), {"value": fn})())
    assert topic.summary == "exp(-x^2)"
    assert topic.example == ("gauss(0.5)", "d/dx gauss(x) at x = 0.5")


def test_help_shows_the_examples_real_output():
    text = help_text("grad")
    assert text.splitlines()[0].startswith("grad E wrt x, y")
    assert "diffi> grad f at (3, 0)\n  [-0.989992496600445, 3]" in text


def test_help_on_a_file_command_shows_the_file():
    text = help_text(":load")
    assert "model.dfi holds:\n  w = 2" in text
    assert "diffi> loss(1)\n  1" in text


def test_overview_lists_everything():
    text = topics.overview()
    for name in DIRECTIVES + list(ACTIONS) + ["sin", "sigmoid", "pi"]:
        assert name in text, name
    assert all(len(line) <= 80 for line in text.splitlines())


def test_misspelt_topic_suggests():
    assert topics.suggestions("gard") == ["grad"]
    assert topics.suggestions("hesian") == ["hessian"]


def test_a_board_word_suggests_the_builtin_and_its_other_names():
    assert topics.suggestions("sigma") == ["sigmoid", "logistic", "σ"]
    assert topics.suggestions("Σ") == ["sum"]


def test_a_far_name_suggests_nothing_near_in_letters_only():
    # difflib alone finds sin and min for inv, and sign and using for sigma
    assert topics.suggestions("inv") == ["inf"]
    assert topics.suggestions("frobnicate") == []
