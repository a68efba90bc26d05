"""Input and output ports: how a node receives and sends packets over bounded edges.

A node gets a :class:`PortsIn` and a :class:`PortsOut` holding one :class:`InputPort` /
:class:`OutputPort` per declared port, in declaration order. Operations go through the
collection (``await inputs.recv("in")``) or through a bound port object, which skips the
lookup (``out = outputs["cleaned"]; await out.send(packet)``). An undeclared port id
raises :class:`~pureflow.core.errors.PortRecvError` / ``PortSendError`` ``UNKNOWN_PORT``
and writes no record.

**End of stream** has one meaning: every upstream sender of the port has closed and its
edges are drained. ``recv`` then returns ``None`` (``recv_many`` an empty list, iteration
stops, ``recv_any`` returns ``None`` once every port has ended). A declared port with no
edges is at end of stream from the start. Nothing ever reports end of stream as an error.

**Cancellation** is an exception, never an end-of-stream value. When the node's
cancellation token is cancelled, every operation that checks it raises ``Cancelled``
(``PortRecvError``/``PortSendError``), and every operation blocked on the node's ports
wakes at once to do so. ``recv`` checks the token before looking at data, so a cancelled
node receives nothing more. A permit's commit (:meth:`SendPermit.send`) is synchronous
and never checks the token. Cancellation of an enclosing anyio scope propagates as the
backend's cancellation exception, untouched; an operation cancelled that way has no
effect (a receive pops nothing, a reservation holds no slot).

**Waiting and fairness.** An operation suspends only when it must wait; otherwise it
completes synchronously. Every :data:`CHECKPOINT_INTERVAL` operations a port yields to
the scheduler once, so a node that never has to wait still lets the others run.
Producers blocked on an edge are served first-come first-served (a freed slot is handed
to the oldest waiter). ``recv_any`` rotates its starting port after every delivery and a
fan-in port rotates its starting edge, so a busy port or edge cannot starve another.

**Sending.** ``send`` = reserve one slot on every live edge of the port, then commit a
copy to each. Reservation is all-or-nothing: a blocked ``send``/``reserve`` holds no
slot when it fails or is cancelled. Each copy carries its own edge's route (source =
this node and port, target = that edge's target); control payloads are deep-copied for
every edge after the first. A port whose consumers have all left raises
``DISCONNECTED``; a fan-out port whose consumers have partly left still delivers to the
others and reports each lost copy with a ``dropped`` message record. A declared port with
no edges accepts and drops packets (``send_dropped`` + ``dropped`` records).

**Closing.** ``close()`` (idempotent) on an output port drops its sender reference: the
edge ends for its consumer once every sender has closed and the queue is drained. On an
input port it tells producers the consumer has left; packets still queued are discarded
with a ``dropped`` record each, and later sends to that edge are dropped and recorded the
same way. The runtime closes both collections in a ``finally`` when a node ends.

**Metadata.** With a sink attached, operations write queue-pressure and message records
(data tier). Blocked operations write exactly one ``reserve_attempted`` +
``reserve_full`` pair (or one ``receive_attempted``) per call, however long they wait;
``recv_any`` writes ``receive_closed`` at most once per port per call. When the sink keeps
no data records (the null sink, a control-only tiered sink) ports build no record at all:
the check happens once, when the sink is attached. With a plain JSONL sink, ports build
the lines themselves from cached fragments, and an operation that need not wait hands all
its lines over as one text before the packet moves. Sink failures propagate as
:class:`~pureflow.core.errors.MetadataError`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import Any, Final, Protocol, Self, runtime_checkable

from anyio.lowlevel import checkpoint
from pureflow.core._waiter import Waiter
from pureflow.core.channel import BoundedChannel
from pureflow.core.context import CancellationToken, NodeContext, _CancelSlot
from pureflow.core.errors import PortRecvError, PortSendError
from pureflow.core.metadata.records import (
    QUEUE_PRESSURE_LINE_TAIL,
    MessageBoundaryKind,
    MessageRecord,
    QueuePressureKind,
    QueuePressureRecord,
    message_line_parts,
    queue_pressure_line_head,
)
from pureflow.core.metadata.sinks import JsonlMetadataSink, MetadataSink, sink_records_data
from pureflow.core.packets import (
    MessageEndpoint,
    MessageRoute,
    Packet,
    PacketPayload,
    PayloadKind,
)
from pureflow.types import MAX_IDENTIFIER_LEN, MessageId, PortId
from pureflow.workflow import PortDirection

CHECKPOINT_INTERVAL: Final = 128
"""Port operations that may complete without yielding to the scheduler in a row.

The count is process-wide and restarts whenever a port operation suspends (a task that
suspended let the others run), so a balanced pipeline rarely pays for a checkpoint while a
task that never has to wait still yields at least every this many operations.
"""

_unyielded = 0
_new_object = object.__new__
_CONTROL_KIND: Final = PayloadKind.CONTROL
_encode_str: Any = encode_basestring  # the encoder json.dumps uses with ensure_ascii=False
_QP_TAIL: Final = QUEUE_PRESSURE_LINE_TAIL
_UNSET: Final[Any] = object()
_SEND_LINES: Final = "send"  # cache key: the three constant queue-pressure lines of a send

_INPUT: Final = PortDirection.INPUT
_OUTPUT: Final = PortDirection.OUTPUT
_RECEIVE_ATTEMPTED: Final = QueuePressureKind.RECEIVE_ATTEMPTED
_RECEIVE_READY: Final = QueuePressureKind.RECEIVE_READY
_RECEIVE_EMPTY: Final = QueuePressureKind.RECEIVE_EMPTY
_RECEIVE_CLOSED: Final = QueuePressureKind.RECEIVE_CLOSED
_RESERVE_ATTEMPTED: Final = QueuePressureKind.RESERVE_ATTEMPTED
_RESERVE_READY: Final = QueuePressureKind.RESERVE_READY
_RESERVE_FULL: Final = QueuePressureKind.RESERVE_FULL
_SEND_COMMITTED: Final = QueuePressureKind.SEND_COMMITTED
_SEND_DROPPED: Final = QueuePressureKind.SEND_DROPPED
_ENQUEUED: Final = MessageBoundaryKind.ENQUEUED
_DEQUEUED: Final = MessageBoundaryKind.DEQUEUED
_DROPPED: Final = MessageBoundaryKind.DROPPED

Edge = BoundedChannel[Packet]


@runtime_checkable
class OutputPacketValidator(Protocol):
    """Checks a packet when it is committed to an output port.

    ``validate`` raises :class:`PortSendError` (normally ``REJECTED``) to refuse the
    packet; the reservation is then released and nothing is sent.
    """

    def validate(self, port_id: PortId, packet: Packet) -> None: ...


# --- handles --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _PortHandle:
    """One port id and the edges it is wired to (the same for both directions)."""

    port_id: PortId
    channels: tuple[Edge, ...] = ()

    @classmethod
    def disconnected(cls, port_id: str) -> Self:
        return cls(PortId(port_id))

    @property
    def connected_edge_count(self) -> int:
        return len(self.channels)

    @property
    def capacity(self) -> int | None:
        """The first edge's capacity, or None without edges."""
        return self.channels[0].capacity if self.channels else None


@dataclass(frozen=True, slots=True)
class InputPortHandle(_PortHandle):
    """The receiving ends of some edges, for one input port id."""


@dataclass(frozen=True, slots=True)
class OutputPortHandle(_PortHandle):
    """The sending ends of some edges (one sender reference each), for one output port."""


def bounded_edge_channel(
    output_port_id: str,
    input_port_id: str,
    capacity: int,
    *,
    route: MessageRoute | None = None,
) -> tuple[OutputPortHandle, InputPortHandle]:
    """One bounded edge (``capacity`` >= 1, else ``ValueError``) as a pair of handles.

    ``route`` is stamped on every packet sent over the edge; without it packets keep the
    route their producer gave them.
    """
    channel: Edge = BoundedChannel(capacity, route)
    return (
        OutputPortHandle(PortId(output_port_id), (channel,)),
        InputPortHandle(PortId(input_port_id), (channel,)),
    )


# --- ports ----------------------------------------------------------------------------


class _Port:
    """State shared by input and output ports."""

    __slots__ = (
        "_cancel",
        "_capacity_sum",
        "_closed",
        "_context",
        "_edges",
        "_lines",
        "_mk_execution",
        "_mk_head",
        "_mk_kind",
        "_mk_prefix",
        "_mk_prefix_json",
        "_mk_route",
        "_mk_tail",
        "_mk_workflow",
        "_qp_heads",
        "_qp_request",
        "_recording",
        "_rr",
        "_sink",
        "_waiting",
        "port_id",
    )

    def __init__(self, port_id: PortId, edges: Sequence[Edge]) -> None:
        self.port_id = port_id
        self._edges: tuple[Edge, ...] = tuple(edges)
        self._capacity_sum: int | None = (
            sum(ch.capacity for ch in self._edges) if self._edges else None
        )
        self._rr = 0
        self._cancel = _CancelSlot()
        self._context: NodeContext | None = None
        self._sink: Any = None
        self._recording = False
        self._closed = False
        self._waiting = False
        self._forget_lines(None)

    def _forget_lines(self, lines: JsonlMetadataSink | None) -> None:
        # The direct JSONL path: with a plain JSONL sink (no stamping) the data records'
        # lines are built here from cached fragments and handed over as text, without
        # record objects. ``_qp_heads`` caches the queue-pressure heads per kind for the
        # cancellation request ``_qp_request`` (the context's state is part of the line);
        # ``_mk_*`` the message-line fragments of the last kind/route/execution/workflow.
        self._lines = lines
        self._qp_heads: dict[Any, str] = {}
        self._qp_request: Any = _UNSET
        self._mk_kind: Any = None
        self._mk_route: Any = None
        self._mk_execution: Any = None
        self._mk_workflow: Any = None
        self._mk_head = ""
        self._mk_tail = ""
        self._mk_prefix: Any = None
        self._mk_prefix_json = ""

    def _bind(
        self, context: NodeContext | None, cancel: _CancelSlot, sink: MetadataSink | None
    ) -> None:
        self._context = context
        self._cancel = cancel
        self._sink = sink
        self._recording = recording = sink_records_data(sink)
        direct = recording and type(sink) is JsonlMetadataSink and sink.accepts_lines
        self._forget_lines(sink if direct else None)  # type: ignore[arg-type]

    def _heads(self) -> dict[Any, str]:
        """The line fragments cached for the current cancellation state of the node
        context (a new, empty cache when the state changed since the last call)."""
        context = self._context
        request = None if context is None else context._token._slot.request
        if request is not self._qp_request:
            self._qp_heads = {}
            self._qp_request = request
        return self._qp_heads

    def _qp_head(self, kind: QueuePressureKind, direction: PortDirection) -> str:
        """The cached queue-pressure line head of ``kind`` for the current cancellation
        state of the node context."""
        heads = self._heads()
        head = heads.get(kind)
        if head is None:
            head = heads[kind] = queue_pressure_line_head(
                kind,
                direction,
                self.port_id,
                self._context,
                self._qp_request,
                len(self._edges),
                self._capacity_sum,
            )
        return head

    def _msg(self, kind: MessageBoundaryKind, packet: Packet) -> None:
        """Record a message boundary of ``packet``."""
        lines = self._lines
        if lines is None:
            self._sink.record(MessageRecord.from_packet(kind, packet))
        else:
            lines._line(self._msg_line(kind, packet))

    def _msg_line(self, kind: MessageBoundaryKind, packet: Packet) -> str:
        """The JSONL line of a message record (direct JSONL path only)."""
        message_id = self._msg_id(kind, packet)
        return f"{self._mk_head}{message_id}{self._mk_tail}"

    def _msg_id(self, kind: MessageBoundaryKind, packet: Packet) -> str:
        """The encoded message id of ``packet``'s ``kind`` line; ``_mk_head`` and
        ``_mk_tail`` are then the text before and after it."""
        route = packet.route
        execution = packet.execution
        workflow = packet.workflow_id
        if (
            kind is not self._mk_kind
            or route is not self._mk_route
            or execution is not self._mk_execution
            or workflow is not self._mk_workflow
        ):
            self._mk_head, self._mk_tail = message_line_parts(kind, workflow, execution, route)
            self._mk_kind = kind
            self._mk_route = route
            self._mk_execution = execution
            self._mk_workflow = workflow
        seq = packet._seq
        if seq is None:
            return _encode_str(packet._mid)  # type: ignore[no-any-return]
        # A numbered id ``{prefix}{seq}``: digits need no escaping, so the prefix is
        # encoded once (without its closing quote) and the number appended.
        prefix = packet._mid
        if prefix is not self._mk_prefix:
            self._mk_prefix = prefix
            self._mk_prefix_json = _encode_str(prefix)[:-1]
        return f'{self._mk_prefix_json}{seq}"'

    @property
    def edges(self) -> tuple[Edge, ...]:
        """The port's edges, in declaration order."""
        return self._edges

    @property
    def connected_edge_count(self) -> int:
        return len(self._edges)

    @property
    def capacity(self) -> int | None:
        """The first edge's capacity (the original's accessor), or None without edges."""
        return self._edges[0].capacity if self._edges else None

    @property
    def total_capacity(self) -> int | None:
        """The sum of the edge capacities (what records report), or None without edges."""
        return self._capacity_sum

    @property
    def is_waiting(self) -> bool:
        """True while an operation on this port is suspended (for diagnostics)."""
        return self._waiting

    @property
    def closed(self) -> bool:
        """True once this side called ``close()``."""
        return self._closed

    def queued_count(self) -> int:
        """Packets queued across the port's edges."""
        return sum(len(ch.queue) for ch in self._edges)


class InputPort(_Port):
    """One declared input port: ``recv``, ``try_recv``, ``recv_many``, ``async for``."""

    __slots__ = ()
    direction: Final = _INPUT

    def _qp_line(self, kind: QueuePressureKind) -> str:
        """The JSONL line of a queue-pressure record (direct JSONL path only)."""
        head = self._qp_head(kind, _INPUT)
        edges = self._edges
        queued = len(edges[0].queue) if len(edges) == 1 else sum(len(ch.queue) for ch in edges)
        return f"{head}{queued}{_QP_TAIL}"

    def _received(self, packet: Packet) -> None:
        """Record ``receive_ready`` and ``dequeued`` for ``packet`` (when recording)."""
        lines = self._lines
        if lines is None:
            self._qp(_RECEIVE_READY)
            self._sink.record(MessageRecord.from_packet(_DEQUEUED, packet))
        else:
            lines._line(self._qp_line(_RECEIVE_READY) + self._msg_line(_DEQUEUED, packet), 2)

    def _qp(self, kind: QueuePressureKind) -> None:
        lines = self._lines
        if lines is not None:
            lines._line(self._qp_line(kind))
            return
        self._sink.record(
            QueuePressureRecord(
                kind,
                _INPUT,
                self.port_id,
                self._context,
                len(self._edges),
                self._capacity_sum,
                sum(len(ch.queue) for ch in self._edges),
            )
        )

    def _ready(self) -> Edge | None:
        """The next edge with a queued packet, rotating the start for fairness."""
        edges = self._edges
        count = len(edges)
        if count == 1:
            edge = edges[0]
            return edge if edge.queue else None
        start = self._rr
        for offset in range(count):
            index = (start + offset) % count
            edge = edges[index]
            if edge.queue:
                self._rr = (index + 1) % count
                return edge
        return None

    def _any_queued(self) -> bool:
        """True when some edge of the port has a queued packet (rotation untouched)."""
        return any(edge.queue for edge in self._edges)

    def at_end_of_stream(self) -> bool:
        """True when nothing can be received any more: every edge finished and drained
        (or this side closed). True from the start for a port without edges."""
        if self._closed:
            return True
        return all(ch.at_end_of_stream for ch in self._edges)

    def _take_logged(self) -> Packet | None:
        """A receive that need not wait, on the direct JSONL path: its three records
        (``receive_attempted``, ``receive_ready``, ``dequeued``) go to the sink as one
        text *before* the packet leaves the edge, so a failing sink loses no packet.
        ``None`` when the port does not record that way, or must wait, yield or raise
        (the general path then handles the receive)."""
        global _unyielded  # noqa: PLW0603 - the process-wide yield budget
        lines = self._lines
        if lines is None or _unyielded >= CHECKPOINT_INTERVAL or self._cancel.request is not None:
            return None
        edges = self._edges
        if len(edges) == 1:
            edge = edges[0]
            queue = edge.queue
            queued = len(queue)
            if not queued:
                return None
        else:
            next_edge = self._ready()
            if next_edge is None:
                return None
            edge = next_edge
            queue = edge.queue
            queued = sum(len(ch.queue) for ch in edges)
        _unyielded += 1
        packet = queue[0]
        # _heads(), inlined: a call per operation costs about 7% on the JSONL rows.
        context = self._context
        request = None if context is None else context._token._slot.request
        heads = self._qp_heads if request is self._qp_request else self._heads()
        attempted = heads.get(_RECEIVE_ATTEMPTED) or self._qp_head(_RECEIVE_ATTEMPTED, _INPUT)
        ready = heads.get(_RECEIVE_READY) or self._qp_head(_RECEIVE_READY, _INPUT)
        message_id = self._msg_id(_DEQUEUED, packet)
        lines._line(
            f"{attempted}{queued}{_QP_TAIL}{ready}{queued - 1}{_QP_TAIL}"
            f"{self._mk_head}{message_id}{self._mk_tail}",
            3,
        )
        queue.popleft()
        edge.popped += 1
        if edge._send_waiters:
            edge._grant()
        return packet

    def _take(self, edge: Edge) -> Packet:
        packet = edge.pop()
        if self._recording:
            self._received(packet)
        return packet

    async def recv(self) -> Packet | None:
        """The next packet, waiting if none is queued; ``None`` at end of stream.

        Raises ``PortRecvError`` ``CANCELLED`` when the node's token is cancelled (checked
        before data is looked at, and while waiting).
        """
        global _unyielded  # noqa: PLW0603 - the process-wide yield budget
        if self._recording:
            logged = self._take_logged()
            if logged is not None:
                return logged
            self._qp(_RECEIVE_ATTEMPTED)
        if self._cancel.request is not None:
            raise PortRecvError.cancelled(self.port_id)
        if _unyielded < CHECKPOINT_INTERVAL:
            edges = self._edges
            if len(edges) == 1:
                edge: Edge | None = edges[0]
                if not edge.queue:  # type: ignore[union-attr]
                    edge = None
            else:
                edge = self._ready()
            if edge is not None:
                _unyielded += 1
                packet = edge.queue.popleft()
                edge.popped += 1
                if edge._send_waiters:
                    edge._grant()
                if self._recording:
                    self._received(packet)
                return packet
        return await self._recv_wait()

    async def _recv_wait(self) -> Packet | None:
        global _unyielded  # noqa: PLW0603 - the process-wide yield budget
        cancel = self._cancel
        edges = self._edges
        while True:
            if _unyielded >= CHECKPOINT_INTERVAL and self._any_queued():
                # Yield before taking: a cancelled checkpoint has popped nothing (and the
                # fan-in rotation has not moved).
                _unyielded = 0
                await checkpoint()
            elif (ready := self._ready()) is not None:
                _unyielded += 1
                return self._take(ready)
            elif self.at_end_of_stream():
                if self._recording:
                    self._qp(_RECEIVE_CLOSED)
                return None
            else:
                waiter = Waiter()
                for edge in edges:
                    edge._recv_waiters.append(waiter)
                cancel.add(waiter)
                self._waiting = True
                _unyielded = 0
                try:
                    await waiter.wait()
                finally:
                    self._waiting = False
                    cancel.discard(waiter)
                    for edge in edges:
                        edge.remove_recv_waiter(waiter)
                _unyielded = 0
            if cancel.request is not None:
                raise PortRecvError.cancelled(self.port_id)

    def try_recv(self) -> Packet | None:
        """A queued packet, or ``None`` right away (use :meth:`at_end_of_stream` to tell
        "nothing yet" from "nothing ever"). Raises ``CANCELLED`` like :meth:`recv`."""
        if self._recording:
            self._qp(_RECEIVE_ATTEMPTED)
        if self._cancel.request is not None:
            raise PortRecvError.cancelled(self.port_id)
        edge = self._ready()
        if edge is not None:
            return self._take(edge)
        if self._recording:
            self._qp(_RECEIVE_CLOSED if self.at_end_of_stream() else _RECEIVE_EMPTY)
        return None

    async def recv_many(self, max_items: int) -> list[Packet]:
        """Wait for at least one packet, then take every queued one up to ``max_items``.

        Returns an empty list at end of stream. Records: one ``receive_attempted``, then
        ``receive_ready`` + ``dequeued`` per packet.
        """
        global _unyielded  # noqa: PLW0603 - the process-wide yield budget
        if max_items < 1:
            raise ValueError("max_items must be >= 1")
        edges = self._edges
        if (
            len(edges) == 1
            and not self._recording
            and _unyielded < CHECKPOINT_INTERVAL
            and self._cancel.request is None
        ):
            # The fast path: take the queued packets in one step, free their slots at once.
            edge = edges[0]
            queue = edge.queue
            count = len(queue)
            if count:
                _unyielded += 1
                if count <= max_items:
                    items = list(queue)
                    queue.clear()
                else:
                    popleft = queue.popleft
                    items = [popleft() for _ in range(max_items)]
                    count = max_items
                edge.popped += count
                if edge._send_waiters:
                    edge._grant()
                return items
        if (
            len(edges) > 1
            and not self._recording
            and _unyielded < CHECKPOINT_INTERVAL
            and self._cancel.request is None
        ):
            # A fan-in: the packets recv() would return one after another (the start edge
            # rotating after every packet), taken in one step.
            items = self._take_rotating(max_items)
            if items:
                _unyielded += 1
                return items
        first = await self.recv()
        if first is None:
            return []
        items = [first]
        while len(items) < max_items:
            ready = self._ready()
            if ready is None:
                break
            items.append(self._take(ready))
        return items

    def _take_rotating(self, max_items: int) -> list[Packet]:
        """Up to ``max_items`` queued packets, one edge after another as :meth:`_ready`
        would choose them (no records: the caller checked).

        Taken in rounds: each round takes one packet from every non-empty edge in
        rotation order. Nothing is queued meanwhile, so an edge found empty stays empty,
        and that is the sequence :meth:`_ready` gives packet by packet."""
        edges = self._edges
        count = len(edges)
        start = self._rr
        order = [index % count for index in range(start, start + count)]
        taken = [0] * count
        items: list[Packet] = []
        append = items.append
        remaining = max_items
        last = start - 1
        while remaining:
            before = remaining
            for index in order:
                queue = edges[index].queue
                if queue:
                    append(queue.popleft())
                    taken[index] += 1
                    last = index
                    remaining -= 1
                    if not remaining:
                        break
            if before == remaining:
                break
        for edge, popped in zip(edges, taken, strict=True):
            if popped:
                edge.popped += popped
                if edge._send_waiters:
                    edge._grant()
        self._rr = (last + 1) % count
        return items

    def __aiter__(self) -> AsyncIterator[Packet]:
        return self

    async def __anext__(self) -> Packet:
        # recv() inlined for the common case (nothing recorded, a packet queued).
        global _unyielded  # noqa: PLW0603 - the process-wide yield budget
        if self._recording:
            packet = self._take_logged()
            if packet is not None:
                return packet
            packet = await self.recv()
        else:
            if self._cancel.request is not None:
                raise PortRecvError.cancelled(self.port_id)
            if _unyielded < CHECKPOINT_INTERVAL:
                edges = self._edges
                if len(edges) == 1:
                    edge: Edge | None = edges[0]
                    if not edge.queue:  # type: ignore[union-attr]
                        edge = None
                else:
                    edge = self._ready()
                if edge is not None:
                    _unyielded += 1
                    packet = edge.queue.popleft()
                    edge.popped += 1
                    if edge._send_waiters:
                        edge._grant()
                    return packet
            packet = await self._recv_wait()
        if packet is None:
            raise StopAsyncIteration
        return packet

    def close(self) -> None:
        """Leave: producers see the edges as disconnected, queued packets are discarded
        with a ``dropped`` record each. Idempotent."""
        if self._closed:
            return
        self._closed = True
        dropped: list[Packet] = []
        for edge in self._edges:
            lost = edge.close_receiver()
            edge.dropped += len(lost)
            dropped.extend(lost)
        if dropped and self._recording:
            for packet in dropped:
                self._msg(_DROPPED, packet)

    def __repr__(self) -> str:
        return f"InputPort({str(self.port_id)!r}, edges={len(self._edges)})"


class OutputPort(_Port):
    """One declared output port: ``send``, ``send_many``, ``reserve``, ``try_send``."""

    __slots__ = (
        "_execution",
        "_fan",
        "_fast",
        "_logged",
        "_mid_limit",
        "_mid_prefix",
        "_own_route",
        "_seq",
        "_validator",
        "_workflow_id",
    )
    direction: Final = _OUTPUT

    def __init__(self, port_id: PortId, edges: Sequence[Edge]) -> None:
        super().__init__(port_id, edges)
        self._validator: OutputPacketValidator | None = None
        self._seq = 0
        self._own_route: MessageRoute | None = None
        self._fast: Edge | None = None
        self._fan: tuple[Edge, ...] | None = None
        self._logged: Edge | None = None
        self._forget_stamp()
        self._refresh()

    def _forget_stamp(self) -> None:
        # What packet() stamps on every packet, cached by its first call for the
        # current context: the message id prefix ``{node}-{port}-``, the first number
        # whose id would be too long, the workflow id, the execution and the route.
        self._mid_prefix = ""
        self._mid_limit = 0
        self._workflow_id: Any = None
        self._execution: Any = None
        self._own_route = None

    def _refresh(self) -> None:
        # The fast paths apply when there is nothing else to do: no validator, the port
        # open, and no data records (``_fast``: the single edge; ``_fan``: the edges of a
        # fan-out port) or only lines for a plain JSONL sink (``_logged``: the single edge).
        edges = self._edges
        simple = self._validator is None and not self._closed and len(edges) == 1
        plain = self._validator is None and not self._recording and not self._closed
        self._fast = edges[0] if plain and len(edges) == 1 else None
        self._fan = edges if plain and len(edges) > 1 else None
        self._logged = edges[0] if simple and self._lines is not None else None

    def _bind(
        self, context: NodeContext | None, cancel: _CancelSlot, sink: MetadataSink | None
    ) -> None:
        super()._bind(context, cancel, sink)
        self._forget_stamp()
        self._refresh()

    def _set_validator(self, validator: OutputPacketValidator | None) -> None:
        self._validator = validator
        self._refresh()

    def _qp_line(self, kind: QueuePressureKind) -> str:
        """The JSONL line of a queue-pressure record (direct JSONL path only)."""
        head = self._qp_head(kind, _OUTPUT)
        return f"{head}null{_QP_TAIL}"

    def _qp(self, kind: QueuePressureKind) -> None:
        lines = self._lines
        if lines is not None:
            lines._line(self._qp_line(kind))
            return
        self._sink.record(
            QueuePressureRecord(
                kind,
                _OUTPUT,
                self.port_id,
                self._context,
                len(self._edges),
                self._capacity_sum,
                None,
            )
        )

    # -- building packets --

    def packet(
        self, payload: PacketPayload | bytes | str, *, message_id: str | None = None
    ) -> Packet:
        """A packet from this port, in the node's workflow and execution.

        The message id defaults to ``{node}-{port}-{n}`` (n = 0, 1, ... per port); the
        route is the first edge's (a port without edges addresses the packet to
        itself). Needs the node context the runtime attaches.
        """
        seq = self._seq
        if message_id is None and seq < self._mid_limit and payload.__class__ is PacketPayload:
            # The hot path: everything but the number was worked out by an earlier call.
            self._seq = seq + 1
            packet: Packet = _new_object(Packet)
            packet._mid = self._mid_prefix
            packet._seq = seq
            packet._tags = None
            packet.workflow_id = self._workflow_id
            packet.execution = self._execution
            packet.route = self._own_route  # type: ignore[assignment]  # set with the limit
            packet.payload = payload
            return packet
        return self._packet_slow(payload, message_id)

    def _packet_slow(self, payload: PacketPayload | bytes | str, message_id: str | None) -> Packet:
        context = self._context
        if context is None:
            raise RuntimeError(f"output port `{self.port_id}` has no node context")
        if not isinstance(payload, PacketPayload):
            payload = PacketPayload.bytes(payload)
        route = self._own_route
        if route is None:
            edges = self._edges
            if edges and edges[0].route is not None:
                route = edges[0].route
            else:
                here = MessageEndpoint(context.node_id, self.port_id)
                route = MessageRoute(here, here)
            self._own_route = route
            self._workflow_id = context.workflow_id
            self._execution = context.execution
            prefix = f"{context.node_id}-{self.port_id}-"
            digits = MAX_IDENTIFIER_LEN - len(prefix.encode("utf-8"))
            self._mid_prefix = prefix
            self._mid_limit = 10**digits if digits > 0 else 0
        if message_id is None:
            seq = self._seq
            self._seq = seq + 1
            message_id = _message_id(f"{context.node_id}-{self.port_id}-{seq}")
        return Packet.create(message_id, context.workflow_id, context.execution, route, payload)

    # -- sending --

    async def send(self, packet: Packet) -> None:
        """Send ``packet`` to every live edge, waiting for room on each.

        Raises ``CANCELLED`` (token), ``DISCONNECTED`` (every consumer left), ``REJECTED``
        (the validator), and ``RuntimeError`` after :meth:`close`.
        """
        global _unyielded  # noqa: PLW0603 - the process-wide yield budget
        edge = self._fast
        if edge is not None and _unyielded < CHECKPOINT_INTERVAL and self._cancel.request is None:
            queue = edge.queue
            if len(queue) < edge.limit:
                _unyielded += 1
                route = edge.route
                if route is not packet.route and route is not None:
                    # This edge's copy: the same header and payload with the edge's route.
                    copy: Packet = _new_object(Packet)
                    copy._mid = packet._mid
                    copy._seq = packet._seq
                    copy._tags = packet._tags
                    copy.workflow_id = packet.workflow_id
                    copy.execution = packet.execution
                    copy.route = route
                    copy.payload = packet.payload
                    packet = copy
                queue.append(packet)
                edge.pushed += 1
                if edge._recv_waiters:
                    edge._wake_receivers()
                return
        elif (
            self._fan is not None
            and _unyielded < CHECKPOINT_INTERVAL
            and self._cancel.request is None
            and self._fan_ready()
        ):
            _unyielded += 1
            self._fan_push(packet)
            return
        elif (
            self._logged is not None
            and _unyielded < CHECKPOINT_INTERVAL
            and self._cancel.request is None
            and len(self._logged.queue) < self._logged.limit
        ):
            _unyielded += 1
            self._push_logged(self._logged, packet)
            return
        if self._cancel.request is not None:
            raise PortSendError.cancelled(self.port_id)
        await self._send_slow(packet)

    def _push_logged(self, edge: Edge, packet: Packet) -> None:
        """A send that need not wait, on the direct JSONL path: its four records
        (``reserve_attempted``, ``reserve_ready``, ``send_committed``, ``enqueued``) go to
        the sink as one text, then the packet is queued (a failing sink sends nothing)."""
        route = edge.route
        if route is not packet.route and route is not None:
            packet = packet._rebuild(route, packet.payload)
        # _heads(), inlined: a call per operation costs about 7% on the JSONL rows.
        context = self._context
        request = None if context is None else context._token._slot.request
        heads = self._qp_heads if request is self._qp_request else self._heads()
        committed = heads.get(_SEND_LINES)
        if committed is None:
            committed = heads[_SEND_LINES] = (
                self._qp_line(_RESERVE_ATTEMPTED)
                + self._qp_line(_RESERVE_READY)
                + self._qp_line(_SEND_COMMITTED)
            )
        message_id = self._msg_id(_ENQUEUED, packet)
        self._lines._line(  # type: ignore[union-attr]  # set whenever _logged is
            f"{committed}{self._mk_head}{message_id}{self._mk_tail}", 4
        )
        edge.queue.append(packet)
        edge.pushed += 1
        if edge._recv_waiters:
            edge._wake_receivers()

    def _fan_ready(self) -> bool:
        """Every edge of the fan-out has a free slot now (so none waits or has left)."""
        # A plain loop: all() over a generator costs a generator object per send.
        for edge in self._fan:  # type: ignore[union-attr]  # noqa: SIM110
            if len(edge.queue) >= edge.limit:
                return False
        return True

    def _fan_room(self) -> int:
        """Free slots every edge of the fan-out has now (0 if one is full or has left)."""
        return min(edge.limit - len(edge.queue) for edge in self._fan)  # type: ignore[union-attr]

    def _fan_push(self, packet: Packet) -> None:
        """Queue one copy per edge (the checks were done by the caller): the first edge
        gets the payload as it is, every other edge ``copy_for_fanout()`` (a fresh copy of
        a control value; bytes and structured payloads are shared); each copy carries its
        own edge's route."""
        payload = packet.payload
        shared = payload.kind is not _CONTROL_KIND
        first = True
        for edge in self._fan:  # type: ignore[union-attr]  # only called when set
            if first or shared:
                copy_payload = payload
                first = False
            else:
                copy_payload = payload.copy_for_fanout()
            route = edge.route
            if route is None:
                route = packet.route
            if route is packet.route and copy_payload is payload:
                copy = packet
            else:
                copy = _new_object(Packet)
                copy._mid = packet._mid
                copy._seq = packet._seq
                copy._tags = packet._tags
                copy.workflow_id = packet.workflow_id
                copy.execution = packet.execution
                copy.route = route
                copy.payload = copy_payload
            edge.queue.append(copy)
            edge.pushed += 1
            if edge._recv_waiters:
                edge._wake_receivers()

    def _fan_push_many(self, packets: Sequence[Packet]) -> None:
        """:meth:`_fan_push` for a run of packets every edge has room for, one edge after
        the other (the same queues in the end: nothing else runs in between)."""
        first = True
        for edge in self._fan:  # type: ignore[union-attr]  # only called when set
            route = edge.route
            append = edge.queue.append
            for packet in packets:
                payload = packet.payload
                if not first and payload.kind is _CONTROL_KIND:
                    payload = payload.copy_for_fanout()
                elif route is None or route is packet.route:
                    append(packet)
                    continue
                copy: Packet = _new_object(Packet)
                copy._mid = packet._mid
                copy._seq = packet._seq
                copy._tags = packet._tags
                copy.workflow_id = packet.workflow_id
                copy.execution = packet.execution
                copy.route = packet.route if route is None else route
                copy.payload = payload
                append(copy)
            first = False
            edge.pushed += len(packets)
            if edge._recv_waiters:
                edge._wake_receivers()

    async def _send_slow(self, packet: Packet) -> None:
        self._check_open()
        recording = self._recording
        if recording:
            self._qp(_RESERVE_ATTEMPTED)
        held, dead = await self._acquire()
        if recording:
            self._qp(_RESERVE_READY)
        self._commit(packet, held, dead)

    async def send_many(self, packets: Iterable[Packet]) -> None:
        """``send`` each packet in order (stops at the first error).

        A list or tuple on a plain single-edge port (no validator, no data records) is
        queued in runs: as many packets as the edge has room for go in one step, and the
        step counts once towards the yield budget.
        """
        global _unyielded  # noqa: PLW0603 - the process-wide yield budget
        if not isinstance(packets, list | tuple):
            for packet in packets:
                await self.send(packet)
            return
        index = 0
        total = len(packets)
        while index < total:
            edge = self._fast
            if edge is None and self._fan is not None:
                room = self._fan_room()
                if room and _unyielded < CHECKPOINT_INTERVAL and self._cancel.request is None:
                    end = min(total, index + room)
                    self._fan_push_many(packets[index:end])
                    index = end
                    _unyielded += 1
                    continue
            if (
                edge is None
                or _unyielded >= CHECKPOINT_INTERVAL
                or self._cancel.request is not None
                or len(edge.queue) >= edge.limit
            ):
                # Waiting, yielding, cancellation, records: the one-packet path.
                await self.send(packets[index])
                index += 1
                continue
            end = min(total, index + edge.limit - len(edge.queue))
            route = edge.route
            queue = edge.queue
            if route is None:
                queue.extend(packets[index:end])
            else:
                append = queue.append
                for packet in packets[index:end]:
                    if packet.route is not route:
                        # Packet._rebuild, inlined: no method call per packet.
                        copy: Packet = _new_object(Packet)
                        copy._mid = packet._mid
                        copy._seq = packet._seq
                        copy._tags = packet._tags
                        copy.workflow_id = packet.workflow_id
                        copy.execution = packet.execution
                        copy.route = route
                        copy.payload = packet.payload
                        packet = copy  # noqa: PLW2901 - the copy replaces it in the edge
                    append(packet)
            edge.pushed += end - index
            index = end
            _unyielded += 1
            if edge._recv_waiters:
                edge._wake_receivers()

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
        if self._recording:
            self._qp(_RESERVE_ATTEMPTED)
        held, dead = await self._acquire()
        if self._recording:
            self._qp(_RESERVE_READY)
        return SendPermit(self, held, dead)

    def try_reserve(self) -> SendPermit:
        """Reserve without waiting: all edges or none; raises ``FULL`` or
        ``DISCONNECTED``."""
        if self._cancel.request is not None:
            raise PortSendError.cancelled(self.port_id)
        self._check_open()
        recording = self._recording
        if recording:
            self._qp(_RESERVE_ATTEMPTED)
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
                if recording:
                    self._qp(_RESERVE_FULL)
                raise PortSendError.full(self.port_id)
        if recording:
            self._qp(_RESERVE_READY)
        return SendPermit(self, held, dead)

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"output port `{self.port_id}` is closed")

    async def _acquire(self) -> tuple[list[Edge], list[Edge]]:
        """Hold one slot on every live edge (edge order, FIFO per edge)."""
        global _unyielded  # noqa: PLW0603 - the process-wide yield budget
        held: list[Edge] = []
        dead: list[Edge] = []
        edges = self._edges
        if _unyielded >= CHECKPOINT_INTERVAL and all(
            edge.receiver_closed or len(edge.queue) < edge.limit for edge in edges
        ):
            # Nothing to wait for: yield now, holding nothing, then look again.
            _unyielded = 0
            await checkpoint()
            if self._cancel.request is not None:
                raise PortSendError.cancelled(self.port_id)
        _unyielded += 1
        if not edges:
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
                        if self._recording:
                            self._qp(_RESERVE_FULL)
                    if await self._wait_for_slot(edge):
                        held.append(edge)
                    else:
                        dead.append(edge)
        except BaseException:
            for edge in held:
                edge.release()
            raise
        if not held:
            raise PortSendError.disconnected(self.port_id)
        return held, dead

    async def _wait_for_slot(self, edge: Edge) -> bool:
        """Wait for a slot on ``edge``: True once held, False if its consumer left."""
        global _unyielded  # noqa: PLW0603 - the process-wide yield budget
        cancel = self._cancel
        while True:
            if edge.receiver_closed:
                return False
            if edge.try_reserve():
                return True
            waiter = Waiter()
            edge._send_waiters.append(waiter)
            cancel.add(waiter)
            self._waiting = True
            _unyielded = 0
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
            _unyielded = 0
            if cancel.request is not None:
                if waiter.granted:
                    edge.release()
                raise PortSendError.cancelled(self.port_id)
            if waiter.granted:
                return True

    def _commit(self, packet: Packet, held: list[Edge], dead: list[Edge]) -> None:
        validator = self._validator
        if validator is not None:
            try:
                validator.validate(self.port_id, packet)
            except BaseException:
                for edge in held:
                    edge.release()
                raise
        recording = self._recording
        if not held and not dead:
            if recording:
                self._qp(_SEND_DROPPED)
                self._msg(_DROPPED, packet)
            return
        delivered: list[Packet] = []
        lost: list[Packet] = []
        payload = packet.payload
        first = True
        for edge in held:
            copy_payload = payload if first else payload.copy_for_fanout()
            first = False
            route = edge.route
            if route is None:
                route = packet.route
            copy = (
                packet
                if route is packet.route and copy_payload is payload
                else packet._rebuild(route, copy_payload)
            )
            if edge.commit(copy):
                if recording:
                    delivered.append(copy)
            else:
                edge.dropped += 1
                if recording:
                    lost.append(copy)
        for edge in dead:
            edge.dropped += 1
            if recording:
                route = edge.route
                lost.append(packet if route is None else packet._rebuild(route, payload))
        if recording:
            lines = self._lines
            if lines is not None and not lost and len(delivered) == 1:
                lines._line(
                    self._qp_line(_SEND_COMMITTED) + self._msg_line(_ENQUEUED, delivered[0]), 2
                )
                return
            self._qp(_SEND_COMMITTED)
            for copy in delivered:
                self._msg(_ENQUEUED, copy)
            for copy in lost:
                self._msg(_DROPPED, copy)

    def close(self) -> None:
        """Drop this port's sender reference on each edge. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._fast = None
        self._fan = None
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


# --- collections ----------------------------------------------------------------------


def _declared(port_ids: Iterable[str], direction: str) -> list[PortId]:
    declared: list[PortId] = []
    seen: set[PortId] = set()
    for raw in port_ids:
        port_id = PortId(raw)
        if port_id in seen:
            raise ValueError(f"{direction} port `{port_id}` is declared twice")
        seen.add(port_id)
        declared.append(port_id)
    return declared


def _group(
    declared: list[PortId],
    handles: Iterable[InputPortHandle] | Iterable[OutputPortHandle],
    direction: str,
) -> dict[PortId, list[Edge]]:
    grouped: dict[PortId, list[Edge]] = {port_id: [] for port_id in declared}
    for handle in handles:
        edges = grouped.get(handle.port_id)
        if edges is None:
            raise ValueError(f"{direction} port `{handle.port_id}` has edges but is not declared")
        edges.extend(handle.channels)
    return grouped


class _Ports:
    __slots__ = ("_by_id", "_cancel", "_context", "_sink", "_token")

    _ports: tuple[Any, ...]
    _by_id: dict[str, Any]

    def _init_binding(
        self,
        context: NodeContext | None,
        sink: MetadataSink | None,
        cancellation_token: CancellationToken | None,
    ) -> None:
        self._context = context
        self._sink = sink
        self._token = cancellation_token
        self._rebind()

    def _rebind(self) -> None:
        token = self._token
        if token is None and self._context is not None:
            token = self._context.cancellation_token
        self._cancel = token._slot if token is not None else _CancelSlot()
        for port in self._ports:
            port._bind(self._context, self._cancel, self._sink)

    @property
    def port_ids(self) -> tuple[PortId, ...]:
        """Declared port ids, in declaration order."""
        return tuple(port.port_id for port in self._ports)

    def is_empty(self) -> bool:
        """True when no port is declared."""
        return not self._ports

    def __len__(self) -> int:
        return len(self._ports)

    def __contains__(self, port_id: object) -> bool:
        return port_id in self._by_id

    @property
    def context(self) -> NodeContext | None:
        return self._context

    @property
    def metadata_sink(self) -> MetadataSink | None:
        return self._sink

    def connected_edge_count(self, port_id: str) -> int | None:
        """Edges on a port, or None if it is not declared."""
        port = self._by_id.get(port_id)
        return None if port is None else len(port._edges)

    def capacity(self, port_id: str) -> int | None:
        """The first edge's capacity; None if the port is undeclared or has no edges."""
        port = self._by_id.get(port_id)
        return None if port is None else port.capacity

    def queued_count(self, port_id: str) -> int | None:
        port = self._by_id.get(port_id)
        return None if port is None else port.queued_count()

    def waiting_ports(self) -> tuple[PortId, ...]:
        """Ports with a suspended operation right now (for watchdog diagnostics)."""
        return tuple(port.port_id for port in self._ports if port._waiting)

    def close(self) -> None:
        """Close every port (idempotent)."""
        for port in self._ports:
            port.close()


class PortsIn(_Ports):
    """A node's input ports, in declaration order.

    ``PortsIn(port_ids, handles)`` groups the handles by port id (several handles for one
    port form a fan-in, in the order given); a declared port without handles has no
    edges. A port id declared twice, or a handle for an undeclared port, raises
    ``ValueError``. The context (for records and cancellation), the metadata sink and an
    explicit cancellation token can be given here or attached later with the ``with_*``
    methods, which change this object and return it.
    """

    __slots__ = ("_ports", "_rr")

    def __init__(
        self,
        port_ids: Iterable[str] = (),
        handles: Iterable[InputPortHandle] = (),
        *,
        context: NodeContext | None = None,
        sink: MetadataSink | None = None,
        cancellation_token: CancellationToken | None = None,
    ) -> None:
        declared = _declared(port_ids, "input")
        grouped = _group(declared, handles, "input")
        self._ports: tuple[InputPort, ...] = tuple(
            InputPort(port_id, grouped[port_id]) for port_id in declared
        )
        self._by_id: dict[str, InputPort] = {port.port_id: port for port in self._ports}
        self._rr = 0
        self._init_binding(context, sink, cancellation_token)

    @classmethod
    def new(cls, port_ids: Iterable[str]) -> PortsIn:
        """Declared ports without edges."""
        return cls(port_ids)

    @classmethod
    def from_handles(cls, port_ids: Iterable[str], handles: Iterable[InputPortHandle]) -> PortsIn:
        return cls(port_ids, handles)

    def with_metadata_sink(self, sink: MetadataSink | None) -> PortsIn:
        self._sink = sink
        self._rebind()
        return self

    def with_node_context(self, context: NodeContext | None) -> PortsIn:
        """Attach the context: records show it, and its token cancels the ports (unless
        an explicit token was attached)."""
        self._context = context
        self._rebind()
        return self

    def with_cancellation_token(self, token: CancellationToken | None) -> PortsIn:
        self._token = token
        self._rebind()
        return self

    @property
    def ports(self) -> tuple[InputPort, ...]:
        return self._ports

    def port(self, port_id: str) -> InputPort:
        """The bound port object (``UNKNOWN_PORT`` if undeclared)."""
        port = self._by_id.get(port_id)
        if port is None:
            raise PortRecvError.unknown_port(port_id)
        return port

    __getitem__ = port

    def iter(self, port_id: str) -> InputPort:
        """``async for packet in inputs.iter("in")``: packets until end of stream."""
        return self.port(port_id)

    async def recv(self, port_id: str) -> Packet | None:
        """See :meth:`InputPort.recv`."""
        port = self._by_id.get(port_id)
        if port is None:
            raise PortRecvError.unknown_port(port_id)
        return await port.recv()

    def try_recv(self, port_id: str) -> Packet | None:
        """See :meth:`InputPort.try_recv`."""
        return self.port(port_id).try_recv()

    async def recv_many(self, port_id: str, max_items: int) -> list[Packet]:
        """See :meth:`InputPort.recv_many`."""
        port = self._by_id.get(port_id)
        if port is None:
            raise PortRecvError.unknown_port(port_id)
        return await port.recv_many(max_items)

    def at_end_of_stream(self, port_id: str) -> bool:
        return self.port(port_id).at_end_of_stream()

    async def recv_any(self, port_ids: Iterable[str] | None = None) -> tuple[PortId, Packet] | None:
        """The next packet from any port, as ``(port_id, packet)``; ``None`` once every
        port is at end of stream (at once when no port is declared).

        ``port_ids`` limits the wait to some ports (say, the inputs of a feedback loop
        that must end while another input stays open); ``None`` means every declared
        port. Fair: the scan starts at the port after the one that delivered last. Raises
        ``PortRecvError`` ``UNKNOWN_PORT`` for an undeclared id, and ``CANCELLED`` naming
        the first port when the token is cancelled. Records: ``receive_attempted`` for
        every port, ``receive_closed`` at most once per ended port, then
        ``receive_ready`` + ``dequeued`` for the winner.
        """
        global _unyielded  # noqa: PLW0603 - the process-wide yield budget
        ports = self._ports if port_ids is None else tuple(self.port(p) for p in port_ids)
        count = len(ports)
        if not count:
            return None
        recording = ports[0]._recording
        if recording:
            for port in ports:
                port._qp(_RECEIVE_ATTEMPTED)
        cancel = self._cancel
        if cancel.request is not None:
            raise PortRecvError.cancelled(ports[0].port_id)
        reported: set[int] | None = None
        while True:
            if _unyielded >= CHECKPOINT_INTERVAL and any(port._any_queued() for port in ports):
                # A packet is ready but the budget is spent: yield before taking it.
                _unyielded = 0
                await checkpoint()
            else:
                start = self._rr
                all_ended = True
                for offset in range(count):
                    index = (start + offset) % count
                    port = ports[index]
                    edge = port._ready()
                    if edge is not None:
                        _unyielded += 1
                        self._rr = (index + 1) % count
                        return port.port_id, port._take(edge)
                    if port.at_end_of_stream():
                        if recording:
                            if reported is None:
                                reported = set()
                            if index not in reported:
                                reported.add(index)
                                port._qp(_RECEIVE_CLOSED)
                    else:
                        all_ended = False
                if all_ended:
                    return None
                waiter = Waiter()
                for port in ports:
                    for edge in port._edges:
                        edge._recv_waiters.append(waiter)
                    port._waiting = True
                cancel.add(waiter)
                _unyielded = 0
                try:
                    await waiter.wait()
                finally:
                    cancel.discard(waiter)
                    for port in ports:
                        port._waiting = False
                        for edge in port._edges:
                            edge.remove_recv_waiter(waiter)
                _unyielded = 0
            if cancel.request is not None:
                raise PortRecvError.cancelled(ports[0].port_id)

    def __repr__(self) -> str:
        return f"PortsIn({[str(p) for p in self.port_ids]!r})"


class PortsOut(_Ports):
    """A node's output ports, in declaration order.

    Built like :class:`PortsIn` (several handles for one port form a fan-out).
    :meth:`clone` gives another view holding its own sender reference on every edge, so
    the edges stay open until every clone is closed.
    """

    __slots__ = ("_ports", "_validator")

    def __init__(
        self,
        port_ids: Iterable[str] = (),
        handles: Iterable[OutputPortHandle] = (),
        *,
        context: NodeContext | None = None,
        sink: MetadataSink | None = None,
        cancellation_token: CancellationToken | None = None,
        validator: OutputPacketValidator | None = None,
    ) -> None:
        declared = _declared(port_ids, "output")
        grouped = _group(declared, handles, "output")
        self._ports: tuple[OutputPort, ...] = tuple(
            OutputPort(port_id, grouped[port_id]) for port_id in declared
        )
        self._by_id: dict[str, OutputPort] = {port.port_id: port for port in self._ports}
        self._validator = validator
        for port in self._ports:
            port._set_validator(validator)
        self._init_binding(context, sink, cancellation_token)

    @classmethod
    def new(cls, port_ids: Iterable[str]) -> PortsOut:
        """Declared ports without edges (they accept and drop packets)."""
        return cls(port_ids)

    @classmethod
    def from_handles(cls, port_ids: Iterable[str], handles: Iterable[OutputPortHandle]) -> PortsOut:
        return cls(port_ids, handles)

    def with_metadata_sink(self, sink: MetadataSink | None) -> PortsOut:
        self._sink = sink
        self._rebind()
        return self

    def with_node_context(self, context: NodeContext | None) -> PortsOut:
        """Attach the context: records and packets show it, and its token cancels the
        ports (unless an explicit token was attached)."""
        self._context = context
        self._rebind()
        return self

    def with_cancellation_token(self, token: CancellationToken | None) -> PortsOut:
        self._token = token
        self._rebind()
        return self

    def with_output_validator(self, validator: OutputPacketValidator | None) -> PortsOut:
        self._validator = validator
        for port in self._ports:
            port._set_validator(validator)
        return self

    def clone(self) -> PortsOut:
        """Another view of the same edges with its own sender references."""
        twin = PortsOut(
            (),
            context=self._context,
            sink=self._sink,
            cancellation_token=self._token,
            validator=self._validator,
        )
        ports: list[OutputPort] = []
        for port in self._ports:
            copy = OutputPort(port.port_id, port._edges)
            if port._closed:
                copy._closed = True
            else:
                for edge in port._edges:
                    edge.add_sender()
            copy._set_validator(self._validator)
            ports.append(copy)
        twin._ports = tuple(ports)
        twin._by_id = {port.port_id: port for port in ports}
        twin._rebind()
        return twin

    @property
    def ports(self) -> tuple[OutputPort, ...]:
        return self._ports

    def port(self, port_id: str) -> OutputPort:
        """The bound port object (``UNKNOWN_PORT`` if undeclared)."""
        port = self._by_id.get(port_id)
        if port is None:
            raise PortSendError.unknown_port(port_id)
        return port

    __getitem__ = port

    def packet(
        self,
        port_id: str,
        payload: PacketPayload | bytes | str,
        *,
        message_id: str | None = None,
    ) -> Packet:
        """See :meth:`OutputPort.packet`."""
        return self.port(port_id).packet(payload, message_id=message_id)

    async def send(self, port_id: str, packet: Packet) -> None:
        """See :meth:`OutputPort.send`."""
        port = self._by_id.get(port_id)
        if port is None:
            raise PortSendError.unknown_port(port_id)
        await port.send(packet)

    async def send_many(self, port_id: str, packets: Iterable[Packet]) -> None:
        """See :meth:`OutputPort.send_many`."""
        port = self._by_id.get(port_id)
        if port is None:
            raise PortSendError.unknown_port(port_id)
        await port.send_many(packets)

    def try_send(self, port_id: str, packet: Packet) -> None:
        """See :meth:`OutputPort.try_send`."""
        self.port(port_id).try_send(packet)

    async def reserve(self, port_id: str) -> SendPermit:
        """See :meth:`OutputPort.reserve`."""
        port = self._by_id.get(port_id)
        if port is None:
            raise PortSendError.unknown_port(port_id)
        return await port.reserve()

    def try_reserve(self, port_id: str) -> SendPermit:
        """See :meth:`OutputPort.try_reserve`."""
        return self.port(port_id).try_reserve()

    def __repr__(self) -> str:
        return f"PortsOut({[str(p) for p in self.port_ids]!r})"
