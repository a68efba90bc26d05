"""``RayBackend``: a run's nodes on Ray async actors, node code unchanged.

    summary = run_sync("flows/orders.yaml", backend=RayBackend())              # local Ray
    summary = run_sync(flow, backend=RayBackend(address="auto", hosts=8))        # a cluster

or ``pureflow run FLOW --backend ray [--address ADDR|auto]``.

Opening a run:

1. **Ray.** Without ``address`` a local Ray is started on this machine (loopback only, no
   dashboard) and stopped when the run ends; with one (``auto``, ``host:port``,
   ``ray://...``) the driver joins that cluster and leaves it running. When Ray is already
   initialised in this process it is used as it is.
2. **Placement** (:mod:`pureflow.ray.placement`): nodes are grouped into ``hosts``
   actors (default: one per CPU of the cluster) cutting as few edges as possible; nodes
   with worker processes and replica copies get a host of their own; hosts go to the
   cluster's machines round-robin (``NodeAffinitySchedulingStrategy``).
3. **Hosts** (:mod:`pureflow.ray.host`) are created, bind their nodes (a node bound from
   the document is bound again on its host, from the workflow's folder, which must be
   importable there: the same path on every machine, or a Ray ``runtime_env``), and are
   connected to each other; a problem is a :class:`~pureflow.engine.BackendError` naming
   the node.

Metadata: lifecycle and error records reach the run's sink live, through the driver.
Per-packet records go to a spool file per host when the sink writes them to a JSONL file
as they are (then they are merged into that file when the run ends, after the control
records), else they travel with the events (an in-memory or sampling sink: slower).

Ray runs on asyncio: call :func:`pureflow.engine.run` from asyncio (``run_sync`` does).
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from pureflow.core import CancellationHandle, LifecycleHook, MetadataSink, PortInfo
from pureflow.core.metadata import (
    CompositeMetadataSink,
    JsonlMetadataSink,
    JsonlRecorder,
    TieredMetadataSink,
    sink_records_data,
)
from pureflow.engine import BackendError, RunListener, RunPlan
from pureflow.engine.policy import FailurePolicy
from pureflow.ray.driver import RayRun
from pureflow.ray.host import HostSpec, NodeHost
from pureflow.ray.placement import assign_machines, plan_hosts
from pureflow.runtime import ProcessMapExecutor
from pureflow.types import PortId
from pureflow.workflow import PortDirection

DEFAULT_BATCH = 1024
DEFAULT_WINDOW = 2


class RayBackend:
    """Runs nodes on Ray (see the module doc).

    ``address``: ``None`` (start a local Ray for the run), ``"auto"`` or a cluster
    address. ``hosts``: how many actors share the nodes (``None``: one per CPU of the
    cluster; ``"node"``: one per node). ``batch``: the most packets one call carries on
    a cut edge; ``window``: calls in flight per cut edge. ``num_cpus``: the CPUs each host
    reserves from Ray (0: hosts are placed by this backend, not by Ray's CPU
    accounting). ``init``: more keyword arguments for ``ray.init``.
    """

    name = "ray"

    def __init__(
        self,
        address: str | None = None,
        *,
        hosts: int | str | None = None,
        batch: int = DEFAULT_BATCH,
        window: int = DEFAULT_WINDOW,
        num_cpus: float = 0,
        poll_seconds: float = 0.05,
        init: Mapping[str, Any] | None = None,
    ) -> None:
        if isinstance(hosts, str) and hosts != "node":
            raise ValueError(f"hosts must be a number of hosts or 'node', got {hosts!r}")
        if isinstance(hosts, int) and hosts < 1:
            raise ValueError(f"hosts must be >= 1, got {hosts}")
        if batch < 1 or window < 1:
            raise ValueError("batch and window must be >= 1")
        self.address = address
        self.hosts = hosts
        self.batch = batch
        self.window = window
        self.num_cpus = num_cpus
        self.poll_seconds = poll_seconds
        self.init = dict(init or {})

    def __repr__(self) -> str:
        return f"RayBackend(address={self.address!r}, hosts={self.hosts!r})"

    def open(
        self,
        plan: RunPlan,
        *,
        sink: MetadataSink | None,
        hook: LifecycleHook | None,
        cancellation: CancellationHandle,
        listener: RunListener,
    ) -> AbstractAsyncContextManager[RayRun]:
        return self._open(plan, sink=sink, hook=hook, cancellation=cancellation, listener=listener)

    # --- Ray itself --------------------------------------------------------------------

    def _start_ray(self) -> bool:
        """Initialise Ray unless it is; True when this run started it (and stops it)."""
        if self.address is None and "ray" not in sys.modules:
            # A local Ray of our own listens on loopback only (read when ray is imported).
            os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        import ray

        if ray.is_initialized():
            return False
        options: dict[str, Any] = {
            "include_dashboard": False,
            "log_to_driver": True,
            "configure_logging": False,
        }
        options.update(self.init)
        try:
            ray.init(address=self.address, **options)
        except Exception as err:
            where = "a local Ray" if self.address is None else f"Ray at `{self.address}`"
            raise BackendError(f"could not start {where}: {_first_line(err)}") from None
        return self.address is None

    # --- opening a run -----------------------------------------------------------------

    @asynccontextmanager
    async def _open(
        self,
        plan: RunPlan,
        *,
        sink: MetadataSink | None,
        hook: LifecycleHook | None,
        cancellation: CancellationHandle,
        listener: RunListener,
    ) -> AsyncIterator[RayRun]:
        if not _on_asyncio():
            raise BackendError(
                "the Ray backend runs on asyncio: call pureflow.engine.run from asyncio "
                "(run_sync does)"
            )
        started = self._start_ray()
        import ray
        import ray.exceptions

        try:
            groups, machines = self._place(plan)
            spool_target = jsonl_data_target(sink)
            run_id = uuid.uuid4().hex[:12]
            spool_names = [
                f"pureflow-ray-{run_id}-host{index}.jsonl" if spool_target is not None else None
                for index in range(len(groups))
            ]
            specs = self._host_specs(plan, groups, sink, spool_names)
            remote = ray.remote(NodeHost)
            handles: list[Any] = []
            for spec, machine in zip(specs, machines, strict=True):
                options: dict[str, Any] = {
                    "num_cpus": self.num_cpus,
                    "max_restarts": 0,
                    "max_task_retries": 0,
                    "max_concurrency": 10_000,
                }
                if machine is not None:
                    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

                    options["scheduling_strategy"] = NodeAffinitySchedulingStrategy(
                        machine, soft=False
                    )
                payload = _pickled(spec)
                handles.append(remote.options(**options).remote(spec.base_dir, payload))
            try:
                _raise_first(await _gather([host.setup.remote() for host in handles]))
                await _gather([host.connect.remote(handles) for host in handles])
            except ray.exceptions.RayActorError as err:
                for host in handles:
                    ray.kill(host)
                raise BackendError(f"a Ray worker could not start: {_first_line(err)}") from None
            except BaseException:
                for host in handles:
                    ray.kill(host)
                raise
            run = RayRun(
                plan,
                handles,
                groups,
                sink=sink,
                hook=hook,
                cancellation=cancellation,
                listener=listener,
                spool=spool_target,
                spool_names=spool_names,
                poll_seconds=self.poll_seconds,
                peer_errors=(ray.exceptions.RayActorError,),
                cancelled_errors=(ray.exceptions.TaskCancelledError,),
            )
            try:
                yield run
            finally:
                await run.close()
        finally:
            if started:
                ray.shutdown()

    def _place(self, plan: RunPlan) -> tuple[list[list[str]], list[str | None]]:
        import ray

        alone = {
            spec.node_id
            for spec in plan.nodes
            if isinstance(spec.executor, ProcessMapExecutor)
            or hasattr(spec.executor, "__pureflow_process__")
            or spec.node_id in plan.apart
        }
        alive = [
            node
            for node in ray.nodes()  # type: ignore[no-untyped-call]
            if node.get("Alive") and node.get("Resources", {}).get("CPU", 0) > 0
        ]
        hosts: int | None
        if self.hosts == "node":
            hosts = None
        elif isinstance(self.hosts, int):
            hosts = self.hosts
        else:
            hosts = max(1, int(sum(node["Resources"]["CPU"] for node in alive)))
        groups = plan_hosts(plan.workflow, hosts, alone=alone)
        machines = assign_machines(len(groups), [str(node["NodeID"]) for node in alive])
        return groups, machines

    def _host_specs(
        self,
        plan: RunPlan,
        groups: list[list[str]],
        sink: MetadataSink | None,
        spool_names: list[str | None],
    ) -> list[HostSpec]:
        host_of = {node: index for index, group in enumerate(groups) for node in group}
        record_data = sink_records_data(sink)
        specs = []
        for index, group in enumerate(groups):
            members = set(group)
            egress = {
                edge_index: host_of[str(edge.target.node_id)]
                for edge_index, edge in enumerate(plan.workflow.edges)
                if str(edge.source.node_id) in members and str(edge.target.node_id) not in members
            }
            specs.append(
                HostSpec(
                    index=index,
                    workflow=plan.workflow,
                    execution=plan.execution,
                    nodes=tuple(spec.portable() for spec in plan.nodes if spec.node_id in members),
                    base_dir=None if plan.base_dir is None else str(plan.base_dir),
                    default_capacity=plan.policy.default_capacity,
                    fail_fast=plan.policy.failure is FailurePolicy.FAIL_FAST,
                    record_control=plan.metadata.enabled,
                    record_data=record_data,
                    spool=spool_names[index],
                    batch=self.batch,
                    window=self.window,
                    egress_peers=egress,
                )
            )
        return specs


def _pickled(spec: HostSpec) -> bytes:
    """The spec for its host; a node whose code cannot travel is named."""
    from ray import cloudpickle

    try:
        data: bytes = cloudpickle.dumps(spec)  # type: ignore[no-untyped-call]
    except Exception:
        for node in spec.nodes:
            try:
                cloudpickle.dumps(node)  # type: ignore[no-untyped-call]
            except Exception as err:
                raise BackendError(
                    f"node `{node.node_id}`: its code cannot be sent to a Ray worker "
                    f"({type(err).__name__}: {_first_line(err)}); give it as a module-level "
                    "function or class, or bind it from the document"
                ) from None
        raise
    return data


def _on_asyncio() -> bool:
    try:
        return asyncio.current_task() is not None
    except RuntimeError:
        return False


async def _gather(refs: list[Any]) -> list[Any]:
    return [await ref for ref in refs]


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


_PROBE = PortInfo(PortDirection.OUTPUT, PortId("probe"), None, 1, 1)


def jsonl_data_target(sink: object | None) -> JsonlMetadataSink | None:
    """The JSONL file that keeps every data record ``sink`` keeps, written as finished
    lines (then hosts spool their data records and the file gets them at the end), or
    None (sampled, stamped, in memory, several keepers: records travel to the driver)."""
    if isinstance(sink, JsonlMetadataSink):
        return sink if isinstance(sink.port_recorder(_PROBE), JsonlRecorder) else None
    if isinstance(sink, TieredMetadataSink):
        if sink.data_enabled and sink.policy.data_sample_rate == 1:
            return jsonl_data_target(sink.inner)
        return None
    if isinstance(sink, CompositeMetadataSink):
        keeping = [inner for inner in sink.sinks if sink_records_data(inner)]
        return jsonl_data_target(keeping[0]) if len(keeping) == 1 else None
    return None


def _raise_first(problems: list[str | None]) -> None:
    """The first host's setup problem (a node that cannot be bound there) as an error."""
    for problem in problems:
        if problem is not None:
            raise BackendError(problem)
