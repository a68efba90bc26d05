"""The edges of one host: whole edges between its own nodes, halves of the cut ones.

:func:`wire_host` does for the nodes of one host what :func:`pureflow.core.wire_edges`
does for a whole workflow, in the same order (edges in declaration order, fan-out and
fan-in in declaration order), so ports behave exactly as in one process:

* an edge with both ends on the host is one :class:`~pureflow.core.edges.BoundedChannel`;
* an edge that leaves the host is its *egress half*: a channel of the edge's capacity
  carrying the edge's route, into which the producer sends as usual; the host's pump
  drains it in batches to the peer (:mod:`pureflow.ray.bridge`);
* an edge that enters the host is its *ingress half*: a channel of the edge's capacity
  without a route of its own (packets keep the one their producer stamped), filled by
  the host's bridge and read by the consumer as usual.

Packets in flight on a cut edge of capacity C are therefore at most C (egress) +
window x batch (calls in transit) + C (ingress).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from pureflow.core import (
    BoundedChannel,
    MessageEndpoint,
    MessageRoute,
    NodePorts,
)
from pureflow.core.edges import Edge
from pureflow.core.scheduling import YieldBudget
from pureflow.core.wiring import node_ports
from pureflow.types import NodeId, PortId
from pureflow.workflow import EdgeDefinition, WorkflowDefinition


@dataclass(frozen=True, slots=True, eq=False)
class HostEdge:
    """One edge as this host holds it: ``kind`` is ``local``, ``egress`` or ``ingress``."""

    index: int
    definition: EdgeDefinition
    channel: BoundedChannel
    kind: str

    @property
    def label(self) -> str:
        return f"{self.definition.source} -> {self.definition.target}"


@dataclass(slots=True)
class HostWiring:
    """Node id -> ports for the host's nodes, and every edge the host holds a part of."""

    nodes: dict[NodeId, NodePorts]
    edges: list[HostEdge] = field(default_factory=list)

    def close_all(self) -> None:
        for ports in self.nodes.values():
            ports.inputs.close()
            ports.outputs.close()


def wire_host(
    workflow: WorkflowDefinition, local: Collection[str], default_capacity: int
) -> HostWiring:
    """The ports of the ``local`` nodes of ``workflow`` and the edges they touch."""
    inputs: dict[tuple[NodeId, PortId], list[Edge]] = {}
    outputs: dict[tuple[NodeId, PortId], list[Edge]] = {}
    edges: list[HostEdge] = []
    for index, edge in enumerate(workflow.edges):
        source, target = edge.source, edge.target
        here_source, here_target = source.node_id in local, target.node_id in local
        if not (here_source or here_target):
            continue
        route = MessageRoute(
            MessageEndpoint(source.node_id, source.port_id),
            MessageEndpoint(target.node_id, target.port_id),
        )
        capacity = edge.capacity.resolve(default_capacity)
        if here_source and here_target:
            channel, kind = BoundedChannel(capacity, route), "local"
        elif here_source:
            channel, kind = BoundedChannel(capacity, route), "egress"
        else:
            channel, kind = BoundedChannel(capacity), "ingress"
        if here_source:
            outputs.setdefault((source.node_id, source.port_id), []).append(channel)
        if here_target:
            inputs.setdefault((target.node_id, target.port_id), []).append(channel)
        edges.append(HostEdge(index, edge, channel, kind))
    here = [node for node in workflow.nodes if node.id in local]
    return HostWiring(node_ports(here, inputs, outputs, YieldBudget()), edges)
