"""``map`` and ``filter``: apply a Python callable, named by import path, to every packet.

The callable is given as ``"module:attr"`` (``attr`` may be dotted, ``"builtins:str.upper"``)
and imported like a ``python:`` component: from the workflow file's folder first, then
``sys.path``. It receives the payload's value (the JSON value of a control payload, the
``bytes`` of a byte payload, the object of a structured one) and may be ``async``.

Both declare ``calls=["function"]``: what the callable does is nobody's declaration, so
``pureflow inspect`` reports their effects as unknown (``"effects_known": false``), and
``pureflow validate`` checks the reference without importing it.
"""

from __future__ import annotations

from pureflow.core import NodeConfig, NodeContext, PortsIn, PortsOut, component
from pureflow.nodes._common import (
    FUNCTION_SCHEMA,
    call,
    load_callable,
    object_schema,
    payload_for,
    send_or_stop,
)


@component(
    name="map",
    calls=["function"],
    inputs=["in"],
    outputs=["out"],
    config_schema=object_schema(
        {
            "function": FUNCTION_SCHEMA,
            "drop_none": {
                "type": "boolean",
                "default": False,
                "description": "Drop packets for which the callable returns null/None.",
            },
        },
        required=["function"],
    ),
)
class Map:
    """Replace each payload with `function(value)`; the packet keeps its message id.

    The result becomes a byte payload (bytes), a control payload (JSON data) or a
    structured payload (anything else). An exception from the callable fails the node.
    """

    def __init__(self, config: NodeConfig) -> None:
        self.function = load_callable(config)
        self.drop_none = bool(config.get("drop_none", False))

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:  # noqa: ARG002
        out = outputs["out"]
        function, drop_none = self.function, self.drop_none
        async for packet in inputs.iter("in"):
            result = await call(function, packet.payload.value)
            if result is None and drop_none:
                continue
            if not await send_or_stop(out, packet.with_payload(payload_for(result))):
                return


@component(
    name="filter",
    calls=["function"],
    inputs=["in"],
    outputs=["out"],
    config_schema=object_schema(
        {
            "function": FUNCTION_SCHEMA,
            "invert": {
                "type": "boolean",
                "default": False,
                "description": "Keep the packets the predicate rejects instead.",
            },
        },
        required=["function"],
    ),
)
class Filter:
    """Forward the packets for which `function(value)` is truthy (falsy with `invert`),
    unchanged."""

    def __init__(self, config: NodeConfig) -> None:
        self.function = load_callable(config)
        self.invert = bool(config.get("invert", False))

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:  # noqa: ARG002
        out = outputs["out"]
        function, invert = self.function, self.invert
        async for packet in inputs.iter("in"):
            keep = bool(await call(function, packet.payload.value))
            if keep != invert and not await send_or_stop(out, packet):
                return
