"""Tags and hop counts travel with a packet: every copy an output port makes keeps them."""

from __future__ import annotations

import io
from typing import Any

import pytest
from pureflow.core import (
    ExecutionMetadata,
    InMemoryMetadataSink,
    JsonlMetadataSink,
    MessageEndpoint,
    MessageMetadata,
    MessageRoute,
    NodeContext,
    Packet,
    PacketPayload,
    PacketTags,
    wire_edges,
)
from pureflow.workflow import EdgeDefinition, NodeDefinition, WorkflowDefinition

pytestmark = pytest.mark.anyio

TAGS = PacketTags({"priority": "high", "n": 1, "f": 1.0, "ok": True, "none": None}, hops=2)


def tagged(message_id: str = "m", payload: PacketPayload | None = None) -> Packet:
    route = MessageRoute(MessageEndpoint("src", "out"), MessageEndpoint("src", "out"))
    meta = MessageMetadata(message_id, "flow", ExecutionMetadata.first_attempt("run-1"), route)
    return Packet(meta, payload or PacketPayload.control({"a": [1]})).with_tags(TAGS)


def test_a_new_packet_has_no_tags_and_copies_keep_them() -> None:
    packet = tagged()
    plain = Packet(packet.metadata, packet.payload)
    assert dict(plain.tags) == {}
    assert plain.hops == 0
    assert packet.hops == 2
    assert dict(packet.tags) == dict(TAGS.tags)
    for copy in (
        packet.with_payload(PacketPayload.bytes(b"x")),
        packet.map_payload(lambda p: p),
        packet.with_route(MessageRoute(None, MessageEndpoint("a", "in"))),
    ):
        assert copy.hops == 2
        assert dict(copy.tags) == dict(TAGS.tags)
    with pytest.raises(TypeError):
        packet.tags["new"] = 1  # type: ignore[index]


def test_equality_sees_tags_with_their_exact_types() -> None:
    packet = tagged()
    assert packet == tagged()
    assert packet != Packet(packet.metadata, packet.payload)
    assert packet != packet.with_tags(PacketTags(TAGS.tags, hops=3))
    # 1, 1.0 and True are three different tag values.
    as_float = packet.with_tags(PacketTags({**TAGS.tags, "n": 1.0}, hops=2))
    as_bool = packet.with_tags(PacketTags({**TAGS.tags, "n": True}, hops=2))
    assert packet != as_float
    assert packet != as_bool
    assert as_float != as_bool


def _wired() -> Any:
    workflow = WorkflowDefinition.from_parts(
        "flow",
        [
            NodeDefinition.of("src", [], ["out", "solo"]),
            NodeDefinition.of("a", ["in"], []),
            NodeDefinition.of("b", ["in"], []),
            NodeDefinition.of("c", ["in"], []),
        ],
        [
            EdgeDefinition.between(("src", "out"), ("a", "in"), 8),
            EdgeDefinition.between(("src", "out"), ("b", "in"), 8),
            EdgeDefinition.between(("src", "solo"), ("c", "in"), 8),
        ],
    )
    return wire_edges(workflow)


async def _received(wiring: Any, node: str) -> list[Packet]:
    inputs = wiring[node].inputs
    inputs.with_node_context(NodeContext.new("flow", node, ExecutionMetadata.first_attempt("r")))
    got = []
    while (packet := inputs.try_recv("in")) is not None:
        got.append(packet)
    return got


@pytest.mark.parametrize("sink", [None, "memory", "jsonl"])
async def test_every_send_path_keeps_tags(sink: str | None) -> None:
    wiring = _wired()
    outputs = wiring["src"].outputs
    outputs.with_node_context(NodeContext.new("flow", "src", ExecutionMetadata.first_attempt("r")))
    if sink == "memory":
        outputs.with_metadata_sink(InMemoryMetadataSink())
    elif sink == "jsonl":
        outputs.with_metadata_sink(JsonlMetadataSink(io.BytesIO()))
    await outputs.send("out", tagged("fan-1"))  # fan-out, one copy per edge
    await outputs.send_many("out", [tagged("fan-2"), tagged("fan-3")])
    await outputs.send("solo", tagged("solo-1"))  # one edge, the edge's route stamped
    await outputs.send_many("solo", [tagged("solo-2"), tagged("solo-3")])
    outputs.try_send("solo", tagged("solo-4"))
    for node, count in (("a", 3), ("b", 3), ("c", 4)):
        got = await _received(wiring, node)
        assert len(got) == count
        for packet in got:
            assert packet.route.target.node_id == node
            assert packet.hops == 2
            assert dict(packet.tags) == dict(TAGS.tags)
