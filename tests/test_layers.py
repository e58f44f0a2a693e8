"""The package's layers (docs/architecture.md): imports flow one way, never in a loop.

The import graph is read from the source with `ast` by bench/imports.py, counting the
imports inside functions too. The layers, bottom to top: the foundation (errors,
arrays, calls), language, table, core, modes, compile, directives, the interpreter (and the
package's own __init__), the front ends. A module may import its own layer or one
below; an import inside a function is allowed only where it keeps start-up lazy, and
each of those is listed here by importer and target.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("bench_imports", ROOT / "bench" / "imports.py")
imports = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(imports)

LAYERS = ["foundation", "language", "table", "core", "modes", "compile", "directives",
          "interpreter", "frontends"]
FOUNDATION = {"diffi.errors", "diffi.arrays", "diffi.calls"}
TOP_LEVEL = {"diffi": "interpreter", "diffi.interpreter": "interpreter",
             "diffi.__main__": "frontends"}
# Entry points other programs call by name, reaching up to a front end (lazily):
# IPython's `%load_ext diffi` calls diffi.load_ipython_extension.
ENTRY_POINTS = {("diffi", "diffi.frontends.notebook")}

# (importer, target) of every import inside a function, each one keeping start-up lazy
LAZY = {
    ("diffi.arrays", "numpy"),                          # NumPy for the first tensor
    ("diffi.core.values", "wcwidth"),                   # column widths of non-ASCII text
    ("diffi.interpreter", "diffi.directives"),          # the evaluator's directive runner
    ("diffi.interpreter", "diffi.compile.cache"),       # the evaluator's compile cache
    ("diffi.directives", "diffi.directives.training"),  # minimize, with the compiler
    ("diffi.frontends.cli", "diffi.frontends.repl"),    # prompt_toolkit's REPL
    ("diffi.frontends.cli", "diffi.frontends.session"),  # the plain REPL
    ("diffi.frontends.cli", "diffi.frontends.json_output"),  # --json (and the json module)
    ("diffi.core.data", "csv"),                         # the csv module, for load
    ("diffi.frontends.progress", "prompt_toolkit"),     # the progress bar on a terminal
    ("diffi.interpreter", "diffi.directives.latex"),    # Interpreter.latex of a value
    ("diffi", "diffi.frontends.notebook"),              # %load_ext diffi, in IPython only
    ("diffi.frontends.notebook", "IPython"),            # IPython's display, in a cell only
    ("diffi.directives.plots", "matplotlib"),           # the plot extra, for files only
    ("diffi.calls", "ctypes"),                          # a second Ctrl-C forces a stop
}


@pytest.fixture(scope="module")
def graph():
    return imports.scan(ROOT / "diffi")


def layer(module: str) -> str:
    if module in FOUNDATION:
        return "foundation"
    if module in TOP_LEVEL:
        return TOP_LEVEL[module]
    name = module.split(".")[1]
    assert name in LAYERS, f"{module} is in no layer: give it a folder or a place here"
    return name


def test_every_module_has_a_layer(graph):
    for module in graph.files:
        layer(module)


def test_no_import_loop(graph):
    assert imports.loops(graph) == []


def test_imports_go_down_or_stay_in_their_layer(graph):
    wrong = [f"{i.source} ({layer(i.source)}) imports {i.target} ({layer(i.target)}) "
             f"at line {i.line}"
             for i in graph.internal()
             if LAYERS.index(layer(i.target)) > LAYERS.index(layer(i.source))
             and (i.source, i.target) not in ENTRY_POINTS]
    assert wrong == []


def test_imports_inside_functions_only_keep_start_up_lazy(graph):
    inside = {(i.source, i.target) for i in graph.imports if i.inside}
    assert inside - LAZY == set(), "an import inside a function that is not a lazy load"
    assert inside == LAZY, "a lazy load is gone: take it off the list"


def test_each_lazy_import_says_why(graph):
    # a comment on its line, or above it (above the first of a run of imports)
    for i in graph.imports:
        if i.inside:
            lines = graph.files[i.source].read_text(encoding="utf-8").splitlines()
            above = i.line - 2
            while lines[above].strip().startswith(("from ", "import ")):
                above -= 1
            said = "#" in lines[i.line - 1] or lines[above].strip().startswith("#")
            assert said, f"{i.source}:{i.line} {i.text}: say why it is inside a function"


def test_the_graph_sees_imports_of_every_form(graph):
    # guards against a reader that finds nothing, so that the tests above would pass
    edges = graph.edges()
    assert "diffi.table" in edges["diffi.core.evaluator"]          # from .. import table
    assert "diffi.table.scalars" in edges["diffi.table.tensors"]   # from .scalars import …
    assert "diffi.directives.check" in edges["diffi.directives"]   # from . import check
    assert "diffi" in edges["diffi.frontends.cli"]                 # from .. import __version__


def test_the_tests_folders_are_the_layers_folders():
    # tests/ mirrors the package (docs/architecture.md, Tests): one folder per layer
    # folder of diffi/, each a package so that its files' names cannot collide
    layers = {p.name for p in (ROOT / "diffi").iterdir() if (p / "__init__.py").is_file()}
    folders = {p.name for p in (ROOT / "tests").iterdir()
               if p.is_dir() and any(p.glob("test_*.py"))}
    assert folders == layers
    assert all((ROOT / "tests" / f / "__init__.py").is_file() for f in folders)
