"""bench/README.md: every command it lists names a script that exists, and every
option its comment gives is one the script takes, with the value the comment says is
its default (the benchmarks themselves are run by hand: timings on a shared machine
are too noisy to gate a build on)."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from outputs import blocks  # (tests/ is on the path: pytest puts it there)

BENCH = Path(__file__).resolve().parent.parent / "bench"
COMMANDS = [line for lang, text, _ in blocks(BENCH / "README.md") if lang == "sh"
            for line in text.splitlines() if line.strip()]
# runs a script up to its parse_args, which prints the defaults instead and exits
DEFAULTS = """
import argparse, json, pathlib, runpy, sys
parse = argparse.ArgumentParser.parse_args
def defaults(self, args=None, namespace=None):
    print(json.dumps(vars(parse(self, []))))
    sys.exit(0)
argparse.ArgumentParser.parse_args = defaults
script = sys.argv[1]
sys.argv, sys.path[0] = [script], str(pathlib.Path(script).parent)
runpy.run_path(script, run_name="__main__")
"""


def test_the_readme_lists_every_benchmark_script():
    # (a script runs as __main__; a module the scripts share, timing.py, does not)
    scripts = {p.name for p in BENCH.glob("*.py") if "__main__" in p.read_text("utf-8")}
    listed = {re.search(r"bench/(\w+\.py)", line).group(1) for line in COMMANDS}
    assert listed == scripts
    assert "timing.py" not in scripts and "throughput.py" in scripts


def test_the_scripts_share_one_timing_loop():
    sharing = {p.name for p in BENCH.glob("*.py")
               if "from timing import median_time" in p.read_text("utf-8")}
    assert {"chain.py", "gradient.py", "output.py", "throughput.py"} <= sharing


def stated(comment: str) -> dict:
    """The options a comment names, with the numbers that follow each."""
    return {flag[2:].replace("-", "_"): [int(n) for n in numbers.split()]
            for flag, numbers in re.findall(r"(--[a-z-]+)((?:\s+\d+)*)", comment)}


def test_stated_reads_options_and_their_numbers():
    assert stated("# --lines 10000 --runs 3 by default") == {"lines": [10000], "runs": [3]}
    assert stated("# --sizes 10 100 --slow-modes") == {"sizes": [10, 100], "slow_modes": []}


@pytest.mark.parametrize("line", [c for c in COMMANDS if "# --" in c],
                         ids=lambda c: re.search(r"bench/(\w+)", c).group(1))
def test_the_options_a_command_line_names_are_the_scripts_own_with_their_defaults(line):
    script = BENCH / re.search(r"bench/(\w+\.py)", line).group(1)
    done = subprocess.run([sys.executable, "-c", DEFAULTS, str(script)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    defaults = json.loads(done.stdout)
    options = stated(line.split("#", 1)[1])
    assert options
    for name, numbers in options.items():
        assert name in defaults, (name, sorted(defaults))
        default = defaults[name]
        if numbers:  # (a flag alone, like --check, states no default)
            assert numbers == (default if isinstance(default, list) else [default]), name
