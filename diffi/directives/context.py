"""The bottom of the directives: what every directive shares. A directive's Context
(evaluator, warnings, nesting) and its Report, symbolic results as Formulas, modes and
their options, numeric estimates, and partials packed into a gradient.
"""
from __future__ import annotations

import math

from .. import arrays, calls
from ..arrays import finite, is_array, single_number
from ..core.evaluator import nonfinite_message
from ..core.graph import Node, ancestors
from ..core.problem import Problem
from ..core.tape import Tape
from ..core.values import UserFunction, kind_of
from ..errors import DiffiNameError, DiffiTypeError
from ..language import syntax as S
from ..language.vocabulary import MODES
from ..modes import numeric, symbolic
from .compiled import compiled_values


class Formula(UserFunction):
    """A symbolic result: a function of its variables that prints as its formula alone."""

    def __init__(self, params, body):
        super().__init__("formula", params, body)

    def __str__(self) -> str:
        return S.unparse(self.body)


class Report:
    """A directive's value together with the text that shows its work."""

    def __init__(self, value, text: str, ok: bool = True, detail=None, verdict=None):
        self.value = value
        self.text = text
        self.ok = ok
        self.detail = detail  # a structured form (a Trace, a Graph), for the Python API
        self.verdict = verdict  # the index of the line that says ok or not (check's)

    def __str__(self) -> str:
        return self.text

    def to_data(self) -> dict:
        """The report as JSON-ready data: its verdict, and its trace or graph when it has one."""
        data = {"ok": self.ok}
        if self.detail is not None and hasattr(self.detail, "to_data"):
            data.update(self.detail.to_data())
        return data


# Modes and options -----------------------------------------------------------------

def mode_of(ev, ast, scope) -> tuple[str | None, dict]:
    """The mode named by `using …` (None: the directive's default) and its options."""
    if ast.mode is None:
        return None, {}
    name = ast.mode.name
    if name not in MODES:
        raise DiffiTypeError(f"unknown mode '{name}'; use one of {', '.join(MODES)}",
                             ast.mode.span)
    if ast.mode.args:
        raise DiffiTypeError("mode options are named: using numeric(step = 1e-6)",
                             ast.mode.span)
    options = {k.name: ev.eval(k.value, scope).value for k in ast.mode.keywords}
    allowed = {"step", "method"} if name == "numeric" else set()
    for key, value in options.items():
        if key not in allowed:
            raise DiffiTypeError(f"mode {name} takes no option '{key}'", ast.mode.span)
    if "method" in options and options["method"] not in numeric.METHODS:
        raise DiffiTypeError(f"method must be one of {', '.join(map(repr, numeric.METHODS))}",
                             ast.mode.span)
    step = options.get("step")
    if step is not None and not (type(step) is float and step > 0 and math.isfinite(step)):
        raise DiffiTypeError("step must be a positive number", ast.mode.span)
    return name, options


class Context:
    """One directive's run: the evaluator, and warnings about derivatives."""

    def __init__(self, ev, ast):
        self.ev = ev
        self.ast = ast
        self.warned = False

    def on_partial(self, node, index, part, args) -> None:
        """Warn once about the first non-finite derivative from finite inputs."""
        if self.warned or finite(part) or not all(finite(a) for a in args):
            return
        self.warned = True
        self.ev.warn(nonfinite_message("derivative", node.op, part, args), node.span)


NUMERIC_MAX_ELEMENTS = 10_000  # numeric mode evaluates the program 4 or more times per element


def numeric_estimate(problem: Problem, var: str, order: int, options: dict,
                     notes: bool = True):
    """A numeric derivative by one variable; a tensor variable element by element.
    Its notes (a step kept out of the domain, an uncertain estimate) are warnings,
    unless the caller reports them itself (notes=False)."""
    method = options.get("method", "central")
    x0 = problem.values[var]
    if x0 is None:  # (inside a formula: an enclosing directive gave no point)
        raise DiffiTypeError(f"numeric mode needs a value for {var}: give a point with at",
                             problem.ast.span)
    with arrays.np().errstate(all="ignore"):  # (tensor differences: IEEE, no warnings)
        if is_array(x0):
            estimate = _numeric_elements(problem, var, order, method, options.get("step"))
        else:
            at = _numeric_function(problem, var)
            estimate = numeric.derivative(quietly(problem.ev, at), x0, order, method,
                                          options.get("step"), center=at)
    if notes:
        name = f"d/d{var}" if order == 1 else f"d{order}/d{var}{order}"
        for note in estimate.notes:
            problem.ev.note(f"{name}: {note}", problem.ast.span)
    return estimate


def numeric_along(problem: Problem, var: str, f, x0: float, options: dict):
    """A numeric first derivative of f (the output as a function of one number): the
    perturbed points evaluated quietly, f at x0 as any value, notes as warnings."""
    with arrays.np().errstate(all="ignore"):  # (tensor differences: IEEE, no warnings)
        estimate = numeric.derivative(quietly(problem.ev, f), x0, 1,
                                      options.get("method", "central"), options.get("step"),
                                      center=f)
    for note in estimate.notes:
        problem.ev.note(f"d/d{var}: {note}", problem.ast.span)
    return estimate.value


def _numeric_function(problem: Problem, var: str):
    """The output as a function of one variable's value: for a user function at a point
    of numbers, by its compiled code (when that can serve: else, and for any other
    problem, by tracing the output at each point)."""
    def traced(t):
        return _numeric_output(problem, problem.with_variable(var, t))
    if var not in problem.names or problem.numbers is None:
        return traced
    values = problem.memo.get("numeric values")  # (one for all of a gradient's variables)
    if values is None:
        values = problem.memo["numeric values"] = _compiled_values(problem) or False
    if values is False:
        return traced
    args = list(problem.numbers)
    k = problem.names.index(var)

    def compiled(t):
        if type(t) is not float:
            return traced(t)
        calls.check(problem.ast.span)  # (each evaluation may be short: the timeout holds)
        args[k] = t
        value = values(tuple(args))
        return traced(t) if value is None else value
    return compiled


def _compiled_values(problem: Problem):
    """The output as a function of a tuple of every input's number, by compiled code
    (giving None where it cannot serve), or None: a user function's compiled value
    (the code found once, then called directly), or an expression's compiled tape."""
    fn, ev = problem.function, problem.ev
    if type(fn) is UserFunction:
        code = ev.compiled.value_function(ev, fn, problem.numbers)

        def values(point):
            value = code(point) if code is not None else None
            return value if value is not None else ev.compiled.run(ev, fn, point,
                                                                   gradient=False)
        return values
    if fn is None:  # an expression: its compiled tape, from its second time
        return compiled_values(ev, problem)
    return None


def quietly(ev, f):
    """f evaluated without warnings: numeric mode probes points the user never wrote,
    and says itself what it found there (diffi.modes.numeric.inside_domain)."""
    def probe(t):
        saved, ev.warned = ev.warned, True
        try:
            return f(t)
        finally:
            ev.warned = saved
    return probe


def _numeric_output(problem, values):
    """The output at a perturbed point, which differences can subtract: a number or a
    tensor (a tuple, a string or a function is refused, at the directive)."""
    calls.check(problem.ast.span)  # (each evaluation may be short: the timeout holds)
    value = problem.output_at(values)
    if is_array(value):  # (booleans subtract as numbers: true - false is 1)
        return value.astype(float) if value.dtype.kind == "b" else value
    if type(value) is float:
        return value
    if type(value) is bool:
        return float(value)
    raise DiffiTypeError(f"numeric mode differences numbers or tensors, not a "
                         f"{kind_of(value)}", problem.ast.span)


def check_numeric_size(problem, var: str) -> None:
    """Numeric mode evaluates the program twice per element: refuse a huge tensor."""
    x0 = problem.values[var]
    if is_array(x0) and x0.size > NUMERIC_MAX_ELEMENTS:
        raise DiffiTypeError(f"numeric mode perturbs every element: {var} has {x0.size}, "
                             f"more than {NUMERIC_MAX_ELEMENTS}; use forward or reverse "
                             f"mode", problem.ast.span)


def unit_seeds(value):
    """1 for a number; for a tensor, one one-hot tensor per element (made one at a time)."""
    if not is_array(value):
        yield 1.0
        return
    np = arrays.np()
    for index in np.ndindex(*value.shape):
        seed = np.zeros(value.shape)
        seed[index] = 1.0
        yield seed


def _numeric_elements(problem, var, order, method, step):
    np = arrays.np()
    x0 = problem.values[var]
    check_numeric_size(problem, var)
    out = np.zeros(x0.shape)
    estimates = []
    center = []  # f at the point itself: the same for every element, evaluated once
    for index in np.ndindex(*x0.shape):
        def f(t, index=index):
            x = x0.copy()
            x[index] = t
            return _scalar_output(_numeric_output(problem, problem.with_variable(var, x)),
                                  problem)

        def at_x(t, f=f):
            if not center:
                center.append(f(t))
            return center[0]
        estimate = numeric.derivative(quietly(problem.ev, f), float(x0[index]), order,
                                      method, step, center=at_x)
        out[index] = estimate.value
        estimate.notes = [f"element {list(index)}: {n}" for n in estimate.notes]
        estimates.append(estimate)
    if not estimates:  # a tensor of no elements: no partial to estimate
        return numeric.Estimate(out, 0.0, 0.0, method, [])
    worst = max(estimates, key=lambda e: e.error)
    return numeric.Estimate(out, worst.error, worst.step, worst.method,
                            [e for est in estimates[:3] for e in est.evaluations],
                            max(e.noise for e in estimates),
                            next((e.notes[:1] for e in estimates if e.notes), []),
                            worst.first)


def _scalar_output(value, problem):
    number = single_number(value)
    if number is not None:
        return number
    if type(value) is not bool:
        raise DiffiTypeError("numeric mode by a tensor element needs a scalar expression",
                             problem.ast.span)
    return value


def note_unused(problem: Problem) -> None:
    """Say so when the expression does not depend on a variable of differentiation
    (d/dz x^2 is 0) or on a name the point gives a value (at y = 3 changes nothing).
    A name written in the expression counts as used; one that is not is looked for
    along the graph (y = 2*z; d/dz y depends on z through y)."""
    ast = problem.ast
    if problem.function is not None or problem.direct is not None and not problem.variables:
        return
    point = ast.point.named if ast.point is not None and ast.point.positional is None else []
    spans = {k.name: k.span for k in point}
    asked = [v for v in dict.fromkeys(problem.variables + list(spans)) if v in problem.names]
    written = _names_in(ast.expr)
    unwritten = [v for v in asked if v not in written]
    if not unwritten:
        return
    inputs, output = problem.trace()
    used = {n.id for n in ancestors(output)}
    by_name = dict(zip(problem.names, inputs))
    text = S.unparse(ast.expr)
    text = text if len(text) <= 40 else "the expression"
    strict = ast.point is not None and ast.point.strict
    explicit = {ast.var} | {w.id for w in ast.wrt or ()}  # (asked for by name)
    for name in unwritten:
        if by_name[name].id in used:
            continue
        if strict and name in spans and name not in explicit:  # (a Python caller's slip)
            raise DiffiNameError(f"at gives {name} a value, but {text} does not depend "
                                 f"on {name}")
        if name in problem.variables:
            problem.ev.note(f"{text} does not depend on {name}, so its derivative by "
                            f"{name} is 0", ast.span)
        else:
            problem.ev.note(f"the point gives {name} a value, but {text} does not "
                            f"depend on {name}", spans[name] or ast.span)


def _names_in(expr) -> set[str]:
    """Every name an expression's syntax reads."""
    found, stack = set(), [expr]
    walked = 0
    while stack:
        node = stack.pop()
        walked += 1
        if not walked & 255:  # (nested directives walk their inner ones again)
            calls.check()
        if isinstance(node, S.Name):
            found.add(node.id)
        elif isinstance(node, S.Syntax):
            for value in (getattr(node, f) for f in node.__slots__):
                stack.extend(value if isinstance(value, list) else [value])
    return found


def formula_function(problem, inputs, outputs, vector: bool, matrix: int = 0):
    """The formula of outputs as a function of its free names; its value when every
    name it had is set where it stands (`x = 1; d/dx x^2 + q` is 2, not a function)."""
    outputs = _at_point(problem, inputs, outputs)
    params = formula_parameters(problem, inputs, outputs)
    if not params and all(o.value is not None for o in outputs):
        values = [o.value for o in outputs]
        if matrix:
            return arrays.np().array(values, dtype=float).reshape(-1, matrix)
        return arrays.np().array(values, dtype=float) if vector else values[0]
    names = {n.id: n.name for n in inputs}
    taken = set(problem.ev.globals.names())
    assignments, exprs = symbolic.to_syntax(outputs, names, taken, source=True)
    if matrix:
        rows = [S.Vector(exprs[i:i + matrix]) for i in range(0, len(exprs), matrix)]
        result = S.Vector(rows)
    else:
        result = S.Vector(exprs) if vector else exprs[0]
    body = S.Block(assignments, result) if assignments else result
    return Formula(params, body)


def _at_point(problem, inputs, outputs) -> list:
    """The formulas with the names a point gives (`d/dx a*x^2 at a = 2`) set to their
    values, folded: the formula is one in the other names."""
    given = {n.id: n for n in inputs if n.name in problem.points}
    if not given:
        return outputs
    b = symbolic.Builder()
    tape = Tape(outputs, list(given.values()))
    rebuilt = symbolic.rebuild(tape, b, {i: b.const(n.value) for i, n in given.items()},
                               keep_inactive=True)
    return [rebuilt[o.id] for o in tape.outputs]


def formula_parameters(problem, inputs, outputs) -> list[str]:
    """A symbolic result's parameters: a function's own (`d/dx f` is called as f is);
    for an expression, its variables of differentiation, then the other names the
    result contains, in the order they first appear (a name the derivative lost, like
    b in d/dx a*x^2 + b, is no parameter)."""
    if problem.function is not None:
        return list(problem.names)
    used = {n.id for n in ancestors(*outputs)}
    rest = [n.name for n in inputs if n.id in used and n.name not in problem.variables]
    return [v for v in problem.variables if v not in problem.points] + rest


def _require_scalar(output, ast):
    if output.value is not None and type(output.value) is not bool \
            and single_number(output.value) is None:
        raise DiffiTypeError(f"{ast.kind} needs a scalar expression, not a "
                             f"{kind_of(output.value)}; use jacobian", ast.span)


def formula_seed(ev, output, ast):
    """The adjoint a formula's reverse pass starts from: 1, or ones of a one-element
    output's shape; a formula whose shape holds more is refused as _require_scalar
    refuses the value (its shape is known though its value is not)."""
    shape = ev.shape_of(output)
    if not shape:
        return None
    ones = arrays.np().ones(shape)
    _require_scalar(Node(output.op, (), ones), ast)
    return ones


def pack(parts: list, problem: Problem):
    """Partials in wrt order: a vector when all are scalars; the gradient itself for
    one tensor variable; else a tuple of gradients, each of its variable's shape."""
    if all(type(p) in (float, bool) for p in parts):
        return arrays.np().array([float(p) for p in parts])
    if len(parts) == 1:
        return parts[0]
    return tuple(parts)
