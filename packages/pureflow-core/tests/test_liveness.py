"""The liveness monitor: a deadlock is reported only once every live node is blocked in a
wait that checked out deadline-free; a wait with a deadline stops counting when asked.

Each test drives :class:`Waiter` objects in tasks that enter their own node flow, as the
runtime does, on both anyio backends.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio
import pytest
from pureflow.core import LivenessMonitor, NodeFlow
from pureflow.core._waiter import Waiter

pytestmark = pytest.mark.anyio


def as_node(flow: NodeFlow, body: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
    """``body`` run as ``flow``'s main task, finishing the flow when it ends."""

    async def task() -> None:
        token = flow.enter()
        try:
            await body()
        finally:
            flow.finish()
            flow.leave(token)

    return task


async def test_every_node_blocked_without_a_deadline_is_reported_once_checked() -> None:
    reports: list[int] = []
    monitor = LivenessMonitor()
    monitor.on_deadlock = lambda: reports.append(monitor.blocked)
    first, second = monitor.flow("first"), monitor.flow("second")
    waiters = [Waiter(), Waiter()]

    async with anyio.create_task_group() as group:
        group.start_soon(as_node(first, waiters[0].wait))
        await anyio.wait_all_tasks_blocked()
        assert (monitor.blocked, monitor.live, reports) == (1, 2, [])
        assert not waiters[0].checked  # nobody asked: one live node is not blocked
        group.start_soon(as_node(second, waiters[1].wait))
        await anyio.wait_all_tasks_blocked()
        assert reports == [2]
        assert monitor.deadlocked
        assert [waiter.checked for waiter in waiters] == [True, True]
        assert sorted(monitor.blocked_nodes()) == ["first", "second"]
        for waiter in waiters:
            waiter.wake()
    assert (monitor.blocked, monitor.live, reports) == (0, 0, [2])


async def test_a_wait_with_a_deadline_stops_counting_when_asked() -> None:
    reports: list[None] = []
    monitor = LivenessMonitor(lambda: reports.append(None))
    sleeper, blocked = monitor.flow("sleeper"), monitor.flow("blocked")
    timed, plain = Waiter(), Waiter()

    async def timed_wait() -> None:
        with anyio.move_on_after(3600):
            await timed.wait()

    async with anyio.create_task_group() as group:
        group.start_soon(as_node(blocked, plain.wait))
        group.start_soon(as_node(sleeper, timed_wait))
        await anyio.wait_all_tasks_blocked()
        # Both looked blocked, so both were asked; the timed wait is a sleep.
        assert reports == []
        assert not monitor.deadlocked
        assert (monitor.blocked, sleeper.blocked, blocked.blocked) == (1, False, True)
        assert plain.checked
        assert not timed.checked
        timed.wake()  # the sleeper ends: now the other node is the only live one
        await anyio.wait_all_tasks_blocked()
        assert reports == [None]
        plain.wake()


async def test_a_wait_cancelled_while_asked_to_check_stops_counting() -> None:
    monitor = LivenessMonitor()  # no callback yet: nothing is asked to check
    flow = monitor.flow("only")
    waiter = Waiter()
    reports: list[None] = []

    async with anyio.create_task_group() as group:
        group.start_soon(as_node(flow, waiter.wait))
        await anyio.wait_all_tasks_blocked()
        assert flow.blocked
        assert not waiter.checked
        monitor.on_deadlock = lambda: reports.append(None)
        waiter.request_check()  # the task is resumed to check...
        group.cancel_scope.cancel()  # ...and cancelled before it runs
    assert (monitor.blocked, monitor.live, flow.finished, reports) == (0, 0, True, [])


async def test_waits_outside_the_main_task_do_not_count() -> None:
    monitor = LivenessMonitor()
    flow = monitor.flow("node")
    helper_waiter, token_waiter = Waiter(), Waiter(blocks=False)

    async def body() -> None:
        async with anyio.create_task_group() as inner:
            inner.start_soon(helper_waiter.wait)  # a task the node spawned: never counts
            await token_waiter.wait()  # a wait the outside world ends: never counts

    async with anyio.create_task_group() as group:
        group.start_soon(as_node(flow, body))
        await anyio.wait_all_tasks_blocked()
        assert (monitor.blocked, flow.blocked) == (0, False)
        helper_waiter.wake()
        token_waiter.wake()
