"""Compiling a function's tape to straight-line Python, for fast values and gradients.

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
`CodeWriter` writes source, for other versions, and Python's `compile()` of it alone
costs about 25 times what assembling takes.

A compiled tape is used only while it is valid: every `if` it recorded must take the
same branch (a guard in the code), and every global name it read must still be bound
to the same thing. Otherwise, and on any float exception (the interpreter's IEEE
rules then decide), the caller falls back to tracing.
"""
from __future__ import annotations

import math
import string
import weakref
from collections import Counter
from functools import partial
from itertools import chain

from .. import arrays, table
from ..arrays import single_number
from ..core.graph import Node
from ..core.tape import Tape
from . import bytecode


class NotCompilable(Exception):
    """The tape has operations the compiler does not handle (tensors, structure)."""


class Retrace(Exception):
    """A guard failed: an `if` would take another branch at this point."""


# a rule term meaning "the partial is 1": the term is the seed itself
ONE = "the partial is 1"

# Python expressions for operations (templates), where an operator beats a call.
TEMPLATES = {table.ADD: "({0} + {1})", table.SUB: "({0} - {1})", table.MUL: "({0} * {1})",
             table.DIV: "({0} / {1})", table.NEG: "(-{0})", table.POS: "(+{0})",
             table.LT: "({0} < {1})", table.LE: "({0} <= {1})", table.GT: "({0} > {1})",
             table.GE: "({0} >= {1})", table.EQ: "({0} == {1})", table.NE: "({0} != {1})",
             table.NOT: "(not {0})", table.ALIAS: "{0}", table.SELECT: "{1}"}


class CodeWriter:
    """Writes a tape's functions as Python source; `ap` is the rules' backend that
    writes expressions. `BytecodeWriter` (bytecode.py) has the same interface."""

    def __init__(self):
        self.namespace: dict = {"_Retrace": Retrace}
        self.functions: dict = {}
        self.used: set = set()  # the locals that templates' code reads (see BytecodeWriter)
        self.emitters = bytecode.PerKey(lambda prim: partial(self.ap, prim))

    def literal(self, value) -> str:
        if type(value) is bool:
            return "True" if value else "False"
        value = float(value)
        if math.isfinite(value):
            return repr(value)
        name = f"_c{len(self.namespace)}"
        self.namespace[name] = value
        return name

    def arg(self, value) -> str:
        return value if isinstance(value, str) else self.literal(value)

    def ap(self, prim, *args) -> str:
        """The Python expression for prim(*args) (args: code strings or numbers)."""
        args = [self.arg(a) for a in args]
        template = TEMPLATES.get(prim)
        if template is not None:
            return template.format(*args)
        if prim.scalar is None:
            raise NotCompilable(prim.name)
        name = self.functions.get(prim.name)
        if name is None:
            name = self.functions[prim.name] = f"_f_{prim.name}"
            self.namespace[name] = prim.scalar
        return f"{name}({', '.join(args)})"

    def pack(self, *items) -> str:
        return f"({''.join(self.arg(i) + ', ' for i in items)})"

    def slots(self, count: int) -> list[str]:
        """Placeholders for `template`."""
        return [f"{{{k}}}" for k in range(count)]

    def template(self, expr):
        """`fill(*args)`: expr (written on `slots`) with slot k replaced by args[k], a
        local's name or a constant."""
        text = self.arg(expr)
        used = {int(field) for _, field, _, _ in string.Formatter().parse(text) if field}

        def fill(*args):
            args = [self.arg(a) for a in args]
            self.used.update(args[k] for k in used)
            return text.format(*args)
        return fill

    def assign(self, target: str, expr) -> str:
        return f"{target} = {self.arg(expr)}"

    def add_to(self, target: str, expr) -> str:
        return f"{target} += {self.arg(expr)}"

    def guard(self, test: str, raise_when: bool) -> str:
        return f"if {'' if raise_when else 'not '}{self.arg(test)}: raise _Retrace"

    def function(self, name: str, params: list[str], lines: list[str], result):
        body = "\n".join(f"    {line}" for line in lines + [f"return {self.arg(result)}"])
        source = f"def {name}({', '.join(params)}):\n{body}\n"
        exec(compile(source, "<diffi tape>", "exec"), self.namespace)
        return self.namespace[name]


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


class Compiled:
    """A traced function as Python code: value(*args), value_and_grad(*args) and
    value_and_tangent(*args, *seeds), each generated and compiled on first use."""

    def __init__(self, tape: Tape, reads: dict):
        self.reads = reads            # global name -> Binding it read when traced
        self._tape = tape
        self._names = _variable_names(tape)
        self._params = [self._names[n.id] for n in tape.inputs]
        self._seeds = [f"d{name[1:]}" for name in self._params]
        _check(tape)  # now, so that NotCompilable shows up before any code is written

    def valid(self, globals_: dict) -> bool:
        return reads_hold(self.reads, globals_)

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

    def _build(self, writer, name, extra_lines, result, extra_params=()):
        """Compile one function: the value's lines (fused except the values that
        `extra_lines`, written first, read), then `extra_lines`, then `return value,
        result`."""
        forward, out = _fused_lines(self._tape, self._names, writer)
        return writer.function(name, self._params + list(extra_params),
                               forward + extra_lines, writer.pack(out, result))


def _variable_names(tape: Tape) -> dict[int, str]:
    """A name per active node: the inputs' first."""
    return {n.id: f"v{k}" for k, n in enumerate(chain(tape.inputs, tape.steps))}


def _check(tape: Tape) -> None:
    """Raise NotCompilable unless every operation is one the scalar writers handle, on
    numbers (an `and`/`or` short-circuit has no guard yet)."""
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
    output = tape.outputs[0]
    uses[output.id] += 2
    code: dict = {n.id: writer.arg(names[n.id]) for n in tape.inputs}
    depth: dict[int, int] = {}  # of the fused expressions
    lines = []
    arg, assign, literal, get_code, get_depth, used, emitters = writer.arg, writer.assign, \
        writer.literal, code.get, depth.get, writer.used, writer.emitters
    for node in tape.steps:
        nid, inputs = node.id, node.inputs
        if len(inputs) == 2:  # (a comprehension is a function call in Python 3.11)
            a, b = inputs
            args = (get_code(a.id) or literal(a.value), get_code(b.id) or literal(b.value))
        elif len(inputs) == 1:
            args = (get_code(inputs[0].id) or literal(inputs[0].value),)
        else:
            args = [get_code(i.id) or literal(i.value) for i in inputs]
        expr = emitters[node.op](*args)
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
    for node in tape.steps:
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
    """The ids of the steps the output's derivative goes through: those reached back
    from the output through rules with partials (the rest cannot change the result,
    and their partials could only raise)."""
    needed = {tape.outputs[0].id}
    for node in reversed(tape.steps):
        if node.id in needed and node.op.partials is not None:
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
    lines, rules, active = [writer.assign("g_out", 1.0)], _rules(writer), tape.active
    for node in reversed(tape.steps):
        g = adjoint.get(node.id)
        if g is None:
            continue
        args = None
        for inp, term in zip(node.inputs, rules[node.op]):
            if term is None or inp.id not in active:
                continue
            target = adjoint.get(inp.id)
            if term is ONE:
                if target is None:
                    adjoint[inp.id] = g
                    live[g] += 1
                    continue
                term = g
            else:
                args = args or _arguments(node, names, writer)
                term = term(*args, g)
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
        live[g] -= 1  # (g is still this node's: only its inputs' adjoints changed)
    return lines, [adjoint.get(n.id, 0.0) for n in tape.inputs]


def _rules(writer) -> bytecode.PerKey:
    """Per primitive, for one writer: per input, the code of seed · ∂node/∂input as a
    template with slots (inputs…, output, seed), or None (a zero partial), or ONE (the
    term is the seed itself). A rule is run once per primitive, not once per node."""
    def terms(prim) -> list:
        if prim.partials is None:
            return []
        slots = writer.slots(prim.arity + 2)
        parts = prim.partials(writer.ap, *slots[:-1])
        return [None if part is None else ONE if type(part) is float and part == 1.0
                else writer.template(writer.ap(table.MUL, slots[-1], part)) for part in parts]
    return bytecode.PerKey(terms)


def _arguments(node: Node, names: dict, writer) -> list:
    """A rule template's arguments but the seed: node's inputs' names (constants' code)
    and its own name."""
    get_name, literal, args = names.get, writer.literal, []
    for i in node.inputs:  # (a loop: in Python 3.11 a comprehension is a call)
        args.append(get_name(i.id) or literal(i.value))
    args.append(names[node.id])
    return args


def trace(ev, fn, args: tuple) -> tuple[Tape, dict]:
    """fn's tape at args, and the global names it read (raises NotCompilable)."""
    inputs = [Node(table.CONST, (), float(a), None, p) for p, a in zip(fn.params, args)]
    saved = ev.recording
    ev.recording = {}
    try:
        output = ev.call(fn, inputs, {}, None)
        reads = ev.recording
    finally:
        ev.recording = saved
    if type(output.value) is not float:
        raise NotCompilable("the function's value is not a number")
    return Tape([output], inputs), reads


def compile_function(ev, fn, args: tuple) -> Compiled:
    """Trace fn at args and compile its tape (raises NotCompilable)."""
    return Compiled(*trace(ev, fn, args))


class Cache:
    """Compiled tapes per function; a function is compiled on its second call."""

    MAX_VARIANTS = 8  # tapes per function (one per pattern of `if` branches)

    def __init__(self):
        # fn -> [fn, calls, [Compiled, ...]]; weak, so that a function no longer reachable
        # (a closure made by a call) takes its tapes with it
        self.entries = weakref.WeakKeyDictionary()
        self.pending: dict[int, Compiled] = {}  # id(fn) -> its first call's tape

    def remember(self, fn, inputs, output, reads) -> None:
        """Keep the graph of a first call, so that the second call need not trace again."""
        entry = self.entries.get(fn)
        if entry is not None and entry[1] == 1 and not entry[2] \
                and type(output.value) is float:
            self.pending = {id(fn): (Tape([output], inputs), reads)}

    def run(self, ev, fn, args: tuple, gradient):
        """fn's value at args by compiled code, or None to trace instead.

        gradient: False (the value), True (value and gradient), or a tuple of seeds
        (value and the tangent along them: forward mode).
        """
        if ev.point is not None or fn.scope is not None \
                or not all(type(a) is float for a in args):
            return None  # (a closure's captured names are not guarded: never compiled)
        entry = self.entries.get(fn)
        if entry is None:
            entry = self.entries[fn] = [None, 0, []]
        entry[1] += 1
        entry[2] = [c for c in entry[2] if c.valid(ev.globals.vars)]
        for compiled in entry[2]:
            result = _attempt(compiled, args, gradient)
            if result is not None:
                return result
        if entry[1] < 2 or len(entry[2]) >= self.MAX_VARIANTS:
            return None
        try:
            pending = self.pending.pop(id(fn), None)
            compiled = Compiled(*pending) if pending and reads_hold(pending[1], ev.globals.vars) \
                else None
            compiled = compiled or compile_function(ev, fn, args)
        except (NotCompilable, RecursionError):
            entry[2], entry[1] = [], -10**9  # never worth trying again
            return None
        entry[2].append(compiled)
        return _attempt(compiled, args, gradient)


def _attempt(compiled: Compiled, args: tuple, gradient: bool):
    """The compiled result, or None when a guard fails or a float exception (or a
    non-finite result, which the interpreter must warn about) happens."""
    try:
        if gradient is True:
            result = compiled.value_and_grad(*args)
            total = result[0] + math.fsum(result[1])
        elif gradient:
            result = compiled.value_and_tangent(*args, *gradient)
            total = result[0] + result[1]
        else:
            result = total = compiled.value(*args)
    except (Retrace, ArithmeticError, ValueError, NotCompilable):
        return None
    if type(total) is not float or total - total != 0:  # non-finite: the interpreter warns
        return None
    return result


# Tensor tapes: NumPy calls in straight-line code (for minimize) ----------------------

class ArrayWriter(CodeWriter):
    """Writes NumPy code: functions use the table's tensor implementations; structure
    and tensor built-ins are called through their `compute`."""

    def __init__(self):
        super().__init__()
        self.kept: dict[int, str] = {}  # node id -> the name of its residual

    def literal(self, value) -> str:
        if type(value) in (float, bool):
            return super().literal(value)
        name = f"_k{len(self.namespace)}"  # a tensor constant
        self.namespace[name] = value
        return name

    def ap(self, prim, *args) -> str:
        args = [self.arg(a) for a in args]
        template = TEMPLATES.get(prim)
        if template is not None:
            return template.format(*args)
        name = f"_t_{prim.name}"
        if name not in self.namespace:
            direct = getattr(prim.tensor, "ufunc_name", None)
            self.namespace[name] = prim.tensor if direct is None else \
                getattr(arrays.np(), direct)
        return f"{name}({', '.join(args)})"

    def add_to(self, target: str, expr) -> str:
        # never +=: a cotangent may be shared with the rule that made it
        return f"{target} = {target} + {expr}"

    def structural(self, prim, args, params) -> str:
        name = self.bind(f"_c_{prim.name}", prim.compute)
        return f"{name}([{', '.join(args)}], {self.bind_value(params)})"

    def bind(self, name, value) -> str:
        self.namespace.setdefault(name, value)
        return name

    def bind_value(self, value) -> str:
        if value is None or isinstance(value, (int, float, str)):
            return repr(value)
        name = f"_p{len(self.namespace)}"
        self.namespace[name] = value
        return name


class TensorCompiled:
    """value_and_grad(*weights) of a scalar tape over tensors, as NumPy code. (A
    minimize run keeps each weight's shape, so the code need not check them.)"""

    def __init__(self, tape: Tape):
        from ..modes.reverse import sum_to_shape
        writer = ArrayWriter()
        writer.namespace["_unb"] = sum_to_shape
        names = _variable_names(tape)
        lines = _tensor_forward(tape, names, writer)
        backward, grads = _tensor_backward(tape, names, writer)
        params = [names[n.id] for n in tape.inputs]
        out = names.get(tape.outputs[0].id) or writer.literal(tape.outputs[0].value)
        self.value_and_grad = writer.function("value_and_grad", params, lines + backward,
                                              f"{out}, [{', '.join(grads)}]")


# Helpers of the tensor compiler below (the scalar one fills rule templates).
def _operands(node: Node, code: dict, writer) -> list:
    """The code of node's inputs: their names or expressions in `code`, else constants."""
    return [code.get(i.id) or writer.literal(i.value) for i in node.inputs]


def _times(code, part, writer):
    """code · part, written without the factor when the partial is the constant 1."""
    return code if part == 1.0 and type(part) is float else writer.ap(table.MUL, code, part)


def _accumulate(adjoint: dict, lines: list, inp, term, writer, names: dict) -> None:
    """Add a contribution to an input's adjoint, named g and the input's name: the
    first contribution assigns it."""
    target = adjoint.get(inp.id)
    if target is None:
        target = adjoint[inp.id] = "g" + names[inp.id]
        lines.append(writer.assign(target, term))
    else:
        lines.append(writer.add_to(target, term))


def _tensor_forward(tape: Tape, names: dict, writer: ArrayWriter) -> list[str]:
    lines = []
    for node in tape.steps:
        if node.op is table.LOGIC or node.value is None or isinstance(node.value, tuple):
            raise NotCompilable(node.op.name)
        args = _operands(node, names, writer)
        if node.op.residual is not None:  # the backward sweep reuses what it keeps
            fn = writer.bind(f"_r_{node.op.name}", node.op.residual)
            kept = writer.kept[node.id] = f"r{names[node.id][1:]}"
            lines.append(f"{names[node.id]}, {kept} = {fn}([{', '.join(args)}], "
                         f"{writer.bind_value(node.params)})")
            continue
        if getattr(node.op, "compute", None) is not None and node.op not in TEMPLATES:
            expr = writer.structural(node.op, args, node.params)
        else:
            expr = writer.ap(node.op, *args)
        lines.append(f"{names[node.id]} = {expr}")
        if node.op is table.SELECT:
            lines.append(_guard(node, args, writer))
    return lines


def _tensor_backward(tape: Tape, names: dict, writer: ArrayWriter):
    np = arrays.np()
    adjoint: dict[int, str] = {}
    output = tape.outputs[0]
    lines = ["g_out = 1.0"]
    adjoint[output.id] = "g_out"
    for node in reversed(tape.steps):
        g = adjoint.get(node.id)
        if g is None:
            continue
        args = _operands(node, names, writer)
        terms, shaped = _tensor_terms(node, g, args, names, writer, lines)
        for inp, term in terms:
            if inp.id not in tape.active:
                continue
            if not shaped and np.shape(inp.value) != np.shape(node.value):
                term = f"_unb({term}, {np.shape(inp.value)!r})"
            _accumulate(adjoint, lines, inp, term, writer, names)
    return lines, [adjoint.get(n.id, "0.0") for n in tape.inputs]


def _tensor_terms(node, g, args, names, writer, lines):
    """(input, code of its contribution) for each input of node, and whether those
    already have their inputs' shapes (a vjp's cotangents) or are to be unbroadcast."""
    op = node.op
    kept = writer.kept.get(node.id)
    if kept is not None:
        fn = writer.bind(f"_vr_{op.name}", op.vjp_residual)
        call = f"{fn}({g}, {kept}, {writer.bind_value(node.params)})"
        return _cotangents(node, call, names, lines), True
    if op.partials is not None:
        parts = op.partials(writer.ap, *args, names[node.id])
        return [(i, _times(g, part, writer))
                for i, part in zip(node.inputs, parts) if part is not None], False
    vjp = getattr(op, "vjp", None)
    if vjp is None:
        if op.taylor is not None:  # piecewise constant: no contribution
            return [], True
        raise NotCompilable(op.name)
    fn = writer.bind(f"_vjp_{op.name}", vjp)
    needs = f", {tuple(i.id in names for i in node.inputs)!r}" if op.vjp_needs else ""
    call = (f"{fn}({g}, [{', '.join(args)}], {writer.bind_value(node.params)}, "
            f"{names[node.id]}{needs})")
    return _cotangents(node, call, names, lines), True


def _cotangents(node, call: str, names: dict, lines: list) -> list:
    """Write `c = call` (a tuple of cotangents); the terms read its items."""
    temp = f"c{names[node.id][1:]}"
    lines.append(f"{temp} = {call}")
    return [(i, f"{temp}[{k}]") for k, i in enumerate(node.inputs) if i.id in names]


def compile_problem(problem, values: dict) -> TensorCompiled:
    """Trace a directive's Problem at values and compile its value and gradient."""
    inputs, output = problem.trace(values)
    if single_number(output.value) is None:  # the interpreter explains what is wrong
        raise NotCompilable("the loss is not a number")
    return TensorCompiled(Tape([output], inputs))
