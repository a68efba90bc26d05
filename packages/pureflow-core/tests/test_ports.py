"""Port semantics: spec-2 §15 items 1-13 (with the fixed end-of-stream and fan-out rules)
plus fairness, cancellation wake-ups, routes, drops, permits and batching."""

from __future__ import annotations

import gc
import time
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from pureflow.core import (
    CancellationHandle,
    CancellationToken,
    InMemoryMetadataSink,
    MessageBoundaryKind,
    MessageRecord,
    MetadataRecord,
    NullMetadataSink,
    Packet,
    PacketPayload,
    PortRecvError,
    PortRecvErrorKind,
    PortSendError,
    PortSendErrorKind,
    PortsIn,
    PortsOut,
    QueuePressureRecord,
    TieredMetadataSink,
    bounded_edge_channel,
)
from pureflow.core.ports import OutputPort
from pureflow.types import PortId

pytestmark = pytest.mark.anyio


def qp_kinds(sink: InMemoryMetadataSink) -> list[str]:
    return sink.kinds("queue_pressure")


def msg_kinds(sink: InMemoryMetadataSink) -> list[str]:
    return sink.kinds("message")


def body(packet: Packet | None) -> bytes | None:
    return None if packet is None else packet.payload.as_bytes()


# --- spec-2 §15, ports -----------------------------------------------------------------


def test_declared_order_is_kept() -> None:
    assert PortsIn.new(["left", "right"]).port_ids == ("left", "right")
    assert PortsOut.new(["out"]).port_ids == ("out",)
    assert PortsIn().is_empty()
    with pytest.raises(ValueError, match="declared twice"):
        PortsIn(["a", "a"])
    out_handle, in_handle = bounded_edge_channel("out", "in", 1)
    with pytest.raises(ValueError, match="not declared"):
        PortsIn(["other"], [in_handle])
    with pytest.raises(ValueError, match="not declared"):
        PortsOut(["other"], [out_handle])


async def test_capacity_one_try_send_then_full(kit: Any) -> None:
    outputs, inputs = kit.pair(1)
    outputs.try_send("out", kit.packet("m1", b"first"))
    with pytest.raises(PortSendError) as caught:
        outputs.try_send("out", kit.packet("m2", b"second"))
    assert caught.value.kind is PortSendErrorKind.FULL
    assert caught.value.port_id == "out"
    assert outputs.capacity("out") == 1
    assert inputs.capacity("in") == 1
    assert outputs.connected_edge_count("out") == 1
    assert outputs.capacity("missing") is None
    assert body(inputs.try_recv("in")) == b"first"
    assert inputs.try_recv("in") is None
    assert not inputs.at_end_of_stream("in")
    outputs.close()
    assert inputs.at_end_of_stream("in")
    assert await inputs.recv("in") is None


async def test_reserved_permit_blocks_try_send(kit: Any) -> None:
    outputs, inputs = kit.pair(1)
    permit = outputs.try_reserve("out")
    with pytest.raises(PortSendError, match="is full"):
        outputs.try_send("out", kit.packet("m2"))
    permit.send(kit.packet("m1", b"committed"))
    assert body(await inputs.recv("in")) == b"committed"
    with pytest.raises(RuntimeError, match="already used"):
        permit.send(kit.packet("m3"))


async def test_aborted_or_dropped_permit_releases_its_slot(kit: Any) -> None:
    outputs, inputs = kit.pair(1)
    permit = outputs.try_reserve("out")
    permit.abort()
    permit.abort()
    assert inputs.try_recv("in") is None  # no ghost packet, not end of stream
    outputs.try_send("out", kit.packet("m1"))
    assert body(inputs.try_recv("in")) == b"data"
    dropped = outputs.try_reserve("out")
    del dropped
    gc.collect()
    outputs.try_send("out", kit.packet("m2"))  # the garbage-collected permit let go
    assert body(inputs.try_recv("in")) == b"data"
    with outputs.try_reserve("out") as held:
        assert held.edge_count == 1
    outputs.try_send("out", kit.packet("m3"))  # leaving the block released the slot


async def test_send_and_receive_records(kit: Any) -> None:
    sink = InMemoryMetadataSink()
    outputs, inputs = kit.pair(1, sink=sink)
    outputs.try_send("out", kit.packet())
    assert await inputs.recv("in") is not None
    assert msg_kinds(sink) == ["enqueued", "dequeued"]
    assert qp_kinds(sink) == [
        "reserve_attempted",
        "reserve_ready",
        "send_committed",
        "receive_attempted",
        "receive_ready",
    ]
    qp = [rec for rec in sink.records if isinstance(rec, QueuePressureRecord)]
    assert qp[0].capacity == 1
    assert qp[0].queued_count is None
    assert qp[3].queued_count == 1
    assert qp[4].queued_count == 0


async def test_unconnected_output_accepts_and_drops(kit: Any) -> None:
    sink = InMemoryMetadataSink()
    outputs = PortsOut(["out"], sink=sink)
    outputs.try_send("out", kit.packet())
    await outputs.send("out", kit.packet("m2"))
    assert msg_kinds(sink) == ["dropped", "dropped"]
    assert qp_kinds(sink)[:3] == ["reserve_attempted", "reserve_ready", "send_dropped"]
    capacity = [rec.to_json_value()["capacity"] for rec in sink.of_type("queue_pressure")]
    assert capacity == [None] * 6


async def test_async_round_trip_and_reserve_after_free(kit: Any) -> None:
    outputs, inputs = kit.pair(1)
    await outputs.send("out", kit.packet("m1", b"one"))
    reserved = anyio.Event()

    async def producer() -> None:
        permit = await outputs.reserve("out")  # waits until the consumer frees the slot
        reserved.set()
        permit.send(kit.packet("m2", b"two"))

    async with anyio.create_task_group() as tg:
        tg.start_soon(producer)
        await anyio.sleep(0.01)
        assert not reserved.is_set()
        assert body(await inputs.recv("in")) == b"one"
        await reserved.wait()
    assert body(await inputs.recv("in")) == b"two"


async def test_closed_upstream_is_end_of_stream_not_an_error(kit: Any) -> None:
    sink = InMemoryMetadataSink()
    outputs, inputs = kit.pair(2, sink=sink)
    await outputs.send("out", kit.packet("m1"))
    outputs.close()
    outputs.close()  # idempotent
    assert await inputs.recv("in") is not None  # drained before the end is reported
    sink.clear()
    assert await inputs.recv("in") is None
    assert qp_kinds(sink) == ["receive_attempted", "receive_closed"]
    assert await inputs.recv_many("in", 10) == []
    unconnected = PortsIn(["in"])
    assert await unconnected.recv("in") is None
    with pytest.raises(RuntimeError, match="closed"):
        await outputs.send("out", kit.packet("m2"))


async def test_pre_cancelled_token(kit: Any) -> None:
    token = CancellationToken.cancelled("test shutdown")
    outputs, inputs = kit.pair(1, token=token)
    with pytest.raises(PortRecvError) as recv_error:
        await inputs.recv("in")
    assert recv_error.value.kind is PortRecvErrorKind.CANCELLED
    assert recv_error.value.port_id == "in"
    with pytest.raises(PortSendError) as send_error:
        await outputs.send("out", kit.packet())
    assert send_error.value.kind is PortSendErrorKind.CANCELLED
    assert send_error.value.port_id == "out"
    # FIX: an unconnected port honours the token too, and so does every receive API
    for ports in (PortsIn(["in"], cancellation_token=token), inputs):
        with pytest.raises(PortRecvError, match="receive cancelled"):
            await ports.recv("in")
        with pytest.raises(PortRecvError, match="receive cancelled"):
            ports.try_recv("in")
        with pytest.raises(PortRecvError, match="receive cancelled"):
            await ports.recv_many("in", 3)
    with pytest.raises(PortSendError, match="send cancelled"):
        await outputs.reserve("out")
    with pytest.raises(PortSendError, match="send cancelled"):
        outputs.try_send("out", kit.packet())


async def test_cancelled_receive_checks_token_before_data(kit: Any) -> None:
    handle = CancellationHandle()
    outputs, inputs = kit.pair(2, token=handle.token)
    await outputs.send("out", kit.packet())
    handle.cancel("stop")
    with pytest.raises(PortRecvError, match="receive cancelled"):
        await inputs.recv("in")


class RejectAll:
    def validate(self, port_id: PortId, packet: Packet) -> None:
        raise PortSendError.rejected(port_id, "contract mismatch")


async def test_rejecting_validator(kit: Any) -> None:
    sink = InMemoryMetadataSink()
    outputs, inputs = kit.pair(1, sink=sink)
    outputs.with_output_validator(RejectAll())
    with pytest.raises(PortSendError) as caught:
        await outputs.send("out", kit.packet())
    assert caught.value.kind is PortSendErrorKind.REJECTED
    assert caught.value.reason == "contract mismatch"
    assert str(caught.value) == "output port `out` rejected packet: contract mismatch"
    assert qp_kinds(sink) == ["reserve_attempted", "reserve_ready"]
    assert msg_kinds(sink) == []
    assert inputs.try_recv("in") is None
    outputs.with_output_validator(None)
    outputs.try_send("out", kit.packet())  # the rejected reservation was released


async def test_recv_any_basics(kit: Any) -> None:
    left_out, left_in = bounded_edge_channel("out", "left", 1)
    right_out, right_in = bounded_edge_channel("out", "right", 1)
    inputs = PortsIn(["left", "right"], [left_in, right_in])
    left = PortsOut(["out"], [left_out])
    right = PortsOut(["out"], [right_out])
    right.try_send("out", kit.packet("r1"))
    result = await inputs.recv_any()
    assert result is not None
    assert result[0] == "right"
    assert result[1].message_id == "r1"
    left.close()
    right.close()
    assert await inputs.recv_any() is None
    assert await PortsIn().recv_any() is None
    cancelled = PortsIn(["left", "right"], cancellation_token=CancellationToken.cancelled("x"))
    with pytest.raises(PortRecvError) as caught:
        await cancelled.recv_any()
    assert caught.value.port_id == "left"


async def test_undeclared_ports_write_no_records(kit: Any) -> None:
    sink = InMemoryMetadataSink()
    outputs, inputs = kit.pair(1, sink=sink)
    with pytest.raises(PortSendError) as send_error:
        await outputs.send("missing", kit.packet())
    assert send_error.value.kind is PortSendErrorKind.UNKNOWN_PORT
    assert str(send_error.value) == "output port `missing` is not declared"
    with pytest.raises(PortRecvError) as recv_error:
        await inputs.recv("missing")
    assert recv_error.value.kind is PortRecvErrorKind.UNKNOWN_PORT
    for call in (
        lambda: outputs.try_send("missing", kit.packet()),
        lambda: outputs["missing"],
        lambda: outputs.try_reserve("missing"),
    ):
        with pytest.raises(PortSendError, match="not declared"):
            call()
    for recv_call in (lambda: inputs.try_recv("missing"), lambda: inputs.iter("missing")):
        with pytest.raises(PortRecvError, match="not declared"):
            recv_call()
    with pytest.raises(PortRecvError):
        await inputs.recv_many("missing", 2)
    with pytest.raises(PortSendError):
        await outputs.send_many("missing", [])
    with pytest.raises(PortSendError):
        await outputs.reserve("missing")
    assert sink.records == []


async def test_fan_out_partial_departure_still_delivers(kit: Any) -> None:
    """Spec-2 §15 item 13, fixed: a departed consumer no longer fails the send; its copy
    is reported as dropped. Only when every consumer left does the send fail."""
    sink = InMemoryMetadataSink()
    a_out, a_in = bounded_edge_channel("out", "in", 1)
    b_out, b_in = bounded_edge_channel("out", "in", 1)
    outputs = PortsOut(["out"], [a_out, b_out], sink=sink)
    good = PortsIn(["in"], [a_in])
    gone = PortsIn(["in"], [b_in])
    gone.close()
    await outputs.send("out", kit.packet("m1"))
    assert msg_kinds(sink) == ["enqueued", "dropped"]
    assert body(await good.recv("in")) == b"data"
    good.close()
    with pytest.raises(PortSendError) as caught:
        await outputs.send("out", kit.packet("m2"))
    assert "disconnected" in str(caught.value)
    with pytest.raises(PortSendError, match="disconnected"):
        outputs.try_send("out", kit.packet("m3"))


# --- fairness ---------------------------------------------------------------------------


async def test_recv_any_round_robin(kit: Any) -> None:
    chatty_out, chatty_in = bounded_edge_channel("out", "chatty", 100)
    quiet_out, quiet_in = bounded_edge_channel("out", "quiet", 100)
    inputs = PortsIn(["chatty", "quiet"], [chatty_in, quiet_in])
    chatty = PortsOut(["out"], [chatty_out])
    quiet = PortsOut(["out"], [quiet_out])
    for i in range(50):
        chatty.try_send("out", kit.packet(f"c{i}"))
    for i in range(3):
        quiet.try_send("out", kit.packet(f"q{i}"))
    order = []
    for _ in range(6):
        result = await inputs.recv_any()
        assert result is not None
        order.append(str(result[0]))
    assert order == ["chatty", "quiet"] * 3


async def test_chatty_producer_does_not_starve_a_second_port(kit: Any) -> None:
    chatty_out, chatty_in = bounded_edge_channel("out", "chatty", 4)
    quiet_out, quiet_in = bounded_edge_channel("out", "quiet", 4)
    inputs = PortsIn(["chatty", "quiet"], [chatty_in, quiet_in])
    chatty = PortsOut(["out"], [chatty_out])
    quiet = PortsOut(["out"], [quiet_out])
    seen: list[str] = []

    async def flood() -> None:
        i = 0
        while True:
            await chatty.send("out", kit.packet(f"c{i}"))
            i += 1

    async def trickle() -> None:
        for i in range(5):
            await quiet.send("out", kit.packet(f"q{i}"))
        quiet.close()

    async with anyio.create_task_group() as tg:
        tg.start_soon(flood)
        tg.start_soon(trickle)
        while seen.count("quiet") < 5:
            result = await inputs.recv_any()
            assert result is not None
            seen.append(str(result[0]))
            assert len(seen) < 200, "quiet port starved"
        tg.cancel_scope.cancel()
    assert seen.count("quiet") == 5


async def test_fan_in_rotates_edges(kit: Any) -> None:
    a_out, a_in = bounded_edge_channel("out", "in", 10)
    b_out, b_in = bounded_edge_channel("out", "in", 10)
    inputs = PortsIn(["in"], [a_in, b_in])
    a = PortsOut(["out"], [a_out])
    b = PortsOut(["out"], [b_out])
    for i in range(5):
        a.try_send("out", kit.packet(f"a{i}"))
    b.try_send("out", kit.packet("b0"))
    first = [str((await inputs.recv("in")).message_id) for _ in range(3)]  # type: ignore[union-attr]
    assert first == ["a0", "b0", "a1"]
    assert inputs.queued_count("in") == 3


async def test_fast_path_yields_to_other_tasks(kit: Any) -> None:
    outputs, _inputs = kit.pair(5000)
    ticks = 0
    done = False
    packet = kit.packet()

    async def ticker() -> None:
        nonlocal ticks
        while not done:
            ticks += 1
            await anyio.lowlevel.checkpoint()

    async with anyio.create_task_group() as tg:
        tg.start_soon(ticker)
        await anyio.lowlevel.checkpoint()
        before = ticks
        out = outputs["out"]
        for _ in range(4000):  # never has to wait: room for all of them
            await out.send(packet)
        during = ticks - before
        done = True
    assert during >= 4000 // 128 - 2


# --- cancellation wakes every waiter promptly -------------------------------------------


async def test_cancellation_wakes_blocked_operations_at_once(kit: Any) -> None:
    handle = CancellationHandle()
    token = handle.token
    idle_out, idle_in = bounded_edge_channel("out", "in", 1)
    other_out, other_in = bounded_edge_channel("out", "other", 1)
    full_out, full_in = bounded_edge_channel("out", "in", 1)
    recv_ports = PortsIn(["in"], [idle_in], cancellation_token=token)
    any_ports = PortsIn(["other"], [other_in], cancellation_token=token)
    send_ports = PortsOut(["out"], [full_out], cancellation_token=token)
    send_ports.try_send("out", kit.packet())  # the edge is now full
    keep = (idle_out, other_out, full_in)  # hold the other ends open
    woken: dict[str, float] = {}

    async def blocked(name: str, operation: Any, error: type[Exception]) -> None:
        with pytest.raises(error, match="cancelled"):
            await operation()
        woken[name] = time.perf_counter()

    async with anyio.create_task_group() as tg:
        tg.start_soon(blocked, "recv", lambda: recv_ports.recv("in"), PortRecvError)
        tg.start_soon(blocked, "recv_any", any_ports.recv_any, PortRecvError)
        tg.start_soon(blocked, "reserve", lambda: send_ports.reserve("out"), PortSendError)
        tg.start_soon(
            blocked, "send", lambda: send_ports.send("out", kit.packet("m2")), PortSendError
        )
        await anyio.sleep(0.05)
        assert not woken
        assert recv_ports.waiting_ports() == ("in",)
        assert send_ports["out"].is_waiting
        start = time.perf_counter()
        handle.cancel("supervisor shutdown")
    assert set(woken) == {"recv", "recv_any", "reserve", "send"}
    assert max(woken.values()) - start < 0.05
    assert send_ports["out"].edges[0].reserved == 0  # nothing held after cancellation
    assert keep


async def test_scope_cancellation_pops_nothing_and_holds_nothing(kit: Any) -> None:
    outputs, inputs = kit.pair(1)
    with anyio.move_on_after(0.01):
        await inputs.recv("in")
    outputs.try_send("out", kit.packet("m1"))
    with anyio.move_on_after(0.01) as scope:
        await outputs.send("out", kit.packet("m2"))  # blocked: edge full
    assert scope.cancelled_caught
    edge = outputs["out"].edges[0]
    assert edge.reserved == 0
    assert edge.send_waiter_count == 0
    assert str((await inputs.recv("in")).message_id) == "m1"  # type: ignore[union-attr]
    assert inputs.try_recv("in") is None


# --- routes, copies, drops ---------------------------------------------------------------


async def test_fan_out_stamps_each_edges_route_and_copies_control(kit: Any) -> None:
    from pureflow.core import wire_edges
    from pureflow.workflow import EdgeDefinition, NodeDefinition, WorkflowDefinition

    workflow = WorkflowDefinition.from_parts(
        "flow",
        [
            NodeDefinition.of("split", [], ["out"]),
            NodeDefinition.of("a", ["in"], []),
            NodeDefinition.of("b", ["left", "right"], []),
        ],
        [
            EdgeDefinition.between(("split", "out"), ("a", "in")),
            EdgeDefinition.between(("split", "out"), ("b", "right")),
        ],
    )
    wiring = wire_edges(workflow, default_capacity=4)
    sink = InMemoryMetadataSink()
    outputs = wiring["split"].outputs.with_metadata_sink(sink)  # type: ignore[index]
    packet = kit.packet(
        "m1", PacketPayload.control({"n": [1]}), source=None, target=("elsewhere", "x")
    )
    await outputs.send("out", packet)
    got_a = await wiring["a"].inputs.recv("in")  # type: ignore[index]
    got_b = await wiring["b"].inputs.recv("right")  # type: ignore[index]
    assert got_a is not None
    assert got_b is not None
    for got, node, port in ((got_a, "a", "in"), (got_b, "b", "right")):
        assert got.route.source is not None
        assert (got.route.source.node_id, got.route.source.port_id) == ("split", "out")
        assert (got.route.target.node_id, got.route.target.port_id) == (node, port)
        assert got.message_id == "m1"
    control_b = got_b.payload.as_control()
    assert isinstance(control_b, dict)
    control_b["n"].append(2)
    assert got_a.payload.as_control() == {"n": [1]}
    targets = [
        rec.to_json_value()["message"]["route"]["target"] for rec in sink.of_kind("enqueued")
    ]
    assert targets == [{"node_id": "a", "port_id": "in"}, {"node_id": "b", "port_id": "right"}]
    assert wiring.messages_moved() == 2


async def test_early_receiver_reports_dropped_packets(kit: Any) -> None:
    sink = InMemoryMetadataSink()
    outputs, inputs = kit.pair(4, sink=sink)
    permit = await outputs.reserve("out")
    await outputs.send("out", kit.packet("m1"))
    await outputs.send("out", kit.packet("m2"))
    sink.clear()
    inputs.close()
    inputs.close()
    assert [rec.message_id for rec in sink.of_kind("dropped")] == ["m1", "m2"]  # type: ignore[attr-defined]
    sink.clear()
    permit.send(kit.packet("m3"))  # the receiver left between reserve and commit
    assert msg_kinds(sink) == ["dropped"]
    assert qp_kinds(sink) == ["send_committed"]
    with pytest.raises(PortSendError, match="disconnected"):
        await outputs.send("out", kit.packet("m4"))
    assert outputs["out"].edges[0].dropped == 3
    assert await inputs.recv("in") is None  # a closed input is at end of stream


# --- permits, batches, iteration ---------------------------------------------------------


async def test_reserve_is_all_or_nothing_across_fan_out(kit: Any) -> None:
    a_out, a_in = bounded_edge_channel("out", "in", 2)
    b_out, b_in = bounded_edge_channel("out", "in", 1)
    outputs = PortsOut(["out"], [a_out, b_out])
    a = PortsIn(["in"], [a_in])
    b = PortsIn(["in"], [b_in])
    await outputs.send("out", kit.packet("m1"))  # b is now full, a has one slot left
    edge_a, edge_b = outputs["out"].edges
    with pytest.raises(PortSendError, match="is full"):
        outputs.try_reserve("out")
    assert edge_a.reserved == 0  # the slot taken on `a` was given back
    with anyio.move_on_after(0.02):
        await outputs.reserve("out")  # holds `a` while waiting for `b`, then gives it back
    assert edge_a.reserved == 0
    assert edge_b.reserved == 0
    assert [str(p.message_id) for p in await a.recv_many("in", 10)] == ["m1"]
    assert b.try_recv("in") is not None
    with await outputs.reserve("out") as permit:
        assert permit.edge_count == 2
        permit.send(kit.packet("m2"))
    assert a.try_recv("in") is not None
    assert b.try_recv("in") is not None


async def test_blocked_reserve_writes_one_full_pair(kit: Any) -> None:
    sink = InMemoryMetadataSink()
    outputs, inputs = kit.pair(1, sink=sink)
    await outputs.send("out", kit.packet("m1"))
    sink.clear()

    async def consume_slowly() -> None:
        for _ in range(5):
            await anyio.sleep(0.002)  # many scheduler turns while the producer waits
        await inputs.recv("in")

    async with anyio.create_task_group() as tg:
        tg.start_soon(consume_slowly)
        await outputs.send("out", kit.packet("m2"))
    producer = [
        str(rec.kind)
        for rec in sink.of_type("queue_pressure")
        if rec.to_json_value()["direction"] == "output"
    ]
    assert producer == ["reserve_attempted", "reserve_full", "reserve_ready", "send_committed"]


async def test_recv_any_reports_closed_ports_once_per_call(kit: Any) -> None:
    sink = InMemoryMetadataSink()
    live_out, live_in = bounded_edge_channel("out", "live", 1)
    inputs = PortsIn(["gone", "live"], [live_in], sink=sink)
    live = PortsOut(["out"], [live_out])

    async def late_send() -> None:
        for _ in range(3):
            await anyio.sleep(0.002)
        await live.send("out", kit.packet())

    async with anyio.create_task_group() as tg:
        tg.start_soon(late_send)
        result = await inputs.recv_any()
    assert result is not None
    assert result[0] == "live"
    assert qp_kinds(sink) == [
        "receive_attempted",
        "receive_attempted",
        "receive_closed",
        "receive_ready",
    ]


async def test_send_many_recv_many_and_iteration(kit: Any) -> None:
    outputs, inputs = kit.pair(3)
    packets = [kit.packet(f"m{i}") for i in range(10)]

    async def produce() -> None:
        await outputs.send_many("out", packets)
        outputs.close()

    batches: list[list[str]] = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(produce)
        while batch := await inputs.recv_many("in", 4):
            assert 1 <= len(batch) <= 4
            batches.append([str(p.message_id) for p in batch])
    assert [m for batch in batches for m in batch] == [f"m{i}" for i in range(10)]
    with pytest.raises(ValueError, match="max_items"):
        await inputs.recv_many("in", 0)

    outputs, inputs = kit.pair(2)

    async def produce_again() -> None:
        for packet in packets[:5]:
            await outputs["out"].send(packet)
        outputs.close()

    seen: list[str] = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(produce_again)
        seen.extend([str(packet.message_id) async for packet in inputs.iter("in")])
    assert seen == [f"m{i}" for i in range(5)]


async def test_producers_on_a_shared_edge_are_served_fifo(kit: Any) -> None:
    outputs, inputs = kit.pair(1)
    clone_a, clone_b = outputs.clone(), outputs.clone()
    outputs.try_send("out", kit.packet("first"))
    order: list[str] = []

    async def produce(ports: PortsOut, name: str, delay: float) -> None:
        await anyio.sleep(delay)
        await ports.send("out", kit.packet(name))
        order.append(name)
        ports.close()

    async with anyio.create_task_group() as tg:
        tg.start_soon(produce, clone_a, "a", 0.0)
        tg.start_soon(produce, clone_b, "b", 0.01)
        await anyio.sleep(0.02)
        outputs.close()
        received = [str(packet.message_id) async for packet in inputs.iter("in")]
    assert received == ["first", "a", "b"]
    assert order == ["a", "b"]


async def test_clones_keep_the_edge_open(kit: Any) -> None:
    outputs, inputs = kit.pair(2)
    twin = outputs.clone()
    outputs.close()
    assert not inputs.at_end_of_stream("in")
    twin.try_send("out", kit.packet())
    twin.close()
    assert await inputs.recv("in") is not None
    assert await inputs.recv("in") is None


async def test_packet_helper(kit: Any) -> None:
    outputs, _inputs = kit.pair(4)
    with pytest.raises(RuntimeError, match="no node context"):
        outputs["out"].packet(b"x")
    ctx = kit.ctx("producer")
    outputs.with_node_context(ctx)
    first = outputs.packet("out", b"x")
    second = outputs["out"].packet(PacketPayload.control({"k": 1}))
    assert (str(first.message_id), str(second.message_id)) == ("producer-out-0", "producer-out-1")
    assert first.workflow_id == "flow"
    assert first.execution == ctx.execution
    assert outputs.packet("out", "y", message_id="custom").message_id == "custom"
    unconnected = PortsOut(["spare"], context=ctx)
    route = unconnected["spare"].packet(b"z").route
    assert route.target.node_id == "producer"
    assert route.target.port_id == "spare"


async def test_records_carry_the_context_and_skip_when_not_kept(kit: Any) -> None:
    sink = InMemoryMetadataSink()
    outputs, inputs = kit.pair(1, sink=sink)
    ctx = kit.ctx("producer")
    outputs.with_node_context(ctx)
    await outputs.send("out", kit.packet())
    rec = sink.of_kind("reserve_attempted")[0]
    assert rec.to_json_value()["context"]["node_id"] == "producer"

    class Exploding:
        enabled = False

        def record(self, record: MetadataRecord) -> None:
            raise AssertionError("must not be called")

    for quiet in (NullMetadataSink(), Exploding(), TieredMetadataSink(InMemoryMetadataSink())):
        outputs, inputs = kit.pair(1, sink=quiet)
        await outputs.send("out", kit.packet())
        assert await inputs.recv("in") is not None
        inputs.close()


def test_message_record_node(kit: Any) -> None:
    dropped = MessageRecord.from_packet(MessageBoundaryKind.DROPPED, kit.packet())
    assert dropped.node_id == "producer"
    enqueued = MessageRecord.from_packet(MessageBoundaryKind.ENQUEUED, kit.packet())
    assert enqueued.node_id == "consumer"


def test_output_port_repr_and_direction(kit: Any) -> None:
    outputs, inputs = kit.pair(1)
    port = outputs["out"]
    assert isinstance(port, OutputPort)
    assert port.direction.value == "output"
    assert inputs["in"].direction.value == "input"
    assert "OutputPort" in repr(port)
    assert "PortsIn" in repr(inputs)
    assert port.total_capacity == 1
    assert "in" in inputs
    assert len(inputs) == 1
