"""The large-run tier: control records plus per-edge statistics, no record per packet."""

from __future__ import annotations

import anyio
import pytest
from engine_test_nodes import edge, node, workflow
from pureflow.core import (
    InMemoryMetadataSink,
    NodeContext,
    PortsIn,
    PortsOut,
    TieredMetadataPolicy,
    TieredMetadataSink,
    node_executor,
)
from pureflow.engine import run_workflow

pytestmark = pytest.mark.anyio


@node_executor
async def numbers(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
    out = outputs["out"]
    for index in range(40):
        if index % 10 == 0:
            await anyio.sleep(0.02)  # long enough for the periodic records to come
        await out.send(out.packet(index))


@node_executor
async def drain(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
    async for _ in inputs["in"]:
        pass


async def test_statistics_tier_writes_edge_counters_instead_of_packet_records() -> None:
    memory = InMemoryMetadataSink()
    sink = TieredMetadataSink(memory, TieredMetadataPolicy.statistics(0.005))
    graph = workflow(
        [node("numbers", [], ["out"]), node("drain", ["in"])],
        [edge(("numbers", "out"), ("drain", "in"), 4)],
    )
    summary = await run_workflow(graph, {"numbers": numbers, "drain": drain}, metadata=sink)
    assert summary.succeeded
    types = {record.record_type for record in memory.records}
    assert types == {"lifecycle", "edge_statistics"}  # nothing per packet
    stats = [record.to_json_value() for record in memory.of_type("edge_statistics")]
    assert [s["kind"] for s in stats[:-1]] == ["periodic"] * (len(stats) - 1)
    assert len(stats) >= 2  # at least one periodic record, then the final one
    final = stats[-1]
    assert final["kind"] == "final"
    assert final["sample"] == len(stats)
    assert (final["moved"], final["received"], final["queued_count"]) == (40, 40, 0)
    assert (final["source"], final["target"], final["capacity"]) == ("numbers.out", "drain.in", 4)
    assert final["receive_waits"] >= 1  # the drain waited while numbers slept
    assert [s["sample"] for s in stats] == list(range(1, len(stats) + 1))


async def test_the_control_tier_writes_no_statistics() -> None:
    memory = InMemoryMetadataSink()
    sink = TieredMetadataSink(memory, TieredMetadataPolicy.control_only())
    graph = workflow(
        [node("numbers", [], ["out"]), node("drain", ["in"])],
        [edge(("numbers", "out"), ("drain", "in"), 4)],
    )
    await run_workflow(graph, {"numbers": numbers, "drain": drain}, metadata=sink)
    assert {record.record_type for record in memory.records} == {"lifecycle"}
