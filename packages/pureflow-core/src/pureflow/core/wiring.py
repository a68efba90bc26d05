"""Build the edges of a workflow: one bounded channel per edge, grouped into ports.

:func:`wire_edges` turns a :class:`~pureflow.workflow.WorkflowDefinition` into each
node's :class:`~pureflow.core.ports.PortsIn` / :class:`~pureflow.core.ports.PortsOut`.
Edges are created in declaration order; several edges leaving one output port form a
fan-out, several entering one input port a fan-in, both in declaration order. Each
channel carries the edge's route (source and target endpoints), which output ports stamp
on every packet. Every port of the wiring shares one
:class:`~pureflow.core.scheduling.YieldBudget` (fairness is per run). The engine attaches
contexts, sinks and validators afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from pureflow.core.edges import BoundedChannel, Edge
from pureflow.core.packets import MessageEndpoint, MessageRoute
from pureflow.core.ports import InputPortHandle, OutputPortHandle, PortsIn, PortsOut
from pureflow.core.scheduling import YieldBudget
from pureflow.types import NodeId, PortId
from pureflow.workflow import EdgeDefinition, NodeDefinition, WorkflowDefinition, WorkflowGraph

DEFAULT_EDGE_CAPACITY = 1
"""The capacity of an edge that does not set one (the original's default)."""


class NodePorts(NamedTuple):
    """One node's port collections."""

    inputs: PortsIn
    outputs: PortsOut


@dataclass(frozen=True, slots=True, eq=False)
class WiredEdge:
    """One workflow edge and the channel that carries it."""

    index: int
    definition: EdgeDefinition
    channel: Edge

    @property
    def capacity(self) -> int:
        return self.channel.capacity

    @property
    def queued_count(self) -> int:
        return self.channel.depth


class Wiring(Mapping[NodeId, NodePorts]):
    """Node id -> :class:`NodePorts`, in node declaration order, plus :attr:`edges`."""

    __slots__ = ("_nodes", "budget", "edges")

    def __init__(
        self,
        nodes: dict[NodeId, NodePorts],
        edges: tuple[WiredEdge, ...],
        budget: YieldBudget | None = None,
    ) -> None:
        self._nodes = nodes
        self.edges = edges
        self.budget = budget if budget is not None else YieldBudget()

    def __getitem__(self, node_id: NodeId) -> NodePorts:
        return self._nodes[node_id]

    def __iter__(self) -> Iterator[NodeId]:
        return iter(self._nodes)

    def __len__(self) -> int:
        return len(self._nodes)

    def messages_moved(self) -> int:
        """Packets queued onto any edge so far (fan-out copies count once per edge)."""
        return sum(edge.channel.pushed for edge in self.edges)

    def close_all(self) -> None:
        """Close every port of every node (idempotent)."""
        for ports in self._nodes.values():
            ports.inputs.close()
            ports.outputs.close()

    def __repr__(self) -> str:
        return f"Wiring(nodes={len(self._nodes)}, edges={len(self.edges)})"


def wire_edges(
    workflow: WorkflowDefinition | WorkflowGraph,
    default_capacity: int = DEFAULT_EDGE_CAPACITY,
) -> Wiring:
    """Create every edge of ``workflow`` and each node's ports.

    An edge without a capacity gets ``default_capacity`` (>= 1, else ``ValueError``).
    """
    if isinstance(default_capacity, bool) or default_capacity < 1:
        raise ValueError(f"default edge capacity must be >= 1, got {default_capacity!r}")
    inputs: dict[tuple[NodeId, PortId], list[Edge]] = {}
    outputs: dict[tuple[NodeId, PortId], list[Edge]] = {}
    wired: list[WiredEdge] = []
    for index, edge in enumerate(workflow.edges):
        source, target = edge.source, edge.target
        route = MessageRoute(
            MessageEndpoint(source.node_id, source.port_id),
            MessageEndpoint(target.node_id, target.port_id),
        )
        channel = BoundedChannel(edge.capacity.resolve(default_capacity), route)
        outputs.setdefault((source.node_id, source.port_id), []).append(channel)
        inputs.setdefault((target.node_id, target.port_id), []).append(channel)
        wired.append(WiredEdge(index, edge, channel))
    budget = YieldBudget()
    nodes = node_ports(workflow.nodes, inputs, outputs, budget)
    return Wiring(nodes, tuple(wired), budget)


def node_ports(
    nodes: Iterable[NodeDefinition],
    inputs: Mapping[tuple[NodeId, PortId], Sequence[Edge]],
    outputs: Mapping[tuple[NodeId, PortId], Sequence[Edge]],
    budget: YieldBudget,
) -> dict[NodeId, NodePorts]:
    """Each node's ports over the edges found for them (``(node, port)`` -> edges, in
    wiring order), all sharing one yield ``budget``. A port without edges has none."""
    ports: dict[NodeId, NodePorts] = {}
    for node in nodes:
        in_handles = [
            InputPortHandle(port_id, tuple(inputs.get((node.id, port_id), ())))
            for port_id in node.input_ports
        ]
        out_handles = [
            OutputPortHandle(port_id, tuple(outputs.get((node.id, port_id), ())))
            for port_id in node.output_ports
        ]
        ports[node.id] = NodePorts(
            PortsIn(node.input_ports, in_handles, budget=budget),
            PortsOut(node.output_ports, out_handles, budget=budget),
        )
    return ports
