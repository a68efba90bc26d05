"""The input port: ``recv``, ``recv_many``, ``try_recv``, ``async for`` and ``batches``.

Every receive goes through one no-wait core, :meth:`InputPort._take_now`: a packet when
one is queued, the node's token is not cancelled and the yield budget allows; otherwise
the waiting form (:meth:`InputPort._recv_wait`) takes over, which yields, waits, or ends
the stream. ``recv_many`` has the same pair for batches.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Final, NoReturn

from anyio.lowlevel import checkpoint
from pureflow.core._waiter import Waiter
from pureflow.core.batch import Batch
from pureflow.core.edges import Edge, EdgeItem
from pureflow.core.errors import PortRecvError
from pureflow.core.packets import Packet
from pureflow.core.ports.base import Port
from pureflow.core.scheduling import CHECKPOINT_INTERVAL
from pureflow.workflow import PortDirection

_INTERVAL: Final = CHECKPOINT_INTERVAL


class InputPort(Port):
    """One declared input port.

    ``recv()`` returns the next packet, waiting if none is queued, or ``None`` at end of
    stream (every upstream sender finished and the edges drained); ``async for packet in
    port`` iterates until then. ``recv_many(n)`` returns up to ``n`` packets at once as a
    :class:`~pureflow.core.batch.Batch` (empty at end of stream); ``batches(n)`` iterates
    over them. Cancellation of the node's token raises ``PortRecvError`` ``CANCELLED``
    (checked before data is looked at, and while waiting); cancellation of an enclosing
    anyio scope propagates untouched and takes nothing. A fan-in port serves its edges in
    turn, starting after the edge that delivered last.
    """

    __slots__ = ()
    direction = PortDirection.INPUT

    # --- which edge ---------------------------------------------------------------------

    def _ready(self) -> Edge | None:
        """The next edge with a queued packet, rotating the start for fairness."""
        edges = self._edges
        count = len(edges)
        if count == 1:
            edge = edges[0]
            return edge if edge.depth else None
        if not count:
            return None
        start = index = self._rr
        while True:
            edge = edges[index]
            index += 1
            if index == count:
                index = 0
            if edge.depth:
                self._rr = index
                return edge
            if index == start:
                return None

    def _any_queued(self) -> bool:
        """True when some edge of the port has a queued packet (rotation untouched)."""
        return any(edge.depth for edge in self._edges)

    def at_end_of_stream(self) -> bool:
        """True when nothing can be received any more: every edge finished and drained
        (or this side closed). True from the start for a port without edges."""
        if self._closed:
            return True
        return all(edge.at_end_of_stream for edge in self._edges)

    # --- one packet -----------------------------------------------------------------------

    def _take_now(self) -> Packet | None:
        """The no-wait receive: the next packet, recorded before it leaves its edge; or
        ``None`` when the receive must wait, yield first, or find the end of the stream.
        Raises ``CANCELLED`` when the node's token is cancelled."""
        if self._cancel.request is not None:
            self._refuse()
        budget = self._budget
        if budget.spent >= _INTERVAL:
            return None
        plain = self._plain
        if plain is not None:
            packet = plain.take()
            if packet is not None:
                budget.spent += 1
            return packet
        rec = self._rec
        edge = self._ready()
        if edge is None:
            return None
        budget.spent += 1
        if rec is None:
            return edge.take()
        packet = edge.peek()
        assert packet is not None
        rec.received(packet, self.queued_count())
        edge.drop_head()
        return packet

    def _refuse(self) -> NoReturn:
        """A receive on a cancelled node: recorded as attempted, then ``CANCELLED``."""
        if self._rec is not None:
            self._rec.receive_attempted(self.queued_count())
        raise PortRecvError.cancelled(self.port_id)

    async def recv(self) -> Packet | None:
        """The next packet, waiting if none is queued; ``None`` at end of stream."""
        packet = self._take_now()
        if packet is not None:
            return packet
        return await self._recv_wait()

    def __aiter__(self) -> AsyncIterator[Packet]:
        return self

    async def __anext__(self) -> Packet:
        plain = self._plain
        budget = self._budget
        if plain is not None and budget.spent < _INTERVAL and self._cancel.request is None:
            # _take_now's first case, inline: one call less per packet received (every
            # per-item row of benchmarks/README.md receives with ``async for``).
            packet = plain.take()
            if packet is not None:
                budget.spent += 1
                return packet
        else:
            packet = self._take_now()
            if packet is not None:
                return packet
        packet = await self._recv_wait()
        if packet is None:
            raise StopAsyncIteration
        return packet

    async def _recv_wait(self) -> Packet | None:
        """A receive that could not complete at once: yield, wait, or end the stream."""
        edge = await self._wait_ready()
        if edge is None:
            return None
        return self._take_ready(edge)

    def _take_ready(self, edge: Edge) -> Packet:
        """Take the next packet of ``edge`` (it has one) after a wait: recorded as
        ``receive_ready`` and ``dequeued`` before it leaves the edge."""
        rec = self._rec
        if rec is None:
            packet = edge.take()
        else:
            packet = edge.peek()
            assert packet is not None
            rec.receive_ready(packet, self.queued_count())
            edge.drop_head()
        assert packet is not None
        return packet

    async def _wait_ready(self) -> Edge | None:
        """The edge to take from once the receive may (after yielding or waiting), or
        ``None`` at end of stream. Records ``receive_attempted`` (and ``receive_closed``
        at the end)."""
        cancel = self._cancel
        if cancel.request is not None:
            raise PortRecvError.cancelled(self.port_id)
        rec = self._rec
        if rec is not None:
            rec.receive_attempted(self.queued_count())
        budget = self._budget
        edges = self._edges
        while True:
            if budget.spent >= _INTERVAL and self._any_queued():
                # Yield before taking: a cancelled checkpoint has taken nothing (and the
                # fan-in rotation has not moved).
                budget.spent = 0
                await checkpoint()
            elif (ready := self._ready()) is not None:
                budget.spent += 1
                return ready
            elif self.at_end_of_stream():
                if rec is not None:
                    rec.receive_closed(self.queued_count())
                return None
            else:
                waiter = Waiter()
                for edge in edges:
                    edge.add_recv_waiter(waiter)
                cancel.add(waiter)
                self._waiting = True
                budget.spent = 0
                try:
                    await waiter.wait()
                finally:
                    self._waiting = False
                    cancel.discard(waiter)
                    for edge in edges:
                        edge.remove_recv_waiter(waiter)
                budget.spent = 0
            if cancel.request is not None:
                raise PortRecvError.cancelled(self.port_id)

    def try_recv(self) -> Packet | None:
        """A queued packet, or ``None`` right away (use :meth:`at_end_of_stream` to tell
        "nothing yet" from "nothing ever"). Raises ``CANCELLED`` like :meth:`recv`."""
        if self._cancel.request is not None:
            self._refuse()
        rec = self._rec
        edge = self._ready()
        if edge is not None:
            if rec is None:
                return edge.take()
            packet = edge.peek()
            assert packet is not None
            rec.received(packet, self.queued_count())
            edge.drop_head()
            return packet
        if rec is not None:
            rec.receive_attempted(0)
            if self.at_end_of_stream():
                rec.receive_closed(0)
            else:
                rec.receive_empty(0)
        return None

    # --- many packets ---------------------------------------------------------------------

    def _take_many_now(self, max_items: int) -> Batch | None:
        """The no-wait receive of up to ``max_items`` packets (see :meth:`_take_now`)."""
        if self._cancel.request is not None:
            self._refuse()
        budget = self._budget
        if budget.spent >= _INTERVAL:
            return None
        edge = self._ready()
        if edge is None:
            return None
        budget.spent += 1
        rec = self._rec
        queued = self.queued_count() if rec is not None else 0
        batch = edge.take_many(max_items)
        if rec is not None and batch is not None:
            # Recorded once taken: a sink failing here fails the node, which loses them.
            rec.received(batch, queued)
        return batch

    async def recv_many(self, max_items: int) -> Batch:
        """Wait for at least one packet, then take what is queued, up to ``max_items``, as
        one :class:`~pureflow.core.batch.Batch`: a batch that was sent as one comes back as
        one (its head, when it is larger), packets sent one by one come back together;
        a fan-in port takes from one edge per call, in turn. An empty batch at end of
        stream. Records ``receive_attempted`` once, then ``receive_ready`` and
        ``dequeued`` per packet."""
        if max_items < 1:
            raise ValueError("max_items must be >= 1")
        batch = self._take_many_now(max_items)
        if batch is not None:
            return batch
        edge = await self._wait_ready()
        if edge is None:
            return Batch.of_packets(())
        rec = self._rec
        queued = self.queued_count() if rec is not None else 0
        taken = edge.take_many(max_items)
        assert taken is not None
        if rec is not None:
            rec.receive_ready(taken, queued)
        return taken

    async def batches(self, max_items: int) -> AsyncIterator[Batch]:
        """``async for batch in port.batches(64)``: :meth:`recv_many` until the end of the
        stream."""
        while batch := await self.recv_many(max_items):
            yield batch

    # --- leaving --------------------------------------------------------------------------

    def close(self) -> None:
        """Leave: producers see the edges as disconnected, queued packets are discarded
        with a ``dropped`` record each. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._plain = None
        dropped: list[EdgeItem] = []
        for edge in self._edges:
            lost = edge.close_receiver()
            edge.dropped += sum(1 if isinstance(item, Packet) else len(item) for item in lost)
            dropped.extend(lost)
        if dropped and self._rec is not None:
            self._rec.dropped(dropped)

    def __repr__(self) -> str:
        return f"InputPort({str(self.port_id)!r}, edges={len(self._edges)})"
