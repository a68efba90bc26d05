"""Helpers for the standard component tests: small workflows built in code, run with the
engine, with a ``feed`` source and a ``capture`` sink around the components under test."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pureflow.nodes
from pureflow.core import (
    CancellationHandle,
    Component,
    ComponentSpec,
    NodeConfig,
    NodeContext,
    NodeExecutor,
    Packet,
    PacketPayload,
    PortsIn,
    PortsOut,
)
from pureflow.engine import (
    BoundWorkflow,
    RunSummary,
    TerminalState,
    bind_workflow,
    run_workflow,
)
from pureflow.workflow import EdgeDefinition, NodeDefinition, WorkflowDefinition, WorkflowGraph


class Feed:
    """Emit ``config["values"]`` on ``out``: control values, or bytes with ``"bytes": true``,
    or structured objects given in ``config["objects"]`` (tests pass Python objects)."""

    def __init__(self, config: NodeConfig) -> None:
        self.values = list(config.get("values", ()))
        self.as_bytes = bool(config.get("bytes", False))
        self.objects = list(config.get("objects", ()))

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        out = outputs["out"]
        for value in self.values:
            payload = PacketPayload.bytes(value) if self.as_bytes else PacketPayload.control(value)
            await out.send(out.packet(payload))
        for obj in self.objects:
            await out.send(out.packet(PacketPayload.structured(obj)))


class Capture:
    """Keep every packet that arrives on any input port, by port."""

    def __init__(self) -> None:
        self.packets: dict[str, list[Packet]] = {}

    def values(self, port: str = "in") -> list[Any]:
        return [packet.payload.value for packet in self.packets.get(port, [])]

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        while (item := await inputs.recv_any()) is not None:
            self.packets.setdefault(str(item[0]), []).append(item[1])


FEED = Component(ComponentSpec("feed", inputs=(), outputs=("out",)), Feed)


@dataclass
class Flow:
    """A workflow under construction: ``add`` nodes, ``connect`` ports, ``run`` it."""

    nodes: list[NodeDefinition] = field(default_factory=list)
    edges: list[EdgeDefinition] = field(default_factory=list)
    captures: dict[str, NodeExecutor] = field(default_factory=dict)

    def add(
        self,
        node_id: str,
        component: str | None,
        inputs: Iterable[str] = (),
        outputs: Iterable[str] = (),
        config: Mapping[str, Any] | None = None,
    ) -> Flow:
        self.nodes.append(
            NodeDefinition.of(node_id, inputs, outputs, component=component, config=config)
        )
        return self

    def feed(self, node_id: str, values: Iterable[Any] = (), **options: Any) -> Flow:
        return self.add(node_id, "builtin:feed", [], ["out"], {"values": list(values), **options})

    def capture(self, node_id: str, inputs: Iterable[str] = ("in",)) -> Capture:
        capture = Capture()
        self.use(node_id, capture, inputs)
        return capture

    def use(
        self,
        node_id: str,
        executor: NodeExecutor,
        inputs: Iterable[str] = (),
        outputs: Iterable[str] = (),
    ) -> Flow:
        """A node run by ``executor`` directly (no component)."""
        self.captures[node_id] = executor
        return self.add(node_id, None, inputs, outputs)

    def connect(self, source: str, target: str, capacity: int | None = None) -> Flow:
        (a, b), (c, d) = source.split("."), target.split(".")
        self.edges.append(EdgeDefinition.between((a, b), (c, d), capacity))
        return self

    def workflow(self) -> WorkflowDefinition:
        return WorkflowDefinition("test-flow", WorkflowGraph(self.nodes, self.edges))

    def bind_only(self, base_dir: Path | None = None) -> BoundWorkflow:
        """Bind without running (raises ``BindingError``)."""
        catalog = {**pureflow.nodes.catalog(), "feed": FEED}
        return bind_workflow(
            self.workflow(), base_dir=base_dir, catalog=catalog, executors=self.captures
        )

    async def run(
        self,
        base_dir: Path | None = None,
        *,
        expect_success: bool = True,
        cancellation: CancellationHandle | None = None,
    ) -> RunSummary:
        summary = await run_workflow(
            self.workflow(), self.bind_only(base_dir), cancellation=cancellation
        )
        if expect_success:
            assert summary.terminal_state is TerminalState.COMPLETED, summary.first_error
        return summary
