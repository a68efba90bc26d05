"""Flow control: ``rate-limit`` (a token bucket, :class:`TokenBucket`) and ``delay``."""

from __future__ import annotations

import anyio
from pureflow.contract import Determinism, EffectCapability
from pureflow.core import NodeConfig, NodeContext, PortsIn, PortsOut, component
from pureflow.nodes._common import object_schema, send_or_stop


class TokenBucket:
    """At most ``per_second`` on average and ``burst`` back to back: :meth:`take` waits
    for a token. One caller at a time (callers sharing a bucket take turns)."""

    def __init__(self, per_second: float, burst: int = 1) -> None:
        self.rate = float(per_second)
        self.burst = float(burst)
        self._tokens = self.burst
        self._last: float | None = None
        self._lock = anyio.Lock()

    def _refill(self) -> None:
        now = anyio.current_time()
        if self._last is not None:
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now

    async def take(self) -> None:
        """Wait until a token is free and take it."""
        async with self._lock:
            self._refill()
            if self._tokens < 1.0:
                await anyio.sleep((1.0 - self._tokens) / self.rate)
                self._refill()
            self._tokens = max(0.0, self._tokens - 1.0)


@component(
    name="rate-limit",
    inputs=["in"],
    outputs=["out"],
    effects=[EffectCapability.CLOCK],
    determinism=Determinism.DETERMINISTIC,
    config_schema=object_schema(
        {
            "per_second": {
                "type": "number",
                "exclusiveMinimum": 0,
                "description": "Packets allowed per second, on average.",
            },
            "burst": {
                "type": "integer",
                "minimum": 1,
                "default": 1,
                "description": "Packets that may pass back to back after a quiet spell.",
            },
        },
        required=["per_second"],
    ),
)
class RateLimit:
    """Forward packets unchanged, at most `per_second` on average and `burst` at once
    (a token bucket). Waiting holds the packet, so backpressure reaches upstream."""

    def __init__(self, config: NodeConfig) -> None:
        self.rate = float(config["per_second"])
        self.burst = int(config.get("burst", 1))

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:  # noqa: ARG002
        out = outputs["out"]
        bucket = TokenBucket(self.rate, self.burst)
        async for packet in inputs.iter("in"):
            await bucket.take()
            if not await send_or_stop(out, packet):
                return


@component(
    name="delay",
    inputs=["in"],
    outputs=["out"],
    effects=[EffectCapability.CLOCK],
    determinism=Determinism.DETERMINISTIC,
    config_schema=object_schema(
        {"seconds": {"type": "number", "minimum": 0, "description": "How long to hold each."}},
        required=["seconds"],
    ),
)
class Delay:
    """Hold each packet `seconds` before forwarding it unchanged, one at a time (so it
    also caps throughput at one packet per `seconds`)."""

    def __init__(self, config: NodeConfig) -> None:
        self.seconds = float(config["seconds"])

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:  # noqa: ARG002
        out = outputs["out"]
        seconds = self.seconds
        async for packet in inputs.iter("in"):
            await anyio.sleep(seconds)
            if not await send_or_stop(out, packet):
                return
