"""Source text → syntax tree: the Lark LALR parser, built once and cached.

The tree is built by an embedded transformer while parsing, so no recursion
over the parse tree happens and deeply nested input parses in linear time.
"""
from __future__ import annotations

import re
import threading
from pathlib import Path

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput

from ..errors import DiffiError, DiffiSyntaxError, Span, source_lines
from . import hints
from . import syntax as S
from . import vocabulary as V
from .fastparse import fast_parse

OPENERS = {"LPAR": "(", "LSQB": "[", "LBRACE": "{"}
CLOSERS = {"RPAR": "LPAR", "RSQB": "LSQB", "RBRACE": "LBRACE"}


def grammar_path() -> Path:
    """The grammar shipped in the package, or the repository's own in a checkout."""
    package = Path(__file__).resolve().parent.parent  # diffi/ (this is diffi/language/)
    shipped = package / "grammar" / "diffi.lark"
    return shipped if shipped.exists() else package.parent / "grammar" / "diffi.lark"


def span_of(token: Token) -> Span:
    """The span of a Lark token."""
    return Span(token.line, token.column, token.end_line, token.end_column)


class ReservedWord(DiffiSyntaxError):
    """A reserved word where a name stands; `parse` words the message with the source."""

    def __init__(self, token: Token, word: str):
        super().__init__(f"'{word}' is a reserved word and cannot name a variable",
                         span_of(token))
        self.token = token


class ParseState:
    """What the post-lexer saw in one parse: open brackets, last tokens, statement ends."""

    def __init__(self):
        self.open: list[Token] = []
        self.previous: Token | None = None
        self.current: Token | None = None
        self.boundary = 0  # offset just past the last top-level separator accepted


class Brackets:
    """Post-lexer: drops newlines inside () and [], keeps them inside {} and at top level."""

    always_accept = ("_NL",)

    def __init__(self):
        self._local = threading.local()

    @property
    def state(self) -> ParseState:
        return self._local.state

    def process(self, stream):
        state = self._local.state = ParseState()
        for token in stream:
            kind = token.type
            if kind in OPENERS:
                state.open.append(token)
            elif kind in CLOSERS and state.open and state.open[-1].type == CLOSERS[kind]:
                state.open.pop()
            elif kind == "_NL" and state.open and state.open[-1].type != "LBRACE":
                continue
            state.previous, state.current = state.current, token
            yield token
            if not state.open and kind in ("_NL", "SEMI"):
                state.boundary = token.end_pos


@v_args(inline=True)
class AstBuilder(Transformer):
    """Embedded Lark transformer: one method per rule alias in grammar/diffi.lark."""

    def start(self, *items):
        return _statements(items)

    # Terminals become syntax nodes as they are shifted (no unit rule to reduce).
    def NAME(self, token):
        name = token.value
        if not name.isascii():  # x̄, a₅: one spelling per name
            name = V.normal_name(name)
        if name in S.RESERVED:
            raise ReservedWord(token, name)
        return S.Name(name, span_of(token))

    def NUMBER(self, token):
        return S.Num(float(token.value), span_of(token))

    def STRING(self, token):
        return S.Str(_unescape(token.value[1:-1]), span_of(token))

    def name(self, name):
        return name

    def binary(self, left, op, right):
        symbol = V.SYNONYMS.get(op.value, op.value)
        return S.Binary(symbol, left, right, span_of(op))

    def superscript(self, base, token):
        span = span_of(token)
        return S.Binary("^", base, S.Num(V.superscript_value(token.value), span), span)

    def logic(self, left, op, right):
        return S.Logic(op.value, left, right, span_of(op))

    def unary(self, op, operand):
        return S.Unary(V.SYNONYMS.get(op.value, op.value), operand, span_of(op))

    def ifelse(self, token, cond, then, other):
        return S.IfElse(cond, then, other, span_of(token))

    def call(self, func, args):
        positional, keywords = _split_args(args or [])
        if type(func) is S.Binary and func.op == "^" and type(func.left) is S.Name:
            raise DiffiSyntaxError(hints.power_of_call(func, positional, keywords),
                                   func.span)
        return S.Call(func, positional, keywords, start_of(func))

    def index(self, target, *items):
        return S.Index(target, list(items), start_of(target))

    def slice(self, start, colon, stop, colon2=None, step=None):
        return S.Slice(start, stop, step, span_of(colon))

    def keyword(self, name, value):
        return S.Keyword(name.id, value, name.span)

    def args(self, *items):
        return list(items)

    def group(self, paren, inner):
        return inner

    def tuple(self, paren, *items):
        return S.TupleLit(list(items), span_of(paren))

    def single(self, paren, item):
        return S.TupleLit([item], span_of(paren))

    def vector(self, bracket, *items):
        return S.Vector([i for i in items if i is not None], span_of(bracket))

    def block(self, brace, *items):
        body = _statements(items)
        if not body or not isinstance(body[-1], S.ExprStmt):
            raise DiffiSyntaxError("a block must end with an expression (its value)",
                                   span_of(brace))
        return S.Block(body[:-1], body[-1].expr, span_of(brace))

    # Statements ------------------------------------------------------------

    def assign(self, target, value):
        if isinstance(target, S.Name):
            return S.Assign(target, value, target.span)
        if isinstance(target, S.Call) and isinstance(target.func, S.Name):
            return S.FuncDef(target.func, _parameters(target), value, target.func.span)
        raise DiffiSyntaxError(
            "can only assign to a name (x = …) or define a function (f(x) = …)",
            start_of(target))

    def chain(self, *items):
        """`y1 = a6 = E` is `a6 = E; y1 = a6`: the name next to the formula labels it."""
        *targets, value = items
        for target in targets:
            if not isinstance(target, S.Name):
                raise DiffiSyntaxError("a chained assignment binds names (a = b = …)",
                                       start_of(target))
        _check_unique(targets, "name")
        first = targets[-1]
        return [S.Assign(first, value, first.span)] + [
            S.Assign(t, S.Name(first.id, first.span), t.span) for t in reversed(targets[:-1])]

    def destructure(self, *items):
        *targets, value = items
        for target in targets:
            if not isinstance(target, S.Name):
                raise DiffiSyntaxError("can only destructure into names (a, b = …)",
                                       start_of(target))
        _check_unique(targets, "name")
        return S.Destructure(list(targets), value, targets[0].span)

    # Directives -------------------------------------------------------------

    def derivative(self, token, expr, *rest):
        return _derivatives(token, read_derivative(token), expr, rest)

    def leibniz(self, token, *rest):
        """`∂f/∂x`, `d²y/dx²`, `df/dx at …`: the derivative of the name f."""
        function, variables = read_leibniz(token)
        return _derivatives(token, variables, S.Name(function, span_of(token)), rest)

    def grad(self, token, expr, *rest):
        return _directive("grad", token, expr, rest)

    def backprop(self, token, expr, *rest):
        return _directive("backprop", token, expr, rest)

    def hessian(self, token, expr, *rest):
        return _directive("hessian", token, expr, rest)

    def jacobian(self, token, expr, *rest):
        return _directive("jacobian", token, expr, rest)

    def check(self, token, expr, *rest):
        return _directive("check", token, expr, rest)

    def minimize(self, token, expr, *rest):
        return _directive("minimize", token, expr, rest)

    def explain(self, token, inner):
        return S.Directive("explain", None, inner=inner, span=span_of(token))

    def graph(self, token, expr, file=None):
        return S.Directive("graph", expr, file=file, span=span_of(token))

    def latex(self, token, expr):
        return S.Directive("latex", expr, span=span_of(token))

    def taylor(self, token, expr, point, _order, order):
        return S.Directive("taylor", expr, point=point, extent=[order], span=span_of(token))

    def tangent(self, token, expr, point):
        return S.Directive("tangent", expr, point=point, span=span_of(token))

    def plot(self, token, *items):
        """plot E1, E2, … [from a to b] [to "file"]: the curves, their span, the file."""
        extent = next((i for i in items if isinstance(i, list)), None)
        file = next((i for i in items if isinstance(i, S.Str)), None)
        curves = [i for i in items if not isinstance(i, (list, S.Str))]
        return S.Directive("plot", S.TupleLit(curves, span_of(token)), extent=extent,
                           file=file, span=span_of(token))

    def span(self, _from, start, stop):
        return [start, stop]

    def primed(self, token, args=None):
        """f'(x), f''(x): the derivative of order (the count of primes) of the function f."""
        name = token.value.rstrip(V.PRIMES)
        positional, keywords = _split_args(args or [])
        return S.Directive("prime", S.Name(V.normal_name(name), span_of(token)),
                           order=len(token.value) - len(name),
                           point=S.Point([], S.TupleLit(positional, span_of(token))),
                           span=span_of(token))

    def wrt(self, *names):
        _check_unique(names, "variable")
        return list(names)

    def point_named(self, *bindings):
        _check_unique([S.Name(b.name, b.span) for b in bindings], "variable")
        return S.Point(list(bindings), None, bindings[0].span)

    def point_positional(self, expr):
        return S.Point([], expr, start_of(expr))

    def binding(self, name, value):
        return S.Keyword(name.id, value, name.span)

    def mode(self, name, args=None):
        positional, keywords = _split_args(args or [])
        return S.Mode(name.id, positional, keywords, name.span)


ESCAPE = re.compile(r"\\(.)")
ESCAPED = {"n": "\n", "t": "\t"}


def _unescape(text: str) -> str:
    """A string literal's text: \\n and \\t are a new line and a tab, \\x is x."""
    if "\\" not in text:
        return text
    return ESCAPE.sub(lambda match: ESCAPED.get(match.group(1), match.group(1)), text)


def _statements(items) -> list:
    """Statements from a sequence of statement nodes and ';' tokens."""
    out = []
    for i, item in enumerate(items):
        if isinstance(item, Token):
            continue
        if isinstance(item, list):  # a chained assignment: a = b = E
            out.extend(item)
            continue
        silent = i + 1 < len(items) and isinstance(items[i + 1], Token) \
            and items[i + 1].type == "SEMI"
        if not isinstance(item, S.STATEMENTS):
            item = S.ExprStmt(item, silent, start_of(item))
        out.append(item)
    return out


def _split_args(args):
    positional = [a for a in args if not isinstance(a, S.Keyword)]
    keywords = [a for a in args if isinstance(a, S.Keyword)]
    seen_keyword = False
    for a in args:
        if isinstance(a, S.Keyword):
            seen_keyword = True
        elif seen_keyword:
            raise DiffiSyntaxError("a positional argument cannot follow a keyword argument",
                                   start_of(a))
    _check_unique([S.Name(k.name, k.span) for k in keywords], "keyword argument")
    return positional, keywords


def _parameters(call: S.Call) -> list:
    for arg in call.args + call.keywords:
        if not isinstance(arg, S.Name):
            raise DiffiSyntaxError(
                "a function's parameters must be names: f(x, y) = …", start_of(arg))
    _check_unique(call.args, "parameter")
    return list(call.args)


def _check_unique(names, what: str) -> None:
    seen = set()
    for n in names:
        if n.id in seen:
            raise DiffiSyntaxError(f"{what} '{n.id}' appears twice", n.span)
        seen.add(n.id)


def _derivatives(token, variables, expr, rest):
    """d/dx over d/dy over … expr, for [(x, order), (y, order), …]; the point on the outermost."""
    for var, order in reversed(variables[1:]):
        expr = S.Directive("d", expr, var=var, order=order, span=span_of(token))
    var, order = variables[0]
    return _directive("d", token, expr, rest, var=var, order=order)


def _directive(kind, token, expr, rest, **extra):
    parts = {"wrt": None, "point": None, "mode": None}
    for item in rest:
        if isinstance(item, list):
            parts["wrt"] = item
        elif isinstance(item, S.Point):
            parts["point"] = item
        elif isinstance(item, S.Mode):
            parts["mode"] = item
    return S.Directive(kind, expr, span=span_of(token), **parts, **extra)


def read_derivative(token: Token) -> list[tuple[str, int]]:
    """The variables of a derivative token with their orders, outermost first.

    `d2/dx2` → [('x', 2)]; `∂²/∂x∂y` → [('x', 1), ('y', 1)] (∂/∂x of ∂/∂y).
    """
    top, _, _, parts = V.read_derivative(token.value)
    order = V.order_value(top)
    if order == 0:  # (not "the expression itself": one meaning, everywhere)
        raise DiffiSyntaxError(f"the order of a derivative is 1 or more: '{token.value}' "
                               f"has order 0", span_of(token))
    if len(parts) == 1:
        var, power = parts[0]
        return [(_variable(token, var, power, order), order)]
    variables = [(V.normal_name(var), V.order_value(power)) for var, power in parts]
    if sum(n for _, n in variables) != order:
        raise DiffiSyntaxError(
            f"the orders in '{token.value}' differ: the variables' powers add up to "
            f"{sum(n for _, n in variables)}, not {order}", span_of(token))
    for var, _ in variables:
        _not_reserved(token, var)
    return [(var, 1) for var, n in variables for _ in range(n)]


def read_leibniz(token: Token) -> tuple[str, list[tuple[str, int]]]:
    """The function and variables of `∂f/∂x`, `d²f/dx²` or `df/dx`."""
    function = V.normal_name(V.read_derivative(token.value)[1])
    _not_reserved(token, function)
    return function, read_derivative(token)


def leibniz_spelling(text: str) -> str | None:
    """The diffi spelling of a Leibniz quotient: `dy/dx` → `d/dx y`; None if it is none."""
    found = V.LEIBNIZ_RE.match(text + " at")
    if found is None or found.end() != len(text):
        return None
    token = Token("LEIBNIZ", text, 0, 1, 1, 1, 1 + len(text), len(text))
    try:
        function, variables = read_leibniz(token)
    except DiffiSyntaxError:
        return None
    expr = _derivatives(token, variables, S.Name(function), [])
    return S.unparse(expr)


def _variable(token: Token, var: str, power: str, order: int) -> str:
    """The variable of `d2/dx2`, `d2/dx1^2`, `d^2/dx^2`; the orders must agree."""
    text, var = token.value, V.normal_name(var)
    if power:
        if V.order_value(power) != order:
            written = V.order_value(power)
            raise DiffiSyntaxError(
                f"the orders in '{text}' differ: write d{written}/d{var}^{written}",
                span_of(token))
    elif order > 1:
        suffix = str(order)
        if not (var.endswith(suffix) and len(var) > len(suffix)):
            raise DiffiSyntaxError(
                f"write the order on both sides: d{order}/d{var}{order} "
                f"(or d{order}/d{var}^{order} for a name ending in a digit)",
                span_of(token))
        var = var[: -len(suffix)]
    _not_reserved(token, var)
    return var


def _not_reserved(token: Token, var: str) -> None:
    if var in S.RESERVED:
        raise DiffiSyntaxError(f"'{var}' is a reserved word", span_of(token))


def start_of(node) -> Span | None:
    """The span where a syntax node starts (its leftmost token), found without recursion.
    A parsed call or index already has its start as its span: stopping there keeps a
    chain like x[0][0]…[0] linear to parse (each link would otherwise walk the chain)."""
    while True:
        kind = type(node)
        if kind in (S.Binary, S.Logic):
            node = node.left
        elif kind in (S.Call, S.Index) and node.span is not None:
            return node.span
        elif kind is S.Call:
            node = node.func
        elif kind is S.Index:
            node = node.target
        else:
            return node.span


# ----------------------------------------------------------------------------
# The parser object and error translation.

_lock = threading.Lock()
_parser: list[Lark] = []  # the one parser, built on first use
_postlex = Brackets()


def grammar_text() -> str:
    """The grammar: grammar/diffi.lark and the terminals vocabulary.py defines."""
    return grammar_path().read_text(encoding="utf-8") + "\n" + V.grammar_terminals()


def _lark() -> Lark:
    """The parser (fastparse.FastState's caches are keyed by its tables' states, so there is one)."""
    with _lock:
        if not _parser:
            _parser.append(Lark(
                grammar_text(), parser="lalr",
                lexer="contextual", postlex=_postlex, transformer=AstBuilder(),
                maybe_placeholders=True, cache=True))
        return _parser[0]


def parse(source: str) -> list:
    """Parse a program into a list of statements; raise DiffiSyntaxError."""
    try:
        return fast_parse(_lark(), source)
    except UnexpectedInput as error:
        raise translate(error, source, _postlex.state) from None
    except ReservedWord as error:
        raise reserved_word(error, source) from None


def reserved_word(error: ReservedWord, source: str) -> DiffiSyntaxError:
    """A directive where an operand stands asks for parentheses; any other reserved word
    cannot name a variable."""
    token = error.token
    after = source[token.end_pos:].lstrip(" \t")
    if token.value in V.DIRECTIVES and after and not after.startswith(_ENDS_AN_OPERAND):
        return DiffiSyntaxError(hints.parenthesise(source, token.start_pos), error.span)
    return error


def parse_prefix(source: str) -> tuple[list, DiffiSyntaxError | None]:
    """Parse as many whole statements as come before a syntax error.

    Returns the statements and the error (or None). A script runs the statements
    before its first error, so that their output and effects come first.
    """
    try:
        return parse(source), None
    except DiffiSyntaxError as error:
        boundary = _postlex.state.boundary if hasattr(_postlex._local, "state") else 0
        prefix = source[:boundary]
        if not prefix.strip():
            return [], error
        try:
            return parse(prefix), error
        except DiffiSyntaxError:
            return [], error


def is_incomplete(source: str) -> bool:
    """True when the source ends inside an open bracket or block (the REPL reads on)."""
    try:
        parse(source)
    except DiffiSyntaxError as error:
        return error.incomplete
    return False


TERMINAL_NAMES = {
    "NAME": "a name", "NUMBER": "a number", "STRING": "a string", "RPAR": "')'",
    "RSQB": "']'", "RBRACE": "'}'", "LPAR": "'('", "LSQB": "'['", "LBRACE": "'{'",
    "COMMA": "','", "EQUAL": "'='", "ADD": "'+' or '-'", "MUL": "'*', '/' or '@'",
    "POW": "'^'", "COMPARE": "a comparison", "SEMI": "';'", "_NL": "a new line",
    "$END": "the end of the input", "COLON": "':'", "DERIV": "a derivative d/dx",
    "LEIBNIZ": "a derivative ∂f/∂x", "PRIMED": "a derivative f'(x)",
    "SUPERSCRIPT": "a power x²",
}  # (a keyword's terminal, THEN or ORDER, is named by its word: 'then', 'order')
NOT_AFTER_KEYWORD = {"EQUAL", "COMMA", "RPAR", "RSQB", "MUL", "POW", "COMPARE", "SEMI"}
OPERATORS = {"ADD", "MUL", "POW", "COMPARE", "AND", "OR", "LPAR", "LSQB", "SUPERSCRIPT"}
EXPRESSION_STARTS = {"PRIMED", "NAME", "NUMBER", "LPAR", "LSQB", "LBRACE", "STRING", "ADD",
                     "IF", "NOT", "LEIBNIZ"}
DIRECTIVE_STARTS = {"DERIV"} | {word.upper() for word in V.DIRECTIVES}


def describe_expected(expected) -> str:
    """A short human list of what the parser would have accepted."""
    expected = set(expected)
    words = []
    if {"NAME", "NUMBER", "LPAR"} <= expected:
        words.append("an expression")
        expected -= EXPRESSION_STARTS | DIRECTIVE_STARTS
    elif len(expected & OPERATORS) >= 3:
        expected -= OPERATORS
        expected.discard("_NL")
        words.append("an operator")
    for name in sorted(expected):
        words.append(TERMINAL_NAMES.get(name, f"'{name.lower()}'"))
    words = list(dict.fromkeys(words))[:6]
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " or " + words[-1]


def _describe_token(token: Token) -> str:
    if token.type == "$END":
        return "end of input"
    if token.type == "_NL":
        return "end of line"
    text = token.value if len(token.value) <= 60 else token.value[:59] + "…"
    return f"'{text}'"


def translate(error: UnexpectedInput, source: str, state: ParseState) -> DiffiSyntaxError:
    """Turn a Lark error into a DiffiSyntaxError with a position and a useful message."""
    if isinstance(error, UnexpectedCharacters):
        char = source[error.pos_in_stream] if error.pos_in_stream < len(source) else ""
        span = Span(error.line, error.column, error.line, error.column + 1)
        if char == "\u2026" or source.startswith("...", error.pos_in_stream):
            # … (NumPy's ...) stands for the elements a summary of a big tensor left out
            return DiffiSyntaxError(f"unexpected character '{char}': a summarised value "
                                    "cannot be read back; print(A, full = true) prints "
                                    "every element", span)
        hint = char and hints.unexpected_character(source, error.pos_in_stream)
        return DiffiSyntaxError(hint or f"unexpected character '{char}'", span)
    token = getattr(error, "token", None)
    at_end = isinstance(error, UnexpectedEOF) or token is None or token.type == "$END"
    if at_end:
        result = _end_error(error, source, state)
        result.incomplete = bool(state.open)
        return result
    span = span_of(token)
    previous = state.previous if token is state.current else state.current
    special = _special_message(token, previous) or _notation_message(
        token, previous, source, state)
    if isinstance(special, DiffiSyntaxError):
        return special
    if special:
        return DiffiSyntaxError(special[0], special[1] or span)
    expected = describe_expected(_acceptable(error))
    message = f"unexpected {_describe_token(token)}"
    if expected:
        message += f"; expected {expected}"
    if token.type == "_NL" and state.open:
        opener = state.open[-1]
        message += f" (the '{opener.value}' at line {opener.line}, column {opener.column} is not closed)"
    return DiffiSyntaxError(message, span)


def _acceptable(error) -> set:
    """The tokens the parser would really accept here (LALR's table lists more)."""
    parser = getattr(error, "interactive_parser", None)
    if parser is not None:
        try:
            return set(parser.accepts())
        except Exception:  # the table's own list is the fallback
            pass
    return set(getattr(error, "expected", ()) or ())


def _special_message(token: Token, previous: Token | None):
    """Friendlier messages for the common slips: 2x, a < b < c, reserved names."""
    adjacent = previous is not None and previous.end_pos == token.start_pos
    if previous is not None and previous.type == "NUMBER" and adjacent \
            and token.type in ("NAME", "LPAR"):
        write = f"{previous.value}*{token.value}"
        return f"implicit multiplication is not supported: write {write}", None
    if token.type == "COMPARE" and previous is not None and previous.type in OPERAND_ENDS:
        return "comparisons cannot be chained: write a < b and b < c", None
    if previous is not None and previous.value in S.RESERVED \
            and token.type in NOT_AFTER_KEYWORD:
        return (f"'{previous.value}' is a reserved word and cannot name a variable",
                span_of(previous))
    return None


_IF_THEN = rf"(?<!{V.NAME_CHAR})(if|then)(?!{V.NAME_CHAR})"
OPERAND_ENDS = {"NAME", "NUMBER", "RPAR", "RSQB", "SUPERSCRIPT"}
OPERAND_STARTS = {"NAME", "NUMBER", "LEIBNIZ", "STRING"}
_ENDS_AN_OPERAND = tuple("=,)]};:\n\r#") + tuple(
    symbol for symbols in V.OPERATORS.values() for symbol in symbols)


def _notation_message(token: Token, previous: Token | None, source: str, state: ParseState):
    """What a student wrote from the board, with its diffi spelling (see hints.py)."""
    foreign = _foreign_word(previous, source, state)
    if foreign is not None:
        return foreign
    if token.type == "COLON" and source.startswith("=", token.end_pos):
        return "for ':=' write =", None
    if token.type in ("DERIV", "LEIBNIZ"):  # `1 + ∂/∂x E`
        return hints.parenthesise(source, token.start_pos, "a derivative"), span_of(token)
    if token.type in ("AT", "USING") and previous is not None and previous.type == "LEIBNIZ":
        return hints.parenthesise(source, previous.start_pos, "a derivative"), \
            span_of(previous)
    if previous is None or previous.type not in OPERAND_ENDS \
            or token.type not in OPERAND_STARTS or not _juxtaposable(previous, token):
        return None
    derivative = hints.derivative_before(source, token.start_pos)
    if derivative is not None:
        return (hints.parenthesise(source, derivative[0], "a derivative"),
                _span_at(source, *derivative))
    if _lacks_a_separator(token, source, state):
        return None
    return _juxtaposed(previous, token, source)


def _lacks_a_separator(token: Token, source: str, state: ParseState) -> bool:
    """`f(x y)`, `[a b]`: more likely a missing ','; `if a b`: a missing 'then'."""
    if state.open and state.open[-1].type != "LBRACE":
        return True
    start = state.open[-1].end_pos if state.open else state.boundary
    words = re.findall(_IF_THEN, source[start:token.start_pos])
    return bool(words) and words[-1] == "if"


def _juxtaposable(previous: Token, token: Token) -> bool:
    """`sin x`, `x y`, `2 x`, `print "hi"` — not `1 2`, which reads as two statements."""
    if previous.type == "NAME":
        return True
    return previous.type != "STRING" and token.type in ("NAME", "LEIBNIZ")


def _foreign_word(previous: Token | None, source: str, state: ParseState):
    """`for i in …`, `while …`, `return x`, `def f(x):`: the statement starts with one."""
    if previous is not None and hints.foreign_word(previous.value):
        return hints.foreign_word(previous.value), span_of(previous)
    statement = source[state.boundary:]
    start = state.boundary + len(statement) - len(statement.lstrip())
    word = re.match(rf"({V.NAME})(?=[ \t]*[(\w])", source[start:])  # `while (`, `for i`
    if word and hints.foreign_word(word.group(1)):
        return hints.foreign_word(word.group(1)), _span_at(source, start, start + word.end(1))
    return None


def _juxtaposed(previous: Token, token: Token, source: str) -> DiffiSyntaxError:
    """`sin x` or `x y`: the interpreter, which knows what `sin` is, words it (`refine`)."""
    if previous.type in ("NAME", "NUMBER"):
        left = previous.value
    elif previous.type == "SUPERSCRIPT":  # x²y
        left = hints.operand_before(source, previous.start_pos) + previous.value
    else:
        left = hints.operand_before(source, previous.end_pos)
    is_function = None if previous.type == "NAME" else False
    error = DiffiSyntaxError(hints.juxtaposed(left, token.value, is_function), span_of(token))
    if previous.type == "NAME":
        error.juxtaposed = (V.normal_name(left), token.value)
    return error


def refine(error: DiffiError, is_function) -> DiffiError:
    """Word a `sin x` / `x y` error once the names are known.

    is_function(name) is True for a function, False for another value, None when the
    name is not defined (then the message keeps both readings).
    """
    pair = getattr(error, "juxtaposed", None)
    if pair is None:
        return error
    left, right = pair
    error.message = hints.juxtaposed(left, right, is_function(left))
    error.args = (error.message,)
    error.juxtaposed = None
    return error


def _span_at(source: str, start: int, end: int) -> Span:
    """The span of source[start:end] (on one line)."""
    line = source.count("\n", 0, start) + 1
    column = start - (source.rfind("\n", 0, start) + 1) + 1
    return Span(line, column, line, column + end - start)


def _end_error(error, source: str, state: ParseState) -> DiffiSyntaxError:
    lines = source_lines(source)
    if len(lines) > 1 and not lines[-1]:  # a final line break ends the last line
        lines.pop()
    line = len(lines)
    span = Span(line, len(lines[-1]) + 1, line, len(lines[-1]) + 2)
    if state.open:
        opener = state.open[-1]
        closer = {"LPAR": ")", "LSQB": "]", "LBRACE": "}"}[opener.type]
        return DiffiSyntaxError(f"'{opener.value}' is never closed: expected '{closer}'",
                                span_of(opener))
    expected = describe_expected(getattr(error, "expected", ()) or ())
    message = "unexpected end of input"
    return DiffiSyntaxError(message + (f"; expected {expected}" if expected else ""), span)
