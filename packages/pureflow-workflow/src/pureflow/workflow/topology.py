"""Topological order and cycle reporting.

Order: Kahn's algorithm taking the smallest ready node id first (code-point order, which
equals the original's byte order), so the result never depends on declaration order.
Every edge counts: two edges from ``a`` to ``b`` raise ``b``'s in-degree by two and lower
it by two. (The original decremented once per distinct child, which turned parallel edges
into a false one-node "cycle".)

Cycle report: a depth-first search over the nodes left unordered, roots in declaration
order, children in sorted order; the first back edge closes the cycle, reported as a closed
path such as ``(a, b, a)``. The search is iterative, so deep graphs cannot hit the
recursion limit.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

from pureflow.types import NodeId
from pureflow.workflow.errors import CycleDetected
from pureflow.workflow.model import EdgeDefinition, NodeDefinition


def _children(
    nodes: Sequence[NodeDefinition], edges: Sequence[EdgeDefinition]
) -> dict[NodeId, list[NodeId]]:
    children: dict[NodeId, list[NodeId]] = {node.id: [] for node in nodes}
    for edge in edges:
        children[edge.source.node_id].append(edge.target.node_id)
    return children


def topological_order(
    nodes: Sequence[NodeDefinition], edges: Sequence[EdgeDefinition]
) -> tuple[NodeId, ...]:
    """Return the node ids in topological order, or raise :class:`CycleDetected`.

    Every edge must join known nodes (the graph validation checks this first).
    """
    children = _children(nodes, edges)
    indegree: dict[NodeId, int] = {node.id: 0 for node in nodes}
    for edge in edges:
        indegree[edge.target.node_id] += 1
    ready = [node_id for node_id, degree in indegree.items() if degree == 0]
    heapq.heapify(ready)
    order: list[NodeId] = []
    while ready:
        node_id = heapq.heappop(ready)
        order.append(node_id)
        for child in children[node_id]:
            indegree[child] -= 1
            if indegree[child] == 0:
                heapq.heappush(ready, child)
    if len(order) == len(indegree):
        return tuple(order)
    ordered = set(order)
    remaining = [node.id for node in nodes if node.id not in ordered]
    raise CycleDetected(_find_cycle(remaining, children))


def _find_cycle(
    remaining: list[NodeId], children: dict[NodeId, list[NodeId]]
) -> tuple[NodeId, ...]:
    left = set(remaining)
    sorted_children = {
        node_id: sorted({child for child in children[node_id] if child in left})
        for node_id in remaining
    }
    visiting: dict[NodeId, int] = {}  # node -> position on the stack
    visited: set[NodeId] = set()
    for root in remaining:
        if root in visited:
            continue
        stack: list[NodeId] = [root]
        cursors: list[int] = [0]
        visiting[root] = 0
        while stack:
            node_id = stack[-1]
            kids = sorted_children[node_id]
            if cursors[-1] < len(kids):
                child = kids[cursors[-1]]
                cursors[-1] += 1
                if child in visiting:
                    return (*stack[visiting[child] :], child)
                if child not in visited:
                    visiting[child] = len(stack)
                    stack.append(child)
                    cursors.append(0)
            else:
                stack.pop()
                cursors.pop()
                del visiting[node_id]
                visited.add(node_id)
    # Unreachable when every edge counts toward in-degree: leftover nodes always hold a cycle.
    return tuple(sorted(remaining))
