"""Count words with three Python nodes wired in code, and print the run summary.

    python examples/python-api/word_count.py

The source sends lines, the splitter (a blocking node in a worker thread) emits one
packet per word, and the counter tallies them and sends one control packet at the end.
"""

from __future__ import annotations

from collections import Counter

import anyio
from pureflow.core import InMemoryMetadataSink, NodeContext, PortsIn, PortsOut, node_executor
from pureflow.engine import run_workflow
from pureflow.runtime import BlockingPortsIn, BlockingPortsOut, in_thread
from pureflow.workflow import EdgeDefinition, NodeDefinition, WorkflowDefinition

LINES = ["the quick brown fox", "jumps over the lazy dog", "the end"]


@node_executor
async def source(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
    out = outputs["lines"]
    for line in LINES:
        await out.send(out.packet(line))


@in_thread
def split(ctx: NodeContext, inputs: BlockingPortsIn, outputs: BlockingPortsOut) -> None:
    for packet in inputs.iter("lines"):
        for word in (packet.payload.as_bytes() or b"").decode().split():
            outputs.send("words", outputs.packet("words", word))


@node_executor
async def count(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
    totals: Counter[str] = Counter()
    async for packet in inputs["words"]:
        totals[(packet.payload.as_bytes() or b"").decode()] += 1
    out = outputs["totals"]
    await out.send(out.packet(out_payload(totals)))


def out_payload(totals: Counter[str]) -> bytes:
    return ", ".join(f"{word}={n}" for word, n in totals.most_common()).encode()


@node_executor
async def show(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
    async for packet in inputs["totals"]:
        print((packet.payload.as_bytes() or b"").decode())


WORKFLOW = WorkflowDefinition.from_parts(
    "word-count",
    [
        NodeDefinition.of("source", [], ["lines"]),
        NodeDefinition.of("split", ["lines"], ["words"]),
        NodeDefinition.of("count", ["words"], ["totals"]),
        NodeDefinition.of("show", ["totals"], []),
    ],
    [
        EdgeDefinition.between(("source", "lines"), ("split", "lines"), 4),
        EdgeDefinition.between(("split", "words"), ("count", "words"), 64),
        EdgeDefinition.between(("count", "totals"), ("show", "totals")),
    ],
)


async def main() -> None:
    metadata = InMemoryMetadataSink()
    summary = await run_workflow(
        WORKFLOW,
        {"source": source, "split": split, "count": count, "show": show},
        metadata=metadata,
    )
    print(f"status: {summary.terminal_state.label}")
    print(f"messages moved: {summary.observed_message_count}")
    print(f"metadata records: {len(metadata.records)}")


if __name__ == "__main__":
    anyio.run(main)
