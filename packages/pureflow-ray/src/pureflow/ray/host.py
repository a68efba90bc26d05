"""A host: one Ray async actor running a group of nodes, with the edges they touch.

Inside the actor everything is ordinary Pureflow: each node runs through
:func:`pureflow.runtime.run_node` on the actor's event loop, with its own ports over
:class:`~pureflow.core.edges.BoundedChannel` edges (:mod:`pureflow.ray.wiring`), its own
:class:`~pureflow.core.CancellationHandle` (one per host; the driver's cancellation is a
message to every host) and a liveness monitor for deadlock detection. Cut edges leave
and enter through :mod:`pureflow.ray.bridge`.

What the driver sees of a host: :meth:`NodeHost.events` (a long poll: node started,
failed, finished; the records the run's sink keeps; run-level failures) and
:meth:`NodeHost.snapshot` (counters for the watchdog, progress displays, edge
statistics and the distributed deadlock check). Every method is ``async``, so it runs
on the actor's event loop thread, where waking a port's waiter must happen.

The actor class is plain Python; :mod:`pureflow.ray.backend` makes it a Ray actor.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
from pureflow.core import (
    CancellationError,
    CancellationHandle,
    ExecutionError,
    ExecutionMetadata,
    MetadataRecord,
    NodeContext,
    PureflowError,
)
from pureflow.core.liveness import LivenessMonitor, NodeFlow
from pureflow.core.metadata import (
    JsonlMetadataSink,
    MetadataTier,
    PortInfo,
    PortRecorder,
    RecordRecorder,
)
from pureflow.engine import NodeSpec, bind_document
from pureflow.engine.backend import usage_of
from pureflow.ray.bridge import EgressPump, IngressBridge, PeerLost
from pureflow.ray.codec import PayloadNotSendable
from pureflow.ray.wiring import HostWiring, wire_host
from pureflow.runtime import NodeOutcome, run_node
from pureflow.workflow import WorkflowDefinition


@dataclass(frozen=True, slots=True)
class HostSpec:
    """What one host needs (pickled with cloudpickle; see :class:`NodeSpec`)."""

    index: int
    workflow: WorkflowDefinition
    execution: ExecutionMetadata
    nodes: tuple[NodeSpec, ...]
    base_dir: str | None
    default_capacity: int
    fail_fast: bool
    record_control: bool
    record_data: bool
    spool: str | None
    """The name of a JSONL file in the host machine's temporary folder for the data
    records (they are merged into the run's file at the end), else they are shipped."""
    batch: int
    window: int
    egress_peers: Mapping[int, int] = field(default_factory=dict)
    """Edge index -> the host index of its consumer, for every edge leaving this host."""


@dataclass(frozen=True, slots=True)
class HostEvent:
    """What a host tells the driver: ``kind`` is ``started``, ``error``, ``finished``,
    ``record`` or ``failed`` (a run-level error, such as an unsendable payload)."""

    kind: str
    node_id: str | None = None
    error: PureflowError | None = None
    outcome: str | None = None
    usage: dict[str, int] | None = None
    record: MetadataRecord | None = None


class _HostSink:
    """The run's sink as seen on a host: control records (and, without a spool, data
    records) go to the driver with the events; data records go to the spool file."""

    def __init__(self, host: NodeHost, spec: HostSpec) -> None:
        self._host = host
        self.enabled = spec.record_control or spec.record_data
        self.data_enabled = spec.record_data
        self.spool = JsonlMetadataSink(spool_path(spec.spool)) if spec.spool else None

    def record(self, record: MetadataRecord) -> None:
        if self.spool is not None and record.tier is not MetadataTier.CONTROL:
            self.spool.record(record)
        else:
            self._host.post(HostEvent("record", record=record))

    def port_recorder(self, info: PortInfo) -> PortRecorder | None:
        if not self.data_enabled:
            return None
        if self.spool is not None:
            return self.spool.port_recorder(info)
        return RecordRecorder(self, info)


class NodeHost:
    """One host of a run (see the module doc). Created with the spec pickled by
    cloudpickle, unpickled only after the workflow's folder is importable."""

    def __init__(self, base_dir: str | None, spec: bytes) -> None:
        if base_dir is not None and base_dir not in sys.path and os.path.isdir(base_dir):
            sys.path.append(base_dir)
        from ray import cloudpickle  # Ray vendors it

        self.spec: HostSpec = cloudpickle.loads(spec)
        self.cancellation = CancellationHandle()
        self.liveness = LivenessMonitor()
        self.wiring: HostWiring | None = None
        self.executors: dict[str, Any] = {}
        self.pumps: list[EgressPump] = []
        self.bridges: dict[int, IngressBridge] = {}
        self.finished = 0
        self._events: list[HostEvent] = []
        self._posted: anyio.Event | None = None
        self._done = False
        self.sink = _HostSink(self, self.spec)

    # --- set-up ------------------------------------------------------------------------

    async def setup(self) -> str | None:
        """Bind the nodes that are bound from the document here; a one-line problem
        naming the node when one cannot be bound on this machine."""
        spec = self.spec
        rebind = [s.node_id for s in spec.nodes if s.from_document]
        bound: dict[str, Any] = {}
        if rebind:
            try:
                found = bind_document(
                    spec.workflow,
                    base_dir=spec.base_dir,
                    only=rebind,
                    require_all=True,
                )
            except Exception as err:  # a BindingError names the node and the problem
                return str(err)
            bound = {node_id: found.executor_for(spec.workflow.node(node_id)) for node_id in rebind}
        for node in spec.nodes:
            self.executors[node.node_id] = bound.get(node.node_id, node.executor)
        self.wiring = wire_host(
            spec.workflow, [s.node_id for s in spec.nodes], spec.default_capacity
        )
        for edge in self.wiring.edges:
            if edge.kind == "ingress":
                self.bridges[edge.index] = IngressBridge(edge, self._cancel_now, self._reason)
        return None

    async def connect(self, peers: list[Any]) -> None:
        """The other hosts (by index), once every host exists."""
        import ray.exceptions

        assert self.wiring is not None
        errors = (ray.exceptions.RayActorError,)
        for edge in self.wiring.edges:
            if edge.kind != "egress":
                continue
            peer = peers[self.spec.egress_peers[edge.index]]
            self.pumps.append(
                EgressPump(
                    edge,
                    peer.push.remote,
                    peer.end.remote,
                    batch=self.spec.batch,
                    window=self.spec.window,
                    reason=self._reason,
                    cancel=self._cancel_now,
                    peer_errors=errors,
                )
            )

    # --- running -----------------------------------------------------------------------

    async def run(self) -> None:
        """Run every node of this host and ship its cut edges until they end. Ray's
        cancellation of this call cancels every node (each records ``node_cancelled``)."""
        spec = self.spec
        assert self.wiring is not None
        flows = [self.liveness.flow(node.node_id) for node in spec.nodes]
        try:
            async with anyio.create_task_group() as group:
                for pump in self.pumps:
                    group.start_soon(self._pump, pump)
                for node, flow in zip(spec.nodes, flows, strict=True):
                    group.start_soon(self._node, node, flow)
        finally:
            if self.sink.spool is not None:
                self.sink.spool.close()
            self._done = True
            self._wake()

    async def _pump(self, pump: EgressPump) -> None:
        try:
            await pump.run()
        except PeerLost as lost:
            consumer = lost.edge.definition.target.node_id
            reason = f"node execution failed: worker for node `{consumer}` died"
            self.cancellation.cancel(reason)
            lost.edge.channel.close_receiver()
        except PayloadNotSendable as err:
            error = ExecutionError(str(err))
            self.post(HostEvent("failed", error=error))
            self.cancellation.cancel(f"node execution failed: {error}")
            pump.edge.channel.close_receiver()

    async def _node(self, node: NodeSpec, flow: NodeFlow) -> None:
        spec = self.spec
        assert self.wiring is not None
        node_id = node.node_id
        ports = self.wiring.nodes[node.node.id]
        executor = self.executors[node_id]
        ctx = NodeContext(
            spec.workflow.id,
            node.node.id,
            spec.execution,
            cancellation_token=self.cancellation.token,
            config=node.node.config,
        )
        self.post(HostEvent("started", node_id))

        def on_error(error: PureflowError) -> None:
            if spec.fail_fast:
                self.cancellation.cancel(f"node execution failed: {error}")
            self.post(HostEvent("error", node_id, error))

        try:
            outcome = await run_node(
                executor,
                ctx,
                ports.inputs,
                ports.outputs,
                sink=self.sink,
                time_limit=node.time_limit,
                on_error=on_error,
                flow=flow,
            )
        except anyio.get_cancelled_exc_class():
            self._finished(node_id, NodeOutcome.of_error(CancellationError("cancelled by host")))
            raise
        self._finished(node_id, outcome)

    def _finished(self, node_id: str, outcome: NodeOutcome) -> None:
        self.finished += 1
        usage = usage_of(self.executors[node_id], node_id)
        self.post(HostEvent("finished", node_id, outcome.error, outcome.kind.value, usage))

    # --- what peers and the driver call ------------------------------------------------

    async def push(self, edge_index: int, seq: int, data: bytes) -> bool | str:
        return await self.bridges[edge_index].push(seq, data)

    async def end(self, edge_index: int, seq: int, reason: str | None) -> None:
        await self.bridges[edge_index].end(seq, reason)

    async def cancel(self, reason: str) -> None:
        self._cancel_now(reason)

    def _cancel_now(self, reason: str) -> None:
        self.cancellation.cancel(reason)

    def _reason(self) -> str | None:
        request = self.cancellation.request
        return None if request is None else request.reason

    def post(self, event: HostEvent) -> None:
        self._events.append(event)
        self._wake()

    def _wake(self) -> None:
        if self._posted is not None:
            self._posted.set()

    async def events(self) -> tuple[list[HostEvent], bool]:
        """Wait for events; return them, and whether the host's run is over and every
        event was handed out."""
        while not self._events and not self._done:
            self._posted = anyio.Event()
            await self._posted.wait()
        events, self._events = self._events, []
        return events, self._done and not self._events

    async def snapshot(self) -> dict[str, Any]:
        """Counters of every edge part, waiting ports, liveness (see the module doc)."""
        wiring = self.wiring
        edges: dict[int, tuple[Any, ...]] = {}
        waiting: dict[str, tuple[list[str], list[str]]] = {}
        progress = self.finished
        shipped: dict[int, int] = {}
        if wiring is not None:
            for edge in wiring.edges:
                c = edge.channel
                edges[edge.index] = (
                    edge.kind,
                    c.depth,
                    c.capacity,
                    c.pushed,
                    c.popped,
                    c.dropped,
                    c.send_waits,
                    c.recv_waits,
                )
                progress += c.pushed + c.popped
            for node_id, ports in wiring.nodes.items():
                ins, outs = ports.inputs.waiting_ports(), ports.outputs.waiting_ports()
                if ins or outs:
                    waiting[str(node_id)] = ([str(p) for p in ins], [str(p) for p in outs])
        for pump in self.pumps:
            shipped[pump.edge.index] = pump.shipped
            progress += pump.shipped
        arrived = {index: bridge.arrived for index, bridge in self.bridges.items()}
        progress += sum(arrived.values())
        monitor = self.liveness
        return {
            "edges": edges,
            "waiting": waiting,
            "shipped": shipped,
            "arrived": arrived,
            "live": monitor.live,
            "blocked": monitor.blocked,
            "progress": progress,
        }

    async def spool(self, offset: int, size: int) -> bytes:
        """Up to ``size`` bytes of the data-record spool from ``offset`` (once the run is
        over)."""
        if self.spec.spool is None:
            return b""
        return await anyio.to_thread.run_sync(_read_at, spool_path(self.spec.spool), offset, size)

    async def discard_spool(self) -> None:
        if self.spec.spool is not None:
            spool_path(self.spec.spool).unlink(missing_ok=True)


def spool_path(name: str) -> Path:
    """Where a host keeps the spool called ``name``: its machine's temporary folder."""
    return Path(tempfile.gettempdir()) / name


def _read_at(path: Path, offset: int, size: int) -> bytes:
    with path.open("rb") as file:
        file.seek(offset)
        return file.read(size)
