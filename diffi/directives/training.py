"""`minimize L wrt W, V using gd(rate = 0.1, steps = 1000)` (docs/tensors.md).

Each step evaluates L at the current weights, takes the reverse-mode gradient and
updates the named variables in place. Ctrl-C stops after the last completed step and
keeps its weights. The loss history is bound to `losses` afterwards.
"""
from __future__ import annotations

import math

from .. import arrays
from ..arrays import as_value, is_array, single_number, zero_like
from ..compile.tensor import compile_problem
from ..compile.writers import NotCompilable, Retrace
from ..core.graph import Binding
from ..core.library import constant
from ..core.problem import Problem
from ..core.values import kind_of
from ..errors import DiffiError, DiffiTypeError
from ..modes import reverse
from .compiled import outer_locals

OPTIMIZERS = {  # name -> its options' defaults (the class is filled in below)
    "gd": {"rate": 0.01, "steps": 100},
    "adam": {"rate": 0.001, "steps": 100, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
}


def options_of(ev, ast, scope) -> tuple[str, dict]:
    """The optimizer's name and its options, with defaults, checked."""
    if ast.mode is None or ast.mode.name not in OPTIMIZERS:
        given = f"'{ast.mode.name}' is not an optimizer: " if ast.mode is not None else ""
        raise DiffiTypeError(given + "minimize needs one: using gd(rate = 0.1, steps = 100) "
                             "or using adam(rate = 0.01, steps = 100)",
                             ast.mode.span if ast.mode is not None else ast.span)
    name = ast.mode.name
    if ast.mode.args:
        raise DiffiTypeError(f"{name}'s options are named: {name}(rate = 0.1, steps = 100)",
                             ast.mode.span)
    options = dict(OPTIMIZERS[name])
    for keyword in ast.mode.keywords:
        if keyword.name not in options:
            raise DiffiTypeError(f"{name} takes {', '.join(options)}, not '{keyword.name}'",
                                 keyword.span)
        value = ev.eval(keyword.value, scope).value
        if type(value) is not float or not math.isfinite(value) or value < 0:
            raise DiffiTypeError(f"{keyword.name} must be a number >= 0", keyword.span)
        if keyword.name in ("beta1", "beta2") and value >= 1:
            raise DiffiTypeError(f"{keyword.name} must be below 1", keyword.span)
        options[keyword.name] = value
    if options["steps"] != int(options["steps"]):
        raise DiffiTypeError("steps must be a whole number", ast.mode.span)
    options["steps"] = int(options["steps"])
    return name, options


def minimize(ev, ast, scope):
    """Run the optimizer; the final loss (weights updated, `losses` bound)."""
    name, options = options_of(ev, ast, scope)
    names = [n.id for n in ast.wrt]
    bindings = [scope.lookup(n) for n in names]
    for n, b in zip(names, bindings):
        if b is None:
            raise DiffiTypeError(f"minimize updates variables in place: '{n}' has no value",
                                 ast.span)
    values = {n: _weight(b.node.value, n, ast) for n, b in zip(names, bindings)}
    problem = Problem(ev, ast, scope, None, names, names, values)
    update = OPTIMIZER_CLASSES[name](options)
    history, progress = [], ev.progress or SilentProgress()
    progress.start(options["steps"])
    interrupted = False
    step_of = Stepper(ev, ast, problem)
    # The weights are bound once, after the last completed step (or at Ctrl-C): `values`
    # changes by one assignment per step, so an interrupt cannot split a step; after an
    # error they are not bound at all.
    start, failed = values, False
    try:
        with arrays.np().errstate(all="ignore"):  # diffi, not NumPy, reports non-finite values
            for step in range(options["steps"]):
                ev.check_deadline(ast.span)
                loss, grads = step_of(values)
                values = update.step(values, grads)
                history.append(loss)
                progress.update(step + 1, loss)
    except KeyboardInterrupt:
        interrupted = True
    except BaseException:  # an error is no Ctrl-C: the weights stay as they were
        failed = True
        raise
    finally:
        try:
            if not failed and values is not start:  # no step done: the bindings stay
                _rebind_all(ev, scope, values)
        finally:
            progress.finish(interrupted)
    final = step_of.final_loss(values)
    # (changes the statement takes back if it fails later: minimize commits with it)
    ev.rebind(ev.globals, "losses", Binding("losses", constant(_history(history), "losses")),
              progress=True)
    return final


class SilentProgress:
    """No progress report (the Python API's default)."""

    def start(self, steps: int) -> None:
        pass

    def update(self, step: int, loss: float) -> None:
        pass

    def finish(self, interrupted: bool) -> None:
        pass


class Stepper:
    """Loss and gradient per step: by the compiled tape while it holds, else by tracing."""

    def __init__(self, ev, ast, problem):
        self.ev, self.ast, self.problem = ev, ast, problem
        self.key = ("minimize", id(ast.expr), tuple(problem.names))
        self.compiled = None
        self.failed = False
        self.fallbacks = 0

    def __call__(self, values: dict):
        nodes = self.ev.nodes
        try:
            return self._step(values)
        finally:  # a step's graph is dropped after it: the node budget is per step
            self.ev.nodes = nodes

    def _step(self, values: dict):
        # No global can be rebound while minimize runs, so a compiled tape stays valid
        # for the whole run once it has been made at its first step.
        compiled = self.compiled or self._compiled(values)
        if compiled is not None:
            names = self.problem.names
            try:  # (minimize runs its steps with NumPy's float errors ignored)
                loss, grads = compiled.value_and_grad(*[values[n] for n in names])
                if type(loss) is not float:
                    loss = _scalar(as_value(loss), self.ast)
                if loss - loss == 0:  # finite (each gradient of its weight's kind)
                    return loss, dict(zip(names, grads))
            except (Retrace, ArithmeticError, ValueError):
                pass
            self.compiled = None  # another branch, or a float error: trace again
            self.ev.compiled.forget_training(self.key)
            self.fallbacks += 1
            self.failed = self.fallbacks > 3  # diverging: stop recompiling every step
        return loss_and_gradient(self.ev, self.ast, self.problem, values)

    def final_loss(self, values: dict) -> float:
        """The loss at the final weights: by the compiled code while it serves, as each
        step's loss is (a `minimize … steps 1` statement in a loop then costs a step and
        no trace), else traced. A loss that read a name moving with the weights (v = w*2)
        is traced: once the weights are bound anew, v no longer moves with them."""
        if self.compiled is not None and not self.compiled.moved:
            try:
                with arrays.np().errstate(all="ignore"):
                    loss, _ = self.compiled.value_and_grad(
                        *[values[n] for n in self.problem.names])
                loss = single_number(as_value(loss))
                if loss is not None and loss - loss == 0:
                    return loss
            except (Retrace, ArithmeticError, ValueError):
                pass
        return _scalar(self.problem.output_at(values), self.ast)

    def _compiled(self, values):
        if self.failed:
            return None
        problem = self.problem
        try:
            self.compiled = self.ev.compiled.training_code(
                self.ev, self.key, problem.ast.expr, tuple(values[n] for n in problem.names),
                lambda: compile_problem(problem, values), tuple(problem.names),
                outer_locals(self.ev, problem))
        except NotCompilable:
            self.failed = True
            self.compiled = None
        return self.compiled


def loss_and_gradient(ev, ast, problem, values):
    """The loss at `values` and its gradient by reverse mode, per variable name."""
    traced = problem.tape(values)
    inputs, output = traced.inputs, traced.output
    if single_number(output.value) is None:
        hint = ": reduce it, with sum or mean" if is_array(output.value) else \
            " (call the function: L(W, V))"
        raise DiffiTypeError(f"the loss to minimize must be a scalar (a number), not a "
                             f"{kind_of(output.value)}{hint}", ast.span)
    tape = traced.tape
    adj = reverse.adjoints(tape, output, 1.0)
    grads = {n.name: adj[n.id] if n.id in adj else zero_like(n.value) for n in inputs}
    return _scalar(output.value, ast), grads


class GradientDescent:
    """w ← w − rate·g."""

    def __init__(self, options):
        self.rate = options["rate"]

    def step(self, values, grads):
        return {n: v - self.rate * grads[n] for n, v in values.items()}


class Adam:
    """Adam (Kingma & Ba): moving averages of g and g², bias-corrected."""

    def __init__(self, options):
        self.rate, self.beta1, self.beta2 = options["rate"], options["beta1"], options["beta2"]
        self.eps = options["eps"]
        self.m, self.v, self.t = {}, {}, 0

    def step(self, values, grads):
        self.t += 1
        out = {}
        for n, w in values.items():
            g = grads[n]
            if n not in self.m:
                self.m[n] = self.v[n] = zero_like(g)
            self.m[n] = self.beta1 * self.m[n] + (1 - self.beta1) * g
            self.v[n] = self.beta2 * self.v[n] + (1 - self.beta2) * g * g
            m_hat = self.m[n] / (1 - self.beta1 ** self.t)
            v_hat = self.v[n] / (1 - self.beta2 ** self.t)
            out[n] = w - self.rate * m_hat / (arrays.np().sqrt(v_hat) + self.eps)
        return {n: as_value(v) if is_array(v) else float(v) for n, v in out.items()}


OPTIMIZER_CLASSES = {"gd": GradientDescent, "adam": Adam}


def _weight(value, name, ast):
    if type(value) is float or is_array(value):
        return value
    raise DiffiTypeError(f"'{name}' must be a number or a tensor to be trained", ast.span)


def _scalar(value, ast) -> float:
    number = single_number(value)
    if number is None:
        raise DiffiError("the loss must be a number", ast.span)
    return number


def _rebind_all(ev, scope, values: dict) -> None:
    """Bind every weight to its new value in the scope that holds it."""
    for name, value in values.items():
        target = scope  # (minimize checked that every name is bound)
        while name not in target.vars:
            target = target.parent
        ev.rebind(target, name, Binding(name, constant(value, name),
                                        target.vars[name].formula), progress=True)


def _history(history):
    return arrays.np().array(history, dtype=float)
