"""The derivative forms a student types next, each run through the command line of a
checkout and compared with its exact value: how many come out wrong.

The forms are the ones that once gave confident wrong numbers (a directive inside a
function body, nested derivatives, a derivative by a tensor, numeric error on a tiny
derivative, orders whose factorial overflows). Give another checkout's folder to compare
before and after; each form runs in a fresh process.

Usage: python bench/forms.py [--check] [CHECKOUT]   (default: the checkout this folder is in)
"""

import argparse
import math
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (program, exact value, how the last printed line is read)
FORMS = [
    ("g(t) = d/dt t^2\ng(3)", 6.0),
    ("f(x) = x^2\nnewton(x) = x - (d/dx f(x)) / (d2/dx2 f(x))\nnewton(3)", 0.0),
    ("f(x, y) = x*y + sin(x)\nhf(x, y) = hessian f(x, y) wrt x, y\nhf(3, 0)",
     [[-math.sin(3), 1.0], [1.0, 0.0]]),
    ("f(x) = x^3\nd/dx (d/dx f)", "6*x"),
    ("d/dx (d/dx x^3)", "6*x"),
    ("d/dy (d/dx x^2*y^3)", "6*x*y^2"),
    ("w = [1, 2, 3]\nd/dw sum(w^2)", [2.0, 4.0, 6.0]),
    ("L(w) = sum((w - [1, 2])^2)\nstep(w) = w - 0.25*(grad L(w) wrt w)\n"
     "step(step([0, 0]))", [0.75, 1.5]),
    ('d/dx x*exp(-x^2) at x = 10 using numeric(method = "richardson")',
     (1 - 200) * math.exp(-100)),
    ("d/dx log(x) at x = 0.01 using numeric", 100.0),
    ("d171/dx171 exp(2*x) at x = 0", 2.0 ** 171),
    ("d1000/dx1000 x", 0.0),
]
# check must not call a wrong number agreement (a mode's row and the exact value), and
# must not blame the modes that agree
VERDICTS = [
    ("check x*exp(-x^2) wrt x at x = 10", "numeric (richardson)", (1 - 200) * math.exp(-100)),
    ("c(n, x) = if n == 0 then x else c(n - 1, 3.7*x*(1 - x))\n"
     "check c(30, x) wrt x at x = 0.3", "likely cause: forward and reverse differ", None),
]


def run(checkout: Path, program: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    done = subprocess.run([sys.executable, "-m", "diffi", "-c", program], cwd=checkout,
                          env=env, capture_output=True, text=True, timeout=300)
    return (done.stdout + done.stderr).strip()


def numbers(text: str) -> list:
    cleaned = text.replace("[", " ").replace("]", " ").replace(",", " ")
    try:
        return [float(word) for word in cleaned.split()]
    except ValueError:
        return []


def right(output: str, exact) -> bool:
    if isinstance(exact, str):
        return output.splitlines()[-1:] == [exact]
    want = numbers(str(exact))
    got = numbers(output[output.rfind("\n[[") + 1:] if "[[" in output else
                  (output.splitlines() or [""])[-1])
    return len(got) == len(want) and all(
        math.isclose(g, w, rel_tol=1e-9, abs_tol=1e-300) for g, w in zip(got, want))


def verdict_right(output: str, needle: str, exact) -> bool:
    if exact is None:            # the phrase must not appear: it blames the wrong modes
        return needle not in output and "error" not in output
    row = next((line for line in output.splitlines() if line.startswith(needle)), "")
    value = numbers(row[len(needle):])
    close = len(value) == 1 and math.isclose(value[0], exact, rel_tol=1e-6)
    agrees = "disagree" not in output
    return agrees == close       # "agree" only when the row is right, else a disagreement


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkout", nargs="?", type=Path, default=ROOT)
    parser.add_argument("--check", action="store_true", help="exit 1 if any form is wrong")
    args = parser.parse_args()
    checkout = args.checkout.resolve()
    wrong = 0
    for program, exact in FORMS:
        output = run(checkout, program)
        ok = right(output, exact)
        wrong += not ok
        last = (output.splitlines() or [""])[-1]
        print(f"{'ok   ' if ok else 'WRONG'}  {program.splitlines()[-1][:48]:48}  {last[:60]}")
    for program, needle, exact in VERDICTS:
        output = run(checkout, program)
        ok = verdict_right(output, needle, exact)
        wrong += not ok
        last = (output.splitlines() or [""])[-1]
        print(f"{'ok   ' if ok else 'WRONG'}  {program.splitlines()[-1][:48]:48}  {last[:60]}")
    print(f"{wrong} of {len(FORMS) + len(VERDICTS)} forms wrong in {checkout}")
    return 1 if args.check and wrong else 0


if __name__ == "__main__":
    sys.exit(main())
