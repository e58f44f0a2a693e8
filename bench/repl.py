"""The REPL's responsiveness: launch to a usable prompt, and a keystroke with completion on.

Targets: completion under 50 ms per keystroke with 1,000 names defined (issue #4), and
a prompt within half a second of launch (ptpython and IPython take about that or more;
a NumPy import is printed for scale).

Both are measured end to end in a pseudo-terminal (pexpect), as a user sees them:
- start-up: from spawning `python -m diffi` to the prompt `diffi> ` on the screen;
- keystroke: with 1,000 names value_0000 … value_0999 defined (`diffi -i names.dfi`),
  from sending the key `v` to the completion menu, showing value_0000, on the screen.
Also reported: the completer alone, in-process, for the same 1,000 names.

Usage: python bench/repl.py [--runs N] [--check]
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
KEYSTROKE_TARGET = 0.050
STARTUP_TARGET = 0.5
NAMES = 1000


def environment(state: str) -> dict:
    """A terminal for diffi: xterm, its own history folder, no cursor-position queries."""
    return dict(os.environ, PYTHONPATH=str(ROOT), TERM="xterm", XDG_STATE_HOME=state,
                PROMPT_TOOLKIT_NO_CPR="1")


def spawn(args, state: str):
    import pexpect
    child = pexpect.spawn(sys.executable, ["-m", "diffi", *args], env=environment(state),
                          encoding="utf-8", timeout=30, dimensions=(40, 120))
    child.delaybeforesend = None  # pexpect sleeps 50 ms before each send by default
    return child


def startup(state: str) -> float:
    """Seconds from spawning diffi to its prompt."""
    begin = time.perf_counter()
    child = spawn([], state)
    child.expect("diffi> ")
    elapsed = time.perf_counter() - begin
    quit_(child)
    return elapsed


def quit_(child) -> None:
    """Ctrl-D, and wait for diffi to end."""
    import pexpect
    time.sleep(0.05)
    child.send("\x03\x04")
    child.expect(pexpect.EOF)
    child.close()


def numpy_import() -> float:
    begin = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import numpy"], check=True)
    return time.perf_counter() - begin


def names_script(folder: str) -> str:
    path = os.path.join(folder, "names.dfi")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("".join(f"value_{i:04d} = {i} * 1.5\n" for i in range(NAMES)))
    return path


def keystrokes(state: str, script: str, runs: int) -> list[float]:
    """Seconds from each key `v` to the completion menu on screen."""
    child = spawn(["-i", script], state)
    child.expect("diffi> ")
    times = []
    for _ in range(runs):
        begin = time.perf_counter()
        child.send("v")
        child.expect("value_0000")
        times.append(time.perf_counter() - begin)
        child.send("\x03")  # Ctrl-C: a fresh, empty prompt
        child.expect("diffi> ")
        time.sleep(0.05)  # let the new prompt settle, so the next key is not typeahead
    quit_(child)
    return times


def completer_alone(runs: int) -> list[float]:
    """Seconds the completer takes for `v` with the 1,000 names, in-process."""
    from prompt_toolkit.completion import CompleteEvent
    from prompt_toolkit.document import Document

    from diffi.frontends.repl import SourceCompleter
    from diffi.frontends.session import make_session
    session = make_session(None, io.StringIO(), io.StringIO())
    session.run("".join(f"value_{i:04d} = {i} * 1.5\n" for i in range(NAMES)))
    completer = SourceCompleter(session)
    times = []
    for _ in range(runs):
        begin = time.perf_counter()
        found = list(completer.get_completions(Document("v"), CompleteEvent()))
        times.append(time.perf_counter() - begin)
    assert len(found) >= NAMES, len(found)
    return times


def report(label: str, times: list[float], target: float | None = None) -> bool:
    median, worst = statistics.median(times), max(times)
    verdict = ""
    if target is not None:
        verdict = "  ok" if median <= target else "  OVER TARGET"
    print(f"  {label:<44} median {median * 1000:7.1f} ms   max {worst * 1000:7.1f} ms{verdict}")
    return target is None or median <= target


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11, help="runs of each (default 11)")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args(argv)
    runs = max(1, args.runs)
    with tempfile.TemporaryDirectory() as state:
        numpy = [numpy_import() for _ in range(runs)]
        starts = [startup(state) for _ in range(runs)]
        keys = keystrokes(state, names_script(state), runs * 3)
    print(f"diffi REPL, {runs} runs ({runs * 3} keystrokes)")
    report("python -c 'import numpy' (reference)", numpy)
    ok = report("launch to prompt", starts, STARTUP_TARGET)
    ok &= report(f"keystroke to completion menu ({NAMES} names)", keys, KEYSTROKE_TARGET)
    report(f"completer alone ({NAMES} matches)", completer_alone(runs * 3))
    print(f"targets: prompt within {STARTUP_TARGET * 1000:.0f} ms; "
          f"keystroke under {KEYSTROKE_TARGET * 1000:.0f} ms")
    return 1 if args.check and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
