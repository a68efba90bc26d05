"""Node code for the deadlock shapes (see README.md): each one blocks on a port."""

from __future__ import annotations

import anyio
from pureflow.core import NodeContext, PortsIn, PortsOut


async def echo_after_receiving(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
    """Forward every packet, but only ever send after a receive (a cycle never starts)."""
    out = outputs["out"]
    async for packet in inputs["in"]:
        await out.send(packet)


async def numbers(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
    """Send ``count`` numbered packets (config, default 10) on ``out``."""
    out = outputs["out"]
    for index in range(int(ctx.config.get("count", 10))):
        await out.send(out.packet(str(index)))


async def join_left_then_right(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
    """Read ``left`` to its end before looking at ``right``."""
    async for _ in inputs["left"]:
        pass
    async for _ in inputs["right"]:
        pass


async def data_then_done(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
    """Send 10 packets on ``data``, then one on ``done``."""
    data = outputs["data"]
    for index in range(10):
        await data.send(data.packet(str(index)))
    done = outputs["done"]
    await done.send(done.packet("done"))


async def done_then_data(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
    """Wait for ``done`` before reading ``data``."""
    await inputs.recv("done")
    async for _ in inputs["data"]:
        pass


async def slow_numbers(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
    """Send 2 packets, sleeping ``seconds`` (config) before each: slow, never stuck."""
    out = outputs["out"]
    for index in range(2):
        await anyio.sleep(float(ctx.config["seconds"]))
        await out.send(out.packet(str(index)))


async def drain(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
    for port_id in inputs.port_ids:
        async for _ in inputs[port_id]:
            pass
