"""Help topics for `:help`: directives, keywords, built-ins and `:` commands, each with an example.

Built-in topics are derived from the built-ins' own signature and doc, so a new built-in
gets help (and a tested example) without an edit here. Examples are diffi source or `:`
command lines; commands.py runs them to show their real output, and
tests/frontends/test_topics.py runs every one of them.
"""
from __future__ import annotations

import difflib
import functools
import textwrap
from dataclasses import dataclass

from ..core.library import BUILTINS, SPELLINGS
from ..core.values import Builtin
from ..language import vocabulary
from ..language.hints import edit_distance


@dataclass(frozen=True)
class Topic:
    """One help topic: how to write it, what it does, and an example to run."""

    name: str
    kind: str                        # directive, keyword, guide, built-in, constant or command
    signature: str
    summary: str
    details: str = ""
    example: tuple[str, ...] = ()
    files: tuple[tuple[str, str], ...] = ()  # (name, text) the example reads


def _topic(name, kind, signature, summary, example, details="", files=()) -> Topic:
    return Topic(name, kind, signature, summary, textwrap.dedent(details).strip(),
                 tuple(example), tuple(files))


DIRECTIVES = [
    _topic("d/dx", "directive", "d/dx E [at x = …] [using MODE]",
           "the derivative of E with respect to x (forward mode by default)",
           ["d/dx x^2*sin(x) at x = 2", "d/dx x^3", "d3/dx3 x^5 at x = 1",
            "f(x) = x^2; df = d/dx f; df(3)"], """
           Higher orders are exact: d2/dx2 E, d3/dx3 E, … (d2/dx1^2 for a name ending
           in a digit). Without `at`, bound names use their values; when x is unbound
           the result is a formula. d/dx f of a function is a function.
           The board's spellings work too: d^2/dx^2 E and d²/dx² E, ∂/∂x E, d/dx d/dy E
           (d/dx of d/dy E), and for a name f: ∂f/∂x, d²f/dx², df/dx at …
           (:help notation)."""),
    _topic("grad", "directive", "grad E wrt x, y [at …] [using MODE]   |   grad f [at (…)]",
           "the gradient by reverse mode: the partials in `wrt` order (parameter order for f)",
           ["f(x, y) = x*y + sin(x)", "grad f at (3, 0)",
            "grad x^2*y wrt x, y at x = 1, y = 2"], """
           With respect to tensors it is a tuple of gradients, each the shape of its
           variable: dW, dV = grad L wrt W, V."""),
    _topic("backprop", "directive", "backprop E wrt x, y [at …]",
           "the gradient with its trace: forward values, then backward adjoints, "
           "labelled with your names",
           ["w = 2; x = 3", "y = sin(w*x)", "backprop y wrt w, x"]),
    _topic("hessian", "directive", "hessian E wrt x, y [at …] [using MODE]",
           "the matrix of second derivatives (forward over reverse; by tensors, "
           "differences of the exact gradient)",
           ["hessian x^2*y wrt x, y at x = 1, y = 2"]),
    _topic("jacobian", "directive", "jacobian E wrt x, y [at …] [using MODE]",
           "the matrix of first derivatives of a vector-valued E",
           ["jacobian [x*y, x + y] wrt x, y at x = 1, y = 2"],
           "Forward or reverse mode, whichever needs fewer passes."),
    _topic("check", "directive", "check E wrt x, y [at …]",
           "forward, reverse, numeric and symbolic derivatives side by side, "
           "with their largest difference",
           ["check x^2*sin(x) wrt x at x = 2"],
           "A script that runs a failing check exits with status 1."),
    _topic("explain", "directive", "explain D   (D: any directive)",
           "D's result and its step-by-step trace (tangents, adjoints, steps or rules)",
           ["explain d/dx x^2*sin(x) at x = 2"],
           "It also warns about non-differentiable points (abs, relu, max at a tie)."),
    _topic("graph", "directive", 'graph E [to "file.dot"]',
           "the computation graph of E: text here, Graphviz DOT (or SVG/PNG) in a file",
           ["a = 2; b = a*3 + 1", "graph b"]),
    _topic("minimize", "directive",
           "minimize L wrt W, V using "
           + " | ".join(f"{name}(…)" for name in vocabulary.OPTIMIZERS),
           "trains: updates the named variables in place by reverse-mode gradients",
           ["w = 0", "minimize (w - 3)^2 wrt w using gd(rate = 0.1, steps = 100)", "w"],
           "Ctrl-C stops it early and keeps the weights of the last completed step."),
    _topic("latex", "directive", "latex E",
           "E, or the result of a directive such as d/dx E, written as LaTeX",
           ["latex x^2/(1 + x^2)", "latex d/dx x^2*sin(x)"]),
    _topic("taylor", "directive", "taylor E at x = a order n",
           "the Taylor polynomial of E about a, a function of x that prints as its formula",
           ["p = taylor exp(x) at x = 0 order 3", "p(0.1)"]),
    _topic("tangent", "directive", "tangent f at a | tangent E at x = a",
           "the tangent line of a function of one variable at a, a function",
           ["f(x) = x^2", "tangent f at 1"]),
    _topic("plot", "directive", 'plot E1, E2, … from a to b [to "file.png"] | plot losses',
           "the curves in the terminal (braille), or to a .png/.svg file with matplotlib",
           ["plot sin(x), d/dx sin(x) from -3 to 3"]),
]

GUIDES = [
    _topic("notation", "guide", "ln  σ  ∂/∂x  d²/dx²  df/dx at …  x²  a₅  ·  ×  −  y = a = E",
           "the lecture's notation that diffi reads, and the errors that name the rest",
           ["ln(e) + σ(0)", "∂/∂y x^2*y^3 at x = 1, y = 2", "d²/dx² x^4 at x = 1",
            "f(x, y) = x*y + sin(x)", "df/dx at (3, 0)", "w1 = 2; x = 3; w1·x − x²",
            "y1 = a6 = sin(1)"], """
           Read as written: · and × are *, ÷ is /, − is -, ≤ ≥ ≠ are <= >= !=; x² is x^2;
           a₅ is the name a5; x̄ and ẋ are names (as the tables print them).
           Names: ln (log), σ (sigmoid), arcsin, arccos, arctan, sgn (sign).
           Derivatives: d^2/dx^2 E, d²/dx² E, ∂/∂x E, ∂²/∂x∂y E, and for a name f:
           ∂f/∂x, d²f/dx², df/dx at … (a bare df/dx divides df by dx).
           Prime notation f'(x), f''(x) is read for a function of one variable.
           Errors name the diffi spelling of Wᵀ, W^T, W', W.T (transpose(W)),
           sin x, x y, |x|, √x, ∇f, for, while, return and def."""),
]

KEYWORDS = [
    _topic("at", "keyword", "… at x = 3, y = 0   |   … at (3, 0)",
           "the point: names bound by name, or a function's parameters by position",
           ["f(x, y) = x*y", "d/dx f(x, y) at x = 3, y = 2", "grad f at (3, 2)"]),
    _topic("wrt", "keyword", "… wrt x, y",
           "the variables to differentiate with respect to, in the result's order",
           ["grad x*y^2 wrt y, x at x = 1, y = 2"]),
    _topic("using", "keyword", "… using " + " | ".join(vocabulary.MODES),
           "how a directive differentiates",
           ["d/dx exp(x) at x = 1 using symbolic",
            'd/dx exp(x) at x = 1 using numeric(method = "richardson")'],
           "numeric takes options: step = 1e-6, method = "
           + " | ".join(f'"{m}"' for m in vocabulary.NUMERIC_METHODS) + "."),
    _topic("if", "keyword", "if C then A else B",
           "an expression; its derivative is that of the branch taken",
           ["relu2(x) = if x > 0 then x^2 else 0", "d/dx relu2(x) at x = 3"]),
]

COMMANDS = [
    _topic(":help", "command", ":help [TOPIC]",
           "an overview, or help on a directive, built-in, keyword or command",
           [":help hypot"]),
    _topic(":vars", "command", ":vars",
           "the names defined so far, with their kinds, shapes and values",
           ["x = 3; v = [1, 2]; f(t) = t^2", ":vars"]),
    _topic(":load", "command", ":load FILE",
           "run a script in this session; its names stay defined",
           [":load model.dfi", "loss(1)"],
           files=[("model.dfi", "w = 2\nloss(x) = (w*x - 1)^2\n")]),
    _topic(":reset", "command", ":reset", "forget every name defined in this session",
           ["x = 3", ":reset", ":vars"]),
    _topic(":precision", "command", ":precision [N]",
           "print numbers with N significant digits (1 to 17, 15 at start); "
           "without N, show it",
           [":precision 4", "pi", ":precision 15", "pi"]),
    _topic(":format", "command", ":format [text | latex]",
           "show results as diffi prints them (text, at start) or as LaTeX; "
           "without an argument, show which",
           [":format latex", "d/dx x^2*sin(x)", "[1, 0.5]", ":format text", "d/dx x^3"]),
    _topic(":threshold", "command", ":threshold [N | off]",
           "print tensors of more than N elements summarised (1000 at start); off prints "
           "them whole; without N, show it",
           [":threshold 5", "linspace(0, 1, 11)", ":threshold off", "linspace(0, 1, 11)"],
           "A summary keeps the first and last 3 elements of each long axis, with … "
           "between.\nprint(A, full = true) prints one value whole whatever the setting."),
    _topic(":quit", "command", ":quit", "leave the REPL (Ctrl-D does too)", [":quit"]),
]

CONSTANT_DOCS = {
    "pi": "π, the ratio of a circle's circumference to its diameter",
    "π": "π, the ratio of a circle's circumference to its diameter",
    "e": "Euler's number, the base of natural logarithms",
    "inf": "positive infinity (IEEE); 1/0 gives it too",
    "nan": "not a number (IEEE); log(-1) gives it",
    "true": "the boolean true, as comparisons give",
    "false": "the boolean false, as comparisons give",
}

# Sample arguments by parameter name (as the signatures write them), then by position.
SAMPLES = {"x": "0.5", "y": "2", "a": "0.5", "b": "2", "A": "[[1, 2], [3, 4]]",
           "U": "[1, 2, 3]", "m": "2", "n": "2", "k": "1", "axis": "0",
           "labels": "[0, 2, 1]", "classes": "3"}
ARGUMENTS = ("0.5", "2", "3", "4", "5")
# Built-ins whose derived example would not show them well, and files examples read.
BUILTIN_EXAMPLES = {
    "print": ['print("x is", 2)'],
    "max": ["max([1, 5, 3])", "max(0.5, 2)", "d/dx max(x, 2) at x = 2"],
    "min": ["min([1, 5, 3])", "min(0.5, 2)", "d/dx min(x, 2) at x = 2"],
    "norm": ["norm([3, 4])", "grad norm(v) wrt v at v = [3, 4]"],
    "dot": ["dot([1, 2, 3], [4, 5, 6])"],
    "reshape": ["reshape([1, 2, 3, 4, 5, 6], 2, 3)"],
    "concat": ["concat([1, 2], [3])"],
    "vstack": ["vstack([1, 2], [3, 4])"],
    "hstack": ["hstack([1, 2], [3])"],
    "linspace": ["linspace(0, 1, 5)"],
    "randn": ["seed(1)", "randn(2, 3)"],
    "seed": ["seed(7); a = randn(2)", "seed(7); b = randn(2)", "a == b"],
    "load": ['load("data.csv")'],
    "save": ['save("w.csv", [[1, 0.5], [2, 1e-3]])', 'load("w.csv")'],
}
BUILTIN_FILES = {"load": (("data.csv", "x,y\n1,2\n3,4\n"),)}
ALIASES = {"derivative": "d/dx", "d": "d/dx", "then": "if", "else": "if",
           "help": ":help", "quit": ":quit", "q": ":quit", ":q": ":quit", ":exit": ":quit"}


def _parameters(signature: str) -> list[str]:
    inside = signature.partition("(")[2].rpartition(")")[0]
    return [p.strip() for p in inside.split(",") if p.strip()]


def builtin_example(name: str, fn: Builtin) -> list[str]:
    """A call at sample points, and its derivative when the built-in is one graph operation."""
    if name in BUILTIN_EXAMPLES:
        return BUILTIN_EXAMPLES[name]
    params = _parameters(fn.signature)
    values = [SAMPLES.get(p, ARGUMENTS[i % len(ARGUMENTS)]) for i, p in enumerate(params)]
    lines = [f"{name}({', '.join(values)})"]
    if fn.primitive is not None and len(params) == 1:
        lines.append(f"d/d{params[0]} {fn.signature} at {params[0]} = {values[0]}")
    elif fn.primitive is not None and params:
        point = ", ".join(f"{p} = {v}" for p, v in zip(params, values))
        lines.append(f"grad {fn.signature} wrt {', '.join(params)} at {point}")
    return lines


def builtin_topic(name: str, node) -> Topic:
    """The topic of a built-in function or constant, from its own signature and doc."""
    fn = node.value
    if isinstance(fn, Builtin):
        return Topic(name, "built-in", fn.signature, fn.doc,
                     example=tuple(builtin_example(name, fn)), files=BUILTIN_FILES.get(name, ()))
    return Topic(name, "constant", name, CONSTANT_DOCS.get(name, "a predefined constant"),
                 example=(name,))


@functools.cache
def topics() -> dict[str, Topic]:
    """Every topic by name: directives, keywords, commands, then built-ins."""
    found = {t.name: t for t in DIRECTIVES + KEYWORDS + GUIDES + COMMANDS}
    for name, node in BUILTINS.items():
        found.setdefault(name, builtin_topic(name, node))
    return found


def canonical(name: str) -> str:
    """The topic name that `:help NAME` means: d2/dx2 → d/dx, load → :load, …"""
    name = name.strip()
    if is_derivative(name):
        return "d/dx"
    name = ALIASES.get(name, name)
    if name not in topics() and ":" + name in {t.name for t in COMMANDS}:
        return ":" + name
    return name


def is_derivative(text: str) -> bool:
    """`d/dx`, `d2/dx2`, `∂/∂x`, `∂f/∂x`, `d²y/dx²`: any spelling of a derivative."""
    if vocabulary.DERIVATIVE_RE.fullmatch(text):
        return True
    found = vocabulary.LEIBNIZ_RE.match(text + " at")  # `df/dx` is one only before `at` or `using`
    return found is not None and found.end() == len(text)


def lookup(name: str) -> Topic | None:
    """The topic for `:help NAME`, or None."""
    return topics().get(canonical(name))


def suggestions(name: str) -> list[str]:
    """Topic names that look like a misspelt one, judged as a name that is not defined is
    (so `:help inv` suggests nothing rather than sin), and a board word's built-in with
    its other names (`:help sigma`: sigmoid, logistic, σ)."""
    name = canonical(name)
    known = topics()
    spelled = vocabulary.SPELLED_OUT.get(name)
    if spelled in known:
        return [spelled, *(n for n in SPELLINGS.get(spelled, ()) if n in known)]
    limit = max(1, len(name) // 3)
    near = difflib.get_close_matches(name, list(known), n=5, cutoff=0.6)
    return [t for t in near if edit_distance(name, t) <= limit][:3]


def overview(width: int = 80) -> str:
    """The text of `:help` with no topic."""
    functions = [n for n, node in BUILTINS.items() if isinstance(node.value, Builtin)]
    constants = [n for n, node in BUILTINS.items() if not isinstance(node.value, Builtin)]
    rows = [("directives", [t.name for t in DIRECTIVES]),
            ("keywords", [t.name for t in KEYWORDS]),
            ("guides", [t.name for t in GUIDES]),
            ("commands", [t.name for t in COMMANDS]),
            ("built-ins", sorted(functions)),
            ("constants", constants)]
    listed = [_listing(label, names, width) for label, names in rows]
    return "\n".join([
        "diffi: a math language whose interpreter differentiates programs.",
        "",
        "  x = 3                      bind a name (prints nothing)",
        "  f(x, y) = x*y + sin(x)     define a function",
        "  f(x, 2)                    an expression prints its value",
        "  d/dx f(x, 2) at x = 1      differentiate: d/dx, grad, backprop, hessian, …",
        "",
        *listed,
        "",
        "keys: Tab completes · Ctrl-R searches history · Alt-Enter adds a line ·",
        "      Ctrl-C cancels · Ctrl-D quits",
        "Type :help TOPIC for any name above, e.g. :help grad, :help sin, :help :load",
    ])


def _listing(label: str, names: list[str], width: int) -> str:
    lines = textwrap.wrap("  ".join(names), width=max(40, width) - 12,
                          break_on_hyphens=False)
    return "\n".join(f"{label if i == 0 else '':<12}{line}" for i, line in enumerate(lines))
