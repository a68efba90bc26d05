"""Port recorders: how a sink takes the data records of port operations.

A sink hands each port a :class:`PortRecorder` (:func:`port_recorder`), and the port calls
one of its public methods per operation; it never builds a record itself, and never
reaches into a sink. What the recorder does is the sink's business:

* ``None``: the sink keeps no data records (the null sink, a control-only tier): the
  port records nothing and builds nothing;
* :class:`RecordRecorder`: builds :class:`MessageRecord` and :class:`QueuePressureRecord`
  objects and hands them to ``sink.record`` (any sink with only ``record()``, an
  in-memory sink, a sampling tier);
* :class:`JsonlRecorder`: writes the finished JSONL lines of a JSONL sink from cached
  fragments, one text per operation, without record objects.

Tiered and composite sinks delegate to what they wrap (``port_recorder(info)``), so the
sink the CLI builds (a tier over a JSONL file) records through the JSONL fast path.

**What each operation records** (the original's records, per packet; a batch of n
packets records as n packets sent or received one by one, written in one go):

====================  ===========================================================
send that did not     ``reserve_attempted``, ``reserve_ready``, ``send_committed``,
wait (``sent``)       then ``enqueued`` for each edge's copy, per packet
send that waited      ``reserve_attempted`` and ``reserve_full`` when it must wait,
                      ``reserve_ready`` when it has room, then ``send_committed`` and
                      ``enqueued`` (``dropped`` for a copy whose consumer left)
send to no edge       ``reserve_attempted``, ``reserve_ready``, ``send_dropped``,
                      ``dropped``, per packet
receive               ``receive_attempted`` once, then ``receive_ready`` and
                      ``dequeued`` per packet; at end of stream ``receive_closed``
input port closed     ``dropped`` for every packet still queued
====================  ===========================================================

Every method raises :class:`~pureflow.core.errors.MetadataError` when the sink fails;
ports call the recorder *before* a packet moves, so a failing sink loses no packet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import TYPE_CHECKING, Any, Final, Protocol

from pureflow.core.batch import Batch
from pureflow.core.context import NodeContext
from pureflow.core.metadata.records import (
    QUEUE_PRESSURE_LINE_TAIL,
    MessageBoundaryKind,
    MessageRecord,
    QueuePressureKind,
    QueuePressureRecord,
    message_line_parts,
    queue_pressure_line_head,
)
from pureflow.core.packets import Packet
from pureflow.types import PortId
from pureflow.workflow import PortDirection

if TYPE_CHECKING:
    from pureflow.core.edges.protocol import EdgeItem
    from pureflow.core.metadata.jsonl import JsonlMetadataSink

_encode_str: Any = encode_basestring  # json.dumps's string encoder (ensure_ascii=False)
_QP_TAIL: Final = QUEUE_PRESSURE_LINE_TAIL

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


@dataclass(frozen=True, slots=True)
class PortInfo:
    """What a port's records say about it: ``connected_edge_count`` and ``capacity``
    (the sum of its edges' capacities, ``None`` without edges) are fixed; ``context``
    (the node's, or ``None``) gives the cancellation state at the time of each record."""

    direction: PortDirection
    port_id: PortId
    context: NodeContext | None
    edge_count: int
    capacity: int | None


class PortRecorder(Protocol):
    """Takes the data records of one port's operations (see the module doc's table)."""

    # --- an output port ---------------------------------------------------------------

    def sent(self, copies: Sequence[EdgeItem]) -> None:
        """A send that did not wait: ``copies`` holds what went to each edge (the same
        packets, each with its edge's route)."""
        ...

    def reserve_attempted(self) -> None: ...

    def reserve_full(self) -> None: ...

    def reserve_ready(self) -> None: ...

    def committed(self, delivered: Sequence[EdgeItem], lost: Sequence[EdgeItem]) -> None:
        """A send that waited commits (after :meth:`reserve_ready`): ``delivered`` the
        copies queued, ``lost`` those whose consumer had left."""
        ...

    def send_dropped(self, item: EdgeItem) -> None:
        """A send on a port without edges (its packets are dropped)."""
        ...

    # --- an input port ----------------------------------------------------------------

    def received(self, item: EdgeItem, queued: int) -> None:
        """A receive that did not wait took ``item``; ``queued`` packets were queued across
        the port's edges before it."""
        ...

    def receive_attempted(self, queued: int) -> None: ...

    def receive_ready(self, item: EdgeItem, queued: int) -> None:
        """A receive that waited took ``item`` (``queued`` packets before it)."""
        ...

    def receive_empty(self, queued: int) -> None: ...

    def receive_closed(self, queued: int) -> None: ...

    def dropped(self, items: Sequence[EdgeItem]) -> None:
        """Packets lost: still queued when the input port closed."""
        ...


def port_recorder(sink: object | None, info: PortInfo) -> PortRecorder | None:
    """The recorder ``sink`` gives a port: its own ``port_recorder(info)`` when it has one,
    else a :class:`RecordRecorder` when it keeps data records, else ``None``."""
    if sink is None:
        return None
    make = getattr(sink, "port_recorder", None)
    if make is not None:
        recorder: PortRecorder | None = make(info)
        return recorder
    from pureflow.core.metadata.sinks import sink_records_data  # noqa: PLC0415 - a cycle

    return RecordRecorder(sink, info) if sink_records_data(sink) else None


def _packets(item: EdgeItem) -> Sequence[Packet]:
    return (item,) if isinstance(item, Packet) else item


def _size(item: EdgeItem) -> int:
    return 1 if isinstance(item, Packet) else len(item)


# --- record objects -------------------------------------------------------------------


class RecordRecorder:
    """Builds record objects and hands them to ``sink.record``, one by one."""

    __slots__ = ("_info", "_sink")

    def __init__(self, sink: Any, info: PortInfo) -> None:
        self._sink = sink
        self._info = info

    def _qp(self, kind: QueuePressureKind, queued: int | None) -> None:
        info = self._info
        self._sink.record(
            QueuePressureRecord(
                kind,
                info.direction,
                info.port_id,
                info.context,
                info.edge_count,
                info.capacity,
                queued,
            )
        )

    def _message(self, kind: MessageBoundaryKind, packet: Packet) -> None:
        self._sink.record(MessageRecord.from_packet(kind, packet))

    def sent(self, copies: Sequence[EdgeItem]) -> None:
        columns = [_packets(copy) for copy in copies]
        for index in range(_size(copies[0])):
            self._qp(_RESERVE_ATTEMPTED, None)
            self._qp(_RESERVE_READY, None)
            self._qp(_SEND_COMMITTED, None)
            for column in columns:
                self._message(_ENQUEUED, column[index])

    def reserve_attempted(self) -> None:
        self._qp(_RESERVE_ATTEMPTED, None)

    def reserve_full(self) -> None:
        self._qp(_RESERVE_FULL, None)

    def reserve_ready(self) -> None:
        self._qp(_RESERVE_READY, None)

    def committed(self, delivered: Sequence[EdgeItem], lost: Sequence[EdgeItem]) -> None:
        given = [_packets(copy) for copy in delivered]
        gone = [_packets(copy) for copy in lost]
        size = _size((delivered or lost)[0]) if delivered or lost else 1
        for index in range(size):
            if index:
                self._qp(_RESERVE_ATTEMPTED, None)
                self._qp(_RESERVE_READY, None)
            self._qp(_SEND_COMMITTED, None)
            for column in given:
                self._message(_ENQUEUED, column[index])
            for column in gone:
                self._message(_DROPPED, column[index])

    def send_dropped(self, item: EdgeItem) -> None:
        for index, packet in enumerate(_packets(item)):
            if index:
                self._qp(_RESERVE_ATTEMPTED, None)
                self._qp(_RESERVE_READY, None)
            self._qp(_SEND_DROPPED, None)
            self._message(_DROPPED, packet)

    def received(self, item: EdgeItem, queued: int) -> None:
        self._qp(_RECEIVE_ATTEMPTED, queued)
        self.receive_ready(item, queued)

    def receive_attempted(self, queued: int) -> None:
        self._qp(_RECEIVE_ATTEMPTED, queued)

    def receive_ready(self, item: EdgeItem, queued: int) -> None:
        for packet in _packets(item):
            queued -= 1
            self._qp(_RECEIVE_READY, queued)
            self._message(_DEQUEUED, packet)

    def receive_empty(self, queued: int) -> None:
        self._qp(_RECEIVE_EMPTY, queued)

    def receive_closed(self, queued: int) -> None:
        self._qp(_RECEIVE_CLOSED, queued)

    def dropped(self, items: Sequence[EdgeItem]) -> None:
        for item in items:
            for packet in _packets(item):
                self._message(_DROPPED, packet)


# --- finished JSONL lines ---------------------------------------------------------------


class JsonlRecorder:
    """Writes a port's records as finished JSONL lines to a JSONL sink, one text per
    operation, from fragments cached per port (the queue-pressure line heads for the
    current cancellation state of the node; the message line around the id for the last
    kind, route, execution and workflow)."""

    __slots__ = (
        "_heads",
        "_info",
        "_mk_execution",
        "_mk_head",
        "_mk_kind",
        "_mk_prefix",
        "_mk_prefix_json",
        "_mk_route",
        "_mk_tail",
        "_mk_workflow",
        "_request",
        "_send_lines",
        "_write",
    )

    _UNSET: Final[Any] = object()

    def __init__(self, sink: JsonlMetadataSink, info: PortInfo) -> None:
        self._write = sink.write_lines
        self._info = info
        self._heads: dict[QueuePressureKind, str] = {}
        self._request: Any = JsonlRecorder._UNSET
        self._send_lines = ""
        self._mk_kind: Any = None
        self._mk_route: Any = None
        self._mk_execution: Any = None
        self._mk_workflow: Any = None
        self._mk_head = ""
        self._mk_tail = ""
        self._mk_prefix: Any = None
        self._mk_prefix_json = ""

    # -- fragments --

    def _fresh_heads(self) -> dict[QueuePressureKind, str]:
        """The head cache for the node's current cancellation state (emptied when the
        state changed since the last record: the context is part of every line)."""
        context = self._info.context
        request = None if context is None else context._token._slot.request
        if request is not self._request:
            self._heads = {}
            self._send_lines = ""
            self._request = request
        return self._heads

    def _qp(self, kind: QueuePressureKind, queued: int | None) -> str:
        heads = self._fresh_heads()
        head = heads.get(kind)
        if head is None:
            info = self._info
            head = heads[kind] = queue_pressure_line_head(
                kind,
                info.direction,
                info.port_id,
                info.context,
                self._request,
                info.edge_count,
                info.capacity,
            )
        return f"{head}{'null' if queued is None else queued}{_QP_TAIL}"

    def _send_triple(self) -> str:
        """The three queue-pressure lines every packet of a send without a wait writes."""
        self._fresh_heads()
        lines = self._send_lines
        if not lines:
            lines = self._send_lines = (
                self._qp(_RESERVE_ATTEMPTED, None)
                + self._qp(_RESERVE_READY, None)
                + self._qp(_SEND_COMMITTED, None)
            )
        return lines

    def _parts(self, kind: MessageBoundaryKind, route: Any, execution: Any, workflow: Any) -> None:
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

    def _numbered(self, prefix: str) -> str:
        """The JSON text of ``prefix`` without its closing quote (digits need no escape)."""
        if prefix is not self._mk_prefix:
            self._mk_prefix = prefix
            self._mk_prefix_json = _encode_str(prefix)[:-1]
        return self._mk_prefix_json

    def _message(self, kind: MessageBoundaryKind, packet: Packet) -> str:
        self._parts(kind, packet.route, packet.execution, packet.workflow_id)
        seq = packet._seq
        if seq is None:
            return f"{self._mk_head}{_encode_str(packet._mid)}{self._mk_tail}"
        return f'{self._mk_head}{self._numbered(packet._mid)}{seq}"{self._mk_tail}'

    def _messages(self, kind: MessageBoundaryKind, item: EdgeItem) -> list[str]:
        """One message line per packet of ``item``."""
        if isinstance(item, Packet):
            return [self._message(kind, item)]
        batch: Batch = item
        if batch._packets is not None:
            return [self._message(kind, packet) for packet in batch]
        self._parts(kind, batch.route, batch.execution, batch.workflow_id)
        head, tail = self._mk_head, self._mk_tail
        if batch._ids is not None:
            return [f"{head}{_encode_str(i)}{tail}" for i in batch._ids[batch._lo : batch._hi]]
        prefix = self._numbered(batch._prefix)
        first = batch._seq0
        return [f'{head}{prefix}{first + i}"{tail}' for i in range(batch._lo, batch._hi)]

    # -- the operations --

    def sent(self, copies: Sequence[EdgeItem]) -> None:
        triple = self._send_triple()
        if len(copies) == 1:
            lines = self._messages(_ENQUEUED, copies[0])
            self._write(
                triple + triple.join(lines) if len(lines) > 1 else triple + lines[0], 4 * len(lines)
            )
            return
        columns = [self._messages(_ENQUEUED, copy) for copy in copies]
        parts = [triple + "".join(row) for row in zip(*columns, strict=True)]
        self._write("".join(parts), len(parts) * (3 + len(columns)))

    def reserve_attempted(self) -> None:
        self._write(self._qp(_RESERVE_ATTEMPTED, None), 1)

    def reserve_full(self) -> None:
        self._write(self._qp(_RESERVE_FULL, None), 1)

    def reserve_ready(self) -> None:
        self._write(self._qp(_RESERVE_READY, None), 1)

    def committed(self, delivered: Sequence[EdgeItem], lost: Sequence[EdgeItem]) -> None:
        given = [self._messages(_ENQUEUED, copy) for copy in delivered]
        gone = [self._messages(_DROPPED, copy) for copy in lost]
        size = len((given or gone)[0]) if given or gone else 1
        committed = self._qp(_SEND_COMMITTED, None)
        triple = self._send_triple()
        parts = []
        count = 0
        for index in range(size):
            parts.append(triple if index else committed)
            parts.extend(column[index] for column in given)
            parts.extend(column[index] for column in gone)
            count += (3 if index else 1) + len(given) + len(gone)
        self._write("".join(parts), count)

    def send_dropped(self, item: EdgeItem) -> None:
        lines = self._messages(_DROPPED, item)
        attempted_ready = self._qp(_RESERVE_ATTEMPTED, None) + self._qp(_RESERVE_READY, None)
        dropped = self._qp(_SEND_DROPPED, None)
        parts = [
            ("" if index == 0 else attempted_ready) + dropped + line
            for index, line in enumerate(lines)
        ]
        self._write("".join(parts), 2 * len(lines) + 2 * (len(lines) - 1))

    def received(self, item: EdgeItem, queued: int) -> None:
        if isinstance(item, Packet):
            self._write(
                self._qp(_RECEIVE_ATTEMPTED, queued)
                + self._qp(_RECEIVE_READY, queued - 1)
                + self._message(_DEQUEUED, item),
                3,
            )
            return
        lines = self._ready_lines(item, queued)
        self._write(self._qp(_RECEIVE_ATTEMPTED, queued) + lines, 1 + 2 * _size(item))

    def receive_attempted(self, queued: int) -> None:
        self._write(self._qp(_RECEIVE_ATTEMPTED, queued), 1)

    def _ready_lines(self, item: EdgeItem, queued: int) -> str:
        messages = self._messages(_DEQUEUED, item)
        return "".join(
            self._qp(_RECEIVE_READY, queued - index - 1) + line
            for index, line in enumerate(messages)
        )

    def receive_ready(self, item: EdgeItem, queued: int) -> None:
        self._write(self._ready_lines(item, queued), 2 * _size(item))

    def receive_empty(self, queued: int) -> None:
        self._write(self._qp(_RECEIVE_EMPTY, queued), 1)

    def receive_closed(self, queued: int) -> None:
        self._write(self._qp(_RECEIVE_CLOSED, queued), 1)

    def dropped(self, items: Sequence[EdgeItem]) -> None:
        lines = [line for item in items for line in self._messages(_DROPPED, item)]
        if lines:
            self._write("".join(lines), len(lines))
