"""The bounded edge: a FIFO deque, a slot count, and two waiter queues.

:class:`BoundedChannel` is the single-consumer edge between one output port and one input
port. It is deliberately synchronous: every state change happens in plain method calls
with no ``await``, so an operation that need not wait completes without touching the
event loop, and cancellation can never split a pop from its return or a reservation
across a fan-out. The ports (:mod:`pureflow.core.ports`) do the waiting: they register a
:class:`~pureflow.core._waiter.Waiter` with the edges (and the cancellation token) and
suspend only when an operation must wait.

State and invariants:

* ``queue`` (committed items) + ``reserved`` (slots held by permits) <= ``capacity``;
* ``senders``: open sender references; the edge is *finished* when it drops to zero, and
  *at end of stream* once it is also drained (no queued items, no reserved slots);
* ``receiver_closed``: the consumer left; queued items were handed back to it for a
  ``dropped`` record, and later commits are refused (reported as dropped by the sender);
* send waiters form a FIFO. A freed slot is *handed* to the first waiter (``granted``),
  so a waiter never loses its turn to a producer that arrives later, and while any
  waiter is queued the channel has no free slot. A waiter that gives up after being
  granted gives the slot back, which hands it on.
* receive waiters are all woken on every push and when the last sender closes (there is
  normally one; several tasks may share an input port).
"""

from __future__ import annotations

from collections import deque
from typing import Generic, TypeVar

from pureflow.core._waiter import Waiter
from pureflow.core.packets import MessageRoute

T = TypeVar("T")


class BoundedChannel(Generic[T]):
    """A bounded single-consumer edge of ``capacity`` >= 1 slots.

    ``route`` is the route a packet on this edge carries (the output ports stamp it on
    each copy they send); it is None for anonymous edges, whose packets keep their own.
    ``senders`` is the initial number of sender references (normally 1).
    """

    __slots__ = (
        "_recv_waiters",
        "_send_waiters",
        "capacity",
        "dropped",
        "limit",
        "popped",
        "pushed",
        "queue",
        "receiver_closed",
        "reserved",
        "route",
        "senders",
    )

    def __init__(
        self, capacity: int, route: MessageRoute | None = None, *, senders: int = 1
    ) -> None:
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
            raise ValueError(f"edge capacity must be an integer >= 1, got {capacity!r}")
        self.capacity = capacity
        self.route = route
        self.queue: deque[T] = deque()
        self.reserved = 0
        self.limit = capacity
        """Queue length below which a slot is free: ``capacity - reserved`` while the
        receiver is open, 0 once it left (so one comparison answers "can I send now?")."""
        self.senders = senders
        self.receiver_closed = False
        self.pushed = 0
        """Items queued so far."""
        self.popped = 0
        """Items received so far."""
        self.dropped = 0
        """Items lost because the receiver left (counted by the ports)."""
        self._recv_waiters: list[Waiter] = []
        self._send_waiters: deque[Waiter] = deque()

    # --- queries ----------------------------------------------------------------------

    def __len__(self) -> int:
        """The number of queued (committed, not yet received) items."""
        return len(self.queue)

    @property
    def queued_count(self) -> int:
        return len(self.queue)

    def has_room(self) -> bool:
        """True if a slot is free right now and the receiver is open (no waiter can be
        queued then)."""
        return len(self.queue) < self.limit

    @property
    def is_finished(self) -> bool:
        """No open sender references remain (items may still be queued)."""
        return self.senders == 0

    @property
    def at_end_of_stream(self) -> bool:
        """Finished and drained: nothing can ever be received again."""
        return self.receiver_closed or (self.senders == 0 and not self.queue and self.reserved == 0)

    @property
    def send_waiter_count(self) -> int:
        return len(self._send_waiters)

    # --- sender side ------------------------------------------------------------------

    def try_reserve(self) -> bool:
        """Take a slot if one is free (never after the receiver left)."""
        if len(self.queue) < self.limit:
            self.reserved += 1
            self.limit -= 1
            return True
        return False

    def release(self) -> None:
        """Give back a reserved slot without sending (hands it to the next waiter)."""
        self.reserved -= 1
        if not self.receiver_closed:
            self.limit += 1
        if self._send_waiters:
            self._grant()
        elif self.senders == 0 and self.reserved == 0 and self._recv_waiters:
            self._wake_receivers()

    def commit(self, item: T) -> bool:
        """Turn a reserved slot into a queued item. Returns False (item not queued, slot
        freed) when the receiver has left."""
        self.reserved -= 1
        if self.receiver_closed:
            return False
        self.limit += 1
        self.queue.append(item)
        self.pushed += 1
        if self._recv_waiters:
            self._wake_receivers()
        return True

    def push(self, item: T) -> None:
        """Queue an item without a reservation; only when :meth:`has_room` (the ports'
        fast path)."""
        self.queue.append(item)
        self.pushed += 1
        if self._recv_waiters:
            self._wake_receivers()

    def add_sender(self) -> None:
        self.senders += 1

    def close_sender(self) -> None:
        """Drop one sender reference; the last one finishes the edge and wakes receivers."""
        if self.senders > 0:
            self.senders -= 1
            if self.senders == 0 and self._recv_waiters:
                self._wake_receivers()

    def add_send_waiter(self, waiter: Waiter) -> None:
        self._send_waiters.append(waiter)

    def remove_send_waiter(self, waiter: Waiter) -> None:
        waiters = self._send_waiters
        if waiter in waiters:
            waiters.remove(waiter)

    def _grant(self) -> None:
        waiters = self._send_waiters
        while waiters and len(self.queue) < self.limit:
            waiter = waiters.popleft()
            self.reserved += 1
            self.limit -= 1
            waiter.granted = True
            waiter.wake()

    # --- receiver side ----------------------------------------------------------------

    def pop(self) -> T:
        """Remove and return the oldest item (``IndexError`` if none). Frees a slot."""
        item = self.queue.popleft()
        self.popped += 1
        if self._send_waiters:
            self._grant()
        return item

    def add_recv_waiter(self, waiter: Waiter) -> None:
        self._recv_waiters.append(waiter)

    def remove_recv_waiter(self, waiter: Waiter) -> None:
        waiters = self._recv_waiters
        if waiter in waiters:
            waiters.remove(waiter)

    def _wake_receivers(self) -> None:
        waiters, self._recv_waiters = self._recv_waiters, []
        for waiter in waiters:
            waiter.wake()

    def close_receiver(self) -> list[T]:
        """The consumer leaves: refuse later items, wake every send waiter, and return the
        items that were queued (for ``dropped`` records). Idempotent."""
        if self.receiver_closed:
            return []
        self.receiver_closed = True
        self.limit = 0
        dropped = list(self.queue)
        self.queue.clear()
        waiters, self._send_waiters = self._send_waiters, deque()
        for waiter in waiters:
            waiter.wake()
        if self._recv_waiters:
            self._wake_receivers()
        return dropped

    def __repr__(self) -> str:
        return (
            f"BoundedChannel(capacity={self.capacity}, queued={len(self.queue)}, "
            f"reserved={self.reserved}, senders={self.senders}, "
            f"receiver_closed={self.receiver_closed})"
        )
