"""Packets: a payload in an envelope that says where it comes from and where it goes.

* :class:`PacketPayload`: ``bytes`` (an immutable buffer), ``control`` (one JSON value) or
  ``structured`` (any Python object, in-process only).
* :class:`MessageEndpoint`, :class:`MessageRoute`: routing facts (a node's port; an
  optional source and a target).
* :class:`MessageMetadata`: the envelope header (message id, workflow id, execution and
  attempt, route).
* :class:`Packet` (alias :data:`PortPacket`): the envelope. It is flat and slotted so
  that moving one through an edge costs little: the header fields are attributes, and
  :attr:`Packet.metadata` builds the :class:`MessageMetadata` view on demand.
* :class:`PacketTags`: the tags and the rule-hop count a packet carries once a rule node
  forwarded it (:attr:`Packet.tags`, :attr:`Packet.hops`); every copy of the packet
  (fan-out, :meth:`Packet.with_payload`...) keeps them, so rules downstream can test them.

Plain values become payloads by their type (:func:`payload_of`): ``bytes`` (and ``str``,
UTF-8 encoded) a byte payload, JSON data (``dict``, ``list``, ``tuple``, ``int``,
``float``, ``bool``, ``None``) a control payload, anything else a structured one.
:meth:`Packet.with_value` replaces a packet's value and keeps its kind where the value
fits it (a control packet's ``str`` stays a control string).

**Ownership.** As in classic flow-based programming, sending a packet hands it over: the
edge (and then the receiving node) owns it. A packet carries the route of the edge it
travels on, stamped when it is sent: on a packet nobody else holds the route is written
in place, so forwarding a received packet costs no copy; a packet already queued on an
edge (sent twice, or to a second port) is copied instead. When an output port fans a
packet out, every edge gets its own packet; a control value is deep-copied for every edge
after the first, so consumers never share a mutable JSON value. Structured objects are
*not* copied: treat them as immutable (frozen dataclasses, tuples) or copy them
yourself. Code that keeps a packet after sending it sees its new route.

Ids that are already typed (:class:`~pureflow.types.MessageId` and friends) are not
re-validated; plain strings are validated once, when the envelope is built.
"""

from __future__ import annotations

import builtins
import enum
import math
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Final, TypeAlias

from pureflow.core.context import ExecutionMetadata
from pureflow.types import MessageId, NodeId, PortId, WorkflowId

JsonValue: TypeAlias = (
    "bool | int | float | str | list[JsonValue] | tuple[JsonValue, ...] "
    "| dict[str, JsonValue] | None"
)
"""A JSON value as Python data (a tuple counts as an array)."""

_MAX_CONTROL_DEPTH: Final = 512


class PayloadKind(enum.Enum):
    """Which variant a :class:`PacketPayload` holds."""

    BYTES = "bytes"
    CONTROL = "control"
    STRUCTURED = "structured"


class PacketPayload:
    """The content of a packet. Build one with :meth:`bytes`, :meth:`control` or
    :meth:`structured`. Equality is structural (same kind, equal value). Treat it as
    immutable: a packet keeps its payload's kind and value, so build another payload (or
    use :meth:`Packet.with_value`) instead of assigning ``kind`` or ``value``."""

    __slots__ = ("kind", "value")

    kind: PayloadKind
    value: Any

    def __init__(self, kind: PayloadKind, value: Any) -> None:
        self.kind = kind
        self.value = value

    @classmethod
    def bytes(cls, data: builtins.bytes | bytearray | memoryview | str) -> PacketPayload:
        """A byte payload; a ``str`` is UTF-8 encoded, a ``bytes`` object is not copied."""
        raw: object = data
        if type(raw) is not builtins.bytes:
            if isinstance(raw, str):
                raw = raw.encode("utf-8")
            elif isinstance(raw, (bytearray | memoryview, builtins.bytes)):
                raw = builtins.bytes(raw)
            else:
                kind = type(raw).__name__
                raise TypeError(f"byte payload must be bytes-like or str, not {kind}")
        return cls(PayloadKind.BYTES, raw)

    @classmethod
    def control(cls, value: JsonValue) -> PacketPayload:
        """A control payload holding one JSON value (checked now: ``TypeError`` or
        ``ValueError`` if ``value`` is not JSON data; dict keys must be strings and floats
        finite)."""
        _check_json(value, 0)
        return cls(PayloadKind.CONTROL, value)

    @classmethod
    def structured(cls, value: object) -> PacketPayload:
        """Any Python object, passed by reference (in-process only; never serialised)."""
        return cls(PayloadKind.STRUCTURED, value)

    def as_bytes(self) -> builtins.bytes | None:
        return self.value if self.kind is PayloadKind.BYTES else None

    def as_memoryview(self) -> memoryview | None:
        """A zero-copy view of a byte payload (slice it without copying)."""
        return memoryview(self.value) if self.kind is PayloadKind.BYTES else None

    def as_control(self) -> JsonValue:
        """The JSON value of a control payload, or None for another kind."""
        return self.value if self.kind is PayloadKind.CONTROL else None

    def as_structured(self) -> object:
        return self.value if self.kind is PayloadKind.STRUCTURED else None

    @property
    def is_bytes(self) -> bool:
        return self.kind is PayloadKind.BYTES

    @property
    def is_control(self) -> bool:
        return self.kind is PayloadKind.CONTROL

    @property
    def is_structured(self) -> bool:
        return self.kind is PayloadKind.STRUCTURED

    def copy_for_fanout(self) -> PacketPayload:
        """The payload another fan-out edge gets: a deep copy of a control value, else
        ``self`` (bytes are immutable; structured objects are shared)."""
        if self.kind is PayloadKind.CONTROL:
            return PacketPayload(PayloadKind.CONTROL, _copy_json(self.value))
        return self

    @classmethod
    def of(cls, value: object) -> PacketPayload:
        """The payload for a plain value (see :func:`payload_of`)."""
        return payload_of(value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PacketPayload):
            return NotImplemented
        return self.kind is other.kind and bool(self.value == other.value)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"PacketPayload.{self.kind.value}({self.value!r})"


_BYTES_KIND: Final = PayloadKind.BYTES
_CONTROL: Final = PayloadKind.CONTROL
_STRUCTURED: Final = PayloadKind.STRUCTURED
_JSON_TYPES: Final = (dict, list, tuple, int, float, bool, type(None))


def payload_of(value: object) -> PacketPayload:
    """The payload a plain value travels as, chosen by its type.

    A :class:`PacketPayload` is itself; ``bytes`` a byte payload (not copied), ``str`` a
    UTF-8 byte payload, ``bytearray``/``memoryview`` a byte payload of a copy; JSON data
    (``dict``, ``list``, ``tuple``, ``int``, ``float``, ``bool``, ``None``) a control
    payload, checked like :meth:`PacketPayload.control` (``TypeError``/``ValueError``
    naming what is not JSON: wrap such a value in :meth:`PacketPayload.structured`);
    anything else a structured payload.
    """
    if value.__class__ is PacketPayload:
        return value
    kind, stored = _kind_value(value)
    return PacketPayload(kind, stored)


def payload_like(kind: PayloadKind, value: object) -> PacketPayload:
    """The payload for ``value`` replacing one of ``kind``: the same kind where the value
    fits it (a ``str`` replacing a control string stays control; ``str`` replacing bytes
    stays bytes), else as :func:`payload_of` chooses."""
    if value.__class__ is PacketPayload:
        return value
    new_kind, stored = _kind_value_like(kind, value)
    return PacketPayload(new_kind, stored)


def _kind_value(value: object) -> tuple[PayloadKind, Any]:
    """The kind and stored value :func:`payload_of` gives a plain value (not a payload):
    packets store the two without building a payload object."""
    cls = value.__class__
    if cls is bytes:
        return _BYTES_KIND, value
    if cls is str:
        return _BYTES_KIND, value.encode("utf-8")  # type: ignore[attr-defined]
    if isinstance(value, _JSON_TYPES):
        _check_json(value, 0)
        return _CONTROL, value
    if isinstance(value, bytearray | memoryview | builtins.bytes | str):
        return _BYTES_KIND, PacketPayload.bytes(value).value
    return _STRUCTURED, value


def _kind_value_like(kind: PayloadKind, value: object) -> tuple[PayloadKind, Any]:
    """:func:`_kind_value` for ``value`` replacing a value of ``kind`` (see
    :func:`payload_like`)."""
    cls = value.__class__
    if kind is _CONTROL and (cls is str or cls is int or cls is float or cls is bool):
        _check_json(value, 0)  # a float must be finite
        return _CONTROL, value
    if kind is _STRUCTURED:
        return _STRUCTURED, value
    return _kind_value(value)


def _require_payload(payload: object, what: str) -> PacketPayload:
    if payload.__class__ is not PacketPayload and not isinstance(payload, PacketPayload):
        raise TypeError(
            f"{what} takes a PacketPayload, not {type(payload).__name__}: build one with "
            "PacketPayload.bytes/control/structured, or pass the plain value to "
            "with_value() / OutputPort.packet()"
        )
    return payload


def _check_json(value: object, depth: int) -> None:
    if depth > _MAX_CONTROL_DEPTH:
        raise ValueError("control payload is nested too deeply")
    if value is None or isinstance(value, bool | int | str):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("control payload floats must be finite")
        return
    if isinstance(value, list | tuple):
        for item in value:
            _check_json(item, depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                kind = type(key).__name__
                raise TypeError(f"control payload object keys must be str, not {kind}")
            _check_json(item, depth + 1)
        return
    raise TypeError(f"control payload must be JSON data, not {type(value).__name__}")


def _copy_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _copy_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_copy_json(item) for item in value]
    return value


class MessageEndpoint:
    """One port of one node."""

    __slots__ = ("node_id", "port_id")

    node_id: NodeId
    port_id: PortId

    def __init__(self, node_id: str, port_id: str) -> None:
        self.node_id = node_id if type(node_id) is NodeId else NodeId(node_id)
        self.port_id = port_id if type(port_id) is PortId else PortId(port_id)

    def to_json_value(self) -> dict[str, str]:
        return {"node_id": str(self.node_id), "port_id": str(self.port_id)}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MessageEndpoint):
            return NotImplemented
        return self.node_id == other.node_id and self.port_id == other.port_id

    def __hash__(self) -> int:
        return hash((self.node_id, self.port_id))

    def __repr__(self) -> str:
        return f"MessageEndpoint({str(self.node_id)!r}, {str(self.port_id)!r})"


class MessageRoute:
    """Where a message goes: ``source`` (None for messages injected from outside the
    graph) and ``target``."""

    __slots__ = ("_json", "source", "target")

    source: MessageEndpoint | None
    target: MessageEndpoint

    def __init__(self, source: MessageEndpoint | None, target: MessageEndpoint) -> None:
        self.source = source
        self.target = target
        self._json: str | None = None  # the compact JSON text, cached by the records

    def to_json_value(self) -> dict[str, Any]:
        return {
            "source": None if self.source is None else self.source.to_json_value(),
            "target": self.target.to_json_value(),
        }

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MessageRoute):
            return NotImplemented
        return self.source == other.source and self.target == other.target

    def __hash__(self) -> int:
        return hash((self.source, self.target))

    def __repr__(self) -> str:
        return f"MessageRoute(source={self.source!r}, target={self.target!r})"


class MessageMetadata:
    """The envelope header: message id, workflow id, execution (id and attempt), route."""

    __slots__ = ("execution", "message_id", "route", "workflow_id")

    message_id: MessageId
    workflow_id: WorkflowId
    execution: ExecutionMetadata
    route: MessageRoute

    def __init__(
        self,
        message_id: str,
        workflow_id: str,
        execution: ExecutionMetadata,
        route: MessageRoute,
    ) -> None:
        self.message_id = message_id if type(message_id) is MessageId else MessageId(message_id)
        self.workflow_id = (
            workflow_id if type(workflow_id) is WorkflowId else WorkflowId(workflow_id)
        )
        self.execution = execution
        self.route = route

    def with_route(self, route: MessageRoute) -> MessageMetadata:
        return MessageMetadata(self.message_id, self.workflow_id, self.execution, route)

    def to_json_value(self) -> dict[str, Any]:
        """The ``message`` object of message records."""
        return {
            "execution": self.execution.to_json_value(),
            "message_id": str(self.message_id),
            "route": self.route.to_json_value(),
            "workflow_id": str(self.workflow_id),
        }

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MessageMetadata):
            return NotImplemented
        return (self.message_id, self.workflow_id, self.execution, self.route) == (
            other.message_id,
            other.workflow_id,
            other.execution,
            other.route,
        )

    def __hash__(self) -> int:
        return hash((self.message_id, self.workflow_id, self.execution, self.route))

    def __repr__(self) -> str:
        return (
            f"MessageMetadata(message_id={str(self.message_id)!r}, "
            f"workflow_id={str(self.workflow_id)!r}, execution={self.execution!r}, "
            f"route={self.route!r})"
        )


TagValue: TypeAlias = "str | int | float | bool | None"
"""A tag's value: a JSON scalar, kept with its exact type (``1``, ``1.0`` and ``True``
are three different values)."""

_NO_TAGS: Final[Mapping[str, Any]] = MappingProxyType({})


class PacketTags:
    """Tags (key -> JSON scalar) and the number of rule nodes that forwarded a packet.

    Immutable; rule nodes build a new one for each packet they forward.
    """

    __slots__ = ("hops", "tags")

    tags: Mapping[str, TagValue]
    hops: int

    def __init__(self, tags: Mapping[str, TagValue] | None = None, hops: int = 0) -> None:
        self.tags = MappingProxyType(dict(tags)) if tags else _NO_TAGS
        self.hops = hops

    def with_hops(self, hops: int) -> PacketTags:
        """The same tags (shared, not copied) with another hop count."""
        copy: PacketTags = _new_object(PacketTags)
        copy.tags = self.tags
        copy.hops = hops
        return copy

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PacketTags):
            return NotImplemented
        return self.hops == other.hops and _typed(self.tags) == _typed(other.tags)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"PacketTags({dict(self.tags)!r}, hops={self.hops})"


def _typed(tags: Mapping[str, TagValue]) -> dict[str, tuple[type, TagValue]]:
    return {key: (type(value), value) for key, value in tags.items()}


_new_object = object.__new__
_new_str = str.__new__


class Packet:
    """A message envelope: header fields plus a :class:`PacketPayload`.

    ``Packet(metadata, payload)`` builds one from a :class:`MessageMetadata`;
    :meth:`create` builds one from plain values. The header is also available field by
    field (``message_id``, ``workflow_id``, ``execution``, ``route``), and so are the tags
    rule nodes attach (:attr:`tags`, :attr:`hops`; empty and 0 for a new packet).
    """

    # ``message_id`` is a property over ``_mid``/``_seq``: an output port's numbered ids
    # (``{node}-{port}-{n}``) are only joined into a MessageId when first read, which
    # keeps building a packet on the hot path to one object and a few slot stores.
    # The payload is stored as ``_kind`` and ``_value``: a packet built from a plain value
    # (``OutputPort.packet``, ``with_value``, a batch's packets) is one object, and
    # ``payload`` builds the PacketPayload view when first read (``_payload`` caches it,
    # or holds the payload the packet was built from).
    # ``_held`` is the edge that holds the packet while it is queued (see "Ownership").
    # ``_tags`` is None until a rule node tags the packet; every copy carries it over.
    __slots__ = (
        "_held",
        "_kind",
        "_mid",
        "_payload",
        "_seq",
        "_tags",
        "_value",
        "execution",
        "route",
        "workflow_id",
    )

    _mid: str
    _seq: int | None
    _held: object
    _tags: PacketTags | None
    _kind: PayloadKind
    _value: Any
    _payload: PacketPayload | None
    workflow_id: WorkflowId
    execution: ExecutionMetadata
    route: MessageRoute

    def __init__(self, metadata: MessageMetadata, payload: PacketPayload) -> None:
        payload = _require_payload(payload, "Packet()")
        self._mid = metadata.message_id
        self._seq = None
        self._held = None
        self._tags = None
        self.workflow_id = metadata.workflow_id
        self.execution = metadata.execution
        self.route = metadata.route
        self._kind = payload.kind
        self._value = payload.value
        self._payload = payload

    @classmethod
    def create(
        cls,
        message_id: str,
        workflow_id: str,
        execution: ExecutionMetadata,
        route: MessageRoute,
        payload: PacketPayload,
    ) -> Packet:
        """Build a packet from header values (strings are validated as ids)."""
        return cls(MessageMetadata(message_id, workflow_id, execution, route), payload)

    @property
    def payload(self) -> PacketPayload:
        """The payload (built on first access for a packet made from a plain value)."""
        payload = self._payload
        if payload is None:  # built without __init__: one call less per read
            payload = _new_object(PacketPayload)
            payload.kind = self._kind
            payload.value = self._value
            self._payload = payload
        return payload

    @payload.setter
    def payload(self, payload: PacketPayload) -> None:
        payload = _require_payload(payload, "Packet.payload")
        self._kind = payload.kind
        self._value = payload.value
        self._payload = payload

    @property
    def message_id(self) -> MessageId:
        """The message id (a :class:`~pureflow.types.MessageId`)."""
        seq = self._seq
        if seq is None:
            return self._mid  # type: ignore[return-value]  # a MessageId when _seq is None
        # A numbered id from an output port whose length was checked when it was built.
        mid: MessageId = _new_str(MessageId, self._mid + str(seq))
        self._mid = mid
        self._seq = None
        return mid

    @property
    def tags(self) -> Mapping[str, TagValue]:
        """The tags rule nodes attached (read-only; empty for an untagged packet)."""
        tags = self._tags
        return _NO_TAGS if tags is None else tags.tags

    @property
    def hops(self) -> int:
        """How many rule nodes forwarded this packet (0 for a new packet)."""
        tags = self._tags
        return 0 if tags is None else tags.hops

    def with_tags(self, tags: PacketTags | None) -> Packet:
        """A packet with the same header, route and payload, carrying ``tags``."""
        packet = self._copy(self.route)
        packet._tags = tags
        return packet

    @property
    def metadata(self) -> MessageMetadata:
        """The header as a :class:`MessageMetadata` (built on each access)."""
        return MessageMetadata(self.message_id, self.workflow_id, self.execution, self.route)

    @property
    def value(self) -> Any:
        """The payload's value: ``bytes``, a JSON value or the structured object."""
        return self._value

    def into_payload(self) -> PacketPayload:
        return self.payload

    def map_payload(self, function: Callable[[PacketPayload], PacketPayload]) -> Packet:
        """A packet with the same header (id and route included) and a new payload."""
        return self._rebuild(self.route, _require_payload(function(self.payload), "map_payload"))

    def with_payload(self, payload: PacketPayload) -> Packet:
        """The same header with ``payload`` (a :class:`PacketPayload`; ``TypeError`` for
        anything else: a plain value goes to :meth:`with_value`)."""
        return self._rebuild(self.route, _require_payload(payload, "with_payload"))

    def with_value(self, value: object) -> Packet:
        """The same header (id and route included) with a new value: the kind stays this
        packet's where the value fits it, else it is chosen by the value's type (see
        :func:`payload_like`)."""
        kind = self._kind
        if value.__class__ is bytes and kind is not _STRUCTURED:
            # _kind_value_like's answer for bytes replacing bytes or control and _derived,
            # inline: no call but the allocation (the natural rows of benchmarks/README.md
            # call this per packet and hop).
            packet: Packet = _new_object(Packet)
            packet._mid = self._mid
            packet._seq = self._seq
            packet._held = None
            packet._tags = self._tags
            packet.workflow_id = self.workflow_id
            packet.execution = self.execution
            packet.route = self.route
            packet._kind = _BYTES_KIND
            packet._value = value
            packet._payload = None
            return packet
        if value.__class__ is PacketPayload:
            return self._rebuild(self.route, value)
        kind, stored = _kind_value_like(kind, value)
        return self._derived(self.route, kind, stored, None)

    def with_route(self, route: MessageRoute) -> Packet:
        return self._copy(route)

    def _copy(self, route: MessageRoute) -> Packet:
        """The same header and payload, on ``route`` (a packet nobody holds)."""
        return self._derived(route, self._kind, self._value, self._payload)

    def _derived(
        self, route: MessageRoute, kind: PayloadKind, value: Any, payload: PacketPayload | None
    ) -> Packet:
        """This packet's header (id, tags, workflow, execution) on ``route`` with a new
        payload (``payload``: its object, if one exists already); nobody holds it."""
        packet: Packet = _new_object(Packet)
        packet._mid = self._mid
        packet._seq = self._seq
        packet._held = None
        packet._tags = self._tags
        packet.workflow_id = self.workflow_id
        packet.execution = self.execution
        packet.route = route
        packet._kind = kind
        packet._value = value
        packet._payload = payload
        return packet

    def _rebuild(self, route: MessageRoute, payload: PacketPayload) -> Packet:
        """The same header on ``route`` with ``payload``."""
        return self._derived(route, payload.kind, payload.value, payload)

    def _fanout_copy(self) -> Packet:
        """The copy another edge of a fan-out gets: the same header and route, a control
        value deep-copied (see :meth:`PacketPayload.copy_for_fanout`)."""
        if self._kind is _CONTROL:
            return self._derived(self.route, _CONTROL, _copy_json(self._value), None)
        return self._copy(self.route)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Packet):
            return NotImplemented
        return (
            self.message_id == other.message_id
            and self.workflow_id == other.workflow_id
            and self.execution == other.execution
            and self.route == other.route
            and self._kind is other._kind
            and bool(self._value == other._value)
            and self.hops == other.hops
            and _typed(self.tags) == _typed(other.tags)
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Packet(message_id={str(self.message_id)!r}, payload={self.payload!r})"


PortPacket = Packet
"""The original's name for a packet on a port."""

MessageEnvelope = Packet
"""The original's name for the envelope type."""
