"""Canonical JSON (spec-1 §3.4): key order, nulls, sorted rule sets, round trips."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pureflow.format import (
    format_for_path,
    parse_raw,
    raw_to_canonical_json,
    read_document_text,
    rule_sources_for,
)
from pureflow_format_testdata import (
    BASE_TOML,
    BASE_YAML,
    JSON,
    TOML,
    YAML,
    conformance_examples,
    jdoc,
)


def test_key_order_nulls_and_no_trailing_newline() -> None:
    text = raw_to_canonical_json(parse_raw(jdoc(lambda d: d["edges"][0].pop("capacity")), JSON))
    assert not text.endswith("\n")
    value = json.loads(text)
    assert list(value) == ["pureflow_version", "id", "nodes", "edges"]
    assert list(value["nodes"][0]) == ["id", "inputs", "outputs"]
    assert list(value["edges"][0]) == ["source", "target", "capacity"]
    assert list(value["edges"][0]["source"]) == ["node", "port"]
    assert value["edges"][0]["capacity"] is None
    assert '\n  "id": "flow",' in text  # two-space indent
    assert "rule_set" not in text


def test_missing_version_is_written_as_null() -> None:
    raw = parse_raw(jdoc(lambda d: d.pop("pureflow_version")), JSON)
    assert json.loads(raw_to_canonical_json(raw))["pureflow_version"] is None


def test_extensions_and_rule_sets() -> None:
    def change(document):
        document["cycles"] = "allow"
        document["nodes"][0].update(
            component="builtin:x",
            config={"b": 1, "a": {"d": 2, "c": 3}},
            rule_set={"z": 1, "a": [{"y": 1, "b": 2}]},
            rule_set_ref="r.json",
        )

    value = json.loads(raw_to_canonical_json(parse_raw(jdoc(change), JSON)))
    assert list(value) == ["pureflow_version", "id", "nodes", "edges", "cycles"]
    node = value["nodes"][0]
    assert list(node) == [
        "id",
        "inputs",
        "outputs",
        "component",
        "config",
        "rule_set",
        "rule_set_ref",
    ]
    assert list(node["rule_set"]) == ["a", "z"]
    assert list(node["rule_set"]["a"][0]) == ["b", "y"]
    assert list(node["config"]["a"]) == ["c", "d"]


def test_unicode_is_written_raw() -> None:
    text = raw_to_canonical_json(parse_raw(jdoc(lambda d: d.update(id="源流")), JSON))
    assert '"id": "源流"' in text


@pytest.mark.parametrize("path", conformance_examples(), ids=lambda p: p.name)
def test_conformance_examples_round_trip(path: Path) -> None:
    raw = parse_raw(read_document_text(path), format_for_path(path))
    again = parse_raw(raw_to_canonical_json(raw), JSON)
    assert again == raw
    rule_sources = rule_sources_for(path)  # a rule_set_ref is relative to the document
    assert again.to_workflow(rule_sources) == raw.to_workflow(rule_sources)
    assert raw_to_canonical_json(again) == raw_to_canonical_json(raw)


@pytest.mark.parametrize(("text", "fmt"), [(BASE_YAML, YAML), (BASE_TOML, TOML)])
def test_yaml_and_toml_round_trip_through_json(text: str, fmt) -> None:
    raw = parse_raw(text, fmt)
    assert parse_raw(raw_to_canonical_json(raw), JSON) == raw


identifier = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cc", "Cs", "Zs", "Zl", "Zp"), blacklist_characters="\x85"
    ),
    min_size=1,
    max_size=8,
)


@st.composite
def dag_documents(draw: st.DrawFn) -> dict:
    names = draw(st.lists(identifier, min_size=1, max_size=8, unique=True))
    nodes = [
        {"id": name, "inputs": [f"in{i}" for i in range(len(names))], "outputs": ["out"]}
        for name in names
    ]
    edges = []
    for target in range(len(names)):
        for source in range(target):
            if draw(st.booleans()):
                capacity = draw(st.none() | st.integers(1, 16))
                edge = {
                    "source": {"node": names[source], "port": "out"},
                    "target": {"node": names[target], "port": f"in{source}"},
                }
                if capacity is not None or draw(st.booleans()):
                    edge["capacity"] = capacity
                edges.append(edge)
    document = {"pureflow_version": "1", "id": draw(identifier), "nodes": nodes, "edges": edges}
    if draw(st.booleans()):
        nodes[0]["component"] = draw(st.sampled_from(["python:m:f", "builtin:b", "wasm:g.wasm"]))
    if draw(st.booleans()):
        nodes[-1]["config"] = draw(
            st.dictionaries(st.text(max_size=3), st.integers() | st.text(max_size=3), max_size=3)
        )
    if draw(st.booleans()):
        document["cycles"] = draw(st.sampled_from(["reject", "allow"]))
    return document


@settings(max_examples=200, deadline=None)
@given(document=dag_documents())
def test_generated_dags_round_trip(document: dict) -> None:
    raw = parse_raw(json.dumps(document), JSON)
    workflow = raw.to_workflow()
    canonical = raw_to_canonical_json(raw)
    again = parse_raw(canonical, JSON)
    assert again == raw
    assert again.to_workflow() == workflow
    assert raw_to_canonical_json(again) == canonical


def test_replicas_and_partition_are_written_after_the_other_node_fields() -> None:
    def change(document: dict[str, Any]) -> None:
        document["nodes"][1].update({"replicas": 2, "partition": {"key": "/k"}, "config": {"b": 1}})

    raw = parse_raw(jdoc(change), JSON)
    node = json.loads(raw_to_canonical_json(raw))["nodes"][1]
    assert list(node) == ["id", "inputs", "outputs", "config", "replicas", "partition"]
    assert parse_raw(raw_to_canonical_json(raw), JSON) == raw
