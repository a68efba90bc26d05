"""The one entry point: :func:`run_workflow` (async) and :func:`run_workflow_sync`."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Literal

import anyio
from pureflow.core import (
    CancellationHandle,
    ExecutionMetadata,
    LifecycleHook,
    MetadataSink,
    NodeExecutor,
)
from pureflow.engine.backend import ExecutionBackend, InProcessBackend
from pureflow.engine.policy import RunPolicy
from pureflow.engine.registry import ExecutorRegistry, as_registry
from pureflow.engine.summary import RunSummary
from pureflow.engine.supervisor import Supervisor
from pureflow.workflow import WorkflowDefinition

Executors = ExecutorRegistry | Mapping[str, NodeExecutor] | NodeExecutor


def _execution(execution: ExecutionMetadata | str) -> ExecutionMetadata:
    if isinstance(execution, ExecutionMetadata):
        return execution
    return ExecutionMetadata.first_attempt(execution)


async def run_workflow(
    workflow: WorkflowDefinition,
    executors: Executors,
    *,
    execution: ExecutionMetadata | str = "run-1",
    policy: RunPolicy | None = None,
    metadata: MetadataSink | None = None,
    hook: LifecycleHook | None = None,
    cancellation: CancellationHandle | None = None,
    backend: ExecutionBackend | None = None,
) -> RunSummary:
    """Run ``workflow`` to the end and return its :class:`RunSummary`.

    ``executors`` is a mapping of node id to :class:`~pureflow.core.NodeExecutor`, one
    executor for every node, or an :class:`ExecutorRegistry`. Node failures do not raise:
    read ``summary.terminal_state`` / ``summary.first_error``, or call
    ``summary.raise_for_state()``. What raises, before any node starts and before any
    record is written: a cycle under a rejecting policy
    (:class:`~pureflow.engine.supervisor.CycleRejected`) and a node without an executor
    (:class:`~pureflow.engine.registry.MissingExecutor`). Cancelling ``cancellation``
    stops the run cooperatively; cancelling the calling task stops it at once (every node
    still gets its terminal record). The metadata sink is not closed here: its owner
    closes it.
    """
    supervisor = Supervisor(
        workflow,
        as_registry(executors),
        _execution(execution),
        policy=policy or RunPolicy(),
        sink=metadata,
        hook=hook,
        backend=backend or InProcessBackend(),
        cancellation=cancellation,
    )
    return await supervisor.run()


def run_workflow_sync(
    workflow: WorkflowDefinition,
    executors: Executors,
    *,
    backend_name: Literal["asyncio", "trio"] = "asyncio",
    execution: ExecutionMetadata | str = "run-1",
    policy: RunPolicy | None = None,
    metadata: MetadataSink | None = None,
    hook: LifecycleHook | None = None,
) -> RunSummary:
    """:func:`run_workflow` from synchronous code, on a new event loop."""
    call = partial(
        run_workflow,
        workflow,
        executors,
        execution=execution,
        policy=policy,
        metadata=metadata,
        hook=hook,
    )
    return anyio.run(call, backend=backend_name)
