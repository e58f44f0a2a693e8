"""bench/README.md: every command it lists names a script that exists, and every
option its comment gives is one the script takes (the benchmarks themselves are run
by hand: timings on a shared machine are too noisy to gate a build on)."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
BLOCK = re.search(r"```sh\n(.*?)```", (BENCH / "README.md").read_text(), re.S).group(1)
COMMANDS = [line for line in BLOCK.splitlines() if line.strip()]


def test_the_readme_lists_every_benchmark_script():
    listed = {re.search(r"bench/(\w+\.py)", line).group(1) for line in COMMANDS}
    assert listed == {p.name for p in BENCH.glob("*.py")}


@pytest.mark.parametrize("line", [c for c in COMMANDS if "# --" in c],
                         ids=lambda c: re.search(r"bench/(\w+)", c).group(1))
def test_the_options_a_command_line_names_are_the_scripts_own(line):
    script = BENCH / re.search(r"bench/(\w+\.py)", line).group(1)
    options = re.findall(r"--[a-z-]+", line.split("#", 1)[1])
    done = subprocess.run([sys.executable, str(script), "--help"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    offered = set(re.findall(r"--[a-z-]+", done.stdout))
    assert options and set(options) <= offered, (options, offered)
