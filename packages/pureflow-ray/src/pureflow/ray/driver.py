"""The driver's side of a Ray run: :class:`RayRun` (a
:class:`~pureflow.engine.RunningRun`) over the hosts of a run.

* **Events.** One long poll per host (:meth:`NodeHost.events`) brings node starts,
  failures, outcomes and the records the run's sink keeps; they are handed to the
  supervisor (its :class:`~pureflow.engine.RunListener`) and the sink in the order each
  host produced them, on the driver's event loop.
* **Counters.** Every ``poll_seconds`` one snapshot per host is cached; the watchdog,
  progress displays, edge statistics and the deadlock diagnostic read the cache
  (:class:`RayEdges`), never the network.
* **Deadlock.** The run is deadlocked when, in two snapshot rounds in a row, every host
  reports all its live nodes blocked on ports, every cut edge has nothing in transit
  (packets shipped = packets arrived), and no counter of any host moved in between: the
  counting argument of distributed termination detection, so a batch on the wire is
  never mistaken for a deadlock.
* **Cancellation.** The run's handle is watched: its reason is sent to every host (each
  cancels its own handle, waking every port wait). :meth:`RayRun.abort` cancels every
  host's ``run`` call (Ray raises ``CancelledError`` inside it: each node records
  ``node_cancelled``).
* **Failure.** A host whose actor dies (``RayActorError``: the process was killed, its
  machine was lost) fails each of its unfinished nodes with ``the Ray worker running
  node `x` died``, written to the sink from here; under fail-fast that cancels the rest.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Sequence
from typing import Any

import anyio
from pureflow.core import (
    CancellationHandle,
    ExecutionError,
    LifecycleEvent,
    LifecycleHook,
    LifecycleRecord,
    MetadataSink,
    NodeContext,
)
from pureflow.core.metadata import JsonlMetadataSink
from pureflow.engine import RunListener, RunPlan
from pureflow.ray.host import HostEvent
from pureflow.runtime import NodeOutcome, OutcomeKind, record_node_failure

_log = logging.getLogger("pureflow.ray")
_SPOOL_CHUNK = 4 * 1024 * 1024


class RayEdges:
    """:class:`~pureflow.engine.RunningEdges` from the hosts' cached snapshots. A cut
    edge is its two halves plus what is in transit between them."""

    def __init__(self, plan: RunPlan, host_of: dict[str, int]) -> None:
        self._plan = plan
        self._host_of = host_of
        self.snapshots: list[dict[str, Any] | None] = []

    def _part(self, host: int, index: int) -> tuple[Any, ...] | None:
        snapshots = self.snapshots
        snap = snapshots[host] if host < len(snapshots) else None
        return None if snap is None else snap["edges"].get(index)

    def _counts(self, host: int, key: str, index: int) -> int:
        snapshots = self.snapshots
        snap = snapshots[host] if host < len(snapshots) else None
        return 0 if snap is None else int(snap[key].get(index, 0))

    def edge_statistics(self) -> list[dict[str, object]]:
        rows: list[dict[str, object]] = []
        default = self._plan.policy.default_capacity
        for index, edge in enumerate(self._plan.workflow.edges):
            source = self._host_of[str(edge.source.node_id)]
            target = self._host_of[str(edge.target.node_id)]
            capacity = edge.capacity.resolve(default)
            out = self._part(source, index) or ("", 0, capacity, 0, 0, 0, 0, 0)
            if source == target:
                queued, moved, received = out[1], out[3], out[4]
                dropped, send_waits, recv_waits = out[5], out[6], out[7]
            else:
                into = self._part(target, index) or ("", 0, capacity, 0, 0, 0, 0, 0)
                in_transit = self._counts(source, "shipped", index) - into[3]
                queued = out[1] + max(0, in_transit) + into[1]
                moved, received = out[3], into[4]
                dropped, send_waits, recv_waits = out[5] + into[5], out[6], into[7]
            rows.append(
                {
                    "edge_index": index,
                    "source": str(edge.source),
                    "target": str(edge.target),
                    "capacity": capacity,
                    "queued_count": queued,
                    "moved": moved,
                    "received": received,
                    "dropped": dropped,
                    "send_waits": send_waits,
                    "receive_waits": recv_waits,
                }
            )
        return rows

    def edge_depths(self) -> list[dict[str, object]]:
        keys = ("edge_index", "source", "target", "queued_count", "capacity", "moved", "received")
        return [{key: row[key] for key in keys} for row in self.edge_statistics()]

    def progress(self) -> int:
        return sum(int(snap["progress"]) for snap in self.snapshots if snap is not None)

    def messages_moved(self) -> int:
        return sum(int(row["moved"]) for row in self.edge_statistics())  # type: ignore[call-overload]

    def waiting_ports(self, node_id: str) -> tuple[list[str], list[str]]:
        host = self._host_of.get(node_id)
        snap = None if host is None or host >= len(self.snapshots) else self.snapshots[host]
        if snap is None:
            return [], []
        inputs, outputs = snap["waiting"].get(node_id, ([], []))
        return list(inputs), list(outputs)

    def close_all(self) -> None:
        """The hosts close their own ports."""

    def quiet_key(self) -> tuple[int, ...] | None:
        """The hosts' progress counters when the run looks deadlocked now (every live
        node blocked on a port, nothing in transit on any cut edge), else None."""
        snaps = self.snapshots
        if not snaps or any(snap is None for snap in snaps):
            return None
        live = 0
        for snap in snaps:
            assert snap is not None
            if snap["live"] != snap["blocked"]:
                return None
            live += snap["live"]
        if live == 0:
            return None
        for index, edge in enumerate(self._plan.workflow.edges):
            source = self._host_of[str(edge.source.node_id)]
            target = self._host_of[str(edge.target.node_id)]
            if source != target and self._counts(source, "shipped", index) != self._counts(
                target, "arrived", index
            ):
                return None
        return tuple(int(snap["progress"]) for snap in snaps if snap is not None)


class RayRun:
    """A run on Ray hosts (see the module doc)."""

    def __init__(
        self,
        plan: RunPlan,
        hosts: Sequence[Any],
        groups: Sequence[Sequence[str]],
        *,
        sink: MetadataSink | None,
        hook: LifecycleHook | None,
        cancellation: CancellationHandle,
        listener: RunListener,
        spool: JsonlMetadataSink | None,
        spool_names: Sequence[str | None],
        poll_seconds: float,
        peer_errors: tuple[type[BaseException], ...],
        cancelled_errors: tuple[type[BaseException], ...],
    ) -> None:
        self.plan = plan
        self.hosts = list(hosts)
        self.groups = [list(group) for group in groups]
        host_of = {node: index for index, group in enumerate(groups) for node in group}
        self._edges = RayEdges(plan, host_of)
        self._edges.snapshots = [None] * len(self.hosts)
        self.sink = sink
        self.hook = hook
        self.cancellation = cancellation
        self.listener = listener
        self._spool = spool
        self._spool_names = list(spool_names)
        self._poll = poll_seconds
        self._peer_errors = peer_errors
        self._cancelled_errors = cancelled_errors
        self._refs: list[Any] = []
        self._aborted = False
        self._lost: set[int] = set()
        self._finished: set[str] = set()
        self._deadlock_reported = False

    @property
    def edges(self) -> RayEdges:
        return self._edges

    # --- running -----------------------------------------------------------------------

    async def wait(self) -> None:
        self._refs = [host.run.remote() for host in self.hosts]
        if self._aborted:
            self.abort()
        try:
            async with anyio.create_task_group() as watchers:
                watchers.start_soon(self._forward_cancellation)
                watchers.start_soon(self._poll_snapshots)
                async with anyio.create_task_group() as group:
                    for index, ref in enumerate(self._refs):
                        group.start_soon(self._host, index, ref)
                watchers.cancel_scope.cancel()
        except anyio.get_cancelled_exc_class():
            self.abort()
            with anyio.CancelScope(shield=True), anyio.move_on_after(10):
                for index in range(len(self.hosts)):
                    await self._drain(index)
            raise
        await self._snapshot_all()

    def abort(self) -> None:
        import ray

        self._aborted = True
        for ref in self._refs:
            ray.cancel(ref)

    async def _host(self, index: int, ref: Any) -> None:
        async with anyio.create_task_group() as group:
            group.start_soon(self._drain, index)
            try:
                await ref
            except self._cancelled_errors:
                pass  # aborted: the host's nodes recorded their cancellation
            except self._peer_errors as error:
                self._host_lost(index, error)
                group.cancel_scope.cancel()

    async def _drain(self, index: int) -> None:
        """Hand this host's events over until its run is over."""
        if index in self._lost:
            return
        host = self.hosts[index]
        while True:
            try:
                events, done = await host.events.remote()
            except self._peer_errors as error:
                self._host_lost(index, error)
                return
            for event in events:
                self._dispatch(event)
            if done:
                return

    def _dispatch(self, event: HostEvent) -> None:
        listener = self.listener
        kind = event.kind
        if kind == "record":
            record = event.record
            assert record is not None
            self._record(record)
        elif kind == "started":
            assert event.node_id is not None
            listener.node_started(event.node_id)
        elif kind == "error":
            assert event.node_id is not None
            assert event.error is not None
            listener.node_error(event.node_id, event.error)
        elif kind == "finished":
            assert event.node_id is not None
            assert event.outcome is not None
            self._finished.add(event.node_id)
            outcome = NodeOutcome(OutcomeKind(event.outcome), event.error)
            listener.node_finished(event.node_id, outcome, event.usage)
        elif kind == "failed":
            assert event.error is not None
            listener.run_failed(event.error)

    def _record(self, record: Any) -> None:
        if self.sink is not None:
            try:
                self.sink.record(record)
            except Exception:
                _log.warning("metadata sink failed to record %s", record.kind, exc_info=True)
        if self.hook is not None and isinstance(record, LifecycleRecord):
            try:
                self.hook.observe(LifecycleEvent(record.kind, record.context))
            except Exception:
                _log.warning("lifecycle hook failed on %s", record.kind, exc_info=True)

    def _host_lost(self, index: int, error: BaseException) -> None:
        """Fail every unfinished node of a host whose actor died."""
        if index in self._lost:
            return
        self._lost.add(index)
        plan = self.plan
        why = str(error).strip().splitlines()
        detail = why[0] if why else type(error).__name__
        for node_id in self.groups[index]:
            if node_id in self._finished:
                continue
            self._finished.add(node_id)
            failure = ExecutionError(
                f"the Ray worker running node `{node_id}` died ({type(error).__name__}: "
                f"{detail[:200]})"
            )
            spec = plan.spec(node_id)
            ctx = NodeContext(
                plan.workflow.id,
                spec.node.id,
                plan.execution,
                cancellation_token=self.cancellation.token,
                config=spec.node.config,
            )
            self.listener.node_error(node_id, failure)
            record_node_failure(failure, ctx, self.sink, self.hook)
            self.listener.node_finished(node_id, NodeOutcome.of_error(failure), None)

    async def _forward_cancellation(self) -> None:
        request = await self.cancellation.token.wait()
        for index, host in enumerate(self.hosts):
            if index not in self._lost:
                host.cancel.remote(request.reason)

    async def _poll_snapshots(self) -> None:
        detect = self.plan.policy.detect_deadlocks
        previous: tuple[int, ...] | None = None
        while True:
            await anyio.sleep(self._poll)
            await self._snapshot_all()
            if not detect or self._deadlock_reported:
                continue
            key = self._edges.quiet_key()
            if key is not None and key == previous:
                self._deadlock_reported = True
                self.listener.deadlocked()
            previous = key

    async def _snapshot_all(self) -> None:
        async def one(index: int) -> None:
            if index in self._lost:
                self._edges.snapshots[index] = None
                return
            try:
                self._edges.snapshots[index] = await self.hosts[index].snapshot.remote()
            except self._peer_errors:
                self._edges.snapshots[index] = None

        async with anyio.create_task_group() as group:
            for index in range(len(self.hosts)):
                group.start_soon(one, index)

    # --- closing -----------------------------------------------------------------------

    async def close(self) -> None:
        """Merge the hosts' data-record spools into the run's JSONL file, then end the
        hosts."""
        import ray

        try:
            if self._spool is not None:
                for index, name in enumerate(self._spool_names):
                    if name is not None:
                        await self._merge_spool(index, name)
        finally:
            for host in self.hosts:
                ray.kill(host)

    async def _merge_spool(self, index: int, name: str) -> None:
        merger = _SpoolMerger(self._spool)  # type: ignore[arg-type]
        if index not in self._lost:
            host = self.hosts[index]
            try:
                while chunk := await host.spool.remote(merger.offset, _SPOOL_CHUNK):
                    merger.add(chunk)
                await host.discard_spool.remote()
            except self._peer_errors:
                self._lost.add(index)
            else:
                return
        # The host is gone: its spool is on its machine's disk; this machine may be it.
        path = os.path.join(tempfile.gettempdir(), name)
        if not await anyio.to_thread.run_sync(_merge_left_spool, path, merger):
            _log.warning(
                "the data records of host %d stay in %s on its machine (the host died)",
                index,
                path,
            )


def _merge_left_spool(path: str, merger: _SpoolMerger) -> bool:
    """Merge what a dead host left in its spool file on this machine; False without one."""
    try:
        file = open(path, "rb")  # noqa: SIM115  (closed below, then removed)
    except FileNotFoundError:
        return False
    with file:
        file.seek(merger.offset)
        while chunk := file.read(_SPOOL_CHUNK):
            merger.add(chunk)
    os.remove(path)
    return True


class _SpoolMerger:
    """Appends a spool's whole lines to the run's JSONL file (a torn last line, from a
    host that died while writing, is left out)."""

    def __init__(self, target: JsonlMetadataSink) -> None:
        self.target = target
        self.offset = 0
        self._rest = b""

    def add(self, chunk: bytes) -> None:
        self.offset += len(chunk)
        data = self._rest + chunk
        end = data.rfind(b"\n") + 1
        self._rest = data[end:]
        if end:
            text = data[:end].decode("utf-8")
            self.target.write_lines(text, text.count("\n"))
