"""The in-process edge: slots counted in packets, FIFO, batches as one item that a
receiver may split, closing, waiter hand-off, and the invariants (spec-2 §4.1)."""

from __future__ import annotations

from collections import deque

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pureflow.core import (
    Batch,
    BoundedChannel,
    ExecutionMetadata,
    MessageEndpoint,
    MessageRoute,
    Packet,
    PacketPayload,
    PayloadKind,
)
from pureflow.core._waiter import Waiter
from pureflow.types import WorkflowId

ROUTE = MessageRoute(MessageEndpoint("a", "out"), MessageEndpoint("b", "in"))
EXECUTION = ExecutionMetadata.first_attempt("run-1")


def packet(n: int) -> Packet:
    return Packet.create(f"m-{n}", "flow", EXECUTION, ROUTE, PacketPayload.bytes(str(n)))


def batch(first: int, count: int) -> Batch:
    """Packets ``m-first`` ... as one batch."""
    values = [str(n).encode() for n in range(first, first + count)]
    return Batch.numbered(
        "m-", first, WorkflowId("flow"), EXECUTION, ROUTE, PayloadKind.BYTES, values
    )


def ids(packets: object) -> list[str]:
    return [str(p.message_id) for p in packets]  # type: ignore[attr-defined]


def test_capacity_must_be_positive() -> None:
    for bad in (0, -1, True, 1.5):
        with pytest.raises(ValueError, match="capacity"):
            BoundedChannel(bad)  # type: ignore[arg-type]


def test_reserve_commit_release() -> None:
    channel = BoundedChannel(2)
    assert channel.try_reserve()
    assert channel.try_reserve()
    assert not channel.try_reserve()  # reserved slots count against capacity
    channel.release()  # aborted: nothing enqueued
    assert channel.depth == 0
    assert channel.commit(packet(1))
    assert channel.depth == 1
    assert channel.try_reserve()
    assert channel.room() == 0
    assert ids([channel.take()]) == ["m-1"]
    channel.commit(packet(2))
    assert ids([channel.take()]) == ["m-2"]
    assert channel.take() is None
    assert (channel.pushed, channel.popped) == (2, 2)


def test_a_batch_takes_one_slot_per_packet() -> None:
    channel = BoundedChannel(5)
    channel.push(batch(0, 3))
    assert channel.depth == 3
    assert channel.room() == 2
    assert len(channel.items()) == 1  # one queued item
    channel.push(packet(3))
    assert channel.room() == 1
    assert channel.pushed == 4


def test_a_receiver_splits_a_batch_it_takes_one_by_one() -> None:
    channel = BoundedChannel(4)
    channel.push(batch(0, 3))
    first = channel.take()
    assert ids([first]) == ["m-0"]
    assert first is not None
    assert first.route is ROUTE
    assert first.payload == PacketPayload.bytes(b"0")
    assert channel.depth == 2
    assert ids([channel.peek()]) == ["m-1"]
    channel.drop_head()
    assert ids([channel.take()]) == ["m-2"]
    assert channel.items() == []
    assert channel.popped == 3


def test_take_many_returns_a_batch_whole_or_its_head() -> None:
    channel = BoundedChannel(10)
    sent = batch(0, 6)
    channel.push(sent)
    head = channel.take_many(4)
    assert head is not None
    assert ids(head) == ["m-0", "m-1", "m-2", "m-3"]
    rest = channel.take_many(4)
    assert rest is sent  # what remains is the batch itself, handed back without a copy
    assert ids(rest) == ["m-4", "m-5"]
    assert channel.take_many(4) is None


def test_take_many_gathers_packets_sent_one_by_one_up_to_a_batch() -> None:
    channel = BoundedChannel(10)
    for n in range(3):
        channel.push(packet(n))
    channel.push(batch(3, 2))
    taken = channel.take_many(10)
    assert taken is not None
    assert ids(taken) == ["m-0", "m-1", "m-2"]  # stops where the batch begins
    assert ids(channel.take_many(10) or []) == ["m-3", "m-4"]


def test_drained_before_end_of_stream() -> None:
    channel = BoundedChannel(3)
    channel.push(packet(1))
    channel.push(packet(2))
    channel.close_sender()
    assert channel.is_finished
    assert not channel.at_end_of_stream
    channel.take()
    channel.take()
    assert channel.at_end_of_stream


def test_open_permit_delays_end_of_stream() -> None:
    channel = BoundedChannel(1)
    assert channel.try_reserve()
    channel.close_sender()
    assert not channel.at_end_of_stream
    channel.release()
    assert channel.at_end_of_stream


def test_receiver_close_discards_and_refuses() -> None:
    channel = BoundedChannel(4)
    first = packet(1)
    channel.push(first)
    channel.push(batch(2, 2))
    assert channel.try_reserve()
    dropped = channel.close_receiver()
    assert dropped[0] is first
    assert ids(dropped[1]) == ["m-2", "m-3"]  # type: ignore[arg-type]
    assert channel.close_receiver() == []
    assert not channel.commit(packet(9))
    assert not channel.try_reserve()
    assert channel.room() == 0
    assert channel.depth == 0


def test_freed_slot_is_handed_to_the_oldest_waiter() -> None:
    channel = BoundedChannel(1)
    channel.push(packet(0))
    first, second = Waiter(), Waiter()
    channel.add_send_waiter(first)
    channel.add_send_waiter(second)
    assert channel.send_waits == 2
    channel.take()
    assert first.granted
    assert first.woken
    assert not second.granted
    assert not channel.try_reserve()  # the slot belongs to `first`; no barging
    channel.release()  # `first` gives up: hand-off to `second`
    assert second.granted
    channel.commit(packet(1))
    assert ids([channel.take()]) == ["m-1"]


def test_receiver_close_wakes_send_waiters_without_grant() -> None:
    channel = BoundedChannel(1)
    channel.push(packet(0))
    waiter = Waiter()
    channel.add_send_waiter(waiter)
    channel.close_receiver()
    assert waiter.woken
    assert not waiter.granted


def test_last_sender_wakes_receivers() -> None:
    channel = BoundedChannel(1, senders=2)
    waiter = Waiter()
    channel.add_recv_waiter(waiter)
    assert channel.recv_waits == 1
    channel.close_sender()
    assert not waiter.woken
    channel.close_sender()
    assert waiter.woken
    channel.close_sender()  # extra closes are harmless
    assert channel.senders == 0


OPS = st.lists(
    st.one_of(
        st.sampled_from(["reserve", "commit", "release", "take", "wait", "close_rx"]),
        st.tuples(st.just("push"), st.integers(min_value=1, max_value=4)),
        st.tuples(st.just("take_many"), st.integers(min_value=1, max_value=4)),
    ),
    max_size=200,
)


@settings(max_examples=300, deadline=None)
@given(capacity=st.integers(min_value=1, max_value=6), ops=OPS)
def test_fifo_and_capacity_invariants(capacity: int, ops: list[object]) -> None:
    """Model check over packets and batches: FIFO order of packets, the capacity bound in
    packets, hand-off, and no ghost packets."""
    channel = BoundedChannel(capacity)
    model: deque[str] = deque()
    held = 0  # slots held by "us" (reserve or grants)
    waiters: deque[Waiter] = deque()
    counter = 0
    received: list[str] = []
    committed: list[str] = []
    for op in ops:
        if op == "reserve":
            if channel.try_reserve():
                held += 1
            else:
                assert channel.receiver_closed or len(model) + channel.reserved >= capacity
        elif op == "commit" and held:
            held -= 1
            if channel.commit(packet(counter)):
                model.append(f"m-{counter}")
                committed.append(f"m-{counter}")
            else:
                assert channel.receiver_closed
            counter += 1
        elif op == "release" and held:
            held -= 1
            channel.release()
        elif isinstance(op, tuple) and op[0] == "push" and channel.room() >= op[1]:
            size = op[1]
            channel.push(packet(counter) if size == 1 else batch(counter, size))
            new = [f"m-{n}" for n in range(counter, counter + size)]
            model.extend(new)
            committed.extend(new)
            counter += size
        elif op == "take" and model:
            taken = channel.take()
            assert ids([taken]) == [model.popleft()]
            received.append(str(taken.message_id))  # type: ignore[union-attr]
        elif isinstance(op, tuple) and op[0] == "take_many" and model:
            taken_many = channel.take_many(op[1])
            assert taken_many is not None
            assert 1 <= len(taken_many) <= op[1]
            for got in ids(taken_many):
                assert got == model.popleft()
                received.append(got)
        elif op == "wait" and not channel.room() and not channel.receiver_closed:
            waiter = Waiter()
            channel.add_send_waiter(waiter)
            waiters.append(waiter)
        elif op == "close_rx":
            channel.close_receiver()
            model.clear()
        # grants become our held slots
        while waiters and waiters[0].woken:
            waiter = waiters.popleft()
            if waiter.granted:
                held += 1
        # invariants
        assert channel.depth == len(model)
        assert [
            i for item in channel.items() for i in ids(item if isinstance(item, Batch) else [item])
        ] == list(model)
        assert channel.reserved == held + sum(1 for w in waiters if w.granted)
        assert channel.depth + channel.reserved <= capacity
        if channel.send_waiter_count:
            assert not channel.room()  # a queued waiter means no free slot
        if channel.receiver_closed:
            assert channel.limit == 0
        else:
            assert channel.limit == capacity - channel.reserved
    assert received == committed[: len(received)] or channel.receiver_closed
