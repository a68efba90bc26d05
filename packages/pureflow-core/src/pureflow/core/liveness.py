"""Exact deadlock detection: which nodes of a run are live, and which of them are stuck.

A run is deadlocked *now* when every live node is suspended in a wait that only another
node can end (a port operation) and none of those waits has been woken. (A wait on the
cancellation token is not such a wait: the outside world ends it, with Ctrl-C or a
caller's handle.) Nothing can then move a packet ever again, so no
timer is needed to find out.

* A :class:`LivenessMonitor` belongs to one run. The engine registers every node as live
  before any node starts (:meth:`LivenessMonitor.flow`), so a node that has not started
  yet is live and not blocked; a node leaves the count when it finishes
  (:meth:`NodeFlow.finish`).
* A :class:`NodeFlow` is one node's main flow of control. The runtime enters it in the
  node's task (:meth:`NodeFlow.enter`); every :class:`~pureflow.core._waiter.Waiter` that
  suspends while that flow is current counts the node as blocked until it is woken.
  Only the node's own task counts (or, for a node running in a worker thread, the
  loop-side calls its port views make: :meth:`NodeFlow.delegate`), and only a wait
  without a deadline (a wait inside ``anyio.move_on_after`` ends by itself: it is a
  sleep). A wait in a task the node spawned itself does not count, nor does a sleep, a
  wait on a worker thread or process, or any other wait the runtime does not know about.
  A node in such a wait is busy, never blocked, so the monitor can miss a deadlock that
  involves it (the engine's no-progress watchdog covers those) but never reports a
  live run.
* When the last live node becomes blocked (or the last unblocked one finishes), and
  every blocked wait has checked out deadline-free (below), the monitor calls its
  ``on_deadlock`` callback synchronously, on the event loop thread. The callback must not
  block; the engine sets an event and diagnoses the run from its own task.

Whether a wait has a deadline is checked lazily: a counted wait starts *unchecked*, and
only when every live node is blocked does the monitor ask each unchecked wait to check
itself, in its own task (the waiter wakes for that alone, reads the effective deadline and
suspends again, or stops counting). The deadlock is reported once every blocked wait has
checked out deadline-free. Until then nothing is reported, and no wait pays for the
check: a run that never comes near a deadlock never reads a deadline.

Everything here runs on the event loop thread (waits and wake-ups do), so plain counters
suffice.
"""

from __future__ import annotations

import contextvars
import math
from asyncio import _get_running_loop
from asyncio import current_task as _asyncio_current_task
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Final

import anyio

if TYPE_CHECKING:
    from pureflow.core._waiter import Waiter

_CURRENT_FLOW: Final[contextvars.ContextVar[NodeFlow | None]] = contextvars.ContextVar(
    "pureflow_node_flow", default=None
)


def task_key() -> object:
    """The identity of the running task, for comparing with :meth:`NodeFlow.enter`'s.

    On asyncio, the task object itself (a dictionary lookup: the deadlock bookkeeping asks
    on every suspension, and ``anyio.get_current_task()`` builds a ``TaskInfo`` each time,
    about a microsecond: the capacity-1 rows of benchmarks/README.md suspend on every
    packet); on any other backend, and in trio's guest mode on an asyncio host, anyio's
    task id.
    """
    loop = _get_running_loop()
    if loop is not None:
        task = _asyncio_current_task(loop)
        if task is not None:
            return task
    return anyio.get_current_task().id


def current_flow(task: object = None) -> NodeFlow | None:
    """The node flow the calling code acts for, if it counts (see :meth:`NodeFlow.acting`).

    ``task`` is the caller's :func:`task_key` when it has it already."""
    flow = _CURRENT_FLOW.get()
    if flow is None or not flow.acting(task):
        return None
    return flow


def has_deadline() -> bool:
    """True when a wait that starts now in this task ends by itself (inside
    ``move_on_after``/``fail_after``, or a node time limit): a sleep, not a block."""
    return anyio.current_effective_deadline() != math.inf


class NodeFlow:
    """One node's main flow of control within a :class:`LivenessMonitor`.

    ``suspended`` counts the node's waits that are suspended and not yet woken; the node
    is *blocked* while it is above zero.
    """

    __slots__ = ("_delegated", "_task", "finished", "monitor", "node_id", "suspended")

    def __init__(self, monitor: LivenessMonitor, node_id: str) -> None:
        self.monitor = monitor
        self.node_id = node_id
        self.suspended = 0
        self.finished = False
        self._task: object = None
        self._delegated = 0

    @property
    def blocked(self) -> bool:
        return self.suspended > 0

    def enter(self) -> contextvars.Token[NodeFlow | None]:
        """Make the calling task this node's main task (and this flow the current one).
        Returns the context token that :meth:`leave` takes."""
        self._task = task_key()
        return _CURRENT_FLOW.set(self)

    def leave(self, token: contextvars.Token[NodeFlow | None]) -> None:
        _CURRENT_FLOW.reset(token)

    @contextmanager
    def delegate(self) -> Iterator[None]:
        """While the node's code runs elsewhere (a worker thread), the loop-side calls it
        makes on its behalf act for it: any task that carries this flow counts."""
        self._delegated += 1
        try:
            yield
        finally:
            self._delegated -= 1

    def acting(self, task: object = None) -> bool:
        """True when the calling task (``task``: its :func:`task_key`, if known) acts for
        this node's main flow."""
        if self.finished:
            return False
        if self._delegated:
            return True
        return (task if task is not None else task_key()) == self._task

    def suspend(self, waiter: Waiter) -> None:
        """``waiter``, a wait of this flow, suspends (called by the waiter, on the loop
        thread); it counts, unchecked, until :meth:`resume`."""
        monitor = self.monitor
        monitor._waits[waiter] = None
        self.suspended += 1
        if self.suspended == 1:
            monitor.blocked += 1
            if monitor.blocked == monitor.live:
                monitor._check()

    def resume(self, waiter: Waiter) -> None:
        """A counted wait was woken or abandoned, or turned out to have a deadline."""
        monitor = self.monitor
        del monitor._waits[waiter]
        if self.finished:
            return
        self.suspended -= 1
        if self.suspended == 0:
            monitor.blocked -= 1

    def finish(self) -> None:
        """The node ended: it is no longer live (idempotent)."""
        if self.finished:
            return
        self.finished = True
        if self.suspended:
            self.suspended = 0
            self.monitor.blocked -= 1
        self.monitor._live_changed(-1)

    def __repr__(self) -> str:
        state = "finished" if self.finished else ("blocked" if self.blocked else "running")
        return f"NodeFlow({self.node_id!r}, {state})"


class LivenessMonitor:
    """Counts a run's live and blocked nodes; calls ``on_deadlock`` when they are equal and
    every blocked wait checked out deadline-free (see the module doc).

    ``on_deadlock`` may be set after construction; it is called each time the condition
    becomes true (normally once: the engine then cancels the run).
    """

    __slots__ = ("_waits", "blocked", "flows", "live", "on_deadlock")

    def __init__(self, on_deadlock: Callable[[], None] | None = None) -> None:
        self.on_deadlock = on_deadlock
        self.live = 0
        self.blocked = 0
        self.flows: dict[str, NodeFlow] = {}
        self._waits: dict[Waiter, None] = {}  # the counted waits, checked or not

    def flow(self, node_id: str) -> NodeFlow:
        """Register node ``node_id`` as live and return its flow."""
        flow = NodeFlow(self, node_id)
        self.flows[node_id] = flow
        self.live += 1
        return flow

    @property
    def deadlocked(self) -> bool:
        """Every live node is blocked, each in a wait checked to have no deadline (and at
        least one node is live)."""
        return (
            self.live > 0
            and self.blocked == self.live
            and all(waiter.checked for waiter in self._waits)
        )

    def blocked_nodes(self) -> list[str]:
        return [node for node, flow in self.flows.items() if flow.blocked and not flow.finished]

    def _live_changed(self, delta: int) -> None:
        self.live += delta
        self._check()

    def _check(self) -> None:
        """When every live node is blocked: report the deadlock if every counted wait has
        checked out deadline-free, else ask the unchecked ones to check (each answers
        from its own task by :meth:`checked_out` or by resuming its flow)."""
        if self.live > 0 and self.blocked == self.live and self.on_deadlock is not None:
            unchecked = [waiter for waiter in self._waits if not waiter.checked]
            if not unchecked:
                self.on_deadlock()
            for waiter in unchecked:
                waiter.request_check()

    def checked_out(self) -> None:
        """A counted wait found it has no deadline."""
        self._check()

    def __repr__(self) -> str:
        return f"LivenessMonitor(live={self.live}, blocked={self.blocked})"
