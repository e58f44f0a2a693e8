"""One vocabulary (diffi/language/vocabulary.py), read by all its users.

Each test is parametrised by the vocabulary's own words, so a directive, mode, optimizer
or numeric method added there is tested at once: it must reach the grammar, the
Pygments lexer, completion, help and the directive that runs it, or a test fails. And
no other module keeps a list of its own of any of these words.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from pygments.token import Keyword, Name

import diffi
from diffi.directives import HANDLERS, check, training
from diffi.frontends import completion, topics
from diffi.frontends.lexer import DiffiLexer
from diffi.language import parser
from diffi.language.vocabulary import (DIRECTIVES, MODES, NUMERIC_METHODS, OPTIMIZERS,
                                       read_derivative)
from diffi.modes import numeric

ROOT = Path(__file__).resolve().parents[2]
CATEGORIES = {"directives": DIRECTIVES, "modes": MODES, "optimizers": OPTIMIZERS,
              "numeric methods": NUMERIC_METHODS}
SPELLINGS = ["d/dx", "d2/dx2", "d^2/dx^2", "d²/dx²", "∂/∂x", "∂²/∂x∂y", "∂f/∂x", "d²f/dx²"]


def _tokens(source: str) -> list[tuple]:
    return [(kind, text) for kind, text in DiffiLexer().get_tokens(source) if text.strip()]


def _offered(source: str) -> list[tuple[str, str]]:
    return [(c.text, c.group) for c in completion.candidates(diffi.Interpreter(), source)]


@pytest.mark.parametrize("word", DIRECTIVES)
def test_a_directive_reaches_the_grammar_lexer_completion_help_and_dispatch(word):
    assert f'{word.upper()}: "{word}"' in parser.grammar_text()
    assert _tokens(f"{word} x")[0] == (Keyword.Reserved, word)
    assert (word, "directive") in _offered(word[:-1])
    topic = topics.lookup(word)
    assert topic is not None and topic.kind == "directive"
    assert re.search(rf"\b{word}\b", topics.overview())
    assert word in HANDLERS


@pytest.mark.parametrize("mode", MODES)
def test_a_mode_is_completed_highlighted_helped_and_runs(mode):
    assert (mode, "mode") in _offered(f"d/dx x^3 at x = 2 using {mode[0]}")
    assert _tokens(f"d/dx x using {mode}")[-1] == (Name.Attribute, mode)
    assert mode in topics.lookup("using").signature.split()
    assert mode in check.LABELS
    assert diffi.Interpreter().eval(f"d/dx x^3 at x = 2 using {mode}") == \
        pytest.approx(12.0, rel=1e-8)


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_an_optimizer_is_completed_helped_and_trains(optimizer):
    assert (optimizer, "mode") in _offered(f"minimize w^2 wrt w using {optimizer[0]}")
    assert f"{optimizer}(…)" in topics.lookup("minimize").signature
    it = diffi.Interpreter()
    it.run(f"w = 1\nminimize w^2 wrt w using {optimizer}(rate = 0.25, steps = 1)")
    assert it["w"] == pytest.approx(0.5 if optimizer == "gd" else 0.75, rel=1e-6)


@pytest.mark.parametrize("method", NUMERIC_METHODS)
def test_a_numeric_method_is_helped_and_runs(method):
    assert f'"{method}"' in topics.lookup("using").details
    assert method in numeric.METHODS
    value = diffi.Interpreter().eval(
        f'd/dx x^3 at x = 2 using numeric(method = "{method}")')
    assert value == pytest.approx(12.0, rel=1e-5)


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_a_derivative_spelling_is_one_token_to_the_lexer_and_help(spelling):
    assert _tokens(f"{spelling} x")[0] == (Keyword.Reserved, spelling)
    assert topics.lookup(spelling).name == "d/dx"
    order, function, letter, parts = read_derivative(spelling)
    assert letter == spelling[0] and parts


@pytest.mark.parametrize("typed", ["d/d", "d2/dx", "d²/dx", "∂/∂", "∂²/∂x"])
def test_a_derivative_being_typed_is_completed(typed):
    it = diffi.Interpreter()
    it.run("x = 1")
    head = typed[:typed.index("/") + 2]
    assert (f"{head}x", "directive") in [(c.text, c.group)
                                          for c in completion.candidates(it, typed)]


def test_the_mappings_from_words_have_exactly_the_vocabularys_words():
    assert set(training.OPTIMIZERS) == set(OPTIMIZERS) == set(training.OPTIMIZER_CLASSES)
    assert set(check.LABELS) == set(MODES)
    assert set(DIRECTIVES) <= set(HANDLERS)


def _literal_words(node) -> set[str]:
    """The words a collection literal lists, or a regex alternation `a|b` spells."""
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return {e.value for e in node.elts if isinstance(e, ast.Constant)
                and isinstance(e.value, str)}
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {w for run in re.findall(r"\w+(?:\|\w+)+", node.value) for w in run.split("|")}
    return set()


def test_no_module_but_the_vocabulary_lists_a_whole_category():
    # (a subset, such as the modes a code path takes, is the module's own business)
    found = []
    for path in sorted((ROOT / "diffi").rglob("*.py")):
        if path.name == "vocabulary.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            words = _literal_words(node)
            for category, vocabulary in CATEGORIES.items():
                if words >= set(vocabulary):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} lists the {category}")
    grammar = (ROOT / "grammar" / "diffi.lark").read_text(encoding="utf-8")
    found += [f"grammar/diffi.lark names the directive {w}" for w in DIRECTIVES
              if f'"{w}"' in grammar]
    assert found == []
