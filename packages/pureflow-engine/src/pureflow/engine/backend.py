"""Where nodes run and how edges are built: the narrow interface the supervisor uses.

The supervisor never builds channels or places nodes itself; it asks an
:class:`ExecutionBackend`. :class:`InProcessBackend` (the default) builds the bounded
in-memory channels of :mod:`pureflow.core` and runs every node as a task in the
supervisor's task group. A distributed backend (nodes as actors, edges as bounded queues
between them) would implement the same two methods; node code does not change.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from pureflow.core import NodePorts, Wiring, wire_edges
from pureflow.types import NodeId
from pureflow.workflow import WorkflowDefinition

NodeTask = Callable[[], Coroutine[Any, Any, None]]
"""One node's whole run, as an argument-less coroutine function."""
Spawn = Callable[[NodeTask], object]
"""Starts a task in the supervisor's task group."""


class RunningEdges(Protocol):
    """The edges of a running workflow, as the supervisor and the watchdog see them."""

    def __getitem__(self, node_id: NodeId) -> NodePorts: ...

    def progress(self) -> int:
        """A counter that grows whenever a packet is queued or taken off an edge."""
        ...

    def messages_moved(self) -> int:
        """Packets queued onto edges so far (each fan-out copy counts once)."""
        ...

    def edge_depths(self) -> list[dict[str, object]]:
        """Each edge, in declaration order: ``edge_index``, ``source`` and ``target``
        (``node.port``), ``queued_count``, ``capacity``, ``moved`` (packets queued onto
        it so far) and ``received`` (packets taken off it so far). For diagnostics and
        progress displays."""
        ...

    def edge_statistics(self) -> list[dict[str, object]]:
        """Each edge's counters, in declaration order, with the keys of
        :data:`~pureflow.core.metadata.records.EDGE_STATISTICS_FIELDS` (``dropped``,
        ``send_waits`` and ``receive_waits`` besides what :meth:`edge_depths` has)."""
        ...

    def close_all(self) -> None: ...


class ExecutionBackend(Protocol):
    """Builds a workflow's edges and starts its node tasks."""

    def wire(self, workflow: WorkflowDefinition, default_capacity: int) -> RunningEdges: ...

    def start(self, spawn: Spawn, node: NodeTask) -> None:
        """Start one node's task (``spawn`` is the supervisor's task-group starter)."""
        ...


class InProcessEdges:
    """:class:`RunningEdges` over the in-memory channels of :func:`wire_edges`."""

    __slots__ = ("_wiring",)

    def __init__(self, wiring: Wiring) -> None:
        self._wiring = wiring

    def __getitem__(self, node_id: NodeId) -> NodePorts:
        return self._wiring[node_id]

    def progress(self) -> int:
        return sum(edge.channel.pushed + edge.channel.popped for edge in self._wiring.edges)

    def messages_moved(self) -> int:
        return self._wiring.messages_moved()

    def edge_depths(self) -> list[dict[str, object]]:
        return [
            {
                "edge_index": edge.index,
                "source": str(edge.definition.source),
                "target": str(edge.definition.target),
                "queued_count": edge.queued_count,
                "capacity": edge.capacity,
                "moved": edge.channel.pushed,
                "received": edge.channel.popped,
            }
            for edge in self._wiring.edges
        ]

    def edge_statistics(self) -> list[dict[str, object]]:
        return [
            {
                "edge_index": edge.index,
                "source": str(edge.definition.source),
                "target": str(edge.definition.target),
                "capacity": edge.capacity,
                "queued_count": edge.queued_count,
                "moved": edge.channel.pushed,
                "received": edge.channel.popped,
                "dropped": edge.channel.dropped,
                "send_waits": edge.channel.send_waits,
                "receive_waits": edge.channel.recv_waits,
            }
            for edge in self._wiring.edges
        ]

    def close_all(self) -> None:
        self._wiring.close_all()


class InProcessBackend:
    """Every node is a task on this event loop; edges are in-memory bounded channels."""

    def wire(self, workflow: WorkflowDefinition, default_capacity: int) -> InProcessEdges:
        return InProcessEdges(wire_edges(workflow, default_capacity))

    def start(self, spawn: Spawn, node: NodeTask) -> None:
        spawn(node)
