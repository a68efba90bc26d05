"""Blocking nodes in worker threads (``in_thread``) and CPU-heavy functions in worker
processes (``in_process`` / ``ProcessMapExecutor``): results, ordering, cancellation,
errors, and the node lifecycle around them."""

from __future__ import annotations

import os
import threading

import anyio
import pytest
from pureflow.core import (
    CancellationHandle,
    ExecutionError,
    InMemoryMetadataSink,
    NodeContext,
    Packet,
    PacketPayload,
    PayloadKind,
    PortRecvError,
    PortSendError,
    PortsIn,
    PortsOut,
    bounded_edge_channel,
)
from pureflow.runtime import (
    BlockingPortsIn,
    BlockingPortsOut,
    OutcomeKind,
    ProcessMapExecutor,
    ThreadNodeExecutor,
    in_process,
    in_thread,
    process_executor_for,
    run_node,
)
from pureflow.runtime.failure import display_path
from runtime_process_funcs import reject_negative, shout, square, worker_pid
from runtime_test_support import (
    all_closed,
    drain_side,
    edge,
    feeder,
    lifecycle_kinds,
    make_ctx,
    make_packet,
    wait_until,
)

pytestmark = pytest.mark.anyio


async def _feed(outputs: PortsOut, payloads: list[PacketPayload]) -> None:
    for index, payload in enumerate(payloads):
        await outputs.send("out", make_packet(f"m-{index}", payload))
    outputs.close()


async def _collect(inputs: PortsIn, into: list[Packet]) -> None:
    into.extend([packet async for packet in inputs.iter("in")])


# --- worker threads ------------------------------------------------------------------------


@in_thread
def upper_in_thread(ctx: NodeContext, inputs: BlockingPortsIn, outputs: BlockingPortsOut) -> None:
    """Blocking code: iterate the input, send an upper-cased copy of each packet."""
    assert threading.current_thread() is not threading.main_thread()
    for packet in inputs.iter("in"):
        text = (packet.payload.as_bytes() or b"").upper()
        outputs.send("out", outputs.packet("out", text, message_id=str(packet.message_id)))


async def test_thread_node_streams_in_order_off_the_event_loop() -> None:
    assert isinstance(upper_in_thread, ThreadNodeExecutor)
    out_handle, in_handle = edge(capacity=1)  # capacity 1: the thread blocks on every hop
    down_out, down_in = edge(capacity=1)
    words = [b"alpha", b"beta", b"gamma", b"delta"]
    received: list[Packet] = []
    sink = InMemoryMetadataSink()
    inputs, outputs = PortsIn(["in"], [in_handle]), PortsOut(["out"], [down_out])
    async with anyio.create_task_group() as group:
        group.start_soon(_feed, feeder(out_handle), [PacketPayload.bytes(w) for w in words])
        group.start_soon(_collect, drain_side(down_in), received)
        outcome = await run_node(upper_in_thread, make_ctx(), inputs, outputs, sink=sink)
    assert outcome.kind is OutcomeKind.COMPLETED
    assert [p.payload.as_bytes() for p in received] == [w.upper() for w in words]
    assert [str(p.message_id) for p in received] == ["m-0", "m-1", "m-2", "m-3"]
    assert lifecycle_kinds(sink) == ["node_started", "node_completed"]
    assert sink.kinds("message").count("dequeued") == 4
    assert sink.kinds("message").count("enqueued") == 4
    assert all_closed(inputs, outputs)


async def test_thread_node_sees_cancellation_as_a_port_error_and_finishes_first() -> None:
    handle = CancellationHandle()
    thread_done = threading.Event()
    raised: list[BaseException] = []

    @in_thread
    def reader(ctx: NodeContext, inputs: BlockingPortsIn, outputs: BlockingPortsOut) -> None:
        try:
            inputs.recv("in")
        except PortRecvError as err:
            raised.append(err)
            raise
        finally:
            thread_done.set()

    out_handle, in_handle = edge()
    sink = InMemoryMetadataSink()

    inputs = PortsIn(["in"], [in_handle])

    async def cancel_when_blocked() -> None:
        await wait_until(lambda: inputs.port("in").is_waiting)  # the thread's recv parked
        handle.cancel("stop now")

    async with anyio.create_task_group() as group:
        group.start_soon(cancel_when_blocked)
        outcome = await run_node(
            reader, make_ctx(token=handle.token), inputs, PortsOut(), sink=sink
        )
    assert thread_done.is_set()  # the thread ended before the node's terminal record
    assert [str(err) for err in raised] == ["input port `in` receive cancelled"]
    assert outcome.kind is OutcomeKind.CANCELLED
    assert str(outcome.error) == (
        "CDT-CANCEL-001: execution cancelled: input port `in` receive cancelled"
    )
    assert lifecycle_kinds(sink) == ["node_started", "node_cancelled"]
    del out_handle


async def test_thread_node_blocked_on_a_full_edge_is_woken_by_cancellation() -> None:
    handle = CancellationHandle()
    sent: list[int] = []

    @in_thread
    def flooder(ctx: NodeContext, inputs: BlockingPortsIn, outputs: BlockingPortsOut) -> None:
        for index in range(10):
            outputs.send("out", outputs.packet("out", b"x"))
            sent.append(index)

    down_out, down_in = edge(capacity=2)

    channel = down_out.channels[0]

    async def cancel_when_full() -> None:
        await wait_until(lambda: channel.send_waiter_count > 0)  # the third send parked
        handle.cancel("enough")

    async with anyio.create_task_group() as group:
        group.start_soon(cancel_when_full)
        outcome = await run_node(
            flooder, make_ctx(token=handle.token), PortsIn(), PortsOut(["out"], [down_out])
        )
    assert sent == [0, 1]
    assert (
        str(outcome.error)
        == "CDT-CANCEL-001: execution cancelled: output port `out` send cancelled"
    )
    assert len([p async for p in drain_side(down_in).iter("in")]) == 2


async def test_host_cancellation_reaches_a_blocked_thread_node() -> None:
    thread_done = threading.Event()

    @in_thread
    def reader(ctx: NodeContext, inputs: BlockingPortsIn, outputs: BlockingPortsOut) -> None:
        try:
            inputs.recv("in")
        finally:
            thread_done.set()

    out_handle, in_handle = edge()
    sink = InMemoryMetadataSink()
    inputs = PortsIn(["in"], [in_handle])
    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as group:

            async def host() -> None:
                await wait_until(lambda: inputs.port("in").is_waiting)
                scope.cancel()

            group.start_soon(host)
            await run_node(reader, make_ctx(), inputs, PortsOut(), sink=sink)
    assert scope.cancelled_caught
    assert thread_done.is_set()
    assert lifecycle_kinds(sink) == ["node_started", "node_cancelled"]
    del out_handle


async def test_thread_node_exception_becomes_an_execution_error() -> None:
    @in_thread
    def broken(ctx: NodeContext, inputs: BlockingPortsIn, outputs: BlockingPortsOut) -> None:
        raise ValueError("thread exploded")

    outcome = await run_node(broken, make_ctx(), PortsIn(), PortsOut())
    line = broken.function.__code__.co_firstlineno + 2
    assert str(outcome.error) == (
        "CDT-EXEC-001: node execution failed: ValueError: thread exploded (at "
        f"{display_path(__file__)}:{line}, in broken)"
    )


async def test_blocking_ports_cover_the_async_api() -> None:
    seen: dict[str, object] = {}

    @in_thread
    def node(ctx: NodeContext, inputs: BlockingPortsIn, outputs: BlockingPortsOut) -> None:
        seen["in_ports"] = list(inputs.port_ids)
        seen["out_ports"] = list(outputs.port_ids)
        first = inputs.recv_many("a", 10)
        seen["many"] = [p.payload.as_bytes() for p in first]
        picked = inputs.recv_any()
        assert picked is not None
        seen["any"] = (str(picked[0]), picked[1].payload.as_bytes())
        seen["rest_b"] = [p.payload.as_bytes() for p in inputs.iter("b")]
        seen["end_a"] = inputs.recv_many("a", 10)
        seen["end_any"] = inputs.recv_any()
        outputs.send_many("out", [outputs.packet("out", b"1"), outputs.packet("out", b"2")])

    a_out, a_in = bounded_edge_channel("out", "a", 4)
    b_out, b_in = bounded_edge_channel("out", "b", 4)
    a_feed, b_feed = PortsOut(["out"], [a_out]), PortsOut(["out"], [b_out])
    await a_feed.send("out", make_packet("a-0", b"a0"))
    await a_feed.send("out", make_packet("a-1", b"a1"))
    a_feed.close()
    await b_feed.send("out", make_packet("b-0", b"b0"))
    await b_feed.send("out", make_packet("b-1", b"b1"))
    b_feed.close()
    down_out, down_in = edge(capacity=4)
    outcome = await run_node(
        node,
        make_ctx(),
        PortsIn(["a", "b"], [a_in, b_in]),
        PortsOut(["out"], [down_out]),
    )
    assert outcome.kind is OutcomeKind.COMPLETED, outcome.error
    assert seen == {
        "in_ports": ["a", "b"],
        "out_ports": ["out"],
        "many": [b"a0", b"a1"],
        "any": ("b", b"b0"),
        "rest_b": [b"b1"],
        "end_a": [],
        "end_any": None,
    }
    got = [p async for p in drain_side(down_in).iter("in")]
    assert [p.payload.as_bytes() for p in got] == [b"1", b"2"]
    assert [str(p.message_id) for p in got] == ["node-out-0", "node-out-1"]
    assert (
        repr(node) == "ThreadNodeExecutor('test_blocking_ports_cover_the_async_api.<locals>.node')"
    )


# --- worker processes ------------------------------------------------------------------------


async def test_process_map_applies_the_function_in_order_across_batches() -> None:
    executor = ProcessMapExecutor(square, batch_size=2)
    out_handle, in_handle = edge(capacity=8)
    down_out, down_in = edge(capacity=8)
    values = [3, 1, 4, 1, 5]
    received: list[Packet] = []
    sink = InMemoryMetadataSink()
    async with anyio.create_task_group() as group:
        group.start_soon(_feed, feeder(out_handle), [PacketPayload.control(v) for v in values])
        group.start_soon(_collect, drain_side(down_in), received)
        outcome = await run_node(
            executor,
            make_ctx("square"),
            PortsIn(["in"], [in_handle]),
            PortsOut(["out"], [down_out]),
            sink=sink,
        )
    assert outcome.kind is OutcomeKind.COMPLETED, outcome.error
    assert [p.payload.as_control() for p in received] == [9, 1, 16, 1, 25]
    assert all(p.payload.kind is PayloadKind.CONTROL for p in received)
    assert [str(p.message_id) for p in received] == ["m-0", "m-1", "m-2", "m-3", "m-4"]
    assert lifecycle_kinds(sink) == ["node_started", "node_completed"]


async def test_in_process_marks_options_and_keeps_bytes_payloads() -> None:
    marked = in_process(input_port="text", output_port="loud", batch_size=3)(shout)
    assert marked is shout  # still the plain module-level function, so it pickles
    executor = process_executor_for(marked)
    assert (executor.input_port, executor.output_port, executor.batch_size) == (
        "text",
        "loud",
        3,
    )
    assert repr(executor) == "ProcessMapExecutor('shout')"
    text_out, text_in = bounded_edge_channel("out", "text", 4)
    loud_out, loud_in = bounded_edge_channel("loud", "in", 4)
    upstream = PortsOut(["out"], [text_out])
    for index, word in enumerate([b"hi", b"there"]):
        await upstream.send("out", make_packet(f"w-{index}", word))
    upstream.close()
    outcome = await run_node(
        executor, make_ctx(), PortsIn(["text"], [text_in]), PortsOut(["loud"], [loud_out])
    )
    assert outcome.kind is OutcomeKind.COMPLETED, outcome.error
    got = [p async for p in drain_side(loud_in).iter("in")]
    assert [p.payload.as_bytes() for p in got] == [b"HI!", b"THERE!"]
    assert all(p.payload.kind is PayloadKind.BYTES for p in got)


async def test_process_map_runs_in_another_process() -> None:
    out_handle, in_handle = edge(capacity=2)
    down_out, down_in = edge(capacity=2)
    upstream = feeder(out_handle)
    await upstream.send("out", make_packet("m-0", PacketPayload.control(None)))
    upstream.close()
    await run_node(
        ProcessMapExecutor(worker_pid),
        make_ctx(),
        PortsIn(["in"], [in_handle]),
        PortsOut(["out"], [down_out]),
    )
    (packet,) = [p async for p in drain_side(down_in).iter("in")]
    assert packet.payload.as_control() != os.getpid()


async def test_process_map_errors_come_back_as_execution_errors() -> None:
    out_handle, in_handle = edge(capacity=2)
    upstream = feeder(out_handle)
    await upstream.send("out", make_packet("m-0", PacketPayload.control(-2)))
    upstream.close()
    sink = InMemoryMetadataSink()
    outcome = await run_node(
        ProcessMapExecutor(reject_negative),
        make_ctx(),
        PortsIn(["in"], [in_handle]),
        PortsOut(["out"]),
        sink=sink,
    )
    # The worker process's frames do not come back: type and message, no location.
    assert outcome.error == ExecutionError("ValueError: negative input -2")
    assert lifecycle_kinds(sink) == ["node_started", "node_failed"]


async def test_process_map_observes_cancellation_between_batches() -> None:
    """Batch 1 goes through; the consumer then cancels. The node ends at its next port
    operation: the next ``recv_many`` if it was waiting for batch 2, or the send of batch
    2's result if that batch was already in the worker (a batch in flight finishes)."""
    handle = CancellationHandle()
    out_handle, in_handle = edge(capacity=1)
    down_out, down_in = edge(capacity=1)
    received: list[Packet] = []

    async def producer() -> None:
        outputs = feeder(out_handle, token=handle.token)
        try:
            for index in range(5):
                await outputs.send("out", make_packet(f"m-{index}", PacketPayload.control(index)))
        except PortSendError:
            pass  # the producer is cancelled too
        finally:
            outputs.close()

    async def consumer() -> None:
        downstream = drain_side(down_in)
        packet = await downstream.recv("in")
        assert packet is not None
        received.append(packet)
        handle.cancel("consumer has enough")

    async with anyio.create_task_group() as group:
        group.start_soon(producer)
        group.start_soon(consumer)
        outcome = await run_node(
            ProcessMapExecutor(square, batch_size=1),
            make_ctx(token=handle.token),
            PortsIn(["in"], [in_handle]),
            PortsOut(["out"], [down_out]),
        )
    assert [p.payload.as_control() for p in received] == [0]
    assert outcome.kind is OutcomeKind.CANCELLED
    assert str(outcome.error) in {
        "CDT-CANCEL-001: execution cancelled: input port `in` receive cancelled",
        "CDT-CANCEL-001: execution cancelled: output port `out` send cancelled",
    }


def test_batch_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        ProcessMapExecutor(square, batch_size=0)


def test_bare_in_process_keeps_default_options() -> None:
    def local(value: int) -> int:
        return value

    marked = in_process(local)
    executor = process_executor_for(marked)
    assert (executor.input_port, executor.output_port, executor.batch_size) == ("in", "out", 256)
    unmarked = process_executor_for(square)
    assert (unmarked.input_port, unmarked.output_port, unmarked.batch_size) == ("in", "out", 256)
