"""The prompt_toolkit REPL (diffi/frontends/repl.py), driven by keys through a pipe into a dummy
terminal: typing, Tab, multi-line input, pasting, validation, meta-commands, history."""
from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from prompt_toolkit.buffer import Buffer
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from prompt_toolkit.history import FileHistory, InMemoryHistory
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.layout.controls import BufferControl
from prompt_toolkit.layout.processors import TransformationInput
from prompt_toolkit.output import DummyOutput
from prompt_toolkit.validation import ValidationError

from diffi.frontends.repl import (ErrorMarker, SourceCompleter, SourceValidator, history_path,
                                  loop, open_history, prompt_session, syntax_error,
                                  toolbar_text)
from diffi.frontends.session import make_session

ROOT = Path(__file__).resolve().parents[2]
ENTER, TAB, CTRL_C, CTRL_D = "\r", "\t", "\x03", "\x04"


def repl(keys: str, session=None, history=None):
    """Type `keys` into a REPL; (exit status, everything it printed, the session)."""
    out = io.StringIO()
    session = session or make_session(None, out, out, width=lambda: 80)
    with create_pipe_input() as pipe:
        pipe.send_text(keys)
        prompt = prompt_session(session, history or InMemoryHistory(), input=pipe,
                                output=DummyOutput())
        status = loop(session, prompt)
    return status, out.getvalue(), session


def completions(text: str, session=None) -> list:
    session = session or make_session(None, io.StringIO(), io.StringIO())
    document = Document(text)
    return list(SourceCompleter(session).get_completions(document, CompleteEvent()))


def test_typed_statements_run_and_print():
    status, out, _ = repl("x = 3" + ENTER + "x * 2" + ENTER + CTRL_D)
    assert (status, out) == (0, "6\n")


def test_tab_completes_a_builtin():
    assert repl("hypo" + TAB + "(3, 4)" + ENTER + CTRL_D)[1] == "5\n"


def test_tab_completes_a_defined_name():
    keys = "learning_rate = 0.5" + ENTER + "lea" + TAB + " * 2" + ENTER + CTRL_D
    assert repl(keys)[1] == "1\n"


def test_new_lines_are_indented_and_tab_indents_more():
    keys = "f(x) = {" + ENTER + TAB + "x + 1 }" + ENTER + "f(1)" + ENTER + CTRL_D
    status, out, session = repl(keys)
    assert out == "2\n"
    assert session.transcript.segments[0].source == "f(x) = {\n    x + 1 }"


def test_completer_shows_signatures_and_kinds():
    found = {c.text: c.display_meta_text for c in completions("si")}
    assert found["sin"] == "sin(x)  sine (radians)"
    assert completions("gr")[0].text == "grad"
    assert completions("x = hyp")[0].start_position == -3


def test_completer_completes_commands_topics_and_paths(tmp_path):
    assert [c.text for c in completions(":pr")] == [":precision"]
    assert [c.text for c in completions(":help back")] == ["backprop"]
    (tmp_path / "model.dfi").write_text("", encoding="utf-8")
    found = completions(f":load {tmp_path}/mo")
    assert [c.text for c in found] == ["del.dfi"]


def test_an_open_bracket_or_block_continues_the_input():
    keys = "f(x) = {" + ENTER + "a = x^2" + ENTER + "a + 1 }" + ENTER + "f(2)" + ENTER
    keys += "[1," + ENTER + "2]" + ENTER + CTRL_D
    assert repl(keys)[1] == "5\n[1, 2]\n"


def test_a_pasted_program_runs_as_one_input():
    paste = "\x1b[200~a = 1\nb = a + 1\nb * 10\n\x1b[201~"
    status, out, session = repl(paste + ENTER + CTRL_D)
    assert out == "20\n" and session.transcript.inputs == 1


def test_alt_enter_adds_a_line_to_a_complete_input():
    keys = "x = 1" + "\x1b\r" + "x + 1" + ENTER + CTRL_D
    assert repl(keys)[1] == "2\n"


def test_a_syntax_error_is_not_run():
    keys = "y = 2 +* 3" + ENTER + CTRL_C + "y = 1" + ENTER + "y" + ENTER + CTRL_D
    status, out, session = repl(keys)
    assert out == "1\n" and session.transcript.inputs == 2


def test_validator_points_at_the_error():
    with pytest.raises(ValidationError) as caught:
        SourceValidator().validate(Document("y = 2 +* 3"))
    assert caught.value.cursor_position == 7
    assert "expected an expression" in caught.value.message
    assert syntax_error("x = 2 + 3") is None and syntax_error(":vars") is None



def test_validator_takes_input_nested_to_any_depth():
    deep = "x = " + "(2, " * 20_000 + "1" + ")" * 20_000
    for text in [deep, "y = " + "[" * 100_000 + "1" + "]" * 100_000, "x = " + "-" * 100_000 + "1"]:
        assert syntax_error(text) is None and syntax_error(text, typing=True) is None
    unclosed = syntax_error(deep[:-1])
    assert unclosed.cursor_position == len(deep) - 1
    assert unclosed.message == "'(' is never closed: expected ')'"

@pytest.mark.parametrize("text, shown", [
    ("y = 2 +* 3", True), ("y = 2x + 1", True), ("x = 2e", False), ("f(x) = {", False),
    ("x = 2 +", False),
])
def test_while_typing_only_errors_that_typing_cannot_fix(text, shown):
    try:
        asyncio.run(SourceValidator().validate_async(Document(text)))
        raised = False
    except ValidationError:
        raised = True
    assert raised is shown


def marked(text: str, offset: int, lineno: int = 0) -> list:
    """The fragments ErrorMarker makes of one line of `text` with an error at `offset`."""
    buffer = Buffer(document=Document(text))
    buffer.validation_error = ValidationError(offset, "boom")
    line = text.split("\n")[lineno]
    ti = TransformationInput(BufferControl(buffer), buffer.document, lineno, lambda i: i,
                             [("class:pygments.name", line)], 80, 1)
    return ErrorMarker().apply_transformation(ti).fragments


def test_the_character_in_error_is_painted():
    fragments = marked("y = 2 +* 3", 7)
    assert fragments[7] == ("class:pygments.name class:syntax-error", "*")
    assert fragments[6] == ("class:pygments.name", "+")
    assert marked("a = 1\nb = (", 11, lineno=1)[-1] == ("class:syntax-error", " ")
    assert marked("a = 1\nb = (", 11, lineno=0) == [("class:pygments.name", "a = 1")]


def test_bottom_line_shows_the_signature_under_the_cursor():
    session = make_session(None, io.StringIO(), io.StringIO())
    text = "".join(t for _, t in toolbar_text(session, Document("y = hypot(3, ")))
    assert text == " hypot(x, y)  sqrt(x^2 + y^2) without overflow"
    assert "Ctrl-R" in "".join(t for _, t in toolbar_text(session, Document("1 + 2")))


def test_meta_commands():
    keys = ":precision 3" + ENTER + "pi" + ENTER + "v = [1, 2]" + ENTER + ":vars" + ENTER
    keys += ":reset" + ENTER + ":vars" + ENTER + ":help sin" + ENTER + CTRL_D
    out = repl(keys)[1]
    assert out.startswith("3.14\nname  kind    shape  value\nans   number         3.14\n"
                          "v     vector  2      [1, 2]\n")
    assert "(no names defined)\nsin(x)\n  sine (radians)" in out


def test_quit_and_ctrl_d_end_with_status_0():
    assert repl(":quit" + ENTER + "1" + ENTER)[:2] == (0, "")
    assert repl(CTRL_D)[0] == 0


def test_ctrl_c_at_the_prompt_clears_the_input():
    assert repl("1 + " + CTRL_C + "2" + ENTER + CTRL_D)[1] == "2\n"


def test_errors_do_not_end_the_session():
    out = repl("nope + 1" + ENTER + "1/0" + ENTER + CTRL_D)[1]
    assert "error: name 'nope' is not defined" in out and out.endswith("inf\n")


def test_history_is_kept_in_the_state_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert history_path() == tmp_path / "diffi" / "history"
    repl("q = 41 + 1" + ENTER + CTRL_D, history=open_history())
    assert "q = 41 + 1" in (tmp_path / "diffi" / "history").read_text(encoding="utf-8")
    up = "\x1b[A"
    assert repl(up + ENTER + "q" + ENTER + CTRL_D, history=FileHistory(
        str(tmp_path / "diffi" / "history")))[1] == "42\n"


def test_history_defaults_to_local_state(monkeypatch, tmp_path):
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert history_path() == tmp_path / ".local" / "state" / "diffi" / "history"


def test_history_in_memory_when_the_folder_cannot_be_made(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("", encoding="utf-8")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "file"))
    assert isinstance(open_history(), InMemoryHistory)


# The REPL is a leaf: scripts never load prompt_toolkit -----------------------------------

def _modules_after(args, stdin=""):
    code = ("import sys; from diffi.frontends.cli import main; status = main(sys.argv[1:]); "
            "print('prompt_toolkit' in sys.modules, 'diffi.frontends.repl' in sys.modules, "
            "file=sys.stderr)")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-c", code, *args], input=stdin, env=env,
                          capture_output=True, text=True, timeout=60)


def test_running_a_script_never_imports_prompt_toolkit(tmp_path):
    script = tmp_path / "s.dfi"
    script.write_text("x = 2\nd/dx x^3\n", encoding="utf-8")
    done = _modules_after([str(script)])
    assert done.stdout == "12\n" and done.stderr.splitlines()[-1] == "False False"


def test_piped_input_never_imports_prompt_toolkit():
    done = _modules_after([], stdin="1 + 1\n")
    assert done.stdout == "2\n" and done.stderr.splitlines()[-1] == "False False"


def test_nothing_in_diffi_imports_the_repl():
    for path in (ROOT / "diffi").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        name = path.relative_to(ROOT / "diffi").as_posix()
        if name not in ("frontends/repl.py", "frontends/cli.py"):
            assert "from .repl" not in text and "from . import repl" not in text \
                and "frontends.repl" not in text, name
        if name not in ("frontends/repl.py", "frontends/progress.py"):
            assert "import prompt_toolkit" not in text and "from prompt_toolkit" not in text, \
                name


def test_a_script_on_a_terminal_never_imports_prompt_toolkit(tmp_path):
    # minimize's progress bar lives in prompt_toolkit: it must load only when used
    import pty
    script = tmp_path / "s.dfi"
    script.write_text("x = 2\nx^2\n", encoding="utf-8")
    code = ("import sys; sys.argv = ['diffi', %r]; import diffi.frontends.cli as c; c.main(); "
            "print('loaded', any(m.startswith('prompt_toolkit') for m in sys.modules))"
            % str(script))
    pid, fd = pty.fork()
    if pid == 0:  # the child: stdin, stdout and stderr are the terminal
        os.environ["PYTHONPATH"] = str(ROOT)
        os.execv(sys.executable, [sys.executable, "-c", code])
    out = b""
    while True:
        try:
            data = os.read(fd, 1024)
        except OSError:
            break
        if not data:
            break
        out += data
    os.waitpid(pid, 0)
    assert b"4" in out and b"loaded False" in out, out


def test_the_repl_after_a_script_continues_its_random_numbers():
    import diffi
    script = diffi.Interpreter()
    script.run("seed(3); a = randn(2)")
    expected = diffi.Interpreter()
    expected.run("seed(3); a = randn(2)")
    after = list(expected.eval("randn(2)"))
    session = make_session(previous=script, stdout=io.StringIO(), stderr=io.StringIO())
    assert list(session.interpreter.eval("randn(2)")) == after
