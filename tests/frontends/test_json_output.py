"""`diffi --json` (diffi/frontends/json_output.py): one JSON object per line, each one
parsed with json.loads, for results, prints, traces, check reports, warnings, errors,
training progress and the end of the run."""
from __future__ import annotations

import io
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from diffi.frontends.json_output import JsonConsole, make_json_interpreter, run_json

ROOT = Path(__file__).resolve().parents[2]


def bar(name: str) -> str:
    """An adjoint's row name: a combining macron on the first letter (ā4)."""
    return name[0] + "\u0304" + name[1:]


def records(source: str, filename: str = "model.dfi") -> tuple[list[dict], int]:
    """Run source as `diffi --json` would, in-process: (each line parsed, exit status)."""
    out = io.StringIO()
    console = JsonConsole(out, io.StringIO())
    status = run_json(make_json_interpreter(console), console, source, filename)
    return [json.loads(line) for line in out.getvalue().splitlines()], status


def run_diffi(tmp_path, *args, stdin: str = ""):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "diffi", *args], cwd=tmp_path, env=env,
                          input=stdin, capture_output=True, text=True, timeout=120)


def test_a_result_has_its_place_text_and_value():
    found, status = records("x = 3\nx^2\n[[1, 2], [3, 4]]")
    assert status == 0
    assert found == [
        {"type": "result", "file": "model.dfi", "line": 2, "column": 1, "text": "9",
         "value": {"type": "number", "value": 9.0}},
        {"type": "result", "file": "model.dfi", "line": 3, "column": 1,
         "text": "[[1, 2],\n [3, 4]]",
         "value": {"type": "tensor", "shape": [2, 2], "value": [[1.0, 2.0], [3.0, 4.0]]}},
        {"type": "done", "status": 0, "failed_checks": 0, "schema": 1}]


def test_values_of_every_kind():
    found, _ = records("(1, 1 < 2)\nf(x) = x^2\nf\nd/dt t^3\n1/0")
    values = [r["value"] for r in found if r["type"] == "result"]
    assert values == [
        {"type": "tuple", "items": [{"type": "number", "value": 1.0},
                                    {"type": "boolean", "value": True}]},
        {"type": "function", "name": "f", "params": ["x"], "text": "f(x) = x^2"},
        {"type": "formula", "params": ["t"], "text": "3*t^2"},
        {"type": "number", "value": "inf"}]


def test_print_gives_its_text_and_each_argument():
    [record, _], _ = records('x = 2\nprint("loss:", x, [1, 2])')
    assert record == {"type": "print", "file": "model.dfi", "line": 2, "column": 1,
                      "text": "loss: 2 [1, 2]",
                      "items": ["loss:", {"type": "number", "value": 2.0},
                                {"type": "tensor", "shape": [2], "value": [1.0, 2.0]}]}


def test_a_backprop_result_holds_the_trace_rows():
    found, _ = records("w1 = 2; x = 3\na4 = w1 * x\ny = cos(a4)\nbackprop y wrt w1, x")
    result = found[0]
    assert result["directive"] == "backprop" and result["line"] == 4
    assert result["value"] == {"type": "tensor", "shape": [2],
                               "value": [-3 * math.sin(6.0), -2 * math.sin(6.0)]}
    report = result["report"]
    assert [(r["name"], r["formula"], r["text"]) for r in report["forward"]] == [
        ("w1", "", "2"), ("x", "", "3"), ("a4", "w1·x", "6"), ("y", "cos(a4)", "0.960170286650366")]
    assert [r["name"] for r in report["backward"]] == [bar("y"), bar("a4"), bar("x"),
                                                       bar("w1")]
    assert report["backward"][1] == {"name": bar("a4"), "formula": f"−{bar('y')}·sin(a4)",
                                     "value": {"type": "number", "value": -math.sin(6.0)},
                                     "text": "0.279415498198926"}
    assert report["gradient"] == result["value"]


def test_explain_d_holds_the_tangent_rows():
    [result, _], _ = records("explain d/dx x^2 at x = 3")
    assert result["directive"] == "explain d" and result["value"]["value"] == 6.0
    assert result["report"]["backward_title"] == "tangents (d/dx)"
    assert result["report"]["backward"][-1]["formula"] == "2·x·x\u0307"  # ẋ, combining dot


def test_a_check_result_holds_every_modes_value_and_the_verdict():
    found, status = records("check x^2 wrt x at x = 3\ncheck floor(x) wrt x at x = 1")
    agree, disagree = found[0]["report"], found[1]["report"]
    assert agree["modes"]["forward"] == [6.0] and agree["modes"]["symbolic"] == [6.0]
    assert agree["modes"]["numeric"][0] == pytest.approx(6.0, rel=1e-12)
    assert (agree["ok"], agree["verdict"], agree["cause"]) == (True, "agree", None)
    assert agree["labels"] == ["d/dx"] and agree["tolerance"] == 1e-6
    assert (disagree["ok"], disagree["verdict"]) == (False, "disagree")
    assert disagree["cause"].startswith("numeric differences stand apart")
    assert disagree["largest_difference"] == found[1]["value"]["value"]
    assert status == 1 and found[-1] == {"type": "done", "status": 1, "failed_checks": 1,
                                         "schema": 1}


def test_a_graph_result_holds_nodes_and_edges():
    [result, _], _ = records("a = 2\ngraph a*3")
    assert [n["op"] for n in result["report"]["nodes"]] == ["input", "const", "*"]
    assert result["report"]["edges"] == [{"from": "n0", "to": "n2"}, {"from": "n1", "to": "n2"}]


def test_warnings_and_errors_carry_their_position_and_kind():
    found, status = records("z = 0\n1/z\nq = 2 + nope")
    warning, result, error, done = found
    assert warning == {"type": "warning", "file": "model.dfi", "line": 2, "column": 2,
                       "message": "value of / is infinite at (1, 0)",
                       "text": "warning: value of / is infinite at (1, 0) (line 2, column 2)"}
    assert result["value"] == {"type": "number", "value": "inf"}
    assert {k: error[k] for k in ("type", "kind", "file", "line", "column", "end_line",
                                  "end_column", "message")} == {
        "type": "error", "kind": "name", "file": "model.dfi", "line": 3, "column": 9,
        "end_line": 3, "end_column": 13, "message": "name 'nope' is not defined"}
    assert error["text"].splitlines()[1] == " --> model.dfi:3:9"
    assert status == 1 and done["status"] == 1


def test_a_syntax_error_comes_after_the_statements_before_it():
    found, _ = records("1 + 1\n2x")
    assert [r["type"] for r in found] == ["result", "error", "done"]
    assert (found[1]["kind"], found[1]["line"], found[1]["column"]) == ("syntax", 2, 2)


def test_minimize_reports_progress_as_records():
    found, _ = records("w = 0\nminimize (w - 3)^2 wrt w using gd(rate = 0.1, steps = 20)")
    progress = [r for r in found if r["type"] == "progress"]
    assert [p["step"] for p in progress] == list(range(2, 21, 2))
    assert progress[0] == {"type": "progress", "step": 2, "steps": 20, "loss": 5.76}
    assert found[-2]["type"] == "result"


def test_big_tensors_are_whole_in_value_and_summarised_in_text():
    [result, _], _ = records("linspace(1, 2000, 2000)")
    assert result["text"] == "[1, 2, 3, …, 1998, 1999, 2000]"
    assert len(result["value"]["value"]) == 2000 and result["value"]["shape"] == [2000]


# The command ---------------------------------------------------------------------------

def test_the_command_writes_one_json_object_per_line(tmp_path):
    (tmp_path / "m.dfi").write_text("x = 2\nx^3\nprint(\"x:\", x)\nlog(-1)\ncheck x^2 wrt x\n"
                                    "nope\n", encoding="utf-8")
    done = run_diffi(tmp_path, "--json", "m.dfi")
    lines = done.stdout.splitlines()
    found = [json.loads(line) for line in lines]  # every line is one JSON object
    assert [r["type"] for r in found] == ["result", "print", "warning", "result", "result",
                                          "error", "done"]
    assert done.returncode == 1 and done.stderr == "" and found[-1]["status"] == 1


@pytest.mark.parametrize("args, stdin, file", [
    (["--json", "-c", "6 * 7"], "", "<string>"),
    (["--json", "-"], "6 * 7\n", "<stdin>"),
    (["--json"], "6 * 7\n", "<stdin>"),  # standard input that is not a terminal
])
def test_the_command_takes_json_with_c_and_standard_input(tmp_path, args, stdin, file):
    done = run_diffi(tmp_path, *args, stdin=stdin)
    first, last = [json.loads(line) for line in done.stdout.splitlines()]
    assert first["value"] == {"type": "number", "value": 42.0} and first["file"] == file
    assert last["status"] == 0 and done.returncode == 0


def test_an_unreadable_script_is_an_error_record_and_status_2(tmp_path):
    done = run_diffi(tmp_path, "--json", "missing.dfi")
    error, last = [json.loads(line) for line in done.stdout.splitlines()]
    assert error["type"] == "error" and error["line"] is None
    assert error["message"] == "cannot read missing.dfi: No such file or directory"
    assert last == {"type": "done", "status": 2, "failed_checks": 0, "schema": 1}
    assert done.returncode == 2


def test_json_does_not_go_on_to_the_repl(tmp_path):
    done = run_diffi(tmp_path, "--json", "-i", "-c", "1")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == "diffi: error: --json runs a script; it does not go on to the REPL (-i)\n"


@pytest.mark.parametrize("source", ["2.5", "-1e-300", "1e22", "0.1 + 0.2", "-0", "x = 3; x",
                                    'x = "a\\"b"; 1'])
def test_a_number_written_straight_is_the_line_its_record_encodes_to(source):
    from diffi.frontends.json_output import ENCODER, result_record, write_result
    from diffi.language.parser import parse
    out = io.StringIO()
    console = JsonConsole(out, io.StringIO())
    interpreter = make_json_interpreter(console)
    *before, last = parse(source)
    for stmt in before:
        interpreter.execute_statement(stmt)
    node = interpreter.execute_statement(last)
    write_result(console, interpreter, node, last, 'dir/"odd" é.dfi')
    assert out.getvalue() == ENCODER.encode(
        result_record(interpreter, node, last, 'dir/"odd" é.dfi')) + "\n"
