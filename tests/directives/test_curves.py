"""Prime notation, Taylor polynomials, tangent lines (diffi/directives/curves.py) and
plots (diffi/directives/plots.py): values, printed formulas, exact braille, PNG/SVG files."""
from __future__ import annotations

import math

import pytest

import diffi
from diffi.directives.plots import Curve, braille


@pytest.fixture
def it():
    it = diffi.Interpreter(files=True)
    it.eval("f(t) = t^3 + sin(t)")
    return it


def shown(it, source: str) -> list[str]:
    out: list[str] = []
    it._output = out.append  # (results as a script prints them)
    it.evaluator.output = out.append
    it.execute(source, "<test>", it.show)
    return out


@pytest.mark.parametrize("source, value", [
    ("f'(2)", 3 * 4 + math.cos(2)),
    ("f''(2)", 6 * 2 - math.sin(2)),
    ("f'''(0)", 6 - 1),
    ("sin'(0)", 1.0),
    ("f'(1) + 2*f'(1)", 3 * (3 + math.cos(1))),
    ("g(u) = u^2; g'(3)", 6.0),
    ("f′(2)", 3 * 4 + math.cos(2)),
])
def test_prime_notation_is_the_derivative_at_the_argument(it, source, value):
    assert it.eval(source) == pytest.approx(value, rel=1e-14)


def test_prime_of_a_free_name_is_the_formula(it):
    assert str(it.eval("f'(x)")) == "3*x^2 + cos(x)"
    assert str(it.eval("f''(x)")) == "6*x - sin(x)"


@pytest.mark.parametrize("source, message, column", [
    ("g(a, b) = a*b\ng'(1)", "prime notation needs a function of one variable; 'g' takes 2", 1),
    ("f'(1, 2)", "f'(…) takes one argument, not 2", 1),
    ("c = 3\nc'(1)", "prime notation needs a function of one variable; 'c' is not a function",
     1),
])
def test_prime_notation_errors(it, source, message, column):
    with pytest.raises(diffi.DiffiError) as caught:
        it.run(source)
    assert caught.value.message == message and caught.value.span.column == column


def test_a_prime_without_an_argument_list_is_still_the_transpose_hint(it):
    with pytest.raises(diffi.DiffiSyntaxError, match=r"^for the transpose write transpose\(W\)"):
        it.run("W = [[1, 2], [3, 4]]\nW'")


@pytest.mark.parametrize("source, formula", [
    ("taylor sin(x) at x = 0 order 5", "x - 0.166666666666667*x^3 + 0.00833333333333333*x^5"),
    ("taylor 1/(1 - x) at x = 0 order 4", "1 + x + x^2 + x^3 + x^4"),
    ("taylor exp(x) at x = 1 order 2",
     "2.71828182845905 + 2.71828182845905*(x - 1) + 1.35914091422952*(x - 1)^2"),
    ("taylor x^2 at x = -1 order 3", "1 - 2*(x + 1) + (x + 1)^2"),
    ("taylor cos(x) at x = 0 order 0", "1"),
    ("tangent f at 0", "t"),
    ("tangent x^2 at x = -1", "1 - 2*(x + 1)"),
    ("tangent sin at pi", "1.22464679914735e-16 - (x - 3.14159265358979)"),  # sin(pi)
])
def test_taylor_and_tangent_print_as_their_formula(it, source, formula):
    assert str(it.eval(source)) == formula


def test_a_taylor_polynomial_is_a_function_close_to_its_function(it):
    p = it.eval("p = taylor exp(x) at x = 0 order 10; p")
    assert p(0.5) == pytest.approx(math.exp(0.5), rel=1e-9)
    assert it.eval("p(0.5)") == pytest.approx(math.exp(0.5), rel=1e-9)
    line = it.eval("line = tangent f at 1; line(3)")
    assert line == pytest.approx(1 + math.sin(1) + (3 + math.cos(1)) * 2, rel=1e-14)


def test_taylor_prints_its_coefficients_at_top_level(it):
    assert shown(it, "taylor exp(x) at x = 0 order 3") == [
        "1 + x + 0.5*x^2 + 0.166666666666667*x^3\n"
        "coefficients of x^k, k = 0 … 3: [1, 1, 0.5, 0.166666666666667]"]


@pytest.mark.parametrize("source, message", [
    ("taylor sin(x) at x = 0 order 2.5", "a Taylor polynomial's order is a whole number from 0 to 100"),
    ("taylor x*y at x = 0, y = 1 order 2", "taylor is taken in one variable: give one, as in at x = 0"),
    ("tangent sin(x) at 1", "tangent of an expression needs its variable: write tangent E at x = 1"),
])
def test_taylor_and_tangent_errors(it, source, message):
    with pytest.raises(diffi.DiffiError) as caught:
        it.run(source)
    assert caught.value.message == message


def test_order_and_from_stay_names_outside_their_directives(it):
    assert it.eval("order = 2; from = 3; order + from") == 5.0
    assert str(it.eval("taylor exp(x) at x = 0 order order")) == "1 + x + 0.5*x^2"


def test_braille_draws_a_line_exactly():
    assert braille([Curve("x", [0.0, 1.0, 2.0, 3.0], [0.0, 1.0, 2.0, 3.0])], (0.0, 3.0),
                   width=2, height=2) == "3 ┤⢀⡞\n0 ┤⡼⠀\n  └──\n   03\n   x"


def test_braille_joins_steep_steps_and_leaves_gaps_for_nan():
    curve = Curve("v", [0.0, 1.0, 2.0, 3.0], [0.0, 3.0, math.nan, 0.0])
    assert braille([curve], (0.0, 3.0), width=2, height=2) == \
        "3 ┤⢸⠀\n0 ┤⡏⢀\n  └──\n   03\n   v"  # (x = 2 is a gap: x = 3 a lone dot)


def test_plot_in_the_terminal(it):
    [text] = shown(it, "plot sin(x), d/dx sin(x) from -3 to 3")
    lines = text.splitlines()
    assert len(lines) == 15 + 3
    assert lines[0].startswith(" 0.9998 ┤⠀") and lines[14].startswith("-0.9998 ┤⣠")
    assert lines[-1] == "         1 sin(x), 2 d/dx sin(x)"
    # each number at its curve's end: sin(3) = 0.14 above cos(3) = -0.99 at the right
    assert lines[6].endswith("1") and lines[14].endswith("2")
    assert lines[-2] == "         -3" + " " * 57 + "3"
    assert all(len(line) == len(lines[0]) for line in lines[:15])


def test_plot_losses_draws_the_training_curve(it):
    it.run("w = 0\nminimize (w - 3)^2 wrt w using gd(rate = 0.1, steps = 20);")
    [text] = shown(it, "plot losses")
    lines = text.splitlines()
    assert lines[0] == "       9 ┤⢧" + "⠀" * 59 and lines[-1] == "          losses"
    assert lines[14].startswith("0.001869 ┤")  # the last loss, (3 - w)^2 after 19 steps
    assert lines[-2] == "          0" + " " * 57 + "19"


@pytest.mark.parametrize("source, message", [
    ("plot sin(x)", "plot sin(x) needs its span: write plot sin(x) from -3 to 3"),
    ("plot x*y from 0 to 1", "plot draws functions of one variable; x*y has x, y"),
    ("plot sin(x) from 1 to 0", "plot … from a to b needs two numbers with a < b"),
    ("plot sin(x) from 0 to 1 to \"a.txt\"", "cannot write a plot as '.txt': use .png or .svg"),
])
def test_plot_errors(it, source, message):
    with pytest.raises(diffi.DiffiError) as caught:
        it.run(source)
    assert caught.value.message == message


def test_plot_to_png_and_svg(it, tmp_path):
    pytest.importorskip("matplotlib")
    it.base_dir = str(tmp_path)
    assert shown(it, 'plot f, d/dt f, tangent f at 1 from -2 to 2 to "f.png"') == [
        "wrote the plot (3 curves) to f.png"]
    assert (tmp_path / "f.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    shown(it, 'plot sin(x) from 0 to 1 to "s.svg"')
    assert "<svg" in (tmp_path / "s.svg").read_text()[:500]


def test_plot_to_a_file_without_matplotlib_names_the_extra(it, tmp_path, monkeypatch):
    import builtins
    real = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError(name)
        return real(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    it.base_dir = str(tmp_path)
    with pytest.raises(diffi.DiffiError) as caught:
        it.run('plot sin(x) from 0 to 1 to "s.png"')
    assert caught.value.message == ("plotting to a file needs matplotlib: install the plot "
                                    "extra, pip install 'diffi[plot]'")
    assert not (tmp_path / "s.png").exists()


def test_plot_to_a_file_is_refused_when_files_are_off(tmp_path):
    it = diffi.Interpreter(files=False)
    with pytest.raises(diffi.DiffiError, match="^writing files is switched off"):
        it.run('plot sin(x) from 0 to 1 to "s.png"')


def test_latex_directive(it):
    assert it.eval("latex d/dx x^2*sin(x)") == \
        r"2 x \sin{\left(x \right)} + x^{2} \cos{\left(x \right)}"
    assert shown(it, "latex x^2/(1 + x^2)") == [r"\frac{x^{2}}{1 + x^{2}}"]
    assert it.eval("latex taylor cos(x) at x = 0 order 2") == r"1 - 0.5 x^{2}"


def test_plot_explain_numeric_draws_the_step_size_sweep_on_log_log_axes(it):
    [text] = shown(it, "plot explain d/dx sin(x) at x = 1 using numeric")
    lines = text.splitlines()
    assert lines[0].startswith("1.5e-02 ┤⠙")   # h = 1e-15: round-off, error 1.5e-2
    assert lines[14].startswith("1.1e-11 ┤")   # the smallest error, at h = 1e-5
    assert lines[-2] == "         1e-15" + " " * 50 + "1e-01"
    assert lines[-1] == "         error of the central difference against h"
    # the V: the lowest dot is in the column of h = 1e-5, 10/14 of the way from 1e-15
    assert lines[14].index("⣠") - lines[14].index("┤") - 1 == round(10 / 14 * 119) // 2


@pytest.mark.parametrize("source", [
    "plot explain d/dx sin(x) at x = 1",
    "plot explain d/dx sin(x) at x = 1 using numeric from 0 to 1",
    "plot explain d2/dx2 sin(x) at x = 1 using numeric",
])
def test_plot_explain_needs_one_numeric_first_derivative(it, source):
    with pytest.raises(diffi.DiffiError, match="^plot (explain draws one numeric step-size "
                                               "sweep|draws the step-size sweep)"):
        it.run(source)


def test_the_lexer_colours_primes_and_the_contextual_keywords():
    from pygments.token import Error, Keyword, Name
    from diffi.frontends.lexer import DiffiLexer
    tokens = [t for t in DiffiLexer().get_tokens("f'(2); taylor f(x) at x = 0 order 2; "
                                                 "order = 1; W'") if t[1].strip()]
    assert tokens[0] == (Keyword.Reserved, "f'")
    assert (Keyword, "order") in tokens and (Name, "order") in tokens
    assert tokens[-1] == (Error, "'")


def test_plot_of_an_unbound_name_without_a_span_says_it_is_not_defined(it):
    with pytest.raises(diffi.DiffiNameError) as caught:
        it.run("plot losses")
    assert caught.value.message == "name 'losses' is not defined (minimize binds losses)"
    assert caught.value.span.column == 6
    assert shown(it, "plot x from 0 to 1")[0].splitlines()[-1] == "   x"  # y = x is a curve


def test_a_vector_with_a_span_is_spread_over_it(it):
    lines = shown(it, "plot [1, 3, 2] from 0 to 10")[0].splitlines()
    # the peak, 3, is the middle element: at x = 5, the middle of the 60 columns
    assert lines[0] == "3 ┤" + "⠀" * 28 + "⣠⠞⠙⠲⢤⣀" + "⠀" * 26 and lines[-2].endswith("10")
