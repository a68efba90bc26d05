"""Workload 11.4, replay / branch evaluation (``workloads/replay-branch-eval.workflow.json``).

``source`` fans alpha, beta, gamma out to ``branch-a`` and ``branch-b``; branch-a drains
and sends ``tag:{row}``, branch-b drains and sends ``rev:{reversed row}``; ``evaluator``
drains ``a`` completely, then ``b`` (sequential drains, safe because every edge has
capacity 4 >= 3 packets). Nodes are ``@node_executor`` functions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest
from integration_support import CONFORMANCE
from pureflow.core import (
    InMemoryMetadataSink,
    NodeContext,
    NodeExecutor,
    PortsIn,
    PortsOut,
    node_executor,
)
from pureflow.engine import TerminalState, run_workflow
from pureflow.format import load_workflow

pytestmark = pytest.mark.anyio

DOCUMENT = CONFORMANCE / "workloads" / "replay-branch-eval.workflow.json"


def text(payload: bytes | None) -> str:
    return (payload or b"").decode()


@node_executor
async def source(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
    for row in ("alpha", "beta", "gamma"):
        await outputs.send("out", outputs.packet("out", row))


def branch(rewrite: Callable[[str], str]) -> NodeExecutor:
    @node_executor
    async def run(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        rows = [text(p.payload.as_bytes()) async for p in inputs.iter("in")]
        for row in rows:
            await outputs.send("out", outputs.packet("out", rewrite(row)))

    return run


class Evaluator:
    def __init__(self) -> None:
        self.a: list[str] = []
        self.b: list[str] = []

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        self.a = [text(p.payload.as_bytes()) async for p in inputs.iter("a")]
        self.b = [text(p.payload.as_bytes()) async for p in inputs.iter("b")]

    def rows(self) -> list[str]:
        return [f"row[{i}]: {a} | {b}" for i, (a, b) in enumerate(zip(self.a, self.b, strict=True))]


async def test_replay_branch_evaluation() -> None:
    """Fully deterministic: no edge ever fills, so no send waits. Counts:

    * lifecycle 12: 4 nodes x (scheduled, started, completed) (original: 8);
    * message 24: the source's 3 fan-out sends write 6 enqueued (one per edge; the
      original wrote 3), the branches dequeue 3 each; each branch enqueues 3 and the
      evaluator dequeues 6 (original: 21);
    * queue_pressure 59 (as the original): source 3 sends x 3 = 9; each branch 3 x 2 + 2
      = 8 receiving and 3 x 3 = 9 sending, 34 for both; evaluator 8 per port, 16.

    Total 95.
    """
    metadata = InMemoryMetadataSink()
    evaluator = Evaluator()
    executors: dict[str, NodeExecutor] = {
        "source": source,
        "branch-a": branch(lambda row: f"tag:{row}"),
        "branch-b": branch(lambda row: f"rev:{row[::-1]}"),
        "evaluator": evaluator,
    }
    summary = await run_workflow(load_workflow(DOCUMENT), executors, metadata=metadata)
    assert evaluator.a == ["tag:alpha", "tag:beta", "tag:gamma"]
    assert evaluator.b == ["rev:ahpla", "rev:ateb", "rev:ammag"]
    assert evaluator.rows() == [
        "row[0]: tag:alpha | rev:ahpla",
        "row[1]: tag:beta | rev:ateb",
        "row[2]: tag:gamma | rev:ammag",
    ]
    assert summary.terminal_state is TerminalState.COMPLETED
    assert (summary.scheduled_node_count, summary.completed_node_count) == (4, 4)
    assert Counter(r.record_type for r in metadata.records) == {
        "lifecycle": 12,
        "message": 24,
        "queue_pressure": 59,
    }
    assert len(metadata.records) == 95
    assert "reserve_full" not in metadata.kinds("queue_pressure")
    # Each branch's output is attributable: every copy carries its own edge's route.
    routes = Counter(
        (
            r.to_json_value()["message"]["route"]["source"]["node_id"],
            r.to_json_value()["message"]["route"]["target"]["node_id"],
        )
        for r in metadata.of_type("message")
        if r.kind == "enqueued"
    )
    assert routes == {
        ("source", "branch-a"): 3,
        ("source", "branch-b"): 3,
        ("branch-a", "evaluator"): 3,
        ("branch-b", "evaluator"): 3,
    }
    assert summary.observed_message_count == 12
