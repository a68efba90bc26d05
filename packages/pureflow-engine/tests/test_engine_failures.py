"""Failure propagation and cancellation: spec-3 §13 tests 14-21, continue-on-error,
per-node time limits, external cancellation through a ``CancellationHandle`` and host
cancellation of the run.

This port's fixes show up throughout: cancellation *wakes* parked port operations (the
original's token was a polled flag); fail-fast cancels the token *before* the failing
node's outputs close, so downstream sees ``Cancelled`` and never a clean end of stream;
every node ends with exactly one terminal lifecycle record; the terminal state is
``failed`` if any node failed, ``cancelled`` only when every error is a cancellation.
"""

from __future__ import annotations

import anyio
import anyio.lowlevel
import pytest
from engine_test_nodes import (
    RecordingHook,
    cancels,
    counts,
    drain_all,
    edge,
    error_keys,
    expect,
    fails,
    lifecycle_by_node,
    node,
    noop,
    source_sink,
    source_transform_sink,
    terminal_by_node,
    wait_for_cancellation,
    workflow,
)
from pureflow.core import (
    CancellationError,
    CancellationHandle,
    ErrorRecord,
    ExecutionError,
    InMemoryMetadataSink,
    MetadataError,
    MetadataRecord,
    NodeContext,
    NodeExecutor,
    PortRecvError,
    PortRecvErrorKind,
    PortsIn,
    PortsOut,
    node_executor,
)
from pureflow.engine import FailurePolicy, RunPolicy, TerminalState, run_workflow

pytestmark = pytest.mark.anyio


# --- 14-16. fail-fast -----------------------------------------------------------------


async def test_14_one_failure_among_independent_nodes() -> None:
    """Test 14: ``first`` fails, ``second`` succeeds (no edges). Record order: the node's
    error record, its ``node_failed`` lifecycle record, then ``workflow_failed``."""
    sink = InMemoryMetadataSink()
    summary = await run_workflow(
        workflow([node("first"), node("second")]),
        {"first": fails("first failed"), "second": noop},
        metadata=sink,
    )
    assert summary.terminal_state is TerminalState.FAILED
    assert counts(summary) == expect(2, completed=1, failed=1, errors=1)
    assert str(summary.first_error) == "CDT-EXEC-001: node execution failed: first failed"
    assert error_keys(sink) == [("node_failed", "first"), ("workflow_failed", None)]
    workflow_failed = next(r for r in sink.of_type("error") if r.kind == "workflow_failed")
    assert workflow_failed.to_json_value()["node_id"] is None
    assert workflow_failed.to_json_value()["diagnostic"] is None
    first_records = [
        (rec.record_type, str(rec.kind))
        for rec in sink.records
        if rec.node_id == "first" or rec.kind == "workflow_failed"
    ]
    assert first_records == [
        ("lifecycle", "node_scheduled"),
        ("lifecycle", "node_started"),
        ("error", "node_failed"),
        ("lifecycle", "node_failed"),
        ("error", "workflow_failed"),
    ]
    assert summary.node_errors == {"first": ExecutionError("first failed")}


async def test_15_source_fails_at_once_downstream_is_cancelled() -> None:
    """Test 15 (case a): 0 completed, 1 failed, 2 cancelled, error_count 3. Here the
    downstream nodes are woken from (or refused) their ``recv`` by the cancellation;
    they never see end of stream."""
    seen: list[object] = []

    @node_executor
    async def relay(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        try:
            async for packet in inputs.iter("in"):
                if "out" in outputs:
                    await outputs.send("out", packet)
        except PortRecvError as err:
            seen.append(err.kind)
            raise
        seen.append("end of stream")

    sink = InMemoryMetadataSink()
    summary = await run_workflow(
        source_transform_sink(),
        {"source": fails("source failed"), "transform": relay, "sink": relay},
        metadata=sink,
    )
    assert summary.terminal_state is TerminalState.FAILED
    assert counts(summary) == expect(3, failed=1, cancelled=2, errors=3)
    assert seen == [PortRecvErrorKind.CANCELLED, PortRecvErrorKind.CANCELLED]
    assert terminal_by_node(sink) == {
        "source": ["node_failed"],
        "transform": ["node_cancelled"],
        "sink": ["node_cancelled"],
    }
    assert [k for k, _ in error_keys(sink)].count("workflow_failed") == 1
    assert summary.node_errors["transform"] == CancellationError(
        "input port `in` receive cancelled"
    )


async def test_16_transform_fails_after_one_packet() -> None:
    """Test 16 (case b): the source sends one packet and completes; the transform fails
    after receiving it; the sink is cancelled. 1/1/1, error_count 2."""

    @node_executor
    async def source(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        await outputs.send("out", outputs.packet("out", b"row"))

    @node_executor
    async def transform(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        await inputs.recv("in")
        raise ExecutionError("matrix transform failed")

    sink = InMemoryMetadataSink()
    summary = await run_workflow(
        source_transform_sink(),
        {"source": source, "transform": transform, "sink": drain_all},
        metadata=sink,
    )
    assert counts(summary) == expect(3, completed=1, failed=1, cancelled=1, errors=2)
    assert summary.terminal_state is TerminalState.FAILED
    errors = sink.of_type("error")
    (workflow_failed,) = [r for r in errors if r.kind == "workflow_failed"]
    assert "matrix transform failed" in workflow_failed.to_json_value()["error"]["message"]
    assert sorted(str(r.node_id) for r in errors if r.kind == "node_failed") == [
        "sink",
        "transform",
    ]


# --- 17-18. consumers that leave early ------------------------------------------------


async def test_17_consumer_leaving_early_fails_its_producer() -> None:
    """Test 17: the sink returns without reading; the source then sends into an edge
    whose only consumer has left: ``output port `out` is disconnected`` (an execution
    error, as in the original). The source waits for the sink's terminal event (seen by
    the hook after the runner closed the sink's ports), so the order is deterministic."""
    hook = RecordingHook()

    @node_executor
    async def source(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        await hook.finished("sink").wait()
        await outputs.send("out", outputs.packet("out", b"late"))

    summary = await run_workflow(source_sink(), {"source": source, "sink": noop}, hook=hook)
    assert summary.terminal_state is TerminalState.FAILED
    assert counts(summary) == expect(2, completed=1, failed=1, errors=1)
    assert str(summary.first_error) == (
        "CDT-EXEC-001: node execution failed: output port `out` is disconnected"
    )


async def test_18_fan_out_with_one_consumer_gone_still_delivers_to_the_other() -> None:
    """Test 18, adapted. The original failed the whole fan-out send (``disconnected``) and
    ``good`` never received the packet. Here a fan-out port whose consumers have partly
    left still delivers to the live ones and reports each lost copy with a ``dropped``
    message record (DESIGN §4 / core ports): Completed 3/3, ``good`` gets the packet."""
    hook = RecordingHook()
    received: list[bytes | None] = []

    @node_executor
    async def source(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        await hook.finished("drop").wait()
        await outputs.send("out", outputs.packet("out", b"packet"))

    @node_executor
    async def good(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        received.extend([p.payload.as_bytes() async for p in inputs.iter("in")])

    graph = workflow(
        [node("source", [], ["out"]), node("good", ["in"]), node("drop", ["in"])],
        [edge(("source", "out"), ("good", "in")), edge(("source", "out"), ("drop", "in"))],
    )
    sink = InMemoryMetadataSink()
    summary = await run_workflow(
        graph, {"source": source, "good": good, "drop": noop}, hook=hook, metadata=sink
    )
    assert summary.terminal_state is TerminalState.COMPLETED
    assert counts(summary) == expect(3, completed=3)
    assert received == [b"packet"]
    messages = [
        (str(r.kind), r.to_json_value()["message"]["route"]["target"]["node_id"])
        for r in sink.of_type("message")
    ]
    assert sorted(messages) == [("dequeued", "good"), ("dropped", "drop"), ("enqueued", "good")]
    assert summary.observed_message_count == 1


# --- 19-21. cancellation as an outcome ------------------------------------------------


async def test_19_a_node_returning_cancellation_cancels_the_run() -> None:
    summary = await run_workflow(workflow([node("only")]), cancels("test cancellation"))
    assert summary.terminal_state is TerminalState.CANCELLED
    assert counts(summary) == expect(1, cancelled=1, errors=1)
    assert str(summary.first_error) == "CDT-CANCEL-001: execution cancelled: test cancellation"


async def test_20_failures_surface_through_raise_for_state() -> None:
    """Test 20: the strict form (the original's ``into_result``)."""
    summary = await run_workflow(workflow([node("only")]), fails("boom"))
    with pytest.raises(ExecutionError) as caught:
        summary.raise_for_state()
    assert str(caught.value) == "CDT-EXEC-001: node execution failed: boom"


async def test_21_downstream_sees_cancellation_not_end_of_stream() -> None:
    """Test 21: ``worker`` (declared first) waits on ``fail``'s output; ``fail`` errors.
    The token is cancelled before ``fail``'s outputs close, so ``worker``'s ``recv``
    raises ``Cancelled`` and never returns ``None``."""
    outcome: list[object] = []

    @node_executor
    async def worker(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        try:
            outcome.append(await inputs.recv("in"))
        except PortRecvError as err:
            outcome.append(err)
            raise

    graph = workflow(
        [node("worker", ["in"]), node("fail", [], ["out"])],
        [edge(("fail", "out"), ("worker", "in"))],
    )
    summary = await run_workflow(graph, {"worker": worker, "fail": fails("fail failed")})
    assert outcome == [PortRecvError(PortRecvErrorKind.CANCELLED, "in")]
    assert counts(summary) == expect(2, failed=1, cancelled=1, errors=2)
    assert summary.terminal_state is TerminalState.FAILED


async def test_failure_after_a_cancellation_makes_the_run_failed() -> None:
    """Fix of spec-3 §17.10: a cancellation recorded first, then a real failure, gives
    ``failed`` (the original let the first error alone decide: ``cancelled``)."""
    hook = RecordingHook()

    @node_executor
    async def late_failure(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        await hook.finished("quitter").wait()
        raise ExecutionError("late failure")

    summary = await run_workflow(
        workflow([node("quitter"), node("failer")]),
        {"quitter": cancels("planned"), "failer": late_failure},
        hook=hook,
        policy=RunPolicy(failure=FailurePolicy.CONTINUE_ON_ERROR),
    )
    assert isinstance(summary.first_error, CancellationError)
    assert counts(summary) == expect(2, failed=1, cancelled=1, errors=2)
    assert summary.terminal_state is TerminalState.FAILED


async def test_a_sink_failing_on_workflow_failed_does_not_lose_the_summary(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The original aborted the run and lost the summary (spec-3 §17.9); here the sink's
    failure is logged and the run ends normally with its summary."""

    class RefusesWorkflowFailed(InMemoryMetadataSink):
        def record(self, record: MetadataRecord) -> None:
            if record.kind == "workflow_failed":
                raise MetadataError("disk full")
            super().record(record)

    sink = RefusesWorkflowFailed()
    with caplog.at_level("WARNING", logger="pureflow.engine"):
        summary = await run_workflow(
            workflow([node("first"), node("second")]),
            {"first": fails("first failed"), "second": wait_for_cancellation},
            metadata=sink,
        )
    assert counts(summary) == expect(2, completed=1, failed=1, errors=1)
    assert str(summary.first_error) == "CDT-EXEC-001: node execution failed: first failed"
    assert error_keys(sink) == [("node_failed", "first")]
    assert [r.getMessage() for r in caplog.records] == [
        "metadata sink failed to record workflow_failed"
    ]


# --- continue-on-error ----------------------------------------------------------------


async def test_continue_on_error_lets_the_rest_finish() -> None:
    """Under continue-on-error a failure does not cancel the token: the failed node's
    downstream sees what it sent, then end of stream; independent nodes run to the end.
    The run is still ``failed``, with one ``workflow_failed`` record."""
    received: list[bytes | None] = []
    finished_after_failure = anyio.Event()
    hook = RecordingHook()

    @node_executor
    async def source(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        await outputs.send("out", outputs.packet("out", b"partial"))
        raise ExecutionError("source broke")

    @node_executor
    async def sink_node(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        received.extend([p.payload.as_bytes() async for p in inputs.iter("in")])

    @node_executor
    async def bystander(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        await hook.finished("source").wait()
        assert not ctx.is_cancelled()
        finished_after_failure.set()

    graph = workflow(
        [node("source", [], ["out"]), node("sink", ["in"]), node("bystander")],
        [edge(("source", "out"), ("sink", "in"))],
    )
    sink = InMemoryMetadataSink()
    summary = await run_workflow(
        graph,
        {"source": source, "sink": sink_node, "bystander": bystander},
        metadata=sink,
        hook=hook,
        policy=RunPolicy(failure=FailurePolicy.CONTINUE_ON_ERROR),
    )
    assert finished_after_failure.is_set()
    assert received == [b"partial"]
    assert summary.terminal_state is TerminalState.FAILED
    assert counts(summary) == expect(3, completed=2, failed=1, errors=1)
    assert str(summary.first_error) == "CDT-EXEC-001: node execution failed: source broke"
    assert error_keys(sink).count(("workflow_failed", None)) == 1
    states = {
        rec.to_json_value()["context"]["cancellation"]["state"] for rec in sink.of_type("lifecycle")
    }
    assert states == {"active"}


async def test_fail_fast_on_the_same_graph_cancels_the_bystander() -> None:
    hook = RecordingHook()

    @node_executor
    async def bystander(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        request = await ctx.cancellation_token.wait()
        raise CancellationError(request.reason)

    summary = await run_workflow(
        workflow([node("source"), node("bystander")]),
        {"source": fails("source broke"), "bystander": bystander},
        hook=hook,
    )
    assert counts(summary) == expect(2, failed=1, cancelled=1, errors=2)
    assert str(summary.node_errors["bystander"]) == (
        "CDT-CANCEL-001: execution cancelled: node execution failed: "
        "CDT-EXEC-001: node execution failed: source broke"
    )


# --- time limits ----------------------------------------------------------------------


async def test_per_node_time_limit_fails_only_that_node() -> None:
    """``slow`` waits on an edge its upstream keeps open; its 50 ms limit fails it with a
    timeout error; fail-fast then cancels the token, which ends ``holder`` normally."""

    @node_executor
    async def holder(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        await ctx.cancellation_token.wait()

    sink = InMemoryMetadataSink()
    summary = await run_workflow(
        source_sink(),
        {"source": holder, "sink": drain_all},
        metadata=sink,
        policy=RunPolicy(node_time_limits={"sink": 0.05}),
    )
    assert summary.terminal_state is TerminalState.FAILED
    assert counts(summary) == expect(2, completed=1, failed=1, errors=1)
    assert str(summary.first_error) == (
        "CDT-EXEC-001: node execution failed: node `sink` timed out after 0.05s"
    )
    assert terminal_by_node(sink) == {"source": ["node_completed"], "sink": ["node_failed"]}


async def test_default_time_limit_applies_to_unlisted_nodes() -> None:
    @node_executor
    async def forever(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        await anyio.sleep_forever()

    summary = await run_workflow(
        workflow([node("quick"), node("stuck")]),
        {"quick": noop, "stuck": forever},
        policy=RunPolicy(default_node_time_limit=0.05, node_time_limits={"quick": 10}),
    )
    assert counts(summary) == expect(2, completed=1, failed=1, errors=1)
    assert str(summary.first_error) == (
        "CDT-EXEC-001: node execution failed: node `stuck` timed out after 0.05s"
    )


# --- external cancellation ------------------------------------------------------------


async def test_external_cancellation_handle_stops_the_run_cooperatively() -> None:
    """A caller-owned handle cancelled mid-run: parked sends and receives wake with
    ``Cancelled``; the run is ``cancelled``; every node has one terminal record, and the
    records written after the request carry its reason."""
    handle = CancellationHandle()
    got_three = anyio.Event()
    received: list[int] = []

    @node_executor
    async def endless(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        count = 0
        while True:
            await outputs.send("out", outputs.packet("out", str(count)))
            count += 1

    @node_executor
    async def reader(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        async for packet in inputs.iter("in"):
            received.append(int(packet.payload.as_bytes() or b"-1"))
            if len(received) == 3:
                got_three.set()
                await ctx.cancellation_token.wait()

    sink = InMemoryMetadataSink()
    async with anyio.create_task_group() as group:

        async def user() -> None:
            await got_three.wait()
            handle.cancel("user pressed stop")

        group.start_soon(user)
        summary = await run_workflow(
            source_sink(capacity=2),
            {"source": endless, "sink": reader},
            metadata=sink,
            cancellation=handle,
        )
    assert received == [0, 1, 2]
    assert summary.terminal_state is TerminalState.CANCELLED
    assert counts(summary) == expect(2, cancelled=2, errors=2)
    assert isinstance(summary.first_error, CancellationError)
    assert terminal_by_node(sink) == {"source": ["node_cancelled"], "sink": ["node_cancelled"]}
    assert str(summary.node_errors["source"]) == (
        "CDT-CANCEL-001: execution cancelled: output port `out` send cancelled"
    )
    assert str(summary.node_errors["sink"]) == (
        "CDT-CANCEL-001: execution cancelled: input port `in` receive cancelled"
    )
    cancelled = [r for r in sink.of_type("lifecycle") if r.kind == "node_cancelled"]
    assert {r.to_json_value()["context"]["cancellation"]["reason"] for r in cancelled} == {
        "user pressed stop"
    }
    assert handle.request is not None
    assert handle.request.reason == "user pressed stop"


async def test_cancelled_before_the_run_starts_every_node_anyway() -> None:
    """No pre-check: every node starts; only port operations see the cancellation. (Unlike
    the original, ``recv`` on a port without edges checks the token too.)"""
    handle = CancellationHandle()
    handle.cancel("shutdown requested")
    sink = InMemoryMetadataSink()
    summary = await run_workflow(
        workflow([node("idle"), node("reader", ["in"])]),
        {"idle": noop, "reader": drain_all},
        metadata=sink,
        cancellation=handle,
    )
    assert counts(summary) == expect(2, completed=1, cancelled=1, errors=1)
    assert summary.terminal_state is TerminalState.CANCELLED
    assert lifecycle_by_node(sink) == {
        "idle": ["node_scheduled", "node_started", "node_completed"],
        "reader": ["node_scheduled", "node_started", "node_cancelled"],
    }
    assert str(summary.first_error) == (
        "CDT-CANCEL-001: execution cancelled: input port `in` receive cancelled"
    )


# --- host cancellation ----------------------------------------------------------------


async def test_host_cancellation_still_writes_every_terminal_record() -> None:
    """Cancelling the task that awaits ``run_workflow`` stops it at once; the cancellation
    propagates to the caller, and every node still ends with ``node_cancelled`` and an
    error record ``cancelled by host``."""
    hook = RecordingHook()
    sink = InMemoryMetadataSink()
    executors: dict[str, NodeExecutor] = {"source": wait_for_cancellation, "sink": drain_all}
    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as group:

            async def host() -> None:
                # Both nodes have started (the hook sees node_started inside each task).
                while hook.kinds().count("node_started") < 2:
                    await anyio.lowlevel.checkpoint()
                scope.cancel()

            group.start_soon(host)
            await run_workflow(source_sink(), executors, metadata=sink, hook=hook)
            pytest.fail("run_workflow returned after host cancellation")  # pragma: no cover
    assert scope.cancelled_caught
    assert terminal_by_node(sink) == {"source": ["node_cancelled"], "sink": ["node_cancelled"]}
    node_failed = [r for r in sink.of_type("error") if r.kind == "node_failed"]
    assert isinstance(node_failed[0], ErrorRecord)
    assert any(
        r.to_json_value()["error"]["message"]
        == "CDT-CANCEL-001: execution cancelled: cancelled by host"
        for r in node_failed
    )
    assert error_keys(sink).count(("workflow_failed", None)) == 1
