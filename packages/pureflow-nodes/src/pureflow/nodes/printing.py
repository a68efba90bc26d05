"""``print``: write every packet to standard output (or standard error), one line each."""

from __future__ import annotations

import sys

from pureflow.contract import EffectCapability
from pureflow.core import (
    NodeConfig,
    NodeContext,
    PacketPayload,
    PayloadKind,
    PortsIn,
    PortsOut,
    component,
)
from pureflow.nodes._common import object_schema, text_of


@component(
    name="print",
    inputs=["in"],
    outputs=[],
    effects=[EffectCapability.EXTERNAL_EFFECT],
    config_schema=object_schema(
        {
            "prefix": {"type": "string", "default": "", "description": "Put before each line."},
            "stream": {"enum": ["stdout", "stderr"], "default": "stdout"},
        }
    ),
)
class Print:
    """Write each payload as a line: strings as they are, other JSON as compact JSON,
    bytes decoded (undecodable bytes replaced), structured objects through `str`.
    Flushes when the input ends."""

    def __init__(self, config: NodeConfig) -> None:
        self.prefix = str(config.get("prefix", ""))
        self.stream_name = str(config.get("stream", "stdout"))

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:  # noqa: ARG002
        # Looked up when the node runs, so redirection (and pytest's capture) applies.
        stream = sys.stderr if self.stream_name == "stderr" else sys.stdout
        prefix = self.prefix
        source = inputs["in"]
        try:
            while batch := await source.recv_many(256):
                stream.write("".join(prefix + _text(packet.payload) + "\n" for packet in batch))
        finally:
            stream.flush()


def _text(payload: PacketPayload) -> str:
    if payload.kind is PayloadKind.BYTES:
        return bytes(payload.value).decode("utf-8", errors="replace")
    return text_of(payload)
