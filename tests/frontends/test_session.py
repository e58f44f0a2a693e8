"""A REPL session without its front end (diffi/frontends/session.py): running input, errors shown
against the input they come from, Ctrl-C, and how results are laid out."""
from __future__ import annotations

import gc
import io
import re
import signal
from pathlib import Path

import pytest

from diffi import Interpreter
from diffi.frontends.session import (Transcript, error_fragments, fit, make_session,
                                     plain_loop, result_fragments)


def session(width: int = 80):
    out = io.StringIO()
    return make_session(None, out, out, width=lambda: width), out


def run(*inputs: str, width: int = 80) -> str:
    s, out = session(width)
    for text in inputs:
        assert s.handle(text)
    return out.getvalue()


def test_results_print_as_in_a_script():
    assert run("x = 3", "x * 2", "f(a) = a^2\nf(x); f(1)") == "6\n1\n"


def test_an_error_shows_the_input_it_is_in():
    assert run("x = 1", "z = x + nope") == (
        "error: name 'nope' is not defined\n"
        " --> REPL[2]:1:9\n"
        "  |\n"
        "1 | z = x + nope\n"
        "  |         ^^^^\n")


def test_an_error_inside_an_earlier_function_shows_its_definition():
    out = run("g(x) = x + nope", "1 + 1", "\n\ng(2)")
    assert " --> REPL[1]:1:12\n" in out and "1 | g(x) = x + nope\n" in out


def test_warnings_count_lines_from_their_own_input():
    out = run("1", "2", "sqrt(0) + (d/dx sqrt(x) at x = 0)")
    assert "warning: derivative of sqrt is infinite at 0 (line 1, column" in out


def test_a_warning_inside_a_function_of_an_earlier_input_names_that_input():
    out = run("f(x) = log(x)", "1", "f(0)", "log(0)")
    assert "warning: value of log is infinite at 0 (line 1, column 8 of REPL[1])\n" in out
    assert "warning: value of log is infinite at 0 (line 1, column 1)\n" in out


def test_an_error_leaves_no_half_made_binding():
    s, out = session()
    s.handle("x = 1")
    s.handle("x = 2 + nope")
    assert s.interpreter.eval("x") == 1.0


# A Ctrl-C that lands in a garbage-collector callback (hypothesis installs one) is
# reported by Python as ignored, and the repeating alarm sends another: expected here.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_ctrl_c_cancels_the_statement_and_keeps_the_state():
    s, out = session()
    s.handle("x = 7; f(n) = if n <= 0 then 0 else f(n-1) + f(n-1)")
    running = [True]

    def ctrl_c(signum, frame):  # what Ctrl-C raises; test_repl_terminal.py sends a real one
        if running[0]:
            raise KeyboardInterrupt

    # Earlier tests' garbage goes first: a KeyboardInterrupt raised inside a finalizer
    # run by the collector is ignored (the alarm repeats in case one is lost anyway).
    gc.collect()
    previous = signal.signal(signal.SIGALRM, ctrl_c)
    signal.setitimer(signal.ITIMER_REAL, 0.3, 0.5)
    try:
        assert s.handle("y = f(60)")  # would run for ages
        running[0] = False
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert "interrupted" in out.getvalue()
    assert "y" not in s.interpreter and s.interpreter.eval("x") == 7.0
    assert s.interpreter.eval("f(3)") == 0.0


def test_load_runs_a_file_and_keeps_its_names(tmp_path):
    (tmp_path / "data.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (tmp_path / "m.dfi").write_text('w = 2\nD = load("data.csv")\nw * 3\n', encoding="utf-8")
    s, out = session()
    s.handle(f":load {tmp_path / 'm.dfi'}")
    assert out.getvalue() == "6\n" and s.interpreter.eval("w") == 2.0
    assert s.interpreter.base_dir is None  # relative names start from here again


def test_an_error_in_a_loaded_file_names_the_file(tmp_path):
    path = tmp_path / "bad.dfi"
    path.write_text("a = 1\nb = a + nope\n", encoding="utf-8")
    out = run("1", f":load {path}")
    assert f" --> {path}:2:9\n" in out and "2 | b = a + nope\n" in out


def test_commands_report_their_mistakes():
    out = run(":load /no/such/file.dfi", ":precision 99", ":nope")
    assert "error: cannot read /no/such/file.dfi: No such file or directory" in out
    assert "error: :precision takes a whole number from 1 to 17" in out
    assert "error: unknown command ':nope'; try :help" in out


def test_quit_ends_the_session():
    s, _ = session()
    assert s.handle(":quit") is False


def test_a_session_takes_over_a_scripts_names():
    script = Interpreter()
    script.run("w = 5; sq(t) = t^2")
    script.precision = 4
    out = io.StringIO()
    s = make_session(script, out, out)
    s.handle("sq(w) / 3")
    s.handle("sq(nope)")
    assert out.getvalue().startswith("8.333\n")
    assert " --> REPL[2]:1:4" in out.getvalue()


def test_transcript_maps_lines_back_to_inputs():
    t = Transcript()
    t.add("a = 1")
    padded, label = t.add("b = 2\nc = b + q")
    assert (label, padded.count("\n")) == ("REPL[2]", 2)
    segment, span = t.locate(type("S", (), {"line": 3, "column": 9, "end_line": 3,
                                             "end_column": 10})())
    assert segment.label == "REPL[2]" and span.line == 2


def test_plain_loop_reads_on_while_a_bracket_is_open():
    s, out = session()
    lines = iter(["f(x) = {", "  x + 1 }", "f(1)", ":vars", "[1,", "2]", ":quit", "never"])
    assert plain_loop(s, read=lambda prompt: next(lines)) == 0
    assert out.getvalue().startswith("2\nname")
    assert out.getvalue().endswith("[1, 2]\n")


def test_plain_loop_ends_at_end_of_input():
    s, _ = session()

    def read(prompt):
        raise EOFError
    assert plain_loop(s, read=read) == 0


TRACE = """backward pass
  ȳ   = 1
  v̄2  = v̄3·v3·sigmoid(−v2)·more·terms = 0.000910138535918576
  v̄1  = v̄2                            = 0.000910138535918576
gradient: [0.5]"""


def test_fit_narrows_the_formula_column_and_keeps_values():
    lines = fit(TRACE, 50).splitlines()
    assert lines[0] == "backward pass" and lines[-1] == "gradient: [0.5]"
    rows = lines[2:4]
    assert all(r.endswith("= 0.000910138535918576") for r in rows)
    assert "…" in rows[0] and rows[0].index("= 0.0009") == rows[1].index("= 0.0009")
    assert fit(TRACE, 200) == TRACE


def styled(*inputs: str) -> list[tuple[str, str]]:
    """The (style, line) pairs a session painted for its results."""
    painted = []
    out = io.StringIO()
    s = make_session(None, out, out, paint=lambda stream, fragments: painted.extend(
        (style, text.strip()) for style, text in fragments), width=lambda: 200)
    for text in inputs:
        assert s.handle(text)
    return painted


def test_a_report_has_bold_headings_and_plain_rows():
    styles = dict((line, style) for style, line in styled("backprop sin(x) at x = 1"))
    assert styles["forward pass"] == styles["backward pass"] == "class:heading"
    assert {style for line, style in styles.items() if line.startswith("x")} == {""}


def test_a_checks_verdict_is_green_when_modes_agree_and_red_when_not():
    (verdict,) = [(s, line) for s, line in styled("check x^3 wrt x at x = 2")
                  if line.startswith("largest")]
    assert verdict[0] == "class:good" and ": agree" in verdict[1]
    (verdict,) = [(s, line) for s, line in styled("check floor(x) wrt x at x = 1")
                  if line.startswith("largest")]
    assert verdict[0] == "class:bad" and "DISAGREE" in verdict[1]


def test_only_reports_are_styled():
    assert styled('print("we agree")', "3") == [("", "we agree"), ("", "3")]
    assert result_fragments("3") == [("", "3")]


def test_error_styles():
    text = "error: boom\n --> REPL[1]:1:1\n  |\n1 | x\n  | ^"
    fragments = error_fragments(text)
    assert fragments[0] == ("class:error", "error: boom\n")
    assert fragments[-1] == ("class:caret", "^")


def transcripts():
    """The REPL sessions shown in docs/repl.md (```text blocks of `diffi>` lines)."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "repl.md").read_text("utf-8")
    for block in re.findall(r"^```text\n(.*?)^```", text, re.S | re.M):
        if "diffi> " in block and "^C" not in block:
            yield block[block.index("diffi> "):]


@pytest.mark.parametrize("block", list(transcripts()))
def test_the_sessions_shown_in_the_docs(block):
    s, out = session(width=88)
    shown = []
    for line in block.splitlines():
        if line.startswith("diffi> "):
            shown.append(out.getvalue())
            out.seek(0)
            out.truncate()
            shown.append(line + "\n")
            s.handle(line[len("diffi> "):])
    shown.append(out.getvalue())
    assert "".join(shown) == block


def test_the_plain_loop_runs_with_stdout_closed(monkeypatch):
    # `diffi >&-`: sys.stdout is None; results go to the console's (here a buffer)
    from diffi.frontends.cli import Console
    from diffi.frontends.cli import start
    monkeypatch.setattr("sys.stdout", None)
    monkeypatch.setattr("sys.stdin", io.StringIO("1 + 1\n"))
    out = io.StringIO()
    assert start(None, Console(out, io.StringIO())) == 0
    assert out.getvalue() == "diffi> 2\ndiffi> "


def test_notes_about_unused_names_and_numeric_steps_show_in_a_session():
    out = run("d/dz x^2", "y = 2\n\nd/dx x^2 at y = 3")
    assert out == (
        "warning: x^2 does not depend on z, so its derivative by z is 0 (line 1, column 1)\n"
        "0\n"
        "warning: the point gives y a value, but x^2 does not depend on y (line 3, "
        "column 13)\n"
        "2*x\n")
    out = run("d/dx log(x) at x = 0.05 using numeric(method = \"richardson\")")
    assert "warning" not in out and abs(float(out) - 20) < 1e-11   # no word of log(-0.05)
