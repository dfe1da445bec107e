"""The layout's rules (docs/architecture.md): each package imports only the packages below it, no import cycles,
no source reads the command line, and the package imports exactly the runtime dependencies pyproject.toml declares."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "exporter"

# What each package may import from the exporter, besides itself, ``exporter`` (the version) and ``exporter.errors``.
ALLOWED = {
    "records": set(),
    "config": {"records"},
    "rules": {"config", "records"},
    "sources": {"config", "records"},
    "output": {"config", "records", "rules"},
    "scrape": {"config", "records", "rules", "sources", "output"},
    "web": {"config", "records", "rules", "sources", "output", "scrape"},
    "tooling": {"config", "records", "rules", "sources", "output"},
    "commands": {"config", "records", "rules", "sources", "output", "scrape", "web", "tooling"},
}
# Distribution name -> the module it is imported as.
IMPORT_NAMES = {"pyyaml": "yaml", "jpype1": "jpype"}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module this file imports, at the top or inside a function, as absolute names."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def graph() -> dict[str, set[str]]:
    """Module -> the exporter modules it imports (names that are modules, not the objects imported from them)."""
    files = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    return {name: {imported for imported in imports_of(path) if imported in files} for name, path in files.items()}


def package_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and (PACKAGE / parts[1]).is_dir()) else None


def test_each_package_imports_only_the_packages_below_it() -> None:
    wrong = []
    for module, imported in graph().items():
        package = package_of(module)
        if package is None:
            continue
        for target in imported:
            other = package_of(target)
            if other is not None and other != package and other not in ALLOWED[package]:
                wrong.append(f"{module} imports {target}")
    assert wrong == []
    assert set(ALLOWED) == {path.name for path in PACKAGE.iterdir() if (path / "__init__.py").is_file()}


def find_cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every ring a depth-first walk meets, each as the modules along it (the first repeated at the end)."""
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for target in sorted(edges.get(module, ())):
            if state.get(target) == 1:
                cycles.append([*path[path.index(target):], target])
            elif target not in state:
                visit(target)
        path.pop()
        state[module] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module)
    return cycles


def test_no_import_cycles() -> None:
    assert find_cycles(graph()) == []


def test_a_ring_of_imports_is_found() -> None:
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]


def test_no_source_reads_the_command_line() -> None:
    for path in (PACKAGE / "sources").rglob("*.py"):
        imported = imports_of(path)
        assert "argparse" not in imported, path
        assert not any(name.startswith("exporter.commands") for name in imported), path


def _declared(requirements: list[str]) -> set[str]:
    names = {re.split(r"[<>=!~; \[]", requirement, maxsplit=1)[0].lower() for requirement in requirements}
    return {IMPORT_NAMES.get(name, name) for name in names}


def _third_party(paths: list[Path]) -> set[str]:
    names = {name.split(".")[0] for path in paths for name in imports_of(path)}
    return {name for name in names if name not in sys.stdlib_module_names and name not in ("exporter", "__future__")}


@pytest.fixture(scope="module")
def project() -> dict[str, object]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]  # type: ignore[no-any-return]


def test_runtime_dependencies_are_what_the_package_imports(project: dict[str, object]) -> None:
    jmx = PACKAGE / "sources" / "jmx"
    outside_jmx = [path for path in PACKAGE.rglob("*.py") if jmx not in path.parents]
    assert _third_party(outside_jmx) == _declared(project["dependencies"])  # type: ignore[arg-type]
    extra = _declared(project["optional-dependencies"]["jmx"])  # type: ignore[index]
    assert _third_party(list(jmx.rglob("*.py"))) - _declared(project["dependencies"]) == extra  # type: ignore[arg-type]


def test_the_architecture_document_names_every_package() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    for package in ALLOWED:
        assert f"`exporter/{package}/`" in text, package
