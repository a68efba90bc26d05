"""A source that sends each configured message as a bytes packet with ids msg-1, msg-2, ...

The uppercase guest accepts bytes payloads only (as the original's guest does), and the
ids match the original's uppercase test data.
"""

from __future__ import annotations

from pureflow.core import NodeContext, PortsIn, PortsOut, component


@component(
    inputs=[],
    outputs=["out"],
    config_schema={
        "type": "object",
        "properties": {"messages": {"type": "array", "items": {"type": "string"}}},
        "required": ["messages"],
        "additionalProperties": False,
    },
    description="Send each configured message as a bytes packet.",
)
async def source(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
    out = outputs["out"]
    for index, message in enumerate(ctx.config["messages"], start=1):
        await out.send(out.packet(message.encode(), message_id=f"msg-{index}"))
