"""Every example program runs and prints its checked-in expected output, and its
comments quote that output truly.

examples/NAME.dfi is run as the `diffi` command runs a script; its stdout must equal
examples/NAME.out, and its stderr examples/NAME.err (empty when that file is absent).
"Equal" as tests/outputs.py says: the text exactly, the numbers to 12 digits.
To refresh an expected output after an intended change, run
`python tests/test_examples.py --update` and review the diff.

The comments' convention: a comment at the end of a line that prints something starts
by quoting what it prints, ``# prints `0.5`: the reason…``: the first line the line's
statements print, exactly (to 12 digits, as above), or its beginning when the quote
ends in `…` (``# prints `0.5403…` ``).
"""
from __future__ import annotations

import io
import re
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from outputs import same_output  # (tests/ is on the path: pytest puts it there)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.dfi"))


def run_example(path: Path) -> tuple[str, str, int]:
    from diffi.frontends.console import Console, run_file
    out, err = io.StringIO(), io.StringIO()
    status = run_file(str(path.relative_to(ROOT)) if _in_root() else str(path),
                      Console(out, err))
    return out.getvalue(), err.getvalue(), status


def _in_root() -> bool:
    return Path.cwd().resolve() == ROOT


def expected(path: Path, suffix: str) -> str:
    file = path.with_suffix(suffix)
    return file.read_text(encoding="utf-8") if file.exists() else ""


def test_there_are_examples():
    assert any(p.name == "tour.dfi" for p in EXAMPLES)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_output(path, monkeypatch):
    monkeypatch.chdir(ROOT)
    out, err, status = run_example(path)
    if not same_output(out, expected(path, ".out")):
        assert out == expected(path, ".out")  # (for pytest's diff)
    assert err == expected(path, ".err")
    assert status == (1 if "error:" in err else 0)


# Comments that quote the output --------------------------------------------------------

QUOTE = re.compile(r"\bprints `([^`]*)`")


def printed_by_line(path: Path) -> dict[int, list[str]]:
    """The lines each source line's statements print: results and print(…)."""
    from diffi import Interpreter
    lines: dict[int, list[str]] = defaultdict(list)
    it = Interpreter(warn=lambda message, span: None)
    it.base_dir = str(path.parent)
    it.evaluator.on_print = lambda text, values, span: lines[span.line].extend(
        text.split("\n"))
    it.execute(path.read_text(encoding="utf-8"), str(path),
               lambda node, stmt: lines[stmt.span.line].extend(
                   it.format_result(node).split("\n")), with_statement=True)
    return lines


def trailing_comment(line: str) -> str | None:
    """The comment after code on a line (a # outside strings), or None."""
    quoted = False
    for i, char in enumerate(line):
        if char == '"' and (i == 0 or line[i - 1] != "\\"):
            quoted = not quoted
        elif char == "#" and not quoted:
            return line[i + 1:] if line[:i].strip() else None
    return None


def quotes_match(quote: str, printed: str) -> bool:
    if quote.endswith("…"):
        return same_output(printed[:len(quote) - 1], quote[:-1])
    return same_output(printed, quote)


def test_quotes_match_and_trailing_comments_quote():
    assert trailing_comment('print("a # b", 1)   # prints `a # b 1`') == " prints `a # b 1`"
    assert trailing_comment("# a whole-line comment") is None
    assert quotes_match("0.5403…", "0.54030230586814") and not quotes_match("0.5", "0.54")


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_comments_quote_what_their_line_prints(path, monkeypatch):
    monkeypatch.chdir(ROOT)
    printed = printed_by_line(path)
    source = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(source, start=1):
        comment = trailing_comment(line)
        if comment is None or not printed.get(number):
            continue
        quote = QUOTE.match(comment.strip())
        where = f"{path.name}:{number}"
        assert quote, f"{where}: a comment on a line that prints starts with prints `…`"
        assert quotes_match(quote.group(1), printed[number][0]), \
            f"{where}: the comment quotes {quote.group(1)!r}, the line prints " \
            f"{printed[number][0]!r}"


if __name__ == "__main__" and "--update" in sys.argv:
    import os
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    for example in EXAMPLES:
        out, err, _ = run_example(example)
        example.with_suffix(".out").write_text(out, encoding="utf-8")
        if err:
            example.with_suffix(".err").write_text(err, encoding="utf-8")
        print(f"updated {example.name}")
