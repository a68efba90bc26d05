"""The one wait primitive every blocking operation uses: a one-shot :class:`Waiter`.

A waiter is registered with everything that may end the wait (edges, a cancellation
token), then awaited. Whoever changes state calls :meth:`Waiter.wake`; the waiting task
resumes and re-examines the state. The object a task really suspends on is created only
when it suspends, so waiters (and the tokens and edges that hold them) can be built
outside an event loop, and the no-wait fast paths never allocate one.

On asyncio the waiter suspends on a bare future of the running loop (what
``anyio.Event`` does underneath, minus its layers: about half the cost of a suspension
on a busy edge); on any other backend (trio) it uses an ``anyio.Event``. Cancellation of
the surrounding anyio scope reaches either the same way.

Waking is synchronous and cheap; it must happen on the event loop thread.

A waiter that suspends on behalf of a node's main flow (:mod:`pureflow.core.liveness`)
counts that node as blocked until it is woken or the wait is abandoned, which is what lets
the engine detect a deadlock as soon as it happens. When the liveness monitor asks, the
waiter resumes once to check whether its wait has a deadline, then waits again.
"""

from __future__ import annotations

from asyncio import Future, _get_running_loop
from asyncio import current_task as _asyncio_current_task
from typing import Any

import anyio
from pureflow.core.liveness import NodeFlow, current_flow, has_deadline


class Waiter:
    """A one-shot wake-up. ``granted`` is set by an edge that handed this waiter a slot.

    ``blocks`` says whether the wait can block a node for deadlock detection: True for
    port operations (only another node can end them), False for a wait that the outside
    world ends (a cancellation token: Ctrl-C, a caller's handle).
    """

    __slots__ = ("_blocks", "_check", "_event", "_flow", "checked", "granted", "woken")

    def __init__(self, *, blocks: bool = True) -> None:
        self._event: Any = None  # an asyncio future or an anyio.Event, once waiting
        self._blocks = blocks
        self._flow: NodeFlow | None = None  # the node counted as blocked by this wait
        self._check = False  # the liveness monitor asked this wait to check its deadline
        self.checked = False  # it did: it has none (a block, not a sleep)
        self.woken = False
        self.granted = False

    def wake(self) -> None:
        """Wake the waiting task (idempotent)."""
        if not self.woken:
            self.woken = True
            flow = self._flow
            if flow is not None:
                self._flow = None
                flow.resume(self)
            self._resolve()

    def _resolve(self) -> None:
        event = self._event
        if event is not None:
            if isinstance(event, Future):
                if not event.done():
                    event.set_result(None)
            else:
                event.set()

    def request_check(self) -> None:
        """Resume the waiting task for it to check whether its wait has a deadline (the
        liveness monitor asks when every live node looks blocked); it then waits again."""
        if not self._check and not self.woken:
            self._check = True
            self._resolve()

    async def wait(self) -> None:
        """Suspend until :meth:`wake` (returns at once if already woken).

        Cancellation of the surrounding scope propagates; the caller unregisters the
        waiter in a ``finally``.
        """
        if self.woken:
            return
        # On asyncio: the running task, which both picks the bare future and names the
        # node flow (None under trio, and in trio's guest mode on an asyncio host).
        loop = _get_running_loop()
        task = _asyncio_current_task(loop) if loop is not None else None
        flow = current_flow(task) if self._blocks else None
        try:
            while not self.woken:  # woken, or asked to check (below), or cancelled
                event: Any = (
                    loop.create_future() if loop is not None and task is not None else anyio.Event()
                )
                self._event = event
                if flow is not None:
                    # Counted from here until woken (unchecked: see pureflow.core.liveness);
                    # this may find every node blocked and ask this very wait to check.
                    self._flow = flow
                    flow.suspend(self)
                    flow = None
                if task is not None:
                    await event
                else:
                    await event.wait()
                if self._check and not self.woken:  # the liveness monitor asks: a deadline?
                    self._check = False
                    counted = self._flow
                    if counted is not None:
                        if has_deadline():  # a sleep: stop counting it
                            self._flow = None
                            counted.resume(self)
                        else:
                            self.checked = True
                            counted.monitor.checked_out()
        finally:
            counted = self._flow
            if counted is not None:  # abandoned (cancelled) before it was woken
                self._flow = None
                counted.resume(self)
