"""Replicated nodes: a node declared with ``replicas: N`` runs as N copies side by side.

The engine rewrites the plan before any backend sees it, so every backend runs replicas
the same way and places the copies as it places any node (the in-process backend as
tasks, threads or processes, as the node's code declares; the Ray backend each on an
actor of its own, spread over the machines). For a node ``work`` with ``replicas: 2``,
input ``in`` and output ``out``::

    upstream -> work#split:in -> work#0 -> work#merge:out -> downstream
                              -> work#1 ->

* ``work#0`` ... ``work#N-1`` run the node's own code (the same executor, config and
  time limit); they are the node's copies.
* ``work#split:<port>`` (one per input port) sends each packet to one copy: the copy
  picked by a stable hash of the value at the node's ``partition_key`` (a JSON pointer
  into the packet's value: same key, same copy, so order is kept per key; a value
  without that key counts as ``null``), else the next copy round-robin. With several
  input ports a key goes to the same copy on each, so a keyed join still meets.
* ``work#merge:<port>`` (one per output port) forwards whatever any copy sends there,
  as it arrives (order across copies is not kept).

Edges into the splitters and out of the mergers keep the capacities written in the
document; each edge between a splitter (merger) and a copy takes the capacity of the
document's edge into (out of) that port, so every copy has as much queued as the node had. The run's
summary, statuses and records name these nodes (``work#1``), not ``work``.
"""

from __future__ import annotations

import json
import zlib
from typing import Any, Final

from pureflow.core import NodeContext, NodeExecutor, PortsIn, PortsOut
from pureflow.engine.backend import NodeSpec
from pureflow.types import NodeId, PortId
from pureflow.workflow import (
    EdgeCapacity,
    EdgeDefinition,
    EdgeEndpoint,
    NodeDefinition,
    WorkflowDefinition,
)

COPY_SEPARATOR: Final = "#"
_BATCH: Final = 256
_MISSING: Final = object()


def copy_id(node_id: str, index: int) -> str:
    """The id of copy ``index`` of a replicated node."""
    return f"{node_id}{COPY_SEPARATOR}{index}"


def splitter_id(node_id: str, port: str) -> str:
    return f"{node_id}{COPY_SEPARATOR}split:{port}"


def merger_id(node_id: str, port: str) -> str:
    return f"{node_id}{COPY_SEPARATOR}merge:{port}"


def _copy_port(index: int) -> PortId:
    return PortId(f"r{index}")


def resolve_pointer(value: object, pointer: str) -> object:
    """The part of ``value`` at the JSON pointer (RFC 6901), or a sentinel when absent."""
    if pointer == "":
        return value
    for escaped in pointer[1:].split("/"):
        token = escaped.replace("~1", "/").replace("~0", "~")
        if isinstance(value, dict):
            if token not in value:
                return _MISSING
            value = value[token]
        elif isinstance(value, list) and token.isdigit() and int(token) < len(value):
            value = value[int(token)]
        else:
            return _MISSING
    return value


def partition_of(value: object, key: str, copies: int) -> int:
    """Which of ``copies`` a packet whose value is ``value`` goes to (stable across
    processes and runs: a CRC-32 of the key's canonical JSON)."""
    found = resolve_pointer(value, key)
    text = json.dumps(
        None if found is _MISSING else found, sort_keys=True, default=repr, separators=(",", ":")
    )
    return zlib.crc32(text.encode("utf-8")) % copies


class SplitExecutor:
    """Sends each packet of input ``in`` to one of the outputs ``r0`` ... ``rN-1``: by the
    hash of ``key`` when given, else round-robin. Ends when ``in`` ends (every output
    closes with it)."""

    def __init__(self, copies: int, key: str | None) -> None:
        self.copies = copies
        self.key = key

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:  # noqa: ARG002
        copies, key = self.copies, self.key
        ports = [str(_copy_port(index)) for index in range(copies)]
        turn = 0
        while True:
            batch = await inputs.recv_many("in", _BATCH)
            if not batch:
                return
            groups: list[list[Any]] = [[] for _ in range(copies)]
            for packet in batch:
                if key is None:
                    groups[turn].append(packet)
                    turn = (turn + 1) % copies
                else:
                    groups[partition_of(packet.value, key, copies)].append(packet)
            for port, group in zip(ports, groups, strict=True):
                if len(group) == 1:
                    await outputs.send(port, group[0])
                elif group:
                    await outputs.send_many(port, group)


class MergeExecutor:
    """Forwards every packet of any input to output ``out`` as it arrives; ends when
    every input has ended."""

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:  # noqa: ARG002
        while (got := await inputs.recv_any()) is not None:
            await outputs.send("out", got[1])


def _copy(node: NodeDefinition, index: int) -> NodeDefinition:
    return NodeDefinition(
        NodeId(copy_id(node.id, index)),
        node.input_ports,
        node.output_ports,
        node.component,
        node.config,
        node.rule_set,
    )


def _end(node_id: str, port: str) -> EdgeEndpoint:
    return EdgeEndpoint(NodeId(node_id), PortId(port))


def expand_workflow(
    workflow: WorkflowDefinition,
) -> tuple[WorkflowDefinition, dict[str, str], dict[str, NodeExecutor]]:
    """``workflow`` with every replicated node expanded (see the module doc), the original
    node of each copy (copy id -> node id), and the splitter and merger executors by id.
    A workflow without replicas is returned as it is."""
    replicated = {node.id: node for node in workflow.nodes if node.replicas > 1}
    if not replicated:
        return workflow, {}, {}
    nodes: list[NodeDefinition] = []
    originals: dict[str, str] = {}
    added: dict[str, NodeExecutor] = {}
    edges: list[EdgeDefinition] = []
    # The edges between a splitter or merger and the copies take the capacity of the
    # document's edge at that port, so each copy has as much work queued as the node had.
    into = {(e.target.node_id, e.target.port_id): e.capacity for e in workflow.edges}
    out_of = {(e.source.node_id, e.source.port_id): e.capacity for e in workflow.edges}
    for node in workflow.nodes:
        if node.id not in replicated:
            nodes.append(node)
            continue
        count = node.replicas
        copy_ports = tuple(_copy_port(index) for index in range(count))
        for port in node.input_ports:
            split = splitter_id(node.id, port)
            nodes.append(NodeDefinition(NodeId(split), (PortId("in"),), copy_ports))
            added[split] = SplitExecutor(count, node.partition_key)
        for index in range(count):
            copy = _copy(node, index)
            nodes.append(copy)
            originals[copy.id] = node.id
            edges.extend(
                EdgeDefinition(
                    _end(splitter_id(node.id, port), f"r{index}"),
                    _end(copy.id, port),
                    into.get((node.id, port), EdgeCapacity.DEFAULT),
                )
                for port in node.input_ports
            )
            edges.extend(
                EdgeDefinition(
                    _end(copy.id, port),
                    _end(merger_id(node.id, port), f"r{index}"),
                    out_of.get((node.id, port), EdgeCapacity.DEFAULT),
                )
                for port in node.output_ports
            )
        for port in node.output_ports:
            merge = merger_id(node.id, port)
            nodes.append(NodeDefinition(NodeId(merge), copy_ports, (PortId("out"),)))
            added[merge] = MergeExecutor()
    for edge in workflow.edges:
        source, target = edge.source, edge.target
        if source.node_id in replicated:
            source = _end(merger_id(source.node_id, source.port_id), "out")
        if target.node_id in replicated:
            target = _end(splitter_id(target.node_id, target.port_id), "in")
        edges.append(EdgeDefinition(source, target, edge.capacity))
    expanded = WorkflowDefinition.from_parts(
        str(workflow.id), nodes, edges, cycles=workflow.graph.cycles
    )
    return expanded, originals, added


def expand_plan(
    workflow: WorkflowDefinition, specs: tuple[NodeSpec, ...]
) -> tuple[WorkflowDefinition, tuple[NodeSpec, ...], frozenset[str]]:
    """The plan's workflow and node specs with every replicated node expanded, and the
    ids of the copies (which a backend should run apart from other nodes)."""
    expanded, originals, added = expand_workflow(workflow)
    if expanded is workflow:
        return workflow, specs, frozenset()
    by_id = {spec.node_id: spec for spec in specs}
    out: list[NodeSpec] = []
    for node in expanded.nodes:
        if node.id in added:
            out.append(NodeSpec(node, added[node.id]))
            continue
        spec = by_id[originals.get(node.id, node.id)]
        out.append(NodeSpec(node, spec.executor, spec.from_document, spec.time_limit))
    return expanded, tuple(out), frozenset(originals)
