"""The Pygments lexer (diffi/frontends/lexer.py): every kind of token, and no text lost."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pygments.token import (Comment, Error, Keyword, Name, Number, Operator, Punctuation,
                            String)

from diffi.core.library import BUILTINS
from diffi.core.values import Builtin
from diffi.frontends.lexer import DiffiLexer
from diffi.language.syntax import RESERVED

ROOT = Path(__file__).resolve().parents[2]


def tokens(source: str) -> list[tuple]:
    """(token type, text) pairs, whitespace left out."""
    return [(t, v) for t, v in DiffiLexer().get_tokens(source) if v.strip()]


def kind_of(source: str, text: str):
    return next(t for t, v in tokens(source) if v == text)


@pytest.mark.parametrize("source, text, kind", [
    ("x = 3.14", "3.14", Number.Float),
    ("y = 2.5E+4", "2.5E+4", Number.Float),
    ("z = .5", ".5", Number.Float),
    ("θ = 1", "θ", Name),
    ("sin(x)", "sin", Name.Builtin),
    ("logistic(x)", "logistic", Name.Builtin),
    ("2*pi", "pi", Name.Constant),
    ("d/dx x^2", "d/dx", Keyword.Reserved),
    ("d2/dx2 x^3", "d2/dx2", Keyword.Reserved),
    ("d2/dx1^2 x1^3", "d2/dx1^2", Keyword.Reserved),
    ("grad f wrt x", "grad", Keyword.Reserved),
    ("grad f wrt x", "wrt", Keyword),
    ("explain d/dx x", "explain", Keyword.Reserved),
    ("if a then b else c", "then", Keyword),
    ("d/dx f(x) using numeric", "numeric", Name.Attribute),
    ('graph y to "g.dot"', '"g.dot"', String),
    ("x = 1  # the input", "# the input", Comment.Single),
    ("f(x, y) = x*y", "f", Name.Function),
    ("a <= b", "<=", Operator),
    ("A[:, 0]", ":", Punctuation),
    ("x $ y", "$", Error),
    # the board's notation (docs/notation.md)
    ("d^2/dx^2 x^3", "d^2/dx^2", Keyword.Reserved),
    ("d²/dx² x^3", "d²/dx²", Keyword.Reserved),
    ("∂²/∂x∂y x*y", "∂²/∂x∂y", Keyword.Reserved),
    ("∂f/∂x + 1", "∂f/∂x", Keyword.Reserved),
    ("df/dx at 3", "df/dx", Keyword.Reserved),
    ("x\u0304 = 1", "x\u0304", Name),
    ("w1·x", "·", Operator),
    ("a − b", "−", Operator),
    ("a ≤ b", "≤", Operator),
    ("x² + 1", "²", Operator),
    ("ln(x)", "ln", Name.Builtin),
    ("σ(x)", "σ", Name.Builtin),
    ("sin²(x)", "sin", Name.Builtin),
    ('print("never closed', '"never closed', Error),
])
def test_token_kinds(source, text, kind):
    assert kind_of(source, text) == kind


def test_a_call_is_not_a_definition():
    assert kind_of("f(2) == 3", "f") == Name


def test_no_text_is_lost():
    source = 'f(x, y) = x*y + sin(x)  # f\nd/dx f(x, 2) at x = 1 using numeric(step = 1e-6)\n'
    assert "".join(v for _, v in DiffiLexer().get_tokens(source)) == source


def test_every_builtin_and_reserved_word_is_recognised():
    for name, node in BUILTINS.items():
        expected = Name.Builtin if isinstance(node.value, Builtin) else Name.Constant
        assert kind_of(f"{name} ", name) == expected, name
    for word in RESERVED:
        assert kind_of(f"{word} ", word) in (Keyword, Keyword.Reserved), word


def test_a_tight_division_of_d_names_is_a_division():
    assert [v for _, v in tokens("dy/dx")] == ["dy", "/", "dx"]


def test_names_that_start_like_keywords_are_names():
    assert kind_of("atom = 1", "atom") == Name
    assert kind_of("gradient = 1", "gradient") == Name
    assert kind_of("sine = 1", "sine") == Name


def test_importable_without_prompt_toolkit():
    code = ("import sys, diffi.frontends.lexer; "
            "sys.exit('prompt_toolkit' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True)
    assert done.returncode == 0, done.stderr
