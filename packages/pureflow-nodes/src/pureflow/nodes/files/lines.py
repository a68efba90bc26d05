"""``read-lines`` and ``write-lines``: text files, one packet per line.

A line travels as a control payload holding a string, without its line ending.
"""

from __future__ import annotations

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
    object_schema,
    send_or_stop,
    text_of,
)
from pureflow.nodes.files._io import READ_CHUNK_CHARS, TextSink, in_thread, open_for_reading

LINE_ENDING_SCHEMA = {
    "enum": ["\n", "\r\n"],
    "default": "\n",
    "description": "What ends each written line.",
}
_CONTROL = PayloadKind.CONTROL


@component(
    name="read-lines",
    inputs=[],
    outputs=["out"],
    effects=[EffectCapability.FILESYSTEM_READ],
    determinism=Determinism.DETERMINISTIC,
    retry=RetryDisposition.SAFE,
    config_schema=object_schema(
        {
            "path": PATH_SCHEMA,
            "encoding": ENCODING_SCHEMA,
            "keep_newlines": {
                "type": "boolean",
                "default": False,
                "description": "Keep each line's `\\n` (line endings are normalised to it).",
            },
            "skip_blank": {
                "type": "boolean",
                "default": False,
                "description": "Leave out lines that are empty or only whitespace.",
            },
        },
        required=["path"],
    ),
)
class ReadLines:
    """Stream a text file, one control string per line, in file order.

    Reads in chunks off the event loop, so memory does not grow with the file. Stops
    early, without error, when every consumer of `out` has left.
    """

    def __init__(self, config: NodeConfig) -> None:
        self.path = config.resolve_path(config["path"])
        self.encoding = encoding_of(config)
        self.keep_newlines = bool(config.get("keep_newlines", False))
        self.skip_blank = bool(config.get("skip_blank", False))

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:  # noqa: ARG002
        out = outputs["out"]
        keep, skip_blank = self.keep_newlines, self.skip_blank
        handle = await open_for_reading("read-lines", self.path, self.encoding)
        try:
            while lines := await in_thread(
                "read-lines", self.path, handle.readlines, READ_CHUNK_CHARS
            ):
                for line in lines:
                    text = line if keep or not line.endswith("\n") else line[:-1]
                    if skip_blank and not text.strip():
                        continue
                    packet = out.packet(PacketPayload(_CONTROL, text))
                    if not await send_or_stop(out, packet):
                        return
        except UnicodeDecodeError as err:
            raise ExecutionError(
                f"read-lines: `{self.path}` is not {self.encoding} text: {err}"
            ) from err
        finally:
            handle.close()


@component(
    name="write-lines",
    inputs=["in"],
    outputs=[],
    effects=[EffectCapability.FILESYSTEM_WRITE],
    retry=RetryDisposition.SAFE,
    config_schema=object_schema(
        {
            "path": PATH_SCHEMA,
            "encoding": ENCODING_SCHEMA,
            "append": APPEND_SCHEMA,
            "line_ending": LINE_ENDING_SCHEMA,
        },
        required=["path"],
    ),
)
class WriteLines:
    """Write each packet as one line: strings as they are, other JSON as compact JSON,
    bytes decoded.

    Replaces the file atomically when the input ends (a failed run leaves the old file),
    or appends with `append`. Buffered; writes happen off the event loop.
    """

    def __init__(self, config: NodeConfig) -> None:
        self.path = config.resolve_path(config["path"])
        self.encoding = encoding_of(config)
        self.append = bool(config.get("append", False))
        self.line_ending = str(config.get("line_ending", "\n"))

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:  # noqa: ARG002
        source = inputs["in"]
        sink = TextSink("write-lines", self.path, encoding=self.encoding, append=self.append)
        ending, encoding = self.line_ending, self.encoding
        await sink.open()
        try:
            while batch := await source.recv_many(256):
                await sink.write(
                    "".join(text_of(packet.payload, encoding) + ending for packet in batch)
                )
            await sink.commit()
        except BaseException:
            sink.abort()
            raise
