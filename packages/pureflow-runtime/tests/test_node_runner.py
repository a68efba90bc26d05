"""``run_node``: lifecycle sequences, error mapping, observers, limits, cancellation,
and the guarantee that a node's ports are closed however it ends.

Reference: upstream-spec-2-core.md §12.1 and §15 items 26-28, with the fixes of this
port (the runner closes ports in a ``finally``, ``on_error`` runs before they close, a
time limit and host cancellation are reported as node outcomes).
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from pureflow.core import (
    CancellationError,
    CancellationHandle,
    ErrorRecord,
    ExecutionError,
    InMemoryMetadataSink,
    LifecycleError,
    LifecycleEventKind,
    MetadataError,
    NodeContext,
    PortRecvError,
    PortRecvErrorKind,
    PortSendError,
    PortsIn,
    PortsOut,
    PureflowError,
    node_executor,
)
from pureflow.runtime import NodeOutcome, OutcomeKind, run_node
from pureflow.runtime.failure import display_path
from runtime_test_support import (
    FailingSink,
    RecordingHook,
    all_closed,
    drain_side,
    edge,
    feeder,
    is_lifecycle,
    lifecycle_kinds,
    make_ctx,
    make_packet,
    record_keys,
)

pytestmark = pytest.mark.anyio

STARTED = ("lifecycle", "node_started")
COMPLETED = ("lifecycle", "node_completed")
FAILED = ("lifecycle", "node_failed")
CANCELLED = ("lifecycle", "node_cancelled")
ERROR_NODE_FAILED = ("error", "node_failed")


class Visits:
    """A node that counts its runs and then does what ``action`` says."""

    def __init__(self, raises: BaseException | None = None) -> None:
        self.count = 0
        self.raises = raises

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        self.count += 1
        if self.raises is not None:
            raise self.raises


RAISE_LINE = Visits.run.__code__.co_firstlineno + 3  # the `raise` above


def no_ports() -> tuple[PortsIn, PortsOut]:
    return PortsIn(["in"]), PortsOut(["out"])


# --- lifecycle sequences (spec-2 §15 item 27) ------------------------------------------


async def test_success_observes_started_then_completed() -> None:
    sink, hook, node = InMemoryMetadataSink(), RecordingHook(), Visits()
    inputs, outputs = no_ports()
    outcome = await run_node(node, make_ctx(), inputs, outputs, sink=sink, hook=hook)
    assert outcome == NodeOutcome.completed()
    assert outcome.kind is OutcomeKind.COMPLETED
    assert outcome.error is None
    assert outcome.started
    assert node.count == 1
    assert record_keys(sink) == [STARTED, COMPLETED]
    assert hook.kinds == ["node_started", "node_completed"]
    assert all(event.context == make_ctx() for event in hook.events)
    assert all_closed(inputs, outputs)


async def test_failure_writes_the_error_record_then_node_failed() -> None:
    sink, hook = InMemoryMetadataSink(), RecordingHook()
    inputs, outputs = no_ports()
    outcome = await run_node(
        Visits(ExecutionError("boom")), make_ctx(), inputs, outputs, sink=sink, hook=hook
    )
    assert outcome.kind is OutcomeKind.FAILED
    assert outcome.error == ExecutionError("boom")
    assert record_keys(sink) == [STARTED, ERROR_NODE_FAILED, FAILED]
    assert hook.kinds == ["node_started", "node_failed"]
    (error,) = sink.of_type("error")
    assert isinstance(error, ErrorRecord)
    assert error.to_json_value() == {
        "diagnostic": None,
        "error": {
            "code": "CDT-EXEC-001",
            "message": "CDT-EXEC-001: node execution failed: boom",
            "retry_disposition": "unknown",
            "visibility": "internal",
        },
        "execution": {"attempt": 1, "execution_id": "run-1"},
        "kind": "node_failed",
        "node_id": "node",
        "record_type": "error",
        "workflow_id": "flow",
    }
    assert all_closed(inputs, outputs)


async def test_cancellation_error_is_reported_as_node_cancelled() -> None:
    sink, hook = InMemoryMetadataSink(), RecordingHook()
    inputs, outputs = no_ports()
    outcome = await run_node(
        Visits(CancellationError("planned shutdown")),
        make_ctx(),
        inputs,
        outputs,
        sink=sink,
        hook=hook,
    )
    assert outcome.kind is OutcomeKind.CANCELLED
    assert str(outcome.error) == "CDT-CANCEL-001: execution cancelled: planned shutdown"
    assert record_keys(sink) == [STARTED, ERROR_NODE_FAILED, CANCELLED]
    assert hook.kinds == ["node_started", "node_cancelled"]
    (error,) = sink.of_type("error")
    assert error.to_json_value()["error"]["code"] == "CDT-CANCEL-001"


async def test_the_kind_follows_the_error_not_the_token() -> None:
    """A node whose token is cancelled but which returns normally has completed."""
    handle = CancellationHandle()
    handle.cancel("stop")
    sink = InMemoryMetadataSink()
    outcome = await run_node(Visits(), make_ctx(token=handle.token), *no_ports(), sink=sink)
    assert outcome.kind is OutcomeKind.COMPLETED
    assert lifecycle_kinds(sink) == ["node_started", "node_completed"]
    started = sink.records[0].to_json_value()
    assert started["context"]["cancellation"] == {"reason": "stop", "state": "requested"}


async def test_a_cancelled_context_still_starts_the_node() -> None:
    """No pre-check (spec-2 §12.1 step 3): the body runs and its port operations raise
    ``Cancelled``, which the runner reports as a cancellation."""
    handle = CancellationHandle()
    handle.cancel("shutdown requested")
    ran: list[str] = []

    @node_executor
    async def reader(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        ran.append(str(ctx.node_id))
        await inputs.recv("in")

    out_handle, in_handle = edge()
    sink = InMemoryMetadataSink()
    outcome = await run_node(
        reader, make_ctx(token=handle.token), PortsIn(["in"], [in_handle]), PortsOut(), sink=sink
    )
    assert ran == ["node"]
    assert outcome.kind is OutcomeKind.CANCELLED
    assert str(outcome.error) == (
        "CDT-CANCEL-001: execution cancelled: input port `in` receive cancelled"
    )
    assert lifecycle_kinds(sink) == ["node_started", "node_cancelled"]
    del out_handle


# --- observer failures (spec-2 §15 item 28) --------------------------------------------


async def test_hook_failing_on_start_means_the_node_never_runs() -> None:
    sink = InMemoryMetadataSink()
    hook = RecordingHook(fail_on=frozenset({LifecycleEventKind.NODE_STARTED}))
    node = Visits()
    out_handle, in_handle = edge()
    downstream_out, downstream_in = edge()
    inputs = PortsIn(["in"], [in_handle])
    outputs = PortsOut(["out"], [downstream_out])
    outcome = await run_node(node, make_ctx(), inputs, outputs, sink=sink, hook=hook)
    assert node.count == 0
    assert outcome.kind is OutcomeKind.FAILED
    assert not outcome.started
    assert outcome.error == LifecycleError("hook failed")
    assert str(outcome.error) == "CDT-LIFE-001: lifecycle observation failed: hook failed"
    # The sink saw node_started (it is written before the hook runs); nothing else.
    assert record_keys(sink) == [STARTED]
    assert hook.kinds == ["node_started"]
    # Ports closed: downstream sees end of stream, upstream sees the consumer gone.
    assert all_closed(inputs, outputs)
    assert await drain_side(downstream_in).recv("in") is None
    with pytest.raises(PortSendError) as caught:
        await feeder(out_handle).send("out", make_packet("m-1", b"x"))
    assert str(caught.value) == "output port `out` is disconnected"


async def test_sink_failing_on_start_skips_the_hook_and_the_node() -> None:
    sink = FailingSink(is_lifecycle(LifecycleEventKind.NODE_STARTED))
    hook, node = RecordingHook(), Visits()
    inputs, outputs = no_ports()
    outcome = await run_node(node, make_ctx(), inputs, outputs, sink=sink, hook=hook)
    assert node.count == 0
    assert not outcome.started
    assert outcome.error == MetadataError("metadata sink failed")
    assert str(outcome.error) == "CDT-META-001: metadata collection failed: metadata sink failed"
    assert hook.events == []
    assert sink.records == []
    assert all_closed(inputs, outputs)


async def test_a_sink_raising_a_foreign_exception_is_a_metadata_error() -> None:
    sink = FailingSink(
        is_lifecycle(LifecycleEventKind.NODE_STARTED), error=lambda: OSError("disk full")
    )
    outcome = await run_node(Visits(), make_ctx(), *no_ports(), sink=sink)
    assert str(outcome.error) == (
        "CDT-META-001: metadata collection failed: metadata sink failed: disk full"
    )


async def test_sink_failing_only_on_node_failed_keeps_the_executor_error() -> None:
    sink = FailingSink(is_lifecycle(LifecycleEventKind.NODE_FAILED))
    hook = RecordingHook()
    outcome = await run_node(
        Visits(ExecutionError("boom")), make_ctx(), *no_ports(), sink=sink, hook=hook
    )
    assert outcome.kind is OutcomeKind.FAILED
    assert outcome.error == ExecutionError("boom")
    assert record_keys(sink) == [STARTED, ERROR_NODE_FAILED]
    assert len(sink.refused) == 1
    # The sink failed first, so the hook never saw node_failed.
    assert hook.kinds == ["node_started"]


async def test_sink_failing_on_the_error_record_still_observes_node_failed() -> None:
    sink = FailingSink(lambda rec: rec.record_type == "error")
    hook = RecordingHook()
    outcome = await run_node(
        Visits(ExecutionError("boom")), make_ctx(), *no_ports(), sink=sink, hook=hook
    )
    assert outcome.error == ExecutionError("boom")
    assert record_keys(sink) == [STARTED, FAILED]
    assert hook.kinds == ["node_started", "node_failed"]


async def test_hook_failing_on_completion_becomes_the_outcome() -> None:
    hook = RecordingHook(fail_on=frozenset({LifecycleEventKind.NODE_COMPLETED}))
    sink = InMemoryMetadataSink()
    node = Visits()
    outcome = await run_node(node, make_ctx(), *no_ports(), sink=sink, hook=hook)
    assert node.count == 1
    assert outcome.kind is OutcomeKind.FAILED
    assert outcome.started
    assert outcome.error == LifecycleError("hook failed")
    assert record_keys(sink) == [STARTED, COMPLETED]


async def test_hook_failing_on_node_failed_keeps_the_executor_error() -> None:
    hook = RecordingHook(fail_on=frozenset({LifecycleEventKind.NODE_FAILED}))
    outcome = await run_node(Visits(ExecutionError("boom")), make_ctx(), *no_ports(), hook=hook)
    assert outcome.error == ExecutionError("boom")
    assert hook.kinds == ["node_started", "node_failed"]


async def test_runs_without_sink_or_hook() -> None:
    assert (await run_node(Visits(), make_ctx(), *no_ports())).kind is OutcomeKind.COMPLETED
    outcome = await run_node(Visits(ExecutionError("boom")), make_ctx(), *no_ports())
    assert outcome.error == ExecutionError("boom")


# --- error mapping -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (
            ValueError("bad value"),
            "CDT-EXEC-001: node execution failed: ValueError: bad value (at {here}:{line}, in run)",
        ),
        (
            RuntimeError(),
            "CDT-EXEC-001: node execution failed: RuntimeError (at {here}:{line}, in run)",
        ),
        (
            PortSendError.disconnected("out"),
            "CDT-EXEC-001: node execution failed: output port `out` is disconnected",
        ),
        (
            PortRecvError.cancelled("in"),
            "CDT-CANCEL-001: execution cancelled: input port `in` receive cancelled",
        ),
        (LifecycleError("odd"), "CDT-LIFE-001: lifecycle observation failed: odd"),
    ],
    ids=["value-error", "empty-message", "port-send", "port-recv-cancelled", "pureflow"],
)
async def test_whatever_the_node_raises_becomes_a_pureflow_error(
    raised: Exception, expected: str
) -> None:
    """A node's own exception names its type and the line that raised it (the test's
    ``Visits.run`` here); Pureflow errors pass as they are."""
    expected = expected.format(here=display_path(__file__), line=RAISE_LINE)
    sink = InMemoryMetadataSink()
    outcome = await run_node(Visits(raised), make_ctx(), *no_ports(), sink=sink)
    assert isinstance(outcome.error, PureflowError)
    assert str(outcome.error) == expected
    (error,) = sink.of_type("error")
    assert error.to_json_value()["error"]["message"] == expected
    expected_kind = "node_cancelled" if expected.startswith("CDT-CANCEL") else "node_failed"
    assert lifecycle_kinds(sink) == ["node_started", expected_kind]


async def test_an_unexpected_exception_is_logged_with_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level("ERROR", logger="pureflow.node.node"):
        await run_node(Visits(KeyError("missing")), make_ctx(), *no_ports())
    assert [record.getMessage() for record in caplog.records] == ["node `node` raised KeyError"]
    assert caplog.records[0].exc_info is not None


# --- time limit ----------------------------------------------------------------------------


async def test_time_limit_fails_the_node_with_a_timeout_error() -> None:
    @node_executor
    async def sleeper(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        await anyio.sleep_forever()

    sink = InMemoryMetadataSink()
    inputs, outputs = no_ports()
    outcome = await run_node(sleeper, make_ctx(), inputs, outputs, sink=sink, time_limit=0.05)
    assert outcome.kind is OutcomeKind.FAILED
    assert (
        str(outcome.error)
        == "CDT-EXEC-001: node execution failed: node `node` timed out after 0.05s"
    )
    assert record_keys(sink) == [STARTED, ERROR_NODE_FAILED, FAILED]
    assert all_closed(inputs, outputs)


async def test_time_limit_interrupts_a_blocked_receive() -> None:
    @node_executor
    async def reader(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        await inputs.recv("in")

    out_handle, in_handle = edge()
    outcome = await run_node(
        reader, make_ctx(), PortsIn(["in"], [in_handle]), PortsOut(), time_limit=0.02
    )
    assert (
        str(outcome.error)
        == "CDT-EXEC-001: node execution failed: node `node` timed out after 0.02s"
    )
    del out_handle


async def test_a_node_within_its_time_limit_completes() -> None:
    outcome = await run_node(Visits(), make_ctx(), *no_ports(), time_limit=10)
    assert outcome.kind is OutcomeKind.COMPLETED


# --- host cancellation ------------------------------------------------------------------


async def test_host_cancellation_records_node_cancelled_and_reraises() -> None:
    started = anyio.Event()

    @node_executor
    async def sleeper(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        started.set()
        await anyio.sleep_forever()

    sink, hook = InMemoryMetadataSink(), RecordingHook()
    errors: list[PureflowError] = []
    inputs, outputs = no_ports()
    returned: list[NodeOutcome] = []
    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as group:

            async def host() -> None:
                await started.wait()
                scope.cancel()

            group.start_soon(host)
            returned.append(
                await run_node(
                    sleeper,
                    make_ctx(),
                    inputs,
                    outputs,
                    sink=sink,
                    hook=hook,
                    on_error=errors.append,
                )
            )
    assert scope.cancelled_caught  # the host's cancellation was re-raised, not swallowed
    assert returned == []
    assert errors == [CancellationError("cancelled by host")]
    assert record_keys(sink) == [STARTED, ERROR_NODE_FAILED, CANCELLED]
    (error,) = sink.of_type("error")
    assert error.to_json_value()["error"]["message"] == (
        "CDT-CANCEL-001: execution cancelled: cancelled by host"
    )
    assert hook.kinds == ["node_started", "node_cancelled"]
    assert all_closed(inputs, outputs)


# --- on_error runs before the outputs close ------------------------------------------


async def test_on_error_runs_before_outputs_close() -> None:
    """If ``on_error`` cancels the shared token, a downstream node parked on ``recv`` sees
    ``Cancelled``, never end of stream (engine test 21 depends on this)."""
    handle = CancellationHandle()
    out_handle, in_handle = edge()
    downstream = drain_side(in_handle, token=handle.token)
    seen_by_downstream: list[Any] = []
    outputs_open_in_on_error: list[bool] = []
    downstream_waiting = anyio.Event()

    @node_executor
    async def failing(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        await downstream_waiting.wait()
        raise ExecutionError("first failed")

    outputs = PortsOut(["out"], [out_handle])

    def on_error(error: PureflowError) -> None:
        outputs_open_in_on_error.append(not outputs.port("out").closed)
        handle.cancel(f"node execution failed: {error}")

    async def consumer() -> None:
        try:
            downstream_waiting.set()
            seen_by_downstream.append(await downstream.recv("in"))
        except PortRecvError as err:
            seen_by_downstream.append(err)

    async with anyio.create_task_group() as group:
        group.start_soon(consumer)
        outcome = await run_node(failing, make_ctx(), PortsIn(), outputs, on_error=on_error)
    assert outcome.error == ExecutionError("first failed")
    assert outputs_open_in_on_error == [True]
    assert seen_by_downstream == [PortRecvError(PortRecvErrorKind.CANCELLED, "in")]
    assert handle.request is not None
    assert handle.request.reason == (
        "node execution failed: CDT-EXEC-001: node execution failed: first failed"
    )


async def test_on_error_is_not_called_on_success_or_start_failure() -> None:
    errors: list[PureflowError] = []
    await run_node(Visits(), make_ctx(), *no_ports(), on_error=errors.append)
    hook = RecordingHook(fail_on=frozenset({LifecycleEventKind.NODE_STARTED}))
    await run_node(Visits(), make_ctx(), *no_ports(), hook=hook, on_error=errors.append)
    assert errors == []


async def test_on_error_sees_timeouts() -> None:
    @node_executor
    async def sleeper(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        await anyio.sleep_forever()

    errors: list[PureflowError] = []
    await run_node(sleeper, make_ctx(), *no_ports(), time_limit=0.01, on_error=errors.append)
    assert [str(e) for e in errors] == [
        "CDT-EXEC-001: node execution failed: node `node` timed out after 0.01s"
    ]


# --- ports and records --------------------------------------------------------------------


async def test_ports_carry_the_context_and_sink_during_the_run() -> None:
    out_handle, in_handle = edge(capacity=2)
    downstream_out, downstream_in = edge(capacity=2)
    sink = InMemoryMetadataSink()

    @node_executor
    async def relay(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        async for packet in inputs.iter("in"):
            await outputs.send("out", packet)

    upstream = feeder(out_handle)
    await upstream.send("out", make_packet("m-1", b"a"))
    upstream.close()
    inputs = PortsIn(["in"], [in_handle])
    outputs = PortsOut(["out"], [downstream_out])
    ctx = make_ctx("relay")
    await run_node(relay, ctx, inputs, outputs, sink=sink)
    assert inputs.context is ctx
    assert outputs.context is ctx
    assert inputs.metadata_sink is sink
    assert outputs.metadata_sink is sink
    assert sink.kinds() == [
        "node_started",
        "receive_attempted",
        "receive_ready",
        "dequeued",
        "reserve_attempted",
        "reserve_ready",
        "send_committed",
        "enqueued",
        "receive_attempted",
        "receive_closed",
        "node_completed",
    ]
    qp_nodes = {rec.node_id for rec in sink.of_type("queue_pressure")}
    assert qp_nodes == {"relay"}
    result = drain_side(downstream_in)
    packet = await result.recv("in")
    assert packet is not None
    assert packet.payload.as_bytes() == b"a"
    assert await result.recv("in") is None


def _raise_after_send(error: BaseException) -> Any:
    @node_executor
    async def node(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        await outputs.send("out", outputs.packet("out", b"before"))
        raise error

    return node


@pytest.mark.parametrize(
    "how",
    ["success", "failure", "cancellation", "timeout", "start-failure"],
)
async def test_ports_are_always_closed(how: str) -> None:
    out_handle, in_handle = edge()
    downstream_out, downstream_in = edge(capacity=4)
    inputs = PortsIn(["in"], [in_handle])
    outputs = PortsOut(["out"], [downstream_out])
    hook: RecordingHook | None = None
    time_limit: float | None = None
    node: Any = Visits()
    if how == "failure":
        node = _raise_after_send(ExecutionError("boom"))
    elif how == "cancellation":
        node = _raise_after_send(CancellationError("stop"))
    elif how == "timeout":

        @node_executor
        async def node(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
            await inputs.recv("in")

        time_limit = 0.01
    elif how == "start-failure":
        hook = RecordingHook(fail_on=frozenset({LifecycleEventKind.NODE_STARTED}))
    await run_node(node, make_ctx(), inputs, outputs, hook=hook, time_limit=time_limit)
    assert all_closed(inputs, outputs)
    # Downstream: whatever was sent, then end of stream (never a hang, never an error).
    received = [packet async for packet in drain_side(downstream_in).iter("in")]
    assert len(received) == (1 if how in {"failure", "cancellation"} else 0)
    # Upstream: the consumer is gone.
    with pytest.raises(PortSendError):
        await feeder(out_handle).send("out", make_packet("late", b"x"))
