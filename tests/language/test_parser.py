"""Parser (diffi/language/parser.py, grammar/diffi.lark): the language as syntax, and syntax errors."""

from dataclasses import fields
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lark.exceptions import UnexpectedInput

import diffi
from diffi.errors import DiffiSyntaxError, Span
from diffi.language import syntax as S
from diffi.language.parser import is_incomplete, parse, parse_prefix, start_of
from diffi.language.syntax import RESERVED, dump, number_literal

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
DOCUMENTED_RESERVED = ("at wrt using if then else and or not grad backprop hessian jacobian "
                       "check graph explain minimize to latex taylor tangent plot").split()


# ----------------------------------------------------------------------------
# Helpers


def expr(source: str):
    """The expression of a one-statement program that is an expression statement."""
    statements = parse(source)
    assert len(statements) == 1, statements
    (stmt,) = statements
    assert isinstance(stmt, S.ExprStmt), stmt
    return stmt.expr


def shape(node) -> str:
    """The tree as text with every operation parenthesised: its shape, independent of unparse."""
    kind = type(node)
    if kind is S.Num:
        return number_literal(node.value)
    if kind is S.Name:
        return node.id
    if kind is S.Str:
        return repr(node.value)
    if kind in (S.Binary, S.Logic):
        return f"({shape(node.left)} {node.op} {shape(node.right)})"
    if kind is S.Unary:
        gap = " " if node.op == "not" else ""
        return f"({node.op}{gap}{shape(node.operand)})"
    if kind is S.IfElse:
        return f"(if {shape(node.cond)} then {shape(node.then)} else {shape(node.other)})"
    if kind is S.Call:
        args = [shape(a) for a in node.args]
        args += [f"{k.name}={shape(k.value)}" for k in node.keywords]
        return f"{shape(node.func)}({', '.join(args)})"
    if kind is S.Index:
        return f"{shape(node.target)}[{', '.join(shape(i) for i in node.items)}]"
    if kind is S.Slice:
        parts = ["" if p is None else shape(p) for p in (node.start, node.stop, node.step)]
        return ":".join(parts)
    if kind is S.Vector:
        return "[" + ", ".join(shape(i) for i in node.items) + "]"
    if kind is S.TupleLit:
        return "tuple(" + ", ".join(shape(i) for i in node.items) + ")"
    if kind is S.Block:
        return "{" + "".join(f"{dump(s)}; " for s in node.body) + shape(node.result) + "}"
    if kind is S.Directive:
        return f"<{node.kind} {shape(node.expr) if node.expr is not None else ''}>"
    raise AssertionError(f"no shape for {kind.__name__}")


def syntax_error(source: str) -> DiffiSyntaxError:
    """The DiffiSyntaxError that parsing `source` raises."""
    with pytest.raises(DiffiSyntaxError) as info:
        parse(source)
    return info.value


def at(error: DiffiSyntaxError) -> tuple[int, int]:
    return error.line, error.column


# ----------------------------------------------------------------------------
# §2 precedence, one row at a time (low → high)

PRECEDENCE = [
    # 1. if/then/else is the lowest: its branches take whole expressions.
    ("if a then b else c or d", "(if a then b else (c or d))"),
    ("if a or b then c + 1 else d*2", "(if (a or b) then (c + 1) else (d * 2))"),
    ("if a then b else if c then d else e",
     "(if a then b else (if c then d else e))"),
    # 2. or < 3. and
    ("a or b and c", "(a or (b and c))"),
    ("a and b or c", "((a and b) or c)"),
    ("a or b or c", "((a or b) or c)"),
    ("a and b and c", "((a and b) and c)"),
    # 3. and < 4. not
    ("not a and b", "((not a) and b)"),
    ("a and not b", "(a and (not b))"),
    ("not not a", "(not (not a))"),
    # 4. not < 5. comparisons
    ("not a < b", "(not (a < b))"),
    ("not a == b", "(not (a == b))"),
    ("a < b and c >= d", "((a < b) and (c >= d))"),
    ("a != b or c <= d", "((a != b) or (c <= d))"),
    ("a > b", "(a > b)"),
    # 5. comparisons < 6. + -
    ("a + b < c - d", "((a + b) < (c - d))"),
    ("a == b + 1", "(a == (b + 1))"),
    # 6. + - are left-associative
    ("a - b - c", "((a - b) - c)"),
    ("a - b + c", "((a - b) + c)"),
    ("a + b - c", "((a + b) - c)"),
    # 6. + - < 7. * / @
    ("a + b*c", "(a + (b * c))"),
    ("a*b - c", "((a * b) - c)"),
    ("a - b @ c", "(a - (b @ c))"),
    # 7. * / @ are left-associative, one tier
    ("a / b * c", "((a / b) * c)"),
    ("a * b / c", "((a * b) / c)"),
    ("a @ b @ c", "((a @ b) @ c)"),
    ("a @ b * c", "((a @ b) * c)"),
    ("a / b @ c", "((a / b) @ c)"),
    # 7. * / @ < 8. unary - +
    ("-a * b", "((-a) * b)"),
    ("a * -b", "(a * (-b))"),
    ("a - -b", "(a - (-b))"),
    ("+a - b", "((+a) - b)"),
    ("--x", "(-(-x))"),
    # 8. unary < 9. ^ (right-associative; -x^2 is -(x^2); 2^-1 is allowed)
    ("-x^2", "(-(x ^ 2))"),
    ("-2^2", "(-(2 ^ 2))"),
    ("2^-1", "(2 ^ (-1))"),
    ("2^3^2", "(2 ^ (3 ^ 2))"),
    ("2^-x^2", "(2 ^ (-(x ^ 2)))"),
    ("a*b^c", "(a * (b ^ c))"),
    ("(a^b)^c", "((a ^ b) ^ c)"),
    # ** is a synonym of ^
    ("x ** 2", "(x ^ 2)"),
    ("2**3**2", "(2 ^ (3 ^ 2))"),
    ("2**-1", "(2 ^ (-1))"),
    # 9. ^ < 10. call, index, slice
    ("f(x)^2", "(f(x) ^ 2)"),
    ("A[0]^2", "(A[0] ^ 2)"),
    ("a^b[0]", "(a ^ b[0])"),
    ("a^f(x)", "(a ^ f(x))"),
    ("-f(x)", "(-f(x))"),
    ("-A[1:3]", "(-A[1:3:])"),
    ("f(x)(y)", "f(x)(y)"),
    ("A[0][1]", "A[0][1]"),
    ("f(x)[0]", "f(x)[0]"),
    # 11. atoms: parentheses regroup
    ("(a + b)*c", "((a + b) * c)"),
    ("a - (b - c)", "(a - (b - c))"),
    ("(a + b)(c)", "(a + b)(c)"),
    ("(a + b)[0]", "(a + b)[0]"),
    ("((a))", "a"),
    ("[1, 2][0]", "[1, 2][0]"),
    # Every tier at once.
    ("a or b and not c < d + e * -f ^ g",
     "(a or (b and (not (c < (d + (e * (-(f ^ g))))))))"),
]


@pytest.mark.parametrize("source, tree", PRECEDENCE)
def test_precedence(source, tree):
    assert shape(expr(source)) == tree


def test_double_star_is_stored_as_caret():
    node = expr("x ** 2")
    assert isinstance(node, S.Binary) and node.op == "^"


def test_unary_operators_are_unary_nodes():
    assert dump(expr("-x")) == ("Unary", "-", ("Name", "x"))
    assert dump(expr("+x")) == ("Unary", "+", ("Name", "x"))
    assert dump(expr("not x")) == ("Unary", "not", ("Name", "x"))


def test_and_or_are_logic_nodes_and_comparisons_binary():
    assert dump(expr("a and b")) == ("Logic", "and", ("Name", "a"), ("Name", "b"))
    assert dump(expr("a or b")) == ("Logic", "or", ("Name", "a"), ("Name", "b"))
    for op in ("<", "<=", ">", ">=", "==", "!="):
        assert dump(expr(f"a {op} b")) == ("Binary", op, ("Name", "a"), ("Name", "b"))


@pytest.mark.parametrize("source, column", [
    ("a < b < c", 7),
    ("a <= b >= c", 8),
    ("a == b == c", 8),
    ("x + 1 < y != z", 11),
])
def test_comparisons_do_not_chain(source, column):
    error = syntax_error(source)
    assert "chain" in error.message
    assert at(error) == (1, column)


def test_parenthesised_comparisons_may_be_compared():
    assert shape(expr("(a < b) < c")) == "((a < b) < c)"
    assert shape(expr("a < b and b < c")) == "((a < b) and (b < c))"


def test_if_needs_then_and_else():
    error = syntax_error("if a then b")
    assert "'else'" in error.message
    assert at(error) == (1, 12)


# ----------------------------------------------------------------------------
# §1 lexical


@pytest.mark.parametrize("source, value", [
    ("3", 3.0), ("3.14", 3.14), (".5", 0.5), ("1e-3", 1e-3), ("2.5E+4", 2.5e4),
    ("1E3", 1000.0), ("0.5e2", 50.0), ("007", 7.0),
])
def test_numbers(source, value):
    node = expr(source)
    assert isinstance(node, S.Num)
    assert node.value == value and isinstance(node.value, float)


@pytest.mark.parametrize("name", ["σ", "θ", "η", "π", "x_1", "_t", "σ2", "Wσ"])
def test_unicode_and_underscore_names(name):
    assert dump(parse(f"{name} = 1")) == (("Assign", ("Name", name), ("Num", 1.0)),)
    assert dump(expr(f"{name} + 1")) == ("Binary", "+", ("Name", name), ("Num", 1.0))


def test_unicode_program():
    program = parse("θ = 1; σ(θ) = θ^2; η")
    assert [type(s).__name__ for s in program] == ["Assign", "FuncDef", "ExprStmt"]
    assert program[1].name.id == "σ" and [p.id for p in program[1].params] == ["θ"]
    assert program[2].expr.id == "η"


def test_constants_are_names():
    assert shape(expr("pi + π + e + inf + nan")) == "((((pi + π) + e) + inf) + nan)"
    # `e` after a number is an exponent only when digits follow it.
    assert shape(expr("e-1")) == "(e - 1)"
    assert shape(expr("2e-1")) == "0.2"
    assert shape(expr("2*e - 1")) == "((2 * e) - 1)"


def test_names_that_start_with_a_reserved_word_are_names():
    program = parse("ifx = 1\ngrade = andy + nothing\ntotal = atan(toy) + usingx + thenx\n"
                    "check1 = explained + graphs + orz + wrtz + elsey")
    assert [s.target.id for s in program] == ["ifx", "grade", "total", "check1"]
    assert shape(program[2].value) == "((atan(toy) + usingx) + thenx)"


def test_comments():
    program = parse("# a program\nx = 1 # one\n# between\ny   # why\n")
    assert dump(program) == (("Assign", ("Name", "x"), ("Num", 1.0)),
                             ("ExprStmt", ("Name", "y")))
    assert parse("# only a comment") == []
    assert dump(expr("[1, # one\n 2]")) == ("Vector", (("Num", 1.0), ("Num", 2.0)))


def test_a_comment_does_not_end_inside_a_string():
    node = expr('graph E to "a#b.dot"')
    assert node.file.value == "a#b.dot"


def test_empty_programs():
    assert parse("") == []
    assert parse("\n\n;\n") == []


def test_newlines_and_semicolons_separate_statements():
    expected = (("Assign", ("Name", "x"), ("Num", 1.0)), ("ExprStmt", ("Name", "y")))
    for source in ("x = 1\ny", "x = 1; y", "x = 1;\ny", "\n\nx = 1\n\n\ny\n", "x = 1;;y",
                   ";x = 1\r\ny"):
        assert dump(parse(source)) == expected, source


def test_two_expressions_on_one_line_need_a_separator():
    error = syntax_error("x = 1 2")
    assert "unexpected '2'" in error.message
    assert at(error) == (1, 7)


@pytest.mark.parametrize("source, silent", [
    ("x", [False]),
    ("x;", [True]),
    ("x ;", [True]),
    ("x; y", [True, False]),
    ("x;\ny", [True, False]),
    ("x\ny;", [False, True]),
    ("x # not silent;", [False]),
    ("x;  # silent", [True]),
    ("{ a = 1; a + 1 };", [True]),
    ("f(1);;", [True]),
])
def test_semicolon_marks_expression_statements_silent(source, silent):
    program = parse(source)
    assert all(isinstance(s, S.ExprStmt) for s in program)
    assert [s.silent for s in program] == silent


@pytest.mark.parametrize("source, tree", [
    ("f(1,\n 2)", "f(1, 2)"),
    ("[1,\n 2]", "[1, 2]"),
    ("(1 +\n 2)", "(1 + 2)"),
    ("(1\n + 2)", "(1 + 2)"),
    ("A[0,\n 1]", "A[0, 1]"),
    ("[[1, 2],\n [3, 4]]", "[[1, 2], [3, 4]]"),
    ("f(\n\n x\n\n)", "f(x)"),
    ("sum(A,\n axis = 1)", "sum(A, axis=1)"),
])
def test_newlines_inside_parentheses_and_brackets_continue(source, tree):
    assert shape(expr(source)) == tree


def test_newlines_inside_braces_separate_block_statements():
    node = expr("{\n  a = 1\n  b = 2\n\n  a + b\n}")
    assert dump(node) == ("Block", (("Assign", ("Name", "a"), ("Num", 1.0)),
                                    ("Assign", ("Name", "b"), ("Num", 2.0))),
                          ("Binary", "+", ("Name", "a"), ("Name", "b")))


def test_brackets_nest_with_braces():
    # A newline inside () inside {} continues; one inside {} inside () separates.
    node = expr("{ a = (1 +\n 2)\n a }")
    assert dump(node) == ("Block", (("Assign", ("Name", "a"),
                                     ("Binary", "+", ("Num", 1.0), ("Num", 2.0))),),
                          ("Name", "a"))
    node = expr("(1 + { a = 1\n a })")
    assert dump(node.right) == ("Block", (("Assign", ("Name", "a"), ("Num", 1.0)),),
                                ("Name", "a"))


# ----------------------------------------------------------------------------
# §3 statements


def test_assignment():
    (stmt,) = parse("x = 3")
    assert isinstance(stmt, S.Assign)
    assert dump(stmt) == ("Assign", ("Name", "x"), ("Num", 3.0))


def test_function_definition():
    (stmt,) = parse("f(x, y) = x*y + sin(x)")
    assert isinstance(stmt, S.FuncDef)
    assert stmt.name.id == "f"
    assert [p.id for p in stmt.params] == ["x", "y"]
    assert shape(stmt.body) == "((x * y) + sin(x))"


def test_call_is_not_a_definition():
    assert isinstance(parse("f(x, y)")[0], S.ExprStmt)
    assert shape(expr("f(3, 0)")) == "f(3, 0)"
    assert shape(expr("f(x) == 1")) == "(f(x) == 1)"


def test_function_definition_with_a_block_body():
    (stmt,) = parse("loss(x) = { a = x^2; b = 5*a; c = log(a); -b*c }")
    assert isinstance(stmt, S.FuncDef) and isinstance(stmt.body, S.Block)
    assert [s.target.id for s in stmt.body.body] == ["a", "b", "c"]
    assert shape(stmt.body.result) == "((-b) * c)"


def test_definition_parameters_must_be_names():
    error = syntax_error("f(x, 1) = x")
    assert "parameters must be names" in error.message
    assert at(error) == (1, 6)


def test_definition_parameters_must_differ():
    error = syntax_error("f(x, x) = 1")
    assert "'x'" in error.message and "twice" in error.message
    assert at(error) == (1, 6)


@pytest.mark.parametrize("source, column", [
    ("1 = 2", 1), ("f(x) + 1 = 2", 1), ("x[0] = 1", 1), ("f(x)(y) = 1", 1), ("y + (x = 1)", 8),
])
def test_only_names_and_calls_can_be_assigned(source, column):
    error = syntax_error(source)
    if source != "y + (x = 1)":
        assert "can only assign" in error.message
    assert at(error) == (1, column)


def test_a_chained_assignment_binds_names_only():
    error = syntax_error("x = 1 = 2")
    assert error.message == "a chained assignment binds names (a = b = …)"
    assert at(error) == (1, 5)


def test_destructuring():
    (stmt,) = parse("a, b = (1, 2)")
    assert dump(stmt) == ("Destructure", (("Name", "a"), ("Name", "b")),
                          ("TupleLit", (("Num", 1.0), ("Num", 2.0))))
    (stmt,) = parse("dW, dV = grad L wrt W, V")
    assert [t.id for t in stmt.targets] == ["dW", "dV"]
    assert stmt.value.kind == "grad" and [n.id for n in stmt.value.wrt] == ["W", "V"]
    (stmt,) = parse("a, b, c = t")
    assert [t.id for t in stmt.targets] == ["a", "b", "c"]


def test_destructuring_needs_distinct_names():
    error = syntax_error("a, 1 = t")
    assert "names" in error.message and at(error) == (1, 4)
    error = syntax_error("a, a = t")
    assert "'a'" in error.message and "twice" in error.message and at(error) == (1, 4)


def test_block():
    node = expr("{ a = 1; a + 1 }")
    assert isinstance(node, S.Block)
    assert dump(node) == ("Block", (("Assign", ("Name", "a"), ("Num", 1.0)),),
                          ("Binary", "+", ("Name", "a"), ("Num", 1.0)))


def test_block_with_only_a_result_and_with_expression_statements():
    assert dump(expr("{ 1 }")) == ("Block", (), ("Num", 1.0))
    node = expr("{ a; b }")
    assert dump(node) == ("Block", (("ExprStmt", ("Name", "a")),), ("Name", "b"))


def test_nested_blocks_and_block_as_operand():
    node = expr("1 + { a = { b = 2; b }; a * 2 }")
    assert shape(node.right.result) == "(a * 2)"
    assert dump(node.right.body[0].value) == ("Block", (("Assign", ("Name", "b"), ("Num", 2.0)),),
                                             ("Name", "b"))
    assert shape(expr("{ a = 1; [a, a] }[0]")).endswith("[0]")


@pytest.mark.parametrize("source, position", [
    ("{ a = 1 }", (1, 1)),
    ("{ a = 1; }", (1, 1)),
    ("{}", (1, 1)),
    ("x = 1\ny = { a = 1\n b = 2 }", (2, 5)),
])
def test_block_must_end_with_an_expression(source, position):
    error = syntax_error(source)
    assert "block must end with an expression" in error.message
    assert at(error) == position


# ----------------------------------------------------------------------------
# §2, §5 literals, calls, indexing


def test_vectors_matrices_tuples():
    assert dump(expr("[1, 2, 3]")) == ("Vector", (("Num", 1.0), ("Num", 2.0), ("Num", 3.0)))
    assert dump(expr("[]")) == ("Vector", ())
    assert dump(expr("[1, 2,]")) == ("Vector", (("Num", 1.0), ("Num", 2.0)))
    assert dump(expr("[[1, 2], [3, 4]]")) == (
        "Vector", (("Vector", (("Num", 1.0), ("Num", 2.0))),
                   ("Vector", (("Num", 3.0), ("Num", 4.0)))))
    assert dump(expr("(1, x)")) == ("TupleLit", (("Num", 1.0), ("Name", "x")))
    assert dump(expr("(1, 2,)")) == ("TupleLit", (("Num", 1.0), ("Num", 2.0)))
    assert shape(expr("(1 + 2, [a, b], (c, d))")) == "tuple((1 + 2), [a, b], tuple(c, d))"


def test_parentheses_around_one_expression_are_a_group():
    assert dump(expr("(x)")) == ("Name", "x")


def test_call_without_arguments():
    assert dump(expr("f()")) == ("Call", ("Name", "f"), (), ())


@pytest.mark.parametrize("source, tree", [
    ("v[i]", "v[i]"),
    ("A[i, j]", "A[i, j]"),
    ("A[:, 0]", "A[::, 0]"),
    ("A[1:3]", "A[1:3:]"),
    ("A[1:]", "A[1::]"),
    ("A[:2]", "A[:2:]"),
    ("A[::2]", "A[::2]"),
    ("A[1:5:2]", "A[1:5:2]"),
    ("A[i + 1, :n - 1]", "A[(i + 1), :(n - 1):]"),
    ("A[-1]", "A[(-1)]"),
])
def test_index_and_slice(source, tree):
    assert shape(expr(source)) == tree


def test_slice_nodes():
    node = expr("A[:, 0]")
    assert isinstance(node, S.Index)
    assert dump(node.items[0]) == ("Slice", None, None, None)
    assert dump(expr("A[1:3]").items[0]) == ("Slice", ("Num", 1.0), ("Num", 3.0), None)


def test_keyword_arguments():
    node = expr("sum(A, axis = 1)")
    assert dump(node) == ("Call", ("Name", "sum"), (("Name", "A"),),
                          (("Keyword", "axis", ("Num", 1.0)),))
    node = expr("f(1, x = 2, y = a + b)")
    assert [k.name for k in node.keywords] == ["x", "y"]
    assert shape(node) == "f(1, x=2, y=(a + b))"


def test_positional_after_keyword_is_an_error():
    error = syntax_error("f(a = 1, 2)")
    assert "positional" in error.message and at(error) == (1, 10)


def test_keyword_given_twice_is_an_error():
    error = syntax_error("f(x = 1, x = 2)")
    assert "'x'" in error.message and "twice" in error.message and at(error) == (1, 10)


# ----------------------------------------------------------------------------
# §4 directives as syntax


def directive(source: str) -> S.Directive:
    node = expr(source)
    assert isinstance(node, S.Directive), node
    return node


def named_point(node: S.Directive) -> dict:
    assert node.point is not None and node.point.positional is None
    return {k.name: shape(k.value) for k in node.point.named}


@pytest.mark.parametrize("source, order, var, body", [
    ("d/dx x^2", 1, "x", "(x ^ 2)"),
    ("d2/dx2 sin(x)", 2, "x", "sin(x)"),
    ("d3/dx3 x^4", 3, "x", "(x ^ 4)"),
    ("d40/dx40 sin(x)", 40, "x", "sin(x)"),
    ("d2/dx1^2 x1^3", 2, "x1", "(x1 ^ 3)"),
    ("d/dx2 x2^2", 1, "x2", "(x2 ^ 2)"),
    ("d/dσ σ^2", 1, "σ", "(σ ^ 2)"),
    ("d/da5 y2", 1, "a5", "y2"),
    ("d/dx(x)", 1, "x", "x"),
])
def test_derivative_heads(source, order, var, body):
    node = directive(source)
    assert (node.kind, node.order, node.var, shape(node.expr)) == ("d", order, var, body)


def test_derivative_takes_a_whole_expression():
    node = directive("d/dx x^2 + 1 at x = 3")
    assert shape(node.expr) == "((x ^ 2) + 1)"
    assert named_point(node) == {"x": "3"}
    assert shape(directive("d/dx if a then x else -x").expr) == "(if a then x else (-x))"


@pytest.mark.parametrize("source, words", [
    ("d2/dx x", ["d2/dx2"]),
    ("d2/dx3 x", ["d2/dx3^2"]),
    ("d2/dx1^3 x", ["differ", "d3/dx1^3"]),
])
def test_derivative_orders_must_agree(source, words):
    error = syntax_error(source)
    assert all(w in error.message for w in words), error.message
    assert at(error) == (1, 1)


@pytest.mark.parametrize("source", ["d0/dx x^2", "d0/dx0 x^2", "y = (d0/dx x) at x = 1",
                                    "f(t) = d0/dt t^2"])
def test_a_derivative_of_order_0_is_an_error_everywhere(source):
    error = syntax_error(source)
    assert error.message.startswith("the order of a derivative is 1 or more: 'd0/d")
    assert error.message.endswith("' has order 0")


def test_point_by_name():
    node = directive("d/dx x*y at x = 3, y = 0")
    assert named_point(node) == {"x": "3", "y": "0"}


def test_point_by_position():
    node = directive("grad f at (3, 0)")
    assert node.point.named == [] and shape(node.point.positional) == "tuple(3, 0)"
    node = directive("d/dx f at 3")
    assert node.point.named == [] and shape(node.point.positional) == "3"


def test_point_names_are_distinct():
    error = syntax_error("d/dx x at x = 1, x = 2")
    assert "twice" in error.message and at(error) == (1, 18)


@pytest.mark.parametrize("source, name, keywords", [
    ("d/dx sin(x) at x = 1 using forward", "forward", {}),
    ("d/dx sin(x) at x = 1 using reverse", "reverse", {}),
    ("d/dx sin(x) using symbolic", "symbolic", {}),
    ("d/dx sin(x) at x = 1 using numeric", "numeric", {}),
    ("d/dx sin(x) at x = 1 using numeric(step = 1e-6)", "numeric", {"step": "1e-06"}),
    ('d/dx sin(x) at x = 1 using numeric(method = "richardson")', "numeric",
     {"method": "'richardson'"}),
])
def test_mode(source, name, keywords):
    node = directive(source)
    assert node.mode.name == name
    assert {k.name: shape(k.value) for k in node.mode.keywords} == keywords


def test_point_and_mode_together():
    node = directive("d/dx x^2 at x = 3, y = 0 using numeric(step = 1e-6)")
    assert named_point(node) == {"x": "3", "y": "0"}
    assert node.mode.name == "numeric"
    assert node.mode.keywords[0].value.value == 1e-6


@pytest.mark.parametrize("kind", ["grad", "backprop", "hessian", "jacobian", "check"])
def test_wrt_directives(kind):
    node = directive(f"{kind} f(x, y) wrt x, y at x = 1, y = 2 using reverse")
    assert node.kind == kind
    assert shape(node.expr) == "f(x, y)"
    assert [n.id for n in node.wrt] == ["x", "y"]
    assert named_point(node) == {"x": "1", "y": "2"}
    assert node.mode.name == "reverse"


def test_grad_of_a_function():
    node = directive("grad f")
    assert (node.kind, shape(node.expr), node.wrt, node.point) == ("grad", "f", None, None)


def test_backprop_as_in_the_spec():
    node = directive("backprop y2 wrt w1, x, w0")
    assert [n.id for n in node.wrt] == ["w1", "x", "w0"]


def test_wrt_names_are_distinct():
    error = syntax_error("grad f wrt x, x")
    assert "twice" in error.message and at(error) == (1, 15)


def test_explain():
    node = directive("explain d/dx sin(x) at x = 0")
    assert node.kind == "explain" and node.expr is None
    assert node.inner.kind == "d" and node.inner.var == "x"
    assert named_point(node.inner) == {"x": "0"}
    node = directive('explain grad f at (1, 2) using numeric(method = "central")')
    assert node.inner.kind == "grad" and node.inner.mode.name == "numeric"


def test_explain_needs_a_directive():
    error = syntax_error("explain x")
    assert "unexpected 'x'" in error.message and "grad" in error.message
    assert at(error) == (1, 9)


def test_graph():
    node = directive("graph E")
    assert (node.kind, shape(node.expr), node.file) == ("graph", "E", None)
    node = directive('graph f(x, 2) to "f.dot"')
    assert shape(node.expr) == "f(x, 2)" and node.file.value == "f.dot"


def test_minimize():
    node = directive("minimize L(W, V) wrt W, V using gd(rate = 0.1, steps = 10)")
    assert node.kind == "minimize"
    assert shape(node.expr) == "L(W, V)"
    assert [n.id for n in node.wrt] == ["W", "V"]
    assert node.mode.name == "gd"
    assert {k.name: k.value.value for k in node.mode.keywords} == {"rate": 0.1, "steps": 10}


def test_minimize_needs_a_method():
    error = syntax_error("minimize L wrt W")
    assert "'using'" in error.message and at(error) == (1, 17)


def test_directive_as_right_hand_side():
    (stmt,) = parse("df = d/dx f")
    assert isinstance(stmt, S.Assign) and stmt.value.kind == "d"
    (stmt,) = parse("x = d/dx x^2 at x = 3")
    assert stmt.value.kind == "d" and named_point(stmt.value) == {"x": "3"}


def test_parenthesised_directive_is_an_atom():
    node = expr("1 + (d/dx x^2 at x = 3)")
    assert shape(node) == "(1 + <d (x ^ 2)>)"
    node = expr("(grad f at (1, 2))[0]")
    assert isinstance(node, S.Index) and node.target.kind == "grad"


def test_unparenthesised_directive_inside_an_expression_is_an_error():
    with pytest.raises(DiffiSyntaxError):
        parse("1 + d/dx x")


def test_division_by_a_name_starting_with_d_is_division():
    # Only where a directive may start is `d/dx` a derivative.
    assert shape(expr("y + d/dx")) == "(y + (d / dx))"
    assert shape(expr("dx/dy")) == "(dx / dy)"
    assert shape(expr("d / dx")) == "(d / dx)"


# ----------------------------------------------------------------------------
# Reserved words (§1)


def test_reserved_words_are_the_spec_list():
    assert RESERVED == frozenset(DOCUMENTED_RESERVED)


@pytest.mark.parametrize("template", [
    "{w} = 1",
    "1 + {w}",
    "f({w}) = 1",
    "{w}, b = t",
    "f(x) = {w} * 2",
])
def test_reserved_words_cannot_name_a_variable(template):
    wrong = {}
    for word in DOCUMENTED_RESERVED:
        source = template.format(w=word)
        try:
            parse(source)
        except DiffiSyntaxError as error:
            if "reserved" not in error.message:
                wrong[source] = error.message
        else:
            wrong[source] = "parsed"
    assert wrong == {}


def test_reserved_word_error_position():
    error = syntax_error("x = 1\ny = 2 + then")
    assert "'then'" in error.message and "reserved" in error.message
    assert at(error) == (2, 9)
    error = syntax_error("grad = 1")
    assert "'grad'" in error.message and at(error) == (1, 1)


# ----------------------------------------------------------------------------
# Syntax errors: messages and positions


@pytest.mark.parametrize("source, write, position", [
    ("2x", "2*x", (1, 2)),
    ("  2x", "2*x", (1, 4)),
    ("2.5x", "2.5*x", (1, 4)),
    ("2σ", "2*σ", (1, 2)),
    ("1e3x", "1e3*x", (1, 4)),
    ("x = 1\ny = 3 + 2x", "2*x", (2, 10)),
    ("f(x) = {\n a = x\n b = 2x\n a }", "2*x", (3, 7)),
    ("x = 1\t+ 2x", "2*x", (1, 10)),
])
def test_implicit_multiplication_is_an_error(source, write, position):
    error = syntax_error(source)
    assert write in error.message
    assert at(error) == position


@pytest.mark.parametrize("source, opener, closer, position", [
    ("(1 +", "(", ")", (1, 1)),
    ("[1, 2", "[", "]", (1, 1)),
    ("{ a = 1", "{", "}", (1, 1)),
    ("{ a = 1\n", "{", "}", (1, 1)),
    ("f(1,\n2", "(", ")", (1, 2)),
    ("x = 1\ny = (3 +\n 4", "(", ")", (2, 5)),
    ("x = [1,\n 2,\n", "[", "]", (1, 5)),
    ("d/dx (x", "(", ")", (1, 6)),
    ("[(1, 2), (3", "(", ")", (1, 10)),
])
def test_unclosed_brackets(source, opener, closer, position):
    error = syntax_error(source)
    assert f"'{opener}'" in error.message and "never closed" in error.message
    assert f"'{closer}'" in error.message
    assert at(error) == position
    assert error.incomplete
    assert is_incomplete(source)


@pytest.mark.parametrize("source", [
    "", "x = 1", "x +", "x +\n", "x = )", "2x", "(1 + 2]", "(1 + 2)", "{ a = 1 }", "if a then b",
])
def test_complete_or_wrong_input_is_not_incomplete(source):
    assert not is_incomplete(source)


@pytest.mark.parametrize("source, words, position", [
    ("x = )", ["unexpected ')'", "an expression"], (1, 5)),
    ("x +", ["end of input", "an expression"], (1, 4)),
    ("x +\ny", ["end of line", "an expression"], (1, 4)),
    ("(1 + 2]", ["unexpected ']'", "')'"], (1, 7)),
    ("(1 + 2\n3)", ["unexpected '3'"], (2, 1)),
    ("x = (1 = 2)", ["unexpected '='"], (1, 8)),
    ("x $ 1", ["'$'"], (1, 3)),
    ("if a b else c", ["unexpected 'b'", "'then'"], (1, 6)),
    ("f(x y)", ["unexpected 'y'", "','", "')'"], (1, 5)),
    ("[1 2]", ["unexpected '2'", "','", "']'"], (1, 4)),
])
def test_unexpected_tokens_name_what_was_expected(source, words, position):
    error = syntax_error(source)
    missing = [w for w in words if w not in error.message]
    assert missing == [], error.message
    assert at(error) == position


def test_errors_are_syntax_errors_with_spans():
    error = syntax_error("x = 1\n  y = )")
    assert isinstance(error.span, Span)
    assert (error.span.line, error.span.column) == (2, 7)


ODD_INPUTS = ["f()", "f() = 1", "()", "A[]", "(1,)", ",", "=", "==", "d/dx", "(d/dx)",
              "explain", "graph", "grad", "at", "x at", "a, b", "a, b =", "f(x,) = 1",
              "[1,,2]", "{;}", "{ ; 1 }", "1..2", "\"", "\"abc", "x = \"s\"", "d2/dx", "d0/dx0 x",
              "d/dx x wrt y", "minimize", "using", "f(x = 1) = 2", "\t", "\r\n", "x\\y",
              "ф = 1", "١ = 1"]


@pytest.mark.parametrize("source", ODD_INPUTS)
def test_parse_raises_only_syntax_errors(source):
    try:
        parse(source)
    except DiffiSyntaxError as error:
        assert error.line >= 1 and error.column >= 1


TOKENS = ["x", "f", "1", "2.5", "(", ")", "[", "]", "{", "}", ",", "=", "+", "-", "*", "^",
          "/", "@", "<", "==", ";", "\n", ":", "if", "then", "else", "not", "and", "or",
          "d/dx", "grad", "wrt", "at", "using", "explain", "graph", "to", '"f"', "#c\n",
          "2x", "minimize", "hessian"]


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOKENS), max_size=12), st.sampled_from([" ", ""]))
def test_parse_of_token_soup_raises_only_syntax_errors(tokens, gap):
    source = gap.join(tokens)
    try:
        parse(source)
    except DiffiSyntaxError as error:
        assert error.line >= 1 and error.column >= 1


# ----------------------------------------------------------------------------
# parse_prefix, spans, start_of


def test_parse_prefix_keeps_the_statements_before_the_error():
    statements, error = parse_prefix("x = 1\ny = 2\nz = 2x")
    assert [s.target.id for s in statements] == ["x", "y"]
    assert "2*x" in error.message and at(error) == (3, 6)
    statements, error = parse_prefix("x = 1; y = 2x")
    assert [s.target.id for s in statements] == ["x"]
    assert at(error) == (1, 13)


def test_parse_prefix_of_good_and_immediately_bad_input():
    statements, error = parse_prefix("x = 1\ny")
    assert error is None and len(statements) == 2
    statements, error = parse_prefix("x = )\ny = 1")
    assert statements == [] and at(error) == (1, 5)


def test_operators_keep_their_token_span():
    node = expr("ab + c*d")
    assert node.span == Span(1, 4, 1, 5)
    assert node.right.span == Span(1, 7, 1, 8)
    assert start_of(node) == Span(1, 1, 1, 3)


def test_statement_spans():
    assert parse("  x = 3")[0].span == Span(1, 3, 1, 4)
    assert parse("y\n f(x, y) = x")[1].span == Span(2, 2, 2, 3)
    assert parse("foo(1)[2] + 1")[0].span == Span(1, 1, 1, 4)
    assert parse("x = 1\n  d/dx x")[1].span == Span(2, 3, 2, 7)


# ----------------------------------------------------------------------------
# The fast lexer and parser loop against Lark's own pipeline


def with_spans(node):
    """The tree as nested tuples with every span: two parses agree on positions too."""
    if isinstance(node, (list, tuple)):
        return tuple(with_spans(n) for n in node)
    if not isinstance(node, S.Syntax):
        return node
    return (type(node).__name__,) + tuple(with_spans(getattr(node, f.name))
                                          for f in fields(node))


def stock_parse(source):
    """The tree or the error (message, line, column) through Lark's own lexer and loop."""
    from diffi.language import parser as P
    try:
        return with_spans(P._lark().parse(source))
    except (UnexpectedInput, DiffiSyntaxError) as error:
        if isinstance(error, UnexpectedInput):
            error = P.translate(error, source, P._postlex.state)
        elif isinstance(error, P.ReservedWord):
            error = P.reserved_word(error, source)
        return (str(error), error.line, error.column)


def fast_parse(source):
    try:
        return with_spans(parse(source))
    except DiffiSyntaxError as error:
        return (str(error), error.line, error.column)


TRICKY = [
    "x = 1 # comment\n\n  # another\ny = x +\n 2",
    "f(x) = {\n  a = x^2  # local\n  a + 1\n}\nf(\n  3\n)",
    's = "a\\nb"; print(s)\n"tab\\there"',
    "d2/dx2 sin(x) at x = 1\ngrad x*y wrt x, y at x = 1, y = 2 using numeric(step = 1e-5)",
    "α₁ = 2; β = α₁ ^ -1 ** 2",
    "A = [[1, 2],\n     [3, 4]]\nA[:, 0] @ A[1:3]",
    "if x < 1 and not y then 1 else 2",
    "x = 1\ny = 2x\n",
    "x = (1 +\n",
    "x = 1 $ 2",
    "\n\n   \n  x = ]",
    "then = 3",
    "",
    "# only a comment",
    # the board's notation (docs/notation.md)
    "∂²/∂x∂y x^2*y at x = 1, y = 2\nd/dx d/dx x^3\nd^2/dx^2 x; d²/dx² x",
    "y1 = a6 = sin(x)\nw1·x − x² × 2 ⊙ 3 ÷ a₅ ≤ x̄",
    "f(x, y) = x*y\ndf/dx at (3, 0)\n∂f/∂y + d²f/dx²",
    "x = 1\nsin x",
    "W'",
    "w = w - 0.5 * grad L(w) wrt w",
    "for i in [1, 2]",
]


@pytest.mark.parametrize("source", TRICKY + [p.read_text(encoding="utf-8")
                                             for p in sorted(EXAMPLES.glob("*.dfi"))])
def test_fast_parse_matches_lark_tree_spans_and_errors(source):
    assert fast_parse(source) == stock_parse(source)


def test_a_long_chain_of_indexes_or_calls_parses_in_linear_time():
    # each link once asked for the chain's start by walking it: 40,000 links took
    # minutes; now well under the timeout, and the error is at the chain's start
    it = diffi.Interpreter(timeout=5)
    with pytest.raises(diffi.DiffiTypeError) as caught:
        it.eval("x = [1, 2]; x" + "[0]" * 40_000)
    assert caught.value.message == "a number cannot be indexed"
    assert (caught.value.line, caught.value.column) == (1, 13)
    (_, stmt) = parse("f(x) = x\nf" + "(1)" * 40_000)
    assert (stmt.span.line, stmt.span.column) == (2, 1)


def test_the_fast_loop_runs_only_on_the_lark_versions_pyproject_pins():
    import tomllib
    from diffi.language import fastparse
    pyproject = tomllib.loads((EXAMPLES.parent / "pyproject.toml").read_text())
    (pin,) = [d for d in pyproject["project"]["dependencies"] if d.startswith("lark")]
    low, high = fastparse.TESTED_RANGE
    assert pin == f"lark>={'.'.join(map(str, low))},<{'.'.join(map(str, high))}"
    assert fastparse._version("1.4.0rc1") == (1, 4, 0)


def test_an_untested_lark_parses_through_its_own_loop_to_the_same_tree(monkeypatch):
    from diffi.language import fastparse
    source = "f(x) = x^2 + sin(x)\nd/dx f(x) at x = [1, 2][0]"
    fast = with_spans(parse(source))
    monkeypatch.setattr(fastparse, "TESTED", False)
    monkeypatch.setattr(fastparse, "FastState", None)  # (would fail if it were used)
    assert with_spans(parse(source)) == fast
