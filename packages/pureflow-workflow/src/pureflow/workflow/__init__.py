"""The static workflow graph: nodes with named ports, joined by bounded edges.

Everything here is plain immutable data validated on construction. Nothing runs.

* :class:`NodeDefinition`, :class:`EdgeDefinition`, :class:`EdgeEndpoint`,
  :class:`EdgeCapacity`: the parts of a graph;
* :class:`WorkflowGraph`: a validated graph with a deterministic topological order;
* :class:`WorkflowDefinition`: a graph with its :class:`~pureflow.types.WorkflowId`;
* :class:`WorkflowValidationError` and its subclasses: what can be wrong with a graph.
"""

from pureflow.workflow.errors import (
    CycleDetected,
    DuplicateNode,
    DuplicatePort,
    UnknownNode,
    UnknownPort,
    WorkflowValidationError,
)
from pureflow.workflow.graph import CyclePolicy, WorkflowDefinition, WorkflowGraph
from pureflow.workflow.model import (
    EdgeCapacity,
    EdgeDefinition,
    EdgeEndpoint,
    EdgeEndpointRole,
    NodeDefinition,
    PortDirection,
)
from pureflow.workflow.topology import topological_order

__all__ = [
    "CycleDetected",
    "CyclePolicy",
    "DuplicateNode",
    "DuplicatePort",
    "EdgeCapacity",
    "EdgeDefinition",
    "EdgeEndpoint",
    "EdgeEndpointRole",
    "NodeDefinition",
    "PortDirection",
    "UnknownNode",
    "UnknownPort",
    "WorkflowDefinition",
    "WorkflowGraph",
    "WorkflowValidationError",
    "topological_order",
]
