"""``http-request``: one HTTP request per packet, with httpx (extra ``http``).

The request is built from templates filled in with the packet's fields; up to
``concurrency`` requests are in flight at once and the responses leave in input order;
tenacity retries a request that timed out, could not connect or got a 5xx, 408 or 429
answer, with exponential backoff (at least the server's ``Retry-After``); a token bucket
caps the request rate. Every retry is logged on the node's logger. Credentials come from
environment variables named in the config (``headers_from_env``), read when the node runs.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import anyio
from pureflow.contract import EffectCapability, RetryDisposition
from pureflow.core import (
    ComponentConfigError,
    ExecutionError,
    NodeConfig,
    NodeContext,
    Packet,
    PacketPayload,
    PortsIn,
    PortsOut,
    component,
)
from pureflow.nodes._common import object_schema, send_or_stop
from pureflow.nodes.connectors._support import environment_value, require, run_until_cancelled
from pureflow.nodes.flow_control import TokenBucket

if TYPE_CHECKING:
    import httpx
    import tenacity

METHODS: Final = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
RETRY_STATUSES: Final = frozenset({408, 429, 500, 502, 503, 504})
"""Answers worth another attempt: the server was busy, overloaded or timed out."""

_TEMPLATE_SCHEMA: Final = {
    "type": "object",
    "additionalProperties": {"type": "string"},
}


class TemplateError(ValueError):
    """A template names a field the packet does not have (or is malformed)."""


class _Template(string.Formatter):
    """``str.format`` over a packet's fields; ``quote`` percent-encodes each value (for
    URLs: ``/users/{id}`` with id ``a/b`` becomes ``/users/a%2Fb``)."""

    def __init__(self, text: str, *, quote: bool = False) -> None:
        self.text = text
        self.quote = quote
        try:
            self.fields = [name for _, name, _, _ in self.parse(text) if name is not None]
        except ValueError as err:
            raise TemplateError(f"`{text}` is not a valid template: {err}") from err

    def format_field(self, value: Any, format_spec: str) -> str:
        import urllib.parse

        text = super().format_field(value, format_spec)
        return urllib.parse.quote(text, safe="") if self.quote else text

    def fill(self, values: Mapping[str, Any]) -> str:
        try:
            return self.vformat(self.text, (), values)
        except (KeyError, IndexError) as err:
            raise TemplateError(f"`{self.text}` needs field {err}, which it lacks") from err
        except (ValueError, TypeError, AttributeError) as err:
            raise TemplateError(f"`{self.text}`: {err}") from err


class _RetryableAnswer(Exception):
    """A response worth retrying (5xx, 408, 429), raised so tenacity sees it."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        super().__init__(f"{response.status_code} {response.reason_phrase}".strip())

    @property
    def retry_after(self) -> float | None:
        value = self.response.headers.get("retry-after", "")
        try:
            return max(0.0, float(value))
        except ValueError:
            return None  # absent, or an HTTP date: the backoff decides


class RequestFailed(Exception):
    """A request that failed for good: ``status`` (``None`` without an answer) and how many
    ``attempts`` were made."""

    def __init__(self, message: str, status: int | None, attempts: int) -> None:
        self.status = status
        self.attempts = attempts
        super().__init__(message)


@dataclass(eq=False)
class _Pending:
    """One packet's request, in input order: done when its outcome is known."""

    packet: Packet
    done: anyio.Event = field(default_factory=anyio.Event)
    response: Any = None
    error: BaseException | None = None


@component(
    name="http-request",
    inputs=["in"],
    outputs=["out", "error"],
    effects=[
        EffectCapability.NETWORK_OUTBOUND,
        EffectCapability.EXTERNAL_EFFECT,
        EffectCapability.ENVIRONMENT_READ,
        EffectCapability.CLOCK,
    ],
    retry=RetryDisposition.UNKNOWN,
    config_schema=object_schema(
        {
            "url": {
                "type": "string",
                "minLength": 1,
                "description": "The URL template: `{field}` is the packet's field, "
                "percent-encoded (`https://api.example/users/{id}`).",
            },
            "method": {"enum": list(METHODS), "default": "GET"},
            "headers": {
                **_TEMPLATE_SCHEMA,
                "default": {},
                "description": "Header templates (`{field}` as in `url`, not encoded).",
            },
            "headers_from_env": {
                **_TEMPLATE_SCHEMA,
                "default": {},
                "description": "Headers whose values come from environment variables, "
                'read when the node runs: `{"Authorization": "API_TOKEN"}`.',
            },
            "params": {
                **_TEMPLATE_SCHEMA,
                "default": {},
                "description": "Query parameter templates.",
            },
            "body": {
                "enum": ["record", "none"],
                "description": "`record` sends the packet's value as the JSON body; the "
                "default is `record` for POST, PUT and PATCH, `none` otherwise.",
            },
            "output": {
                "enum": ["response", "body"],
                "default": "response",
                "description": "`response`: `{request, status, headers, body}`; `body`: "
                "the response body alone (JSON, or text when it is not JSON).",
            },
            "concurrency": {
                "type": "integer",
                "minimum": 1,
                "default": 4,
                "description": "Requests in flight at once; responses keep the input order.",
            },
            "timeout": {
                "type": "number",
                "exclusiveMinimum": 0,
                "default": 30,
                "description": "Seconds one attempt may take (connect, send, wait, read).",
            },
            "attempts": {
                "type": "integer",
                "minimum": 1,
                "default": 3,
                "description": "Attempts per request, the first one included.",
            },
            "backoff": {
                "type": "number",
                "minimum": 0,
                "default": 0.5,
                "description": "Seconds before the first retry; each next wait doubles, "
                "with jitter, up to `max_backoff` (and at least the server's `Retry-After`).",
            },
            "max_backoff": {"type": "number", "minimum": 0, "default": 30},
            "per_second": {
                "type": "number",
                "exclusiveMinimum": 0,
                "description": "At most this many requests (attempts) per second, on average.",
            },
            "on_error": {
                "enum": ["fail", "route"],
                "default": "fail",
                "description": "A request that failed for good fails the node (`fail`) or "
                "goes to the `error` port as `{request, error, status, attempts}` (`route`).",
            },
        },
        required=["url"],
    ),
)
class HttpRequest:
    """Make one HTTP request per packet and emit the response, in input order.

    The URL, headers and query parameters are templates over the packet's fields
    (`{id}`; a value that is not an object is `{value}`); `body: record` sends the packet's
    value as JSON. Up to `concurrency` requests run at once. A timeout, a connection
    failure or a 5xx, 408 or 429 answer is retried with exponential backoff, up to
    `attempts` in all, each retry logged; other 4xx answers are not retried. A request
    that failed for good fails the node or, with `on_error: route`, goes to the `error`
    port. Both ports must be declared; `error` may stay unconnected.
    """

    def __init__(self, config: NodeConfig) -> None:
        require("http-request", "httpx", "tenacity")
        self.method = str(config.get("method", "GET"))
        try:
            self.url = _Template(str(config["url"]), quote=True)
            self.headers = {k: _Template(v) for k, v in config.get("headers", {}).items()}
            self.params = {k: _Template(v) for k, v in config.get("params", {}).items()}
        except TemplateError as err:
            raise ComponentConfigError(str(err)) from err
        self.headers_from_env: dict[str, str] = dict(config.get("headers_from_env", {}))
        default_body = "record" if self.method in ("POST", "PUT", "PATCH") else "none"
        self.send_body = config.get("body", default_body) == "record"
        self.output = str(config.get("output", "response"))
        self.concurrency = int(config.get("concurrency", 4))
        self.timeout = float(config.get("timeout", 30))
        self.attempts = int(config.get("attempts", 3))
        self.backoff = float(config.get("backoff", 0.5))
        self.max_backoff = float(config.get("max_backoff", 30))
        per_second = config.get("per_second")
        self.per_second = None if per_second is None else float(per_second)
        self.route_errors = config.get("on_error", "fail") == "route"

    # --- one request --------------------------------------------------------------------

    def _build(self, client: httpx.AsyncClient, value: Any) -> httpx.Request:
        fields = value if isinstance(value, dict) else {"value": value}
        return client.build_request(
            self.method,
            self.url.fill(fields),
            headers={name: t.fill(fields) for name, t in self.headers.items()},
            params={name: t.fill(fields) for name, t in self.params.items()},
            json=value if self.send_body else None,
        )

    def _retrying(self, ctx: NodeContext, request: httpx.Request) -> tenacity.AsyncRetrying:
        import httpx
        import tenacity

        backoff = tenacity.wait_exponential(
            multiplier=self.backoff, max=self.max_backoff
        ) + tenacity.wait_random(0, self.backoff)

        def wait(state: tenacity.RetryCallState) -> float:
            seconds = backoff(state)
            error = state.outcome.exception() if state.outcome is not None else None
            if isinstance(error, _RetryableAnswer) and error.retry_after is not None:
                seconds = max(seconds, min(error.retry_after, self.max_backoff))
            return float(seconds)

        def log_retry(state: tenacity.RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome is not None else None
            sleep = state.next_action.sleep if state.next_action is not None else 0.0
            ctx.logger.warning(
                "http-request: %s %s: attempt %d of %d failed (%s); retrying in %.2f s",
                request.method,
                request.url,
                state.attempt_number,
                self.attempts,
                _reason(error),
                sleep,
            )

        return tenacity.AsyncRetrying(
            sleep=anyio.sleep,
            stop=tenacity.stop_after_attempt(self.attempts),
            wait=wait,
            retry=tenacity.retry_if_exception_type(
                (_RetryableAnswer, httpx.TimeoutException, httpx.TransportError)
            ),
            before_sleep=log_retry,
            reraise=True,
        )

    async def _request(
        self,
        ctx: NodeContext,
        client: httpx.AsyncClient,
        bucket: TokenBucket | None,
        value: Any,
    ) -> httpx.Response:
        """The response, after retries; :class:`RequestFailed` when there is none worth
        emitting."""
        import httpx

        try:
            request = self._build(client, value)
        except TemplateError as err:
            raise RequestFailed(f"cannot build the request: {err}", None, 0) from err
        attempts = 0

        async def attempt() -> httpx.Response:
            nonlocal attempts
            if bucket is not None:
                await bucket.take()
            attempts += 1
            response = await client.send(request)
            await response.aread()
            if response.status_code in RETRY_STATUSES:
                raise _RetryableAnswer(response)
            return response

        where = f"{request.method} {request.url}"
        try:
            response: httpx.Response = await self._retrying(ctx, request)(attempt)
        except _RetryableAnswer as err:
            raise RequestFailed(
                f"{where}: {err} after {attempts} attempts", err.response.status_code, attempts
            ) from err
        except httpx.HTTPError as err:
            raise RequestFailed(
                f"{where}: {_reason(err)} after {attempts} attempts", None, attempts
            ) from err
        if response.is_error:
            text = f"{response.status_code} {response.reason_phrase}".strip()
            raise RequestFailed(f"{where}: {text}", response.status_code, attempts)
        if attempts > 1:
            ctx.logger.info("http-request: %s: succeeded on attempt %d", where, attempts)
        return response

    def _output(self, value: Any, response: httpx.Response) -> Any:
        try:
            body: Any = response.json() if response.content else None
        except ValueError:
            body = response.text
        if self.output == "body":
            return body
        return {
            "request": value,
            "status": response.status_code,
            "headers": dict(response.headers),
            "body": body,
        }

    # --- the node -----------------------------------------------------------------------

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        import httpx

        headers = {
            name: environment_value("http-request", variable, f"headers_from_env/{name}")
            for name, variable in self.headers_from_env.items()
        }
        bucket = None if self.per_second is None else TokenBucket(self.per_second)
        source, out, errors = inputs["in"], outputs["out"], outputs["error"]
        slots = anyio.Semaphore(self.concurrency)
        ready_in, ready_out = anyio.create_memory_object_stream[_Pending](self.concurrency)

        async def request(client: httpx.AsyncClient, pending: _Pending) -> None:
            try:
                value = pending.packet.payload.value
                pending.response = await self._request(ctx, client, bucket, value)
            except RequestFailed as err:
                pending.error = err
            finally:
                slots.release()
                pending.done.set()

        async def start_requests(client: httpx.AsyncClient, group: anyio.abc.TaskGroup) -> None:
            async with ready_in:
                async for packet in source:
                    await slots.acquire()
                    pending = _Pending(packet)
                    group.start_soon(request, client, pending)
                    await ready_in.send(pending)

        async def emit() -> bool:
            """Send the outcomes in input order; False when every consumer left."""
            async with ready_out:
                async for pending in ready_out:
                    await pending.done.wait()
                    value = pending.packet.payload.value
                    if pending.error is None:
                        payload = PacketPayload.control(self._output(value, pending.response))
                        if not await send_or_stop(out, pending.packet.with_payload(payload)):
                            return False
                        continue
                    error = pending.error
                    assert isinstance(error, RequestFailed)
                    if not self.route_errors:
                        raise ExecutionError(
                            f"http-request: message `{pending.packet.message_id}`: {error}"
                        )
                    ctx.logger.warning("http-request: routed to `error`: %s", error)
                    report = {
                        "request": value,
                        "error": str(error),
                        "status": error.status,
                        "attempts": error.attempts,
                    }
                    await send_or_stop(
                        errors, pending.packet.with_payload(PacketPayload.control(report))
                    )
            return True

        async def body() -> None:
            async with (
                httpx.AsyncClient(timeout=self.timeout, headers=headers) as client,
                anyio.create_task_group() as group,
            ):
                group.start_soon(start_requests, client, group)
                if not await emit():
                    group.cancel_scope.cancel()

        await run_until_cancelled(ctx, body)


def _reason(error: BaseException | None) -> str:
    """A short reason for a failed attempt: the answer's status, or the error's kind."""
    if error is None:
        return "no answer"
    text = str(error).strip()
    if isinstance(error, _RetryableAnswer):
        return text
    name = type(error).__name__
    return f"{name}: {text}" if text else name
