"""Cycles, feedback loops and the no-progress watchdog: spec-3 §13 tests 8-13, a real
deadlock, a slow-but-progressing stream the watchdog must leave alone, and the grace
period for nodes that ignore cancellation.

The watchdog's fixes (spec-3 §17.6) change tests 12-13: progress means a packet moved or
a node finished (not only a node finishing); when it fires it cancels the token, so every
node still ends with a terminal record (the original dropped the futures: pending 2); its
diagnostic names every blocked node with the ports it waits on, and each edge's depth.
"""

from __future__ import annotations

import json

import anyio
import pytest
from engine_test_nodes import (
    counts,
    cyclic,
    edge,
    error_keys,
    expect,
    fails,
    lifecycle_by_node,
    node,
    noop,
    source_sink,
    terminal_by_node,
    workflow,
)
from pureflow.core import (
    CancellationError,
    ExecutionError,
    InMemoryMetadataSink,
    NodeContext,
    NodeExecutor,
    PortsIn,
    PortsOut,
    node_executor,
)
from pureflow.engine import CycleRejected, RunPolicy, TerminalState, run_workflow
from pureflow.engine.watchdog import format_duration
from pureflow.workflow import CyclePolicy

pytestmark = pytest.mark.anyio

FEEDBACK_POLICY_TEXT = (
    "AllowFeedbackLoops(FeedbackLoopRunPolicy { startup: StartAllNodes, "
    "termination: AllNodesComplete })"
)


@node_executor
async def hold_and_receive(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
    """Keep the outputs open and wait for a packet that never comes."""
    await inputs.recv("in")


# --- 8-11. cycles ---------------------------------------------------------------------


async def test_8_a_cycle_is_rejected_before_anything_runs() -> None:
    """Test 8, adapted: the original rejected ``cyclic()`` under its default policy. Here
    the default follows the graph (built with cycles allowed), so the rejection needs an
    explicit ``RunPolicy(cycles=REJECT)``. Nothing runs, nothing is recorded."""
    ran: list[str] = []

    @node_executor
    async def visit(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        ran.append(str(ctx.node_id))

    sink = InMemoryMetadataSink()
    with pytest.raises(CycleRejected) as caught:
        await run_workflow(
            cyclic(), visit, metadata=sink, policy=RunPolicy(cycles=CyclePolicy.REJECT)
        )
    assert str(caught.value) == (
        "CDT-EXEC-001: node execution failed: workflow `flow` contains directed cycle "
        "first -> second -> first; use an explicit feedback-loop run policy to execute "
        "cyclic graphs"
    )
    assert isinstance(caught.value, ExecutionError)
    assert ran == []
    assert sink.records == []


async def test_9_a_cycle_runs_under_the_feedback_policy(anyio_backend: str) -> None:
    """Test 9: both the graph's own setting and an explicit ``ALLOW`` run it. Visit order
    is declaration order on asyncio (trio randomises first-run order)."""
    ran: list[str] = []

    @node_executor
    async def visit(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        ran.append(str(ctx.node_id))

    for policy in (None, RunPolicy(cycles=CyclePolicy.ALLOW)):
        ran.clear()
        summary = await run_workflow(cyclic(), visit, policy=policy)
        assert summary.terminal_state is TerminalState.COMPLETED
        assert counts(summary) == expect(2, completed=2)
        assert sorted(ran) == ["first", "second"]
        if anyio_backend == "asyncio":
            assert ran == ["first", "second"]


async def test_10_driver_counter_feedback_loop() -> None:
    observed: list[str] = []

    @node_executor
    async def driver(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        await outputs.send("out", outputs.packet("out", b"seed"))
        packet = await inputs.recv("in")
        if packet is None:
            raise ExecutionError("counter did not reply")
        observed.append(f"driver:{(packet.payload.as_bytes() or b'').decode()}")

    @node_executor
    async def counter(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        packet = await inputs.recv("in")
        if packet is None:
            raise ExecutionError("driver did not seed the loop")
        observed.append(f"counter:{(packet.payload.as_bytes() or b'').decode()}")
        await outputs.send("out", outputs.packet("out", b"ack"))

    graph = workflow(
        [node("driver", ["in"], ["out"]), node("counter", ["in"], ["out"])],
        [edge(("driver", "out"), ("counter", "in")), edge(("counter", "out"), ("driver", "in"))],
        cycles=CyclePolicy.ALLOW,
    )
    summary = await run_workflow(graph, {"driver": driver, "counter": counter})
    assert observed == ["counter:seed", "driver:ack"]
    assert summary.terminal_state is TerminalState.COMPLETED
    assert summary.pending_node_count == 0
    assert summary.observed_message_count == 2


async def test_11_feedback_loop_shutdown_by_failure() -> None:
    """Test 11: ``first`` fails; ``second`` waits on the token (no busy poll needed: the
    token wakes its waiters) and returns normally."""
    observed: list[str] = []

    @node_executor
    async def second(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        request = await ctx.cancellation_token.wait()
        observed.append(request.reason)

    summary = await run_workflow(
        cyclic(), {"first": fails("feedback loop shutdown requested"), "second": second}
    )
    assert summary.terminal_state is TerminalState.FAILED
    assert counts(summary) == expect(2, completed=1, failed=1, errors=1)
    assert "feedback loop shutdown requested" in str(summary.first_error)
    assert observed == [
        "node execution failed: CDT-EXEC-001: node execution failed: "
        "feedback loop shutdown requested"
    ]


# --- 12-13. the watchdog on a deadlock ------------------------------------------------

WATCHDOG_ONLY = RunPolicy(watchdog_seconds=0.001, detect_deadlocks=False)
"""The watchdog alone, as the original had it (the deadlock detector is tested apart)."""


async def test_12_watchdog_reports_a_deadlocked_cycle() -> None:
    """Test 12, adapted: ``cyclic()`` with both nodes holding their outputs and parked in
    ``recv``. A summary is returned (not an exception), ``failed``, with the diagnostic.
    Unlike the original (pending 2, error_count 1), the watchdog cancels the token, both
    ``recv`` calls wake with ``Cancelled``, and both nodes end cancelled: pending 0,
    error_count 3 (the watchdog's error plus two cancellations). The deadlock detector,
    which would stop this run before the watchdog, is off (see test_engine_deadlocks.py)."""
    sink = InMemoryMetadataSink()
    summary = await run_workflow(cyclic(), hold_and_receive, metadata=sink, policy=WATCHDOG_ONLY)
    assert summary.terminal_state is TerminalState.FAILED
    assert counts(summary) == expect(2, cancelled=2, errors=3)
    blocked = "blocked: `first` receiving on in; `second` receiving on in"
    assert str(summary.first_error) == (
        "CDT-EXEC-001: node execution failed: workflow `flow` watchdog detected no workflow "
        "progress for 1ms: scheduled_nodes=2, pending_nodes=2, completed_nodes=0, "
        "failed_nodes=0, cancelled_nodes=0, bounded_edges=2, "
        f"cycle_policy={FEEDBACK_POLICY_TEXT}; {blocked}"
    )
    report = summary.deadlock_diagnostic
    assert report is not None
    assert report.to_json() == {
        "workflow_id": "flow",
        "scheduled_node_count": 2,
        "pending_node_count": 2,
        "completed_node_count": 0,
        "failed_node_count": 0,
        "cancelled_node_count": 0,
        "bounded_edge_count": 2,
        "no_progress_timeout_ms": 1,
        "cycle_policy": "allow_feedback_loops",
        "feedback_loop_startup": "start_all_nodes",
        "feedback_loop_termination": "all_nodes_complete",
        "blocked_nodes": [
            {"node_id": "first", "waiting_inputs": ["in"], "waiting_outputs": []},
            {"node_id": "second", "waiting_inputs": ["in"], "waiting_outputs": []},
        ],
        "edges": [
            {
                "edge_index": 0,
                "source": "first.out",
                "target": "second.in",
                "queued_count": 0,
                "capacity": 1,
                "moved": 0,
                "received": 0,
            },
            {
                "edge_index": 1,
                "source": "second.out",
                "target": "first.in",
                "queued_count": 0,
                "capacity": 1,
                "moved": 0,
                "received": 0,
            },
        ],
        "detected_by": "watchdog",
    }
    # Both nodes started, and both still got exactly one terminal record.
    assert lifecycle_by_node(sink) == {
        "first": ["node_scheduled", "node_started", "node_cancelled"],
        "second": ["node_scheduled", "node_started", "node_cancelled"],
    }
    json.dumps(summary.to_json())  # the summary with its diagnostic is plain JSON


async def test_13_watchdog_writes_one_workflow_failed_with_the_diagnostic() -> None:
    """Test 13: the ``workflow_failed`` record carries the ``workflow_deadlock``
    diagnostic (the original's fields, plus ``blocked_nodes`` and ``edges``); the nodes'
    own cancellations add no second ``workflow_failed``."""
    sink = InMemoryMetadataSink()
    await run_workflow(cyclic(), hold_and_receive, metadata=sink, policy=WATCHDOG_ONLY)
    assert error_keys(sink)[0] == ("workflow_failed", None)
    assert sorted(error_keys(sink)[1:], key=str) == [
        ("node_failed", "first"),
        ("node_failed", "second"),
    ]
    diagnostic = sink.of_type("error")[0].to_json_value()["diagnostic"]
    assert diagnostic["type"] == "workflow_deadlock"
    assert {
        key: diagnostic[key]
        for key in diagnostic
        if key not in {"blocked_nodes", "edges", "detected_by"}
    } == {
        "type": "workflow_deadlock",
        "scheduled_node_count": 2,
        "pending_node_count": 2,
        "completed_node_count": 0,
        "failed_node_count": 0,
        "cancelled_node_count": 0,
        "bounded_edge_count": 2,
        "no_progress_timeout_ms": 1,
        "cycle_policy": "allow_feedback_loops",
        "feedback_loop_startup": "start_all_nodes",
        "feedback_loop_termination": "all_nodes_complete",
    }
    assert diagnostic["detected_by"] == "watchdog"
    assert [entry["node_id"] for entry in diagnostic["blocked_nodes"]] == ["first", "second"]
    assert len(diagnostic["edges"]) == 2


async def test_watchdog_names_blocked_senders_and_receivers_with_edge_depths() -> None:
    """An acyclic deadlock: ``producer`` is parked sending into a full edge whose consumer
    waits on a different, silent port (fed by ``quiet``, which waits for the token)."""

    @node_executor
    async def producer(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        for index in range(3):
            await outputs.send("out", outputs.packet("out", str(index)))

    @node_executor
    async def consumer(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        await inputs.recv("control")  # never reads ``data``

    @node_executor
    async def quiet(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        await ctx.cancellation_token.wait()

    graph = workflow(
        [
            node("producer", [], ["out"]),
            node("quiet", [], ["out"]),
            node("consumer", ["data", "control"], []),
        ],
        [
            edge(("producer", "out"), ("consumer", "data"), 2),
            edge(("quiet", "out"), ("consumer", "control")),
        ],
    )
    sink = InMemoryMetadataSink()
    executors: dict[str, NodeExecutor] = {
        "producer": producer,
        "quiet": quiet,
        "consumer": consumer,
    }
    summary = await run_workflow(
        graph, executors, metadata=sink, policy=RunPolicy(watchdog_seconds=0.02)
    )
    report = summary.deadlock_diagnostic
    assert report is not None
    assert report.cycle_policy == "reject"
    assert report.feedback_loop_startup is None
    assert list(report.blocked) == [
        {"node_id": "producer", "waiting_inputs": [], "waiting_outputs": ["out"]},
        {"node_id": "quiet", "waiting_inputs": [], "waiting_outputs": []},
        {"node_id": "consumer", "waiting_inputs": ["control"], "waiting_outputs": []},
    ]
    assert [(e["source"], e["queued_count"], e["capacity"]) for e in report.edges] == [
        ("producer.out", 2, 2),
        ("quiet.out", 0, 1),
    ]
    assert str(summary.first_error).endswith(
        "cycle_policy=Reject; blocked: `producer` sending on out; `quiet` running; "
        "`consumer` receiving on control"
    )
    # In the record the original's label for an acyclic run is ``reject_cycles``.
    diagnostic = sink.of_type("error")[0].to_json_value()["diagnostic"]
    assert diagnostic["cycle_policy"] == "reject_cycles"
    assert summary.terminal_state is TerminalState.FAILED
    assert counts(summary) == expect(3, completed=1, cancelled=2, errors=3)
    assert terminal_by_node(sink) == {
        "producer": ["node_cancelled"],
        "quiet": ["node_completed"],
        "consumer": ["node_cancelled"],
    }
    # What was queued when the consumer left is reported as dropped, not lost silently.
    assert sink.kinds("message").count("dropped") == 2


async def test_watchdog_leaves_a_slow_but_progressing_stream_alone() -> None:
    """Progress counts packets. The source sends 10 packets 50 ms apart (0.5 s in total,
    with the watchdog at 0.3 s): no node finishes for longer than the timeout, which the
    original would have flagged as a deadlock, but a packet moves every 50 ms. The sleep
    is the workload itself (a slow producer), not synchronisation; the margin is 6x."""

    @node_executor
    async def slow_source(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        for index in range(10):
            await anyio.sleep(0.05)
            await outputs.send("out", outputs.packet("out", str(index)))

    received: list[bytes | None] = []

    @node_executor
    async def collect(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        received.extend([p.payload.as_bytes() async for p in inputs.iter("in")])

    summary = await run_workflow(
        source_sink(),
        {"source": slow_source, "sink": collect},
        policy=RunPolicy(watchdog_seconds=0.3),
    )
    assert summary.terminal_state is TerminalState.COMPLETED
    assert summary.deadlock_diagnostic is None
    assert len(received) == 10
    assert summary.observed_message_count == 10


async def test_watchdog_grace_period_then_host_cancellation() -> None:
    """A node that ignores the cancellation request is cancelled by the supervisor once
    ``grace_seconds`` have passed; it still gets its terminal record (``cancelled by
    host``), and the run returns its summary."""

    @node_executor
    async def stubborn(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        await anyio.sleep_forever()

    @node_executor
    async def polite(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        await ctx.cancellation_token.wait()

    sink = InMemoryMetadataSink()
    summary = await run_workflow(
        workflow([node("stubborn"), node("polite")]),
        {"stubborn": stubborn, "polite": polite},
        metadata=sink,
        policy=RunPolicy(watchdog_seconds=0.01, grace_seconds=0.05),
    )
    assert summary.terminal_state is TerminalState.FAILED
    assert counts(summary) == expect(2, completed=1, cancelled=1, errors=2)
    assert summary.node_errors == {"stubborn": CancellationError("cancelled by host")}
    assert terminal_by_node(sink) == {"stubborn": ["node_cancelled"], "polite": ["node_completed"]}
    assert error_keys(sink).count(("workflow_failed", None)) == 1


async def test_watchdog_is_quiet_when_the_run_finishes() -> None:
    summary = await run_workflow(source_sink(), noop, policy=RunPolicy(watchdog_seconds=5))
    assert summary.terminal_state is TerminalState.COMPLETED
    assert summary.deadlock_diagnostic is None


async def test_watchdog_after_a_node_failure_keeps_the_first_error() -> None:
    """The first error decides ``first_error``; a later watchdog still counts as an error
    and attaches its diagnostic to the summary, but writes no second ``workflow_failed``
    (fix of spec-3 §17.6: the original could write two)."""

    @node_executor
    async def stubborn(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        await anyio.sleep_forever()

    sink = InMemoryMetadataSink()
    summary = await run_workflow(
        workflow([node("broken"), node("stubborn")]),
        {"broken": fails("broken"), "stubborn": stubborn},
        metadata=sink,
        # The failure's cancellation gives `stubborn` the grace period to end: the
        # watchdog fires within it.
        policy=RunPolicy(watchdog_seconds=0.01, grace_seconds=0.5),
    )
    (workflow_failed,) = [r for r in sink.of_type("error") if r.kind == "workflow_failed"]
    assert workflow_failed.to_json_value()["diagnostic"] is None
    assert "broken" in workflow_failed.to_json_value()["error"]["message"]
    assert str(summary.first_error) == "CDT-EXEC-001: node execution failed: broken"
    assert summary.deadlock_diagnostic is not None
    assert summary.deadlock_diagnostic.failed_node_count == 1
    assert counts(summary) == expect(2, failed=1, cancelled=1, errors=3)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.001, "1ms"), (1.5, "1.5s"), (2, "2s"), (0.00025, "250µs"), (0, "0ns"), (3e-9, "3ns")],
)
def test_durations_print_like_rust_debug(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
