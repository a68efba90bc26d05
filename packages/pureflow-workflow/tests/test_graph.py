"""Graph validation order, topological order and cycle reports."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pureflow.types import IdentifierError
from pureflow.workflow import (
    CycleDetected,
    CyclePolicy,
    DuplicateNode,
    DuplicatePort,
    EdgeCapacity,
    EdgeDefinition,
    EdgeEndpointRole,
    NodeDefinition,
    PortDirection,
    UnknownNode,
    UnknownPort,
    WorkflowDefinition,
    WorkflowGraph,
)
from pureflow.workflow.graph import graph_errors

N = NodeDefinition.of
E = EdgeDefinition.between


def node(name: str) -> NodeDefinition:
    return N(name, ["in"], ["out"])


def edge(src: str, dst: str) -> EdgeDefinition:
    return E((src, "out"), (dst, "in"))


def test_empty_workflow() -> None:
    wf = WorkflowDefinition.empty("pureflow-scaffold")
    assert wf.nodes == ()
    assert wf.edges == ()
    with pytest.raises(IdentifierError, match="workflow id must not contain whitespace"):
        WorkflowDefinition.empty("bad workflow")


def test_capacity_defaults_and_explicit() -> None:
    assert E(("a", "o"), ("b", "i")).capacity.resolve(7) == 7
    assert E(("a", "o"), ("b", "i"), 3).capacity.resolve(7) == 3
    assert str(EdgeCapacity.DEFAULT) == "default"
    for bad in (0, -1, True, 2.0):
        with pytest.raises(ValueError, match="edge capacity"):
            EdgeCapacity(bad)  # type: ignore[arg-type]


def test_producer_consumer_order() -> None:
    wf = WorkflowDefinition.from_parts(
        "flow",
        [N("consumer", ["in"]), N("producer", [], ["out"])],
        [E(("producer", "out"), ("consumer", "in"))],
    )
    assert wf.topological_order() == ("producer", "consumer")


def test_isolated_nodes_come_out_smallest_id_first() -> None:
    wf = WorkflowDefinition.from_parts("flow", [N("z"), N("m"), N("a")])
    assert wf.topological_order() == ("a", "m", "z")


def test_two_node_cycle_rejected_unless_allowed() -> None:
    nodes, edges = (
        [node("first"), node("second")],
        [edge("first", "second"), edge("second", "first")],
    )
    with pytest.raises(CycleDetected) as info:
        WorkflowGraph(nodes, edges)
    assert set(info.value.cycle) == {"first", "second"}
    assert info.value.cycle[0] == info.value.cycle[-1]
    graph = WorkflowGraph(nodes, edges, cycles=CyclePolicy.ALLOW)
    with pytest.raises(CycleDetected):
        graph.topological_order()


def test_self_loop_is_a_closed_path() -> None:
    with pytest.raises(CycleDetected) as info:
        WorkflowGraph([node("s")], [edge("s", "s")])
    assert info.value.cycle == ("s", "s")
    assert str(info.value) == "workflow graph contains a cycle involving `s` `s`"


def test_cycle_search_starts_at_first_declared_remaining_node() -> None:
    nodes = [node("x"), node("c"), node("b"), node("a")]
    edges = [edge("x", "a"), edge("a", "b"), edge("b", "c"), edge("c", "a")]
    with pytest.raises(CycleDetected) as info:
        WorkflowGraph(nodes, edges)
    assert info.value.cycle == ("c", "a", "b", "c")


def test_cycle_between_two_of_three() -> None:
    nodes = [node("d"), node("b"), node("a")]
    edges = [edge("a", "b"), edge("b", "a"), edge("b", "d")]
    with pytest.raises(CycleDetected) as info:
        WorkflowGraph(nodes, edges)
    assert info.value.cycle == ("b", "a", "b")


def test_parallel_edges_are_not_a_cycle() -> None:
    """The original reported a false cycle `[b]` here; every edge now counts both ways."""
    nodes = [N("a", [], ["o", "p"]), N("b", ["i", "j"], ["out"]), N("c", ["in"])]
    edges = [
        E(("a", "o"), ("b", "i")),
        E(("a", "p"), ("b", "j")),
        E(("a", "o"), ("b", "j")),
        E(("a", "o"), ("b", "i")),  # an exact duplicate is legal too
        E(("b", "out"), ("c", "in")),
    ]
    assert WorkflowGraph(nodes, edges).topological_order() == ("a", "b", "c")


def test_duplicate_node_and_port() -> None:
    with pytest.raises(DuplicateNode, match="duplicate node `step`"):
        WorkflowGraph([node("step"), node("step")])
    with pytest.raises(DuplicatePort) as info:
        N("step", ["value"], ["value"])
    assert (info.value.node_id, info.value.port_id) == ("step", "value")
    assert str(info.value) == "node `step` contains duplicate port `value`"


def test_unknown_node_and_port_errors() -> None:
    with pytest.raises(UnknownNode) as unknown:
        WorkflowGraph([node("b")], [edge("missing", "b")])
    assert (unknown.value.edge_index, unknown.value.endpoint) == (0, EdgeEndpointRole.SOURCE)
    assert str(unknown.value) == "edge 0 source references unknown node `missing`"

    producer, consumer = N("producer", ["records"], ["out"]), N("consumer", ["in"], ["records"])
    with pytest.raises(UnknownPort) as wrong:
        WorkflowGraph([producer, consumer], [E(("producer", "records"), ("consumer", "in"))])
    assert wrong.value.expected is PortDirection.OUTPUT
    assert str(wrong.value) == (
        "edge 0 source references unknown output port `records` on node `producer`"
    )
    with pytest.raises(UnknownPort) as target:
        WorkflowGraph([producer, consumer], [E(("producer", "out"), ("consumer", "records"))])
    assert target.value.endpoint is EdgeEndpointRole.TARGET
    assert target.value.expected is PortDirection.INPUT


def test_source_is_checked_completely_before_target() -> None:
    with pytest.raises(UnknownPort):
        WorkflowGraph([node("a")], [E(("a", "nope"), ("ghost", "in"))])


def test_all_errors_are_collected_in_order() -> None:
    errors = graph_errors(
        [node("a"), node("a"), node("b")],
        [edge("a", "ghost"), E(("b", "nope"), ("a", "in"))],
    )
    assert [type(e) for e in errors] == [DuplicateNode, UnknownNode, UnknownPort]
    assert [e.code for e in errors] == [
        "graph.duplicate_node",
        "graph.unknown_node",
        "graph.unknown_port",
    ]


def test_equality_is_structural() -> None:
    def build() -> WorkflowDefinition:
        return WorkflowDefinition.from_parts("f", [node("a"), node("b")], [edge("a", "b")])

    assert build() == build()
    assert hash(build()) == hash(build())


@st.composite
def dags(draw: st.DrawFn) -> tuple[list[NodeDefinition], list[EdgeDefinition]]:
    count = draw(st.integers(1, 12))
    names = [f"n{i:02d}" for i in range(count)]
    edges = [
        edge(names[i], names[j])
        for i in range(count)
        for j in range(i + 1, count)
        for _ in range(draw(st.integers(0, 2)))
    ]
    return [node(n) for n in draw(st.permutations(names))], edges


@given(dags())
def test_forward_edge_dags_are_valid_and_ordered(
    parts: tuple[list[NodeDefinition], list[EdgeDefinition]],
) -> None:
    nodes, edges = parts
    order = WorkflowGraph(nodes, edges).topological_order()
    position = {name: i for i, name in enumerate(order)}
    assert sorted(order) == sorted(n.id for n in nodes)
    assert all(position[e.source.node_id] < position[e.target.node_id] for e in edges)


@given(st.integers(2, 6))
def test_rings_are_cycles(size: int) -> None:
    names = [f"r{i}" for i in range(size)]
    edges = [edge(names[i], names[(i + 1) % size]) for i in range(size)]
    with pytest.raises(CycleDetected) as info:
        WorkflowGraph([node(n) for n in names], edges)
    cycle = info.value.cycle
    assert cycle[0] == cycle[-1]
    assert len(cycle) == size + 1


def test_deep_chain_does_not_hit_recursion_limit() -> None:
    names = [f"n{i:05d}" for i in range(20_000)]
    edges = [edge(a, b) for a, b in itertools.pairwise(names)]
    edges.append(edge(names[-1], names[0]))
    with pytest.raises(CycleDetected) as info:
        WorkflowGraph([node(n) for n in names], edges)
    assert len(info.value.cycle) == 20_001
