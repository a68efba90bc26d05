"""Builders and identifier helpers: valid input builds, invalid input fails loudly."""

from __future__ import annotations

import pytest
from hypothesis import given
from pureflow.core import ExecutionMetadata
from pureflow.testkit import (
    BuilderError,
    NodeBuilder,
    WorkflowBuilder,
    execution_metadata,
    linear_workflow,
    node_id,
    port_id,
    port_ids,
    valid_identifier_strategy,
    valid_identifiers,
    workflow_id,
)
from pureflow.types import ExecutionId, MessageId, NodeId, PortId, WorkflowId
from pureflow.workflow import CyclePolicy, EdgeCapacity, NodeDefinition


def test_identifier_helpers_return_typed_ids() -> None:
    assert workflow_id("flow") == WorkflowId("flow")
    assert type(node_id("a")) is NodeId
    assert type(port_id("out")) is PortId
    assert port_ids("in", "out") == (PortId("in"), PortId("out"))
    assert execution_metadata("run-7") == ExecutionMetadata(ExecutionId("run-7"))
    assert execution_metadata().attempt == 1


@pytest.mark.parametrize(
    ("helper", "value", "message"),
    [
        (node_id, "bad id", "invalid node id 'bad id': node id must not contain whitespace"),
        (port_id, "", "invalid port id '': port id must not be empty"),
        (workflow_id, "x" * 257, "must not exceed 256 bytes"),
        (node_id, 7, "node id must be a str, got int 7"),
    ],
)
def test_identifier_helpers_fail_loudly(helper: object, value: object, message: str) -> None:
    with pytest.raises(BuilderError, match=message.replace("(", r"\(").replace(")", r"\)")):
        helper(value)  # type: ignore[operator]


def test_node_builder() -> None:
    node = (
        NodeBuilder("transform")
        .input("in")
        .inputs("side")
        .output("out")
        .component("builtin:upper")
        .config({"k": 1})
        .build()
    )
    assert node == NodeDefinition.of(
        "transform", ["in", "side"], ["out"], component="builtin:upper", config={"k": 1}
    )


def test_node_builder_rejects_duplicate_ports_at_once() -> None:
    builder = NodeBuilder("n").input("p")
    with pytest.raises(BuilderError, match="node `n` already declares port `p` as an input"):
        builder.output("p")
    with pytest.raises(BuilderError, match="invalid port id"):
        builder.input("has space")


def test_workflow_builder_builds_a_validated_workflow() -> None:
    workflow = (
        WorkflowBuilder("flow")
        .node(NodeBuilder("a").output("out"))
        .node(NodeDefinition.of("b", ["in"], []))
        .edge("a", "out", "b", "in", capacity=3)
        .build()
    )
    assert workflow.id == "flow"
    assert [n.id for n in workflow.nodes] == ["a", "b"]
    (edge,) = workflow.edges
    assert edge.capacity == EdgeCapacity(3)
    assert str(edge) == "a.out -> b.in capacity=3"


def test_workflow_builder_edge_with_capacity_and_default() -> None:
    workflow = (
        WorkflowBuilder()
        .node("a", outputs=["out"])
        .node("b", inputs=["in"])
        .edge_with_capacity("a", "out", "b", "in", 2)
        .edge("a", "out", "b", "in")
        .build()
    )
    assert workflow.id == "test-flow"
    assert [e.capacity.value for e in workflow.edges] == [2, None]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: WorkflowBuilder("f").node("a", outputs=["out"]).edge("a", "out", "zz", "in"),
            r"cannot build workflow `f`: edge 0 target references unknown node `zz` "
            r"\(nodes: `a`\)",
        ),
        (
            lambda: (
                WorkflowBuilder("f")
                .node("a", outputs=["out"])
                .node("b", inputs=["in"])
                .edge("a", "out", "b", "inn")
            ),
            r"unknown input port `inn` on node `b` \(node `b` has inputs: `in`; outputs: none\)",
        ),
        (
            lambda: (
                WorkflowBuilder("f")
                .node("a", inputs=["in"], outputs=["out"])
                .node("b", inputs=["in"], outputs=["out"])
                .edge("a", "out", "b", "in")
                .edge("b", "out", "a", "in")
            ),
            r"contains a cycle involving `a` `b` `a`; call \.allow_cycles\(\)",
        ),
    ],
)
def test_workflow_builder_reports_graph_problems(build: object, message: str) -> None:
    builder = build()  # type: ignore[operator]
    with pytest.raises(BuilderError, match=message):
        builder.build()


def test_workflow_builder_rejects_duplicates_and_bad_capacity_at_once() -> None:
    builder = WorkflowBuilder("f").node("a")
    with pytest.raises(BuilderError, match="workflow `f` already has a node `a`"):
        builder.node(NodeBuilder("a"))
    with pytest.raises(BuilderError, match=r"edge a\.out -> b\.in: edge capacity must be"):
        builder.edge("a", "out", "b", "in", capacity=0)
    with pytest.raises(BuilderError, match="only when the node is given as an id"):
        builder.node(NodeBuilder("c"), inputs=["in"])


def test_allow_cycles() -> None:
    workflow = (
        WorkflowBuilder("loop")
        .node("a", inputs=["in"], outputs=["out"])
        .edge("a", "out", "a", "in")
        .allow_cycles()
        .build()
    )
    assert workflow.graph.cycles is CyclePolicy.ALLOW


def test_linear_workflow() -> None:
    workflow = linear_workflow(["a", "b", "c"], capacity=4, workflow="chain")
    assert workflow.id == "chain"
    assert [(n.id, n.input_ports, n.output_ports) for n in workflow.nodes] == [
        ("a", (), ("out",)),
        ("b", ("in",), ("out",)),
        ("c", ("in",), ()),
    ]
    assert [str(e) for e in workflow.edges] == [
        "a.out -> b.in capacity=4",
        "b.out -> c.in capacity=4",
    ]
    single = linear_workflow(["solo"])
    assert single.nodes[0] == NodeDefinition.of("solo")


@pytest.mark.parametrize(
    ("nodes", "message"),
    [([], "at least one node"), ("abc", "not a single string"), (["a", "a"], "already has")],
)
def test_linear_workflow_fails_loudly(nodes: object, message: str) -> None:
    with pytest.raises(BuilderError, match=message):
        linear_workflow(nodes)  # type: ignore[arg-type]


@given(valid_identifiers())
def test_valid_identifiers_are_accepted_by_every_id_type(text: str) -> None:
    assert 1 <= len(text) <= 15
    assert set(text) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./")
    for kind in (WorkflowId, NodeId, PortId, MessageId, ExecutionId):
        assert kind(text) == text


@given(valid_identifiers(), valid_identifiers())
def test_valid_identifiers_build_workflows(source: str, target: str) -> None:
    nodes = [source] if source == target else [source, target]
    workflow = linear_workflow(nodes, workflow=source)
    assert [str(n.id) for n in workflow.nodes] == nodes


def test_valid_identifier_strategy_is_the_original_name() -> None:
    assert valid_identifier_strategy is valid_identifiers
    with pytest.raises(ValueError, match="min_size"):
        valid_identifiers(min_size=0)
