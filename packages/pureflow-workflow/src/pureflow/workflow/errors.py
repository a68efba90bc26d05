"""What can be wrong with a workflow graph. Messages are the original's wording."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pureflow.types import NodeId, PortId

if TYPE_CHECKING:
    from pureflow.workflow.model import EdgeEndpointRole, PortDirection


class WorkflowValidationError(ValueError):
    """Base of every structural graph error. ``code`` is stable and machine-readable."""

    code = "workflow.invalid"

    @property
    def message(self) -> str:
        return str(self.args[0])


class DuplicateNode(WorkflowValidationError):
    code = "graph.duplicate_node"

    def __init__(self, node_id: NodeId) -> None:
        self.node_id = node_id
        super().__init__(f"workflow graph contains duplicate node `{node_id}`")


class DuplicatePort(WorkflowValidationError):
    code = "graph.duplicate_port"

    def __init__(self, node_id: NodeId, port_id: PortId) -> None:
        self.node_id = node_id
        self.port_id = port_id
        super().__init__(f"node `{node_id}` contains duplicate port `{port_id}`")


class UnknownNode(WorkflowValidationError):
    code = "graph.unknown_node"

    def __init__(self, edge_index: int, endpoint: EdgeEndpointRole, node_id: NodeId) -> None:
        self.edge_index = edge_index
        self.endpoint = endpoint
        self.node_id = node_id
        super().__init__(f"edge {edge_index} {endpoint.label} references unknown node `{node_id}`")


class UnknownPort(WorkflowValidationError):
    code = "graph.unknown_port"

    def __init__(
        self,
        edge_index: int,
        endpoint: EdgeEndpointRole,
        node_id: NodeId,
        port_id: PortId,
        expected: PortDirection,
    ) -> None:
        self.edge_index = edge_index
        self.endpoint = endpoint
        self.node_id = node_id
        self.port_id = port_id
        self.expected = expected
        super().__init__(
            f"edge {edge_index} {endpoint.label} references unknown {expected.label} port "
            f"`{port_id}` on node `{node_id}`"
        )


class CycleDetected(WorkflowValidationError):
    """The graph has a directed cycle; ``cycle`` is a closed path (first == last)."""

    code = "graph.cycle"

    def __init__(self, cycle: tuple[NodeId, ...]) -> None:
        self.cycle = cycle
        involving = "".join(f" `{node}`" for node in cycle)
        super().__init__(f"workflow graph contains a cycle involving{involving}")
