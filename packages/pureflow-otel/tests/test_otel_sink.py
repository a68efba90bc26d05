"""The OpenTelemetry sink, exporting to the SDK's in-memory span exporter and metric
reader: one span per node with its outcome under one span per run, and the per-edge,
per-port and per-node metrics."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode
from pureflow.core import CompositeMetadataSink, JsonlMetadataSink
from pureflow.engine import RunPolicy, run_workflow
from pureflow.otel import OpenTelemetryMetadataSink
from pureflow.testkit import (
    CollectingSink,
    FailingNode,
    PassthroughNode,
    ScriptedSource,
    WorkflowBuilder,
    linear_workflow,
)

pytestmark = pytest.mark.anyio


@dataclass
class Telemetry:
    spans: InMemorySpanExporter
    metrics: InMemoryMetricReader
    sink: OpenTelemetryMetadataSink

    def finished(self) -> dict[str, ReadableSpan]:
        return {span.name: span for span in self.spans.get_finished_spans()}

    def points(self, name: str) -> dict[tuple[tuple[str, Any], ...], Any]:
        """Metric ``name``'s data points, by their sorted attributes."""
        data = self.metrics.get_metrics_data()
        assert data is not None
        found: dict[tuple[tuple[str, Any], ...], Any] = {}
        for resource in data.resource_metrics:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    if metric.name == name:
                        for point in metric.data.data_points:
                            found[tuple(sorted(point.attributes.items()))] = point
        return found


@pytest.fixture
def telemetry() -> Iterator[Telemetry]:
    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    sink = OpenTelemetryMetadataSink(tracer_provider=tracer_provider, meter_provider=meter_provider)
    yield Telemetry(spans, reader, sink)
    sink.close()


def edge(source: str, target: str) -> tuple[tuple[str, Any], ...]:
    return tuple(
        sorted(
            {
                "pureflow.workflow.id": "flow",
                "pureflow.edge.source": source,
                "pureflow.edge.target": target,
            }.items()
        )
    )


async def test_a_completed_run_has_a_span_per_node_under_the_run_span(
    telemetry: Telemetry,
) -> None:
    workflow = linear_workflow(["source", "relay", "sink"], capacity=1, workflow="flow")
    nodes = {
        "source": ScriptedSource({"out": ["a", "b", "c", "d", "e"]}),
        "relay": PassthroughNode(),
        "sink": CollectingSink(),
    }
    summary = await run_workflow(workflow, nodes, execution="run-1", metadata=telemetry.sink)
    assert summary.succeeded
    telemetry.sink.close()

    spans = telemetry.finished()
    assert sorted(spans) == [
        "pureflow node relay",
        "pureflow node sink",
        "pureflow node source",
        "pureflow run flow",
    ]
    run = spans["pureflow run flow"]
    assert run.parent is None
    assert run.status.status_code is StatusCode.OK
    assert run.attributes == {
        "pureflow.workflow.id": "flow",
        "pureflow.execution.id": "run-1",
        "pureflow.execution.attempt": 1,
    }
    for node in ("source", "relay", "sink"):
        span = spans[f"pureflow node {node}"]
        assert span.parent is not None
        assert span.parent.span_id == run.context.span_id
        assert span.context.trace_id == run.context.trace_id
        assert span.attributes is not None
        assert span.attributes["pureflow.node.id"] == node
        assert span.attributes["pureflow.node.outcome"] == "completed"
        assert span.status.status_code is StatusCode.OK
        assert run.start_time is not None
        assert span.start_time is not None
        assert run.start_time <= span.start_time
        assert span.end_time is not None
        assert run.end_time is not None
        assert span.end_time <= run.end_time

    moved = telemetry.points("pureflow.edge.packets")
    assert {key: point.value for key, point in moved.items()} == {
        edge("source.out", "relay.in"): 5,
        edge("relay.out", "sink.in"): 5,
    }
    peak = telemetry.points("pureflow.edge.queue.depth.peak")
    assert {key: point.value for key, point in peak.items()} == {
        edge("source.out", "relay.in"): 1,  # capacity 1: never more than one waiting
        edge("relay.out", "sink.in"): 1,
    }
    depth = telemetry.points("pureflow.edge.queue.depth")
    assert {point.value for point in depth.values()} == {0}  # drained at the end
    durations = telemetry.points("pureflow.node.duration")
    assert len(durations) == 3
    for key, point in durations.items():
        assert dict(key)["pureflow.node.outcome"] == "completed"
        assert point.count == 1
        assert point.sum >= 0


async def test_backpressure_counts_waits(telemetry: Telemetry) -> None:
    # The source fills the one-slot edge long before the sink drains it: sends wait.
    workflow = linear_workflow(["source", "sink"], capacity=1, workflow="flow")
    nodes = {"source": ScriptedSource({"out": list(range(20))}), "sink": CollectingSink()}
    await run_workflow(workflow, nodes, metadata=telemetry.sink)
    waits = {
        dict(key)["pureflow.wait"]: point.value
        for key, point in telemetry.points("pureflow.port.waits").items()
    }
    assert waits["full"] >= 1
    full = next(
        dict(key)
        for key in telemetry.points("pureflow.port.waits")
        if dict(key)["pureflow.wait"] == "full"
    )
    assert full["pureflow.node.id"] == "source"
    assert full["pureflow.port.id"] == "out"
    moved = telemetry.points("pureflow.edge.packets")
    assert [point.value for point in moved.values()] == [20]


async def test_a_failed_run_has_the_right_outcomes_and_error_events(
    telemetry: Telemetry,
) -> None:
    workflow = (
        WorkflowBuilder("flow")
        .node("source", outputs=["out"])
        .node("bad", inputs=["in"], outputs=["out"])
        .node("sink", inputs=["in"])
        .edge("source", "out", "bad", "in", capacity=1)
        .edge("bad", "out", "sink", "in", capacity=1)
        .build()
    )
    nodes = {
        "source": ScriptedSource({"out": list(range(1000))}),
        "bad": FailingNode("boom"),
        "sink": CollectingSink(),
    }
    summary = await run_workflow(workflow, nodes, metadata=telemetry.sink)
    assert not summary.succeeded
    telemetry.sink.close()
    spans = telemetry.finished()
    bad = spans["pureflow node bad"]
    assert bad.attributes is not None
    assert bad.attributes["pureflow.node.outcome"] == "failed"
    assert bad.status.status_code is StatusCode.ERROR
    assert bad.status.description == "CDT-EXEC-001: node execution failed: boom"
    (event,) = bad.events
    assert event.name == "exception"
    assert event.attributes is not None
    assert event.attributes["exception.type"] == "CDT-EXEC-001"
    assert event.attributes["pureflow.error.code"] == "CDT-EXEC-001"
    source = spans["pureflow node source"]
    assert source.attributes is not None
    assert source.attributes["pureflow.node.outcome"] == "cancelled"
    assert source.status.status_code is StatusCode.UNSET
    (cancelled,) = source.events
    assert cancelled.name == "pureflow.cancelled"
    assert cancelled.attributes is not None
    reason = cancelled.attributes["pureflow.cancellation.reason"]
    assert isinstance(reason, str)
    assert reason.startswith("node execution failed: CDT-EXEC-001")
    run = spans["pureflow run flow"]
    assert run.status.status_code is StatusCode.ERROR
    assert [e.name for e in run.events] == ["exception"]
    outcomes = {
        dict(key)["pureflow.node.id"]: dict(key)["pureflow.node.outcome"]
        for key in telemetry.points("pureflow.node.duration")
    }
    assert outcomes["bad"] == "failed"
    assert outcomes["source"] == "cancelled"


async def test_a_deadlock_is_an_event_on_the_run_span(telemetry: Telemetry) -> None:
    workflow = (
        WorkflowBuilder("flow")
        .node("waiting", inputs=["in"])
        .node("quiet", outputs=["out"])
        .edge("quiet", "out", "waiting", "in")
        .build()
    )

    async def quiet(ctx: Any, inputs: Any, outputs: Any) -> None:
        await ctx.cancellation_token.wait()  # holds its output open, sends nothing

    from pureflow.core import node_executor

    nodes = {"waiting": CollectingSink(), "quiet": node_executor(quiet)}
    policy = RunPolicy(watchdog_seconds=0.05, grace_seconds=1.0)
    summary = await run_workflow(workflow, nodes, policy=policy, metadata=telemetry.sink)
    assert summary.deadlock_diagnostic is not None
    telemetry.sink.close()
    run = telemetry.finished()["pureflow run flow"]
    assert run.status.status_code is StatusCode.ERROR
    deadlock = next(e for e in run.events if e.name == "pureflow.deadlock")
    assert deadlock.attributes is not None
    assert deadlock.attributes["pureflow.deadlock.type"] == "workflow_deadlock"
    assert deadlock.attributes["pureflow.deadlock.scheduled_node_count"] == 2
    assert "waiting" in list(deadlock.attributes["pureflow.deadlock.blocked_nodes"])  # type: ignore[arg-type]


async def test_it_composes_with_the_jsonl_sink(telemetry: Telemetry, tmp_path: Path) -> None:
    workflow = linear_workflow(["source", "sink"], capacity=2, workflow="flow")
    nodes = {"source": ScriptedSource({"out": ["a", "b", "c"]}), "sink": CollectingSink()}
    path = tmp_path / "run.jsonl"
    with JsonlMetadataSink(path) as jsonl:
        both = CompositeMetadataSink([jsonl, telemetry.sink])
        summary = await run_workflow(workflow, nodes, metadata=both)
    assert summary.succeeded
    telemetry.sink.close()
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert sum(r["kind"] == "dequeued" for r in records) == 3
    assert len(telemetry.finished()) == 3
    assert [p.value for p in telemetry.points("pureflow.edge.packets").values()] == [3]


def test_close_ends_open_spans_and_is_idempotent(telemetry: Telemetry) -> None:
    from pureflow.core import ExecutionMetadata, LifecycleEventKind, LifecycleRecord, NodeContext

    context = NodeContext("flow", "stuck", ExecutionMetadata.first_attempt("run-1"))
    telemetry.sink.record(LifecycleRecord(LifecycleEventKind.NODE_STARTED, context))
    telemetry.sink.close()
    telemetry.sink.close()
    spans = telemetry.finished()
    assert sorted(spans) == ["pureflow node stuck", "pureflow run flow"]
    assert spans["pureflow node stuck"].attributes["pureflow.node.outcome"] == "unfinished"  # type: ignore[index]
