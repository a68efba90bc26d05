"""Workload 11.5, AI-call orchestration mock (``workloads/ai-call-orchestration.workflow.json``).

A linear pipeline, capacity 4 on every edge: prompter.prompt -> llm-mock.prompt;
llm-mock.tool-call -> tool-executor.call; tool-executor.result -> finalizer.context;
finalizer.response -> collector.response. Each middle stage drains its input, checks the
prefix, then sends the next constant. The stages are one *class-based* executor,
:class:`PrefixStage`, configured per node.
"""

from __future__ import annotations

from collections import Counter

import pytest
from integration_support import CONFORMANCE
from pureflow.core import (
    ExecutionError,
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

DOCUMENT = CONFORMANCE / "workloads" / "ai-call-orchestration.workflow.json"
PROMPT = "prompt:what is the weather in sf?"
TOOL_CALL = "tool_call:get_weather:SF"
TOOL_RESULT = "tool_result:get_weather:72F:sunny"
RESPONSE = "response:The weather in SF is 72F and sunny."


class PrefixStage:
    """Drain ``input_port``; every packet must start with ``expected``; then send
    ``reply`` once on ``output_port``."""

    def __init__(self, input_port: str, expected: str, output_port: str, reply: str) -> None:
        self.input_port = input_port
        self.expected = expected
        self.output_port = output_port
        self.reply = reply

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        async for packet in inputs.iter(self.input_port):
            text = (packet.payload.as_bytes() or b"").decode()
            if not text.startswith(self.expected):
                raise ExecutionError(f"{ctx.node_id} expected {self.expected} prefix, got `{text}`")
        await outputs.send(self.output_port, outputs.packet(self.output_port, self.reply))


def prompter(prompt: str) -> NodeExecutor:
    @node_executor
    async def run(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        await outputs.send("prompt", outputs.packet("prompt", prompt))

    return run


class Collector:
    def __init__(self) -> None:
        self.collected: list[str] = []

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        async for packet in inputs.iter("response"):
            self.collected.append((packet.payload.as_bytes() or b"").decode())


def executors(prompt: str, collector: Collector) -> dict[str, NodeExecutor]:
    return {
        "prompter": prompter(prompt),
        "llm-mock": PrefixStage("prompt", "prompt:", "tool-call", TOOL_CALL),
        "tool-executor": PrefixStage("call", "tool_call:", "result", TOOL_RESULT),
        "finalizer": PrefixStage("context", "tool_result:", "response", RESPONSE),
        "collector": collector,
    }


async def test_ai_call_orchestration() -> None:
    """Fully deterministic (one packet per edge of capacity 4). Counts:

    * lifecycle 15: 5 nodes x (scheduled, started, completed) (original: 10);
    * message 8: 4 edges x (enqueued + dequeued);
    * queue_pressure 28 (as the original): prompter 1 send x 3; the three stages 1
      packet x 2 + end of stream 2 + 1 send x 3 = 7 each, 21; collector 2 + 2 = 4.

    Total 51.
    """
    metadata = InMemoryMetadataSink()
    collector = Collector()
    summary = await run_workflow(
        load_workflow(DOCUMENT), executors(PROMPT, collector), metadata=metadata
    )
    assert collector.collected == [RESPONSE]
    assert summary.terminal_state is TerminalState.COMPLETED
    assert (summary.scheduled_node_count, summary.completed_node_count) == (5, 5)
    assert Counter(r.record_type for r in metadata.records) == {
        "lifecycle": 15,
        "message": 8,
        "queue_pressure": 28,
    }
    assert len(metadata.records) == 51
    assert summary.observed_message_count == 4


async def test_a_wrong_prefix_fails_the_stage_and_cancels_the_rest() -> None:
    """The prompter completes (it sent its one packet before anything failed); llm-mock
    fails; the three nodes waiting downstream are woken by the cancellation."""
    metadata = InMemoryMetadataSink()
    collector = Collector()
    summary = await run_workflow(
        load_workflow(DOCUMENT), executors("hello", collector), metadata=metadata
    )
    assert collector.collected == []
    assert summary.terminal_state is TerminalState.FAILED
    assert str(summary.first_error) == (
        "CDT-EXEC-001: node execution failed: llm-mock expected prompt: prefix, got `hello`"
    )
    assert (
        summary.completed_node_count,
        summary.failed_node_count,
        summary.cancelled_node_count,
        summary.error_count,
    ) == (1, 1, 3, 4)
    # Every node still has exactly one terminal lifecycle record.
    terminal = Counter(
        str(r.node_id)
        for r in metadata.of_type("lifecycle")
        if r.kind in {"node_completed", "node_failed", "node_cancelled"}
    )
    assert terminal == dict.fromkeys(
        ["prompter", "llm-mock", "tool-executor", "finalizer", "collector"], 1
    )
