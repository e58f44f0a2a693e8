"""The words and spellings of diffi, in one place.

The grammar's terminals for names and derivatives (see `grammar_terminals`), the
parser's messages, the Pygments lexer, the REPL's completion and `:help` all read
them from here, so that a new keyword, mode or derivative spelling is added once.
Plain strings and regular expressions: importing this module loads nothing else.
"""
from __future__ import annotations

import re
import unicodedata

# Words --------------------------------------------------------------------------------------

DIRECTIVES = ("grad", "backprop", "hessian", "jacobian", "check", "explain", "graph",
              "minimize", "latex", "taylor", "tangent", "plot")
KEYWORDS = ("at", "wrt", "using", "if", "then", "else", "and", "or", "not", "to")
# Words read as keywords only where no name could stand (`taylor E at x = 0 order 5`,
# `plot f from -3 to 3`): elsewhere they are names, so no program that uses them breaks.
CONTEXTUAL = ("order", "from")
RESERVED = frozenset(DIRECTIVES + KEYWORDS)
MODES = ("forward", "reverse", "numeric", "symbolic")  # `using MODE` on a derivative
NUMERIC_METHODS = ("central", "forward", "richardson")  # `using numeric(method = "…")`
OPTIMIZERS = ("gd", "adam")                             # `using OPTIMIZER(…)` on minimize

# Operators by grammar terminal. The symbols diffi's tables print (and the board uses)
# read as the ASCII operator they stand for (SYNONYMS), so that every printed row parses.
OPERATORS = {"POW": ("**", "^"),
             "MUL": ("*", "/", "@", "·", "×", "⊙", "÷"),
             "ADD": ("+", "-", "−"),
             "COMPARE": ("<=", ">=", "==", "!=", "<", ">", "≤", "≥", "≠")}
SYNONYMS = {"·": "*", "×": "*", "⊙": "*", "÷": "/", "−": "-", "≤": "<=", "≥": ">=",
            "≠": "!=", "**": "^"}

# Characters of names ------------------------------------------------------------------------

SUPERSCRIPT_DIGITS = "⁰¹²³⁴⁵⁶⁷⁸⁹"   # x² is x^2: a power, never part of a name
SUBSCRIPT_DIGITS = "₀₁₂₃₄₅₆₇₈₉"     # a₅ is the name a5, as the tables print it
SUPERSCRIPT_LETTERS = {"ⁱ": "i", "ⁿ": "n"}  # xⁿ: a power on the board, never in a name
TRANSPOSE_MARKS = "ᵀ⊤"               # Wᵀ: the error names transpose(W)
# Combining marks, as in the tables' x̄ (an adjoint) and ẋ (a tangent): part of a name.
# (Diacritical marks, and those for symbols such as the vector arrow x⃗.)
COMBINING = "\u0300-\u036f\u20d0-\u20ff"

_SUPERSCRIPT_VALUES = str.maketrans(SUPERSCRIPT_DIGITS, "0123456789")
_SUBSCRIPT_VALUES = str.maketrans(SUBSCRIPT_DIGITS, "0123456789")

# The classes below are spelled for Python's regex compiler, which builds a character
# class of one or two runs of characters at once but a scattered one (² ³ ¹ beside ⁰ ⁴-⁹)
# as a 64K-entry table: every lexer state holds these patterns, so that was most of the
# first statement's time. So ² ³ ¹ are excluded by a look-ahead, and the rest of the
# superscript block (⁰ to ⁿ, with ⁱ and ⁿ: xⁿ is a power on the board too) as one run.
_LATIN_SUPERSCRIPTS = "[\u00b2\u00b3\u00b9]"
LETTER = rf"(?!{_LATIN_SUPERSCRIPTS})[^\W\d\u1d40\u2070-\u2089]"   # not ᵀ, ⁰-⁹, ₀-₉
NAME_CHAR = rf"(?:(?!{_LATIN_SUPERSCRIPTS})[^\W\u1d40\u2070-\u207f]|[{COMBINING}])"
NAME = rf"{LETTER}{NAME_CHAR}*"
NUMBER = r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
# ⁰-⁹ as two classes ({1} keeps the compiler from merging them back into one)
_SUPERSCRIPT_DIGIT = rf"(?:{_LATIN_SUPERSCRIPTS}|[\u2070\u2074-\u2079]{{1}})"
SUPERSCRIPT = rf"⁻?{_SUPERSCRIPT_DIGIT}+"

# Derivatives ----------------------------------------------------------------------------------
# d/dx, d2/dx2, d2/dx1^2, d^2/dx^2, d²/dx², ∂/∂x, ∂²/∂x∂y: the operator, before an expression.
# d^2f/dx^2, d²f/dx², ∂f/∂x, ∂²f/∂x∂y, and df/dx before `at` or `using`: Leibniz's quotient of
# a function (or bound name) f. A bare, tight `df/dx` stays a division of two names.

_POWER = rf"(?:\^\d+|{_SUPERSCRIPT_DIGIT}+)"   # ^2 or ²
_ORDER = rf"(?:\d+|{_POWER})"                     # 2, ^2 or ²
_PARTIALS = rf"(?:∂{NAME}{_POWER}?)+"
_BEFORE_A_POINT = r"(?=[ \t]+(?:at|using)(?!\w))"

DERIVATIVE = rf"d{_ORDER}?/d{NAME}{_POWER}?|∂{_ORDER}?/{_PARTIALS}"
# A derivative operator being typed, up to the cursor: `d/d`, `d2/dx`, `∂/∂` (completion).
DERIVATIVE_TYPED = rf"(?:d{_ORDER}?|∂{_ORDER}?)/[d∂]{NAME_CHAR}*"
LEIBNIZ = (rf"∂{_ORDER}?{NAME}/{_PARTIALS}"
           rf"|d{_POWER}{NAME}/d{NAME}{_POWER}?"
           rf"|d\d*{NAME}/d{NAME}{_BEFORE_A_POINT}")

# f'(x), f''(x), f′(x): a function's name, its primes, and at once its argument list. A
# prime not followed by `(` (W', the board's transpose) is no token: the parser's hint
# says what to write (hints.py).
PRIMES = "'′"
PRIMED = rf"{NAME}[{PRIMES}]+(?=\()"

_COMPILED = {"DERIVATIVE_RE": DERIVATIVE, "LEIBNIZ_RE": LEIBNIZ, "NAME_RE": NAME}


def __getattr__(attribute: str):
    """DERIVATIVE_RE, LEIBNIZ_RE, NAME_RE: compiled on first use (start-up stays quick)."""
    if attribute not in _COMPILED:
        raise AttributeError(f"module {__name__!r} has no attribute {attribute!r}")
    compiled = globals()[attribute] = re.compile(_COMPILED[attribute])
    return compiled


def grammar_terminals() -> str:
    """The terminals grammar/diffi.lark leaves to this module, in Lark's notation: the
    derivative tokens, names, numbers, operators, and a terminal for each directive and
    contextual keyword (GRAD: "grad", ORDER: "order"), which the grammar's rules use."""
    lines = [f"DERIV.3: /{_lark(DERIVATIVE)}/",
             f"LEIBNIZ.3: /{_lark(LEIBNIZ)}/",
             f"PRIMED.3: /{_lark(PRIMED)}/",
             f"NAME: /{_lark(NAME)}/",
             f"NUMBER: /{_lark(NUMBER)}/",
             f"SUPERSCRIPT: /{_lark(SUPERSCRIPT)}/"]
    for terminal, symbols in OPERATORS.items():
        priority = ".2" if terminal == "POW" else ""  # ** before *
        lines.append(f"{terminal}{priority}: " + " | ".join(f'"{s}"' for s in symbols))
    lines += [f'{word.upper()}: "{word}"' for word in DIRECTIVES + CONTEXTUAL]
    return "\n".join(lines) + "\n"


def _lark(pattern: str) -> str:
    return pattern.replace("/", "\\/")


def normal_name(text: str) -> str:
    """A name as diffi stores it: composed (NFC), subscript digits as digits (a₅ is a5)."""
    if text.isascii():
        return text
    return unicodedata.normalize("NFC", text).translate(_SUBSCRIPT_VALUES)


def superscript_value(text: str) -> float:
    """The exponent a superscript writes: ² is 2, ⁻¹ is -1."""
    return float(text.replace("⁻", "-").translate(_SUPERSCRIPT_VALUES))


def read_derivative(text: str) -> tuple[str, str | None, str, list[tuple[str, str]]]:
    """A derivative token in parts: (top order, function, letter d or ∂, [(variable, power)]).

    `d2/dx2` gives ('2', None, 'd', [('x2', '')]); `∂²f/∂x∂y` gives
    ('²', 'f', '∂', [('x', ''), ('y', '')]). Orders and powers are left as written.
    """
    letter = text[0]
    top, _, bottom = text.partition("/")
    head = re.match(rf"{letter}({_ORDER})?({NAME})?$", top)
    order, function = head.group(1) or "", head.group(2)
    parts = [(m.group(1), m.group(2) or "")
             for m in re.finditer(rf"{letter}({NAME})({_POWER})?", bottom)]
    return order, function, letter, parts


def order_value(text: str) -> int:
    """An order or power as written (`2`, `^2`, `²`) as a number; '' is 1."""
    text = text.lstrip("^")
    if not text:
        return 1
    return int(text.translate(_SUPERSCRIPT_VALUES))


# What a student writes that diffi spells differently -------------------------------------

# Words of other languages, with what to write instead (the parser's and evaluator's hints).
FOREIGN_WORDS = {
    "for": "diffi has no loops: write a recursive function "
           "(f(n) = if n <= 0 then 0 else f(n - 1)) or train with minimize",
    "while": "diffi has no loops: write a recursive function "
             "(f(n) = if n <= 0 then 0 else f(n - 1)) or train with minimize",
    "return": "diffi has no return: a block's value is its last expression, "
              "as in f(x) = { a = x^2; a + 1 }",
    "def": "diffi has no def: define a function as f(x) = x^2",
    "lambda": "diffi has no lambda: define a function as f(x) = x^2",
}

# Names from lecture notes that diffi does not define, with their diffi spelling.
SPELLED_OUT = {
    "sigma": "sigmoid",
    "Σ": "sum",
    "cot": "1/tan(x)",
    "sec": "1/cos(x)",
    "csc": "1/sin(x)",
}

# sin⁻¹(x) on the board is the inverse function, not a power.
INVERSE_FUNCTIONS = {"sin": "asin", "cos": "acos", "tan": "atan"}

# Characters of the board that are not diffi, with what to write instead. (Primes, ᵀ,
# .T, |x|, ‖v‖, √ and ∇ get messages built from their operand: see hints.py.)
FOREIGN_CHARACTERS = {"∑": "sum(v)", "←": "=", "≔": "="}
