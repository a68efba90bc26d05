"""The bounded edge: slots, FIFO, closing, waiter hand-off, invariants (spec-2 §4.1)."""

from __future__ import annotations

from collections import deque

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pureflow.core import BoundedChannel
from pureflow.core._waiter import Waiter


def test_capacity_must_be_positive() -> None:
    for bad in (0, -1, True, 1.5):
        with pytest.raises(ValueError, match="capacity"):
            BoundedChannel(bad)  # type: ignore[arg-type]


def test_reserve_commit_release() -> None:
    channel: BoundedChannel[str] = BoundedChannel(2)
    assert channel.try_reserve()
    assert channel.try_reserve()
    assert not channel.try_reserve()  # reserved slots count against capacity
    channel.release()  # aborted: nothing enqueued
    assert len(channel) == 0
    assert channel.commit("a")
    assert channel.queued_count == 1
    assert channel.try_reserve()
    assert not channel.has_room()
    assert channel.pop() == "a"
    channel.commit("b")
    assert channel.pop() == "b"
    assert channel.pushed == 2
    assert channel.popped == 2


def test_drained_before_end_of_stream() -> None:
    channel: BoundedChannel[int] = BoundedChannel(3)
    channel.push(1)
    channel.push(2)
    channel.close_sender()
    assert channel.is_finished
    assert not channel.at_end_of_stream
    assert channel.pop() == 1
    assert channel.pop() == 2
    assert channel.at_end_of_stream


def test_open_permit_delays_end_of_stream() -> None:
    channel: BoundedChannel[int] = BoundedChannel(1)
    assert channel.try_reserve()
    channel.close_sender()
    assert not channel.at_end_of_stream
    channel.release()
    assert channel.at_end_of_stream


def test_receiver_close_discards_and_refuses() -> None:
    channel: BoundedChannel[int] = BoundedChannel(2)
    channel.push(1)
    assert channel.try_reserve()
    assert channel.close_receiver() == [1]
    assert channel.close_receiver() == []
    assert not channel.commit(2)
    assert not channel.try_reserve()
    assert not channel.has_room()


def test_freed_slot_is_handed_to_the_oldest_waiter() -> None:
    channel: BoundedChannel[int] = BoundedChannel(1)
    channel.push(0)
    first, second = Waiter(), Waiter()
    channel.add_send_waiter(first)
    channel.add_send_waiter(second)
    channel.pop()
    assert first.granted
    assert first.woken
    assert not second.granted
    assert not channel.try_reserve()  # the slot belongs to `first`; no barging
    channel.release()  # `first` gives up: hand-off to `second`
    assert second.granted
    channel.commit(1)
    assert channel.pop() == 1


def test_receiver_close_wakes_send_waiters_without_grant() -> None:
    channel: BoundedChannel[int] = BoundedChannel(1)
    channel.push(0)
    waiter = Waiter()
    channel.add_send_waiter(waiter)
    channel.close_receiver()
    assert waiter.woken
    assert not waiter.granted


def test_last_sender_wakes_receivers() -> None:
    channel: BoundedChannel[int] = BoundedChannel(1, senders=2)
    waiter = Waiter()
    channel.add_recv_waiter(waiter)
    channel.close_sender()
    assert not waiter.woken
    channel.close_sender()
    assert waiter.woken
    channel.close_sender()  # extra closes are harmless
    assert channel.senders == 0


OPS = st.lists(
    st.sampled_from(["reserve", "commit", "release", "push", "pop", "wait", "close_rx"]),
    max_size=200,
)


@settings(max_examples=300, deadline=None)
@given(capacity=st.integers(min_value=1, max_value=6), ops=OPS)
def test_fifo_and_capacity_invariants(capacity: int, ops: list[str]) -> None:
    """Model check: FIFO order, capacity bound, hand-off, and no ghost items."""
    channel: BoundedChannel[int] = BoundedChannel(capacity)
    model: deque[int] = deque()
    held = 0  # slots held by "us" (reserve or grants)
    waiters: deque[Waiter] = deque()
    counter = 0
    received: list[int] = []
    committed: list[int] = []
    for op in ops:
        if op == "reserve":
            if channel.try_reserve():
                held += 1
            else:
                assert channel.receiver_closed or len(model) + channel.reserved >= capacity
        elif op == "commit" and held:
            held -= 1
            if channel.commit(counter):
                model.append(counter)
                committed.append(counter)
            else:
                assert channel.receiver_closed
            counter += 1
        elif op == "release" and held:
            held -= 1
            channel.release()
        elif op == "push" and channel.has_room():
            channel.push(counter)
            model.append(counter)
            committed.append(counter)
            counter += 1
        elif op == "pop" and model:
            item = channel.pop()
            assert item == model.popleft()
            received.append(item)
        elif op == "wait" and not channel.has_room() and not channel.receiver_closed:
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
        assert list(channel.queue) == list(model)
        assert channel.reserved == held + sum(1 for w in waiters if w.granted)
        assert len(channel.queue) + channel.reserved <= capacity
        if channel.send_waiter_count:
            assert not channel.has_room()  # a queued waiter means no free slot
        if channel.receiver_closed:
            assert channel.limit == 0
        else:
            assert channel.limit == capacity - channel.reserved
    assert received == committed[: len(received)] or channel.receiver_closed
