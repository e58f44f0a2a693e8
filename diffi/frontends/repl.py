"""The interactive REPL on prompt_toolkit (docs/repl.md): the only module that imports it.

A thin leaf: highlighting comes from lexer.py, suggestions from completion.py, running
input from session.py. Nothing imports this module but `diffi` itself,
when standard input and output are a terminal.
"""
from __future__ import annotations

import os
from pathlib import Path

from prompt_toolkit import PromptSession, print_formatted_text
from prompt_toolkit.application import get_app
from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
from prompt_toolkit.buffer import ValidationState
from prompt_toolkit.completion import (CompleteEvent, Completer, Completion, PathCompleter,
                                       get_common_complete_suffix)
from prompt_toolkit.document import Document
from prompt_toolkit.enums import DEFAULT_BUFFER
from prompt_toolkit.filters import Condition, has_completions, has_focus
from prompt_toolkit.formatted_text import FormattedText
from prompt_toolkit.history import FileHistory, History, InMemoryHistory
from prompt_toolkit.key_binding import KeyBindings
from prompt_toolkit.layout.processors import Processor, Transformation
from prompt_toolkit.layout.utils import explode_text_fragments
from prompt_toolkit.lexers import Lexer, PygmentsLexer
from prompt_toolkit.output import create_output
from prompt_toolkit.styles import Style
from prompt_toolkit.validation import ValidationError, Validator

from .. import __version__
from ..errors import DiffiSyntaxError
from ..language.parser import is_incomplete, parse
from . import completion
from .commands import PROMPT
from .lexer import DiffiLexer
from .session import MORE, Session, make_session

INDENT = "  "
STYLE = Style.from_dict({
    "pygments.number": "ansicyan",
    "pygments.name.constant": "ansicyan",
    "pygments.name.builtin": "ansigreen",
    "pygments.name.function": "bold",
    "pygments.name.attribute": "ansigreen italic",
    "pygments.keyword": "ansiblue bold",
    "pygments.keyword.reserved": "ansimagenta bold",
    "pygments.string": "ansiyellow",
    "pygments.comment": "ansibrightblack italic",
    "pygments.error": "ansired underline",
    "command": "ansiyellow bold",
    "prompt": "ansigreen bold",
    "continuation": "ansibrightblack",
    "syntax-error": "bg:ansired ansiwhite",
    "bottom-toolbar": "noreverse",
    "bottom-toolbar.signature": "bold",
    "bottom-toolbar.doc": "italic",
    "bottom-toolbar.keys": "ansibrightblack",
    "error": "ansired bold",
    "caret": "ansired bold",
    "warning": "ansiyellow",
    "note": "ansiyellow",
    "heading": "bold",
    "good": "ansigreen",
    "bad": "ansired bold",
})
KEYS = " Tab completes · Ctrl-R searches history · :help · Ctrl-D quits"


def history_path() -> Path:
    """$XDG_STATE_HOME/diffi/history, or ~/.local/state/diffi/history."""
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"),
                                                             ".local", "state")
    return Path(state) / "diffi" / "history"


def open_history() -> History:
    """The history file, created if need be; in memory only when it cannot be."""
    path = history_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(exist_ok=True)
    except OSError:
        return InMemoryHistory()
    return FileHistory(str(path))


class SourceLexer(Lexer):
    """diffi colours from the Pygments lexer; a `:` command line coloured as one."""

    def __init__(self):
        self.pygments = PygmentsLexer(DiffiLexer)

    def lex_document(self, document: Document):
        if not completion.is_command(document.text):
            return self.pygments.lex_document(document)
        lines = document.lines

        def line(i: int):
            if i != 0:
                return [("", lines[i])] if i < len(lines) else []
            name, space, rest = lines[0].partition(" ")
            return [("class:command", name), ("", space + rest)]
        return line


class SourceCompleter(Completer):
    """Names, built-ins (with their signatures), directives, keywords, commands and paths."""

    def __init__(self, session: Session):
        self.session = session
        self.paths = PathCompleter(expanduser=True)

    def get_completions(self, document: Document, event: CompleteEvent):
        if completion.is_command(document.text):
            yield from self._command(document, event)
            return
        found = completion.candidates(self.session.interpreter, document.text_before_cursor)
        word = completion.word_before(document.text_before_cursor)
        for c in found:
            yield Completion(c.text, -len(word), display_meta=lambda c=c: c.meta)

    def _command(self, document: Document, event: CompleteEvent):
        before = document.text_before_cursor
        if before.lstrip().startswith(":load "):
            argument = before.lstrip()[len(":load "):].lstrip()
            yield from self.paths.get_completions(Document(argument), event)
            return
        word, found = completion.command_candidates(before)
        for c in found:
            yield Completion(c.text, -len(word), display_meta=c.meta)


class SourceValidator(Validator):
    """Points at a syntax error: on Enter, any; while typing, only those more text cannot fix."""

    def validate(self, document: Document) -> None:
        error = syntax_error(document.text)
        if error is not None:
            raise error

    async def validate_async(self, document: Document) -> None:
        error = syntax_error(document.text, typing=True)
        if error is not None:
            raise error


def syntax_error(text: str, typing: bool = False) -> ValidationError | None:
    """The input's syntax error placed at its offset, or None."""
    if completion.is_command(text) or not text.strip():
        return None
    try:
        parse(text)
    except DiffiSyntaxError as error:
        offset = len(text) if error.incomplete else _offset(text, error.line, error.column)
        # While typing, an open bracket or an error in the last word (`2e` on the way
        # to `2e-3`) is no error yet: the next keys may well mend it.
        if typing and (error.incomplete or offset >= _last_word(text)):
            return None
        return ValidationError(offset, error.message)
    return None


def _offset(text: str, line: int, column: int) -> int:
    lines = text.split("\n")
    return sum(len(s) + 1 for s in lines[:line - 1]) + column - 1


def _last_word(text: str) -> int:
    """Where the last whitespace-separated word of the text starts."""
    stripped = text.rstrip()
    return len(stripped) - len(stripped.split()[-1])


class ErrorMarker(Processor):
    """Paints the character a syntax error points at."""

    def apply_transformation(self, ti):
        error = ti.buffer_control.buffer.validation_error
        if error is None:
            return Transformation(ti.fragments)
        row, col = ti.document.translate_index_to_position(error.cursor_position)
        if row != ti.lineno:
            return Transformation(ti.fragments)
        fragments = explode_text_fragments(ti.fragments)
        if col < len(fragments):
            style, text = fragments[col][:2]
            fragments[col] = (style + " class:syntax-error", text)
        else:
            fragments.append(("class:syntax-error", " "))
        return Transformation(fragments)


def key_bindings() -> KeyBindings:
    """Enter runs complete input and continues open brackets; Alt-Enter always adds a line."""
    bindings = KeyBindings()
    editing = has_focus(DEFAULT_BUFFER)  # not while searching history (Ctrl-R)
    selected = has_completions & Condition(lambda: _selected(_app_buffer()))

    @bindings.add("enter", filter=editing & selected)
    @bindings.add("c-j", filter=editing & selected)
    def _(event):
        event.current_buffer.complete_state = None  # keep the chosen completion, run nothing

    @bindings.add("enter", filter=editing & ~selected)
    @bindings.add("c-j", filter=editing & ~selected)
    def _(event):
        buffer = event.current_buffer
        if _needs_more(buffer.text):
            _new_line(buffer)
            return
        buffer.validation_state = ValidationState.UNKNOWN  # typing checked leniently: recheck
        buffer.validate_and_handle()

    @bindings.add("escape", "enter", filter=editing)
    def _(event):
        _new_line(event.current_buffer)

    blank = editing & Condition(lambda: _blank_before_cursor(_app_buffer()))

    @bindings.add("tab", filter=blank)
    def _(event):
        event.current_buffer.insert_text(INDENT)

    @bindings.add("tab", filter=editing & ~blank)
    def _(event):
        complete_now(event.current_buffer)

    return bindings


def complete_now(buffer) -> None:
    """Tab: the next completion in an open menu, else complete at once (a unique one whole)."""
    # Computed here rather than left to the background completer, which drops a Tab
    # typed while it is still busy with the previous keystroke.
    if buffer.complete_state:
        buffer.complete_next()
        return
    event = CompleteEvent(completion_requested=True)
    found = list(buffer.completer.get_completions(buffer.document, event))
    if len(found) == 1:
        buffer.apply_completion(found[0])
        return
    common = get_common_complete_suffix(buffer.document, found)
    if common:
        buffer.insert_text(common)
    buffer.start_completion(select_first=False)


def _app_buffer():
    return get_app().current_buffer


def _selected(buffer) -> bool:
    state = buffer.complete_state
    return state is not None and state.current_completion is not None


def _blank_before_cursor(buffer) -> bool:
    return not buffer.document.current_line_before_cursor.strip()


def _needs_more(text: str) -> bool:
    return bool(text.strip()) and not completion.is_command(text) and is_incomplete(text)


def _new_line(buffer) -> None:
    """A new line indented by the brackets still open before the cursor."""
    depth = completion.open_brackets(buffer.document.text_before_cursor)
    buffer.newline(copy_margin=False)
    buffer.insert_text(INDENT * depth)


def toolbar(session: Session):
    """The bottom line, for the input being edited."""
    return lambda: toolbar_text(session, get_app().current_buffer.document)


def toolbar_text(session: Session, document: Document) -> FormattedText:
    """Signature and help of what the cursor is on, else the keys."""
    found = completion.hint(session.interpreter, document.text, document.cursor_position)
    if found is None:
        return FormattedText([("class:bottom-toolbar.keys", KEYS)])
    signature, doc = found
    return FormattedText([("class:bottom-toolbar.signature", f" {signature}"),
                          ("class:bottom-toolbar.doc", f"  {doc}")])


def continuation(width: int, line_number: int, wrap_count: int):
    """The prompt of a continuation line, as wide as the first prompt."""
    return [("class:continuation", MORE.rjust(width))]


def prompt_session(session: Session, history: History | None = None, **io) -> PromptSession:
    """A PromptSession wired to a diffi session; `io` may give input= and output= (tests)."""
    return PromptSession(
        message=[("class:prompt", PROMPT)], prompt_continuation=continuation,
        multiline=True, lexer=SourceLexer(), completer=SourceCompleter(session),
        complete_while_typing=True, validator=SourceValidator(), validate_while_typing=True,
        bottom_toolbar=toolbar(session), style=STYLE, include_default_pygments_style=False,
        history=history if history is not None else open_history(),
        auto_suggest=AutoSuggestFromHistory(), key_bindings=key_bindings(),
        input_processors=[ErrorMarker()], enable_open_in_editor=True,
        tempfile_suffix=".dfi", search_ignore_case=True, **io)


def painter(stdout, stderr):
    """print_formatted_text in STYLE, one output per stream (plain text when not a terminal)."""
    outputs = {id(stdout): create_output(stdout), id(stderr): create_output(stderr)}

    def paint(stream, fragments) -> None:
        output = outputs.get(id(stream)) or create_output(stream)
        print_formatted_text(FormattedText(fragments), style=STYLE, output=output,
                             include_default_pygments_style=False)
    return paint


def loop(session: Session, prompt: PromptSession) -> int:
    """Read, run, print until :quit or Ctrl-D; Ctrl-C at the prompt clears the input."""
    while True:
        try:
            text = prompt.prompt()
        except KeyboardInterrupt:
            continue
        except EOFError:
            return 0
        if not session.handle(text):
            return 0


def run_repl(previous, console) -> int:
    """The REPL on this terminal, taking over the names `previous` defined (`diffi -i`)."""
    session = make_session(previous, console.stdout, console.stderr,
                           painter(console.stdout, console.stderr))
    console.stdout.write(f"diffi {__version__}: :help for help, Ctrl-D to quit\n")
    return loop(session, prompt_session(session))
