"""The format-level checks (spec-1 §3.2, §8 "Format"): order, messages, all problems."""

from __future__ import annotations

import json

import pytest
from pureflow.format import (
    RawWorkflowDocument,
    WorkflowDocumentError,
    parse_raw,
    parse_workflow,
    workflow_diagnostics,
)
from pureflow.workflow import CyclePolicy, EdgeCapacity
from pureflow_format_testdata import (
    BASE_TOML,
    BASE_YAML,
    JSON,
    THREE_PROBLEMS_YAML,
    TOML,
    YAML,
    base,
    jdoc,
    set_at,
)


def problems(text: str, fmt=JSON) -> WorkflowDocumentError:
    with pytest.raises(WorkflowDocumentError) as caught:
        parse_workflow(text, fmt)
    return caught.value


def test_valid_document_gives_the_workflow() -> None:
    workflow = parse_workflow(jdoc(), JSON)
    assert workflow.id == "flow"
    assert len(workflow.nodes) == 2
    assert len(workflow.edges) == 1
    assert workflow.edges[0].capacity == EdgeCapacity.explicit(4)
    assert workflow.topological_order() == ("source", "sink")


def test_missing_capacity_is_the_default() -> None:
    workflow = parse_workflow(jdoc(lambda d: d["edges"][0].pop("capacity")), JSON)
    assert workflow.edges[0].capacity.is_default


def test_the_same_workflow_from_every_format() -> None:
    from_json = parse_workflow(jdoc(), JSON)
    assert parse_workflow(BASE_YAML, YAML) == from_json
    assert parse_workflow(BASE_TOML, TOML) == from_json


@pytest.mark.parametrize("fmt", [JSON, YAML, TOML])
def test_version_errors_are_format_errors_in_every_format(fmt) -> None:
    texts = {
        JSON: jdoc(set_at(("pureflow_version",), "2")),
        YAML: BASE_YAML.replace('pureflow_version: "1"', 'pureflow_version: "2"'),
        TOML: BASE_TOML.replace('pureflow_version = "1"', 'pureflow_version = "2"'),
    }
    err = problems(texts[fmt], fmt)
    assert err.stage == "format"
    assert str(err) == (
        f"workflow {fmt.label} is invalid: workflow document uses unsupported pureflow_version `2`"
    )


def test_version_is_checked_before_identifiers() -> None:
    text = jdoc(lambda d: (d.pop("pureflow_version"), d.update(id="bad id")))
    err = problems(text)
    assert [d.code for d in err.diagnostics] == ["format.missing_version", "format.identifier"]


def test_duplicate_port_on_node_1_comes_before_bad_id_on_node_2() -> None:
    def change(document):
        document["nodes"][1]["inputs"] = ["in", "in"]
        document["nodes"].append({"id": "bad id", "inputs": [], "outputs": []})

    err = problems(jdoc(change))
    assert [d.code for d in err.diagnostics] == ["graph.duplicate_port", "format.identifier"]
    assert err.diagnostics[0].message == (
        "workflow validation failed: node `sink` contains duplicate port `in`"
    )
    assert err.diagnostics[1].location == "/nodes/2/id"


def test_value_both_input_and_output_is_a_duplicate_port() -> None:
    err = problems(
        jdoc(set_at(("nodes", 0), {"id": "step", "inputs": ["value"], "outputs": ["value"]}))
    )
    assert err.diagnostics[0].message == (
        "workflow validation failed: node `step` contains duplicate port `value`"
    )


def test_duplicate_nodes_are_found_after_every_identifier_and_capacity() -> None:
    def change(document):
        document["nodes"][1]["id"] = "source"
        document["edges"][0]["capacity"] = 0

    err = problems(jdoc(change))
    assert [d.code for d in err.diagnostics][:2] == ["format.capacity", "graph.duplicate_node"]


def test_edge_checks_run_source_before_target_and_capacity_last() -> None:
    def change(document):
        document["edges"][0] = {
            "source": {"node": "a b", "port": "c d"},
            "target": {"node": "e f", "port": "g h"},
            "capacity": 0,
        }

    err = problems(jdoc(change))
    assert [d.location for d in err.diagnostics] == [
        "/edges/0/source/node",
        "/edges/0/source/port",
        "/edges/0/target/node",
        "/edges/0/target/port",
        "/edges/0/capacity",
    ]
    assert [d.message.split(" is invalid")[0] for d in err.diagnostics[:4]] == [
        "edge 0 source node",
        "edge 0 source port",
        "edge 0 target node",
        "edge 0 target port",
    ]


def test_every_problem_is_reported_in_order_with_pointers() -> None:
    def change(document):
        document["pureflow_version"] = "9"
        document["nodes"][0]["outputs"] = ["out", "bad port"]
        document["edges"][0]["capacity"] = 0
        document["edges"].append(
            {"source": {"node": "source", "port": "out"}, "target": {"node": "ghost", "port": "in"}}
        )

    err = problems(jdoc(change))
    assert [(d.code, d.location) for d in err.diagnostics] == [
        ("format.unsupported_version", "/pureflow_version"),
        ("format.identifier", "/nodes/0/outputs/1"),
        ("format.capacity", "/edges/0/capacity"),
        ("graph.unknown_node", "/edges/1/target/node"),
    ]
    assert err.diagnostics[3].message == (
        "workflow validation failed: edge 1 target references unknown node `ghost`"
    )


def test_json_diagnostics_carry_line_and_column() -> None:
    err = problems(jdoc(set_at(("edges", 0, "target", "node"), "missing")))
    first = err.diagnostics[0]
    text = jdoc(set_at(("edges", 0, "target", "node"), "missing"))
    line = text.splitlines()[first.line - 1]
    assert line[first.column - 1 :].startswith('"missing"')


def test_three_problems_in_yaml_have_pointers_lines_and_columns() -> None:
    err = problems(THREE_PROBLEMS_YAML, YAML)
    found = [(d.code, d.location, d.line, d.column) for d in err.diagnostics]
    assert found == [
        ("format.identifier", "/nodes/1/inputs/1", 8, 18),
        ("format.capacity", "/edges/0/capacity", 13, 15),
        ("graph.unknown_node", "/edges/1/target/node", 15, 20),
    ]
    rendered = err.render("flow.yaml").splitlines()
    assert rendered[0] == str(err)
    assert rendered[1] == (
        "  flow.yaml:8:18: format.identifier: node 1 input port 1 is invalid: port id must "
        "not contain whitespace (at /nodes/1/inputs/1)"
    )
    assert len(rendered) == 4


def test_graph_checks_skip_edges_with_invalid_identifiers() -> None:
    def change(document):
        document["edges"][0]["target"]["port"] = "bad port"

    err = problems(jdoc(change))
    assert [d.code for d in err.diagnostics] == ["format.identifier"]


def test_nodes_with_a_bad_port_still_take_part_in_the_graph_check() -> None:
    def change(document):
        document["nodes"][1]["inputs"] = ["in", "bad port"]

    err = problems(jdoc(change))
    assert [d.code for d in err.diagnostics] == ["format.identifier"]


def test_cycle_rejected_by_default_and_allowed_by_the_extension() -> None:
    def loop(document):
        document["nodes"][1]["outputs"] = ["back"]
        document["nodes"][0]["inputs"] = ["back"]
        document["edges"].append(
            {
                "source": {"node": "sink", "port": "back"},
                "target": {"node": "source", "port": "back"},
            }
        )

    err = problems(jdoc(loop))
    assert err.diagnostics[0].code == "graph.cycle"

    def allowed(document):
        loop(document)
        document["cycles"] = "allow"

    workflow = parse_workflow(jdoc(allowed), JSON)
    assert workflow.graph.cycles is CyclePolicy.ALLOW
    assert parse_workflow(jdoc(lambda d: d.update(cycles="reject")), JSON).graph.cycles is (
        CyclePolicy.REJECT
    )


def test_self_loop_and_parallel_edges() -> None:
    def parallel(document):
        document["nodes"][1]["inputs"] = ["in", "in2"]
        document["edges"].append(
            {"source": {"node": "source", "port": "out"}, "target": {"node": "sink", "port": "in2"}}
        )

    assert len(parse_workflow(jdoc(parallel), JSON).edges) == 2

    def self_loop(document):
        document["nodes"].append({"id": "s", "inputs": ["i"], "outputs": ["o"]})
        document["edges"].append(
            {"source": {"node": "s", "port": "o"}, "target": {"node": "s", "port": "i"}}
        )

    err = problems(jdoc(self_loop))
    assert err.diagnostics[0].message.endswith("cycle involving `s` `s`")
    assert err.diagnostics[0].location == "/edges/1"


def test_extensions_reach_the_node_definition() -> None:
    def change(document):
        document["nodes"][0]["component"] = "builtin:counter"
        document["nodes"][0]["config"] = {"count": 3, "label": "x"}

    workflow = parse_workflow(jdoc(change), JSON)
    node = workflow.node("source")
    assert node.component == "builtin:counter"
    assert node.config == {"count": 3, "label": "x"}
    assert workflow.node("sink").component is None


@pytest.mark.parametrize(
    "component", ["python:pkg.mod:attr", "builtin:counter", "wasm:guest.wasm", "wasm:/abs/g.wasm"]
)
def test_well_formed_components(component: str) -> None:
    workflow = parse_workflow(jdoc(set_at(("nodes", 0, "component"), component)), JSON)
    assert workflow.node("source").component == component


@pytest.mark.parametrize("component", ["", "python:", "rust:thing", "PYTHON:x", "pkg.mod:attr"])
def test_malformed_components(component: str) -> None:
    err = problems(jdoc(set_at(("nodes", 0, "component"), component)))
    assert err.diagnostics[0].code == "format.component"
    assert err.diagnostics[0].location == "/nodes/0/component"


def test_rule_sets_are_checked_by_parse_workflow() -> None:
    def change(document):
        document["nodes"][0]["rule_set"] = {"not": "a rule set"}
        document["nodes"][1]["rule_set"] = {"x": 1}
        document["nodes"][1]["rule_set_ref"] = "does/not/exist.json"

    with pytest.raises(WorkflowDocumentError) as caught:
        parse_workflow(jdoc(change), JSON)
    assert [(d.code, d.location) for d in caught.value.diagnostics] == [
        ("rule_set.parse", "/nodes/0/rule_set"),
        ("rule_set.conflict", "/nodes/1/rule_set_ref"),
    ]


def test_to_workflow_on_raw_documents() -> None:
    raw = parse_raw(jdoc(), JSON)
    assert isinstance(raw, RawWorkflowDocument)
    assert raw.to_workflow() == parse_workflow(jdoc(), JSON)
    built = RawWorkflowDocument.model_validate(base())
    assert built.to_workflow() == raw.to_workflow()


def test_workflow_diagnostics_returns_everything_without_raising() -> None:
    raw = parse_raw(jdoc(set_at(("id",), "bad id")), JSON)
    workflow, diagnostics = workflow_diagnostics(raw)
    assert workflow is None
    assert [d.code for d in diagnostics] == ["format.identifier"]
    ok, none = workflow_diagnostics(parse_raw(jdoc(), JSON))
    assert ok is not None
    assert none == []


def test_raw_document_built_in_code_reports_json_errors() -> None:
    raw = RawWorkflowDocument.model_validate(json.loads(jdoc(set_at(("id",), "a b"))))
    with pytest.raises(WorkflowDocumentError) as caught:
        raw.to_workflow()
    assert str(caught.value).startswith("workflow JSON is invalid: workflow id is invalid")
    assert caught.value.diagnostics[0].line is None


def test_replicas_and_partition_reach_the_node() -> None:
    def change(document: dict[str, object]) -> None:
        sink = document["nodes"][1]  # type: ignore[index]
        sink["replicas"] = 3
        sink["partition"] = {"key": "/user/id"}

    node = parse_workflow(jdoc(change), JSON).node("sink")
    assert (node.replicas, node.partition_key) == (3, "/user/id")
    plain = parse_workflow(jdoc(), JSON).node("sink")
    assert (plain.replicas, plain.partition_key) == (1, None)


@pytest.mark.parametrize(
    ("index", "field", "value", "message"),
    [
        (1, "replicas", 0, "node 1 replicas must be greater than zero, got 0"),
        (0, "replicas", 2, "node 0 has replicas but no inputs"),
        (1, "partition", {"key": "user"}, 'node 1 partition must be {"key": "<JSON pointer>"}'),
        (1, "partition", {"hash": "/a"}, 'node 1 partition must be {"key": "<JSON pointer>"}'),
    ],
)
def test_bad_replicas_are_format_errors(
    index: int, field: str, value: object, message: str
) -> None:
    err = problems(jdoc(set_at(("nodes", index, field), value)))
    assert [d.code for d in err.diagnostics] == ["format.replicas"]
    assert err.diagnostics[0].message.startswith(message)
    assert err.diagnostics[0].location == f"/nodes/{index}/{field}"
