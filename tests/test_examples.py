"""Every example program runs and prints its checked-in expected output.

examples/NAME.dfi is run as the `diffi` command runs a script; its stdout must equal
examples/NAME.out, and its stderr examples/NAME.err (empty when that file is absent).
"Equal" as tests/outputs.py says: the text exactly, the numbers to 12 digits.
To refresh an expected output after an intended change, run
`python tests/test_examples.py --update` and review the diff.
"""
from __future__ import annotations

import io
import sys
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
