"""What a run says through stdlib :mod:`logging`: lifecycle, metadata and cancellation.

The events and logger names are the original's (its optional ``tracing`` feature), each
message followed by its fields as ``key=value`` (the fields are also set on the log
record, for structured handlers):

============================== ======= =================================================
logger                         level   event
============================== ======= =================================================
``pureflow.runtime.lifecycle`` INFO    ``runtime lifecycle event`` for every lifecycle
                                       record (``kind``, ``workflow_id``, ``node_id``,
                                       ``execution_id``, ``attempt``; ``error`` when the
                                       node failed or was cancelled)
``pureflow.runtime.metadata``  DEBUG   ``runtime metadata record emitted`` for every
                                       control record (``record_type``, ``kind``): never
                                       for port records (message, queue pressure)
``pureflow.runtime.cancellation`` WARN ``runtime cancellation observed``: a node ended
                                       cancelled (its context's fields and ``reason``)
``pureflow.engine``            INFO    ``workflow run started`` / ``workflow run
                                       finished`` (counts and terminal state)
``pureflow.engine``            ERROR   ``workflow failed`` (the error; with the deadlock
                                       diagnostic's fields when the run was stuck)
============================== ======= =================================================

Everything but the run's start and end is read from the run's own control records, by
:class:`LoggingMetadataSink`, which the supervisor puts beside the run's sink
(:func:`with_run_logging`) when run logging is on. It is on when the lifecycle logger is
enabled for INFO, the metadata logger for DEBUG, or a ``pureflow`` logger's own level lets
the cancellation warning through: Python's default (nothing configured) leaves it off, as
the original's tracing is off by default, and then the run's sink is used as it is.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from pureflow.core import (
    CompositeMetadataSink,
    ErrorRecord,
    LifecycleRecord,
    MetadataRecord,
    MetadataSink,
    MetadataTier,
)
from pureflow.core.metadata.sinks import sink_enabled

if TYPE_CHECKING:
    from pureflow.core import ExecutionMetadata
    from pureflow.engine.summary import RunSummary
    from pureflow.workflow import WorkflowDefinition

LIFECYCLE = logging.getLogger("pureflow.runtime.lifecycle")
METADATA = logging.getLogger("pureflow.runtime.metadata")
CANCELLATION = logging.getLogger("pureflow.runtime.cancellation")
ENGINE = logging.getLogger("pureflow.engine")


def _emit(logger: logging.Logger, level: int, message: str, fields: dict[str, Any]) -> None:
    text = " ".join(f"{key}={value}" for key, value in fields.items())
    logger.log(level, "%s %s", message, text, extra=fields)


def _own_level(logger: logging.Logger) -> int | None:
    """The level set on ``logger`` or its nearest ancestor below the root, if any."""
    current: logging.Logger | None = logger
    while current is not None and current.parent is not None:  # the root has no parent
        if current.level != logging.NOTSET:
            return current.level
        current = current.parent
    return None


def run_logging_enabled() -> bool:
    """Whether a run started now logs its events (see the module docstring)."""
    if LIFECYCLE.isEnabledFor(logging.INFO) or METADATA.isEnabledFor(logging.DEBUG):
        return True
    level = _own_level(CANCELLATION)
    return level is not None and level <= logging.WARNING and not logging.root.manager.disable


class LoggingMetadataSink:
    """Logs the lifecycle, metadata and cancellation events of the control records it is
    given (see the module docstring); data records are ignored (``data_enabled`` is
    False, so ports build none for it). Never raises for a record: logging must not fail
    a run. Safe to share between nodes and threads."""

    enabled = True
    data_enabled = False

    def __init__(self) -> None:
        # The error record of a node comes just before its terminal lifecycle record.
        self._errors: dict[str, str] = {}

    def record(self, record: MetadataRecord) -> None:
        if record.tier is not MetadataTier.CONTROL:
            return
        if METADATA.isEnabledFor(logging.DEBUG):
            fields = {"record_type": record.record_type, "kind": str(record.kind)}
            if record.node_id is not None:
                fields["node_id"] = record.node_id
            _emit(METADATA, logging.DEBUG, "runtime metadata record emitted", fields)
        if isinstance(record, LifecycleRecord):
            self._lifecycle(record)
        elif isinstance(record, ErrorRecord):
            self._error(record)

    def _lifecycle(self, record: LifecycleRecord) -> None:
        context = record.context
        fields: dict[str, Any] = {
            "kind": str(record.kind),
            "workflow_id": context.workflow_id,
            "node_id": context.node_id,
            "execution_id": context.execution.execution_id,
            "attempt": int(context.execution.attempt),
        }
        error = self._errors.pop(context.node_id, None) if record.kind.is_terminal else None
        if error is not None:
            fields["error"] = error
        if LIFECYCLE.isEnabledFor(logging.INFO):
            _emit(LIFECYCLE, logging.INFO, "runtime lifecycle event", fields)
        if record.kind == "node_cancelled" and CANCELLATION.isEnabledFor(logging.WARNING):
            request = record.cancellation
            reason = request.reason if request is not None else (error or "cancelled")
            fields.pop("kind")
            fields.pop("error", None)
            fields["reason"] = reason
            _emit(CANCELLATION, logging.WARNING, "runtime cancellation observed", fields)

    def _error(self, record: ErrorRecord) -> None:
        if record.node_id is not None:
            self._errors[record.node_id] = str(record.error)
            return
        fields: dict[str, Any] = {
            "workflow_id": record.workflow_id,
            "execution_id": record.execution.execution_id,
            "code": record.error.to_json()["code"],
            "error": str(record.error),
        }
        if record.diagnostic is not None:
            diagnostic = record.diagnostic.to_json_value()
            fields.update(
                (f"diagnostic.{key}", value)
                for key, value in sorted(diagnostic.items())
                if isinstance(value, str | int) or value is None
            )
        _emit(ENGINE, logging.ERROR, "workflow failed", fields)

    def __repr__(self) -> str:
        return "LoggingMetadataSink()"


def with_run_logging(sink: MetadataSink | None) -> MetadataSink | None:
    """``sink`` with a :class:`LoggingMetadataSink` beside it when run logging is on,
    else ``sink`` itself (so a run without logging keeps its sink's fast paths)."""
    if not run_logging_enabled():
        return sink
    if not sink_enabled(sink):
        return LoggingMetadataSink()
    return CompositeMetadataSink([sink, LoggingMetadataSink()])


def log_run_started(workflow: WorkflowDefinition, execution: ExecutionMetadata) -> None:
    if ENGINE.isEnabledFor(logging.INFO):
        fields = {
            "workflow_id": workflow.id,
            "execution_id": execution.execution_id,
            "attempt": int(execution.attempt),
            "nodes": len(workflow.nodes),
            "edges": len(workflow.edges),
        }
        _emit(ENGINE, logging.INFO, "workflow run started", fields)


def log_run_finished(summary: RunSummary, execution: ExecutionMetadata) -> None:
    if ENGINE.isEnabledFor(logging.INFO):
        fields = {
            "workflow_id": summary.workflow_id,
            "execution_id": execution.execution_id,
            "status": summary.terminal_state.label,
            "completed": summary.completed_node_count,
            "failed": summary.failed_node_count,
            "cancelled": summary.cancelled_node_count,
            "messages": summary.observed_message_count,
        }
        _emit(ENGINE, logging.INFO, "workflow run finished", fields)


__all__ = [
    "LoggingMetadataSink",
    "log_run_finished",
    "log_run_started",
    "run_logging_enabled",
    "with_run_logging",
]
