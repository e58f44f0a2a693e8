"""LaTeX (diffi/language/latex.py, diffi/directives/latex.py): exact text for
expressions, derivatives and values, `:format latex` in the REPL."""
from __future__ import annotations

import pytest

import diffi
from diffi.language.latex import name, number


@pytest.fixture
def it():
    return diffi.Interpreter()


@pytest.mark.parametrize("source, latex", [
    ("x^2/(1 + x^2)", r"\frac{x^{2}}{1 + x^{2}}"),
    ("sin(x)^2 + cos(x)^2", r"\sin^{2}{\left(x \right)} + \cos^{2}{\left(x \right)}"),
    ("exp(-x^2)*theta_1", r"e^{-x^{2}} \theta_{1}"),
    ("sigmoid(w*x)", r"\sigma{\left(w x \right)}"),
    ("sqrt(x + 1)", r"\sqrt{x + 1}"),
    ("abs(x - y)", r"\left|x - y\right|"),
    ("2*3", r"2 \cdot 3"),
    ("x*(-y)", r"x \left(-y\right)"),
    ("(x + 1)^2", r"\left(x + 1\right)^{2}"),
    ("(a/b)^2", r"\left(\frac{a}{b}\right)^{2}"),
    ("x - (y - z)", r"x - \left(y - z\right)"),
    ("x <= 1", r"x \leq 1"),
    ("if x > 0 then x else -x",
     r"\begin{cases} x & \text{if } x > 0 \\ -x & \text{otherwise} \end{cases}"),
    ("[[1, 2], [3, 4]]", r"\left[\begin{matrix}1 & 2 \\ 3 & 4\end{matrix}\right]"),
    ("1.5e-8*x", r"1.5 \cdot 10^{-8} x"),
    ("atan2(y, x)", r"\operatorname{atan2}{\left(y, x \right)}"),
])
def test_expressions_print_as_latex(it, source, latex):
    assert it.latex(source) == latex


@pytest.mark.parametrize("source, latex", [
    ("d/dx x^2*sin(x)", r"2 x \sin{\left(x \right)} + x^{2} \cos{\left(x \right)}"),
    ("d/dw -log(sigmoid(w*x))", r"-x \sigma{\left(-w x \right)}"),
    ("d/dx sin(x^2)/(x + 1)",
     r"\frac{2 x \cos{\left(t_{1} \right)}}{t_{2}} - \frac{\sin{\left(t_{1} \right)}}{t_{2}^{2}}"
     r" \quad \text{where } t_{1} = x^{2}, \; t_{2} = x + 1"),
    ("grad x*y wrt x, y at (1, 2)", r"\left[\begin{matrix}2 & 1\end{matrix}\right]"),
    ("d/dx 0.1*x + 0.2*x", "0.3"),
])
def test_a_directive_prints_its_result_as_latex(it, source, latex):
    assert it.latex(source) == latex


def test_a_name_prints_what_it_is_bound_to(it):
    it.eval("f(x) = x^2 + 1; a = 0.5")
    assert it.latex("f") == r"f{\left(x \right)} = x^{2} + 1"
    assert it.latex("a") == "0.5"
    assert it.latex("b") == "b"


@pytest.mark.parametrize("value, latex", [
    (0.1 + 0.2, "0.3"), ([1.0, 0.5], r"\left[\begin{matrix}1 & 0.5\end{matrix}\right]"),
    (True, r"\text{true}"), (float("inf"), r"\infty"), (-2.5e-12, r"-2.5 \cdot 10^{-12}"),
])
def test_python_values_print_as_latex(it, value, latex):
    assert it.latex(value) == latex


@pytest.mark.parametrize("text, latex", [
    ("x", "x"), ("x1", "x_{1}"), ("theta", r"\theta"), ("σ2", r"\sigma_{2}"),
    ("w_out", r"w_{\mathrm{out}}"), ("loss", r"\mathrm{loss}"), ("pi", r"\pi"),
])
def test_names(text, latex):
    assert name(text) == latex


def test_numbers_print_as_values_do():
    assert number(1 / 3) == "0.333333333333333"
    assert number(float("nan")) == r"\text{NaN}"


def test_format_latex_shows_results_as_latex():
    from frontends.test_commands import command  # (tests/ is on the path: pytest puts it there)
    shown: list[str] = []
    it = diffi.Interpreter(output=shown.append)
    assert command(":format", it) == ["format: text"]
    command(":format latex", it)
    assert command(":format", it) == ["format: latex"]
    it.execute("d/dx x^2*sin(x)\n[1, 0.5]\nc = 1/3\nc", "<test>", it.show)
    command(":format text", it)
    it.execute("d/dx x^3", "<test>", it.show)
    assert shown == [r"2 x \sin{\left(x \right)} + x^{2} \cos{\left(x \right)}",
                     r"\left[\begin{matrix}1 & 0.5\end{matrix}\right]",
                     "0.333333333333333", "3*x^2"]


def test_format_takes_only_text_or_latex():
    from frontends.test_commands import command
    with pytest.raises(diffi.DiffiError, match="^:format takes text or latex$"):
        command(":format html")
