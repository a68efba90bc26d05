"""The edge protocol: all a port may do with an edge.

Capacity is counted in packets: a batch of n packets takes n slots, whether it is queued
as one item or not, so backpressure means the same for packets sent one by one and for
batches. Every method is synchronous and must be called on the event loop thread; the
ports do the waiting, with :class:`~pureflow.core._waiter.Waiter` objects the edge wakes.

Invariants an implementation keeps: ``depth + reserved <= capacity``; a freed slot goes
to the oldest send waiter first (it is reserved for it and the waiter woken with
``granted`` set), so :meth:`Edge.room` is 0 while any send waiter is queued; once the
receiver has left, :meth:`Edge.room` is 0 and commits are refused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, TypeAlias

from pureflow.core._waiter import Waiter
from pureflow.core.packets import MessageRoute, Packet

if TYPE_CHECKING:
    from pureflow.core.batch import Batch

EdgeItem: TypeAlias = "Packet | Batch"
"""What an edge queues: one packet, or a batch of them."""


class Edge(Protocol):
    """A bounded single-consumer edge, as ports see it.

    ``route`` is stamped on every packet sent over the edge (``None`` for an anonymous
    edge, whose packets keep their own). The counters (packets, not items) serve the
    watchdog, the deadlock diagnostic, progress displays and edge statistics.
    """

    capacity: int
    route: MessageRoute | None
    pushed: int
    """Packets queued so far."""
    popped: int
    """Packets taken off so far."""
    dropped: int
    """Packets lost because the receiver had left (counted by the ports)."""
    send_waits: int
    """Times a sender had to wait for room."""
    recv_waits: int
    """Times a receiver had to wait for data."""

    # --- state ---------------------------------------------------------------------------

    @property
    def depth(self) -> int:
        """Packets queued now (committed, not yet taken)."""
        ...

    @property
    def reserved(self) -> int:
        """Slots held by reservations (permits, granted waiters)."""
        ...

    @property
    def receiver_closed(self) -> bool: ...

    @property
    def is_finished(self) -> bool:
        """No sender is left (packets may still be queued)."""
        ...

    @property
    def at_end_of_stream(self) -> bool:
        """Nothing can ever be taken again: finished and drained, or the receiver left."""
        ...

    def room(self) -> int:
        """Packets that may be pushed now without waiting (0 once the receiver left, and
        while a send waiter is queued)."""
        ...

    # --- the sending side -------------------------------------------------------------

    def push(self, item: EdgeItem) -> None:
        """Queue a packet or a batch; only when ``room()`` holds all of it."""
        ...

    def offer(self, packet: Packet) -> bool:
        """The no-wait send of one packet: queued with the edge's route when there is room
        (stamped in place on a packet nobody holds, else on a copy), else False and
        nothing changed."""
        ...

    def try_reserve(self) -> bool:
        """Hold one slot if one is free (never after the receiver left)."""
        ...

    def release(self) -> None:
        """Give back a held slot without sending."""
        ...

    def commit(self, item: EdgeItem) -> bool:
        """Queue ``item`` in a held slot (plus ``room()`` for a batch of more than one
        packet). False (nothing queued, the slot freed) when the receiver has left."""
        ...

    def add_send_waiter(self, waiter: Waiter) -> None: ...

    def remove_send_waiter(self, waiter: Waiter) -> None: ...

    def add_sender(self) -> None: ...

    def close_sender(self) -> None:
        """Drop one sender reference; the last one finishes the edge."""
        ...

    # --- the receiving side -----------------------------------------------------------

    def peek(self) -> Packet | None:
        """The next packet without taking it (``None`` when nothing is queued)."""
        ...

    def drop_head(self) -> None:
        """Take the packet :meth:`peek` returned (nothing may have changed since)."""
        ...

    def take(self) -> Packet | None:
        """Take the next packet (``None`` when nothing is queued)."""
        ...

    def take_many(self, limit: int) -> Batch | None:
        """Take up to ``limit`` packets at once (``None`` when nothing is queued): a
        queued batch comes back as it was sent (split when larger than ``limit``),
        packets queued one by one come back together."""
        ...

    def add_recv_waiter(self, waiter: Waiter) -> None: ...

    def remove_recv_waiter(self, waiter: Waiter) -> None: ...

    def close_receiver(self) -> list[EdgeItem]:
        """The receiver leaves: later commits are refused, every waiter is woken, and the
        queued items are returned (for ``dropped`` records). Idempotent."""
        ...
