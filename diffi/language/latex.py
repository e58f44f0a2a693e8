"""LaTeX for syntax trees: formulas as a paper writes them.

The conventions are SymPy's where they read well: `\\frac{a}{b}` for a quotient,
`\\left(`…`\\right)` around a function's argument and a group, `\\sin`, `\\log`,
`\\sqrt{x}`, `e^{x}` for exp, `\\sigma` for sigmoid, `\\left|x\\right|` for abs, a
power of a function on its name (`\\sin^{2}{\\left(x \\right)}`), juxtaposition for a
product (`2 x y`) and `\\cdot` where two numbers would meet. A name with trailing
digits gets them as a subscript (`x_{1}`), a Greek name its letter (`\\theta`).
Numbers print as diffi prints them (15 significant digits; `1.5 \\cdot 10^{-8}`).
"""
from __future__ import annotations

import math
import re

from . import syntax as S

# Functions LaTeX (or SymPy's printer) has a command for; the rest print upright.
COMMANDS = {name: "\\" + name for name in (
    "sin", "cos", "tan", "sinh", "cosh", "tanh", "log", "exp", "min", "max")}
COMMANDS.update({"asin": "\\operatorname{asin}", "acos": "\\operatorname{acos}",
                 "atan": "\\operatorname{atan}", "ln": "\\ln", "sigmoid": "\\sigma",
                 "logistic": "\\sigma", "σ": "\\sigma"})
GREEK = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi rho "
         "sigma tau upsilon phi chi psi omega").split()
_GREEK_LETTERS = dict(zip("αβγδεζηθικλμνξπρστυφχψω", GREEK))
_GREEK_LETTERS.update({"Γ": "Gamma", "Δ": "Delta", "Θ": "Theta", "Λ": "Lambda", "Ξ": "Xi",
                       "Π": "Pi", "Σ": "Sigma", "Φ": "Phi", "Ψ": "Psi", "Ω": "Omega"})
_RELATIONS = {"<": "<", "<=": "\\leq", ">": ">", ">=": "\\geq", "==": "=", "!=": "\\neq"}

# Precedence tiers, as in the syntax printer.
IF, OR, AND, NOT, COMPARE, ADD, MUL, UNARY, POW, POSTFIX, ATOM = (
    S.IF, S.OR, S.AND, S.NOT, S.COMPARE, S.ADD, S.MUL, S.UNARY, S.POW, S.POSTFIX, S.ATOM)


def to_latex(node) -> str:
    """LaTeX for an expression (a block prints its result, then `where` its parts)."""
    return _latex(node, S.DIRECTIVE)


def number(value: float) -> str:
    """A number as diffi prints it, in LaTeX: 6, 0.5, 1.5 \\cdot 10^{-8}, \\infty."""
    if value != value:
        return "\\text{NaN}"
    if math.isinf(value):
        return "\\infty" if value > 0 else "-\\infty"
    if value == 0:
        return "0"
    text = f"{value:.15g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        return f"{mantissa} \\cdot 10^{{{int(exponent)}}}"
    return text


_CONSTANTS = {"pi": "\\pi", "π": "\\pi", "inf": "\\infty", "nan": "\\text{NaN}"}


def name(text: str) -> str:
    """A diffi name in LaTeX: x, x_{1}, \\theta, \\sigma_{2}, w_{\\mathrm{out}}."""
    if text in _CONSTANTS:
        return _CONSTANTS[text]
    base, digits = re.match(r"(.*?)_?(\d*)$", text).groups()
    if not base:
        base, digits = text, ""
    head, _, tail = base.partition("_") if "_" in base.strip("_") else (base, "", "")
    sub = ",".join(part for part in (tail and _word(tail), digits) if part)
    return _word(head) + (f"_{{{sub}}}" if sub else "")


def _word(text: str) -> str:
    if text in GREEK:
        return "\\" + text
    if text in _GREEK_LETTERS:
        return "\\" + _GREEK_LETTERS[text]
    if len(text) > 1:
        letters = "".join("\\" + _GREEK_LETTERS[c] + " " if c in _GREEK_LETTERS else c
                          for c in text).strip().replace("_", "\\_")
        return "\\mathrm{" + letters + "}"
    return text


def _latex(node, context: int) -> str:
    text, precedence = _PRINTERS[type(node)](node)
    return f"\\left({text}\\right)" if precedence < context else text


def _num(node):
    text = number(node.value)
    return text, UNARY if text.startswith("-") else ATOM


def _binary(node):
    op = node.op
    if op in ("+", "-"):
        left = _latex(node.left, ADD)
        right = _latex(node.right, MUL if op == "-" else ADD)
        return f"{left} {op} {right}", ADD
    if op == "/":
        return f"\\frac{{{_latex(node.left, IF)}}}{{{_latex(node.right, IF)}}}", ATOM
    if op in ("*", "@"):
        return _product(node), MUL
    if op == "^":
        return _power(node), POW
    if op in _RELATIONS:
        return f"{_latex(node.left, ADD)} {_RELATIONS[op]} {_latex(node.right, ADD)}", COMPARE
    symbol = "\\wedge" if op == "and" else "\\vee"
    tier = AND if op == "and" else OR
    return f"{_latex(node.left, tier)} {symbol} {_latex(node.right, tier + 1)}", tier


def _product(node) -> str:
    """2 x \\sin{…}: juxtaposed, with \\cdot where a number or a sign follows."""
    left = _latex(node.left, MUL)
    right = _latex(node.right, MUL + 1)
    if right[:1] == "-":  # x (-y), not x -y: juxtaposed, a sign would read as a minus
        right = f"\\left({right}\\right)"
    joiner = " \\cdot " if right[:1].isdigit() else " "
    return left + joiner + right


def _power(node) -> str:
    exponent = _latex(node.right, IF)
    call = node.left
    if isinstance(call, S.Call) and _function_name(call) in COMMANDS \
            and _function_name(call) not in ("exp", "sigmoid", "logistic", "σ"):
        command = COMMANDS[_function_name(call)]  # \sin^{2}{\left(x \right)}
        return f"{command}^{{{exponent}}}{{\\left({_arguments(call)} \\right)}}"
    base = _latex(node.left, POSTFIX)
    if isinstance(node.left, S.Binary) and node.left.op == "/":
        base = f"\\left({base}\\right)"
    return f"{base}^{{{exponent}}}"


def _unary(node):
    if node.op == "not":
        return f"\\neg {_latex(node.operand, NOT)}", NOT
    return f"{node.op}{_latex(node.operand, POW)}", UNARY


def _function_name(call) -> str | None:
    return call.func.id if isinstance(call.func, S.Name) else None


def _arguments(call) -> str:
    parts = [_latex(a, IF) for a in call.args]
    parts += [f"{name(k.name)} = {_latex(k.value, IF)}" for k in call.keywords]
    return ", ".join(parts)


def _call(node):
    fn = _function_name(node)
    args = _arguments(node)
    if fn == "sqrt" and len(node.args) == 1:
        return f"\\sqrt{{{args}}}", ATOM
    if fn == "cbrt" and len(node.args) == 1:
        return f"\\sqrt[3]{{{args}}}", ATOM
    if fn == "exp" and len(node.args) == 1:
        return f"e^{{{args}}}", POW
    if fn == "abs" and len(node.args) == 1:
        return f"\\left|{args}\\right|", ATOM
    if fn in COMMANDS:
        return f"{COMMANDS[fn]}{{\\left({args} \\right)}}", POSTFIX
    head = name(fn) if fn and len(fn) == 1 else (
        f"\\operatorname{{{fn}}}" if fn and fn.isidentifier() and fn.isascii() else
        _latex(node.func, POSTFIX))
    return f"{head}{{\\left({args} \\right)}}", POSTFIX


def _index(node):
    items = [_slice(i) if isinstance(i, S.Slice) else _latex(i, IF) for i in node.items]
    return f"{_latex(node.target, ATOM)}_{{{','.join(items)}}}", POSTFIX


def _slice(node) -> str:
    parts = ["" if p is None else _latex(p, IF) for p in (node.start, node.stop, node.step)]
    return ":".join(parts[:2] if node.step is None else parts)


def _vector(node):
    """A vector as a row, a vector of vectors as a matrix (SymPy's bracketed matrix)."""
    rows = node.items
    if rows and all(isinstance(r, S.Vector) for r in rows):
        body = " \\\\ ".join(" & ".join(_latex(i, IF) for i in r.items) for r in rows)
    else:
        body = " & ".join(_latex(i, IF) for i in rows)
    return f"\\left[\\begin{{matrix}}{body}\\end{{matrix}}\\right]", ATOM


def _tuple(node):
    return "\\left(" + ", ".join(_latex(i, IF) for i in node.items) + "\\right)", ATOM


def _block(node):
    """The result, then `where` each named part: t_{1} = x^{2}, …"""
    parts = []
    for stmt in node.body:
        if isinstance(stmt, S.Assign):
            parts.append(f"{name(stmt.target.id)} = {_latex(stmt.value, IF)}")
    result = _latex(node.result, IF)
    if not parts:
        return result, IF
    return f"{result} \\quad \\text{{where }} " + ", \\; ".join(parts), S.DIRECTIVE


def _if_else(node):
    return ("\\begin{cases} " + f"{_latex(node.then, IF)} & \\text{{if }} "
            f"{_latex(node.cond, IF)} \\\\ {_latex(node.other, IF)} & \\text{{otherwise}}"
            " \\end{cases}"), ATOM


def _literal(node):
    value = node.value
    if isinstance(value, float):
        return _num(S.Num(value))
    return f"\\text{{{S.unparse(node)}}}", ATOM


_PRINTERS = {
    S.Num: _num,
    S.Name: lambda n: (name(n.id), ATOM),
    S.Str: lambda n: (f"\\text{{{S.unparse(n)}}}", ATOM),
    S.Literal: _literal,
    S.Unary: _unary,
    S.Binary: _binary,
    S.Logic: _binary,
    S.IfElse: _if_else,
    S.Call: _call,
    S.Index: _index,
    S.Vector: _vector,
    S.TupleLit: _tuple,
    S.Block: _block,
    S.Directive: lambda n: (f"\\text{{{S.unparse(n)}}}", ATOM),
}
