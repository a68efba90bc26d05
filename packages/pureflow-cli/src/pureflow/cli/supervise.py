"""Running a workflow from the CLI: an event loop, and Ctrl-C as cooperative cancellation.

The first SIGINT (or SIGTERM) cancels the run's token with the reason
``interrupted by SIGINT``: every node ends at its next port operation with its terminal
record, and the run returns a ``cancelled`` summary. A second signal cancels the tasks
outright (each node still records ``node_cancelled``).

The run itself is :func:`pureflow.engine.run`, with the live progress display (if any) as
its ``on_progress`` callback.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import anyio
from pureflow.core import ExecutionMetadata, MetadataSink
from pureflow.engine import (
    ExecutionBackend,
    ExecutorRegistry,
    RunHandle,
    RunPolicy,
    RunSummary,
    run,
)
from pureflow.workflow import WorkflowDefinition

if TYPE_CHECKING:
    from pureflow.cli.progress import RunProgress


@dataclass(frozen=True, slots=True)
class RunOutcome:
    summary: RunSummary
    interrupted: bool


async def _run(
    workflow: WorkflowDefinition,
    registry: ExecutorRegistry,
    execution: ExecutionMetadata,
    policy: RunPolicy,
    sink: MetadataSink,
    *,
    progress: RunProgress | None = None,
    backend: ExecutionBackend | None = None,
) -> RunOutcome:
    handle = RunHandle()
    interrupted = False
    async with anyio.create_task_group() as group:

        async def watch_signals() -> None:
            nonlocal interrupted
            with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                async for signum in signals:
                    if interrupted:
                        handle.abort()
                        return
                    interrupted = True
                    handle.cancel(f"interrupted by {signal.Signals(signum).name}")

        group.start_soon(watch_signals)
        summary = await run(
            workflow,
            registry,
            metadata=sink,
            policy=policy,
            on_progress=progress,
            execution=execution,
            cancellation=handle,
            backend=backend,
        )
        group.cancel_scope.cancel()
    return RunOutcome(summary, interrupted)


def run_interruptibly(
    workflow: WorkflowDefinition,
    registry: ExecutorRegistry,
    execution: ExecutionMetadata,
    policy: RunPolicy,
    sink: MetadataSink,
    *,
    progress: RunProgress | None = None,
    backend: ExecutionBackend | None = None,
) -> RunOutcome:
    """Run on a fresh asyncio event loop with signal handling (and ``progress`` shown
    while the run goes on, if given), on ``backend`` (default: this process)."""
    return anyio.run(
        partial(
            _run, workflow, registry, execution, policy, sink, progress=progress, backend=backend
        )
    )
