"""The run summary: terminal state, per-outcome node counts, errors, messages moved.

Field names and JSON keys are the original's (reference spec 3 §10), with two fixes:
``observed_message_count`` counts the packets that really moved (each fan-out copy
once per edge), and the terminal state is ``failed`` whenever any node failed, even if a
cancellation was recorded first; it is ``cancelled`` only when every error is a
cancellation.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from pureflow.core import CancellationError, PureflowError
from pureflow.types import WorkflowId


class TerminalState(enum.Enum):
    """How a run ended."""

    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class DeadlockReport:
    """What the deadlock detector or the watchdog saw when it fired: counts, and who was
    blocked where. ``detected_by`` is ``"deadlock_detector"`` (every live node blocked on
    a port: ``no_progress_timeout_ms`` is 0) or ``"watchdog"`` (no progress for
    ``no_progress_timeout_ms``)."""

    workflow_id: WorkflowId
    scheduled_node_count: int
    pending_node_count: int
    completed_node_count: int
    failed_node_count: int
    cancelled_node_count: int
    bounded_edge_count: int
    no_progress_timeout_ms: int
    cycle_policy: str
    feedback_loop_startup: str | None
    feedback_loop_termination: str | None
    blocked: tuple[dict[str, Any], ...] = ()
    edges: tuple[dict[str, Any], ...] = ()
    detected_by: str = "watchdog"

    def to_json(self) -> dict[str, Any]:
        """The summary's ``deadlock_diagnostic`` object."""
        return {
            "workflow_id": str(self.workflow_id),
            "scheduled_node_count": self.scheduled_node_count,
            "pending_node_count": self.pending_node_count,
            "completed_node_count": self.completed_node_count,
            "failed_node_count": self.failed_node_count,
            "cancelled_node_count": self.cancelled_node_count,
            "bounded_edge_count": self.bounded_edge_count,
            "no_progress_timeout_ms": self.no_progress_timeout_ms,
            "cycle_policy": self.cycle_policy,
            "feedback_loop_startup": self.feedback_loop_startup,
            "feedback_loop_termination": self.feedback_loop_termination,
            "blocked_nodes": list(self.blocked),
            "edges": list(self.edges),
            "detected_by": self.detected_by,
        }


@runtime_checkable
class ReportsUsage(Protocol):
    """A node executor that counts what a node used (a WebAssembly node: its guest's
    fuel). After each node ends, the supervisor copies ``usage_for(node_id)`` into
    :attr:`RunSummary.node_usage` when it is not empty."""

    def usage_for(self, node_id: str) -> Mapping[str, int]: ...


@dataclass(slots=True)
class RunSummary:
    """Counts and errors of one run. Built by the supervisor while the run goes on."""

    workflow_id: WorkflowId
    scheduled_node_count: int
    completed_node_count: int = 0
    failed_node_count: int = 0
    cancelled_node_count: int = 0
    error_count: int = 0
    observed_message_count: int = 0
    first_error: PureflowError | None = None
    deadlock_diagnostic: DeadlockReport | None = None
    node_errors: dict[str, PureflowError] = field(default_factory=dict)
    first_error_node: str | None = None
    """The node whose error is ``first_error`` (``None`` for a workflow-level error)."""
    warnings: list[str] = field(default_factory=list)
    """One line each: what the run survived but should be fixed (a node that blocked
    the event loop); also written as ``warning`` records."""
    node_usage: dict[str, dict[str, int]] = field(default_factory=dict)
    """Per node id, the counters its executor reported (:class:`ReportsUsage`), such as a
    WebAssembly node's ``fuel``; nodes that report nothing are absent."""

    def record_usage(self, node_id: str, executor: object) -> None:
        """Copy what ``executor`` reports for ``node_id`` (nothing if it reports nothing)."""
        if isinstance(executor, ReportsUsage):
            usage = executor.usage_for(node_id)
            if usage:
                self.node_usage[str(node_id)] = dict(usage)

    @property
    def pending_node_count(self) -> int:
        finished = self.completed_node_count + self.failed_node_count + self.cancelled_node_count
        return max(0, self.scheduled_node_count - finished)

    @property
    def terminal_state(self) -> TerminalState:
        if self.first_error is None:
            return TerminalState.COMPLETED
        if self.failed_node_count or self.deadlock_diagnostic is not None:
            return TerminalState.FAILED
        if all(isinstance(e, CancellationError) for e in self.node_errors.values()) and isinstance(
            self.first_error, CancellationError
        ):
            return TerminalState.CANCELLED
        return TerminalState.FAILED

    @property
    def succeeded(self) -> bool:
        return self.terminal_state is TerminalState.COMPLETED

    def record_completed(self) -> None:
        self.completed_node_count += 1

    def record_node_error(self, node_id: str, error: PureflowError) -> None:
        self.error_count += 1
        self.node_errors[node_id] = error
        if isinstance(error, CancellationError):
            self.cancelled_node_count += 1
        else:
            self.failed_node_count += 1
        if self.first_error is None:
            self.first_error = error
            self.first_error_node = node_id

    def record_workflow_error(self, error: PureflowError) -> None:
        self.error_count += 1
        if self.first_error is None:
            self.first_error = error

    def raise_for_state(self) -> None:
        """Raise the first error unless the run completed (the original's ``into_result``)."""
        if self.first_error is not None:
            raise self.first_error

    def to_json(self) -> dict[str, Any]:
        """The ``summary`` object of ``pureflow run --json``."""
        return {
            "terminal_state": self.terminal_state.label,
            "scheduled_node_count": self.scheduled_node_count,
            "completed_node_count": self.completed_node_count,
            "failed_node_count": self.failed_node_count,
            "cancelled_node_count": self.cancelled_node_count,
            "pending_node_count": self.pending_node_count,
            "observed_message_count": self.observed_message_count,
            "error_count": self.error_count,
            "first_error": None if self.first_error is None else self.first_error.to_json(),
            "deadlock_diagnostic": (
                None if self.deadlock_diagnostic is None else self.deadlock_diagnostic.to_json()
            ),
        } | (
            ({"node_usage": dict(self.node_usage)} if self.node_usage else {})
            | ({"warnings": list(self.warnings)} if self.warnings else {})
        )
