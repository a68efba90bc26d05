"""Throughput check (not a test): a 3-stage pipeline on Pureflow ports vs asyncio.Queue.

source -> relay -> sink, capacity 64 on both edges, N one-byte packets. The ports version
uses ``wire_edges`` (so the relay re-stamps each packet's route) and the null sink; the
baseline moves the same packet objects through two ``asyncio.Queue(maxsize=64)``.

    hatch run python packages/pureflow-core/tests/bench_pipeline.py [N] [repeats]

Prints messages per second for each variant and the ratio to the asyncio.Queue baseline
(best of ``repeats`` interleaved runs, measured in the same process).
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable

import anyio
from pureflow.core import (
    ExecutionMetadata,
    NodeContext,
    Packet,
    PacketPayload,
    PortsIn,
    PortsOut,
    wire_edges,
)
from pureflow.workflow import EdgeDefinition, NodeDefinition, WorkflowDefinition

CAPACITY = 64


def workflow() -> WorkflowDefinition:
    return WorkflowDefinition.from_parts(
        "bench",
        [
            NodeDefinition.of("source", [], ["out"]),
            NodeDefinition.of("relay", ["in"], ["out"]),
            NodeDefinition.of("sink", ["in"], []),
        ],
        [
            EdgeDefinition.between(("source", "out"), ("relay", "in"), CAPACITY),
            EdgeDefinition.between(("relay", "out"), ("sink", "in"), CAPACITY),
        ],
    )


def make_packets(n: int, ctx: NodeContext, outputs: PortsOut) -> list[Packet]:
    out = outputs["out"]
    payload = PacketPayload.bytes(b"x")
    return [out.packet(payload) for _ in range(n)]


async def run_ports(n: int) -> float:
    wiring = wire_edges(workflow())
    execution = ExecutionMetadata.first_attempt("run-1")
    contexts = {node: NodeContext("bench", node, execution) for node in wiring}
    for node, (inputs, outputs) in wiring.items():
        inputs.with_node_context(contexts[node])
        outputs.with_node_context(contexts[node])
    src_out = wiring["source"].outputs  # type: ignore[index]
    packets = make_packets(n, contexts["source"], src_out)  # type: ignore[index]
    received = 0

    async def source() -> None:
        out = src_out["out"]
        for packet in packets:
            await out.send(packet)
        src_out.close()

    async def relay() -> None:
        inputs: PortsIn = wiring["relay"].inputs  # type: ignore[index]
        outputs: PortsOut = wiring["relay"].outputs  # type: ignore[index]
        port = inputs["in"]
        out = outputs["out"]
        while (packet := await port.recv()) is not None:
            await out.send(packet)
        outputs.close()

    async def sink() -> None:
        nonlocal received
        port = wiring["sink"].inputs["in"]  # type: ignore[index]
        while await port.recv() is not None:
            received += 1

    start = time.perf_counter()
    async with anyio.create_task_group() as tg:
        tg.start_soon(source)
        tg.start_soon(relay)
        tg.start_soon(sink)
    elapsed = time.perf_counter() - start
    assert received == n, received
    return elapsed


async def run_asyncio_queue(n: int) -> float:
    wiring = wire_edges(workflow())
    ctx = NodeContext("bench", "source", ExecutionMetadata.first_attempt("run-1"))
    outputs = wiring["source"].outputs.with_node_context(ctx)  # type: ignore[index]
    packets = make_packets(n, ctx, outputs)
    q1: asyncio.Queue[Packet | None] = asyncio.Queue(CAPACITY)
    q2: asyncio.Queue[Packet | None] = asyncio.Queue(CAPACITY)
    received = 0

    async def source() -> None:
        for packet in packets:
            await q1.put(packet)
        await q1.put(None)

    async def relay() -> None:
        while (packet := await q1.get()) is not None:
            await q2.put(packet)
        await q2.put(None)

    async def sink() -> None:
        nonlocal received
        while await q2.get() is not None:
            received += 1

    start = time.perf_counter()
    await asyncio.gather(source(), relay(), sink())
    elapsed = time.perf_counter() - start
    assert received == n
    return elapsed


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5

    def queue_run() -> float:
        return asyncio.run(run_asyncio_queue(n))

    def ports_on(backend: str) -> Callable[[], float]:
        def run() -> float:
            result: float = anyio.run(run_ports, n, backend=backend)
            return result

        return run

    variants: list[tuple[str, Callable[[], float]]] = [
        ("asyncio.Queue", queue_run),
        ("pureflow ports (asyncio)", ports_on("asyncio")),
        ("pureflow ports (trio)", ports_on("trio")),
    ]
    # Interleave the variants so that machine noise hits them alike; keep the best run.
    times: dict[str, list[float]] = {name: [] for name, _ in variants}
    for _ in range(repeats):
        for name, runner in variants:
            times[name].append(runner())
    baseline = min(times["asyncio.Queue"])
    print(f"{n} packets, capacity {CAPACITY}, best of {repeats} interleaved runs")
    for name, _ in variants:
        elapsed = min(times[name])
        print(f"  {name:<25} {n / elapsed:>12,.0f} msg/s   {baseline / elapsed:.2f}x")


if __name__ == "__main__":
    main()
