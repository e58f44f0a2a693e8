"""A Pygments lexer for diffi, shared by the REPL and by anything that colours docs.

Installed, it is registered with Pygments (the `pygments.lexers` entry point in
pyproject.toml), so `pygmentize -l diffi`, Sphinx, MkDocs and nbconvert find it by the
name `diffi` and by the file name `*.dfi`. It needs Pygments, not prompt_toolkit.
"""
from __future__ import annotations

import re

from pygments.lexer import RegexLexer, bygroups, words
from pygments.token import (Comment, Error, Keyword, Name, Number, Operator, Punctuation,
                            String, Whitespace)

from ..core.library import BUILTINS
from ..core.values import Builtin
from ..language.vocabulary import (CONTEXTUAL, DERIVATIVE, DIRECTIVES, KEYWORDS, LEIBNIZ, NAME,
                                   NAME_CHAR, NUMBER, OPERATORS, PRIMED, SUPERSCRIPT)

FUNCTIONS = tuple(sorted(n for n, node in BUILTINS.items() if isinstance(node.value, Builtin)))
CONSTANTS = tuple(sorted(n for n in BUILTINS if n not in FUNCTIONS))
# Longest first, so that `**` and `<=` are one operator.
SYMBOLS = sorted((s for symbols in OPERATORS.values() for s in symbols), key=len, reverse=True)
NOT_AFTER = rf"(?!{NAME_CHAR})"  # a whole word (names may hold marks: x̄; not powers: x²)


def _names(names) -> str:
    """A regex matching any of `names` as a whole word (Unicode-aware)."""
    return words(names, prefix=r"(?<!\w)", suffix=NOT_AFTER)


class DiffiLexer(RegexLexer):
    """Numbers, names, built-ins, directives, keywords, strings, comments and stray characters."""

    name = "diffi"
    aliases = ["diffi"]
    filenames = ["*.dfi"]
    mimetypes = ["text/x-diffi"]

    tokens = {
        "root": [
            (r"[ \t\f\r\n]+", Whitespace),
            (r"#.*?$", Comment.Single),
            (r'"(\\.|[^"\\\n])*"', String),
            (r'"[^\n]*', Error),  # a string that is never closed
            (rf"(?<!\w)(?:{LEIBNIZ}|{DERIVATIVE}){NOT_AFTER}", Keyword.Reserved),
            (rf"(?<!\w){PRIMED}", Keyword.Reserved),  # f'(x): the derivative, as d/dx is
            # order and from are keywords after an operand (taylor … order 5, plot f from
            # -3 to 3), names elsewhere
            (r"(?<=[\w)\]] )(" + "|".join(CONTEXTUAL) + r")" + NOT_AFTER, Keyword),
            (_names(DIRECTIVES), Keyword.Reserved),
            (r"(using)(\s+)(" + NAME + ")", bygroups(Keyword, Whitespace, Name.Attribute)),
            (_names(KEYWORDS), Keyword),
            (_names(CONSTANTS), Name.Constant),
            (_names(FUNCTIONS), Name.Builtin),
            # A definition `f(x, y) =` at the start of a line names a function.
            (r"^(" + NAME + r")(?=\s*\([^()\n]*\)\s*=(?!=))", Name.Function),
            (NAME, Name),
            (NUMBER, Number.Float),
            (SUPERSCRIPT, Operator),
            ("|".join(re.escape(s) for s in SYMBOLS) + "|=", Operator),
            (r"[()\[\]{},;:]", Punctuation),
            (r".", Error),
        ],
    }
