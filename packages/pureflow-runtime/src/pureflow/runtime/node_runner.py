"""Run one node: lifecycle observation, error mapping and guaranteed port closing.

The order of effects is part of the contract (the engine and tests depend on it):

1. attach ``sink`` and ``ctx`` to both port collections;
2. observe ``node_started`` (sink first, then hook). If that fails the node never runs,
   its ports are closed, no terminal record is written and the failure is the outcome;
3. ``await executor.run(ctx, inputs, outputs)``, bounded by ``time_limit`` if given;
4. if the node raised, call ``on_error(error)`` synchronously, *before* the ports close,
   so a supervisor can request cancellation before downstream nodes see end of stream;
5. close outputs and inputs (always: success, error, timeout, or host cancellation); a
   failure while closing (a metadata sink that cannot write the closing records) fails
   a node that had not failed, and is then passed to ``on_error`` too;
6. on success observe ``node_completed``; a failing observation becomes the outcome.
   On error write ``error/node_failed`` and observe ``node_cancelled`` (for a
   :class:`~pureflow.core.CancellationError`) or ``node_failed``; observation failures
   are swallowed and the node's own error is the outcome.

With a ``flow`` (:class:`~pureflow.core.liveness.NodeFlow`), the node's task is its main
flow for the whole call (its port waits count the node as blocked for deadlock
detection), and the flow finishes after the ports are closed, so a downstream node woken
by the close is never counted as blocked by a node that is gone.

Host cancellation (the task's anyio cancel scope, e.g. Ctrl-C or the watchdog) is not
swallowed: the runner writes ``node_failed`` / ``node_cancelled`` for
``CancellationError("cancelled by host")`` (synchronously, so the cancellation cannot
interrupt it), then re-raises.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import anyio
from pureflow.core import (
    CancellationError,
    ErrorRecord,
    ExecutionError,
    LifecycleEvent,
    LifecycleEventKind,
    LifecycleHook,
    LifecycleRecord,
    MetadataError,
    MetadataSink,
    NodeContext,
    NodeExecutor,
    PortError,
    PortsIn,
    PortsOut,
    PureflowError,
    as_pureflow_error,
)
from pureflow.core.liveness import NodeFlow
from pureflow.runtime.failure import node_code_error
from pureflow.types import IdentifierError


class OutcomeKind(enum.Enum):
    """How a node ended."""

    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class NodeOutcome:
    """A node's terminal state and, unless it completed, the error that ended it.

    ``started`` is False when observing ``node_started`` failed and the body never ran.
    """

    kind: OutcomeKind
    error: PureflowError | None = None
    started: bool = True

    @classmethod
    def completed(cls) -> NodeOutcome:
        return cls(OutcomeKind.COMPLETED)

    @classmethod
    def of_error(cls, error: PureflowError, *, started: bool = True) -> NodeOutcome:
        kind = OutcomeKind.CANCELLED if isinstance(error, CancellationError) else OutcomeKind.FAILED
        return cls(kind, error, started)


def _observe(
    kind: LifecycleEventKind,
    ctx: NodeContext,
    sink: MetadataSink | None,
    hook: LifecycleHook | None,
) -> None:
    """Record a lifecycle event: the sink first, then the hook (skipped if the sink failed)."""
    if sink is not None:
        try:
            sink.record(LifecycleRecord(kind, ctx))
        except PureflowError:
            raise
        except Exception as err:  # a sink that breaks its contract is a metadata failure
            raise MetadataError(f"metadata sink failed: {err}") from err
    if hook is not None:
        try:
            hook.observe(LifecycleEvent(kind, ctx))
        except PureflowError:
            raise
        except Exception as err:
            raise as_pureflow_error(err) from err


def record_node_failure(
    error: PureflowError, ctx: NodeContext, sink: MetadataSink | None, hook: LifecycleHook | None
) -> None:
    """Write ``error/node_failed`` and the terminal lifecycle event (``node_cancelled``
    for a :class:`~pureflow.core.CancellationError`, else ``node_failed``) to ``sink`` and
    ``hook``, swallowing their failures: the node's own error is what counts. Also for a
    backend that learns of a failure outside the node runner (a worker that died)."""
    if sink is not None:
        try:
            sink.record(ErrorRecord.node_failed(ctx, error))
        except Exception:
            ctx.logger.debug("metadata sink failed on node_failed", exc_info=True)
    kind = (
        LifecycleEventKind.NODE_CANCELLED
        if isinstance(error, CancellationError)
        else LifecycleEventKind.NODE_FAILED
    )
    try:
        _observe(kind, ctx, sink, hook)
    except Exception:
        ctx.logger.debug("lifecycle observation failed on %s", kind.value, exc_info=True)


def _close(inputs: PortsIn, outputs: PortsOut) -> PureflowError | None:
    """Close both port sets, even when the first fails (a metadata sink that cannot
    write fails the records that closing writes); return the first failure."""
    failure: PureflowError | None = None
    for ports in (outputs, inputs):
        try:
            ports.close()
        except PureflowError as err:
            failure = failure or err
    return failure


def _format_seconds(seconds: float) -> str:
    return f"{seconds:g}s"


async def run_node(
    executor: NodeExecutor,
    ctx: NodeContext,
    inputs: PortsIn,
    outputs: PortsOut,
    *,
    sink: MetadataSink | None = None,
    hook: LifecycleHook | None = None,
    time_limit: float | None = None,
    on_error: Callable[[PureflowError], None] | None = None,
    flow: NodeFlow | None = None,
) -> NodeOutcome:
    """Run ``executor`` as node ``ctx.node_id`` and return how it ended.

    Never raises for a node failure: failures are the returned :class:`NodeOutcome`.
    Raises only the host's cancellation exception (after recording it). ``time_limit`` (in
    seconds) fails the node with ``CDT-EXEC-001: node execution failed: node `x` timed
    out after 5s``. See the module docstring for the order of effects.
    """
    run = partial(
        _run_node,
        executor,
        ctx,
        inputs,
        outputs,
        sink=sink,
        hook=hook,
        time_limit=time_limit,
        on_error=on_error,
    )
    if flow is None:
        return await run()
    token = flow.enter()
    try:
        return await run()
    finally:
        flow.finish()
        flow.leave(token)


async def _run_node(
    executor: NodeExecutor,
    ctx: NodeContext,
    inputs: PortsIn,
    outputs: PortsOut,
    *,
    sink: MetadataSink | None,
    hook: LifecycleHook | None,
    time_limit: float | None,
    on_error: Callable[[PureflowError], None] | None,
) -> NodeOutcome:
    inputs.with_metadata_sink(sink).with_node_context(ctx)
    outputs.with_metadata_sink(sink).with_node_context(ctx)
    try:
        _observe(LifecycleEventKind.NODE_STARTED, ctx, sink, hook)
    except PureflowError as err:
        _close(inputs, outputs)  # the start already failed: that is the error to report
        return NodeOutcome.of_error(err, started=False)

    error: PureflowError | None = None
    try:
        with anyio.move_on_after(math.inf if time_limit is None else time_limit) as scope:
            await executor.run(ctx, inputs, outputs)
        if scope.cancelled_caught:
            error = ExecutionError(
                f"node `{ctx.node_id}` timed out after {_format_seconds(time_limit or 0.0)}"
            )
    except anyio.get_cancelled_exc_class():
        host_error = CancellationError("cancelled by host")
        if on_error is not None:
            on_error(host_error)
        _close(inputs, outputs)  # cancelled either way: a close failure adds nothing
        record_node_failure(host_error, ctx, sink, hook)  # synchronous: cancellation cannot cut it
        raise
    except BaseException as raised:
        # Anything the node's code raises fails that node, SystemExit and
        # KeyboardInterrupt included: only the host's own cancellation (above) and its
        # signals (handled by whoever runs the event loop) stop a run.
        if isinstance(raised, PureflowError | PortError | IdentifierError):
            error = as_pureflow_error(raised)
        else:  # a bug in the node: say where, and keep the trace for --traceback and logs
            error = node_code_error(raised)
            ctx.logger.exception(
                "node `%s` raised %s", ctx.node_id, type(raised).__name__, exc_info=raised
            )

    if error is not None and on_error is not None:
        on_error(error)
    closing = _close(inputs, outputs)
    if error is None and closing is not None:
        error = closing
        if on_error is not None:
            on_error(error)
    if error is not None:
        record_node_failure(error, ctx, sink, hook)
        return NodeOutcome.of_error(error)
    try:
        _observe(LifecycleEventKind.NODE_COMPLETED, ctx, sink, hook)
    except PureflowError as err:
        return NodeOutcome.of_error(err)
    return NodeOutcome.completed()
