"""Routing: ``split`` by a predicate, ``merge`` several inputs fairly, ``tee`` to every
output."""

from __future__ import annotations

from pureflow.contract import Determinism
from pureflow.core import (
    NodeConfig,
    NodeContext,
    OutputPort,
    PortSendError,
    PortSendErrorKind,
    PortsIn,
    PortsOut,
    component,
)
from pureflow.nodes._common import FUNCTION_SCHEMA, call, load_callable, object_schema


@component(
    name="split",
    calls=["function"],
    inputs=["in"],
    outputs=["matched", "unmatched"],
    config_schema=object_schema({"function": FUNCTION_SCHEMA}, required=["function"]),
)
class Split:
    """Route each packet, unchanged, to `matched` when `function(value)` is truthy, else
    to `unmatched`. A port without edges drops what it gets; the node stops when both
    ports' consumers have left."""

    def __init__(self, config: NodeConfig) -> None:
        self.function = load_callable(config)

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:  # noqa: ARG002
        matched, unmatched = outputs["matched"], outputs["unmatched"]
        live = {matched.port_id: True, unmatched.port_id: True}
        function = self.function
        async for packet in inputs.iter("in"):
            port = matched if await call(function, packet.payload.value) else unmatched
            if not live[port.port_id]:
                continue
            try:
                await port.send(packet)
            except PortSendError as err:
                if err.kind is not PortSendErrorKind.DISCONNECTED:
                    raise
                live[port.port_id] = False
                if not any(live.values()):
                    return


@component(
    name="merge",
    inputs=None,
    outputs=["out"],
    determinism=Determinism.NON_DETERMINISTIC,
    config_schema=object_schema({}),
)
class Merge:
    """Forward packets from every input port (any number, any names) to `out`, unchanged,
    as they arrive, taking turns between ready ports so none starves. Ends when every
    input has ended."""

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:  # noqa: ARG002
        out = outputs["out"]
        while (item := await inputs.recv_any()) is not None:
            try:
                await out.send(item[1])
            except PortSendError as err:
                if err.kind is PortSendErrorKind.DISCONNECTED:
                    return
                raise


@component(
    name="tee",
    inputs=["in"],
    outputs=None,
    config_schema=object_schema({}),
)
class Tee:
    """Broadcast: send every packet to every output port (any number, any names), in
    port order. Ports whose consumers left are skipped; the node stops when all have."""

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:  # noqa: ARG002
        live: list[OutputPort] = list(outputs.ports)
        async for packet in inputs.iter("in"):
            copy = packet
            for port in list(live):
                try:
                    await port.send(copy)
                except PortSendError as err:
                    if err.kind is not PortSendErrorKind.DISCONNECTED:
                        raise
                    live.remove(port)
                    if not live:
                        return
                # Consumers on other ports never share a mutable JSON value.
                copy = packet.with_payload(packet.payload.copy_for_fanout())
