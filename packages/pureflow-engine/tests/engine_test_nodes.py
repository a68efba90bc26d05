"""Graphs, nodes and record helpers shared by the engine tests (see conftest.py).

Fixtures of the original's tests (upstream-spec-3-engine.md §13): workflow ``flow``,
execution ``run-1`` attempt 1, and ``cyclic()``: ``first`` and ``second``, each with
ports ``in``/``out``, joined in both directions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import anyio
from pureflow.core import (
    CancellationError,
    ExecutionError,
    FunctionNodeExecutor,
    InMemoryMetadataSink,
    LifecycleEvent,
    NodeContext,
    PortsIn,
    PortsOut,
    node_executor,
)
from pureflow.engine import RunSummary
from pureflow.workflow import CyclePolicy, EdgeDefinition, NodeDefinition, WorkflowDefinition

WORKFLOW_ID = "flow"
TERMINAL_KINDS = frozenset({"node_completed", "node_failed", "node_cancelled"})


def node(node_id: str, inputs: Iterable[str] = (), outputs: Iterable[str] = ()) -> NodeDefinition:
    return NodeDefinition.of(node_id, inputs, outputs)


def edge(
    source: tuple[str, str], target: tuple[str, str], capacity: int | None = None
) -> EdgeDefinition:
    return EdgeDefinition.between(source, target, capacity)


def workflow(
    nodes: Iterable[NodeDefinition],
    edges: Iterable[EdgeDefinition] = (),
    *,
    cycles: CyclePolicy = CyclePolicy.REJECT,
    workflow_id: str = WORKFLOW_ID,
) -> WorkflowDefinition:
    return WorkflowDefinition.from_parts(workflow_id, nodes, edges, cycles=cycles)


def cyclic() -> WorkflowDefinition:
    return workflow(
        [node("first", ["in"], ["out"]), node("second", ["in"], ["out"])],
        [edge(("first", "out"), ("second", "in")), edge(("second", "out"), ("first", "in"))],
        cycles=CyclePolicy.ALLOW,
    )


def source_sink(capacity: int | None = None) -> WorkflowDefinition:
    return workflow(
        [node("source", [], ["out"]), node("sink", ["in"], [])],
        [edge(("source", "out"), ("sink", "in"), capacity)],
    )


def source_transform_sink(capacity: int | None = None) -> WorkflowDefinition:
    return workflow(
        [node("source", [], ["out"]), node("transform", ["in"], ["out"]), node("sink", ["in"])],
        [
            edge(("source", "out"), ("transform", "in"), capacity),
            edge(("transform", "out"), ("sink", "in"), capacity),
        ],
    )


# --- nodes ------------------------------------------------------------------------------


class Visits:
    """Records which nodes ran, with the workflow and execution each one saw."""

    def __init__(self) -> None:
        self.order: list[str] = []
        self.seen: list[tuple[str, str, int]] = []

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        self.order.append(str(ctx.node_id))
        self.seen.append(
            (str(ctx.workflow_id), str(ctx.execution.execution_id), int(ctx.execution.attempt))
        )


@node_executor
async def noop(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
    return None


def fails(message: str) -> FunctionNodeExecutor:
    """A node that raises ``ExecutionError(message)`` at once."""

    @node_executor
    async def failing(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        raise ExecutionError(message)

    return failing


def cancels(reason: str) -> FunctionNodeExecutor:
    """A node that ends with ``CancellationError(reason)`` at once."""

    @node_executor
    async def cancelling(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        raise CancellationError(reason)

    return cancelling


@node_executor
async def drain_all(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
    """Receive every input port to end of stream."""
    for port_id in inputs.port_ids:
        async for _ in inputs.iter(port_id):
            pass


@node_executor
async def wait_for_cancellation(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
    """Hold every port open until the run is cancelled, then return normally."""
    await ctx.cancellation_token.wait()


# --- observers ----------------------------------------------------------------------------


class RecordingHook:
    """Records lifecycle events; ``finished(node)`` is an event set when the node's
    terminal event is observed (after the runner has closed its ports)."""

    def __init__(self) -> None:
        self.events: list[LifecycleEvent] = []
        self._finished: dict[str, anyio.Event] = {}

    def finished(self, node_id: str) -> anyio.Event:
        return self._finished.setdefault(node_id, anyio.Event())

    def observe(self, event: LifecycleEvent) -> None:
        self.events.append(event)
        if event.kind.is_terminal:
            self.finished(str(event.context.node_id)).set()

    def kinds(self, node_id: str | None = None) -> list[str]:
        return [
            str(event.kind)
            for event in self.events
            if node_id is None or event.context.node_id == node_id
        ]


# --- records and summaries ------------------------------------------------------------------


def type_counts(sink: InMemoryMetadataSink) -> Counter[str]:
    """How many records of each ``record_type``."""
    return Counter(rec.record_type for rec in sink.records)


def lifecycle_by_node(sink: InMemoryMetadataSink) -> dict[str, list[str]]:
    """Each node's lifecycle kinds, in order."""
    found: dict[str, list[str]] = {}
    for rec in sink.of_type("lifecycle"):
        found.setdefault(str(rec.node_id), []).append(str(rec.kind))
    return found


def terminal_by_node(sink: InMemoryMetadataSink) -> dict[str, list[str]]:
    """Each node's terminal lifecycle kinds (exactly one each in a healthy run)."""
    return {
        node_id: [kind for kind in kinds if kind in TERMINAL_KINDS]
        for node_id, kinds in lifecycle_by_node(sink).items()
    }


def error_keys(sink: InMemoryMetadataSink) -> list[tuple[str, str | None]]:
    """``(kind, node_id)`` of each error record, in order."""
    return [(str(rec.kind), rec.node_id) for rec in sink.of_type("error")]


def counts(summary: RunSummary) -> dict[str, int]:
    """The summary's counters, for one-line comparisons."""
    return {
        "scheduled": summary.scheduled_node_count,
        "completed": summary.completed_node_count,
        "failed": summary.failed_node_count,
        "cancelled": summary.cancelled_node_count,
        "pending": summary.pending_node_count,
        "errors": summary.error_count,
    }


def expect(
    scheduled: int,
    *,
    completed: int = 0,
    failed: int = 0,
    cancelled: int = 0,
    pending: int = 0,
    errors: int = 0,
) -> dict[str, int]:
    return {
        "scheduled": scheduled,
        "completed": completed,
        "failed": failed,
        "cancelled": cancelled,
        "pending": pending,
        "errors": errors,
    }


def square(value: int) -> int:
    """A worker-process transform (module level, so worker processes import it)."""
    return value * value
