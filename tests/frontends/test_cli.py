"""The `diffi` command, run as a real subprocess: `python -m diffi …`."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import diffi

ROOT = Path(__file__).resolve().parents[2]


def run_diffi(tmp_path, *args, stdin: str | None = None, merge: bool = False):
    """Run `python -m diffi ARGS` in tmp_path; stdin is a pipe (or empty), never a terminal."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    env.pop("PYTHONWARNINGS", None)
    return subprocess.run(
        [sys.executable, "-m", "diffi", *args], cwd=tmp_path, env=env, text=True,
        input=stdin if stdin is not None else "", capture_output=not merge,
        stdout=subprocess.PIPE if merge else None,
        stderr=subprocess.STDOUT if merge else None, timeout=120)


def script(tmp_path, text: str, name: str = "model.dfi") -> str:
    (tmp_path / name).write_text(text, encoding="utf-8")
    return name


# Scripts -------------------------------------------------------------------------------------

def test_a_large_output_is_flushed_before_the_quick_exit(tmp_path):
    """The command ends with os._exit after flushing: every line and warning arrives."""
    lines = [f"x{i} = {i}; x{i} * 2" for i in range(20_000)] + ["log(-1)"]
    done = run_diffi(tmp_path, script(tmp_path, "\n".join(lines)))
    out = done.stdout.splitlines()
    assert len(out) == 20_001 and out[0] == "0" and out[-2] == "39998" and out[-1] == "nan"
    assert done.stderr == "warning: value of log is nan at -1 (line 20001, column 1)\n"
    assert done.returncode == 0




def test_a_deeply_nested_script_gives_values_or_a_limit_error_never_a_crash(tmp_path):
    deep = "x = " + "(2, " * 20_000 + "1" + ")" * 20_000
    deeper = "y = " + "[" * 100_000 + "1" + "]" * 100_000
    done = run_diffi(tmp_path, script(tmp_path, f"{deep}\nx[0]\n{deeper}\n"))
    assert done.stdout == "2\n"
    assert done.stderr.startswith("error: the program is nested too deeply to evaluate\n"
                                  " --> model.dfi:3:1\n")
    assert done.returncode == 1

@pytest.mark.parametrize("closed, source, status, other", [
    (1, "x = 1; x", 0, ""),
    (1, "log(-1)", 0, "warning: value of log is nan at -1 (line 1, column 1)\n"),
    (1, "1; nope", 1, "error: name 'nope' is not defined"),
    (2, "x = 1; x", 0, "1\n"),
    (2, "1\nlog(-1)\nnope", 1, "1\nnan\n"),  # the warning and error go nowhere
])
def test_a_closed_stdout_or_stderr_drops_its_output_and_nothing_else(
        tmp_path, closed, source, status, other):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    open_stream = {"stderr": subprocess.PIPE} if closed == 1 else {"stdout": subprocess.PIPE}
    done = subprocess.run([sys.executable, "-m", "diffi", "-c", source], cwd=tmp_path,
                          env=env, stdin=subprocess.DEVNULL, text=True, **open_stream,
                          preexec_fn=lambda: os.close(closed), timeout=60)
    assert done.returncode == status
    shown = done.stderr if closed == 1 else done.stdout
    assert shown.startswith(other) and (status or shown == other)
    assert "Traceback" not in shown


def test_script_prints_one_line_per_expression_statement(tmp_path):
    name = script(tmp_path, "# a model\nx = 3\nf(a, b) = a*b + sin(a)\nf(x, 0)\nx * 2\n\n"
                            "y = x^2\ny\n")
    done = run_diffi(tmp_path, name)
    assert done.returncode == 0
    assert done.stdout == "0.141120008059867\n6\n9\n"
    assert done.stderr == ""


def test_semicolon_suppresses_output(tmp_path):
    name = script(tmp_path, "1; 2\n3;\n4\nx = 5; x; x + 1\n")
    done = run_diffi(tmp_path, name)
    assert (done.returncode, done.stdout, done.stderr) == (0, "2\n4\n6\n", "")


def test_error_exit_status_and_exact_format(tmp_path):
    name = script(tmp_path, "x = 1\nx\nz = x + y\nx + 100\n")
    done = run_diffi(tmp_path, name)
    assert done.returncode == 1
    assert done.stdout == "1\n"          # output before the error, nothing after it
    assert done.stderr == (
        "error: name 'y' is not defined\n"
        " --> model.dfi:3:9\n"
        "  |\n"
        "3 | z = x + y\n"
        "  |         ^\n")


def test_syntax_error_after_output(tmp_path):
    name = script(tmp_path, "x = 1\nx + 1\ny = 2 +* 3\nx\n", "syn.dfi")
    done = run_diffi(tmp_path, name)
    assert done.returncode == 1
    assert done.stdout == "2\n"
    assert done.stderr == (
        "error: unexpected '*'; expected an expression\n"
        " --> syn.dfi:3:8\n"
        "  |\n"
        "3 | y = 2 +* 3\n"
        "  |        ^\n")


def test_error_gutter_widens_for_long_scripts(tmp_path):
    name = script(tmp_path, "x = 1\n" * 11 + "q = x * nope\n")
    done = run_diffi(tmp_path, name)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "error: name 'nope' is not defined",
        " --> model.dfi:12:9",
        "   |",
        "12 | q = x * nope",
        "   |         ^^^^"]


def test_error_in_a_function_body_is_reported(tmp_path):
    name = script(tmp_path, "g(t) = t + nope\n1\ng(2)\n")
    done = run_diffi(tmp_path, name)
    assert done.returncode == 1 and done.stdout == "1\n"
    assert done.stderr.startswith("error: name 'nope' is not defined\n --> model.dfi:1:12\n")


def test_limit_error_exit_status(tmp_path):
    name = script(tmp_path, "f(n) = f(n + 1)\nf(0)\n")
    done = run_diffi(tmp_path, name)
    assert done.returncode == 1
    assert "max_depth" in done.stderr.splitlines()[0]
    assert done.stderr.splitlines()[0].startswith("error: ")


def test_warnings_go_to_stderr_not_stdout(tmp_path):
    name = script(tmp_path, "a = 1\nlog(a - 2)\n1/0\n")
    done = run_diffi(tmp_path, name)
    assert done.returncode == 0
    assert done.stdout == "nan\ninf\n"
    assert done.stderr == ("warning: value of log is nan at -1 (line 2, column 1)\n"
                           "warning: value of / is infinite at (1, 0) (line 3, column 2)\n")


def test_warnings_and_errors_come_in_order_with_the_output(tmp_path):
    name = script(tmp_path, "1\nx = 1/0\nx\nnope\n2\n")
    done = run_diffi(tmp_path, name, merge=True)
    assert done.returncode == 1
    assert done.stdout.splitlines()[:5] == [
        "1",
        "warning: value of / is infinite at (1, 0) (line 2, column 6)",
        "inf",
        "error: name 'nope' is not defined",
        " --> model.dfi:4:1"]
    assert "2" not in done.stdout.splitlines()


def test_print_labels_output(tmp_path):
    name = script(tmp_path, 'print("accuracy:", 0.5)\nprint(1 < 2, (1, 2))\n')
    done = run_diffi(tmp_path, name)
    assert (done.returncode, done.stdout) == (0, "accuracy: 0.5\ntrue (1, 2)\n")


def test_calls_without_arguments(tmp_path):
    name = script(tmp_path, 'print("a")\nprint()\nanswer() = 42\nanswer()\n')
    done = run_diffi(tmp_path, name)
    assert "Traceback" not in done.stderr
    assert (done.returncode, done.stdout, done.stderr) == (0, "a\n\n42\n", "")


# Printing --------------------------------------------------------------------------------------

@pytest.mark.parametrize("source, printed", [
    ("sin(3)", "0.141120008059867"), ("6", "6"), ("0.5", "0.5"), ("3 * 2", "6"),
    ("1/2", "0.5"), ("1/0", "inf"), ("(-1)/0", "-inf"), ("0/0", "nan"), ("-0.25", "-0.25"),
    ("1/3", "0.333333333333333"), ("2/3", "0.666666666666667"), ("0.1 + 0.2", "0.3"),
    ("100000", "100000"), ("123456789012345", "123456789012345"), ("pi", "3.14159265358979"),
    ("true", "true"), ("1 > 2", "false"), ("(1, 2.5)", "(1, 2.5)"), ("((1, 2), 3)", "((1, 2), 3)"),
    ("[1, 2.5, 3]", "[1, 2.5, 3]"),
])
def test_values_print_as_spec_section_7(tmp_path, source, printed):
    done = run_diffi(tmp_path, "-c", source)
    assert done.returncode == 0
    assert done.stdout == printed + "\n"


def test_numbers_print_with_15_significant_digits(tmp_path):
    done = run_diffi(tmp_path, "-c", "sin(3)\n6\n0.5\n1/0\n-1/0\n0/0\n")
    assert done.returncode == 0
    assert done.stdout.splitlines() == ["0.141120008059867", "6", "0.5", "inf", "-inf", "nan"]


def test_matrix_prints_one_row_per_line(tmp_path):
    done = run_diffi(tmp_path, "-c", "[[1, 2], [3, 4]]")
    assert done.returncode == 0
    assert done.stdout == "[[1, 2],\n [3, 4]]\n"


def test_function_prints_as_its_definition(tmp_path):
    done = run_diffi(tmp_path, "-c", "f(x, y) = x*y + sin(x)\nf")
    assert (done.returncode, done.stdout) == (0, "f(x, y) = x*y + sin(x)\n")


# -c, piped standard input, -i ---------------------------------------------------------------

def test_dash_c(tmp_path):
    done = run_diffi(tmp_path, "-c", "x = 4; x^2; x^3")
    assert (done.returncode, done.stdout, done.stderr) == (0, "64\n", "")


@pytest.mark.parametrize("source, printed", [
    ("-1/0", "-inf"), ("-pi", "-3.14159265358979"), ("-(2)^2", "-4")])
def test_dash_c_source_may_start_with_a_minus(tmp_path, source, printed):
    # `diffi -c "SOURCE"` takes any source, as `python -c` does: `-pi` is not an option.
    done = run_diffi(tmp_path, "-c", source)
    assert done.returncode == 0, done.stderr
    assert done.stdout == printed + "\n"


def test_dash_c_error_names_string(tmp_path):
    done = run_diffi(tmp_path, "-c", "x = 1\nx\nx + y")
    assert done.returncode == 1
    assert done.stdout == "1\n"
    assert done.stderr == ("error: name 'y' is not defined\n"
                           " --> <string>:3:5\n"
                           "  |\n"
                           "3 | x + y\n"
                           "  |     ^\n")


def test_piped_stdin_runs_as_a_script(tmp_path):
    done = run_diffi(tmp_path, stdin="x = 4\nx^2\nx + 1;\nx / 8\n")
    assert (done.returncode, done.stdout, done.stderr) == (0, "16\n0.5\n", "")


def test_piped_stdin_error_names_stdin(tmp_path):
    done = run_diffi(tmp_path, stdin="x = 2\nx\ny = x +\nx\n")
    assert done.returncode == 1
    assert done.stdout == "2\n"
    lines = done.stderr.splitlines()
    assert lines[0].startswith("error: unexpected end of line")
    assert lines[1] == " --> <stdin>:3:8"
    assert lines[3:] == ["3 | y = x +", "  |        ^"]


def test_dash_i_continues_the_session_from_stdin(tmp_path):
    name = script(tmp_path, "a = 21\nb = a + 1\nb\nsq(t) = t * t\n", "lib.dfi")
    done = run_diffi(tmp_path, "-i", name, stdin="a * 2\nsq(b)\n")
    assert done.returncode == 0
    assert done.stdout == "22\n42\n484\n"
    assert "error" not in done.stderr


def test_dash_i_error_in_stdin(tmp_path):
    name = script(tmp_path, "a = 1\n", "lib.dfi")
    done = run_diffi(tmp_path, "-i", name, stdin="a\nb\n")
    assert done.returncode == 1
    assert done.stdout == "1\n"
    assert done.stderr.splitlines()[:2] == ["error: name 'b' is not defined",
                                            " --> <stdin>:2:1"]


# Usage -----------------------------------------------------------------------------------------

def test_version(tmp_path):
    done = run_diffi(tmp_path, "--version")
    assert done.returncode == 0
    assert done.stdout == f"diffi {diffi.__version__}\n"
    assert diffi.__version__ == "0.1.0"


def test_help(tmp_path):
    done = run_diffi(tmp_path, "--help")
    assert done.returncode == 0
    assert done.stdout.startswith("usage: diffi")
    for option in ("FILE", "-c", "-i", "--json", "--version"):
        assert option in done.stdout


def test_help_leads_with_examples_and_lists_exit_statuses_and_environment(tmp_path):
    text = run_diffi(tmp_path, "--help").stdout
    sections = [line for line in text.splitlines() if line and not line.startswith(" ")
                and line.endswith(":")]
    assert sections == ["examples:", "positional arguments:", "options:", "exit status:",
                        "environment:"]
    assert "  diffi examples/tour.dfi " in text and '  diffi -c "d/dx x^2 at x = 3" ' in text
    status = text.split("exit status:\n")[1].split("\n\n")[0]
    assert [line.split()[0] for line in status.splitlines()] == ["0", "1", "2", "130"]


def environment_variables_read() -> set[str]:
    """The names diffi's own code looks up in os.environ."""
    found = set()
    for path in (ROOT / "diffi").rglob("*.py"):
        found |= set(re.findall(r"""(?:environ\.get|getenv|environ\[)\(?["'](\w+)["']""",
                                path.read_text(encoding="utf-8")))
    return found


def test_help_names_every_environment_variable_diffi_reads(tmp_path):
    text = run_diffi(tmp_path, "--help").stdout.split("environment:\n")[1]
    read = environment_variables_read()
    assert {"XDG_STATE_HOME", "TERM"} <= read  # (the scan finds what the code reads)
    # and those prompt_toolkit and the terminal size read for the REPL
    for name in read | {"NO_COLOR", "PROMPT_TOOLKIT_COLOR_DEPTH", "VISUAL", "EDITOR", "COLUMNS"}:
        assert re.search(rf"^  (\S+, )?{name}\b", text, re.M), name


def test_dash_runs_standard_input_as_a_script(tmp_path):
    done = run_diffi(tmp_path, "-", stdin="x = 4\nx^2\nnope\n")
    assert (done.returncode, done.stdout) == (1, "16\n")
    assert done.stderr.splitlines()[:2] == ["error: name 'nope' is not defined",
                                            " --> <stdin>:3:1"]


def test_bad_option_is_exit_2(tmp_path):
    done = run_diffi(tmp_path, "--bogus")
    assert done.returncode == 2
    assert done.stdout == ""
    assert "--bogus" in done.stderr and "usage: diffi" in done.stderr


def test_missing_script_is_exit_2(tmp_path):
    done = run_diffi(tmp_path, "nope.dfi")
    assert done.returncode == 2
    assert done.stdout == ""
    assert "nope.dfi" in done.stderr and "error" in done.stderr


def test_file_and_dash_c_together_is_exit_2(tmp_path):
    name = script(tmp_path, "1\n")
    done = run_diffi(tmp_path, "-c", "2", name)
    assert done.returncode == 2
    assert done.stdout == ""


def test_each_kind_of_script_loads_only_the_modules_it_uses(tmp_path):
    # start-up (bench/startup.py): the modes and minimize load when first used
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    code = ("import sys; from diffi.frontends.cli import main; main(['-c', sys.argv[1]]); "
            "print(sorted(m for m in ('diffi.directives.training', 'diffi.directives', "
            "'diffi.modes.symbolic', 'diffi.modes.numeric', 'diffi.compile', "
            "'diffi.compile.scalar') if m in sys.modules), file=sys.stderr)")
    plain = subprocess.run([sys.executable, "-c", code, "x = 2; x^3"], env=env, cwd=tmp_path,
                           capture_output=True, text=True, timeout=60)
    assert plain.stdout == "8\n" and plain.stderr.strip() == "[]"
    derives = subprocess.run([sys.executable, "-c", code, "d/dx x^3 at x = 2"], env=env,
                             cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert derives.stdout == "12\n"  # the modes, but not training or the compiler
    assert "'diffi.directives'" in derives.stderr and "training" not in derives.stderr \
        and "compile" not in derives.stderr
    trains = subprocess.run([sys.executable, "-c", code,
                             "w = 1; minimize (w - 3)^2 wrt w using gd(rate = 0.5, steps = 1)"],
                            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert trains.stdout == "0\n" and "'diffi.directives.training'" in trains.stderr.splitlines()[-1]


def test_ctrl_c_during_a_script_exits_with_130(tmp_path):
    import signal
    import time
    name = script(tmp_path, "f(n) = if n <= 0 then 0 else f(n-1) + f(n-1)\nf(60)\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    child = subprocess.Popen([sys.executable, "-m", "diffi", name], cwd=tmp_path, env=env,
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=60)
    assert (child.returncode, out, err) == (130, "", "interrupted\n")
