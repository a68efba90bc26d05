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
* When the last live node becomes blocked (or the last unblocked one finishes), the
  monitor calls its ``on_deadlock`` callback synchronously, on the event loop thread. The
  callback must not block; the engine sets an event and diagnoses the run from its own
  task.

Everything here runs on the event loop thread (waits and wake-ups do), so plain counters
suffice.
"""

from __future__ import annotations

import contextvars
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Final

import anyio

_CURRENT_FLOW: Final[contextvars.ContextVar[NodeFlow | None]] = contextvars.ContextVar(
    "pureflow_node_flow", default=None
)


def current_flow() -> NodeFlow | None:
    """The node flow the calling code acts for, if it counts (see :meth:`NodeFlow.acting`)."""
    flow = _CURRENT_FLOW.get()
    if flow is None or not flow.acting():
        return None
    return flow


def blocking_flow() -> NodeFlow | None:
    """The node flow a wait that starts now would block: the current flow, unless the
    wait has a deadline (inside ``move_on_after``/``fail_after``, or a node time limit):
    a wait that ends by itself is a sleep, not a block."""
    flow = current_flow()
    if flow is None or anyio.current_effective_deadline() != math.inf:
        return None
    return flow


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
        self._task: int | None = None
        self._delegated = 0

    @property
    def blocked(self) -> bool:
        return self.suspended > 0

    def enter(self) -> contextvars.Token[NodeFlow | None]:
        """Make the calling task this node's main task (and this flow the current one).
        Returns the context token that :meth:`leave` takes."""
        self._task = anyio.get_current_task().id
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

    def acting(self) -> bool:
        """True when the calling task acts for this node's main flow."""
        if self.finished:
            return False
        return bool(self._delegated) or anyio.get_current_task().id == self._task

    def suspend(self) -> None:
        """A wait of this flow suspends (called by the waiter, on the loop thread)."""
        self.suspended += 1
        if self.suspended == 1:
            self.monitor._blocked_changed(+1)

    def resume(self) -> None:
        """A counted wait was woken or abandoned."""
        if self.finished:
            return
        self.suspended -= 1
        if self.suspended == 0:
            self.monitor._blocked_changed(-1)

    def finish(self) -> None:
        """The node ended: it is no longer live (idempotent)."""
        if self.finished:
            return
        self.finished = True
        if self.suspended:
            self.suspended = 0
            self.monitor._blocked_changed(-1, check=False)
        self.monitor._live_changed(-1)

    def __repr__(self) -> str:
        state = "finished" if self.finished else ("blocked" if self.blocked else "running")
        return f"NodeFlow({self.node_id!r}, {state})"


class LivenessMonitor:
    """Counts a run's live and blocked nodes; calls ``on_deadlock`` when they are equal.

    ``on_deadlock`` may be set after construction; it is called each time the condition
    becomes true (normally once: the engine then cancels the run).
    """

    __slots__ = ("blocked", "flows", "live", "on_deadlock")

    def __init__(self, on_deadlock: Callable[[], None] | None = None) -> None:
        self.on_deadlock = on_deadlock
        self.live = 0
        self.blocked = 0
        self.flows: dict[str, NodeFlow] = {}

    def flow(self, node_id: str) -> NodeFlow:
        """Register node ``node_id`` as live and return its flow."""
        flow = NodeFlow(self, node_id)
        self.flows[node_id] = flow
        self.live += 1
        return flow

    @property
    def deadlocked(self) -> bool:
        """Every live node is blocked (and at least one is live)."""
        return self.live > 0 and self.blocked == self.live

    def blocked_nodes(self) -> list[str]:
        return [node for node, flow in self.flows.items() if flow.blocked and not flow.finished]

    def _blocked_changed(self, delta: int, *, check: bool = True) -> None:
        self.blocked += delta
        if check and delta > 0:
            self._check()

    def _live_changed(self, delta: int) -> None:
        self.live += delta
        self._check()

    def _check(self) -> None:
        if self.live > 0 and self.blocked == self.live and self.on_deadlock is not None:
            self.on_deadlock()

    def __repr__(self) -> str:
        return f"LivenessMonitor(live={self.live}, blocked={self.blocked})"
