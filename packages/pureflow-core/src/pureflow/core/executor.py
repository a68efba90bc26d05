"""What runs a node: the streaming :class:`NodeExecutor` and the :class:`BatchExecutor`.

A :class:`NodeExecutor` is one whole node lifetime: ``await executor.run(ctx, inputs,
outputs)`` is called once per node and runs until the node is done, receiving and
sending through the ports as it goes. It reports failure by raising a
:class:`~pureflow.core.errors.PureflowError` subclass (port errors may propagate as they
are; the runtime maps them). One executor object may serve several nodes and dispatch on
``ctx.node_id``. The runtime closes ``inputs`` and ``outputs`` when ``run`` ends, however
it ends.

A :class:`BatchExecutor` is topology-blind and synchronous: it turns a
:class:`BatchInputs` (packets grouped by input port) into a :class:`BatchOutputs`
(packets grouped by output port). Both maps iterate in port-id order and keep packet
order within a port. Empty inputs must give empty outputs. The host runs it off the event
loop and sends the outputs port by port in sorted order.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from typing import Protocol, TypeVar, runtime_checkable

from pureflow.core.context import NodeContext
from pureflow.core.packets import Packet
from pureflow.core.ports import PortsIn, PortsOut
from pureflow.types import PortId


@runtime_checkable
class NodeExecutor(Protocol):
    """Runs one node for its whole lifetime; raises ``PureflowError`` on failure."""

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None: ...


NodeFunction = Callable[[NodeContext, PortsIn, PortsOut], Awaitable[None]]
"""An ``async def node(ctx, inputs, outputs) -> None`` function."""


class FunctionNodeExecutor:
    """A :class:`NodeExecutor` that calls an ``async`` function."""

    __slots__ = ("function",)

    def __init__(self, function: NodeFunction) -> None:
        self.function = function

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        await self.function(ctx, inputs, outputs)

    def __repr__(self) -> str:
        name = getattr(self.function, "__qualname__", repr(self.function))
        return f"FunctionNodeExecutor({name})"


def node_executor(function: NodeFunction) -> FunctionNodeExecutor:
    """Decorator: turn ``async def node(ctx, inputs, outputs)`` into a NodeExecutor."""
    return FunctionNodeExecutor(function)


B = TypeVar("B", bound="PacketBatch")


class PacketBatch:
    """Packets grouped by port id: iteration and :meth:`packets_by_port` follow sorted
    port-id order, packets keep their push order. Equality is structural."""

    __slots__ = ("_packets",)

    def __init__(self, packets: Mapping[str, Iterable[Packet]] | None = None) -> None:
        self._packets: dict[PortId, list[Packet]] = {}
        if packets:
            for port_id, items in packets.items():
                self._packets[PortId(port_id)] = list(items)

    @classmethod
    def new(cls: type[B]) -> B:
        return cls()

    @classmethod
    def from_packets(cls: type[B], packets: Mapping[str, Iterable[Packet]]) -> B:
        return cls(packets)

    def push(self, port_id: str, packet: Packet) -> None:
        """Append a packet to a port's list (created on first use)."""
        key = port_id if type(port_id) is PortId else PortId(port_id)
        items = self._packets.get(key)
        if items is None:
            self._packets[key] = [packet]
        else:
            items.append(packet)

    def packets(self, port_id: str) -> list[Packet]:
        """A copy of one port's packets (empty if the port has none)."""
        return list(self._packets.get(port_id, ()))  # type: ignore[call-overload]

    def port_ids(self) -> list[PortId]:
        return sorted(self._packets)

    def packets_by_port(self) -> dict[PortId, list[Packet]]:
        """A sorted copy of the map."""
        return {port_id: list(self._packets[port_id]) for port_id in sorted(self._packets)}

    def into_packets_by_port(self) -> dict[PortId, list[Packet]]:
        """The sorted map, emptying this batch."""
        result = {port_id: self._packets[port_id] for port_id in sorted(self._packets)}
        self._packets = {}
        return result

    def is_empty(self) -> bool:
        return not any(self._packets.values())

    def __len__(self) -> int:
        """The total number of packets."""
        return sum(len(items) for items in self._packets.values())

    def __iter__(self) -> Iterator[tuple[PortId, list[Packet]]]:
        for port_id in sorted(self._packets):
            yield port_id, list(self._packets[port_id])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PacketBatch) or type(self) is not type(other):
            return NotImplemented
        return self.packets_by_port() == other.packets_by_port()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        counts = {str(port): len(items) for port, items in self}
        return f"{type(self).__name__}({counts!r})"


class BatchInputs(PacketBatch):
    """A batch executor's input: packets by input port, sorted by port id."""

    __slots__ = ()


class BatchOutputs(PacketBatch):
    """A batch executor's output: packets by output port, sorted by port id."""

    __slots__ = ()


@runtime_checkable
class BatchExecutor(Protocol):
    """Turns a batch of inputs into a batch of outputs; synchronous, may block.

    Raises ``PureflowError`` on failure. Empty inputs give empty outputs.
    """

    def invoke(self, inputs: BatchInputs) -> BatchOutputs: ...
