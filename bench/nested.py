"""A directive inside a function body, called many times, against the same directive at
top level with an explicit point.

g(t) = d/dt t^2*sin(t) is called --calls times (10,000 by default) with different t,
three ways, each against its top-level twin `d/dt t^2*sin(t) at t = …`, and prints the
ratios (target: each <= 5, the body's directive reusing the compiled code of the body
rather than retracing it per call):
- api:    g = it["g"]; g(t)           against it.derivative("t^2*sin(t)", wrt="t", at=…)
- script: the statements g(t), …      against the statements d/dt t^2*sin(t) at t = …
It also checks that every value agrees with the top-level one to 1e-12.
Run: python bench/nested.py [--calls 10000] [--check]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import diffi  # noqa: E402

TARGET = 5.0


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    points = [0.1 + k * 1e-4 for k in range(args.calls)]
    it = diffi.Interpreter()
    it.run("g(t) = d/dt t^2*sin(t)")
    g = it["g"]
    body_api, inside = timed(lambda: [g(t) for t in points])
    top_api, outside = timed(lambda: [it.derivative("t^2*sin(t)", wrt="t", at={"t": t})
                                      for t in points])
    body_script, _ = timed(lambda: it.run("\n".join(f"g({t!r})" for t in points)))
    top_script, _ = timed(lambda: it.run("\n".join(f"d/dt t^2*sin(t) at t = {t!r}"
                                                   for t in points)))
    worst = max(abs(a - b) / max(abs(b), 1e-300) for a, b in zip(inside, outside))
    ratios = {"api": body_api / top_api, "script": body_script / top_script}
    per_call = 1e6 / args.calls
    print(f"{args.calls} calls of g(t) = d/dt t^2*sin(t)")
    print(f"  api:    body {body_api * per_call:7.1f} us/call, top level "
          f"{top_api * per_call:7.1f} us/call, ratio {ratios['api']:.2f} (target <= {TARGET:g})")
    print(f"  script: body {body_script * per_call:7.1f} us/call, top level "
          f"{top_script * per_call:7.1f} us/call, ratio {ratios['script']:.2f} "
          f"(target <= {TARGET:g})")
    print(f"  largest relative difference from top level: {worst:.1e} (target <= 1e-12)")
    missed = [k for k, r in ratios.items() if r > TARGET] + (["values"] if worst > 1e-12 else [])
    if args.check and missed:
        print("missed: " + ", ".join(missed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
