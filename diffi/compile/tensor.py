"""Tensor tapes: NumPy calls in straight-line code, for the value and gradient of the
loss that `minimize` runs at every step (compile_problem).
"""
from __future__ import annotations

from .. import arrays, table
from ..table import reader
from ..arrays import single_number, sum_to_shape
from ..core.graph import Node
from ..core.tape import Tape
from .scalar import _guard, _variable_names
from .writers import TEMPLATES, CodeWriter, NotCompilable


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
        if node.op.structure is not None and node.op not in TEMPLATES:
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
    parts = reader.elementwise_partials(op, writer.ap, *args, names[node.id])
    if parts is not None:
        return [(i, _times(g, part, writer))
                for i, part in zip(node.inputs, parts) if part is not None], False
    vjp = reader.numeric_cotangents(op)
    if vjp is None:
        raise NotCompilable(op.name)
    fn = writer.bind(f"_vjp_{op.name}", vjp)
    needs = tuple(i.id in names for i in node.inputs)
    call = (f"{fn}({g}, [{', '.join(args)}], {names[node.id]}, "
            f"{writer.bind_value(node.params)}, {needs!r})")
    return _cotangents(node, call, names, lines), True


def _cotangents(node, call: str, names: dict, lines: list) -> list:
    """Write `c = call` (a tuple of cotangents); the terms read its items."""
    temp = f"c{names[node.id][1:]}"
    lines.append(f"{temp} = {call}")
    return [(i, f"{temp}[{k}]") for k, i in enumerate(node.inputs) if i.id in names]


def compile_problem(problem, values: dict) -> TensorCompiled:
    """Trace a directive's Problem at values and compile its value and gradient."""
    traced = problem.tape(values)
    if single_number(traced.output.value) is None:  # the interpreter explains what is wrong
        raise NotCompilable("the loss is not a number")
    return TensorCompiled(traced.tape)
