"""Property test: packets cross a bounded edge in order, never above capacity, on both
backends, whatever the capacity and the consumer's pace."""

from __future__ import annotations

import anyio
import anyio.lowlevel
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pureflow.core import (
    ExecutionMetadata,
    MessageEndpoint,
    MessageRoute,
    Packet,
    PacketPayload,
    PortsIn,
    PortsOut,
    bounded_edge_channel,
)

ROUTE = MessageRoute(MessageEndpoint("p", "out"), MessageEndpoint("c", "in"))
EXECUTION = ExecutionMetadata.first_attempt("run-1")


def packet(index: int) -> Packet:
    return Packet.create(f"m{index}", "flow", EXECUTION, ROUTE, PacketPayload.bytes(b"x"))


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
@settings(max_examples=40, deadline=None)
@given(
    capacity=st.integers(1, 5),
    count=st.integers(0, 40),
    pauses=st.lists(st.booleans(), max_size=40),
    use_many=st.booleans(),
)
def test_fifo_within_capacity(
    backend: str, capacity: int, count: int, pauses: list[bool], use_many: bool
) -> None:
    async def main() -> list[str]:
        out_handle, in_handle = bounded_edge_channel("out", "in", capacity)
        outputs = PortsOut(["out"], [out_handle])
        inputs = PortsIn(["in"], [in_handle])
        edge = outputs["out"].edges[0]
        received: list[str] = []

        async def produce() -> None:
            for index in range(count):
                if index % 3 == 0:
                    with await outputs.reserve("out") as permit:
                        permit.send(packet(index))
                else:
                    await outputs.send("out", packet(index))
                assert len(edge.queue) + edge.reserved <= capacity
            outputs.close()

        async with anyio.create_task_group() as tg:
            tg.start_soon(produce)
            step = 0
            while True:
                if step < len(pauses) and pauses[step]:
                    await anyio.lowlevel.checkpoint()
                step += 1
                if use_many:
                    batch = await inputs.recv_many("in", 3)
                    if not batch:
                        break
                    received.extend(str(p.message_id) for p in batch)
                else:
                    item = await inputs.recv("in")
                    if item is None:
                        break
                    received.append(str(item.message_id))
        return received

    assert anyio.run(main, backend=backend) == [f"m{i}" for i in range(count)]
