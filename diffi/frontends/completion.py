"""What the REPL suggests as you type: completions, the help line, indentation.

Plain functions of the text and the interpreter (no prompt_toolkit), so that they are
easy to test and cheap: they run on every keystroke.
"""
from __future__ import annotations

import re
from functools import partial

from ..core.library import BUILTINS
from ..core.values import PRECISION, Builtin, Function, format_value, kind_of
from ..language.vocabulary import (DERIVATIVE, DERIVATIVE_TYPED, DIRECTIVES, LEIBNIZ, MODES,
                                   NAME, OPTIMIZERS, RESERVED)
from . import topics

# A derivative being typed (`d/d`, `d2/dx`, `∂/∂`) or a name, ending at the cursor.
WORD = re.compile(rf"(?<![\w/])(?:{DERIVATIVE_TYPED}|{NAME})$")
TOKEN = re.compile(rf"(?<![\w/])(?:{LEIBNIZ}|{DERIVATIVE}|{NAME})")
MODE_SLOT = re.compile(r"\busing\s+\w*$")
META_WIDTH = 50
CLOSE = {")": "(", "]": "[", "}": "{"}


class Candidate:
    """One completion: the text to insert, its group, and a note shown beside it."""

    __slots__ = ("text", "group", "_note")

    def __init__(self, text: str, group: str, note):
        self.text = text
        self.group = group  # name, built-in, directive, keyword, mode, command, topic
        # A function giving the note is called only when the menu shows it: a keystroke
        # stays cheap with a thousand names in scope.
        self._note = note

    @property
    def meta(self) -> str:
        if callable(self._note):
            self._note = self._note()
        return self._note

    def __repr__(self) -> str:
        return f"Candidate({self.text!r}, {self.group!r})"


def is_command(text: str) -> bool:
    """A `:` command line (`:help grad`) rather than diffi source."""
    return text.lstrip().startswith(":")


def word_before(text: str) -> str:
    """The name (or `d/dx` form) that ends at the cursor; '' when there is none."""
    found = WORD.search(text)
    return found.group(0) if found else ""


def short(text: str, width: int = META_WIDTH) -> str:
    """One line of at most `width` characters, cut with '…'."""
    line = " ".join(part.strip() for part in text.splitlines())
    return line if len(line) <= width else line[:width - 1] + "…"


def shape_of(value) -> str:
    """2×3 for a matrix, 3 for a vector, '' for anything that is not a tensor."""
    shape = getattr(value, "shape", None)
    return "×".join(str(n) for n in shape) if shape else ""


def describe(value, precision: int = PRECISION) -> str:
    """A short note on a value: a function's definition, a number, a tensor's kind and shape."""
    if isinstance(value, Function):
        return short(str(value))
    if getattr(value, "shape", None):
        return f"{kind_of(value)} {shape_of(value)}"
    if isinstance(value, tuple):
        return f"tuple of {len(value)}"
    return short(format_value(value, precision))


def _user(interpreter, word: str) -> list[Candidate]:
    bindings = interpreter.globals
    names = sorted((n for n in bindings if n.startswith(word)), key=lambda n: (len(n), n))
    return [Candidate(n, "name", partial(describe, bindings[n].node.value, interpreter.precision))
            for n in names]


def builtin_note(name: str) -> str:
    """A built-in's signature and doc (a constant's value and meaning)."""
    value = BUILTINS[name].value
    if isinstance(value, Builtin):
        return short(f"{value.signature}  {value.doc}")
    return short(f"{format_value(value)}  {topics.CONSTANT_DOCS.get(name, 'constant')}")


def _builtins(interpreter, word: str) -> list[Candidate]:
    names = sorted(n for n in BUILTINS if n.startswith(word) and n not in interpreter.globals)
    return [Candidate(n, "built-in", partial(builtin_note, n)) for n in names]


def _reserved(word: str) -> list[Candidate]:
    found = []
    for name in sorted(n for n in RESERVED if n.startswith(word)):
        topic = topics.lookup(name)
        group = "directive" if name in DIRECTIVES else "keyword"
        found.append(Candidate(name, group, short(topic.signature) if topic else group))
    return found


def _derivatives(interpreter, word: str) -> list[Candidate]:
    """d/dx for each variable: `d/d` completes to `d/dx`, `d/dy`, …"""
    head, _, tail = word.rpartition("/")
    letter, tail = tail[:1], tail[1:]
    names = [n for n, b in interpreter.globals.items()
             if n.startswith(tail) and not isinstance(b.node.value, Function)]
    if not names and "x".startswith(tail):
        names = ["x"]
    note = short(topics.lookup("d/dx").summary)
    return [Candidate(f"{head}/{letter}{n}", "directive", note) for n in sorted(names)]


def candidates(interpreter, before: str) -> list[Candidate]:
    """Completions for the source before the cursor: names, then built-ins, then keywords."""
    word = word_before(before)
    if "/" in word:
        return _derivatives(interpreter, word)
    if MODE_SLOT.search(before):
        return [Candidate(m, "mode", "mode") for m in MODES + OPTIMIZERS if m.startswith(word)]
    if not word:
        return []
    found = _user(interpreter, word) + _builtins(interpreter, word) + _reserved(word)
    if len(found) == 1 and found[0].text == word:
        return []  # the word is already whole: a menu would only repeat it
    return found


def command_candidates(line: str) -> tuple[str, list[Candidate]]:
    """(what is being completed, completions) on a `:` line; `:load` paths are left to the caller."""
    stripped = line.lstrip()
    name, space, argument = stripped.partition(" ")
    if not space:
        return name, [Candidate(t.name, "command", t.summary) for t in topics.COMMANDS
                      if t.name.startswith(name)]
    if name == ":help":
        word = argument.lstrip()
        return word, [Candidate(n, "topic", short(t.summary))
                      for n, t in topics.topics().items() if n.startswith(word)]
    return argument.lstrip(), []


# The help line -------------------------------------------------------------------------

def word_at(text: str, cursor: int) -> str:
    """The whole word (or `d2/dx2`) under the cursor or just before it."""
    start = text.rfind("\n", 0, cursor) + 1
    end = text.find("\n", cursor)
    line = text[start:end if end >= 0 else len(text)]
    for found in TOKEN.finditer(line):
        if found.start() <= cursor - start <= found.end():
            return found.group(0)
    return ""


def enclosing_call(before: str) -> str:
    """The function whose parentheses the cursor is in: `hypot(3, |` → 'hypot'."""
    depth = 0
    for i in range(len(before) - 1, -1, -1):
        c = before[i]
        if c in ")]}":
            depth += 1
        elif c in "([{":
            if depth == 0:
                return word_before(before[:i].rstrip()) if c == "(" else ""
            depth -= 1
        elif c in ";\n" and depth == 0:
            return ""
    return ""


def last_directive(before: str) -> str:
    """The directive of the statement the cursor is in: `grad f wrt x at |` → 'grad'."""
    statement = re.split(r"[;\n]", before)[-1]
    for word in reversed(TOKEN.findall(statement)):
        if word in DIRECTIVES or topics.is_derivative(word):
            return word
    return ""


def hint(interpreter, text: str, cursor: int) -> tuple[str, str] | None:
    """(signature, one-line help) of what the cursor is on, for the bottom line."""
    if is_command(text):
        return _topic_hint(text.split()[0])
    before = text[:cursor]
    for name in (word_at(text, cursor), enclosing_call(before), last_directive(before)):
        found = name and (_name_hint(interpreter, name) or _topic_hint(name))
        if found:
            return found
    return None


def _name_hint(interpreter, name: str) -> tuple[str, str] | None:
    binding = interpreter.globals.get(name)
    if binding is None:
        return None
    value = binding.node.value
    if isinstance(value, Function):
        return str(value), "function defined in this session"
    return f"{name} = {describe(value, interpreter.precision)}", kind_of(value)


def _topic_hint(name: str) -> tuple[str, str] | None:
    topic = topics.lookup(name)
    if topic is None:
        return None
    return topic.signature, topic.summary


# Layout ------------------------------------------------------------------------------------

def open_brackets(text: str) -> int:
    """How many brackets are open at the end of `text` (strings and comments skipped)."""
    depth = 0
    for token in re.finditer(r'"(?:\\.|[^"\\\n])*"?|#[^\n]*|[()\[\]{}]', text):
        c = token.group(0)
        if c in "([{":
            depth += 1
        elif c in CLOSE:
            depth = max(0, depth - 1)
    return depth
