"""Wiring a workflow's edges into ports."""

from __future__ import annotations

import anyio
import pytest
from pureflow.core import PacketPayload, wire_edges
from pureflow.workflow import EdgeDefinition, NodeDefinition, WorkflowDefinition


def diamond() -> WorkflowDefinition:
    return WorkflowDefinition.from_parts(
        "flow",
        [
            NodeDefinition.of("src", [], ["out", "spare"]),
            NodeDefinition.of("a", ["in"], ["out"]),
            NodeDefinition.of("b", ["in"], ["out"]),
            NodeDefinition.of("join", ["in", "unused"], []),
        ],
        [
            EdgeDefinition.between(("src", "out"), ("a", "in"), 4),
            EdgeDefinition.between(("src", "out"), ("b", "in")),
            EdgeDefinition.between(("a", "out"), ("join", "in"), 2),
            EdgeDefinition.between(("b", "out"), ("join", "in")),
        ],
    )


def test_structure() -> None:
    wiring = wire_edges(diamond(), default_capacity=3)
    assert list(wiring) == ["src", "a", "b", "join"]
    assert len(wiring) == 4
    src = wiring["src"].outputs  # type: ignore[index]
    assert src.port_ids == ("out", "spare")
    assert src.connected_edge_count("out") == 2
    assert src.connected_edge_count("spare") == 0
    assert [edge.capacity for edge in wiring.edges] == [4, 3, 2, 3]
    join = wiring["join"].inputs  # type: ignore[index]
    assert join.connected_edge_count("in") == 2
    assert join["in"].edges == (wiring.edges[2].channel, wiring.edges[3].channel)
    assert wiring.edges[1].definition.target.node_id == "b"
    route = wiring.edges[0].channel.route
    assert route is not None
    assert route.target.node_id == "a"
    inputs, outputs = wiring["a"]  # type: ignore[index]
    assert inputs.port_ids == ("in",)
    assert outputs.port_ids == ("out",)
    with pytest.raises(ValueError, match=">= 1"):
        wire_edges(diamond(), default_capacity=0)
    assert "Wiring" in repr(wiring)


@pytest.mark.anyio
async def test_a_wired_diamond_runs() -> None:
    wiring = wire_edges(diamond())
    from pureflow.core import ExecutionMetadata, NodeContext

    execution = ExecutionMetadata.first_attempt("run-1")
    for node, (inputs, outputs) in wiring.items():
        ctx = NodeContext("flow", node, execution)
        inputs.with_node_context(ctx)
        outputs.with_node_context(ctx)
    received: list[str] = []

    async def src() -> None:
        ports = wiring["src"].outputs  # type: ignore[index]
        for i in range(10):
            await ports.send("out", ports.packet("out", PacketPayload.bytes(str(i))))
        ports.close()

    async def relay(name: str) -> None:
        inputs, outputs = wiring[name]  # type: ignore[index]
        out = outputs["out"]
        async for packet in inputs.iter("in"):
            await out.send(packet)
        outputs.close()
        inputs.close()

    async def join() -> None:
        inputs = wiring["join"].inputs  # type: ignore[index]
        while (item := await inputs.recv_any()) is not None:
            received.append(f"{item[0]}:{item[1].route.source.node_id}")  # type: ignore[union-attr]
        inputs.close()

    async with anyio.create_task_group() as tg:
        tg.start_soon(src)
        tg.start_soon(relay, "a")
        tg.start_soon(relay, "b")
        tg.start_soon(join)
    assert sorted(received) == sorted(["in:a"] * 10 + ["in:b"] * 10)
    assert wiring.messages_moved() == 40
    wiring.close_all()
