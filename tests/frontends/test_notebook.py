"""diffi in Jupyter (diffi/frontends/notebook.py): the magics in an IPython shell, rich
display through the display protocol, and examples/notebook.ipynb executed by a kernel."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import diffi
from diffi.frontends.notebook import graph_layout, report_html

ROOT = Path(__file__).resolve().parents[2]
L = 'style="text-align: left"'  # a table cell's style


@pytest.fixture
def shell():
    interactive = pytest.importorskip("IPython.core.interactiveshell")
    ipython = interactive.InteractiveShell.instance()
    diffi.load_ipython_extension(ipython)  # a fresh interpreter for each test
    return ipython


def cell(shell, source: str):
    from IPython.utils.capture import capture_output
    with capture_output() as captured:
        shell.run_cell_magic("diffi", "", source)
    return captured


def test_a_formula_shows_as_latex_and_text(shell):
    [shown] = cell(shell, "d/dx x^2*sin(x)").outputs
    assert shown.data == {
        "text/plain": "2*x*sin(x) + x^2*cos(x)",
        "text/latex": r"$\displaystyle 2 x \sin{\left(x \right)} + x^{2} \cos{\left(x \right)}$"}


def test_a_tensor_shows_as_numpy_shows_it_and_a_number_as_diffi_prints_it(shell):
    tensor, number = cell(shell, "[[1, 2], [3, 4.5]]\n0.1 + 0.2").outputs
    assert tensor.data == {"text/plain": "array([[1. , 2. ],\n       [3. , 4.5]])"}
    assert number.data == {"text/plain": "0.3"}


def test_a_trace_shows_as_html_tables_with_the_programs_names(shell):
    [shown] = cell(shell, "w = 2; x = 3\na = w*x\ny = sin(a)\nbackprop y wrt w, x").outputs
    html = shown.data["text/html"]
    assert f"<tr><td {L}>a</td><td {L}>w·x</td><td {L}>6</td></tr>" in html
    assert "<div><b>backward pass</b></div>" in html
    assert shown.data["text/plain"].startswith("forward pass\n  w = 2\n")


def test_a_graph_shows_as_svg(shell):
    [shown] = cell(shell, "graph x*y + sin(x)").outputs
    assert shown.data["text/html"].startswith("<svg")
    assert ">sin</text>" in shown.data["text/html"]


def test_an_error_shows_with_its_caret_after_the_statements_before_it_ran(shell):
    captured = cell(shell, "q = 2\nq\nq * (1 +")
    first, error = captured.outputs
    assert first.data == {"text/plain": "2"}
    assert error.data["text/plain"] == ("error: '(' is never closed: expected ')'\n"
                                        " --> <cell>:3:5\n  |\n3 | q * (1 +\n  |     ^")
    assert error.data["text/html"].startswith('<pre style="color: #b00; font-family: monospace; '
                                                 'white-space: pre">error: ')


def test_a_warning_goes_to_stderr_with_its_caret(shell):
    captured = cell(shell, "log(0)")
    assert captured.stderr == ("warning: value of log is infinite at 0\n"
                               " --> <cell>:1:1\n  |\n1 | log(0)\n  | ^^^\n")


def test_the_line_magic_gives_a_python_value_and_the_interpreter_is_shared(shell):
    cell(shell, "f(x, y) = x*y + sin(x)")
    slope = shell.run_line_magic("diffi", "d/dx f at (3, 0)")
    assert slope == pytest.approx(-0.9899924966004454, rel=1e-15)
    assert shell.user_ns["diffi_interpreter"].eval("f(3, 0)") == pytest.approx(0.1411200080598672)
    assert shell.run_line_magic("diffi", "f = ") is None  # the error is shown, not raised


def test_report_html_keeps_columns_and_headings():
    text = "mode     d/dx\nforward  0.5\nresult: 0.5"
    assert report_html(text) == (
        f'<div class="diffi"><table style="font-family: monospace"><tr><td {L}>mode</td>'
        f"<td {L}>d/dx</td></tr><tr><td {L}>forward</td><td {L}>0.5</td></tr></table>"
        "<div><b>result: 0.5</b></div></div>")


def test_the_built_in_graph_layout_puts_each_node_right_of_its_inputs():
    dot = ('digraph diffi {\n  n0 [label="x\\ninput"];\n  n1 [label="sin"];\n'
           '  n0 -> n1;\n}')
    assert graph_layout(dot) == (
        '<svg xmlns="http://www.w3.org/2000/svg" width="260" height="52">'
        '<line x1="94" y1="22" x2="134" y2="22" stroke="#555"/>'
        '<rect x="4" y="4" width="90" height="36" rx="4" fill="#fff" stroke="#333"/>'
        '<text x="49" y="27" text-anchor="middle" font-family="Helvetica" font-size="13">'
        'x input</text>'
        '<rect x="134" y="4" width="90" height="36" rx="4" fill="#fff" stroke="#333"/>'
        '<text x="179" y="27" text-anchor="middle" font-family="Helvetica" font-size="13">'
        'sin</text></svg>')


def test_importing_diffi_does_not_import_ipython():
    code = "import sys, diffi; print('IPython' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout == "False\n"


def test_the_example_notebook_runs_and_shows_its_results():
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    notebook = nbformat.read(ROOT / "examples" / "notebook.ipynb", as_version=4)
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT / "examples")}}).execute()
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    data = [o.get("data", {}) for o in outputs]
    assert data[0]["text/latex"] == (r"$\displaystyle 2 x \sin{\left(x \right)} + "
                                     r"x^{2} \cos{\left(x \right)}$")
    assert data[2]["text/html"].startswith("<svg")
    assert f"<tr><td {L}>y1</td><td {L}>sin(a5)</td><td {L}>0.656986598718789</td></tr>" in \
        data[3]["text/html"]
    assert f"cos(x)</td><td {L}>-0.989992496600445</td></tr>" in data[5]["text/html"]
    assert data[6] == {"text/plain": "-0.989992"}
    assert data[7] == {"text/plain": "0.793333333333333"}  # Iris, after 300 steps
    assert data[8] == {"text/plain": "(300, 1.099, 0.6147)"}
    assert data[9]["text/plain"].startswith(" 1.099 ┤")  # plot losses: braille as text,
    assert data[9]["text/html"].startswith("<svg")           # matplotlib's SVG inline
    assert data[10]["text/plain"].splitlines()[-1] == \
        "        1 g, 2 g'(t), 3 tangent g at 1, 4 taylor g(t) at t = 0 order 5"
    assert data[11]["text/plain"].endswith("2 | q * (1 +\n  |     ^")


def test_a_function_given_back_to_python_shows_as_latex(shell):
    derivative = shell.run_line_magic("diffi", "d/dx x^2*sin(x)")
    assert derivative._repr_latex_() == \
        r"$\displaystyle 2 x \sin{\left(x \right)} + x^{2} \cos{\left(x \right)}$"
    assert diffi.Interpreter().eval("g(t) = t^2; g")._repr_latex_() == \
        r"$\displaystyle g{\left(t \right)} = t^{2}$"
