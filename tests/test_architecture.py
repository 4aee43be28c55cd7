"""The import rules of docs/architecture.md hold: layers (import-linter), faces, private names, no cycles.

import-linter checks the layers and the crawler/monitor direction (its contracts are in
pyproject.toml); the rules it has no contract type for are checked here from the source itself.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import tomllib
from collections import defaultdict
from pathlib import Path

import pytest

from tests.support import REPO

PACKAGES = ("monitor", "crawler")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _modules() -> dict[str, Path]:
    found = {}
    for top in PACKAGES:
        for path in (REPO / top).rglob("*.py"):
            parts = list(path.relative_to(REPO).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _package_of(module: str) -> str:
    """`monitor.store.record` → `monitor.store`; the crawler is one package."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "monitor" else "crawler"


def _imports(path: Path, module: str):
    """(imported module, names, line, at module level) for every import of our own packages."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    in_function = {id(inner) for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                   for inner in ast.walk(node)}
    is_pkg = path.name == "__init__.py"
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".") if is_pkg else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            if base.split(".")[0] in PACKAGES:
                yield base, [a.name for a in node.names], node.lineno, id(node) not in in_function
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in PACKAGES:
                    yield alias.name, [], node.lineno, id(node) not in in_function


def test_lint_imports_contracts_are_kept():
    result = subprocess.run([str(LINT_IMPORTS)], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-2000:]
    assert "broken" not in result.stdout.lower().replace("0 broken", "")


@pytest.mark.slow
def test_a_backward_import_breaks_the_layers_contract(tmp_path):
    """The proof the contracts bite: core importing the CLI fails `lint-imports`."""
    for name in PACKAGES:
        shutil.copytree(REPO / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    clock = tmp_path / "monitor" / "core" / "clock.py"
    clock.write_text(clock.read_text() + "\nfrom monitor.cli import main  # noqa: E402,F401\n")
    result = subprocess.run([str(LINT_IMPORTS)], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tmp_path)})
    assert result.returncode != 0
    assert "monitor.core.clock -> monitor.cli" in result.stdout.replace("\n", " ") or "BROKEN" in result.stdout


def test_outside_a_package_only_its_face_is_imported():
    """`from monitor.store import record_fetch`, never `from monitor.store.record import ...` from elsewhere."""
    offences = []
    for module, path in MODULES.items():
        mine = _package_of(module)
        for imported, _names, line, _top in _imports(path, module):
            target = _package_of(imported)
            if imported.startswith("monitor.") and target != mine and imported != target \
                    and not imported.startswith("monitor.templates"):
                offences.append(f"{path.relative_to(REPO)}:{line} imports {imported}")
    assert offences == []


def test_no_private_name_crosses_a_module():
    offences = [f"{path.relative_to(REPO)}:{line} imports {imported}.{name}"
                for module, path in MODULES.items()
                for imported, names, line, _top in _imports(path, module) if imported != module
                for name in names if name.startswith("_") and not name.endswith("__")]
    assert offences == []


def test_imports_inside_functions_are_only_the_cli_keeping_start_up_fast():
    offences = [f"{path.relative_to(REPO)}:{line} imports {imported}"
                for module, path in MODULES.items() if not module.startswith("monitor.cli")
                for imported, _names, line, top in _imports(path, module) if not top]
    assert offences == []


def test_zero_import_cycles_between_modules():
    """Module-level imports form no cycle (Tarjan's strongly connected components)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for module, path in MODULES.items():
        for imported, names, _line, top in _imports(path, module):
            if not top:
                continue
            targets = {f"{imported}.{n}" for n in names if f"{imported}.{n}" in MODULES} or {imported}
            graph[module] |= {t for t in targets if t in MODULES and t != module and not module.startswith(t + ".")}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(MODULES):
        if module not in index:
            visit(module)
    assert cycles == []


def test_every_package_has_a_face_that_says_what_it_holds():
    for package in sorted(m for m, path in MODULES.items() if path.name == "__init__.py"):
        init = REPO.joinpath(*package.split("."), "__init__.py")
        doc = ast.get_docstring(ast.parse(init.read_text()))
        assert doc and len(doc) > 40, f"{package}/__init__.py needs a docstring saying what it holds"


def test_every_package_ships_in_the_wheel():
    """pyproject.toml lists packages explicitly (templates/ ships as `monitor.templates`): none may be missing."""
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {m for m, path in MODULES.items() if path.name == "__init__.py"}
    assert on_disk - listed == set()


def test_every_command_of_the_table_is_the_command_of_that_name():
    """`monitor.cli.main.COMMANDS` routes names to modules imported on first use: each must resolve."""
    import click

    from monitor.cli.main import COMMANDS, main

    context = click.Context(main)
    for name in COMMANDS:
        command = main.get_command(context, name)
        assert isinstance(command, click.Command) and command.name == name, name
    assert main.list_commands(context) == sorted(COMMANDS)


def test_every_name_a_lazy_face_lists_resolves():
    """A face loaded lazily (its names in __init__.pyi) must name only things its submodules have."""
    import importlib

    lazy = sorted(m for m, path in MODULES.items() if path.name == "__init__.py" and path.with_suffix(".pyi").exists())
    assert lazy, "no lazy face found"
    for package in lazy:
        face = importlib.import_module(package)
        missing = [name for name in face.__all__ if getattr(face, name, None) is None]
        assert missing == [], f"{package}/__init__.pyi names what does not exist: {missing}"
