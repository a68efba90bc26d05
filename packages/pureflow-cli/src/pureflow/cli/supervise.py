"""Running a workflow from the CLI: an event loop, and signals as cancellation.

The run routes SIGINT and SIGTERM (:mod:`pureflow.cli.interrupts`): the first cancels the
run's token with the reason ``interrupted by SIGINT`` (or ``SIGTERM``): every node ends at
its next port operation with its terminal record, and the run returns a ``cancelled``
summary. A second signal cancels the tasks outright (each node still records
``node_cancelled``). The handler runs in the main thread, which is the event loop's: it
hands the cancellation to the loop (``call_soon_threadsafe``), so it acts as soon as the
loop turns; if node code has held the loop past the loop monitor's threshold, the handler
also raises a cancellation into that code, so Ctrl-C acts at once there too.

The run itself is :func:`pureflow.engine.run`, with the live progress display (if any) as
its ``on_progress`` callback.
"""

from __future__ import annotations

import asyncio
import signal
from dataclasses import dataclass
from functools import partial
from types import FrameType
from typing import TYPE_CHECKING

import anyio
from pureflow.cli.interrupts import INTERRUPTS
from pureflow.core import CancellationError, ExecutionMetadata, MetadataSink
from pureflow.engine import (
    ExecutionBackend,
    ExecutorRegistry,
    RunHandle,
    RunPolicy,
    RunSummary,
    run,
)
from pureflow.engine.loop_monitor import blocked_node_at
from pureflow.workflow import WorkflowDefinition

if TYPE_CHECKING:
    from pureflow.cli.progress import RunProgress


@dataclass(frozen=True, slots=True)
class RunOutcome:
    summary: RunSummary
    signum: int | None
    """The first signal that interrupted the run (``None``: it was not interrupted)."""


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
    loop = asyncio.get_running_loop()
    signals: list[int] = []

    def route(signum: int, frame: FrameType | None) -> None:
        signals.append(signum)
        reason = f"interrupted by {signal.Signals(signum).name}"
        if len(signals) == 1:
            loop.call_soon_threadsafe(handle.cancel, reason)
        else:
            loop.call_soon_threadsafe(handle.abort)
        # Node code holding the event loop would delay all of that until it lets go:
        # stop it where it is (the handler runs in its frame).
        block = blocked_node_at(frame)
        if block is not None:
            raise CancellationError(f"{reason} while {block.message}")

    with INTERRUPTS.routed(route):
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
    return RunOutcome(summary, signals[0] if signals else None)


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
