"""Evaluation of syntax trees into graph nodes.

Every operation goes through `Evaluator.apply`, which evaluates a primitive of the
table and records a Node. Chains of operators (`a + b + c + …`, `x^y^z`, `- - x`)
are walked in loops, so long formulas do not grow Python's stack.
"""
from __future__ import annotations

import functools
import math
import time
import weakref

from .. import arrays, calls, table
from ..arrays import as_value, finite, is_array, is_float_tensor
from ..errors import (ArityError, DiffiError, DiffiNameError, DiffiTypeError, LimitError,
                      NamedSpan, ShapeError, Span, needs_point)
from ..language import hints
from ..language import syntax as S
from ..language.parser import leibniz_spelling, start_of
from .graph import Binding, Node, Scope
from .library import BUILTINS, SPELLINGS, constant
from .limits import Limits, Memory, operation_size
from .values import (PRECISION, SUMMARY_THRESHOLD, Function, UserFunction, format_value,
                     kind_of)

from ..table import ALIAS, IFELSE, INDEX, LOGIC, SELECT, TUPLE, VECTOR  # noqa: E402

NUMERIC_TYPES = (float, bool)
# The name under which a trace being compiled records that it read one of `outer`'s
# bindings (no diffi name has a space): such a tape cannot be kept (see Evaluator.outer).
OUTER_READ = " outer"
# ... and that it read a binding the trace's point re-evaluated along its graph (`v = w*2`
# read at a point that sets w): the inputs' own bindings must then stay guarded, since
# once w is bound anew, v no longer moves with it.
MOVED_READ = " moved"
_RANDOM, _CHECKS = object(), object()  # undo entries of the random generator, the checks


class Evaluator:
    """Runs statements against a global scope, recording the graph as it goes."""

    def __init__(self, globals_: dict, limits: Limits, output, warn, precision=PRECISION, *,
                 directives, compile_cache):
        self.globals = Scope(globals_)
        self.limits = limits
        self.memory = Memory(limits)  # the tensor data the graph holds (max_memory)
        self.budget = calls.Budget(limits.timeout)  # the running call's (diffi.calls)
        self.source = ("", "<input>")  # the text and name of the source running
        self.statement_source = self.source  # the statement's (source differs in a call)
        self.output = output          # output(text): print's sink
        self.on_print = None          # on_print(text, values, span): print's, if given
        self.warn = warn              # warn(message, span)
        self.precision = precision
        self.threshold = SUMMARY_THRESHOLD  # tensors of more elements print summarised
        self.origin = None            # the function being inlined, if any
        self.depth = 0
        self.nodes = 0
        self.warned = False
        self.formula_shapes = {}      # node id -> shape, for formula nodes (formula_node)
        self.noted = set()            # notes given this statement (see note)
        self.point = None             # the point a directive evaluates at (tape.Overrides)
        self.files = True             # may `load` and `graph … to` touch files
        self.base_dir = None          # where relative file names start (a script's folder)
        self.failed_checks = 0        # `check` directives that found modes disagreeing
        self.last_gradient = {}       # node id -> adjoint of the last reverse pass (graph)
        self.recording = None         # global name -> Binding read, while compiling
        # bindings of the scopes around a directive being compiled (a function's
        # parameters, a block's names) that are not its inputs: its tape would keep the
        # value one of them has now, which the next call may not share
        self.outer = frozenset()
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
        self.formula_shapes = {}
        self.noted.clear()
        self.point = None
        self.undo = []  # what the statement changed beyond its own result (roll_back)
        self.budget.begin_statement()

    # A statement is atomic: what it changes besides binding its result (minimize's
    # weights and `losses`, the random generator, the count of failed checks) is logged
    # as it happens, and a statement that fails takes it all back. Ctrl-C takes back
    # all but a training's progress (Ctrl-C keeps the last completed step, as documented).

    def rebind(self, scope: Scope, name: str, binding: Binding,
               progress: bool = False) -> None:
        """Bind a name in a scope, as a change the statement takes back if it fails
        (`progress`: a training's, which Ctrl-C keeps)."""
        self.undo.append((scope.vars, name, scope.vars.get(name), progress))
        scope.vars[name] = binding

    def save_random(self) -> None:
        """Keep the random generator's state, once a statement, before it is used."""
        if not any(entry[0] is _RANDOM for entry in self.undo):
            state = None if self.random is None else self.random.bit_generator.state
            self.undo.append((_RANDOM, self.random, state, False))

    def count_failed_check(self) -> None:
        self.undo.append((_CHECKS, self.failed_checks, None, False))
        self.failed_checks += 1

    def roll_back(self, interrupted: bool = False) -> None:
        """Undo what the failed statement changed, newest first (after Ctrl-C, all but
        a training's progress)."""
        undo, self.undo = self.undo, []
        for target, key, old, progress in reversed(undo):
            if progress and interrupted:
                continue
            if target is _RANDOM:
                self.random = key
                if key is not None:
                    key.bit_generator.state = old
            elif target is _CHECKS:
                self.failed_checks = key
            elif old is None:
                target.pop(key, None)
            else:
                target[key] = old

    def execute(self, stmt, scope: Scope) -> Node | None:
        """Run one statement; return the node of an expression statement's value."""
        kind = type(stmt)
        if kind is S.ExprStmt:
            return self.eval(stmt.expr, scope)
        if kind is S.Assign:
            node = self.eval(stmt.value, scope)
            self.bind(scope, stmt.target.id,
                      Binding(stmt.target.id, self.label(node, stmt.target.id), stmt.value))
        elif kind is S.FuncDef:
            fn = UserFunction(stmt.name.id, [p.id for p in stmt.params], stmt.body,
                              None if scope is self.globals else scope, self.source)
            self.bind(scope, fn.name, Binding(fn.name, constant(fn, fn.name, stmt.span), stmt))
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
            self.bind(scope, target.id,
                      Binding(target.id, self.label(part, target.id), stmt.value))

    def bind(self, scope: Scope, name: str, binding: Binding) -> None:
        """A statement's own binding: logged in the global scope (a Ctrl-C forced in
        after it takes it back), plain in a block's."""
        if scope is self.globals:
            self.rebind(scope, name, binding)
        else:
            scope.vars[name] = binding

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
            if self.recording is not None:
                if self.globals.vars.get(ast.id) is binding:
                    self.recording[ast.id] = binding
                elif binding in self.outer:
                    self.recording[OUTER_READ] = binding
            if self.point is not None:
                node = self.point.resolve(binding)
                if self.recording is not None and node is not binding.node \
                        and binding not in self.point.replaced:
                    self.recording[MOVED_READ] = None
                return node
            return binding.node
        node = BUILTINS.get(ast.id)
        if node is None:
            raise self.undefined(ast.id, ast.span, scope)
        if self.recording is not None:  # a later global of this name must invalidate
            self.recording[ast.id] = None
        return node

    def undefined(self, name: str, span, scope: Scope, called: bool = False) -> DiffiNameError:
        """The error for an unbound name, with the names it may be a slip for."""
        known = (scope.names() | set(BUILTINS)) - {name}
        if called:  # `inv(2)` suggests a function, never the constant inf
            known = {n for n in known if isinstance(self._value_of(n, scope), Function)}
        hint = hints.did_you_mean(name, known, SPELLINGS)
        error = DiffiNameError(f"name '{name}' is not defined{hint}", span)
        error.name = name
        return error

    @staticmethod
    def _value_of(name: str, scope: Scope):
        binding = scope.lookup(name)
        return binding.node.value if binding is not None else BUILTINS[name].value

    def eval_binary(self, ast, scope):
        if ast.op == "^":
            return self._eval_power_chain(ast, scope)
        spine = []
        while type(ast) is S.Binary and ast.op != "^":
            spine.append(ast)
            ast = ast.left
        try:
            acc = self.eval(ast, scope)
            for node in reversed(spine):
                right = self.eval(node.right, scope)
                acc = self.apply(table.BINARY[node.op], (acc, right), node.span)
        except DiffiNameError as error:
            _name_the_derivative(error, spine)
            raise
        return acc

    def _eval_power_chain(self, ast, scope):
        spine = []
        while type(ast) is S.Binary and ast.op == "^":
            spine.append((ast, self.eval(ast.left, scope)))
            ast = ast.right
        if type(ast) is S.Name and ast.id == "T":
            acc = self._transpose_exponent(ast, spine[-1], scope)
        else:
            acc = self.eval(ast, scope)
            if type(ast) is S.Num and ast.value == -1 and ast.span == spine[-1][0].span:
                self._warn_inverse(*spine[-1])
        for node, base in reversed(spine):
            acc = self.apply(table.POW, (base, acc), node.span)
        return acc

    def _transpose_exponent(self, ast, power, scope) -> Node:
        """The T of `W^T`: the board's transpose is transpose(W), whether or not T is bound."""
        node, base = power
        spelling = f"transpose({S.unparse(node.left, S.IF)})"
        if scope.lookup("T") is None and "T" not in BUILTINS:
            raise DiffiNameError(f"name 'T' is not defined; for the transpose write "
                                 f"{spelling}", ast.span)
        exponent = self.eval(ast, scope)
        if is_array(base.value) and base.value.ndim == 2:
            caret = Span(node.span.line, node.span.column, ast.span.end_line,
                         ast.span.end_column)  # under `^T`
            self.warn(f"{S.unparse(node)} is the elementwise power; for the transpose "
                      f"write {spelling}", caret)
        return exponent

    def _warn_inverse(self, node, base) -> None:
        """The board's W⁻¹ of a matrix is its inverse; diffi's is the elementwise 1/W.
        (Only the superscript: its power and exponent share the one token's span.)"""
        if is_array(base.value) and base.value.ndim == 2:
            name = S.unparse(node.left, S.POSTFIX)
            self.warn(f"{name}⁻¹ is the elementwise power 1/{name}, not the matrix "
                      f"inverse (diffi has none)", node.span)

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
        func = ast.func
        try:
            callee = self.eval(func, scope)
        except DiffiNameError:
            if type(func) is S.Name and scope.lookup(func.id) is None:
                raise self.undefined(func.id, func.span, scope, called=True) from None
            raise
        fn = callee.value
        if fn is None and type(func) is S.Name:  # a free variable of a formula
            raise self.undefined(func.id, func.span, scope, called=True)
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
            if all(type(n.value) is float or is_float_tensor(n.value) for n in nodes) \
                    and self._compiler_wanted(fn):
                node = self.compiled.call(self, fn, nodes, span)
                if node is not None:
                    return node
        local = Scope({p: Binding(p, bound[p]) for p in params}, fn.scope or self.globals)
        self.depth += 1
        if self.depth > self.limits.max_depth:
            raise LimitError(f"recursion deeper than {self.limits.max_depth} calls "
                             f"(max_depth) in {fn.name}", span)
        saved, self.origin = self.origin, fn.name
        source, self.source = self.source, fn.source or self.source
        try:
            return self.eval(fn.body, local)
        except DiffiError as error:  # drawn against the source that defined the function
            raise error.locate(*self.source)
        finally:
            self.origin, self.source = saved, source
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
        key = tuple(self.index_item(item, scope) for item in ast.items)
        if target.value is None and self.shape_of(target) == ():
            raise DiffiTypeError("a number cannot be indexed", ast.span)  # (as with values)
        if target.value is None:  # a formula's tensor (no values): indexed when it has one
            return self.formula_node(INDEX, [target], ast.span, params=key,
                                     compute=lambda probes: probes[0][key])
        if not is_array(target.value):
            raise DiffiTypeError(f"a {kind_of(target.value)} cannot be indexed", ast.span)
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
        if isinstance(part, Node):
            return part
        # (a tuple made some other way, shape(A) say: its part stays over it, so it is
        # made again where the graph is evaluated at another point)
        return self.record(table.PART, (target,), part, ast.span, params=i % len(parts))

    def index_item(self, item, scope):
        if isinstance(item, S.Slice):
            parts = [None if p is None else self.integer(self.eval(p, scope), p)
                     for p in (item.start, item.stop, item.step)]
            return slice(*parts)
        return self.integer(self.eval(item, scope), item)

    def integer(self, node: Node, ast) -> int:
        value = node.value
        if value is None:  # (a formula's variable: an index needs its value)
            raise needs_point("an index", start_of(ast))
        if type(value) is float and math.isfinite(value) and value == int(value):
            return int(value)
        shown = format_value(value)  # (a long string is shortened: a message stays short)
        shown = shown if len(shown) <= 1000 else shown[:999] + "…"
        raise DiffiTypeError(f"an index must be a whole number, not {shown}", start_of(ast))

    def eval_vector(self, ast, scope):
        items = [self.eval(i, scope) for i in ast.items]
        for item, item_ast in zip(items, ast.items):
            if item.value is not None and not isinstance(item.value, NUMERIC_TYPES) \
                    and not is_array(item.value):
                raise DiffiTypeError(f"a {kind_of(item.value)} cannot be an element of a "
                                     f"vector", start_of(item_ast))
        if any(i.value is None for i in items):  # a formula: no value yet
            return self.formula_node(VECTOR, items, ast.span, compute=_stacked,
                                     misfit=lambda probes, error: rows_message(
                                         {arrays.np().shape(p) for p in probes}))
        numpy = arrays.np()
        shapes = {numpy.shape(i.value) for i in items}
        if len(shapes) > 1:
            raise ShapeError(rows_message(shapes), ast.span)
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
        tensors = formula = False
        for v in values:
            if type(v) is not float and type(v) is not bool:
                if is_array(v):
                    tensors = True
                elif v is None:  # a formula in unbound variables: no value yet
                    formula = True
                else:  # (a string or a function, even beside an unbound variable)
                    raise DiffiTypeError(f"{_describe_op(prim)} needs numbers, "
                                         f"got a {kind_of(v)}", span)
        if formula:
            return self.formula_node(prim, inputs, span,
                                     elementwise=prim is not table.MATMUL,
                                     compute=lambda probes: prim.evaluate(*probes))
        cost = self.before_operation(prim, values, span) if tensors else None
        try:
            value = prim.evaluate(*values) if cost is None else self.timed(cost, prim, values)
        except ValueError:
            raise ShapeError(shape_message(prim, values), span) from None
        except TypeError as error:
            raise DiffiTypeError(f"{_describe_op(prim)}: {error}", span) from None
        node = self.record(prim, tuple(inputs), value, span)
        self.check_finite(prim, value, values, span)
        return node

    def before_operation(self, prim, values, span, params=None):
        """Refuse, before it runs, a tensor operation whose result is larger than the
        limits allow, or which cannot finish in the time left (its size and cost come
        from its operands' shapes: elements, times the inner dimension of a product).
        Its cost, (kind, steps), when it is large enough to learn the machine's speed."""
        numpy = arrays.np()
        try:
            size = operation_size(prim, [numpy.shape(v) for v in values], params)
        except ValueError:
            raise ShapeError(shape_message(prim, values), span) from None
        if size is None:
            return None
        elements, steps, product = size
        self.memory.reserve(elements, span, f"the result of {_describe_op(prim)}")
        if steps < 1_000_000:
            return None
        kind = "product" if product else "element"
        if self.budget.deadline is not None:
            self.budget.afford(steps / calls.rate(kind), f"{_describe_op(prim)} on a "
                               f"result of {elements:,} elements", span)
        return kind, steps

    def reserve(self, elements: int, span, what: str = "a tensor") -> None:
        """Refuse, before it is made, a tensor the limits or the time left do not allow."""
        self.memory.reserve(elements, span, what)
        if elements >= 1_000_000 and self.budget.deadline is not None:
            self.budget.afford(elements / calls.rate("element"),
                               f"making {what} of {elements:,} elements", span)

    @staticmethod
    def timed(cost, prim, values, params=None, compute=None):
        """An operation's value, its duration taught to diffi.calls (the machine's speed)."""
        start = time.perf_counter()
        value = prim.evaluate(*values) if compute is None else compute(values, params)
        calls.observe(cost[0], cost[1], time.perf_counter() - start)
        return value

    def check_finite(self, prim, value, values, span) -> None:
        """Warn (once a statement) when finite inputs gave a non-finite value."""
        if (value - value != 0 if type(value) is float else not finite(value)) \
                and not self.warned and all(finite(v) for v in values):
            self.warned = True
            self.warn(nonfinite_message("value", prim, value, values), self.named(span))

    def named(self, span):
        """A span inside a function from another source, with that source's name."""
        if span is None or self.source == self.statement_source:
            return span
        return NamedSpan(span.line, span.column, span.end_line, span.end_column,
                         self.source[1])

    def formula_node(self, op, inputs, span, params=None, compute=None,
                     misfit=None, elementwise=False) -> Node:
        """A node of a formula (an input has no value yet), recorded without a value.
        Its shape is worked out from its inputs' shapes when they are known — by running
        the operation on zeros of those shapes — so that shapes that do not fit are an
        error here, as they are with values (`d/dx sum([x, 1] + [1, 2, 3])` printed 1)."""
        node = self.record(op, tuple(inputs), None, span, params=params)
        shapes = [self.shape_of(i) for i in inputs]
        if compute is None or None in shapes:
            return node
        try:  # (checked in the order the operation on values checks: before_operation)
            operation_size(op, shapes, params)
        except ValueError:
            raise ShapeError(shape_message(op, _zeros(shapes)), span) from None
        try:
            shape = probe_shape(op, shapes, compute, elementwise)
        except ValueError as error:  # (worded as the same operation on values words it)
            probes = _zeros(shapes)
            message = misfit(probes, error) if misfit else shape_message(op, probes)
            raise ShapeError(message, span) from None
        except IndexError as error:
            raise DiffiTypeError(f"bad index: {error}", span) from None
        except Exception:  # (an operation zeros cannot run: its shape stays unknown)
            return node
        if shape is not None:
            self.formula_shapes[node.id] = shape
        return node

    def shape_of(self, node: Node):
        """A node's shape: its value's, or a formula node's worked out (formula_node);
        a formula's own variables are numbers; None when it is not known."""
        value = node.value
        if value is None:
            shape = self.formula_shapes.get(node.id)
            return () if shape is None and node.op is table.CONST and not node.inputs \
                else shape
        if type(value) is float or type(value) is bool:
            return ()
        return value.shape if is_array(value) else None

    def record(self, op, inputs, value, span, params=None) -> Node:
        """Add a node to the graph, counting it against the limits."""
        self.nodes += 1
        if self.nodes > self.limits.max_nodes:
            raise LimitError(f"the statement made more than {self.limits.max_nodes} graph "
                             f"nodes (max_nodes)", span)
        if not self.nodes & 1023:
            self.budget.check(span)
        if type(value) is not float and is_array(value):
            self.check_elements(value, span)
            self.memory.track(value)
        return Node(op, inputs, value, span, None, self.origin, params)

    def check_deadline(self, span) -> None:
        """Raise LimitError once the statement has run past its timeout (and
        KeyboardInterrupt after Ctrl-C): the running call's budget decides."""
        self.budget.check(span)

    def check_elements(self, value, span) -> None:
        if value.size > self.limits.max_elements:
            raise LimitError(f"a tensor of {value.size} elements is larger than "
                             f"{self.limits.max_elements} (max_elements)", span)


PROBE_ELEMENTS = 100_000  # formula shapes are checked on zeros up to this many elements


def _count(shape) -> int:
    return math.prod(shape)


def _zeros(shapes) -> list:
    return [arrays.np().zeros(s) for s in shapes]  # (0-d arrays: NumPy's rules, not math's)


def probe_shape(op, shapes, compute, elementwise: bool):
    """The shape of op's result on inputs of these shapes, found by running compute on
    zeros of them (numbers through an elementwise operation give a number, unrun);
    None when too large to try or a tuple. Shapes that do not fit raise as the
    operation does (ValueError, IndexError): the evaluator reports it, a formula
    builder takes it as unknown. One mechanism for both."""
    if sum(map(_count, shapes)) > PROBE_ELEMENTS:
        return None
    if elementwise and not any(shapes):
        return ()
    numpy = arrays.np()
    with numpy.errstate(all="ignore"):
        value = compute(_zeros(shapes))
    return None if isinstance(value, tuple) else numpy.shape(value)


def rows_message(shapes) -> str:
    return "the rows of a matrix must have the same shape; got " + ", ".join(
        str(s) for s in sorted(shapes))


def _stacked(items):
    """A vector of items (as eval_vector makes one): rows of one shape only."""
    shapes = {arrays.np().shape(i) for i in items}
    if len(shapes) > 1:
        raise ValueError("rows")
    return arrays.np().array(items, dtype=float)


def _name_the_derivative(error: DiffiNameError, spine) -> None:
    """`dy/dx` with dy not defined divides two names; the message names d/dx y."""
    name, span = getattr(error, "name", None), error.span
    if not name or name[0] != "d" or span is None:
        return
    for node in spine:
        right = node.right
        if node.op == "/" and type(right) is S.Name and _adjacent(span, node.span) \
                and _adjacent(node.span, right.span):
            spelling = leibniz_spelling(f"{name}/{right.id}")
            if spelling is not None:
                error.message = (f"name '{name}' is not defined: {name}/{right.id} divides "
                                 f"{name} by {right.id}; for the derivative write {spelling}")
                error.args = (error.message,)
            return


def _adjacent(left, right) -> bool:
    return left.end_line == right.line and left.end_column == right.column


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


def shape_message(prim, values) -> str:
    shapes = " and ".join(str(tuple(arrays.np().shape(v))) for v in values)
    return f"shapes {shapes} do not fit {_describe_op(prim)}"
