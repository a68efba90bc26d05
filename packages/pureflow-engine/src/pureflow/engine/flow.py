"""Build a workflow in code, naming each node once, together with the code that runs it.

::

    flow = (
        Flow("shout")
        .add("source", numbers)
        .add("upper", upper)
        .add("sink", collect)
        .connect("source.out", "upper.in")
        .connect("upper.out", "sink.in", capacity=64)
    )
    summary = run_sync(flow)

A node's ports are the ones its code declares (``@component(inputs=..., outputs=...)``),
else the ones given to :meth:`Flow.add`, else the ones its connections use, in the order
first named. :meth:`Flow.build` checks the graph the way a document is checked
(duplicate or unknown nodes and ports, cycles unless ``cycles=True``) and raises
:class:`FlowError` naming the problem. :func:`pureflow.engine.run` accepts a flow as it
is: the workflow and its nodes' code in one value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from pureflow.core import component_of
from pureflow.types import NodeId, PortId
from pureflow.workflow import (
    CyclePolicy,
    EdgeCapacity,
    EdgeDefinition,
    EdgeEndpoint,
    NodeDefinition,
    WorkflowDefinition,
)


class FlowError(ValueError):
    """A :class:`Flow` describes an invalid node, connection or graph."""


@dataclass(slots=True)
class _Node:
    code: object
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    config: Mapping[str, Any] | None = None
    component: str | None = None
    replicas: int = 1
    partition_key: str | None = None


def _endpoint(text: str, role: str) -> tuple[str, str]:
    node, dot, port = text.rpartition(".")
    if not dot or not node or not port:
        raise FlowError(f"{role} `{text}` must be `node.port`")
    return node, port


def _add_port(ports: list[str], port: str) -> None:
    if port not in ports:
        ports.append(port)


class Flow:
    """A workflow under construction: nodes with their code, and connections.

    ``Flow(id, capacity=None, cycles=False)``: ``capacity`` is the default for
    connections that do not set one (``None``: the run policy's default, 1);
    ``cycles=True`` allows feedback loops. Every method returns the flow, so calls chain.
    """

    def __init__(
        self, flow_id: str = "flow", *, capacity: int | None = None, cycles: bool = False
    ) -> None:
        self.id = flow_id
        self.capacity = capacity
        self.cycles = cycles
        self._nodes: dict[str, _Node] = {}
        self._edges: list[tuple[tuple[str, str], tuple[str, str], int | None]] = []

    def add(
        self,
        node_id: str,
        code: object = None,
        *,
        inputs: Iterable[str] | None = None,
        outputs: Iterable[str] | None = None,
        config: Mapping[str, Any] | None = None,
        component: str | None = None,
        replicas: int = 1,
        partition_key: str | None = None,
    ) -> Self:
        """Add node ``node_id`` run by ``code``: an ``async def node(ctx, inputs,
        outputs)``, a blocking ``def`` of the same shape (run in a worker thread), an
        ``@component`` function or class, or a node executor. ``component`` names code
        the way a document does (``builtin:map``, ``python:module:attr``) instead.
        ``config`` is the node's config (``ctx.config``, or the component's settings).
        ``replicas``/``partition_key``: run that many copies, spread by the value at that
        JSON pointer or round-robin (:mod:`pureflow.engine.replicas`).
        """
        if node_id in self._nodes:
            raise FlowError(f"node `{node_id}` is added twice")
        if (code is None) == (component is None):
            raise FlowError(f"node `{node_id}`: give its code or a `component` reference")
        node = _Node(
            code,
            config=config,
            component=component,
            replicas=replicas,
            partition_key=partition_key,
        )
        declared = component_of(code) if code is not None else None
        spec = None if declared is None else declared.spec
        for ports, given, from_spec in (
            (node.inputs, inputs, None if spec is None else spec.inputs),
            (node.outputs, outputs, None if spec is None else spec.outputs),
        ):
            for port in from_spec if from_spec is not None else (given or ()):
                _add_port(ports, port)
        self._nodes[node_id] = node
        return self

    def connect(self, source: str, target: str, *, capacity: int | None = None) -> Self:
        """Join output ``"node.port"`` to input ``"node.port"`` with a bounded edge."""
        src = _endpoint(source, "source")
        dst = _endpoint(target, "target")
        for (node_id, port), role, direction in (
            (src, "source", "outputs"),
            (dst, "target", "inputs"),
        ):
            node = self._nodes.get(node_id)
            if node is None:
                raise FlowError(f"{role} `{node_id}.{port}`: node `{node_id}` was not added")
            _add_port(getattr(node, direction), port)
        self._edges.append((src, dst, capacity if capacity is not None else self.capacity))
        return self

    @property
    def node_ids(self) -> tuple[str, ...]:
        return tuple(self._nodes)

    def code(self) -> dict[str, object]:
        """Node id -> code, for the nodes added with code."""
        return {
            node_id: node.code for node_id, node in self._nodes.items() if node.code is not None
        }

    def build(self) -> WorkflowDefinition:
        """The workflow (checked like a document; :class:`FlowError` names a problem)."""
        try:
            nodes = [
                NodeDefinition(
                    NodeId(node_id),
                    tuple(PortId(p) for p in node.inputs),
                    tuple(PortId(p) for p in node.outputs),
                    node.component,
                    node.config,
                    replicas=node.replicas,
                    partition_key=node.partition_key,
                )
                for node_id, node in self._nodes.items()
            ]
            edges = [
                EdgeDefinition(
                    EdgeEndpoint(NodeId(src[0]), PortId(src[1])),
                    EdgeEndpoint(NodeId(dst[0]), PortId(dst[1])),
                    EdgeCapacity(capacity),
                )
                for src, dst, capacity in self._edges
            ]
            return WorkflowDefinition.from_parts(
                self.id,
                nodes,
                edges,
                cycles=CyclePolicy.ALLOW if self.cycles else CyclePolicy.REJECT,
            )
        except ValueError as err:  # identifiers, capacities, ports, the graph's checks
            raise FlowError(f"flow `{self.id}`: {err}") from None

    def __repr__(self) -> str:
        return f"Flow({self.id!r}, nodes={len(self._nodes)}, connections={len(self._edges)})"
