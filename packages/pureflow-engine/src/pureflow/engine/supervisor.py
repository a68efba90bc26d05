"""The supervisor: the run plan, first-error policy, watchdog, and the summary.

The run proceeds in this order:

1. pre-flight (before any record or task): the cycle policy, then an executor for every
   node; a failure raises and nothing runs;
2. the backend opens the plan (builds every edge, places every node); one
   ``node_scheduled`` record per node, in declaration order;
3. every node starts at once (declaration order); each goes through
   :func:`pureflow.runtime.run_node`, so each ends with exactly one terminal record and
   its ports closed; the backend reports each start and end to the supervisor;
4. on a node's first error under fail-fast the shared cancellation token is cancelled
   (``node execution failed: <error>``) *before* that node's outputs close, then
   ``error/workflow_failed`` is recorded after its own records;
5. the deadlock detector (on by default) fails the run the moment every live node is
   blocked on a port and nothing can move a packet (:mod:`pureflow.core.liveness`); the
   watchdog (if enabled) fails it when nothing progresses for a while (nodes stuck
   outside ports). Either records the diagnostic and cancels the token;
   whatever cancelled the token, nodes still running ``grace_seconds`` later have their
   tasks cancelled (each still records ``node_cancelled``);
6. the summary counts every outcome and the packets that moved.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import anyio
from pureflow.core import (
    CancellationHandle,
    DeadlockDiagnostic,
    EdgeStatisticsRecord,
    ErrorRecord,
    ExecutionError,
    ExecutionMetadata,
    LifecycleEvent,
    LifecycleEventKind,
    LifecycleHook,
    LifecycleRecord,
    MetadataError,
    MetadataSink,
    NodeContext,
    PureflowError,
    WarningRecord,
    WarningRecordKind,
)
from pureflow.core.metadata.records import EdgeStatisticsKind
from pureflow.engine.backend import (
    ExecutionBackend,
    MetadataPlan,
    NodeSpec,
    RunningEdges,
    RunningRun,
    RunPlan,
)
from pureflow.engine.loop_monitor import LoopBlock, LoopMonitor
from pureflow.engine.policy import FailurePolicy, RunPolicy
from pureflow.engine.registry import ExecutorRegistry
from pureflow.engine.replicas import expand_plan
from pureflow.engine.run_log import log_run_finished, log_run_started, with_run_logging
from pureflow.engine.summary import DeadlockReport, RunSummary
from pureflow.engine.watchdog import format_duration, watch_progress
from pureflow.runtime import NodeOutcome, OutcomeKind
from pureflow.workflow import CycleDetected, CyclePolicy, WorkflowDefinition

_log = logging.getLogger("pureflow.engine")


class NodeState(enum.Enum):
    """Where a node is in its life, for progress displays."""

    SCHEDULED = "scheduled"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(slots=True)
class NodeStatus:
    """A node's live state and timing (monotonic seconds)."""

    node_id: str
    state: NodeState = NodeState.SCHEDULED
    started_at: float | None = None
    finished_at: float | None = None

    @property
    def duration(self) -> float | None:
        if self.started_at is None:
            return None
        end = self.finished_at if self.finished_at is not None else time.monotonic()
        return end - self.started_at


class CycleRejected(ExecutionError):
    """A cyclic workflow was run under a policy that rejects cycles."""


def effective_cycle_policy(workflow: WorkflowDefinition, policy: RunPolicy) -> CyclePolicy:
    return policy.cycles if policy.cycles is not None else workflow.graph.cycles


def preflight(
    workflow: WorkflowDefinition, registry: ExecutorRegistry, policy: RunPolicy
) -> tuple[NodeSpec, ...]:
    """Check the cycle policy and find every executor; raise before anything runs."""
    if effective_cycle_policy(workflow, policy) is CyclePolicy.REJECT:
        try:
            workflow.topological_order()
        except CycleDetected as cycle:
            path = " -> ".join(cycle.cycle)
            raise CycleRejected(
                f"workflow `{workflow.id}` contains directed cycle {path}; use an explicit "
                "feedback-loop run policy to execute cyclic graphs"
            ) from None
    from_document = getattr(registry, "from_document", None)
    return tuple(
        NodeSpec(
            node,
            registry.executor_for(node),
            bool(from_document is not None and from_document(node.id)),
            policy.time_limit_for(node.id),
        )
        for node in workflow.nodes
    )


class Supervisor:
    """Runs one workflow once. Use :func:`pureflow.engine.run` unless you need the live
    view (:attr:`statuses`, :attr:`edges`) for a progress display.

    It plans the run (:class:`~pureflow.engine.backend.RunPlan`), has ``backend`` open it,
    and is the run's :class:`~pureflow.engine.backend.RunListener`: it keeps the summary
    and the statuses, applies the failure policy, runs the watchdog and the deadlock
    diagnostic, and writes ``node_scheduled``, ``workflow_failed`` and edge statistics.
    """

    def __init__(
        self,
        workflow: WorkflowDefinition,
        registry: ExecutorRegistry,
        execution: ExecutionMetadata,
        *,
        policy: RunPolicy,
        sink: MetadataSink | None,
        hook: LifecycleHook | None,
        backend: ExecutionBackend,
        cancellation: CancellationHandle | None = None,
        base_dir: Path | None = None,
    ) -> None:
        specs = preflight(workflow, registry, policy)
        # Replicated nodes run as copies between a splitter and a merger (replicas.py).
        workflow, specs, apart = expand_plan(workflow, specs)
        self.workflow = workflow
        self.execution = execution
        self.policy = policy
        self.sink = with_run_logging(sink)
        self.hook = hook
        self.backend = backend
        self.cancellation = cancellation if cancellation is not None else CancellationHandle()
        self.plan = RunPlan(
            workflow,
            execution,
            policy,
            specs,
            base_dir if base_dir is not None else getattr(registry, "base_dir", None),
            MetadataPlan.of(self.sink),
            apart,
        )
        self.summary = RunSummary(workflow.id, len(workflow.nodes))
        self.statuses: dict[str, NodeStatus] = {
            node.id: NodeStatus(node.id) for node in workflow.nodes
        }
        self.edges: RunningEdges | None = None
        self._running: RunningRun | None = None
        self._all_finished: anyio.Event | None = None
        self._deadlocked: anyio.Event | None = None
        self._stopping = False
        self._aborted = False
        self._statistics_sample = 0
        self.finished = False
        """True once :meth:`run` has returned (or was cancelled)."""

    # --- the run -------------------------------------------------------------------

    async def run(self) -> RunSummary:
        """Run every node to its end and return the summary. Node failures are data in
        the summary; only pre-flight problems, a backend that cannot start the run and
        host cancellation raise."""
        log_run_started(self.workflow, self.execution)
        self._all_finished = anyio.Event()
        self._deadlocked = anyio.Event()
        contexts = [
            NodeContext(
                self.workflow.id,
                spec.node.id,
                self.execution,
                cancellation_token=self.cancellation.token,
                config=spec.node.config,
            )
            for spec in self.plan.nodes
        ]
        opened = self.backend.open(
            self.plan,
            sink=self.sink,
            hook=self.hook,
            cancellation=self.cancellation,
            listener=self,
        )
        try:
            async with opened as running:
                self._running = running
                edges = self.edges = running.edges
                for ctx in contexts:
                    self._observe_scheduled(ctx)
                if self._aborted:
                    running.abort()
                try:
                    async with anyio.create_task_group() as watchers:
                        watchers.start_soon(self._stop_after_cancellation)
                        if self.policy.watchdog_seconds is not None:
                            watchers.start_soon(self._watchdog)
                        if self.policy.detect_deadlocks:
                            watchers.start_soon(self._deadlock_watch)
                        every = getattr(self.sink, "statistics_seconds", None)
                        if every is not None:
                            watchers.start_soon(self._edge_statistics, float(every))
                        if self.policy.loop_block_seconds is not None:
                            monitor = LoopMonitor(
                                self.policy.loop_block_seconds,
                                limit=self.policy.watchdog_seconds,
                                on_block=self._loop_blocked,
                            )
                            watchers.start_soon(monitor.watch)
                        await running.wait()
                        watchers.cancel_scope.cancel()
                finally:
                    self.summary.observed_message_count = edges.messages_moved()
                    if getattr(self.sink, "statistics_seconds", None) is not None:
                        self._write_statistics(EdgeStatisticsKind.FINAL)
        finally:
            self.finished = True
        log_run_finished(self.summary, self.execution)
        return self.summary

    def cancel(self, reason: str) -> bool:
        """Request cooperative cancellation of every node (as Ctrl-C does)."""
        return self.cancellation.cancel(reason)

    def abort(self) -> None:
        """Cancel every node's task now (host cancellation: each node still records
        ``node_cancelled``); :meth:`run` then returns the summary."""
        self._aborted = True
        if self._running is not None:
            self._running.abort()

    # --- what the backend reports (RunListener) --------------------------------------

    def node_started(self, node_id: str) -> None:
        status = self.statuses[node_id]
        status.state, status.started_at = NodeState.RUNNING, time.monotonic()

    def node_error(self, node_id: str, error: PureflowError) -> None:  # noqa: ARG002
        """Called before a failing node's ports close (in process)."""
        if self.policy.failure is FailurePolicy.FAIL_FAST:
            self.cancellation.cancel(f"node execution failed: {error}")

    def node_finished(
        self, node_id: str, outcome: NodeOutcome, usage: Mapping[str, int] | None
    ) -> None:
        if usage:
            self.summary.node_usage[str(node_id)] = dict(usage)
        self._record(node_id, outcome)

    def deadlocked(self) -> None:
        if self._deadlocked is not None:
            self._deadlocked.set()

    def run_failed(self, error: PureflowError) -> None:
        first = self.summary.first_error is None
        self.summary.record_workflow_error(error)
        if first:
            self._write_workflow_failed(error, None)
        self.cancellation.cancel(f"node execution failed: {error}")

    # --- outcomes ----------------------------------------------------------------------

    def _record(self, node_id: str, outcome: NodeOutcome) -> None:
        status = self.statuses[node_id]
        status.finished_at = time.monotonic()
        self._count(node_id, outcome)
        if self.summary.pending_node_count == 0 and self._all_finished is not None:
            self._all_finished.set()

    def _count(self, node_id: str, outcome: NodeOutcome) -> None:
        status = self.statuses[node_id]
        if outcome.kind is OutcomeKind.COMPLETED or outcome.error is None:
            status.state = NodeState.COMPLETED
            self.summary.record_completed()
            return
        status.state = (
            NodeState.CANCELLED if outcome.kind is OutcomeKind.CANCELLED else NodeState.FAILED
        )
        first = self.summary.first_error is None
        self.summary.record_node_error(node_id, outcome.error)
        if first:
            self._write_workflow_failed(outcome.error, None)

    def _write_workflow_failed(
        self, error: PureflowError, diagnostic: DeadlockDiagnostic | None
    ) -> None:
        """Record ``error/workflow_failed``. A sink failure here is logged, not raised: it
        must not crash the run and lose the summary, which still carries the error."""
        if self.sink is None:
            return
        try:
            self.sink.record(
                ErrorRecord.workflow_failed(self.workflow.id, self.execution, error, diagnostic)
            )
        except Exception:
            _log.warning("metadata sink failed to record workflow_failed", exc_info=True)

    def _loop_blocked(self, block: LoopBlock) -> None:
        """A node's code held the event loop (the loop monitor saw it): a warning in the
        summary and a ``warning`` record (a sink failure here is logged, not raised)."""
        self.summary.warnings.append(block.message)
        if self.sink is None:
            return
        try:
            self.sink.record(
                WarningRecord(
                    WarningRecordKind.EVENT_LOOP_BLOCKED,
                    self.workflow.id,
                    self.execution,
                    node_id=block.node_id,
                    message=block.message,
                    location=block.location,
                    seconds=block.seconds,
                )
            )
        except Exception:
            _log.warning("metadata sink failed to record a warning", exc_info=True)

    def _observe_scheduled(self, ctx: NodeContext) -> None:
        if self.sink is not None:
            try:
                self.sink.record(LifecycleRecord(LifecycleEventKind.NODE_SCHEDULED, ctx))
            except MetadataError as err:
                # The run cannot keep its records: it fails with that error (each node
                # then fails to record its start, and ends at once).
                if self.summary.first_error is None:
                    self.summary.record_workflow_error(err)
                    self.cancellation.cancel(f"metadata cannot be written: {err}")
        if self.hook is not None:
            self.hook.observe(LifecycleEvent(LifecycleEventKind.NODE_SCHEDULED, ctx))

    # --- watchdog ---------------------------------------------------------------------

    def _progress(self) -> int:
        assert self.edges is not None
        finished = self.summary.scheduled_node_count - self.summary.pending_node_count
        return self.edges.progress() + finished

    async def _watchdog(self) -> None:
        timeout = self.policy.watchdog_seconds
        assert timeout is not None
        await watch_progress(timeout, self._progress, self._stalled)

    async def _deadlock_watch(self) -> None:
        """Wait for the liveness monitor's signal and stop the run."""
        assert self._deadlocked is not None
        await self._deadlocked.wait()
        self._fail_stuck(detected_by="deadlock_detector")

    async def _stop_after_cancellation(self) -> None:
        """Once the run's token is cancelled, for whatever reason (a signal, a failure
        under fail-fast, the watchdog, a deadlock, :meth:`cancel`), give nodes
        ``grace_seconds`` to end at their next port operation, then cancel the tasks of
        those that did not (a node asleep or awaiting something outside its ports), so a
        cancelled run always ends."""
        await self.cancellation.token.wait()
        assert self._all_finished is not None
        with anyio.move_on_after(self.policy.grace_seconds):
            await self._all_finished.wait()
        if self.summary.pending_node_count and self._running is not None:
            self._running.abort()

    def blocked_nodes(self) -> list[dict[str, object]]:
        """Each running node and the ports it is waiting on now (for diagnostics)."""
        if self.edges is None:
            return []
        blocked: list[dict[str, object]] = []
        for node_id, status in self.statuses.items():
            if status.state is not NodeState.RUNNING:
                continue
            inputs, outputs = self.edges.waiting_ports(node_id)
            blocked.append(
                {"node_id": node_id, "waiting_inputs": inputs, "waiting_outputs": outputs}
            )
        return blocked

    async def _edge_statistics(self, every: float) -> None:
        """The large-run tier: every ``every`` seconds an ``edge_statistics`` record per
        edge (and a final one when the run ends, written by :meth:`run`)."""
        while True:
            await anyio.sleep(every)
            self._write_statistics(EdgeStatisticsKind.PERIODIC)

    def _write_statistics(self, kind: EdgeStatisticsKind) -> None:
        """One ``edge_statistics`` record per edge; a sink failure is logged, not raised
        (it must not end the run)."""
        assert self.edges is not None
        assert self.sink is not None
        self._statistics_sample += 1
        try:
            for fields in self.edges.edge_statistics():
                self.sink.record(
                    EdgeStatisticsRecord(
                        kind, self.workflow.id, self.execution, self._statistics_sample, fields
                    )
                )
        except Exception:
            _log.warning("metadata sink failed to record edge statistics", exc_info=True)

    def _stalled(self) -> None:
        """The watchdog fired."""
        self._fail_stuck(detected_by="watchdog")

    def _fail_stuck(self, *, detected_by: str) -> None:
        """Record the diagnostic, fail the run and request cancellation (once)."""
        assert self.edges is not None
        if self._stopping:
            return
        self._stopping = True
        watchdog = detected_by == "watchdog"
        timeout = (self.policy.watchdog_seconds or 0.0) if watchdog else 0.0
        summary = self.summary
        cycles = effective_cycle_policy(self.workflow, self.policy)
        allow = cycles is CyclePolicy.ALLOW
        blocked = self.blocked_nodes()
        edges = self.edges.edge_depths()
        report = DeadlockReport(
            workflow_id=self.workflow.id,
            scheduled_node_count=summary.scheduled_node_count,
            pending_node_count=summary.pending_node_count,
            completed_node_count=summary.completed_node_count,
            failed_node_count=summary.failed_node_count,
            cancelled_node_count=summary.cancelled_node_count,
            bounded_edge_count=len(self.workflow.edges),
            no_progress_timeout_ms=int(timeout * 1000),
            cycle_policy="allow_feedback_loops" if allow else "reject",
            feedback_loop_startup="start_all_nodes" if allow else None,
            feedback_loop_termination="all_nodes_complete" if allow else None,
            blocked=tuple(blocked),
            edges=tuple(edges),
            detected_by=detected_by,
        )
        policy_text = (
            "AllowFeedbackLoops(FeedbackLoopRunPolicy { startup: StartAllNodes, "
            "termination: AllNodesComplete })"
            if allow
            else "Reject"
        )
        waiting = "; ".join(describe_blocked(blocked)) or "none"
        what = (
            f"watchdog detected no workflow progress for {format_duration(timeout)}"
            if watchdog
            else "is deadlocked: every running node is blocked on a port and no edge can "
            "move a packet"
        )
        error = ExecutionError(
            f"workflow `{self.workflow.id}` {what}: "
            f"scheduled_nodes={report.scheduled_node_count}, "
            f"pending_nodes={report.pending_node_count}, "
            f"completed_nodes={report.completed_node_count}, "
            f"failed_nodes={report.failed_node_count}, "
            f"cancelled_nodes={report.cancelled_node_count}, "
            f"bounded_edges={report.bounded_edge_count}, cycle_policy={policy_text}; "
            f"blocked: {waiting}"
        )
        diagnostic = DeadlockDiagnostic(
            scheduled_node_count=report.scheduled_node_count,
            pending_node_count=report.pending_node_count,
            bounded_edge_count=report.bounded_edge_count,
            no_progress_timeout_ms=report.no_progress_timeout_ms,
            cycle_policy="allow_feedback_loops" if allow else "reject_cycles",
            completed_node_count=report.completed_node_count,
            failed_node_count=report.failed_node_count,
            cancelled_node_count=report.cancelled_node_count,
            feedback_loop_startup=report.feedback_loop_startup,
            feedback_loop_termination=report.feedback_loop_termination,
            extra={"blocked_nodes": blocked, "edges": edges, "detected_by": detected_by},
        )
        first = summary.first_error is None
        summary.deadlock_diagnostic = report
        summary.record_workflow_error(error)
        if first:  # at most one workflow_failed per run (the original could write two)
            self._write_workflow_failed(error, diagnostic)
        self.cancellation.cancel(f"node execution failed: {error}")


def describe_blocked(blocked: Iterable[dict[str, object]]) -> list[str]:
    parts = []
    for entry in blocked:
        inputs = entry["waiting_inputs"]
        outputs = entry["waiting_outputs"]
        where = []
        if inputs:
            where.append("receiving on " + ", ".join(map(str, inputs)))  # type: ignore[call-overload]
        if outputs:
            where.append("sending on " + ", ".join(map(str, outputs)))  # type: ignore[call-overload]
        parts.append(f"`{entry['node_id']}` " + (" and ".join(where) or "running"))
    return parts
