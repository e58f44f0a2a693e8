"""The Python API (docs/python.md): Interpreter, evaluate, and conversions to Python values.

Every entry point turns any failure into a DiffiError: for any input string, no
other exception escapes, and a failing statement leaves every binding as it was.
"""
from __future__ import annotations

import os
import sys
import threading
import warnings
from collections.abc import Callable, Iterable, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeAlias, Union

from . import arrays, calls, table
from .arrays import as_value, is_array
from .core.evaluator import Evaluator
from .core.files import FilePolicy
from .core.graph import Binding, Node
from .core.library import BUILTINS, constant
from .core.limits import GIGABYTE, Limits
from .core.values import NOTHING, PRECISION, Function, UserFunction, format_value, summarising
from .errors import (ArityError, DiffiError, DiffiNameError, DiffiTypeError, DiffiWarning,
                     LimitError, format_warning)
from .language import syntax as S
from .language import vocabulary
from .language.parser import parse, parse_prefix, refine

ANSWER = "ans"  # the name of the last expression statement's value
if TYPE_CHECKING:  # for type checkers only: NumPy and the directives load lazily
    import numpy

    from .directives.check import CheckReport
    from .directives.graphs import Graph
    from .directives.tables import Trace

# What the API hands back and takes: floats, booleans, arrays, tuples, strings, functions.
PythonValue: TypeAlias = Union[float, bool, str, "numpy.ndarray", tuple, "DiffiFunction", None]
# A point: {"x": 3, "y": 0} binds by name; a number or a tuple binds by position.
Point: TypeAlias = Union[Mapping[str, Any], float, tuple, list, None]
Names: TypeAlias = Union[str, Iterable[str], None]

# The Python API's defaults bound what untrusted input can take (docs/embedding.md);
# the command and the REPL pass their own (no timeout, no memory bound, files on).
API_LIMITS = dict(max_depth=1000, max_nodes=20_000_000, max_elements=100_000_000,
                  max_memory=2 * GIGABYTE, timeout=10.0, run_timeout=60.0)
SHORT_SOURCE, KEPT_SOURCES = 2_000, 256  # the parsed programs an interpreter remembers


def run_directive(evaluator, ast, scope):
    """Run a directive: the evaluator's runner, handed to it here."""
    from .directives import run  # lazily: loaded at a script's first directive
    return run(evaluator, ast, scope)


def compile_cache():
    """A new cache of compiled tapes: the evaluator's, made on its first use."""
    from .compile.cache import Cache  # lazily: the compiler loads only for a compiled call
    return Cache()


class Interpreter:
    """A diffi session: variables, functions and the graph that made them.

    Calls on one interpreter are serialised by a lock (two threads take turns); each
    call gets its own time budget when it starts running. Two interpreters are
    independent and may run at the same time on two threads.
    """

    def __init__(self, *, max_depth: int | None = API_LIMITS["max_depth"],
                 max_nodes: int | None = API_LIMITS["max_nodes"],
                 max_elements: int | None = API_LIMITS["max_elements"],
                 max_memory: int | None = API_LIMITS["max_memory"],
                 timeout: float | None = API_LIMITS["timeout"],
                 run_timeout: float | None = API_LIMITS["run_timeout"],
                 files: bool | str = False, precision: int = PRECISION,
                 output: Callable[[str], object] | None = None,
                 warn: Callable[[str, Any], object] | None = None,
                 progress: Any = None) -> None:
        self.limits = Limits(max_depth, max_nodes, max_elements, timeout, max_memory,
                             run_timeout)
        policy = FilePolicy(files)
        self.globals: dict[str, Binding] = {}
        self._output = _callable("output", output) or (lambda text: print(text))
        self._warnings: list = []  # the default warn's, issued when the call returns
        self._warn = _callable("warn", warn) or (
            lambda message, span: self._warnings.append(format_warning(message, span)))
        self.evaluator = Evaluator(self.globals, self.limits, self._output, self._warn,
                                   _precision(precision), directives=run_directive,
                                   compile_cache=compile_cache)
        self.evaluator.files = policy
        self.evaluator.progress = _progress(progress)  # start / update / finish(…)
        self._parsed: dict = {}  # expression strings of API calls -> syntax (immutable)
        self.style = "text"  # how show() prints values: "text", or "latex" (:format latex)
        self._lock = threading.Lock()
        self._programs: dict = {}  # short sources run again -> their statements (immutable)

    @property
    def files(self):
        """The file policy: False, True, or the folder files are confined to."""
        policy = self.evaluator.files
        return policy.root or policy.enabled

    @property
    def base_dir(self) -> str | None:
        """The folder relative file names start from (None: the working directory)."""
        return self.evaluator.base_dir

    @base_dir.setter
    def base_dir(self, folder: str | None) -> None:
        if folder is not None and not isinstance(folder, str):
            raise DiffiTypeError("base_dir is a folder's path (a string) or None")
        self.evaluator.base_dir = folder

    @property
    def losses(self) -> numpy.ndarray | None:
        """The loss history of the last minimize (a NumPy array), or None."""
        binding = self.globals.get("losses")
        return None if binding is None else to_python(binding.node.value, self)

    @property
    def failed_checks(self) -> int:
        """How many `check` directives found the modes disagreeing (or incomplete)."""
        return self.evaluator.failed_checks

    @property
    def precision(self) -> int:
        return self.evaluator.precision

    @precision.setter
    def precision(self, digits: int) -> None:
        self.evaluator.precision = _precision(digits)

    # Calls -----------------------------------------------------------------------------

    def _call(self, work, relax_collector: bool = True):
        """Run work() as one call: this interpreter's turn (its lock), a fresh budget,
        a thread with a deep stack (diffi.calls); the default warn's warnings after."""
        if calls.current().owner is self:
            raise DiffiError("this interpreter is busy with the call that runs this "
                             "callback: use another interpreter inside output, warn or "
                             "progress")
        with self._lock:
            budget = calls.Budget(self.limits.timeout, self.limits.run_timeout, owner=self)
            self.evaluator.budget = budget
            try:
                return calls.run(lambda: _guarded(work), budget, relax_collector)
            finally:
                self._issue_warnings()

    def _issue_warnings(self) -> None:
        pending, self._warnings[:] = list(self._warnings), []
        for text in pending:
            warnings.warn(text, DiffiWarning, stacklevel=_caller_level())

    @property
    def threshold(self) -> int | None:
        """Tensors of more elements than this print summarised (None: never)."""
        return self.evaluator.threshold

    @threshold.setter
    def threshold(self, elements: int | None) -> None:
        if elements is not None and (isinstance(elements, bool) or not isinstance(elements, int)
                                     or elements < 0):
            raise DiffiTypeError(f"threshold is a whole number of elements >= 0 or None, "
                                 f"not {elements!r}")
        self.evaluator.threshold = elements

    # Running source -------------------------------------------------------------------

    def run(self, source: str, filename: str = "<input>") -> list[PythonValue]:
        """Run statements; return the values the statements would print, in order."""
        results = []
        self.execute(source, filename,
                     lambda node: results.append(to_python(node.value, self)))
        return results

    def eval(self, source: str) -> PythonValue:
        """The value of the last expression statement of `source` (None if there is none)."""
        last = []
        self.execute(source, "<input>", last.append, echo_silent=True)
        return to_python(last[-1].value, self) if last else None

    def execute(self, source: str, filename: str, on_result: Callable[..., object],
                echo_silent: bool = False, with_statement: bool = False) -> None:
        """Run a program statement by statement, calling on_result(node) for each result
        (on_result(node, statement) with_statement, for the statement's position).

        The statements before a syntax error run first, as in a script; then the
        error is raised. Errors carry the source so that they can be rendered.
        """
        if not isinstance(source, str):
            raise DiffiTypeError(f"source must be a string, not {type(source).__name__}")
        if not isinstance(filename, str):
            raise DiffiTypeError(f"filename must be a string, not {type(filename).__name__}")
        if with_statement:
            report = on_result
        else:
            def report(node, stmt):
                on_result(node)
        self._call(lambda: self._execute(str(source), filename, report, echo_silent))

    def _execute(self, source, filename, on_result, echo_silent) -> None:
        self.evaluator.budget.begin_statement()  # parsing has a statement's time
        try:
            with internal_errors():
                statements, error = self._parse(source)
        except DiffiError as error:
            raise error.locate(source, filename)
        for i, stmt in enumerate(statements):
            node = self._statement(stmt, source, filename)
            shown = node is not None and (node.op is table.REPORT or (
                node.value is not None and node.value is not NOTHING))
            if shown and node.value is not None:
                self._answer(node)
            try:
                if shown and (echo_silent or not stmt.silent):
                    on_result(node, stmt)
            except KeyboardInterrupt:  # (forced in after the statement committed)
                if i < len(statements) - 1 or error is not None:
                    raise  # the next statement is the one interrupted
                return  # the last one is done: reported as done
        if error is not None:  # `sin x` or `x y`: now that the names are known, say which
            raise refine(error, self.is_function).locate(source, filename)

    def is_function(self, name: str) -> bool | None:
        """Whether a name is bound to a function (None: it is not defined)."""
        binding = self.globals.get(name)
        node = binding.node if binding is not None else BUILTINS.get(name)
        return None if node is None else isinstance(node.value, Function)

    def _parse(self, source: str):
        """parse_prefix, remembered for short sources that parse whole: a statement run
        again (`it.run("c(0.5)")` in a loop) costs no parse (syntax trees are never
        changed once parsed, so the same one serves every run)."""
        cached = self._programs.get(source)
        if cached is not None:
            return cached, None
        statements, error = parse_prefix(source)
        if error is None and len(source) <= SHORT_SOURCE:
            if len(self._programs) >= KEPT_SOURCES:
                self._programs.clear()
            self._programs[source] = statements
        return statements, error

    def _answer(self, node) -> None:
        """`ans`: the value of the last expression statement (a silenced one too, as in
        MATLAB), bound as an assignment `ans = …` would bind it; after a directive that
        shows a report (backprop, check, …), the report's value."""
        if node.op is table.REPORT:
            node = node.inputs[0]
        self.globals[ANSWER] = Binding(ANSWER, self.evaluator.label(node, ANSWER))

    def execute_statement(self, stmt: S.Syntax, source: str = "",
                          filename: str = "<input>") -> Node | None:
        """Run one parsed statement with the session's limits; errors leave no trace."""
        return self._call(lambda: self._statement(stmt, source, filename))

    def _statement(self, stmt, source, filename):
        """Run one statement, all or nothing: a failure (or Ctrl-C) takes back what it
        changed (evaluator.roll_back)."""
        evaluator = self.evaluator
        evaluator.begin_statement()
        evaluator.source = evaluator.statement_source = (source, filename)
        try:
            with internal_errors(getattr(stmt, "span", None)), \
                    summarising(evaluator.threshold):
                return evaluator.execute(stmt, evaluator.globals)
        except DiffiError as error:
            evaluator.roll_back()
            raise error.locate(source, filename)
        except KeyboardInterrupt:
            evaluator.roll_back(interrupted=True)
            raise
        except BaseException:
            evaluator.roll_back()
            raise

    def show(self, node: Node) -> None:
        """Print a statement's result through the interpreter's output, as a script does."""
        self._output(self.format_result(node))

    def format_result(self, node: Node) -> str:
        """How a statement's result prints: a directive's report, or the value."""
        if node.op is table.REPORT:
            return str(node.params)
        if self.style == "latex":
            return self.latex(to_python(node.value, self))
        return format_value(node.value, self.precision, self.threshold)

    def format(self, value: object, full: bool = False) -> str:
        """A value printed as diffi prints it, at the session's precision; a big tensor
        summarised as the session's threshold says, unless `full`."""
        return format_value(from_python(value) if not isinstance(value, Node) else value.value,
                            self.precision, None if full else self.threshold)

    # Variables ---------------------------------------------------------------------------

    def __getitem__(self, name: str) -> PythonValue:
        name = _spelling(name)
        binding = self.globals.get(name) if isinstance(name, str) else None
        node = binding.node if binding is not None else BUILTINS.get(name) \
            if isinstance(name, str) else None
        if node is None:
            raise DiffiNameError(f"name {_quoted(name)} is not defined")
        return to_python(node.value, self)

    def __setitem__(self, name: str, value: object) -> None:
        if not isinstance(name, str) or not vocabulary.NAME_RE.fullmatch(name) \
                or _spelling(name) in S.RESERVED:
            raise DiffiTypeError(f"{_quoted(name)} is not a valid diffi name")
        name = _spelling(name)
        value = from_python(value, self.evaluator.memory)
        with self._lock:
            _track(self.evaluator, value)
            self.globals[name] = Binding(name, constant(value, name))

    def __delitem__(self, name: str) -> None:
        name = _spelling(name)
        with self._lock:
            if not isinstance(name, str) or name not in self.globals:
                raise DiffiNameError(f"name {_quoted(name)} is not defined")
            del self.globals[name]

    def __contains__(self, name: str) -> bool:
        return isinstance(name, str) and _spelling(name) in self.globals

    def names(self) -> list[str]:
        """The names the session has defined, in the order they were first bound."""
        return list(self.globals)

    def reset(self) -> None:
        """Forget every name the session defined."""
        with self._lock:
            self.globals.clear()

    # Differentiation (docs/differentiation.md) -------------------------------------------

    def derivative(self, expr: str, wrt: str, at: Point = None, mode: str | None = None,
                   order: int = 1, **options: object) -> PythonValue:
        """d^order/d wrt^order of expr: a number or array, or a formula without a point."""
        if not isinstance(order, int) or isinstance(order, bool) or order < 1:
            raise DiffiTypeError(f"order must be a whole number >= 1, not {order!r:.40}")
        if not isinstance(wrt, str):
            raise DiffiTypeError("wrt names one variable, as a string")
        _variable_name(wrt)
        return self._directive("d", expr, None, at, mode, options, var=_spelling(wrt),
                               order=order)

    def grad(self, expr: str, wrt: Names = None, at: Point = None, mode: str | None = None,
             **options: object) -> PythonValue:
        """The gradient: an array for scalar variables, a tuple for tensors."""
        if wrt is None and mode in (None, "reverse") and not options:
            fast = self._compiled_gradient(expr, at)
            if fast is not None:
                return fast
        return self._directive("grad", expr, wrt, at, mode, options)

    def _compiled_gradient(self, name, at):
        """grad of a user function at a tuple of floats by its compiled tape (or None).

        The same result as the directive `grad f at (…)` (which also uses the compiled
        tape), without building the directive: the cheap path for repeated calls. Only a
        tape compiled already is used here, on the caller's thread; otherwise the
        directive runs (and compiles) as a call.
        """
        binding = self.globals.get(name) if isinstance(name, str) else None
        fn = binding.node.value if binding is not None else None
        if not isinstance(fn, UserFunction) or not isinstance(at, tuple) \
                or len(at) != len(fn.params):
            return None
        values = tuple(float(a) if type(a) is float or type(a) is int and abs(a) < 2 ** 53
                       else a for a in at)  # at=(3, 0) too
        if all(type(a) is float for a in values):
            result = self._compiled(fn, values, gradient=True)
            return None if result is None else arrays.np().array(result[1])
        if not all(type(a) is float or arrays.is_float_tensor(a) for a in values):
            return None
        result = self._compiled(fn, values, gradient=True, tensors=True)
        if result is None:
            return None
        grads = result[1]  # (packed as `grad` packs them: one tensor's alone, else a tuple)
        return grads[0] if len(grads) == 1 else tuple(grads)

    def _compiled(self, fn, values, gradient, tensors: bool = False):
        """fn's compiled tape run on the caller's thread, if one is compiled (or None)."""
        if calls.current().owner is self:
            return None
        with self._lock:
            evaluator = self.evaluator
            evaluator.begin_statement()
            with internal_errors():
                return evaluator.compiled.run(evaluator, fn, values, gradient=gradient,
                                              compile=False, tensors=tensors)

    def backprop(self, expr: str, wrt: Names = None, at: Point = None) -> Trace:
        """The gradient's Trace: rows of the forward and backward passes (str() prints it)."""
        return self._directive("backprop", expr, wrt, at, None, {}, detail=True)

    def hessian(self, expr: str, wrt: Names = None, at: Point = None, mode: str | None = None,
                **options: object) -> PythonValue:
        """The matrix of second derivatives (forward over reverse)."""
        return self._directive("hessian", expr, wrt, at, mode, options)

    def jacobian(self, expr: str, wrt: Names = None, at: Point = None,
                 mode: str | None = None, **options: object) -> PythonValue:
        """The m × n matrix of first derivatives of a vector-valued expression."""
        return self._directive("jacobian", expr, wrt, at, mode, options)

    def check(self, expr: str, wrt: Names = None, at: Point = None) -> CheckReport:
        """Every mode side by side: a report with .ok, .value (largest difference), str()."""
        return self._directive("check", expr, wrt, at, None, {}, report=True)

    def graph(self, expr: str) -> Graph:
        """The computation graph of expr (`.to_dot()`, `.to_text()`); unbound names are inputs."""
        return self._directive("graph", expr, None, None, None, {}, detail=True)

    def latex(self, expr) -> str:
        """LaTeX for an expression, a directive's result ("d/dx x^2*sin(x)") or a value."""
        if not isinstance(expr, str):
            from .directives.latex import value_latex  # lazily, as the directives load
            with internal_errors():
                return value_latex(from_python(expr))
        return self._directive("latex", expr, None, None, None, {})

    def _directive(self, kind, expr, wrt, at, mode, options, detail=False, report=False,
                   **extra):
        ast = S.Directive(kind, self._expression(expr), wrt=_names(wrt), point=_point(at),
                          mode=_mode(mode, options), **extra)
        node = self.execute_statement(S.ExprStmt(ast), expr, "<input>")
        if node.op is table.REPORT and (detail or report):
            result = node.params
            return result.detail if detail and result.detail is not None else result
        return to_python(node.value, self)

    def _expression(self, source: str):
        if not isinstance(source, str):
            raise DiffiTypeError(f"the expression must be a string, not "
                                 f"{type(source).__name__}")
        cached = self._parsed.get(source)
        if cached is not None:
            return cached
        statements = self._call(lambda: _parsed(source))
        if len(statements) != 1 or not isinstance(statements[0], S.ExprStmt):
            raise DiffiTypeError("give one expression, like \"f(x, y)\" or \"f\"")
        if len(self._parsed) > 256:
            self._parsed.clear()
        self._parsed[source] = statements[0].expr
        return statements[0].expr

    def call(self, fn: Function, args: Iterable[object],
             keywords: dict[str, object] | None = None) -> PythonValue:
        """Call a diffi function from Python with Python values (keywords by name)."""
        memory = self.evaluator.memory
        values = tuple(from_python(a, memory) for a in args)
        named = {k: from_python(v, memory) for k, v in (keywords or {}).items()}
        if isinstance(fn, UserFunction):
            values, named = bind_arguments(fn, values, named), {}
        compilable = isinstance(fn, UserFunction) and len(values) == len(fn.params)
        if compilable:
            fast = self._compiled(fn, values, gradient=False)
            if fast is not None:
                return fast
        # (no lasting graph is built: the collector's thresholds are left alone)
        return self._call(lambda: self._traced_call(fn, values, named, compilable),
                          relax_collector=False)

    def _traced_call(self, fn, values, named, compilable):
        evaluator = self.evaluator
        evaluator.begin_statement()
        try:
            with internal_errors():
                if compilable:
                    fast = evaluator.compiled.run(evaluator, fn, values, gradient=False)
                    if fast is not None:
                        return fast
                for value in (*values, *named.values()):
                    _track(evaluator, value)
                nodes = [Node(table.CONST, (), v, None, p) for v, p in zip(values, fn.params)] \
                    if compilable else [constant(v) for v in values]
                evaluator.recording = {} if compilable else None
                output = evaluator.call_user(fn, nodes, {}, None, compiled=False) \
                    if compilable else evaluator.call(
                        fn, nodes, {k: constant(v) for k, v in named.items()}, None)
                if compilable:
                    evaluator.compiled.remember(fn, nodes, output, evaluator.recording)
                return to_python(output.value, self)
        finally:
            evaluator.recording = None


def _parsed(source: str) -> list:
    with internal_errors():
        return parse(source)


def _guarded(work):
    """work(), with Python's own errors turned into DiffiErrors (see internal_errors)."""
    with internal_errors():
        return work()


def _track(evaluator, value) -> None:
    """Count a tensor given from Python against max_memory (before it is bound)."""
    if is_array(value):
        evaluator.memory.reserve(value.size, None, "a tensor given from Python")
        evaluator.memory.track(value)
    elif isinstance(value, tuple):
        for item in value:
            _track(evaluator, item)


def _callable(name: str, value):
    if value is not None and not callable(value):
        raise DiffiTypeError(f"{name} must be a function (or None), not "
                             f"{type(value).__name__}")
    return value


def _progress(value):
    if value is not None and not all(callable(getattr(value, m, None))
                                     for m in ("start", "update", "finish")):
        raise DiffiTypeError("progress must have start(steps), update(step, loss) and "
                             "finish(interrupted) methods (or be None)")
    return value


def _precision(digits) -> int:
    if isinstance(digits, bool) or not isinstance(digits, int):
        raise DiffiTypeError(f"precision is a whole number of digits (1 to 17), not "
                             f"{digits!r:.40}")
    return max(1, min(17, digits))


def _quoted(name) -> str:
    text = repr(name)
    return text if len(text) <= 60 else text[:57] + "..."


def _caller_level() -> int:
    """The stacklevel of warnings.warn that names the first frame outside diffi."""
    package = os.path.dirname(os.path.abspath(__file__))
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame, level = frame.f_back, level + 1
    return level
def bind_arguments(fn: UserFunction, args: tuple, keywords: dict) -> tuple:
    """Positional and keyword arguments as the values of fn's parameters, in order;
    an unknown name, a parameter given twice, or one left out is a DiffiError."""
    params = list(fn.params)
    name = f"the formula {fn}" if fn.name == "formula" else fn.name
    listed = f"({', '.join(params)})"
    if len(args) > len(params):
        raise ArityError(f"{name} takes {len(params)} argument{'s' if len(params) != 1 else ''}"
                         f" {listed}, got {len(args)}")
    bound = dict(zip(params, args))
    for key, value in keywords.items():
        if key not in params:
            raise DiffiTypeError(f"{name} has no parameter '{key}' (its parameters: "
                                 f"{', '.join(params) or 'none'})")
        if key in bound:
            raise DiffiTypeError(f"{name} got two values for '{key}'")
        bound[key] = value
    missing = [p for p in params if p not in bound]
    if missing:
        raise ArityError(f"{name} takes {len(params)} argument"
                         f"{'s' if len(params) != 1 else ''} {listed}, missing "
                         f"{', '.join(missing)}")
    return tuple(bound[p] for p in params)


@contextmanager
def internal_errors(span=None):
    """Python's errors as DiffiErrors (at span): too deep a program or too little memory
    is a LimitError; anything else is a bug in diffi, reported as an internal error."""
    try:
        yield
    except DiffiError:
        raise
    except RecursionError:
        raise LimitError("the program is nested too deeply to evaluate", span) from None
    except MemoryError:
        raise LimitError("out of memory", span) from None
    except Exception as error:
        raise DiffiError(f"internal error ({type(error).__name__}: {error})"[:500],
                         span) from error


class DiffiFunction:
    """A diffi function seen from Python: call it with numbers or arrays."""

    def __init__(self, fn: Function, interpreter: Interpreter):
        self.function = fn
        self.interpreter = interpreter

    def __call__(self, *args: object, **keywords: object) -> PythonValue:
        return self.interpreter.call(self.function, args, keywords)

    def __str__(self) -> str:
        return str(self.function)

    def __repr__(self) -> str:
        return f"<diffi function {self.function}>"

    def _repr_latex_(self) -> str:
        """IPython's display protocol: a function shows as its formula in LaTeX."""
        return f"$\\displaystyle {self.interpreter.latex(self)}$"


def _spelling(name):
    """A name as the source would store it (a₅ is a5, x̄ composed); other keys as given."""
    return vocabulary.normal_name(name) if isinstance(name, str) else name


def _names(wrt) -> list | None:
    if wrt is None:
        return None
    if isinstance(wrt, str):
        names = [wrt]
    elif isinstance(wrt, (list, tuple)):
        names = list(wrt)
    else:
        raise DiffiTypeError(f"wrt takes a variable's name or a list of names, not "
                             f"{type(wrt).__name__}")
    for name in names:
        _variable_name(name)
    spelled = [_spelling(n) for n in names]
    if len(set(spelled)) != len(spelled):
        raise DiffiTypeError("wrt names each variable once")
    return [S.Name(n) for n in spelled]


def _variable_name(name) -> None:
    """wrt's names must be names a program could bind (not `at`, not `2x`)."""
    if not isinstance(name, str) or not vocabulary.NAME_RE.fullmatch(name):
        raise DiffiTypeError(f"wrt takes variable names, not {_quoted(name)}")
    if _spelling(name) in S.RESERVED:
        raise DiffiTypeError(f"wrt takes variable names: '{name}' is a reserved word")


def _point(at):
    """`at` from Python: a dict binds by name; a number or tuple binds by position."""
    if at is None:
        return None
    if isinstance(at, dict):
        for name in at:
            if not isinstance(name, str) or not vocabulary.NAME_RE.fullmatch(name) \
                    or _spelling(name) in S.RESERVED:
                raise DiffiTypeError(f"at takes variable names as keys, not {_quoted(name)}")
        return S.Point([S.Keyword(_spelling(k), S.Literal(from_python(v)))
                        for k, v in at.items()], strict=True)
    if isinstance(at, list):
        at = tuple(at)
    return S.Point([], S.Literal(from_python(at)))


def _mode(mode, options) -> S.Mode | None:
    if mode is None and not options:
        return None
    if mode is None:
        mode = "numeric"
    if not isinstance(mode, str):
        raise DiffiTypeError(f"mode is a name like 'forward', not {_quoted(mode)}")
    return S.Mode(mode, [], [S.Keyword(k, S.Literal(from_python(v)))
                             for k, v in options.items()])


def to_python(value: object, interpreter: Interpreter | None = None) -> PythonValue:
    """A diffi value as a Python value: float, bool, numpy array, tuple, str, function."""
    if type(value) in (float, bool, str) or value is None:
        return value
    if value is NOTHING:
        return None
    if isinstance(value, tuple):
        return tuple(to_python(v, interpreter) for v in value)
    if isinstance(value, Function):
        return DiffiFunction(value, interpreter) if interpreter else value
    if is_array(value):
        return _copied(value, interpreter)
    return value


def _copied(array, interpreter):
    """A tensor for Python: a copy, or a read-only view of the interpreter's own when a
    copy would not fit in the memory left (max_memory, the process's limit) or in the
    time left (timeout)."""
    if interpreter is None or array.size < 1_000_000 or (
            interpreter.evaluator.memory.fits(array.nbytes)
            and array.size / calls.rate("element") < calls.current().left()):
        return array.copy()
    view = array.view()
    view.flags.writeable = False
    return view


def from_python(value: object, memory: Any = None) -> object:
    """A Python value as a diffi value; anything else is a DiffiTypeError. With the
    interpreter's `memory`, a tensor larger than its limits is refused before it is copied."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        try:
            return float(value)
        except OverflowError:
            raise DiffiTypeError(f"{_quoted(value)} is too large for a number "
                                 f"(float64 holds up to about 1.8e308)") from None
    if isinstance(value, DiffiFunction):
        return value.function
    if isinstance(value, Function):
        return value
    if isinstance(value, tuple):
        if all(type(v) is float for v in value):
            return value
        return tuple(from_python(v, memory) for v in value)
    if isinstance(value, str):
        return value
    numpy = arrays.np()
    if isinstance(value, (list, numpy.ndarray, numpy.generic)):
        if memory is not None and isinstance(value, numpy.ndarray):
            memory.reserve(value.size, None, "a tensor given from Python")
        try:
            array = numpy.asarray(value, dtype=float)
        except (TypeError, ValueError, OverflowError) as error:
            raise DiffiTypeError(f"cannot use {type(value).__name__} as a tensor: "
                                 f"{str(error)[:200]}") from None
        if array.ndim > 32:
            raise DiffiTypeError("tensors have at most 32 dimensions")
        return as_value(array.copy())
    raise DiffiTypeError(f"a Python {type(value).__name__} is not a diffi value "
                         f"(use numbers, booleans, NumPy arrays or tuples)")


def evaluate(source: str, **options: Any) -> PythonValue:
    """The value of `source` in a fresh interpreter: `evaluate("d/dx x^2 at x = 3")`."""
    return Interpreter(**options).eval(source)
