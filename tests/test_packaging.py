"""Packaging: the wheel ships the grammar, the licence and py.typed, Pygments finds the
lexer once the wheel is installed, and pyproject declares what the README promises."""

import inspect
import os
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


@pytest.mark.slow
def test_wheel_ships_the_licence_and_py_typed(wheel):
    built, _ = wheel
    with zipfile.ZipFile(built) as whl:
        names = set(whl.namelist())
        metadata = whl.read("diffi-0.1.0.dist-info/METADATA").decode("utf-8")
    assert "diffi/py.typed" in names
    assert "diffi-0.1.0.dist-info/licenses/LICENSE" in names
    assert "License-Expression: MIT" in metadata.splitlines()
    assert "Classifier: Typing :: Typed" in metadata.splitlines()


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory):
    """The wheel installed (without its dependencies, which this Python has) in a folder
    that goes first on PYTHONPATH, and the environment that runs Python with it."""
    built, _ = wheel
    target = tmp_path_factory.mktemp("installed")
    done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                           "--target", str(target), str(built)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return target, dict(os.environ, PYTHONPATH=str(target))


@pytest.mark.slow
def test_pygments_finds_the_lexer_by_name_and_by_file_name(installed):
    target, env = installed
    code = ("import pygments.lexers as L, diffi; "
            "print(L.get_lexer_by_name('diffi').name, L.get_lexer_for_filename('x.dfi').name, "
            "diffi.__file__)")
    done = subprocess.run([sys.executable, "-c", code], cwd=target.parent, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    name, by_file, module = done.stdout.split()
    assert (name, by_file) == ("diffi", "diffi")
    assert module.startswith(str(target))  # the installed copy, not the source tree


@pytest.mark.slow
def test_pygmentize_l_diffi_colours_a_program(installed):
    target, env = installed
    done = subprocess.run([sys.executable, "-m", "pygments", "-l", "diffi", "-f", "html"],
                          input="d/dx sin(x) at x = 0\n", cwd=target.parent, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert '<span class="kr">d/dx</span>' in done.stdout
    assert '<span class="nb">sin</span>' in done.stdout


def test_pyproject_declares_licence_classifiers_urls_and_keywords():
    project = pyproject()["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License\n")
    assert "Typing :: Typed" in project["classifiers"]
    assert not any(c.startswith("License ::") for c in project["classifiers"])  # PEP 639
    assert set(project["urls"]) == {"Homepage", "Documentation", "Source", "Issues"}
    assert "automatic differentiation" in project["keywords"]
    assert project["entry-points"]["pygments.lexers"] == {
        "diffi": "diffi.frontends.lexer:DiffiLexer"}
    assert pyproject()["tool"]["setuptools"]["package-data"]["diffi"] == ["py.typed"]
    assert (ROOT / "diffi" / "py.typed").exists()


PUBLIC = ["run", "eval", "execute", "execute_statement", "show", "format_result", "format",
          "names", "reset", "derivative", "grad", "backprop", "hessian", "jacobian", "check",
          "graph", "call", "__init__", "__getitem__", "__setitem__", "__delitem__",
          "__contains__"]


@pytest.mark.parametrize("name", PUBLIC)
def test_the_public_api_has_type_hints(name):
    from diffi import Interpreter
    signature = inspect.signature(getattr(Interpreter, name))
    missing = [p.name for p in signature.parameters.values()
               if p.name != "self" and p.annotation is inspect.Parameter.empty]
    assert missing == [], f"Interpreter.{name}: parameters without a type hint"
    assert signature.return_annotation is not inspect.Signature.empty, name


@pytest.mark.parametrize("name", ["evaluate", "to_python", "from_python"])
def test_the_module_functions_have_type_hints(name):
    import diffi.interpreter
    signature = inspect.signature(getattr(diffi.interpreter, name))
    assert all(p.annotation is not inspect.Parameter.empty
               for p in signature.parameters.values())
    assert signature.return_annotation is not inspect.Signature.empty


@pytest.mark.parametrize("name", ["base_dir", "losses", "failed_checks", "precision",
                                  "threshold"])
def test_the_properties_have_type_hints(name):
    from diffi import Interpreter
    getter = getattr(Interpreter, name).fget
    assert "return" in getter.__annotations__, name
