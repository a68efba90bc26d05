"""The batch WIT as Python data, and its conversion to and from wasmtime component values.

The dataclasses mirror ``wit/pureflow-batch.wit`` one to one (``GuestEndpoint`` is the
``endpoint`` record, and so on). They hold validated identifiers, so a value that exists
is a value the WIT can carry and the graph can accept.

Both codecs (this module's generic one over wasmtime-py's values, and the bulk C-value
codec in ``_fastcodec``) work on a flat *row* form (:data:`PacketRow`, :data:`RowBatch`):
tuples of plain strings, cheap to build from core packets and to check against a run.

Host to guest (:func:`encode_port_batches`, :func:`encode_rows`) builds
``wasmtime.component.Record`` objects whose attributes are the kebab-case field names;
``payload`` is an untagged variant, so bytes travel as ``bytes`` and control as ``str``.

Guest to host (:func:`decode_invoke_result`) checks every value and raises
:class:`~pureflow.wasm.errors.WasmGuestError` for ``err(batch-error)`` and
:class:`~pureflow.wasm.errors.WasmOutputError` for anything malformed, with the original's
messages (``guest returned non-record packet``, ``guest omitted message metadata field
message-id``, ``guest returned zero execution attempt``, ``guest returned invalid control
payload: ...``, ``identifier validation failed: ...``). Unlike the original, a guest that
returns the same ``port-id`` twice is rejected (``guest returned duplicate port batch
`<p>` ``) instead of silently merged. A port batch with no packets is dropped, as in the
original.

The JSON form (:func:`port_batches_from_json`, :func:`port_batches_to_json`) is the one
the original's test data uses: kebab-case field names, payload ``{"bytes": [..]}`` or
``{"control": "<json text>"}``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeAlias

from pureflow.types import (
    ExecutionId,
    Identifier,
    IdentifierError,
    MessageId,
    NodeId,
    PortId,
    WorkflowId,
)
from pureflow.wasm.errors import WasmGuestError, WasmInputError, WasmOutputError
from wasmtime.component import Record, Variant

__all__ = [
    "BATCH_ERROR_TAGS",
    "GuestBytes",
    "GuestControl",
    "GuestEndpoint",
    "GuestExecution",
    "GuestMessageMetadata",
    "GuestPacket",
    "GuestPayload",
    "GuestRoute",
    "PacketRow",
    "PortBatch",
    "RowBatch",
    "canonical_json",
    "checked_control",
    "checked_ident",
    "decode_invoke_result",
    "decode_port_batches",
    "decode_rows",
    "encode_port_batches",
    "encode_rows",
    "make_guest_packet",
    "make_port_batches",
    "port_batches_from_json",
    "port_batches_from_rows",
    "port_batches_to_json",
    "rows_from_port_batches",
]

BATCH_ERROR_TAGS: Final = ("guest-failure", "unsupported-payload")
"""The cases of the WIT ``batch-error`` variant."""
_MAX_U32: Final = 2**32 - 1


def canonical_json(value: object) -> str:
    """Compact JSON with sorted object keys: the text a control payload carries."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _ident(cls: type[Identifier], value: object) -> Any:
    """Coerce ``value`` to the identifier type ``cls`` (a no-op if it already is one)."""
    if type(value) is cls:
        return value
    if not isinstance(value, str):
        raise TypeError(f"{cls.KIND.label} must be a string, not {type(value).__name__}")
    return cls(value)


@dataclass(frozen=True, slots=True)
class GuestEndpoint:
    """WIT ``endpoint``: a node and one of its ports."""

    node_id: NodeId
    port_id: PortId

    def __post_init__(self) -> None:
        object.__setattr__(self, "node_id", _ident(NodeId, self.node_id))
        object.__setattr__(self, "port_id", _ident(PortId, self.port_id))


@dataclass(frozen=True, slots=True)
class GuestRoute:
    """WIT ``route``: where a packet came from (if known) and where it was delivered."""

    source: GuestEndpoint | None
    target: GuestEndpoint


@dataclass(frozen=True, slots=True)
class GuestExecution:
    """WIT ``execution``: the run and its attempt (``attempt >= 1``)."""

    execution_id: ExecutionId
    attempt: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "execution_id", _ident(ExecutionId, self.execution_id))
        if isinstance(self.attempt, bool) or not isinstance(self.attempt, int):
            raise TypeError("attempt must be an integer")
        if not 1 <= self.attempt <= _MAX_U32:
            raise ValueError("attempt must be between 1 and 2**32 - 1")


@dataclass(frozen=True, slots=True)
class GuestMessageMetadata:
    """WIT ``message-metadata``: the envelope of a packet."""

    message_id: MessageId
    workflow_id: WorkflowId
    execution: GuestExecution
    route: GuestRoute

    def __post_init__(self) -> None:
        object.__setattr__(self, "message_id", _ident(MessageId, self.message_id))
        object.__setattr__(self, "workflow_id", _ident(WorkflowId, self.workflow_id))


@dataclass(frozen=True, slots=True)
class GuestBytes:
    """WIT ``payload.bytes``: opaque bytes."""

    data: bytes

    def __post_init__(self) -> None:
        data: object = self.data
        if not isinstance(data, bytes):
            object.__setattr__(self, "data", bytes(data))  # type: ignore[call-overload]


@dataclass(frozen=True, slots=True)
class GuestControl:
    """WIT ``payload.control``: JSON text (checked to parse when decoded from a guest)."""

    text: str

    @classmethod
    def from_value(cls, value: object) -> GuestControl:
        """The control payload holding ``value`` as compact JSON with sorted keys."""
        return cls(canonical_json(value))

    def value(self) -> object:
        """The parsed JSON value."""
        return json.loads(self.text)


GuestPayload: TypeAlias = GuestBytes | GuestControl
"""WIT ``payload``: bytes or control text."""


@dataclass(frozen=True, slots=True)
class GuestPacket:
    """WIT ``packet``: an envelope and a payload."""

    metadata: GuestMessageMetadata
    payload: GuestPayload


@dataclass(frozen=True, slots=True)
class PortBatch:
    """WIT ``port-batch``: packets for one port, in order."""

    port_id: PortId
    packets: tuple[GuestPacket, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "port_id", _ident(PortId, self.port_id))
        packets: object = self.packets
        if not isinstance(packets, tuple):
            object.__setattr__(self, "packets", tuple(packets))  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------
# The flat row form both codecs work on
# --------------------------------------------------------------------------------------

PacketRow: TypeAlias = tuple[
    str, str, str, int, tuple[str, str] | None, tuple[str, str], bytes | str
]
"""One packet as the codecs carry it: ``(message-id, workflow-id, execution-id, attempt,
source, target, payload)``; ``source`` is ``(node-id, port-id)`` or None, ``target`` a
``(node-id, port-id)``, ``payload`` bytes for the ``bytes`` case and str for ``control``.
Rows decoded from a guest are checked for shape only; identifiers are checked by whoever
turns them into packets (:func:`port_batches_from_rows`, or the node adapter, which checks
them against the run in the same pass)."""

RowBatch: TypeAlias = tuple[str, Sequence[PacketRow]]
"""``(port-id, rows)``: one ``port-batch`` in the row form."""


def rows_from_port_batches(batches: Iterable[PortBatch]) -> list[RowBatch]:
    """``batches`` in the row form, in the order given.

    Raises :class:`WasmInputError` for a payload the WIT cannot carry.
    """
    items: list[RowBatch] = []
    for batch in batches:
        rows: list[PacketRow] = []
        for packet in batch.packets:
            meta = packet.metadata
            route = meta.route
            source = route.source
            payload = packet.payload
            wire: bytes | str
            if type(payload) is GuestBytes:
                wire = payload.data
            elif type(payload) is GuestControl:
                wire = payload.text
            else:
                raise WasmInputError("payload is not supported by WIT ABI 0.1.0")
            rows.append(
                (
                    str(meta.message_id),
                    str(meta.workflow_id),
                    str(meta.execution.execution_id),
                    meta.execution.attempt,
                    None if source is None else (str(source.node_id), str(source.port_id)),
                    (str(route.target.node_id), str(route.target.port_id)),
                    wire,
                )
            )
        items.append((str(batch.port_id), rows))
    return items


def port_batches_from_rows(items: Iterable[RowBatch]) -> list[PortBatch]:
    """Rows a guest returned as checked port batches: identifiers validated, control text
    parsed, a port that appears twice rejected, ports without packets dropped.

    Raises :class:`WasmOutputError` on the first problem.
    """
    return make_port_batches(
        (port, [make_guest_packet(*row) for row in rows]) for port, rows in items
    )


# --------------------------------------------------------------------------------------
# Host -> guest (wasmtime-py's generic values)
# --------------------------------------------------------------------------------------


def _record(fields: dict[str, object]) -> Record:
    record = Record()
    record.__dict__.update(fields)
    return record


def _encode_endpoint(endpoint: tuple[str, str]) -> Record:
    return _record({"node-id": endpoint[0], "port-id": endpoint[1]})


def encode_rows(items: Iterable[RowBatch]) -> list[Record]:
    """The wasmtime value of ``list<port-batch>`` for rows (the generic codec)."""
    return [
        _record(
            {
                "port-id": port,
                "packets": [
                    _record(
                        {
                            "metadata": _record(
                                {
                                    "message-id": message_id,
                                    "workflow-id": workflow_id,
                                    "execution": _record(
                                        {"execution-id": execution_id, "attempt": attempt}
                                    ),
                                    "route": _record(
                                        {
                                            "source": None
                                            if source is None
                                            else _encode_endpoint(source),
                                            "target": _encode_endpoint(target),
                                        }
                                    ),
                                }
                            ),
                            "payload": payload,
                        }
                    )
                    for (
                        message_id,
                        workflow_id,
                        execution_id,
                        attempt,
                        source,
                        target,
                        payload,
                    ) in rows
                ],
            }
        )
        for port, rows in items
    ]


def encode_port_batches(batches: Iterable[PortBatch]) -> list[Record]:
    """The wasmtime value of ``list<port-batch>`` for ``batches``, in the order given.

    Raises :class:`WasmInputError` for a payload the WIT cannot carry.
    """
    return encode_rows(rows_from_port_batches(batches))


# --------------------------------------------------------------------------------------
# Guest -> host
# --------------------------------------------------------------------------------------

_MISSING: Final = object()


def _field(value: object, ctx: str, name: str) -> object:
    if not isinstance(value, Record):
        raise WasmOutputError(f"guest returned non-record {ctx}")
    found = value.__dict__.get(name, _MISSING)
    if found is _MISSING:
        raise WasmOutputError(f"guest omitted {ctx} field {name}")
    return found


def _string(value: object, ctx: str, name: str) -> str:
    found = _field(value, ctx, name)
    if not isinstance(found, str):
        raise WasmOutputError(f"guest returned non-string {ctx} field {name}")
    return found


# Guests repeat the same workflow, execution, node and port ids in every packet; validating
# each text once keeps decoding cheap (message ids are unique and not cached). Bounded:
# cleared when it grows past the limit.
_IDENT_CACHE: dict[tuple[type[Identifier], str], Identifier] = {}
_IDENT_CACHE_LIMIT: Final = 4096


def checked_ident(cls: type[Identifier], text: str) -> Any:
    """``cls(text)``, raising :class:`WasmOutputError` (``identifier validation failed:
    ...``) for an invalid one; repeated texts are validated once."""
    if cls is MessageId:  # unique per packet: caching would only evict the others
        try:
            return MessageId(text)
        except IdentifierError as err:
            raise WasmOutputError(f"identifier validation failed: {err}") from None
    key = (cls, text)
    found = _IDENT_CACHE.get(key)
    if found is not None:
        return found
    try:
        ident = cls(text)
    except IdentifierError as err:
        raise WasmOutputError(f"identifier validation failed: {err}") from None
    if len(_IDENT_CACHE) >= _IDENT_CACHE_LIMIT:
        _IDENT_CACHE.clear()
    _IDENT_CACHE[key] = ident
    return ident


def checked_control(text: str) -> str:
    """``text`` if it is JSON, else :class:`WasmOutputError` (``guest returned invalid
    control payload: ...``)."""
    try:
        json.loads(text)
    except ValueError as err:
        raise WasmOutputError(f"guest returned invalid control payload: {err}") from None
    return text


def make_guest_packet(  # noqa: PLR0917 - positional on purpose: called once per packet
    message_id: str,
    workflow_id: str,
    execution_id: str,
    attempt: int,
    source: tuple[str, str] | None,
    target: tuple[str, str],
    payload: bytes | str,
) -> GuestPacket:
    """Build a packet from values a guest returned (a row), with the decoder's checks and
    messages. ``payload`` is bytes (the ``bytes`` case) or str (the ``control`` case).
    """
    if attempt == 0:
        raise WasmOutputError("guest returned zero execution attempt")
    return GuestPacket(
        GuestMessageMetadata(
            checked_ident(MessageId, message_id),
            checked_ident(WorkflowId, workflow_id),
            GuestExecution(checked_ident(ExecutionId, execution_id), attempt),
            GuestRoute(
                None
                if source is None
                else GuestEndpoint(
                    checked_ident(NodeId, source[0]), checked_ident(PortId, source[1])
                ),
                GuestEndpoint(checked_ident(NodeId, target[0]), checked_ident(PortId, target[1])),
            ),
        ),
        GuestBytes(payload)
        if isinstance(payload, bytes)
        else GuestControl(checked_control(payload)),
    )


def make_port_batches(items: Iterable[tuple[str, Sequence[GuestPacket]]]) -> list[PortBatch]:
    """Assemble decoded ``(port-id, packets)`` pairs: checks the port ids, rejects a port
    that appears twice, drops ports without packets."""
    batches: list[PortBatch] = []
    seen: set[str] = set()
    for port, packets in items:
        port_id = checked_ident(PortId, port)
        if port_id in seen:
            raise WasmOutputError(f"guest returned duplicate port batch `{port_id}`")
        seen.add(port_id)
        if packets:
            batches.append(PortBatch(port_id, tuple(packets)))
    return batches


def _decode_endpoint(value: object) -> tuple[str, str]:
    if not isinstance(value, Record):
        raise WasmOutputError("guest returned non-record message endpoint")
    return (
        _string(value, "message endpoint", "node-id"),
        _string(value, "message endpoint", "port-id"),
    )


def _decode_payload(value: object) -> bytes | str:
    # wasmtime lifts the untagged `payload` variant to bytes or str; a tagged Variant shows
    # up only from hand-built values.
    if isinstance(value, Variant):
        if value.tag == "bytes":
            value = value.payload
            if not isinstance(value, bytes | list):
                raise WasmOutputError("guest returned non-list bytes payload")
        elif value.tag == "control":
            value = value.payload
            if not isinstance(value, str):
                raise WasmOutputError("guest returned non-string control payload")
        else:
            raise WasmOutputError(f"guest returned unsupported payload variant: {value.tag}")
    if isinstance(value, bytes | str):
        return value
    if isinstance(value, list):
        if not all(type(b) is int and 0 <= b <= 255 for b in value):
            raise WasmOutputError("guest returned non-u8 byte payload element")
        return bytes(value)
    raise WasmOutputError("guest returned non-variant payload")


def _decode_row(value: object) -> PacketRow:
    if not isinstance(value, Record):
        raise WasmOutputError("guest returned non-record packet")
    meta = _field(value, "packet", "metadata")
    ctx = "message metadata"
    if not isinstance(meta, Record):
        raise WasmOutputError(f"guest returned non-record {ctx}")
    message_id = _string(meta, ctx, "message-id")
    workflow_id = _string(meta, ctx, "workflow-id")
    execution = _field(meta, ctx, "execution")
    if not isinstance(execution, Record):
        raise WasmOutputError("guest returned non-record execution metadata")
    execution_id = _string(execution, "execution metadata", "execution-id")
    attempt = _field(execution, "execution metadata", "attempt")
    if isinstance(attempt, bool) or not isinstance(attempt, int) or not 0 <= attempt <= _MAX_U32:
        raise WasmOutputError("guest returned non-u32 execution metadata field attempt")
    route = _field(meta, ctx, "route")
    if not isinstance(route, Record):
        raise WasmOutputError("guest returned non-record message route")
    source = _field(route, "message route", "source")
    target = _field(route, "message route", "target")
    if isinstance(source, Variant):
        raise WasmOutputError("guest returned non-option route source")
    return (
        message_id,
        workflow_id,
        execution_id,
        attempt,
        None if source is None else _decode_endpoint(source),
        _decode_endpoint(target),
        _decode_payload(_field(value, "packet", "payload")),
    )


def _decode_row_batches(value: object) -> list[RowBatch]:
    if not isinstance(value, list):
        raise WasmOutputError("guest returned non-list batch output")
    items: list[RowBatch] = []
    for item in value:
        if not isinstance(item, Record):
            raise WasmOutputError("guest returned non-record port batch")
        port = _string(item, "port batch", "port-id")
        packets = _field(item, "port batch", "packets")
        if not isinstance(packets, list):
            raise WasmOutputError("guest returned non-list port batch field packets")
        items.append((port, [_decode_row(p) for p in packets]))
    return items


def decode_port_batches(value: object) -> list[PortBatch]:
    """Decode a ``list<port-batch>`` value a guest returned.

    Drops port batches without packets; rejects a ``port-id`` that appears twice.
    Raises :class:`WasmOutputError` for anything malformed.
    """
    return port_batches_from_rows(_decode_row_batches(value))


def _decode_batch_error(value: object) -> WasmGuestError:
    if not isinstance(value, Variant):
        return WasmGuestError("guest returned malformed batch error")
    tag = value.tag
    detail = value.payload
    if detail is None:
        return WasmGuestError(f"guest returned {tag} without detail", tag=tag)
    if not isinstance(detail, str):
        return WasmGuestError(f"guest returned malformed {tag} error", tag=tag)
    return WasmGuestError(f"guest returned {tag}: {detail}", tag=tag, detail=detail)


def decode_rows(value: object) -> list[RowBatch]:
    """The rows of the ``result<list<port-batch>, batch-error>`` that ``invoke`` returned
    (wasmtime-py's generic value), checked for shape only.

    ``err`` raises :class:`WasmGuestError` (``guest returned guest-failure: boom``); a
    malformed value raises :class:`WasmOutputError`.
    """
    if isinstance(value, Variant):
        if value.tag == "ok":
            if value.payload is None:
                raise WasmOutputError("guest returned empty ok result from batch.invoke")
            return _decode_row_batches(value.payload)
        if value.tag == "err":
            if value.payload is None:
                raise WasmOutputError("guest returned empty error from batch.invoke")
            raise _decode_batch_error(value.payload)
        if value.tag in BATCH_ERROR_TAGS:
            raise _decode_batch_error(value)
        raise WasmOutputError("guest returned non-result from batch.invoke")
    if value is None:
        raise WasmOutputError("guest returned empty ok result from batch.invoke")
    return _decode_row_batches(value)


def decode_invoke_result(value: object) -> list[PortBatch]:
    """Decode the ``result<list<port-batch>, batch-error>`` that ``invoke`` returned.

    ``ok`` gives the port batches; ``err`` raises :class:`WasmGuestError`
    (``guest returned guest-failure: boom``); a malformed value raises
    :class:`WasmOutputError`.
    """
    return port_batches_from_rows(decode_rows(value))


# --------------------------------------------------------------------------------------
# JSON form (the original's test data)
# --------------------------------------------------------------------------------------


def _json_endpoint(endpoint: GuestEndpoint) -> dict[str, object]:
    return {"node-id": str(endpoint.node_id), "port-id": str(endpoint.port_id)}


def port_batches_to_json(batches: Iterable[PortBatch]) -> list[dict[str, object]]:
    """The JSON form of ``batches`` (kebab-case keys, payload ``bytes`` or ``control``)."""
    out: list[dict[str, object]] = []
    for batch in batches:
        packets: list[dict[str, object]] = []
        for packet in batch.packets:
            meta = packet.metadata
            payload: dict[str, object]
            if isinstance(packet.payload, GuestBytes):
                payload = {"bytes": list(packet.payload.data)}
            else:
                payload = {"control": packet.payload.text}
            packets.append(
                {
                    "metadata": {
                        "message-id": str(meta.message_id),
                        "workflow-id": str(meta.workflow_id),
                        "execution": {
                            "execution-id": str(meta.execution.execution_id),
                            "attempt": meta.execution.attempt,
                        },
                        "route": {
                            "source": None
                            if meta.route.source is None
                            else _json_endpoint(meta.route.source),
                            "target": _json_endpoint(meta.route.target),
                        },
                    },
                    "payload": payload,
                }
            )
        out.append({"port-id": str(batch.port_id), "packets": packets})
    return out


def _from_json_value(value: object) -> object:
    """Turn the JSON form into the shape wasmtime lifts, so one decoder checks both."""
    if isinstance(value, Mapping):
        if set(value) == {"bytes"} and isinstance(value["bytes"], list):
            return value["bytes"]
        if set(value) == {"control"}:
            return Variant("control", value["control"])
        return _record({k: _from_json_value(v) for k, v in value.items()})
    if isinstance(value, list):
        return [_from_json_value(v) for v in value]
    return value


def port_batches_from_json(data: Sequence[object] | str | bytes) -> list[PortBatch]:
    """Parse the JSON form (a JSON text or the already-parsed list) into port batches.

    Raises :class:`WasmOutputError` with the decoder's messages for malformed data.
    """
    if isinstance(data, str | bytes):
        data = json.loads(data)
    return decode_port_batches(_from_json_value(data))
