"""``http-source``: a small HTTP server whose POSTed JSON records become packets (extra
``http``).

Backpressure reaches the client: a request's records are taken only if the output edge
has room for all of them *now* (a slot reserved on every edge, without waiting, then
committed together), so a full edge answers ``429 Too Many Requests`` with
``Retry-After`` instead of buffering. Nothing is held outside the edges: a ``202`` means
every record of the request is on the edge, a ``429`` or ``503`` that none is.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Final, NoReturn

import anyio
import anyio.abc
from pureflow.contract import EffectCapability, RetryDisposition
from pureflow.core import (
    ExecutionError,
    NodeConfig,
    NodeContext,
    OutputPort,
    PacketPayload,
    PayloadKind,
    PortSendError,
    PortSendErrorKind,
    PortsIn,
    PortsOut,
    SendPermit,
    component,
)
from pureflow.nodes._common import object_schema
from pureflow.nodes.connectors._support import require, run_until_cancelled

if TYPE_CHECKING:
    from pureflow.nodes.connectors._http_server import Answer, Request

_CONTROL = PayloadKind.CONTROL
JSON_LINES_TYPES: Final = frozenset(
    {
        "application/x-ndjson",
        "application/jsonl",
        "application/x-jsonlines",
        "application/jsonlines",
    }
)
"""Content types read as JSON Lines (one record per line); any other body is one JSON value."""


class _BadBody(ValueError):
    pass


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"`{name}` is not JSON")


def parse_records(body: bytes, content_type: str) -> list[Any]:
    """The records of a request body: one per non-blank line for JSON Lines content types,
    else the one JSON value. ``_BadBody`` names the line that is not JSON."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as err:
        raise _BadBody(f"the body is not UTF-8: {err}") from err
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind in JSON_LINES_TYPES:
        records = []
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    records.append(json.loads(line, parse_constant=_no_constant))
                except ValueError as err:
                    raise _BadBody(f"line {number} is not JSON: {err}") from err
        return records
    try:
        return [json.loads(text, parse_constant=_no_constant)]
    except ValueError as err:
        raise _BadBody(f"the body is not JSON: {err}") from err


def _room(out: OutputPort) -> int | None:
    """The most records one request may hand over: the smallest edge capacity."""
    return min((edge.capacity for edge in out.edges), default=None)


class _Intake:
    """One run of ``http-source``: what each request gets, and what was counted."""

    def __init__(self, config: HttpSource, out: OutputPort) -> None:
        self.config = config
        self.out = out
        self.accepted = 0
        self.requests = 0
        self.refused = 0

    def answer(self, request: Request) -> Answer:
        from pureflow.nodes.connectors._http_server import Answer

        if request.path != self.config.path:
            return Answer(404, {"error": f"records go to {self.config.path}"})
        if request.method != "POST":
            return Answer(
                405,
                {"error": "POST records"},
                (("allow", "POST"),),
            )
        try:
            records = parse_records(request.body, request.headers.get("content-type", ""))
        except _BadBody as err:
            return Answer(400, {"error": str(err)})
        out = self.out
        room = _room(out)
        if room is not None and len(records) > room:
            return Answer(
                413,
                {
                    "error": f"{len(records)} records in one request; the output edge holds "
                    f"{room}: send fewer per request, or raise the edge's capacity"
                },
            )
        # All or nothing, without waiting: a slot on every edge for every record, or none.
        permits: list[SendPermit] = []
        try:
            permits.extend(out.try_reserve() for _ in records)
        except PortSendError as err:
            for permit in permits:
                permit.abort()
            if err.kind is PortSendErrorKind.FULL:
                self.refused += 1
                return Answer(
                    429,
                    {"error": "the pipeline is full; retry later"},
                    (("retry-after", str(self.config.retry_after)),),
                )
            if err.kind is PortSendErrorKind.DISCONNECTED:
                return self.busy(stop=True)
            return self.busy()
        for permit, record in zip(permits, records, strict=True):
            permit.send(out.packet(PacketPayload(_CONTROL, record)))
        self.accepted += len(records)
        self.requests += 1
        done = self.config.limit is not None and self.accepted >= self.config.limit
        return Answer(202, {"accepted": len(records)}, stop=done)

    def busy(self, *, stop: bool = False) -> Answer:
        from pureflow.nodes.connectors._http_server import Answer

        return Answer(
            503,
            {"error": "not accepting records: the pipeline is stopping"},
            (("retry-after", str(self.config.retry_after)),),
            stop=stop,
        )


@component(
    name="http-source",
    inputs=[],
    outputs=["out"],
    effects=[EffectCapability.NETWORK_OUTBOUND, EffectCapability.EXTERNAL_EFFECT],
    retry=RetryDisposition.NEVER,
    config_schema=object_schema(
        {
            "host": {
                "type": "string",
                "minLength": 1,
                "default": "127.0.0.1",
                "description": "The address to listen on. The default accepts connections "
                "from this machine only; `0.0.0.0` accepts them from anywhere.",
            },
            "port": {
                "type": "integer",
                "minimum": 0,
                "maximum": 65535,
                "default": 8080,
                "description": "The TCP port; 0 picks a free one (the log says which).",
            },
            "path": {
                "type": "string",
                "pattern": "^/",
                "default": "/",
                "description": "The path records are POSTed to.",
            },
            "retry_after": {
                "type": "integer",
                "minimum": 0,
                "default": 1,
                "description": "Seconds a refused client is told to wait (`Retry-After`).",
            },
            "max_body_bytes": {
                "type": "integer",
                "minimum": 1,
                "default": 1048576,
                "description": "The largest request body accepted (413 beyond).",
            },
            "max_connections": {
                "type": "integer",
                "minimum": 1,
                "default": 64,
                "description": "Connections served at once; more wait to be accepted.",
            },
            "limit": {
                "type": "integer",
                "minimum": 1,
                "description": "Stop once this many records were accepted (the request "
                "that reaches it is accepted whole). Without it, the server runs until the "
                "run is cancelled.",
            },
        }
    ),
)
class HttpSource:
    """Listen for POSTed JSON (one record) or JSON Lines (one record per line) and emit
    each record as a control packet, answering `202 {"accepted": n}`.

    When the output edge has no room for every record of a request, the request is
    refused whole with `429` and `Retry-After`, so a client slows down to the pace of the
    pipeline and nothing is buffered outside the edges. Bad JSON gets `400`, a body over
    `max_body_bytes` or with more records than the edge holds `413`, a wrong path `404`,
    another method `405`, and requests while stopping `503`. Binds `127.0.0.1` unless
    `host` says otherwise, and logs the address. Runs until the run is cancelled (or
    `limit` records were accepted, or every consumer left), then closes its connections.
    """

    def __init__(self, config: NodeConfig) -> None:
        require("http-source", "h11")
        self.host = str(config.get("host", "127.0.0.1"))
        self.port = int(config.get("port", 8080))
        self.path = str(config.get("path", "/"))
        self.retry_after = int(config.get("retry_after", 1))
        self.max_body_bytes = int(config.get("max_body_bytes", 1 << 20))
        self.max_connections = int(config.get("max_connections", 64))
        limit = config.get("limit")
        self.limit = None if limit is None else int(limit)

    def _loopback(self) -> bool:
        import ipaddress

        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:  # a host name
            return False

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:  # noqa: ARG002
        from pureflow.nodes.connectors._http_server import HttpServer

        out = outputs["out"]
        try:
            listener = await anyio.create_tcp_listener(local_host=self.host, local_port=self.port)
        except OSError as err:
            raise ExecutionError(
                f"http-source: cannot listen on {self.host}:{self.port}: {err.strerror or err}"
            ) from err
        port = listener.extra(anyio.abc.SocketAttribute.local_port)
        host = f"[{self.host}]" if ":" in self.host else self.host
        url = f"http://{host}:{port}{self.path}"
        if self._loopback():
            ctx.logger.info(
                "http-source: listening on %s (loopback only: set `host` to accept other machines)",
                url,
                extra={"url": url},
            )
        else:
            ctx.logger.warning(
                "http-source: listening on %s: reachable from other machines",
                url,
                extra={"url": url},
            )
        intake = _Intake(self, out)
        server = HttpServer(
            intake.answer,
            intake.busy,
            max_body_bytes=self.max_body_bytes,
            max_connections=self.max_connections,
        )
        try:
            await run_until_cancelled(ctx, lambda: server.serve(listener))
        finally:
            ctx.logger.info(
                "http-source: accepted %d records in %d requests; refused %d requests (429)",
                intake.accepted,
                intake.requests,
                intake.refused,
            )
