"""`check`: every mode side by side on the same gradient, with the largest relative
difference between them, a verdict, and a likely cause when they disagree: the mode
that stands apart from the others.

Two values a and b differ by |a − b| / max(|a|, |b|, s), where s is the scale of what
the derivative is built from: the sum of the magnitudes of the terms the chain rule
adds into the variable's adjoint, so a derivative that cancels to nearly 0 is compared
with its terms, and a tiny derivative made of tiny terms is compared relatively.
Against numeric mode, s also covers the round-off of the values the differences
subtract.
"""
from __future__ import annotations

import math

from .. import arrays
from ..arrays import is_array
from ..core.problem import build
from ..core.values import (GAP, display_width, format_value, number_data, pad,
                           summary_indices)
from ..errors import DiffiError, DiffiTypeError, LimitError
from ..language.vocabulary import MODES
from ..modes import numeric
from ..table import reader
from ..table.reader import NUMBERS
from .context import Context, Report, _require_scalar, numeric_estimate, pack
from .compiled import compiled_request, run_compiled
from .derivatives import gradient
from .tables import kinks

TOLERANCE = 1e-6
REQUIRED = ("forward", "reverse", "numeric")  # the modes a check cannot agree without
TIE = 0.1  # check: differences this close (relatively) to the largest are one finding
LABELS = {"forward": "forward", "reverse": "reverse", "numeric": "numeric differences",
          "symbolic": "symbolic"}


def check(ev, ast, scope):
    """Every mode side by side, with the largest relative difference."""
    problem = build(ev, ast, scope)
    if problem.symbolic or problem.formula:  # (a formula: inside a directive without a point)
        raise DiffiTypeError("check needs a point: give one with at", ast.span)
    ctx = Context(ev, ast)
    served = compiled_check(ev, problem)
    if served is not None:
        (gradients, results, estimates, floors), found = served, []
    else:
        tape = problem.tape().tape  # (traced first: a mode a limit stops needs no more work)
        _require_scalar(tape.outputs[0], ast)  # (each mode would say so, or misread an empty one)
        gradients, results, estimates = _results(ctx, problem)
        if all(isinstance(results[m], DiffiError) for m in REQUIRED):
            raise results["forward"]  # nothing to compare: the reason, as an error
        floors = _floors(_term_scale(tape), results, estimates)
        found = kinks(tape)
    worst, pair = _largest_difference(results, floors)
    missing = _missing(results)
    ok = worst <= TOLERANCE and not missing
    lines = _check_table(problem, results, ev.precision)
    verdict = "agree" if ok else "DISAGREE" if not missing else \
        f"INCOMPLETE, {' and '.join(missing)} did not run"
    lines.append(f"largest relative difference: {worst:.1e} ({pair}): {verdict} "
                 f"(tolerance {TOLERANCE:g})")
    verdict_line = len(lines) - 1
    cause = note = None
    if not ok and not missing:
        cause = _likely_cause(found, results, floors, estimates)
        lines.append("likely cause: " + cause)
    elif found:
        note = "a non-differentiable point was met: " + found[0][1]
        lines.append("note: " + note)
    if ok and _largest_difference(results, _exact_floors(floors))[0] > TOLERANCE:
        noise = max(e.noise for e in estimates) * numeric.NOISE
        noise_note = (f"numeric differences agree only within their round-off "
                      f"(about {noise:.1e}): f's values are large beside the change "
                      f"the derivative measures")
        lines.append("note: " + noise_note)
        note = noise_note if note is None else f"{note}; {noise_note}"
    if not ok:
        ev.count_failed_check()
    report = CheckReport(worst, "\n".join(lines), ok, verdict=verdict_line)
    report.modes = gradients
    report.unavailable = {m: r.message for m, r in results.items() if isinstance(r, Exception)}
    report.missing = missing
    report.labels = _check_labels(problem)
    report.pair, report.cause, report.note = pair, cause, note
    return report


def compiled_check(ev, problem):
    """Asked again at a point of literal numbers, where every input is a variable: the
    exact modes and the scale of the terms by compiled code (compile/orders.py), numeric
    mode as always (it evaluates compiled calls) — (gradients, results, estimates,
    floors) when the modes agree and no operation is at a kink; else None, and check
    traces (a disagreement's likely cause reads the trace)."""
    request = compiled_request(ev, problem, "check", every_input_a_variable=True)
    if request is None:
        return None
    result = run_compiled(ev, problem, request, ev.compiled.Check())
    if result is None:
        return None
    forward_parts, reverse_parts, symbolic_parts, terms = result[1]
    gradients = {"forward": pack(forward_parts, problem),
                 "reverse": pack(reverse_parts, problem)}
    gradients["numeric"], estimates = _numeric_gradient(problem)
    gradients["symbolic"] = pack(symbolic_parts, problem)
    results = {m: _flat(g) for m, g in gradients.items()}
    floors = _floors(terms, results, estimates)
    if _largest_difference(results, floors)[0] > TOLERANCE:
        return None  # (the interpreter finds the likely cause)
    return gradients, results, estimates, floors


class CheckReport(Report):
    """check's report: besides its text, every mode's gradient (`modes["numeric"]`, in
    the shape `grad` gives), why a mode could not run (`unavailable`), the element
    labels of the table (`labels`), the largest relative difference (`value`) and the
    pair of modes it is between, the verdict (`ok`), and the likely cause when they
    disagree (`cause`; `note` for what to know although they agree: a
    non-differentiable point met, or numeric differences within their round-off only)."""

    tolerance = TOLERANCE
    modes: dict
    unavailable: dict
    labels: list
    pair: str
    missing: list  # the modes whose absence leaves the check incomplete
    cause: str | None
    note: str | None

    def to_data(self) -> dict:
        """The report as JSON-ready data: each mode's partials in the order of `labels`."""
        modes = {m: [number_data(v) for v in _flat(g)] for m, g in self.modes.items()}
        return {"ok": self.ok, "labels": self.labels, "modes": modes,
                "unavailable": self.unavailable, "largest_difference": number_data(self.value),
                "pair": self.pair, "tolerance": self.tolerance,
                "verdict": "agree" if self.ok else "incomplete" if self.missing
                else "disagree", "cause": self.cause,
                "note": self.note}


def _check_labels(problem) -> list[str]:
    return [label for v in problem.variables
            for label in _element_labels(v, problem.values[v])]


def _results(ctx, problem) -> tuple[dict, dict, list]:
    """Each mode's gradient (in the shape `grad` gives); its partials (flat), or the error
    that made it unavailable; and numeric mode's estimates (one per variable), whose
    error estimates the cause may quote."""
    gradients, results, estimates = {}, {}, []
    for mode in MODES:
        try:
            if mode == "numeric":
                gradients[mode], estimates = _numeric_gradient(problem)
            else:
                gradients[mode] = gradient(ctx, problem, mode, {})
            results[mode] = _flat(gradients[mode])
        except DiffiError as error:
            results[mode] = error
    return gradients, results, estimates


def _numeric_gradient(problem) -> tuple:
    """Numeric mode's gradient by Richardson extrapolation, and its estimates (one per
    variable: the floors read their round-off, the cause their error estimates)."""
    estimates = [numeric_estimate(problem, v, 1, {"method": "richardson"}, notes=False)
                 for v in problem.variables]
    return pack([e.value for e in estimates], problem), estimates


def _missing(results) -> list[str]:
    """The modes whose absence makes the comparison incomplete: forward, reverse or
    numeric, for any reason; symbolic only when a limit stopped it (where it has no
    rule, it is simply not available)."""
    return [("numeric (richardson)" if mode == "numeric" else mode)
            for mode, result in results.items()
            if isinstance(result, DiffiError)
            and (mode in REQUIRED or isinstance(result, LimitError))]


def _flat(value) -> list[float]:
    if is_array(value):
        return [float(v) for v in value.reshape(-1)]
    if isinstance(value, tuple):
        out = []
        for v in value:
            out += _flat(v)
        return out
    return [float(value)]


# The scale of a comparison -----------------------------------------------------------

def _floors(terms, results, estimates) -> dict:
    """For each pair of modes, per element: the scale below which a difference is not
    measured relatively. Exact modes are compared with the chain rule's terms (`terms`,
    per element, or None when unknown); numeric mode also with NOISE times its
    round-off (over the tolerance, so that a difference within the round-off counts as
    agreement)."""
    size = len(next((r for r in results.values() if isinstance(r, list)), []))
    if terms is None or len(terms) != size:
        terms = [0.0] * size
    noise = []
    for estimate in estimates:
        noise += [numeric.NOISE * estimate.noise / TOLERANCE] * _size(estimate.value)
    if len(noise) != size:
        noise = [0.0] * size
    return {"exact": terms, "numeric": [max(t, n) for t, n in zip(terms, noise)]}


def _exact_floors(floors: dict) -> dict:
    """The floors without numeric mode's round-off allowance."""
    return {"exact": floors["exact"], "numeric": floors["exact"]}


def _size(value) -> int:
    return int(value.size) if is_array(value) else 1


def _term_scale(tape) -> list[float] | None:
    """Per variable element, the sum of the magnitudes of the terms whose sum is its
    derivative: the contributions reverse mode adds into the variable's adjoint (one
    per use of the variable). A derivative that cancels to nearly 0 (sin(x)^2 + cos(x)^2)
    is compared with them. None when a rule is missing (the modes then say so)."""
    output = tape.outputs[0]
    adjoint, terms = {output.id: 1.0}, {}
    variables = {x.id for x in tape.inputs}
    try:
        for node in reversed(tape.steps):
            g = adjoint.get(node.id)
            if g is None:
                continue
            needs = [i.id in tape.active for i in node.inputs]
            parts = reader.cotangents(node, NUMBERS, g, [i.value for i in node.inputs],
                                      node.value, needs)
            for inp, part in zip(node.inputs, parts):
                if part is None:
                    continue
                previous = adjoint.get(inp.id)
                adjoint[inp.id] = part if previous is None else previous + part
                if inp.id in variables:
                    terms[inp.id] = abs(part) + terms.get(inp.id, 0.0)
    except (DiffiError, TypeError, ValueError):
        return None
    out: list[float] = []
    for x in tape.inputs:
        out += _flat(terms.get(x.id, 0.0 * x.value if is_array(x.value) else 0.0))
    return out


# Comparing the modes ----------------------------------------------------------------

def _largest_difference(results, floors=None) -> tuple[float, str]:
    """The largest relative difference between two modes, and the pair it names: the
    first in table order within TIE of the largest, so that the last bits of two
    modes that agree (forward and reverse) do not decide which one is named."""
    pairs = [(_difference(results, a, b, floors), f"{b} vs {a}")
             for a, b in _pairs(results)]
    worst = max([d for d, _ in pairs], default=0.0)
    if worst == 0.0:
        return 0.0, "all modes"
    return worst, next(pair for d, pair in pairs if d >= worst * (1 - TIE))


def _pairs(results) -> list[tuple[str, str]]:
    modes = [m for m, r in results.items() if not isinstance(r, Exception)]
    return [(a, b) for i, a in enumerate(modes) for b in modes[i + 1:]]


def _difference(results, a: str, b: str, floors=None) -> float:
    """The largest relative difference of modes a and b over the elements."""
    scale = None if floors is None else floors["numeric" if "numeric" in (a, b) else "exact"]
    return max([_relative(x, y, scale[i] if scale else 0.0)
                for i, (x, y) in enumerate(zip(results[a], results[b]))], default=0.0)


def _relative(x: float, y: float, floor: float = 0.0) -> float:
    if x == y or (math.isnan(x) and math.isnan(y)):
        return 0.0
    if not (math.isfinite(x) and math.isfinite(y)):
        return math.inf
    return abs(x - y) / max(abs(x), abs(y), floor)


def _check_table(problem, results, precision) -> list[str]:
    labels = _check_labels(problem)
    shown = summary_indices(len(labels))  # a big tensor's columns summarised, as its value
    header = ["mode"] + [GAP if i is None else labels[i] for i in shown]
    results = {("numeric (richardson)" if m == "numeric" else m): r for m, r in results.items()}
    rows = [header]
    for mode, values in results.items():
        if isinstance(values, Exception):
            rows.append([mode, f"(not available: {values.message})"])
        else:
            rows.append([mode] + [GAP if i is None else format_value(values[i], precision)
                                  for i in shown])
    full = [r for r in rows if len(r) == len(header)]  # a note spans the row: no width
    widths = [max(display_width(r[i]) for r in full) for i in range(len(header))]
    widths[0] = max(display_width(r[0]) for r in rows)
    return ["  ".join(pad(c, widths[i]) if i < len(widths) else c
                      for i, c in enumerate(r)).rstrip() for r in rows]


def _element_labels(var: str, value) -> list[str]:
    """d/dx for a scalar; d/dW[0, 1], … for the elements of a tensor."""
    if not is_array(value):
        return [f"d/d{var}"]
    return [f"d/d{var}[{', '.join(map(str, index))}]"
            for index in arrays.np().ndindex(*value.shape)]


# The likely cause -----------------------------------------------------------------------

def _likely_cause(found, results, floors, estimates) -> str:
    """Name the mode that stands apart from the others that agree, and why it may."""
    apart = _apart(results, floors)
    if apart == "numeric" or (apart is None and found):
        if found:
            return (f"a non-differentiable point ({found[0][1]}): numeric differences "
                    f"see both sides of it, the other modes one")
        return "numeric differences stand apart: " + _numeric_cause(estimates)
    if apart is not None:
        return (f"{LABELS[apart]} stands apart from the other modes: "
                f"{_rule_cause(apart)}")
    groups = _groups(results, floors)
    if all(len(g) == 1 for g in groups):
        return "no two modes agree: a derivative rule may be wrong"
    return ("the modes split (" + "; ".join(" and ".join(g) for g in groups) +
            "): a derivative rule may be wrong")


def _apart(results, floors) -> str | None:
    """The one mode that differs from all the others, which agree among themselves."""
    modes = [m for m, r in results.items() if not isinstance(r, Exception)]
    if len(modes) < 3:
        return None
    for mode in modes:
        rest = [m for m in modes if m != mode]
        if all(_agree(results, a, b, floors) for i, a in enumerate(rest) for b in rest[i + 1:]) \
                and not any(_agree(results, mode, m, floors) for m in rest):
            return mode
    return None


def _agree(results, a: str, b: str, floors) -> bool:
    return _difference(results, a, b, floors) <= TOLERANCE


def _groups(results, floors) -> list[list[str]]:
    """The modes grouped with those they agree with (in table order)."""
    groups: list[list[str]] = []
    for mode in [m for m, r in results.items() if not isinstance(r, Exception)]:
        home = next((g for g in groups if _agree(results, g[0], mode, floors)), None)
        if home is None:
            groups.append([mode])
        else:
            home.append(mode)
    return groups


def _numeric_cause(estimates) -> str:
    worst = max(estimates, key=lambda e: e.error, default=None)
    if worst is not None and not numeric.accepted(worst):
        return (f"their own error estimate is {worst.error:.1e}: f may have a kink, a jump "
                f"or a fast wiggle near the point, or values too large for the step")
    return "truncation or round-off error (a step too large or too small)"


def _rule_cause(mode: str) -> str:
    if mode == "symbolic":
        return "a symbolic rule or a simplification may be wrong"
    return f"its derivative rule may be wrong ({mode} mode's rules)"
