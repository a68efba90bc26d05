"""Run a whole workflow from a test in one call, with a deadline and a recording sink.

:func:`run_workflow` wraps :func:`pureflow.engine.run`: it accepts a workflow or a path to a
workflow document, a mapping of node id to node code (executors, plain ``async def`` node
functions, components) or one executor for every node, records every metadata record in
a :class:`RecordingMetadataSink`, and returns a :class:`WorkflowRun` (summary +
metadata). Node failures do not raise; read ``run.succeeded`` or call
``run.assert_succeeded()``.

A run that is still going after ``timeout`` seconds is stopped and
:class:`WorkflowTimeoutError` names every node that had not finished and the port each
was blocked on, so a hung test fails fast with a diagnosis instead of at the suite's
global timeout.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal, TypeAlias

import anyio
from pureflow.core import ExecutionMetadata, NodeExecutor, NodeFunction, PureflowError
from pureflow.engine import (
    ExecutionBackend,
    RunPolicy,
    RunSummary,
    RunTimeoutError,
    TerminalState,
    prepare,
    run,
)
from pureflow.format import load_workflow
from pureflow.testkit.recording import RecordingMetadataSink
from pureflow.workflow import WorkflowDefinition

NodeSpec: TypeAlias = NodeExecutor | NodeFunction
"""A node executor, or an ``async def node(ctx, inputs, outputs)`` function."""
Nodes: TypeAlias = Mapping[str, NodeSpec] | NodeSpec
"""One spec per node id, or one spec shared by every node."""
WorkflowSource: TypeAlias = WorkflowDefinition | str | os.PathLike[str]
"""A workflow, or the path of a workflow document (JSON, YAML or TOML)."""

DEFAULT_TIMEOUT = 10.0
"""Seconds :func:`run_workflow` allows a run by default."""


class WorkflowTimeoutError(RunTimeoutError):
    """A run did not finish within its deadline: the engine's
    :class:`~pureflow.engine.RunTimeoutError` (``pending``, ``blocked``, ``edges``,
    ``summary``), plus ``metadata``: the records written up to the deadline (the nodes'
    ``cancelled by host`` records included)."""

    def __init__(self, error: RunTimeoutError, metadata: RecordingMetadataSink | Any) -> None:
        super().__init__(
            str(error),
            workflow_id=error.workflow_id,
            timeout=error.timeout,
            pending=error.pending,
            blocked=error.blocked,
            edges=error.edges,
            summary=error.summary,
        )
        self.metadata = metadata


@dataclass(frozen=True, slots=True)
class WorkflowRun:
    """The outcome of :func:`run_workflow`: the summary and every metadata record."""

    workflow: WorkflowDefinition
    summary: RunSummary
    metadata: RecordingMetadataSink

    @property
    def succeeded(self) -> bool:
        """True when every node completed."""
        return self.summary.terminal_state is TerminalState.COMPLETED

    @property
    def terminal_state(self) -> TerminalState:
        return self.summary.terminal_state

    @property
    def first_error(self) -> PureflowError | None:
        return self.summary.first_error

    @property
    def node_errors(self) -> dict[str, PureflowError]:
        """Each failed or cancelled node's error, by node id."""
        return {str(node): error for node, error in self.summary.node_errors.items()}

    def assert_succeeded(self) -> None:
        """Raise ``AssertionError`` naming every node error unless the run completed."""
        if self.succeeded:
            return
        lines = [f"workflow `{self.workflow.id}` {self.terminal_state.value}"]
        lines.append(f"  first error: {self.first_error}")
        lines.extend(f"  node `{node}`: {error}" for node, error in self.node_errors.items())
        raise AssertionError("\n".join(lines))

    def assert_failed(self, node: str | None = None, match: str | None = None) -> PureflowError:
        """Assert the run failed (or was cancelled); optionally that ``node`` failed and
        that the error text contains ``match``. Returns that error."""
        if self.succeeded:
            raise AssertionError(f"workflow `{self.workflow.id}` completed; expected a failure")
        if node is None:
            error = self.first_error
            assert error is not None
        else:
            found = self.node_errors.get(node)
            if found is None:
                raise AssertionError(
                    f"node `{node}` did not fail; failed nodes: {sorted(self.node_errors)}"
                )
            error = found
        if match is not None and match not in str(error):
            raise AssertionError(f"error {str(error)!r} does not contain {match!r}")
        return error


# --- setup ----------------------------------------------------------------------------


def resolve_workflow(workflow: WorkflowSource) -> WorkflowDefinition:
    """A workflow as given, or loaded (and validated) from a document path."""
    if isinstance(workflow, WorkflowDefinition):
        return workflow
    if isinstance(workflow, str | os.PathLike):
        return load_workflow(workflow)
    raise TypeError(
        f"expected a WorkflowDefinition or a path to a workflow document, got {workflow!r}"
    )


# --- running --------------------------------------------------------------------------


async def run_workflow(
    workflow: WorkflowSource,
    nodes: Nodes,
    *,
    policy: RunPolicy | None = None,
    execution: str | ExecutionMetadata = "test-run",
    # The deadline is a task that snapshots the pending nodes before cancelling the run,
    # which anyio.fail_after around the call could not do.
    timeout: float | None = DEFAULT_TIMEOUT,  # noqa: ASYNC109
    metadata: RecordingMetadataSink | None = None,
    backend: ExecutionBackend | str | None = None,
) -> WorkflowRun:
    """Run ``workflow`` to its end and return a :class:`WorkflowRun`.

    * ``workflow``: a :class:`~pureflow.workflow.WorkflowDefinition` or a document path
      (whose ``component`` references are bound as ``pureflow run`` binds them);
    * ``nodes``: ``{node_id: code}`` for the nodes the document does not bind (a missing
      or unknown id raises the engine's :class:`~pureflow.engine.BindingError` listing
      them all), or one executor for every node; code is anything
      :func:`pureflow.engine.run` accepts (executors, ``async def`` functions,
      components);
    * ``policy``: the engine's :class:`~pureflow.engine.RunPolicy` (default: fail-fast,
      no watchdog, capacity 1);
    * ``execution``: the execution id (attempt 1) or an ``ExecutionMetadata``;
    * ``timeout``: seconds before the run is cancelled and :class:`WorkflowTimeoutError`
      raised (``None``: no limit);
    * ``metadata``: the sink to record into (default: a new
      :class:`RecordingMetadataSink`), returned as ``run.metadata``;
    * ``backend``: where the nodes run, as :func:`pureflow.engine.run` takes it (default:
      this process; ``"ray"`` with ``pureflow-ray`` installed).

    Node failures are data (``run.succeeded``, ``run.summary``); only setup problems,
    engine pre-flight errors (a rejected cycle) and the timeout raise.
    """
    sink = metadata if metadata is not None else RecordingMetadataSink()
    if isinstance(nodes, Mapping):
        prepared = prepare(workflow, nodes)
    else:  # one executor runs every node (a rule node runs its rule set)
        definition = resolve_workflow(workflow)
        shared = {str(n.id): nodes for n in definition.nodes if n.rule_set is None}
        prepared = prepare(definition, shared)
    try:
        summary = await run(
            prepared.workflow,
            prepared.registry,
            metadata=sink,
            policy=policy,
            timeout=timeout,
            execution=execution,
            backend=backend,
        )
    except RunTimeoutError as error:
        raise WorkflowTimeoutError(error, sink) from None
    return WorkflowRun(prepared.workflow, summary, sink)


def run_workflow_sync(
    workflow: WorkflowSource,
    nodes: Nodes,
    *,
    policy: RunPolicy | None = None,
    execution: str | ExecutionMetadata = "test-run",
    timeout: float | None = DEFAULT_TIMEOUT,
    metadata: RecordingMetadataSink | None = None,
    backend: ExecutionBackend | str | None = None,
    event_loop: Literal["asyncio", "trio"] = "asyncio",
) -> WorkflowRun:
    """:func:`run_workflow` from synchronous code, on a new ``event_loop``. ``backend``
    is where the nodes run, as for :func:`run_workflow`; for compatibility,
    ``backend="asyncio"`` or ``"trio"`` names the event loop instead."""
    if backend in _EVENT_LOOPS:
        event_loop, backend = backend, None  # type: ignore[assignment]
    call = partial(
        run_workflow,
        workflow,
        nodes,
        policy=policy,
        execution=execution,
        timeout=timeout,
        metadata=metadata,
        backend=backend,
    )
    return anyio.run(call, backend=event_loop)


_EVENT_LOOPS = ("asyncio", "trio")


class BoundRunner:
    """:func:`run_workflow` with its ``metadata`` sink fixed (the ``pureflow_run``
    fixture). ``await runner(workflow, nodes, ...)`` takes :func:`run_workflow`'s other
    arguments."""

    def __init__(self, metadata: RecordingMetadataSink, *, timeout: float | None = None) -> None:
        self.metadata = metadata
        self.timeout = DEFAULT_TIMEOUT if timeout is None else timeout

    async def __call__(
        self,
        workflow: WorkflowSource,
        nodes: Nodes,
        *,
        policy: RunPolicy | None = None,
        execution: str | ExecutionMetadata = "test-run",
        timeout: float | None = None,  # noqa: ASYNC109 - see run_workflow
        backend: ExecutionBackend | str | None = None,
    ) -> WorkflowRun:
        return await run_workflow(
            workflow,
            nodes,
            policy=policy,
            execution=execution,
            timeout=self.timeout if timeout is None else timeout,
            metadata=self.metadata,
            backend=backend,
        )

    def __repr__(self) -> str:
        return f"BoundRunner({self.metadata!r}, timeout={self.timeout!r})"
