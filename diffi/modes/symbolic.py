"""Symbolic mode: derivatives as graphs of formulas, simplified and printed as source.

The table's rules run with a Builder as their backend (the rule reader asks them), so
a derivative is itself a graph of table operations: it can be printed, evaluated, or
differentiated again. The Builder folds constants, applies cheap identities (0*x, 1*x, x+0, x^1,
--x, like terms) and shares equal subexpressions, so a formula stays a DAG; the
printer names the shared parts, so the printed size stays linear in the graph.
"""
from __future__ import annotations

import math

from .. import calls, table
from ..arrays import as_value, is_array, np, zero_like
from ..core.evaluator import probe_shape, shape_message
from ..core.library import BUILTINS
from ..core.graph import Node, ancestors
from ..core.tape import Tape
from ..errors import DiffiTypeError, ShapeError, needs_point
from ..language import syntax as S
from ..table import reader
from . import canonical


class Builder:
    """Makes formula nodes, simplified and hash-consed; computes values when it can.

    With canonical=True (formulas a user reads), sums and products are also put in
    one normal form (diffi.modes.canonical), so commuted spellings become one node."""

    def __init__(self, canonical: bool = False, fold_calls: bool = True):
        self.memo: dict = {}
        self.canonical = canonical
        # (a table a student reads keeps log(2) as log(2): only arithmetic is folded)
        self.fold_calls = fold_calls
        self.sums: dict = {}      # node id -> its sum's normal form (canonical.py)
        self.products: dict = {}  # node id -> its product's normal form
        self.ranks: dict = {}  # node id -> its rank in a printed product (_rank)
        self.shapes: dict = {}  # node id -> shape, for nodes of a formula (no value)
        self.made = 0

    def const(self, value) -> Node:
        value = float(value) if type(value) is int else value
        if is_array(value):  # repr abbreviates large arrays: key by shape and bytes
            key = ("const", "array", value.dtype.str, value.shape, value.tobytes())
        else:
            key = ("const", type(value).__name__, repr(value))
        node = self.memo.get(key)
        if node is None:
            node = self.memo[key] = Node(table.CONST, (), value)
        return node

    def node(self, arg) -> Node:
        return arg if isinstance(arg, Node) else self.const(arg)

    def ap(self, prim, *args, params=None) -> Node:
        """The node for prim(*args), simplified."""
        self.made += 1
        if not self.made & 255:  # (formulas can grow fast: the timeout holds here too)
            calls.check()
        inputs = tuple(self.node(a) for a in args)
        if prim in (table.SUM, table.MEAN) and self.known_shape(inputs[0]) == ():
            return inputs[0]  # (a number's sum along an axis: the number; as at a point)
        folds = inputs and prim is not table.DERIVED and all(is_constant(i) for i in inputs) \
            and (self.fold_calls or prim.symbol is not None)
        if self.canonical and prim in canonical.CANONICAL and not folds:
            node = canonical.build(self, prim, inputs)
            if node is not None:
                return self._in_shape(node, prim, inputs, params)
        simplified = _simplify(self, prim, inputs, params)
        if simplified is not None:
            return self._in_shape(simplified, prim, inputs, params)
        if folds:
            return self.const(table.compute(prim, [i.value for i in inputs], params))
        return self.raw(prim, *inputs, params=params)

    def raw(self, prim, *inputs, params=None) -> Node:
        """The node for prim(*inputs) as it stands (shared with an equal one)."""
        key = (prim.name, tuple(i.id for i in inputs), repr(params))
        node = self.memo.get(key)
        if node is None:
            values = [i.value for i in inputs]
            value = None if any(v is None for v in values) else table.compute(prim, values, params)
            node = self.memo[key] = Node(prim, inputs, value, params=params)
            if value is None:
                self._learn_shape(node)
        return node

    def _in_shape(self, node: Node, prim, inputs, params) -> Node:
        """A simplification's result with the shape of the operation it stands for: x - x
        of vectors is zeros of their shape, not the number 0 (an index of it must work)."""
        if not is_constant(node) or is_array(node.value) \
                or not any(self.known_shape(i) for i in inputs):
            return node
        shape = self._result_shape(prim, inputs, params)
        return self.const(np().full(shape, node.value)) if shape else node

    def _result_shape(self, prim, inputs, params):
        probe = Node(prim, inputs, None, params=params)
        self._learn_shape(probe)
        return self.shapes.pop(probe.id, None)

    def _learn_shape(self, node: Node) -> None:
        """A formula node's shape from its inputs' (numbers give a number through an
        elementwise operation; other operations run on zeros of their inputs' shapes),
        so that rules needing a shape, and tangents kept in their output's shape, work
        on formulas too. Unknown when an input's is."""
        shapes = [self.known_shape(i) for i in node.inputs]
        if None in shapes:
            return
        op = node.op
        try:
            shape = probe_shape(op, shapes, lambda zeros: op.compute(zeros, node.params),
                                elementwise=op.numeric and op is not table.MATMUL)
        except Exception:  # (shapes that do not fit: the evaluator has said so already)
            return
        if shape is not None:
            self.shapes[node.id] = shape

    # The backend that the table's rules run with (diffi.table.rules) ---------------------
    def __call__(self, prim, *args, params=None) -> Node:
        return self.ap(prim, *args, params=params)

    @staticmethod
    def value(x):
        return x.value if isinstance(x, Node) else x

    def known_shape(self, x):
        """x's shape: its value's, or a formula node's as rebuild learned it; else None."""
        value = self.value(x)
        if isinstance(value, tuple) or isinstance(value, str):
            return None  # (a tuple's parts may differ in shape: it has no one shape)
        if value is not None:
            return np().shape(value)
        return self.shapes.get(x.id) if isinstance(x, Node) else None

    def shape(self, x) -> tuple:
        shape = self.known_shape(x)
        if shape is None:
            raise needs_point("tensor operations")
        return shape

    def zeros(self, x) -> Node:
        value = self.value(x)
        if value is not None:
            return self.const(zero_like(value))
        shape = self.known_shape(x)  # (a formula's: zeros of its shape, where known)
        return self.const(np().zeros(shape) if shape else 0.0)

    def unbroadcast(self, term, like):
        """A cotangent summed back to its input's shape, where broadcasting grew it."""
        have, want = self.known_shape(term), self.known_shape(like)
        if have is None or want is None or have == want:
            return term
        if self.value(term) is not None:
            return self.ap(table.SUM_TO, term, params=want)
        # (a formula: written with sum and reshape, which the language has)
        lead = len(have) - len(want)
        axes = list(range(lead)) + [lead + k for k, d in enumerate(want)
                                    if d == 1 and have[lead + k] != 1]
        if not want:
            return self.ap(table.SUM, term)
        for axis in reversed(axes):
            term = self.ap(table.SUM, term, params=axis)
        return term if self.known_shape(term) == want else \
            self.ap(table.RESHAPE, term, params=want)


def _numeric_value(value) -> bool:
    return type(value) in (float, bool) or is_array(value)


def is_constant(node: Node) -> bool:
    """A literal number (not a variable)."""
    return node.op is table.CONST and node.name is None and _numeric_value(node.value)


def _boolean(node: Node) -> bool:
    """A node whose value is true/false (a comparison): 1*(x < 2) must stay a number."""
    return node.op.boolean or type(node.value) is bool


def _value_is(node: Node, number: float) -> bool:
    return is_constant(node) and type(node.value) is float and node.value == number


def _negated(node: Node):
    """x when node is -x or a negative constant's magnitude; else None."""
    if node.op is table.NEG:
        return node.inputs[0]
    return None


def _coefficient(node: Node):
    """(c, x) when node is c*x with a constant c; else (1, node)."""
    if node.op is table.MUL and is_constant(node.inputs[0]) and type(node.inputs[0].value) is float:
        return node.inputs[0].value, node.inputs[1]
    if node.op is table.NEG:
        c, x = _coefficient(node.inputs[0])
        return -c, x
    return 1.0, node


def _scaled(b: Builder, c: float, x: Node) -> Node:
    if c == 0:
        return b.const(0.0)
    if c == 1:
        return x
    if c == -1:
        return b.ap(table.NEG, x)
    return b.ap(table.MUL, c, x)


def _simplify_add(b, a, c):
    if _value_is(a, 0):
        return c
    if _value_is(c, 0):
        return a
    negated = _negated(c)
    if negated is not None:
        return b.ap(table.SUB, a, negated)
    if is_constant(c) and not is_constant(a):
        return b.ap(table.ADD, c, a)
    return _like_terms(b, a, c, 1.0)


def _like_terms(b, a, c, sign):
    (ka, xa), (kc, xc) = _coefficient(a), _coefficient(c)
    if xa is xc and not is_constant(xa):
        return _scaled(b, ka + sign * kc, xa)
    return None


def _simplify_sub(b, a, c):
    if _value_is(c, 0):
        return a
    if _value_is(a, 0):
        return b.ap(table.NEG, c)
    negated = _negated(c)
    if negated is not None:
        return b.ap(table.ADD, a, negated)
    return _like_terms(b, a, c, -1.0)


def _simplify_mul(b, a, c):
    if _value_is(a, 0) or _value_is(c, 0):
        return b.const(0.0)
    if _value_is(a, 1) and not _boolean(c):
        return c
    if _value_is(c, 1) and not _boolean(a):
        return a
    if _value_is(a, -1):
        return b.ap(table.NEG, c)
    if _value_is(c, -1):
        return b.ap(table.NEG, a)
    for x, y in ((a, c), (c, a)):
        negated = _negated(y)
        if negated is not None:
            return b.ap(table.NEG, b.ap(table.MUL, x, negated))
    if is_constant(c) and not is_constant(a):
        return b.ap(table.MUL, c, a)
    (ka, xa), (kc, xc) = _coefficient(a), _coefficient(c)
    if (ka != 1 or kc != 1) and not is_constant(xa) and not is_constant(xc) \
            and (a is not xa or c is not xc):
        return _scaled(b, ka * kc, b.ap(table.MUL, xa, xc))
    if is_constant(a) and c.op is table.MUL and is_constant(c.inputs[0]):
        return b.ap(table.MUL, a.value * c.inputs[0].value, c.inputs[1])
    if not is_constant(a) and c.op is table.MUL and is_constant(c.inputs[0]):
        return b.ap(table.MUL, c.inputs[0], b.ap(table.MUL, a, c.inputs[1]))
    for x, y in ((a, c), (c, a)):  # x * (1/y) is x/y; x * (y/x) is y
        if y.op is table.DIV and not _boolean(x):
            if _value_is(y.inputs[0], 1):
                return b.ap(table.DIV, x, y.inputs[1])
            if y.inputs[1] is x:
                return y.inputs[0]
    if _rank(c, b.ranks) < _rank(a, b.ranks):  # variables and powers first: 2*x*sin(x)
        return b.ap(table.MUL, c, a)
    if a is c:
        return b.ap(table.POW, a, 2.0)
    return None


def _rank(node: Node, ranks: dict) -> int:
    """Order of factors in a printed product: numbers, names, powers, then the rest
    (a product: its lowest factor's). Kept per node, so that a long product is not
    walked again at each new factor."""
    rank = ranks.get(node.id)
    if rank is not None:
        return rank
    pending, order = [node], []
    while pending:  # the products below not ranked yet, then ranked from the bottom up
        current = pending.pop()
        if current.op is table.MUL and current.id not in ranks:
            order.append(current)
            pending.extend(current.inputs)
    for current in reversed(order):
        ranks[current.id] = min(_leaf_rank(i, ranks) for i in current.inputs)
    return _leaf_rank(node, ranks)


def _leaf_rank(node: Node, ranks: dict) -> int:
    if node.op is table.MUL:
        return ranks[node.id]
    if is_constant(node):
        return 0
    if node.op is table.CONST:
        return 1
    if node.op is table.POW and node.inputs[0].op is table.CONST:
        return 2
    return 3


def _factors(node: Node) -> list[Node]:
    return list(node.inputs) if node.op is table.MUL else [node]


def _simplify_div(b, a, c):
    if _value_is(c, 1):
        return a
    if _value_is(a, 0):
        return b.const(0.0)
    if a is c and not is_constant(a):
        return b.const(1.0)
    top, bottom = _factors(a), _factors(c)
    for factor in top:  # cancel one factor the two sides share: (x*y)/(x*z) is y/z
        if factor in bottom and not is_constant(factor):
            top.remove(factor)
            bottom.remove(factor)
            numerator = top[0] if len(top) == 1 else (
                b.ap(table.MUL, *top) if top else b.const(1.0))
            if not bottom:
                return numerator
            return b.ap(table.DIV, numerator,
                        bottom[0] if len(bottom) == 1 else b.ap(table.MUL, *bottom))
    negated = _negated(a)
    if negated is not None:
        return b.ap(table.NEG, b.ap(table.DIV, negated, c))
    return None


def _simplify_pow(b, a, c):
    if _value_is(c, 1):
        return a
    if _value_is(c, 0):
        return b.const(1.0)
    return None


def _simplify_neg(b, a):
    negated = _negated(a)
    if negated is not None:
        return negated
    if a.op is table.SUB:
        return b.ap(table.SUB, a.inputs[1], a.inputs[0])
    return None


def _simplify_alias(b, a):
    return a


def _simplify_select(b, cond, branch):
    return branch


# Algebraic identities of the arithmetic primitives (keyed by primitive, not by name).
SIMPLIFY = {table.ADD: _simplify_add, table.SUB: _simplify_sub, table.MUL: _simplify_mul,
            table.DIV: _simplify_div, table.POW: _simplify_pow, table.NEG: _simplify_neg,
            table.POS: _simplify_alias, table.ALIAS: _simplify_alias,
            table.SELECT: _simplify_select}


def _simplify(b, prim, inputs, params):
    rule = SIMPLIFY.get(prim)
    if rule is not None:
        return rule(b, *inputs)
    if prim is table.PART and inputs[0].op is table.TUPLE:  # (a, b)[0] is a
        return inputs[0].inputs[params]
    if prim is table.INDEX and inputs[0].op is table.VECTOR and type(params) is int:
        return inputs[0].inputs[params]  # [a, b][0] is a
    return None


# Derivative graphs ------------------------------------------------------------------

def rebuild(tape: Tape, b: Builder, leaves: dict, keep_inactive: bool = False,
            shapes=None) -> dict:
    """The tape's nodes rebuilt through the builder (simplified, shared).

    `leaves` maps ids of input nodes to the symbol nodes that stand for them. Nodes
    without active inputs become constants, or stay themselves with keep_inactive
    (so that a result keeps its link to an enclosing directive's inputs).
    """
    out = dict(leaves)
    for node in tape.nodes:
        if node.id in out:
            if shapes is not None and out[node.id].value is None:  # (a formula's variable)
                shape = shapes(node)
                if shape is not None:
                    b.shapes.setdefault(out[node.id].id, shape)
            continue
        if node.id not in tape.active:
            keep = keep_inactive or node.value is None or not _numeric_value(node.value)
            out[node.id] = node if keep else b.const(node.value)
            continue
        made = out[node.id] = b.ap(node.op, *[out[i.id] for i in node.inputs],
                                   params=node.params)
        if made.span is None and made.inputs and made.op is node.op:
            made.span = node.span  # (an error found later in the formula points here)
        if made.value is None:  # (a formula's shapes: the evaluator's, or the builder's own)
            shape = shapes(node) if shapes is not None else b.known_shape(node)
            if shape is not None:
                b.shapes.setdefault(made.id, shape)
    return out


def forward_derivative(tape: Tape, rebuilt: dict, variable, b: Builder) -> Node:
    """d output / d variable as a formula node (forward mode over formulas)."""
    tangent = {variable.id: b.const(1.0)}
    get = tangent.get
    for node in tape.steps:
        if node.id in tangent:
            continue
        moving = [get(i.id) for i in node.inputs]
        if all(t is None for t in moving):
            continue
        inputs = [rebuilt[i.id] for i in node.inputs]
        try:
            value = reader.tangent(node, b, inputs, rebuilt[node.id], moving)
        except ValueError:  # (a formula's trace has no values to check shapes against)
            raise _misfit(node, b, [m if m is not None else i
                                    for m, i in zip(moving, inputs)]) from None
        if value is not None:
            tangent[node.id] = value
    return tangent.get(tape.outputs[0].id) or b.zeros(rebuilt[tape.outputs[0].id])


def _misfit(node, b: Builder, operands: list) -> ShapeError:
    """The error of an operation whose operands' shapes do not fit, found only when its
    derivative computed with them (the formula's own trace had no values)."""
    return ShapeError(shape_message(node.op, [b.value(x) for x in operands]), node.span)


def over_symbols(tape: Tape) -> tuple[Builder, dict, list[Node]]:
    """The tape rebuilt as formulas over symbols that stand for its inputs (each symbol
    holding its input's value): (the builder, tape node id -> formula, the symbols)."""
    b = Builder()
    symbols = [Node(table.CONST, (), x.value, name=x.name or "x") for x in tape.inputs]
    rebuilt = rebuild(tape, b, {x.id: s for x, s in zip(tape.inputs, symbols)},
                      keep_inactive=True)
    return b, rebuilt, symbols


def gradient_formulas(tape: Tape, rebuilt: dict, b: Builder) -> list[Node]:
    """Per input of the tape, the formula of its first output's derivative by it (reverse
    mode over formulas; zeros of the input's shape where it has none)."""
    adjoint = reverse_derivatives(tape, rebuilt, b)
    return [adjoint.get(x.id) or b.zeros(rebuilt[x.id]) for x in tape.inputs]


def reverse_derivatives(tape: Tape, rebuilt: dict, b: Builder, seed=None) -> dict:
    """Adjoint formulas of every active node reached, for the tape's first output
    (with adjoint `seed`, 1 by default: a scalar output)."""
    output = tape.outputs[0]
    if seed is None and (output.op is table.TUPLE
                         or output.op is table.VECTOR and not is_array(output.value)):
        kind = "vector" if output.op is table.VECTOR else "tuple"  # (a formula's shape)
        raise DiffiTypeError(f"a gradient needs a scalar expression, not a {kind}; use "
                             f"jacobian")
    if seed is None:  # (a one-element tensor's seed is ones in its shape)
        seed = np().ones(output.value.shape) if is_array(output.value) else 1.0
    adjoint = {output.id: b.node(seed)}
    active = tape.active
    for node in calls.checked(reversed(tape.steps)):
        g = adjoint.get(node.id)
        if g is None:
            continue
        inputs = [rebuilt[i.id] for i in node.inputs]
        needs = [i.id in active for i in node.inputs]
        parts = reader.cotangents(node, b, g, inputs, rebuilt[node.id], needs)
        for inp, part in zip(node.inputs, parts):
            if part is None:
                continue
            previous = adjoint.get(inp.id)
            adjoint[inp.id] = part if previous is None else b.ap(table.ADD, previous, part)
    return adjoint


# Printing formulas -----------------------------------------------------------------

def to_syntax(outputs: list[Node], names: dict[int, str], taken: set[str] = frozenset(),
              share: bool = True, source: bool = False):
    """Syntax for formula nodes: (intermediate assignments, one expression per output).

    `names` gives the names of variables (by node id). A non-trivial node used more
    than once becomes a named intermediate (t1, t2, …), so shared parts print once.
    With source=True the syntax must read back as the same formula (a formula the user
    gets as a function): an operation the language cannot write (where a max took its
    value, a broadcast to a shape known only from values) asks for a point instead.
    """
    order = ancestors(*outputs)
    uses = _uses(order, outputs)
    prefix = _fresh_prefix(taken | set(names.values()))
    syntax: dict[int, S.Syntax] = {}
    spines = Spines(uses)
    assignments = []
    for k, node in enumerate(order):
        if not k & 1023:
            calls.check()
        if node.id in names:
            syntax[node.id] = S.Name(names[node.id])
            continue
        if source and not _writable(node):
            raise needs_point(_op_name(node.op))
        expr = _node_syntax(node, syntax, spines)
        if share and uses.get(node.id, 0) > 1 and _worth_naming(node):
            name = f"{prefix}{len(assignments) + 1}"
            assignments.append(S.Assign(S.Name(name), expr))
            expr = S.Name(name)
        syntax[node.id] = expr
    return assignments, [syntax[o.id] for o in outputs]


class Spines:
    """The bottoms of the left spines of the products and sums being written, so that
    re-associating a*(b*c) as a*b*c and negating -(a*b) as -a*b take one step, not a
    walk down the spine (which made printing a long product quadratic). A spine is
    changed in place only when its node is used once (its syntax is nobody else's)."""

    def __init__(self, uses: dict):
        self.uses = uses
        self.same: dict[int, S.Binary] = {}      # deepest node of the same operator
        self.product: dict[int, S.Binary] = {}   # deepest node of * and /

    def owned(self, node: Node, expr) -> bool:
        return self.uses.get(node.id, 0) == 1 and id(expr) in self.same

    def binary(self, symbol: str, left, right) -> S.Binary:
        """A new node `left symbol right`, its spines' bottoms noted."""
        expr = S.Binary(symbol, left, right)
        below = isinstance(left, S.Binary)
        self.same[id(expr)] = self.same[id(left)] if below and left.op == symbol \
            and id(left) in self.same else expr
        if symbol in ("*", "/"):
            self.product[id(expr)] = self.product[id(left)] if below and \
                left.op in ("*", "/") and id(left) in self.product else expr
        return expr

    def prepend(self, symbol: str, left, chain: S.Binary) -> S.Binary:
        """left*(b*c*…) as left*b*c*…: the new product goes in at the chain's bottom."""
        bottom = self.same[id(chain)]
        bottom.left = self.binary(symbol, left, bottom.left)
        self.same[id(chain)] = self.same[id(bottom.left)]
        if symbol in ("*", "/"):
            self.product[id(chain)] = self.product[id(bottom.left)]
        return chain

    def negate_product(self, product: S.Binary) -> S.Binary:
        """-(a*b*…) as -a*b*…: the leftmost factor negated, in place."""
        bottom = self.product[id(product)]
        bottom.left = _negated_factor(bottom.left)
        return product


def _fresh_prefix(taken: set[str]) -> str:
    for prefix in ("t", "u", "tmp", "_t"):
        if not any(n.startswith(prefix) and n[len(prefix):].isdigit() for n in taken):
            return prefix
    return "_tmp"


def _uses(order: list[Node], outputs: list[Node]) -> dict[int, int]:
    uses: dict[int, int] = {}
    for node in order:
        for i in node.inputs:
            uses[i.id] = uses.get(i.id, 0) + 1
    for o in outputs:
        uses[o.id] = uses.get(o.id, 0) + 1
    return uses


def _worth_naming(node: Node) -> bool:
    if not node.inputs:
        return False
    if node.op is table.NEG and not node.inputs[0].inputs:
        return False
    return True


def _constant_syntax(value) -> S.Syntax:
    if type(value) is bool:
        return S.Name("true" if value else "false")
    if is_array(value):
        return S.Vector([_constant_syntax(as_value(v)) for v in value])
    if isinstance(value, str):
        return S.Str(value)
    if isinstance(value, tuple):
        return S.TupleLit([_constant_syntax(v) for v in value])
    try:
        number = float(value)
    except (TypeError, ValueError):  # a function (or a report) shown by its name
        return S.Name(getattr(value, "name", None) or type(value).__name__.lower())
    return S.Num(printed(number))


def printed(value: float) -> float:
    """A formula's constant as values print, to 15 significant digits: the formula
    shows the number it holds, and reads back to it (0.1 + 0.2 is 0.3 here)."""
    return float(f"{value:.15g}") if math.isfinite(value) else value


def _node_syntax(node: Node, syntax: dict, spines: Spines | None = None) -> S.Syntax:
    spines = spines or Spines({})
    op = node.op
    args = [syntax[i.id] for i in node.inputs]
    if op is table.CONST:
        if node.value is None:
            return S.Name(node.name or "_")
        return _constant_syntax(node.value)
    printer = _PRINTERS.get(op)
    if printer is not None:
        return printer(node, args)
    if op is table.RESHAPE and node.params == ():  # (one element as a number)
        return S.Call(S.Name("sum"), args)
    if node.params is not None and op in _PARAMETERS:
        name, arguments, keywords = _PARAMETERS[op](node.params)
        return S.Call(S.Name(name), args + arguments, keywords)
    if op is table.NEG and isinstance(args[0], S.Binary) and args[0].op in ("*", "/"):
        # -(a*b) prints as -a*b, which reads back as (-a)*b: the same value
        product = args[0]
        if spines.owned(node.inputs[0], product) and id(product) in spines.product:
            return spines.negate_product(product)
        return spines.binary(product.op, _negate(product.left, spines), product.right)
    if op.symbol is not None:
        if len(args) == 2:
            return _binary_syntax(op.symbol, args[0], args[1], node.inputs[1], spines)
        return S.Unary(op.symbol, args[0])
    return S.Call(S.Name(op.display or op.name), args)  # (the built-in's name)


def _binary_syntax(symbol: str, left: S.Syntax, right: S.Syntax, right_node: Node,
                   spines: Spines) -> S.Syntax:
    """a*(b*c) prints as a*b*c: products and sums are re-associated to the left."""
    if symbol in ("*", "+") and isinstance(right, S.Binary) and right.op == symbol:
        if spines.owned(right_node, right):
            return spines.prepend(symbol, left, right)
        return spines.binary(symbol, _reassociated(symbol, left, right.left, spines),
                             right.right)
    return spines.binary(symbol, left, right)


def _reassociated(symbol: str, left: S.Syntax, right: S.Syntax, spines: Spines) -> S.Syntax:
    """left symbol right, re-associated to the left (a copy: right is shared)."""
    spine = []
    while isinstance(right, S.Binary) and right.op == symbol:
        spine.append(right.right)
        right = right.left
    expr = spines.binary(symbol, left, right)
    for operand in reversed(spine):
        expr = spines.binary(symbol, expr, operand)
    return expr


def _negate(expr: S.Syntax, spines: Spines) -> S.Syntax:
    """-expr for the leftmost factor of a product (a copy)."""
    spine = []
    while isinstance(expr, S.Binary) and expr.op in ("*", "/"):
        spine.append(expr)
        expr = expr.left
    expr = _negated_factor(expr)
    for product in reversed(spine):
        expr = spines.binary(product.op, expr, product.right)
    return expr


def _negated_factor(expr: S.Syntax) -> S.Syntax:
    if isinstance(expr, S.Num):
        return S.Num(-expr.value)
    return S.Unary("-", expr)


def _index_syntax(node, args):
    items = []
    for p in node.params if isinstance(node.params, tuple) else (node.params,):
        if isinstance(p, slice):
            items.append(S.Slice(*[None if v is None else S.Num(float(v))
                                   for v in (p.start, p.stop, p.step)]))
        else:
            items.append(S.Num(float(p)))
    return S.Index(args[0], items)


def _axis_keyword(name):
    def written(axis):
        return name, [], [S.Keyword("axis", S.Num(float(axis)))]
    return written


# Operations whose parameters are arguments in the source: sum(A, axis = 1),
# reshape(A, 2, 3), concat(a, b, axis = 1).
_PARAMETERS = {
    table.SUM: _axis_keyword("sum"),
    table.MEAN: _axis_keyword("mean"),
    table.MAXIMUM: _axis_keyword("max"),
    table.MINIMUM: _axis_keyword("min"),
    table.CONCAT: _axis_keyword("concat"),
    table.RESHAPE: lambda shape: ("reshape", [S.Num(float(d)) for d in shape], []),
}


def _writable(node: Node) -> bool:
    """Whether the printed syntax of node reads back as the same operation."""
    op = node.op
    if op is table.CONST or op in _PRINTERS or op.symbol is not None:
        return True
    if node.params is not None and op not in _PARAMETERS:
        return False
    return (op.display or op.name) in BUILTINS


def _op_name(op) -> str:
    return {"weights": "max or min", "expand": "a reduction", "sum_to": "broadcasting",
            "broadcast": "broadcasting"}.get(op.name, op.display or op.name)


def _ones(shape) -> S.Call:
    return S.Call(S.Name("ones"), [S.Num(float(d)) for d in shape])


def _spread_syntax(node, args):
    """A value spread over a shape (broadcast, or a reduced cotangent expanded back):
    times ones of the shape, after a reshape that puts back a reduced axis."""
    if node.op is table.BROADCAST:
        shape, part = node.params, args[0]
    else:
        axis, shape = node.params
        part = args[0]
        if axis is not None and shape:
            kept = list(shape)
            kept[axis % len(shape)] = 1
            part = S.Call(S.Name("reshape"), [part] + [S.Num(float(d)) for d in kept])
    return S.Binary("*", part, _ones(shape)) if shape else part


_PRINTERS = {
    # (a built-in's value, argmax or size, say: its derivative is 0, and it prints as
    # the value it holds, as a constant does)
    table.VALUE: lambda node, args: _constant_syntax(node.value),
    table.ALIAS: lambda node, args: args[0],
    table.SELECT: lambda node, args: args[1],
    table.IFELSE: lambda node, args: S.IfElse(*args),
    table.LOGIC: lambda node, args: (S.Logic(node.params, args[0], args[1]) if len(args) == 2
                                   else args[0]),
    table.VECTOR: lambda node, args: S.Vector(args),
    table.TUPLE: lambda node, args: S.TupleLit(args),
    table.INDEX: _index_syntax,
    table.BROADCAST: _spread_syntax,
    table.EXPAND: _spread_syntax,
    # (linspace's count is its params: printed, the call reads back the same)
    table.LINSPACE: lambda node, args: S.Call(S.Name(node.op.name),
                                              [*args, S.Num(float(node.params))]),
}
