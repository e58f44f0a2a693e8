"""Evaluation of syntax trees into graph nodes.

Every operation goes through `Evaluator.apply`, which evaluates a primitive of the
table and records a Node. Chains of operators (`a + b + c + …`, `x^y^z`, `- - x`)
are walked in loops, so long formulas do not grow Python's stack.
"""
from __future__ import annotations

import difflib
import functools
import math
import time
import weakref

from .. import arrays, table
from ..arrays import as_value, finite, is_array
from ..errors import ArityError, DiffiNameError, DiffiTypeError, LimitError, ShapeError
from ..language import syntax as S
from ..language.parser import start_of
from .graph import Binding, Node, Scope
from .library import BUILTINS, constant
from .values import (PRECISION, SUMMARY_THRESHOLD, Function, UserFunction, format_value,
                     kind_of)

from ..table import ALIAS, IFELSE, INDEX, LOGIC, SELECT, TUPLE, VECTOR  # noqa: E402

NUMERIC_TYPES = (float, bool)


class Limits:
    """Resource limits of an interpreter (docs/python.md)."""

    def __init__(self, max_depth=1000, max_nodes=20_000_000, max_elements=100_000_000,
                 timeout=None):
        self.max_depth = max_depth
        self.max_nodes = max_nodes
        self.max_elements = max_elements
        self.timeout = timeout


class Evaluator:
    """Runs statements against a global scope, recording the graph as it goes."""

    def __init__(self, globals_: dict, limits: Limits, output, warn, precision=PRECISION, *,
                 directives, compile_cache):
        self.globals = Scope(globals_)
        self.limits = limits
        self.output = output          # output(text): print's sink
        self.on_print = None          # on_print(text, values, span): print's, if given
        self.warn = warn              # warn(message, span)
        self.precision = precision
        self.threshold = SUMMARY_THRESHOLD  # tensors of more elements print summarised
        self.origin = None            # the function being inlined, if any
        self.depth = 0
        self.nodes = 0
        self.deadline = None
        self.warned = False
        self.noted = set()            # notes given this statement (see note)
        self.point = None             # the point a directive evaluates at (tape.Overrides)
        self.files = True             # may `load` and `graph … to` touch files
        self.base_dir = None          # where relative file names start (a script's folder)
        self.failed_checks = 0        # `check` directives that found modes disagreeing
        self.last_gradient = {}       # node id -> adjoint of the last reverse pass (graph)
        self.recording = None         # global name -> Binding read, while compiling
        self.compiled_calls = True    # may a call run compiled code (not while tracing it)
        self.called_once = weakref.WeakSet()  # functions called before the compiler loaded
        self.progress = None          # minimize's progress report (diffi.directives.training)
        self.random = None            # randn's generator (seeded by seed(k))
        # The layers above hand these in (diffi.interpreter), so that the evaluator
        # imports neither the directives nor the compiler, and loads neither at start-up:
        self.directives = directives  # directives(evaluator, ast, scope) -> Node
        self.compile_cache = compile_cache  # compile_cache() -> a new cache of compiled tapes
        self._eval = {S.Num: self.eval_num, S.Literal: self.eval_num, S.Name: self.eval_name, S.Str: self.eval_str,
                      S.Binary: self.eval_binary, S.Unary: self.eval_unary,
                      S.Logic: self.eval_logic, S.IfElse: self.eval_if,
                      S.Call: self.eval_call, S.Index: self.eval_index,
                      S.Vector: self.eval_vector, S.TupleLit: self.eval_tuple,
                      S.Block: self.eval_block, S.Directive: self.eval_directive}

    # Statements ------------------------------------------------------------------

    @functools.cached_property
    def compiled(self):
        """Compiled tapes of user functions (the compiler loads when first needed)."""
        return self.compile_cache()

    def begin_statement(self) -> None:
        """Reset the per-statement budgets: nodes, time, the first-warning flag."""
        self.nodes = 0
        self.depth = 0
        self.origin = None
        self.warned = False
        self.noted.clear()
        self.point = None
        timeout = self.limits.timeout
        self.deadline = time.monotonic() + timeout if timeout else None

    def execute(self, stmt, scope: Scope) -> Node | None:
        """Run one statement; return the node of an expression statement's value."""
        kind = type(stmt)
        if kind is S.ExprStmt:
            return self.eval(stmt.expr, scope)
        if kind is S.Assign:
            node = self.eval(stmt.value, scope)
            scope.vars[stmt.target.id] = Binding(stmt.target.id, self.label(node, stmt.target.id), stmt.value)
        elif kind is S.FuncDef:
            fn = UserFunction(stmt.name.id, [p.id for p in stmt.params], stmt.body,
                              None if scope is self.globals else scope)
            scope.vars[fn.name] = Binding(fn.name, constant(fn, fn.name, stmt.span), stmt)
        elif kind is S.Destructure:
            self.destructure(stmt, scope)
        return None

    def note(self, message: str, span) -> None:
        """Warn once a statement with this message at this place: a directive in a
        function body may run thousands of times, and say the same thing each time."""
        key = (message, span.line, span.column) if span is not None else (message,)
        if key not in self.noted:
            self.noted.add(key)
            self.warn(message, span)

    def label(self, node: Node, name: str) -> Node:
        """Give a node the user's name; a node that has one already gets an alias."""
        if node.name is None:
            node.name = name
            return node
        return Node(ALIAS, (node,), node.value, node.span, name, self.origin)

    def destructure(self, stmt, scope: Scope) -> None:
        node = self.eval(stmt.value, scope)
        if not isinstance(node.value, tuple):
            raise DiffiTypeError(f"cannot unpack a {kind_of(node.value)} into "
                                 f"{len(stmt.targets)} names", stmt.span)
        parts = node.inputs if node.op is TUPLE else [constant(v) for v in node.value]
        if len(parts) != len(stmt.targets):
            raise DiffiTypeError(f"cannot unpack {len(parts)} values into "
                                 f"{len(stmt.targets)} names", stmt.span)
        for target, part in zip(stmt.targets, parts):
            scope.vars[target.id] = Binding(target.id, self.label(part, target.id), stmt.value)

    # Expressions -------------------------------------------------------------------

    def eval(self, ast, scope: Scope) -> Node:
        return self._eval[type(ast)](ast, scope)

    def eval_num(self, ast, scope):
        return Node(table.CONST, (), ast.value, ast.span, None, self.origin)

    def eval_str(self, ast, scope):
        return Node(table.CONST, (), ast.value, ast.span, None, self.origin)

    def eval_name(self, ast, scope):
        binding = scope.lookup(ast.id)
        if binding is not None:
            if self.recording is not None and self.globals.vars.get(ast.id) is binding:
                self.recording[ast.id] = binding
            if self.point is not None:
                return self.point.resolve(binding)
            return binding.node
        node = BUILTINS.get(ast.id)
        if node is None:
            raise self.undefined(ast.id, ast.span, scope)
        if self.recording is not None:  # a later global of this name must invalidate
            self.recording[ast.id] = None
        return node

    def undefined(self, name: str, span, scope: Scope) -> DiffiNameError:
        known = scope.names() | set(BUILTINS)
        close = difflib.get_close_matches(name, sorted(known), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        return DiffiNameError(f"name '{name}' is not defined{hint}", span)

    def eval_binary(self, ast, scope):
        if ast.op == "^":
            return self._eval_power_chain(ast, scope)
        spine = []
        while type(ast) is S.Binary and ast.op != "^":
            spine.append(ast)
            ast = ast.left
        acc = self.eval(ast, scope)
        for node in reversed(spine):
            right = self.eval(node.right, scope)
            acc = self.apply(table.BINARY[node.op], (acc, right), node.span)
        return acc

    def _eval_power_chain(self, ast, scope):
        spine = []
        while type(ast) is S.Binary and ast.op == "^":
            spine.append((ast, self.eval(ast.left, scope)))
            ast = ast.right
        acc = self.eval(ast, scope)
        for node, base in reversed(spine):
            acc = self.apply(table.POW, (base, acc), node.span)
        return acc

    def eval_unary(self, ast, scope):
        spine = []
        while type(ast) is S.Unary:
            spine.append(ast)
            ast = ast.operand
        acc = self.eval(ast, scope)
        for node in reversed(spine):
            if node.op == "not":
                acc = self.apply(table.NOT, (self.truth_node(acc, node.span),), node.span)
            else:
                acc = self.apply(table.UNARY[node.op], (acc,), node.span)
        return acc

    def truth(self, node: Node, span) -> bool:
        """A condition's truth: booleans, or numbers (non-zero is true)."""
        value = node.value
        if type(value) is bool:
            return value
        if type(value) is float:
            return value != 0
        if is_array(value) and value.size == 1:
            return bool(value.reshape(-1)[0])
        what = f"a tensor of shape {tuple(value.shape)}" if is_array(value) else \
            f"a {kind_of(value)}"
        raise DiffiTypeError(f"a condition must be a boolean or a number, not {what}", span)

    def truth_node(self, node: Node, span) -> Node:
        self.truth(node, span)
        return node

    def eval_logic(self, ast, scope):
        left = self.eval(ast.left, scope)
        if left.value is None:  # a formula: keep both sides
            right = self.eval(ast.right, scope)
            return self.record(LOGIC, (left, right), None, ast.span, params=ast.op)
        decided = self.truth(left, ast.span)
        if decided == (ast.op == "or"):
            return self.record(LOGIC, (left,), decided, ast.span, params=ast.op)
        right = self.eval(ast.right, scope)
        value = None if right.value is None else self.truth(right, ast.span)
        return self.record(LOGIC, (left, right), value, ast.span, params=ast.op)

    def eval_if(self, ast, scope):
        cond = self.eval(ast.cond, scope)
        if cond.value is None:  # a formula: its condition is unknown, keep both branches
            then, other = self.eval(ast.then, scope), self.eval(ast.other, scope)
            return self.record(IFELSE, (cond, then, other), None, ast.span)
        taken = self.truth(cond, start_of(ast.cond))
        branch = self.eval(ast.then if taken else ast.other, scope)
        if not isinstance(branch.value, (float, bool)) and not is_array(branch.value):
            return branch
        return self.record(SELECT, (cond, branch), branch.value, ast.span,
                           params="then" if taken else "else")

    def eval_call(self, ast, scope):
        callee = self.eval(ast.func, scope)
        fn = callee.value
        if not isinstance(fn, Function):
            raise DiffiTypeError(f"a {kind_of(fn)} is not a function; "
                                 f"write '*' to multiply", ast.span)
        args = [self.eval(a, scope) for a in ast.args]
        keywords = {k.name: self.eval(k.value, scope) for k in ast.keywords}
        return self.call(fn, args, keywords, ast.span)

    def call(self, fn: Function, args: list, keywords: dict, span) -> Node:
        """Call a function value on argument nodes."""
        if isinstance(fn, UserFunction):
            return self.call_user(fn, args, keywords, span)
        self.check_arity(fn.name, fn.min_args, fn.max_args, len(args), span)
        if fn.call is not None:
            return fn.call(self, args, keywords, span)
        if keywords:
            name = next(iter(keywords))
            raise DiffiTypeError(f"{fn.name} takes no keyword argument '{name}'", span)
        return self.apply(fn.primitive, args, span)

    @staticmethod
    def check_arity(name, low, high, given, span) -> None:
        if low <= given and (high < 0 or given <= high):
            return
        if low == high:
            wanted = f"{low} argument{'s' if low != 1 else ''}"
        elif high < 0:
            wanted = f"at least {low} argument{'s' if low != 1 else ''}"
        else:
            wanted = f"{low} to {high} arguments"
        raise ArityError(f"{name} takes {wanted}, got {given}", span)

    def call_user(self, fn: UserFunction, args, keywords, span, compiled: bool = True) -> Node:
        """Call a user function: by its compiled code when that can serve the call (one
        node stands for the call's graph, see diffi.compile.cache), else node by node."""
        params = fn.params
        if len(args) > len(params):
            self.check_arity(fn.name, len(params), len(params), len(args), span)
        bound = dict(zip(params, args))
        for name, node in keywords.items():
            if name not in params:
                raise DiffiTypeError(f"{fn.name} has no parameter '{name}'", span)
            if name in bound:
                raise DiffiTypeError(f"{fn.name} got two values for '{name}'", span)
            bound[name] = node
        if len(bound) != len(params):
            missing = ", ".join(p for p in params if p not in bound)
            raise ArityError(f"{fn.name} takes {len(params)} argument"
                             f"{'s' if len(params) != 1 else ''} ({', '.join(params)}), "
                             f"missing {missing}", span)
        if compiled and self.compiled_calls and fn.scope is None:
            nodes = [bound[p] for p in params]
            if all(type(n.value) is float for n in nodes) and self._compiler_wanted(fn):
                node = self.compiled.call(self, fn, nodes, span)
                if node is not None:
                    return node
        local = Scope({p: Binding(p, bound[p]) for p in params}, fn.scope or self.globals)
        self.depth += 1
        if self.depth > self.limits.max_depth:
            raise LimitError(f"recursion deeper than {self.limits.max_depth} calls "
                             f"(max_depth) in {fn.name}", span)
        saved, self.origin = self.origin, fn.name
        try:
            return self.eval(fn.body, local)
        finally:
            self.origin = saved
            self.depth -= 1

    def _compiler_wanted(self, fn: UserFunction) -> bool:
        """Whether to ask the compiler about a call: once it is loaded, always; before,
        from a function's second call (a script that calls each function once, or none
        twice, never loads it). The cache is told of the first call."""
        if "compiled" in self.__dict__:
            return True
        if fn not in self.called_once:
            self.called_once.add(fn)
            return False
        self.compiled.seen(fn)
        return True

    def interpret_call(self, fn: UserFunction, args: list, span, names: dict) -> Node:
        """A call run again node by node, with the global names as they were bound when
        it was first made (`names`: name -> Binding); the graph of a compiled call."""
        saved = (self.globals.vars, self.point, self.depth, self.origin, self.recording,
                 self.compiled_calls)
        self.globals.vars, self.point, self.depth, self.recording = dict(names), None, 0, None
        self.compiled_calls = False
        try:
            return self.call_user(fn, args, {}, span)
        finally:
            (self.globals.vars, self.point, self.depth, self.origin, self.recording,
             self.compiled_calls) = saved

    def eval_index(self, ast, scope):
        target = self.eval(ast.target, scope)
        if target.op is TUPLE or isinstance(target.value, tuple):
            return self.index_tuple(target, ast, scope)
        if not is_array(target.value):
            raise DiffiTypeError(f"a {kind_of(target.value)} cannot be indexed", ast.span)
        key = tuple(self.index_item(item, scope) for item in ast.items)
        try:
            value = target.value[key]
        except (IndexError, ValueError) as error:
            raise DiffiTypeError(f"bad index: {error}", ast.span) from None
        return self.record(INDEX, (target,), as_value(value), ast.span, params=key)

    def index_tuple(self, target, ast, scope):
        if len(ast.items) != 1 or isinstance(ast.items[0], S.Slice):
            raise DiffiTypeError("a tuple takes one index", ast.span)
        i = self.integer(self.eval(ast.items[0], scope), ast.items[0])
        parts = target.inputs if target.op is TUPLE else target.value
        if not -len(parts) <= i < len(parts):
            raise DiffiTypeError(f"index {i} is out of range for a tuple of "
                                 f"{len(parts)}", start_of(ast.items[0]))
        part = parts[i]
        return part if isinstance(part, Node) else constant(part, span=ast.span)

    def index_item(self, item, scope):
        if isinstance(item, S.Slice):
            parts = [None if p is None else self.integer(self.eval(p, scope), p)
                     for p in (item.start, item.stop, item.step)]
            return slice(*parts)
        return self.integer(self.eval(item, scope), item)

    def integer(self, node: Node, ast) -> int:
        value = node.value
        if type(value) is float and math.isfinite(value) and value == int(value):
            return int(value)
        raise DiffiTypeError(f"an index must be a whole number, not {format_value(value)}",
                             start_of(ast))

    def eval_vector(self, ast, scope):
        items = [self.eval(i, scope) for i in ast.items]
        if any(i.value is None for i in items):  # a formula: no value yet
            return self.record(VECTOR, tuple(items), None, ast.span)
        numpy = arrays.np()
        for item, item_ast in zip(items, ast.items):
            if not isinstance(item.value, NUMERIC_TYPES) and not is_array(item.value):
                raise DiffiTypeError(f"a {kind_of(item.value)} cannot be an element of a "
                                     f"vector", start_of(item_ast))
        shapes = {numpy.shape(i.value) for i in items}
        if len(shapes) > 1:
            raise ShapeError("the rows of a matrix must have the same shape; got "
                             + ", ".join(str(s) for s in sorted(shapes)), ast.span)
        if max((len(s) for s in shapes), default=0) >= 32:
            raise ShapeError("tensors have at most 32 dimensions", ast.span)
        value = numpy.array([i.value for i in items], dtype=float)
        self.check_elements(value, ast.span)
        return self.record(VECTOR, tuple(items), value, ast.span)

    def eval_tuple(self, ast, scope):
        items = tuple(self.eval(i, scope) for i in ast.items)
        return self.record(TUPLE, items, tuple(i.value for i in items), ast.span)

    def eval_block(self, ast, scope):
        local = Scope({}, scope)
        for stmt in ast.body:
            self.execute(stmt, local)
        return self.eval(ast.result, local)

    def eval_directive(self, ast, scope):
        return self.directives(self, ast, scope)

    # Recording operations -------------------------------------------------------------

    def apply(self, prim: table.Primitive, inputs, span) -> Node:
        """Evaluate a primitive on input nodes and record the result in the graph."""
        values = [n.value for n in inputs]
        for v in values:
            if type(v) is not float and type(v) is not bool and not is_array(v):
                if v is None:  # a formula in unbound variables: no value yet
                    return self.record(prim, tuple(inputs), None, span)
                raise DiffiTypeError(f"{_describe_op(prim)} needs numbers, "
                                     f"got a {kind_of(v)}", span)
        try:
            value = prim.evaluate(*values)
        except ValueError as error:
            raise ShapeError(_shape_message(prim, values, error), span) from None
        except TypeError as error:
            raise DiffiTypeError(f"{_describe_op(prim)}: {error}", span) from None
        node = self.record(prim, tuple(inputs), value, span)
        self.check_finite(prim, value, values, span)
        return node

    def check_finite(self, prim, value, values, span) -> None:
        """Warn (once a statement) when finite inputs gave a non-finite value."""
        if (value - value != 0 if type(value) is float else not finite(value)) \
                and not self.warned and all(finite(v) for v in values):
            self.warned = True
            self.warn(nonfinite_message("value", prim, value, values), span)

    def record(self, op, inputs, value, span, params=None) -> Node:
        """Add a node to the graph, counting it against the limits."""
        self.nodes += 1
        if self.nodes > self.limits.max_nodes:
            raise LimitError(f"the statement made more than {self.limits.max_nodes} graph "
                             f"nodes (max_nodes)", span)
        if not self.nodes & 1023:
            self.check_deadline(span)
        if type(value) is not float and is_array(value):
            self.check_elements(value, span)
        return Node(op, inputs, value, span, None, self.origin, params)

    def check_deadline(self, span) -> None:
        """Raise LimitError once the statement has run past its timeout."""
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise LimitError(f"the statement ran longer than {self.limits.timeout} s "
                             f"(timeout)", span)

    def check_elements(self, value, span) -> None:
        if value.size > self.limits.max_elements:
            raise LimitError(f"a tensor of {value.size} elements is larger than "
                             f"{self.limits.max_elements} (max_elements)", span)


def nonfinite_message(what: str, prim, value, args) -> str:
    """The non-finite warning: `value of log is -inf at 0`, `derivative of sqrt is …`."""
    return f"{what} of {prim.label} is {_nonfinite_word(value)} at {_format_args(args)}"


def _nonfinite_word(value) -> str:
    if type(value) is float:
        return "nan" if value != value else "infinite"
    numpy = arrays.np()
    return "nan" if numpy.isnan(value).any() else "infinite"


def _describe_op(prim) -> str:
    return f"'{prim.symbol}'" if prim.symbol else prim.name


def _format_args(values) -> str:
    parts = [format_value(v) if not is_array(v) else f"a tensor of shape {v.shape}"
             for v in values]
    return parts[0] if len(parts) == 1 else "(" + ", ".join(parts) + ")"


def _shape_message(prim, values, error) -> str:
    shapes = " and ".join(str(tuple(arrays.np().shape(v))) for v in values)
    return f"shapes {shapes} do not fit {_describe_op(prim)}"
