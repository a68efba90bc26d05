"""Scripted node doubles, packet helpers and :func:`drain_port`.

Every double is a :class:`~pureflow.core.NodeExecutor` that ends properly: it returns
once its work is done (or raises), and the runtime then closes its ports, so downstream
nodes always see end of stream. None of them holds a port open after returning, and
sources address packets through their edges like any node (the original's test source
addressed packets to itself).

* :class:`ScriptedSource`: sends scripted items per output port, optionally with a delay
  between items and a failure after N items;
* :class:`CollectingSink`: drains every input (fairly, across ports) and keeps the packets;
* :class:`PassthroughNode` / :class:`SlowNode`: forward inputs to outputs (after a delay
  per packet, for :class:`SlowNode`);
* :class:`FailingNode`: raises at once (or after draining its inputs);
* :class:`RecordingNode`: records who ran it with which ports, then drains and returns.

Waiting in these doubles (delays) honours the workflow's cooperative cancellation: a
fail-fast run does not wait for a sleeping double. One double may serve several nodes;
what it records says which node saw what.

Item conversion (:func:`as_payload`): ``bytes``/``bytearray``/``memoryview`` and ``str``
become byte payloads (``str`` as UTF-8), ``dict``/``list``/``int``/``float``/``bool``/
``None`` become control (JSON) payloads, a :class:`~pureflow.core.PacketPayload` is used
as is, anything else becomes a structured payload. Wrap a value in
``PacketPayload.structured(...)`` to send a dict as a Python object instead.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

import anyio
from pureflow.core import (
    CancellationError,
    ExecutionError,
    ExecutionMetadata,
    MessageEndpoint,
    MessageRoute,
    NodeContext,
    Packet,
    PacketPayload,
    PayloadKind,
    PortsIn,
    PortsOut,
)
from pureflow.types import NodeId, PortId

Item: TypeAlias = Any
"""Something a scripted source can send; see :func:`as_payload`."""


def as_payload(item: Item) -> PacketPayload:
    """Turn a scripted item into a payload (rules in the module docstring)."""
    if isinstance(item, PacketPayload):
        return item
    if isinstance(item, bytes | bytearray | memoryview | str):
        return PacketPayload.bytes(item)
    if item is None or isinstance(item, dict | list | bool | int | float):
        return PacketPayload.control(item)
    return PacketPayload.structured(item)


def payload_value(packet: Packet) -> Any:
    """The Python value a packet carries: bytes, the JSON value or the object."""
    return packet.payload.value


def packet_text(packet: Packet) -> str:
    """A byte payload decoded as UTF-8; ``TypeError`` for another payload kind."""
    payload = packet.payload
    if payload.kind is not PayloadKind.BYTES:
        raise TypeError(
            f"packet `{packet.message_id}` carries a {payload.kind.value} payload, not bytes"
        )
    data: bytes = payload.value
    return data.decode("utf-8")


def make_packet(
    payload: Item = b"test",
    *,
    message_id: str = "test-msg-1",
    workflow: str = "test-flow",
    execution: str | ExecutionMetadata = "test-run",
    source: tuple[str, str] | None = ("source", "out"),
    target: tuple[str, str] = ("sink", "in"),
) -> Packet:
    """A standalone packet: message ``test-msg-1`` of workflow ``test-flow``, execution
    ``test-run`` attempt 1, routed ``source.out -> sink.in`` (``source=None``: injected
    from outside the graph). ``payload`` follows :func:`as_payload`."""
    meta = (
        execution
        if isinstance(execution, ExecutionMetadata)
        else ExecutionMetadata.first_attempt(execution)
    )
    route = MessageRoute(
        None if source is None else MessageEndpoint(*source), MessageEndpoint(*target)
    )
    return Packet.create(message_id, workflow, meta, route, as_payload(payload))


test_packet = make_packet
"""The original's name for :func:`make_packet`."""
make_packet.__test__ = False  # type: ignore[attr-defined]  # pytest must not collect `test_packet`


async def drain_port(inputs: PortsIn, port: str) -> list[Packet]:
    """Every packet of input ``port`` in receive order, until end of stream.

    A declared port without edges gives ``[]`` at once. An undeclared port raises
    ``PortRecvError`` ``UNKNOWN_PORT``; cancellation of the node's token raises
    ``PortRecvError`` ``CANCELLED`` (the packets received so far are lost with it).
    """
    receiver = inputs.port(port)
    return [packet async for packet in receiver]


async def pause(ctx: NodeContext, seconds: float) -> None:
    """Sleep ``seconds``, but raise :class:`~pureflow.core.CancellationError` as soon as
    the run's cancellation token is cancelled (before or during the sleep)."""
    request = ctx.cancellation_token.request
    if request is None and seconds > 0:
        with anyio.move_on_after(seconds):
            request = await ctx.cancellation_token.wait()
    if request is not None:
        raise CancellationError(request.reason)


def _check_delay(delay: float) -> float:
    if isinstance(delay, bool) or not isinstance(delay, int | float):
        raise TypeError(f"delay must be a number of seconds, got {delay!r}")
    if delay < 0 or math.isnan(delay):
        raise ValueError(f"delay must be >= 0 seconds, got {delay!r}")
    return float(delay)


# --- sources --------------------------------------------------------------------------


class ScriptedSource:
    """Sends scripted items, port by port, then returns (so its outputs end).

    ``ScriptedSource({"out": [b"a", "b", {"n": 1}]})``. Ports are served in the order
    of the mapping, items in list order; each packet gets message id
    ``{node}-{port}-{n}`` and its edge's route. Output ports the script does not name send
    nothing. Options:

    * ``delay``: seconds to wait before every item after the first (cancellable);
    * ``fail_after``: after sending that many items in total, raise ``error`` (default
      ``ExecutionError("scripted source failed after N items")``); ``0`` fails at once;
    * ``drain_inputs``: a source with inputs first drains and discards them (the
      original's behaviour; a trigger), unless this is False.

    A script naming a port the node does not declare fails the node with a message that
    lists the declared outputs. ``sent`` records ``(node, port, packet)`` as sent.
    """

    def __init__(
        self,
        payloads: Mapping[str, Iterable[Item]] | None = None,
        *,
        delay: float = 0.0,
        fail_after: int | None = None,
        error: BaseException | str | None = None,
        drain_inputs: bool = True,
    ) -> None:
        self._script: dict[str, list[Item]] = {}
        for port, items in (payloads or {}).items():
            self.with_port_payloads(port, items)
        self.delay = _check_delay(delay)
        if fail_after is not None and (isinstance(fail_after, bool) or fail_after < 0):
            raise ValueError(f"fail_after must be an integer >= 0, got {fail_after!r}")
        self.fail_after = fail_after
        self.error = error
        self.drain_inputs = drain_inputs
        self.sent: list[tuple[NodeId, PortId, Packet]] = []

    def with_port_payloads(self, port: str, items: Iterable[Item]) -> ScriptedSource:
        """Replace one port's script (the original's builder); returns ``self``."""
        if isinstance(items, str | bytes):
            raise TypeError(
                f"payloads for port `{port}` must be a list of items, not a single "
                f"{type(items).__name__} (wrap it: [{items!r}])"
            )
        self._script[str(PortId(port))] = list(items)
        return self

    @property
    def script(self) -> dict[str, list[Item]]:
        """A copy of the script: items by port."""
        return {port: list(items) for port, items in self._script.items()}

    def _failure(self, count: int) -> BaseException:
        error = self.error
        if isinstance(error, BaseException):
            return error
        return ExecutionError(error or f"scripted source failed after {count} items")

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        unknown = [port for port in self._script if port not in outputs]
        if unknown:
            declared = ", ".join(f"`{p}`" for p in outputs.port_ids) or "none"
            raise ExecutionError(
                f"ScriptedSource on node `{ctx.node_id}` has items for undeclared output "
                f"port(s) {', '.join(f'`{p}`' for p in unknown)} (declared outputs: {declared})"
            )
        if self.drain_inputs and not inputs.is_empty():
            while await inputs.recv_any() is not None:
                pass
        count = 0
        for port_name, items in self._script.items():
            port = outputs.port(port_name)
            for item in items:
                if self.fail_after is not None and count >= self.fail_after:
                    raise self._failure(count)
                if count and self.delay:
                    await pause(ctx, self.delay)
                packet = port.packet(as_payload(item))
                await port.send(packet)
                self.sent.append((ctx.node_id, port.port_id, packet))
                count += 1
        if self.fail_after is not None and count >= self.fail_after:
            raise self._failure(count)

    def __repr__(self) -> str:
        counts = {port: len(items) for port, items in self._script.items()}
        return f"ScriptedSource({counts!r})"


# --- sinks ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Received:
    """One packet a :class:`CollectingSink` received, with where it arrived."""

    node_id: NodeId
    port_id: PortId
    packet: Packet


class CollectingSink:
    """Drains every input port until all have ended, keeping every packet.

    Ports are drained together (``recv_any``, fair across ports), so a producer that
    fills one port before another never deadlocks against the sink. Outputs are left
    alone (the runtime ends them when the sink returns). Queries, in arrival order:
    :meth:`packets`, :meth:`payloads`, :meth:`texts`, :attr:`count`, each optionally
    limited to one port and one node. ``finished`` lists the nodes that saw end of stream
    on every input.
    """

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.finished: list[NodeId] = []

    async def run(
        self,
        ctx: NodeContext,
        inputs: PortsIn,
        outputs: PortsOut,  # noqa: ARG002 - the NodeExecutor signature
    ) -> None:
        while True:
            item = await inputs.recv_any()
            if item is None:
                break
            port, packet = item
            self.received.append(Received(ctx.node_id, port, packet))
        self.finished.append(ctx.node_id)

    def packets(self, port: str | None = None, *, node: str | None = None) -> list[Packet]:
        """Packets received (on ``port``, by ``node``), in arrival order."""
        return [
            entry.packet
            for entry in self.received
            if (port is None or entry.port_id == port) and (node is None or entry.node_id == node)
        ]

    def payloads(self, port: str | None = None, *, node: str | None = None) -> list[Any]:
        """Payload values (bytes, JSON values or objects), in arrival order."""
        return [payload_value(packet) for packet in self.packets(port, node=node)]

    def texts(self, port: str | None = None, *, node: str | None = None) -> list[str]:
        """Byte payloads decoded as UTF-8 (``TypeError`` on another payload kind)."""
        return [packet_text(packet) for packet in self.packets(port, node=node)]

    def by_port(self) -> dict[str, list[Packet]]:
        """Packets grouped by input port (ports in order of first arrival)."""
        grouped: dict[str, list[Packet]] = {}
        for entry in self.received:
            grouped.setdefault(str(entry.port_id), []).append(entry.packet)
        return grouped

    @property
    def count(self) -> int:
        """How many packets were received in total."""
        return len(self.received)

    def packet_count(self) -> int:
        """The original's name for :attr:`count`."""
        return len(self.received)

    def drain_received(self) -> list[Packet]:
        """Return every packet received so far and forget them (the original's API)."""
        packets = [entry.packet for entry in self.received]
        self.received.clear()
        return packets

    def clear(self) -> None:
        self.received.clear()
        self.finished.clear()

    def __repr__(self) -> str:
        return f"CollectingSink(count={len(self.received)})"


# --- forwarding -----------------------------------------------------------------------


class PassthroughNode:
    """Forwards every input packet, unchanged, to an output port.

    Where a packet goes: ``routes[input]`` when given, else the only output port; with
    several outputs and no route the node fails with a message asking for ``routes``. A
    node without outputs consumes and discards. Inputs are read together (fair across
    ports); the node returns once every input has ended. ``forwarded`` counts packets
    sent.
    """

    delay: float = 0.0

    def __init__(self, routes: Mapping[str, str] | None = None) -> None:
        self.routes = dict(routes or {})
        self.forwarded = 0

    def _target(self, ctx: NodeContext, outputs: PortsOut, port: PortId) -> PortId | None:
        declared = outputs.port_ids
        if port in self.routes:
            target = self.routes[port]
            if target not in outputs:
                raise ExecutionError(
                    f"{type(self).__name__} on node `{ctx.node_id}` routes input `{port}` to "
                    f"undeclared output `{target}`"
                )
            return PortId(target)
        if not declared:
            return None
        if len(declared) == 1:
            return declared[0]
        names = ", ".join(f"`{p}`" for p in declared)
        raise ExecutionError(
            f"{type(self).__name__} on node `{ctx.node_id}` cannot tell which output "
            f"({names}) receives input `{port}`; pass routes={{'{port}': ...}}"
        )

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        while True:
            item = await inputs.recv_any()
            if item is None:
                return
            port, packet = item
            if self.delay:
                await pause(ctx, self.delay)
            target = self._target(ctx, outputs, port)
            if target is not None:
                await outputs.port(target).send(packet)
                self.forwarded += 1

    def __repr__(self) -> str:
        return f"{type(self).__name__}(routes={self.routes!r})"


class SlowNode(PassthroughNode):
    """A :class:`PassthroughNode` that waits ``delay`` seconds after receiving each
    packet, before forwarding it (``passthrough=False``: consume and discard instead).

    The wait honours cancellation: when the run's token is cancelled the node raises
    :class:`~pureflow.core.CancellationError` at once, ending ``node_cancelled``.
    """

    def __init__(
        self,
        delay: float,
        passthrough: bool = True,
        *,
        routes: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(routes)
        self.delay = _check_delay(delay)
        self.passthrough = passthrough

    def _target(self, ctx: NodeContext, outputs: PortsOut, port: PortId) -> PortId | None:
        if not self.passthrough:
            return None
        return super()._target(ctx, outputs, port)

    def __repr__(self) -> str:
        return f"SlowNode({self.delay!r}, passthrough={self.passthrough!r})"


# --- failing and recording ------------------------------------------------------------


class FailingNode:
    """Fails every time it runs.

    ``FailingNode("boom")`` raises ``ExecutionError("boom")``
    (``CDT-EXEC-001: node execution failed: boom``); ``FailingNode(SomeError(...))``
    raises that exception (a non-Pureflow exception is reported by the runtime as an
    execution error). With ``drain_inputs=True`` it first drains its inputs, so it fails
    after upstream finished. ``calls`` counts runs.
    """

    def __init__(
        self,
        error: BaseException | str = "scripted failure",
        *,
        drain_inputs: bool = False,
    ) -> None:
        self.error = error
        self.drain_inputs = drain_inputs
        self.calls = 0

    @classmethod
    def execution(cls, message: str) -> FailingNode:
        """The original's constructor: fail with ``ExecutionError(message)``."""
        return cls(ExecutionError(message))

    def _exception(self) -> BaseException:
        error = self.error
        return error if isinstance(error, BaseException) else ExecutionError(error)

    async def run(
        self,
        ctx: NodeContext,  # noqa: ARG002 - the NodeExecutor signature
        inputs: PortsIn,
        outputs: PortsOut,  # noqa: ARG002
    ) -> None:
        self.calls += 1
        if self.drain_inputs:
            while await inputs.recv_any() is not None:
                pass
        raise self._exception()

    def __repr__(self) -> str:
        return f"FailingNode({self.error!r})"


@dataclass(frozen=True, slots=True)
class Visit:
    """One run of a :class:`RecordingNode`: who ran it, with which ports, and how many
    packets it drained."""

    context: NodeContext
    input_ports: tuple[PortId, ...]
    output_ports: tuple[PortId, ...]
    received: int

    @property
    def node_id(self) -> NodeId:
        return self.context.node_id


class RecordingNode:
    """Records each run's context and declared ports, drains every input, then returns.

    Unlike the original's recorder it never keeps a port open: it returns once its
    inputs have ended, and the runtime closes its outputs (downstream sees end of stream
    without any packet). ``visits`` holds one :class:`Visit` per run, appended when the
    run finishes; ``started`` lists node ids as they start.
    """

    def __init__(self) -> None:
        self.visits: list[Visit] = []
        self.started: list[NodeId] = []

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        self.started.append(ctx.node_id)
        received = 0
        while await inputs.recv_any() is not None:
            received += 1
        self.visits.append(Visit(ctx, inputs.port_ids, outputs.port_ids, received))

    @property
    def contexts(self) -> list[NodeContext]:
        return [visit.context for visit in self.visits]

    @property
    def visited_nodes(self) -> list[NodeId]:
        """Node ids, in the order their runs finished."""
        return [visit.node_id for visit in self.visits]

    def visited_node_names(self) -> list[str]:
        return [str(visit.node_id) for visit in self.visits]

    def visited_input_port_names(self) -> list[list[str]]:
        return [[str(p) for p in visit.input_ports] for visit in self.visits]

    def visited_output_port_names(self) -> list[list[str]]:
        return [[str(p) for p in visit.output_ports] for visit in self.visits]

    def visit(self, node: str) -> Visit:
        """The (last) visit of ``node``; ``KeyError`` listing the visited nodes if none."""
        for visit in reversed(self.visits):
            if visit.node_id == node:
                return visit
        raise KeyError(f"node `{node}` never ran; visited: {self.visited_node_names()}")

    def __repr__(self) -> str:
        return f"RecordingNode(visits={self.visited_node_names()!r})"


__all__ = [
    "CollectingSink",
    "FailingNode",
    "Item",
    "PassthroughNode",
    "Received",
    "RecordingNode",
    "ScriptedSource",
    "SlowNode",
    "Visit",
    "as_payload",
    "drain_port",
    "make_packet",
    "packet_text",
    "pause",
    "payload_value",
    "test_packet",
]
