"""The output port: ``packet``/``batch`` to build, ``send``/``send_many``/``reserve`` to send.

Every send goes through one no-wait core, :meth:`OutputPort._send_now`: the whole packet
or batch onto every edge of the port when each has room now (and the token, the yield
budget, the validator and the port allow it); otherwise the waiting form takes over,
which reserves a slot on every live edge (all or nothing, FIFO per edge) and commits.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from typing import Any, Final, Protocol, runtime_checkable

from anyio.lowlevel import checkpoint
from pureflow.core._waiter import Waiter
from pureflow.core.batch import Batch, column_of, numbered_id_limit
from pureflow.core.edges import Edge, EdgeItem
from pureflow.core.errors import PortSendError
from pureflow.core.packets import (
    MessageEndpoint,
    MessageRoute,
    Packet,
    PacketPayload,
    PayloadKind,
    _kind_value,
    payload_of,
)
from pureflow.core.ports.base import Port
from pureflow.core.scheduling import CHECKPOINT_INTERVAL, YieldBudget
from pureflow.types import MAX_IDENTIFIER_LEN, MessageId, PortId
from pureflow.workflow import PortDirection

_INTERVAL: Final = CHECKPOINT_INTERVAL
_BYTES: Final = PayloadKind.BYTES
_CONTROL: Final = PayloadKind.CONTROL
_new_object = object.__new__


@runtime_checkable
class OutputPacketValidator(Protocol):
    """Checks a packet when it is committed to an output port.

    ``validate`` raises :class:`PortSendError` (normally ``REJECTED``) to refuse the
    packet; the reservation is then released and nothing is sent.
    """

    def validate(self, port_id: PortId, packet: Packet) -> None: ...


def for_edge(item: EdgeItem, route: MessageRoute | None, copy_control: bool) -> EdgeItem:
    """What ``item`` is on an edge of ``route``: the item itself with the route stamped in
    place when nobody holds it (a fresh or received packet), else a copy; the copies of a
    fan-out after the first get their own control values (``copy_control``)."""
    if isinstance(item, Packet):
        packet: Packet = item
        if copy_control:
            packet = packet._fanout_copy()
        elif packet._held is not None:
            packet = packet._copy(packet.route)
        if route is not None:
            packet.route = route
        return packet
    return item._routed(route, copy_control)


def _size(item: EdgeItem) -> int:
    return 1 if isinstance(item, Packet) else len(item)


class OutputPort(Port):
    """One declared output port.

    ``packet(value)`` / ``batch(values)`` build packets from this node and port;
    ``send(packet)`` sends one to every edge of the port, waiting for room on each;
    ``send_many(packets)`` sends a batch (or a list of packets) as one item per edge;
    ``reserve()`` holds room on every edge for a synchronous commit later. A port whose
    consumers have all left raises ``DISCONNECTED``; a fan-out port whose consumers have
    partly left still delivers to the others and records each lost copy as ``dropped``.
    A declared port without edges accepts and drops packets (recorded). Sending hands a
    packet over (see "Ownership" in :mod:`pureflow.core.packets`).
    """

    __slots__ = (
        "_execution",
        "_mid_limit",
        "_mid_prefix",
        "_own_route",
        "_seq",
        "_validator",
        "_workflow_id",
    )
    direction = PortDirection.OUTPUT

    def __init__(
        self, port_id: PortId, edges: Sequence[Edge], budget: YieldBudget | None = None
    ) -> None:
        self._validator: OutputPacketValidator | None = None
        super().__init__(port_id, edges, budget)
        self._seq = 0
        self._forget_stamp()

    def _forget_stamp(self) -> None:
        # What packet() stamps on every packet, worked out by its first call for the
        # current context: the message id prefix ``{node}-{port}-``, the first number
        # whose id would be too long, the workflow id, the execution and the route.
        self._mid_prefix = ""
        self._mid_limit = 0
        self._workflow_id: Any = None
        self._execution: Any = None
        self._own_route: MessageRoute | None = None

    def _bind(self, context: Any, cancel: Any, sink: Any) -> None:
        super()._bind(context, cancel, sink)
        self._forget_stamp()

    def _refresh(self) -> None:
        super()._refresh()
        if self._validator is not None:
            self._plain = None  # every packet is validated: the long way

    def _set_validator(self, validator: OutputPacketValidator | None) -> None:
        self._validator = validator
        self._refresh()

    # --- building packets -------------------------------------------------------------

    def _stamp(self) -> None:
        """Work out what :meth:`packet` stamps (needs the node context)."""
        context = self._context
        if context is None:
            raise RuntimeError(f"output port `{self.port_id}` has no node context")
        edges = self._edges
        if edges and edges[0].route is not None:
            route = edges[0].route
        else:
            here = MessageEndpoint(context.node_id, self.port_id)
            route = MessageRoute(here, here)
        self._own_route = route
        self._workflow_id = context.workflow_id
        self._execution = context.execution
        self._mid_prefix = f"{context.node_id}-{self.port_id}-"
        self._mid_limit = numbered_id_limit(self._mid_prefix)

    def packet(self, value: object, *, message_id: str | None = None) -> Packet:
        """A packet from this port, in the node's workflow and execution, carrying
        ``value``: a :class:`PacketPayload`, or a plain value whose type picks the kind
        (bytes and ``str``: bytes; JSON data: control; anything else: structured; see
        :func:`~pureflow.core.packets.payload_of`).

        The message id defaults to ``{node}-{port}-{n}`` (n = 0, 1, ... per port); the
        route is the first edge's (a port without edges addresses the packet to
        itself). Needs the node context the runtime attaches.
        """
        seq = self._seq
        if message_id is None and seq < self._mid_limit:
            # The hot path: everything but the number was worked out by an earlier call.
            self._seq = seq + 1
            packet: Packet = _new_object(Packet)
            packet._mid = self._mid_prefix
            packet._seq = seq
            packet._held = None
            packet._tags = None
            packet.workflow_id = self._workflow_id
            packet.execution = self._execution
            packet.route = self._own_route  # type: ignore[assignment]  # set with the limit
            cls = value.__class__
            if cls is bytes:
                # _kind_value's first answer without its call (the natural rows of
                # benchmarks/README.md build every packet from bytes).
                packet._kind = _BYTES
                packet._value = value
                packet._payload = None
            elif cls is PacketPayload:
                payload: PacketPayload = value  # type: ignore[assignment]  # checked above
                packet._kind = payload.kind
                packet._value = payload.value
                packet._payload = payload
            else:
                packet._kind, packet._value = _kind_value(value)
                packet._payload = None
            return packet
        return self._packet_slow(value, message_id)

    def _packet_slow(self, value: object, message_id: str | None) -> Packet:
        if self._own_route is None:
            self._stamp()
        payload = payload_of(value)
        if message_id is None:
            if self._seq >= self._mid_limit:
                raise ValueError(
                    f"output port `{self.port_id}`: message id {self._mid_prefix}{self._seq} "
                    f"would be longer than {MAX_IDENTIFIER_LEN} bytes"
                )
            return self.packet(payload)
        return Packet.create(
            message_id,
            self._workflow_id,
            self._execution,
            self._own_route,  # type: ignore[arg-type]  # set by _stamp
            payload,
        )

    def batch(self, values: Iterable[object]) -> Batch:
        """A batch from this port: one packet per value (kinds chosen as :meth:`packet`
        chooses them), numbered ids as :meth:`packet` gives them, one envelope header.
        Send it with :meth:`send_many`."""
        column = values if isinstance(values, list) else list(values)
        if self._own_route is None:
            self._stamp()
        seq = self._seq
        if seq + len(column) > self._mid_limit:
            raise ValueError(
                f"output port `{self.port_id}`: message id "
                f"{self._mid_prefix}{seq + len(column) - 1} would be longer than "
                f"{MAX_IDENTIFIER_LEN} bytes"
            )
        kind, payloads = column_of(column)
        self._seq = seq + len(column)
        return Batch.numbered(
            self._mid_prefix,
            seq,
            self._workflow_id,
            self._execution,
            self._own_route,  # type: ignore[arg-type]  # set by _stamp
            kind,
            payloads,
        )

    # --- sending ----------------------------------------------------------------------

    def _send_now(self, item: EdgeItem, size: int) -> bool:
        """The no-wait send: ``item`` (``size`` packets) onto every edge of the port, each
        with its route, recorded before it moves. False, with nothing sent, when the
        send must wait, yield first, be validated, or go the long way (a cancelled
        token, a closed port, no edges)."""
        budget = self._budget
        if (
            budget.spent >= _INTERVAL
            or self._cancel.request is not None
            or self._validator is not None
            or self._closed
        ):
            return False
        edges = self._edges
        rec = self._rec
        if len(edges) == 1:
            edge = edges[0]
            if rec is None and isinstance(item, Packet):
                if not edge.offer(item):
                    return False
                budget.spent += 1
                return True
            if edge.room() < size:
                return False
            copy = for_edge(item, edge.route, copy_control=False)
            if rec is not None:
                rec.sent((copy,))
            edge.push(copy)
        else:
            if not edges:
                return False
            for edge in edges:
                if edge.room() < size:
                    return False
            if rec is None and isinstance(item, Packet):
                # Every edge has room: the packet to the first, a fan-out copy to each
                # other, each offered as it is made (no list, no for_edge: the fan-out
                # rows of benchmarks/README.md send every packet this way). Offering the
                # packet an edge holds already makes that edge's copy, so only a control
                # value needs its own copy made here.
                if item._kind is not _CONTROL:
                    for edge in edges:
                        edge.offer(item)
                else:
                    copy = item
                    last = edges[-1]
                    for edge in edges:
                        edge.offer(copy)
                        if edge is not last:
                            copy = item._fanout_copy()
                budget.spent += 1
                return True
            copies = [
                for_edge(item, edge.route, copy_control=index > 0)
                for index, edge in enumerate(edges)
            ]
            if rec is not None:
                rec.sent(copies)
            for edge, copy in zip(edges, copies, strict=True):
                edge.push(copy)
        budget.spent += 1
        return True

    async def send(self, packet: Packet) -> None:
        """Send ``packet`` to every live edge, waiting for room on each.

        Raises ``CANCELLED`` (token), ``DISCONNECTED`` (every consumer left), ``REJECTED``
        (the validator), ``TypeError`` for something that is not a packet, and
        ``RuntimeError`` after :meth:`close`.
        """
        if not isinstance(packet, Packet):
            raise TypeError(
                f"send takes a Packet, not {type(packet).__name__}: build one with "
                "port.packet(value) (or send a Batch with send_many)"
            )
        edge = self._plain
        if edge is not None:
            # The common case, first: one edge and nothing to do but queue the packet.
            budget = self._budget
            if budget.spent < _INTERVAL and self._cancel.request is None and edge.offer(packet):
                budget.spent += 1
                return
        elif self._send_now(packet, 1):
            return
        await self._send_wait(packet)

    async def _send_wait(self, item: EdgeItem) -> None:
        """Send one packet (or a whole batch of packets as one chunk when no edge is
        wired) the long way: reserve, maybe wait, commit."""
        if self._cancel.request is not None:
            raise PortSendError.cancelled(self.port_id)
        self._check_open()
        rec = self._rec
        if rec is not None:
            rec.reserve_attempted()
        held, dead = await self._acquire()
        self._commit(item, held, dead)

    async def send_many(self, packets: Batch | Iterable[Packet]) -> None:
        """Send a batch, or packets, in order, each edge getting them as one item.

        A :class:`~pureflow.core.batch.Batch` goes as it is; a list (or any iterable) of
        packets goes as a batch of those packets. When an edge has room for only part of
        it, the part that fits goes at once and the rest waits for room (a batch larger
        than an edge's capacity is split as room frees up); backpressure counts packets
        either way. Records per packet, as :meth:`send` does. Stops at the first error
        (the packets before it were sent).
        """
        batch = packets if isinstance(packets, Batch) else Batch.of_packets(packets)
        size = len(batch)
        if size == 0 or self._send_now(batch, size):
            return
        await self._send_batch_wait(batch)

    async def _send_batch_wait(self, batch: Batch) -> None:
        """Send ``batch`` in chunks: what every edge has room for goes at once, then one
        slot is waited for on every edge, and that slot plus the room then free goes."""
        while len(batch):
            edges = self._edges
            if not edges:
                await self._send_wait(batch)
                return
            room = min(edge.room() for edge in edges)
            if 0 < room < len(batch) and self._send_now(batch._split(room), room):
                continue
            if room >= len(batch) and self._send_now(batch, len(batch)):
                return
            if self._cancel.request is not None:
                raise PortSendError.cancelled(self.port_id)
            self._check_open()
            rec = self._rec
            if rec is not None:
                rec.reserve_attempted()
            held, dead = await self._acquire()
            extra = min((edge.room() for edge in held), default=0)
            count = min(len(batch), 1 + max(extra, 0))
            if count == len(batch):
                self._commit(batch, held, dead)
                return
            self._commit(batch._split(count), held, dead)

    def try_send(self, packet: Packet) -> None:
        """Send without waiting: raises ``FULL`` if any live edge has no free slot."""
        self.try_reserve().send(packet)

    async def reserve(self) -> SendPermit:
        """Wait until every live edge has a slot for this port, hold one slot on each,
        and return the permit. Use it as a context manager: leaving the block without
        :meth:`SendPermit.send` releases the slots."""
        if self._cancel.request is not None:
            raise PortSendError.cancelled(self.port_id)
        self._check_open()
        rec = self._rec
        if rec is not None:
            rec.reserve_attempted()
        held, dead = await self._acquire()
        return SendPermit(self, held, dead)

    def try_reserve(self) -> SendPermit:
        """Reserve without waiting: all edges or none; raises ``FULL`` or
        ``DISCONNECTED``."""
        if self._cancel.request is not None:
            raise PortSendError.cancelled(self.port_id)
        self._check_open()
        rec = self._rec
        if rec is not None:
            rec.reserve_attempted()
        held: list[Edge] = []
        dead: list[Edge] = []
        edges = self._edges
        if edges and all(edge.receiver_closed for edge in edges):
            raise PortSendError.disconnected(self.port_id)
        for edge in edges:
            if edge.receiver_closed:
                dead.append(edge)
            elif edge.try_reserve():
                held.append(edge)
            else:
                for taken in held:
                    taken.release()
                if rec is not None:
                    rec.reserve_full()
                raise PortSendError.full(self.port_id)
        if rec is not None:
            try:
                rec.reserve_ready()
            except BaseException:  # a sink that cannot write: give the slots back
                for taken in held:
                    taken.release()
                raise
        return SendPermit(self, held, dead)

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"output port `{self.port_id}` is closed")

    async def _acquire(self) -> tuple[list[Edge], list[Edge]]:
        """Hold one slot on every live edge (edge order, FIFO per edge), recorded as
        ``reserve_ready``. Whatever fails on the way (cancellation, a sink that cannot
        write) releases the slots held so far: a leaked slot would keep the receiver
        waiting for a packet that never comes."""
        budget = self._budget
        held: list[Edge] = []
        dead: list[Edge] = []
        edges = self._edges
        if budget.spent >= _INTERVAL and all(
            edge.receiver_closed or edge.room() > 0 for edge in edges
        ):
            # Nothing to wait for: yield now, holding nothing, then look again.
            budget.spent = 0
            await checkpoint()
            if self._cancel.request is not None:
                raise PortSendError.cancelled(self.port_id)
        budget.spent += 1
        rec = self._rec
        if not edges:
            if rec is not None:
                rec.reserve_ready()
            return held, dead
        if all(edge.receiver_closed for edge in edges):
            raise PortSendError.disconnected(self.port_id)
        full_reported = False
        try:
            for edge in edges:
                if edge.receiver_closed:
                    dead.append(edge)
                elif edge.try_reserve():
                    held.append(edge)
                else:
                    if not full_reported:
                        full_reported = True
                        if self._rec is not None:
                            self._rec.reserve_full()
                    if await self._wait_for_slot(edge):
                        held.append(edge)
                    else:
                        dead.append(edge)
            if rec is not None and held:
                rec.reserve_ready()
        except BaseException:
            for edge in held:
                edge.release()
            raise
        if not held:
            raise PortSendError.disconnected(self.port_id)
        return held, dead

    async def _wait_for_slot(self, edge: Edge) -> bool:
        """Wait for a slot on ``edge``: True once held, False if its consumer left."""
        budget = self._budget
        cancel = self._cancel
        while True:
            if edge.receiver_closed:
                return False
            if edge.try_reserve():
                return True
            waiter = Waiter()
            edge.add_send_waiter(waiter)
            cancel.add(waiter)
            self._waiting = True
            budget.spent = 0
            try:
                await waiter.wait()
            except BaseException:
                if waiter.granted:
                    edge.release()
                raise
            finally:
                self._waiting = False
                cancel.discard(waiter)
                if not waiter.granted:
                    edge.remove_send_waiter(waiter)
            budget.spent = 0
            if cancel.request is not None:
                if waiter.granted:
                    edge.release()
                raise PortSendError.cancelled(self.port_id)
            if waiter.granted:
                return True

    def _commit(self, item: EdgeItem, held: list[Edge], dead: list[Edge]) -> None:
        """Queue ``item`` on the edges holding a slot for it (recorded first); copies for
        edges whose consumer left are dropped and recorded so."""
        validator = self._validator
        if validator is not None:
            try:
                for packet in (item,) if isinstance(item, Packet) else item:
                    validator.validate(self.port_id, packet)
            except BaseException:
                for edge in held:
                    edge.release()
                raise
        rec = self._rec
        if not held and not dead:
            if rec is not None:
                rec.send_dropped(item)
            return
        copies = [
            for_edge(item, edge.route, copy_control=index > 0) for index, edge in enumerate(held)
        ]
        size = _size(item)
        if rec is not None:
            delivered = [c for c, e in zip(copies, held, strict=True) if not e.receiver_closed]
            lost = [c for c, e in zip(copies, held, strict=True) if e.receiver_closed]
            lost.extend(for_edge(item, edge.route, copy_control=True) for edge in dead)
            try:
                rec.committed(delivered, lost)
            except BaseException:  # nothing queued: give the slots back (see _acquire)
                for edge in held:
                    edge.release()
                raise
        for edge, copy in zip(held, copies, strict=True):
            if not edge.commit(copy):
                edge.dropped += size
        for edge in dead:
            edge.dropped += size

    def close(self) -> None:
        """Drop this port's sender reference on each edge. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._plain = None
        for edge in self._edges:
            edge.close_sender()

    def __repr__(self) -> str:
        return f"OutputPort({str(self.port_id)!r}, edges={len(self._edges)})"


def _message_id(text: str) -> MessageId:
    # Built from a valid node id and port id joined by "-" and digits: only the length
    # can be wrong, so skip the full validation when it fits.
    if len(text) <= MAX_IDENTIFIER_LEN and (
        text.isascii() or len(text.encode("utf-8")) <= MAX_IDENTIFIER_LEN
    ):
        return str.__new__(MessageId, text)
    return MessageId(text)


class SendPermit:
    """Slots reserved on every live edge of one output port.

    :meth:`send` commits synchronously (no ``await``, no cancellation check) and can be
    called once; :meth:`abort` releases the slots. As a context manager the permit aborts
    on exit unless it was used. A permit dropped unused releases its slots when it is
    garbage-collected, as a backstop.
    """

    __slots__ = ("_dead", "_done", "_held", "_port")

    def __init__(self, port: OutputPort, held: list[Edge], dead: list[Edge]) -> None:
        self._port = port
        self._held = held
        self._dead = dead
        self._done = False

    @property
    def port_id(self) -> PortId:
        return self._port.port_id

    @property
    def edge_count(self) -> int:
        """The number of edges holding a slot for this permit."""
        return len(self._held)

    @property
    def used(self) -> bool:
        return self._done

    def send(self, packet: Packet) -> None:
        """Commit ``packet`` to every reserved edge (``REJECTED`` if the validator
        refuses it; the slots are released either way)."""
        if self._done:
            raise RuntimeError("send permit already used")
        self._done = True
        self._port._commit(packet, self._held, self._dead)

    def abort(self) -> None:
        """Release the slots without sending. Idempotent."""
        if not self._done:
            self._done = True
            for edge in self._held:
                edge.release()

    def __enter__(self) -> SendPermit:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.abort()

    def __del__(self) -> None:
        if not self._done:
            with contextlib.suppress(Exception):  # best effort, from the garbage collector
                self.abort()
