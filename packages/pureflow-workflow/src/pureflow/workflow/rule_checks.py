"""Does a node's rule set fit the node and the graph around it?

A node with a rule set (:attr:`NodeDefinition.rule_set`) is a rule node: each packet it
receives is evaluated and routed by the rules. The graph checks the rule set like it
checks edges, because a rule that routes to a port the node lacks is as broken as an edge
that names one. :func:`rule_set_errors` lists every :class:`RuleSetViolation`, node by
node in declaration order, and for each node:

1. each rule's action (in evaluation order), then the default action: ``Route(p)`` needs
   ``p`` among the node's **outputs** (:class:`UnknownRoutePort`), ``DeadLetter`` needs an
   output named :data:`~pureflow.rules.DEAD_LETTER_PORT` (:class:`MissingDeadLetterPort`);
   ``Drop``, ``Tag`` and ``Halt`` need nothing;
2. a ``Tag`` *default* action forwards the tagged packet on the node's only output port,
   so the node must declare exactly one (:class:`TagDefaultNeedsOneOutput`); the original
   dropped such packets silently;
3. each rule's condition tree, walked in pre-order: first every ``SourceNode(n)`` (``n``
   must be in the workflow, :class:`UnknownSourceNode`, and have a directed path to the
   node, :class:`UnreachableSourceNode`; a node reaches itself only through a cycle), then
   every ``ArrivedOnPort(p)`` (``p`` must be an **input** of the node,
   :class:`UnknownArrivalPort`).

Messages are the original's (``pureflow-contract::rules``, which nothing called). Each
violation names the rule by id and by its position in evaluation order
(:attr:`ActionSite.index`), so a document loader can point at it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pureflow.types import NodeId, PortId
from pureflow.workflow.errors import WorkflowValidationError
from pureflow.workflow.model import EdgeDefinition, NodeDefinition

__all__ = [
    "ActionSite",
    "MissingDeadLetterPort",
    "RuleSetViolation",
    "TagDefaultNeedsOneOutput",
    "UnknownArrivalPort",
    "UnknownRoutePort",
    "UnknownSourceNode",
    "UnreachableSourceNode",
    "rule_set_errors",
]


@dataclass(frozen=True, slots=True)
class ActionSite:
    """Where an action or condition sits: rule ``rule_id`` at ``index`` in evaluation
    order, or the default action (both ``None``).

    ``str(site)`` is ``rule `<id>` `` or ``default action``.
    """

    rule_id: str | None = None
    index: int | None = None

    @classmethod
    def rule(cls, rule_id: str, index: int | None = None) -> ActionSite:
        return cls(rule_id, index)

    @property
    def is_default(self) -> bool:
        return self.rule_id is None

    def __str__(self) -> str:
        return "default action" if self.rule_id is None else f"rule `{self.rule_id}`"


DEFAULT_ACTION_SITE = ActionSite()


class RuleSetViolation(WorkflowValidationError):
    """A way a node's rule set does not fit the node or the graph.

    ``node_id`` is the rule node, ``rule_set_id`` its rule set, ``site`` the rule (or the
    default action) at fault, and ``part`` what of it: ``"action"`` or ``"condition"``.
    """

    code = "rule_set.invalid"
    node_id: NodeId
    rule_set_id: str
    site: ActionSite
    part: str = "action"


class UnknownRoutePort(RuleSetViolation):
    code = "rule_set.unknown_route_port"

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


class MissingDeadLetterPort(RuleSetViolation):
    code = "rule_set.missing_dead_letter_port"

    def __init__(self, rule_set_id: str, site: ActionSite, node_id: NodeId) -> None:
        from pureflow.rules import DEAD_LETTER_PORT  # noqa: PLC0415

        self.rule_set_id = rule_set_id
        self.site = site
        self.node_id = node_id
        super().__init__(
            f"rule set `{rule_set_id}` {site} dead-letters but node `{node_id}` declares no "
            f"`{DEAD_LETTER_PORT}` output port"
        )


class TagDefaultNeedsOneOutput(RuleSetViolation):
    code = "rule_set.tag_default_output"

    def __init__(self, rule_set_id: str, node_id: NodeId, output_count: int) -> None:
        self.rule_set_id = rule_set_id
        self.site = DEFAULT_ACTION_SITE
        self.node_id = node_id
        self.output_count = output_count
        super().__init__(
            f"rule set `{rule_set_id}` default action tags the packet and forwards it on the "
            f"node's only output port, but node `{node_id}` declares {output_count} output "
            "ports"
        )


class UnknownSourceNode(RuleSetViolation):
    code = "rule_set.unknown_source_node"
    part = "condition"

    def __init__(
        self, rule_set_id: str, site: ActionSite, source_node_id: NodeId, host: NodeId
    ) -> None:
        self.rule_set_id = rule_set_id
        self.site = site
        self.node_id = host
        self.source_node_id = source_node_id
        super().__init__(
            f"rule set `{rule_set_id}` {site} references unknown source node `{source_node_id}`"
        )


class UnreachableSourceNode(RuleSetViolation):
    code = "rule_set.unreachable_source_node"
    part = "condition"

    def __init__(self, rule_set_id: str, site: ActionSite, node_id: NodeId, source: NodeId) -> None:
        self.rule_set_id = rule_set_id
        self.site = site
        self.node_id = node_id
        self.source_node_id = source
        super().__init__(
            f"rule set `{rule_set_id}` {site} references source node `{source}` with no path "
            f"to host node `{node_id}`"
        )


class UnknownArrivalPort(RuleSetViolation):
    code = "rule_set.unknown_arrival_port"
    part = "condition"

    def __init__(
        self, rule_set_id: str, site: ActionSite, node_id: NodeId, port_id: PortId
    ) -> None:
        self.rule_set_id = rule_set_id
        self.site = site
        self.node_id = node_id
        self.port_id = port_id
        super().__init__(
            f"rule set `{rule_set_id}` {site} references arrival port `{port_id}` not "
            f"declared as input on node `{node_id}`"
        )


def _reaches(children: Mapping[NodeId, list[NodeId]], start: NodeId, goal: NodeId) -> bool:
    """Whether a directed path of at least one edge leads from ``start`` to ``goal``."""
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


def rule_set_errors(
    nodes: Sequence[NodeDefinition], edges: Sequence[EdgeDefinition]
) -> list[RuleSetViolation]:
    """Every way a node's rule set does not fit (see the module docstring for the order)."""
    hosts = [node for node in nodes if node.rule_set is not None]
    if not hosts:
        return []
    # Imported here: a workflow without rule nodes never loads pureflow.rules (start-up
    # of `pureflow validate`, benchmarks/README.md).
    from pureflow.rules import (  # noqa: PLC0415
        DEAD_LETTER_PORT,
        ArrivedOnPort,
        DeadLetter,
        Route,
        SourceNode,
        Tag,
    )

    node_ids = {node.id for node in nodes}
    children: dict[NodeId, list[NodeId]] = {}
    for edge in edges:
        children.setdefault(edge.source.node_id, []).append(edge.target.node_id)
    violations: list[RuleSetViolation] = []
    for node in hosts:
        rule_set = node.rule_set
        assert rule_set is not None
        outputs = node.output_ports
        sites = [
            (ActionSite.rule(rule.id, index), rule.action)
            for index, rule in enumerate(rule_set.rules)
        ]
        sites.append((DEFAULT_ACTION_SITE, rule_set.default_action))
        for site, action in sites:
            if isinstance(action, Route) and action.port_id not in outputs:
                violations.append(UnknownRoutePort(rule_set.id, site, node.id, action.port_id))
            elif isinstance(action, DeadLetter) and DEAD_LETTER_PORT not in outputs:
                violations.append(MissingDeadLetterPort(rule_set.id, site, node.id))
        if isinstance(rule_set.default_action, Tag) and len(outputs) != 1:
            violations.append(TagDefaultNeedsOneOutput(rule_set.id, node.id, len(outputs)))
        for index, rule in enumerate(rule_set.rules):
            site = ActionSite.rule(rule.id, index)
            conditions = list(rule.condition.walk())
            for condition in conditions:
                if not isinstance(condition, SourceNode):
                    continue
                if condition.node_id not in node_ids:
                    violations.append(
                        UnknownSourceNode(rule_set.id, site, condition.node_id, node.id)
                    )
                elif not _reaches(children, condition.node_id, node.id):
                    violations.append(
                        UnreachableSourceNode(rule_set.id, site, node.id, condition.node_id)
                    )
            violations.extend(
                UnknownArrivalPort(rule_set.id, site, node.id, condition.port_id)
                for condition in conditions
                if isinstance(condition, ArrivedOnPort)
                and condition.port_id not in node.input_ports
            )
    return violations
