"""A fuzzing library for diffi that uses only its public API.

It has three parts:

- `Generator(seed)`: a seeded `random.Random` that writes diffi inputs. `gen.case(kind)`
  returns a `Case` (a JSON-able dict). Each kind covers one area of the language
  (`KINDS`): hostile numbers, every built-in with right and wrong arity, every directive
  and its options, strings in every position, tensors, whole programs, nesting from 10
  to 50,000 levels deep, odd line breaks, mutations of the examples and of the docs'
  snippets, sessions of several `run()` calls, and bad arguments to the Python API.
  The same seed always gives the same cases.
- `Pool(jobs)`: worker processes that run one case at a time, each under a memory cap
  (RLIMIT_AS) and a wall-clock watchdog, and sort the outcome into a class (`CLASSES`).
  A worker that crashes, hangs or runs out of memory is replaced. With `fresh=True`
  every case gets a new worker, whose peak memory (ru_maxrss) is then the case's own.
  A long-lived worker whose capped address space has no room left for the harness's
  own watchdog thread is spent: its case runs again in a fresh worker, and counts
  only by what happens there.
- `minimise(pool, case, outcome)`: deletes tokens while the failure stays the same.

Outcome classes (the contract in docs/python.md):

  ok                 a value, or a DiffiError with a sane position and message
  internal-error     a DiffiError whose message says "internal error"
  foreign-exception  an exception that is not a DiffiError escaped (its type is recorded)
  bad-position       .line/.column outside the source the error names, or an error
                     drawn (render()) against a line other than the one it names
  crash              the worker died by a signal (SIGSEGV, …) or exited without reporting
  hang               the watchdog fired: the case ran well past its `timeout`
  memory             MemoryError, or diffi's "out of memory" LimitError: the cap was hit
  global-state       sys.getrecursionlimit() or gc.get_threshold() differ after the call
  file-escape        a file outside what the case's `files` setting allows was opened
                     (files=False: none; files=".": the worker's folder; True: any)
  file-leak          an error message quotes what a file holds (a canary line)
  rollback           a session's last input (one statement) failed but changed bindings
  long-message       an error message longer than 10,000 characters

Run `python tests/fuzzing.py --show KIND [N] [--seed S]` to print some generated cases.
The worker is this file run as `python fuzzing.py --worker FD_IN FD_OUT`.
"""
from __future__ import annotations

import json
import os
import random
import re
import select
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Outcome classes, worst first: a case that fails in two ways is reported as the first.
CLASSES = ["crash", "hang", "memory", "foreign-exception", "internal-error",
           "file-escape", "file-leak", "bad-position", "long-message", "rollback",
           "global-state", "ok"]
FAILURES = CLASSES[:-1]
SEVERITY = {name: i for i, name in enumerate(CLASSES)}
MEMORY_CAP = 2 * 1024 ** 3       # bytes of address space per worker
LONG_MESSAGE = 10_000

# ---------------------------------------------------------------------------------------
# What the language offers (docs/language.md, docs/tensors.md, docs/differentiation.md)

SCALAR_FUNCTIONS = {name: 1 for name in (
    "sin cos tan asin acos atan sinh cosh tanh exp log log2 log10 sqrt cbrt abs sign "
    "floor ceil sigmoid logistic relu softplus log1p expm1 erf").split()}
SCALAR_FUNCTIONS.update(atan2=2, hypot=2, min=2, max=2)
# name -> (fewest, most) arguments; -1: any number
TENSOR_FUNCTIONS = {
    "transpose": (1, 1), "sum": (1, 2), "mean": (1, 2), "max": (1, 2), "min": (1, 2),
    "dot": (2, 2), "norm": (1, 1), "reshape": (2, -1), "shape": (1, 1), "size": (1, 1),
    "zeros": (1, -1), "ones": (1, -1), "eye": (1, 1), "linspace": (2, 3), "randn": (0, -1),
    "seed": (1, 1), "argmax": (1, 2), "onehot": (2, 2), "softmax": (1, 1),
    "logsumexp": (1, 1), "concat": (1, -1), "hstack": (1, -1), "vstack": (1, -1),
    "load": (1, 1), "print": (0, -1),
}
FUNCTIONS = {name: (n, n) for name, n in SCALAR_FUNCTIONS.items()}
FUNCTIONS.update(TENSOR_FUNCTIONS)
AXIS_FUNCTIONS = ["sum", "mean", "max", "min", "argmax", "concat", "hstack", "vstack"]
CONSTANTS = ["pi", "π", "e", "inf", "nan", "true", "false"]
RESERVED = ("at wrt using if then else and or not grad backprop hessian jacobian check "
            "graph explain minimize to").split()
BINARY = ["+", "-", "*", "/", "@", "^", "**", "<", "<=", ">", ">=", "==", "!=", "and", "or"]
MODES = ["forward", "reverse", "numeric", "symbolic"]
NUMERIC_METHODS = ["central", "forward", "richardson"]
HOSTILE_NUMBERS = [
    "1e308", "1.7976931348623157e308", "1e309", "1e999", "1e-320", "5e-324", "1e-400",
    "1" + "0" * 400, "9" * 320, ".5", "0.", "0", "00", "007", "1e0", "1E+4", "2.5e-3",
    "0.1", "123456789012345678901234567890", "4294967296", "9007199254740993", "1e20",
    "-0", "3.0000000000000000000001", "1" + "0" * 5000, "0." + "0" * 400 + "1",
]
HOSTILE_NAMES = ["nan", "inf", "-inf", "1e308", "-1e308", "1e-320", "-0", "1e999"]
ODD_BREAKS = ["\r", "\r\n", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028",
              "\u2029", "\x00", "\n\r", "\r\r\n"]
# File names for load and `graph … to`. Relative names land in the worker's own
# temporary folder; nothing here writes outside it (except /dev/null).
READ_FILES = ["data.csv", "text.csv", "empty.csv", "ragged.csv", "missing.csv", ".", "",
              "/etc/passwd", "/bin/sh", "/nonexistent/x.csv", "/dev/null", "a\x00b.csv",
              "/proc/self/status", "/dev/urandom", "latin1.csv", "dir", "../data.csv",
              "secret.csv", "../../secret.csv", "link.csv", "linkdir/passwd", "dir/../data.csv",
              "./data.csv", "/dev/zero", "binary.csv"]
# Every secret file's second line holds CANARY: no message may ever quote it.
CANARY = "CANARY-5b1e"
SECRET = f"a,b\n{CANARY},1\n"
WRITE_FILES = ["g.dot", "g.svg", "g.png", "g", "", "dir", "sub/none/g.dot", "/dev/null",
               "a\x00b.dot", "g.DOT", ".", "g.dot\n"]
NAMES = ["x", "y", "z", "w", "a", "b", "t", "n", "u", "v", "A", "B", "W", "X", "σ", "θ",
         "x1", "_t", "loss", "f", "g", "h", "L"]


@dataclass
class Case:
    """One input: source strings run in order by one Interpreter, or a Python snippet."""

    kind: str
    runs: list = field(default_factory=list)
    limits: dict = field(default_factory=dict)
    api: str | None = None       # Python statements run with `diffi`, `it`, `np` bound
    label: str = ""              # what made it (for deep inputs: the recipe, not the text)
    rollback: bool = False       # the last run is one statement: a failure changes nothing

    def to_json(self) -> dict:
        return dict(kind=self.kind, runs=self.runs, limits=self.limits, api=self.api,
                    label=self.label, rollback=self.rollback)

    @staticmethod
    def from_json(data: dict) -> "Case":
        return Case(**data)

    def text(self) -> str:
        """A readable form: the sources, or the snippet."""
        if self.api is not None:
            return self.api
        if len(self.runs) == 1:
            return self.runs[0]
        return "\n".join(f"# --- run {i + 1}\n{src}" for i, src in enumerate(self.runs))

    def size(self) -> int:
        return sum(len(s) for s in self.runs) + len(self.api or "")


# ---------------------------------------------------------------------------------------
# The corpus: examples/*.dfi and the ```diffi snippets of README.md and docs/*.md

def corpus(root: Path = ROOT) -> list[str]:
    """Every example program and documentation snippet, as source text."""
    programs = [p.read_text(encoding="utf-8") for p in sorted((root / "examples").glob("*.dfi"))]
    for doc in [root / "README.md", *sorted((root / "docs").glob("*.md"))]:
        text = doc.read_text(encoding="utf-8")
        programs += re.findall(r"^```diffi\n(.*?)^```", text, flags=re.S | re.M)
    return programs


def shorten_training(source: str, rng: random.Random) -> str:
    """Fewer steps of minimize, so that a mutated training script stays quick."""
    return re.sub(r"steps\s*=\s*\d+", lambda m: f"steps = {rng.choice([1, 2, 3, 5])}", source)


TOKEN = re.compile(r'"(?:\\.|[^"\\\n])*"?|d\d*/d\w+(?:\^\d+)?|\d+\.?\d*(?:[eE][+-]?\d+)?|'
                   r'\.\d+|\w+|\*\*|<=|>=|==|!=|#[^\n]*|\s+|.', re.S)


def tokens(source: str) -> list[str]:
    """The source cut into tokens (whitespace and comments included): joined, it is the source."""
    return TOKEN.findall(source)


# ---------------------------------------------------------------------------------------
# The generator

KINDS = ["numbers", "builtins", "directives", "strings", "tensors", "programs", "deep",
         "linebreaks", "mutations", "sessions", "api"]


class Generator:
    """Seeded writer of diffi inputs: the same seed gives the same cases."""

    def __init__(self, seed: int = 0, programs: list[str] | None = None, timeout: float = 1.0,
                 heavy: float = 1.0):
        self.rng = random.Random(seed)
        self.programs = programs if programs is not None else corpus()
        self.timeout = timeout      # every case gets this timeout (hangs are measured past it)
        self.heavy = heavy          # scales the chance of the costly inputs (huge sizes)
        self.names: list[str] = ["x", "y"]

    # small pieces ------------------------------------------------------------------------

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def pick(self, seq):
        return self.rng.choice(seq)

    def number(self) -> str:
        r = self.rng.random()
        if r < 0.35:
            return str(self.rng.randint(0, 5))
        if r < 0.6:
            return self.pick(["0.5", "1.5", "2", "3", "-1", "0.25", "10", "1e-3", ".5", "2.5E+2"])
        if r < 0.75:
            return repr(round(self.rng.uniform(-10, 10), self.rng.randint(0, 4)))
        return self.pick(HOSTILE_NUMBERS[:-2] if not self.chance(0.05) else HOSTILE_NUMBERS)

    def name(self) -> str:
        r = self.rng.random()
        if r < 0.75 and self.names:
            return self.pick(self.names)
        if r < 0.9:
            return self.pick(NAMES)
        if r < 0.95:
            return self.pick(CONSTANTS + list(FUNCTIONS))
        return self.pick(["undefined_name", "ẋ", "x" * self.rng.randint(1, 300), "_", "__",
                          "xÿ", "ℕ", "d", "dx"])

    def string(self) -> str:
        r = self.rng.random()
        if r < 0.4:
            body = self.pick(["abc", "", "x", "data.csv", "richardson", "central", "forward",
                              "a b", "ünï", "\\\"q\\\"", "\\\\", "\\n", "\\t", "\\q", "\\x41",
                              "%s %d {0}", "\\u0041", "\x00", "\t"])
        elif r < 0.85:
            body = self.pick(READ_FILES + WRITE_FILES).replace("\\", "\\\\").replace('"', '\\"')
            body = body.replace("\n", "\\n")
        elif r < 0.97:
            body = "ab" * self.rng.randint(1, 50)
        else:
            body = "s" * self.rng.choice([10_000, 200_000]) if self.chance(self.heavy) else "s"
        if self.chance(0.02):
            return '"' + body  # never closed
        return f'"{body}"'

    def vector(self, depth: int = 1) -> str:
        r = self.rng.random()
        if r < 0.1:
            return "[]"
        if r < 0.55:
            return "[" + ", ".join(self.number() if self.chance(0.85) else self.expr(depth - 1)
                                   for _ in range(self.rng.randint(1, 4))) + "]"
        if r < 0.85:
            rows, cols = self.rng.randint(1, 3), self.rng.randint(1, 3)
            ragged = self.chance(0.15)
            out = []
            for i in range(rows):
                n = cols + (1 if ragged and i == rows - 1 else 0)
                out.append("[" + ", ".join(self.number() for _ in range(n)) + "]")
            return "[" + ", ".join(out) + "]"
        if r < 0.92:
            return "[[[1, 2], [3, 4]], [[5, 6], [7, 8]]]"  # three dimensions
        return self.pick(["[[]]", "[[], []]", "[[1], 2]", "[1, [2]]", "[(1, 2)]", "[\"a\"]",
                          "[true, false]", "[[1, 2], [3, 4],]", "[,]", "[1,,2]"])

    def atom(self, depth: int = 1) -> str:
        r = self.rng.random()
        if r < 0.3:
            return self.number()
        if r < 0.62:
            return self.name()
        if r < 0.7:
            return self.pick(CONSTANTS)
        if r < 0.85:
            return self.vector(depth)
        if r < 0.92:
            return self.string()
        return "(" + ", ".join(self.number() for _ in range(self.rng.randint(1, 3))) + \
               ("," if self.chance(0.3) else "") + ")"

    def args(self, name: str, depth: int, right: bool | None = None) -> str:
        low, high = FUNCTIONS.get(name, (1, 1))
        if right is None:
            right = self.chance(0.75)
        if right:
            top = high if high >= 0 else low + 3
            count = self.rng.randint(low, max(low, top))
        else:
            count = self.pick([0, max(0, low - 1), (high if high >= 0 else low) + 1,
                               self.rng.randint(4, 9)])
        args = [self.argument(name, depth) for _ in range(count)]
        if name in AXIS_FUNCTIONS and self.chance(0.35) or self.chance(0.04):
            key = "axis" if self.chance(0.85) else self.pick(["axs", "rate", "step", "x", "axis"])
            value = self.pick(["0", "1", "-1", "2", "5", "-3", "0.5", "nan", "1e308", '"a"',
                               "true", "[0]", "(0, 1)"])
            args.append(f"{key} = {value}")
        if self.chance(0.03):
            args.append("axis = 0")  # twice, sometimes
        return ", ".join(args)

    def argument(self, name: str, depth: int) -> str:
        """An argument that suits `name` most of the time."""
        r = self.rng.random()
        if r < 0.25:
            if name in ("zeros", "ones", "eye", "randn", "reshape", "seed", "onehot", "linspace"):
                big = self.rng.random() < 0.1 * self.heavy
                return self.pick(["2", "3", "1", "0", "-1", "2.5", "-2"] +
                                 (["100000", "20000", "1e10", "1e308", "nan", "inf"] if big else []))
            if name == "load":
                return self.string()
        if r < 0.45:
            return self.vector(depth)
        if r < 0.5:
            return self.string()
        return self.expr(depth - 1)

    def call(self, depth: int) -> str:
        r = self.rng.random()
        if r < 0.8:
            name = self.pick(list(FUNCTIONS))
        else:
            name = self.pick(["f", "g", "h", "L", "loss"] + self.names)
        return f"{name}({self.args(name, depth)})"

    def expr(self, depth: int = 3) -> str:
        if depth <= 0 or self.chance(0.2):
            return self.atom(depth)
        r = self.rng.random()
        d = depth - 1
        if r < 0.25:
            op = self.pick(BINARY)
            return f"{self.expr(d)} {op} {self.expr(d)}"
        if r < 0.45:
            return self.call(d)
        if r < 0.5:
            return self.pick(["-", "+", "not ", "- -", "-+"]) + self.expr(d)
        if r < 0.55:
            return f"({self.expr(d)})"
        if r < 0.62:
            return f"if {self.expr(d)} then {self.expr(d)} else {self.expr(d)}"
        if r < 0.72:
            return f"{self.atom(d) if self.chance(0.5) else self.name()}[{self.subscripts(d)}]"
        if r < 0.78:
            return self.vector(d)
        if r < 0.83:
            return "(" + ", ".join(self.expr(d) for _ in range(self.rng.randint(1, 3))) + ",)"
        if r < 0.9:
            return self.block(d)
        if r < 0.95:
            return f"({self.directive(d)})"
        return f"{self.expr(d)}^{self.pick(['-1', '2', '0.5', '-', '+2', '1e308', 'x'])}"

    def subscripts(self, depth: int) -> str:
        def one():
            r = self.rng.random()
            if r < 0.4:
                return self.pick(["0", "1", "-1", "2", "5", "-7", "0.5", "1e308", "nan", "x",
                                  "true", '"a"', "[0, 1]", "[]"])
            if r < 0.8:
                a = self.pick(["", "0", "1", "-1", "5"])
                b = self.pick(["", "0", "2", "-1", "99"])
                c = self.pick(["", "", ":", ":2", ":-1", ":0", ":0.5"])
                return f"{a}:{b}{c}"
            return self.expr(depth)
        return ", ".join(one() for _ in range(self.rng.randint(1, 3)))

    def block(self, depth: int) -> str:
        parts = []
        for _ in range(self.rng.randint(0, 3)):
            name = self.pick(["a", "b", "c", "x", "t"])
            parts.append(f"{name} = {self.expr(depth - 1)}")
        parts.append(self.expr(depth - 1) if self.chance(0.9) else "")
        sep = self.pick(["; ", "\n", ";\n", " ;; "])
        return "{ " + sep.join(parts) + " }"

    # directives ----------------------------------------------------------------------------

    def var(self) -> str:
        return self.pick(["x", "y", "z", "w", "x1", "t", "a5", "W"])

    def order(self) -> str:
        return str(self.pick([1, 1, 2, 2, 3, 0, 5, 10, 18, 40] +
                             ([200, 1000, 100000] if self.chance(0.2 * self.heavy) else [])))

    def deriv_token(self) -> str:
        v = self.var()
        r = self.rng.random()
        if r < 0.55:
            return f"d/d{v}"
        n = self.order()
        if r < 0.85 or not v[-1].isdigit():
            return f"d{n}/d{v}{n}"
        return f"d{n}/d{v}^{n}"

    def point(self) -> str:
        r = self.rng.random()
        if r < 0.15:
            return ""
        if r < 0.6:
            names = self.rng.sample(["x", "y", "z", "w", "t"], self.rng.randint(1, 3))
            return " at " + ", ".join(f"{n} = {self.point_value()}" for n in names)
        if r < 0.8:
            return " at (" + ", ".join(self.point_value() for _ in range(self.rng.randint(1, 3))) + ")"
        return " at " + self.point_value()

    def point_value(self) -> str:
        r = self.rng.random()
        if r < 0.6:
            return self.number()
        if r < 0.7:
            return self.pick(HOSTILE_NAMES)
        if r < 0.85:
            return self.vector(1)
        return self.pick(['"s"', "[]", "(1, 2)", "true", "f", "x", "sin", "undefined_name"])

    def mode(self) -> str:
        r = self.rng.random()
        if r < 0.45:
            return ""
        if r < 0.8:
            return " using " + self.pick(MODES)
        if r < 0.95:
            opts = []
            steps = ["1e-6", "0", "-1", "1e308", "1e-320", "nan", "0.1", '"a"']
            methods = ['"central"', '"forward"', '"richardson"', "central", '"bogus"', "1"]
            if self.chance(0.7):
                opts.append(f"step = {self.pick(steps)}")
            if self.chance(0.7):
                opts.append(f"method = {self.pick(methods)}")
            if self.chance(0.1):
                opts.append("bogus = 1")
            return f" using numeric({', '.join(opts)})"
        return " using " + self.pick(["bogus", "gd", "adam", "numeric()", "forward(step = 1)",
                                      "symbolic(method = \"x\")", "reverse()"])

    def wrt(self) -> str:
        if self.chance(0.3):
            return ""
        return " wrt " + ", ".join(self.rng.sample(["x", "y", "z", "w", "t", "W", "pi", "f"],
                                                   self.rng.randint(1, 3)))

    def target(self, depth: int) -> str:
        """What a directive differentiates: an expression of its variables, or a function."""
        r = self.rng.random()
        if r < 0.15:
            return self.pick(["f", "g", "L", "sin", "loss"])
        if r < 0.3:
            return self.pick(["f(x, y)", "x^2*sin(x)", "sin(x)*exp(x)*log(x)", "x*y + sin(x)",
                              "sum(W^2)", "log(a*b)", "[x*y, x + y, sin(x)]", "sqrt(x)",
                              "abs(x)", "max(x, 2)", "relu(x)", "x^x", "1/x", "if x > 0 then x else -x"])
        return self.expr(depth)

    def directive(self, depth: int = 2) -> str:
        r = self.rng.random()
        t = self.target(depth)
        if r < 0.3:
            return f"{self.deriv_token()} {t}{self.point()}{self.mode()}"
        if r < 0.45:
            return f"grad {t}{self.wrt()}{self.point()}{self.mode()}"
        if r < 0.52:
            return f"backprop {t}{self.wrt()}{self.point()}"
        if r < 0.59:
            return f"hessian {t}{self.wrt()}{self.point()}{self.mode()}"
        if r < 0.66:
            return f"jacobian {t}{self.wrt()}{self.point()}{self.mode()}"
        if r < 0.76:
            return f"check {t}{self.wrt()}{self.point()}{self.mode() if self.chance(0.2) else ''}"
        if r < 0.84:
            inner = self.directive(depth - 1) if depth > 0 and self.chance(0.9) else t
            return f"explain {inner}"
        if r < 0.91:
            to = f" to {self.file_name(WRITE_FILES)}" if self.chance(0.3) else ""
            return f"graph {t}{to}"
        return self.minimize()

    def file_name(self, names) -> str:
        name = self.pick(names).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{name}"'

    def minimize(self) -> str:
        loss = self.pick(["L(w)", "(w - 1)^2", "sum((w - t)^2)", "mean(softplus(X @ w) - y * (X @ w))",
                          "w", "sin(w)", "loss(w)", self.expr(1)])
        opt = self.pick(["gd", "adam", "gd", "sgd", "adam"])
        opts = []
        for key in self.rng.sample(["rate", "steps", "beta1", "beta2", "eps", "rat"],
                                   self.rng.randint(0, 3)):
            value = self.pick(["0.1", "3", "1", "0", "-1", "2.5", "1e308", "nan", '"a"', "[1]"]
                              + (["1e6"] if self.chance(0.05 * self.heavy) else []))
            if key == "steps" and self.chance(0.8):
                value = self.pick(["1", "3", "5", "0", "-2", "2.5"])
            opts.append(f"{key} = {value}")
        args = f"({', '.join(opts)})" if opts or self.chance(0.5) else ""
        wrt = ", ".join(self.rng.sample(["w", "t", "x", "W"], self.rng.randint(1, 2)))
        return f"minimize {loss} wrt {wrt} using {opt}{args}"

    # statements and programs ------------------------------------------------------------------

    PRELUDE = ("x = 1.5; y = -2; z = 0.5; t = [1, -2, 3]; w = [0, 0, 0]; A = [[1, 2], [3, 4]]; "
               "W = [[0.5, -1], [2, 0.25]]; X = [[1, 0.5], [1, 1.5]]; v = [1, -1]\n"
               "f(x, y) = x*y + sin(x)\ng(t) = t^2 + 1\nL(w) = sum((w - t)^2)\n"
               "fact(n) = if n <= 1 then 1 else n * fact(n - 1)\n")

    def statement(self, depth: int = 3) -> str:
        r = self.rng.random()
        if r < 0.3:
            name = self.pick(NAMES + ["e", "sin", "pi"] + (["if", "at"] if self.chance(0.05) else []))
            self.names.append(name)
            return f"{name} = {self.expr(depth) if self.chance(0.8) else self.directive(depth - 1)}"
        if r < 0.45:
            name = self.pick(["f", "g", "h", "k", "loss", "sin", "x"])
            params = self.rng.sample(["x", "y", "t", "n", "w", "x"], self.rng.randint(0, 3))
            body = self.expr(depth)
            if self.chance(0.3):  # recursive
                body = (f"if {params[0] if params else 'x'} <= 0 then 0 else "
                        f"{name}({', '.join((p + ' - 1') for p in params)}) + {body}")
            return f"{name}({', '.join(params)}) = {body}"
        if r < 0.52:
            k = self.rng.randint(1, 4)
            lhs = ", ".join(self.pick(NAMES) for _ in range(k))
            rhs = self.pick([f"({', '.join(self.number() for _ in range(self.rng.randint(1, 4)))})",
                             self.expr(depth), "grad f at (1, 2)", "grad sum((W @ v)^2) wrt W, v",
                             "shape(A)", "(1, (2, 3))"])
            return f"{lhs} = {rhs}"
        if r < 0.75:
            return self.expr(depth) + (";" if self.chance(0.3) else "")
        return self.directive(depth - 1) + (";" if self.chance(0.2) else "")

    def program(self, statements: int | None = None, prelude: float = 0.7) -> str:
        self.names = ["x", "y", "z", "t", "w", "A", "W", "v", "f", "g", "L"]
        n = statements if statements is not None else self.rng.randint(1, 5)
        parts = [self.statement() for _ in range(n)]
        body = self.join(parts)
        if self.chance(prelude):
            body = self.PRELUDE + body
        return body

    def join(self, parts: list[str]) -> str:
        out = []
        for i, part in enumerate(parts):
            out.append(part)
            if i < len(parts) - 1:
                out.append(self.pick(["\n", "\n", "; ", "\n\n", " # comment\n", ";\n"]))
        return "".join(out)

    def limits(self) -> dict:
        limits = {"timeout": self.timeout}
        r = self.rng.random()
        if r < 0.12:
            limits.update(max_depth=self.pick([5, 50, 100]), max_nodes=self.pick([100, 10_000]),
                          max_elements=self.pick([10, 10_000]))
        elif r < 0.2:
            limits["files"] = False
        # files: off (the API's default), any path (the command's), or the worker's folder
        r = self.rng.random()
        if r < 0.35:
            limits["files"] = True
        elif r < 0.7:
            limits["files"] = "."
        return limits

    # the kinds --------------------------------------------------------------------------------

    def case(self, kind: str) -> Case:
        case = getattr(self, "kind_" + kind)()
        case.kind = kind
        return case

    def cases(self, kind: str, n: int) -> list[Case]:
        return [self.case(kind) for _ in range(n)]

    def mixed(self, n: int, weights: dict | None = None) -> list[Case]:
        kinds = list(weights or {k: 1 for k in KINDS})
        w = [weights[k] for k in kinds] if weights else None
        return [self.case(self.rng.choices(kinds, w)[0]) for _ in range(n)]

    def source_case(self, source: str, label: str = "", limits: dict | None = None) -> Case:
        return Case("", [source], limits if limits is not None else self.limits(), label=label)

    def kind_numbers(self) -> Case:
        n = self.pick(HOSTILE_NUMBERS) if self.chance(0.7) else self.number()
        m = self.number()
        forms = [
            f"{n}", f"-{n}", f"{n} + {m}", f"{n} * {n}", f"{n} ^ {m}", f"{m} / {n}", f"{n} - {n}",
            f"x = {n}; x * x", f"sin({n})", f"exp({n})", f"log({n})", f"tan({n})", f"sqrt(-{n})",
            f"floor({n})", f"atan2({n}, {m})", f"hypot({n}, {n})", f"{n} == {n}", f"{n} < {m}",
            f"if {n} then 1 else 2", f"[{n}, {m}]", f"[1, 2, 3][{n}]", f"[1, 2, 3][{n}:]",
            f"zeros({n})", f"ones({m}, {n})", f"eye({n})", f"linspace(0, 1, {n})", f"randn({n})",
            f"seed({n})", f"onehot([0, 1], {n})", f"reshape([1, 2, 3, 4], {n}, -1)",
            f"sum([1, 2], axis = {n})", f"d/dx x^2 at x = {n}", f"d{self.order()}/dx{0} x",
            f"grad x*y at x = {n}, y = {m}", f"d/dx x^{n} at x = {m}",
            f"d/dx sin(x) at x = {n} using numeric(step = {n})",
            f"w = 1; minimize (w - 1)^2 wrt w using gd(rate = {n}, steps = 2)",
            f"w = 1; minimize w^2 wrt w using adam(rate = 0.1, steps = 2, eps = {n})",
            f"x = {n}; explain d/dx x^3", f"check x^3 at x = {n}", f"{n}e5", f"{n}.5",
            f"2^{n}^{n}", f"({n}, {n})[{m}]", f"print({n})", f"max({n}, {m})",
            f"fact(n) = if n <= 1 then 1 else n * fact(n - 1); fact({n})",
        ]
        form = self.pick(forms)
        if "{0}" in form:
            form = form.replace("{0}", self.order())
        return self.source_case(form)

    def kind_builtins(self) -> Case:
        name = self.pick(list(FUNCTIONS))
        source = f"{name}({self.args(name, 2)})"
        r = self.rng.random()
        if r < 0.2:
            source = f"{self.pick(['d/dx', 'grad', 'check', 'explain d/dx', 'hessian', 'jacobian'])} " \
                     f"{source}{self.point()}"
        elif r < 0.3:
            source = f"{name}"  # the function as a value
        elif r < 0.35:
            source = f"{name} = 3; {name}(1)"
        elif r < 0.45:
            source = f"q = {source}; q"
        return self.source_case(self.PRELUDE + source if self.chance(0.7) else source)

    def kind_directives(self) -> Case:
        body = self.directive(self.rng.randint(1, 3))
        if self.chance(0.15):  # a directive inside an assignment, a call, a vector, a block
            before, after = self.pick([("y = ", ""), ("q = (", ")"), ("print(", ")"),
                                       ("[", "]"), ("{ a = 1; ", " }")])
            body = before + body + after
        pre = self.PRELUDE if self.chance(0.75) else ""
        return self.source_case(pre + body)

    def kind_strings(self) -> Case:
        s = self.string()
        forms = [
            f"{s}", f"x = {s}; x", f"{s} + 1", f"-{s}", f"{s} * {s}", f"{s} == {s}", f"{s} < 1",
            f"sin({s})", f"[{s}, 1]", f"({s}, 1)", f"[1, 2][{s}]", f"{s}[0]", f"if {s} then 1 else 2",
            f"not {s}", f"{s} and true", f"print({s}, 1, {s})", f"load({s})", f"graph x to {s}",
            f"d/dx x at x = {s}", f"d/dx {s}", f"grad {s} wrt x", f"check x^2 at x = {s}",
            f"d/dx x^2 at x = 1 using numeric(method = {s})",
            f"d/dx x^2 at x = 1 using numeric(step = {s})",
            f"w = 1; minimize (w - 1)^2 wrt w using gd(rate = {s})",
            f"f(x) = x; f({s})", f"f({s}) = 1", f"{s} = 1", f"sum([1], axis = {s})",
            f"zeros({s})", f"reshape([1, 2], {s})", f"onehot([0], {s})", f"linspace({s}, 0, 3)",
            f"argmax({s})", f"seed({s})", f"shape({s})", f"size({s})", f"norm({s})",
            f"softmax({s})", f"concat({s}, {s})", f"{{ a = {s}; a }}", f"x, y = {s}",
            f"explain d/dx {s} at x = 1", f"hessian {s}", f"jacobian {s} at x = 1",
        ]
        pre = self.PRELUDE if self.chance(0.3) else ""
        return self.source_case(pre + self.pick(forms))

    def kind_tensors(self) -> Case:
        a, b = self.vector(2), self.vector(2)
        op = self.pick(["+", "-", "*", "/", "@", "^", "<", "==", "and"])
        forms = [
            f"{a}", f"{a} {op} {b}", f"{a}[{self.subscripts(1)}]", f"T = {a}; T[{self.subscripts(1)}]",
            f"A[{self.subscripts(1)}]", f"W @ {a}", f"{a} @ W", f"transpose({a})", f"sum({a}, {self.number()})",
            f"mean({a}, axis = {self.pick(['0', '1', '-1', '2', '-5'])})", f"max({a}, axis = 0)",
            f"min({a}, {b})", f"dot({a}, {b})", f"norm({a})", f"reshape({a}, {self.number()}, -1)",
            f"reshape({a}, -1, -1)", f"concat({a}, {b})", f"hstack({a}, {b})", f"vstack({a}, {b})",
            f"softmax({a})", f"logsumexp({a})", f"argmax({a}, axis = 1)", f"onehot({a}, 3)",
            f"grad sum({a} * w) wrt w", f"grad sum(W @ {a}) wrt W", f"check sum(sin(W @ {a})) wrt W",
            f"jacobian {a} * x at x = 2", f"hessian sum(W^2) wrt W", f"d/dx sum({a} * x) at x = 1",
            f"grad max(x) wrt x at x = {a}", f"shape({a}); size({a})", f"{a} > 0 and {b}",
            f"if {a} then 1 else 2", f"sigmoid({a})", f"[{a}, {b}]", f"x = {a}; x[0] = 1",
            f"w = {a}; minimize sum((w - 1)^2) wrt w using gd(rate = 0.1, steps = 3)",
            f"B = ones({self.pick(['200, 100', '3, 3', '101, 100', '2, 0', '0'])}); grad sum(B^2) wrt B using {self.pick(MODES)}",
            f"T = ones({self.pick(['3', '5000', '2, 3000'])}); T[{self.pick(['T', 'T == 1', 'T:', '0, T', 'T * 7'])}]",
        ]
        if self.chance(0.04 * self.heavy):
            forms = ["x = eye(20000);", "ones(10000, 10000) @ ones(10000, 10000);",
                     "zeros(100000000)", "linspace(0, 1, 1e9)", "randn(5000, 5000);",
                     "A = ones(3000, 2000); A[5000]", "onehot([0], 1e8)",
                     "x = ones(6000000); x[7000000]", "reshape(ones(100), 1e8, 0)"]
        pre = self.PRELUDE if self.chance(0.8) else ""
        return self.source_case(pre + self.pick(forms))

    def kind_programs(self) -> Case:
        source = self.program(self.rng.randint(1, 8))
        if self.chance(0.05):  # doubly recursive: exponential calls, each inlined in the graph
            n = self.pick([10, 15, 20, 25] + ([30, 40] if self.chance(self.heavy) else []))
            source += f"\nfib(n) = if n < 2 then n else fib(n - 1) + fib(n - 2)\nfib({n})"
        return self.source_case(source)

    def deep_source(self, shape: str, n: int) -> str:
        """A program nested `n` levels deep in one way."""
        builders = {
            "parens": lambda: "x = " + "(" * n + "1" + ")" * n,
            "tuples": lambda: "x = " + "(2, " * n + "1" + ")" * n,
            "vectors": lambda: "x = " + "[" * n + "1" + "]" * n,
            "vectors2": lambda: "x = " + "[1, " * n + "1" + "]" * n,
            "index": lambda: "x = [1, 2]; x" + "[0]" * n,
            "slices": lambda: "A = [[1, 2], [3, 4]]; A" + "[:, 0]" * n,
            "calls": lambda: "sin(" * n + "1" + ")" * n,
            "user-calls": lambda: "f(t) = t + 1; " + "f(" * n + "1" + ")" * n,
            "blocks": lambda: "{ " * n + "1" + " }" * n,
            "block-assigns": lambda: "{ a = " * n + "1" + "; a }" * n,
            "minus": lambda: "-" * n + "1",
            "minus-spaced": lambda: "- " * n + "1",
            "not": lambda: "not " * n + "true",
            "power": lambda: "1" + "^1" * n,
            "power-paren": lambda: "(" * n + "2" + "^1)" * n,
            "sum": lambda: "1" + " + 1" * n,
            "if": lambda: "if 1 then " * n + "1" + " else 2" * n,
            "if-cond": lambda: "if " * n + "1" + " then 1 else 2" * n,
            "derivatives": lambda: "(d/dx " * n + "x^2" + " at x = 1)" * n,
            "explain": lambda: "explain " * n + "d/dx x^2 at x = 1",
            "statements": lambda: "x0 = 1\n" + "".join(f"x{i + 1} = x{i} * 1.0001 + 1\n" for i in range(n)) + f"x{n}",
            "recursion": lambda: f"down(k) = if k <= 0 then 0 else 1 + down(k - 1)\ndown({n})",
            "grad-chain": lambda: "y0 = x\n" + "".join(f"y{i + 1} = sin(y{i})\n" for i in range(n)) + f"d/dx y{n} at x = 1",
            "symbolic-chain": lambda: "d/dx " + "sin(" * n + "x" + ")" * n,
            "long-vector": lambda: "[" + "1, " * n + "1]",
            "long-string": lambda: 'x = "' + "a" * (n * 40) + '"',
            "long-name": lambda: "a" * (n * 40) + " = 1",
            "comment": lambda: "#" + "c" * (n * 40) + "\n1",
            "semicolons": lambda: ";" * n + "1",
            "newlines": lambda: "(" + "\n" * n + "1)",
            "mixed": lambda: "".join(self.pick(["(", "-", "[", "sin("]) for _ in range(n)) + "1",
        }
        return builders[shape]()

    DEPTHS = [10, 100, 1000, 3000, 10_000, 20_000, 50_000]

    def kind_deep(self) -> Case:
        shape = self.pick(["parens", "tuples", "vectors", "vectors2", "index", "slices", "calls",
                           "user-calls", "blocks", "block-assigns", "minus", "minus-spaced", "not",
                           "power", "power-paren", "sum", "if", "if-cond", "derivatives", "explain",
                           "statements", "recursion", "grad-chain", "symbolic-chain",
                           "long-vector", "long-string", "long-name", "comment", "semicolons",
                           "newlines", "mixed"])
        depths = self.DEPTHS if self.chance(self.heavy) else self.DEPTHS[:4]
        n = self.pick(depths)
        if shape in ("statements", "grad-chain", "recursion", "derivatives", "explain"):
            n = min(n, self.pick([10, 100, 1000, 3000]))
        limits = {"timeout": self.timeout}
        if shape == "recursion" and self.chance(0.5):
            limits["max_depth"] = self.pick([10 ** 4, 10 ** 5])
        return Case("deep", [self.deep_source(shape, n)], limits, label=f"{shape} x {n}")

    def kind_linebreaks(self) -> Case:
        breaks = ODD_BREAKS
        r = self.rng.random()
        if r < 0.4:  # statements separated by odd breaks, then an error
            parts = [self.pick(["x = 1", "y = 2", "# note", "z = x + y", "f(t) = t^2", "",
                                "A = [[1, 2],", "  [3, 4]]", "s = \"a b\""]) for _ in range(self.rng.randint(1, 4))]
            parts.append(self.pick(["q = undefined_name", "1 +", "sin(1, 2)", "[1, 2] + [1, 2, 3]",
                                    "(1", "x = 2x", "\"open", "f(1, 2)", "d/dq q^2 at q = \"s\"",
                                    "1 < 2 < 3"]))
            source = "".join(p + self.pick(breaks + ["\n"]) for p in parts[:-1]) + parts[-1]
        elif r < 0.7:  # odd characters inserted into a program
            chars = list(self.program(self.rng.randint(1, 4), prelude=0.3))
            for _ in range(self.rng.randint(1, 4)):
                chars.insert(self.rng.randint(0, len(chars)), self.pick(breaks))
            source = "".join(chars)
        else:  # a corpus program with its newlines replaced
            source = self.pick(self.programs)
            br = self.pick(breaks)
            source = shorten_training(source, self.rng)
            if self.chance(0.5):
                source = source.replace("\n", br)
            else:
                lines = source.split("\n")
                k = self.rng.randrange(len(lines))
                lines[k] = lines[k] + br + self.pick(["undefined_name", "1 +", "(", "x x"])
                source = "\n".join(lines)
        return self.source_case(source)

    def mutate(self, source: str) -> str:
        """Byte flips, token deletions/duplications/swaps, or a statement from another program."""
        r = self.rng.random()
        if r < 0.25 and source:
            chars = list(source)
            for _ in range(self.rng.randint(1, 3)):
                i = self.rng.randrange(len(chars))
                chars[i] = self.pick(['"', "(", ")", "[", "]", "{", "}", ",", ";", "\n", "=", "^",
                                      "0", "9", "x", " ", "@", ":", "#", "-", ".", "e", "\\",
                                      chr(self.rng.randint(0, 0x7f)), chr(self.rng.randint(0x80, 0x3000))])
            return "".join(chars)
        toks = tokens(source)
        if not toks:
            return source
        if r < 0.45:
            for _ in range(self.rng.randint(1, 3)):
                if toks:
                    del toks[self.rng.randrange(len(toks))]
        elif r < 0.6:
            i = self.rng.randrange(len(toks))
            toks[i:i] = [toks[i]] * self.rng.randint(1, 3)
        elif r < 0.75:
            i, j = self.rng.randrange(len(toks)), self.rng.randrange(len(toks))
            toks[i], toks[j] = toks[j], toks[i]
        elif r < 0.85:
            i = self.rng.randrange(len(toks))
            toks[i] = self.pick([self.number(), self.name(), self.string(), self.pick(BINARY),
                                 self.pick(RESERVED), self.deriv_token(), "(", ")", "[", "]"])
        else:
            mine = source.split("\n")
            other = self.pick(self.programs).split("\n")
            k = self.rng.randint(1, 4)
            start = self.rng.randrange(len(other))
            mine[self.rng.randrange(len(mine) + 1):0] = other[start:start + k]
            return "\n".join(mine)
        return "".join(toks)

    def kind_mutations(self) -> Case:
        source = shorten_training(self.pick(self.programs), self.rng)
        for _ in range(self.rng.randint(1, 3)):
            source = self.mutate(source)
        return self.source_case(source)

    def kind_sessions(self) -> Case:
        """Several run() calls on one interpreter; the last is one statement that may fail.

        The first run defines functions below many blank lines, so that an error drawn
        against the wrong input names a line the last input does not have.
        """
        pad = "\n" * self.rng.randint(3, 12)
        defs = self.pick([
            "f(x) = x + undefined_name", "f(x) = sin(x, 2)", "f(x) = [1, 2] + [1, 2, 3]",
            "f(x) = x[5]", "f(x) = f(x)", "f(x) = load(\"/nonexistent\")", "f(x) = x^2",
            "L(w) = sum((w - t)^2)", "f(x) = { a = x; a(1) }", "f(x) = if x then 1 else [1, 2]",
        ])
        first = self.PRELUDE + pad + defs
        middle = [self.program(self.rng.randint(0, 2), prelude=0) for _ in range(self.rng.randint(0, 2))]
        last = self.pick([
            "f(1)", "y = f(2)", "d/dx f(x) at x = 1", "grad f at (1)", "check f(x) at x = 1",
            "q = { w = f(1); w }",
            "y = { minimize L(w) wrt w using gd(rate = 0.1, steps = 5); undefined_name }",
            "y = { minimize L(w) wrt w using adam(rate = 0.1, steps = 5); 1 + [1, 2] + [1, 2, 3] }",
            "q = { x = 5; seed(1); f(1) }",
            "y = [f(1), undefined_name]",
            "w, t = (L(w), undefined_name)",
            self.statement(2).rstrip(";"),
        ])
        last = last.replace("\n", " ")
        return Case("sessions", [first] + middle + [last], self.limits(), rollback="\n" not in last
                    and not re.search(r";(?![^{]*\})", last))

    API = [
        "diffi.Interpreter(timeout='1').run('1 + 1')",
        "diffi.Interpreter(timeout='1')",
        "diffi.Interpreter(max_depth='a').run('f(n) = if n < 1 then 0 else f(n - 1); f(3)')",
        "diffi.Interpreter(timeout=0).run('1 + 1')",
        "diffi.Interpreter(timeout=-1).run('1 + 1')",
        "diffi.Interpreter(timeout=float('nan')).run('1 + 1')",
        "diffi.Interpreter(timeout=1e308).run('1 + 1')",
        "diffi.Interpreter(timeout=10**400).run('1 + 1')",
        "diffi.Interpreter(max_nodes=-1).run('1 + 1')",
        "diffi.Interpreter(max_nodes=None).run('1 + 1')",
        "diffi.Interpreter(max_elements='x').run('zeros(3)')",
        "diffi.Interpreter(max_elements=1.5).run('zeros(3)')",
        "diffi.Interpreter(max_depth=0).run('f(x) = x; f(1)')",
        "diffi.Interpreter(max_depth=-5).run('f(x) = x; f(1)')",
        "diffi.Interpreter(files='no').run('load(\"data.csv\")')",
        "diffi.Interpreter(precision='a').run('1/3')",
        "diffi.Interpreter(precision=10**400).run('1/3')",
        "diffi.Interpreter(output=3).run('print(1)')",
        "diffi.Interpreter(warn=3).run('log(0)')",
        "diffi.Interpreter(progress=3).run('w = 1; minimize w^2 wrt w using gd(steps = 2)')",
        "diffi.evaluate('1', timeout='x')",
        "diffi.evaluate(None)",
        "diffi.evaluate(b'1 + 1')",
        "it['x'] = 10**400",
        "it['x'] = 10**400; it.run('x + 1')",
        "it['x'] = object()",
        "it['x'] = None",
        "it['x'] = 1j",
        "it['x'] = [1, [2]]",
        "it['x'] = [[1, 2], [3]]",
        "it['x'] = np.array(['a', 'b'])",
        "it['x'] = np.array([1, 2], dtype=object)",
        "it['x'] = np.zeros((2, 0))",
        "it['x'] = {'a': 1}",
        "it['x'] = 'text'; it.run('x + 1')",
        "it['x'] = (1, 'a', [1, 2])",
        "it['x'] = np.float32(2.5); it.run('x')",
        "it['x'] = np.int64(2); it.run('x^2')",
        "it['x'] = True; it.run('d/dx x^2')",
        "it['x'] = float('nan'); it.run('d/dx x^2')",
        "it['1x'] = 1",
        "it[''] = 1",
        "it[3] = 1",
        "it['if'] = 1",
        "it['sin'] = 1; it.run('sin(1)')",
        "it[None]",
        "it[3]",
        "it['nope']",
        "del it['nope']",
        "del it[3]",
        "3 in it",
        "it.derivative('x^2', wrt='1x')",
        "it.derivative('x^2', wrt='x', at={'x': 'a'})",
        "it.derivative('x^2', wrt='x', at={'x': 10**400})",
        "it.derivative('x^2', wrt='x', at={'x': object()})",
        "it.derivative('x^2', wrt='x', at={3: 1})",
        "it.derivative('x^2', wrt='x', at=[1, 2, 3])",
        "it.derivative('x^2', wrt='x', at=1, order=0)",
        "it.derivative('x^2', wrt='x', at=1, order=True)",
        "it.derivative('x^2', wrt='x', at=1, order=10**6)",
        "it.derivative('x^2', wrt='x', at=1, mode='bogus')",
        "it.derivative('x^2', wrt='x', at=1, mode=3)",
        "it.derivative('x^2', wrt='x', at=1, mode='numeric', step='a')",
        "it.derivative('x^2', wrt='x', at=1, mode='numeric', step=10**400)",
        "it.derivative('x^2', wrt='x', at=1, mode='numeric', method=None)",
        "it.derivative('x^2', wrt='x', at=1, bogus=1)",
        "it.derivative('x^2', wrt=None)",
        "it.derivative('x^2', wrt=['x'])",
        "it.derivative('x^2 +', wrt='x')",
        "it.derivative('x = 2', wrt='x')",
        "it.derivative('', wrt='x')",
        "it.derivative(None, wrt='x')",
        "it.grad(3)",
        "it.grad(None)",
        "it.grad('f', at=(1, 2))",
        "it.run('f(x, y) = x*y'); it.grad('f', at=(1,))",
        "it.run('f(x, y) = x*y'); it.grad('f', at=('a', 2))",
        "it.run('f(x, y) = x*y'); it.grad('f', at=(10**400, 2))",
        "it.run('f(x, y) = x*y'); it.grad('f', at=(float('nan'), 2))",
        "it.run('f(x, y) = x*y'); it.grad('f', at=(np.float32(1), 2))",
        "it.run('f(x, y) = x*y'); it.grad('f', at={'x': 1})",
        "it.run('f(x, y) = x*y'); it.grad('f', wrt=3, at=(1, 2))",
        "it.run('f(x, y) = x*y'); it.grad('f', wrt=[None], at=(1, 2))",
        "it.run('f(x, y) = x*y'); it.grad('f', wrt='', at=(1, 2))",
        "it.run('f(x, y) = x*y'); it.grad('f', at=(1, 2), mode='symbolic')",
        "it.run('f(x, y) = x*y'); it.hessian('f', at=(1, 2, 3))",
        "it.run('f(x, y) = x*y'); it.jacobian('f', at='ab')",
        "it.run('f(x, y) = x*y'); it.check('f', at=(1, 2), wrt='q')",
        "it.run('f(x, y) = x*y'); it.backprop('f', at=(1, 2), wrt=['x', 'x'])",
        "it.run('f(x, y) = x*y'); it.graph(3)",
        "it.run('f(x, y) = x*y'); it.graph('f(1, ')",
        "it.run('f(x, y) = x*y'); it['f'](1)",
        "it.run('f(x, y) = x*y'); it['f']('a', 'b')",
        "it.run('f(x, y) = x*y'); it['f'](object(), 1)",
        "it.run('f(x, y) = x*y'); it['f'](10**400, 1)",
        "it.run('f(x, y) = x*y'); it['f'](None, 1)",
        "it.run('f(x, y) = x*y'); it['f'](np.ones(3), np.ones(4))",
        "it.run('f(x, y) = x*y'); it['f'](1, 2, 3)",
        "it.run('f(n) = if n < 1 then 0 else f(n - 1)'); it['f'](10**6)",
        "it['sin'](1, 2)",
        "it['sin']('a')",
        "it['print'](object())",
        "it['load']('/bin/sh')",
        "it['zeros'](1e12)",
        "it.eval(None)",
        "it.eval(3)",
        "it.eval(b'1')",
        "it.run(None)",
        "it.run(['1'])",
        "it.run('1', filename=None)",
        "it.run('1 +', filename=3)",
        "it.run(str.__new__(str, '1'))",
        "it.names(); it.reset(); it.losses",
        "it.run('y = 1'); it.reset(); it.run('y')",
    ]

    def api_cases(self) -> list[Case]:
        """Every fixed API-argument case once."""
        return [Case("api", [], {"timeout": self.timeout}, api=snippet) for snippet in self.API]

    def kind_api(self) -> Case:
        if self.chance(0.7):
            snippet = self.pick(self.API)
        else:  # an API call with a generated expression or value
            expr = repr(self.expr(2))
            point = self.pick(["1", "0.5", "10**400", "np.ones(2)", "[1, 2]", "(1, 2)", "True",
                               "float('inf')"])
            value = self.pick(["np.ones((2, 2))", "1.5", "(1, 2)", "[[1, 2], [3, 4]]", "np.nan",
                               "np.array(3.0)"])
            snippet = self.pick([
                f"it.eval({expr})",
                f"it.derivative({expr}, wrt='x', at={{'x': {point}}})",
                f"it.grad({expr}, wrt=['x', 'y'], at={{'x': 1, 'y': 2}})",
                f"it.hessian({expr}, wrt=['x'], at={{'x': 1}})",
                f"it.jacobian({expr}, wrt='x', at={{'x': 1}})",
                f"it.check({expr}, wrt='x', at={{'x': 1}})",
                f"it.backprop({expr}, wrt='x', at={{'x': 1}})",
                f"str(it.graph({expr}))",
                f"it['q'] = {value}; it.eval({expr})",
            ])
        return Case("api", [], {"timeout": self.timeout}, api=snippet)


# ---------------------------------------------------------------------------------------
# Running cases: workers under a memory cap and a watchdog

def diffi_path() -> str | None:
    """The folder holding the `diffi` package this Python would import (not imported here)."""
    import importlib.util
    spec = importlib.util.find_spec("diffi")
    if spec is None or not spec.origin:
        return str(ROOT) if (ROOT / "diffi" / "__init__.py").exists() else None
    return str(Path(spec.origin).parent.parent)


def watchdog(case: dict | Case, margin: float = 3.0) -> float:
    """Seconds a case may take before it counts as a hang: its timeout per statement
    (the runs' statements, counted roughly), plus a margin for starting and cleaning up."""
    data = case.to_json() if isinstance(case, Case) else case
    timeout = data["limits"].get("timeout") or 10.0
    if not isinstance(timeout, (int, float)) or timeout != timeout or timeout > 10:
        timeout = 10.0
    statements = sum(min(8, 1 + s.count("\n") + s.count(";")) for s in data["runs"]) or 2
    return margin + max(0.0, timeout) * statements


@dataclass
class Outcome:
    cls: str
    type: str = ""          # the exception's type (or the signal that ended the worker)
    message: str = ""       # the start of the message
    frame: str = ""         # the innermost frame in diffi (file:line in function)
    run: int = 0            # which run of the case
    line: int | None = None
    column: int | None = None
    seconds: float = 0.0
    maxrss: int = 0         # KiB: the worker's peak (the case's own with fresh workers)
    detail: str = ""

    @property
    def failed(self) -> bool:
        return self.cls != "ok"

    def signature(self) -> tuple:
        """What makes two failures the same root cause: class, type, message pattern, frame."""
        if self.cls == "bad-position":  # the position's arithmetic, not the message, is at fault
            tag = re.match(r"\[[^\]]*\]", self.detail)
            return (self.cls, tag.group(0) if tag else self.detail[:40], "", "")
        if self.cls == "global-state":
            return (self.cls, "", "", "")
        if self.cls == "rollback":  # what the failed statement changed, not why it failed
            return (self.cls, self.detail, "", "")
        return (self.cls, self.type, message_pattern(self.message),
                re.sub(r":\d+ ", " ", self.frame))

    def to_json(self) -> dict:
        return dict(self.__dict__)


def message_pattern(message: str) -> str:
    """A message with its particulars (numbers, quoted text, shapes) blanked out."""
    m = re.sub(r"'[^']*('|$)|\"[^\"]*(\"|$)", "'…'", message[:200])
    m = re.sub(r"\(\d[\d, ]*\)|\[[^\]]*\]", "(…)", m)
    m = re.sub(r"-?\d+(\.\d+)?(e[+-]?\d+)?", "N", m)
    return m[:120]


class Worker:
    """One worker process: runs cases sent as JSON lines, answers with JSON lines."""

    def __init__(self, memory: int = MEMORY_CAP, workdir: str | None = None):
        self.memory = memory
        self.workdir = workdir or make_workdir()
        to_child_r, self.to_child = os.pipe()
        self.from_child, from_child_w = os.pipe()
        self.errfile = tempfile.TemporaryFile(prefix="diffi-fuzz-err-")
        env = dict(os.environ)
        path = diffi_path()
        env["PYTHONPATH"] = os.pathsep.join(p for p in [path, env.get("PYTHONPATH")] if p)
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = "1"
        env.pop("PYTHONSTARTUP", None)
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env["DIFFI_FUZZ_SANDBOX"] = os.path.dirname(os.path.dirname(self.workdir))
        env["HOME"] = env["TMPDIR"] = self.workdir
        self.proc = subprocess.Popen(
            [sys.executable, "-X", "faulthandler", str(Path(__file__).resolve()), "--worker",
             str(to_child_r), str(from_child_w), str(memory)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.errfile,
            pass_fds=(to_child_r, from_child_w), cwd=self.workdir, env=env,
            start_new_session=True)
        os.close(to_child_r)
        os.close(from_child_w)
        self.buffer = b""
        self.case = None
        self.deadline = 0.0
        self.started = 0.0

    def send(self, case: Case, limit: float) -> None:
        self.case = case
        self.started = time.monotonic()
        self.deadline = self.started + limit
        data = case.to_json()
        data["watchdog"] = limit
        line = (json.dumps(data) + "\n").encode()
        try:
            view = memoryview(line)
            while view:
                n = os.write(self.to_child, view)
                view = view[n:]
        except (BrokenPipeError, OSError):
            pass  # the worker is gone; the reader sees the end of its pipe

    def read(self) -> dict | None | bool:
        """A finished result; None if the worker is gone; False if not finished yet."""
        try:
            chunk = os.read(self.from_child, 1 << 20)
        except OSError:
            chunk = b""
        if not chunk:
            return None
        self.buffer += chunk
        if b"\n" not in self.buffer:
            return False
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)

    def stop(self, sig: int = signal.SIGKILL) -> tuple[int, int]:
        """End the worker; (its exit status, its peak memory in KiB)."""
        try:
            os.killpg(self.proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            _, status, usage = os.wait4(self.proc.pid, 0)
            self.proc.returncode = os.waitstatus_to_exitcode(status)
            maxrss = usage.ru_maxrss
        except ChildProcessError:
            self.proc.wait()
            maxrss = 0
        for fd in (self.to_child, self.from_child):
            try:
                os.close(fd)
            except OSError:
                pass
        return self.proc.returncode, maxrss

    def finish(self) -> tuple[int, int]:
        """Let an idle worker exit by itself (closing its input); (status, peak KiB)."""
        try:
            os.close(self.to_child)
        except OSError:
            pass
        try:
            _, status, usage = os.wait4(self.proc.pid, 0)
            code = os.waitstatus_to_exitcode(status)
        except ChildProcessError:
            return self.proc.wait(), 0
        try:
            os.close(self.from_child)
        except OSError:
            pass
        return code, usage.ru_maxrss

    def stderr_tail(self, limit: int = 200_000) -> str:
        try:
            self.errfile.seek(0, os.SEEK_END)
            size = self.errfile.tell()
            self.errfile.seek(max(0, size - limit))
            return self.errfile.read().decode("utf-8", "replace")
        except (OSError, ValueError):
            return ""


def make_workdir() -> str:
    """A folder for a worker to run in, with the files its cases read; relative file
    names (`load("data.csv")`, `graph x to "g.dot"`) and `../` stay inside it."""
    top = tempfile.mkdtemp(prefix="diffi-fuzz-")
    work = os.path.join(top, "a", "b")
    os.makedirs(os.path.join(work, "dir"))
    files = {"data.csv": "a,b\n1,2\n3,4\n", "text.csv": "a,b\nx,y\n", "empty.csv": "",
             "ragged.csv": "a,b\n1,2\n3\n", "../data.csv": "a\n1\n"}
    for name, text in files.items():
        with open(os.path.join(work, name), "w", encoding="utf-8") as handle:
            handle.write(text)
    with open(os.path.join(work, "latin1.csv"), "wb") as handle:
        handle.write(b"a\n\xe9\n")
    with open(os.path.join(work, "binary.csv"), "wb") as handle:
        handle.write(b"a\n1\x00\x01" + CANARY.encode() + b"\n")
    for folder in (work, top):  # one in the worker's folder, one outside it
        with open(os.path.join(folder, "secret.csv"), "w", encoding="utf-8") as handle:
            handle.write(SECRET)
    # links that lead out of the worker's folder (files="." must not follow them)
    os.symlink(os.path.join(top, "secret.csv"), os.path.join(work, "link.csv"))
    os.symlink("/etc", os.path.join(work, "linkdir"))
    return work


FRAME = re.compile(r'File "([^"]+)", line (\d+) in (\S+)')


def frame_from_dump(text: str, package: str | None) -> str:
    """The diffi frame of faulthandler's last dump in `text` that names the cause: the
    innermost one, or for a deep stack (runaway recursion) the function repeated most."""
    dumps = re.split(r"(?:Thread 0x[0-9a-f]+|Current thread 0x[0-9a-f]+|Fatal Python error)", text)
    for dump in reversed(dumps):
        frames = [(short_path(path, package), line, func) for path, line, func in FRAME.findall(dump)]
        frames = [f for f in frames if f[0]]
        if not frames:
            continue
        if len(frames) >= 40:
            counts: dict = {}
            for name, line, func in frames:
                counts[(name, line, func)] = counts.get((name, line, func), 0) + 1
            name, line, func = max(counts, key=lambda k: counts[k])
            return f"{name}:{line} in {func} (recursing)"
        name, line, func = frames[0]
        return f"{name}:{line} in {func}"
    return ""


def short_path(path: str, package: str | None) -> str:
    """diffi/x.py for a file of the diffi package, else ''."""
    parts = Path(path).parts
    if "diffi" in parts and "tests" not in parts and "bench" not in parts:
        i = len(parts) - 1 - parts[::-1].index("diffi")
        return "/".join(parts[i:])
    return ""


class Pool:
    """Workers that run cases, at most `jobs` at a time, replacing any that fail hard."""

    def __init__(self, jobs: int = 2, memory: int = MEMORY_CAP, fresh: bool = False,
                 margin: float = 3.0, limit: float | None = None):
        self.jobs = max(1, jobs)
        self.limit = limit  # a fixed watchdog for every case, instead of watchdog()
        self.memory = memory
        self.fresh = fresh
        self.margin = margin
        self.workdir = make_workdir()
        self.idle: list[Worker] = []
        self.package = diffi_path()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        for worker in self.idle:
            worker.finish()
        self.idle = []
        import shutil  # the workers' folder (what graph … to wrote), now nobody's
        shutil.rmtree(os.path.dirname(os.path.dirname(self.workdir)), ignore_errors=True)

    def worker(self) -> Worker:
        return self.idle.pop() if self.idle else Worker(self.memory, self.workdir)

    def check(self, case: Case) -> Outcome:
        return next(iter(self.run([case])))[1]

    def run(self, cases):
        """Yield (case, outcome) for every case, in the order they finish."""
        pending = list(cases)[::-1]
        busy: dict[int, Worker] = {}
        retried: set = set()  # cases sent again after a worker was spent
        while pending or busy:
            while pending and len(busy) < self.jobs:
                case = pending.pop()
                w = Worker(self.memory, self.workdir) if id(case) in retried else self.worker()
                w.send(case, self.limit or watchdog(case, self.margin))
                busy[w.from_child] = w
            now = time.monotonic()
            wait = max(0.0, min(w.deadline for w in busy.values()) - now)
            ready, _, _ = select.select(list(busy), [], [], wait)
            for fd in ready:
                w = busy[fd]
                result = w.read()
                if result is False:
                    continue
                del busy[fd]
                if result is not None and result.get("spent"):
                    # a long-lived worker's address space (its cap) has no room left for
                    # the harness's own thread: the case is not at fault, and runs again
                    # in a fresh worker (a fresh one that is spent too is a finding)
                    w.stop()
                    if id(w.case) not in retried:
                        retried.add(id(w.case))
                        pending.append(w.case)
                        continue
                    outcome = Outcome("memory", "RuntimeError",
                                      "a fresh worker had no room for its watchdog thread")
                elif result is None:  # the worker died
                    outcome = self.died(w)
                else:
                    restart = result.pop("restart", False)
                    outcome = Outcome(**result)
                    if self.fresh or restart:
                        code, maxrss = w.finish() if self.fresh else w.stop()
                        outcome.maxrss = max(outcome.maxrss, maxrss)
                    else:
                        self.idle.append(w)
                outcome.seconds = round(time.monotonic() - w.started, 3)
                yield w.case, outcome
            now = time.monotonic()
            for fd, w in list(busy.items()):
                if now >= w.deadline:
                    del busy[fd]
                    time.sleep(0.3)  # let faulthandler's dump (due just before) land
                    code, maxrss = w.stop()
                    limit = self.limit or watchdog(w.case, self.margin)
                    outcome = Outcome("hang", "watchdog", f"no answer within {limit:.1f} s",
                                      frame_from_dump(w.stderr_tail(), self.package),
                                      seconds=round(now - w.started, 3), maxrss=maxrss)
                    yield w.case, outcome

    def died(self, w: Worker) -> Outcome:
        code, maxrss = w.stop()  # (not poll(): wait4 must reap it, to read its peak memory)
        tail = w.stderr_tail()
        if code is not None and code < 0:
            name = signal.Signals(-code).name
            cls = "crash"
        else:
            name = f"exit {code}"
            cls = "memory" if "MemoryError" in tail else "crash"
        return Outcome(cls, name, f"worker ended ({name}) without reporting",
                       frame_from_dump(tail, self.package), maxrss=maxrss,
                       detail=tail[-2000:])


# ---------------------------------------------------------------------------------------
# The worker side (runs in the child process)

def _spend_once() -> None:
    """(For the harness's own test: the worker whose DIFFI_FUZZ_SPEND file exists, the
    first one to see it, behaves as one with no room for its watchdog thread.)"""
    marker = os.environ.get("DIFFI_FUZZ_SPEND")
    if marker:
        try:
            os.remove(marker)
        except FileNotFoundError:
            return
        raise RuntimeError("unable to start watchdog thread")


def _worker_main(fd_in: int, fd_out: int, memory: int) -> None:
    import faulthandler
    import gc
    import resource
    if memory:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    import numpy as np
    import diffi
    package = os.path.dirname(diffi.__file__)
    reader = os.fdopen(fd_in, "r", encoding="utf-8")
    writer = os.fdopen(fd_out, "w", encoding="utf-8")
    top = os.environ.get("DIFFI_FUZZ_SANDBOX") or os.getcwd()
    blocked = _sandbox(top)
    SECRETS.extend(_secrets())
    diffi.Interpreter().run("1")  # the parser's cache is written and read now, not in a case
    watch = _watch_reads(top, os.getcwd())
    recursion = sys.getrecursionlimit()
    thresholds = gc.get_threshold()
    faulthandler.enable(file=sys.stderr, all_threads=False)
    for line in reader:
        data = json.loads(line)
        os.ftruncate(2, 0)
        os.lseek(2, 0, os.SEEK_SET)
        try:
            _spend_once()
            faulthandler.dump_traceback_later(max(0.2, data.pop("watchdog") - 0.2),
                                              exit=False)
        except RuntimeError:  # no room left for the watchdog's thread: a spent worker
            writer.write(json.dumps({"spent": True}) + "\n")  # (the case runs elsewhere)
            writer.flush()
            return
        sys.setrecursionlimit(recursion)
        gc.set_threshold(*thresholds)
        started = time.perf_counter()
        case = Case.from_json(data)
        watch.allow(case.limits.get("files", False))
        try:
            result = _run_case(case, diffi, np, package)
        except MemoryError:
            result = {"cls": "memory", "type": "MemoryError", "message": "in the worker"}
        watch.allow(True)
        faulthandler.cancel_dump_traceback_later()
        if watch.escapes and SEVERITY[result["cls"]] > SEVERITY["file-escape"]:
            result.update(cls="file-escape", detail=f"opened {', '.join(watch.escapes[:3])} "
                                                    f"with files={case.limits.get('files', False)!r}")
        watch.escapes.clear()
        if result["cls"] == "ok" and (sys.getrecursionlimit() != recursion
                                      or gc.get_threshold() != thresholds):
            result.update(cls="global-state", detail=(
                f"recursion limit {recursion} -> {sys.getrecursionlimit()}, "
                f"gc thresholds {thresholds} -> {gc.get_threshold()}; "
                + result.get("detail", "")).rstrip("; "))
        result["seconds"] = round(time.perf_counter() - started, 3)
        import resource as r
        result["maxrss"] = r.getrusage(r.RUSAGE_SELF).ru_maxrss
        if blocked:
            result["detail"] = (result.get("detail", "") + f" [the sandbox refused: "
                                f"{', '.join(blocked[:3])}]").strip()
            blocked.clear()
        if result["cls"] == "memory":
            result["restart"] = True
        writer.write(json.dumps(result) + "\n")
        writer.flush()


class _Reads:
    """Which files a case may open under its `files` setting, and those it opened that
    it may not: inside the fuzzing folder but outside what is allowed, or one of the
    system files READ_FILES names. (Python's own imports, NumPy's libraries and
    /proc/self/statm are neither, so they pass unseen.)"""

    def __init__(self, top: str, workdir: str):
        self.top = os.path.realpath(top)
        self.workdir = os.path.realpath(workdir)
        self.forbidden = {os.path.realpath(p) for p in READ_FILES if p.startswith("/")}
        self.forbidden |= {os.path.realpath(f"/proc/{os.getpid()}/status")}
        self.allowed = True
        self.escapes: list = []

    def allow(self, files) -> None:
        self.allowed = True if files is True else self.workdir if files == "." else False

    def opened(self, path) -> None:
        if self.allowed is True or isinstance(path, int):
            return
        try:
            real = os.path.realpath(os.fsdecode(path))
        except (TypeError, ValueError):
            return
        inside_top = real == self.top or real.startswith(self.top + os.sep)
        inside_allowed = isinstance(self.allowed, str) and (
            real == self.allowed or real.startswith(self.allowed + os.sep))
        if (inside_top or real in self.forbidden) and not inside_allowed:
            self.escapes.append(repr(real))


def _watch_reads(top: str, workdir: str) -> _Reads:
    reads = _Reads(top, workdir)

    def hook(event: str, args: tuple) -> None:
        if event == "open" and args:
            reads.opened(args[0])

    sys.addaudithook(hook)
    return reads


def _secrets() -> list[str]:
    """What no message may quote: the canary, and the first line of /etc/passwd."""
    found = [CANARY]
    try:
        with open("/etc/passwd", encoding="utf-8", errors="replace") as handle:
            first = handle.readline().strip()
        if len(first) >= 8:
            found.append(first)
    except OSError:
        pass
    return found


SECRETS: list = []


def _sandbox(folder: str) -> list:
    """Refuse, from now on, every file change outside `folder` (and /dev/null), and every
    new process; return the list the refusals are noted in.

    Workers may run as root, and `graph E to "/etc/passwd"` (files are on by default)
    would overwrite it: an early run of this fuzzer did just that to /etc/passwd and
    /bin/sh. diffi touches files only through Python, so an audit hook sees every
    attempt; the refusal is a PermissionError, which diffi reports as a DiffiError.
    """
    import errno
    top = os.path.realpath(folder)
    refused: list = []
    writes = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
    changes = {"os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.chmod", "os.chown",
               "os.truncate", "os.link", "os.symlink", "os.utime", "shutil.rmtree",
               "shutil.move", "shutil.copyfile", "os.replace"}
    spawns = {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn",
              "os.fork", "os.forkpty", "pty.spawn"}

    def inside(path) -> bool:
        if isinstance(path, int):
            return True  # an open file descriptor (the worker's own pipes)
        try:
            real = os.path.realpath(os.fsdecode(path))
        except (TypeError, ValueError):
            return False
        return real == top or real.startswith(top + os.sep) or real == os.devnull

    def refuse(what: str):
        refused.append(what)
        raise PermissionError(errno.EACCES, "refused by the fuzzer's sandbox", what)

    def hook(event: str, args: tuple) -> None:
        if event == "open":
            path, mode, flags = (tuple(args) + (None, None, None))[:3]
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & writes)
            if writing and not inside(path):
                refuse(f"open {path!r} for writing")
        elif event in changes:
            for path in args:
                if isinstance(path, (str, bytes, os.PathLike)) and not inside(path):
                    refuse(f"{event} {path!r}")
        elif event in spawns:
            refuse(f"{event}")

    sys.addaudithook(hook)
    return refused


def _innermost_frame(error: BaseException, package: str) -> str:
    """The innermost frame inside diffi of the error or of what caused it."""
    seen, chain, e = set(), [], error
    while e is not None and id(e) not in seen and len(chain) < 6:
        seen.add(id(e))
        chain.append(e)
        e = e.__cause__ or e.__context__
    for e in reversed(chain):  # the original error first
        found, tb = "", e.__traceback__
        while tb is not None:
            path = tb.tb_frame.f_code.co_filename
            if path.startswith(package):
                found = (f"diffi/{os.path.relpath(path, package)}:{tb.tb_lineno} in "
                         f"{tb.tb_frame.f_code.co_name}")
            tb = tb.tb_next
        if found:
            return found
    return ""


def _classify_error(error: BaseException, source: str | None, diffi, package: str,
                    api: bool, earlier=()) -> dict:
    name = type(error).__name__
    frame = _innermost_frame(error, package)
    if isinstance(error, MemoryError):
        return dict(cls="memory", type=name, message=str(error)[:300], frame=frame)
    if not isinstance(error, diffi.DiffiError):
        message = str(error)[:300] if not isinstance(error, RecursionError) else "maximum recursion depth"
        return dict(cls="foreign-exception", type=name, message=message, frame=frame)
    message = error.message if isinstance(getattr(error, "message", None), str) else str(error)
    out = dict(type=name, message=message[:300], frame=frame, line=error.line, column=error.column)
    if "internal error" in message.lower():
        return dict(out, cls="internal-error")
    quoted = [secret for secret in SECRETS if secret in message]
    if quoted:
        return dict(out, cls="file-leak", detail=f"the message quotes {quoted[0][:40]!r}")
    if isinstance(error, diffi.LimitError) and "out of memory" in message:
        return dict(out, cls="memory")
    problem = _position_problem(error, source, api, earlier)
    try:  # drawing the error must work too
        str(error)
        drawn = error.render()
    except Exception as failure:  # noqa: BLE001
        return dict(out, cls="foreign-exception", type=type(failure).__name__,
                    message=f"render() failed: {failure}"[:300],
                    frame=_innermost_frame(failure, package))
    if not problem and not api:
        problem = _drawn_problem(error, drawn)
    if problem:
        return dict(out, cls="bad-position", detail=problem)
    if len(message) > LONG_MESSAGE:
        return dict(out, cls="long-message", detail=f"{len(message)} characters")
    return dict(out, cls="ok")


SPLITLINES_BREAKS = "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"  # str.splitlines' other line ends


def _position_problem(error, source: str | None, api: bool, earlier=()) -> str:
    """What is wrong with the error's .line/.column, as '[tag] detail' (or '')."""
    line, column = error.line, error.column
    if not isinstance(line, int) or not isinstance(column, int) or line < 1 or column < 1:
        return f"[not a position] line {line!r}, column {column!r}"
    text = error.source if isinstance(error.source, str) else source
    if text is None:
        return "" if api or (line, column) == (1, 1) else f"[no source] line {line}"
    lines = text.split("\n")
    if line > len(lines):
        if any(line <= s.count("\n") + 1 for s in earlier):
            return (f"[span of an earlier run] line {line} of a source of {len(lines)} lines "
                    f"(an earlier run() has that line)")
        odd = _odd_breaks(text)
        tag = "[a line counted by str.splitlines]" if odd else "[beyond the source]"
        return f"{tag} line {line} of a source of {len(lines)} lines (which has {odd or 'no odd breaks'})"
    if column > len(lines[line - 1]) + 1:
        if any(line <= s.count("\n") + 1 and column <= len(s.split("\n")[line - 1]) + 1
               for s in earlier):
            return (f"[span of an earlier run] column {column} of line {line}, which has "
                    f"{len(lines[line - 1])} characters (an earlier run() has that column)")
        return (f"[beyond the line] column {column} of line {line}, which has "
                f"{len(lines[line - 1])} characters")
    return ""


def _odd_breaks(text: str) -> str:
    """The characters other than \\n that str.splitlines() ends lines at, found in text."""
    text = text.replace("\r\n", "\n")
    return " ".join(repr(c) for c in SPLITLINES_BREAKS if c in text)


def _drawn_problem(error, drawn: str) -> str:
    """The line render() draws must be the line the error names (lines end at \\n)."""
    if error.span is None or not isinstance(error.source, str):
        return ""
    line = error.line
    expected = error.source.split("\n")[line - 1].rstrip("\r")
    odd = _odd_breaks("\n".join(error.source.split("\n")[:line]))
    tag = "[render() splits lines where the lexer does not]" if odd else "[render() draws another line]"
    match = re.search(rf"^{line} \| (.*)$", drawn, flags=re.M)
    if match is None:
        return f"{tag} render() draws no line for line {line} (the source has {odd})"
    shown = drawn.split("\n")[drawn[:match.start()].count("\n")][len(f"{line} | "):]
    if shown != expected:
        return (f"{tag} render() draws {shown[:60]!r} for line {line}, which is {expected[:60]!r} "
                f"(the source has {odd})")
    return ""


def _fingerprint(it) -> dict:
    """Every binding of a session as something comparable."""
    import hashlib
    out = {}
    for name in it.names():
        try:
            value = it[name]
        except Exception as error:  # noqa: BLE001
            out[name] = f"<{type(error).__name__}>"
            continue
        if hasattr(value, "tobytes"):
            out[name] = (getattr(value, "shape", None), hashlib.sha1(value.tobytes()).hexdigest())
        else:
            out[name] = repr(value) if not callable(value) else str(value)
    return out


def _run_case(case: Case, diffi, np, package: str) -> dict:
    if case.api is not None:
        it = diffi.Interpreter(output=lambda text: None, warn=lambda m, s: None, **case.limits)
        try:
            exec(case.api, {"diffi": diffi, "it": it, "np": np})
        except BaseException as error:  # noqa: BLE001
            return _classify_error(error, None, diffi, package, api=True)
        return dict(cls="ok")
    printed = []
    it = diffi.Interpreter(output=lambda text: printed.append(len(text)) if len(printed) < 10_000 else None,
                           warn=lambda message, span: None, **case.limits)
    for i, source in enumerate(case.runs):
        last = i == len(case.runs) - 1
        before = _fingerprint(it) if last and case.rollback else None
        try:
            values = it.run(source)
            shown = repr(values)
        except BaseException as error:  # noqa: BLE001
            result = _classify_error(error, source, diffi, package, api=False,
                                     earlier=case.runs[:i])
            result["run"] = i
            if result["cls"] != "ok":
                return result
            if before is not None:
                after = _fingerprint(it)
                if after != before:
                    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
                    return dict(result, cls="rollback",
                                detail=f"the failing statement changed {', '.join(changed)}")
            if not last:
                continue
            return result
    return dict(cls="ok", detail=f"values {shown[:200]}")


# ---------------------------------------------------------------------------------------
# Minimising

def same_failure(a: Outcome, b: Outcome) -> bool:
    return a.cls == b.cls and a.type == b.type and (a.frame == b.frame or not a.frame)


def pieces(source: str) -> list[str]:
    """Tokens with the whitespace before each attached, so that deleting one never
    joins its neighbours into a new token."""
    out, pending = [], ""
    for tok in tokens(source):
        if tok.isspace() and "\n" not in tok:
            pending += tok
        else:
            out.append(pending + tok)
            pending = ""
    if pending:
        out.append(pending)
    return out


def minimise(pool: Pool, case: Case, outcome: Outcome, tries: int = 200) -> Case:
    """Drop runs, then delete tokens (in halving chunks), while the case fails the same way."""
    if case.api is not None or sum(len(s) for s in case.runs) > 4000:
        return case
    if outcome.cls in ("hang", "crash", "memory"):
        tries = min(tries, 12)
    runs = list(case.runs)
    budget = [tries]

    def fails(candidate_runs) -> bool:
        budget[0] -= 1
        candidate = Case(case.kind, candidate_runs, case.limits, label=case.label,
                         rollback=case.rollback)
        return same_failure(outcome, pool.check(candidate))

    i = 0
    while len(runs) > 1 and i < len(runs) - 1 and budget[0] > 0:  # the last run stays
        if fails(runs[:i] + runs[i + 1:]):
            del runs[i]
        else:
            i += 1
    for r in range(len(runs)):
        toks = pieces(runs[r])
        chunk = max(1, len(toks) // 2)
        while chunk >= 1 and budget[0] > 0:
            i, shrunk = 0, False
            while i < len(toks) and budget[0] > 0:
                trial = toks[:i] + toks[i + chunk:]
                if trial and fails(runs[:r] + ["".join(trial)] + runs[r + 1:]):
                    toks, shrunk = trial, True
                else:
                    i += chunk
            if not shrunk:
                chunk //= 2
        runs[r] = "".join(toks)
    return Case(case.kind, runs, case.limits, label=case.label, rollback=case.rollback)


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "--worker":
        sys.path.remove(str(Path(__file__).resolve().parent)) if str(Path(__file__).resolve().parent) in sys.path else None
        _worker_main(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]) if len(sys.argv) > 4 else MEMORY_CAP)
    elif len(sys.argv) >= 3 and sys.argv[1] == "--show":
        seed = int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else 0
        count = int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[3].isdigit() else 5
        gen = Generator(seed)
        for c in gen.cases(sys.argv[2], count):
            print(f"--- {c.kind} {c.label} {c.limits}")
            print(c.text()[:2000])
    else:
        print(__doc__)
