"""The transport of a cut edge: an egress pump on the producer's host, an ingress bridge
on the consumer's.

* :class:`EgressPump` drains the egress half with ``recv_many(batch)`` and awaits
  ``peer.push(edge, seq, data)`` with at most ``window`` calls outstanding. Awaiting the
  call is the credit: a full ingress half holds the call, which holds the pump, which
  leaves the egress half full, which holds the producer. When the producer's outputs
  close it sends ``end(edge, seq, reason)``; ``reason`` is the host's cancellation
  reason when there is one, so the consumer is cancelled *before* its input ends and
  never mistakes a failed producer for a finished one.
* :class:`IngressBridge` admits the batches of one edge in sequence order (an async
  actor runs calls concurrently, so arrival order is not call order) into the ingress
  half through an ordinary output port, which waits while the half is full.

A consumer that leaves early (its input port closed) makes ``push`` answer False; the
pump then closes the egress half's receiving side, so the producer's later sends are
dropped, as on an in-process edge. When the consumer left because its host was cancelled
(it failed under fail-fast, or the run is being cancelled) ``push`` answers that reason
instead, and the producer's host is cancelled with it *before* the receiving side closes:
in process, the cancellation reaches the producer before the consumer's input closes, so
the producer ends cancelled, never failed on a disconnected port. A peer that dies is
reported to the host (:meth:`EgressPump.run` raises :class:`PeerLost`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from pureflow.core import InputPortHandle, OutputPortHandle, PortSendError, PortsIn, PortsOut
from pureflow.ray.codec import decode_batch, encode_batch
from pureflow.ray.wiring import HostEdge
from pureflow.types import PortId

_PORT = PortId("edge")


class PeerLost(Exception):
    """The host at the other end of a cut edge is gone (``peer`` names its nodes)."""

    def __init__(self, edge: HostEdge, error: BaseException) -> None:
        super().__init__(f"edge `{edge.label}`: {type(error).__name__}")
        self.edge = edge
        self.error = error


class EgressPump:
    """Ships one egress half to its peer (see the module doc)."""

    def __init__(
        self,
        edge: HostEdge,
        push: Callable[[int, int, bytes], Awaitable[bool | str]],
        end: Callable[[int, int, str | None], Awaitable[None]],
        *,
        batch: int,
        window: int,
        reason: Callable[[], str | None],
        cancel: Callable[[str], object],
        peer_errors: tuple[type[BaseException], ...],
    ) -> None:
        self.edge = edge
        self._push = push
        self._end = end
        self._cancel = cancel
        self._batch = max(1, min(batch, edge.channel.capacity))
        self._window = max(1, window)
        self._reason = reason
        self._peer_errors = peer_errors
        self.shipped = 0
        """Packets handed to push calls so far."""
        self.port = PortsIn([_PORT], [InputPortHandle(_PORT, (edge.channel,))])[_PORT]

    async def run(self) -> None:
        """Until the producer's outputs close (then ``end`` is sent) or the consumer left."""
        try:
            await self._ship()
        except self._peer_errors as error:
            raise PeerLost(self.edge, error) from None

    async def _ship(self) -> None:
        edge, port = self.edge, self.port
        pending: deque[Awaitable[bool | str]] = deque()
        seq = 0
        open_ = True
        while open_:
            batch = await port.recv_many(self._batch)
            if not batch:
                break
            data = encode_batch(batch, edge.label)
            self.shipped += len(batch)
            pending.append(self._push(edge.index, seq, data))
            seq += 1
            while pending and (len(pending) >= self._window or not open_):
                open_ = self._answered(await pending.popleft())
        while pending:
            self._answered(await pending.popleft())
        await self._end(edge.index, seq, self._reason())

    def _answered(self, answer: bool | str) -> bool:
        """Act on a push's answer (see the module doc); True while the consumer reads."""
        if answer is True:
            return True
        if isinstance(answer, str):
            self._cancel(answer)
        self.edge.channel.close_receiver()
        return False


class IngressBridge:
    """Admits one edge's batches into its ingress half, in sequence order."""

    def __init__(
        self,
        edge: HostEdge,
        cancel: Callable[[str], object],
        reason: Callable[[], str | None],
    ) -> None:
        self.edge = edge
        self._cancel = cancel
        self._reason = reason
        self._outputs = PortsOut([_PORT], [OutputPortHandle(_PORT, (edge.channel,))])
        self._port = self._outputs[_PORT]
        self._next = 0
        self._turns: dict[int, anyio.Event] = {}
        self.arrived = 0
        """Packets that reached this host so far (admitted or waiting for room)."""
        self.ended = False

    async def _turn(self, seq: int) -> None:
        while seq != self._next:
            event = self._turns.setdefault(seq, anyio.Event())
            await event.wait()

    def _advance(self) -> None:
        self._next += 1
        event = self._turns.pop(self._next, None)
        if event is not None:
            event.set()

    async def push(self, seq: int, data: bytes) -> bool | str:
        """Admit batch ``seq``: True; once the consumer has left, False, or this host's
        cancellation reason when it left because the host was cancelled."""
        batch = decode_batch(data)
        self.arrived += len(batch)
        await self._turn(seq)
        try:
            if not self.edge.channel.receiver_closed:
                await self._port.send_many(batch)
        except PortSendError:
            # The consumer left while this batch waited for room: it is dropped, as a
            # send to a closed in-process edge is, and the answer below says so.
            if not self.edge.channel.receiver_closed:
                raise
        finally:
            self._advance()
        if not self.edge.channel.receiver_closed:
            return True
        reason = self._reason()
        return False if reason is None else reason

    async def end(self, seq: int, reason: str | None) -> None:
        """The producer's outputs closed after ``seq`` batches; with a ``reason`` it
        failed or was cancelled, and the host is cancelled before the input ends."""
        await self._turn(seq)
        if reason is not None:
            self._cancel(reason)
        self.close()

    def close(self) -> None:
        if not self.ended:
            self.ended = True
            self._outputs.close()

    def depth(self) -> int:
        return self.edge.channel.depth


def describe(value: Any) -> str:
    return type(value).__name__
