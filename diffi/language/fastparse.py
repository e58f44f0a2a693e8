"""A faster way through Lark's LALR tables: the parse loop and the contextual lexer in
one Python loop each, on the parser object Lark builds from diffi's grammar.

Lark's own loop costs most of diffi's parsing time (it checks an assertion that compares
rules on every reduction and hashes rules in Python for each lookup; diffi has ten
precedence tiers). This module reads Lark internals (`ParserState`, `parse_conf`, the
lexers' `scanner._mres`), so it runs only on the Lark versions it was tested on
(`TESTED`, the same range pyproject.toml pins); on any other, `fast_parse` hands the
text to Lark's own loop. tests/language/test_parser.py holds both to the same trees, spans and
errors on every example, every docs snippet and random programs: a Lark release that
changes the internals fails there first.
"""
from __future__ import annotations

import re

from lark import Lark, Token, __version__ as LARK_VERSION
from lark.exceptions import UnexpectedToken
from lark.lexer import LexerThread
from lark.parsers.lalr_analysis import Shift
from lark.parsers.lalr_parser_state import ParseConf, ParserState

from .. import calls
from ..errors import Span

TESTED_RANGE = ((1, 3, 1), (1, 4))  # as pinned: lark>=1.3.1,<1.4


def _version(text: str) -> tuple:
    """'1.3.1' → (1, 3, 1); '1.4.0rc1' → (1, 4, 0): each part's leading digits."""
    return tuple(int(re.match(r"\d*", part).group(0) or 0) for part in text.split(".")[:3])


TESTED = TESTED_RANGE[0] <= _version(LARK_VERSION) < TESTED_RANGE[1]


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
        count = 0
        while pos < end:
            count += 1
            if not count & 1023:  # a long program: the timeout holds while it parses
                calls.check(Span(line, pos - line_start + 1, line, pos - line_start + 2))
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


def fast_parse(lark: Lark, source: str):
    """Parse with Lark's own tables and callbacks through the loops above; on a Lark
    outside the tested range, through Lark's own loop (the same tree, slower)."""
    if not TESTED:
        return lark.parse(source)
    frontend = lark.parser
    parser = frontend.parser.parser
    state = FastState(ParseConf(parser.parse_table, parser.callbacks, "start"),
                      FastLexerThread.from_text(frontend.lexer, source))
    return parser.parse_from_state(state)
