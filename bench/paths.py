"""Every spelling of a call and of a derivative at the compiled speed.

On the chain of bench/chain.py (N/3 statements a_k = a_{k-1} + sin(a_{k-1})*0.0001), for
each N in --ops, in a fresh process, after the first calls (which trace and compile):
- the statement `d/dx chain(x) at x = 0.5` through `it.run`, over `it.grad("chain",
  at=(0.5,))`, the compiled value and gradient that the API reaches directly;
- the statement `chain(0.5)` through `it.run`, over `it["chain"](0.5)`.
The two sides of each ratio are timed in alternating rounds in one process, and each
keeps its median, so that both see the same load. Targets (issue 16): both ratios at
most 1.5 at 10,000 and 100,000 operations.
Run: python bench/paths.py [--ops 10000 100000] [--rounds 15] [--check]
Exit status 0 (it is a report) unless --check is given and a ratio is over target.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import diffi  # noqa: E402
from chain import source  # noqa: E402  (bench/ is on the path as the script's folder)

TARGET = 1.5


def alternating(pairs: dict, rounds: int) -> dict:
    """Median seconds of each function, the functions run in turn `rounds` times."""
    times = {name: [] for name in pairs}
    for _ in range(rounds):
        for name, fn in pairs.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(ts) for name, ts in times.items()}


def measure(ops: int, rounds: int) -> dict:
    it = diffi.Interpreter()
    it.run(source(ops // 3))
    chain = it["chain"]
    statement, directive = "chain(0.5)", "d/dx chain(x) at x = 0.5"
    for _ in range(2):  # the first calls trace and compile
        chain(0.5), it.grad("chain", at=(0.5,)), it.run(statement), it.run(directive)
    # (forward and reverse mode sum the chain's terms in different orders)
    assert abs(it.run(directive)[0] / it.grad("chain", at=(0.5,))[0] - 1) < 1e-12
    assert it.run(statement)[0] == chain(0.5)
    medians = alternating({"run d/dx": lambda: it.run(directive),
                           "grad": lambda: it.grad("chain", at=(0.5,)),
                           "run call": lambda: it.run(statement),
                           "call": lambda: chain(0.5)}, rounds)
    return {"ops": ops, **medians}


def report(row: dict) -> bool:
    """Print one size's figures; whether both ratios meet the target."""
    derivative = row["run d/dx"] / row["grad"]
    call = row["run call"] / row["call"]
    print(f"{row['ops']:>7} operations: it.run('d/dx chain(x) at x = 0.5') "
          f"{row['run d/dx'] * 1e3:8.2f} ms / it.grad {row['grad'] * 1e3:8.2f} ms = "
          f"{derivative:6.2f}")
    print(f"{'':>19}it.run('chain(0.5)') {row['run call'] * 1e3:8.2f} ms / it['chain'](0.5) "
          f"{row['call'] * 1e3:8.2f} ms = {call:6.2f}", flush=True)
    return derivative <= TARGET and call <= TARGET


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, nargs="+", default=[10000, 100000])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--check", action="store_true", help="exit 1 if a ratio is over target")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.rounds)))
        return 0
    ok = True
    for ops in args.ops:  # a fresh process each
        done = subprocess.run([sys.executable, __file__, "--one", str(ops), "--rounds",
                               str(args.rounds)], capture_output=True, text=True, check=True)
        ok &= report(json.loads(done.stdout.strip().splitlines()[-1]))
    print(f"target: each ratio at most {TARGET}")
    return 1 if args.check and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
