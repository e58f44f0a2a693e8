"""Tensor tapes: NumPy calls in straight-line code, for the value and gradient of the
loss that `minimize` runs at every step (compile_problem), and of a `grad` directive
over tensors asked again (TensorTape, which the cache keeps as it keeps scalar tapes).

The code is written as a careful hand would write it. Structural operations call their
table kernels (NumPy's own functions, without the checks that the interpreter's
`compute` makes on every call); operations with a residual rule keep what their
backward sweep needs from the forward pass (one exponential each); linear and custom
rules are written as code by running them on the writer (as the scalar compiler does),
else called on numbers; an expression of constants is computed once, when the code is
written. A cotangent that is a constant tensor (the seed of a mean or a sum, carried
back through sums and elementwise steps) stays one float until something needs the
tensor: it costs no NumPy call. An adjoint that is an array this code made is added to
in place; the weights are not (each step makes new ones: a step interrupted between
two weights' updates would leave them from two different steps). A minimize run keeps
each weight's shape (and the data keep theirs), so the shapes seen when the tape is
compiled hold at every step.
"""
from __future__ import annotations

import math

from .. import arrays, table
from ..table import reader
from ..arrays import as_value, finite, is_float_tensor, single_number, sum_to_shape
from ..core.graph import Node
from ..core.tape import Tape
from .scalar import TapeCode, _guard, _variable_names
from .writers import TEMPLATES, CodeWriter, NotCompilable, Retrace, refuse_decided


class ArrayWriter(CodeWriter):
    """Writes NumPy code; it is also the backend (`ap`) that linear and custom rules are
    run on to write their cotangents, so it knows the shape of every name it wrote."""

    def __init__(self):
        super().__init__()
        self.kept: dict[int, str] = {}  # node id -> the name of its residual
        self.shapes: dict[str, tuple] = {}  # name -> the shape of what it holds
        self.constants: dict[str, object] = {}  # name -> a tensor constant's value
        self.namespace["_full"] = arrays.np().full

    def literal(self, value) -> str:
        if type(value) in (float, bool):
            return super().literal(value)
        if type(value) is not arrays.np().ndarray:  # a NumPy scalar (from a kernel)
            return super().literal(float(value))
        name = f"_k{len(self.namespace)}"  # a tensor constant
        self.namespace[name] = value
        self.constants[name] = value
        self.name_shape(name, value)
        return name

    def name_shape(self, name: str, value) -> None:
        """Remember the shape of a name that holds a number or a float64 array like
        `value` (() for a number)."""
        if type(value) is float:
            self.shapes[name] = ()
        elif type(value) is arrays.np().ndarray and value.dtype.char == "d":
            self.shapes[name] = value.shape

    def ap(self, prim, *args, params=None) -> str:
        args = [self.arg(a) for a in args]
        folded = self._fold(prim, args, params)
        if folded is not None:
            return folded
        if prim is table.MUL and "1.0" in args:  # (a number: the product is the other)
            return args[1] if args[0] == "1.0" else args[0]
        template = TEMPLATES.get(prim)
        if template is not None:
            return template.format(*args)
        if prim.structure is not None:
            if prim.kernel is not None and all(self.shapes.get(a) for a in args):
                name = self.bind(f"_kn_{prim.name}_{len(self.namespace)}",
                                 prim.kernel(params))
                return f"{name}({', '.join(args)})"
            return self.structural(prim, args, params)
        name = f"_t_{prim.name}"
        if name not in self.namespace:
            direct = getattr(prim.tensor, "ufunc_name", None)
            self.namespace[name] = prim.tensor if direct is None else \
                getattr(arrays.np(), direct)
        return f"{name}({', '.join(args)})"

    __call__ = ap  # the rules' backend: ap(prim, *args, params=…)

    def _fold(self, prim, args, params):
        """An operation on constants (one a tensor at least), computed now: its name."""
        if not all(a in self.constants or _is_number(a) for a in args):
            return None
        values = []
        for a in args:
            if a in self.constants:
                values.append(self.constants[a])
                continue
            try:
                values.append(float(a))
            except ValueError:
                return None
        with arrays.np().errstate(all="ignore"):  # as the compiled step runs
            return self.literal(prim.compute(values, params))

    def shape(self, x) -> tuple:
        if x in self.shapes:
            return self.shapes[x]
        try:
            float(x)
            return ()
        except ValueError:
            raise NotCompilable("the shape of an expression") from None

    def value(self, x):
        if x in self.constants:
            return self.constants[x]
        raise NotCompilable("a rule that reads a value")

    def zeros(self, x):
        shape = self.shape(x)
        return self.literal(arrays.np().zeros(shape)) if shape else "0.0"

    @staticmethod
    def unbroadcast(term, like):
        return term  # a linear or custom rule gives cotangents in their inputs' shapes

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
    """value_and_grad(*weights) of a scalar tape over tensors, as NumPy code: the loss
    (a float when the tape's is) and each weight's gradient of its kind (a float for
    a number, a float64 array of its shape for a tensor). (A minimize run keeps each
    weight's shape, so the code need not check them.)"""

    def __init__(self, tape: Tape):
        self.tape = tape
        self.moved = False  # (the loss read a name that moves with the weights: cache.py)
        writer, names, params, lines, out = _forward(tape)
        writer.namespace["_unb"] = sum_to_shape
        backward, grads = Backward(tape, names, writer).sweep()
        if type(tape.outputs[0].value) is float:  # (a reduction's NumPy scalar, as the loss)
            out = f"float({out})"
        self.value_and_grad = writer.function("value_and_grad", params, lines + backward,
                                              f"{out}, [{', '.join(grads)}]")
        self.constants = tuple(writer.constants.values())  # (a gradient may be one)


def _operands(node: Node, code: dict, writer) -> list:
    """The code of node's inputs: their names or expressions in `code`, else constants."""
    return [code.get(i.id) or writer.literal(i.value) for i in node.inputs]


def _shape(value) -> tuple:
    return arrays.np().shape(value)


def _forward(tape: Tape):
    """(writer, names, parameters, the forward pass's lines, the output's code) of the
    NumPy code for a tape over tensors."""
    writer = ArrayWriter()
    names = _variable_names(tape)
    for node in tape.inputs:
        writer.name_shape(names[node.id], node.value)
    lines = _tensor_forward(tape, names, writer)
    output = tape.outputs[0]
    return (writer, names, [names[n.id] for n in tape.inputs], lines,
            names.get(output.id) or writer.literal(output.value))


def _tensor_forward(tape: Tape, names: dict, writer: ArrayWriter) -> list[str]:
    refuse_decided(tape)
    lines = []
    for node in tape.steps:
        if node.op is table.LOGIC or node.value is None or isinstance(node.value, tuple):
            raise NotCompilable(node.op.name)
        args = _operands(node, names, writer)
        name = names[node.id]
        if node.op.residual is not None:  # the backward sweep reuses what it keeps
            fn = writer.bind(f"_r_{node.op.name}", node.op.residual)
            kept = writer.kept[node.id] = f"r{name[1:]}"
            lines.append(f"{name}, {kept} = {fn}([{', '.join(args)}], "
                         f"{writer.bind_value(node.params)})")
        else:
            lines.append(f"{name} = {writer.ap(node.op, *args, params=node.params)}")
        writer.name_shape(name, node.value)
        if node.op is table.SELECT:
            lines.append(_guard(node, args, writer))
    return lines


class Backward:
    """The backward sweep's lines: each node's adjoint carried to its inputs' adjoints.

    An adjoint is code: a name, a constant, or a number. `uniform` holds the shape of
    the nodes whose adjoint is a number standing for a constant tensor of that shape
    (shape (): a number): the seed, a mean's or a sum's cotangent, and what elementwise
    steps with constant partials make of them. Such an adjoint becomes a tensor only
    where a term needs one; while it is a constant, what it multiplies is computed
    when the code is written."""

    def __init__(self, tape: Tape, names: dict, writer: ArrayWriter):
        self.tape, self.names, self.writer = tape, names, writer
        self.lines: list[str] = []
        self.adjoint: dict[int, str] = {}  # node id -> the code of its adjoint
        self.uniform: dict[int, tuple] = {}
        # the nodes whose adjoint is an array of their own that this code made (so it
        # can be added to in place), and the residual rules' cotangents (new arrays)
        self.owned: set[int] = set()
        self.made: set[str] = set()

    def sweep(self):
        output = self.tape.outputs[0]
        self.adjoint[output.id] = "1.0"
        self.uniform[output.id] = _shape(output.value)
        for node in reversed(self.tape.steps):
            if node.id in self.adjoint:
                for inp, term, shape in self._terms(node):
                    self._accumulate(inp, term, shape)
        return self.lines, [self._gradient(n) for n in self.tape.inputs]

    def _gradient(self, node) -> str:
        """The gradient of an input, of its weight's kind: a float for a number, else
        a float64 array of its shape (so that the optimizer need not convert it)."""
        if node.id not in self.adjoint:
            return "0.0" if type(node.value) is float else \
                self.writer.literal(arrays.np().zeros(_shape(node.value)))
        g = self._tensor(node)
        return f"float({g})" if type(node.value) is float else g

    def _tensor(self, node) -> str:
        """node's adjoint as the tensor it stands for (a constant one made now)."""
        g = self.adjoint[node.id]
        shape = self.uniform.pop(node.id, None)
        if not shape:
            return g
        if _is_number(g):
            g = self.writer.literal(arrays.np().full(shape, float(g)))
        else:
            name = "g" + self.names[node.id]
            self.lines.append(f"{name} = _full({shape!r}, {g})")
            self.writer.shapes[name] = shape
            g = name
        self.adjoint[node.id] = g
        return g

    def _accumulate(self, inp, term, uniform_shape) -> None:
        """Add a contribution to an input's adjoint; a term is a number standing for a
        tensor of the input's shape when uniform_shape is not None."""
        if inp.id not in self.tape.active:
            return
        term = self.writer.arg(term)
        before = self.adjoint.get(inp.id)
        if inp.id in self.owned:  # an array this code made: added to in place
            self.lines.append(f"{before} += {term}")
            return
        if before is None:
            total = term
        else:
            if (uniform_shape is None) != (inp.id not in self.uniform):
                uniform_shape = None  # a tensor and a number: a tensor
            # (a new array: the adjoint may be shared with the rule that made it)
            total = self.writer.ap(table.ADD, before, term)
        if uniform_shape is None:
            self.uniform.pop(inp.id, None)
        else:
            self.uniform[inp.id] = uniform_shape
        if not _is_code_name(total):  # an expression: computed once, into a name
            name = "g" + self.names[inp.id]
            self.lines.append(self.writer.assign(name, total))
            if uniform_shape is None and _shape(inp.value) and self._makes_array(total):
                self.owned.add(inp.id)
            total = name
            if not uniform_shape:  # (a number is its own value: shape ())
                self.writer.name_shape(name, inp.value)
        self.adjoint[inp.id] = total

    def _makes_array(self, code: str) -> bool:
        """Whether code (of an array) makes a new one: arithmetic on arrays (an operator
        template), a sum back to a shape, or a residual rule's cotangent."""
        return code.startswith("(") or code.startswith("_unb(") or code in self.made

    def _terms(self, node) -> list:
        """(input, code of its contribution, the shape it stands for when it is a
        number standing for a tensor, else None) for each input of node."""
        op, writer = node.op, self.writer
        g = self.adjoint[node.id]
        args = _operands(node, self.names, writer)
        kept = writer.kept.get(node.id)
        if kept is not None:  # (vjp_residual takes a number standing for a tensor)
            fn = writer.bind(f"_vr_{op.name}", op.vjp_residual)
            terms = self._cotangents(node, f"{fn}({g}, {kept}, "
                                           f"{writer.bind_value(node.params)})")
            self.made.update(term for _, term, _ in terms)
            return terms
        parts = reader.elementwise_partials(op, writer.ap, *args, self.names[node.id])
        if parts is not None:
            return self._partial_terms(node, parts)
        if node.id in self.uniform and reader.is_linear(op):
            return self._constant_transpose(node, g)
        g = self._tensor(node)
        needs = tuple(i.id in self.tape.active for i in node.inputs)
        try:
            parts = reader.cotangents(node, writer, g, args, self.names[node.id], needs)
            return [(i, c, None) for i, c in zip(node.inputs, parts) if c is not None]
        except NotCompilable:  # the rule reads values: call it on numbers
            vjp = reader.numeric_cotangents(op)
            if vjp is None:
                raise NotCompilable(op.name) from None
            fn = writer.bind(f"_vjp_{op.name}", vjp)
            return self._cotangents(node, f"{fn}({g}, [{', '.join(args)}], "
                                          f"{self.names[node.id]}, "
                                          f"{writer.bind_value(node.params)}, {needs!r})")

    def _partial_terms(self, node, parts: list) -> list:
        """The adjoint times each partial, summed back to its input's shape."""
        shape = _shape(node.value)
        numbers = [None] * len(parts)  # for a number standing for a tensor: which
        if node.id in self.uniform:    # partials are numbers (and keep it one)?
            values = [i.value for i in node.inputs]
            numbers = reader.elementwise_partials(node.op, reader.NUMBERS, *values,
                                                  node.value)
            if not all(p is None or _shape(p) in ((), shape) for p in numbers):
                self._tensor(node)  # a partial of another shape: it must be a tensor
        g, uniform = self.adjoint[node.id], self.uniform.get(node.id)
        terms = []
        for inp, part, number in zip(node.inputs, parts, numbers):
            if part is None or inp.id not in self.tape.active:
                continue
            term = g if _is_one(part) else self.writer.ap(table.MUL, g, part)
            term_uniform = uniform if uniform is not None and not _shape(number) else None
            target = _shape(inp.value)
            if term_uniform is not None and target != shape:  # a constant tensor summed
                term = self.writer.ap(table.MUL, term, math.prod(shape) /
                                      max(math.prod(target), 1))
                term_uniform = target
            elif term_uniform is None and target != shape:
                term = f"_unb({term}, {target!r})"
            terms.append((inp, term, term_uniform))
        return terms

    def _constant_transpose(self, node, g: str) -> list:
        """A linear operation's cotangents for a constant cotangent: its transpose of
        ones, times the number (computed now: it does not depend on the inputs)."""
        np = arrays.np()
        needs = tuple(i.id in self.tape.active for i in node.inputs)
        ones = np.ones(self.uniform[node.id]) if self.uniform[node.id] else 1.0
        values = [i.value for i in node.inputs]
        parts = reader.cotangents(node, reader.NUMBERS, ones, values, node.value, needs)
        terms = []
        for inp, c in zip(node.inputs, parts):
            if c is None:
                continue
            flat = np.ravel(c)
            if flat.size and np.all(flat == flat[0]):  # a constant again
                kappa = float(flat[0])
                term = g if kappa == 1.0 else self.writer.ap(table.MUL, g, kappa)
                terms.append((inp, term, _shape(inp.value)))
            else:
                terms.append((inp, self.writer.ap(table.MUL, g, self.writer.literal(
                    np.asarray(c, dtype=float))), None))
        return terms

    def _cotangents(self, node, call: str) -> list:
        """Write `c = call` (a tuple of cotangents); the terms read its items."""
        temp = f"c{self.names[node.id][1:]}"
        self.lines.append(f"{temp} = {call}")
        return [(i, f"{temp}[{k}]", None) for k, i in enumerate(node.inputs)
                if i.id in self.names]


def _is_number(code: str) -> bool:
    try:
        float(code)
        return True
    except ValueError:
        return False


def _is_code_name(code: str) -> bool:
    """A name or a number (not an expression to compute)."""
    return code.isidentifier() or _is_number(code)


def _is_one(part) -> bool:
    return type(part) is float and part == 1.0


def compile_problem(problem, values: dict) -> TensorCompiled:
    """Trace a directive's Problem at values and compile its value and gradient."""
    traced = problem.tape(values)
    if single_number(traced.output.value) is None:  # the interpreter explains what is wrong
        raise NotCompilable("the loss is not a number")
    compiled = TensorCompiled(traced.tape)
    # Shapes hold at every step, so one run here shows that each gradient has its
    # weight's kind at every step (minimize relies on it and does not convert them).
    weights = [n.value for n in traced.tape.inputs]
    try:
        with arrays.np().errstate(all="ignore"):
            _, grads = compiled.value_and_grad(*weights)
    except (Retrace, ArithmeticError, ValueError, TypeError) as error:
        raise NotCompilable(f"the code failed where it was traced: {error}") from None
    if any(shape_kind(g) != shape_kind(w) for g, w in zip(grads, weights)):
        raise NotCompilable("a gradient that is not of its weight's kind")
    return compiled


class TensorTape(TapeCode):
    """A directive's tape whose inputs include tensors, for the expression cache: its
    value and gradient as NumPy code (TensorCompiled), served while the inputs keep the
    shapes it was traced with. A float error (overflow, division by zero, an invalid
    operation) or a result that is not finite is left to the interpreter, which warns
    as it does. (The cache asks nothing else of it: tangents, Taylor series and
    hessians are asked of numbers' code only.)"""

    def __init__(self, tape: Tape, reads: dict):
        super().__init__(tape, reads)
        self._shapes = tuple(shape_kind(n.value) for n in tape.inputs)
        if None in self._shapes:
            raise NotCompilable("an input that is neither a number nor a float tensor")
        self._code = self._value = None  # (each written when first asked for)

    def prepare(self, gradient: bool) -> "TensorTape":
        """Write the code that `value` (or, with gradient, `value_and_grad`) runs, now:
        NotCompilable if it cannot be written (a tuple inside, a loss not a number)."""
        if gradient and self._code is None:
            self._code = TensorCompiled(self._tape)
        if not gradient and self._value is None:
            self._value = _value_function(self._tape)
        return self

    def _run(self, gradient: bool, args: tuple):
        """The code's result at args, which must have the traced shapes; a float error
        raises (the interpreter then warns of it as it computes)."""
        if tuple(map(shape_kind, args)) != self._shapes:
            raise Retrace()
        self.prepare(gradient)
        code = self._code.value_and_grad if gradient else self._value
        with arrays.np().errstate(over="raise", divide="raise", invalid="raise",
                                  under="ignore"):
            return code(*args)

    def value(self, *args):
        """The tape's value at args (a float, or a float tensor)."""
        result = as_value(self._run(False, args))
        if shape_kind(result) is None:
            raise Retrace()  # (a truth value, say: the interpreter gives it)
        if not finite(result):
            raise Retrace()  # (not finite: the interpreter warns)
        return _own(result, args)

    def value_and_grad(self, *args):
        loss, grads = self._run(True, args)
        loss = single_number(loss)
        if loss is None or not finite(loss) or not all(map(finite, grads)):
            raise Retrace()  # (not finite: the interpreter warns)
        held = args + self._code.constants
        return loss, [_own(g, held) for g in grads]


def _value_function(tape: Tape):
    """The tape's forward pass alone as NumPy code: f(*inputs) -> the output's value."""
    writer, _, params, lines, out = _forward(tape)
    return writer.function("value", params, lines, out)


def _own(value, held: tuple):
    """value, copied if it is one of `held` (an input, a constant of the code): what the
    caller keeps must not be shared with them."""
    return value.copy() if any(value is h for h in held) else value


def shape_kind(value):
    """What a TensorTape's input must keep: () for a number, a float tensor's shape."""
    if type(value) is float:
        return ()
    return value.shape if is_float_tensor(value) else None

