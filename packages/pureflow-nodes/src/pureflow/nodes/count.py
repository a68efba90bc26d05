"""``count``: how many packets went by."""

from __future__ import annotations

from pureflow.contract import Determinism, RetryDisposition
from pureflow.core import NodeContext, PacketPayload, PortsIn, PortsOut, component
from pureflow.nodes._common import object_schema, send_or_stop


@component(
    name="count",
    inputs=["in"],
    outputs=["out"],
    determinism=Determinism.DETERMINISTIC,
    retry=RetryDisposition.SAFE,
    config_schema=object_schema({}),
)
class Count:
    """Consume every packet; when the input ends, emit one control payload
    `{"count": n}`."""

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:  # noqa: ARG002
        source = inputs["in"]
        total = 0
        while batch := await source.recv_many(1024):
            total += len(batch)
        out = outputs["out"]
        await send_or_stop(out, out.packet(PacketPayload.control({"count": total})))
