"""``read-jsonl`` and ``write-jsonl``: JSON Lines files, one packet per record.

A record travels as a control payload holding the JSON value (usually an object).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any, NoReturn

from pureflow.contract import Determinism, EffectCapability, RetryDisposition
from pureflow.core import (
    ExecutionError,
    NodeConfig,
    NodeContext,
    PacketPayload,
    PayloadKind,
    PortsIn,
    PortsOut,
    component,
)
from pureflow.nodes._common import (
    APPEND_SCHEMA,
    ENCODING_SCHEMA,
    PATH_SCHEMA,
    encoding_of,
    json_of,
    object_schema,
    send_or_stop,
)
from pureflow.nodes.files._io import READ_CHUNK_CHARS, TextSink, in_thread, open_for_reading

_CONTROL = PayloadKind.CONTROL


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"`{name}` is not JSON")


def _read_records(handle: IO[str], path: Path, first_line: int) -> tuple[list[Any], int]:
    """Worker-thread side: parse the next chunk; (records, lines consumed)."""
    lines = handle.readlines(READ_CHUNK_CHARS)
    records: list[Any] = []
    for offset, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line, parse_constant=_no_constant))
        except ValueError as err:
            number = first_line + offset
            raise ExecutionError(
                f"read-jsonl: `{path}` line {number}: invalid JSON: {err}"
            ) from err
    return records, len(lines)


@component(
    name="read-jsonl",
    inputs=[],
    outputs=["out"],
    effects=[EffectCapability.FILESYSTEM_READ],
    determinism=Determinism.DETERMINISTIC,
    retry=RetryDisposition.SAFE,
    config_schema=object_schema(
        {"path": PATH_SCHEMA, "encoding": ENCODING_SCHEMA}, required=["path"]
    ),
)
class ReadJsonl:
    """Stream a JSON Lines file, one control payload per record (blank lines skipped).

    A line that is not JSON fails the node, naming the line. Parsing happens off the
    event loop, a chunk at a time.
    """

    def __init__(self, config: NodeConfig) -> None:
        self.path = config.resolve_path(config["path"])
        self.encoding = encoding_of(config)

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:  # noqa: ARG002
        out = outputs["out"]
        handle = await open_for_reading("read-jsonl", self.path, self.encoding)
        line = 1
        try:
            while True:
                records, consumed = await in_thread(
                    "read-jsonl", self.path, _read_records, handle, self.path, line
                )
                if not consumed:
                    return
                line += consumed
                for record in records:
                    # json.loads gives JSON data only: no need to re-check it.
                    if not await send_or_stop(out, out.packet(PacketPayload(_CONTROL, record))):
                        return
        finally:
            handle.close()


@component(
    name="write-jsonl",
    inputs=["in"],
    outputs=[],
    effects=[EffectCapability.FILESYSTEM_WRITE],
    retry=RetryDisposition.SAFE,
    config_schema=object_schema(
        {
            "path": PATH_SCHEMA,
            "encoding": ENCODING_SCHEMA,
            "append": APPEND_SCHEMA,
            "sort_keys": {"type": "boolean", "default": False},
            "ensure_ascii": {
                "type": "boolean",
                "default": False,
                "description": "Escape every non-ASCII character.",
            },
        },
        required=["path"],
    ),
)
class WriteJsonl:
    """Write each packet as one compact JSON line: control values as they are, bytes as
    a decoded string, structured objects when they are JSON data.

    Replaces the file atomically at the end of input, or appends with `append`.
    """

    def __init__(self, config: NodeConfig) -> None:
        self.path = config.resolve_path(config["path"])
        self.encoding = encoding_of(config)
        self.append = bool(config.get("append", False))
        self.sort_keys = bool(config.get("sort_keys", False))
        self.ensure_ascii = bool(config.get("ensure_ascii", False))

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:  # noqa: ARG002
        source = inputs["in"]
        sink = TextSink("write-jsonl", self.path, encoding=self.encoding, append=self.append)
        encoder = json.JSONEncoder(
            ensure_ascii=self.ensure_ascii,
            sort_keys=self.sort_keys,
            separators=(",", ":"),
            allow_nan=False,
        )
        await sink.open()
        try:
            while batch := await source.recv_many(256):
                parts = []
                for packet in batch:
                    try:
                        parts.append(encoder.encode(json_of(packet.payload, self.encoding)))
                    except (TypeError, ValueError) as err:
                        raise ExecutionError(
                            f"write-jsonl: message `{packet.message_id}` is not JSON data: {err}"
                        ) from err
                    parts.append("\n")
                await sink.write("".join(parts))
            await sink.commit()
        except BaseException:
            sink.abort()
            raise
