"""Pure, runtime-free projections of Pureflow workflows, contracts, capabilities and rules.

* :func:`introspect_workflow` -> :class:`WorkflowIntrospection` (nodes, ports, edges with
  contracts, capabilities and enforcement), with a stable JSON form
  (:func:`introspection_to_json_text`); :func:`passive_contracts` builds what
  ``pureflow inspect`` assumes when no contracts are supplied;
* :func:`introspect_rule_set` -> :class:`RuleSetIntrospection` (rule summaries and
  unreachable rules);
* :func:`explain_rule_routing_lines`: the ``rule routing`` lines of ``pureflow explain``.

Depends only on ``pureflow.types``, ``pureflow.workflow`` and ``pureflow.contract``: no
event loop, no WebAssembly runtime, no CLI framework.
"""

from pureflow.introspection.explain import (
    explain_condition,
    explain_rule_routing_lines,
    explain_rule_set_lines,
)
from pureflow.introspection.rules import (
    ConditionSurfaceSummary,
    RuleActionSummary,
    RuleIntrospection,
    RuleSetIntrospection,
    UnreachableKind,
    UnreachableReason,
    UnreachableRule,
    introspect_rule_set,
    unreachable_rules,
)
from pureflow.introspection.workflow import (
    EdgeIntrospection,
    NodeIntrospection,
    PortIntrospection,
    WorkflowIntrospection,
    capacity_json,
    introspect_workflow,
    introspection_to_json_text,
    passive_contracts,
)

__all__ = [
    "ConditionSurfaceSummary",
    "EdgeIntrospection",
    "NodeIntrospection",
    "PortIntrospection",
    "RuleActionSummary",
    "RuleIntrospection",
    "RuleSetIntrospection",
    "UnreachableKind",
    "UnreachableReason",
    "UnreachableRule",
    "WorkflowIntrospection",
    "capacity_json",
    "explain_condition",
    "explain_rule_routing_lines",
    "explain_rule_set_lines",
    "introspect_rule_set",
    "introspect_workflow",
    "introspection_to_json_text",
    "passive_contracts",
    "unreachable_rules",
]
