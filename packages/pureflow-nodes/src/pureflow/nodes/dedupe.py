"""``dedupe``: drop packets whose key was already seen, optionally with bounded memory."""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any, Final

from pureflow.contract import Determinism
from pureflow.core import (
    ComponentConfigError,
    NodeConfig,
    NodeContext,
    PayloadKind,
    PortsIn,
    PortsOut,
    component,
)
from pureflow.nodes._common import object_schema, send_or_stop

_MISSING: Final = object()


def parse_key_path(raw: Any) -> tuple[str | int, ...]:
    """``"user.id"`` or ``["user", "id"]`` as path steps; digits index arrays."""
    steps = raw.split(".") if isinstance(raw, str) else list(raw)
    path: list[str | int] = []
    for step in steps:
        if isinstance(step, int) and not isinstance(step, bool):
            path.append(step)
        elif isinstance(step, str) and step:
            path.append(int(step) if step.isdigit() else step)
        else:
            raise ComponentConfigError(f"`{raw}` has an empty step", location="/key")
    return tuple(path)


def value_at(value: Any, path: tuple[str | int, ...]) -> Any:
    """The value at ``path`` inside ``value``, or ``None`` when a step is missing."""
    for step in path:
        if (
            isinstance(step, int)
            and isinstance(value, list | tuple)
            and -len(value) <= step < len(value)
        ):
            value = value[step]
        elif isinstance(value, dict) and str(step) in value:
            value = value[str(step)]
        else:
            return None
    return value


def _hashable(kind: PayloadKind, value: Any) -> Hashable:
    if kind is PayloadKind.CONTROL or isinstance(value, dict | list):
        try:
            return json.dumps(value, sort_keys=True, separators=(",", ":"))
        except (TypeError, ValueError):
            pass
    if isinstance(value, Hashable):
        return (type(value).__name__, value)
    return repr(value)


@component(
    name="dedupe",
    inputs=["in"],
    outputs=["out"],
    determinism=Determinism.DETERMINISTIC,
    config_schema=object_schema(
        {
            "key": {
                "oneOf": [
                    {"type": "string", "minLength": 1},
                    {"type": "array", "items": {"type": ["string", "integer"]}, "minItems": 1},
                ],
                "description": "Where the key is in a control value: `user.id` or "
                '`["user", "id"]` (digits index arrays). Without it, the whole payload.',
            },
            "max_keys": {
                "type": "integer",
                "minimum": 1,
                "description": "Remember at most this many keys (least recently seen "
                "forgotten first); unbounded without it.",
            },
        },
    ),
)
class Dedupe:
    """Forward a packet only the first time its key is seen. The key is the payload value
    (or the value at `key`; a missing step gives `null`), compared as canonical JSON.

    Memory grows with the number of distinct keys, unless `max_keys` bounds it (a key
    forgotten that way passes again).
    """

    def __init__(self, config: NodeConfig) -> None:
        raw = config.get("key")
        self.path: tuple[str | int, ...] | None = None if raw is None else parse_key_path(raw)
        limit = config.get("max_keys")
        self.max_keys: int | None = None if limit is None else int(limit)

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:  # noqa: ARG002
        out = outputs["out"]
        path, limit = self.path, self.max_keys
        seen: OrderedDict[Hashable, None] = OrderedDict()
        async for packet in inputs.iter("in"):
            value = packet.payload.value
            if path is not None:
                value = value_at(value, path)
            key = _hashable(packet.payload.kind, value)
            if key in seen:
                if limit is not None:
                    seen.move_to_end(key)
                continue
            seen[key] = None
            if limit is not None and len(seen) > limit:
                seen.popitem(last=False)
            if not await send_or_stop(out, packet):
                return
