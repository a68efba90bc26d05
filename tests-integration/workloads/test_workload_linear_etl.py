"""Workload 11.8, linear ETL (``native-linear-etl.workflow.json``): source.rows ->
transform.rows -> sink.cleaned, capacity 2 on both edges.

Two runs: the original CLI's demo executor on every node (its published counts, plus one
``node_scheduled`` per node), and real nodes: an ``async`` source and sink written with
``@node_executor``, and a *blocking* transform run in a worker thread with
``@in_thread``.

Record counts are by ``record_type`` in an ``InMemoryMetadataSink``.
"""

from __future__ import annotations

from collections import Counter

import pytest
from integration_support import CONFORMANCE
from pureflow.core import InMemoryMetadataSink, NodeContext, PortsIn, PortsOut, node_executor
from pureflow.engine import DemoExecutor, TerminalState, run_workflow
from pureflow.format import load_workflow
from pureflow.runtime import BlockingPortsIn, BlockingPortsOut, in_thread

pytestmark = pytest.mark.anyio

DOCUMENT = CONFORMANCE / "native-linear-etl.workflow.json"
RAW_ROWS = ["  Alice ", "BOB", "   ", " carol  "]


@node_executor
async def source(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
    rows = outputs["rows"]
    for row in RAW_ROWS:
        await rows.send(rows.packet(row))


@in_thread
def transform(ctx: NodeContext, inputs: BlockingPortsIn, outputs: BlockingPortsOut) -> None:
    """Blocking code: strip and lower-case each row, drop blank ones."""
    for packet in inputs.iter("rows"):
        cleaned = (packet.payload.as_bytes() or b"").decode().strip().lower()
        if cleaned:
            outputs.send("cleaned", outputs.packet("cleaned", cleaned))


class Sink:
    def __init__(self) -> None:
        self.rows: list[str] = []

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        async for packet in inputs.iter("cleaned"):
            self.rows.append((packet.payload.as_bytes() or b"").decode())


async def test_demo_executor_counts() -> None:
    """The original printed ``records: 24`` (lifecycle 6, message 4, queue_pressure 14).
    Here: lifecycle 9 = 3 scheduled + 3 started + 3 completed; message 4 (2 edges x
    enqueued + dequeued, one packet each); queue_pressure 14 = source 3 (reserve_attempted,
    reserve_ready, send_committed) + transform 4 (receive_attempted + receive_ready, then
    receive_attempted + receive_closed) + 3 + sink 4. Total 27, all deterministic."""
    sink = InMemoryMetadataSink()
    summary = await run_workflow(
        load_workflow(DOCUMENT), DemoExecutor(), metadata=sink, execution="cli-run-1"
    )
    assert summary.terminal_state is TerminalState.COMPLETED
    assert summary.completed_node_count == 3
    assert Counter(r.record_type for r in sink.records) == {
        "lifecycle": 9,
        "message": 4,
        "queue_pressure": 14,
    }
    assert len(sink.records) == 27
    assert summary.observed_message_count == 2


async def test_real_nodes_clean_the_rows() -> None:
    """Counts with real nodes (4 raw rows, 3 cleaned):

    * lifecycle 9: scheduled + started + completed for 3 nodes;
    * message 14: rows edge 4 enqueued + 4 dequeued, cleaned edge 3 + 3;
    * queue_pressure, deterministic part 39: source 4 sends x 3 = 12; transform 4
      receives x 2 + end of stream 2 = 10, and 3 sends x 3 = 9; sink 3 x 2 + 2 = 8.
      On top, each send that found its capacity-2 edge full wrote one
      ``reserve_full`` (one per blocked call, however long it waited). Whether a send
      blocks depends on scheduling; only the source's 3rd and 4th sends and the
      transform's 3rd can, so there are 0 to 3.
    """
    metadata = InMemoryMetadataSink()
    sink = Sink()
    summary = await run_workflow(
        load_workflow(DOCUMENT),
        {"source": source, "transform": transform, "sink": sink},
        metadata=metadata,
    )
    assert summary.terminal_state is TerminalState.COMPLETED
    assert (summary.completed_node_count, summary.error_count) == (3, 0)
    assert sink.rows == ["alice", "bob", "carol"]
    counts = Counter(r.record_type for r in metadata.records)
    assert (counts["lifecycle"], counts["message"], counts["error"]) == (9, 14, 0)
    blocked = metadata.kinds("queue_pressure").count("reserve_full")
    assert 0 <= blocked <= 3
    assert counts["queue_pressure"] == 39 + blocked
    assert summary.observed_message_count == 7
