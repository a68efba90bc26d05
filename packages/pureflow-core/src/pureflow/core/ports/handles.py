"""Port handles: a port id and the edges wired to it, before they become a port.

:func:`~pureflow.core.wiring.wire_edges` makes handles for a whole workflow;
:func:`bounded_edge_channel` makes the two handles of one edge (for tests and for code
that wires ports by hand). :class:`~pureflow.core.ports.PortsIn` and
:class:`~pureflow.core.ports.PortsOut` group handles into ports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

from pureflow.core.edges import BoundedChannel, Edge
from pureflow.core.packets import MessageRoute
from pureflow.types import PortId


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
    """One in-process bounded edge (``capacity`` >= 1, else ``ValueError``) as a pair of
    handles. ``route`` is stamped on every packet sent over the edge; without it packets
    keep the route their producer gave them."""
    channel = BoundedChannel(capacity, route)
    return (
        OutputPortHandle(PortId(output_port_id), (channel,)),
        InputPortHandle(PortId(input_port_id), (channel,)),
    )
