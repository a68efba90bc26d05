"""The batch codec: a :class:`~pureflow.core.batch.Batch` as bytes for a cut edge.

A cut edge ships batches, never single packets: the envelope (workflow, execution and
attempt, route) is written once per batch; the ids as a range (``prefix``, first number)
when the batch was numbered by an output port, else one id per packet; the payload
column as it is (one kind for the whole column, or a kind per packet). Packets sent one
by one (a batch of kept packets) are written one row each: id, kind, value, tags.

Values are pickled (protocol 5). A value that cannot be pickled (a structured payload
holding a lock, a socket, a generator) is a :class:`PayloadNotSendable` naming the edge
and the packet: structured payloads never leave a process by themselves in Pureflow,
and on a cut edge they must. Nothing here imports Ray, so the codec is tested alone.

The codec reads the batch's column and id range directly (the same package family owns
both): a batch must come back with the ids, kinds, values, route and tags it left with.
"""

from __future__ import annotations

import pickle
from typing import Any, Final

from pureflow.core import ExecutionMetadata, MessageRoute, Packet, PacketPayload, PayloadKind
from pureflow.core.batch import Batch
from pureflow.core.packets import PacketTags
from pureflow.types import MessageId, WorkflowId

_PROTOCOL: Final = 5
_NUMBERED: Final = 0
_LISTED: Final = 1
_PACKETS: Final = 2
_new_object = object.__new__


class PayloadNotSendable(ValueError):
    """A packet's payload cannot be sent to another process (it does not pickle)."""


def encode_batch(batch: Batch, edge: str) -> bytes:
    """``batch`` as bytes; ``edge`` (``a.out -> b.in``) names the edge in errors."""
    lo, hi = batch._lo, batch._hi
    packets = batch._packets
    if packets is not None:
        rows = [
            (
                str(p.message_id),
                p.payload.kind.value,
                p.payload.value,
                None if p._tags is None else (dict(p._tags.tags), p._tags.hops),
                p.workflow_id,
                p.execution,
                p.route,
            )
            for p in packets[lo:hi]
        ]
        return _dumps((_PACKETS, rows), batch, edge)
    kind = None if batch.kind is None else batch.kind.value
    values = batch.values_[lo:hi]
    if batch.kind is None:
        values = [(p.kind.value, p.value) for p in values]
    header = (batch.workflow_id, batch.execution, batch.route, kind)
    if batch._ids is None:
        return _dumps((_NUMBERED, header, batch._prefix, batch._seq0 + lo, values), batch, edge)
    ids = [str(i) for i in batch._ids[lo:hi]]
    return _dumps((_LISTED, header, ids, values), batch, edge)


def _dumps(value: Any, batch: Batch, edge: str) -> bytes:
    try:
        return pickle.dumps(value, protocol=_PROTOCOL)
    except Exception as err:
        raise PayloadNotSendable(_unsendable(batch, edge, err)) from None


def _unsendable(batch: Batch, edge: str, err: Exception) -> str:
    """Which packet of ``batch`` does not pickle, and why."""
    for index in range(len(batch)):
        value = batch.payload(index).value
        try:
            pickle.dumps(value, protocol=_PROTOCOL)
        except Exception as found:
            return (
                f"edge `{edge}`: packet `{batch.message_id(index)}` carries a "
                f"{type(value).__name__} that cannot be sent to another process "
                f"({type(found).__name__}: {_first_line(found)}); send bytes, JSON values "
                "or picklable objects across machines"
            )
    return f"edge `{edge}`: a batch cannot be sent to another process: {_first_line(err)}"


def _first_line(err: Exception) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def decode_batch(data: bytes) -> Batch:
    """The batch :func:`encode_batch` wrote."""
    shape, *rest = pickle.loads(data)
    if shape == _PACKETS:
        (rows,) = rest
        return Batch.of_packets(_packet(*row) for row in rows)
    header = rest[0]
    workflow_id, execution, route, kind_value = header
    kind = None if kind_value is None else PayloadKind(kind_value)
    if shape == _NUMBERED:
        _, prefix, first, values = rest
    else:
        _, ids, values = rest
        prefix, first = "", 0
    if kind is None:
        values = [PacketPayload(PayloadKind(k), v) for k, v in values]
    batch = Batch.numbered(prefix, first, workflow_id, execution, route, kind, values)
    if shape == _LISTED:
        batch._ids = ids
    return batch


def _packet(  # noqa: PLR0917 - one encoded row
    message_id: str,
    kind: str,
    value: Any,
    tags: tuple[dict[str, Any], int] | None,
    workflow_id: WorkflowId,
    execution: ExecutionMetadata,
    route: MessageRoute,
) -> Packet:
    packet: Packet = _new_object(Packet)
    packet._mid = MessageId(message_id)
    packet._seq = None
    packet._held = None
    packet._tags = None if tags is None else PacketTags(*tags)
    packet.workflow_id = workflow_id
    packet.execution = execution
    packet.route = route
    packet.payload = PacketPayload(PayloadKind(kind), value)
    return packet
