"""The static workflow graph: nodes with named ports, joined by bounded edges.

Everything here is plain immutable data validated on construction. Nothing runs.

* :class:`NodeDefinition`, :class:`EdgeDefinition`, :class:`EdgeEndpoint`,
  :class:`EdgeCapacity`: the parts of a graph;
* :class:`WorkflowGraph`: a validated graph with a deterministic topological order;
* :class:`WorkflowDefinition`: a graph with its :class:`~pureflow.types.WorkflowId`;
* :class:`WorkflowValidationError` and its subclasses: what can be wrong with a graph,
  including a rule node's rule set that does not fit it (:class:`RuleSetViolation` and its
  subclasses, from :mod:`pureflow.workflow.rule_checks`).
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
from pureflow.workflow.rule_checks import (
    ActionSite,
    MissingDeadLetterPort,
    RuleSetViolation,
    TagDefaultNeedsOneOutput,
    UnknownArrivalPort,
    UnknownRoutePort,
    UnknownSourceNode,
    UnreachableSourceNode,
    rule_set_errors,
)
from pureflow.workflow.topology import topological_order

__all__ = [
    "ActionSite",
    "CycleDetected",
    "CyclePolicy",
    "DuplicateNode",
    "DuplicatePort",
    "EdgeCapacity",
    "EdgeDefinition",
    "EdgeEndpoint",
    "EdgeEndpointRole",
    "MissingDeadLetterPort",
    "NodeDefinition",
    "PortDirection",
    "RuleSetViolation",
    "TagDefaultNeedsOneOutput",
    "UnknownArrivalPort",
    "UnknownNode",
    "UnknownPort",
    "UnknownRoutePort",
    "UnknownSourceNode",
    "UnreachableSourceNode",
    "WorkflowDefinition",
    "WorkflowGraph",
    "WorkflowValidationError",
    "rule_set_errors",
    "topological_order",
]
