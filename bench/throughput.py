"""Throughput of scalar statements: a generated 10,000-line script, run two ways.

Target: at least 5,000 lines per second, both for `diffi FILE` in a subprocess (start-up
included) and for `diffi.Interpreter().run(text)` in-process. Every line is an assignment,
so each adds a node to the program's graph: this measures parsing plus graph building.

Usage: python bench/throughput.py [--lines N] [--runs N] [--check]
Exit status 0 (it is a report) unless --check is given and a rate is under target or a
result is wrong.
"""

import argparse
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from timing import median_time  # (bench/ is on the path as the script's folder)

ROOT = Path(__file__).resolve().parent.parent
TARGET_LINES_PER_SECOND = 5000

# Line i; a and b name the two previous variables. Valid diffi, and valid Python once
# `^` becomes `**`, so the script's final value can be checked against Python's math.
TEMPLATES = [
    "x{i} = x{a} * 1.0001 + sin(x{b}) / 3",
    "x{i} = cos(x{a}) - x{b} * 0.5 + 1",
    "x{i} = (x{a} + x{b}) / 2 + tanh(x{b})",
    "x{i} = x{a} / (1 + x{b}^2) + log(1 + abs(x{a}))",
    "x{i} = sqrt(abs(x{a}) + 1) * exp(-abs(x{b}) / 10)",
]


def generate(lines):
    """The script's text: `x0 = 1`, `x1 = 2`, then lines - 2 assignments mixing the templates."""
    body = ["x0 = 1", "x1 = 2"]
    for i in range(2, lines):
        body.append(TEMPLATES[i % len(TEMPLATES)].format(i=i, a=i - 1, b=i - 2))
    return "\n".join(body[:lines]) + "\n"


def expected_last(text):
    """The last variable's value, computed by Python's math module."""
    scope = {name: getattr(math, name) for name in ("sin", "cos", "tanh", "log", "sqrt", "exp")}
    scope["abs"] = abs
    for line in text.splitlines():
        exec(line.replace("^", "**"), scope)
    name = text.splitlines()[-1].split("=")[0].strip()
    return name, scope[name]


def import_diffi():
    """The diffi package: installed, or else the source tree next to this folder."""
    try:
        import diffi
    except ImportError:
        sys.path.insert(0, str(ROOT))
        try:
            import diffi
        except ImportError as exc:
            sys.exit(f"bench/throughput.py: cannot import diffi ({exc}); is the interpreter in place?")
    if not hasattr(diffi, "Interpreter"):
        sys.exit("bench/throughput.py: diffi has no Interpreter yet (diffi/__init__.py)")
    return diffi


def diffi_command():
    """A label and argv for `diffi` next to this Python if installed, else `python -m diffi`."""
    script = Path(sys.executable).parent / "diffi"
    if script.is_file():
        return "diffi FILE (subprocess)", [str(script)]
    return "python -m diffi FILE (subprocess)", [sys.executable, "-m", "diffi"]


def run_subprocess(argv, path):
    """Run the script file in a fresh diffi process; stop with a message on failure."""
    done = subprocess.run([*argv, path], cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(
            f"bench/throughput.py: `{' '.join(argv)} FILE` failed (exit {done.returncode}):\n"
            f"{done.stderr.strip()[:2000]}"
        )


def run_in_process(interpreter, text):
    """Run the text in an interpreter; stop with a message on failure."""
    try:
        interpreter.run(text)
    except Exception as exc:  # a report, not a test: say what failed and stop
        sys.exit(f"bench/throughput.py: Interpreter().run(text) failed: {exc!r}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000, help="script length (default 10000)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each way (default 3; median)")
    parser.add_argument("--check", action="store_true", help="exit 1 under target or if wrong")
    args = parser.parse_args(argv)

    diffi = import_diffi()
    text = generate(max(2, args.lines))
    lines = len(text.splitlines())
    name, want = expected_last(text)
    sub_label, argv_diffi = diffi_command()

    fd, path = tempfile.mkstemp(suffix=".dfi", prefix="throughput-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        sub = median_time(lambda: run_subprocess(argv_diffi, path), args.runs)
        interpreters = []

        def fresh():  # (made outside the timing, as a user's would be already)
            interpreters.append(diffi.Interpreter())
            return interpreters[-1]
        inproc = median_time(lambda it: run_in_process(it, text), args.runs, setup=fresh)
    finally:
        os.unlink(path)
    got = float(interpreters[-1][name])
    correct = math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12)

    print(f"{lines} lines of scalar assignments, median of {args.runs} runs")
    rates = {
        sub_label: lines / sub,
        "Interpreter().run(text) (in-process)": lines / inproc,
    }
    for label, rate in rates.items():
        verdict = "ok" if rate >= TARGET_LINES_PER_SECOND else "UNDER TARGET"
        print(f"  {label:<40} {rate:10.0f} lines/s  {verdict}")
    print(f"  {name} = {got!r} ({'matches' if correct else 'DIFFERS FROM'} Python's {want!r})")
    print(f"target: at least {TARGET_LINES_PER_SECOND} lines/s each way")
    slow = any(rate < TARGET_LINES_PER_SECOND for rate in rates.values())
    return 1 if args.check and (slow or not correct) else 0


if __name__ == "__main__":
    sys.exit(main())
