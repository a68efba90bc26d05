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
    ports,
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


def _fan_in(queued: list[int], start: int) -> tuple[PortsIn, list[object]]:
    """A fan-in port whose edges hold ``queued[i]`` packets each (ids ``e{i}-{n}``), the
    rotation starting at edge ``start``."""
    handles = []
    channels = []
    for edge_index, amount in enumerate(queued):
        out_handle, in_handle = bounded_edge_channel("out", "in", max(amount, 1))
        for n in range(amount):
            out_handle.channels[0].push(
                Packet.create(
                    f"e{edge_index}-{n}", "flow", EXECUTION, ROUTE, PacketPayload.bytes(b"")
                )
            )
        handles.append(in_handle)
        channels.append(out_handle.channels[0])
    inputs = PortsIn(["in"], handles)
    inputs["in"]._rr = start % len(queued)
    return inputs, channels


@pytest.mark.anyio
@settings(max_examples=60, deadline=None)
@given(
    queued=st.lists(st.integers(0, 6), min_size=2, max_size=5).filter(any),
    start=st.integers(0, 4),
    max_items=st.integers(1, 20),
    budget_spent=st.booleans(),
)
async def test_fan_in_recv_many_takes_what_recv_would(
    queued: list[int], start: int, max_items: int, budget_spent: bool
) -> None:
    """The one-step fan-in take, and the general path taken when the yield budget is
    spent (it yields first, and the edge it found keeps its turn), give the packets
    ``recv`` gives one by one."""
    many_port, many_edges = _fan_in(queued, start)
    one_port, one_edges = _fan_in(queued, start)
    ports._unyielded = ports.CHECKPOINT_INTERVAL if budget_spent else 0
    batch = await many_port["in"].recv_many(max_items)
    singles = []
    while len(singles) < len(batch):
        ports._unyielded = 0
        single = await one_port["in"].recv()
        assert single is not None
        singles.append(single)
    assert [str(p.message_id) for p in batch] == [str(p.message_id) for p in singles]
    assert len(batch) == min(max_items, sum(queued))
    assert many_port["in"]._rr == one_port["in"]._rr
    assert [e.popped for e in many_edges] == [e.popped for e in one_edges]  # type: ignore[attr-defined]


@pytest.mark.anyio
@pytest.mark.parametrize("budget_spent", [False, True])
async def test_recv_any_keeps_the_fan_in_turn_when_it_must_yield_first(budget_spent: bool) -> None:
    """``recv_any`` that finds a packet with the yield budget spent yields, then takes the
    packet the rotation points at, as it would have without yielding."""
    inputs, _ = _fan_in([2, 2, 2], 1)
    ports._unyielded = ports.CHECKPOINT_INTERVAL if budget_spent else 0
    received = await inputs.recv_any()
    assert received is not None
    assert str(received[1].message_id) == "e1-0"
    assert inputs["in"]._rr == 2
