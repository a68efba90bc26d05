"""Output contracts at commit time through the backend seam: spec-3 §13 tests 22-23.

Adaptation: the original had ``run_workflow_with_contracts`` and a
``ContractOutputValidator``; this engine's :func:`run_workflow` takes no contracts. The
tests reproduce the behaviour with the pieces the design provides: an
:class:`~pureflow.core.OutputPacketValidator` doing the original's four envelope checks
(spec-3 §9, in order), attached to every node's outputs by an
:class:`~pureflow.engine.ExecutionBackend` that wraps the in-process one. Test 23's
``BatchNodeExecutor`` lives with the WebAssembly host in this port; the batch-shaped node
below (collect with ``recv_any``, call a synchronous function, send port by port in
sorted order) pins the same observable results. One difference: a packet sent before a
later failure stays queued, but under fail-fast the consumer's next ``recv`` raises
``Cancelled`` (a cancelled node receives nothing more), so it is dropped, not delivered.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from engine_test_nodes import counts, edge, expect, node, source_sink, workflow
from pureflow.core import (
    BatchInputs,
    BatchOutputs,
    ExecutionMetadata,
    InMemoryMetadataSink,
    MessageEndpoint,
    MessageRoute,
    NodeContext,
    NodeExecutor,
    Packet,
    PacketPayload,
    PortSendError,
    PortsIn,
    PortsOut,
    node_executor,
)
from pureflow.engine import InProcessBackend, RunSummary, TerminalState, run_workflow
from pureflow.engine.backend import InProcessEdges
from pureflow.types import PortId
from pureflow.workflow import WorkflowDefinition

pytestmark = pytest.mark.anyio

EXECUTION = ExecutionMetadata.first_attempt("run-1")
PacketBuilder = Callable[[PortsOut], Packet]


class EnvelopeContract:
    """The original's output checks 2-5: workflow, execution (id and attempt), a source
    endpoint, and a source equal to this node's output port."""

    def __init__(self, workflow_id: str, execution: ExecutionMetadata, node_id: str) -> None:
        self.workflow_id, self.execution, self.node_id = workflow_id, execution, node_id

    def validate(self, port_id: PortId, packet: Packet) -> None:
        source = packet.route.source
        if packet.workflow_id != self.workflow_id:
            reason = (
                f"packet workflow `{packet.workflow_id}` does not match workflow "
                f"`{self.workflow_id}`"
            )
        elif packet.execution != self.execution:
            reason = (
                f"packet execution `{packet.execution.execution_id}` does not match "
                f"execution `{self.execution.execution_id}`"
            )
        elif source is None:
            reason = "packet route has no source endpoint"
        elif (source.node_id, source.port_id) != (self.node_id, port_id):
            reason = (
                f"packet source `{source.node_id}:{source.port_id}` does not match output "
                f"`{self.node_id}:{port_id}`"
            )
        else:
            return
        raise PortSendError.rejected(port_id, reason)


class ContractBackend(InProcessBackend):
    """The in-process backend, with an :class:`EnvelopeContract` on every node's outputs."""

    def wire(self, workflow: WorkflowDefinition, default_capacity: int) -> InProcessEdges:
        edges = super().wire(workflow, default_capacity)
        for graph_node in workflow.nodes:
            contract = EnvelopeContract(workflow.id, EXECUTION, graph_node.id)
            edges[graph_node.id].outputs.with_output_validator(contract)
        return edges


def own_packet(outputs: PortsOut) -> Packet:
    return outputs.packet("out", b"contracted")


def foreign(
    source: tuple[str, str] | None = ("other", "out"),
    workflow_id: str = "flow",
    execution: ExecutionMetadata = EXECUTION,
) -> PacketBuilder:
    def build(outputs: PortsOut) -> Packet:
        route = MessageRoute(
            None if source is None else MessageEndpoint(*source), MessageEndpoint("sink", "in")
        )
        payload = PacketPayload.bytes(b"contracted")
        return Packet.create("m-1", workflow_id, execution, route, payload)

    return build


class Collect:
    """A sink that keeps every payload it receives."""

    def __init__(self) -> None:
        self.received: list[bytes | None] = []

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        self.received.extend([p.payload.as_bytes() async for p in inputs.iter("in")])


async def run_contracted(
    graph: WorkflowDefinition, executors: dict[str, NodeExecutor], sink: Collect
) -> RunSummary:
    executors = {**executors, "sink": sink}
    return await run_workflow(graph, executors, backend=ContractBackend())


def sends(build: PacketBuilder) -> NodeExecutor:
    @node_executor
    async def source(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        await outputs.send("out", build(outputs))

    return source


async def test_22_a_matching_packet_passes_the_contract() -> None:
    sink = Collect()
    summary = await run_contracted(source_sink(), {"source": sends(own_packet)}, sink)
    assert summary.terminal_state is TerminalState.COMPLETED
    assert sink.received == [b"contracted"]


@pytest.mark.parametrize(
    ("build", "reason"),
    [
        (foreign(), "packet source `other:out` does not match output `source:out`"),
        (foreign(source=None), "packet route has no source endpoint"),
        (
            foreign(workflow_id="elsewhere"),
            "packet workflow `elsewhere` does not match workflow `flow`",
        ),
        (
            foreign(execution=ExecutionMetadata.first_attempt("run-2")),
            "packet execution `run-2` does not match execution `run-1`",
        ),
        (
            foreign(execution=ExecutionMetadata("run-1", 2)),  # type: ignore[arg-type]
            "packet execution `run-1` does not match execution `run-1`",
        ),
    ],
    ids=["source", "no-source", "workflow", "execution", "attempt"],
)
async def test_22_a_mismatched_packet_is_rejected(build: PacketBuilder, reason: str) -> None:
    """The rejected packet never reaches the consumer. The message shows execution ids
    only, even when only the attempt differs (as the original)."""
    sink = Collect()
    summary = await run_contracted(source_sink(), {"source": sends(build)}, sink)
    assert summary.terminal_state is TerminalState.FAILED
    assert str(summary.first_error) == (
        f"CDT-EXEC-001: node execution failed: output port `out` rejected packet: {reason}"
    )
    assert sink.received == []


# --- 23. a batch-shaped node under contracts ------------------------------------------

BatchFunction = Callable[[BatchInputs, PortsOut], BatchOutputs]


def stamp(inputs: BatchInputs, outputs: PortsOut) -> BatchOutputs:
    """One ``contracted`` packet per input packet."""
    result = BatchOutputs()
    for _port, packets in inputs:
        for _ in packets:
            result.push("out", own_packet(outputs))
    return result


def batch_node(function: BatchFunction) -> NodeExecutor:
    @node_executor
    async def batch(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        collected = BatchInputs()
        while (item := await inputs.recv_any()) is not None:
            collected.push(*item)
        for port_id, packets in function(collected, outputs):  # sorted port-id order
            for packet in packets:
                await outputs.send(port_id, packet)

    return batch


@node_executor
async def feed(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
    await outputs.send("out", outputs.packet("out", b"input"))


def batch_graph() -> WorkflowDefinition:
    return workflow(
        [node("feed", [], ["out"]), node("source", ["in"], ["out"]), node("sink", ["in"])],
        [edge(("feed", "out"), ("source", "in")), edge(("source", "out"), ("sink", "in"))],
    )


async def test_23_batch_node_with_contracts_delivers() -> None:
    sink = Collect()
    summary = await run_contracted(batch_graph(), {"feed": feed, "source": batch_node(stamp)}, sink)
    assert summary.terminal_state is TerminalState.COMPLETED
    assert sink.received == [b"contracted"]


async def test_23_a_mismatched_batch_output_fails_and_the_sink_gets_nothing() -> None:
    def mismatched(inputs: BatchInputs, outputs: PortsOut) -> BatchOutputs:
        return BatchOutputs({"out": [foreign()(outputs)]})

    sink = Collect()
    summary = await run_contracted(
        batch_graph(), {"feed": feed, "source": batch_node(mismatched)}, sink
    )
    assert sink.received == []
    assert counts(summary) == expect(3, completed=1, failed=1, cancelled=1, errors=2)
    assert str(summary.first_error) == (
        "CDT-EXEC-001: node execution failed: output port `out` rejected packet: "
        "packet source `other:out` does not match output `source:out`"
    )


async def test_23_sending_on_an_undeclared_port_fails() -> None:
    """Ports go in sorted order: ``out`` is sent (and queued) before ``rogue`` fails. The
    queued packet is then dropped: fail-fast cancels the sink before it reads it."""

    def with_rogue(inputs: BatchInputs, outputs: PortsOut) -> BatchOutputs:
        result = stamp(inputs, outputs)
        result.push("rogue", own_packet(outputs))
        return result

    sink = Collect()
    metadata = InMemoryMetadataSink()
    summary = await run_workflow(
        batch_graph(),
        {"feed": feed, "source": batch_node(with_rogue), "sink": sink},
        backend=ContractBackend(),
        metadata=metadata,
    )
    assert summary.terminal_state is TerminalState.FAILED
    assert str(summary.first_error) == (
        "CDT-EXEC-001: node execution failed: output port `rogue` is not declared"
    )
    assert sink.received == []
    enqueued = [r for r in metadata.of_type("message") if r.kind == "enqueued"]
    dropped = [r for r in metadata.of_type("message") if r.kind == "dropped"]
    assert [str(r.to_json_value()["message"]["message_id"]) for r in dropped] == [
        str(r.to_json_value()["message"]["message_id"])
        for r in enqueued
        if r.to_json_value()["message"]["route"]["target"]["node_id"] == "sink"
    ]
