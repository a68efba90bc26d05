"""Each package imports only what its layer allows and declares what it imports.

``lint-imports`` (import-linter) checks that layers import downward; this test checks the
other half: a package's ``pyproject.toml`` must declare every sibling and third-party
distribution its source imports, and only siblings the design allows (DESIGN.md §2).

A third-party library imported at module level must be a dependency; one imported only
inside functions (or under ``if TYPE_CHECKING:``) may instead come from an optional extra
(``[project.optional-dependencies]``), since importing the package never loads it.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ROOT / "packages"

# DESIGN.md §2: which sibling layers each distribution may import.
ALLOWED: dict[str, set[str]] = {
    "types": set(),
    "rules": {"types"},
    "workflow": {"types", "rules"},
    "format": {"types", "rules", "workflow"},
    "contract": {"types", "rules", "workflow"},
    "introspection": {"types", "rules", "workflow", "contract"},
    "core": {"types", "rules", "workflow", "contract"},
    "runtime": {"types", "rules", "workflow", "contract", "core"},
    "engine": {"types", "rules", "workflow", "contract", "core", "runtime", "format"},
    "wasm": {"types", "rules", "workflow", "contract", "core"},
    "nodes": {"types", "rules", "workflow", "contract", "core"},
    "testkit": {"types", "rules", "workflow", "contract", "core", "runtime", "engine", "format"},
    "ray": {"types", "rules", "workflow", "contract", "core", "runtime", "engine", "format"},
    "otel": {"types", "rules", "workflow", "contract", "core"},
    "report": {"types", "rules", "workflow", "contract", "core"},
    "cli": {
        "types",
        "rules",
        "workflow",
        "contract",
        "core",
        "runtime",
        "engine",
        "format",
        "introspection",
        "wasm",
        "nodes",
        "otel",
        "report",
    },
}
DIST_OF_MODULE = {name: f"pureflow-{name}" for name in ALLOWED} | {"testkit": "pureflow-test-kit"}
# Import name -> distribution name, for third-party packages that differ.
THIRD_PARTY_DIST = {
    "ruamel": "ruamel.yaml",
    "_pytest": "pytest",
    "opentelemetry": "opentelemetry-api",
}


def _package_dirs() -> list[Path]:
    return sorted(p for p in PACKAGES.iterdir() if (p / "pyproject.toml").is_file())


def _module_name(package_dir: Path) -> str:
    (module,) = [p.name for p in (package_dir / "src" / "pureflow").iterdir() if p.is_dir()]
    return module


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=!~;\[ ]", dep, maxsplit=1)[0].strip().lower() for dep in requirements}


def _declared(package_dir: Path) -> set[str]:
    """The package's required dependencies."""
    project = tomllib.loads((package_dir / "pyproject.toml").read_text())["project"]
    return _names(project.get("dependencies", []))


def _optional(package_dir: Path) -> set[str]:
    """Distributions of the package's extras (``[project.optional-dependencies]``)."""
    project = tomllib.loads((package_dir / "pyproject.toml").read_text())["project"]
    extras = project.get("optional-dependencies", {})
    return _names([dep for group in extras.values() for dep in group])


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _module_names(node: ast.AST) -> set[str]:
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names}
    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        return {node.module}
    return set()


def _imports_by_time(package_dir: Path) -> tuple[set[str], set[str]]:
    """(imported when a module is imported, imported only later: in a function body or
    under ``if TYPE_CHECKING:``)."""
    eager: set[str] = set()
    lazy: set[str] = set()
    for source in (package_dir / "src").rglob("*.py"):
        tree = ast.parse(source.read_text(), str(source))
        stack: list[tuple[ast.AST, bool]] = [(node, False) for node in tree.body]
        while stack:
            node, deferred = stack.pop()
            (lazy if deferred else eager).update(_module_names(node))
            later = deferred or isinstance(
                node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
            )
            later = later or _is_type_checking(node)
            stack.extend((child, later) for child in ast.iter_child_nodes(node))
    return eager, lazy


@pytest.mark.parametrize("package_dir", _package_dirs(), ids=lambda p: p.name)
def test_imports_are_allowed_and_declared(package_dir: Path) -> None:
    module = _module_name(package_dir)
    declared = _declared(package_dir)
    optional = _optional(package_dir)
    eager, lazy = _imports_by_time(package_dir)
    problems = []
    for name in sorted(eager | lazy):
        top = name.split(".")[0]
        if top == "pureflow":
            layer = name.split(".")[1] if "." in name else ""
            if layer == module:
                continue
            dist = DIST_OF_MODULE[layer]
            if layer not in ALLOWED[module]:
                problems.append(f"imports pureflow.{layer}, which its layer may not use")
            elif dist in optional and name not in eager:
                continue  # a sibling in an extra, imported only when needed
            elif dist not in declared:
                problems.append(f"imports pureflow.{layer} without declaring it")
        elif top not in sys.stdlib_module_names and top != "__future__":
            dist = THIRD_PARTY_DIST.get(top, top).lower().replace("_", "-")
            if dist in declared:
                continue
            if name not in eager and dist in optional:
                continue  # an extra, imported only when needed
            if dist in optional:
                problems.append(f"imports {top} (an optional extra) when the module loads")
            else:
                problems.append(f"imports {top} without declaring {dist}")
    assert not problems, f"{package_dir.name}: " + "; ".join(problems)


def test_no_distribution_ships_pureflow_init() -> None:
    """`pureflow` is an implicit namespace package shared by every distribution."""
    assert not list(PACKAGES.glob("*/src/pureflow/__init__.py"))


def test_no_distribution_is_named_plain_pureflow() -> None:
    """A different project owns the name `pureflow` on the package index."""
    for package_dir in _package_dirs():
        project = tomllib.loads((package_dir / "pyproject.toml").read_text())["project"]
        assert project["name"] != "pureflow"
        assert "pureflow" not in _declared(package_dir)
