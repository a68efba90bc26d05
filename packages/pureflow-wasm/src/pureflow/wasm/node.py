"""The node adapter: a graph node that streams batches of packets through a component.

:class:`WasmNode` is a :class:`~pureflow.core.NodeExecutor`. It has two modes:

- ``"stream"`` (default): wait for a packet on any input, take whatever else is already
  queued up to ``batch_size`` packets, invoke the guest with that batch, send its output,
  repeat; at end of stream the last partial batch has already gone out. Memory stays
  bounded by ``batch_size`` and unbounded streams work. If the input ends without a
  single packet (or the node has no inputs), the guest is invoked once with no input, so
  a guest that generates or summarises still runs once, as in the original.
- ``"collect"``: the original's behaviour: drain every input to end of stream, invoke
  the guest exactly once, send everything.

Within an invocation the input is grouped by port in port-id order, packets in arrival
order. The output is sent port by port in port-id order, each port's packets as one
``send_many`` (so backpressure, fan-out and records work as for any node).

**Instances.** ``instance="reuse"`` (default) instantiates the guest once per node run and
calls the same instance for every batch; a fresh one is made only after a failure at the
WebAssembly level (trap, fuel, memory limit, cancellation, deadline) or when a call is
stopped by the inline fuel budget (below). ``instance="per-batch"`` gives every invocation a
fresh instance, as the original did: no guest state can pass from one batch to the next,
at the cost of one instantiation per batch (about 25 µs for a small guest, 1 to 2 ms with
its first call for a componentize-py or componentize-js guest). With reuse, a guest may
keep state between batches, but must not rely on it: the host replaces the instance
whenever it must.

**Where the guest runs** (``isolation``):

- ``"thread"`` (the default for a guest that cannot wait in a host call, see
  :func:`~pureflow.wasm.wasi.can_wait_in_host`): in this process. A call the node
  expects to be short (its recent calls took at most ``inline_budget`` seconds, 2 ms by
  default, for a batch this size) runs inline on the event loop, with no thread hop
  (inline calls yield to the loop once they added up to the budget); every other call
  runs in the run's guest thread (a daemon), so the event loop keeps serving other nodes.
  An inline call gets the fuel the guest burns in ``inline_stall`` seconds (10 ms by
  default; the node learns the guest's fuel per second from its calls), and at least four
  times what such a batch usually takes; one that uses it up is stopped and run again in
  the guest thread on a fresh instance with the whole fuel limit (such a guest has no
  effects a rerun could repeat), so a misjudged call holds the event loop for a bounded
  time, with no timer. Cancellation interrupts a guest running in the thread at the next
  epoch tick.
- ``"process"`` (the default for a guest that can wait in a host call): in a worker
  process (:class:`~pureflow.wasm.worker.GuestProcess`) that cancellation kills at once,
  wherever the guest is, including a sleep or a blocked read inside WASI. Each call pays
  two pipe transfers.

Choosing ``"thread"`` for a guest that can wait in a host call is allowed; cancellation
then reaches it only when the host call returns (the node itself ends at once; the
worker thread finishes in the background).

**The host boundary.** Every packet the guest returns is checked, in one pass over the
output, before any packet of that invocation is sent: its port must be a declared output
of the node, its control payload valid JSON, its ids valid, its workflow id and execution
(id and attempt) those of the run. The host owns routes: the output port stamps its own.
A violation fails the node with ``WASM-OUTPUT-001`` and nothing of that invocation
reaches a downstream edge.

**Errors.** Every :class:`~pureflow.wasm.errors.WasmError` becomes a core
:class:`~pureflow.core.ExecutionError` whose message starts with the wasm code
(``CDT-EXEC-001: node execution failed: WASM-TRAP-001: guest invoke failed: ...``),
except a cancellation, which becomes a :class:`~pureflow.core.CancellationError`.

**Usage.** :meth:`WasmNode.usage_for` reports, per node id, the fuel the guest used (all
calls and instantiations), the invocations and the instances made; the engine's run
summary reads it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

import anyio
import anyio.from_thread
import anyio.lowlevel
from pureflow.core import (
    CancellationError,
    CancellationToken,
    ExecutionError,
    MessageEndpoint,
    MessageMetadata,
    MessageRoute,
    NodeContext,
    Packet,
    PacketPayload,
    PayloadKind,
    PortError,
    PortsIn,
    PortsOut,
)
from pureflow.types import MessageId, NodeId, PortId, WorkflowId
from pureflow.wasm.abi import (
    GuestBytes,
    GuestControl,
    GuestEndpoint,
    GuestExecution,
    GuestMessageMetadata,
    GuestPacket,
    GuestRoute,
    PacketRow,
    RowBatch,
    canonical_json,
    checked_ident,
)
from pureflow.wasm.component import WasmComponent
from pureflow.wasm.errors import (
    WasmCancelledError,
    WasmError,
    WasmInputError,
    WasmOutputError,
)
from pureflow.wasm.instance import BudgetExceeded, Call, GuestInstance
from pureflow.wasm.wasi import guest_logger
from pureflow.wasm.worker import GuestProcess

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_INLINE_BUDGET",
    "DEFAULT_INLINE_STALL",
    "WasmNode",
    "guest_packet_from_core",
]

DEFAULT_BATCH_SIZE: Final = 64
"""Packets per invocation in streaming mode."""
DEFAULT_INLINE_BUDGET: Final = 0.002
"""Calls expected to take at most this many seconds run inline on the event loop."""
DEFAULT_INLINE_STALL: Final = 0.01
"""An inline call gets the fuel the guest burns in this many seconds (learned from its
calls); one that uses it up is stopped and rerun off the loop."""
_CANCELLED: Final = "wasm guest invocation cancelled"
_EWMA: Final = 0.25  # weight of the newest call in the per-packet cost estimate
_ENDPOINT_CACHE_LIMIT: Final = 4096  # validated (node, port) pairs remembered per run

Mode = Literal["stream", "collect"]
InstancePolicy = Literal["reuse", "per-batch"]
Isolation = Literal["thread", "process"]


def guest_packet_from_core(packet: Packet) -> GuestPacket:
    """A core packet as the WIT ``packet``: control payloads become compact JSON with
    sorted keys; a structured payload raises :class:`WasmInputError`."""
    payload = packet.payload
    guest_payload: GuestBytes | GuestControl
    if payload.kind is PayloadKind.BYTES:
        guest_payload = GuestBytes(payload.value)
    elif payload.kind is PayloadKind.CONTROL:
        guest_payload = GuestControl(canonical_json(payload.value))
    else:
        raise WasmInputError("payload is not supported by WIT ABI 0.1.0")
    route = packet.route
    source = route.source
    return GuestPacket(
        GuestMessageMetadata(
            packet.message_id,
            packet.workflow_id,
            GuestExecution(packet.execution.execution_id, int(packet.execution.attempt)),
            GuestRoute(
                None if source is None else GuestEndpoint(source.node_id, source.port_id),
                GuestEndpoint(route.target.node_id, route.target.port_id),
            ),
        ),
        guest_payload,
    )


class _TokenFlag:
    """A cancel flag for the epoch check: the node's token, or a stop set by the node."""

    __slots__ = ("_slot", "stop")

    def __init__(self, token: CancellationToken) -> None:
        self._slot = token
        self.stop = threading.Event()

    def is_set(self) -> bool:
        return self._slot.request is not None or self.stop.is_set()


@dataclass(slots=True)
class _Usage:
    fuel: int = 0
    invocations: int = 0
    instances: int = 0
    inline_calls: int = 0
    reruns: int = 0

    def to_dict(self) -> dict[str, int]:
        return {
            "fuel": self.fuel,
            "invocations": self.invocations,
            "instances": self.instances,
            "inline_calls": self.inline_calls,
            "reruns": self.reruns,
        }


class WasmNode:
    """Runs a :class:`WasmComponent` as a graph node (see the module docstring).

    ``batch_size`` (>= 1) bounds the packets per invocation in streaming mode; ``mode``
    is ``"stream"`` or ``"collect"``; ``instance`` is ``"reuse"`` or ``"per-batch"``;
    ``isolation`` is ``"thread"``, ``"process"`` or None (chosen from the guest:
    ``"process"`` when it can wait in a host call); ``inline_budget`` (seconds, 0 turns
    inline calls off) and ``inline_stall`` (seconds) tune inline calls. One object may serve
    several nodes, one run each.
    """

    def __init__(
        self,
        component: WasmComponent,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        mode: Mode = "stream",
        instance: InstancePolicy = "reuse",
        isolation: Isolation | None = None,
        inline_budget: float = DEFAULT_INLINE_BUDGET,
        inline_stall: float = DEFAULT_INLINE_STALL,
    ) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError("batch_size must be an integer >= 1")
        if mode not in ("stream", "collect"):
            raise ValueError(f"mode must be 'stream' or 'collect', not {mode!r}")
        if instance not in ("reuse", "per-batch"):
            raise ValueError(f"instance must be 'reuse' or 'per-batch', not {instance!r}")
        if isolation not in (None, "thread", "process"):
            raise ValueError(f"isolation must be 'thread' or 'process', not {isolation!r}")
        if not inline_budget >= 0:
            raise ValueError("inline_budget must be >= 0 seconds")
        if not inline_stall > 0:
            raise ValueError("inline_stall must be > 0 seconds")
        self.component = component
        self.batch_size = batch_size
        self.mode: Mode = mode
        self.instance: InstancePolicy = instance
        self.isolation: Isolation = isolation or (
            "process" if component.can_wait_in_host else "thread"
        )
        self.inline_budget = float(inline_budget)
        self.inline_stall = float(inline_stall)
        self.invocations = 0
        """How many times the guest was invoked (all nodes this object served)."""
        self._usage: dict[str, _Usage] = {}

    def __repr__(self) -> str:
        return (
            f"WasmNode({self.component.source!r}, mode={self.mode!r}, "
            f"batch_size={self.batch_size}, instance={self.instance!r}, "
            f"isolation={self.isolation!r})"
        )

    def usage_for(self, node_id: str) -> Mapping[str, int]:
        """What the guest used while running node ``node_id``: ``fuel`` (calls and
        instantiations), ``invocations``, ``instances``, ``inline_calls`` and ``reruns``
        (inline calls stopped at ``inline_stall`` and run again). Empty if it never ran."""
        usage = self._usage.get(str(node_id))
        return {} if usage is None else usage.to_dict()

    def describe(self) -> dict[str, Any]:
        """The node's limits and policies, as ``pureflow inspect`` shows them."""
        limits = self.component.limits
        grant = self.component.grant
        return {
            "fuel": limits.fuel,
            "memory_limit_bytes": limits.memory_limit_bytes,
            "deadline_seconds": limits.deadline,
            "batch_size": self.batch_size,
            "mode": self.mode,
            "instance": self.instance,
            "isolation": self.isolation,
            "wasi": {
                "imports": list(self.component.wasi_imports),
                "read_dirs": [] if grant is None else [str(p) for p in grant.read_dirs],
                "write_dirs": [] if grant is None else [str(p) for p in grant.write_dirs],
                "env": [] if grant is None else list(grant.env_vars),
            },
            "can_wait_in_host": self.component.can_wait_in_host,
        }

    # ---------------------------------------------------------------------------------

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        """Run the node until its inputs end (see the module docstring).

        Raises core errors only: a port error becomes the ``PureflowError`` it stands for,
        and a port cancelled by the node's token a ``CancellationError`` with the token's
        reason.
        """
        usage = self._usage.setdefault(str(ctx.node_id), _Usage())
        run = _NodeRun(self, ctx, outputs, usage)
        try:
            await self._run(run, ctx, inputs)
        except PortError as err:
            request = ctx.cancellation_token.request
            if err.is_cancelled and request is not None:
                raise CancellationError(request.reason) from err
            raise err.to_pureflow_error() from err
        finally:
            await run.aclose()

    async def _run(self, run: _NodeRun, ctx: NodeContext, inputs: PortsIn) -> None:
        request = ctx.cancellation_token.request
        if request is not None:
            raise CancellationError(request.reason)
        if self.mode == "collect":
            items: list[tuple[PortId, Packet]] = []
            while (item := await inputs.recv_any()) is not None:
                items.append(item)
            await run.round(items)
            return
        invoked = False
        ports = inputs.ports
        if len(ports) == 1:
            port = ports[0]
            port_id = port.port_id
            while batch := await port.recv_many(self.batch_size):
                await run.round_single(port_id, batch)
                invoked = True
        else:
            while (batch_items := await self._next_batch(inputs)) is not None:
                await run.round(batch_items)
                invoked = True
        if not invoked:
            await run.round([])

    async def _next_batch(self, inputs: PortsIn) -> list[tuple[PortId, Packet]] | None:
        """Wait for one packet, then take what is already queued, up to ``batch_size``."""
        first = await inputs.recv_any()
        if first is None:
            return None
        items = [first]
        limit = self.batch_size
        progress = True
        while progress and len(items) < limit:
            progress = False
            for port in inputs.ports:
                room = limit - len(items)
                if room <= 0:
                    break
                queued = port.queued_count()
                if queued:
                    got = await port.recv_many(min(room, queued))
                    items.extend((port.port_id, packet) for packet in got)
                    progress = progress or bool(got)
        return items


class _GuestThread:
    """A daemon thread that runs a node run's calls one after the other (starting a thread
    per call costs more than a small call). A call blocked in a host call holds it up, and
    nothing else: the run has moved on, and the thread ends after that call."""

    def __init__(self, name: str) -> None:
        self._jobs: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        threading.Thread(target=self._serve, name=name, daemon=True).start()

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            job()

    def submit(self, job: Callable[[], None]) -> None:
        self._jobs.put(job)

    def close(self) -> None:
        self._jobs.put(None)


class _NodeRun:
    """The state of one node run: the instance (or worker process), the cost estimate,
    the caches of the run's identities."""

    def __init__(self, node: WasmNode, ctx: NodeContext, outputs: PortsOut, usage: _Usage) -> None:
        self.node = node
        self.component = node.component
        self.ctx = ctx
        self.outputs = outputs
        self.usage = usage
        self.logger = guest_logger(str(ctx.node_id))
        self.flag = _TokenFlag(ctx.cancellation_token)
        self.instance: GuestInstance | None = None
        self.process: GuestProcess | None = None  # made at the first call
        self.thread: _GuestThread | None = None  # made at the first call off the loop
        self.per_packet: float | None = None  # seconds per packet, recent calls
        self.fuel_rate: float | None = None  # fuel the guest burns per second, recent calls
        self.fuel_per_packet: float | None = None  # fuel per packet, recent calls
        self.held = 0.0  # seconds inline calls held the loop since it last yielded
        self.inline_allowed = node.inline_budget > 0 and not node.component.can_wait_in_host
        self.workflow = ctx.workflow_id
        self.execution = ctx.execution
        self.execution_id = str(ctx.execution.execution_id)
        self.attempt = int(ctx.execution.attempt)
        self.routes: dict[int, tuple[MessageRoute, tuple[str, str] | None, tuple[str, str]]] = {}
        self.out_routes: dict[str, MessageRoute] = {}
        self.endpoints: set[tuple[str, str]] = set()

    async def aclose(self) -> None:
        if self.thread is not None:
            self.thread.close()
            self.thread = None
        if self.instance is not None:
            self.instance.close()
            self.instance = None
        if self.process is not None:
            await self.process.aclose()
            self.process = None

    # --- rows in -------------------------------------------------------------------

    def _rows(self, packets: Sequence[Packet]) -> list[PacketRow]:
        routes = self.routes
        rows: list[PacketRow] = []
        for packet in packets:
            route = packet.route
            known = routes.get(id(route))
            if known is None or known[0] is not route:
                source = route.source
                known = (
                    route,
                    None if source is None else (source.node_id, source.port_id),
                    (route.target.node_id, route.target.port_id),
                )
                routes[id(route)] = known
            payload = packet.payload
            kind = payload.kind
            if kind is PayloadKind.BYTES:
                wire: bytes | str = payload.value
            elif kind is PayloadKind.CONTROL:
                wire = canonical_json(payload.value)
            else:
                raise ExecutionError(
                    WasmInputError("payload is not supported by WIT ABI 0.1.0").coded_message
                )
            execution = packet.execution
            rows.append(
                (
                    packet.message_id,
                    packet.workflow_id,
                    execution.execution_id,
                    int(execution.attempt),
                    known[1],
                    known[2],
                    wire,
                )
            )
        return rows

    async def round_single(self, port_id: PortId, packets: Sequence[Packet]) -> None:
        await self._round([(port_id, self._rows(packets))], packets, len(packets))

    async def round(self, items: Sequence[tuple[PortId, Packet]]) -> None:
        by_port: dict[PortId, list[Packet]] = {}
        for port_id, packet in items:
            by_port.setdefault(port_id, []).append(packet)
        batches: list[RowBatch] = [
            (port_id, self._rows(by_port[port_id])) for port_id in sorted(by_port)
        ]
        await self._round(batches, [p for _port, p in items], len(items))

    async def _round(self, batches: list[RowBatch], inputs: Sequence[Packet], count: int) -> None:
        done = await self._invoke(batches, count)
        node = self.node
        node.invocations += 1
        self.usage.invocations += 1
        self.usage.fuel += done.fuel_consumed
        result = done.value
        if self.ctx.logger.isEnabledFor(logging.DEBUG):
            self.ctx.logger.debug(
                "wasm invocation: %d packets in, %d out, %d fuel, %.3f ms",
                count,
                sum(len(rows) for _port, rows in result),
                done.fuel_consumed,
                done.seconds * 1000,
            )
        try:
            sends = self._to_core(result, inputs)
        except WasmError as err:
            raise ExecutionError(err.coded_message) from err
        for port_id, packets in sends:
            await self.outputs.port(port_id).send_many(packets)

    # --- invoking ------------------------------------------------------------------

    async def _invoke(self, batches: list[RowBatch], count: int) -> Call[list[RowBatch]]:
        request = self.ctx.cancellation_token.request
        if request is not None:
            raise CancellationError(request.reason)
        try:
            if self.node.isolation == "process":
                return await self._in_process(batches)
            return await self._in_this_process(batches, count)
        except WasmCancelledError as err:
            # An anyio cancellation propagates as itself; a token cancellation is ours.
            await anyio.lowlevel.checkpoint_if_cancelled()
            request = self.ctx.cancellation_token.request
            raise CancellationError(request.reason if request is not None else _CANCELLED) from err
        except WasmError as err:
            raise ExecutionError(err.coded_message) from err

    async def _in_process(self, batches: list[RowBatch]) -> Call[list[RowBatch]]:
        """The call in the worker process; the node's token kills it like a cancel scope."""
        if self.process is None:
            self.process = GuestProcess(
                self.component, instance=self.node.instance, logger=self.logger
            )
        answer: tuple[Call[list[RowBatch]], int] | None = None
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._stop_on_token, tg.cancel_scope)
            answer = await self.process.call(batches)
            tg.cancel_scope.cancel()
        if answer is None:
            raise WasmCancelledError(_CANCELLED)
        done, made = answer
        self.usage.instances += made
        return done

    def _call(
        self, batches: list[RowBatch], fuel_budget: int | None, cancel: _TokenFlag | None
    ) -> Call[list[RowBatch]]:
        """One call on the current instance (made first if needed); runs in any thread.
        Its ``seconds`` include the instantiation, so the inline estimate sees it."""
        started = time.perf_counter()
        component = self.component
        fuel = 0
        instance = self.instance
        if instance is None or instance.broken or self.node.instance == "per-batch":
            if instance is not None:
                instance.close()
            self.instance = None
            instance = component.new_instance(logger=self.logger, cancel=cancel)
            self.instance = instance
            self.usage.instances += 1
            fuel = instance.instantiate_fuel
        try:
            done = component.invoke_rows(batches, instance, cancel, fuel_budget=fuel_budget)
        except BaseException:
            self.usage.fuel += fuel
            raise
        if fuel:
            done = Call(done.value, done.fuel_consumed + fuel, time.perf_counter() - started)
        return done

    async def _in_this_process(self, batches: list[RowBatch], count: int) -> Call[list[RowBatch]]:
        node = self.node
        estimate = self.per_packet
        reusable = self.instance is not None and not self.instance.broken
        # A guest that can wait in a host call never runs inline: a sleep would hold the
        # loop, and neither fuel nor the epoch can stop it there.
        inline = (
            estimate is not None
            and self.inline_allowed
            and (reusable or node.instance == "per-batch")
            and estimate * max(count, 1) <= node.inline_budget
        )
        done: Call[list[RowBatch]] | None = None
        if inline:
            try:
                # The token cannot change while the call holds the loop: no epoch needed.
                # The fuel the guest burns in inline_stall seconds, and never less than four
                # times what such a batch usually takes (the rate, measured over whole
                # calls, is low when a call's fixed costs dominate).
                fuel_budget = max(
                    1,
                    int((self.fuel_rate or 0.0) * node.inline_stall),
                    int(4 * (self.fuel_per_packet or 0.0) * max(count, 1)),
                )
                done = self._call(batches, fuel_budget, None)
                self.usage.inline_calls += 1
            except BudgetExceeded:
                self.usage.reruns += 1
                self.per_packet = None  # measure again, off the loop
            if done is not None:
                # Inline calls hold the loop: once they added up to the budget since the
                # last yield, let other tasks in (the ports yield too, but only every
                # CHECKPOINT_INTERVAL operations).
                self.held += done.seconds
                if self.held >= node.inline_budget:
                    self.held = 0.0
                    await anyio.lowlevel.checkpoint()
        if done is None:
            done = await self._in_thread(batches)
        self._learn(done, count)
        return done

    async def _in_thread(self, batches: list[RowBatch]) -> Call[list[RowBatch]]:
        """The call in the run's guest thread (a daemon). Cancellation (the node's token, or the
        caller's cancel scope) returns at once: the guest is told to stop at the next
        epoch tick, its instance is dropped, and a guest blocked in a host call finishes
        in the background without holding up the node or the process's exit."""
        token = anyio.lowlevel.current_token()
        finished = anyio.Event()
        box: list[tuple[bool, Any]] = []

        def work() -> None:
            try:
                box.append((True, self._call(batches, None, self.flag)))
            except BaseException as err:  # handed to the event loop below
                box.append((False, err))
            with contextlib.suppress(Exception):  # the run ended: nobody waits for this call
                anyio.from_thread.run_sync(finished.set, token=token)

        if self.thread is None:
            self.thread = _GuestThread(f"pureflow-wasm-{self.ctx.node_id}")
        self.thread.submit(work)
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._stop_on_token, tg.cancel_scope)
                await finished.wait()
                tg.cancel_scope.cancel()
        except BaseException:
            self._abandon()
            raise
        if not box:
            self._abandon()
            raise WasmCancelledError(_CANCELLED)
        ok, value = box[0]
        if ok:
            return value  # type: ignore[no-any-return]
        raise value

    async def _stop_on_token(self, scope: anyio.CancelScope) -> None:
        await self.ctx.cancellation_token.wait()
        scope.cancel()

    def _abandon(self) -> None:
        """Stop the running guest at its next epoch tick and never use its instance again."""
        self.flag.stop.set()
        instance, self.instance = self.instance, None
        if instance is not None:
            instance.broken = True

    def _learn(self, done: Call[list[RowBatch]], count: int) -> None:
        seconds = max(done.seconds, 1e-9)
        sample = seconds / max(count, 1)
        estimate = self.per_packet
        self.per_packet = sample if estimate is None else estimate + _EWMA * (sample - estimate)
        rate = done.fuel_consumed / seconds
        known = self.fuel_rate
        self.fuel_rate = rate if known is None else known + _EWMA * (rate - known)
        fuel = done.fuel_consumed / max(count, 1)
        usual = self.fuel_per_packet
        self.fuel_per_packet = fuel if usual is None else usual + _EWMA * (fuel - usual)

    # --- rows out ------------------------------------------------------------------

    def _route(self, port_id: str) -> MessageRoute:
        route = self.out_routes.get(port_id)
        if route is None:
            port = self.outputs.port(port_id)
            edges = port.edges
            route = edges[0].route if edges and edges[0].route is not None else None
            if route is None:
                here = MessageEndpoint(self.ctx.node_id, port_id)
                route = MessageRoute(here, here)
            self.out_routes[port_id] = route
        return route

    def _to_core(
        self, batches: list[RowBatch], inputs: Sequence[Packet]
    ) -> list[tuple[PortId, list[Packet]]]:
        """Check the guest's output against the node and the run, in one pass, and build
        the core packets. Raises :class:`WasmOutputError` on the first violation."""
        outputs = self.outputs
        workflow = self.workflow
        execution = self.execution
        execution_id = self.execution_id
        attempt = self.attempt
        endpoints = self.endpoints
        if len(endpoints) > _ENDPOINT_CACHE_LIMIT:
            endpoints.clear()
        # A guest usually answers packet for packet, in order: the k-th output packet's id
        # is the k-th input's, already a valid MessageId. Other ids are looked up, then
        # validated.
        n_inputs = len(inputs)
        k = 0
        known_ids: dict[str, MessageId] | None = None
        seen: set[str] = set()
        sends: list[tuple[PortId, list[Packet]]] = []
        as_bytes = PayloadKind.BYTES
        ordered = batches if len(batches) < 2 else sorted(batches, key=lambda item: item[0])
        for port, rows in ordered:
            if port in seen:
                raise WasmOutputError(f"guest returned duplicate port batch `{port}`")
            seen.add(port)
            port_id = checked_ident(PortId, port)
            if port_id not in outputs:
                raise WasmOutputError(f"output port `{port_id}` is not declared")
            if not rows:
                continue
            route = self._route(port_id)
            packets: list[Packet] = []
            append = packets.append
            for message_id, workflow_id, row_execution, row_attempt, source, target, data in rows:
                if workflow_id != workflow:
                    checked_ident(WorkflowId, workflow_id)  # an invalid id reads as such
                    raise WasmOutputError(
                        f"packet workflow `{workflow_id}` does not match workflow `{workflow}`"
                    )
                if row_execution != execution_id or row_attempt != attempt:
                    if row_attempt == 0:
                        raise WasmOutputError("guest returned zero execution attempt")
                    raise WasmOutputError(
                        f"packet execution `{row_execution}` attempt {row_attempt} does not "
                        f"match execution `{execution_id}` attempt {attempt}"
                    )
                if target not in endpoints:
                    checked_ident(NodeId, target[0])
                    checked_ident(PortId, target[1])
                    endpoints.add(target)
                if source is not None and source not in endpoints:
                    checked_ident(NodeId, source[0])
                    checked_ident(PortId, source[1])
                    endpoints.add(source)
                mid: MessageId | None = None
                if k < n_inputs:
                    mid = inputs[k].message_id
                    k += 1
                    if mid != message_id:
                        mid = None
                if mid is None:
                    if known_ids is None:
                        known_ids = {p.message_id: p.message_id for p in inputs}
                    mid = known_ids.get(message_id) or checked_ident(MessageId, message_id)
                if type(data) is bytes:
                    payload = PacketPayload(as_bytes, data)
                else:
                    payload = _control_payload(data)  # type: ignore[arg-type]
                append(Packet(MessageMetadata(mid, workflow, execution, route), payload))
            sends.append((port_id, packets))
        return sends


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON value")


def _control_payload(text: str) -> PacketPayload:
    try:
        return PacketPayload.control(json.loads(text, parse_constant=_reject_constant))
    except (ValueError, TypeError, RecursionError) as err:
        raise WasmOutputError(f"guest returned invalid control payload: {err}") from None
