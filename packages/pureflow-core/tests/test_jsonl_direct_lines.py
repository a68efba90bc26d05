"""Ports write JSONL lines straight into a plain JsonlMetadataSink (no record objects).

That path caches line fragments per port; these tests pin it to the record path: the same
operations give byte-identical lines through a JsonlMetadataSink and through record
objects in an InMemoryMetadataSink, including after the context's cancellation state
changes (the cached fragments carry it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pureflow.core import (
    CancellationHandle,
    ExecutionMetadata,
    InMemoryMetadataSink,
    JsonlMetadataSink,
    NodeContext,
    PacketPayload,
    wire_edges,
)
from pureflow.workflow import EdgeDefinition, NodeDefinition, WorkflowDefinition

WORKFLOW = WorkflowDefinition.from_parts(
    "flow",
    [NodeDefinition.of("source", [], ["out"]), NodeDefinition.of("sink", ["in"], [])],
    [EdgeDefinition.between(("source", "out"), ("sink", "in"), 8)],
)


async def exchange(sink: Any) -> None:
    """Two packets, then a third committed after cancellation, then both ends close."""
    wiring = wire_edges(WORKFLOW)
    handle = CancellationHandle()
    execution = ExecutionMetadata.first_attempt("run-1")
    for node, (inputs, outputs) in wiring.items():
        ctx = NodeContext("flow", node, execution, cancellation_token=handle.token)
        inputs.with_node_context(ctx).with_metadata_sink(sink)
        outputs.with_node_context(ctx).with_metadata_sink(sink)
    out = wiring["source"].outputs["out"]  # type: ignore[index]
    into = wiring["sink"].inputs["in"]  # type: ignore[index]
    for text in ("one", "two"):
        await out.send(out.packet(PacketPayload.bytes(text)))
    assert (await into.recv()) is not None
    with await out.reserve() as permit:
        handle.cancel("stop now")
        permit.send(out.packet(PacketPayload.bytes("three")))  # commit ignores the token
    out.close()
    into.close()


@pytest.mark.anyio
async def test_direct_lines_equal_record_lines_across_cancellation(tmp_path: Path) -> None:
    recorded = InMemoryMetadataSink()
    await exchange(recorded)
    path = tmp_path / "m.jsonl"
    with JsonlMetadataSink(path) as direct:
        await exchange(direct)
        count = direct.record_count
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    assert lines == list(recorded.json_lines())
    assert count == len(lines)
    assert any('"reason":"stop now","state":"requested"' in line for line in lines)
    assert any('"state":"active"' in line for line in lines)
