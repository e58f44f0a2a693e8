"""The long fuzzing run: generated inputs for as long as you like, failures saved to disk.

Generates inputs of every kind (tests/fuzzing.py), runs each in a worker process under
a 2 GB memory cap and a watchdog (the interpreter's timeout plus a margin), and counts
the outcomes by class. Each failing input is written to --out (minimised by deleting
tokens while it fails the same way, for the first few of each root cause), with a
summary.json that groups them by root cause: class, exception type, message pattern,
and the innermost frame in diffi.

Usage:
  python bench/fuzz.py [--seconds 3600] [--seed 0] [--jobs 2] [--out fuzz-failures/]
                       [--kinds deep api …] [--cases N] [--timeout 1.0] [--heavy 1.0]
  python bench/fuzz.py --targeted      # the known hostile inputs: time and peak memory

With one kind, `--seed S --timeout T --heavy H --cases N` makes the same inputs as
`fuzzing.Generator(S, timeout=T, heavy=H).cases(kind, N)` (what tests/test_fuzz.py runs).
Exit status 0: it is a report.
"""
from __future__ import annotations

import argparse
import collections
import hashlib
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import fuzzing  # noqa: E402

SAVED_PER_CAUSE = 5      # inputs written to disk for each root cause
MINIMISED_PER_CAUSE = 2  # of which the first ones are minimised
# The long run's mix: deep inputs cost the most (nesting of 50,000, hangs), so fewer.
WEIGHTS = {kind: 1.0 for kind in fuzzing.KINDS}
WEIGHTS["deep"] = 0.5


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3600, help="how long to run")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2, help="worker processes at once")
    parser.add_argument("--out", default="fuzz-failures/", help="folder for failing inputs")
    parser.add_argument("--kinds", nargs="*", default=None, choices=fuzzing.KINDS)
    parser.add_argument("--cases", type=int, default=0, help="stop after this many (0: no limit)")
    parser.add_argument("--timeout", type=float, default=1.0, help="the interpreters' timeout")
    parser.add_argument("--heavy", type=float, default=1.0,
                        help="scales the chance of costly inputs (huge sizes and depths)")
    parser.add_argument("--targeted", action="store_true",
                        help="run the known hostile inputs instead, one fresh worker each")
    args = parser.parse_args(argv)
    if args.targeted:
        return targeted(args)
    return fuzz(args)


def generate(gen: fuzzing.Generator, kinds: list[str], count: int) -> list:
    if len(kinds) == 1:
        return gen.cases(kinds[0], count)
    return gen.mixed(count, {k: WEIGHTS[k] for k in kinds})


def fuzz(args) -> int:
    kinds = args.kinds or fuzzing.KINDS
    gen = fuzzing.Generator(args.seed, timeout=args.timeout, heavy=args.heavy)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    counts = collections.Counter()
    by_kind = collections.defaultdict(collections.Counter)
    causes: dict = {}
    tried, started, shrinking = 0, time.monotonic(), 0.0
    last_report = started
    print(f"fuzzing diffi ({diffi_version()}) for {args.seconds:g} s: seed {args.seed}, "
          f"{args.jobs} jobs, kinds {' '.join(kinds)}; failures go to {out}/", flush=True)
    with fuzzing.Pool(jobs=args.jobs) as pool, fuzzing.Pool(jobs=1) as shrinker:
        while time.monotonic() - started < args.seconds:
            batch = 100 if not args.cases else min(100, args.cases - tried)
            if batch <= 0:
                break
            failed = []
            for case, outcome in pool.run(generate(gen, kinds, batch)):
                tried += 1
                counts[outcome.cls] += 1
                by_kind[case.kind][outcome.cls] += 1
                if outcome.failed:
                    failed.append((case, outcome))
            # (minimised once the batch is done, so that no more than --jobs workers run)
            begun = time.monotonic()
            for case, outcome in failed:
                record(out, causes, case, outcome, shrinker)
            shrinking += time.monotonic() - begun
            now = time.monotonic()
            if now - last_report >= 30:
                last_report = now
                print(f"  {now - started:7.0f} s  {tried} inputs  {tried / (now - started):.1f}/s  "
                      + "  ".join(f"{c} {n}" for c, n in sorted(counts.items())), flush=True)
    elapsed = time.monotonic() - started
    fuzzing_time = max(1e-9, elapsed - shrinking)
    summary = {
        "seed": args.seed, "seconds": round(elapsed, 1), "minimising_seconds": round(shrinking, 1),
        "inputs": tried, "inputs_per_second": round(tried / fuzzing_time, 2),
        "counts": dict(counts), "by_kind": {k: dict(v) for k, v in by_kind.items()},
        "causes": sorted(causes.values(), key=lambda c: -c["count"]),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False))
    print(f"\n{tried} inputs in {elapsed:.0f} s ({shrinking:.0f} s of it minimising failures): "
          f"{summary['inputs_per_second']} inputs/s")
    for cls in fuzzing.CLASSES:
        print(f"  {cls:18} {counts.get(cls, 0)}")
    print(f"\n{len(causes)} distinct root causes (class, type, message pattern, frame):")
    for cause in summary["causes"]:
        print(f"  {cause['count']:6}  {cause['class']:17} {cause['type']:14} "
              f"{cause['frame'] or '?':45} {cause['pattern'][:70]}")
        print(f"          e.g. {cause['example'][:150]!r}  ({cause['file']})")
    return 0


def record(out: Path, causes: dict, case, outcome, shrinker) -> None:
    """Count a failure under its root cause; save the first few inputs (minimised)."""
    signature = outcome.signature()
    key = hashlib.sha1(repr(signature).encode()).hexdigest()[:10]
    cause = causes.setdefault(key, {
        "class": outcome.cls, "type": outcome.type,
        "pattern": signature[2] or signature[1],  # (bad positions, rollbacks: their tag)
        "frame": outcome.frame, "message": outcome.message[:300], "count": 0,
        "kinds": {}, "example": "", "file": "", "detail": outcome.detail[:300]})
    cause["count"] += 1
    cause["kinds"][case.kind] = cause["kinds"].get(case.kind, 0) + 1
    n = cause["count"]
    if n > SAVED_PER_CAUSE:
        return
    if n <= MINIMISED_PER_CAUSE:
        case = fuzzing.minimise(shrinker, case, outcome)
    folder = out / outcome.cls
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{key}-{n}.{'py' if case.api is not None else 'dfi'}"
    header = "\n".join(f"# {line}" for line in [
        f"{outcome.cls}: {outcome.type}: {outcome.message[:200]!r}",
        f"at {outcome.frame or '?'}; {outcome.detail[:200]}",
        f"kind {case.kind} {case.label}; limits {case.limits}; runs {len(case.runs)}",
    ])
    path.write_text(header + "\n" + case.text(), encoding="utf-8", errors="surrogatepass")
    (folder / f"{key}-{n}.json").write_text(json.dumps(
        {"case": case.to_json(), "outcome": outcome.to_json()}, ensure_ascii=True))
    if n == 1 or len(case.text()) < len(cause["example"]):
        cause["example"] = case.label or case.text()[:500]
        cause["file"] = str(path)


def diffi_version() -> str:
    path = fuzzing.diffi_path()
    return f"diffi from {path}" if path else "diffi not found"


# ---------------------------------------------------------------------------------------
# The known hostile inputs (an earlier review): time and peak memory, each in a fresh
# worker, with default limits and with timeout=1

TARGETED = [
    ("tuple nesting 20,000", 'x = ' + '(2, ' * 20000 + '1' + ')' * 20000),
    ("load /etc/passwd", 'load("/etc/passwd")'),
    ("load /bin/sh", 'load("/bin/sh")'),
    ("load NUL in name", 'load("a\x00b")'),
    ("load /dev/zero", 'load("/dev/zero")'),
    # (the workers' sandbox refuses the write: the message shows that diffi tried it)
    ("graph to /tmp", 'graph x to "/tmp/diffi-fuzz-anywhere.dot"'),
    ("eye(20000)", "x = eye(20000);"),
    ("d18/dx18", "d18/dx18 sin(x)*exp(x)*log(x)"),
    ("d200/dx200 x", "d200/dx200 x"),
    ("d200/dx200 x at x = 1", "d200/dx200 x at x = 1"),
    ("d0/dx x^2 (no point)", "d0/dx x^2"),
    ("d0/dx x^2 at x = 3", "d0/dx x^2 at x = 3"),
    ("10k x 10k matmul", "x = ones(10000, 10000) @ ones(10000, 10000);"),
    ("fib(16)", "fib(n) = if n < 2 then n else fib(n-1) + fib(n-2)\nfib(16)"),
    ("fib(18)", "fib(n) = if n < 2 then n else fib(n-1) + fib(n-2)\nfib(18)"),
    ("fib(20)", "fib(n) = if n < 2 then n else fib(n-1) + fib(n-2)\nfib(20)"),
    ("fib(22)", "fib(n) = if n < 2 then n else fib(n-1) + fib(n-2)\nfib(22)"),
    ("fib(24)", "fib(n) = if n < 2 then n else fib(n-1) + fib(n-2)\nfib(24)"),
    ("fib(26)", "fib(n) = if n < 2 then n else fib(n-1) + fib(n-2)\nfib(26)"),
    ("2 MB string literal", 'x = "' + "a" * 2_000_000 + '"'),
    ("index error, 6M tensor", "x = ones(6000000); x[7000000]"),
    ("linspace(\"a\", 0, 3)", 'linspace("a", 0, 3)'),
    ("argmax(\"s\")", 'argmax("s")'),
    ("check at x = []", "check x at x = []"),
    ("linspace 1e9", "linspace(0, 1, 1e9)"),
    ("onehot 1e8 classes", "onehot([0], 1e8)"),
    ("symbolic chain 3,000", "d/dx " + "sin(" * 3000 + "x" + ")" * 3000),
    ("index chain 10,000", "x = [1, 2]; x" + "[0]" * 10000),
    ("fib(40)", "fib(n) = if n < 2 then n else fib(n-1) + fib(n-2)\nfib(40)"),
    ("minimize 10**9 steps", "w = 5; L(v) = (v - 1)^2\n"
                             "minimize L(w) wrt w using gd(rate = 0.001, steps = 1e9)"),
    ("order 10**6 (API)", None),
    ("it['x'] = 10**400 (API)", None),
]
API_TARGETED = {  # the targets made by a Python call, not a program
    "order 10**6 (API)": "it.derivative('x^2', wrt='x', at=1, order=10**6)",
    "it['x'] = 10**400 (API)": "it.__setitem__('x', 10**400)",
}


def targeted(args) -> int:
    rows = []
    cases = []
    for label, source in TARGETED:
        for limits in ({}, {"timeout": 1.0}):
            if source is None:
                api = API_TARGETED[label]
                cases.append(fuzzing.Case("targeted", [], limits, api=api, label=label))
            else:
                cases.append(fuzzing.Case("targeted", [source], limits, label=label))
    # one fresh worker per case (its own peak memory), 4 GB cap, 120 s at most
    print(f"{'input':26} {'limits':13} {'outcome':18} {'seconds':>8} {'peak MB':>8}  message")
    with fuzzing.Pool(jobs=args.jobs, memory=4 * 1024 ** 3, fresh=True, limit=120) as pool:
        for case, outcome in sorted(pool.run(cases), key=lambda r: cases.index(r[0])):
            rows.append((case, outcome))
    for case, outcome in rows:
        limits = "timeout=1" if case.limits else "default"
        said = f"{outcome.type}: {outcome.message}" if outcome.type else \
            outcome.detail.split("; ", 1)[-1]
        print(f"{case.label:26} {limits:13} {outcome.cls:18} {outcome.seconds:8.2f} "
              f"{outcome.maxrss / 1024:8.0f}  {said.replace(chr(10), ' ')[:90]}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
