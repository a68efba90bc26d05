"""The one entry point: :func:`run` (async) and :func:`run_sync`, with identical keywords.

::

    summary = run_sync("flows/orders.yaml")              # a document, bound as the CLI does
    summary = run_sync(workflow, {"source": src, "sink": sink})   # a graph and its code
    summary = run_sync(Flow("f").add("a", a).add("b", b).connect("a.out", "b.in"))

Inputs are normalised once, here:

* ``workflow``: a :class:`~pureflow.workflow.WorkflowDefinition`, a :class:`Flow` (graph
  and code together), or the path of a document (JSON, YAML or TOML), whose
  ``component`` references are bound relative to the document's folder, exactly as
  ``pureflow run`` binds them;
* ``nodes``: node id -> code, for nodes the document does not bind (or to replace what it
  binds): an ``async def node(ctx, inputs, outputs)``, a blocking ``def`` of the same
  shape (run in a worker thread), an ``@component`` function or class, or a node
  executor. Anything else, a node left without code, or code for a node that does not
  exist is a :class:`BindingError` naming the node, raised before any node starts;
* ``metadata``: a sink, or a path to write JSON Lines to (created, and closed when the
  run ends);
* ``backend``: where nodes run: an :class:`ExecutionBackend`, or the name of an installed
  one (``"inprocess"``, ``"ray"`` with ``pureflow-ray``; see
  :func:`~pureflow.engine.backend.load_backend`). Default: this process
  (:class:`InProcessBackend`).

What raises (before anything runs): a document that cannot be loaded
(:class:`~pureflow.format.WorkflowFileError`, :class:`~pureflow.format.FormatError`), a
:class:`BindingError`, a cycle under a rejecting policy (:class:`CycleRejected`); and
after ``timeout`` seconds :class:`RunTimeoutError`. Node failures never raise: they are
in the returned :class:`RunSummary` (``summary.raise_for_state()`` turns them into an
exception). Cancelling the calling task stops the run at once (every node still gets its
terminal record); ``cancellation`` stops it cooperatively.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Protocol, TypeAlias

import anyio
from pureflow.core import (
    CancellationHandle,
    ExecutionMetadata,
    JsonlMetadataSink,
    LifecycleHook,
    MetadataSink,
    NodeExecutor,
)
from pureflow.engine.backend import (
    ExecutionBackend,
    InProcessBackend,
    RunningEdges,
    load_backend,
)
from pureflow.engine.binding import bind_document
from pureflow.engine.flow import Flow
from pureflow.engine.policy import RunPolicy
from pureflow.engine.registry import ExecutorRegistry, as_registry
from pureflow.engine.summary import RunSummary
from pureflow.engine.supervisor import NodeStatus, Supervisor
from pureflow.format import load_workflow
from pureflow.workflow import WorkflowDefinition

WorkflowSource: TypeAlias = WorkflowDefinition | Flow | str | os.PathLike[str]
"""A workflow, a :class:`Flow`, or the path of a workflow document."""
MetadataTarget: TypeAlias = MetadataSink | str | os.PathLike[str] | None
"""A metadata sink, or a path to write metadata JSON Lines to."""

PROGRESS_INTERVAL = 0.25
"""Seconds between two ``on_progress`` calls while a run goes on."""


class RunView(Protocol):
    """A live, read-only view of a run, for progress displays (``on_progress``).

    Read it only from the callback (on the run's event loop); it changes as the run goes
    on. ``finished`` is True in the last call, made once the run has ended.
    """

    @property
    def workflow(self) -> WorkflowDefinition: ...

    @property
    def statuses(self) -> Mapping[str, NodeStatus]: ...

    @property
    def edges(self) -> RunningEdges | None: ...

    @property
    def summary(self) -> RunSummary: ...

    @property
    def finished(self) -> bool: ...


ProgressCallback: TypeAlias = Callable[[RunView], object]


class RunTimeoutError(TimeoutError):
    """A run did not finish within its ``timeout``; it was stopped.

    ``summary`` is the run's summary after it was stopped (every node has its terminal
    record), ``pending`` the nodes that had not finished at the deadline, ``blocked``
    what each running node was waiting on (``node_id``, ``waiting_inputs``,
    ``waiting_outputs``) and ``edges`` each edge's depth and capacity then.
    """

    def __init__(
        self,
        message: str,
        *,
        workflow_id: str,
        timeout: float,
        pending: tuple[str, ...],
        blocked: tuple[dict[str, Any], ...],
        edges: tuple[dict[str, Any], ...],
        summary: RunSummary | None = None,
    ) -> None:
        super().__init__(message)
        self.workflow_id = workflow_id
        self.timeout = timeout
        self.pending = pending
        self.blocked = blocked
        self.edges = edges
        self.summary = summary


class RunHandle(CancellationHandle):
    """Stops a run from outside: :meth:`cancel` cooperatively (every node ends at its next
    port operation, as with Ctrl-C), :meth:`abort` at once (every node's task is
    cancelled; each still records ``node_cancelled``). Either way :func:`run` returns the
    summary. Pass it as ``cancellation=``; one handle serves one run."""

    __slots__ = ("_abort", "_aborted")

    def __init__(self) -> None:
        super().__init__()
        self._abort: Callable[[], None] | None = None
        self._aborted = False

    def abort(self) -> None:
        """Cancel every node's task now (before the run starts: as soon as it does)."""
        self._aborted = True
        if self._abort is not None:
            self._abort()

    @property
    def aborted(self) -> bool:
        return self._aborted

    def _attach(self, abort: Callable[[], None]) -> None:
        self._abort = abort
        if self._aborted:
            abort()


@dataclass(frozen=True, slots=True)
class PreparedRun:
    """A workflow with every node bound to its code: what :func:`run` runs."""

    workflow: WorkflowDefinition
    registry: ExecutorRegistry
    base_dir: Path | None


def prepare(
    workflow: WorkflowSource,
    nodes: Mapping[str, object] | ExecutorRegistry | None = None,
) -> PreparedRun:
    """Load and bind ``workflow`` as :func:`run` does, without running it (raises the
    same pre-flight errors). ``nodes`` may also be a ready
    :class:`~pureflow.engine.ExecutorRegistry` (a :class:`BoundWorkflow`), used as is."""
    base_dir: Path | None = None
    code: dict[str, object] = {}
    if isinstance(workflow, Flow):
        code = workflow.code()
        definition = workflow.build()
    elif isinstance(workflow, WorkflowDefinition):
        definition = workflow
    elif isinstance(workflow, str | os.PathLike):
        definition = load_workflow(workflow)
        base_dir = Path(workflow).resolve().parent
    else:
        raise TypeError(
            "expected a WorkflowDefinition, a Flow or the path of a workflow document, "
            f"got {type(workflow).__name__}"
        )
    if nodes is not None and hasattr(nodes, "executor_for"):
        return PreparedRun(definition, nodes, base_dir)
    if nodes is not None:
        code.update(nodes)
    bound = bind_document(definition, base_dir=base_dir, nodes=code, require_all=True)
    return PreparedRun(definition, bound, base_dir)


def _execution(execution: ExecutionMetadata | str) -> ExecutionMetadata:
    if isinstance(execution, ExecutionMetadata):
        return execution
    return ExecutionMetadata.first_attempt(execution)


def _timeout(timeout: float | None) -> float:
    if timeout is None:
        return math.inf
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
        raise ValueError(f"timeout must be a number of seconds > 0 (or None), got {timeout!r}")
    return float(timeout)


def _quote_ports(ports: object) -> str:
    return ", ".join(f"`{port}`" for port in ports)  # type: ignore[attr-defined]


def _timeout_error(supervisor: Supervisor, timeout: float) -> RunTimeoutError:
    """Who is stuck where at the deadline, before the run is stopped."""
    workflow = supervisor.workflow
    blocked = {str(entry["node_id"]): entry for entry in supervisor.blocked_nodes()}
    pending: list[str] = []
    described: list[str] = []
    for node_id, status in supervisor.statuses.items():
        if status.finished_at is not None:
            continue
        pending.append(node_id)
        entry = blocked.get(node_id)
        if entry is None:
            described.append(f"`{node_id}` (not started)")
            continue
        where = []
        if entry["waiting_inputs"]:
            where.append(f"receiving on {_quote_ports(entry['waiting_inputs'])}")
        if entry["waiting_outputs"]:
            where.append(f"sending on {_quote_ports(entry['waiting_outputs'])}")
        described.append(f"`{node_id}` ({' and '.join(where) or 'running, not waiting on a port'})")
    edges = tuple(supervisor.edges.edge_depths()) if supervisor.edges is not None else ()
    full = [
        f"{e['source']} -> {e['target']} ({e['queued_count']}/{e['capacity']})"
        for e in edges
        if e.get("queued_count")
    ]
    message = (
        f"workflow `{workflow.id}` did not finish within {timeout:g}s; "
        f"pending nodes: {', '.join(described) or 'none'}"
    )
    if full:
        message += f"; queued edges: {', '.join(full)}"
    message += (
        ". A node may be busy outside its ports (a sleep, external I/O, a long "
        "computation) or holding an output open; pass a larger timeout= if the run is "
        "only slow."
    )
    return RunTimeoutError(
        message,
        workflow_id=str(workflow.id),
        timeout=timeout,
        pending=tuple(pending),
        blocked=tuple(blocked.values()),
        edges=edges,
    )


async def run(
    workflow: WorkflowSource,
    nodes: Mapping[str, object] | ExecutorRegistry | None = None,
    *,
    metadata: MetadataTarget = None,
    policy: RunPolicy | None = None,
    timeout: float | None = None,  # noqa: ASYNC109 - the deadline snapshots who is stuck
    on_progress: ProgressCallback | None = None,
    backend: ExecutionBackend | str | None = None,
    execution: ExecutionMetadata | str = "run-1",
    cancellation: CancellationHandle | None = None,
    hook: LifecycleHook | None = None,
) -> RunSummary:
    """Run ``workflow`` to its end and return its :class:`RunSummary`.

    See the module documentation for what each argument accepts and what raises.
    ``policy``: cycles, failure policy, watchdog, deadlock detection, time limits,
    default capacity (:class:`RunPolicy`). ``timeout``: seconds before the run is stopped
    and :class:`RunTimeoutError` raised (``None``: no limit). ``on_progress``: called on
    the event loop with a live :class:`RunView` every :data:`PROGRESS_INTERVAL` seconds (or
    every ``on_progress.interval`` seconds, when the callable has that attribute) and once
    more when the run has ended; it must return quickly. ``execution``: the
    execution id (attempt 1) or an :class:`~pureflow.core.ExecutionMetadata`.
    ``cancellation``: a handle whose ``cancel()`` stops the run cooperatively (a
    :class:`RunHandle` can also ``abort()`` it). ``hook``:
    observes lifecycle events. A sink passed in is not closed here; a path is.
    """
    prepared = prepare(workflow, nodes)
    limit = _timeout(timeout)
    sink, owned = _open_metadata(metadata)
    try:
        supervisor = Supervisor(
            prepared.workflow,
            prepared.registry,
            _execution(execution),
            policy=policy or RunPolicy(),
            sink=sink,
            hook=hook,
            backend=_backend(backend),
            cancellation=cancellation,
            base_dir=prepared.base_dir,
        )
        expired: list[RunTimeoutError] = []
        async with anyio.create_task_group() as group:

            async def deadline() -> None:
                await anyio.sleep(limit)
                expired.append(_timeout_error(supervisor, limit))
                supervisor.abort()

            async def report_progress() -> None:
                assert on_progress is not None
                interval = float(getattr(on_progress, "interval", PROGRESS_INTERVAL))
                while True:
                    await anyio.sleep(interval)
                    on_progress(supervisor)

            if isinstance(cancellation, RunHandle):
                cancellation._attach(supervisor.abort)
            if limit != math.inf:
                group.start_soon(deadline)
            if on_progress is not None:
                group.start_soon(report_progress)
            summary = await supervisor.run()
            group.cancel_scope.cancel()
        if on_progress is not None:
            on_progress(supervisor)
        if expired:
            expired[0].summary = summary
            raise expired[0]
        return summary
    finally:
        if owned is not None:
            owned.close()


def _backend(backend: ExecutionBackend | str | None) -> ExecutionBackend:
    if backend is None:
        return InProcessBackend()
    if isinstance(backend, str):
        return load_backend(backend)
    return backend


def _open_metadata(target: MetadataTarget) -> tuple[MetadataSink | None, JsonlMetadataSink | None]:
    """The sink to record into, and the JSONL sink this run owns (for a path)."""
    if target is None or not isinstance(target, str | os.PathLike):
        return target, None
    owned = JsonlMetadataSink(Path(target))
    return owned, owned


def run_sync(
    workflow: WorkflowSource,
    nodes: Mapping[str, object] | ExecutorRegistry | None = None,
    *,
    metadata: MetadataTarget = None,
    policy: RunPolicy | None = None,
    timeout: float | None = None,
    on_progress: ProgressCallback | None = None,
    backend: ExecutionBackend | str | None = None,
    execution: ExecutionMetadata | str = "run-1",
    cancellation: CancellationHandle | None = None,
    hook: LifecycleHook | None = None,
) -> RunSummary:
    """:func:`run` from synchronous code, on a new asyncio event loop (from a trio
    program, ``await run(...)`` instead). Same arguments, same result, same errors."""
    call = partial(
        run,
        workflow,
        nodes,
        metadata=metadata,
        policy=policy,
        timeout=timeout,
        on_progress=on_progress,
        backend=backend,
        execution=execution,
        cancellation=cancellation,
        hook=hook,
    )
    return anyio.run(call)


# --- the original's name ---------------------------------------------------------------

Executors: TypeAlias = ExecutorRegistry | Mapping[str, NodeExecutor] | NodeExecutor


async def run_workflow(
    workflow: WorkflowDefinition,
    executors: Executors,
    *,
    execution: ExecutionMetadata | str = "run-1",
    policy: RunPolicy | None = None,
    metadata: MetadataSink | None = None,
    hook: LifecycleHook | None = None,
    cancellation: CancellationHandle | None = None,
    backend: ExecutionBackend | str | None = None,
) -> RunSummary:
    """The original's ``run_workflow(workflow, executors)``: :func:`run` with ready
    executors and the original's registry rules. ``executors`` is a mapping of node id to
    executor (ids the workflow lacks are ignored), one executor for every node, or an
    :class:`~pureflow.engine.ExecutorRegistry`; a node without one raises
    :class:`~pureflow.engine.MissingExecutor` before anything runs."""
    return await run(
        workflow,
        as_registry(executors),
        execution=execution,
        policy=policy,
        metadata=metadata,
        hook=hook,
        cancellation=cancellation,
        backend=backend,
    )
