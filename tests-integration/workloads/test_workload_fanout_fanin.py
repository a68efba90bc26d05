"""Workload 11.1, fan-out / fan-in (``workloads/fanout-fanin.workflow.json``).

``source`` sends alpha, beta, gamma to ``splitter``; the splitter drains its input, then
re-sends each row on ``row``, an all-or-nothing fan-out to ``left-enrich`` and
``right-enrich``; each enricher drains, then sends ``{left|right}:{row}``; ``collector``
drains the fan-in (two edges into one port) and sorts. Every edge has capacity 1.
Nodes are plain ``async`` functions (``@node_executor``).
"""

from __future__ import annotations

from collections import Counter

import pytest
from integration_support import CONFORMANCE
from pureflow.core import (
    InMemoryMetadataSink,
    NodeContext,
    NodeExecutor,
    PortsIn,
    PortsOut,
    node_executor,
)
from pureflow.engine import TerminalState, run_workflow
from pureflow.format import load_workflow

pytestmark = pytest.mark.anyio

DOCUMENT = CONFORMANCE / "workloads" / "fanout-fanin.workflow.json"


def text(packet_payload: bytes | None) -> str:
    return (packet_payload or b"").decode()


@node_executor
async def source(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
    for row in ("alpha", "beta", "gamma"):
        await outputs.send("rows", outputs.packet("rows", row))


@node_executor
async def splitter(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
    rows = [text(p.payload.as_bytes()) async for p in inputs.iter("rows")]
    for row in rows:
        await outputs.send("row", outputs.packet("row", row))


def enricher(side: str) -> NodeExecutor:
    @node_executor
    async def enrich(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        rows = [text(p.payload.as_bytes()) async for p in inputs.iter("row")]
        for row in rows:
            await outputs.send("enriched", outputs.packet("enriched", f"{side}:{row}"))

    return enrich


class Collector:
    def __init__(self) -> None:
        self.rows: list[str] = []

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        rows = [text(p.payload.as_bytes()) async for p in inputs.iter("enriched")]
        self.rows = sorted(rows)


async def test_fanout_fanin() -> None:
    """Expected rows, Completed 5/5, and the counts:

    * lifecycle 15: 5 nodes x (scheduled, started, completed) (original: 10);
    * message 30: source->splitter 3 enqueued + 3 dequeued; the splitter's 3 fan-out
      sends write one enqueued per edge, 6, and the enrichers dequeue 6; the enrichers
      enqueue 6 into the fan-in and the collector dequeues 6 (original: 27, one
      enqueued per fan-out send);
    * queue_pressure, deterministic part 74 (the original's derived floor): sends
      write 3 each: source 3, splitter 3, enrichers 3 + 3 -> 36; receives write 2 per
      packet and 2 at end of stream: splitter 3x2+2 = 8, enrichers 8 + 8, collector
      6x2+2 = 14 -> 38. On top, one ``reserve_full`` per send that found an edge full
      (capacity 1 everywhere; a first send never blocks): at most 2 for the source, 2
      for the splitter (one per blocked fan-out send, whichever edge was full), 2 per
      enricher, so 0 to 8 (the original published 90 = 74 + 8 busy-loop retries x 2).
    """
    metadata = InMemoryMetadataSink()
    collector = Collector()
    executors: dict[str, NodeExecutor] = {
        "source": source,
        "splitter": splitter,
        "left-enrich": enricher("left"),
        "right-enrich": enricher("right"),
        "collector": collector,
    }
    summary = await run_workflow(load_workflow(DOCUMENT), executors, metadata=metadata)
    assert collector.rows == [
        "left:alpha",
        "left:beta",
        "left:gamma",
        "right:alpha",
        "right:beta",
        "right:gamma",
    ]
    assert summary.terminal_state is TerminalState.COMPLETED
    assert (summary.scheduled_node_count, summary.completed_node_count) == (5, 5)
    assert summary.error_count == 0
    counts = Counter(r.record_type for r in metadata.records)
    assert (counts["lifecycle"], counts["message"], counts["error"]) == (15, 30, 0)
    messages = Counter(metadata.kinds("message"))
    assert messages == {"enqueued": 15, "dequeued": 15}
    blocked = metadata.kinds("queue_pressure").count("reserve_full")
    assert 0 <= blocked <= 8
    assert counts["queue_pressure"] == 74 + blocked
    assert summary.observed_message_count == 15
