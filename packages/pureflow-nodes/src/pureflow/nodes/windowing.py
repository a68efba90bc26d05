"""``batch``: group packets into windows by count and/or time."""

from __future__ import annotations

from typing import Any

import anyio
from pureflow.contract import Determinism, EffectCapability
from pureflow.core import (
    NodeConfig,
    NodeContext,
    Packet,
    PacketPayload,
    PayloadKind,
    PortsIn,
    PortsOut,
    component,
)
from pureflow.nodes._common import object_schema, send_or_stop


def batch_payload(packets: list[Packet]) -> PacketPayload:
    """The values of ``packets`` as one payload: a control array when every payload is
    control, else a structured ``list`` of the values (bytes stay bytes)."""
    values = [packet.payload.value for packet in packets]
    if all(packet.payload.kind is PayloadKind.CONTROL for packet in packets):
        return PacketPayload(PayloadKind.CONTROL, values)
    return PacketPayload.structured(values)


@component(
    name="batch",
    inputs=["in"],
    outputs=["out"],
    effects=[EffectCapability.CLOCK],
    determinism=Determinism.NON_DETERMINISTIC,
    config_schema=object_schema(
        {
            "size": {
                "type": "integer",
                "minimum": 1,
                "description": "Emit a batch once it holds this many packets.",
            },
            "seconds": {
                "type": "number",
                "exclusiveMinimum": 0,
                "description": "Emit a batch this long after its first packet arrived.",
            },
        },
        anyOf=[{"required": ["size"]}, {"required": ["seconds"]}],
    ),
)
class Batch:
    """Collect packets into batches of `size`, or of whatever arrived within `seconds` of
    a batch's first packet, whichever comes first; emit each as one array payload.

    Batches are never empty; the last, partial batch is emitted when the input ends.
    Every payload control gives a control array of their values; otherwise a structured
    list.
    """

    def __init__(self, config: NodeConfig) -> None:
        size: Any = config.get("size")
        seconds: Any = config.get("seconds")
        self.size: int | None = None if size is None else int(size)
        self.seconds: float | None = None if seconds is None else float(seconds)

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:  # noqa: ARG002
        source, out = inputs["in"], outputs["out"]
        size, seconds = self.size, self.seconds
        batch: list[Packet] = []
        deadline = 0.0
        while True:
            packet: Packet | None = None
            if seconds is not None and batch:
                remaining = deadline - anyio.current_time()
                timed_out = True
                if remaining > 0:
                    with anyio.move_on_after(remaining):
                        packet = await source.recv()
                        timed_out = False
                if timed_out:
                    if not await send_or_stop(out, out.packet(batch_payload(batch))):
                        return
                    batch = []
                    continue
            else:
                packet = await source.recv()
            if packet is None:
                break
            if not batch and seconds is not None:
                deadline = anyio.current_time() + seconds
            batch.append(packet)
            if size is not None and len(batch) >= size:
                if not await send_or_stop(out, out.packet(batch_payload(batch))):
                    return
                batch = []
        if batch:
            await send_or_stop(out, out.packet(batch_payload(batch)))
