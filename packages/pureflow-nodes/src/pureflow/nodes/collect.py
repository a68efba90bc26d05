"""``collect``: every packet into one JSON array file, streamed."""

from __future__ import annotations

import json

from pureflow.contract import EffectCapability, RetryDisposition
from pureflow.core import ExecutionError, NodeConfig, NodeContext, PortsIn, PortsOut, component
from pureflow.nodes._common import ENCODING_SCHEMA, PATH_SCHEMA, encoding_of, json_of, object_schema
from pureflow.nodes.files._io import TextSink


@component(
    name="collect",
    inputs=["in"],
    outputs=[],
    effects=[EffectCapability.FILESYSTEM_WRITE],
    retry=RetryDisposition.SAFE,
    config_schema=object_schema(
        {
            "path": PATH_SCHEMA,
            "encoding": ENCODING_SCHEMA,
            "indent": {
                "type": "integer",
                "minimum": 0,
                "description": "Indent each element this many spaces (compact without it).",
            },
        },
        required=["path"],
    ),
)
class Collect:
    """Write every payload, in arrival order, as one JSON array document (control values
    as they are, bytes as decoded strings). Streams to a temporary file and renames it
    into place when the input ends, so nothing is held in memory and a failed run leaves
    the old file."""

    def __init__(self, config: NodeConfig) -> None:
        self.path = config.resolve_path(config["path"])
        self.encoding = encoding_of(config)
        indent = config.get("indent")
        self.indent: int | None = None if indent is None else int(indent)

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:  # noqa: ARG002
        source = inputs["in"]
        sink = TextSink("collect", self.path, encoding=self.encoding)
        pad = None if self.indent is None else " " * self.indent
        separator = "," if pad is None else ",\n"
        encoder = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        first = True
        await sink.open()
        try:
            await sink.write("[" if pad is None else "[\n")
            while batch := await source.recv_many(256):
                parts = []
                for packet in batch:
                    try:
                        text = encoder.encode(json_of(packet.payload, self.encoding))
                    except (TypeError, ValueError) as err:
                        raise ExecutionError(
                            f"collect: message `{packet.message_id}` is not JSON data: {err}"
                        ) from err
                    if not first:
                        parts.append(separator)
                    first = False
                    parts.append(text if pad is None else pad + text)
                await sink.write("".join(parts))
            await sink.write("]\n" if pad is None or first else "\n]\n")
            await sink.commit()
        except BaseException:
            sink.abort()
            raise
