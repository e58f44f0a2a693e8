"""Packaging: the wheel ships the grammar, and pyproject declares what the README promises."""

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GRAMMAR = ROOT / "grammar" / "diffi.lark"

# Left out of the copy that the wheel is built from: environments, caches, old builds
# (a stale build/ would leak deleted files into the wheel).
NOT_SOURCES = shutil.ignore_patterns(
    ".git", ".venv", ".ci-venv", "build", "dist", "*.egg-info",
    "__pycache__", ".pytest_cache", ".hypothesis",
)


def pyproject():
    """The parsed pyproject.toml."""
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """A wheel built by `pip wheel . --no-deps` from a clean copy of the repo, and that copy."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(ROOT, src, ignore=NOT_SOURCES)
    out = tmp / "dist"
    cmd = [sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "-q", "-w", str(out)]
    done = subprocess.run(cmd, cwd=src, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"pip wheel failed:\n{done.stdout}\n{done.stderr}"
    (built,) = out.glob("diffi-*.whl")
    return built, src


@pytest.mark.slow
def test_wheel_ships_the_grammar(wheel):
    built, _ = wheel
    with zipfile.ZipFile(built) as whl:
        assert "diffi/grammar/diffi.lark" in whl.namelist()
        assert whl.read("diffi/grammar/diffi.lark") == GRAMMAR.read_bytes()


@pytest.mark.slow
def test_wheel_holds_every_module(wheel):
    built, src = wheel
    with zipfile.ZipFile(built) as whl:
        names = set(whl.namelist())
    sources = {p.relative_to(src).as_posix() for p in (src / "diffi").rglob("*.py")}
    assert sources, "no diffi/*.py found"
    assert sources <= names, f"missing from the wheel: {sorted(sources - names)}"


def test_pyproject_declares_the_console_script():
    assert pyproject()["project"]["scripts"]["diffi"] == "diffi.frontends.cli:entry"


def test_pyproject_declares_the_test_extra():
    extra = pyproject()["project"]["optional-dependencies"]["test"]
    assert {"pytest", "hypothesis", "pexpect"} <= set(extra)


def test_pyproject_declares_the_runtime_dependencies():
    assert {"lark", "prompt_toolkit", "pygments", "numpy"} <= set(
        pyproject()["project"]["dependencies"])


def test_every_subpackage_is_listed():
    # pyproject lists packages by hand (find() cannot see the mapped grammar folder),
    # so a new subpackage of diffi/ must be added there.
    listed = set(pyproject()["tool"]["setuptools"]["packages"])
    found = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in (ROOT / "diffi").rglob("__init__.py")
    }
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"


def test_version_matches_the_package():
    import diffi

    assert pyproject()["project"]["version"] == diffi.__version__
