"""The real `diffi` REPL in a pseudo-terminal (pexpect): typing, Tab, an error and
recovery, Ctrl-C during a long statement, history across sessions, `diffi -i`."""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")

ROOT = Path(__file__).resolve().parents[2]
PROMPT = "diffi> "
UP, CTRL_C, CTRL_D, CTRL_R = "\x1b[A", "\x03", "\x04", "\x12"


def spawn(tmp_path, *args):
    """`python -m diffi ARGS` in a terminal, its history under tmp_path; at its first prompt."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), TERM="xterm",
               XDG_STATE_HOME=str(tmp_path / "state"),
               PROMPT_TOOLKIT_NO_CPR="1")  # no cursor-position queries to answer
    child = pexpect.spawn(sys.executable, ["-m", "diffi", *args], cwd=str(tmp_path), env=env,
                          encoding="utf-8", timeout=30, dimensions=(30, 100))
    child.expect_exact(PROMPT)
    return child


def enter(child, line: str, expected: str | None = None) -> None:
    """Type a line and Enter; wait for `expected` (if given), then the next prompt."""
    child.send(line + "\r")
    if expected is not None:
        child.expect_exact(expected)
    child.expect_exact(PROMPT)


def quit_(child) -> int:
    child.send(CTRL_D)
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus


def test_typing_runs_statements_and_ctrl_d_quits(tmp_path):
    child = spawn(tmp_path)
    enter(child, "x = 21")
    enter(child, "x * 2", "42")
    enter(child, "d/dx x^2 at x = 21", "42")
    assert quit_(child) == 0


def test_tab_completes(tmp_path):
    child = spawn(tmp_path)
    child.send("hypo\t")
    child.expect_exact("hypot")
    enter(child, "(30, 40)", "50")
    assert quit_(child) == 0


def test_an_error_is_shown_and_the_session_goes_on(tmp_path):
    child = spawn(tmp_path)
    enter(child, "a = 40")
    child.send("b = a + nope\r")
    child.expect_exact("name 'nope' is not defined")
    child.expect_exact("b = a + nope")
    child.expect_exact("^^^^")
    child.expect_exact(PROMPT)
    enter(child, "a + 2", "42")
    assert quit_(child) == 0


def test_ctrl_c_cancels_a_long_statement_and_keeps_the_state(tmp_path):
    child = spawn(tmp_path)
    enter(child, "f(n) = if n <= 0 then 0 else f(n-1) + f(n-1)")
    enter(child, "x = 40")
    child.send("y = f(x)\r")
    time.sleep(0.5)
    child.sendintr()
    child.expect_exact("interrupted")
    child.expect_exact(PROMPT)
    enter(child, "x + 2", "42")
    enter(child, "y", "name 'y' is not defined")
    assert quit_(child) == 0


def test_history_is_kept_across_sessions_and_searchable(tmp_path):
    first = spawn(tmp_path)
    enter(first, "q = 40 + 2")
    enter(first, "r = 7")
    assert quit_(first) == 0
    assert "q = 40 + 2" in (tmp_path / "state" / "diffi" / "history").read_text("utf-8")
    second = spawn(tmp_path)
    second.send(UP + UP)
    second.expect_exact("q = 40 + 2")
    enter(second, "")
    enter(second, "q", "42")
    enter(second, "r = 0")
    second.send(CTRL_R)
    second.expect_exact("I-search backward")
    second.send("r = 7")
    time.sleep(0.3)  # keys typed ahead of the search prompt's redraw can be lost
    second.send("\r")  # leave the search with the line found, then run it
    enter(second, "")
    enter(second, "r * 6", "42")
    assert quit_(second) == 0


def test_dash_i_runs_a_script_then_stays(tmp_path):
    (tmp_path / "model.dfi").write_text("w = 20\nsq(t) = t^2\nw\n", encoding="utf-8")
    child = spawn(tmp_path, "-i", "model.dfi")
    enter(child, "sq(w) / 10 + 2", "42")
    child.send("sq(nope)\r")
    child.expect_exact(" --> REPL[2]:1:4")
    child.expect_exact(PROMPT)
    assert quit_(child) == 0


def test_a_training_script_draws_its_bar_on_the_terminal_and_results_in_the_file(tmp_path):
    # stdout to a file and stdin from /dev/null: the bar and the Ctrl-C message belong to
    # the terminal on stderr, the file holds only results
    (tmp_path / "t.dfi").write_text(
        "w = 1\nminimize (w - 3)^2 wrt w using gd(rate = 0.000001, steps = 10000000)\nw\n",
        encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(ROOT), TERM="xterm", PROMPT_TOOLKIT_NO_CPR="1")
    command = f"'{sys.executable}' -m diffi t.dfi > out.txt < /dev/null; echo status=$?"
    child = pexpect.spawn("bash", ["-c", command], cwd=str(tmp_path), env=env,
                          encoding="utf-8", timeout=60, dimensions=(30, 100))
    child.expect_exact("steps/s")
    time.sleep(0.5)
    child.send(CTRL_C)
    child.expect_exact("interrupted: keeping the weights of the last completed step")
    child.expect_exact("status=0")
    child.expect(pexpect.EOF)
    assert "Traceback" not in child.before
    results = (tmp_path / "out.txt").read_text(encoding="utf-8").splitlines()
    assert len(results) == 2 and float(results[1]) > 1.0  # the loss, then w part-trained
    assert float(results[0]) == pytest.approx((float(results[1]) - 3) ** 2, rel=1e-12)
