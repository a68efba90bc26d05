"""The original CLI's demo executor, for nodes that have no ``component``.

Kept so that ``pureflow run`` on the original's documents produces the same messages and
records. Per node: drain every input port in declaration order, counting packets; then,
for each output port in sorted port-id order (``index`` = its position in that order),
send exactly one packet with message id ``cli-<node>-<port>-<index>`` and the bytes
payload ``cli-native node=<node> output=<port> received=<count>``.
"""

from __future__ import annotations

from pureflow.core import NodeContext, PacketPayload, PortsIn, PortsOut
from pureflow.types import MessageId


class DemoExecutor:
    """Drains inputs, then emits one synthetic packet per output port."""

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        received = 0
        for port_id in inputs.port_ids:
            source = inputs.port(port_id)
            while await source.recv() is not None:
                received += 1
        for index, port_id in enumerate(sorted(outputs.port_ids)):
            message_id = MessageId(f"cli-{ctx.node_id}-{port_id}-{index}")
            payload = PacketPayload.bytes(
                f"cli-native node={ctx.node_id} output={port_id} received={received}"
            )
            target = outputs.port(port_id)
            await target.send(target.packet(payload, message_id=message_id))

    def __repr__(self) -> str:
        return "DemoExecutor()"
