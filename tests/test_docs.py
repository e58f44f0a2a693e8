"""Every snippet in README.md and docs/*.md runs and shows what the text says it shows.

- A ```diffi block followed by an ```output block: the program's output (stdout and
  stderr, in order) must equal the output block (to 12 digits: tests/outputs.py). A
  ```diffi block without one must run
  without error.
- A ```pycon block is a doctest.
- A ```console block holds `$ diffi …` commands, each followed by its expected output.
- ```sh blocks are the set-up commands; .ci/run runs them (checked below).
"""
from __future__ import annotations

import doctest
import io
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from diffi.frontends.console import Console, make_interpreter, run_source
from outputs import blocks, same_output  # (tests/ is on the path: pytest puts it there)

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))

def diffi_snippets():
    for path in DOCS:
        found = blocks(path)
        for i, (lang, text, line) in enumerate(found):
            if lang != "diffi":
                continue
            following = found[i + 1] if i + 1 < len(found) else None
            output = following[1] if following and following[0] == "output" else None
            yield pytest.param(text, output, id=f"{path.name}:{line}")


def snippets(language: str):
    for path in DOCS:
        for lang, text, line in blocks(path):
            if lang == language:
                yield pytest.param(text, id=f"{path.name}:{line}")


class Merged(io.StringIO):
    """One buffer for stdout and stderr, so that their order is kept."""


@pytest.mark.parametrize("source, output", list(diffi_snippets()))
def test_diffi_snippet(source, output, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    buffer = Merged()
    console = Console(buffer, buffer)
    status = run_source(make_interpreter(console), console, source, "snippet.dfi")
    if output is None:
        assert status == 0, buffer.getvalue()
    else:
        if not same_output(buffer.getvalue(), output):
            assert buffer.getvalue() == output  # (for pytest's diff)


@pytest.mark.parametrize("path", [p for p in DOCS if any(b[0] == "pycon" for b in blocks(p))],
                         ids=lambda p: p.name)
def test_python_snippets(path, monkeypatch, tmp_path):
    """The pycon blocks of one file run in order in one namespace, like a doctest file."""
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    report = io.StringIO()
    for lang, text, line in blocks(path):
        if lang == "pycon":
            test = parser.get_doctest(text, namespace, path.name, path.name, line)
            runner.run(test, out=report.write, clear_globs=False)
            namespace.update(test.globs)  # DocTest copies its globals
    assert runner.failures == 0, report.getvalue()
    assert runner.tries > 0


@pytest.mark.parametrize("text", list(snippets("console")))
def test_console_snippet(text, tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for command, expected in console_commands(text):
        argv = shlex.split(command)
        assert argv[0] == "diffi", command
        done = subprocess.run([sys.executable, "-m", "diffi", *argv[1:]], cwd=ROOT,
                              capture_output=True, text=True, env=env, timeout=120)
        if not same_output(done.stdout + done.stderr, expected):
            assert done.stdout + done.stderr == expected, command


def console_commands(text: str):
    """Pairs of (command, expected output) from a console block."""
    pairs, command, lines = [], None, []
    for line in text.splitlines(keepends=True):
        if line.startswith("$ "):
            if command is not None:
                pairs.append((command, "".join(lines)))
            command, lines = line[2:].strip(), []
        else:
            lines.append(line)
    if command is not None:
        pairs.append((command, "".join(lines)))
    return pairs


def test_ci_runs_the_readme_setup_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    setup = [text.strip() for lang, text, _ in blocks(ROOT / "README.md") if lang == "sh"]
    assert len(setup) == 1 and len(setup[0].splitlines()) == 2, "README: two set-up commands"
    for command in setup[0].splitlines():
        assert command in readme and command in ci.replace("'\"'\"'", "'")


CITATION = re.compile(r"\b" + "SP" + r"EC\b(?!_)")  # (spelt in two so as not to match itself)


def test_nothing_cites_a_document_outside_the_repository():
    # The docs stand alone: the contract they were written against is not shipped.
    cited = []
    files = [ROOT / "README.md", ROOT / "grammar" / "diffi.lark", *ROOT.glob("docs/*.md"),
             *ROOT.glob("examples/*.dfi"), *ROOT.glob("diffi/**/*.py"),
             *ROOT.glob("tests/**/*.py"), *ROOT.glob("bench/*")]
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if CITATION.search(line):
                cited.append(f"{path.relative_to(ROOT)}:{number}")
    assert cited == []
