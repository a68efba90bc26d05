"""The in-process edge: a deque of packets and batches, counted in packets.

:class:`BoundedChannel` implements :class:`~pureflow.core.edges.Edge` for an edge whose
two ends live in one event loop. It is deliberately synchronous: every state change
happens in a plain method call with no ``await``, so an operation that need not wait
completes without touching the event loop, and cancellation can never split a take from
its return or a reservation across a fan-out. The ports do the waiting: they register a
:class:`~pureflow.core._waiter.Waiter` here (and with the cancellation token) and suspend
only when an operation must wait.

State and invariants (capacity and every count are in packets; a queued batch of n
packets is one item and n packets):

* ``depth`` (queued) + ``reserved`` (slots held by permits and granted waiters) <=
  ``capacity``; ``room()`` = ``limit - depth``, where ``limit`` is ``capacity -
  reserved`` while the receiver is open and 0 once it left;
* ``senders``: open sender references; the edge is *finished* when it drops to zero, and
  *at end of stream* once it is also drained (nothing queued, nothing reserved);
* ``receiver_closed``: the consumer left; queued items were handed back to it for
  ``dropped`` records, and later commits are refused (reported as dropped by the sender);
* send waiters form a FIFO. A freed slot is *handed* to the first waiter (``granted``),
  so a waiter never loses its turn to a producer that arrives later, and while any
  waiter is queued the channel has no room. A waiter that gives up after being granted
  gives the slot back, which hands it on;
* receive waiters are all woken on every push and when the last sender closes (there is
  normally one; several tasks may share an input port).
"""

from __future__ import annotations

from collections import deque

from pureflow.core._waiter import Waiter
from pureflow.core.batch import Batch
from pureflow.core.edges.protocol import EdgeItem
from pureflow.core.packets import MessageRoute, Packet


class BoundedChannel:
    """A bounded single-consumer edge of ``capacity`` >= 1 packets.

    ``route`` is the route a packet on this edge carries (the output ports stamp it on
    each packet they send); it is None for anonymous edges, whose packets keep their own.
    ``senders`` is the initial number of sender references (normally 1).
    """

    __slots__ = (
        "_items",
        "_recv_waiters",
        "_send_waiters",
        "capacity",
        "depth",
        "dropped",
        "limit",
        "popped",
        "pushed",
        "receiver_closed",
        "recv_waits",
        "reserved",
        "route",
        "send_waits",
        "senders",
    )

    def __init__(
        self, capacity: int, route: MessageRoute | None = None, *, senders: int = 1
    ) -> None:
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
            raise ValueError(f"edge capacity must be an integer >= 1, got {capacity!r}")
        self.capacity = capacity
        self.route = route
        self._items: deque[EdgeItem] = deque()
        self.depth = 0
        """Packets queued now (a plain attribute: ports read it on every fan-in receive)."""
        self.reserved = 0
        self.limit = capacity
        """``capacity - reserved`` while the receiver is open, 0 once it left (so one
        subtraction answers "how much may I send now?")."""
        self.senders = senders
        self.receiver_closed = False
        self.pushed = 0
        self.popped = 0
        self.dropped = 0
        self.send_waits = 0
        self.recv_waits = 0
        self._recv_waiters: list[Waiter] = []
        self._send_waiters: deque[Waiter] = deque()

    # --- queries ----------------------------------------------------------------------

    def __len__(self) -> int:
        return self.depth

    def room(self) -> int:
        """Packets that may be pushed now (0 after the receiver left or while a send
        waiter is queued)."""
        return self.limit - self.depth

    @property
    def is_finished(self) -> bool:
        """No open sender references remain (items may still be queued)."""
        return self.senders == 0

    @property
    def at_end_of_stream(self) -> bool:
        """Finished and drained: nothing can ever be received again."""
        return self.receiver_closed or (
            self.senders == 0 and not self._items and self.reserved == 0
        )

    @property
    def send_waiter_count(self) -> int:
        return len(self._send_waiters)

    def items(self) -> list[EdgeItem]:
        """The queued items, oldest first (a copy; for diagnostics and tests)."""
        return list(self._items)

    # --- sender side ------------------------------------------------------------------

    def push(self, item: EdgeItem) -> None:
        """Queue a packet or a batch without a reservation; only when :meth:`room` holds
        all of it (the ports' no-wait path)."""
        count = 1 if isinstance(item, Packet) else len(item)
        item._held = self
        self._items.append(item)
        self.depth += count
        self.pushed += count
        if self._recv_waiters:
            self._wake_receivers()

    def offer(self, packet: Packet) -> bool:
        """Queue one packet if there is room now, with this edge's route (stamped in place
        when nobody holds the packet, else on a copy); False, nothing changed, if not."""
        if self.depth >= self.limit:
            return False
        route = self.route
        if packet._held is not None:  # queued somewhere already: this edge gets a copy
            packet = packet._copy(packet.route if route is None else route)
        elif route is not None:
            packet.route = route
        packet._held = self
        self._items.append(packet)
        self.depth += 1
        self.pushed += 1
        if self._recv_waiters:
            self._wake_receivers()
        return True

    def try_reserve(self) -> bool:
        """Take a slot if one is free (never after the receiver left)."""
        if self.depth < self.limit:
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

    def commit(self, item: EdgeItem) -> bool:
        """Turn a reserved slot (plus room for the rest of a batch) into a queued item.
        Returns False (nothing queued, slot freed) when the receiver has left."""
        self.reserved -= 1
        if self.receiver_closed:
            return False
        self.limit += 1
        self.push(item)
        return True

    def add_sender(self) -> None:
        self.senders += 1

    def close_sender(self) -> None:
        """Drop one sender reference; the last one finishes the edge and wakes receivers."""
        if self.senders > 0:
            self.senders -= 1
            if self.senders == 0 and self._recv_waiters:
                self._wake_receivers()

    def add_send_waiter(self, waiter: Waiter) -> None:
        self.send_waits += 1
        self._send_waiters.append(waiter)

    def remove_send_waiter(self, waiter: Waiter) -> None:
        waiters = self._send_waiters
        if waiter in waiters:
            waiters.remove(waiter)

    def _grant(self) -> None:
        waiters = self._send_waiters
        while waiters and self.depth < self.limit:
            waiter = waiters.popleft()
            self.reserved += 1
            self.limit -= 1
            waiter.granted = True
            waiter.wake()

    # --- receiver side ----------------------------------------------------------------

    def peek(self) -> Packet | None:
        """The next packet without taking it (for a queued batch: its first packet)."""
        items = self._items
        if not items:
            return None
        head = items[0]
        if isinstance(head, Packet):
            return head
        return head[0]

    def drop_head(self) -> None:
        """Take the packet :meth:`peek` returned."""
        items = self._items
        head = items[0]
        if isinstance(head, Packet):
            items.popleft()
            head._held = None
        else:
            head._lo += 1
            if head._lo == head._hi:
                items.popleft()
        self._taken(1)

    def take(self) -> Packet | None:
        """Take the next packet (``None`` when nothing is queued)."""
        items = self._items
        if not items:
            return None
        head = items[0]
        if isinstance(head, Packet):
            items.popleft()
        else:
            packet = head._pop_packet()
            if not len(head):
                items.popleft()
            head = packet
        head._held = None
        self.depth -= 1
        self.popped += 1
        if self._send_waiters:
            self._grant()
        return head

    def take_many(self, limit: int) -> Batch | None:
        """Up to ``limit`` packets: the head batch (split when larger than ``limit``), or
        the run of single packets at the head."""
        items = self._items
        if not items:
            return None
        head = items[0]
        if not isinstance(head, Packet):
            batch: Batch = head
            if len(batch) <= limit:
                items.popleft()
                batch._held = None
            else:
                batch = batch._split(limit)
            self._taken(len(batch))
            return batch
        packets: list[Packet] = []
        append = packets.append
        popleft = items.popleft
        while items and len(packets) < limit and isinstance(items[0], Packet):
            packet: Packet = popleft()  # type: ignore[assignment]
            packet._held = None
            append(packet)
        self._taken(len(packets))
        return Batch.of_packets(packets)

    def _taken(self, count: int) -> None:
        self.depth -= count
        self.popped += count
        if self._send_waiters:
            self._grant()

    def add_recv_waiter(self, waiter: Waiter) -> None:
        self.recv_waits += 1
        self._recv_waiters.append(waiter)

    def remove_recv_waiter(self, waiter: Waiter) -> None:
        waiters = self._recv_waiters
        if waiter in waiters:
            waiters.remove(waiter)

    def _wake_receivers(self) -> None:
        waiters, self._recv_waiters = self._recv_waiters, []
        for waiter in waiters:
            waiter.wake()

    def close_receiver(self) -> list[EdgeItem]:
        """The consumer leaves: refuse later items, wake every send waiter, and return the
        items that were queued (for ``dropped`` records). Idempotent."""
        if self.receiver_closed:
            return []
        self.receiver_closed = True
        self.limit = 0
        dropped = list(self._items)
        self._items.clear()
        self.depth = 0
        for item in dropped:
            item._held = None
        waiters, self._send_waiters = self._send_waiters, deque()
        for waiter in waiters:
            waiter.wake()
        if self._recv_waiters:
            self._wake_receivers()
        return dropped

    def __repr__(self) -> str:
        return (
            f"BoundedChannel(capacity={self.capacity}, queued={self.depth}, "
            f"reserved={self.reserved}, senders={self.senders}, "
            f"receiver_closed={self.receiver_closed})"
        )
