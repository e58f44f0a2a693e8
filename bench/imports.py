"""The package's import graph, read with `ast` alone (nothing of diffi is imported).

Prints the modules with their lines and import level, the levels (the longest chain of
module-level imports), the import loops (counting imports inside functions too) and
every import inside a function with its file and line. tests/test_layers.py reads the
same graph to hold the layers to their order.

Usage: python bench/imports.py [PACKAGE_DIR]   (default: the diffi/ next to this folder;
give another checkout's diffi/ to compare)
"""

import argparse
import ast
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Import:
    """One import statement's edge: where it is, what it loads, whether in a function."""

    source: str          # the importing module (dotted name)
    target: str          # the imported module of the package, or an outside top name
    line: int
    inside: bool         # inside a function (run when called, not when imported)
    text: str            # the statement as written


@dataclass
class Graph:
    root: Path                                        # the package folder
    files: dict = field(default_factory=dict)         # module -> path
    lines: dict = field(default_factory=dict)         # module -> line count
    imports: list = field(default_factory=list)       # every Import, internal or not

    def internal(self, inside=None):
        """The imports of the package's own modules (inside: only those, or not)."""
        return [i for i in self.imports if i.target in self.files
                and (inside is None or i.inside == inside)]

    def edges(self, inside=None) -> dict:
        out = {m: set() for m in self.files}
        for i in self.internal(inside):
            if i.target != i.source:
                out[i.source].add(i.target)
        return out


def module_name(root: Path, path: Path) -> str:
    parts = [root.name, *path.relative_to(root).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def scan(root: Path) -> Graph:
    """The import graph of the package in folder `root`."""
    root = root.resolve()
    graph = Graph(root)
    for path in sorted(root.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        name = module_name(root, path)
        graph.files[name] = path
        graph.lines[name] = len(path.read_text(encoding="utf-8").splitlines())
    for name, path in graph.files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        _visit(graph, name, package, tree, False)
    return graph


def _visit(graph: Graph, name: str, package: str, node, inside: bool) -> None:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            text = ast.unparse(child)
            for target in dict.fromkeys(_targets(graph, package, child)):  # once each
                graph.imports.append(Import(name, target, child.lineno, inside, text))
        _visit(graph, name, package, child, inside or isinstance(
            child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))


def _targets(graph: Graph, package: str, node) -> list[str]:
    """The modules an import statement loads: a package's module where `from X import
    name` names one, else X itself; outside modules by their top-level name."""
    if isinstance(node, ast.Import):
        return [_known(graph, alias.name) for alias in node.names]
    if node.level:
        base = package.split(".")
        base = base[:len(base) - (node.level - 1)]
        module = ".".join(base + ([node.module] if node.module else []))
    else:
        module = node.module
    out = []
    for alias in node.names:
        candidate = f"{module}.{alias.name}"
        out.append(candidate if candidate in graph.files else _known(graph, module))
    return out


def _known(graph: Graph, dotted: str) -> str:
    """The longest prefix of a dotted name that is a module of the package, else the
    name's first part (an outside package: numpy, lark, prompt_toolkit …)."""
    parts = dotted.split(".")
    for k in range(len(parts), 0, -1):
        if ".".join(parts[:k]) in graph.files:
            return ".".join(parts[:k])
    return parts[0]


def levels(graph: Graph) -> dict:
    """Per module, 1 + the highest level among its module-level imports (a module that
    imports none of the package is at level 1); a loop's modules get no level."""
    edges = graph.edges(inside=False)
    level: dict = {}
    for start in sorted(edges):
        stack, on_path = [(start, iter(sorted(edges[start])))], {start}
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                on_path.discard(node)
                below = [level[c] for c in edges[node] if c in level]
                if len(below) == len(edges[node]):
                    level[node] = 1 + max(below, default=0)
                continue
            if child not in level and child not in on_path:
                on_path.add(child)
                stack.append((child, iter(sorted(edges[child]))))
    return level


def longest_chain(graph: Graph, level: dict) -> list[str]:
    """One chain of module-level imports as long as the levels: top module first."""
    edges = graph.edges(inside=False)
    if not level:
        return []
    node = max(sorted(level), key=lambda m: level[m])
    chain = [node]
    while level[node] > 1:
        node = next(c for c in sorted(edges[node]) if level.get(c) == level[node] - 1)
        chain.append(node)
    return chain


def loops(graph: Graph) -> list[list[str]]:
    """The import loops: strongly connected groups of modules (Tarjan), counting the
    imports inside functions; each sorted, loops in order of their first module."""
    edges = graph.edges()
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = [0]

    def connect(start):
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))

    for module in sorted(edges):
        if module not in index:
            connect(module)
    return sorted(found)


def short(graph: Graph, module: str) -> str:
    """A module's name without the package's: `core.evaluator`, or `(package)`."""
    prefix = graph.root.name + "."
    return module[len(prefix):] if module.startswith(prefix) else "(package)"


def report(graph: Graph) -> list[str]:
    level = levels(graph)
    found = loops(graph)
    inside = list({(i.source, i.line): i for i in graph.imports if i.inside}.values())
    chain = longest_chain(graph, level)
    width = max(len(short(graph, m)) for m in graph.files)
    lines = [f"{graph.root.name}/: {len(graph.files)} modules, "
             f"{sum(graph.lines.values())} lines",
             "",
             f"  {'module':<{width}}  lines  level"]
    for module in sorted(graph.files):
        shown = level.get(module, "loop")
        lines.append(f"  {short(graph, module):<{width}}  {graph.lines[module]:5}  {shown:>5}")
    lines += ["",
              f"import levels: {max(level.values(), default=0)}"
              + (f" ({' -> '.join(short(graph, m) for m in chain)})" if chain else ""),
              f"import loops (counting imports inside functions): {len(found)}"]
    lines += [f"  {' <-> '.join(short(graph, m) for m in group)}" for group in found]
    lines.append(f"imports inside functions: {len(inside)}")
    for i in inside:
        where = graph.files[i.source].relative_to(graph.root.parent).as_posix()
        lines.append(f"  {where}:{i.line}  {i.text}")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("package", nargs="?", default=str(ROOT / "diffi"),
                        help="the package folder to read (default: diffi/ of this checkout)")
    args = parser.parse_args(argv)
    print("\n".join(report(scan(Path(args.package)))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
