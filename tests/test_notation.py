"""The lecture's notation (docs/notation.md): every board form gives its value, or an error
(or warning) that names the diffi spelling at the right place; and everything diffi prints,
formulas and table rows, reads back to the same value."""
from __future__ import annotations

import io
import math
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diffi import DiffiError, Interpreter
from diffi.frontends.console import Console, make_interpreter, run_source
from diffi.language import vocabulary
from diffi.language.hints import did_you_mean, edit_distance
from diffi.language.parser import grammar_path, grammar_text, parse


def run(source: str):
    """The last result of a program, and the warnings it gave as (message, line, column)."""
    warnings = []
    it = Interpreter(warn=lambda message, span: warnings.append(
        (message, span.line, span.column)))
    results = it.run(source)
    return (results[-1] if results else None), warnings


def error_of(source: str) -> tuple[str, int, int]:
    with pytest.raises(DiffiError) as info:
        Interpreter().run(source)
    return info.value.message, info.value.line, info.value.column


def close(a, b) -> bool:
    if isinstance(a, (list, tuple)) or hasattr(a, "tolist"):
        a = list(a.tolist() if hasattr(a, "tolist") else a)
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b))
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)


# Every board form with its value -----------------------------------------------------------

F = "f(x, y) = x*y + sin(x)\n"
G = "g(t) = t^3\n"

VALUES = [
    # names (docs/notation.md, "Names")
    ("ln(e)", 1.0), ("σ(0)", 0.5), ("arcsin(1)", math.pi / 2), ("arccos(1)", 0.0),
    ("arctan(1)", math.pi / 4), ("sgn(-3)", -1.0), ("d/dx ln(x) at x = 2", 0.5),
    ("d/dx σ(x) at x = 0", 0.25), ("ln = 2; ln + 1", 3.0), ("σ = 0.5; σ", 0.5),
    ("logistic(0)", 0.5),
    # the symbols the tables print, and the board's comparison signs
    ("w1 = 2; x = 3; w1·x", 6.0), ("2 × 3", 6.0), ("2 ⊙ 3", 6.0), ("6 ÷ 4", 1.5),
    ("7 − 2", 5.0), ("−2", -2.0), ("2·−3", -6.0), ("1 ≤ 2", True), ("2 ≥ 3", False),
    ("1 ≠ 2", True), ("[1, 2]·[3, 4]", [3.0, 8.0]),
    # superscripts are powers, subscripts are digits, combining marks continue a name
    ("x = 3; x²", 9.0), ("x = 2; x⁻¹", 0.5), ("x = 2; x² + x³", 12.0), ("(1 + 1)³", 8.0),
    ("x = 2; -x²", -4.0), ("x = 1; e^x²", math.e), ("x = 2; 2^x²", 16.0),
    ("x = 2; x²⁰", 2.0 ** 20), ("a₅ = 4; a5", 4.0), ("a5 = 4; a₅", 4.0),
    ("log₂(8)", 3.0), ("x\u0304 = 2; x\u0307 = 3; x\u0304·x\u0307", 6.0),
    ("\u0101 = 2; a\u0304 + 1", 3.0),  # one name, composed or not
    ("x\u20d7 = 2; x\u20d7 + 1", 3.0),  # the vector arrow x⃗
    # derivative operators
    ("d^2/dx^2 x^3 at x = 2", 12.0), ("d²/dx² x^3 at x = 2", 12.0),
    ("d2/dx2 x^3 at x = 2", 12.0), ("d³/dx³ x^4 at x = 1", 24.0),
    ("d^2/dx1^2 x1^3 at x1 = 2", 12.0), ("d²/dx1² x1^3 at x1 = 2", 12.0),
    ("∂/∂x x^2*y at x = 1, y = 3", 6.0), ("∂²/∂x² x^2*y^3 at x = 1, y = 2", 16.0),
    ("∂²/∂x∂y x^2*y^3 at x = 1, y = 2", 24.0), ("∂^2/∂x∂y x^2*y^3 at x = 1, y = 2", 24.0),
    ("∂³/∂x²∂y x^3*y^2 at x = 1, y = 2", 24.0),
    ("d/dx d/dx x^3 at x = 2", 12.0), ("∂/∂x ∂/∂y x^2*y^3 at x = 1, y = 2", 24.0),
    ("d/dy d/dx x^2*y^3 at x = 1, y = 2", 24.0), ("d/dx d/dx d/dx x^4 at x = 1", 24.0),
    ("d/dx d/dx x^3 at x = 2 using symbolic", 12.0),
    # Leibniz's quotient of a name
    (F + "df/dx at (3, 0)", math.cos(3)), (F + "∂f/∂x at (3, 0)", math.cos(3)),
    (F + "∂f/∂y at (3, 0)", 3.0), (F + "df/dy at (3, 0) using reverse", 3.0),
    (G + "d²g/dt² at 2", 12.0), (G + "d^2g/dt^2 at 2", 12.0), (G + "d2g/dt2 at 2", 12.0),
    (G + "(∂g/∂t)(2)", 12.0), (G + "h = ∂g/∂t; h(2)", 12.0), (G + "(∂g/∂t)(2) + 1", 13.0),
    ("x = 3; y = x^2; ∂y/∂x", 6.0), ("x = 3; y = x^2; dy/dx at x = 1", 2.0),
    ("dy = 6; dx = 2; dy/dx", 3.0), ("dx = 0.5; f(x) = x^2; df = f(1 + dx) - f(1); df/dx", 2.5),
    # chained assignment
    ("y1 = a6 = sin(1); y1 + a6", 2 * math.sin(1)), ("a = b = c = 2; a + b + c", 6.0),
    ("f(x) = { y = z = x^2; y + z }; f(3)", 18.0),
]


@pytest.mark.parametrize("source, value", VALUES)
def test_board_notation_gives_its_value(source, value):
    result, warnings = run(source)
    assert close(result, value), result
    assert warnings == []


def test_explain_reads_leibniz():
    result, _ = run(G + "explain dg/dt at 2")
    assert result == 12.0
    result, _ = run(G + "explain ∂g/∂t")
    assert str(result) == "3*t^2"


# Every form diffi does not read, with the exact message and the caret -----------------------

M = "W = [[1, 2], [3, 4]]\n"
DID_YOU_MEAN_SIGMOID = "did you mean 'sigmoid' (also 'logistic', 'σ')?"
LOOPS = ("diffi has no loops: write a recursive function "
         "(f(n) = if n <= 0 then 0 else f(n - 1)) or train with minimize")
RETURN = ("diffi has no return: a block's value is its last expression, "
          "as in f(x) = { a = x^2; a + 1 }")

ERRORS = [
    # transposes
    (M + "W^T", "name 'T' is not defined; for the transpose write transpose(W)", 2, 3),
    (M + "Wᵀ", "for the transpose write transpose(W)", 2, 2),
    (M + "W⊤", "for the transpose write transpose(W)", 2, 2),
    (M + "W'", "for the transpose write transpose(W)", 2, 2),
    (M + "W.T", "for the transpose write transpose(W)", 2, 2),
    (M + "(W @ W)'", "for the transpose write transpose(W @ W)", 2, 8),
    (M + "W[0]'", "for the transpose write transpose(W[0])", 2, 5),
    (M + "W.sum()", "diffi has no methods: write sum(W)", 2, 2),
    # strings in single quotes (prime notation g'(2) is read: tests/directives/test_curves.py)
    ("print('hi')", 'strings are written in double quotes: "hi"', 1, 7),
    # calls and products side by side
    ("sin x", "a function's argument goes in parentheses: write sin(x)", 1, 5),
    ("sin 2", "a function's argument goes in parentheses: write sin(2)", 1, 5),
    ("ln x", "a function's argument goes in parentheses: write ln(x)", 1, 4),
    ('print "hi"', 'a function\'s argument goes in parentheses: write print("hi")', 1, 7),
    (G + "g 3", "a function's argument goes in parentheses: write g(3)", 2, 3),
    ("x = 2; y = 3\nx y", "implicit multiplication is not supported: write x*y", 2, 3),
    ("x = 2\n2 x", "implicit multiplication is not supported: write 2*x", 2, 3),
    ("x = 2\n(x + 1) x", "implicit multiplication is not supported: write (x + 1)*x", 2, 9),
    ("q r", "two operands need an operator between them: write q(r) to call q, "
            "or q*r to multiply", 1, 3),
    ("x = 2\nx²y", "implicit multiplication is not supported: write x²*y", 2, 3),
    ("sin²(1)", "for the power of a call write sin(1)^2", 1, 4),
    ("sin⁻¹(1)", "for the inverse function write asin(1)", 1, 4),
    # derivatives where an operand stands
    ("w = [0, 0]\nw = w - 0.5 * grad L(w) wrt w",
     "a directive inside an expression needs parentheses: write (grad L(w) wrt w)", 2, 15),
    ("1 + d/dx x^2 at x = 3",
     "a derivative inside an expression needs parentheses: write (d/dx x^2 at x = 3)", 1, 5),
    ("1 + ∂/∂x x^2",
     "a derivative inside an expression needs parentheses: write (∂/∂x x^2)", 1, 5),
    (G + "1 + dg/dt at t = 1",
     "a derivative inside an expression needs parentheses: write (dg/dt at t = 1)", 2, 5),
    ("f(x) = x^2 + explain d/dx x",
     "a directive inside an expression needs parentheses: write (explain d/dx x)", 1, 14),
    (G + "dg/dt", "name 'dg' is not defined: dg/dt divides dg by dt; "
                  "for the derivative write d/dt g", 2, 1),
    ("dt = 1\n2*d2y/dt2", "name 'd2y' is not defined: d2y/dt2 divides d2y by dt2; "
                          "for the derivative write d2/dt2 y", 2, 3),
    ("d^2/dx^3 x", "the orders in 'd^2/dx^3' differ: write d3/dx^3", 1, 1),
    ("∂³/∂x∂y x", "the orders in '∂³/∂x∂y' differ: the variables' powers add up to 2, "
                  "not 3", 1, 1),
    ("d²/dx x", "write the order on both sides: d2/dx2 (or d2/dx^2 for a name ending "
                "in a digit)", 1, 1),
    # gradients, norms, roots, sums, assignment arrows
    ("∇f", "for the gradient write grad f", 1, 1),
    ("∇_w L", "for the gradient write grad L wrt w", 1, 1),
    ("x = 1; ∂f", "for a partial derivative write ∂/∂x E (or d/dx E), or ∂f/∂x of a "
                  "function f", 1, 8),
    ("∂_x f", "for the partial derivative write d/dx f", 1, 1),
    ("n = 2; x = 3; xⁿ", "for the power write x^n", 1, 16),
    ("n = 2; x = 3; (x + 1)ⁿ", "for the power write (x + 1)^n", 1, 22),
    ("y = 2; ∂_{y} y^2 + 1; 3", "for the partial derivative write d/dy y^2 + 1", 1, 8),
    ("x = -2\n|x|", "for the absolute value write abs(x)", 2, 1),
    ("v = [3, 4]\n‖v‖", "for the norm write norm(v)", 2, 1),
    ("v = [3, 4]\n||v||", "for the norm write norm(v)", 2, 1),
    ("√(x + 1)", "for the square root write sqrt(x + 1)", 1, 1),
    ("√2", "for the square root write sqrt(2)", 1, 1),
    ("∑ v", "for '∑' write sum(v)", 1, 1),
    ("w ← 3", "for '←' write =", 1, 3),
    ("x := 3", "for ':=' write =", 1, 3),
    # other languages' words
    ("for i in [1, 2]", LOOPS, 1, 1),
    ("while (x < 3) { x }", LOOPS, 1, 1),
    ("x = 1\n  while x < 3", LOOPS, 2, 3),
    ("return 3", RETURN, 1, 1),
    ("f(x) = { a = x^2; return a }", RETURN, 1, 19),
    ("return(3)", "name 'return' is not defined; " + RETURN, 1, 1),
    ("def f(x): x^2", "diffi has no def: define a function as f(x) = x^2", 1, 1),
    # names: did you mean, with the built-ins' other names
    ("sigma(2)", "name 'sigma' is not defined; " + DID_YOU_MEAN_SIGMOID, 1, 1),
    ("sigmod(2)", "name 'sigmod' is not defined; " + DID_YOU_MEAN_SIGMOID, 1, 1),
    ("inv(2)", "name 'inv' is not defined", 1, 1),
    ("ReLU(2)", "name 'ReLU' is not defined; did you mean 'relu'?", 1, 1),
    ("lgo(2)", "name 'lgo' is not defined; did you mean 'log' (also 'ln')?", 1, 1),
    ("cot(1)", "name 'cot' is not defined; write 1/tan(x)", 1, 1),
    ("Σ([1, 2])", "name 'Σ' is not defined; did you mean 'sum'?", 1, 1),
    ("d/dx foo(x)", "name 'foo' is not defined", 1, 6),
    ("alpha = 1; alpah", "name 'alpah' is not defined; did you mean 'alpha'?", 1, 12),
    # chained assignment binds names
    ("f(x) = g(x) = 1", "a chained assignment binds names (a = b = …)", 1, 1),
    ("a = a = 1", "name 'a' appears twice", 1, 5),
]


@pytest.mark.parametrize("source, message, line, column", ERRORS)
def test_board_notation_names_the_diffi_spelling(source, message, line, column):
    assert error_of(source) == (message, line, column)


def test_w_to_the_t_with_t_bound_warns_and_gives_the_elementwise_power():
    result, warnings = run("T = 2\n" + M + "W^T")
    assert close(result, [[1.0, 4.0], [9.0, 16.0]])
    assert warnings == [("W^T is the elementwise power; for the transpose write "
                         "transpose(W)", 3, 2)]


def test_w_to_the_t_of_a_number_or_a_vector_does_not_warn():
    assert run("T = 2; x = 3; x^T") == (9.0, [])
    assert run("T = 2; v = [1, 2]; v^T")[1] == []


def test_the_inverse_superscript_of_a_matrix_warns_and_gives_the_reciprocals():
    result, warnings = run(M + "(W + 1)⁻¹")
    assert close(result, [[1 / 2, 1 / 3], [1 / 4, 1 / 5]])
    assert warnings == [("(W + 1)⁻¹ is the elementwise power 1/(W + 1), not the matrix "
                         "inverse (diffi has none)", 2, 8)]


def test_only_the_superscript_of_a_matrix_warns():
    assert run("x = 2; x⁻¹") == (0.5, [])
    assert run("v = [1, 2]; v⁻¹")[1] == []
    assert run(M + "W^-1")[1] == []  # written in diffi's own spelling: meant as written
    assert run(M + "W⁻²")[1] == []


def test_a_failing_chained_assignment_binds_nothing():
    it = Interpreter()
    with pytest.raises(DiffiError):
        it.run("y1 = a6 = undefined_name")
    assert "y1" not in it and "a6" not in it


def test_the_name_next_to_the_formula_labels_its_node():
    it = Interpreter()
    it.run("x = 1; y1 = a6 = sin(x)")
    assert it.globals["a6"].node.name == "a6"
    assert it.globals["y1"].node.inputs[0] is it.globals["a6"].node


def test_the_repl_words_a_call_by_what_the_session_knows():
    from diffi.frontends.repl import syntax_error
    it = Interpreter()
    it.run("f(t) = t^2; x = 2")
    assert syntax_error("f 3", is_function=it.is_function).message == \
        "a function's argument goes in parentheses: write f(3)"
    assert syntax_error("x 3", is_function=it.is_function).message == \
        "implicit multiplication is not supported: write x*3"


# Suggestions ----------------------------------------------------------------------------------

@pytest.mark.parametrize("a, b, distance", [
    ("inv", "sin", 2), ("sni", "sin", 1), ("sigmod", "sigmoid", 1), ("", "ab", 2),
    ("abc", "abc", 0), ("tahn", "tanh", 1), ("kitten", "sitting", 3),
])
def test_edit_distance(a, b, distance):
    assert edit_distance(a, b) == distance


def test_did_you_mean_keeps_to_near_names():
    known = ["sin", "sign", "inf", "sigmoid", "logistic", "alpha"]
    spellings = {"sigmoid": ("logistic",), "logistic": ("sigmoid",)}
    assert did_you_mean("inv", ["sin"], spellings) == ""
    assert did_you_mean("sigmod", known, spellings) == \
        "; did you mean 'sigmoid' (also 'logistic')?"
    assert did_you_mean("ALPHA", known, spellings) == "; did you mean 'alpha'?"
    assert did_you_mean("sigma", ["sigmoid"], {}) == "; did you mean 'sigmoid'?"
    assert did_you_mean("sec", known, {}) == "; write 1/cos(x)"


# One vocabulary -------------------------------------------------------------------------------

def test_the_grammar_takes_its_shared_terminals_from_the_vocabulary():
    grammar = grammar_path().read_text(encoding="utf-8")
    for terminal in ("DERIV", "LEIBNIZ", "NAME", "NUMBER", "SUPERSCRIPT", "MUL", "ADD"):
        assert not re.search(rf"^{terminal}(\.\d)?:", grammar, re.M), terminal
        assert re.search(rf"^{terminal}(\.\d)?:", grammar_text(), re.M), terminal


def test_the_vocabulary_has_every_keyword_of_the_grammar():
    quoted = set(re.findall(r'"([a-z]+)"', grammar_text()))
    assert quoted == set(vocabulary.RESERVED) | set(vocabulary.CONTEXTUAL)


def test_optimizers_are_the_trainers():
    from diffi.directives.training import OPTIMIZER_CLASSES
    assert set(vocabulary.OPTIMIZERS) == set(OPTIMIZER_CLASSES)


@pytest.mark.parametrize("text, order, variables", [
    ("d/dx", "", ["x"]), ("d2/dx2", "2", ["x2"]), ("d^2/dx^2", "^2", ["x"]),
    ("d²/dx²", "²", ["x"]), ("∂/∂x", "", ["x"]), ("∂²/∂x∂y", "²", ["x", "y"]),
    ("d2/dx1^2", "2", ["x1"]), ("d/dθ", "", ["θ"]),
])
def test_derivative_tokens(text, order, variables):
    assert vocabulary.DERIVATIVE_RE.fullmatch(text)
    top, function, _, parts = vocabulary.read_derivative(text)
    assert (top, function, [v for v, _ in parts]) == (order, None, variables)


@pytest.mark.parametrize("text, matched", [
    ("∂f/∂x + 1", "∂f/∂x"), ("d²y/dx² at", "d²y/dx²"), ("d^2y/dx^2", "d^2y/dx^2"),
    ("dy/dx at x = 1", "dy/dx"), ("dy/dx  using numeric", "dy/dx"), ("dy/dx", None),
    ("dy/dx + 1", None), ("dy/dxat", None),
])
def test_leibniz_tokens(text, matched):
    found = vocabulary.LEIBNIZ_RE.match(text)
    assert (found.group(0) if found else None) == matched


# Round trips: what diffi prints, it reads ----------------------------------------------------

UNARY = ["sin({})", "cos({})", "tanh({})", "exp(sin({}))", "log(1 + {}^2)", "σ({})",
         "({})^2", "sqrt(1 + {}^2)", "-{}"]
BINARY = ["{} + {}", "{} - {}", "{}*{}", "{}/(1 + {}^2)", "max({}, {})"]


@st.composite
def programs(draw):
    """Scalar assignments over inputs w0, w1, x: each node a primitive of earlier names."""
    names = ["w0", "w1", "x"]
    lines = [f"{n} = {draw(st.sampled_from(['0.5', '-1.25', '2', '0.75']))}" for n in names]
    for i in range(draw(st.integers(1, 5))):
        if draw(st.booleans()):
            form = draw(st.sampled_from(UNARY)).format(draw(st.sampled_from(names)))
        else:
            a, b = draw(st.sampled_from(names)), draw(st.sampled_from(names))
            form = draw(st.sampled_from(BINARY)).format(a, b, b)
        names.append(f"a{i + 3}")
        lines.append(f"{names[-1]} = {form}")
    return lines, names[-1]


def printed(source: str) -> str:
    buffer = io.StringIO()
    console = Console(buffer, buffer)
    assert run_source(make_interpreter(console), console, source, "p.dfi") == 0, \
        buffer.getvalue()
    return buffer.getvalue()


ROW = re.compile(r"^  (\S+)\s*= (.*?)(?:\s+= (.*))?$")


def rows(text: str) -> list[tuple[str, str, str | None]]:
    """(name, formula or value, value) of each `  name = formula = value` line."""
    found = []
    for line in text.splitlines():
        match = ROW.match(line)
        if match and not line.startswith("   "):
            found.append(match.groups())
    return found


def check_rows(text: str) -> int:
    """Each row's formula, with every row's name bound to its printed value, gives its value."""
    table = rows(text)
    bindings = "\n".join(f"{name} = {value or formula}" for name, formula, value in table)
    it = Interpreter()
    it.run(bindings)
    checked = 0
    for name, formula, value in table:
        if value is None:
            continue
        got, want = it.eval(formula), it.eval(value)
        scale = max(1.0, *(abs(it.eval(v or f)) for _, f, v in table))
        assert abs(got - want) <= 1e-9 * scale, (name, formula, got, want)
        checked += 1
    return checked


@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_every_printed_table_row_reads_back_to_its_value(program):
    lines, output = program
    inputs = "w1, x, w0"
    source = "\n".join(lines)
    checked = check_rows(printed(f"{source}\nbackprop {output} wrt {inputs}"))
    checked += check_rows(printed(f"{source}\nexplain d/dx {output}"))
    checked += check_rows(printed(f"{source}\nexplain grad {output} wrt {inputs}"))
    checked += check_rows(printed(f"{source}\ngraph {output}"))
    assert checked >= 4


@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(programs(), st.sampled_from([0.3, -0.7, 1.9]))
def test_every_printed_formula_reads_back_to_its_value(program, point):
    lines, output = program
    # The same program as a function of an unbound x: its derivative prints as a formula.
    body = "; ".join(line for line in lines if not line.startswith("x ="))
    source = f"f(x) = {{ {body}; {output} }}"
    for derivative in ("d/dx", "d2/dx2"):
        formula = printed(f"{source}\n{derivative} f(x)").strip()
        want = Interpreter().eval(f"{source}\n{derivative} f(x) at x = {point}")
        got = Interpreter().eval(f"x = {point}\n{formula}")
        assert math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9), formula
    definition = printed(f"{source}\nf").strip()
    assert Interpreter().eval(f"{definition}\nf({point})") == \
        Interpreter().eval(f"{source}\nf({point})")


def test_rows_of_a_lecture_table_parse():
    text = printed("w0 = 1; w1 = 2; x = 3\na4 = w1 * x\na5 = a4 + w0\n"
                   "y1 = a6 = cos(a5)\nbackprop y1 wrt w1, x, w0")
    bar = "\u0304"
    assert (f"a{bar}5", f"−a{bar}6·sin(a5)", "-0.656986598718789") in rows(text)
    assert check_rows(text) == 10
    assert parse(f"x{bar} = a{bar}4·w1")[0].target.id == f"x{bar}"


# Bad input never crashes, whatever the board's symbols ----------------------------------------

BOARD_TOKENS = ["x", "f", "dy", "dx", "2", "(", ")", "[", "]", "{", "}", ",", "=", ";", "\n",
                "'", "′", ".", "T", "ᵀ", "|", "‖", "√", "∇", "∑", "_", "²", "⁻", "₅", "·",
                "×", "−", "≤", "/", "^", "d/dx", "∂/∂x", "∂f/∂x", "d²/dx²", "d", "∂", "at",
                "using", "grad", "for", "return", "sin", "ln", "σ", ":", ":=", "←", '"',
                "x\u0304", "\u0304", "if", "then"]


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(BOARD_TOKENS), max_size=10), st.sampled_from([" ", ""]))
def test_the_boards_symbols_in_any_order_give_only_diffi_errors(tokens, gap):
    source = gap.join(tokens)
    try:
        Interpreter(timeout=5).run(source)
    except DiffiError as error:
        assert error.line >= 1 and error.column >= 1 and error.message


def test_the_python_api_spells_names_as_the_source_does():
    it = Interpreter()
    it["a₅"] = 3.0
    assert it.eval("a5") == 3.0 and it["a5"] == 3.0 and "a₅" in it
    assert it.derivative("a₅^2", wrt="a₅", at={"a₅": 3}) == 6.0
    for bad in ("grad", "x²", "a b", "2x"):
        with pytest.raises(DiffiError, match="not a valid diffi name"):
            it[bad] = 1.0
