"""Workload 11.7, feedback loop (``data/feedback-loop.workflow.json``, ``cycles: allow``).

``driver`` sends ``seed`` then receives once (no reply: ``counter did not reply``);
``counter`` receives once (nothing: ``driver did not seed the loop``) then sends ``ack``.
Edges ``driver.out -> counter.in`` and ``counter.out -> driver.in``, default capacity 1.
Nodes are ``@node_executor`` functions. The original had no document for this workload
(it built the graph in code); this one sets the document extension ``cycles: allow``.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from pureflow.core import (
    ExecutionError,
    InMemoryMetadataSink,
    NodeContext,
    NodeExecutor,
    PortsIn,
    PortsOut,
    node_executor,
)
from pureflow.engine import CycleRejected, RunPolicy, TerminalState, run_workflow
from pureflow.format import load_workflow
from pureflow.workflow import CyclePolicy

pytestmark = pytest.mark.anyio

DOCUMENT = Path(__file__).parent / "data" / "feedback-loop.workflow.json"


def loop_nodes(lines: list[str]) -> dict[str, NodeExecutor]:
    @node_executor
    async def driver(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        await outputs.send("out", outputs.packet("out", "seed"))
        packet = await inputs.recv("in")
        if packet is None:
            raise ExecutionError("counter did not reply")
        lines.append(f"driver received {(packet.payload.as_bytes() or b'').decode()}")

    @node_executor
    async def counter(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        packet = await inputs.recv("in")
        if packet is None:
            raise ExecutionError("driver did not seed the loop")
        lines.append(f"counter received {(packet.payload.as_bytes() or b'').decode()}")
        await outputs.send("out", outputs.packet("out", "ack"))

    return {"driver": driver, "counter": counter}


async def test_feedback_loop() -> None:
    """Output lines in order, Completed 2/2. Counts, deterministic (one packet per
    capacity-1 edge):

    * lifecycle 6: 2 nodes x (scheduled, started, completed);
    * message 4: seed and ack, each enqueued and dequeued;
    * queue_pressure 10: each node sends once (3) and receives once (2); neither reads
      to end of stream.
    """
    graph = load_workflow(DOCUMENT)
    assert graph.graph.cycles is CyclePolicy.ALLOW
    lines: list[str] = []
    metadata = InMemoryMetadataSink()
    summary = await run_workflow(graph, loop_nodes(lines), metadata=metadata)
    lines.append(
        f"workflow {summary.workflow_id} {summary.terminal_state.label} with "
        f"{summary.scheduled_node_count} scheduled nodes and {summary.error_count} errors"
    )
    assert lines == [
        "counter received seed",
        "driver received ack",
        "workflow feedback-loop completed with 2 scheduled nodes and 0 errors",
    ]
    assert summary.terminal_state is TerminalState.COMPLETED
    assert (summary.completed_node_count, summary.pending_node_count) == (2, 0)
    assert Counter(r.record_type for r in metadata.records) == {
        "lifecycle": 6,
        "message": 4,
        "queue_pressure": 10,
    }
    assert summary.observed_message_count == 2


async def test_feedback_loop_runs_without_a_sink() -> None:
    """The original ran this example with no sink at all."""
    lines: list[str] = []
    summary = await run_workflow(load_workflow(DOCUMENT), loop_nodes(lines))
    assert summary.terminal_state is TerminalState.COMPLETED
    assert lines == ["counter received seed", "driver received ack"]


async def test_a_rejecting_policy_refuses_the_loop() -> None:
    lines: list[str] = []
    with pytest.raises(CycleRejected) as caught:
        await run_workflow(
            load_workflow(DOCUMENT),
            loop_nodes(lines),
            policy=RunPolicy(cycles=CyclePolicy.REJECT),
        )
    assert str(caught.value) == (
        "CDT-EXEC-001: node execution failed: workflow `feedback-loop` contains directed "
        "cycle driver -> counter -> driver; use an explicit feedback-loop run policy to "
        "execute cyclic graphs"
    )
    assert lines == []
