"""Pureflow WebAssembly component nodes on wasmtime.

Two layers:

- the host (:mod:`pureflow.wasm.component`, :mod:`~pureflow.wasm.abi`,
  :mod:`~pureflow.wasm.limits`, :mod:`~pureflow.wasm.wasi`, :mod:`~pureflow.wasm.cache`):
  load a component of the batch world (``pureflow:batch@0.1.0``), invoke it with fuel,
  memory, deadline and cancellation limits, and decode what it returns;
- the node adapter (:mod:`pureflow.wasm.node`): a graph node that streams batches of
  packets through a component and validates every packet it returns.

Guests can be written in Python: ``python -m pureflow.wasm.build GUEST.py -o guest.wasm``
(needs the ``build`` extra, which installs componentize-py).
"""

import importlib
from typing import TYPE_CHECKING, Any

from pureflow.wasm.abi import (
    GuestBytes,
    GuestControl,
    GuestEndpoint,
    GuestExecution,
    GuestMessageMetadata,
    GuestPacket,
    GuestPayload,
    GuestRoute,
    PortBatch,
    decode_invoke_result,
    encode_port_batches,
    port_batches_from_json,
    port_batches_to_json,
)
from pureflow.wasm.cache import CACHE_DIR_ENV, CompileCache, default_cache_dir
from pureflow.wasm.component import Invocation, WasmComponent
from pureflow.wasm.errors import (
    WasmCancelledError,
    WasmDeadlineError,
    WasmError,
    WasmFuelError,
    WasmGuestError,
    WasmInputError,
    WasmLoadError,
    WasmMemoryError,
    WasmOutputError,
    WasmTrapError,
)
from pureflow.wasm.limits import WasmLimits
from pureflow.wasm.wasi import WasiGrant
from pureflow.wasm.wit import WIT_EXPORT, WIT_PACKAGE, WIT_WORLD, wit_path

if TYPE_CHECKING:
    from pureflow.wasm.node import WasmNode

_LAZY = {"WasmNode"}


def __getattr__(name: str) -> Any:
    # The node adapter needs pureflow.core and anyio; the host does not, so it loads lazily.
    if name in _LAZY:
        return getattr(importlib.import_module("pureflow.wasm.node"), name)
    raise AttributeError(f"module 'pureflow.wasm' has no attribute {name!r}")


__all__ = [
    "CACHE_DIR_ENV",
    "WIT_EXPORT",
    "WIT_PACKAGE",
    "WIT_WORLD",
    "CompileCache",
    "GuestBytes",
    "GuestControl",
    "GuestEndpoint",
    "GuestExecution",
    "GuestMessageMetadata",
    "GuestPacket",
    "GuestPayload",
    "GuestRoute",
    "Invocation",
    "PortBatch",
    "WasiGrant",
    "WasmCancelledError",
    "WasmComponent",
    "WasmDeadlineError",
    "WasmError",
    "WasmFuelError",
    "WasmGuestError",
    "WasmInputError",
    "WasmLimits",
    "WasmLoadError",
    "WasmMemoryError",
    "WasmNode",
    "WasmOutputError",
    "WasmTrapError",
    "decode_invoke_result",
    "default_cache_dir",
    "encode_port_batches",
    "port_batches_from_json",
    "port_batches_to_json",
    "wit_path",
]
