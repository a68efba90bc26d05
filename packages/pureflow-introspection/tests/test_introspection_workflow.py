"""Workflow introspection: projections, the inspect JSON, and error propagation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conformance_fixtures import UPSTREAM_EXAMPLES
from pureflow.contract import (
    Determinism,
    EffectCapability,
    ExecutionMode,
    MissingContract,
    NodeCapabilities,
    NodeContract,
    PortCapability,
    PortContract,
    PortDirectionMismatch,
    RetryDisposition,
    SchemaMismatch,
)
from pureflow.introspection import (
    introspect_workflow,
    introspection_to_json_text,
    passive_contracts,
)
from pureflow.workflow import (
    EdgeCapacity,
    EdgeDefinition,
    EdgeEndpoint,
    NodeDefinition,
    PortDirection,
    WorkflowDefinition,
)

EXAMPLES = UPSTREAM_EXAMPLES
IN, OUT = PortDirection.INPUT, PortDirection.OUTPUT


def load_workflow(path: Path) -> WorkflowDefinition:
    """A minimal reader for the original's JSON shape (the real parser is pureflow.format)."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    nodes = [NodeDefinition.of(n["id"], n["inputs"], n["outputs"]) for n in doc["nodes"]]
    edges = [
        EdgeDefinition.between(
            (e["source"]["node"], e["source"]["port"]),
            (e["target"]["node"], e["target"]["port"]),
            e.get("capacity"),
        )
        for e in doc["edges"]
    ]
    return WorkflowDefinition.from_parts(doc["id"], nodes, edges)


def passive_node(node_id: str, ports: list[tuple[str, str, str]]) -> dict[str, Any]:
    return {
        "determinism": "unknown",
        "effects": [],
        "enforcement": "advisory",
        "execution_mode": "native",
        "node_id": node_id,
        "ports": [
            {"capability": cap, "direction": direction, "port_id": port, "schema": None}
            for port, direction, cap in ports
        ],
        "retry": "unknown",
    }


def edge_json(src: tuple[str, str], dst: tuple[str, str], capacity: Any) -> dict[str, Any]:
    return {
        "capacity": capacity,
        "source": {"node_id": src[0], "port_id": src[1]},
        "source_schema": None,
        "target": {"node_id": dst[0], "port_id": dst[1]},
        "target_schema": None,
    }


def test_inspect_of_the_linear_etl_example() -> None:
    workflow = load_workflow(EXAMPLES / "native-linear-etl.workflow.json")
    contracts, capabilities = passive_contracts(workflow)
    text = introspection_to_json_text(introspect_workflow(workflow, contracts, capabilities))
    explicit2 = {"kind": "explicit", "value": 2}
    expected = {
        "edges": [
            edge_json(("source", "rows"), ("transform", "rows"), explicit2),
            edge_json(("transform", "cleaned"), ("sink", "cleaned"), explicit2),
        ],
        "nodes": [
            passive_node("source", [("rows", "output", "emit")]),
            passive_node(
                "transform", [("rows", "input", "receive"), ("cleaned", "output", "emit")]
            ),
            passive_node("sink", [("cleaned", "input", "receive")]),
        ],
        "workflow_id": "native-linear-etl",
    }
    assert text == json.dumps(expected, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    # Spot-check the literal layout of the original's output.
    assert text.startswith(
        '{\n  "edges": [\n    {\n      "capacity": {\n        "kind": "explicit",'
    )
    assert '"effects": [],' in text
    assert text.endswith('  "workflow_id": "native-linear-etl"\n}\n')


def test_default_capacity_and_unicode() -> None:
    workflow = WorkflowDefinition.from_parts(
        "flöw",
        [NodeDefinition.of("a", [], ["out"]), NodeDefinition.of("b", ["in"], [])],
        [EdgeDefinition.between(("a", "out"), ("b", "in"))],
    )
    intro = introspect_workflow(workflow, *passive_contracts(workflow))
    assert intro.edges[0].capacity == EdgeCapacity.DEFAULT
    assert intro.to_json()["edges"][0]["capacity"] == {"kind": "default"}
    assert '"workflow_id": "flöw"' in introspection_to_json_text(intro)


def snapshot_workflow() -> WorkflowDefinition:
    return WorkflowDefinition.from_parts(
        "snapshot",
        [
            NodeDefinition.of("source", [], ["out"]),
            NodeDefinition.of("upper", ["in"], ["out"]),
            NodeDefinition.of("sink", ["in"], []),
        ],
        [
            EdgeDefinition.between(("source", "out"), ("upper", "in"), 4),
            EdgeDefinition.between(("upper", "out"), ("sink", "in")),
        ],
    )


def snapshot_contracts(sink_schema: str = "schema://uppercase-packet") -> list[NodeContract]:
    return [
        NodeContract.new(
            "source",
            [PortContract.of("out", OUT, "schema://packet")],
            ExecutionMode.NATIVE,
            Determinism.DETERMINISTIC,
            RetryDisposition.SAFE,
        ),
        NodeContract.new(
            "upper",
            [
                PortContract.of("in", IN, "schema://packet"),
                PortContract.of("out", OUT, "schema://uppercase-packet"),
            ],
            ExecutionMode.WASM,
        ),
        NodeContract.new(
            "sink",
            [PortContract.of("in", IN, sink_schema)],
            determinism=Determinism.NON_DETERMINISTIC,
        ),
    ]


def snapshot_capabilities() -> list[NodeCapabilities]:
    return [
        NodeCapabilities.new("source", [PortCapability.emit("out")], [EffectCapability.CLOCK]),
        NodeCapabilities.new(
            "upper",
            [PortCapability.receive("in"), PortCapability.emit("out")],
            [EffectCapability.ENVIRONMENT_READ],
        ),
        NodeCapabilities.new("sink", [PortCapability.receive("in")]),
    ]


def test_contracts_and_capabilities_are_projected() -> None:
    intro = introspect_workflow(snapshot_workflow(), snapshot_contracts(), snapshot_capabilities())
    source, upper, sink = intro.to_json()["nodes"]
    assert source == {
        "node_id": "source",
        "ports": [
            {
                "port_id": "out",
                "direction": "output",
                "schema": "schema://packet",
                "capability": "emit",
            }
        ],
        "execution_mode": "native",
        "enforcement": "advisory",
        "determinism": "deterministic",
        "retry": "safe",
        "effects": ["clock"],
    }
    assert upper["execution_mode"] == "wasm"
    assert upper["enforcement"] == "strict"
    assert upper["determinism"] == "unknown"
    assert upper["effects"] == ["environment_read"]
    assert [p["schema"] for p in upper["ports"]] == ["schema://packet", "schema://uppercase-packet"]
    assert sink["determinism"] == "non_deterministic"
    first, second = intro.to_json()["edges"]
    assert first["capacity"] == {"kind": "explicit", "value": 4}
    assert (first["source_schema"], first["target_schema"]) == (
        "schema://packet",
        "schema://packet",
    )
    assert second["target_schema"] == "schema://uppercase-packet"
    assert intro.edges[1].source == EdgeEndpoint("upper", "out")  # type: ignore[arg-type]
    assert list(intro.to_json()) == ["workflow_id", "nodes", "edges"]


def test_unknown_effects_are_said_and_known_ones_keep_the_original_shape() -> None:
    capabilities = snapshot_capabilities()
    unknown = NodeCapabilities.new(
        "upper",
        capabilities[1].ports,
        [EffectCapability.ENVIRONMENT_READ],
        effects_known=False,
    )
    intro = introspect_workflow(
        snapshot_workflow(), snapshot_contracts(), [capabilities[0], unknown, capabilities[2]]
    )
    source, upper, sink = intro.to_json()["nodes"]
    assert upper["effects"] == ["environment_read"]  # what is known
    assert upper["effects_known"] is False  # and that there may be more
    assert "effects_known" not in source
    assert "effects_known" not in sink


def test_validation_errors_propagate_unchanged() -> None:
    workflow = snapshot_workflow()
    with pytest.raises(SchemaMismatch):
        introspect_workflow(workflow, snapshot_contracts("schema://other"), snapshot_capabilities())
    with pytest.raises(MissingContract):
        introspect_workflow(workflow, snapshot_contracts()[:2], snapshot_capabilities())
    flipped = [
        *snapshot_contracts()[:2],
        NodeContract.new("sink", [PortContract.of("in", OUT)]),
    ]
    with pytest.raises(PortDirectionMismatch):
        introspect_workflow(workflow, flipped, snapshot_capabilities())


def test_passive_contracts_mirror_the_graph() -> None:
    workflow = snapshot_workflow()
    contracts, capabilities = passive_contracts(workflow)
    assert [c.node_id for c in contracts] == ["source", "upper", "sink"]
    assert all(c.execution_mode is ExecutionMode.NATIVE for c in contracts)
    assert all(c.retry is RetryDisposition.UNKNOWN for c in contracts)
    assert capabilities[1].ports == (PortCapability.receive("in"), PortCapability.emit("out"))
    assert all(c.effects == () for c in capabilities)


def test_rule_nodes_carry_their_rule_set_as_data() -> None:
    from pureflow.rules import (
        EvaluationStrategy,
        FieldGte,
        FieldPath,
        Route,
        Rule,
        RuleSet,
        ScalarValue,
        rule_set_to_json,
    )

    rule_set = RuleSet.new(
        "router",
        EvaluationStrategy.FIRST_MATCH,
        [Rule("big", FieldGte(FieldPath("amount"), ScalarValue.integer(10)), Route("big"), 1)],
        Route("small"),
    )
    workflow = WorkflowDefinition.from_parts(
        "flow",
        [
            NodeDefinition.of("source", [], ["out"]),
            NodeDefinition.of("router", ["in"], ["big", "small"], rule_set=rule_set),
        ],
        [EdgeDefinition.between(("source", "out"), ("router", "in"))],
    )
    report = json.loads(
        introspection_to_json_text(introspect_workflow(workflow, *passive_contracts(workflow)))
    )
    source, router = report["nodes"]
    assert "rule_set" not in source
    assert router["rule_set"] == rule_set_to_json(rule_set)
    assert router["rule_set"]["rules"][0]["condition"] == {
        "FieldGte": {"path": "amount", "value": {"Integer": 10}}
    }
