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
    UnknownEmbeddedRuleSet,
    UnknownScheme,
    WorkflowDocumentError,
    load_workflow,
    parse_raw,
    resolve_rule_sets,
)
from pureflow.format.documents import RawWorkflowDocument
from pureflow.format.rule_sources import uri_scheme
from pureflow.rules import RuleSet, parse_rule_set, rule_set_to_json
from pureflow.workflow import WorkflowDefinition
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


def rule_sets(workflow: WorkflowDefinition) -> dict[str, RuleSet]:
    return {node.id: node.rule_set for node in workflow.nodes if node.rule_set is not None}


def loaded(
    source: RawWorkflowDocument | dict[str, Any], registry: SourceRegistry | None = None
) -> dict[str, RuleSet]:
    raw = source if isinstance(source, RawWorkflowDocument) else raw_of(source)
    return rule_sets(raw.to_workflow(registry))


def rule_error(document: dict[str, Any], registry: SourceRegistry | None = None):
    with pytest.raises(WorkflowDocumentError) as caught:
        raw_of(document).to_workflow(registry)
    return caught.value


def test_the_rules_example_loads_with_its_sidecar_file() -> None:
    workflow = load_workflow(EXAMPLES / "workloads" / "rules-content-routing.workflow.json")
    found = rule_sets(workflow)
    assert list(found) == ["router-inline", "router-sidecar"]
    assert found["router-sidecar"] == parse_rule_set(RULE_SET)
    assert workflow.id == "rules-content-routing"


def test_inline_rule_set() -> None:
    found = loaded(router_document(rule_set=RULE_SET))
    assert isinstance(found["router"], RuleSet)
    assert rule_set_to_json(found["router"])["id"] == "payment-router-audit"


def test_no_rule_sets_gives_none() -> None:
    assert loaded(base()) == {}


def test_reference_resolves_against_the_base_dir(tmp_path: Path) -> None:
    shutil.copy(RULES_FILE, tmp_path / "router.rules.json")
    document = router_document(rule_set_ref="router.rules.json")
    assert "router" in loaded(document, SourceRegistry.with_base_dir(tmp_path))


def test_reference_resolves_against_the_workflow_folder(tmp_path: Path) -> None:
    shutil.copy(RULES_FILE, tmp_path / "router.rules.json")
    path = tmp_path / "flow.json"
    path.write_text(json.dumps(router_document(rule_set_ref="router.rules.json")), "utf-8")
    assert "router" in rule_sets(load_workflow(path))
    assert "router" in rule_sets(load_workflow(str(path)))


def test_file_scheme_is_registered_by_default(tmp_path: Path) -> None:
    target = tmp_path / "r.json"
    shutil.copy(RULES_FILE, target)
    document = router_document(rule_set_ref=f"file://{target}")
    assert "router" in loaded(document)
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
    assert [d.code for d in err.diagnostics] == ["format.identifier", "rule_set.parse"]


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
        parse_raw(text, YAML).to_workflow()
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
    assert loaded(resolved)["router"] == parse_rule_set(RULE_SET)


def test_resolve_rule_sets_reports_problems() -> None:
    with pytest.raises(WorkflowDocumentError) as caught:
        resolve_rule_sets(raw_of(router_document(rule_set_ref="nowhere://x")))
    assert caught.value.diagnostics[0].code == "rule_set.resolve"


def test_embedded_scheme_names_rule_sets_given_in_code() -> None:
    registry = SourceRegistry().embed("audit", parse_rule_set(RULE_SET))
    document = router_document(rule_set_ref="embedded://audit")
    assert loaded(document, registry)["router"].id == "payment-router-audit"
    err = rule_error(router_document(rule_set_ref="embedded://other"), registry)
    assert err.diagnostics[0].message == (
        "node 2 rule set is invalid: failed to resolve rule_set_ref: no embedded rule set "
        "named `other` (embedded: `audit`)"
    )
    with pytest.raises(UnknownEmbeddedRuleSet):
        SourceRegistry().load("embedded://x")


def test_a_route_to_a_missing_port_points_at_the_rule() -> None:
    rule_set = json.loads(json.dumps(RULE_SET))
    # Evaluation order sorts by priority: the document's first rule is evaluated last.
    rule_set["rules"][0]["priority"] = 99
    rule_set["rules"][0]["action"] = {"Route": "nope"}
    err = rule_error(router_document(rule_set=rule_set))
    (first,) = err.diagnostics
    assert first.code == "rule_set.unknown_route_port"
    assert first.message == (
        "workflow validation failed: rule set `payment-router-audit` rule `high-value` routes "
        "to output port `nope` not declared on node `router`"
    )
    assert first.location == "/nodes/2/rule_set/rules/0/action"
    assert first.line is not None
    assert str(err) == f"workflow JSON is invalid: {first.message}"


def test_a_misfit_default_action_and_a_referenced_rule_set(tmp_path: Path) -> None:
    rule_set = dict(RULE_SET, default_action={"DeadLetter": "unrouted"})
    err = rule_error(router_document(rule_set=rule_set))
    assert err.diagnostics[0].code == "rule_set.missing_dead_letter_port"
    assert err.diagnostics[0].location == "/nodes/2/rule_set/default_action"
    (tmp_path / "r.json").write_text(json.dumps(rule_set), "utf-8")
    err = rule_error(router_document(rule_set_ref="r.json"), SourceRegistry(tmp_path))
    assert err.diagnostics[0].code == "rule_set.missing_dead_letter_port"
    assert err.diagnostics[0].location == "/nodes/2/rule_set_ref"


def test_a_condition_misfit_points_at_the_condition() -> None:
    rule_set = json.loads(json.dumps(RULE_SET))
    rule_set["rules"][1]["condition"] = {"SourceNode": {"node_id": "ghost"}}
    err = rule_error(router_document(rule_set=rule_set))
    assert [(d.code, d.location) for d in err.diagnostics] == [
        ("rule_set.unknown_source_node", "/nodes/2/rule_set/rules/1/condition")
    ]


def test_graph_problems_then_rule_set_problems_then_misfits() -> None:
    document = router_document(rule_set=dict(RULE_SET, default_action={"Route": "nope"}))
    document["nodes"][0]["rule_set"] = {"bad": 1}
    document["edges"].append(
        {"source": {"node": "ghost", "port": "out"}, "target": {"node": "router", "port": "x"}}
    )
    err = rule_error(document)
    assert [d.code for d in err.diagnostics] == [
        "graph.unknown_node",
        "graph.unknown_port",
        "rule_set.parse",
        "rule_set.unknown_route_port",
    ]
