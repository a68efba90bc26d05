"""An event-time window join, used by window-join.workflow.json as
``python:window_join:WindowJoin``, plus the ``settle`` function its ``map`` node calls.

Imported from this folder when the workflow runs: nothing to install.

The join pairs each record of the `left` stream (orders) with the first record of the
`right` stream (payments) that has the same key and whose time lies within `window_seconds`
after it. Both inputs must be in time order (each on its own); the join reads one record
ahead on each side and always handles the earlier one, so it sees the two streams as one
timeline. That makes its output independent of how the two readers' packets interleave
on the edges: the same files on every run.

Outputs, all control payloads:

* `joined`: ``{"key", <left label>: record, <right label>: record, "lag_seconds"}``;
* `unmatched`: ``{"side", "reason", "record"}``: a left record whose window closed with no
  match, a right record with no open left record (unknown key, or the window already
  closed), or a right record for a left record that was already matched;
* `stats`: one record with the counts when both inputs have ended.

Memory holds only the left records of the last `window_seconds`.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pureflow.core import (
    ExecutionError,
    InputPort,
    NodeConfig,
    NodeContext,
    OutputPort,
    PacketPayload,
    PortsIn,
    PortsOut,
    component,
)

Record = dict[str, Any]


@dataclass
class _Open:
    """A left record whose window is still open."""

    record: Record
    at: datetime
    matched: bool = False


class _Side:
    """One input, read one record ahead, with its time-order check."""

    def __init__(self, port: InputPort, label: str, time_field: str) -> None:
        self.port = port
        self.label = label
        self.time_field = time_field
        self.head: tuple[datetime, Record] | None = None
        self.ended = False
        self.last: datetime | None = None
        self.count = 0

    async def fill(self) -> None:
        """Read the next record into ``head`` unless one is there or the input ended."""
        if self.head is not None or self.ended:
            return
        packet = await self.port.recv()
        if packet is None:
            self.ended = True
            return
        record = packet.payload.value
        if not isinstance(record, dict):
            raise ExecutionError(f"{self.port.port_id}: record {self.count + 1} is not an object")
        try:
            at = datetime.fromisoformat(str(record[self.time_field]))
        except (KeyError, ValueError):
            raise ExecutionError(
                f"{self.port.port_id}: record {self.count + 1} has no valid "
                f"`{self.time_field}` timestamp"
            ) from None
        if self.last is not None and at < self.last:
            raise ExecutionError(
                f"{self.port.port_id}: record {self.count + 1} ({record[self.time_field]}) is "
                "earlier than the one before: inputs must be in time order"
            )
        self.last = at
        self.count += 1
        self.head = (at, record)

    def take(self) -> tuple[datetime, Record]:
        assert self.head is not None
        head, self.head = self.head, None
        return head


@component(
    inputs=["left", "right"],
    outputs=["joined", "unmatched", "stats"],
    config_schema={
        "type": "object",
        "properties": {
            "key": {"type": "string", "minLength": 1, "default": "id"},
            "time_field": {"type": "string", "minLength": 1, "default": "ts"},
            "window_seconds": {"type": "number", "exclusiveMinimum": 0},
            "left_label": {"type": "string", "minLength": 1, "default": "left"},
            "right_label": {"type": "string", "minLength": 1, "default": "right"},
        },
        "required": ["window_seconds"],
        "additionalProperties": False,
    },
)
class WindowJoin:
    """Join `left` and `right` records by key when the right one comes within
    `window_seconds` after the left one (event time)."""

    def __init__(self, config: NodeConfig) -> None:
        self.key = str(config.get("key", "id"))
        self.time_field = str(config.get("time_field", "ts"))
        self.window = float(config["window_seconds"])
        self.left_label = str(config.get("left_label", "left"))
        self.right_label = str(config.get("right_label", "right"))

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        joined, unmatched = outputs["joined"], outputs["unmatched"]
        left = _Side(inputs["left"], self.left_label, self.time_field)
        right = _Side(inputs["right"], self.right_label, self.time_field)
        open_left: OrderedDict[Any, _Open] = OrderedDict()  # in time order
        counts = {"joined": 0, f"unmatched_{left.label}s": 0, f"unmatched_{right.label}s": 0}

        async def reject(side: _Side, reason: str, record: Record) -> None:
            counts[f"unmatched_{side.label}s"] += 1
            value = {"side": side.label, "reason": reason, "record": record}
            await send(unmatched, value)

        async def close_windows(before: datetime | None) -> None:
            """Drop the left records whose window ended before ``before`` (all if None)."""
            while open_left:
                key, entry = next(iter(open_left.items()))
                if before is not None and (before - entry.at).total_seconds() <= self.window:
                    return
                del open_left[key]
                if not entry.matched:
                    reason = f"no {right.label} within {duration(self.window)}"
                    await reject(left, reason, entry.record)

        while True:
            await left.fill()
            await right.fill()
            if left.head is None and right.head is None:
                break
            # The earlier head goes first; on a tie the left record opens its window first.
            side = (
                left
                if right.head is None or (left.head is not None and left.head[0] <= right.head[0])
                else right
            )
            at, record = side.take()
            await close_windows(at)
            key = record.get(self.key)
            if side is left:
                if key in open_left:
                    await reject(left, f"duplicate {self.key} within the window", record)
                else:
                    open_left[key] = _Open(record, at)
                continue
            entry = open_left.get(key)
            if entry is None:
                window = duration(self.window)
                reason = f"no {left.label} with this {self.key} in the {window} before"
                await reject(right, reason, record)
            elif entry.matched:
                await reject(right, f"{left.label} already matched", record)
            else:
                entry.matched = True
                counts["joined"] += 1
                value = {
                    "key": key,
                    left.label: entry.record,
                    right.label: record,
                    "lag_seconds": round((at - entry.at).total_seconds()),
                }
                await send(joined, value)
        await close_windows(None)
        stats = {f"{left.label}s": left.count, f"{right.label}s": right.count, **counts}
        await send(outputs["stats"], stats)


def duration(seconds: float) -> str:
    """`30m`, `90s`, `1h`: a window length for messages."""
    if seconds % 3600 == 0:
        return f"{seconds / 3600:g}h"
    if seconds % 60 == 0:
        return f"{seconds / 60:g}m"
    return f"{seconds:g}s"


async def send(port: OutputPort, value: Any) -> None:
    await port.send(port.packet(PacketPayload.control(value)))


def settle(pair: Record) -> Record:
    """A joined order and payment as one flat settlement record."""
    order, payment = pair["order"], pair["payment"]
    due, paid = order["amount_cents"], payment["amount_cents"]
    return {
        "order_id": order["order_id"],
        "customer": order["customer"],
        "ordered_at": order["ts"],
        "paid_at": payment["ts"],
        "lag_seconds": pair["lag_seconds"],
        "payment_id": payment["payment_id"],
        "method": payment["method"],
        "amount_cents": due,
        "paid_cents": paid,
        "status": "paid" if paid == due else ("underpaid" if paid < due else "overpaid"),
    }
