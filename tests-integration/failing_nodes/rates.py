"""Node code that fails the way user code does (for test_cli_errors.py)."""

from __future__ import annotations

import json
import sys

from pureflow.core import NodeContext, PortsIn, PortsOut

RATES = {"EUR": 1.0, "USD": 1.08}


def convert(amount: float, currency: str) -> float:
    return amount * RATES[currency]  # KeyError for a currency we do not know


async def rates(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
    async for packet in inputs["in"]:
        convert(1.0, str(packet.payload.as_control()))


async def parse(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
    """Fails inside the standard library (json), called from here."""
    async for _ in inputs["in"]:
        json.loads("{not json")


async def exits(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
    sys.exit(int(ctx.config.get("code", 0)))
