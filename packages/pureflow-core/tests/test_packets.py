"""Payloads and envelopes (spec-2 §2, §15 item 16)."""

from __future__ import annotations

import math

import pytest
from pureflow.core import (
    ExecutionMetadata,
    MessageEndpoint,
    MessageMetadata,
    MessageRoute,
    Packet,
    PacketPayload,
    PayloadKind,
)
from pureflow.types import IdentifierError, MessageId


def _route() -> MessageRoute:
    return MessageRoute(MessageEndpoint("producer", "out"), MessageEndpoint("consumer", "in"))


def test_map_payload_keeps_metadata() -> None:
    meta = MessageMetadata("msg-1", "flow", ExecutionMetadata.first_attempt("run-1"), _route())
    packet = Packet(meta, PacketPayload.bytes(b"abcdef"))
    mapped = packet.map_payload(lambda p: PacketPayload.bytes((p.as_bytes() or b"").upper()))
    assert mapped.metadata == meta
    assert mapped.message_id == "msg-1"
    assert mapped.route.target.node_id == "consumer"
    assert mapped.payload.as_bytes() == b"ABCDEF"
    assert packet.payload.as_bytes() == b"abcdef"
    assert packet.into_payload() is packet.payload
    assert type(packet.message_id) is MessageId


def test_byte_slices_do_not_copy() -> None:
    data = b"abcdef"
    payload = PacketPayload.bytes(data)
    assert payload.as_bytes() is data
    view = payload.as_memoryview()
    assert view is not None
    part = view[1:4]
    assert bytes(part) == b"bcd"
    assert part.obj is data
    assert PacketPayload.bytes("héllo").as_bytes() == "héllo".encode()
    assert PacketPayload.bytes(bytearray(b"x")).as_bytes() == b"x"
    with pytest.raises(TypeError):
        PacketPayload.bytes(12)  # type: ignore[arg-type]


def test_control_payload_by_field_and_validation() -> None:
    payload = PacketPayload.control({"op": "flush", "count": 2, "tags": ["a"]})
    control = payload.as_control()
    assert isinstance(control, dict)
    assert control["op"] == "flush"
    assert payload.kind is PayloadKind.CONTROL
    assert payload.as_bytes() is None
    assert PacketPayload.control("s").as_control() == "s"
    with pytest.raises(TypeError):
        PacketPayload.control({1: "x"})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="finite"):
        PacketPayload.control(math.nan)
    with pytest.raises(TypeError):
        PacketPayload.control({"x": object()})  # type: ignore[dict-item]


def test_fanout_copies_control_values_only() -> None:
    control = PacketPayload.control({"items": [1, 2]})
    copy = control.copy_for_fanout()
    assert copy == control
    value = copy.as_control()
    assert isinstance(value, dict)
    value["items"].append(3)
    assert control.as_control() == {"items": [1, 2]}
    raw = PacketPayload.bytes(b"x")
    assert raw.copy_for_fanout() is raw
    obj = PacketPayload.structured({"a": 1})
    assert obj.copy_for_fanout() is obj
    assert obj.as_structured() == {"a": 1}
    assert obj.is_structured
    assert not obj.is_bytes


def test_envelope_validates_plain_strings() -> None:
    with pytest.raises(IdentifierError):
        Packet.create(
            "bad id",
            "flow",
            ExecutionMetadata.first_attempt("run-1"),
            _route(),
            PacketPayload.bytes(b""),
        )
    route = MessageRoute(None, MessageEndpoint("consumer", "in"))
    assert route.to_json_value() == {
        "source": None,
        "target": {"node_id": "consumer", "port_id": "in"},
    }
    assert route == MessageRoute(None, MessageEndpoint("consumer", "in"))
    assert hash(route) == hash(MessageRoute(None, MessageEndpoint("consumer", "in")))
