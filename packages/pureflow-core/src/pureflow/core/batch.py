"""Batches: many packets that travel as one.

A :class:`Batch` is one envelope header (workflow, execution and attempt, route) over a
column of payloads, with the message ids as a range (``{prefix}{n}``, ``{prefix}{n+1}``,
...) or a list. An edge queues a batch as one item while its capacity still counts
packets, so ``send_many``/``recv_many`` move many packets for about the cost of one.
Nothing is built per packet until code asks for a packet: iterating a batch, or indexing
it, yields ordinary :class:`~pureflow.core.packets.Packet` objects on demand.

The payload column is ``kind`` plus ``values``: one :class:`PayloadKind` for every value
(the common case: nothing but the values is stored), or ``kind`` ``None`` with a
:class:`PacketPayload` per item. (A column is a sequence, so an Apache Arrow array can be
one later without changing the rest.) Batches that come from packets sent one by one
keep those packets as they are (:meth:`Batch.of_packets`).

Node code works on a batch with :meth:`Batch.values` (the column of values),
:meth:`Batch.map` and :meth:`Batch.with_values` (the same ids and header, new values)::

    while batch := await inputs["in"].recv_many(64):
        await out.send_many(batch.map(bytes.upper))

Like a packet, a batch is handed over when it is sent (see "Ownership" in
:mod:`pureflow.core.packets`): the edge may split it (a receiver asking for fewer
packets takes the head; the rest stays queued), so code must not use a batch after
sending it. Views taken with slicing share the column and are never changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Final, overload

from pureflow.core.context import ExecutionMetadata
from pureflow.core.packets import (
    MessageRoute,
    Packet,
    PacketPayload,
    PayloadKind,
    payload_like,
    payload_of,
)
from pureflow.types import MAX_IDENTIFIER_LEN, MessageId, WorkflowId

_new_object = object.__new__
_new_str = str.__new__
_CONTROL: Final = PayloadKind.CONTROL


def column_of(values: Sequence[object]) -> tuple[PayloadKind | None, list[Any]]:
    """``(kind, values)`` for plain values: one kind and the values as they travel when
    every value has the same kind, else ``(None, [payload per value])``."""
    types = set(map(type, values))  # one pass in C: the common columns are of one type
    if types == {bytes}:
        return PayloadKind.BYTES, values if isinstance(values, list) else list(values)
    if types == {str}:
        return PayloadKind.BYTES, [value.encode("utf-8") for value in values]  # type: ignore[attr-defined]
    payloads = [payload_of(value) for value in values]
    if not payloads:
        return PayloadKind.BYTES, []
    kind = payloads[0].kind
    for payload in payloads:
        if payload.kind is not kind:
            return None, payloads
    return kind, [payload.value for payload in payloads]


class Batch(Sequence[Packet]):
    """Packets that share an envelope header, moved as one item (see the module doc).

    Build one with :meth:`OutputPort.batch <pureflow.core.ports.OutputPort.batch>` (fresh
    ids from the port), :meth:`of_packets`, or :meth:`with_values` / :meth:`map` of a
    received one. ``len(batch)`` counts packets; ``batch[i]`` and iteration give packets;
    ``batch[i:j]`` a batch view.
    """

    __slots__ = (
        "_held",
        "_hi",
        "_ids",
        "_lo",
        "_packets",
        "_prefix",
        "_seq0",
        "execution",
        "kind",
        "route",
        "values_",
        "workflow_id",
    )

    _held: object
    _lo: int
    _hi: int
    _prefix: str
    _seq0: int
    _ids: Sequence[str] | None
    _packets: list[Packet] | None
    kind: PayloadKind | None
    values_: Sequence[Any]
    workflow_id: WorkflowId
    execution: ExecutionMetadata
    route: MessageRoute

    # --- building --------------------------------------------------------------------

    @classmethod
    def numbered(  # noqa: PLR0917 - the header, then the column
        cls,
        prefix: str,
        first: int,
        workflow_id: WorkflowId,
        execution: ExecutionMetadata,
        route: MessageRoute,
        kind: PayloadKind | None,
        values: Sequence[Any],
    ) -> Batch:
        """A batch whose ids are ``{prefix}{first}``, ``{prefix}{first + 1}``, ... (the
        caller checked that the last one is a valid message id)."""
        batch: Batch = _new_object(cls)
        batch._held = None
        batch._packets = None
        batch._prefix = prefix
        batch._seq0 = first
        batch._ids = None
        batch._lo = 0
        batch._hi = len(values)
        batch.workflow_id = workflow_id
        batch.execution = execution
        batch.route = route
        batch.kind = kind
        batch.values_ = values
        return batch

    @classmethod
    def of_packets(cls, packets: Iterable[Packet]) -> Batch:
        """A batch of existing packets, kept as they are (their own ids, headers and
        payloads): what packets sent one by one become when received together."""
        items = list(packets)
        batch: Batch = _new_object(cls)
        batch._held = None
        batch._packets = items
        batch._prefix = ""
        batch._seq0 = 0
        batch._ids = None
        batch._lo = 0
        batch._hi = len(items)
        if items:
            first = items[0]
            batch.workflow_id = first.workflow_id
            batch.execution = first.execution
            batch.route = first.route
        batch.kind = None
        batch.values_ = ()
        return batch

    def _same_header(self, kind: PayloadKind | None, values: Sequence[Any]) -> Batch:
        """This batch's ids and header over a new column (``len(values) == len(self)``)."""
        if self._packets is not None:  # packets kept as they are: each keeps its header
            packets = self._packets[self._lo : self._hi]
            if kind is None:
                return Batch.of_packets(
                    p._rebuild(p.route, payload) for p, payload in zip(packets, values, strict=True)
                )
            return Batch.of_packets(
                p._derived(p.route, kind, value, None)
                for p, value in zip(packets, values, strict=True)
            )
        batch: Batch = _new_object(Batch)
        batch._held = None
        batch._packets = None
        batch._prefix = self._prefix
        batch._seq0 = self._seq0 + self._lo
        batch._ids = None if self._ids is None else self._ids[self._lo : self._hi]
        batch._lo = 0
        batch._hi = len(values)
        batch.workflow_id = self.workflow_id
        batch.execution = self.execution
        batch.route = self.route
        batch.kind = kind
        batch.values_ = values
        return batch

    def with_values(self, values: Iterable[object]) -> Batch:
        """The same ids and header with new values, one per packet (``ValueError`` if the
        count differs); each keeps its packet's kind where it fits (as
        :meth:`Packet.with_value <pureflow.core.packets.Packet.with_value>`)."""
        new = list(values)
        if len(new) != len(self):
            raise ValueError(f"with_values needs {len(self)} values, got {len(new)}")
        kind = self.kind
        # The fast, common cases: values that keep the column's kind as they are.
        if kind is PayloadKind.STRUCTURED and not any(v.__class__ is PacketPayload for v in new):
            return self._same_header(kind, new)
        if kind is PayloadKind.BYTES and set(map(type, new)) == {bytes}:
            return self._same_header(kind, new)
        kinds = self._kinds()
        payloads = [payload_like(k, v) for k, v in zip(kinds, new, strict=True)]
        first = payloads[0].kind if payloads else kind
        if all(p.kind is first for p in payloads):
            return self._same_header(first, [p.value for p in payloads])
        return self._same_header(None, payloads)

    def map(self, function: Callable[[Any], object]) -> Batch:
        """:meth:`with_values` of ``function`` applied to every value."""
        return self.with_values([function(value) for value in self.values()])

    # --- reading ----------------------------------------------------------------------

    def values(self) -> list[Any]:
        """The payload values, in order (bytes, JSON values or structured objects)."""
        if self._packets is not None:
            return [p._value for p in self._packets[self._lo : self._hi]]
        if self.kind is None:
            return [p.value for p in self.values_[self._lo : self._hi]]
        values = self.values_
        if self._lo == 0 and self._hi == len(values) and isinstance(values, list):
            return values
        return list(values[self._lo : self._hi])

    def _kinds(self) -> list[PayloadKind]:
        if self._packets is not None:
            return [p._kind for p in self._packets[self._lo : self._hi]]
        if self.kind is None:
            return [p.kind for p in self.values_[self._lo : self._hi]]
        return [self.kind] * len(self)

    def payload(self, index: int) -> PacketPayload:
        """The payload of packet ``index`` (0-based within this batch)."""
        i = self._lo + index
        if self._packets is not None:
            return self._packets[i].payload
        if self.kind is None:
            payload: PacketPayload = self.values_[i]
            return payload
        return PacketPayload(self.kind, self.values_[i])

    def message_id(self, index: int) -> MessageId:
        i = self._lo + index
        if self._packets is not None:
            return self._packets[i].message_id
        if self._ids is not None:
            return _message_id(self._ids[i])
        mid: MessageId = _new_str(MessageId, f"{self._prefix}{self._seq0 + i}")
        return mid

    def message_ids(self) -> list[str]:
        """Every packet's message id, in order."""
        if self._packets is not None:
            return [str(p.message_id) for p in self._packets[self._lo : self._hi]]
        if self._ids is not None:
            return [str(i) for i in self._ids[self._lo : self._hi]]
        prefix, seq0 = self._prefix, self._seq0
        return [f"{prefix}{seq0 + i}" for i in range(self._lo, self._hi)]

    def __len__(self) -> int:
        return self._hi - self._lo

    def _packet(self, i: int) -> Packet:
        """Packet at absolute column index ``i``."""
        if self._packets is not None:
            return self._packets[i]
        packet: Packet = _new_object(Packet)
        if self._ids is not None:
            packet._mid = _message_id(self._ids[i])
            packet._seq = None
        else:
            packet._mid = self._prefix
            packet._seq = self._seq0 + i
        packet._held = None
        packet._tags = None
        packet.workflow_id = self.workflow_id
        packet.execution = self.execution
        packet.route = self.route
        value = self.values_[i]
        kind = self.kind
        if kind is None:  # a payload per packet
            packet._kind = value.kind
            packet._value = value.value
            packet._payload = value
        else:
            packet._kind = kind
            packet._value = value
            packet._payload = None
        return packet

    @overload
    def __getitem__(self, index: int) -> Packet: ...

    @overload
    def __getitem__(self, index: slice) -> Batch: ...

    def __getitem__(self, index: int | slice) -> Packet | Batch:
        size = self._hi - self._lo
        if isinstance(index, slice):
            start, stop, step = index.indices(size)
            if step != 1:
                raise ValueError("a batch slice must be contiguous (step 1)")
            return self._view(self._lo + start, self._lo + max(start, stop))
        if index < 0:
            index += size
        if not 0 <= index < size:
            raise IndexError("batch index out of range")
        return self._packet(self._lo + index)

    def __iter__(self) -> Iterator[Packet]:
        if self._packets is not None:
            return iter(self._packets[self._lo : self._hi])
        return map(self._packet, range(self._lo, self._hi))

    def _view(self, lo: int, hi: int) -> Batch:
        batch: Batch = _new_object(Batch)
        batch._held = None
        batch._packets = self._packets
        batch._prefix = self._prefix
        batch._seq0 = self._seq0
        batch._ids = self._ids
        batch._lo = lo
        batch._hi = hi
        if self._packets is None or self._packets:
            batch.workflow_id = self.workflow_id
            batch.execution = self.execution
            batch.route = self.route
        batch.kind = self.kind
        batch.values_ = self.values_
        return batch

    # --- what edges and ports do --------------------------------------------------------

    def _split(self, count: int) -> Batch:
        """Take the first ``count`` packets off this batch (0 < count < len): returned as
        a view, and this batch keeps the rest (it is owned by the edge that splits it)."""
        head = self._view(self._lo, self._lo + count)
        self._lo += count
        return head

    def _pop_packet(self) -> Packet:
        """Take the first packet off this batch (it is not empty)."""
        packet = self._packet(self._lo)
        self._lo += 1
        return packet

    def _routed(self, route: MessageRoute | None, copy_control: bool) -> Batch:
        """This batch for an edge: the route stamped in place when nobody holds it yet,
        else a view with the route (control values deep-copied when ``copy_control``)."""
        if self._held is None and not copy_control:
            if route is not None and self._packets is None:
                self.route = route
            elif route is not None and self._packets is not None:
                self._packets = [
                    p if p.route is route else p._copy(route)
                    for p in self._packets[self._lo : self._hi]
                ]
                self._hi -= self._lo
                self._lo = 0
                self.route = route
            return self
        if self._packets is not None:
            packets = [
                p._fanout_copy() if copy_control else p._copy(p.route)
                for p in self._packets[self._lo : self._hi]
            ]
            if route is not None:
                for p in packets:
                    p.route = route
            return Batch.of_packets(packets)
        copy = self._view(self._lo, self._hi)
        if route is not None:
            copy.route = route
        if copy_control and (self.kind is _CONTROL or self.kind is None):
            payloads = [self.payload(i).copy_for_fanout() for i in range(len(self))]
            copy.values_ = payloads if self.kind is None else [p.value for p in payloads]
            copy._lo, copy._hi = 0, len(payloads)
            if copy._ids is not None:
                copy._ids = copy._ids[self._lo : self._hi]
            else:
                copy._seq0 = self._seq0 + self._lo
        return copy

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Batch | list | tuple):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        kind = "mixed" if self.kind is None else self.kind.value
        ids = self.message_ids()
        span = f"{ids[0]}..{ids[-1]}" if len(ids) > 1 else (ids[0] if ids else "")
        return f"Batch({len(self)} packets, {kind}, {span})"


def _message_id(text: str) -> MessageId:
    return text if type(text) is MessageId else MessageId(text)


def numbered_id_limit(prefix: str) -> int:
    """The first sequence number whose ``{prefix}{n}`` id would be too long."""
    digits = MAX_IDENTIFIER_LEN - len(prefix.encode("utf-8"))
    return 10**digits if digits > 0 else 0
