"""What both graph languages share: edge capacity labels, rule routes, feedback loops."""

from __future__ import annotations

from pureflow.core import DEFAULT_EDGE_CAPACITY
from pureflow.rules import DEAD_LETTER_PORT, DeadLetter, Route, RuleAction, Tag
from pureflow.types import NodeId
from pureflow.workflow import EdgeCapacity, EdgeDefinition, NodeDefinition, WorkflowDefinition


def capacity_label(capacity: EdgeCapacity, default: int = DEFAULT_EDGE_CAPACITY) -> str:
    """``cap 2`` for an explicit capacity, ``cap 1 (default)`` for the engine default."""
    if capacity.is_default:
        return f"cap {capacity.resolve(default)} (default)"
    return f"cap {capacity}"


def _target(action: RuleAction, node: NodeDefinition) -> str | None:
    if isinstance(action, Route):
        return action.port_id
    if isinstance(action, DeadLetter):
        return DEAD_LETTER_PORT
    if isinstance(action, Tag) and len(node.output_ports) == 1:
        return node.output_ports[0]  # a Tag default forwards on the only output
    return None


def rule_route_label(workflow: WorkflowDefinition, edge: EdgeDefinition) -> str | None:
    """``rules: a, b, default`` for an edge leaving a rule node: the rules (in evaluation
    order) and the default action that send packets out of the edge's source port; None
    for an edge whose source is not a rule node."""
    node = workflow.graph.node_map[edge.source.node_id]
    rule_set = node.rule_set
    if rule_set is None:
        return None
    port = edge.source.port_id
    names = [rule.id for rule in rule_set.rules if _target(rule.action, node) == port]
    if _target(rule_set.default_action, node) == port:
        names.append("default")
    return "rules: " + (", ".join(names) if names else "none")


def feedback_edges(workflow: WorkflowDefinition) -> frozenset[int]:
    """The indexes of the edges that close a cycle (the back edges of a depth-first search).

    The search starts from the nodes without incoming edges, then from the other nodes,
    each in declaration order, and follows edges in declaration order, so the answer is
    deterministic. An acyclic workflow has none; a self-loop is always one.
    """
    outgoing: dict[NodeId, list[tuple[int, NodeId]]] = {node.id: [] for node in workflow.nodes}
    has_input: set[NodeId] = set()
    for index, edge in enumerate(workflow.edges):
        outgoing[edge.source.node_id].append((index, edge.target.node_id))
        has_input.add(edge.target.node_id)
    roots = [n.id for n in workflow.nodes if n.id not in has_input]
    roots += [n.id for n in workflow.nodes if n.id in has_input]
    back: set[int] = set()
    done: set[NodeId] = set()
    for root in roots:
        if root in done:
            continue
        on_stack = {root}
        stack: list[tuple[NodeId, int]] = [(root, 0)]
        while stack:
            node_id, cursor = stack[-1]
            edges = outgoing[node_id]
            if cursor == len(edges):
                stack.pop()
                on_stack.discard(node_id)
                done.add(node_id)
                continue
            stack[-1] = (node_id, cursor + 1)
            index, target = edges[cursor]
            if target in on_stack:
                back.add(index)
            elif target not in done:
                on_stack.add(target)
                stack.append((target, 0))
    return frozenset(back)
