"""Cost of gradients against evaluations, on f(x1…xn) = Σ sin(xi·xi+1) + xi².

For n = 10, 100, 1,000, 10,000 (scalar parameters), through the Python API on an
already-defined function, it prints median times and these ratios (targets from the
project's issue 3):
- grad/f:      time(it.grad("f", at=p)) / time(f(*p))        target <= 3 at every n
- grad/python: time(it.grad("f", at=p)) / time(plain Python f) target <= 10 at n = 10,000
- forward/f and numeric/f: forward-mode and numeric gradients, which grow like n.
Run: python bench/gradient.py [--sizes 10 100 1000 10000] [--repeat 5]
"""
from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import diffi  # noqa: E402


def source(n: int) -> str:
    params = ", ".join(f"x{i}" for i in range(n))
    terms = " + ".join(f"sin(x{i}*x{i + 1}) + x{i}^2" for i in range(n - 1))
    return f"f({params}) = {terms} + x{n - 1}^2"


def python_f(n: int):
    def f(*x):
        total = 0.0
        for i in range(n - 1):
            total += math.sin(x[i] * x[i + 1]) + x[i] ** 2
        return total + x[n - 1] ** 2
    return f


def median_time(fn, repeat: int) -> float:
    """The median wall time of fn() over `repeat` runs."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000, 10000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--slow-modes", action="store_true",
                        help="also time forward and numeric gradients (they grow like n)")
    args = parser.parse_args()
    print(f"{'n':>6} {'f (s)':>10} {'grad (s)':>10} {'python (s)':>10} "
          f"{'grad/f':>8} {'grad/python':>12}" + ("  forward/f  numeric/f" if args.slow_modes else ""))
    for n in args.sizes:
        it = diffi.Interpreter()
        it.run(source(n))
        f = it["f"]
        point = tuple(0.1 + 0.001 * i for i in range(n))
        plain = python_f(n)
        f(*point), it.grad("f", at=point)  # warm up: parse, compile
        t_f = median_time(lambda: f(*point), args.repeat)
        t_grad = median_time(lambda: it.grad("f", at=point), args.repeat)
        t_py = median_time(lambda: plain(*point), max(args.repeat, 21))
        line = (f"{n:>6} {t_f:>10.5f} {t_grad:>10.5f} {t_py:>10.6f} "
                f"{t_grad / t_f:>8.2f} {t_grad / t_py:>12.1f}")
        if args.slow_modes and n <= 1000:
            t_fwd = median_time(lambda: it.grad("f", at=point, mode="forward"), 1)
            t_num = median_time(lambda: it.grad("f", at=point, mode="numeric"), 1)
            line += f"  {t_fwd / t_f:>9.1f}  {t_num / t_f:>9.1f}"
        print(line, flush=True)
    print("targets: grad/f <= 3 at every n; grad/python <= 10 at n = 10000")


if __name__ == "__main__":
    main()
