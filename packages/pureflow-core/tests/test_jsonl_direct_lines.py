"""Ports write JSONL lines straight into a plain JsonlMetadataSink (no record objects).

That path caches line fragments per port; these tests pin it to the record path: the same
operations give byte-identical lines through a JsonlMetadataSink and through record
objects in an InMemoryMetadataSink, including after the context's cancellation state
changes (the cached fragments carry it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pureflow.core import (
    CancellationHandle,
    ExecutionMetadata,
    InMemoryMetadataSink,
    JsonlMetadataSink,
    MessageEndpoint,
    MessageRoute,
    MetadataError,
    NodeContext,
    Packet,
    PacketPayload,
    PortsIn,
    PortsOut,
    bounded_edge_channel,
    wire_edges,
)
from pureflow.workflow import EdgeDefinition, NodeDefinition, WorkflowDefinition

WORKFLOW = WorkflowDefinition.from_parts(
    "flow",
    [NodeDefinition.of("source", [], ["out"]), NodeDefinition.of("sink", ["in"], [])],
    [EdgeDefinition.between(("source", "out"), ("sink", "in"), 8)],
)


async def exchange(sink: Any) -> None:
    """Two packets, then a third committed after cancellation, then both ends close."""
    wiring = wire_edges(WORKFLOW)
    handle = CancellationHandle()
    execution = ExecutionMetadata.first_attempt("run-1")
    for node, (inputs, outputs) in wiring.items():
        ctx = NodeContext("flow", node, execution, cancellation_token=handle.token)
        inputs.with_node_context(ctx).with_metadata_sink(sink)
        outputs.with_node_context(ctx).with_metadata_sink(sink)
    out = wiring["source"].outputs["out"]  # type: ignore[index]
    into = wiring["sink"].inputs["in"]  # type: ignore[index]
    for text in ("one", "two"):
        await out.send(out.packet(PacketPayload.bytes(text)))
    assert (await into.recv()) is not None
    with await out.reserve() as permit:
        handle.cancel("stop now")
        permit.send(out.packet(PacketPayload.bytes("three")))  # commit ignores the token
    out.close()
    into.close()


@pytest.mark.anyio
async def test_direct_lines_equal_record_lines_across_cancellation(tmp_path: Path) -> None:
    recorded = InMemoryMetadataSink()
    await exchange(recorded)
    path = tmp_path / "m.jsonl"
    with JsonlMetadataSink(path) as direct:
        await exchange(direct)
        count = direct.record_count
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    assert lines == list(recorded.json_lines())
    assert count == len(lines)
    assert any('"reason":"stop now","state":"requested"' in line for line in lines)
    assert any('"state":"active"' in line for line in lines)


# A relay with a fan-in input: the receive and send fast paths of the direct JSONL path
# (one text per operation) against the record path, with non-ASCII ids, numbered ids and
# explicit ids that need escaping.
RELAY = WorkflowDefinition.from_parts(
    "flöw",
    [
        NodeDefinition.of("quellé", [], ["aus"]),
        NodeDefinition.of("other", [], ["out"]),
        NodeDefinition.of("relay", ["in"], ["out"]),
        NodeDefinition.of("sink", ["ein"], []),
    ],
    [
        EdgeDefinition.between(("quellé", "aus"), ("relay", "in"), 4),
        EdgeDefinition.between(("other", "out"), ("relay", "in"), 4),
        EdgeDefinition.between(("relay", "out"), ("sink", "ein"), 4),
    ],
)


async def relay_exchange(sink: Any) -> None:
    wiring = wire_edges(RELAY)
    execution = ExecutionMetadata.first_attempt("run-ü")
    for node, (inputs, outputs) in wiring.items():
        ctx = NodeContext("flöw", node, execution)
        inputs.with_node_context(ctx).with_metadata_sink(sink)
        outputs.with_node_context(ctx).with_metadata_sink(sink)
    first = wiring["quellé"].outputs["aus"]  # type: ignore[index]
    second = wiring["other"].outputs["out"]  # type: ignore[index]
    relay_in = wiring["relay"].inputs["in"]  # type: ignore[index]
    relay_out = wiring["relay"].outputs["out"]  # type: ignore[index]
    into = wiring["sink"].inputs["ein"]  # type: ignore[index]
    await first.send(first.packet(PacketPayload.bytes("a")))
    await first.send(first.packet(PacketPayload.bytes("b"), message_id='say-"hé"\\n'))
    await second.send(second.packet(PacketPayload.control({"n": 1})))
    first.close()
    second.close()
    async for packet in relay_in:
        await relay_out.send(packet)
    relay_out.close()
    received = [packet async for packet in into]
    assert [str(packet.message_id) for packet in received] == [
        "quellé-aus-0",
        "other-out-0",
        'say-"hé"\\n',
    ]


@pytest.mark.anyio
async def test_direct_lines_equal_record_lines_through_a_relay(tmp_path: Path) -> None:
    recorded = InMemoryMetadataSink()
    await relay_exchange(recorded)
    path = tmp_path / "relay.jsonl"
    with JsonlMetadataSink(path) as direct:
        await relay_exchange(direct)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    assert lines == list(recorded.json_lines())
    # 3 sends of 4 records, 3 relayed receives of 3 and sends of 4, 3 receives of 3, and
    # the end-of-stream records of the two loops.
    assert sum('"record_type":"message"' in line for line in lines) == 12


@pytest.mark.anyio
async def test_a_failing_sink_neither_sends_nor_takes_a_packet(tmp_path: Path) -> None:
    path = tmp_path / "closed.jsonl"
    sink = JsonlMetadataSink(path)
    wiring = wire_edges(WORKFLOW)
    execution = ExecutionMetadata.first_attempt("run-1")
    for node, (inputs, outputs) in wiring.items():
        ctx = NodeContext("flow", node, execution)
        inputs.with_node_context(ctx).with_metadata_sink(sink)
        outputs.with_node_context(ctx).with_metadata_sink(sink)
    out = wiring["source"].outputs["out"]  # type: ignore[index]
    into = wiring["sink"].inputs["in"]  # type: ignore[index]
    await out.send(out.packet(PacketPayload.bytes("kept")))
    edge = out.edges[0]
    sink.close()
    with pytest.raises(MetadataError, match="sink is closed"):
        await out.send(out.packet(PacketPayload.bytes("refused")))
    assert [bytes(p.payload.value) for p in edge.items()] == [b"kept"]  # type: ignore[union-attr]
    with pytest.raises(MetadataError, match="sink is closed"):
        await into.recv()
    assert [bytes(p.payload.value) for p in edge.items()] == [b"kept"]  # type: ignore[union-attr]


async def contextless_exchange(sink: Any) -> None:
    """Ports with a sink but no node context (``"context":null`` in the lines), on an
    anonymous edge (no route stamping)."""
    out_handle, in_handle = bounded_edge_channel("out", "in", 2)
    outputs = PortsOut(["out"], [out_handle], sink=sink)
    inputs = PortsIn(["in"], [in_handle], sink=sink)
    route = MessageRoute(MessageEndpoint("a", "out"), MessageEndpoint("b", "in"))
    execution = ExecutionMetadata.first_attempt("run-1")
    for index in range(3):
        packet = Packet.create(f"m-{index}", "flow", execution, route, PacketPayload.bytes(b""))
        await outputs.send("out", packet)
        assert await inputs.recv("in") == packet


@pytest.mark.anyio
async def test_direct_lines_equal_record_lines_without_a_context(tmp_path: Path) -> None:
    recorded = InMemoryMetadataSink()
    await contextless_exchange(recorded)
    path = tmp_path / "contextless.jsonl"
    with JsonlMetadataSink(path) as direct:
        await contextless_exchange(direct)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    assert lines == list(recorded.json_lines())
    assert len(lines) == 3 * 7
    assert all('"context":null' in line for line in lines if "queue_pressure" in line)
