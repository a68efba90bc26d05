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
order. The output is sent port by port in port-id order, packets in the guest's order,
through the node's output ports (so backpressure, fan-out and records work as for any
node).

The guest runs in a worker thread (``anyio.to_thread``) so the event loop keeps serving
other nodes. When the node's cancellation token is cancelled, or the task running the
node is cancelled by anyio, the guest is interrupted at the next epoch tick (a few
milliseconds) and the node ends: with :class:`~pureflow.core.CancellationError` for the
token, with the backend's cancellation for anyio.

**The host boundary.** Every packet the guest returns is checked before any packet of
that invocation is sent: its port must be a declared output of the node, its control
payload valid JSON, its ids valid, its workflow id and execution (id and attempt) those
of the run. The host owns routes: a guest's route is replaced by the output port's
(source = this node and port). A violation fails the node with ``WASM-OUTPUT-001`` and
nothing of that invocation reaches a downstream edge.

**Errors.** Every :class:`~pureflow.wasm.errors.WasmError` becomes a core
:class:`~pureflow.core.ExecutionError` whose message starts with the wasm code
(``CDT-EXEC-001: node execution failed: WASM-TRAP-001: guest invoke failed: ...``),
except a cancellation, which becomes a :class:`~pureflow.core.CancellationError`.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
from collections.abc import Sequence
from typing import Final, Literal

import anyio
import anyio.lowlevel
from pureflow.core import (
    CancellationError,
    ExecutionError,
    ExecutionMetadata,
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
from pureflow.types import PortId
from pureflow.wasm.abi import (
    GuestBytes,
    GuestControl,
    GuestEndpoint,
    GuestExecution,
    GuestMessageMetadata,
    GuestPacket,
    GuestRoute,
    PortBatch,
    canonical_json,
)
from pureflow.wasm.component import Invocation, WasmComponent
from pureflow.wasm.errors import (
    WasmCancelledError,
    WasmError,
    WasmInputError,
    WasmOutputError,
)
from pureflow.wasm.wasi import guest_logger

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "WasmNode",
    "guest_packet_from_core",
]

DEFAULT_BATCH_SIZE: Final = 64
"""Packets per invocation in streaming mode."""
_CANCELLED: Final = "wasm guest invocation cancelled"

Mode = Literal["stream", "collect"]


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


class WasmNode:
    """Runs a :class:`WasmComponent` as a graph node (see the module docstring).

    ``batch_size`` (>= 1) bounds the packets per invocation in streaming mode; ``mode``
    is ``"stream"`` or ``"collect"``. One object may serve several nodes.
    """

    def __init__(
        self,
        component: WasmComponent,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        mode: Mode = "stream",
    ) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError("batch_size must be an integer >= 1")
        if mode not in ("stream", "collect"):
            raise ValueError(f"mode must be 'stream' or 'collect', not {mode!r}")
        self.component = component
        self.batch_size = batch_size
        self.mode: Mode = mode
        self.invocations = 0
        """How many times the guest was invoked (all nodes this object served)."""

    def __repr__(self) -> str:
        return (
            f"WasmNode({self.component.source!r}, mode={self.mode!r}, batch_size={self.batch_size})"
        )

    # ---------------------------------------------------------------------------------

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        """Run the node until its inputs end (see the module docstring).

        Raises core errors only: a port error becomes the ``PureflowError`` it stands for,
        and a port cancelled by the node's token a ``CancellationError`` with the token's
        reason.
        """
        try:
            await self._run(ctx, inputs, outputs)
        except PortError as err:
            request = ctx.cancellation_token.request
            if err.is_cancelled and request is not None:
                raise CancellationError(request.reason) from err
            raise err.to_pureflow_error() from err

    async def _run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        request = ctx.cancellation_token.request
        if request is not None:
            raise CancellationError(request.reason)
        logger = guest_logger(str(ctx.node_id))
        if self.mode == "collect":
            items: list[tuple[PortId, Packet]] = []
            while (item := await inputs.recv_any()) is not None:
                items.append(item)
            await self._round(ctx, outputs, items, logger)
            return
        invoked = False
        while True:
            batch = await self._next_batch(inputs)
            if batch is None:
                break
            await self._round(ctx, outputs, batch, logger)
            invoked = True
        if not invoked:
            await self._round(ctx, outputs, [], logger)

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

    async def _round(
        self,
        ctx: NodeContext,
        outputs: PortsOut,
        items: Sequence[tuple[PortId, Packet]],
        logger: logging.Logger,
    ) -> None:
        try:
            batches = _group(items)
        except WasmError as err:
            raise ExecutionError(err.coded_message) from err
        done = await self._invoke(ctx, batches, logger)
        self.invocations += 1
        result = done.outputs
        ctx.logger.debug(
            "wasm invocation: %d packets in, %d out, %d fuel, %.3f ms",
            len(items),
            sum(len(b.packets) for b in result),
            done.fuel_consumed,
            done.seconds * 1000,
        )
        try:
            sends = _to_core(ctx, outputs, result)
        except WasmError as err:
            raise ExecutionError(err.coded_message) from err
        for port_id, packets in sends:
            port = outputs.port(port_id)
            for packet in packets:
                await port.send(packet)

    async def _invoke(
        self, ctx: NodeContext, batches: list[PortBatch], logger: logging.Logger
    ) -> Invocation:
        token = ctx.cancellation_token
        request = token.request
        if request is not None:
            raise CancellationError(request.reason)
        stop = threading.Event()

        async def watch() -> None:
            try:
                await token.wait()
            finally:
                stop.set()  # token cancelled, anyio cancellation, or the call is over

        call = functools.partial(self.component.invoke_detailed, batches, stop, logger=logger)
        result: Invocation | None = None
        error: WasmError | None = None
        async with anyio.create_task_group() as tg:
            tg.start_soon(watch)
            try:
                result = await anyio.to_thread.run_sync(call)
            except WasmError as err:
                error = err
            finally:
                tg.cancel_scope.cancel()
        if isinstance(error, WasmCancelledError):
            # An anyio cancellation propagates as itself; a token cancellation is ours.
            await anyio.lowlevel.checkpoint_if_cancelled()
            request = token.request
            raise CancellationError(request.reason if request is not None else _CANCELLED)
        if error is not None:
            raise ExecutionError(error.coded_message) from error
        assert result is not None
        return result


def _group(items: Sequence[tuple[PortId, Packet]]) -> list[PortBatch]:
    """Packets grouped by input port, in port-id order, arrival order within a port."""
    by_port: dict[PortId, list[GuestPacket]] = {}
    for port_id, packet in items:
        by_port.setdefault(port_id, []).append(guest_packet_from_core(packet))
    return [PortBatch(port_id, tuple(by_port[port_id])) for port_id in sorted(by_port)]


def _core_payload(payload: GuestBytes | GuestControl) -> PacketPayload:
    if isinstance(payload, GuestBytes):
        return PacketPayload.bytes(payload.data)
    try:
        return PacketPayload.control(json.loads(payload.text))
    except (ValueError, TypeError, RecursionError) as err:
        raise WasmOutputError(f"guest returned invalid control payload: {err}") from None


def _to_core(
    ctx: NodeContext, outputs: PortsOut, batches: list[PortBatch]
) -> list[tuple[PortId, list[Packet]]]:
    """Check the guest's output against the node and the run; build the core packets.

    Raises :class:`WasmOutputError` on the first violation; nothing is sent then.
    """
    execution: ExecutionMetadata = ctx.execution
    workflow_id = ctx.workflow_id
    node_id = ctx.node_id
    sends: list[tuple[PortId, list[Packet]]] = []
    for batch in sorted(batches, key=lambda b: b.port_id):
        port_id = batch.port_id
        if port_id not in outputs:
            raise WasmOutputError(f"output port `{port_id}` is not declared")
        port = outputs.port(port_id)
        edges = port.edges
        route = edges[0].route if edges and edges[0].route is not None else None
        if route is None:
            here = MessageEndpoint(node_id, port_id)
            route = MessageRoute(here, here)
        packets: list[Packet] = []
        for packet in batch.packets:
            meta = packet.metadata
            if meta.workflow_id != workflow_id:
                raise WasmOutputError(
                    f"packet workflow `{meta.workflow_id}` does not match workflow `{workflow_id}`"
                )
            if (
                meta.execution.execution_id != execution.execution_id
                or meta.execution.attempt != int(execution.attempt)
            ):
                raise WasmOutputError(
                    f"packet execution `{meta.execution.execution_id}` attempt "
                    f"{meta.execution.attempt} does not match execution "
                    f"`{execution.execution_id}` attempt {int(execution.attempt)}"
                )
            packets.append(
                Packet(
                    MessageMetadata(meta.message_id, workflow_id, execution, route),
                    _core_payload(packet.payload),
                )
            )
        sends.append((port_id, packets))
    return sends
