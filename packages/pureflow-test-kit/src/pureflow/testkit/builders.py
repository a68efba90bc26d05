"""Identifier helpers and graph builders that fail loudly, with clear messages.

Every helper here raises :class:`BuilderError` (a ``ValueError``) the moment something is
wrong, naming the offending value and what was expected, so a broken fixture points at
the line that built it::

    workflow = (
        WorkflowBuilder("etl")
        .node(NodeBuilder("source").output("out"))
        .node(NodeBuilder("sink").input("in"))
        .edge("source", "out", "sink", "in", capacity=4)
        .build()
    )

Checks that need the whole graph (unknown nodes or ports on an edge, cycles) run in
:meth:`WorkflowBuilder.build`; duplicate nodes and ports are reported at once.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pureflow.core import ExecutionMetadata
from pureflow.types import ExecutionId, IdentifierError, NodeId, PortId, WorkflowId
from pureflow.workflow import (
    CyclePolicy,
    EdgeCapacity,
    EdgeDefinition,
    EdgeEndpoint,
    NodeDefinition,
    WorkflowDefinition,
    WorkflowValidationError,
)


class BuilderError(ValueError):
    """A test fixture described an invalid identifier, node or workflow."""


# --- identifiers ----------------------------------------------------------------------


def _ident(kind: str, factory: Any, value: object) -> Any:
    if not isinstance(value, str):
        raise BuilderError(f"{kind} must be a str, got {type(value).__name__} {value!r}")
    try:
        return factory(value)
    except IdentifierError as err:
        raise BuilderError(f"invalid {kind} {value!r}: {err}") from err


def workflow_id(value: str) -> WorkflowId:
    """A validated :class:`~pureflow.types.WorkflowId`; :class:`BuilderError` if invalid."""
    result: WorkflowId = _ident("workflow id", WorkflowId, value)
    return result


def node_id(value: str) -> NodeId:
    """A validated :class:`~pureflow.types.NodeId`; :class:`BuilderError` if invalid."""
    result: NodeId = _ident("node id", NodeId, value)
    return result


def port_id(value: str) -> PortId:
    """A validated :class:`~pureflow.types.PortId`; :class:`BuilderError` if invalid."""
    result: PortId = _ident("port id", PortId, value)
    return result


def port_ids(*values: str) -> tuple[PortId, ...]:
    """Several validated port ids, in order (``port_ids("in", "out")``)."""
    return tuple(port_id(value) for value in values)


def execution_metadata(value: str = "test-run") -> ExecutionMetadata:
    """The first attempt (attempt 1) of execution ``value``."""
    execution: ExecutionId = _ident("execution id", ExecutionId, value)
    return ExecutionMetadata(execution)


# --- nodes ----------------------------------------------------------------------------


class NodeBuilder:
    """Builds a :class:`~pureflow.workflow.NodeDefinition` port by port.

    ``NodeBuilder("transform").input("in").output("out").build()``. Ports keep the order
    they were added in. A port id used twice (including once as an input and once as an
    output) raises :class:`BuilderError` at the call that repeats it.
    """

    def __init__(self, node: str) -> None:
        self._id = node_id(node)
        self._inputs: list[PortId] = []
        self._outputs: list[PortId] = []
        self._component: str | None = None
        self._config: Mapping[str, Any] | None = None

    @property
    def id(self) -> NodeId:
        return self._id

    def _add(self, direction: str, port: str, into: list[PortId]) -> NodeBuilder:
        checked = port_id(port)
        if checked in self._inputs or checked in self._outputs:
            where = "an input" if checked in self._inputs else "an output"
            raise BuilderError(
                f"node `{self._id}` already declares port `{checked}` as {where}; "
                f"cannot add it again as {direction}"
            )
        into.append(checked)
        return self

    def input(self, port: str) -> NodeBuilder:
        """Declare one more input port."""
        return self._add("an input", port, self._inputs)

    def output(self, port: str) -> NodeBuilder:
        """Declare one more output port."""
        return self._add("an output", port, self._outputs)

    def inputs(self, *ports: str) -> NodeBuilder:
        for port in ports:
            self.input(port)
        return self

    def outputs(self, *ports: str) -> NodeBuilder:
        for port in ports:
            self.output(port)
        return self

    def component(self, component: str) -> NodeBuilder:
        """Set the document's ``component`` extension (``python:pkg.mod:attr``, ...)."""
        self._component = component
        return self

    def config(self, config: Mapping[str, Any]) -> NodeBuilder:
        """Set the node's ``config`` mapping (handed to the node as ``ctx.config``)."""
        self._config = dict(config)
        return self

    def build(self) -> NodeDefinition:
        return NodeDefinition(
            self._id,
            tuple(self._inputs),
            tuple(self._outputs),
            self._component,
            self._config,
        )

    def __repr__(self) -> str:
        ins = [str(p) for p in self._inputs]
        outs = [str(p) for p in self._outputs]
        return f"NodeBuilder({str(self._id)!r}, inputs={ins!r}, outputs={outs!r})"


# --- workflows ------------------------------------------------------------------------


class WorkflowBuilder:
    """Builds a validated :class:`~pureflow.workflow.WorkflowDefinition`.

    Add nodes (a :class:`NodeBuilder`, a built ``NodeDefinition``, or an id with
    ``inputs=``/``outputs=``) and edges in any order, then :meth:`build`. Cycles are
    rejected unless :meth:`allow_cycles` was called. Every problem raises
    :class:`BuilderError` naming the workflow, the edge and the ports that do exist.
    """

    def __init__(self, workflow: str = "test-flow") -> None:
        self._id = workflow_id(workflow)
        self._nodes: dict[NodeId, NodeDefinition] = {}
        self._edges: list[EdgeDefinition] = []
        self._cycles = CyclePolicy.REJECT

    @property
    def id(self) -> WorkflowId:
        return self._id

    def node(
        self,
        node: NodeDefinition | NodeBuilder | str,
        *,
        inputs: Iterable[str] = (),
        outputs: Iterable[str] = (),
    ) -> WorkflowBuilder:
        """Add a node. A plain id takes its ports from ``inputs`` and ``outputs``."""
        if isinstance(node, str):
            node = NodeBuilder(node).inputs(*inputs).outputs(*outputs)
        elif tuple(inputs) or tuple(outputs):
            raise BuilderError("inputs=/outputs= apply only when the node is given as an id")
        definition = node.build() if isinstance(node, NodeBuilder) else node
        if not isinstance(definition, NodeDefinition):
            raise BuilderError(
                f"expected a NodeBuilder, NodeDefinition or node id, got {definition!r}"
            )
        if definition.id in self._nodes:
            raise BuilderError(f"workflow `{self._id}` already has a node `{definition.id}`")
        self._nodes[definition.id] = definition
        return self

    def nodes(self, *nodes: NodeDefinition | NodeBuilder) -> WorkflowBuilder:
        for node in nodes:
            self.node(node)
        return self

    def edge(
        self,
        source_node: str,
        source_port: str,
        target_node: str,
        target_port: str,
        capacity: int | None = None,
    ) -> WorkflowBuilder:
        """Join ``source_node.source_port`` (an output) to ``target_node.target_port``
        (an input). ``capacity`` >= 1, or ``None`` for the engine default."""
        try:
            edge_capacity = EdgeCapacity(capacity)
        except ValueError as err:
            raise BuilderError(
                f"edge {source_node}.{source_port} -> {target_node}.{target_port}: {err}"
            ) from err
        self._edges.append(
            EdgeDefinition(
                EdgeEndpoint(node_id(source_node), port_id(source_port)),
                EdgeEndpoint(node_id(target_node), port_id(target_port)),
                edge_capacity,
            )
        )
        return self

    def edge_with_capacity(
        self,
        source_node: str,
        source_port: str,
        target_node: str,
        target_port: str,
        capacity: int,
    ) -> WorkflowBuilder:
        """The original's spelling of :meth:`edge` with an explicit capacity."""
        return self.edge(source_node, source_port, target_node, target_port, capacity)

    def allow_cycles(self, allow: bool = True) -> WorkflowBuilder:
        """Accept feedback loops (the workflow then runs them by default)."""
        self._cycles = CyclePolicy.ALLOW if allow else CyclePolicy.REJECT
        return self

    def build(self) -> WorkflowDefinition:
        """Validate and return the workflow; :class:`BuilderError` says what is wrong."""
        try:
            return WorkflowDefinition.from_parts(
                self._id, self._nodes.values(), self._edges, cycles=self._cycles
            )
        except WorkflowValidationError as err:
            raise BuilderError(
                f"cannot build workflow `{self._id}`: {err}{self._hint(err)}"
            ) from err

    def _hint(self, err: WorkflowValidationError) -> str:
        unknown_node = getattr(err, "node_id", None)
        if err.code == "graph.unknown_node":
            known = ", ".join(f"`{n}`" for n in self._nodes) or "none"
            return f" (nodes: {known})"
        if err.code == "graph.unknown_port" and unknown_node in self._nodes:
            node = self._nodes[unknown_node]
            ins = ", ".join(f"`{p}`" for p in node.input_ports) or "none"
            outs = ", ".join(f"`{p}`" for p in node.output_ports) or "none"
            return f" (node `{unknown_node}` has inputs: {ins}; outputs: {outs})"
        if err.code == "graph.cycle":
            return "; call .allow_cycles() to build a feedback loop"
        return ""

    def __repr__(self) -> str:
        return (
            f"WorkflowBuilder({str(self._id)!r}, nodes={len(self._nodes)}, "
            f"edges={len(self._edges)})"
        )


def linear_workflow(
    nodes: Sequence[str],
    *,
    capacity: int | None = None,
    workflow: str = "linear",
) -> WorkflowDefinition:
    """A chain ``nodes[0] -> nodes[1] -> ...``: every node but the first has input
    ``in``, every node but the last has output ``out``, each edge has ``capacity``
    (``None``: the engine default). ``linear_workflow(["source", "sink"])``."""
    if isinstance(nodes, str):
        raise BuilderError("linear_workflow takes a list of node ids, not a single string")
    if not nodes:
        raise BuilderError("linear_workflow needs at least one node")
    builder = WorkflowBuilder(workflow)
    last = len(nodes) - 1
    for index, name in enumerate(nodes):
        node = NodeBuilder(name)
        if index > 0:
            node.input("in")
        if index < last:
            node.output("out")
        builder.node(node)
    for upstream, downstream in itertools.pairwise(nodes):
        builder.edge(upstream, "out", downstream, "in", capacity)
    return builder.build()
