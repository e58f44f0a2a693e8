"""Compiling a scalar function's tape to straight-line Python, for fast values and gradients.

A user function called with scalars is traced once; its tape becomes a Python
function: the value's operations (single-use results written into their consumer),
then the backward sweep: each node's adjoint times its partials, added into its
inputs' adjoints (the inputs of a sum share its adjoint and write nothing). The
backward lines come from the table's own `partials` rules, run
with a backend that writes code instead of computing (a writer's `ap`), so the
compiled gradient and the interpreted one cannot disagree. Each rule runs once per
primitive, on placeholders: the code it writes is a template that each node fills
with its operands' names. Two writers share one interface: `BytecodeWriter`
(bytecode.py) assembles CPython 3.11 bytecode in time linear in the tape;
`CodeWriter` (writers.py) writes source, for other versions, and Python's
`compile()` of it alone costs about 25 times what assembling takes.

A compiled tape is used only while it is valid: every `if` it recorded must take the
same branch (a guard in the code), and every global name it read must still be bound
to the same thing. Otherwise, and on any float exception (the interpreter's IEEE
rules then decide), the caller falls back to tracing.
"""
from __future__ import annotations

import functools
from collections import Counter
from itertools import chain

from .. import calls, table
from ..arrays import is_float_tensor
from ..table import reader
from ..core.evaluator import MOVED_READ
from ..core.graph import Node
from ..core.tape import Tape, is_variable, outside
from ..errors import DiffiError
from . import bytecode, orders
from .writers import (ONE, TEMPLATES, Call, CodeWriter, NotCompilable, PerKey, Retrace,
                      mark_read, refuse_decided)


def reads_hold(reads: dict, globals_: dict) -> bool:
    """Every global name a tape read is still bound to the same thing."""
    return all(globals_.get(name) is binding for name, binding in reads.items())


FORCE_SOURCE = False  # tests set it to compare the two writers


def scalar_writer(params: list[str]):
    """The writer for a scalar tape: bytecode where this Python's is known, else source.
    `params`: the names of every function's parameters, which come first."""
    if bytecode.SUPPORTED and not FORCE_SOURCE:
        return bytecode.BytecodeWriter(params, {"_Retrace": Retrace})
    return CodeWriter()


class TapeCode:
    """A traced tape that compiled code serves, as the cache keeps it (scalar code,
    Compiled; NumPy code, tensor.TensorTape): the tape, the global names its trace read
    (its guards), and the slices of it a directive's result stands over."""

    input_reads: tuple = ()  # a directive's tape: the globals it takes as inputs (cache.py)

    def __init__(self, tape: Tape, reads: dict):
        self.reads = reads  # global name -> Binding it read when traced
        self._tape = tape
        self.result = None  # the expression's own result node, when not the tape's output
        self._by: dict = {}  # variables' positions -> the tape from them

    @property
    def tape(self) -> Tape:
        """The traced tape (the graph a call or a directive made with it stands for)."""
        return self._tape

    @functools.cached_property
    def outside(self) -> tuple:
        """The variables outside the tape that its result depends on (tape.outside; and
        the result itself when it is one, as `f(x) = a` gives the global a)."""
        found = outside(self._tape)
        result = self._tape.outputs[0]
        if result.id not in self._tape.active and is_variable(result):
            found.append(result)
        return tuple(found)

    @functools.cached_property
    def reached(self) -> frozenset:
        """The positions of the inputs the result depends on (a call's node lists only
        those arguments, as the interpreter's graph would reach only them)."""
        active, seen = self._tape.active, set()
        stack = [self._tape.outputs[0]]
        while stack:
            node = stack.pop()
            if node.id in active and node.id not in seen:
                seen.add(node.id)
                stack.extend(node.inputs)
        return frozenset(k for k, node in enumerate(self._tape.inputs) if node.id in seen)

    def valid(self, globals_: dict) -> bool:
        return reads_hold(self.reads, globals_)

    def tape_by(self, positions: list) -> tuple[Tape, list]:
        """The tape from the inputs at `positions` only (a directive's variables: the
        others are then read from outside it, as its own trace would make them), and the
        variables outside it that its steps read (core.tape.outside)."""
        key = tuple(positions)
        found = self._by.get(key)
        if found is None:
            if len(self._by) >= 8:
                self._by.clear()
            tape = Tape([self.result or self._tape.outputs[0]],
                        [self._tape.inputs[k] for k in positions])
            found = self._by[key] = (tape, outside(tape))
        return found


class Compiled(TapeCode):
    """A traced function as Python code: value(*args), value_and_grad(*args) and
    value_and_tangent(*args, *seeds), each generated and compiled on first use."""

    def __init__(self, tape: Tape, reads: dict):
        super().__init__(tape, reads)
        self._names = _variable_names(tape)
        self._params = [self._names[n.id] for n in tape.inputs]
        self._seeds = [f"d{name[1:]}" for name in self._params]
        self._taylors: dict = {}  # (moving, order) -> Taylor sweep (None: not compilable)
        self._moving: dict = {}   # moving -> how many steps move
        self._gradient_tangents = self._tangents = self._gtape = None
        self._gradient_values = self._term_scale = None
        _check(tape)  # now, so that NotCompilable shows up before any code is written

    def writer(self):
        """A writer for one function (each numbers only the locals it uses)."""
        return scalar_writer(self._params + self._seeds)

    def value(self, *args):
        writer = self.writer()
        lines, out = _fused_lines(self._tape, self._names, writer)
        self.value = writer.function("value", self._params, lines, out)
        return self.value(*args)

    def value_and_grad(self, *args):
        writer = self.writer()
        backward, grads = _backward_lines(self._tape, self._names, writer)
        self.value_and_grad = self._build(writer, "value_and_grad", backward,
                                          writer.pack(*grads))
        return self.value_and_grad(*args)

    def value_and_tangent(self, *args):
        writer = self.writer()
        tangent, dots = _tangent_lines(self._tape, self._names, writer)
        out_dot = dots.get(self._tape.outputs[0].id, 0.0)
        self.value_and_tangent = self._build(writer, "value_and_tangent", tangent,
                                             out_dot, self._seeds)
        return self.value_and_tangent(*args)

    @property
    def names(self) -> dict[int, str]:
        """The code's name of each active node's value, by node id."""
        return self._names

    def moving_steps(self, moving: tuple) -> int:
        """How many steps move with the inputs `moving` marks (Taylor mode's cost)."""
        count = self._moving.get(moving)
        if count is None:
            count = self._moving[moving] = orders.moving_steps(self._tape, moving)
        return count

    def taylor_code(self, moving: tuple, order: int):
        """The compiled Taylor sweep along the inputs `moving` marks (orders.py)."""
        key = (moving, order)
        if key in self._taylors:
            code = self._taylors[key]
        else:
            params = self._params + ["_scale"]
            writer = scalar_writer(params)
            try:
                lines, out = orders.taylor_lines(self, writer, moving, order)
            except NotCompilable:
                self._taylors[key] = code = None
            else:
                forward, _ = _fused_lines(self._tape, self._names, writer)
                code = self._taylors[key] = (lambda *args: None) if out is None else \
                    writer.function("taylor", params, forward + lines, out)
        if code is None:
            raise NotCompilable("no Taylor series")
        return code

    def _gradient_tape(self) -> Tape:
        """The gradient's formulas as a tape, one output per input (orders.py)."""
        if self._gtape is None:
            try:
                gtape = orders.gradient_tape(self._tape)
            except DiffiError as error:  # (symbolic mode has no rule: it says so itself)
                raise NotCompilable(str(error)) from None
            _check(gtape)
            self._gtape = gtape
        return self._gtape

    def gradient_tangents(self):
        """(*args, *seeds) -> the tangents of every gradient component (a hessian)."""
        if self._gradient_tangents is None:
            self._gradient_tangents = _tangents_function(self._gradient_tape())
        return self._gradient_tangents

    def gradient_values(self):
        """(*args) -> the values of the gradient's formulas (symbolic mode's gradient)."""
        if self._gradient_values is None:
            gtape = self._gradient_tape()
            names = _variable_names(gtape)
            params = [names[n.id] for n in gtape.inputs]
            writer = scalar_writer(params)
            lines, _ = _fused_lines(gtape, names, writer)
            self._gradient_values = writer.function(
                "gradient_values", params, lines,
                writer.pack(*[names.get(g.id) or g.value for g in gtape.outputs]))
        return self._gradient_values

    def term_scale(self):
        """(*args) -> per input, the sum of the magnitudes of the terms reverse mode adds
        into its adjoint (check's scale); raises Retrace where an operation is evaluated
        at a point where it is not differentiable (check then says so, interpreted)."""
        if self._term_scale is None:
            writer = self.writer()
            lines, sums = _term_lines(self._tape, self._names, writer)
            forward, _ = _fused_lines(self._tape, self._names, writer)
            self._term_scale = writer.function("term_scale", self._params, forward + lines,
                                               writer.pack(*sums))
        return self._term_scale

    def tangents(self):
        """(*args, *seeds) -> the tangents of every output of the tape."""
        if self._tangents is None:
            self._tangents = _tangents_function(self._tape)
        return self._tangents

    def _build(self, writer, name, extra_lines, result, extra_params=()):
        """Compile one function: the value's lines (fused except the values that
        `extra_lines`, written first, read), then `extra_lines`, then `return value,
        result`."""
        forward, out = _fused_lines(self._tape, self._names, writer)
        return writer.function(name, self._params + list(extra_params),
                               forward + extra_lines, writer.pack(out, result))


def _tangents_function(tape: Tape):
    """(*inputs, *seeds) -> the tangent of each of the tape's outputs along the seeds."""
    names = _variable_names(tape)
    params = [names[n.id] for n in tape.inputs]
    seeds = [f"d{name[1:]}" for name in params]
    writer = scalar_writer(params + seeds)
    tangent, dots = _tangent_lines(tape, names, writer)
    forward, _ = _fused_lines(tape, names, writer)
    return writer.function("tangents", params + seeds, forward + tangent,
                           writer.pack(*[dots.get(out.id, 0.0) for out in tape.outputs]))


def _variable_names(tape: Tape) -> dict[int, str]:
    """A name per active node: the inputs' first."""
    return {n.id: f"v{k}" for k, n in enumerate(chain(tape.inputs, tape.steps))}


def _check(tape: Tape) -> None:
    """Raise NotCompilable unless every operation is one the scalar writers handle, on
    numbers (an `and`/`or` short-circuit has no guard yet)."""
    refuse_decided(tape)
    operations = set()
    for node in tape.steps:
        operations.add(node.op)
        if type(node.value) is not float and type(node.value) is not bool:
            raise NotCompilable("a value that is not a number")
        for i in node.inputs:
            if type(i.value) is not float:
                _check_operand(node, i)
    for op in operations:
        if op is table.LOGIC:
            raise NotCompilable("and/or")
        if op.scalar is None and op not in TEMPLATES:
            raise NotCompilable(op.name)


def _check_operand(node: Node, operand: Node) -> None:
    """An operand that is not a float must be a truth value, and one that node's
    operation takes as it is."""
    if type(operand.value) is not bool:
        raise NotCompilable("a constant that is not a number")
    if node.op not in _TAKES_BOOLEANS:
        # the interpreter computes with a truth value as 1.0 or 0.0, but Python's -True
        # is the integer -1, and -False is 0, not -0.0
        raise NotCompilable("arithmetic on a truth value")


# operations whose result is the same on a truth value as on 1.0 or 0.0
_TAKES_BOOLEANS = {table.LT, table.LE, table.GT, table.GE, table.EQ, table.NE, table.NOT,
                   table.SELECT, table.ALIAS}


FUSE_DEPTH = 12  # operations per fused expression (bounds Python's parser, and copying)


def _fused_lines(tape: Tape, names: dict, writer):
    """The value's code with each single-use result written into its one consumer
    (unless the code the writer has already written, a derivative's, reads it): a
    third of the lines, and fewer loads and stores."""
    uses = Counter([i.id for node in tape.steps for i in node.inputs])
    for node in [n for n in tape.steps if n.op is table.SELECT]:
        uses[node.inputs[0].id] = uses[node.id] = 2  # an `if` keeps its guard and test
    for output in tape.outputs:  # (every output is read: a hessian's gradient has n)
        uses[output.id] += 2
    output = tape.outputs[0]
    code: dict = {n.id: writer.arg(names[n.id]) for n in tape.inputs}
    depth: dict[int, int] = {}  # of the fused expressions
    lines = []
    arg, assign, literal, get_code, get_depth, used, emitters = writer.arg, writer.assign, \
        writer.literal, code.get, depth.get, writer.used, writer.emitters
    for node in calls.checked(tape.steps):
        nid, inputs = node.id, node.inputs
        emit = emitters[node.op]
        if len(inputs) == 2:  # (a comprehension is a function call in Python 3.11)
            a, b = inputs
            args = (get_code(a.id) or literal(a.value), get_code(b.id) or literal(b.value))
            if node.op is table.POW and type(b.value) is float and b.value.is_integer() \
                    and get_code(b.id) is None:
                # x^2 as x ** 2.0, an operator, not a call of math.pow: the same C pow()
                # (float ** an integer never makes a complex number), and any error
                # either raises sends the call back to the interpreter
                emit = writer.power
        elif len(inputs) == 1:
            args = (get_code(inputs[0].id) or literal(inputs[0].value),)
        else:
            args = [get_code(i.id) or literal(i.value) for i in inputs]
        expr = emit(*args)
        if uses.get(nid) == 1 and names[nid] not in used:
            height = 1
            for i in node.inputs:
                below = get_depth(i.id)
                if below is not None and below >= height:
                    height = below + 1
            if height < FUSE_DEPTH:
                code[nid], depth[nid] = expr, height
                continue
        name = names[nid]
        lines.append(assign(name, expr))
        if node.op is table.SELECT:
            lines.append(_guard(node, args, writer))
        code[nid] = arg(name)
    return lines, get_code(output.id) or literal(output.value)


def _guard(node: Node, args: list, writer):
    """Code that refuses a point where an `if` would take the other branch (an
    `and`/`or` short-circuit has no guard: both compilers refuse those tapes)."""
    return writer.guard(args[0], node.params != "then")


def _tangent_lines(tape: Tape, names: dict, writer) -> tuple[list, dict]:
    """Forward mode: ḋ = Σ ∂node/∂input · ḋ(input), one line per node; and the
    tangents' names by node id."""
    dots = {n.id: f"d{names[n.id][1:]}" for n in tape.inputs}
    lines, rules = [], _rules(writer)
    needed = _differentiated(tape)
    for node in calls.checked(tape.steps):
        if node.id not in needed:
            continue
        total, args = None, None
        for inp, term in zip(node.inputs, rules[node.op]):
            dot = dots.get(inp.id)
            if term is None or dot is None:
                continue
            if term is not ONE:
                args = args or _arguments(node, names, writer)
                term = term(*args, dot)
            else:
                term = dot
            total = term if total is None else writer.ap(table.ADD, total, term)
        if total is not None:
            dots[node.id] = f"d{names[node.id][1:]}"
            lines.append(writer.assign(dots[node.id], total))
    return lines, dots


def _differentiated(tape: Tape) -> set:
    """The ids of the steps the outputs' derivatives go through: those reached back
    from the outputs through rules with partials (the rest cannot change the result,
    and their partials could only raise)."""
    needed = {output.id for output in tape.outputs}
    for node in reversed(tape.steps):
        if node.id in needed and reader.differentiable(node.op):
            needed.update(i.id for i in node.inputs)
    return needed


def _backward_lines(tape: Tape, names: dict, writer) -> tuple[list, list]:
    """Reverse mode: each node's adjoint times its partials, added into its inputs';
    and the inputs' adjoints (names, or 0.0).

    An input whose partial is 1 and that has no adjoint yet shares the node's adjoint
    variable instead of getting a copy: `out = a + b` writes no line. Each variable
    counts its live sharers: nodes the sweep has not yet passed, and the tape's inputs,
    whose adjoints the result reads. A contribution to a variable with another live
    sharer makes the input its own variable, `g_input = shared + term`; otherwise it
    is added in place."""
    output = tape.outputs[0]
    if output.id not in tape.active:
        return [], [0.0 for _ in tape.inputs]
    adjoint: dict[int, str] = {output.id: "g_out"}
    live: dict[str, int] = {"g_out": 1}  # variable -> sharers not yet swept past
    lines = [writer.assign("g_out", 1.0)]
    for inp, term, g in _backward_terms(tape, names, writer, adjoint):
        if inp is None:  # (node swept past: g is still its, only its inputs' changed)
            live[g] -= 1
            continue
        target = adjoint.get(inp.id)
        if term is ONE:
            if target is None:
                adjoint[inp.id] = g
                live[g] += 1
                continue
            term = g
        if target is None:
            target = adjoint[inp.id] = "g" + names[inp.id]
            live[target] = 1
            lines.append(writer.assign(target, term))
        elif live[target] == 1:
            lines.append(writer.add_to(target, term))
        else:
            live[target] -= 1
            own = adjoint[inp.id] = "g" + names[inp.id]
            live[own] = 1
            lines.append(writer.assign(own, writer.ap(table.ADD, target, term)))
    return lines, [adjoint.get(n.id, 0.0) for n in tape.inputs]


def _backward_terms(tape: Tape, names: dict, writer, adjoint: dict):
    """The reverse sweep's walk, for the writers of its code: for each node whose adjoint
    `adjoint` holds by the time the walk reaches it (the caller fills it in as terms
    come), (input, term, g) per active input with a partial — term is ONE (the adjoint
    g itself) or the code of g · ∂node/∂input — then (None, None, g) when it is past."""
    rules, active = _rules(writer), tape.active
    for node in calls.checked(reversed(tape.steps)):
        g = adjoint.get(node.id)
        if g is None:
            continue
        args = None
        for inp, term in zip(node.inputs, rules[node.op]):
            if term is None or inp.id not in active:
                continue
            if term is not ONE:
                args = args or _arguments(node, names, writer)
                term = term(*args, g)
            yield inp, term, g
        yield None, None, g


def _term_lines(tape: Tape, names: dict, writer) -> tuple[list, list]:
    """A reverse sweep as check's _term_scale makes it (each adjoint the sum of its
    parts; each input's magnitudes summed as they come), after a guard per operation
    that has a kink, refusing a point exactly at one; and per input, its sum's code."""
    lines = []
    for node in tape.steps:
        kink = node.op.kink
        if kink is not None:
            args = [names.get(i.id) or writer.literal(i.value) for i in node.inputs]
            mark_read(writer, args)
            test = writer.ap(Call(f"k{node.id}", kink.test), *args)
            lines.append(writer.guard(test, True))
    output = tape.outputs[0]
    if output.id not in tape.active:
        return lines, [0.0 for _ in tape.inputs]
    adjoint, sums = {output.id: "g_out"}, {}
    inputs = {n.id for n in tape.inputs}
    lines.append(writer.assign("g_out", 1.0))
    for inp, term, g in _backward_terms(tape, names, writer, adjoint):
        if inp is None:
            continue
        part = "p" + names[inp.id]
        lines.append(writer.assign(part, g if term is ONE else term))
        if inp.id in adjoint:
            lines.append(writer.add_to(adjoint[inp.id], part))
        else:
            adjoint[inp.id] = "g" + names[inp.id]
            lines.append(writer.assign(adjoint[inp.id], part))
        if inp.id in inputs:
            size = writer.ap(table.ABS, part)
            if inp.id in sums:
                size = writer.ap(table.ADD, size, sums[inp.id])
            sums[inp.id] = "a" + names[inp.id]
            lines.append(writer.assign(sums[inp.id], size))
    return lines, [sums.get(n.id, 0.0) for n in tape.inputs]


def _rules(writer) -> PerKey:
    """Per primitive, for one writer: per input, the code of seed · ∂node/∂input as a
    template with slots (inputs…, output, seed), or None (a zero partial), or ONE (the
    term is the seed itself). A rule is run once per primitive, not once per node."""
    def terms(prim) -> list:
        slots = writer.slots(prim.arity + 2) if prim.arity >= 0 else []
        parts = reader.elementwise_partials(prim, writer.ap, *slots[:-1])
        if parts is None:
            raise NotCompilable(prim.name)
        return [None if part is None else ONE if type(part) is float and part == 1.0
                else writer.template(writer.ap(table.MUL, slots[-1], part)) for part in parts]
    return PerKey(terms)


def _arguments(node: Node, names: dict, writer) -> list:
    """A rule template's arguments but the seed: node's inputs' names (constants' code)
    and its own name."""
    get_name, literal, args = names.get, writer.literal, []
    for i in node.inputs:  # (a loop: in Python 3.11 a comprehension is a call)
        args.append(get_name(i.id) or literal(i.value))
    args.append(names[node.id])
    return args


def trace(ev, fn, args: tuple, tensors: bool = False) -> tuple[Tape, dict]:
    """fn's tape at args, and the global names it read (raises NotCompilable). With
    `tensors`, args may be tensors, and so may the value."""
    inputs = [Node(table.CONST, (), a if tensors else float(a), None, p)
              for p, a in zip(fn.params, args)]
    saved = ev.recording, ev.compiled_calls, ev.warn, ev.warned
    ev.recording, ev.compiled_calls = {}, False  # (the calls it makes are inlined)
    warned = []  # (the interpreter, which then runs the call, gives the warnings once)
    ev.warn = lambda message, span: warned.append(message)
    ev.warned = False  # (a statement's first warning may have been given, or be muted)
    try:
        output = ev.call(fn, inputs, {}, None)
        reads = ev.recording
        reads.pop(MOVED_READ, None)  # (a call takes its arguments as they are)
    finally:
        ev.recording, ev.compiled_calls, ev.warn, ev.warned = saved
    if warned:
        raise Warned(warned[0])
    if type(output.value) is not float and not (tensors and is_float_tensor(output.value)):
        raise NotCompilable("the function's value is not a number")
    return Tape([output], inputs), reads


class Warned(NotCompilable):
    """The trace warned (a value or derivative not finite, a note): compiled code, which
    warns of nothing, cannot serve this call; it may serve another point."""


def compile_function(ev, fn, args: tuple) -> Compiled:
    """Trace fn at args and compile its tape (raises NotCompilable)."""
    return Compiled(*trace(ev, fn, args))
