"""The original CLI's two-node run, record by record (conformance/cli-snapshots).

The snapshot is the original's (``tests-integration/conformance/cli-snapshots``). A source
sends one packet over a capacity-8 edge, then closes; the sink receives it and sees end of
stream.
"""

from __future__ import annotations

import pytest
from conformance_fixtures import CLI_SNAPSHOTS
from pureflow.core import (
    ExecutionMetadata,
    InMemoryMetadataSink,
    LifecycleEventKind,
    LifecycleRecord,
    NodeContext,
    PacketPayload,
    wire_edges,
)
from pureflow.workflow import EdgeDefinition, NodeDefinition, WorkflowDefinition

SNAPSHOT = CLI_SNAPSHOTS / "two-node.metadata.jsonl"


@pytest.mark.anyio
async def test_two_node_records_match_the_snapshot() -> None:
    expected = SNAPSHOT.read_text(encoding="utf-8").splitlines(keepends=True)
    workflow = WorkflowDefinition.from_parts(
        "flow",
        [NodeDefinition.of("source", [], ["out"]), NodeDefinition.of("sink", ["in"], [])],
        [EdgeDefinition.between(("source", "out"), ("sink", "in"), 8)],
    )
    wiring = wire_edges(workflow)
    execution = ExecutionMetadata.first_attempt("cli-run-1")
    sink = InMemoryMetadataSink()
    contexts = {}
    for node, (inputs, outputs) in wiring.items():
        contexts[node] = NodeContext("flow", node, execution)
        inputs.with_node_context(contexts[node]).with_metadata_sink(sink)
        outputs.with_node_context(contexts[node]).with_metadata_sink(sink)

    source = wiring["source"].outputs  # type: ignore[index]
    sink.record(LifecycleRecord(LifecycleEventKind.NODE_STARTED, contexts["source"]))
    packet = source.packet(
        "out", PacketPayload.bytes(b"cli-native node=source"), message_id="cli-source-out-0"
    )
    await source.send("out", packet)
    source.close()
    sink.record(LifecycleRecord(LifecycleEventKind.NODE_COMPLETED, contexts["source"]))

    inputs = wiring["sink"].inputs  # type: ignore[index]
    sink.record(LifecycleRecord(LifecycleEventKind.NODE_STARTED, contexts["sink"]))
    assert await inputs.recv("in") is not None
    assert await inputs.recv("in") is None
    inputs.close()
    sink.record(LifecycleRecord(LifecycleEventKind.NODE_COMPLETED, contexts["sink"]))

    lines = sink.json_lines()
    assert len(lines) == len(expected) == 13
    for got, want in zip(lines, expected, strict=True):
        assert got == want
