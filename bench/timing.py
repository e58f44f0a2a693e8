"""What the benchmark scripts share: timing a call by the median of repeated runs (the
median, not the mean, so that one run the machine's load slowed does not move it).
Imported by the scripts as `from timing import median_time` (a script's folder is on
its path); it is no benchmark itself."""
from __future__ import annotations

import statistics
import time


def median_time(fn, repeat: int, setup=None) -> float:
    """The median wall time of fn() over `repeat` runs; with `setup`, of fn(setup()),
    setup's own time left out (a fresh interpreter for each run, say)."""
    times = []
    for _ in range(repeat):
        args = () if setup is None else (setup(),)
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return statistics.median(times)
