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
the engine detect a deadlock the moment it happens.
"""

from __future__ import annotations

import asyncio
from typing import Any

import anyio
from pureflow.core.liveness import NodeFlow, blocking_flow

_current_task = asyncio.current_task


def _on_asyncio() -> bool:
    """True inside an asyncio task (not under trio, nor in trio's guest mode on an
    asyncio host, where trio code runs outside any asyncio task)."""
    try:
        return _current_task() is not None
    except RuntimeError:  # no asyncio loop running in this thread
        return False


class Waiter:
    """A one-shot wake-up. ``granted`` is set by an edge that handed this waiter a slot.

    ``blocks`` says whether the wait can block a node for deadlock detection: True for
    port operations (only another node can end them), False for a wait that the outside
    world ends (a cancellation token: Ctrl-C, a caller's handle).
    """

    __slots__ = ("_blocks", "_event", "_flow", "granted", "woken")

    def __init__(self, *, blocks: bool = True) -> None:
        self._event: Any = None  # an asyncio future or an anyio.Event, once waiting
        self._blocks = blocks
        self._flow: NodeFlow | None = None  # the node counted as blocked by this wait
        self.woken = False
        self.granted = False

    def wake(self) -> None:
        """Wake the waiting task (idempotent)."""
        if not self.woken:
            self.woken = True
            flow = self._flow
            if flow is not None:
                self._flow = None
                flow.resume()
            event = self._event
            if event is not None:
                if isinstance(event, asyncio.Future):
                    if not event.done():
                        event.set_result(None)
                else:
                    event.set()

    async def wait(self) -> None:
        """Suspend until :meth:`wake` (returns at once if already woken).

        Cancellation of the surrounding scope propagates; the caller unregisters the
        waiter in a ``finally``.
        """
        if self.woken:
            return
        flow = blocking_flow() if self._blocks else None
        if flow is not None:
            self._flow = flow
            flow.suspend()  # may find the run deadlocked: the engine is told, not us
        try:
            if _on_asyncio():
                future = self._event = asyncio.get_running_loop().create_future()
                await future
            else:
                event = self._event = anyio.Event()
                await event.wait()
        finally:
            flow = self._flow
            if flow is not None:  # abandoned (cancelled) before it was woken
                self._flow = None
                flow.resume()
