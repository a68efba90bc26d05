"""A small HTTP/1.1 server on anyio streams, with h11 doing the protocol.

h11 comes with the ``http`` extra and is imported when a server runs. It runs on
asyncio and trio alike (the ASGI servers that do, do not let the caller bind
port 0 and learn the port), and it hands each complete request to a *synchronous*
``answer`` function, so deciding what to do with a request (take its records or refuse
them) happens in one step that nothing else can interleave with.

Bounded by construction: at most ``max_connections`` connections are served at once (the
rest wait in the kernel's backlog), a request head may be 16 KiB and a body
``max_body_bytes``, and a connection idle for ``idle_timeout`` seconds is closed.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import anyio
import anyio.abc

if TYPE_CHECKING:
    import h11

MAX_HEAD_BYTES: Final = 16 * 1024
READ_BYTES: Final = 64 * 1024


@dataclass(frozen=True, slots=True)
class Request:
    """A complete request: ``method`` (upper case), ``path`` (without the query),
    lower-cased ``headers`` and the ``body``."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class Answer:
    """A JSON response; ``stop`` asks the server to stop once it has been sent."""

    status: int
    content: Any
    headers: tuple[tuple[str, str], ...] = ()
    stop: bool = False


Answerer = Callable[[Request], Answer]


class _Closed(Exception):
    """The peer went away or stayed idle too long: drop the connection."""


@dataclass(eq=False)
class HttpServer:
    """Serve ``answer`` on a listener until :meth:`stop` or cancellation.

    ``serve`` returns after :meth:`stop` (or an answer with ``stop``) once every response
    being written has been written; cancelling it closes every connection at once.
    ``busy_answer`` is what requests get while the server is stopping.
    """

    answer: Answerer
    busy_answer: Callable[[], Answer]
    max_body_bytes: int = 1 << 20
    max_connections: int = 64
    idle_timeout: float = 30.0
    _stopping: bool = field(default=False, init=False)
    _responding: int = field(default=0, init=False)
    _group: anyio.abc.TaskGroup | None = field(default=None, init=False)

    def stop(self) -> None:
        """Refuse new requests, finish the responses being written, then end ``serve``."""
        self._stopping = True
        if self._responding == 0 and self._group is not None:
            self._group.cancel_scope.cancel()

    async def serve(self, listener: anyio.abc.Listener[anyio.abc.SocketStream]) -> None:
        slots = anyio.Semaphore(self.max_connections)
        listeners = getattr(listener, "listeners", [listener])
        try:
            async with anyio.create_task_group() as group:
                self._group = group
                for one in listeners:
                    group.start_soon(self._accept, one, slots, group)
        finally:
            self._group = None
            with anyio.CancelScope(shield=True):
                await listener.aclose()

    async def _accept(
        self,
        listener: anyio.abc.Listener[anyio.abc.SocketStream],
        slots: anyio.Semaphore,
        group: anyio.abc.TaskGroup,
    ) -> None:
        accept = getattr(listener, "accept")  # noqa: B009 - SocketListener has it, Listener not
        while True:
            await slots.acquire()
            try:
                stream = await accept()
            except BaseException:
                slots.release()
                raise
            group.start_soon(self._connection, stream, slots)

    async def _connection(self, stream: anyio.abc.SocketStream, slots: anyio.Semaphore) -> None:
        import h11

        connection = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD_BYTES)
        try:
            while True:
                event = await self._next_event(connection, stream)
                if not isinstance(event, h11.Request):
                    return
                request, refusal = await self._read_request(connection, stream, event)
                if refusal is not None:
                    await self._respond(connection, stream, refusal, close=True)
                    return
                assert request is not None
                answer = self.busy_answer() if self._stopping else self.answer(request)
                if answer.stop:
                    self._stopping = True
                close = self._stopping or connection.their_state is not h11.DONE
                await self._respond(connection, stream, answer, close=close)
                if close or connection.our_state is not h11.DONE:
                    return
                connection.start_next_cycle()
        except h11.RemoteProtocolError as err:
            if connection.our_state in (h11.IDLE, h11.SEND_RESPONSE):
                refusal = Answer(err.error_status_hint, {"error": str(err)})
                with contextlib.suppress(_Closed, h11.LocalProtocolError):
                    await self._respond(connection, stream, refusal, close=True)
        except _Closed:
            pass
        finally:
            slots.release()
            await anyio.aclose_forcefully(stream)

    async def _next_event(self, connection: h11.Connection, stream: anyio.abc.SocketStream) -> Any:
        import h11

        while True:
            event = connection.next_event()
            if event is not h11.NEED_DATA:
                return event
            if connection.they_are_waiting_for_100_continue:
                await self._send(
                    stream, connection.send(h11.InformationalResponse(status_code=100, headers=[]))
                )
            try:
                with anyio.fail_after(self.idle_timeout):
                    data = await stream.receive(READ_BYTES)
            except (anyio.EndOfStream, TimeoutError):
                data = b""
            except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError) as err:
                raise _Closed from err
            connection.receive_data(data)

    async def _read_request(
        self, connection: h11.Connection, stream: anyio.abc.SocketStream, head: h11.Request
    ) -> tuple[Request | None, Answer | None]:
        import h11

        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1") for name, value in head.headers
        }
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            return None, self._too_large()
        chunks: list[bytes] = []
        size = 0
        while True:
            event = await self._next_event(connection, stream)
            if isinstance(event, h11.Data):
                size += len(event.data)
                if size > self.max_body_bytes:
                    return None, self._too_large()
                chunks.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                break
            else:  # the peer closed mid-body
                raise _Closed
        target = head.target.decode("latin-1")
        path = target.split("?", 1)[0]
        method = head.method.decode("ascii").upper()
        return Request(method, path, headers, b"".join(chunks)), None

    def _too_large(self) -> Answer:
        return Answer(
            413,
            {"error": f"the body is larger than {self.max_body_bytes} bytes"},
        )

    async def _respond(
        self,
        connection: h11.Connection,
        stream: anyio.abc.SocketStream,
        answer: Answer,
        *,
        close: bool,
    ) -> None:
        import h11

        data = json.dumps(answer.content, separators=(",", ":")).encode() + b"\n"
        headers = [
            ("content-type", "application/json"),
            ("content-length", str(len(data))),
            *answer.headers,
        ]
        if close:
            headers.append(("connection", "close"))
        status = int(answer.status)
        self._responding += 1
        try:
            await self._send(
                stream, connection.send(h11.Response(status_code=status, headers=headers))
            )
            await self._send(stream, connection.send(h11.Data(data=data)))
            await self._send(stream, connection.send(h11.EndOfMessage()))
        finally:
            self._responding -= 1
            if self._stopping and self._responding == 0 and self._group is not None:
                self._group.cancel_scope.cancel()

    async def _send(self, stream: anyio.abc.SocketStream, data: bytes | None) -> None:
        if not data:
            return
        try:
            await stream.send(data)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError) as err:
            raise _Closed from err
