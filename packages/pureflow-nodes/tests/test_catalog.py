"""The catalog: every standard component declares ports, a valid config schema, a
description and its effects; entry points publish the same objects; the README lists
every component; the connectors' optional libraries are not imported until needed."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pureflow.nodes
import pytest
from pureflow.contract import ConfigSchema, EffectCapability
from pureflow.core import Component, component_of
from pureflow.engine import discover_components, merge_catalogs

README = Path(__file__).resolve().parents[1] / "README.md"
EXPECTED = {
    "batch",
    "collect",
    "count",
    "dedupe",
    "delay",
    "filter",
    "map",
    "merge",
    "print",
    "rate-limit",
    "read-csv",
    "read-jsonl",
    "read-lines",
    "sequence",
    "split",
    "sql-read",
    "sql-write",
    "http-request",
    "http-source",
    "watch-folder",
    "tee",
    "write-csv",
    "write-jsonl",
    "write-lines",
}


def test_catalog_names() -> None:
    catalog = pureflow.nodes.catalog()
    assert set(catalog) == EXPECTED
    assert list(catalog) == sorted(catalog)
    assert all(isinstance(item, Component) for item in catalog.values())
    assert pureflow.nodes.catalog()["map"] is catalog["map"]  # the same objects every time


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_component_is_fully_declared(name: str) -> None:
    spec = pureflow.nodes.catalog()[name].spec
    assert spec.name == name
    assert spec.description
    assert spec.description[0].isupper()
    assert spec.config_schema is not None
    ConfigSchema(spec.config_schema)  # a valid Draft 2020-12 schema
    assert spec.config_schema.get("additionalProperties") is False
    assert spec.run_in == "loop"
    # Variadic ports only where the component is about any number of ports.
    assert (spec.inputs is None) == (name == "merge")
    assert (spec.outputs is None) == (name == "tee")


FILE_READERS = {"sql-read", "watch-folder"}
FILE_WRITERS = {"collect", "sql-write"}


def test_file_components_declare_filesystem_effects() -> None:
    catalog = pureflow.nodes.catalog()
    for name, item in catalog.items():
        effects = set(item.spec.effects)
        reads = EffectCapability.FILESYSTEM_READ in effects
        writes = EffectCapability.FILESYSTEM_WRITE in effects
        assert reads == (name.startswith("read-") or name in FILE_READERS), name
        assert writes == (name.startswith("write-") or name in FILE_WRITERS), name


def test_connectors_declare_network_and_credentials() -> None:
    catalog = pureflow.nodes.catalog()
    network = EffectCapability.NETWORK_OUTBOUND
    for name in ("sql-read", "sql-write", "http-request", "http-source"):
        assert network in catalog[name].spec.effects, name
    for name in ("sql-read", "sql-write", "http-request"):  # credentials from the environment
        assert EffectCapability.ENVIRONMENT_READ in catalog[name].spec.effects, name
    for name in ("sql-write", "http-request", "http-source"):
        assert EffectCapability.EXTERNAL_EFFECT in catalog[name].spec.effects, name
    assert EffectCapability.EXTERNAL_EFFECT not in catalog["sql-read"].spec.effects


OPTIONAL = ("sqlalchemy", "psycopg", "httpx", "h11", "tenacity", "watchfiles")


def test_optional_libraries_are_not_imported_eagerly() -> None:
    """`import pureflow.nodes`, and loading every entry point as `pureflow components`
    does, leave the connectors' libraries unimported."""
    probe = (
        "import sys, pureflow.nodes\n"
        "from pureflow.engine import discover_components\n"
        "discover_components()\n"
        f"print(sorted(m for m in {OPTIONAL!r} if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def test_entry_points_publish_the_catalog() -> None:
    discovered = discover_components()
    catalog = pureflow.nodes.catalog()
    for name, item in catalog.items():
        assert discovered.get(name) is item, name
    assert merge_catalogs(catalog, discovered).keys() >= catalog.keys()


def test_every_class_is_exported_and_decorated() -> None:
    for cls in pureflow.nodes.COMPONENT_CLASSES:
        assert component_of(cls) is not None
        assert getattr(pureflow.nodes, cls.__name__) is cls


def test_readme_table_lists_every_component_with_its_ports() -> None:
    text = README.read_text(encoding="utf-8")
    rows = {
        match.group(1): match.group(0)
        for match in re.finditer(r"^\| `([a-z-]+)` \|.*$", text, re.MULTILINE)
    }
    assert set(rows) == EXPECTED
    for name, row in rows.items():
        spec = pureflow.nodes.catalog()[name].spec
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        for port in (spec.inputs or ()) + (spec.outputs or ()):
            assert f"`{port}`" in row, (name, port)
        for effect in spec.effects:
            assert effect.label in cells[-1], (name, effect)
        for key in spec.config_schema["properties"]:  # type: ignore[index]
            assert f"`{key}`" in row, (name, key)
