"""Run a whole workflow from a test in one call, with a deadline and a recording sink.

:func:`run_workflow` wraps the engine's supervisor: it accepts a workflow or a path to a
workflow document, a mapping of node id to executor (or plain ``async def`` node
functions), records every metadata record in a :class:`RecordingMetadataSink`, and
returns a :class:`WorkflowRun` (summary + metadata). Node failures do not raise; read
``run.succeeded`` or call ``run.assert_succeeded()``.

A run that is still going after ``timeout`` seconds is stopped and
:class:`WorkflowTimeoutError` names every node that had not finished and the port each
was blocked on, so a hung test fails fast with a diagnosis instead of at the suite's
global timeout.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal, TypeAlias

import anyio
from pureflow.core import (
    ExecutionMetadata,
    FunctionNodeExecutor,
    NodeExecutor,
    NodeFunction,
    PureflowError,
    RuleNode,
)
from pureflow.engine import (
    InProcessBackend,
    NodeState,
    RunPolicy,
    RunSummary,
    Supervisor,
    TerminalState,
)
from pureflow.format import load_workflow
from pureflow.testkit.builders import BuilderError
from pureflow.testkit.recording import RecordingMetadataSink
from pureflow.workflow import NodeDefinition, WorkflowDefinition

NodeSpec: TypeAlias = NodeExecutor | NodeFunction
"""A node executor, or an ``async def node(ctx, inputs, outputs)`` function."""
Nodes: TypeAlias = Mapping[str, NodeSpec] | NodeSpec
"""One spec per node id, or one spec shared by every node."""
WorkflowSource: TypeAlias = WorkflowDefinition | str | os.PathLike[str]
"""A workflow, or the path of a workflow document (JSON, YAML or TOML)."""

DEFAULT_TIMEOUT = 10.0
"""Seconds :func:`run_workflow` allows a run by default."""


class WorkflowTimeoutError(TimeoutError):
    """A run did not finish within its deadline.

    ``pending`` lists the nodes that had not finished, ``blocked`` what each running node
    was waiting on (``node_id``, ``waiting_inputs``, ``waiting_outputs``), ``edges`` each
    edge's queued count and capacity, ``metadata`` the records written up to the
    deadline (the nodes' ``cancelled by host`` records included).
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
        metadata: RecordingMetadataSink | Any,
    ) -> None:
        super().__init__(message)
        self.workflow_id = workflow_id
        self.timeout = timeout
        self.pending = pending
        self.blocked = blocked
        self.edges = edges
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


def _executor(node: str, spec: object) -> NodeExecutor:
    if isinstance(spec, NodeExecutor):
        return spec
    if callable(spec):
        return FunctionNodeExecutor(spec)
    raise BuilderError(f"node `{node}`: expected a NodeExecutor or an async function, got {spec!r}")


class _Executors:
    """The executor registry of one run (every node checked up front)."""

    def __init__(self, workflow: WorkflowDefinition, nodes: Nodes) -> None:
        ids = [str(node.id) for node in workflow.nodes]
        # A rule node runs its own rule set unless the test gives it an executor.
        rule_nodes = {str(node.id): node.rule_set for node in workflow.nodes if node.rule_set}
        self._shared: NodeExecutor | None = None
        self._by_id: dict[str, NodeExecutor] = {}
        if isinstance(nodes, Mapping):
            unknown = [key for key in nodes if key not in ids]
            missing = [node for node in ids if node not in nodes and node not in rule_nodes]
            problems = []
            if missing:
                problems.append("no executor for " + ", ".join(f"`{n}`" for n in missing))
            if unknown:
                problems.append(
                    "executors for unknown node(s) " + ", ".join(f"`{n}`" for n in unknown)
                )
            if problems:
                listed = ", ".join(f"`{n}`" for n in ids) or "none"
                raise BuilderError(
                    f"workflow `{workflow.id}`: {'; '.join(problems)} (workflow nodes: {listed})"
                )
            self._by_id = {key: _executor(key, spec) for key, spec in nodes.items()}
            for node_id, rule_set in rule_nodes.items():
                if node_id not in self._by_id and rule_set is not None:
                    self._by_id[node_id] = RuleNode(rule_set)
        else:
            self._shared = _executor("*", nodes)

    def executor_for(self, node: NodeDefinition) -> NodeExecutor:
        if self._shared is not None:
            return self._shared
        return self._by_id[str(node.id)]


def _check_timeout(timeout: float | None) -> float:
    if timeout is None:
        return math.inf
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
        raise ValueError(f"timeout must be a number of seconds > 0 (or None), got {timeout!r}")
    return float(timeout)


def _quote_ports(ports: Iterable[str]) -> str:
    return ", ".join(f"`{p}`" for p in ports)


def _timeout_error(
    supervisor: Supervisor, timeout: float, sink: RecordingMetadataSink | Any
) -> WorkflowTimeoutError:
    """Snapshot who is stuck where, before the run is cancelled."""
    workflow = supervisor.workflow
    pending: list[str] = []
    blocked: list[dict[str, Any]] = []
    descriptions: list[str] = []
    for node_id, status in supervisor.statuses.items():
        if status.state not in (NodeState.SCHEDULED, NodeState.RUNNING):
            continue
        pending.append(node_id)
        if status.state is NodeState.SCHEDULED or supervisor.edges is None:
            descriptions.append(f"`{node_id}` (not started)")
            continue
        ports = supervisor.edges[workflow.node(node_id).id]
        waiting_in = [str(p) for p in ports.inputs.waiting_ports()]
        waiting_out = [str(p) for p in ports.outputs.waiting_ports()]
        blocked.append(
            {"node_id": node_id, "waiting_inputs": waiting_in, "waiting_outputs": waiting_out}
        )
        where = []
        if waiting_in:
            where.append(f"receiving on {_quote_ports(waiting_in)}")
        if waiting_out:
            where.append(f"sending on {_quote_ports(waiting_out)}")
        descriptions.append(
            f"`{node_id}` ({' and '.join(where) or 'running, not waiting on a port'})"
        )
    edges = tuple(supervisor.edges.edge_depths()) if supervisor.edges is not None else ()
    full = [
        f"{e['source']} -> {e['target']} ({e['queued_count']}/{e['capacity']})"
        for e in edges
        if e.get("queued_count")
    ]
    message = (
        f"workflow `{workflow.id}` did not finish within {timeout:g}s; "
        f"pending nodes: {', '.join(descriptions) or 'none'}"
    )
    if full:
        message += f"; queued edges: {', '.join(full)}"
    message += (
        ". A node may be waiting for input that never comes, holding an output open, or "
        "sleeping without watching cancellation; pass a larger timeout= if the run is "
        "only slow."
    )
    return WorkflowTimeoutError(
        message,
        workflow_id=str(workflow.id),
        timeout=timeout,
        pending=tuple(pending),
        blocked=tuple(blocked),
        edges=edges,
        metadata=sink,
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
) -> WorkflowRun:
    """Run ``workflow`` to its end and return a :class:`WorkflowRun`.

    * ``workflow``: a :class:`~pureflow.workflow.WorkflowDefinition` or a document path;
    * ``nodes``: ``{node_id: executor}`` with exactly the workflow's nodes (a missing or
      unknown id raises :class:`~pureflow.testkit.BuilderError` listing them all; a rule
      node may be left out: it runs its rule set), or one executor for every node;
      ``async def`` functions are accepted as executors;
    * ``policy``: the engine's :class:`~pureflow.engine.RunPolicy` (default: fail-fast,
      no watchdog, capacity 1);
    * ``execution``: the execution id (attempt 1) or an ``ExecutionMetadata``;
    * ``timeout``: seconds before the run is cancelled and :class:`WorkflowTimeoutError`
      raised (``None``: no limit);
    * ``metadata``: the sink to record into (default: a new
      :class:`RecordingMetadataSink`), returned as ``run.metadata``.

    Node failures are data (``run.succeeded``, ``run.summary``); only setup problems,
    engine pre-flight errors (a rejected cycle) and the timeout raise.
    """
    definition = resolve_workflow(workflow)
    limit = _check_timeout(timeout)
    sink = metadata if metadata is not None else RecordingMetadataSink()
    meta = (
        execution
        if isinstance(execution, ExecutionMetadata)
        else ExecutionMetadata.first_attempt(execution)
    )
    supervisor = Supervisor(
        definition,
        _Executors(definition, nodes),
        meta,
        policy=policy or RunPolicy(),
        sink=sink,
        hook=None,
        backend=InProcessBackend(),
    )
    expired: list[WorkflowTimeoutError] = []
    summary: RunSummary | None = None
    async with anyio.create_task_group() as group:

        async def deadline() -> None:
            await anyio.sleep(limit)
            expired.append(_timeout_error(supervisor, limit, sink))
            group.cancel_scope.cancel()

        if limit != math.inf:
            group.start_soon(deadline)
        summary = await supervisor.run()
        group.cancel_scope.cancel()
    if expired:
        raise expired[0]
    assert summary is not None
    return WorkflowRun(definition, summary, sink)


def run_workflow_sync(
    workflow: WorkflowSource,
    nodes: Nodes,
    *,
    policy: RunPolicy | None = None,
    execution: str | ExecutionMetadata = "test-run",
    timeout: float | None = DEFAULT_TIMEOUT,
    metadata: RecordingMetadataSink | None = None,
    backend: Literal["asyncio", "trio"] = "asyncio",
) -> WorkflowRun:
    """:func:`run_workflow` from synchronous code, on a new event loop of ``backend``."""
    call = partial(
        run_workflow,
        workflow,
        nodes,
        policy=policy,
        execution=execution,
        timeout=timeout,
        metadata=metadata,
    )
    return anyio.run(call, backend=backend)


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
    ) -> WorkflowRun:
        return await run_workflow(
            workflow,
            nodes,
            policy=policy,
            execution=execution,
            timeout=self.timeout if timeout is None else timeout,
            metadata=self.metadata,
        )

    def __repr__(self) -> str:
        return f"BoundRunner({self.metadata!r}, timeout={self.timeout!r})"
