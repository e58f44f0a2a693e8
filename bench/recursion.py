"""Plain recursion: `fib(27)` as a statement, against the same function in plain Python.

fib(n) = if n < 2 then n else fib(n - 1) + fib(n - 2), defined and then called once
with `it.run("fib(27)")` in a fresh process (the first call: whatever diffi compiles,
it compiles inside the timed statement), against plain Python's fib(27) in the same
process (median of 5). Memory: the growth of the process's peak RSS over the statement.
Ctrl-C: a fresh process runs `fib(40)` (minutes of work), is sent SIGINT after 1 s,
and reports the time from the signal to `it.run` having returned (its partial work
dropped). Targets (issue 16): at most 20x plain Python; at most 100 MB added; Ctrl-C
back within 0.2 s.
Run: python bench/recursion.py [--n 27] [--check]
Exit status 0 (it is a report) unless --check is given and a target is missed.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

FIB = "fib(n) = if n < 2 then n else fib(n - 1) + fib(n - 2)"
TARGET_RATIO, TARGET_MIB, TARGET_INTERRUPT = 20, 100, 0.2


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def statement(n: int) -> dict:
    """One statement fib(n) in a fresh interpreter: time, value, peak memory growth."""
    import diffi
    it = diffi.Interpreter()
    it.run(FIB)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    (value,) = it.run(f"fib({n})")
    seconds = time.perf_counter() - start
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base
    times = []
    for _ in range(5):
        begin = time.perf_counter()
        expected = fib(n)
        times.append(time.perf_counter() - begin)
    return {"seconds": seconds, "value": value, "expected": expected,
            "python": statistics.median(times), "mib": grown / 1024}


def interrupted() -> dict:
    """Run fib(40) until SIGINT arrives; the seconds from the signal to run's return."""
    import diffi
    it = diffi.Interpreter()
    it.run(FIB)
    arrived = []

    def handler(signum, frame):
        arrived.append(time.perf_counter())
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, handler)
    print("ready", flush=True)
    try:
        it.run("fib(40)")
    except KeyboardInterrupt:
        pass
    return {"interrupt": time.perf_counter() - arrived[0]}


def interrupt_latency() -> float:
    child = subprocess.Popen([sys.executable, __file__, "--child", "interrupt"],
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "ready"
    time.sleep(1.0)
    os.kill(child.pid, signal.SIGINT)
    out, _ = child.communicate(timeout=120)
    return json.loads(out.strip().splitlines()[-1])["interrupt"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=27)
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    parser.add_argument("--child", choices=["statement", "interrupt"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = statement(args.n) if args.child == "statement" else interrupted()
        print(json.dumps(result))
        return 0
    done = subprocess.run([sys.executable, __file__, "--child", "statement", "--n",
                           str(args.n)], capture_output=True, text=True, check=True)
    row = json.loads(done.stdout.strip().splitlines()[-1])
    ratio = row["seconds"] / row["python"]
    latency = interrupt_latency()
    print(f"fib({args.n}) = {row['value']:g} (Python: {row['expected']}): diffi "
          f"{row['seconds'] * 1e3:.1f} ms, plain Python {row['python'] * 1e3:.1f} ms, ratio "
          f"{ratio:.1f} (target <= {TARGET_RATIO})")
    print(f"peak memory added by the statement: {row['mib']:.0f} MiB (target <= {TARGET_MIB})")
    print(f"Ctrl-C during fib(40): back in {latency * 1e3:.0f} ms "
          f"(target <= {TARGET_INTERRUPT * 1e3:.0f})")
    ok = (ratio <= TARGET_RATIO and row["mib"] <= TARGET_MIB and latency <= TARGET_INTERRUPT
          and row["value"] == row["expected"])
    return 1 if args.check and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
