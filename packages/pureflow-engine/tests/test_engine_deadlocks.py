"""The deadlock detector: a run whose live nodes are all blocked on ports stops at once,
with no timer; a run that is only slow, or busy outside ports, is never reported.

Every test runs with no watchdog, so a run the detector missed would hang until the
suite's timeout instead of passing.
"""

from __future__ import annotations

import time

import anyio
import pytest
from engine_test_nodes import (
    counts,
    cyclic,
    drain_all,
    edge,
    error_keys,
    expect,
    lifecycle_by_node,
    node,
    workflow,
)
from pureflow.core import InMemoryMetadataSink, NodeContext, PortsIn, PortsOut, node_executor
from pureflow.engine import RunPolicy, TerminalState, run_workflow
from pureflow.runtime import BlockingPortsIn, BlockingPortsOut, in_thread
from pureflow.workflow import CyclePolicy

pytestmark = pytest.mark.anyio


@node_executor
async def receive_first(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
    """Wait for a packet before sending anything (so a cycle of these never starts)."""
    packet = await inputs.recv("in")
    if packet is not None:
        await outputs.send("out", packet)


async def test_a_cycle_of_receivers_is_stopped_by_the_detector() -> None:
    sink = InMemoryMetadataSink()
    summary = await run_workflow(cyclic(), receive_first, metadata=sink)
    assert summary.terminal_state is TerminalState.FAILED
    assert counts(summary) == expect(2, cancelled=2, errors=3)
    assert str(summary.first_error) == (
        "CDT-EXEC-001: node execution failed: workflow `flow` is deadlocked: every running "
        "node is blocked on a port and no edge can move a packet: scheduled_nodes=2, "
        "pending_nodes=2, completed_nodes=0, failed_nodes=0, cancelled_nodes=0, "
        "bounded_edges=2, cycle_policy=AllowFeedbackLoops(FeedbackLoopRunPolicy { startup: "
        "StartAllNodes, termination: AllNodesComplete }); blocked: `first` receiving on in; "
        "`second` receiving on in"
    )
    report = summary.deadlock_diagnostic
    assert report is not None
    assert report.detected_by == "deadlock_detector"
    assert report.no_progress_timeout_ms == 0
    assert [entry["node_id"] for entry in report.blocked] == ["first", "second"]
    assert error_keys(sink)[0] == ("workflow_failed", None)
    diagnostic = sink.of_type("error")[0].to_json_value()["diagnostic"]
    assert diagnostic["type"] == "workflow_deadlock"
    assert diagnostic["detected_by"] == "deadlock_detector"
    assert lifecycle_by_node(sink) == {
        "first": ["node_scheduled", "node_started", "node_cancelled"],
        "second": ["node_scheduled", "node_started", "node_cancelled"],
    }


async def test_a_sender_blocked_on_an_unread_full_edge_is_a_deadlock() -> None:
    """``producer`` fills a capacity-2 edge that ``consumer`` never reads; ``consumer``
    waits on a port that ``producer`` only feeds after it has sent everything."""

    @node_executor
    async def producer(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        for index in range(5):
            await outputs.send("data", outputs.packet("data", str(index)))
        await outputs.send("control", outputs.packet("control", "go"))

    @node_executor
    async def consumer(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        await inputs.recv("control")

    graph = workflow(
        [node("producer", [], ["data", "control"]), node("consumer", ["data", "control"], [])],
        [
            edge(("producer", "data"), ("consumer", "data"), 2),
            edge(("producer", "control"), ("consumer", "control")),
        ],
    )
    summary = await run_workflow(graph, {"producer": producer, "consumer": consumer})
    report = summary.deadlock_diagnostic
    assert report is not None
    assert report.detected_by == "deadlock_detector"
    assert list(report.blocked) == [
        {"node_id": "producer", "waiting_inputs": [], "waiting_outputs": ["data"]},
        {"node_id": "consumer", "waiting_inputs": ["control"], "waiting_outputs": []},
    ]
    depths = {(e["source"], e["target"]): (e["queued_count"], e["capacity"]) for e in report.edges}
    assert depths == {
        ("producer.data", "consumer.data"): (2, 2),
        ("producer.control", "consumer.control"): (0, 1),
    }


async def test_a_slow_but_live_pipeline_is_not_a_deadlock() -> None:
    """A node sleeping between packets is busy, not blocked, while the others wait on it."""

    @node_executor
    async def slow_source(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        for index in range(3):
            await anyio.sleep(0.02)
            await outputs.send("out", outputs.packet("out", str(index)))

    received: list[bytes] = []

    @node_executor
    async def sink(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        received.extend([packet.payload.as_bytes() or b"" async for packet in inputs["in"]])

    graph = workflow(
        [node("source", [], ["out"]), node("sink", ["in"])],
        [edge(("source", "out"), ("sink", "in"))],
    )
    summary = await run_workflow(graph, {"source": slow_source, "sink": sink})
    assert summary.terminal_state is TerminalState.COMPLETED
    assert received == [b"0", b"1", b"2"]


async def test_a_wait_with_a_deadline_is_a_sleep_not_a_block() -> None:
    """A receive inside ``move_on_after`` ends by itself: the node is not blocked, and the
    run completes once the wait times out and the node sends."""

    @node_executor
    async def polling(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        with anyio.move_on_after(0.05):
            await inputs.recv("in")  # nothing ever comes: the other node waits on us
        await outputs.send("out", outputs.packet("out", "timed out"))

    graph = workflow(
        [node("first", ["in"], ["out"]), node("second", ["in"], ["out"])],
        [edge(("first", "out"), ("second", "in")), edge(("second", "out"), ("first", "in"))],
        cycles=CyclePolicy.ALLOW,
    )
    summary = await run_workflow(graph, {"first": polling, "second": drain_all})
    assert summary.deadlock_diagnostic is None
    assert summary.terminal_state is TerminalState.COMPLETED


async def test_a_thread_node_counts_as_blocked_only_while_it_waits_on_a_port() -> None:
    """The thread node computes (``time.sleep`` in its thread) while the receiver waits
    on it: no deadlock. Then it waits on a port nobody feeds: deadlock."""
    computed = []

    @in_thread
    def worker(ctx: NodeContext, inputs: BlockingPortsIn, outputs: BlockingPortsOut) -> None:
        time.sleep(0.05)  # busy in the thread: the receiver waiting on us is not a deadlock
        outputs.send("out", outputs.packet("out", "done"))
        computed.append(True)
        inputs.recv("in")  # nothing will come: now every live node is blocked

    graph = workflow(
        [node("worker", ["in"], ["out"]), node("echo", ["in"], ["out"])],
        [edge(("worker", "out"), ("echo", "in")), edge(("echo", "out"), ("worker", "in"), 4)],
        cycles=CyclePolicy.ALLOW,
    )

    @node_executor
    async def echo_once_then_wait(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        await inputs.recv("in")
        await inputs.recv("in")

    summary = await run_workflow(graph, {"worker": worker, "echo": echo_once_then_wait})
    assert computed == [True]
    report = summary.deadlock_diagnostic
    assert report is not None
    assert report.detected_by == "deadlock_detector"
    assert {entry["node_id"] for entry in report.blocked} == {"worker", "echo"}


async def test_waiting_for_cancellation_is_not_a_deadlock() -> None:
    """A node waiting on its cancellation token waits for the outside world (Ctrl-C, a
    caller's handle), so a run parked on it is not reported; the caller stops it."""

    @node_executor
    async def until_cancelled(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        await ctx.cancellation_token.wait()

    from pureflow.core import CancellationHandle

    handle = CancellationHandle()
    graph = workflow(
        [node("watcher", [], ["out"]), node("sink", ["in"])],
        [edge(("watcher", "out"), ("sink", "in"))],
    )
    async with anyio.create_task_group() as group:

        async def stop_when_parked() -> None:
            await anyio.wait_all_tasks_blocked()
            handle.cancel("stopped by the caller")

        group.start_soon(stop_when_parked)
        summary = await run_workflow(
            graph, {"watcher": until_cancelled, "sink": receive_first}, cancellation=handle
        )
    assert summary.deadlock_diagnostic is None
    assert summary.terminal_state is TerminalState.CANCELLED


async def test_the_detector_can_be_switched_off() -> None:
    """With ``detect_deadlocks=False`` only the watchdog stops a deadlocked run."""
    summary = await run_workflow(
        cyclic(),
        receive_first,
        policy=RunPolicy(detect_deadlocks=False, watchdog_seconds=0.01),
    )
    report = summary.deadlock_diagnostic
    assert report is not None
    assert report.detected_by == "watchdog"
