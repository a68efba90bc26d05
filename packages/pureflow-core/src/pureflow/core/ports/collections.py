"""Port collections: a node's :class:`PortsIn` and :class:`PortsOut`.

A node gets one of each, holding an :class:`~pureflow.core.ports.InputPort` /
:class:`~pureflow.core.ports.OutputPort` per declared port, in declaration order.
Operations go through the collection (``await inputs.recv("in")``) or through a bound
port object, which skips the lookup (``out = outputs["out"]; await out.send(packet)``).
An undeclared port id raises ``PortRecvError``/``PortSendError`` ``UNKNOWN_PORT`` and
writes no record. ``PortsIn.recv_any`` serves several input ports fairly.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from anyio.lowlevel import checkpoint
from pureflow.core._waiter import Waiter
from pureflow.core.batch import Batch
from pureflow.core.context import CancellationToken, NodeContext, _CancelSlot
from pureflow.core.edges import Edge
from pureflow.core.errors import PortRecvError, PortSendError
from pureflow.core.metadata.sinks import MetadataSink
from pureflow.core.packets import Packet
from pureflow.core.ports.handles import InputPortHandle, OutputPortHandle
from pureflow.core.ports.input import InputPort
from pureflow.core.ports.output import OutputPacketValidator, OutputPort, SendPermit
from pureflow.core.scheduling import CHECKPOINT_INTERVAL, YieldBudget
from pureflow.types import PortId


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
    __slots__ = ("_budget", "_by_id", "_cancel", "_context", "_sink", "_token")

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
        """Close every port (idempotent). Every edge is released even when recording
        fails (a metadata sink that cannot write the ``dropped`` records); the first
        such failure is raised afterwards."""
        failure: Exception | None = None
        for port in self._ports:
            try:
                port.close()
            except Exception as error:  # re-raised below, once every port is closed
                failure = failure or error
        if failure is not None:
            raise failure


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
        budget: YieldBudget | None = None,
    ) -> None:
        declared = _declared(port_ids, "input")
        grouped = _group(declared, handles, "input")
        self._budget = budget if budget is not None else YieldBudget.for_thread()
        self._ports: tuple[InputPort, ...] = tuple(
            InputPort(port_id, grouped[port_id], self._budget) for port_id in declared
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

    async def recv_many(self, port_id: str, max_items: int) -> Batch:
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
        ports = self._ports if port_ids is None else tuple(self.port(p) for p in port_ids)
        count = len(ports)
        if not count:
            return None
        for port in ports:
            if port._rec is not None:
                port._rec.receive_attempted(port.queued_count())
        cancel = self._cancel
        if cancel.request is not None:
            raise PortRecvError.cancelled(ports[0].port_id)
        budget = self._budget
        reported: set[int] = set()
        while True:
            if budget.spent >= CHECKPOINT_INTERVAL and any(port._any_queued() for port in ports):
                # A packet is ready but the budget is spent: yield before taking it.
                budget.spent = 0
                await checkpoint()
            else:
                start = self._rr
                all_ended = True
                for offset in range(count):
                    index = (start + offset) % count
                    port = ports[index]
                    edge = port._ready()
                    if edge is not None:
                        budget.spent += 1
                        self._rr = (index + 1) % count
                        return port.port_id, port._take_ready(edge)
                    if port.at_end_of_stream():
                        if port._rec is not None and index not in reported:
                            reported.add(index)
                            port._rec.receive_closed(port.queued_count())
                    else:
                        all_ended = False
                if all_ended:
                    return None
                waiter = Waiter()
                for port in ports:
                    for edge in port._edges:
                        edge.add_recv_waiter(waiter)
                    port._waiting = True
                cancel.add(waiter)
                budget.spent = 0
                try:
                    await waiter.wait()
                finally:
                    cancel.discard(waiter)
                    for port in ports:
                        port._waiting = False
                        for edge in port._edges:
                            edge.remove_recv_waiter(waiter)
                budget.spent = 0
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
        budget: YieldBudget | None = None,
    ) -> None:
        declared = _declared(port_ids, "output")
        grouped = _group(declared, handles, "output")
        self._budget = budget if budget is not None else YieldBudget.for_thread()
        self._ports: tuple[OutputPort, ...] = tuple(
            OutputPort(port_id, grouped[port_id], self._budget) for port_id in declared
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
            budget=self._budget,
        )
        ports: list[OutputPort] = []
        for port in self._ports:
            copy = OutputPort(port.port_id, port._edges, self._budget)
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

    def packet(self, port_id: str, value: object, *, message_id: str | None = None) -> Packet:
        """See :meth:`OutputPort.packet`."""
        return self.port(port_id).packet(value, message_id=message_id)

    def batch(self, port_id: str, values: Iterable[object]) -> Batch:
        """See :meth:`OutputPort.batch`."""
        return self.port(port_id).batch(values)

    async def send(self, port_id: str, packet: Packet) -> None:
        """See :meth:`OutputPort.send`."""
        port = self._by_id.get(port_id)
        if port is None:
            raise PortSendError.unknown_port(port_id)
        await port.send(packet)

    async def send_many(self, port_id: str, packets: Batch | Iterable[Packet]) -> None:
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
