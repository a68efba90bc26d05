"""A validated workflow graph and the workflow that owns it."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from functools import cached_property

from pureflow.types import NodeId, WorkflowId
from pureflow.workflow.errors import (
    CycleDetected,
    DuplicateNode,
    UnknownNode,
    UnknownPort,
    WorkflowValidationError,
)
from pureflow.workflow.model import (
    EdgeDefinition,
    EdgeEndpointRole,
    NodeDefinition,
    PortDirection,
)
from pureflow.workflow.rule_checks import rule_set_errors
from pureflow.workflow.topology import topological_order


class CyclePolicy(enum.Enum):
    """Whether a graph may contain directed cycles (feedback loops)."""

    REJECT = "reject"
    ALLOW = "allow"


def graph_errors(
    nodes: Sequence[NodeDefinition],
    edges: Sequence[EdgeDefinition],
    cycles: CyclePolicy = CyclePolicy.REJECT,
) -> list[WorkflowValidationError]:
    """Every structural problem of a graph, in the original's check order.

    Duplicate nodes first, then each edge (its source completely before its target), then
    the cycle check (only when cycles are rejected and nothing else is wrong), then the
    rule sets of rule nodes (:func:`~pureflow.workflow.rule_checks.rule_set_errors`; the
    original never checked them). The first item is what the original reported; tools get
    the rest too.
    """
    errors: list[WorkflowValidationError] = []
    by_id: dict[NodeId, NodeDefinition] = {}
    for node in nodes:
        if node.id in by_id:
            errors.append(DuplicateNode(node.id))
        else:
            by_id[node.id] = node
    for index, edge in enumerate(edges):
        for role, endpoint, expected in (
            (EdgeEndpointRole.SOURCE, edge.source, PortDirection.OUTPUT),
            (EdgeEndpointRole.TARGET, edge.target, PortDirection.INPUT),
        ):
            owner = by_id.get(endpoint.node_id)
            if owner is None:
                errors.append(UnknownNode(index, role, endpoint.node_id))
                continue
            ports = owner.output_ports if expected is PortDirection.OUTPUT else owner.input_ports
            if endpoint.port_id not in ports:
                errors.append(UnknownPort(index, role, owner.id, endpoint.port_id, expected))
    if not errors and cycles is CyclePolicy.REJECT:
        try:
            topological_order(nodes, edges)
        except CycleDetected as cycle:
            errors.append(cycle)
    errors.extend(rule_set_errors(nodes, edges))
    return errors


class WorkflowGraph:
    """Nodes and edges that passed validation, in declaration order.

    ``WorkflowGraph(nodes, edges)`` raises the first :class:`WorkflowValidationError`;
    pass ``cycles=CyclePolicy.ALLOW`` to accept feedback loops. :meth:`topological_order`
    still raises :class:`CycleDetected` on a cyclic graph.
    """

    def __init__(
        self,
        nodes: Iterable[NodeDefinition] = (),
        edges: Iterable[EdgeDefinition] = (),
        *,
        cycles: CyclePolicy = CyclePolicy.REJECT,
    ) -> None:
        self._nodes = tuple(nodes)
        self._edges = tuple(edges)
        self._cycles = cycles
        errors = graph_errors(self._nodes, self._edges, cycles)
        if errors:
            raise errors[0]

    @property
    def nodes(self) -> tuple[NodeDefinition, ...]:
        return self._nodes

    @property
    def edges(self) -> tuple[EdgeDefinition, ...]:
        return self._edges

    @property
    def cycles(self) -> CyclePolicy:
        return self._cycles

    @cached_property
    def node_map(self) -> Mapping[NodeId, NodeDefinition]:
        """Nodes by id."""
        return {node.id: node for node in self._nodes}

    def node(self, node_id: str) -> NodeDefinition:
        """The node with this id; ``KeyError`` if there is none."""
        return self.node_map[NodeId(node_id)]

    def topological_order(self) -> tuple[NodeId, ...]:
        """Node ids in topological order, smallest id first among ready nodes."""
        return topological_order(self._nodes, self._edges)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, WorkflowGraph):
            return NotImplemented
        return (self._nodes, self._edges) == (other._nodes, other._edges)

    def __hash__(self) -> int:
        return hash((self._nodes, self._edges))

    def __repr__(self) -> str:
        return f"WorkflowGraph(nodes={len(self._nodes)}, edges={len(self._edges)})"


class WorkflowDefinition:
    """A workflow: its id and its validated graph."""

    __slots__ = ("_graph", "_id")

    def __init__(self, workflow_id: WorkflowId, graph: WorkflowGraph) -> None:
        self._id = WorkflowId(workflow_id)
        self._graph = graph

    @classmethod
    def from_parts(
        cls,
        workflow_id: str,
        nodes: Iterable[NodeDefinition],
        edges: Iterable[EdgeDefinition] = (),
        *,
        cycles: CyclePolicy = CyclePolicy.REJECT,
    ) -> WorkflowDefinition:
        """Validate the parts and build the workflow (raises the first problem)."""
        return cls(WorkflowId(workflow_id), WorkflowGraph(nodes, edges, cycles=cycles))

    @classmethod
    def empty(cls, workflow_id: str) -> WorkflowDefinition:
        return cls(WorkflowId(workflow_id), WorkflowGraph())

    @property
    def id(self) -> WorkflowId:
        return self._id

    @property
    def graph(self) -> WorkflowGraph:
        return self._graph

    @property
    def nodes(self) -> tuple[NodeDefinition, ...]:
        return self._graph.nodes

    @property
    def edges(self) -> tuple[EdgeDefinition, ...]:
        return self._graph.edges

    def node(self, node_id: str) -> NodeDefinition:
        return self._graph.node(node_id)

    def topological_order(self) -> tuple[NodeId, ...]:
        return self._graph.topological_order()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, WorkflowDefinition):
            return NotImplemented
        return (self._id, self._graph) == (other._id, other._graph)

    def __hash__(self) -> int:
        return hash((self._id, self._graph))

    def __repr__(self) -> str:
        return (
            f"WorkflowDefinition(id={self._id.as_str()!r}, nodes={len(self.nodes)}, "
            f"edges={len(self.edges)})"
        )
