"""Derivatives without a point through tensors: each random expression's formula must be
its derivative at every point, or the directive must ask for a point.

Not a timing. d/dx, grad and d2/dx2 of sum(E) for random tensor expressions E
(tests/formula_forms.py) are differentiated without a point, and the formula (when
there is one) is compared with the same directive at two points. Prints the count of
each outcome: formula (agrees), asks (a derivative that needs values), error (the
expression itself is wrong: a misfit), and the two that must stay 0: wrong (a formula
that differs from the point, or cannot be evaluated) and internal (an internal error).
Run: python bench/formulas.py [--count 2000] [--seed 0] [--check]
"""
from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
import formula_forms  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000, help="random expressions")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--check", action="store_true", help="exit 1 on any wrong or internal")
    args = parser.parse_args()
    start = time.perf_counter()
    seen, bad = collections.Counter(), []
    for source in formula_forms.forms(args.seed, args.count):
        kind, detail = formula_forms.outcome(source)
        seen[kind] += 1
        if kind in ("wrong", "internal"):
            bad.append((source, detail))
    for source, detail in bad[:20]:
        print(f"{source}\n    {detail}")
    total = sum(seen.values())
    print(f"{total} directives in {time.perf_counter() - start:.0f} s: " + ", ".join(
        f"{kind} {seen[kind]}" for kind in ("formula", "asks", "error", "wrong", "internal")))
    return 1 if args.check and bad else 0


if __name__ == "__main__":
    sys.exit(main())
