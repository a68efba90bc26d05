"""Running a workflow from the CLI: an event loop, and Ctrl-C as cooperative cancellation.

The first SIGINT (or SIGTERM) cancels the run's token with the reason
``interrupted by SIGINT``: every node ends at its next port operation with its terminal
record, and the run returns a ``cancelled`` summary. A second signal cancels the tasks
outright (each node still records ``node_cancelled``).
"""

from __future__ import annotations

import signal
from dataclasses import dataclass

import anyio
from pureflow.core import CancellationHandle, ExecutionMetadata, MetadataSink
from pureflow.engine import ExecutorRegistry, RunPolicy, RunSummary, run_workflow
from pureflow.workflow import WorkflowDefinition


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
) -> RunOutcome:
    handle = CancellationHandle()
    interrupted = False
    summary: RunSummary | None = None
    async with anyio.create_task_group() as group:

        async def watch_signals() -> None:
            nonlocal interrupted
            with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                async for signum in signals:
                    if interrupted:
                        group.cancel_scope.cancel()
                        return
                    interrupted = True
                    handle.cancel(f"interrupted by {signal.Signals(signum).name}")

        group.start_soon(watch_signals)
        summary = await run_workflow(
            workflow,
            registry,
            execution=execution,
            policy=policy,
            metadata=sink,
            cancellation=handle,
        )
        group.cancel_scope.cancel()
    assert summary is not None
    return RunOutcome(summary, interrupted)


def run_interruptibly(
    workflow: WorkflowDefinition,
    registry: ExecutorRegistry,
    execution: ExecutionMetadata,
    policy: RunPolicy,
    sink: MetadataSink,
) -> RunOutcome:
    """Run on a fresh asyncio event loop with signal handling."""
    return anyio.run(_run, workflow, registry, execution, policy, sink)
