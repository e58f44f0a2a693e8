"""Formulas as a textbook writes them: sums and products in one canonical form.

A formula Builder made with `canonical=True` hands every sum, difference, negation,
product, quotient and whole-number power to this module. Each is flattened into its
normal form — a sum is a constant and terms `c·t` with like terms added, a product a
coefficient and factors `b^k` with equal bases' whole exponents added — and rebuilt in
one order. So two spellings of one formula become the same node (hash-consing makes
them identical), and `2*t1*t2 - 2*t2*t1` is 0 even when t1 and t2 are shared parts
printed once; a quotient cancels the factors it shares (`x*t/t` is x).

The order is the one a textbook writes: in a product the coefficient first, then
names, then the rest in the order they were made (which follows the rules applied,
`2*x*sin(x)`); in a sum the terms in that order with a positive term first and the
constant last (`3*x^2 - 2`); a coefficient p/n divides (`2*x/3`, `1/(2*sqrt(x))`).

Only numbers are reordered: a tensor or a true/false operand keeps the plain rules
(broadcasting and `1*(x < 2)` stay as written), and a sum or product that would grow
past MAX_PARTS keeps its shape, so every step costs at most that much.
"""
from __future__ import annotations

import math
from fractions import Fraction

from .. import table

MAX_PARTS = 40     # terms of a sum, factors of a product, flattened at most
MAX_DIVISOR = 1000  # a coefficient p/n prints as a division by n up to this n

CANONICAL = frozenset((table.ADD, table.SUB, table.NEG, table.MUL, table.DIV, table.POW))


def build(b, prim, inputs):
    """The canonical node for prim(*inputs), or None when the plain rules apply."""
    if not all(_number_like(i) for i in inputs):
        return None
    if prim is table.ADD or prim is table.SUB:
        sign = 1.0 if prim is table.ADD else -1.0
        return _sum_node(b, _merge(sum_form(b, inputs[0]), sum_form(b, inputs[1]), sign))
    if prim is table.NEG:
        coef, factors = product_form(b, inputs[0])
        return product_node(b, -coef, factors)
    if prim is table.POW:
        return _power(b, *inputs)
    left, right = product_form(b, inputs[0]), product_form(b, inputs[1])
    if prim is table.DIV:
        if right[0] == 0:
            return None  # x/0 keeps IEEE's inf or nan
        right = (1.0 / right[0], tuple((base, -k) for base, k in right[1]))
    return product_node(b, left[0] * right[0], _multiply(left[1], right[1]))


def _number_like(node) -> bool:
    """A number or an unknown (a symbol): not a tensor, a truth value or a tuple."""
    return (node.value is None or type(node.value) is float) and not node.op.boolean


def _literal(node) -> bool:
    return node.op is table.CONST and node.name is None and type(node.value) is float


# Products: (coefficient, ((base, exponent), …)) --------------------------------------

def product_form(b, node):
    """The coefficient and factors of a node (itself, to the power 1, when opaque)."""
    form = b.products.get(node.id)
    if form is not None:
        return form
    if _literal(node):
        return node.value, ()
    return 1.0, ((node, 1.0),)


def _whole(k) -> bool:
    return type(k) is float and abs(k) < 2 ** 53 and k == int(k)  # (inf, nan: not whole)


def _power(b, base, exponent):
    """base^k for a constant k: each factor's exponent times a whole k; an opaque
    base to any constant power (x^0.5, kept apart from x's whole powers)."""
    if not _literal(exponent):
        return None
    k = exponent.value
    coef, factors = product_form(b, base)
    if not all(_whole(e) for _, e in factors):
        return None  # (x^0.5)^2 is not x where x < 0
    if not _whole(k):
        opaque = coef == 1 and len(factors) == 1 and factors[0] == (base, 1.0)
        return product_node(b, 1.0, ((base, k),)) if opaque and math.isfinite(k) else None
    try:
        coef = coef ** k
    except (OverflowError, ZeroDivisionError):
        return None
    if not math.isfinite(coef):
        return None
    return product_node(b, coef, tuple((f, e * k) for f, e in factors if e * k != 0))


def _multiply(left, right):
    """Factors of both sides, equal bases' exponents added, cancelled ones left out."""
    exponents: dict[int, list] = {}
    for base, k in left + right:
        entry = exponents.get(base.id)
        if entry is None:
            exponents[base.id] = [base, k]
        elif _whole(entry[1]) and _whole(k):
            entry[1] += k
        else:  # x^0.5 and x^0.5 are not x for a negative x: keep both
            exponents[(base.id, len(exponents))] = [base, k]
    return tuple((base, k) for base, k in exponents.values() if k != 0)


def _factor_key(factor):
    """Names first, alphabetically (w*x), then the rest in the order made (inner
    functions before outer ones, as SymPy prints a chain rule's factors)."""
    base = factor[0]
    leaf = base.inputs[0] if base.op is table.POW else base
    if leaf.op is table.CONST:
        return (0, leaf.name or "", base.id)
    return (1, "", base.id)


def product_node(b, coef: float, factors):
    """The node of coef·Πbase^k, in textbook order; None when it has too many factors."""
    if len(factors) > MAX_PARTS or not math.isfinite(coef):
        return None
    if coef == 0 or not factors:
        return b.const(coef)
    factors = tuple(sorted(factors, key=_factor_key))
    coef, factors = _distribute(b, coef, factors)
    if coef == 1 and len(factors) == 1 and factors[0][1] == 1:
        return factors[0][0]
    node = _product_syntax(b, coef, factors)
    b.products[node.id] = (coef, factors)
    return node


def _product_syntax(b, coef: float, factors):
    """coef·num/den as nodes: `2*x*y/z`, `-x/y`, `2*x/3` for a coefficient 2/3."""
    top_coef, divisor = _fraction(coef)
    num = [_raised(b, base, k) for base, k in factors if k > 0]
    den = [_raised(b, base, -k) for base, k in factors if k < 0]
    if divisor != 1:
        den.insert(0, b.const(divisor))
    top = _chain(b, num)
    if top is None:
        top, top_coef = b.const(top_coef), 1.0
    elif top_coef not in (1.0, -1.0):
        top = b.raw(table.MUL, b.const(top_coef), top)
    node = top if not den else b.raw(table.DIV, top, _chain(b, den))
    return b.raw(table.NEG, node) if top_coef == -1.0 else node


def _fraction(coef: float) -> tuple[float, float]:
    """(p, n) with coef = p/n when a decimal cannot show coef in a few digits (2/3,
    1/7) or it is a half (1/(2*sqrt(x))); else (coef, 1): 0.25*x and 1.5*x stay."""
    if coef == 0 or not math.isfinite(coef):
        return coef, 1.0
    ratio = Fraction(coef).limit_denominator(MAX_DIVISOR)
    p, n = ratio.numerator, ratio.denominator
    if n == 1 or p / n != coef or n == 2 and abs(p) != 1:
        return coef, 1.0
    rest = n
    for prime in (2, 5):
        while rest % prime == 0:
            rest //= prime
    return (float(p), float(n)) if n == 2 or rest != 1 else (coef, 1.0)


def _raised(b, base, k: float):
    return base if k == 1 else b.raw(table.POW, base, b.const(k))


def _chain(b, nodes):
    """Nodes multiplied left to right (None for none)."""
    result = None
    for node in nodes:
        result = node if result is None else b.raw(table.MUL, result, node)
    return result


def _distribute(b, coef: float, factors):
    """c·(sum)·rest as (c·sum)·rest when that leaves fewer numbers to read: 0.5·(2x + 2y)
    is x + y, -(a - b) is b - a; 2·(x + 1) stays."""
    if coef == 1:
        return coef, factors
    for i, (base, k) in enumerate(factors):
        form = b.sums.get(base.id)
        if form is None or k != 1:
            continue
        scaled = (form[0] * coef, tuple((c * coef, t) for c, t in form[1]))
        if _cost(scaled) < _cost(form, coef):
            node = _sum_node(b, scaled)
            if node is not None:
                return 1.0, tuple(sorted(factors[:i] + ((node, 1.0),) + factors[i + 1:],
                                         key=_factor_key))
        return coef, factors
    return coef, factors


def _cost(form, coef: float = 1.0) -> tuple[int, int]:
    """(numbers other than ±1, minus signs) a reader sees in coef·(sum)."""
    numbers = [coef] + [c for c, _ in form[1]] + ([form[0]] if form[0] else [])
    return (sum(abs(c) != 1 for c in numbers), sum(c < 0 for c in numbers))


# Sums: (constant, ((coefficient, term), …)) -----------------------------------------

def sum_form(b, node):
    """The constant and terms of a node; a term's coefficient is split off its factors."""
    form = b.sums.get(node.id)
    if form is not None:
        return form
    if _literal(node):
        return node.value, ()
    coef, factors = product_form(b, node)
    if coef == 1:
        return 0.0, ((1.0, node),)
    core = product_node(b, 1.0, factors)
    inner = b.sums.get(core.id)
    if inner is not None:  # c·(a + b) inside a sum is c·a + c·b
        return inner[0] * coef, tuple((c * coef, t) for c, t in inner[1])
    return 0.0, ((coef, core),)


def _merge(left, right, sign: float):
    """left + sign·right, like terms added, zero terms left out."""
    terms: dict[int, list] = {}
    for coef, term in left[1] + tuple((sign * c, t) for c, t in right[1]):
        entry = terms.get(term.id)
        if entry is None:
            terms[term.id] = [coef, term]
        else:
            entry[0] += coef
    kept = tuple((c, t) for c, t in terms.values() if c != 0)
    return left[0] + sign * right[0], kept


def _ordered(b, terms) -> list:
    """Terms in the order made (the product rule's u'v + uv': sin(x) + x*cos(x)), and
    among them the powers of names by falling degree (x^2 - 2*x), names alphabetically."""
    terms = sorted(terms, key=lambda term: term[1].id)
    slots = [i for i, term in enumerate(terms) if _monomial(b, term[1]) is not None]
    monomials = sorted((terms[i] for i in slots), key=lambda term: _monomial(b, term[1]))
    for i, term in zip(slots, monomials):
        terms[i] = term
    return terms


def _monomial(b, core):
    """(-degree, names) of a power product of names; None for anything else."""
    factors = product_form(b, core)[1]
    if any(base.op is not table.CONST or not _whole(k) for base, k in factors):
        return None
    return (-sum(k for _, k in factors), " ".join(base.name or "" for base, _ in factors))


def _sum_node(b, form):
    """The node of a sum's normal form, positive term first and constant last."""
    constant, terms = form
    if len(terms) > MAX_PARTS or not math.isfinite(constant) and terms:
        return None
    if not terms:
        return b.const(constant)
    terms = _ordered(b, terms)
    first = next((i for i, (c, _) in enumerate(terms) if c > 0), None)
    if first is not None:
        terms.insert(0, terms.pop(first))
    if len(terms) == 1 and constant == 0:
        return _term(b, *terms[0])
    if first is None and constant > 0:  # 1 - x^2, not -x^2 + 1
        node, rest, last = b.const(constant), terms, 0.0
    else:
        node, rest, last = _term(b, *terms[0]), terms[1:], constant
    for coef, term in rest:
        node = _plus(b, node, coef, _term(b, abs(coef), term))
    if last:
        node = _plus(b, node, last, b.const(abs(last)))
    b.sums[node.id] = (constant, tuple(terms))
    return node


def _plus(b, node, coef, magnitude):
    return b.raw(table.ADD if coef > 0 else table.SUB, node, magnitude)


def _term(b, coef: float, term):
    coef_t, factors = product_form(b, term)
    node = product_node(b, coef * coef_t, factors)
    return node if node is not None else b.raw(table.MUL, b.const(coef), term)
