"""Property tests of the data plane, on both backends: packets cross bounded edges in
order and never above capacity; a random mix of ``send``, ``send_many`` (batches),
``recv``, ``recv_many``, ``recv_any`` and cancellation over random fan-out / fan-in graphs
delivers every packet exactly once, in per-edge order."""

from __future__ import annotations

import random
from collections import defaultdict
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pureflow.core import (
    CHECKPOINT_INTERVAL,
    CancellationHandle,
    ExecutionMetadata,
    MessageEndpoint,
    MessageRoute,
    NodeContext,
    Packet,
    PacketPayload,
    PortRecvError,
    PortSendError,
    PortsIn,
    PortsOut,
    YieldBudget,
    bounded_edge_channel,
    wire_edges,
)
from pureflow.workflow import EdgeDefinition, NodeDefinition, WorkflowDefinition

ROUTE = MessageRoute(MessageEndpoint("p", "out"), MessageEndpoint("c", "in"))
EXECUTION = ExecutionMetadata.first_attempt("run-1")
BACKENDS = ["asyncio", "trio"]


def packet(index: int) -> Packet:
    return Packet.create(f"m{index}", "flow", EXECUTION, ROUTE, PacketPayload.bytes(b"x"))


@pytest.mark.parametrize("backend", BACKENDS)
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
                assert edge.depth + edge.reserved <= capacity
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


def _fan_in(queued: list[int], start: int, budget: YieldBudget) -> PortsIn:
    """A fan-in port whose edges hold ``queued[i]`` packets each (ids ``e{i}-{n}``), the
    rotation starting at edge ``start``."""
    handles = []
    for edge_index, amount in enumerate(queued):
        out_handle, in_handle = bounded_edge_channel("out", "in", max(amount, 1))
        for n in range(amount):
            out_handle.channels[0].push(
                Packet.create(
                    f"e{edge_index}-{n}", "flow", EXECUTION, ROUTE, PacketPayload.bytes(b"")
                )
            )
        handles.append(in_handle)
    inputs = PortsIn(["in"], handles, budget=budget)
    inputs["in"]._rr = start % len(queued)
    return inputs


@pytest.mark.anyio
@settings(max_examples=60, deadline=None)
@given(
    queued=st.lists(st.integers(0, 6), min_size=2, max_size=5).filter(any),
    start=st.integers(0, 4),
    max_items=st.integers(1, 20),
    budget_spent=st.booleans(),
)
async def test_fan_in_recv_many_takes_from_the_edge_whose_turn_it_is(
    queued: list[int], start: int, max_items: int, budget_spent: bool
) -> None:
    """``recv_many`` on a fan-in port takes up to ``max_items`` from the first non-empty
    edge in rotation order, in that edge's order, and moves the turn past it; with the
    yield budget spent it yields first and takes the same packets."""
    budget = YieldBudget()
    budget.spent = CHECKPOINT_INTERVAL if budget_spent else 0
    inputs = _fan_in(queued, start, budget)
    batch = await inputs["in"].recv_many(max_items)
    count = len(queued)
    turn = next(i % count for i in range(start, start + count) if queued[i % count])
    assert [str(p.message_id) for p in batch] == [
        f"e{turn}-{n}" for n in range(min(max_items, queued[turn]))
    ]
    assert inputs["in"]._rr == (turn + 1) % count


@pytest.mark.anyio
@pytest.mark.parametrize("budget_spent", [False, True])
async def test_recv_any_keeps_the_fan_in_turn_when_it_must_yield_first(budget_spent: bool) -> None:
    """``recv_any`` that finds a packet with the yield budget spent yields, then takes the
    packet the rotation points at, as it would have without yielding."""
    budget = YieldBudget()
    budget.spent = CHECKPOINT_INTERVAL if budget_spent else 0
    inputs = _fan_in([2, 2, 2], 1, budget)
    received = await inputs.recv_any()
    assert received is not None
    assert str(received[1].message_id) == "e1-0"
    assert inputs["in"]._rr == 2


# --- random graphs, random operations, cancellation -------------------------------------


@st.composite
def graphs(draw: st.DrawFn) -> dict[str, Any]:
    """Sources with one output each, fanned out to a random subset of the receivers'
    input ports (so ports are fan-out and fan-in at random), capacities 1-4."""
    sources = draw(st.integers(1, 3))
    receivers = draw(st.integers(1, 3))
    ports = {r: draw(st.integers(1, 2)) for r in range(receivers)}
    targets = [(r, p) for r in range(receivers) for p in range(ports[r])]
    edges = []
    for s in range(sources):
        chosen = draw(st.lists(st.sampled_from(targets), min_size=1, max_size=3, unique=True))
        edges.extend((s, r, p, draw(st.integers(1, 4))) for r, p in chosen)
    return {
        "sources": sources,
        "receivers": receivers,
        "ports": ports,
        "edges": edges,
        "counts": [draw(st.integers(0, 30)) for _ in range(sources)],
        "seed": draw(st.integers(0, 2**32 - 1)),
        "cancel_after": draw(st.one_of(st.none(), st.integers(0, 40))),
    }


def build(spec: dict[str, Any]) -> WorkflowDefinition:
    nodes = [NodeDefinition.of(f"s{s}", [], ["out"]) for s in range(spec["sources"])]
    nodes += [
        NodeDefinition.of(f"r{r}", [f"in{p}" for p in range(spec["ports"][r])], [])
        for r in range(spec["receivers"])
    ]
    edges = [
        EdgeDefinition.between((f"s{s}", "out"), (f"r{r}", f"in{p}"), capacity)
        for s, r, p, capacity in spec["edges"]
    ]
    return WorkflowDefinition.from_parts("graph", nodes, edges)


async def run_graph(spec: dict[str, Any]) -> tuple[dict[Any, list[int]], dict[Any, int], bool]:
    """Run the graph; returns what each edge delivered (by route), what each source sent
    completely, and whether the run was cancelled."""
    workflow = build(spec)
    wiring = wire_edges(workflow)
    handle = CancellationHandle()
    rng = random.Random(spec["seed"])
    sent_upto: dict[str, int] = {}
    delivered: dict[Any, list[int]] = defaultdict(list)
    operations = 0

    def check_capacity() -> None:
        for wired in wiring.edges:
            channel = wired.channel
            assert channel.depth + channel.reserved <= channel.capacity

    def tick() -> None:
        nonlocal operations
        operations += 1
        check_capacity()
        if spec["cancel_after"] is not None and operations >= spec["cancel_after"]:
            handle.cancel("stop")

    async def source(name: str, count: int, outputs: PortsOut) -> None:
        out = outputs["out"]
        index = 0
        try:
            while index < count:
                if rng.random() < 0.5:
                    size = min(count - index, rng.randint(1, 6))
                    await out.send_many(
                        out.batch([str(i).encode() for i in range(index, index + size)])
                    )
                    index += size
                else:
                    await out.send(out.packet(str(index).encode()))
                    index += 1
                sent_upto[name] = index
                tick()
                if rng.random() < 0.2:
                    await anyio.lowlevel.checkpoint()
        except PortSendError:
            pass
        finally:
            outputs.close()

    async def receiver(inputs: PortsIn) -> None:
        port_ids = list(inputs.port_ids)
        try:
            while True:
                # Waiting on one port while another fills up could deadlock a fan-out
                # legitimately, so recv / recv_many only go to a port with packets
                # queued; otherwise the receiver waits on all of them with recv_any.
                choice = rng.random()
                ready = [p for p in port_ids if inputs.queued_count(p)]
                if choice < 0.3 or not ready:
                    got = await inputs.recv_any()
                    if got is None:
                        break
                    packets = [got[1]]
                else:
                    port = rng.choice(ready)
                    if choice < 0.65:
                        one = await inputs.recv(port)
                        packets = [] if one is None else [one]
                    else:
                        packets = list(await inputs.recv_many(port, rng.randint(1, 5)))
                for packet in packets:
                    route = packet.route
                    key = (
                        str(route.source.node_id),
                        str(route.target.node_id),
                        str(route.target.port_id),
                    )  # type: ignore[union-attr]
                    delivered[key].append(int(packet.value))
                tick()
                if rng.random() < 0.2:
                    await anyio.lowlevel.checkpoint()
        except PortRecvError:
            pass
        finally:
            inputs.close()

    # A bounded wait per example: a hang fails the example (and hypothesis shrinks it)
    # instead of stalling the suite.
    with anyio.fail_after(30):
        await run_nodes(wiring, handle, spec, source, receiver)
    return delivered, sent_upto, handle.is_cancelled()


async def run_nodes(
    wiring: Any, handle: CancellationHandle, spec: dict[str, Any], source: Any, receiver: Any
) -> None:
    async with anyio.create_task_group() as tg:
        for node_id, (inputs, outputs) in wiring.items():
            ctx = NodeContext("graph", node_id, EXECUTION, cancellation_token=handle.token)
            inputs.with_node_context(ctx)
            outputs.with_node_context(ctx)
            if node_id.startswith("s"):
                tg.start_soon(source, node_id, spec["counts"][int(node_id[1:])], outputs)
            else:
                tg.start_soon(receiver, inputs)


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=40, deadline=None)
@given(spec=graphs())
def test_every_packet_is_delivered_once_in_edge_order(backend: str, spec: dict[str, Any]) -> None:
    delivered, sent_upto, cancelled = anyio.run(run_graph, spec, backend=backend)
    for s, r, p, _capacity in spec["edges"]:
        got = delivered.get((f"s{s}", f"r{r}", f"in{p}"), [])
        sent = sent_upto.get(f"s{s}", 0)
        if cancelled:
            # Cut short: a prefix of what was sent, in order, nothing twice.
            assert got == list(range(len(got)))
        else:
            assert got == list(range(spec["counts"][s]))
            assert sent == spec["counts"][s]
