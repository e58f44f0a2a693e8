"""Source text → syntax tree: the Lark LALR parser, built once and cached.

The tree is built by an embedded transformer while parsing, so no recursion
over the parse tree happens and deeply nested input parses in linear time.
"""
from __future__ import annotations

import threading
from pathlib import Path

from lark import Lark, Token, Transformer, v_args
from lark.lexer import LexerThread
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.parsers.lalr_analysis import Shift
from lark.parsers.lalr_parser_state import ParseConf, ParserState

from ..errors import DiffiSyntaxError, Span
from . import syntax as S

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
        if token.value in S.RESERVED:
            raise DiffiSyntaxError(
                f"'{token.value}' is a reserved word and cannot name a variable",
                span_of(token))
        return S.Name(token.value, span_of(token))

    def NUMBER(self, token):
        return S.Num(float(token.value), span_of(token))

    def STRING(self, token):
        return S.Str(_unescape(token.value[1:-1]), span_of(token))

    def name(self, name):
        return name

    def binary(self, left, op, right):
        symbol = "^" if op.value == "**" else op.value
        return S.Binary(symbol, left, right, span_of(op))

    def logic(self, left, op, right):
        return S.Logic(op.value, left, right, span_of(op))

    def unary(self, op, operand):
        return S.Unary(op.value, operand, span_of(op))

    def ifelse(self, token, cond, then, other):
        return S.IfElse(cond, then, other, span_of(token))

    def call(self, func, args):
        positional, keywords = _split_args(args or [])
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
        order, var = parse_deriv(token)
        return _directive("d", token, expr, rest, var=var, order=order)

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


def _unescape(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            out.append({"n": "\n", "t": "\t"}.get(text[i + 1], text[i + 1]))
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _statements(items) -> list:
    """Statements from a sequence of statement nodes and ';' tokens."""
    out = []
    for i, item in enumerate(items):
        if isinstance(item, Token):
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


def parse_deriv(token: Token) -> tuple[int, str]:
    """`d2/dx2` → (2, 'x'); `d2/dx1^2` → (2, 'x1'); `d/dx2` → (1, 'x2')."""
    top, bottom = token.value.split("/", 1)
    order = int(top[1:] or 1)
    var, _, power = bottom[1:].partition("^")
    if power:
        if int(power) != order:
            raise DiffiSyntaxError(
                f"the orders in '{token.value}' differ: write d{power}/d{var}^{power}",
                span_of(token))
    elif order > 1:
        suffix = str(order)
        if not (var.endswith(suffix) and len(var) > len(suffix)):
            raise DiffiSyntaxError(
                f"write the order on both sides: d{order}/d{var}{order} "
                f"(or d{order}/d{var}^{order} for a name ending in a digit)",
                span_of(token))
        var = var[: -len(suffix)]
    if var in S.RESERVED:
        raise DiffiSyntaxError(f"'{var}' is a reserved word", span_of(token))
    return order, var


def start_of(node) -> Span | None:
    """The span where a syntax node starts (its leftmost token), found without recursion."""
    while True:
        kind = type(node)
        if kind in (S.Binary, S.Logic):
            node = node.left
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


def _lark() -> Lark:
    """The parser (FastState's caches are keyed by its tables' states, so there is one)."""
    with _lock:
        if not _parser:
            _parser.append(Lark(
                grammar_path().read_text(encoding="utf-8"), parser="lalr",
                lexer="contextual", postlex=_postlex, transformer=AstBuilder(),
                maybe_placeholders=True, cache=True))
        return _parser[0]


class FastState(ParserState):
    """Lark's LALR parser state with a leaner loop: the same tables and callbacks.

    Lark's own loop checks an assertion that compares rules on every reduction and
    hashes rules in Python for each lookup; with diffi's ten precedence tiers that is
    most of the parsing time. Here each rule's size, target and callback are looked up
    once per rule object, and a unit rule whose callback hands back its only child
    (a `?tier: next_tier` step) only changes state. Errors are raised as Lark raises them.
    """

    __slots__ = ()
    _rules: dict = {}
    _climbs: dict = {}  # (state below, state, token type) → state after the unit rules

    def _rule(self, rule):
        """(rule, size, target, callback, passthrough) of a rule, worked out once."""
        info = self._rules.get(id(rule))  # (a Rule hashes its expansion: id is cheaper)
        if info is None:
            info = self._rules[id(rule)] = _rule_info(rule, self.parse_conf.callbacks[rule])
        return info

    def _climb(self, below, state, kind):
        """The state reached from `state` by the passthrough unit rules that `kind` triggers."""
        states = self.parse_conf.states
        while True:
            action, arg = states[state].get(kind, (None, None))
            if action is None or action is Shift or not self._rule(arg)[4]:
                return state
            state = states[below][self._rule(arg)[2]][1]

    def feed_token(self, token, is_end=False):
        state_stack, value_stack = self.state_stack, self.value_stack
        conf = self.parse_conf
        states, callbacks, rules = conf.states, conf.callbacks, self._rules
        while True:
            try:
                action, arg = states[state_stack[-1]][token.type]
            except KeyError:
                expected = {s for s in states[state_stack[-1]].keys() if s.isupper()}
                raise UnexpectedToken(token, expected, state=self, interactive_parser=None)
            if action is Shift:
                state_stack.append(arg)
                callback = callbacks.get(token.type)
                value_stack.append(token if callback is None else callback(token))
                return None
            _, size, origin, callback, passthrough = rules.get(id(arg)) or self._rule(arg)
            if passthrough:  # the value on the stack stays; only the state changes
                key = (state_stack[-2], state_stack[-1], token.type)
                target = self._climbs.get(key)
                if target is None:
                    target = self._climbs[key] = self._climb(*key)
                state_stack[-1] = target
                continue
            if size:
                children = value_stack[-size:]
                del state_stack[-size:]
                del value_stack[-size:]
            else:
                children = []
            state_stack.append(states[state_stack[-1]][origin][1])
            value_stack.append(callback(children))
            if is_end and state_stack[-1] == conf.end_state:
                return value_stack[-1]


def _rule_info(rule, callback):
    """(rule, size, target, callback, passthrough) for FastState's loop."""
    size = len(rule.expansion)
    passthrough = False
    if size == 1 and rule.alias is None and rule.options.expand1:
        sentinel = object()
        passthrough = callback([sentinel]) is sentinel
    return rule, size, rule.origin.name, callback, passthrough


class FastLexerThread(LexerThread):
    """Lark's contextual lexer in one loop, feeding the Brackets post-lexer.

    Each parser state's own scanner (built by Lark) matches the next token, as in
    `ContextualLexer.lex`; only the per-token calls and the line counter object are
    gone. At any input it cannot lex, it hands the rest to Lark's own lexer, which
    raises Lark's errors exactly as it would have.
    """

    _plans: dict = {}  # Lark's per-state lexer → what the loop needs from it

    def lex(self, parser_state):
        connector = self.lexer
        return connector.postlexer.process(self._tokens(connector.lexer, parser_state))

    def _tokens(self, contextual, parser_state):
        state = self.state
        text, end, counter = state.text.text, state.text.end, state.line_ctr
        pos, line, line_start = counter.char_pos, counter.line, counter.line_start_pos
        lexers, plans, new = contextual.lexers, self._plans, str.__new__
        while pos < end:
            basic = lexers[parser_state.position]
            plan = plans.get(basic)
            if plan is None:
                plan = plans[basic] = (basic.scanner._mres, basic.ignore_types,
                                       basic.newline_types, basic.callback)
            patterns, ignore, newlines, callbacks = plan
            for pattern in patterns:
                match = pattern.match(text, pos, end)
                if match:
                    break
            else:  # Lark's lexer raises the error, from where we are
                _move(counter, pos, line, line_start)
                yield from contextual.lex(state, parser_state)
                return
            value, kind = match.group(0), match.lastgroup
            start, start_line, column = pos, line, pos - line_start + 1
            pos = match.end()
            if kind in newlines and "\n" in value:
                line += value.count("\n")
                line_start = start + value.rindex("\n") + 1
            if kind in ignore and kind not in callbacks:
                continue
            token = new(Token, value)
            token.type, token.value, token.start_pos = kind, value, start
            token.line, token.column = start_line, column
            token.end_line, token.end_column, token.end_pos = line, pos - line_start + 1, pos
            if kind in callbacks:
                token = callbacks[kind](token)
            if kind in ignore:
                continue
            state.last_token = token
            yield token
        _move(counter, pos, line, line_start)


def _move(counter, pos: int, line: int, line_start: int) -> None:
    """Bring Lark's line counter to where FastLexerThread's loop is."""
    counter.char_pos, counter.line = pos, line
    counter.line_start_pos, counter.column = line_start, pos - line_start + 1


def _fast_parse(lark: Lark, source: str):
    frontend = lark.parser
    parser = frontend.parser.parser
    state = FastState(ParseConf(parser.parse_table, parser.callbacks, "start"),
                      FastLexerThread.from_text(frontend.lexer, source))
    return parser.parse_from_state(state)


def parse(source: str) -> list:
    """Parse a program into a list of statements; raise DiffiSyntaxError."""
    try:
        return _fast_parse(_lark(), source)
    except UnexpectedInput as error:
        raise translate(error, source, _postlex.state) from None



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
    "THEN": "'then'", "ELSE": "'else'", "AT": "'at'", "WRT": "'wrt'",
    "USING": "'using'", "TO": "'to'",
}
NOT_AFTER_KEYWORD = {"EQUAL", "COMMA", "RPAR", "RSQB", "MUL", "POW", "COMPARE", "SEMI"}
OPERATORS = {"ADD", "MUL", "POW", "COMPARE", "AND", "OR", "LPAR", "LSQB"}
EXPRESSION_STARTS = {"NAME", "NUMBER", "LPAR", "LSQB", "LBRACE", "STRING", "ADD",
                     "IF", "NOT"}


def describe_expected(expected) -> str:
    """A short human list of what the parser would have accepted."""
    expected = set(expected)
    words = []
    if {"NAME", "NUMBER", "LPAR"} <= expected:
        words.append("an expression")
        expected -= EXPRESSION_STARTS | {"DERIV", "GRAD", "BACKPROP", "HESSIAN",
                                         "JACOBIAN", "CHECK", "EXPLAIN", "GRAPH",
                                         "MINIMIZE"}
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
    return f"'{token.value}'"


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
        return DiffiSyntaxError(f"unexpected character '{char}'", span)
    token = getattr(error, "token", None)
    at_end = isinstance(error, UnexpectedEOF) or token is None or token.type == "$END"
    if at_end:
        result = _end_error(error, source, state)
        result.incomplete = bool(state.open)
        return result
    span = span_of(token)
    previous = state.previous if token is state.current else state.current
    special = _special_message(token, previous)
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
    if token.type == "COMPARE":
        return "comparisons cannot be chained: write a < b and b < c", None
    if previous is not None and previous.value in S.RESERVED \
            and token.type in NOT_AFTER_KEYWORD:
        return (f"'{previous.value}' is a reserved word and cannot name a variable",
                span_of(previous))
    return None


def _end_error(error, source: str, state: ParseState) -> DiffiSyntaxError:
    lines = source.splitlines() or [""]
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
