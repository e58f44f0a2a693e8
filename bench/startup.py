"""Start-up time of `diffi -c "1+1"` against `python -c "import numpy"`.

Target: diffi starts in at most 1.5x the time Python takes to import NumPy (a familiar
dependency, for scale: diffi loads NumPy only when a program uses tensors), counting
everything diffi loads at start-up (Lark, the grammar; prompt_toolkit only for the REPL).

Usage: python bench/startup.py [--runs N] [--check]
Runs are interleaved so that all commands share the machine's noise; the medians are
compared. Exit status 0 (it is a report) unless --check is given and a ratio is over target.
"""

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 1.5
BASELINE = ("python -c 'import numpy'", [sys.executable, "-c", "import numpy"])


def diffi_commands():
    """The ways to start diffi from this Python: `-m diffi`, and the console script if installed."""
    commands = [("python -m diffi -c '1+1'", [sys.executable, "-m", "diffi", "-c", "1+1"])]
    for name in ("diffi", "diffi.exe"):
        script = Path(sys.executable).parent / name
        if script.is_file():
            commands.append(("diffi -c '1+1' (console script)", [str(script), "-c", "1+1"]))
            break
    return commands


def preflight(label, argv):
    """Run a command once (also warming caches); stop with a clear message if it fails."""
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120)
    if done.returncode != 0 or ("diffi" in label and done.stdout.strip() != "2"):
        sys.exit(
            f"bench/startup.py: `{label}` does not work yet "
            f"(exit {done.returncode}, stdout {done.stdout.strip()!r}).\n"
            f"{done.stderr.strip()}\n"
            "Is the interpreter (diffi/frontends/cli.py, diffi/__main__.py) in place and are "
            "lark, numpy and prompt_toolkit installed for this Python?"
        )


def wall_time(argv):
    """Seconds one run of argv takes, output discarded."""
    start = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def measure(commands, runs):
    """Median wall time of each command over interleaved rounds, rotating the order."""
    times = {label: [] for label, _ in commands}
    for i in range(runs):
        k = i % len(commands)
        for label, argv in commands[k:] + commands[:k]:
            times[label].append(wall_time(argv))
    return {label: statistics.median(ts) for label, ts in times.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="runs of each command (default 21)")
    parser.add_argument("--check", action="store_true", help="exit 1 if a ratio is over target")
    args = parser.parse_args(argv)

    commands = [BASELINE, *diffi_commands()]
    for label, cmd in commands:
        preflight(label, cmd)
    medians = measure(commands, max(1, args.runs))

    base = medians[BASELINE[0]]
    print(f"median of {args.runs} interleaved runs each")
    print(f"  {BASELINE[0]:<48} {base * 1000:8.1f} ms")
    over = False
    for label, _ in commands[1:]:
        ratio = medians[label] / base
        verdict = "ok" if ratio <= TARGET_RATIO else "OVER TARGET"
        over |= ratio > TARGET_RATIO
        print(f"  {label:<48} {medians[label] * 1000:8.1f} ms  {ratio:5.2f}x  {verdict}")
    print(f"target: diffi start-up at most {TARGET_RATIO}x the NumPy import")
    return 1 if args.check and over else 0


if __name__ == "__main__":
    sys.exit(main())
