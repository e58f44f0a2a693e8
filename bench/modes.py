"""Higher-order, symbolic and accuracy figures for the differentiation modes (issue 3).

- d40/dx40 sin(x) and d10/dx10 of a 100-operation expression: seconds (target < 0.1).
- The printed symbolic derivative of a chain of 25, 50, 100 operations: its length in
  characters (target: linear in the chain).
- Accuracy where naive rules lose everything: d/dx tanh(3x) at x = 10 (about 1.1e-25)
  and d/dx sigmoid(x) at x = 40, forward and reverse, relative to the exact value.
Run: python bench/modes.py
"""
from __future__ import annotations

import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import diffi  # noqa: E402


def timed(it, source: str) -> tuple[float, object]:
    it.eval(source)  # warm: the parser is built once per process
    start = time.perf_counter()
    value = it.eval(source)
    return time.perf_counter() - start, value


def expression(ops: int) -> str:
    expr = "x"
    shapes = ["sin(%s)", "(%s)*1.01", "exp(%s/10)", "(%s + x)", "log(1 + (%s)^2)"]
    for i in range(ops // 2):
        expr = shapes[i % len(shapes)] % expr
    return expr


def chain(ops: int) -> str:
    expr = "x"
    for i in range(ops):
        expr = f"sin({expr})" if i % 2 else f"({expr})^2"
    return expr


def main() -> None:
    it = diffi.Interpreter()
    seconds, value = timed(it, "d40/dx40 sin(x) at x = 1")
    print(f"d40/dx40 sin(x) at 1: {seconds * 1e3:.1f} ms, error {abs(value - math.sin(1)):.1e}")
    seconds, _ = timed(it, f"d10/dx10 {expression(100)} at x = 0.3")
    print(f"d10/dx10 of a 100-operation expression: {seconds * 1e3:.1f} ms (target < 100 ms)")
    for ops in (25, 50, 100):
        text = str(it.eval(f"d/dx {chain(ops)}"))
        print(f"symbolic derivative of a {ops}-operation chain: {len(text)} characters "
              f"({len(text) / ops:.1f} per operation)")
    exact = 3 / math.cosh(30) ** 2
    for mode in ("forward", "reverse"):
        value = it.eval(f"d/dx tanh(3*x) at x = 10 using {mode}")
        print(f"d/dx tanh(3x) at 10 ({mode}): {value:.6e}, relative error "
              f"{abs(value - exact) / exact:.1e}")
    exact = math.exp(-40) / (1 + math.exp(-40)) ** 2
    for mode in ("forward", "reverse"):
        value = it.eval(f"d/dx sigmoid(x) at x = 40 using {mode}")
        print(f"d/dx sigmoid(x) at 40 ({mode}): {value:.6e}, relative error "
              f"{abs(value - exact) / exact:.1e}")


if __name__ == "__main__":
    main()
