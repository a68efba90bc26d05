"""Where nodes run and how edges are built: the interface between the supervisor and a
backend.

The supervisor never builds channels or places nodes itself. It describes the run as a
:class:`RunPlan` (the workflow, its execution and policy, one :class:`NodeSpec` per node,
what the metadata sink keeps) and asks an :class:`ExecutionBackend` to *open* it. The
backend answers with a :class:`RunningRun`:

* it reports each node's life to the supervisor's :class:`RunListener` (started, failed
  before its outputs closed, finished with an outcome, and when the run deadlocked), on
  the supervisor's event loop;
* it serves cheap, cached counters (:class:`RunningEdges`) to the watchdog, the deadlock
  diagnostic, edge statistics and progress displays;
* it is cancelled cooperatively through the run's
  :class:`~pureflow.core.CancellationHandle` (every node's token: a node ends at its next
  port operation) and aborted with :meth:`RunningRun.abort` (every node's task is
  cancelled; each still records ``node_cancelled``).

:class:`InProcessBackend` (the default) builds the bounded in-memory channels of
:mod:`pureflow.core` and runs every node as a task on the caller's event loop: exactly
what a run did before backends existed, with no per-packet cost. Other backends (such as
``pureflow-ray``'s) are found by name through the ``pureflow.backends`` entry point group
(:func:`load_backend`), so nothing of theirs is imported until a run asks for one.
Everything in a plan but the node executors pickles; a backend that runs nodes in other
processes binds a :attr:`NodeSpec.from_document` node again there, and pickles the
executor of the others.
"""

from __future__ import annotations

import importlib.metadata
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol

import anyio
from anyio.abc import TaskGroup
from pureflow.core import (
    CancellationError,
    CancellationHandle,
    ExecutionError,
    ExecutionMetadata,
    LifecycleHook,
    MetadataSink,
    NodeContext,
    NodeExecutor,
    NodePorts,
    PureflowError,
    Wiring,
    wire_edges,
)
from pureflow.core.liveness import LivenessMonitor, NodeFlow
from pureflow.core.metadata import sink_records_data
from pureflow.core.metadata.sinks import sink_enabled
from pureflow.engine.policy import RunPolicy
from pureflow.engine.summary import ReportsUsage
from pureflow.runtime import NodeOutcome, run_node
from pureflow.types import NodeId
from pureflow.workflow import NodeDefinition, WorkflowDefinition

_log = logging.getLogger("pureflow.engine")

BACKEND_ENTRY_POINT_GROUP: Final = "pureflow.backends"
"""The entry point group execution backends are published under (name: what
``pureflow run --backend NAME`` takes; value: a class or factory taking keyword options)."""

# --- the plan --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NodeSpec:
    """One node of a plan: its definition and the code that runs it.

    ``from_document`` is True when the executor was bound from the document itself (the
    node's ``component``, or its rule set): a process elsewhere binds it again from the
    definition and ``base_dir`` instead of receiving the executor. The others (code given
    in Python, the demo executor) travel as the executor, which must then pickle.
    """

    node: NodeDefinition
    executor: NodeExecutor
    from_document: bool = False
    time_limit: float | None = None

    @property
    def node_id(self) -> str:
        return str(self.node.id)

    def portable(self) -> NodeSpec:
        """This spec as it travels to another process (the executor dropped when the
        node is bound again there)."""
        if not self.from_document:
            return self
        return NodeSpec(self.node, None, True, self.time_limit)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class MetadataPlan:
    """What the run's sink keeps, for backends that record elsewhere than in the driver:
    ``enabled`` (any record), ``data`` (per-packet records too) and ``statistics_seconds``
    (the period of ``edge_statistics`` records, written by the supervisor)."""

    enabled: bool = False
    data: bool = False
    statistics_seconds: float | None = None

    @classmethod
    def of(cls, sink: object | None) -> MetadataPlan:
        every = getattr(sink, "statistics_seconds", None)
        return cls(
            sink_enabled(sink), sink_records_data(sink), None if every is None else float(every)
        )


@dataclass(frozen=True, slots=True)
class RunPlan:
    """Everything a backend needs to run a workflow once (see the module doc)."""

    workflow: WorkflowDefinition
    execution: ExecutionMetadata
    policy: RunPolicy
    nodes: tuple[NodeSpec, ...]
    base_dir: Path | None = None
    metadata: MetadataPlan = MetadataPlan()
    apart: frozenset[str] = frozenset()
    """Nodes a backend should not put beside others (the copies of a replicated node)."""

    def spec(self, node_id: str) -> NodeSpec:
        for spec in self.nodes:
            if spec.node.id == node_id:
                return spec
        raise KeyError(node_id)


# --- what a running run offers ---------------------------------------------------------


class RunListener(Protocol):
    """What a backend tells the supervisor, always on the supervisor's event loop."""

    def node_started(self, node_id: str) -> None: ...

    def node_error(self, node_id: str, error: PureflowError) -> None:
        """A node failed; called before its outputs close when the backend can (in
        process), else as soon as the failure is known."""
        ...

    def node_finished(
        self, node_id: str, outcome: NodeOutcome, usage: Mapping[str, int] | None
    ) -> None:
        """A node ended (``usage``: what its executor reported, see
        :class:`~pureflow.engine.ReportsUsage`)."""
        ...

    def deadlocked(self) -> None:
        """Every live node is blocked on a port and nothing can move a packet."""
        ...

    def run_failed(self, error: PureflowError) -> None:
        """The run failed outside any node's code (a payload that cannot cross to another
        process, for example): it fails the run and, under any policy, cancels it."""
        ...


class RunningEdges(Protocol):
    """The edges of a running workflow, as the supervisor, the watchdog and progress
    displays see them. Every method answers from counters at hand (no I/O)."""

    def progress(self) -> int:
        """A counter that grows whenever a packet is queued or taken off an edge."""
        ...

    def messages_moved(self) -> int:
        """Packets queued onto edges so far (each fan-out copy counts once)."""
        ...

    def edge_depths(self) -> list[dict[str, object]]:
        """Each edge, in declaration order: ``edge_index``, ``source`` and ``target``
        (``node.port``), ``queued_count``, ``capacity``, ``moved`` (packets queued onto
        it so far) and ``received`` (packets taken off it so far). For diagnostics and
        progress displays."""
        ...

    def edge_statistics(self) -> list[dict[str, object]]:
        """Each edge's counters, in declaration order, with the keys of
        :data:`~pureflow.core.metadata.records.EDGE_STATISTICS_FIELDS` (``dropped``,
        ``send_waits`` and ``receive_waits`` besides what :meth:`edge_depths` has)."""
        ...

    def waiting_ports(self, node_id: str) -> tuple[list[str], list[str]]:
        """The input ports and the output ports ``node_id`` is waiting on now."""
        ...

    def close_all(self) -> None: ...


class RunningRun(Protocol):
    """An opened run (see the module doc)."""

    @property
    def edges(self) -> RunningEdges: ...

    async def wait(self) -> None:
        """Run every node to its end (each reported to the listener). Cancelling the
        calling task cancels every node, as :meth:`abort` does, and propagates."""
        ...

    def abort(self) -> None:
        """Cancel every node's task now (each still records ``node_cancelled``)."""
        ...


class ExecutionBackend(Protocol):
    """Opens a :class:`RunPlan` into a :class:`RunningRun`.

    ``open`` returns an async context manager: entering it builds the edges and places
    the nodes (nothing runs yet), :meth:`RunningRun.wait` runs them, leaving it releases
    whatever the run held (ports, processes, actors). ``sink`` receives the records the
    nodes and ports write, ``hook`` observes lifecycle events (both on the caller's loop
    for the in-process backend; a remote backend forwards them there), ``cancellation``
    is the run's handle, ``listener`` the supervisor.
    """

    def open(
        self,
        plan: RunPlan,
        *,
        sink: MetadataSink | None,
        hook: LifecycleHook | None,
        cancellation: CancellationHandle,
        listener: RunListener,
    ) -> AbstractAsyncContextManager[RunningRun]: ...


def usage_of(executor: object, node_id: str) -> dict[str, int] | None:
    """What ``executor`` reports for ``node_id`` (:class:`ReportsUsage`), if anything."""
    if isinstance(executor, ReportsUsage):
        usage = executor.usage_for(node_id)
        if usage:
            return dict(usage)
    return None


# --- in process ------------------------------------------------------------------------


class InProcessEdges:
    """:class:`RunningEdges` over the in-memory channels of :func:`wire_edges`."""

    __slots__ = ("_wiring",)

    def __init__(self, wiring: Wiring) -> None:
        self._wiring = wiring

    def __getitem__(self, node_id: NodeId) -> NodePorts:
        return self._wiring[node_id]

    def progress(self) -> int:
        return sum(edge.channel.pushed + edge.channel.popped for edge in self._wiring.edges)

    def messages_moved(self) -> int:
        return self._wiring.messages_moved()

    def edge_depths(self) -> list[dict[str, object]]:
        return [
            {
                "edge_index": edge.index,
                "source": str(edge.definition.source),
                "target": str(edge.definition.target),
                "queued_count": edge.queued_count,
                "capacity": edge.capacity,
                "moved": edge.channel.pushed,
                "received": edge.channel.popped,
            }
            for edge in self._wiring.edges
        ]

    def edge_statistics(self) -> list[dict[str, object]]:
        return [
            {
                "edge_index": edge.index,
                "source": str(edge.definition.source),
                "target": str(edge.definition.target),
                "capacity": edge.capacity,
                "queued_count": edge.queued_count,
                "moved": edge.channel.pushed,
                "received": edge.channel.popped,
                "dropped": edge.channel.dropped,
                "send_waits": edge.channel.send_waits,
                "receive_waits": edge.channel.recv_waits,
            }
            for edge in self._wiring.edges
        ]

    def waiting_ports(self, node_id: str) -> tuple[list[str], list[str]]:
        ports = self._wiring[NodeId(node_id)]
        return list(ports.inputs.waiting_ports()), list(ports.outputs.waiting_ports())

    def close_all(self) -> None:
        self._wiring.close_all()


class InProcessRun:
    """Every node a task in one task group on this event loop (:class:`RunningRun`)."""

    def __init__(
        self,
        plan: RunPlan,
        edges: InProcessEdges,
        *,
        sink: MetadataSink | None,
        hook: LifecycleHook | None,
        cancellation: CancellationHandle,
        listener: RunListener,
    ) -> None:
        self.plan = plan
        self._edges = edges
        self.sink = sink
        self.hook = hook
        self.cancellation = cancellation
        self.listener = listener
        self.liveness = LivenessMonitor()
        self._group: TaskGroup | None = None
        self._aborted = False

    @property
    def edges(self) -> InProcessEdges:
        return self._edges

    async def wait(self) -> None:
        plan = self.plan
        token = self.cancellation.token
        contexts = [
            NodeContext(
                plan.workflow.id,
                spec.node.id,
                plan.execution,
                cancellation_token=token,
                config=spec.node.config,
            )
            for spec in plan.nodes
        ]
        # Every node is live before any starts: one that has not started is not blocked.
        flows = [self.liveness.flow(spec.node.id) for spec in plan.nodes]
        if plan.policy.detect_deadlocks:
            self.liveness.on_deadlock = self.listener.deadlocked
        async with anyio.create_task_group() as group:
            self._group = group
            if self._aborted:
                group.cancel_scope.cancel()
            for spec, ctx, flow in zip(plan.nodes, contexts, flows, strict=True):
                group.start_soon(self._node, spec, ctx, flow)

    def abort(self) -> None:
        self._aborted = True
        if self._group is not None:
            self._group.cancel_scope.cancel()

    async def _node(self, spec: NodeSpec, ctx: NodeContext, flow: NodeFlow) -> None:
        node_id = spec.node_id
        ports = self._edges[spec.node.id]
        listener = self.listener
        listener.node_started(node_id)

        def on_error(error: PureflowError) -> None:
            listener.node_error(node_id, error)

        try:
            outcome = await run_node(
                spec.executor,
                ctx,
                ports.inputs,
                ports.outputs,
                sink=self.sink,
                hook=self.hook,
                time_limit=spec.time_limit,
                on_error=on_error,
                flow=flow,
            )
        except anyio.get_cancelled_exc_class():
            cancelled = NodeOutcome.of_error(CancellationError("cancelled by host"))
            listener.node_finished(node_id, cancelled, usage_of(spec.executor, node_id))
            raise
        listener.node_finished(node_id, outcome, usage_of(spec.executor, node_id))


class InProcessBackend:
    """Every node is a task on this event loop; edges are in-memory bounded channels.

    :meth:`wire` builds the edges (override it to decorate the ports, as tests do)."""

    name = "inprocess"

    def wire(self, workflow: WorkflowDefinition, default_capacity: int) -> InProcessEdges:
        return InProcessEdges(wire_edges(workflow, default_capacity))

    def open(
        self,
        plan: RunPlan,
        *,
        sink: MetadataSink | None,
        hook: LifecycleHook | None,
        cancellation: CancellationHandle,
        listener: RunListener,
    ) -> AbstractAsyncContextManager[InProcessRun]:
        return self._open(plan, sink=sink, hook=hook, cancellation=cancellation, listener=listener)

    @asynccontextmanager
    async def _open(
        self,
        plan: RunPlan,
        *,
        sink: MetadataSink | None,
        hook: LifecycleHook | None,
        cancellation: CancellationHandle,
        listener: RunListener,
    ) -> AsyncIterator[InProcessRun]:
        edges = self.wire(plan.workflow, plan.policy.default_capacity)
        try:
            yield InProcessRun(
                plan, edges, sink=sink, hook=hook, cancellation=cancellation, listener=listener
            )
        finally:
            try:
                edges.close_all()  # ports of nodes that never ran: their drops recorded
            except PureflowError:  # the sink failed: that error is already the run's
                _log.debug("closing the edges after the run failed", exc_info=True)

    def __repr__(self) -> str:
        return "InProcessBackend()"


# --- finding backends by name ----------------------------------------------------------


class BackendError(ExecutionError):
    """A backend could not open or keep a run (a node it cannot place or bind, a cluster
    it cannot reach); the message is one line naming the node, edge or address."""


class BackendNotFound(LookupError):
    """No execution backend of that name is installed (the message says what to install)."""


_INSTALL_HINTS: Final = {"ray": "pip install 'pureflow-cli[ray]' (or pureflow-ray)"}


def backend_names() -> list[str]:
    """Every backend name: ``inprocess`` and the installed entry points, sorted."""
    found = {
        entry.name for entry in importlib.metadata.entry_points(group=BACKEND_ENTRY_POINT_GROUP)
    }
    return sorted({"inprocess", *found})


def load_backend(name: str, **options: Any) -> ExecutionBackend:
    """The backend called ``name`` (``inprocess``, or one published under
    :data:`BACKEND_ENTRY_POINT_GROUP`), built with ``options``. Only that backend's
    module is imported. Raises :class:`BackendNotFound` naming what to install."""
    if name == "inprocess":
        if options:
            raise TypeError(f"the in-process backend takes no options, got {sorted(options)}")
        return InProcessBackend()
    for entry in importlib.metadata.entry_points(group=BACKEND_ENTRY_POINT_GROUP, name=name):
        factory = entry.load()
        backend: ExecutionBackend = factory(**options)
        return backend
    hint = _INSTALL_HINTS.get(name)
    known = ", ".join(backend_names())
    raise BackendNotFound(
        f"execution backend `{name}` is not installed"
        + (f"; install it with {hint}" if hint else "")
        + f" (installed: {known})"
    )


__all__ = [
    "BACKEND_ENTRY_POINT_GROUP",
    "BackendError",
    "BackendNotFound",
    "ExecutionBackend",
    "InProcessBackend",
    "InProcessEdges",
    "InProcessRun",
    "MetadataPlan",
    "NodeSpec",
    "RunListener",
    "RunPlan",
    "RunningEdges",
    "RunningRun",
    "backend_names",
    "load_backend",
]
