"""Blocking and CPU-heavy nodes, run off the event loop.

Two shapes cover what cannot be an ``async`` function:

* :func:`in_thread` wraps a *blocking* node function ``def node(ctx, inputs, outputs)``.
  It runs in a worker thread and sees :class:`BlockingPortsIn` / :class:`BlockingPortsOut`,
  whose ``recv`` / ``send`` block the thread (not the event loop) and call back into the
  loop. Cancellation reaches it through the same port errors as an async node.
* :func:`in_process` wraps a *CPU-heavy*, picklable, module-level function
  ``def transform(value) -> value`` applied to every packet of one input port. Batches of
  payload values go to a worker process, results come back in order, and the node sends
  them with the input packet's message id. Two such nodes use two cores.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

import anyio
import anyio.from_thread
import anyio.to_process
import anyio.to_thread
from pureflow.core import (
    Batch,
    NodeContext,
    Packet,
    PacketPayload,
    PayloadKind,
    PortsIn,
    PortsOut,
)
from pureflow.core.liveness import current_flow
from pureflow.runtime.process_worker import apply_all
from pureflow.types import PortId


class BlockingPortsIn:
    """Blocking views of a node's input ports, for code running in a worker thread."""

    __slots__ = ("_inputs",)

    def __init__(self, inputs: PortsIn) -> None:
        self._inputs = inputs

    @property
    def port_ids(self) -> tuple[PortId, ...]:
        return self._inputs.port_ids

    def recv(self, port_id: str) -> Packet | None:
        """Block until a packet arrives (returned) or the stream ends (None)."""
        return anyio.from_thread.run(self._inputs.recv, port_id)

    def recv_many(self, port_id: str, max_items: int) -> Batch:
        """Up to ``max_items`` packets as a batch; an empty one means end of stream."""
        return anyio.from_thread.run(self._inputs.recv_many, port_id, max_items)

    def recv_any(self, port_ids: Iterable[str] | None = None) -> tuple[PortId, Packet] | None:
        """The next packet from any (or any of ``port_ids``), or None when they all ended."""
        return anyio.from_thread.run(self._inputs.recv_any, port_ids)

    def iter(self, port_id: str) -> Iterable[Packet]:
        """Iterate over a port's packets until end of stream."""
        while (packet := self.recv(port_id)) is not None:
            yield packet


class BlockingPortsOut:
    """Blocking views of a node's output ports, for code running in a worker thread."""

    __slots__ = ("_outputs",)

    def __init__(self, outputs: PortsOut) -> None:
        self._outputs = outputs

    @property
    def port_ids(self) -> tuple[PortId, ...]:
        return self._outputs.port_ids

    def packet(self, port_id: str, value: object, *, message_id: str | None = None) -> Packet:
        """A packet from this node's port (see :meth:`pureflow.core.OutputPort.packet`)."""
        return self._outputs.packet(port_id, value, message_id=message_id)

    def send(self, port_id: str, packet: Packet) -> None:
        """Block until every edge of the port has room, then send."""
        anyio.from_thread.run(self._outputs.send, port_id, packet)

    def send_many(self, port_id: str, packets: Batch | Iterable[Packet]) -> None:
        """Block until every packet is sent (see :meth:`pureflow.core.OutputPort.send_many`)."""
        batch = packets if isinstance(packets, Batch) else list(packets)
        anyio.from_thread.run(self._outputs.send_many, port_id, batch)

    def batch(self, port_id: str, values: Iterable[object]) -> Batch:
        """A batch from this node's port (see :meth:`pureflow.core.OutputPort.batch`)."""
        return self._outputs.batch(port_id, values)


BlockingNodeFunction = Callable[[NodeContext, BlockingPortsIn, BlockingPortsOut], None]


class ThreadNodeExecutor:
    """Runs a blocking node function in a worker thread (see :func:`in_thread`).

    On cancellation the function's next port call raises the port's ``Cancelled`` error;
    the executor waits for the thread to return before the node ends, so nothing runs on
    after the node's terminal record.
    """

    __slots__ = ("function",)

    def __init__(self, function: BlockingNodeFunction) -> None:
        self.function = function

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        call = partial(
            anyio.to_thread.run_sync,
            self.function,
            ctx,
            BlockingPortsIn(inputs),
            BlockingPortsOut(outputs),
        )
        flow = current_flow()
        if flow is None:
            await call()
            return
        # The node's code runs in the thread: the port calls it makes on the loop act for
        # the node (a thread waiting on a port is blocked; one computing is not).
        with flow.delegate():
            await call()

    def __repr__(self) -> str:
        return f"ThreadNodeExecutor({getattr(self.function, '__qualname__', self.function)!r})"


def in_thread(function: BlockingNodeFunction) -> ThreadNodeExecutor:
    """Decorator: run a blocking ``def node(ctx, inputs, outputs)`` in a worker thread."""
    return ThreadNodeExecutor(function)


def _rebuild(kind: PayloadKind, value: Any) -> PacketPayload:
    if kind is PayloadKind.BYTES:
        return PacketPayload.bytes(value)
    if kind is PayloadKind.CONTROL:
        return PacketPayload.control(value)
    return PacketPayload.structured(value)


class ProcessMapExecutor:
    """Applies a CPU-heavy function to every packet of ``input_port`` in a worker process.

    ``function`` must be picklable (defined at module level). Each batch of up to
    ``batch_size`` payload values crosses to the process pool once; results are sent on
    ``output_port`` in input order, each keeping its input packet's message id, with the
    same payload kind as the input (bytes in, bytes out; control in, control out).

    Cancellation: when the run is cancelled, a batch already in a worker gets the run's
    grace period (``RunPolicy.grace_seconds``) to finish; then the node's task is
    cancelled, which kills the worker process, and the node ends as cancelled. Host
    cancellation (a second Ctrl-C, an abort) kills it at once. A worker
    never outlives the run's process, even one killed with ``kill -9``, and leaves Ctrl-C
    to the run (see :mod:`pureflow.runtime.process_worker`).
    """

    __slots__ = ("batch_size", "function", "input_port", "output_port")

    def __init__(
        self,
        function: Callable[[Any], Any],
        *,
        input_port: str = "in",
        output_port: str = "out",
        batch_size: int = 256,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        self.function = function
        self.input_port = input_port
        self.output_port = output_port
        self.batch_size = batch_size

    async def run(
        self,
        ctx: NodeContext,  # noqa: ARG002 - the NodeExecutor signature
        inputs: PortsIn,
        outputs: PortsOut,
    ) -> None:
        source = inputs.port(self.input_port)
        sink = outputs.port(self.output_port)
        while batch := await source.recv_many(self.batch_size):
            kinds = [packet.payload.kind for packet in batch]
            values = [packet.payload.value for packet in batch]
            results = await self._in_worker(values)
            await sink.send_many(
                sink.packet(_rebuild(kind, result), message_id=packet.message_id)
                for packet, kind, result in zip(batch, kinds, results, strict=True)
            )

    async def _in_worker(self, values: list[Any]) -> list[Any]:
        """One batch in a worker process; cancelling the calling task kills the worker
        (the run does so ``grace_seconds`` after cancellation is requested)."""
        return await anyio.to_process.run_sync(
            apply_all, self.function, values, os.getpid(), cancellable=True
        )

    def __repr__(self) -> str:
        return f"ProcessMapExecutor({getattr(self.function, '__qualname__', self.function)!r})"


def in_process(
    function: Callable[[Any], Any] | None = None,
    *,
    input_port: str = "in",
    output_port: str = "out",
    batch_size: int = 256,
) -> Any:
    """Decorator: apply a CPU-heavy ``def transform(value) -> value`` in worker processes.

    Use bare (``@in_process``) or with options (``@in_process(batch_size=64)``). The
    decorated name stays the plain function (so it still pickles); pass it to
    :class:`ProcessMapExecutor` or bind it with ``component: python:module:name``.
    """

    def mark(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
        fn.__pureflow_process__ = {  # type: ignore[attr-defined]
            "input_port": input_port,
            "output_port": output_port,
            "batch_size": batch_size,
        }
        return fn

    return mark(function) if function is not None else mark


def process_executor_for(function: Callable[[Any], Any]) -> ProcessMapExecutor:
    """The executor for a function marked with :func:`in_process`."""
    options = getattr(function, "__pureflow_process__", {})
    return ProcessMapExecutor(function, **options)
