"""`recv_any(port_ids)` waits on some ports only: it ends when those ports end, even while
another input (a feedback loop's, say) stays open."""

from __future__ import annotations

import anyio
import pytest
from pureflow.core import (
    ExecutionMetadata,
    NodeContext,
    PacketPayload,
    PortRecvError,
    PortRecvErrorKind,
    Wiring,
    wire_edges,
)
from pureflow.workflow import EdgeDefinition, NodeDefinition, WorkflowDefinition

WORKFLOW = WorkflowDefinition.from_parts(
    "flow",
    [
        NodeDefinition.of("jobs", [], ["out"]),
        NodeDefinition.of("loop", [], ["out"]),
        NodeDefinition.of("gate", ["jobs", "loop"], []),
    ],
    [
        EdgeDefinition.between(("jobs", "out"), ("gate", "jobs"), 4),
        EdgeDefinition.between(("loop", "out"), ("gate", "loop"), 4),
    ],
)


def wired() -> Wiring:
    wiring = wire_edges(WORKFLOW)
    execution = ExecutionMetadata.first_attempt("run-1")
    for node, (inputs, outputs) in wiring.items():
        ctx = NodeContext("flow", node, execution)
        inputs.with_node_context(ctx)
        outputs.with_node_context(ctx)
    return wiring


@pytest.mark.anyio
async def test_subset_ends_while_another_port_stays_open() -> None:
    wiring = wired()
    jobs = wiring["jobs"].outputs["out"]  # type: ignore[index]
    loop = wiring["loop"].outputs["out"]  # type: ignore[index]
    gate = wiring["gate"].inputs  # type: ignore[index]
    await jobs.send(jobs.packet(PacketPayload.bytes("job-1")))
    await loop.send(loop.packet(PacketPayload.bytes("retry-1")))
    jobs.close()  # the loop's output stays open
    got = await gate.recv_any(["jobs"])
    assert got is not None
    assert got[0] == "jobs"
    with anyio.fail_after(1):
        assert await gate.recv_any(["jobs"]) is None  # `loop` is still open
    port, packet = await gate.recv_any() or ("", None)
    assert port == "loop"
    assert packet is not None
    assert packet.payload.as_bytes() == b"retry-1"


@pytest.mark.anyio
async def test_subset_names_must_be_declared() -> None:
    gate = wired()["gate"].inputs  # type: ignore[index]
    with pytest.raises(PortRecvError) as info:
        await gate.recv_any(["nope"])
    assert info.value.kind is PortRecvErrorKind.UNKNOWN_PORT
