"""Rule-set contracts: does a rule set fit the node that hosts it?

:func:`rule_set_violations` lists every :class:`RuleContractViolation`;
:func:`validate_rule_set` raises the first. The checks, in order:

1. the host node must be in the workflow; otherwise the only violation is
   :class:`UnknownRuleNode`;
2. each rule's action (in rule order), then the default action: ``Route(p)`` needs ``p``
   among the host's **outputs** (:class:`UnknownRoutePort`), ``DeadLetter`` needs an output
   named :data:`DEAD_LETTER_PORT` (:class:`MissingDeadLetterPort`); ``Drop``, ``Tag`` and
   ``Halt`` need nothing;
3. each rule's condition tree, walked in pre-order: first every ``SourceNode(n)`` (``n``
   must be in the workflow, :class:`UnknownSourceNode`, and have a directed path to the
   host, :class:`UnreachableSourceNode`; a node reaches itself only through a cycle), then
   every ``ArrivedOnPort(p)`` (``p`` must be an **input** of the host,
   :class:`UnknownArrivalPort`).

Violations are not de-duplicated. Messages are the original's.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from pureflow.contract.errors import ContractError
from pureflow.types import NodeId, PortId
from pureflow.workflow import WorkflowDefinition
from pureflow.workflow.rules import (
    DEAD_LETTER_PORT,
    ArrivedOnPort,
    DeadLetter,
    Route,
    RuleAction,
    RuleSet,
    SourceNode,
)

__all__ = [
    "DEAD_LETTER_PORT",
    "ActionSite",
    "MissingDeadLetterPort",
    "RuleContractViolation",
    "UnknownArrivalPort",
    "UnknownRoutePort",
    "UnknownRuleNode",
    "UnknownSourceNode",
    "UnreachableSourceNode",
    "rule_set_violations",
    "validate_rule_set",
]


@dataclass(frozen=True, slots=True)
class ActionSite:
    """Where an action sits: a rule (``rule_id``) or the default action (``None``).

    ``str(site)`` is ``rule `<id>` `` or ``default action``.
    """

    rule_id: str | None = None

    @classmethod
    def rule(cls, rule_id: str) -> ActionSite:
        return cls(rule_id)

    @property
    def is_default(self) -> bool:
        return self.rule_id is None

    def __str__(self) -> str:
        return "default action" if self.rule_id is None else f"rule `{self.rule_id}`"


DEFAULT_ACTION_SITE = ActionSite()


class RuleContractViolation(ContractError):
    """A way a rule set does not fit its host node; ``rule_set_id`` names the rule set."""

    code = "rule_contract.invalid"
    rule_set_id: str


class UnknownRuleNode(RuleContractViolation):
    code = "rule_contract.unknown_rule_node"

    def __init__(self, rule_set_id: str, node_id: NodeId) -> None:
        self.rule_set_id = rule_set_id
        self.node_id = node_id
        super().__init__(
            f"rule set `{rule_set_id}` is hosted by node `{node_id}` which is not in the workflow"
        )


class UnknownRoutePort(RuleContractViolation):
    code = "rule_contract.unknown_route_port"

    def __init__(
        self, rule_set_id: str, site: ActionSite, node_id: NodeId, port_id: PortId
    ) -> None:
        self.rule_set_id = rule_set_id
        self.site = site
        self.node_id = node_id
        self.port_id = port_id
        super().__init__(
            f"rule set `{rule_set_id}` {site} routes to output port `{port_id}` not declared "
            f"on node `{node_id}`"
        )


class MissingDeadLetterPort(RuleContractViolation):
    code = "rule_contract.missing_dead_letter_port"

    def __init__(self, rule_set_id: str, site: ActionSite, node_id: NodeId) -> None:
        self.rule_set_id = rule_set_id
        self.site = site
        self.node_id = node_id
        super().__init__(
            f"rule set `{rule_set_id}` {site} dead-letters but node `{node_id}` declares no "
            f"`{DEAD_LETTER_PORT}` output port"
        )


class UnknownSourceNode(RuleContractViolation):
    code = "rule_contract.unknown_source_node"

    def __init__(self, rule_set_id: str, rule_id: str, node_id: NodeId) -> None:
        self.rule_set_id = rule_set_id
        self.rule_id = rule_id
        self.node_id = node_id
        super().__init__(
            f"rule set `{rule_set_id}` rule `{rule_id}` references unknown source node `{node_id}`"
        )


class UnreachableSourceNode(RuleContractViolation):
    code = "rule_contract.unreachable_source_node"

    def __init__(
        self, rule_set_id: str, rule_id: str, node_id: NodeId, source_node_id: NodeId
    ) -> None:
        self.rule_set_id = rule_set_id
        self.rule_id = rule_id
        self.node_id = node_id
        self.source_node_id = source_node_id
        super().__init__(
            f"rule set `{rule_set_id}` rule `{rule_id}` references source node "
            f"`{source_node_id}` with no path to host node `{node_id}`"
        )


class UnknownArrivalPort(RuleContractViolation):
    code = "rule_contract.unknown_arrival_port"

    def __init__(self, rule_set_id: str, rule_id: str, node_id: NodeId, port_id: PortId) -> None:
        self.rule_set_id = rule_set_id
        self.rule_id = rule_id
        self.node_id = node_id
        self.port_id = port_id
        super().__init__(
            f"rule set `{rule_set_id}` rule `{rule_id}` references arrival port `{port_id}` "
            f"not declared as input on node `{node_id}`"
        )


def _reaches(workflow: WorkflowDefinition, start: NodeId, goal: NodeId) -> bool:
    """Whether a directed path of at least one edge leads from ``start`` to ``goal``."""
    children: dict[NodeId, list[NodeId]] = {}
    for edge in workflow.edges:
        children.setdefault(edge.source.node_id, []).append(edge.target.node_id)
    seen: set[NodeId] = set()
    queue = deque(children.get(start, ()))
    while queue:
        node_id = queue.popleft()
        if node_id == goal:
            return True
        if node_id in seen:
            continue
        seen.add(node_id)
        queue.extend(children.get(node_id, ()))
    return False


def _action_violation(
    rule_set: RuleSet,
    site: ActionSite,
    action: RuleAction,
    host: NodeId,
    outputs: tuple[PortId, ...],
) -> RuleContractViolation | None:
    if isinstance(action, Route) and action.port_id not in outputs:
        return UnknownRoutePort(rule_set.id, site, host, action.port_id)
    if isinstance(action, DeadLetter) and DEAD_LETTER_PORT not in outputs:
        return MissingDeadLetterPort(rule_set.id, site, host)
    return None


def rule_set_violations(
    workflow: WorkflowDefinition, host_node_id: str, rule_set: RuleSet
) -> list[RuleContractViolation]:
    """Every way ``rule_set`` does not fit node ``host_node_id`` of ``workflow``."""
    host = NodeId(host_node_id)
    node = workflow.graph.node_map.get(host)
    if node is None:
        return [UnknownRuleNode(rule_set.id, host)]
    violations: list[RuleContractViolation] = []
    sites = [(ActionSite.rule(rule.id), rule.action) for rule in rule_set.rules]
    sites.append((DEFAULT_ACTION_SITE, rule_set.default_action))
    for site, action in sites:
        violation = _action_violation(rule_set, site, action, host, node.output_ports)
        if violation is not None:
            violations.append(violation)
    node_ids = workflow.graph.node_map
    for rule in rule_set.rules:
        conditions = list(rule.condition.walk())
        for condition in conditions:
            if isinstance(condition, SourceNode):
                if condition.node_id not in node_ids:
                    violations.append(UnknownSourceNode(rule_set.id, rule.id, condition.node_id))
                elif not _reaches(workflow, condition.node_id, host):
                    violations.append(
                        UnreachableSourceNode(rule_set.id, rule.id, host, condition.node_id)
                    )
        violations.extend(
            UnknownArrivalPort(rule_set.id, rule.id, host, condition.port_id)
            for condition in conditions
            if isinstance(condition, ArrivedOnPort) and condition.port_id not in node.input_ports
        )
    return violations


def validate_rule_set(workflow: WorkflowDefinition, host_node_id: str, rule_set: RuleSet) -> None:
    """Raise the first of :func:`rule_set_violations`, if there is one."""
    violations = rule_set_violations(workflow, host_node_id, rule_set)
    if violations:
        raise violations[0]
