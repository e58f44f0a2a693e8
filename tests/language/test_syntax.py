"""Syntax tree printer (diffi/language/syntax.py): style, minimal parentheses, and parse ∘ unparse = id."""

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diffi.language import syntax as S
from diffi.language.parser import parse
from diffi.language.syntax import deriv_head, dump, number_literal, unparse, unparse_statement

PROPERTY = settings(max_examples=300, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


def printed(source: str) -> str:
    """The source parsed and printed back, statement by statement."""
    return "\n".join(unparse_statement(s) for s in parse(source))


def reparsed(node):
    """The tree that parsing unparse(node) gives, as a dump."""
    (stmt,) = parse(unparse(node))
    assert isinstance(stmt, S.ExprStmt)
    return dump(stmt.expr)


def without_negative_literals(tree):
    """A dump with each negative Num as the unary minus that parsing its text gives."""
    if not isinstance(tree, tuple):
        return tree
    if len(tree) == 2 and tree[0] == "Num" and math.copysign(1.0, tree[1]) < 0:
        return ("Unary", "-", ("Num", -tree[1]))
    return tuple(without_negative_literals(t) for t in tree)


X, Y, F = S.Name("x"), S.Name("y"), S.Name("f")


# ----------------------------------------------------------------------------
# Style: `*`, `/`, `^` tight; `+ - < == and or @` spaced


@pytest.mark.parametrize("source", [
    "f(x, y) = x*y + sin(x)",
    "x/y", "x^2", "a*b", "a @ b", "a + b", "a - b",
    "a < b", "a <= b", "a > b", "a >= b", "a == b", "a != b",
    "a and b", "a or b", "not a", "-x", "+x",
    "x = 3",
    "a, b = t",
    "dW, dV = grad L wrt W, V",
    "loss(x) = { a = x^2; b = 5*a; c = log(a); -b*c }",
    "{ a = 1; a + 1 }",
    "if x < 0 then -x else x",
    "sum(A, axis = 1)",
    "A[:, 0]", "A[1:3]", "A[::2]", "A[1:]", "A[i, j]",
    "[1, 2.5, 3]", "[[1, 2], [3, 4]]", "(1, 2)", "[]",
    "x;",
    "d/dx x^2 at x = 3",
    "d2/dx2 sin(x)",
    "d2/dx1^2 x1^3",
    "grad f at (3, 0)",
    "grad f",
    "d/dx f at 3",
    "backprop y2 wrt w1, x, w0",
    "hessian f(x, y) wrt x, y at x = 1, y = 2",
    "jacobian F wrt x using reverse",
    "check f(x) wrt x at x = 1",
    "explain d/dx sin(x) at x = 0 using symbolic",
    'explain grad f at (1, 2) using numeric(method = "central")',
    'graph f(x, 2) to "f.dot"',
    "minimize L(W, V) wrt W, V using gd(rate = 0.1, steps = 10)",
    "1 + (d/dx x^2 at x = 3)",
    "σ(θ) = θ^2 + η",
])
def test_canonical_text_prints_back_unchanged(source):
    assert printed(source) == source


@pytest.mark.parametrize("source, text", [
    ("f(x,y)=x * y+sin( x )", "f(x, y) = x*y + sin(x)"),
    ("x ** 2", "x^2"),
    ("a@b", "a @ b"),
    ("a<b", "a < b"),
    ("a==b", "a == b"),
    ("x   -y", "x - y"),
    ("x/ y", "x/y"),
    (".5", "0.5"),
    ("1e-3", "0.001"),
    ("2.5E+4", "25000"),
    ("3.0", "3"),
])
def test_spacing_is_normalised(source, text):
    assert printed(source) == text


# ----------------------------------------------------------------------------
# Minimal parentheses


@pytest.mark.parametrize("source, text", [
    ("((a + b))*c", "(a + b)*c"),
    ("(a*b) + c", "a*b + c"),
    ("a + (b*c)", "a + b*c"),
    ("(a + b) + c", "a + b + c"),
    ("a + (b + c)", "a + (b + c)"),
    ("(a - b) - c", "a - b - c"),
    ("a - (b - c)", "a - (b - c)"),
    ("a - (b + c)", "a - (b + c)"),
    ("(a/b)*c", "a/b*c"),
    ("(a*b)/c", "a*b/c"),
    ("a/(b*c)", "a/(b*c)"),
    ("a/(b/c)", "a/(b/c)"),
    ("a @ (b @ c)", "a @ (b @ c)"),
    ("a^(b^c)", "a^b^c"),
    ("(a^b)^c", "(a^b)^c"),
    ("-(x^2)", "-x^2"),
    ("(-x)^2", "(-x)^2"),
    ("-(a + b)", "-(a + b)"),
    ("-(a*b)", "-(a*b)"),
    ("(-a)*b", "-a*b"),
    ("a*(-b)", "a*-b"),
    ("a + (-b)", "a + -b"),
    ("2^(-1)", "2^-1"),
    ("2^(-x^2)", "2^-x^2"),
    ("2^(-x)^2", "2^(-x)^2"),
    ("x^(a + b)", "x^(a + b)"),
    ("x^(a*b)", "x^(a*b)"),
    ("not (a and b)", "not (a and b)"),
    ("(not a) and b", "not a and b"),
    ("(a or b) and c", "(a or b) and c"),
    ("a or (b and c)", "a or b and c"),
    ("(a and b) or c", "a and b or c"),
    ("a and (b and c)", "a and (b and c)"),
    ("a or (b or c)", "a or (b or c)"),
    ("(a < b) == c", "(a < b) == c"),
    ("a < (b == c)", "a < (b == c)"),
    ("not (a < b)", "not a < b"),
    ("(not a) < b", "(not a) < b"),
    ("(a + b) < (c*d)", "a + b < c*d"),
    ("(a < b) + 1", "(a < b) + 1"),
    ("(if a then b else c) + 1", "(if a then b else c) + 1"),
    ("if a then b else (c + 1)", "if a then b else c + 1"),
    ("if (a or b) then (c) else (d)", "if a or b then c else d"),
    ("f((a + b))", "f(a + b)"),
    ("f((if a then b else c))", "f(if a then b else c)"),
    ("(f)(x)", "f(x)"),
    ("(a + b)(x)", "(a + b)(x)"),
    ("(A)[0]", "A[0]"),
    ("(a + b)[0]", "(a + b)[0]"),
    ("(-a)[0]", "(-a)[0]"),
    ("-(f(x))", "-f(x)"),
    ("(f(x))^2", "f(x)^2"),
    ("(A[0])^2", "A[0]^2"),
    ("[(a + b), (c)]", "[a + b, c]"),
    ("((a, b))", "(a, b)"),
    ("((1 + 2), 3)", "(1 + 2, 3)"),
    ("A[(i + 1), (j)]", "A[i + 1, j]"),
    ("(x)", "x"),
    ("x = (a + b)", "x = a + b"),
    ("f(x) = (x^2)", "f(x) = x^2"),
    ("(d/dx x^2) + 1", "(d/dx x^2) + 1"),
    ("d/dx (x^2 + 1)", "d/dx x^2 + 1"),
])
def test_minimal_parentheses(source, text):
    assert printed(source) == text


def test_nested_unary_minus_stays_valid():
    # `--x` would also parse, but `-(-x)` is clearer; both mean the same tree.
    text = printed("--x")
    assert text in ("-(-x)", "- -x", "--x")
    assert dump(parse(text)) == dump(parse("--x"))


def test_repr_of_a_node_is_its_source():
    node = parse("a*b + c")[0].expr
    assert repr(node) == "a*b + c"


def test_block_expression_statements_print_once_separated():
    assert printed("{ a; b }") == "{ a; b }"
    assert printed("{ f(1); g(2); 3 }") == "{ f(1); g(2); 3 }"


# ----------------------------------------------------------------------------
# Negative numbers (the printer sees them in formulas it builds, not from the parser)


@pytest.mark.parametrize("node, text", [
    (S.Num(-2.0), "-2"),
    (S.Num(-0.5), "-0.5"),
    (S.Num(-0.0), "-0"),
    (S.Num(math.inf), "inf"),
    (S.Num(-math.inf), "-inf"),
    (S.Num(math.nan), "nan"),
    (S.Binary("^", S.Num(-2.0), S.Num(2.0)), "(-2)^2"),
    (S.Binary("^", S.Num(2.0), S.Num(-1.0)), "2^-1"),
    (S.Binary("^", S.Num(-math.inf), S.Num(2.0)), "(-inf)^2"),
    (S.Binary("-", X, S.Num(-1.0)), "x - -1"),
    (S.Binary("+", X, S.Num(-1.0)), "x + -1"),
    (S.Binary("*", S.Num(-3.0), X), "-3*x"),
    (S.Binary("*", X, S.Num(-3.0)), "x*-3"),
    (S.Binary("/", S.Num(-1.0), X), "-1/x"),
    (S.Unary("-", S.Num(-1.0)), "-(-1)"),
    (S.Call(F, [S.Num(-1.0)]), "f(-1)"),
    (S.Index(S.Num(-1.0), [S.Num(0.0)]), "(-1)[0]"),
    (S.Vector([S.Num(-1.0), S.Num(2.0)]), "[-1, 2]"),
    (S.Binary("<", S.Num(-1.0), X), "-1 < x"),
])
def test_negative_numbers(node, text):
    assert unparse(node) == text


@pytest.mark.parametrize("node", [
    S.Binary("^", S.Num(-2.0), S.Num(2.0)),
    S.Binary("^", S.Num(2.0), S.Num(-1.0)),
    S.Binary("-", X, S.Num(-1.0)),
    S.Binary("*", S.Num(-3.0), S.Binary("^", X, S.Num(-2.0))),
    S.Unary("-", S.Num(-1.0)),
    S.Index(S.Num(-1.0), [S.Num(0.0)]),
    S.Call(S.Num(-2.0), [X]),
])
def test_negative_numbers_reparse_as_unary_minus(node):
    assert reparsed(node) == without_negative_literals(dump(node))


@pytest.mark.parametrize("value, text", [
    (6.0, "6"), (0.5, "0.5"), (0.1, "0.1"), (1e-3, "0.001"), (2.5e4, "25000"),
    (1e20, "1e+20"), (1e-7, "1e-07"), (0.141120008059867, "0.141120008059867"),
])
def test_format_number(value, text):
    assert number_literal(value) == text


@PROPERTY
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_format_number_reads_back_exactly(value):
    text = number_literal(value)
    assert float(text) == value
    assert math.copysign(1.0, float(text)) == math.copysign(1.0, value)
    if math.copysign(1.0, value) > 0:
        assert dump(parse(text)[0].expr) == ("Num", value)


def test_deriv_head():
    assert deriv_head(1, "x") == "d/dx"
    assert deriv_head(2, "x") == "d2/dx2"
    assert deriv_head(3, "θ") == "d3/dθ3"
    assert deriv_head(2, "x1") == "d2/dx1^2"
    assert deriv_head(1, "x1") == "d/dx1"


def test_unparse_statement():
    assert unparse_statement(S.Assign(X, S.Num(3.0))) == "x = 3"
    assert unparse_statement(S.FuncDef(F, [X, Y], S.Binary("*", X, Y))) == "f(x, y) = x*y"
    assert unparse_statement(S.Destructure([X, Y], S.Name("t"))) == "x, y = t"
    assert unparse_statement(S.ExprStmt(X, silent=True)) == "x;"
    assert unparse_statement(S.ExprStmt(X)) == "x"


# ----------------------------------------------------------------------------
# Trees the printer can build must read back (bugs found while writing these tests)


def test_one_element_tuple_round_trips():
    node = S.TupleLit([X])
    assert reparsed(node) == dump(node)


def test_division_that_looks_like_a_derivative_round_trips():
    # d/dx is a derivative only where a directive may start; the printer must not
    # turn the division d/dx (or d2/dx2) into one.
    d, dx = S.Name("d"), S.Name("dx")
    for node in (S.Binary("/", d, dx),
                 S.Binary("+", S.Binary("/", d, dx), S.Num(1.0)),
                 S.Binary("/", S.Name("d2"), S.Name("dx2"))):
        assert reparsed(node) == dump(node), unparse(node)
    stmt = S.Assign(S.Name("y"), S.Binary("/", d, dx))
    assert dump(parse(unparse_statement(stmt))) == (dump(stmt),)


@pytest.mark.parametrize("value", ["a\nb", "tab\there", 'q"q', "back\\slash"])
def test_strings_round_trip(value):
    node = S.Directive("graph", S.Name("E"), file=S.Str(value))
    assert reparsed(node) == dump(node)


# ----------------------------------------------------------------------------
# Property: parse(unparse(tree)) == tree for random trees

# d, dx, d2, dx2: a division d/dx must not print as a derivative.
NAMES = ["x", "y", "z", "w1", "σ", "θ", "η", "_t", "A", "f", "pi", "e", "d", "dx", "d2", "dx2"]
KEYWORDS = ["axis", "rate", "steps", "k"]
ARITHMETIC = ["+", "-", "*", "/", "@", "^"]
COMPARISONS = ["<", "<=", ">", ">=", "==", "!="]
# Node kinds to draw, repeated to weight them: arithmetic is where the tiers mix most.
OPERATORS = ("arithmetic",) * 3 + ("unary", "comparison") * 2 + ("logic", "if")
KINDS = OPERATORS + ("call", "keywords", "index", "vector", "tuple", "block")

numbers = st.one_of(st.integers(0, 100).map(float),
                    st.floats(allow_nan=False, allow_infinity=False))
names = st.sampled_from(NAMES).map(S.Name)
leaves = st.one_of(st.builds(S.Num, numbers), names)


@st.composite
def expressions(draw, depth: int = 4, kinds: tuple = KINDS):
    """A random expression tree at most `depth` nodes deep, of the given node kinds."""
    if depth == 0 or draw(st.integers(0, 4)) == 0:
        return draw(leaves)
    sub = expressions(depth - 1, kinds)
    kind = draw(st.sampled_from(kinds))
    if kind == "arithmetic":
        return S.Binary(draw(st.sampled_from(ARITHMETIC)), draw(sub), draw(sub))
    if kind == "comparison":
        return S.Binary(draw(st.sampled_from(COMPARISONS)), draw(sub), draw(sub))
    if kind == "unary":
        return S.Unary(draw(st.sampled_from(["-", "+", "not"])), draw(sub))
    if kind == "logic":
        return S.Logic(draw(st.sampled_from(["and", "or"])), draw(sub), draw(sub))
    if kind == "if":
        return S.IfElse(draw(sub), draw(sub), draw(sub))
    if kind == "call":
        return S.Call(draw(st.one_of(names, sub)), draw(st.lists(sub, max_size=2)))
    if kind == "keywords":
        chosen = draw(st.lists(st.sampled_from(KEYWORDS), min_size=1, max_size=2, unique=True))
        return S.Call(draw(names), draw(st.lists(sub, max_size=1)),
                      [S.Keyword(k, draw(sub)) for k in chosen])
    if kind == "index":
        part = st.none() | sub
        item = st.one_of(sub, st.builds(S.Slice, part, part, part))
        return S.Index(draw(st.one_of(names, sub)), draw(st.lists(item, min_size=1, max_size=2)))
    if kind == "vector":
        return S.Vector(draw(st.lists(sub, max_size=3)))
    if kind == "tuple":
        return S.TupleLit(draw(st.lists(sub, min_size=1, max_size=3)))
    statement = st.one_of(st.builds(S.Assign, names, sub),
                          st.builds(S.ExprStmt, sub, st.booleans()))
    return S.Block(draw(st.lists(statement, max_size=2)), draw(sub))


@PROPERTY
@given(expressions())
def test_parse_of_unparse_is_the_tree(tree):
    text = unparse(tree)
    (stmt,) = parse(text)
    assert isinstance(stmt, S.ExprStmt)
    assert dump(stmt.expr) == without_negative_literals(dump(tree)), text


@PROPERTY
@given(expressions(5, OPERATORS))
def test_parse_of_unparse_is_the_tree_for_operators(tree):
    # Deeper trees of operators only: every pair of precedence tiers meets often.
    (stmt,) = parse(unparse(tree))
    assert dump(stmt.expr) == without_negative_literals(dump(tree)), unparse(tree)


# Places where a directive may start, so where `d/dx` written tight reads as one.
DIRECTIVE_PLACES = [
    lambda node: node,                                           # a statement
    lambda node: S.Binary("^", node, S.Num(2.0)),                # after '('
    lambda node: S.Block([S.ExprStmt(node)], S.Name("x")),       # a block's statement
    lambda node: S.Block([S.Assign(S.Name("y"), node)], S.Name("y")),  # after '='
]


@PROPERTY
@given(st.sampled_from(["d", "d2", "d10"]), expressions(2),
       st.sampled_from(range(len(DIRECTIVE_PLACES))))
def test_division_of_a_d_name_never_reads_as_a_derivative(name, right, place):
    node = DIRECTIVE_PLACES[place](S.Binary("/", S.Name(name), right))
    assert reparsed(node) == without_negative_literals(dump(node)), unparse(node)


statement_trees = st.one_of(
    st.builds(S.Assign, names, expressions(3)),
    st.builds(S.FuncDef, names, st.lists(names, min_size=1, max_size=3,
                                         unique_by=lambda n: n.id), expressions(3)),
    st.builds(S.Destructure, st.lists(names, min_size=2, max_size=3, unique_by=lambda n: n.id),
              expressions(3)),
    st.builds(S.ExprStmt, expressions(3), st.booleans()),
)


@settings(PROPERTY, max_examples=150)
@given(st.lists(statement_trees, min_size=1, max_size=3))
def test_parse_of_unparsed_statements_is_the_program(program):
    text = "\n".join(unparse_statement(s) for s in program)
    assert without_negative_literals(dump(parse(text))) == without_negative_literals(
        dump(program)), text


# ----------------------------------------------------------------------------
# parse → unparse → parse is a fixed point for hand-written programs

PROGRAMS = [
    "x = 3\nf(x, y) = x*y + sin(x)\nf(3, 0)",
    "loss(x) = { a = x^2; b = 5*a; c = log(a); -b*c }",
    "dW, dV = grad L wrt W, V",
    "w0 = 1; w1 = 2; x = 3\na4 = w1 * x\na5 = a4 + w0\ny2 = cos(a5)\nbackprop y2 wrt w1, x, w0",
    "d/dx x^2*sin(x)",
    "d/da5 y2",
    "df = d/dx f; df(2)",
    "d40/dx40 sin(x)",
    "d2/dx1^2 x1^3 at x1 = 2",
    "grad f at (3, 0) using reverse",
    "hessian f(x, y) wrt x, y at x = 1, y = 2",
    "jacobian [x*y, x + y] wrt x, y",
    "check exp(x)*sin(x) wrt x at x = 0.5",
    "explain d/dx sqrt(x) at x = 4 using numeric(step = 1e-6)",
    'explain d/dx x^3 at 2 using numeric(method = "richardson")',
    'graph f(x, 2) to "f.dot"',
    "A = [[1, 2], [3, 4]]\nv = A[:, 0]\nw = A[1:3]\ns = sum(A, axis = 1)\nA @ transpose(A)",
    "minimize L(W, V) wrt W, V using gd(rate = 0.1, steps = 10)",
    "minimize L(W, V) wrt W, V using adam(rate = 0.01, steps = 500)",
    "relu1(x) = if x > 0 then x else 0\nfact(n) = if n <= 1 then 1 else n*fact(n - 1)",
    "ok = not (a < b) and (c >= d or e != f)",
    "σ = 1; θ = [1, 2]; η = 0.1\nθ = θ - η*(grad σ*sum(θ^2) wrt θ)",
    "p = (1, -2.5, [3, 4])\nq = -x^2 + 2^-1 - (-x)^2 + 2^3^2",
    "m = { a = 1\n b = { c = a + 1; c*2 }\n a + b }",
    "x = 1;\ny = 2;\nprint(\"sum:\", x + y)",
    "h(x) = max(x, 0) + abs(-x) - min(x, 2)\nh(-3); h(3)",
]


@pytest.mark.parametrize("source", PROGRAMS)
def test_parse_unparse_parse_is_a_fixed_point(source):
    first = parse(source)
    text = "\n".join(unparse_statement(s) for s in first)
    second = parse(text)
    assert dump(second) == dump(first), text
    assert "\n".join(unparse_statement(s) for s in second) == text


# Printing at any depth and length -----------------------------------------------------------

def test_printing_a_deep_formula_needs_no_recursion():
    # from this thread, whose recursion limit is Python's default: the printer is a loop
    source = "sin(" * 50_000 + "x" + ")" * 50_000
    (stmt,) = parse(source)
    assert unparse(stmt.expr) == source
    nested = S.Name("x")
    for _ in range(50_000):
        nested = S.Unary("-", S.Binary("*", nested, S.Num(2.0)))
    assert unparse(nested) == "-(" * 50_000 + "x" + "*2)" * 50_000


def test_printing_a_long_chain_gives_every_operand_once():
    names = [f"x{k}" for k in range(100_000)]
    total, product = S.Name(names[0]), S.Name(names[0])
    for name in names[1:]:
        total = S.Binary("+", total, S.Name(name))
        product = S.Binary("*", product, S.Name(name))
    assert unparse(total) == " + ".join(names)
    assert unparse(product) == "*".join(names)
