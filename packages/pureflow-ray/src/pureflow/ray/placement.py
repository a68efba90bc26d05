"""Placement: which nodes share a host (one Ray actor), and which machine each host is on.

A host costs a process (about 90 MiB) and every edge between two hosts costs a
serialisation and a call per batch, while nodes on one host share one event loop (one
core). :func:`plan_hosts` therefore puts nodes in as few hosts as asked, cutting as few
edges as it can: nodes are taken in topological order (declaration order for a cyclic
graph) and split into contiguous runs, so a chain is cut ``hosts - 1`` times. Some nodes
always get a host of their own: those that use worker processes (``run_in: process``)
and the copies of a replicated node (the point of replicas is to run them apart).

:func:`assign_machines` spreads hosts over the cluster's alive machines round-robin, so
``hosts = 2 x machines`` means two hosts per machine.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from pureflow.workflow import CycleDetected, WorkflowDefinition


def plan_hosts(
    workflow: WorkflowDefinition, hosts: int | None, *, alone: Collection[str] = ()
) -> list[list[str]]:
    """Node ids per host. ``hosts``: how many hosts for the nodes that may share one
    (``None``: one per node); the ``alone`` nodes get one each on top."""
    try:
        order = [str(node_id) for node_id in workflow.topological_order()]
    except CycleDetected:
        order = [str(node.id) for node in workflow.nodes]
    shared = [node for node in order if node not in alone]
    groups = [[node] for node in order if node in alone]
    count = len(shared) if hosts is None else max(1, min(hosts, len(shared)))
    if shared:
        size, extra = divmod(len(shared), count)
        start = 0
        for index in range(count):
            end = start + size + (1 if index < extra else 0)
            groups.append(shared[start:end])
            start = end
    position = {node: index for index, node in enumerate(order)}
    groups.sort(key=lambda group: position[group[0]])
    return groups


def assign_machines(host_count: int, machines: Sequence[str]) -> list[str | None]:
    """A machine (Ray node id) per host, round-robin; ``None`` everywhere without any."""
    if not machines:
        return [None] * host_count
    return [machines[index % len(machines)] for index in range(host_count)]
