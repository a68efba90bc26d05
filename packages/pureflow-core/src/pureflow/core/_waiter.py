"""The one wait primitive every blocking operation uses: a one-shot :class:`Waiter`.

A waiter is registered with everything that may end the wait (edges, a cancellation
token), then awaited. Whoever changes state calls :meth:`Waiter.wake`; the waiting task
resumes and re-examines the state. The ``anyio.Event`` behind a waiter is created only
when a task really suspends, so waiters (and the tokens and edges that hold them) can be
built outside an event loop, and the no-wait fast paths never allocate one.

Waking is synchronous and cheap; it must happen on the event loop thread.
"""

from __future__ import annotations

import anyio


class Waiter:
    """A one-shot wake-up. ``granted`` is set by an edge that handed this waiter a slot."""

    __slots__ = ("_event", "granted", "woken")

    def __init__(self) -> None:
        self._event: anyio.Event | None = None
        self.woken = False
        self.granted = False

    def wake(self) -> None:
        """Wake the waiting task (idempotent)."""
        if not self.woken:
            self.woken = True
            event = self._event
            if event is not None:
                event.set()

    async def wait(self) -> None:
        """Suspend until :meth:`wake` (returns at once if already woken).

        Cancellation of the surrounding scope propagates; the caller unregisters the
        waiter in a ``finally``.
        """
        if self.woken:
            return
        event = self._event = anyio.Event()
        await event.wait()
