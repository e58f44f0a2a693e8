"""Compiled code per user function, and the one node a compiled call leaves in the graph.

A function called with numbers is traced and compiled on its second call (scalar.py),
its tapes used while they hold; a function that reaches a cycle of calls (recursion)
is written from its syntax instead, on its first call (functions.py), for plain values.
Otherwise, and wherever compiled code cannot serve a call, the caller interprets.

A call made by compiled code records one node in the graph (the table's DERIVED):
its inputs are what the call depends on outside itself (its arguments and the global
variables it read), and it stands for the graph the interpreter would have
recorded, which is made only when a derivative or `graph` reaches the node: by
replaying the tape that computed the value, or (for a recursive function) by running
the call again in the interpreter, with the global names as they were at the call.
"""
from __future__ import annotations

import math
import weakref

from .. import table
from ..arrays import is_float_tensor
from ..core.evaluator import MOVED_READ, OUTER_READ
from ..core.graph import Node
from ..core.tape import Tape, replay
from ..core.values import Function
from ..errors import DiffiError
from .functions import Fallback, Group, Study
from .orders import Ask, Check, Hessian, Jacobian, Symbolic, Taylor, components_tape
from .scalar import Compiled, TapeCode, Warned, compile_function, reads_hold, trace
from .tensor import TensorTape, shape_kind
from .writers import NotCompilable, Retrace


_FLOATS = {float}  # (the types of arguments compiled code takes: a set test is C-speed)


def _tensor_or_number(value) -> bool:
    return type(value) is float or is_float_tensor(value)


class Entry:
    """What the cache knows of one function: calls so far, its tapes (one per pattern
    of `if` branches), its group (when it recurses), and whether it recurses."""

    __slots__ = ("calls", "variants", "group", "study", "disabled", "no_tensors")

    def __init__(self):
        self.calls = 0
        self.variants: list[Compiled] = []
        self.group: Group | None = None
        self.study: Study | None = None
        self.disabled = False  # not compilable: never tried again
        self.no_tensors = False  # with tensor arguments, not compilable (numbers may be)

    def studied(self, fn, globals_: dict) -> Study:
        """What fn's syntax says (functions.Study), read again when a name it read is
        bound anew."""
        if self.study is None or not self.study.holds(globals_):
            self.study = Study(fn, globals_)
        return self.study


class Cache:
    """Compiled code per function; a function's tape is compiled on its second call."""

    MAX_VARIANTS = 8  # tapes per function (one per pattern of `if` branches)
    # what a directive may ask of `expression` besides a gradient or a tangent (the
    # directives reach the compiler only through the cache, which the evaluator loads)
    Taylor, Hessian, Jacobian, Check, Symbolic = Taylor, Hessian, Jacobian, Check, Symbolic

    def __init__(self):
        # weak, so that a function no longer reachable (a closure made by a call) takes
        # its code with it
        self.entries: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self.pending: dict = {}  # id(fn) -> (its first call's tape, the names it read)
        self.used = None  # the Compiled (or Group) of the last result run gave
        # a directive's expression (not a call) at a point of numbers: key -> Expression
        self.expressions: dict = {}
        # a minimize statement's loss: key -> (expr, shapes, reads, its training code)
        self.training: dict = {}

    def seen(self, fn) -> None:
        """fn was called once before the cache was made (its second call compiles)."""
        entry = self.entries.get(fn)
        if entry is None:
            self.entries[fn] = entry = Entry()
            entry.calls = 1

    def remember(self, fn, inputs, output, reads) -> None:
        """Keep the graph of a first call, so that the second call need not trace again."""
        entry = self.entries.get(fn)
        if entry is not None and entry.calls == 1 and not entry.variants \
                and type(output.value) is float:
            self.pending = {id(fn): (Tape([output], inputs), reads)}

    def run(self, ev, fn, args: tuple, gradient, compile: bool = True,
            tensors: bool = False):
        """fn's value at args by compiled code, or None to interpret instead.

        gradient: False (the value), True (value and gradient), or a tuple of seeds
        (value and the tangent along them: forward mode). `used` is then the code that
        gave it. With compile=False only code compiled already is tried (nothing is
        traced or compiled, and the call is not counted). With `tensors`, args may hold
        float tensors (a TensorTape then serves a value or a value and its gradient);
        else every argument must be a number.
        """
        if fn.scope is not None:
            return None  # (a closure's captured names are not guarded: never compiled)
        if not args or set(map(type, args)) == _FLOATS:
            tensors = False
        elif not tensors or gradient not in (False, True) \
                or not all(map(_tensor_or_number, args)):
            return None  # (tensors: NumPy code, values and reverse-mode gradients only)
        entry = self.entries.get(fn)
        if entry is None:
            if not compile:
                return None
            entry = self.entries[fn] = Entry()
        entry.calls += compile
        study = entry.studied(fn, ev.globals.vars)
        if study.effects or (entry.no_tensors or study.recursive if tensors else entry.disabled):
            return None  # (numbers and tensors: each kind of code may fail on its own)
        if gradient is False and study.recursive:
            return self._group_value(ev, fn, entry, args) if compile else None
        entry.variants = [c for c in entry.variants if c.valid(ev.globals.vars)]
        for compiled in entry.variants:
            if isinstance(compiled, TensorTape) is not tensors:
                continue
            result = _attempt(compiled, args, gradient)
            if result is not None:
                return self._served(ev, compiled, result)
        if not compile or entry.calls < 2 or len(entry.variants) >= self.MAX_VARIANTS:
            return None
        try:
            pending = None if tensors else self.pending.pop(id(fn), None)
            compiled = Compiled(*pending) if pending and reads_hold(pending[1], ev.globals.vars) \
                else None
            compiled = compiled or (
                TensorTape(*trace(ev, fn, args, tensors=True)).prepare(gradient) if tensors
                else compile_function(ev, fn, args))
        except Warned:
            return None
        except (NotCompilable, RecursionError):
            if tensors:
                entry.no_tensors = True
            else:
                entry.disabled = True  # (numbers; its tensor code may serve on)
                entry.variants = [c for c in entry.variants if isinstance(c, TensorTape)]
            return None
        entry.variants.append(compiled)
        result = _attempt(compiled, args, gradient)
        return None if result is None else self._served(ev, compiled, result)

    def expression(self, ev, key: tuple, expr, args: tuple, gradient, trace,
                   reading: bool = False, free: tuple = (), outer: frozenset = frozenset()):
        """A directive's value over an expression by compiled code: `trace()` gives the
        expression's Traced (every input, in args' order) when a tape is to be made (the
        caller asks from the second time the directive runs). None: the directive computes
        it as it would. `used` is then the code that gave it.

        Served only while every global name the tape read is bound as it was; and, unless
        `reading` (the caller makes the result part of the graph from the code's tape),
        only when the tape reads no variable outside its inputs (its result then depends
        on nothing else). `free`: names the tapes take as arguments, whose bindings they
        need not guard. `outer`: bindings around a directive in a block or a function's
        body that are not its inputs; a tape that reads one is not kept (it would keep
        that binding's value of this call). A point where a tape traced there could not
        serve is not traced again while the tapes hold."""
        entry = self.expressions.get(key)
        if entry is None or entry.expr is not expr:
            if len(self.expressions) >= 256:
                self.expressions.clear()
            entry = self.expressions[key] = Expression(expr)
        if entry.disabled or ev.point is not None:
            return None  # (an enclosing directive's point rebinds names: the tapes read them)
        valid = [c for c in entry.variants if c.valid(ev.globals.vars)]
        if len(valid) < len(entry.variants):
            entry.variants, entry.refused = valid, set()
        tensors = any(type(a) is not float for a in args)  # (a TensorTape's to serve)
        asked = None if tensors else (
            args, gradient if type(gradient) in (bool, tuple) else type(gradient))
        if asked in entry.refused:
            return None  # (a tape traced at this very point could not serve it)
        enclosing = ev.recording  # (a function's trace this directive is part of)
        for compiled in entry.variants:
            if isinstance(compiled, TensorTape) is not tensors:
                continue
            result = _attempt(compiled, args, gradient)
            if result is not None:
                return self._served_expression(ev, compiled, result, enclosing)
        if trace is None or len(entry.variants) >= self.MAX_VARIANTS:
            return None  # (no trace given: only the tapes kept may serve)
        saved = ev.recording, ev.warn, ev.warned, ev.compiled_calls, ev.outer
        ev.recording, warned, ev.outer = {}, [], outer
        ev.compiled_calls = False  # (the calls it makes are inlined)
        ev.warn = lambda message, span: warned.append(message)
        ev.warned = False  # (a statement's first warning may have been given, or be muted)
        start = Node(table.CONST, (), 0.0).id  # (nodes made by the trace come after it)
        try:
            traced = trace()
            if OUTER_READ in ev.recording:
                raise NotCompilable("the directive reads a name of the scope around it")
            tape = components_tape(traced) if isinstance(gradient, Jacobian) else traced.tape
            if type(tape.outputs[0].value) is not float:
                raise NotCompilable("the expression's value is not a number")
            compiled = TensorTape(tape, ev.recording).prepare(True) if tensors \
                else Compiled(tape, ev.recording)
            compiled.result = traced.output  # (a jacobian's tape has its elements instead)
            # (the globals the tape takes as inputs: a function's trace this directive is
            # part of must still guard them, though the tape need not)
            compiled.input_reads = tuple(name for name in free if name in compiled.reads)
            _unguard_inputs(compiled.reads, free, tape, start)
        except (NotCompilable, RecursionError, DiffiError):
            entry.disabled = True
            return None
        finally:
            ev.recording, ev.warn, ev.warned, ev.compiled_calls, ev.outer = saved
        if warned:  # (the directive warns as it computes the value itself)
            entry.refuse(asked)
            return None
        if not reading and (compiled.outside or not all(
                b is None or isinstance(b.node.value, Function) for b in compiled.reads.values())):
            entry.disabled = True  # (its result depends on variables: the directive says how)
            return None
        entry.variants.append(compiled)
        result = _attempt(compiled, args, gradient)
        if result is None:  # (not a branch: the tape was traced here; a kink, say)
            entry.refuse(asked)
            return None
        return self._served_expression(ev, compiled, result, enclosing)

    def _served_expression(self, ev, compiled, result, enclosing):
        """A directive's compiled result; the names its tape read, and the globals it
        took as inputs, are read by the trace of a function the directive is part of
        too (that function's code must guard them as they are bound now)."""
        self.used = compiled
        if enclosing is not None:
            enclosing.update(compiled.reads)
            for name in compiled.input_reads:
                enclosing[name] = ev.globals.vars.get(name)
        return result

    def training_code(self, ev, key: tuple, expr, weights: tuple, make, free: tuple,
                      outer: frozenset):
        """The loss-and-gradient code of a `minimize` statement (make() traces the loss
        at the weights and compiles it: compile.tensor.compile_problem), kept for the
        next statement over the same expression while the weights keep their shapes and
        every other global name the trace read is bound as it is now. The weights are
        not guarded (the code takes them as arguments, and each run rebinds them),
        unless a name the loss read moved with them (`code.moved`); code for a loss that
        reads a name of the scope around the statement, or whose names moved, is not
        kept."""
        shapes = tuple(map(shape_kind, weights))
        kept = self.training.get(key)
        if kept is not None and kept[0] is expr and kept[1] == shapes \
                and reads_hold(kept[2], ev.globals.vars):
            return kept[3]
        saved = ev.recording, ev.outer
        ev.recording, ev.outer = {}, outer
        start = Node(table.CONST, (), 0.0).id  # (nodes made by the trace come after it)
        try:
            code = make()
            reads = ev.recording
        finally:
            ev.recording, ev.outer = saved
        code.moved = _unguard_inputs(reads, free, code.tape, start)  # (moved: not kept)
        if OUTER_READ not in reads and not code.moved:
            if len(self.training) >= 64:
                self.training.clear()
            self.training[key] = (expr, shapes, reads, code)
        return code

    def forget_training(self, key: tuple) -> None:
        """A kept training code that could not serve (another branch): trace again."""
        self.training.pop(key, None)

    def value_function(self, ev, fn, args: tuple):
        """fn's compiled value code that serves args now, as a function of a tuple of
        numbers giving a finite float or None (a guard that fails, a float error, a
        result not finite: the caller then runs the call itself); None when no code
        serves args. For a run of calls in which no binding can change (numeric mode's
        evaluations of one directive): the per-call checks of `run` are made once."""
        if ev.point is not None or self.run(ev, fn, args, gradient=False) is None \
                or not isinstance(self.used, Compiled):
            return None
        code = self.used.value

        def value(point: tuple):
            try:
                result = code(*point)
            except (Retrace, ArithmeticError, ValueError):
                return None
            return result if type(result) is float and result - result == 0 else None
        return value

    def _served(self, ev, code, result):
        """A result of compiled code, if the point a directive evaluates at (if any)
        leaves every variable the code read as it was."""
        if ev.point is not None and not _unchanged(ev.point, code.reads):
            return None
        self.used = code
        return result

    def _group_value(self, ev, fn, entry: Entry, args: tuple):
        group = entry.group
        timed = True  # (Ctrl-C and the timeout both live in the call's budget: always look)
        if group is None or group.timed != timed or not group.valid(ev.globals.vars):
            try:
                group = entry.group = Group(fn, ev.globals.vars, timed)
            except (NotCompilable, RecursionError):
                entry.disabled = True
                return None
        try:
            value = group.run(args, ev.depth, ev.limits.max_depth,
                              lambda: ev.check_deadline(None))
        except Fallback:
            return None
        return self._served(ev, group, value)

    def call(self, ev, fn, nodes: list, span) -> Node | None:
        """fn(*nodes) by compiled code, recorded as one node that stands for the call's
        graph (see the module's docstring); None: the caller interprets."""
        args = tuple(n.value for n in nodes)
        value = self.run(ev, fn, args, gradient=False, tensors=True)
        if value is None:
            return None
        code = self.used
        if ev.recording is not None:  # a trace being compiled read what the call read
            ev.recording.update(code.reads)
        reached = code.reached if isinstance(code, TapeCode) else range(len(nodes))
        found = {nodes[k].id: nodes[k] for k in reached}
        for node in code.outside:
            found.setdefault(node.id, node)
        graph = ReplayedCall(code, nodes) if isinstance(code, TapeCode) \
            else InterpretedCall(ev, fn, code, nodes)
        return ev.record(table.DERIVED, tuple(found[k] for k in sorted(found)), value, span,
                         params=graph)


class Expression:
    """What the cache knows of one directive's expression: its tapes (one per pattern of
    `if` branches)."""

    __slots__ = ("expr", "variants", "disabled", "refused", "misses")

    def __init__(self, expr):
        self.expr = expr  # (held: the key is its id)
        self.variants: list[Compiled] = []
        self.disabled = False
        # (point, what was asked) where a tape traced at that point could not serve: not
        # traced again there while the tapes hold (a check at a kink, asked again)
        self.refused: set = set()
        self.misses = 0  # tensor points (not kept: no key) where a fresh tape failed

    def refuse(self, asked: tuple | None) -> None:
        if asked is None:  # (a point with tensors: after three, no more tapes)
            self.misses += 1
            self.disabled = self.misses >= 3
            return
        if len(self.refused) >= 64:
            self.refused.clear()
        self.refused.add(asked)


def _unguard_inputs(reads: dict, free: tuple, tape: Tape, start: int) -> bool:
    """Take the names a tape takes as inputs (`free`) out of the guards its trace
    recorded, where that is safe: nothing it read moved with them (MOVED_READ: `v = w*2`
    read at a point that sets w) and every step is the trace's own (`start`: the first
    node id it could make; else a global's graph moves with an input, `y = x*2`, and
    `d/dx x*y` keeps x's guard). Whether something moved."""
    moved = reads.pop(MOVED_READ, False) is None
    if not moved and all(step.id > start for step in tape.steps):
        for name in free:
            reads.pop(name, None)
    return moved


def _unchanged(point, reads: dict) -> bool:
    """Whether a point (tape.Overrides) leaves every name read as it was bound."""
    try:
        return all(b is None or point.resolve(b) is b.node for b in reads.values())
    except DiffiError:  # (re-evaluating a name took another branch: the interpreter says)
        return False


class CallGraph:
    """The params of a compiled call's node: its graph, made when first asked for."""

    __slots__ = ("_graph",)
    is_call = True  # (what `graph` looks for, to show the call as the interpreter would)

    def __init__(self):
        self._graph = None

    def expand(self, node: Node) -> Node:
        """The graph that computes the node's value from its inputs, named as the
        interpreter would have named its result."""
        if self._graph is None:
            out, fresh = self._build(node)
            if node.name is not None and out.name != node.name:
                if out.name is None and fresh:  # as `y = c(x)` names c's last node
                    out.name = node.name
                else:
                    out = Node(table.ALIAS, (out,), out.value, out.span, node.name,
                               node.origin)
            self._graph = out
        return self._graph

    def recompute(self, values):
        raise DiffiError("internal error: a compiled call's result was recomputed directly")


class ReplayedCall(CallGraph):
    """A call computed by a compiled tape: the tape, replayed on the call's arguments."""

    __slots__ = ("compiled", "args")

    def __init__(self, compiled: TapeCode, args: list):
        super().__init__()
        self.compiled, self.args = compiled, tuple(args)

    def _build(self, node: Node) -> tuple[Node, bool]:
        """The replayed graph's output, and whether it is a new node (not the tape's own
        or an argument)."""
        tape = self.compiled.tape
        substitute = {inp.id: arg for inp, arg in zip(tape.inputs, self.args)}
        out = replay(tape.outputs[0], substitute, {})
        return out, out is not tape.outputs[0] and all(out is not a for a in self.args)


class InterpretedCall(CallGraph):
    """A call computed by a group: the call run again by the interpreter, with the
    global names the group read bound as they were."""

    __slots__ = ("ev", "fn", "reads", "args")

    def __init__(self, ev, fn, group: Group, args: list):
        super().__init__()
        self.ev, self.fn, self.args = ev, fn, tuple(args)
        self.reads = {name: b for name, b in group.reads.items() if b is not None}

    def _build(self, node: Node) -> tuple[Node, bool]:
        out = self.ev.interpret_call(self.fn, list(self.args), node.span, self.reads)
        return out, all(out is not a for a in self.args) and out.origin is not None


def _attempt(compiled: Compiled, args: tuple, gradient):
    """The compiled result, or None when a guard fails or a float exception (or a
    non-finite result, which the interpreter must warn about) happens."""
    try:
        if isinstance(gradient, Ask):
            answered = gradient.answer(compiled, args)
            if answered is None:
                return None
            result, total = answered
        elif gradient is True:
            result = compiled.value_and_grad(*args)
            total = result[0] + math.fsum(  # (a TensorTape checks its tensors itself)
                g for g in result[1] if type(g) is float)
        elif gradient:
            result = compiled.value_and_tangent(*args, *gradient)
            total = result[0] + result[1]
        else:
            result = total = compiled.value(*args)
            if type(total) is not float and isinstance(compiled, TensorTape):
                total = 0.0  # (a tensor: the tape checked it is finite)
    except (Retrace, ArithmeticError, ValueError, NotCompilable):
        return None
    if type(total) is not float or total - total != 0:  # non-finite: the interpreter warns
        return None
    return result
