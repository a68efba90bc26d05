"""What input and output ports share: their edges, their binding to a node, and the
recorder and yield budget they use.

A port is *bound* when its collection gets a node context, a metadata sink and a
cancellation token (:meth:`Port._bind`, called by ``PortsIn``/``PortsOut``): it then asks
the sink for its recorder once (:func:`~pureflow.core.metadata.recorders.port_recorder`;
``None`` when nothing is recorded) and checks the token before every operation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pureflow.core.context import NodeContext, _CancelSlot
from pureflow.core.edges import Edge
from pureflow.core.metadata.recorders import PortInfo, PortRecorder, port_recorder
from pureflow.core.metadata.sinks import MetadataSink
from pureflow.core.scheduling import YieldBudget
from pureflow.types import PortId
from pureflow.workflow import PortDirection


class Port:
    """State shared by :class:`~pureflow.core.ports.InputPort` and
    :class:`~pureflow.core.ports.OutputPort`."""

    __slots__ = (
        "_budget",
        "_cancel",
        "_capacity_sum",
        "_closed",
        "_context",
        "_edges",
        "_plain",
        "_rec",
        "_rr",
        "_sink",
        "_waiting",
        "port_id",
    )

    direction: PortDirection

    def __init__(
        self, port_id: PortId, edges: Sequence[Edge], budget: YieldBudget | None = None
    ) -> None:
        self.port_id = port_id
        self._edges: tuple[Edge, ...] = tuple(edges)
        # Records carry the sum, saturated at the largest u64 the original's readers parse.
        self._capacity_sum: int | None = (
            min(sum(edge.capacity for edge in self._edges), 2**64 - 1) if self._edges else None
        )
        self._rr = 0
        self._budget = budget if budget is not None else YieldBudget.for_thread()
        self._cancel = _CancelSlot()
        self._context: NodeContext | None = None
        self._sink: Any = None
        self._rec: PortRecorder | None = None
        self._closed = False
        self._waiting = False
        self._plain: Edge | None = None
        self._refresh()

    def _refresh(self) -> None:
        """``_plain``: the port's only edge while nothing else is to be done per packet (no
        recorder, the port open, no validator): the case the no-wait paths test first."""
        edges = self._edges
        self._plain = (
            edges[0] if len(edges) == 1 and self._rec is None and not self._closed else None
        )

    def _bind(
        self, context: NodeContext | None, cancel: _CancelSlot, sink: MetadataSink | None
    ) -> None:
        self._context = context
        self._cancel = cancel
        self._sink = sink
        info = PortInfo(self.direction, self.port_id, context, len(self._edges), self._capacity_sum)
        self._rec = port_recorder(sink, info)
        self._refresh()

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
        """The sum of the edge capacities, at most 2**64 - 1 (what records report), or None
        without edges."""
        return self._capacity_sum

    @property
    def is_waiting(self) -> bool:
        """True while an operation on this port is suspended (for diagnostics)."""
        return self._waiting

    @property
    def closed(self) -> bool:
        """True once this side called ``close()``."""
        return self._closed

    @property
    def recording(self) -> bool:
        """True when the port's operations write data records."""
        return self._rec is not None

    def queued_count(self) -> int:
        """Packets queued across the port's edges (recorded with every receive)."""
        edges = self._edges
        if len(edges) == 1:
            return edges[0].depth
        total = 0
        for edge in edges:
            total += edge.depth
        return total
