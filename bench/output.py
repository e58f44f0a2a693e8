"""What output costs: `diffi --json` against plain text on the same script, and printing
a big tensor.

Targets: `--json` adds at most 10% to a script's run time, and printing
`randn(3000, 3000)` (a summary of nine million numbers) takes under 50 ms.

The script is generated: --lines statements that each print (scalar results, labelled
prints, vectors, a derivative, a formula), with a backprop, a check and a warning every
hundred lines, so that every kind of JSON record is written. It runs as `diffi FILE`
and `diffi --json FILE` in subprocesses (start-up included; runs interleaved so that
both share the machine's noise; medians compared) and in-process (run_source against
run_json, output to memory; the fastest run of each, which the machine's load disturbs
least).

Usage: python bench/output.py [--lines N] [--runs N] [--check]
Exit status 0 (it is a report) unless --check is given and a target is missed.
"""

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from timing import median_time  # (bench/ is on the path as the script's folder)

ROOT = Path(__file__).resolve().parent.parent
TARGET_JSON_RATIO = 1.10
TARGET_PRINT_MS = 50.0

LINES = [
    "x{i} = {i} * 0.001 + 1",
    "x{i}^2 + sin(x{i})",
    'print("step", {i}, "value", exp(-x{i}))',
    "[x{i}, 2*x{i}, 3*x{i}]",
    "d/dx{i} x{i}^3 * cos(x{i})",
    "(x{i}, x{i} > 1)",
]
EVERY_HUNDRED = [
    "backprop x{i}^2 * log(x{i}) wrt x{i}",
    "check sin(x{i}) * x{i} wrt x{i}",
    "d/dt t^2 * exp(t)",
    "1/(x{i} - x{i})",
]


def generate(lines):
    """The script's text: `lines` statements, every kind of result among them."""
    body = []
    for i in range(lines):
        if i % 100 == 99:  # the four in turn, one every hundred lines
            template = EVERY_HUNDRED[i // 100 % len(EVERY_HUNDRED)]
        else:
            template = LINES[i % len(LINES)]
        body.append(template.format(i=i - i % len(LINES)))  # (the x assigned last)
    return "\n".join(body) + "\n"


def import_diffi():
    """The diffi of the source tree next to this folder (the one the subprocesses run)."""
    sys.path.insert(0, str(ROOT))
    from diffi.frontends.console import Console, make_interpreter, run_source
    from diffi.frontends.json_output import JsonConsole, make_json_interpreter, run_json
    return (Console, make_interpreter, run_source), (JsonConsole, make_json_interpreter,
                                                     run_json)


def diffi_command():
    """`python -m diffi`, run in the source tree: it measures this checkout."""
    return [sys.executable, "-m", "diffi"]


def wall_time(argv):
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"bench/output.py: `{' '.join(argv)}` failed (exit {done.returncode}):\n"
                 f"{done.stderr.decode()[:2000]}")
    return elapsed


def in_process(kind, text):
    """Seconds for a fresh interpreter to run the text, its output kept in memory."""
    Console, make, run = kind
    out = io.StringIO()
    console = Console(out, io.StringIO())
    interpreter = make(console)
    start = time.perf_counter()
    status = run(interpreter, console, text, "bench.dfi")
    elapsed = time.perf_counter() - start
    if status != 0:
        sys.exit(f"bench/output.py: the generated script failed in-process (status {status})")
    return elapsed


def print_time(kind, runs):
    """Milliseconds (median) to show `A` where A = randn(3000, 3000), as a script does."""
    Console, make, run = kind
    console = Console(io.StringIO(), io.StringIO())
    interpreter = make(console)
    run(interpreter, console, "seed(0); A = randn(3000, 3000);", "bench.dfi")
    return median_time(lambda: run(interpreter, console, "A", "bench.dfi"), runs) * 1000


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=3000, help="script length (default 3000)")
    parser.add_argument("--runs", type=int, default=9, help="runs of each way (default 9)")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args(argv)

    text_kind, json_kind = import_diffi()
    text = generate(max(100, args.lines))
    fd, path = tempfile.mkstemp(suffix=".dfi", prefix="output-")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    try:
        command = diffi_command()
        times = {"text": [], "json": []}
        for i in range(args.runs):
            order = [("text", [*command, path]), ("json", [*command, "--json", path])]
            for label, argv_ in order[i % 2:] + order[:i % 2]:
                times[label].append(wall_time(argv_))
    finally:
        os.unlink(path)
    sub = {label: statistics.median(ts) for label, ts in times.items()}
    inproc = {"text": [], "json": []}
    for i in range(args.runs):
        for label, kind in [("text", text_kind), ("json", json_kind)][::1 if i % 2 else -1]:
            inproc[label].append(in_process(kind, text))
    inp = {label: min(ts) for label, ts in inproc.items()}
    printing = print_time(text_kind, args.runs)

    lines = len(text.splitlines())
    print(f"{lines} statements that print, {args.runs} interleaved runs each way")
    ratios = {"diffi FILE vs --json (subprocess, median)": (sub["text"], sub["json"]),
              "run_source vs run_json (in-process, fastest)": (inp["text"], inp["json"])}
    missed = False
    for label, (plain, machine) in ratios.items():
        ratio = machine / plain
        missed |= ratio > TARGET_JSON_RATIO
        print(f"  {label:<44} {plain * 1000:8.1f} ms  {machine * 1000:8.1f} ms  "
              f"{ratio:5.2f}x  {'ok' if ratio <= TARGET_JSON_RATIO else 'OVER TARGET'}")
    missed |= printing > TARGET_PRINT_MS
    print(f"  printing randn(3000, 3000) (median)          {printing:8.2f} ms  "
          f"{'ok' if printing <= TARGET_PRINT_MS else 'OVER TARGET'}")
    print(f"targets: --json at most {TARGET_JSON_RATIO:.2f}x the text run; "
          f"the big print under {TARGET_PRINT_MS:g} ms")
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
