"""Cost of gradients against evaluations, on f(x1…xn) = Σ sin(xi·xi+1) + xi².

For n = 10, 100, 1,000, 10,000 (scalar parameters), through the Python API on an
already-defined function, it prints median times and these ratios (targets from the
project's issues 3 and 16):
- grad/f:      time(it.grad("f", at=p)) / time(f(*p))        target <= 3 at every n
- grad/python: time(it.grad("f", at=p)) / time(plain Python f) target <= 10 at n = 10,000
Then, at n = --modes-at (1,000), the gradient statements as a user writes them, run
through `it.run` (after a first run, which compiles):
- forward/f:   `grad f at (…) using forward` over one compiled evaluation f(*p):
               target <= 3n (n tangent sweeps, each within 3 evaluations)
- numeric/python: `grad f at (…) using numeric` over central differences written in
               plain Python (2n evaluations of the plain-Python f): target <= 3
Run: python bench/gradient.py [--sizes 10 100 1000 10000] [--repeat 5] [--modes-at 1000]
     [--check]
Exit status 0 (it is a report) unless --check is given and a target is missed.
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import diffi  # noqa: E402
from timing import median_time  # noqa: E402  (bench/ is on the path as the script's folder)

EPS = 2.0 ** -52


def source(n: int) -> str:
    params = ", ".join(f"x{i}" for i in range(n))
    terms = " + ".join(f"sin(x{i}*x{i + 1}) + x{i}^2" for i in range(n - 1))
    return f"f({params}) = {terms} + x{n - 1}^2"


def python_f(n: int):
    """f in plain Python, its terms added in diffi's order (left to right)."""
    def f(*x):
        total = math.sin(x[0] * x[1]) + x[0] ** 2
        for i in range(1, n - 1):
            total = total + math.sin(x[i] * x[i + 1]) + x[i] ** 2
        return total + x[n - 1] ** 2
    return f


def central_differences(f, point: tuple) -> list:
    """The gradient of a plain-Python f by central differences, as numeric mode takes
    them (step ∛ε·max(1, |x|))."""
    grad, x = [], list(point)
    for i, xi in enumerate(point):
        h = EPS ** (1 / 3) * max(1.0, abs(xi))
        x[i] = xi + h
        up = f(*x)
        x[i] = xi - h
        down = f(*x)
        x[i] = xi
        grad.append((up - down) / (2 * h))
    return grad


def cheap_gradients(sizes, repeat: int) -> bool:
    """The grad/f table; whether its targets are met."""
    ok = True
    print(f"{'n':>6} {'f (s)':>10} {'grad (s)':>10} {'python (s)':>10} "
          f"{'grad/f':>8} {'grad/python':>12}")
    for n in sizes:
        it = diffi.Interpreter()
        it.run(source(n))
        f = it["f"]
        point = tuple(0.1 + 0.001 * i for i in range(n))
        plain = python_f(n)
        f(*point), f(*point), it.grad("f", at=point)  # warm up: trace, compile
        t_f = median_time(lambda: f(*point), repeat)
        t_grad = median_time(lambda: it.grad("f", at=point), repeat)
        t_py = median_time(lambda: plain(*point), max(repeat, 21))
        print(f"{n:>6} {t_f:>10.5f} {t_grad:>10.5f} {t_py:>10.6f} "
              f"{t_grad / t_f:>8.2f} {t_grad / t_py:>12.1f}", flush=True)
        ok &= t_grad / t_f <= 3 and (n != 10000 or t_grad / t_py <= 10)
    print("targets: grad/f <= 3 at every n; grad/python <= 10 at n = 10000")
    return ok


def slow_modes(n: int, repeat: int) -> bool:
    """Forward and numeric gradients at n, as statements; whether the targets are met."""
    it = diffi.Interpreter()
    it.run(source(n))
    f = it["f"]
    point = tuple(0.1 + 0.001 * i for i in range(n))
    at = ", ".join(repr(p) for p in point)
    forward, numeric = (f"grad f at ({at}) using forward", f"grad f at ({at}) using numeric")
    f(*point), f(*point)
    exact = it.grad("f", at=point)
    by_forward, by_numeric = it.run(forward)[0], it.run(numeric)[0]  # the first runs
    plain = python_f(n)
    reference = central_differences(plain, point)
    t_f = median_time(lambda: f(*point), max(repeat, 21))
    t_forward = median_time(lambda: it.run(forward), repeat)
    t_numeric = median_time(lambda: it.run(numeric), repeat)
    t_plain = median_time(lambda: central_differences(plain, point), repeat)
    forward_ratio, numeric_ratio = t_forward / t_f, t_numeric / t_plain
    print(f"n = {n}: one compiled evaluation {t_f * 1e3:.3f} ms")
    print(f"  grad f at (…) using forward {t_forward * 1e3:9.1f} ms = {forward_ratio:8.0f} "
          f"evaluations (target <= 3n = {3 * n}); largest difference from reverse mode "
          f"{max(abs(a - b) for a, b in zip(by_forward, exact)):.1e}")
    print(f"  grad f at (…) using numeric {t_numeric * 1e3:9.1f} ms; plain-Python central "
          f"differences {t_plain * 1e3:.1f} ms; ratio {numeric_ratio:.2f} (target <= 3); "
          f"largest difference from them {max(abs(a - b) for a, b in zip(by_numeric, reference)):.1e}",
          flush=True)
    return forward_ratio <= 3 * n and numeric_ratio <= 3


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000, 10000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--modes-at", type=int, default=1000,
                        help="n for the forward and numeric gradients (0: skip them)")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args()
    ok = cheap_gradients(args.sizes, args.repeat)
    if args.modes_at:
        ok &= slow_modes(args.modes_at, args.repeat)
    return 1 if args.check and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
