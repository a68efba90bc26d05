"""Log parsing for log-fanout.workflow.yaml: two small components and the level tests.

Imported from this folder when the workflow runs (``python:logs:FoldContinuations``,
``logs:is_error``, ...): nothing to install.

A record starts with a line `2024-03-18 09:00:59.721 ERROR [thread] logger - message`;
any line that does not start with a timestamp (a stack trace, `Caused by: ...`) belongs to
the record above it.
"""

from __future__ import annotations

import re
from typing import Any

from pureflow.core import (
    ExecutionError,
    NodeConfig,
    NodeContext,
    PacketPayload,
    PortsIn,
    PortsOut,
    component,
)

RECORD_START = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} ")
LEVELS = ("ERROR", "WARN", "INFO", "DEBUG")


def level_of(record: str) -> str | None:
    """The level word of a record (the third word of its first line), or None."""
    if not RECORD_START.match(record):
        return None
    words = record.split(maxsplit=3)
    return words[2] if len(words) > 2 else None


def is_error(record: str) -> bool:
    return level_of(record) == "ERROR"


def is_warn(record: str) -> bool:
    return level_of(record) == "WARN"


def is_info(record: str) -> bool:
    return level_of(record) == "INFO"


def is_debug(record: str) -> bool:
    return level_of(record) == "DEBUG"


@component(inputs=["in"], outputs=["out"], config_schema={"type": "object", "maxProperties": 0})
async def fold_continuations(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
    """Join each record's continuation lines (stack traces) to it, so one packet is one
    log record: its lines joined with `\\n`. Lines before the first record pass alone."""
    out = outputs["out"]
    pending: list[str] = []

    async def flush() -> None:
        if pending:
            await out.send(out.packet(PacketPayload.control("\n".join(pending))))
            pending.clear()

    async for packet in inputs.iter("in"):
        line = packet.payload.value
        if not isinstance(line, str):
            raise ExecutionError("in: expected text lines (from read-lines)")
        if RECORD_START.match(line):
            await flush()
        pending.append(line)
    await flush()


@component(
    inputs=["in"],
    outputs=["out"],
    config_schema={
        "type": "object",
        "properties": {
            "levels": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        },
        "additionalProperties": False,
    },
)
class CountLevels:
    """Count records by level; when the input ends, send one row per level in the order
    of `levels` (`{"level": "ERROR", "records": 3, "lines": 8}`), then one for any other
    level seen, alphabetically."""

    def __init__(self, config: NodeConfig) -> None:
        self.levels = [str(level) for level in config.get("levels", LEVELS)]

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        records: dict[str, int] = dict.fromkeys(self.levels, 0)
        lines: dict[str, int] = dict.fromkeys(self.levels, 0)
        async for packet in inputs.iter("in"):
            text: Any = packet.payload.value
            level = level_of(str(text)) or "(none)"
            records[level] = records.get(level, 0) + 1
            lines[level] = lines.get(level, 0) + str(text).count("\n") + 1
        out = outputs["out"]
        others = sorted(level for level in records if level not in self.levels)
        for level in [*self.levels, *others]:
            row = {"level": level, "records": records[level], "lines": lines[level]}
            await out.send(out.packet(PacketPayload.control(row)))
