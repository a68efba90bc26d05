"""A metadata sink that turns a run's records into OpenTelemetry traces and metrics.

Traces, through the tracer provider given (or the global one):

* one **run span** per run (``pureflow run <workflow>``), from the run's first record to
  :meth:`OpenTelemetryMetadataSink.close`; status ERROR when the run failed, with an
  ``exception`` event for ``workflow_failed`` and a ``pureflow.deadlock`` event carrying
  the deadlock diagnostic when the run was stuck;
* one **node span** per node that started (``pureflow node <node>``, a child of the run
  span), from ``node_started`` to its terminal record, with ``pureflow.node.outcome``
  (``completed``, ``failed``, ``cancelled``) and status OK, ERROR (failed, with the
  error as an ``exception`` event) or UNSET (cancelled, with a ``pureflow.cancelled``
  event giving the reason).

Metrics, through the meter provider given (or the global one), attributed by
``pureflow.workflow.id`` and the edge (``pureflow.edge.source`` and
``pureflow.edge.target``, each ``node.port``) or the node and port:

==================================== ================== ===============================
instrument                           kind               what
==================================== ================== ===============================
``pureflow.edge.packets``            counter            packets taken off the edge
``pureflow.edge.queue.depth``        gauge              packets waiting on the edge now
``pureflow.edge.queue.depth.peak``   gauge              most packets ever waiting
``pureflow.port.waits``              counter            waits: ``pureflow.wait`` is
                                                        ``full`` (a send waited for room)
                                                        or ``empty`` (a receive found
                                                        nothing)
``pureflow.node.duration``           histogram (s)      node lifetimes, by outcome
==================================== ================== ===============================

The edge and port instruments are observable: the sink keeps plain counts per edge
(updated inline, under a lock, from the message and queue-pressure records) and the
meter reads them when it collects, so a record costs a dictionary update, not an
instrument call. Edge counts need the data records: under a metadata tier that drops or
samples them, they count only what the sink was given.

Times are taken when the sink receives a record, which the engine does inline as things
happen. Close the sink when the run is over (``with`` or :meth:`close`): that ends the
run spans (and any node span still open).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any

from opentelemetry import metrics, trace
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.trace import Status, StatusCode
from pureflow.core import (
    ErrorRecord,
    LifecycleRecord,
    MessageRecord,
    MetadataRecord,
    QueuePressureRecord,
)

if TYPE_CHECKING:
    from pureflow.core import PureflowError
    from pureflow.core.packets import MessageRoute

INSTRUMENTATION_NAME = "pureflow.otel"

_Key = tuple[str, str, int]  # workflow id, execution id, attempt
_WAITS = {"reserve_full": "full", "receive_empty": "empty"}


def _error_attributes(error: PureflowError) -> dict[str, Any]:
    value = error.to_json()
    return {
        "exception.type": value["code"],
        "exception.message": str(error),
        "pureflow.error.code": value["code"],
        "pureflow.error.retry_disposition": value["retry_disposition"],
        "pureflow.error.visibility": value["visibility"],
    }


@dataclass(slots=True)
class _Edge:
    workflow_id: str
    source: str
    target: str
    moved: int = 0
    depth: int = 0
    peak: int = 0

    def attributes(self) -> dict[str, str]:
        return {
            "pureflow.workflow.id": self.workflow_id,
            "pureflow.edge.source": self.source,
            "pureflow.edge.target": self.target,
        }


@dataclass(slots=True)
class _Run:
    span: trace.Span
    workflow_id: str
    nodes: dict[str, tuple[trace.Span, float]] = field(default_factory=dict)
    errors: dict[str, PureflowError] = field(default_factory=dict)
    failed: bool = False


def _endpoint(node_id: str, port_id: str) -> str:
    return f"{node_id}.{port_id}"


class OpenTelemetryMetadataSink:
    """Receives a run's metadata records and reports them as OpenTelemetry spans and
    metrics (see the module docstring). ``tracer_provider`` and ``meter_provider``
    default to the global providers (a no-op until an SDK is configured). Never raises
    for a record. Thread-safe. :meth:`close` ends every open span, then flushes the
    providers given (and shuts them down with ``owns_providers``); it is idempotent."""

    def __init__(
        self,
        *,
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
        owns_providers: bool = False,
    ) -> None:
        self._providers = [p for p in (tracer_provider, meter_provider) if p is not None]
        self._owns_providers = owns_providers
        self._tracer = trace.get_tracer(INSTRUMENTATION_NAME, tracer_provider=tracer_provider)
        meter = metrics.get_meter(INSTRUMENTATION_NAME, meter_provider=meter_provider)
        self._lock = threading.Lock()
        self._runs: dict[_Key, _Run] = {}
        self._edges: dict[tuple[str, MessageRoute], _Edge] = {}
        self._waits: dict[tuple[str, str, str, str], int] = {}
        self._closed = False
        meter.create_observable_counter(
            "pureflow.edge.packets",
            callbacks=[self._observe_moved],
            unit="{packet}",
            description="Packets taken off the edge by its consumer.",
        )
        meter.create_observable_gauge(
            "pureflow.edge.queue.depth",
            callbacks=[self._observe_depth],
            unit="{packet}",
            description="Packets waiting on the edge.",
        )
        meter.create_observable_gauge(
            "pureflow.edge.queue.depth.peak",
            callbacks=[self._observe_peak],
            unit="{packet}",
            description="The most packets that waited on the edge at once.",
        )
        meter.create_observable_counter(
            "pureflow.port.waits",
            callbacks=[self._observe_waits],
            unit="{wait}",
            description="Sends that waited for room (full) and receives that found nothing "
            "(empty).",
        )
        self._durations = meter.create_histogram(
            "pureflow.node.duration",
            unit="s",
            description="How long each node ran, from node_started to its terminal record.",
        )

    # --- records -------------------------------------------------------------------------

    def record(self, record: MetadataRecord) -> None:
        if isinstance(record, MessageRecord):
            self._message(record)
        elif isinstance(record, QueuePressureRecord):
            wait = _WAITS.get(str(record.kind))
            context = record.context
            if wait is not None and context is not None:
                key = (str(context.workflow_id), context.node_id, str(record.port_id), wait)
                with self._lock:
                    self._waits[key] = self._waits.get(key, 0) + 1
        elif isinstance(record, LifecycleRecord):
            with self._lock:
                self._lifecycle(record)
        elif isinstance(record, ErrorRecord):
            with self._lock:
                self._error(record)

    def _message(self, record: MessageRecord) -> None:
        route = record.route
        source = route.source
        if source is not None and source == route.target:
            return  # dropped on a port without edges: no edge to count
        key = (str(record.workflow_id), route)
        kind = str(record.kind)
        with self._lock:
            edge = self._edges.get(key)
            if edge is None:
                edge = self._edges[key] = _Edge(
                    str(record.workflow_id),
                    "" if source is None else _endpoint(source.node_id, source.port_id),
                    _endpoint(route.target.node_id, route.target.port_id),
                )
            if kind == "enqueued":
                edge.depth += 1
                edge.peak = max(edge.peak, edge.depth)
            elif kind == "dequeued":
                edge.moved += 1
                edge.depth = max(edge.depth - 1, 0)
            else:  # dropped: left on an edge whose consumer is gone
                edge.depth = max(edge.depth - 1, 0)

    def _run(self, workflow_id: str, execution_id: str, attempt: int) -> _Run:
        key = (workflow_id, execution_id, attempt)
        run = self._runs.get(key)
        if run is None:
            span = self._tracer.start_span(
                f"pureflow run {workflow_id}",
                kind=trace.SpanKind.INTERNAL,
                attributes={
                    "pureflow.workflow.id": workflow_id,
                    "pureflow.execution.id": execution_id,
                    "pureflow.execution.attempt": attempt,
                },
            )
            run = self._runs[key] = _Run(span, workflow_id)
        return run

    def _lifecycle(self, record: LifecycleRecord) -> None:
        context = record.context
        execution = context.execution
        run = self._run(str(context.workflow_id), execution.execution_id, int(execution.attempt))
        node_id = str(context.node_id)
        kind = str(record.kind)
        if kind == "node_started":
            span = self._tracer.start_span(
                f"pureflow node {node_id}",
                context=trace.set_span_in_context(run.span),
                attributes={
                    "pureflow.workflow.id": run.workflow_id,
                    "pureflow.execution.id": execution.execution_id,
                    "pureflow.node.id": node_id,
                },
            )
            run.nodes[node_id] = (span, time.monotonic())
            return
        if not record.kind.is_terminal or node_id not in run.nodes:
            return
        span, started = run.nodes.pop(node_id)
        outcome = kind.removeprefix("node_")
        span.set_attribute("pureflow.node.outcome", outcome)
        error = run.errors.pop(node_id, None)
        if kind == "node_completed":
            span.set_status(Status(StatusCode.OK))
        elif kind == "node_failed":
            run.failed = True
            if error is not None:
                span.add_event("exception", _error_attributes(error))
            span.set_status(Status(StatusCode.ERROR, None if error is None else str(error)))
        else:
            request = record.cancellation
            reason = request.reason if request is not None else str(error or "cancelled")
            span.add_event("pureflow.cancelled", {"pureflow.cancellation.reason": reason})
        span.end()
        self._durations.record(
            time.monotonic() - started,
            {
                "pureflow.workflow.id": run.workflow_id,
                "pureflow.node.id": node_id,
                "pureflow.node.outcome": outcome,
            },
        )

    def _error(self, record: ErrorRecord) -> None:
        execution = record.execution
        run = self._run(str(record.workflow_id), execution.execution_id, int(execution.attempt))
        if record.node_id is not None:
            run.errors[record.node_id] = record.error  # its terminal record comes next
            return
        run.failed = True
        run.span.add_event("exception", _error_attributes(record.error))
        if record.diagnostic is not None:
            run.span.add_event("pureflow.deadlock", _diagnostic_attributes(record))
        run.span.set_status(Status(StatusCode.ERROR, str(record.error)))

    # --- metrics callbacks (called by the meter's reader, on its own thread) -------------

    def _edge_observations(self, value: str) -> Iterator[Observation]:
        with self._lock:
            edges = [(getattr(edge, value), edge.attributes()) for edge in self._edges.values()]
        for amount, attributes in edges:
            yield Observation(amount, attributes)

    def _observe_moved(self, _options: CallbackOptions) -> Iterable[Observation]:
        return self._edge_observations("moved")

    def _observe_depth(self, _options: CallbackOptions) -> Iterable[Observation]:
        return self._edge_observations("depth")

    def _observe_peak(self, _options: CallbackOptions) -> Iterable[Observation]:
        return self._edge_observations("peak")

    def _observe_waits(self, _options: CallbackOptions) -> Iterable[Observation]:
        with self._lock:
            waits = list(self._waits.items())
        for (workflow_id, node_id, port_id, wait), count in waits:
            attributes = {
                "pureflow.workflow.id": workflow_id,
                "pureflow.node.id": node_id,
                "pureflow.port.id": port_id,
                "pureflow.wait": wait,
            }
            yield Observation(count, attributes)

    # --- the end ---------------------------------------------------------------------------

    def close(self) -> None:
        """End every open span: node spans of nodes that never ended (outcome
        ``unfinished``), then the run spans (status OK unless the run failed)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            runs, self._runs = list(self._runs.values()), {}
        for run in runs:
            for span, _ in run.nodes.values():
                span.set_attribute("pureflow.node.outcome", "unfinished")
                span.end()
            if not run.failed:
                run.span.set_status(Status(StatusCode.OK))
            run.span.end()
        for provider in self._providers:  # SDK providers export what they hold
            finish = getattr(provider, "shutdown" if self._owns_providers else "force_flush", None)
            if finish is not None:
                finish()

    def __enter__(self) -> OpenTelemetryMetadataSink:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"OpenTelemetryMetadataSink(runs={len(self._runs)}, edges={len(self._edges)})"


def _diagnostic_attributes(record: ErrorRecord) -> dict[str, Any]:
    """The deadlock diagnostic's scalar fields, and the blocked nodes as ``node:ports``."""
    assert record.diagnostic is not None
    value = record.diagnostic.to_json_value()
    attributes: dict[str, Any] = {
        f"pureflow.deadlock.{key}": item
        for key, item in sorted(value.items())
        if isinstance(item, str | int | float | bool)
    }
    blocked = value.get("blocked_nodes")
    if isinstance(blocked, list):
        attributes["pureflow.deadlock.blocked_nodes"] = [
            str(entry.get("node_id")) for entry in blocked if isinstance(entry, dict)
        ]
    return attributes
