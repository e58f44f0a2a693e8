"""Notebooks and plots: `%load_ext diffi` in a fresh IPython, and a plot to PNG once
matplotlib is imported.

Targets: `%load_ext diffi` under 0.3 s (IPython itself already running, as in a kernel);
`plot … to "file.png"` of three curves under 1 s after matplotlib is imported. For scale,
each is printed beside a reference measured in the same run: the extension against
`import numpy` in the same fresh process, the diffi plot against matplotlib saving a
figure of the same three curves, sampled by NumPy.

Usage: python bench/see.py [--runs N] [--check]
Each run of the extension is a fresh process; medians are reported. Exit status 0 (it is
a report) unless --check is given and a target is missed. Needs the notebook and plot
extras (pip install '.[notebook,plot]').
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOAD_TARGET, PLOT_TARGET = 0.3, 1.0  # seconds

LOAD_EXT = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
start = time.perf_counter(); shell.run_line_magic("load_ext", "diffi")
load = time.perf_counter() - start
start = time.perf_counter(); import numpy
numpy_import = time.perf_counter() - start
print(json.dumps({"load": load, "numpy": numpy_import}))
"""

PLOT = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
folder = sys.argv[2]
import matplotlib.figure, numpy, diffi
it = diffi.Interpreter(output=lambda text: None)
it.base_dir = folder
times = {"diffi": [], "matplotlib": []}
for i in range(int(sys.argv[3])):
    start = time.perf_counter()
    it.run(f'plot sin(x), d/dx sin(x), tangent sin at 1 from -3 to 3 to "d{i}.png"')
    times["diffi"].append(time.perf_counter() - start)
    start = time.perf_counter()
    xs = numpy.linspace(-3, 3, 400)
    figure = matplotlib.figure.Figure(figsize=(6.4, 4.0), dpi=100)
    axes = figure.subplots()
    for ys in (numpy.sin(xs), numpy.cos(xs), numpy.sin(1) + numpy.cos(1) * (xs - 1)):
        axes.plot(xs, ys)
    figure.savefig(f"{folder}/m{i}.png")
    times["matplotlib"].append(time.perf_counter() - start)
print(json.dumps(times))
"""


def run(code, *args):
    done = subprocess.run([sys.executable, "-c", code, str(ROOT), *map(str, args)],
                          capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        sys.exit(f"bench/see.py: {done.stderr.strip()}\n(the notebook and plot extras: "
                 "pip install '.[notebook,plot]')")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    loads = [run(LOAD_EXT) for _ in range(args.runs)]
    load = statistics.median(r["load"] for r in loads)
    numpy_import = statistics.median(r["numpy"] for r in loads)
    with tempfile.TemporaryDirectory() as folder:
        plots = run(PLOT, folder, args.runs)
    plot = statistics.median(plots["diffi"][1:] or plots["diffi"])  # (the first warms up)
    reference = statistics.median(plots["matplotlib"][1:] or plots["matplotlib"])
    print(f"median of {args.runs} runs each")
    print(f"  %load_ext diffi             {load * 1000:7.1f} ms   "
          f"{load / numpy_import:4.2f}x import numpy   target {LOAD_TARGET * 1000:.0f} ms  "
          f"{'ok' if load <= LOAD_TARGET else 'MISSED'}")
    print(f"  plot of 3 curves to PNG     {plot * 1000:7.1f} ms   "
          f"{plot / reference:4.2f}x matplotlib alone   target {PLOT_TARGET * 1000:.0f} ms  "
          f"{'ok' if plot <= PLOT_TARGET else 'MISSED'}")
    if args.check and (load > LOAD_TARGET or plot > PLOT_TARGET):
        sys.exit(1)


if __name__ == "__main__":
    main()
