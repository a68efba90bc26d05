"""``read-csv`` and ``write-csv``: delimited text files, one packet per row.

A row travels as a control payload: an object of strings keyed by column name when the
file has a header (or ``fieldnames`` are configured), else an array of strings.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections.abc import Sequence
from typing import Any

from pureflow.contract import Determinism, EffectCapability, RetryDisposition
from pureflow.core import (
    ComponentConfigError,
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
from pureflow.nodes.files._io import TextSink, in_thread, open_for_reading

_CONTROL = PayloadKind.CONTROL
_ROWS_PER_CHUNK = 1024

_DIALECT_SCHEMA: dict[str, Any] = {
    "delimiter": {
        "type": "string",
        "minLength": 1,
        "maxLength": 1,
        "default": ",",
        "description": "The one-character field separator.",
    },
    "quotechar": {
        "type": "string",
        "minLength": 1,
        "maxLength": 1,
        "default": '"',
        "description": "The one-character quote.",
    },
    "header": {
        "type": "boolean",
        "default": True,
        "description": "The first row names the columns.",
    },
    "fieldnames": {
        "type": "array",
        "items": {"type": "string"},
        "minItems": 1,
        "uniqueItems": True,
        "description": "Column names to use (a header row in the file is then skipped).",
    },
}


def _dialect(config: NodeConfig) -> tuple[str, str]:
    """(delimiter, quotechar)."""
    return str(config.get("delimiter", ",")), str(config.get("quotechar", '"'))


def _fieldnames(config: NodeConfig) -> list[str] | None:
    names = config.get("fieldnames")
    return None if names is None else [str(name) for name in names]


def _next_rows(reader: Any) -> list[tuple[int, list[str]]]:
    """Worker-thread side: the next chunk of rows, each with the line it ended on."""
    return [(reader.line_num, row) for row in itertools.islice(reader, _ROWS_PER_CHUNK)]


def _blank(row: list[str]) -> bool:
    """An empty line, or one holding only whitespace: not a row."""
    return not row or (len(row) == 1 and not row[0].strip())


@component(
    name="read-csv",
    inputs=[],
    outputs=["out"],
    effects=[EffectCapability.FILESYSTEM_READ],
    determinism=Determinism.DETERMINISTIC,
    retry=RetryDisposition.SAFE,
    config_schema=object_schema(
        {"path": PATH_SCHEMA, "encoding": ENCODING_SCHEMA, **_DIALECT_SCHEMA}, required=["path"]
    ),
)
class ReadCsv:
    """Stream a CSV file, one control payload per row (empty and blank lines skipped).

    With a header (default) or `fieldnames`, each row is an object of strings by column
    name, and a row with a different number of fields fails the node, naming the line;
    otherwise each row is an array of strings.
    """

    def __init__(self, config: NodeConfig) -> None:
        self.path = config.resolve_path(config["path"])
        self.encoding = encoding_of(config)
        self.dialect = _dialect(config)
        self.header = bool(config.get("header", True))
        self.fieldnames = _fieldnames(config)

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:  # noqa: ARG002
        out = outputs["out"]
        handle = await open_for_reading("read-csv", self.path, self.encoding, newline="")
        names = self.fieldnames
        skip_header = self.header
        try:
            delimiter, quotechar = self.dialect
            reader = csv.reader(handle, strict=True, delimiter=delimiter, quotechar=quotechar)
            while True:
                try:
                    rows = await in_thread("read-csv", self.path, _next_rows, reader)
                except csv.Error as err:
                    raise ExecutionError(
                        f"read-csv: `{self.path}` line {reader.line_num}: {err}"
                    ) from err
                if not rows:
                    return
                for line, row in rows:
                    if _blank(row):
                        continue
                    if skip_header:
                        skip_header = False
                        if names is None:
                            names = row
                        continue
                    value: Any = row
                    if names is not None:
                        if len(row) != len(names):
                            raise ExecutionError(
                                f"read-csv: `{self.path}` line {line}: the row has "
                                f"{len(row)} fields, the header {len(names)}: {row!r}"
                            )
                        value = dict(zip(names, row, strict=True))
                    if not await send_or_stop(out, out.packet(PacketPayload(_CONTROL, value))):
                        return
        finally:
            handle.close()


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return value


@component(
    name="write-csv",
    inputs=["in"],
    outputs=[],
    effects=[EffectCapability.FILESYSTEM_WRITE],
    retry=RetryDisposition.SAFE,
    config_schema=object_schema(
        {
            "path": PATH_SCHEMA,
            "encoding": ENCODING_SCHEMA,
            "append": APPEND_SCHEMA,
            **_DIALECT_SCHEMA,
            "line_ending": {"enum": ["\n", "\r\n"], "default": "\n"},
        },
        required=["path"],
    ),
)
class WriteCsv:
    """Write each packet as one CSV row: an object by column (columns from `fieldnames`,
    else from the first object's keys; missing ones are empty, unknown ones fail the
    node) or an array of cells. `null` is an empty cell, nested JSON is written as JSON.

    With `header` (default) the column names are written first (not when appending).
    Replaces the file atomically at the end of input, or appends with `append`.
    """

    def __init__(self, config: NodeConfig) -> None:
        self.path = config.resolve_path(config["path"])
        self.encoding = encoding_of(config)
        self.append = bool(config.get("append", False))
        self.dialect = _dialect(config)
        self.header = bool(config.get("header", True))
        self.fieldnames = _fieldnames(config)
        self.line_ending = str(config.get("line_ending", "\n"))
        if self.dialect[0] == self.dialect[1]:
            raise ComponentConfigError("delimiter and quotechar must differ", location="/quotechar")

    def _row(self, names: Sequence[str] | None, value: Any, message_id: str) -> list[Any]:
        if isinstance(value, dict):
            names = list(value) if names is None else names
            unknown = [key for key in value if key not in names]
            if unknown:
                raise ExecutionError(
                    f"write-csv: message `{message_id}` has fields not in the header: "
                    + ", ".join(f"`{key}`" for key in unknown)
                )
            return [_cell(value.get(name)) for name in names]
        if isinstance(value, list | tuple):
            return [_cell(cell) for cell in value]
        return [_cell(value)]

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:  # noqa: ARG002
        source = inputs["in"]
        sink = TextSink(
            "write-csv", self.path, encoding=self.encoding, append=self.append, newline=""
        )
        buffer = io.StringIO()
        delimiter, quotechar = self.dialect
        writer = csv.writer(
            buffer, lineterminator=self.line_ending, delimiter=delimiter, quotechar=quotechar
        )
        names = self.fieldnames
        header_due = self.header and not self.append
        await sink.open()
        try:
            while batch := await source.recv_many(256):
                for packet in batch:
                    value = json_of(packet.payload, self.encoding)
                    if names is None and isinstance(value, dict):
                        names = list(value)
                    if header_due:
                        header_due = False
                        if names is not None:
                            writer.writerow(names)
                    writer.writerow(self._row(names, value, str(packet.message_id)))
                await sink.write(buffer.getvalue())
                buffer.seek(0)
                buffer.truncate()
            await sink.commit()
        except BaseException:
            sink.abort()
            raise
