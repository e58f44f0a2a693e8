"""Where a directive runs compiled code: the one request every directive kind makes
(a point compiled code can take, asked before), the one way it runs (compile.cache's
expression cache, with the scope around the directive kept out of the tape), and the
one way its result joins the graph (settled). derivatives, matrices and check ask
through it; numeric mode's evaluations too (compiled_values).
"""
from __future__ import annotations

import weakref

from ..arrays import is_float_tensor
from ..core.problem import Problem
from ..core.values import Function
from .derived import is_variable, settle


def compiled_request(ev, problem: Problem, kind, every_input_a_variable: bool = False,
                     expression_only: bool = False, tensors: bool = False):
    """(expr, args, key) when a directive of this kind over the problem may run compiled
    code: wherever it is written (top level, a block, a function's body), at a point
    compiled code can take (compilable_point) of numbers, asked before (the first time
    loads no compiler: lazy start-up), and, as asked, with every input a variable or on
    an expression rather than a function; else None. (A tape that reads a name of the
    scope around it, other than its inputs, is not kept: run_compiled.) With `tensors`,
    a point may give float tensors too (compile.tensor.TensorTape serves it)."""
    if not compilable_point(problem) \
            or expression_only and problem.function is not None \
            or every_input_a_variable and list(problem.names) != list(problem.variables):
        return None
    args = problem.numbers
    if args is None and tensors:
        args = tuple(problem.values.get(n) for n in problem.names)
        if not all(type(a) is float or is_float_tensor(a) for a in args):
            return None
    if args is None:
        return None
    expr = problem.function if problem.function is not None else problem.ast.expr
    key = (kind, id(expr), tuple(problem.names), tuple(problem.variables))
    return (expr, args, key) if asked_before(ev, key, expr) else None


def run_compiled(ev, problem: Problem, request, ask, args: tuple | None = None):
    """The compiled answer to `ask` at the request's point, or at `args` (compile.cache's
    Cache.expression), or None where the code cannot serve."""
    expr, point, key = request
    # (at another point than the problem's, only the tapes kept may serve: a trace there
    # would be at the problem's point again, and serve nothing new)
    trace = None if args is not None else (lambda: problem.tape(every_input=True))
    return ev.compiled.expression(ev, key, expr, args or point, ask, trace, True,
                                  free(problem), outer_locals(ev, problem))


def outer_locals(ev, problem: Problem) -> frozenset:
    """The bindings of the scopes around the directive below the globals (a function's
    parameters, a block's names), other than its inputs': what its compiled tape must
    not read, since it would keep their values of this call for the next."""
    scope = problem.scope
    if scope is ev.globals:
        return frozenset()
    inputs = {scope.lookup(n) for n in problem.names}
    found = set()
    while scope is not None and scope is not ev.globals:
        found.update(b for b in scope.vars.values() if b not in inputs)
        scope = scope.parent
    return frozenset(found)


def asked_before(ev, key: tuple, expr) -> bool:
    """Whether the directive over expr has run before (keyed as `key`): the first time,
    it is not compiled (a script that asks once loads no compiler)."""
    asked = _ASKED.setdefault(ev, {})
    if asked.get(key) is expr:
        return True
    if len(asked) >= 256:
        asked.clear()
    asked[key] = expr
    return False


def settled(ev, problem: Problem, value, make):
    """A compiled directive's result: its value, or (when it depends on a variable: one
    the tape just used reads, or a global the directive differentiates by) the DERIVED
    node that derived.settle makes of the code's tape, over the nodes the variables
    stand for now."""
    compiled = ev.compiled.used
    if problem.direct is None and compiled.result is compiled.tape.outputs[0] \
            and not compiled.outside and reads_no_variable(ev) and literal_point(problem):
        return value
    positions = [problem.names.index(v) for v in problem.variables]
    tape, read = compiled.tape_by(positions)
    xs = tape.inputs if problem.direct is None else [problem.direct[k] for k in positions]
    return settle(ev, problem.ast, tape, problem.actual(xs), value, make, read,
                  problem.others(compiled.tape.inputs, every=True))


def compilable_point(problem: Problem) -> bool:
    """A point compiled code can take: every input given a value by the point (a literal
    number, or an expression: a parameter, a variable, whose node the result is then
    over), or (no point given) every input a variable's value, taken as it is now."""
    return problem.values is not None and (
        problem.direct is not None or all(n in problem.points for n in problem.names))


def free(problem: Problem) -> tuple:
    """The names whose bindings a compiled tape need not guard: every input, since the
    tape takes each as an argument (a global by which a directive differentiates, or one
    of the name a point gives a value, `at W = W * 2`, rebound). The cache still guards
    them where a name's graph moved with an input, and a function whose trace the
    directive is part of guards the globals among them (Cache.expression)."""
    return tuple(problem.names)


_ASKED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # evaluator -> key -> expr


def literal_point(problem: Problem) -> bool:
    """Every input of the problem given by its point, as a literal number."""
    points = problem.points
    return problem.values is not None and all(n in points for n in problem.names) \
        and not any(is_variable(node) for node in points.values())


def reads_no_variable(ev) -> bool:
    """The compiled tape just used read only functions (no variable's value)."""
    reads = ev.compiled.used.reads
    return all(b is None or isinstance(b.node.value, Function) for b in reads.values())


def compiled_values(ev, problem: Problem):
    """The expression's value as a function of every input's number (a tuple in `names`
    order) by its compiled tape, for numeric mode's evaluations at perturbed points;
    the function gives None where the code cannot serve (the caller then traces). None
    when no compiled tape may serve this problem (compiled_request)."""
    request = compiled_request(ev, problem, "value", expression_only=True)
    if request is None:
        return None
    return lambda args: run_compiled(ev, problem, request, False, args)
