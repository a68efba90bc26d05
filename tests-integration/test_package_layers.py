"""Each package imports only what its layer allows and declares what it imports.

``lint-imports`` (import-linter) checks that layers import downward; this test checks the
other half: a package's ``pyproject.toml`` must declare every sibling and third-party
distribution its source imports, and only siblings the design allows (DESIGN.md §2).
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
    },
}
DIST_OF_MODULE = {name: f"pureflow-{name}" for name in ALLOWED} | {"testkit": "pureflow-test-kit"}
# Import name -> distribution name, for third-party packages that differ.
THIRD_PARTY_DIST = {"ruamel": "ruamel.yaml", "_pytest": "pytest"}


def _package_dirs() -> list[Path]:
    return sorted(p for p in PACKAGES.iterdir() if (p / "pyproject.toml").is_file())


def _module_name(package_dir: Path) -> str:
    (module,) = [p.name for p in (package_dir / "src" / "pureflow").iterdir() if p.is_dir()]
    return module


def _declared(package_dir: Path) -> set[str]:
    project = tomllib.loads((package_dir / "pyproject.toml").read_text())["project"]
    return {
        re.split(r"[<>=!~;\[ ]", dep, maxsplit=1)[0].strip().lower()
        for dep in project.get("dependencies", [])
    }


def _imports(package_dir: Path) -> set[str]:
    found: set[str] = set()
    for source in (package_dir / "src").rglob("*.py"):
        tree = ast.parse(source.read_text(), str(source))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
    return found


@pytest.mark.parametrize("package_dir", _package_dirs(), ids=lambda p: p.name)
def test_imports_are_allowed_and_declared(package_dir: Path) -> None:
    module = _module_name(package_dir)
    declared = _declared(package_dir)
    problems = []
    for name in sorted(_imports(package_dir)):
        top = name.split(".")[0]
        if top == "pureflow":
            layer = name.split(".")[1] if "." in name else ""
            if layer == module:
                continue
            if layer not in ALLOWED[module]:
                problems.append(f"imports pureflow.{layer}, which its layer may not use")
            elif DIST_OF_MODULE[layer] not in declared:
                problems.append(f"imports pureflow.{layer} without declaring it")
        elif top not in sys.stdlib_module_names and top != "__future__":
            dist = THIRD_PARTY_DIST.get(top, top).lower().replace("_", "-")
            if dist not in declared:
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
