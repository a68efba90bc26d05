"""Rule sets on nodes and their sources (spec-1 §3.5, §3.6, §8 "Rule sets", "Sources")."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from pureflow.format import (
    EmbeddedSource,
    LocalFsSource,
    RuleFileNotFound,
    RuleFileReadError,
    RuleSourceParseError,
    SourceRegistry,
    UnknownScheme,
    WorkflowDocumentError,
    load_workflow_with_rules,
    parse_raw,
    resolve_rule_sets,
)
from pureflow.format.rule_sources import uri_scheme
from pureflow.workflow.rules import RuleSet, parse_rule_set, rule_set_to_json
from pureflow_format_testdata import EXAMPLES, JSON, YAML, base

RULES_FILE = EXAMPLES / "workloads" / "rules-content-routing.fast-path.rules.json"
RULE_SET: dict[str, Any] = json.loads(RULES_FILE.read_text(encoding="utf-8"))


def router_document(**node_fields: Any) -> dict[str, Any]:
    document = base()
    document["nodes"].append(
        {
            "id": "router",
            "inputs": [],
            "outputs": ["standard-out", "high-value-out", "fast-path-out"],
            **node_fields,
        }
    )
    return document


def raw_of(document: dict[str, Any]):
    return parse_raw(json.dumps(document, indent=2), JSON)


def rule_error(document: dict[str, Any], registry: SourceRegistry | None = None):
    with pytest.raises(WorkflowDocumentError) as caught:
        load_workflow_with_rules(raw_of(document), registry)
    return caught.value


def test_the_rules_example_loads_with_its_sidecar_file() -> None:
    loaded = load_workflow_with_rules(
        EXAMPLES / "workloads" / "rules-content-routing.workflow.json"
    )
    assert list(loaded.rule_sets) == ["router-inline", "router-sidecar"]
    assert loaded.rule_sets["router-sidecar"] == parse_rule_set(RULE_SET)
    assert loaded.workflow.id == "rules-content-routing"


def test_inline_rule_set() -> None:
    loaded = load_workflow_with_rules(raw_of(router_document(rule_set=RULE_SET)))
    assert isinstance(loaded.rule_sets["router"], RuleSet)
    assert rule_set_to_json(loaded.rule_sets["router"])["id"] == "payment-router-audit"


def test_no_rule_sets_gives_an_empty_map() -> None:
    assert load_workflow_with_rules(raw_of(base())).rule_sets == {}


def test_reference_resolves_against_the_base_dir(tmp_path: Path) -> None:
    shutil.copy(RULES_FILE, tmp_path / "router.rules.json")
    document = router_document(rule_set_ref="router.rules.json")
    loaded = load_workflow_with_rules(raw_of(document), SourceRegistry.with_base_dir(tmp_path))
    assert "router" in loaded.rule_sets


def test_reference_resolves_against_the_workflow_folder(tmp_path: Path) -> None:
    shutil.copy(RULES_FILE, tmp_path / "router.rules.json")
    path = tmp_path / "flow.json"
    path.write_text(json.dumps(router_document(rule_set_ref="router.rules.json")), "utf-8")
    assert "router" in load_workflow_with_rules(path).rule_sets
    assert "router" in load_workflow_with_rules(str(path)).rule_sets


def test_file_scheme_is_registered_by_default(tmp_path: Path) -> None:
    target = tmp_path / "r.json"
    shutil.copy(RULES_FILE, target)
    document = router_document(rule_set_ref=f"file://{target}")
    assert "router" in load_workflow_with_rules(raw_of(document)).rule_sets
    registry = SourceRegistry(tmp_path)
    assert registry.load("file://r.json") == parse_rule_set(RULE_SET)
    assert registry.load("FILE://r.json") == parse_rule_set(RULE_SET)


def test_conflict() -> None:
    err = rule_error(router_document(rule_set=RULE_SET, rule_set_ref="x.json"))
    first = err.diagnostics[0]
    assert first.code == "rule_set.conflict"
    assert first.message == (
        "node 2 rule set is invalid: node declares both an inline rule_set and a rule_set_ref"
    )
    assert first.location == "/nodes/2/rule_set_ref"
    assert str(err) == f"workflow JSON is invalid: {first.message}"
    assert err.stage == "format"


def test_inline_parse_failure_points_into_the_rule_set() -> None:
    err = rule_error(router_document(rule_set={"not": "a rule set"}))
    first = err.diagnostics[0]
    assert first.code == "rule_set.parse"
    assert first.message.startswith("node 2 rule set is invalid: inline rule_set is invalid: ")
    assert first.location.startswith("/nodes/2/rule_set")
    assert first.line is not None


def test_unknown_scheme() -> None:
    err = rule_error(router_document(rule_set_ref="guardiandb://acct/rules"))
    assert err.diagnostics[0].code == "rule_set.resolve"
    assert err.diagnostics[0].message == (
        "node 2 rule set is invalid: failed to resolve rule_set_ref: no source registered for "
        "URI scheme `guardiandb`"
    )


def test_missing_file(tmp_path: Path) -> None:
    err = rule_error(router_document(rule_set_ref="nope.json"), SourceRegistry(tmp_path))
    assert err.diagnostics[0].message == (
        "node 2 rule set is invalid: failed to resolve rule_set_ref: rule set file not found: "
        f"`{tmp_path / 'nope.json'}`"
    )


def test_every_rule_set_problem_is_reported_in_node_order() -> None:
    document = router_document(rule_set_ref="guardiandb://x")
    document["nodes"][0]["rule_set"] = {"bad": 1}
    err = rule_error(document)
    assert [d.location.split("/")[2] for d in err.diagnostics] == ["0", "2"]


def test_graph_errors_come_before_rule_set_errors() -> None:
    document = router_document(rule_set={"bad": 1})
    document["id"] = "bad id"
    err = rule_error(document)
    assert [d.code for d in err.diagnostics] == ["format.identifier"]


def test_yaml_rule_set_errors_have_positions() -> None:
    text = """\
pureflow_version: "1"
id: flow
nodes:
  - id: router
    inputs: []
    outputs: []
    rule_set: {id: r, strategy: Nope, rules: [], default_action: Drop, trace_conditions: no}
edges: []
"""
    with pytest.raises(WorkflowDocumentError) as caught:
        load_workflow_with_rules(parse_raw(text, YAML))
    first = caught.value.diagnostics[0]
    assert first.code == "rule_set.parse"
    assert first.line == 7


@pytest.mark.parametrize(
    ("uri", "scheme"),
    [
        ("guardiandb://p", "guardiandb"),
        ("file:///abs", "file"),
        ("embedded://", "embedded"),
        ("a+b.c-d://x", "a+b.c-d"),
        ("plain.json", None),
        ("dir/a.json", None),
        ("/abs/a.json", None),
        ("dir/a://b", None),
        ("://x", None),
        ("1abc://x", None),
    ],
)
def test_scheme_extraction(uri: str, scheme: str | None) -> None:
    assert uri_scheme(uri) == scheme


def test_registry_dispatch_and_first_registration_wins() -> None:
    first = EmbeddedSource.from_json(RULE_SET)
    other = dict(RULE_SET, id="other")
    registry = SourceRegistry()
    registry.register("mem", first)
    registry.register("mem", EmbeddedSource.from_json(other))
    assert registry.load("mem://anything").id == "payment-router-audit"
    with pytest.raises(UnknownScheme) as caught:
        registry.load("unknownscheme://x")
    assert caught.value.scheme == "unknownscheme"


def test_embedded_source() -> None:
    source = EmbeddedSource.from_json(RULE_SET)
    assert source.load("whatever") == parse_rule_set(RULE_SET)
    with pytest.raises(RuleSourceParseError) as caught:
        EmbeddedSource.from_json({"x": 1})
    assert str(caught.value).startswith("failed to parse rule set: ")


def test_local_fs_source_errors(tmp_path: Path) -> None:
    source = LocalFsSource(tmp_path)
    with pytest.raises(RuleFileNotFound):
        source.load("missing.json")
    (tmp_path / "folder.json").mkdir()
    with pytest.raises(RuleFileReadError) as read_error:
        source.load("folder.json")
    assert "Is a directory (os error 21)" in str(read_error.value)
    (tmp_path / "bad.json").write_text('{"id": 1, "id": 2}', "utf-8")
    with pytest.raises(RuleSourceParseError) as parse_error:
        source.load("bad.json")
    assert str(parse_error.value) == (
        f"failed to parse rule set: {tmp_path / 'bad.json'}: duplicate field `id` at line 1 "
        "column 17"
    )
    (tmp_path / "latin.json").write_bytes(b"\xff")
    with pytest.raises(RuleFileReadError) as encoding_error:
        source.load("latin.json")
    assert str(encoding_error.value).endswith("stream did not contain valid UTF-8")
    (tmp_path / "shape.json").write_text('{"id": "x"}', "utf-8")
    with pytest.raises(RuleSourceParseError):
        source.load("file://shape.json")


def test_resolve_rule_sets_inlines_references(tmp_path: Path) -> None:
    shutil.copy(RULES_FILE, tmp_path / "router.rules.json")
    raw = raw_of(router_document(rule_set_ref="router.rules.json"))
    resolved = resolve_rule_sets(raw, SourceRegistry(tmp_path))
    node = resolved.nodes[2]
    assert node.rule_set_ref is None
    assert node.rule_set == rule_set_to_json(parse_rule_set(RULE_SET))
    assert resolved.edges == raw.edges
    assert resolved.id == raw.id
    assert raw.nodes[2].rule_set_ref == "router.rules.json"
    again = load_workflow_with_rules(resolved)
    assert again.rule_sets["router"] == parse_rule_set(RULE_SET)


def test_resolve_rule_sets_reports_problems() -> None:
    with pytest.raises(WorkflowDocumentError) as caught:
        resolve_rule_sets(raw_of(router_document(rule_set_ref="nowhere://x")))
    assert caught.value.diagnostics[0].code == "rule_set.resolve"
