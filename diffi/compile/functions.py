"""User functions as Python functions with real branches and real calls, for plain
values. A traced tape inlines every call and holds for one pattern of `if` branches, so
a recursive function (fib) would need a tape per argument, each as large as its call
tree; written from its syntax instead, it computes any argument with the interpreter's
arithmetic (the table's scalar implementations, Python's operators where the tape
compiler uses them too), and calls itself as Python calls itself.

A `Group` is a function and every user function it calls through global names, each
written as `def u<k>(p0, …, _d)`: `_d` is the depth of user calls, checked against the
interpreter's max_depth. The group bakes in the global values it reads and holds while
every global name it read is bound as it was (`valid`). It serves a call only when the
interpreter would give the same value without a warning: a float exception (1/0, a
domain error), a non-finite result, a depth over the limit or a value of another type
raises `Fallback`, and the interpreter runs the call instead, with its IEEE rules and
warnings. (An infinity that arises inside and vanishes before the result, as in
1/(x*1e308*10), is not warned about by compiled code.)
"""
from __future__ import annotations

import math

from .. import table
from ..core.library import BUILTINS
from ..core.tape import is_variable
from ..core.values import Builtin, UserFunction
from ..language import syntax as S
from .writers import TEMPLATES, NotCompilable

NUMBER, BOOLEAN = "number", "boolean"
SPILL_DEPTH = 40  # operations per written expression (Python's parser nests ~200 deep)
TICKS = 4096      # calls between two looks at the clock, when a timeout is set


class Fallback(Exception):
    """The compiled code cannot serve this call: the interpreter runs it instead."""


def _pairs() -> dict:
    """The built-ins that are an elementwise primitive when given two numbers."""
    return {BUILTINS["max"].value: table.MAX, BUILTINS["min"].value: table.MIN}


# Calls whose effects compiled code would skip (output, random state, files), and the
# directives whose value is not what their recorded graph computes (numeric mode, with
# its step; check's verdict) or that do more than compute (minimize, graph, explain).
EFFECTS = frozenset({"print", "seed", "randn", "load", "save"})
EXACT_DIRECTIVES = frozenset({"d", "grad", "backprop", "hessian", "jacobian"})


class Study:
    """What a function's syntax says before it runs: whether it reaches a cycle of
    calls through global names (fib calls fib; g calls fib), so that its tape would
    inline a call tree; whether it, or a function it calls, has effects that compiled
    code would skip; and the global names the answers read (name -> Binding or None),
    which keep them true while they hold."""

    __slots__ = ("recursive", "effects", "reads")

    def __init__(self, fn: UserFunction, globals_: dict):
        self.recursive, self.effects, self.reads = False, False, {}
        seen, on_path = {fn}, {fn}
        stack = [(fn, iter(self._callees(fn, globals_)))]
        while stack:
            current, callees = stack[-1]
            callee = next(callees, None)
            if callee is None:
                stack.pop()
                on_path.discard(current)
            elif callee in on_path:
                self.recursive = True
            elif callee not in seen:
                seen.add(callee)
                on_path.add(callee)
                stack.append((callee, iter(self._callees(callee, globals_))))

    def holds(self, globals_: dict) -> bool:
        return all(globals_.get(name) is binding for name, binding in self.reads.items())

    def _callees(self, fn: UserFunction, globals_: dict) -> list:
        """The user functions fn's body calls by a global name (a loop, not a
        recursion); notes effects, and the names looked up."""
        found, stack = [], [fn.body]
        while stack:
            node = stack.pop()
            if isinstance(node, S.Call) and isinstance(node.func, S.Name):
                name = node.func.id
                binding = self.reads[name] = globals_.get(name)
                value = binding.node.value if binding is not None else None
                if isinstance(value, UserFunction) and value.scope is None:
                    found.append(value)
                self.effects |= binding is None and name in EFFECTS
            elif isinstance(node, S.Directive):
                self.effects |= node.kind not in EXACT_DIRECTIVES or (
                    node.mode is not None and node.mode.name == "numeric")
            for slot in node.__slots__:
                value = getattr(node, slot)
                if isinstance(value, list):
                    stack.extend(v for v in value if isinstance(v, S.Syntax))
                elif isinstance(value, S.Syntax):
                    stack.append(value)
        return found


class Group:
    """A user function and the user functions it calls, as Python functions."""

    def __init__(self, fn: UserFunction, globals_: dict, timed: bool):
        self.reads: dict = {}       # global name -> the Binding read (None: unbound)
        self.timed = timed          # written with looks at the clock (a timeout is set)
        self.namespace: dict = {"_Fallback": Fallback, "_MAX": 0, "_clock": [TICKS],
                                "_tick": None}
        self._globals = globals_
        self._names: dict = {}      # UserFunction -> its Python name
        self._returns: dict = {}    # UserFunction -> NUMBER or BOOLEAN, once written
        self._assumed: dict = {}    # UserFunction -> the type its callers assumed
        self._todo: list = []
        entry = self.name_of(fn)
        sources = []
        while self._todo:
            sources.append(self._write(self._todo.pop()))
        for callee, assumed in self._assumed.items():
            if self._returns[callee] != assumed:
                raise NotCompilable("a function whose value is a truth value")
        exec(compile("\n".join(sources), "<diffi function>", "exec"), self.namespace)
        self.entry = self.namespace[entry]
        self.returns = self._returns[fn]

    def valid(self, globals_: dict) -> bool:
        return all(globals_.get(name) is binding for name, binding in self.reads.items())

    @property
    def outside(self) -> list:
        """The global variables the group read (what its values depend on besides the
        arguments)."""
        return [b.node for b in self.reads.values() if b is not None and is_variable(b.node)]

    def run(self, args: tuple, depth: int, max_depth: int, tick=None):
        """The function's value at args (floats), or raise Fallback. `tick()` is called
        every TICKS calls when the group is timed (it raises when time is up)."""
        self.namespace["_MAX"] = max_depth
        self.namespace["_tick"] = tick
        try:
            value = self.entry(*args, depth + 1)
        except (ArithmeticError, ValueError, TypeError, RecursionError):
            raise Fallback from None
        if type(value) is float and value - value != 0:
            raise Fallback  # not finite: the interpreter names the operation that did it
        return value

    # what the bodies read ------------------------------------------------------------
    def name_of(self, fn: UserFunction) -> str:
        name = self._names.get(fn)
        if name is None:
            name = self._names[fn] = f"u{len(self._names)}"
            self._todo.append(fn)
        return name

    def global_value(self, name: str):
        """The value a global name has (a built-in's when unbound); the read is kept."""
        binding = self._globals.get(name)
        self.reads[name] = binding
        if binding is not None:
            return binding.node.value
        node = BUILTINS.get(name)
        if node is None:
            raise NotCompilable(f"name '{name}' is not defined")
        return node.value

    def returns_of(self, fn: UserFunction) -> str:
        """The type of fn's value: known once written, else assumed a number (checked)."""
        known = self._returns.get(fn)
        if known is not None:
            return known
        self._assumed[fn] = NUMBER
        return NUMBER

    def literal(self, value) -> str:
        if type(value) is bool:
            return repr(value)
        if math.isfinite(value):
            return repr(value)
        name = f"_c{len(self.namespace)}"
        self.namespace[name] = value
        return name

    def function(self, prim) -> str:
        name = f"_f_{prim.name}"
        self.namespace[name] = prim.scalar
        return name

    def _write(self, fn: UserFunction) -> str:
        body = _Body(self, fn)
        code, kind = body.expr(fn.body)
        self._returns[fn] = kind
        return body.source(self._names[fn], code)


class _Body:
    """The Python source of one user function: statements, then the returned value."""

    def __init__(self, group: Group, fn: UserFunction):
        self.group = group
        self.fn = fn
        self.lines: list[str] = []
        self.indent = 1
        self.count = 0
        self.scopes = [{p: (f"p{k}", NUMBER) for k, p in enumerate(fn.params)}]

    def source(self, name: str, result: str) -> str:
        params = "".join(f"p{k}, " for k in range(len(self.fn.params)))
        head = [f"def {name}({params}_d):",
                "    if _d > _MAX: raise _Fallback"]
        if self.group.timed:
            head += ["    _clock[0] -= 1", "    if _clock[0] < 0:",
                     f"        _clock[0] = {TICKS}", "        _tick()"]
        return "\n".join(head + self.lines + [f"    return {result}", ""])

    def emit(self, line: str) -> None:
        self.lines.append("    " * self.indent + line)

    def local(self) -> str:
        self.count += 1
        return f"t{self.count}"

    def spill(self, code: str) -> str:
        """A value in a local of its own (an expression nested too deep)."""
        name = self.local()
        self.emit(f"{name} = {code}")
        return name

    # expressions: (code, type); statements they need are emitted first ---------------
    def expr(self, ast) -> tuple[str, str]:
        handler = _HANDLERS.get(type(ast))
        if handler is None:
            raise NotCompilable(type(ast).__name__)
        code, kind = handler(self, ast)
        if len(code) > SPILL_DEPTH and code.count("(") > SPILL_DEPTH:
            code = self.spill(code)
        return code, kind

    def number(self, ast) -> str:
        """ast's code as a float (a truth value is 1.0 or 0.0, as the interpreter has it)."""
        code, kind = self.expr(ast)
        return code if kind == NUMBER else f"float({code})"

    def truth(self, ast) -> str:
        code, kind = self.expr(ast)
        return code if kind == BOOLEAN else f"({code} != 0.0)"

    def num(self, ast):
        return self.group.literal(float(ast.value)), NUMBER

    def name(self, ast):
        for scope in reversed(self.scopes):
            found = scope.get(ast.id)
            if found is not None:
                return found
        value = self.group.global_value(ast.id)
        if type(value) is float or type(value) is bool:
            return self.group.literal(value), NUMBER if type(value) is float else BOOLEAN
        raise NotCompilable(f"'{ast.id}' is not a number")

    def unary(self, ast):
        if ast.op == "not":
            return f"(not {self.truth(ast.operand)})", BOOLEAN
        template = TEMPLATES[table.UNARY[ast.op]]
        return template.format(self.number(ast.operand)), NUMBER

    def binary(self, ast):
        prim = table.BINARY.get(ast.op)
        if prim is table.POW:
            return f"{self.group.function(prim)}({self.number(ast.left)}, " \
                   f"{self.number(ast.right)})", NUMBER
        if prim is None or prim not in TEMPLATES:
            raise NotCompilable(ast.op)
        if prim.boolean:
            left, right = self.expr(ast.left)[0], self.expr(ast.right)[0]
            return TEMPLATES[prim].format(left, right), BOOLEAN
        return TEMPLATES[prim].format(self.number(ast.left), self.number(ast.right)), NUMBER

    def logic(self, ast):
        left = self.truth(ast.left)
        mark = len(self.lines)
        self.indent += 1
        right = self.truth(ast.right)
        self.indent -= 1
        if len(self.lines) == mark:  # no statements: Python's own short circuit
            return f"({left} {ast.op} {right})", BOOLEAN
        result = self.local()
        inner = self.lines[mark:]
        del self.lines[mark:]
        self.emit(f"{result} = {left}")
        self.emit(f"if {'' if ast.op == 'and' else 'not '}{result}:")
        self.lines += inner
        self.emit(f"    {result} = {right}")
        return result, BOOLEAN

    def if_else(self, ast):
        cond = self.truth(ast.cond)
        mark = len(self.lines)
        self.indent += 1
        then, then_kind = self.expr(ast.then)
        middle = len(self.lines)
        other, other_kind = self.expr(ast.other)
        self.indent -= 1
        if then_kind != other_kind:
            raise NotCompilable("branches of different types")
        if len(self.lines) == mark:
            return f"({then} if {cond} else {other})", then_kind
        result = self.local()
        then_lines, other_lines = self.lines[mark:middle], self.lines[middle:]
        del self.lines[mark:]
        self.emit(f"if {cond}:")
        self.lines += then_lines
        self.emit(f"    {result} = {then}")
        self.emit("else:")
        self.lines += other_lines
        self.emit(f"    {result} = {other}")
        return result, then_kind

    def call(self, ast):
        if not isinstance(ast.func, S.Name) or ast.keywords or any(
                ast.func.id in scope for scope in self.scopes):
            raise NotCompilable("a call the compiler cannot resolve")
        fn = self.group.global_value(ast.func.id)
        if isinstance(fn, UserFunction) and fn.scope is None:
            if len(ast.args) != len(fn.params):
                raise NotCompilable("arity")  # (the interpreter says what is wrong)
            args = "".join(self.number(a) + ", " for a in ast.args)
            return f"{self.group.name_of(fn)}({args}_d + 1)", self.group.returns_of(fn)
        prim = _pairs().get(fn) if len(ast.args) == 2 else None
        if prim is None and isinstance(fn, Builtin) and fn.call is None:
            prim = fn.primitive
        if prim is None or prim.scalar is None or prim.arity != len(ast.args):
            raise NotCompilable("a built-in without a scalar implementation")
        args = ", ".join(self.number(a) for a in ast.args)
        return f"{self.group.function(prim)}({args})", BOOLEAN if prim.boolean else NUMBER

    def block(self, ast):
        scope: dict = {}
        self.scopes.append(scope)
        try:
            for stmt in ast.body:
                if isinstance(stmt, S.Assign):
                    code, kind = self.expr(stmt.value)
                    name = self.local()
                    self.emit(f"{name} = {code}")
                    scope[stmt.target.id] = (name, kind)
                elif isinstance(stmt, S.ExprStmt):
                    self.emit(self.expr(stmt.expr)[0])  # (evaluated: it may fail)
                else:
                    raise NotCompilable(type(stmt).__name__)
            return self.expr(ast.result)
        finally:
            self.scopes.pop()


_HANDLERS = {S.Num: _Body.num, S.Name: _Body.name, S.Unary: _Body.unary,
             S.Binary: _Body.binary, S.Logic: _Body.logic, S.IfElse: _Body.if_else,
             S.Call: _Body.call, S.Block: _Body.block}
