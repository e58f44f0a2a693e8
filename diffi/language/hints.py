"""Messages that name the diffi spelling of what a student wrote from the board.

Pure text work on the source and its tokens: the parser calls these for its syntax
errors, the evaluator for names it cannot find. Each message holds the exact diffi
spelling to write (`transpose(W)`, `sin(x)`, `(grad L(w) wrt w)`).
"""
from __future__ import annotations

import difflib
import re

from . import syntax as S
from .vocabulary import (COMBINING, DERIVATIVE, FOREIGN_CHARACTERS, FOREIGN_WORDS,
                         INVERSE_FUNCTIONS, NAME, RESERVED, SPELLED_OUT, SUPERSCRIPT_LETTERS,
                         TRANSPOSE_MARKS)

# Patterns, compiled (and cached by `re`) when an error first needs them.
_NAME_AT_END = rf"(?:{NAME})$"
_DERIVATIVE_AT_END = rf"(?<![\w{COMBINING}])(?:{DERIVATIVE})[ \t]*$"
_CLOSERS = {")": "(", "]": "[", "}": "{"}
PRIMES = "'′’"


# Reading the source around a position ---------------------------------------------------------

# How far back on its line a hint looks for the name or `d/dx` before a position: a regex
# anchored at the end tries every start before it, each scanning to the end (a 200,000
# character line took 40 minutes); a hint needs only what was just written.
LOOK_BACK = 256


def _line_before(source: str, pos: int) -> int:
    """Where the text a hint reads before `pos` starts: its line's start, or LOOK_BACK
    characters back."""
    return max(source.rfind("\n", 0, pos) + 1, pos - LOOK_BACK)

def operand_before(source: str, end: int) -> str:
    """The operand that ends at `end`: a name, a call `f(x)`, an index or a bracketed group."""
    start = end
    while start > 0 and source[start - 1] in _CLOSERS:
        opener = _matching_opener(source, start - 1)
        if opener is None:
            break
        start = opener
    line_start = _line_before(source, start)
    found = re.search(_NAME_AT_END, source[line_start:start])
    if found:
        start = line_start + found.start()
    return source[start:end]


def _matching_opener(source: str, close: int) -> int | None:
    depth = 0
    for i in range(close, -1, -1):
        c = source[i]
        if c in _CLOSERS:
            depth += 1
        elif c in "([{":
            depth -= 1
            if depth == 0:
                return i
        elif c == "\n" and depth == 0:
            return None
    return None


def bracketed_after(source: str, open_: int) -> str | None:
    """The text inside the brackets that open at `open_`, or None if they never close."""
    depth = 0
    for i in range(open_, len(source)):
        c = source[i]
        if c in "([{":
            depth += 1
        elif c in _CLOSERS:
            depth -= 1
            if depth == 0:
                return source[open_ + 1:i]
    return None


def statement_end(source: str, start: int) -> int:
    """Where the statement that runs through `start` ends: `;`, a line's end, or a closer."""
    depth, i = 0, start
    while i < len(source):
        c = source[i]
        if c == '"':
            close = source.find('"', i + 1)
            i = len(source) if close < 0 else close
        elif c in "([{":
            depth += 1
        elif c in _CLOSERS:
            if depth == 0:
                break
            depth -= 1
        elif c in ";#\n" and depth == 0:
            break
        i += 1
    return len(source[:i].rstrip()) if i > start else i


def _ungroup(text: str) -> str:
    """`(A @ B)` → `A @ B`: an argument needs no brackets of its own."""
    if text.startswith("(") and text.endswith(")") and bracketed_after(text, 0) == text[1:-1]:
        return text[1:-1]
    return text


# Hints for characters diffi does not read ------------------------------------------------------

def transpose(operand: str) -> str:
    """The diffi spelling of a transpose."""
    return f"transpose({_ungroup(operand) or 'W'})"


def unexpected_character(source: str, pos: int) -> str | None:
    """The message for a character no token starts with, when the board explains it."""
    char = source[pos]
    before, after = operand_before(source, pos), source[pos + 1:]
    if char in PRIMES:
        return _prime(source, pos, before)
    if char in TRANSPOSE_MARKS or char == "." and re.match(r"T(?![\w(])", after):
        return f"for the transpose write {transpose(before)}"
    if char == "." and before:
        method = re.match(rf"({NAME})\(", after)
        if method:
            return f"diffi has no methods: write {method.group(1)}({_ungroup(before)})"
    if char in "|‖":
        return _norm_or_abs(source, pos)
    if char in "√∇":
        return _prefix_function(char, after)
    if char == "∂":
        return _partial(after)
    if char in SUPERSCRIPT_LETTERS:
        return f"for the power write {before or 'x'}^{SUPERSCRIPT_LETTERS[char]}"
    if char in FOREIGN_CHARACTERS:
        return f"for '{char}' write {FOREIGN_CHARACTERS[char]}"
    return None


def _partial(after: str) -> str:
    """A `∂` that starts no derivative diffi reads: `∂_x f` → d/dx f; `∂f` → the forms."""
    with_respect = re.match(rf"_\{{?({NAME})\}}?[ \t]*([^;#\n]*)", after)
    if with_respect and with_respect.group(1) not in RESERVED:
        operand = with_respect.group(2).strip()
        operand = operand if 0 < len(operand) <= 40 else "E"  # the rest of the statement
        return f"for the partial derivative write d/d{with_respect.group(1)} {operand}"
    return "for a partial derivative write ∂/∂x E (or d/dx E), or ∂f/∂x of a function f"


def _prime(source: str, pos: int, before: str) -> str:
    """`W'` is a transpose; `f'(x)` a derivative; `'text'` a string in the wrong quotes."""
    if not before:
        close = source.find(source[pos], pos + 1)
        text = source[pos + 1:close] if close > 0 and "\n" not in source[pos:close] else "…"
        return f'strings are written in double quotes: "{text}"'
    end = pos
    while end < len(source) and source[end] in PRIMES:
        end += 1
    inside = bracketed_after(source, end) if source[end:end + 1] == "(" else None
    if inside is None or not re.fullmatch(NAME, before):
        return f"for the transpose write {transpose(before)}"
    return f"for the derivative of {before} write {_prime_spelling(before, end - pos, inside)}"


def _prime_spelling(function: str, order: int, argument: str) -> str:
    head = "d/d{v}" if order == 1 else f"d{order}/d{{v}}{order}"
    argument = argument.strip()
    if re.fullmatch(NAME, argument) and not argument[-1].isdigit():
        return f"{head.format(v=argument)} {function}({argument})"
    return f"{head.format(v='x')} {function}(x) at x = {argument}"


def _norm_or_abs(source: str, pos: int) -> str:
    """`|x|` is abs(x); `||v||` and `‖v‖` are norm(v)."""
    double = source[pos] == "‖" or source[pos:pos + 2] == "||"
    mark = "‖" if source[pos] == "‖" else "||" if double else "|"
    start = pos + len(mark)
    close = source.find(mark, start)
    line_end = source.find("\n", start)
    inside = "" if close < 0 or 0 <= line_end < close else source[start:close].strip()
    if not re.search(r"\w", inside):  # nothing that could be an operand: a placeholder
        inside = ""
    if double:
        return f"for the norm write norm({inside or 'v'})"
    return f"for the absolute value write abs({inside or 'x'})"


def _prefix_function(char: str, after: str) -> str:
    """`√x`, `√(x + 1)` → sqrt(…); `∇f` → grad f; `∇_w L` → grad L wrt w."""
    found = re.match(NAME, after) or re.match(r"\d+\.?\d*", after)
    if char == "∇":
        with_respect = re.match(rf"_\{{?({NAME})\}}?[ \t]*({NAME})", after)
        if with_respect and not RESERVED.intersection(with_respect.groups()):
            return (f"for the gradient write grad {with_respect.group(2)} "
                    f"wrt {with_respect.group(1)}")
        name = found.group(0) if found and found.group(0) not in RESERVED else "f"
        return f"for the gradient write grad {name}"
    if after.startswith("("):
        inside = bracketed_after(after, 0)
        return f"for the square root write sqrt({inside if inside is not None else 'x'})"
    return f"for the square root write sqrt({found.group(0) if found else 'x'})"


def power_of_call(power, args, keywords) -> str:
    """`sin²(x)` is sin(x)^2; `sin⁻¹(x)` is asin(x)."""
    function, exponent = power.left.id, power.right
    call = S.Call(power.left, args, keywords)
    if function in INVERSE_FUNCTIONS and type(exponent) is S.Num and exponent.value == -1:
        call.func = S.Name(INVERSE_FUNCTIONS[function])
        return f"for the inverse function write {S.unparse(call)}"
    return f"for the power of a call write {S.unparse(S.Binary('^', call, exponent))}"


# Hints for two operands side by side -------------------------------------------------------------

def foreign_word(word: str) -> str | None:
    """What to write instead of a word of another language (`for`, `return`, `def`)."""
    return FOREIGN_WORDS.get(word)


def derivative_before(source: str, pos: int) -> tuple[int, int] | None:
    """(start, end) of a `d/dx` written just before `pos` where only an operand may stand."""
    line_start = _line_before(source, pos)
    found = re.search(_DERIVATIVE_AT_END, source[line_start:pos])
    if found is None or found.start() == 0:
        return None
    start = line_start + found.start()
    return start, start + len(found.group(0).rstrip())


def parenthesise(source: str, start: int, what: str = "a directive") -> str:
    """`w - 0.5 * grad L(w) wrt w` → put the directive in parentheses: (grad L(w) wrt w)."""
    text = source[start:statement_end(source, start)]
    return f"{what} inside an expression needs parentheses: write ({text})"


def juxtaposed(left: str, right: str, is_function: bool | None) -> str:
    """Two operands with nothing between: a call (`sin x`) or a product (`x y`)."""
    if is_function is None:
        return (f"two operands need an operator between them: write {left}({right}) "
                f"to call {left}, or {left}*{right} to multiply")
    if is_function:
        return f"a function's argument goes in parentheses: write {left}({right})"
    return f"implicit multiplication is not supported: write {left}*{right}"


# Names that are not defined -------------------------------------------------------------------------

def did_you_mean(name: str, known, spellings: dict[str, tuple[str, ...]]) -> str:
    """`; did you mean 'sigmoid' (also 'σ', 'logistic')?` for a name not defined, or ''.

    `spellings` maps a built-in to its other names. Close means a difflib match that is
    also within a small edit distance, so `inv` suggests nothing rather than `sin`.
    """
    if name in FOREIGN_WORDS:
        return f"; {FOREIGN_WORDS[name]}"
    known = sorted(set(known))
    if name in SPELLED_OUT and SPELLED_OUT[name] not in known:
        return f"; write {SPELLED_OUT[name]}"
    target = SPELLED_OUT.get(name) or _closest(name, known)
    if target is None:
        return ""
    others = [o for o in spellings.get(target, ()) if o != name]
    also = f" (also {', '.join(repr(o) for o in others)})" if others else ""
    return f"; did you mean '{target}'{also}?"


def _closest(name: str, known: list[str]) -> str | None:
    folded = [k for k in known if k.lower() == name.lower()]
    if folded:
        return folded[0]
    limit = max(1, len(name) // 3)
    for candidate in difflib.get_close_matches(name, known, n=5, cutoff=0.6):
        if edit_distance(name, candidate) <= limit:
            return candidate
    return None


def edit_distance(a: str, b: str) -> int:
    """Edits (insert, delete, replace, swap two neighbours) that turn a into b."""
    previous, current = None, list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        before, previous = previous, current
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], before[j - 2] + 1)
    return current[len(b)]
