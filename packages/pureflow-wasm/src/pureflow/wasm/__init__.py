"""Pureflow WebAssembly component nodes on wasmtime.

Two layers:

- the host (:mod:`pureflow.wasm.component`, :mod:`~pureflow.wasm.abi`,
  :mod:`~pureflow.wasm.limits`, :mod:`~pureflow.wasm.wasi`, :mod:`~pureflow.wasm.cache`):
  load a component of the batch world (``pureflow:batch@0.1.0``), invoke it with fuel,
  memory, deadline and cancellation limits, and decode what it returns;
- the node adapter (:mod:`pureflow.wasm.node`): a graph node that streams batches of
  packets through a component and validates every packet it returns;
- rule engines as guests (:mod:`pureflow.wasm.rules_guest`, the rules world
  ``pureflow:rules@0.1.0``, and :mod:`pureflow.wasm.rules_node`): a rule node that
  evaluates its rule set in a guest instead of natively.

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
from pureflow.wasm.rules_guest import (
    WIT_RULES_EXPORT,
    WIT_RULES_PACKAGE,
    WIT_RULES_WORLD,
    WasmRulesGuest,
    rules_wit_path,
)
from pureflow.wasm.wasi import WasiGrant
from pureflow.wasm.wit import WIT_EXPORT, WIT_PACKAGE, WIT_WORLD, wit_path

if TYPE_CHECKING:
    from pureflow.wasm.node import WasmNode
    from pureflow.wasm.rules_node import WasmRuleEvaluator

_LAZY = {"WasmNode": "pureflow.wasm.node", "WasmRuleEvaluator": "pureflow.wasm.rules_node"}


def __getattr__(name: str) -> Any:
    # The node adapters need pureflow.core and anyio; the hosts do not, so they load lazily.
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'pureflow.wasm' has no attribute {name!r}")


__all__ = [
    "CACHE_DIR_ENV",
    "WIT_EXPORT",
    "WIT_PACKAGE",
    "WIT_RULES_EXPORT",
    "WIT_RULES_PACKAGE",
    "WIT_RULES_WORLD",
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
    "WasmRuleEvaluator",
    "WasmRulesGuest",
    "WasmTrapError",
    "decode_invoke_result",
    "default_cache_dir",
    "encode_port_batches",
    "port_batches_from_json",
    "port_batches_to_json",
    "rules_wit_path",
    "wit_path",
]
