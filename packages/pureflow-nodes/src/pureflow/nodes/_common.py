"""Shared pieces of the standard components: schema fragments, payload conversions,
callables from import paths, and sending that stops quietly when every consumer left."""

from __future__ import annotations

import codecs
import inspect
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

from pureflow.core import (
    ComponentConfigError,
    ImportReferenceError,
    NodeConfig,
    OutputPort,
    Packet,
    PacketPayload,
    PayloadKind,
    PortSendError,
    PortSendErrorKind,
    import_object,
)

PATH_SCHEMA: Final[Mapping[str, Any]] = {
    "type": "string",
    "minLength": 1,
    "description": "File path; a relative path is relative to the workflow file's folder.",
}
ENCODING_SCHEMA: Final[Mapping[str, Any]] = {
    "type": "string",
    "default": "utf-8",
    "description": "Text encoding (any Python codec name).",
}
APPEND_SCHEMA: Final[Mapping[str, Any]] = {
    "type": "boolean",
    "default": False,
    "description": "Append to the file instead of replacing it atomically.",
}
FUNCTION_SCHEMA: Final[Mapping[str, Any]] = {
    "type": "string",
    "pattern": "^[^:]+:[^:]+$",
    "description": "A callable as `module:attr`, imported like `python:` components "
    "(the workflow file's folder first).",
}


def object_schema(
    properties: Mapping[str, Mapping[str, Any]], required: Iterable[str] = (), **extra: Any
) -> dict[str, Any]:
    """A closed object schema (no unknown keys)."""
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {key: dict(value) for key, value in properties.items()},
        "additionalProperties": False,
    }
    required = list(required)
    if required:
        schema["required"] = required
    schema.update(extra)
    return schema


def encoding_of(config: NodeConfig, key: str = "encoding") -> str:
    """The configured codec name (``ComponentConfigError`` when Python has no such codec)."""
    name = str(config.get(key, "utf-8"))
    try:
        codecs.lookup(name)
    except LookupError:
        raise ComponentConfigError(f"unknown encoding `{name}`", location=f"/{key}") from None
    return name


def load_callable(config: NodeConfig, key: str = "function") -> Callable[[Any], Any]:
    """The callable named by ``config[key]`` (``module:attr``), imported now."""
    reference = str(config[key])
    try:
        function = import_object(reference, base_dir=config.base_dir)
    except ImportReferenceError as err:
        raise ComponentConfigError(str(err), location=f"/{key}") from err
    if not callable(function):
        raise ComponentConfigError(
            f"`{reference}` is a {type(function).__name__}, not a callable", location=f"/{key}"
        )
    return function  # type: ignore[no-any-return]


async def call(function: Callable[[Any], Any], value: Any) -> Any:
    """``function(value)``, awaiting the result when it is awaitable (async callables)."""
    result = function(value)
    if inspect.isawaitable(result):
        result = await result
    return result


def payload_value(payload: PacketPayload) -> Any:
    """What callables see: the JSON value of a control payload, the ``bytes`` of a byte
    payload, the object of a structured payload."""
    return payload.value


def payload_for(value: Any) -> PacketPayload:
    """A payload for a callable's result: a payload as is, bytes-like as bytes, JSON
    data as control, anything else as structured."""
    if isinstance(value, PacketPayload):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return PacketPayload.bytes(value)
    try:
        return PacketPayload.control(value)
    except (TypeError, ValueError):
        return PacketPayload.structured(value)


def text_of(payload: PacketPayload, encoding: str = "utf-8") -> str:
    """A payload as one piece of text: a string as is, other JSON as compact JSON, bytes
    decoded, a structured object through ``str``."""
    value = payload.value
    kind = payload.kind
    if kind is PayloadKind.CONTROL:
        if isinstance(value, str):
            return value
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if kind is PayloadKind.BYTES:
        return bytes(value).decode(encoding)
    return str(value)


def json_of(payload: PacketPayload, encoding: str = "utf-8") -> Any:
    """A payload as a JSON value: control as is, bytes as a decoded string, structured
    as is (it must then be JSON data for the writer)."""
    if payload.kind is PayloadKind.BYTES:
        return bytes(payload.value).decode(encoding)
    return payload.value


async def send_or_stop(port: OutputPort, packet: Packet) -> bool:
    """Send; ``False`` (instead of an error) when every consumer of the port has left."""
    try:
        await port.send(packet)
    except PortSendError as err:
        if err.kind is PortSendErrorKind.DISCONNECTED:
            return False
        raise
    return True
