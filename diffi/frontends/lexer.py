"""A Pygments lexer for diffi, shared by the REPL and by anything that colours docs.

Installed, it is registered with Pygments (the `pygments.lexers` entry point in
pyproject.toml), so `pygmentize -l diffi`, Sphinx, MkDocs and nbconvert find it by the
name `diffi` and by the file name `*.dfi`. It needs Pygments, not prompt_toolkit.
"""
from __future__ import annotations

from pygments.lexer import RegexLexer, bygroups, words
from pygments.token import (Comment, Error, Keyword, Name, Number, Operator, Punctuation,
                            String, Whitespace)

from ..core.library import BUILTINS
from ..core.values import Builtin
from ..language.syntax import RESERVED

DIRECTIVES = ("grad", "backprop", "hessian", "jacobian", "check", "explain", "graph",
              "minimize")
KEYWORDS = tuple(sorted(RESERVED - set(DIRECTIVES)))
FUNCTIONS = tuple(sorted(n for n, node in BUILTINS.items() if isinstance(node.value, Builtin)))
CONSTANTS = tuple(sorted(n for n in BUILTINS if n not in FUNCTIONS))

NAME = r"[^\W\d]\w*"
NUMBER = r"(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?"
DERIVATIVE = r"d\d*/d[^\W\d]\w*(\^\d+)?"  # as grammar/diffi.lark's DERIV


def _names(names) -> str:
    """A regex matching any of `names` as a whole word (Unicode-aware)."""
    return words(names, prefix=r"(?<!\w)", suffix=r"(?!\w)")


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
            (r"(?<!\w)" + DERIVATIVE + r"(?!\w)", Keyword.Reserved),
            (_names(DIRECTIVES), Keyword.Reserved),
            (r"(using)(\s+)(" + NAME + ")", bygroups(Keyword, Whitespace, Name.Attribute)),
            (_names(KEYWORDS), Keyword),
            (_names(CONSTANTS), Name.Constant),
            (_names(FUNCTIONS), Name.Builtin),
            # A definition `f(x, y) =` at the start of a line names a function.
            (r"^(" + NAME + r")(?=\s*\([^()\n]*\)\s*=(?!=))", Name.Function),
            (NAME, Name),
            (NUMBER, Number.Float),
            (r"\*\*|<=|>=|==|!=|[-+*/@^<>=]", Operator),
            (r"[()\[\]{},;:]", Punctuation),
            (r".", Error),
        ],
    }
